//! A deterministic cluster simulator for the sans-I/O `:global` core: N `GlobalServer`s, virtual
//! time, per-pair FIFO links with seeded random latency (arbitrary interleaving across pairs),
//! multi_call, rpc, monitors, process deaths, connects, dials and disconnects.

#![allow(dead_code)]

use ferl::global::messages::{Cast, Incoming, Request};
use ferl::global::{
    resolve_it, Action, CallId, Config, GlobalServer, Input, LocalRequest, LockerTiming, MonitorId,
    ReqId, RpcId,
};
use ferl::{Atom, Pid, Term};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

pub struct SimNode {
    pub name: Atom,
    pub srv: GlobalServer,
    pub alive: BTreeSet<u32>,
    next_pid: u32,
}

enum Ev {
    Input(usize, Input),
    /// A message on link `from -> to` of connection generation `gen`.
    Net {
        from: usize,
        to: usize,
        gen: u64,
        msg: Net,
    },
    Kill(Pid),
}

enum Net {
    Global(Term),
    Locker(Term),
    CallReq {
        id: CallId,
        from: Pid,
        req: Request,
    },
    CallRep {
        id: CallId,
        reply: Term,
    },
    Rpc {
        id: RpcId,
        method: Term,
        name: Term,
        p1: Pid,
        p2: Pid,
    },
    RpcRep {
        id: RpcId,
        result: Term,
    },
}

pub struct Sim {
    pub nodes: Vec<SimNode>,
    pub now: u64,
    seq: u64,
    rng: u64,
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    evs: BTreeMap<u64, Ev>,
    /// Connected pairs (i < j) -> generation.
    conns: BTreeMap<(usize, usize), u64>,
    gen: u64,
    /// Pairs that may not connect (a cut link).
    pub blocked: BTreeSet<(usize, usize)>,
    /// Last delivery time per directed link (FIFO).
    last: BTreeMap<(usize, usize), u64>,
    /// (monitoring node, id) -> pid.
    mons: BTreeMap<(usize, MonitorId), Pid>,
    /// Outstanding calls: (caller, id, callee).
    calls: BTreeSet<(usize, CallId, usize)>,
    rpcs: BTreeSet<(usize, RpcId, usize)>,
    pub replies: BTreeMap<(usize, u64), Term>,
    pub conflicts: Vec<(Pid, Term)>,
    pub killed: Vec<Pid>,
    /// Rust methods by function name (`fun M:F/3` with `M:F` in the MFA registry).
    pub custom: BTreeMap<&'static str, fn(Pid, Pid) -> Term>,
    next_req: u64,
    pub steps: u64,
}

fn pair(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

impl Sim {
    pub fn new(n: usize, seed: u64, timing: LockerTiming) -> Sim {
        let nodes = (0..n)
            .map(|i| {
                let name = Atom::new(&format!("n{i}@host{}", i % 2));
                let locker = Pid::new(name, 1, 0, 1);
                let registrar = Pid::new(name, 2, 0, 1);
                let mut cfg = Config::new(name, 1, locker, registrar, seed ^ (i as u64 * 7919));
                cfg.timing = timing;
                SimNode {
                    name,
                    srv: GlobalServer::new(cfg),
                    alive: [1, 2].into_iter().collect(),
                    next_pid: 10,
                }
            })
            .collect();
        Sim {
            nodes,
            now: 0,
            seq: 0,
            rng: seed.wrapping_mul(6364136223846793005).wrapping_add(1),
            heap: BinaryHeap::new(),
            evs: BTreeMap::new(),
            conns: BTreeMap::new(),
            gen: 0,
            blocked: BTreeSet::new(),
            last: BTreeMap::new(),
            mons: BTreeMap::new(),
            calls: BTreeSet::new(),
            rpcs: BTreeSet::new(),
            replies: BTreeMap::new(),
            conflicts: Vec::new(),
            killed: Vec::new(),
            custom: BTreeMap::new(),
            next_req: 1,
            steps: 0,
        }
    }

    pub fn rand(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n.max(1)
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq)));
        self.evs.insert(self.seq, ev);
    }

    fn idx(&self, node: Atom) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == node)
    }

    pub fn name(&self, i: usize) -> Atom {
        self.nodes[i].name
    }

    pub fn spawn(&mut self, i: usize) -> Pid {
        let n = &mut self.nodes[i];
        n.next_pid += 1;
        n.alive.insert(n.next_pid);
        Pid::new(n.name, n.next_pid, 0, 1)
    }

    pub fn is_alive(&self, p: Pid) -> bool {
        self.idx(p.node)
            .is_some_and(|i| self.nodes[i].alive.contains(&p.id))
    }

    pub fn connected(&self, a: usize, b: usize) -> bool {
        self.conns.contains_key(&pair(a, b))
    }

    /// Send on the directed link with a random latency, keeping FIFO order.
    fn send(&mut self, from: usize, to: usize, msg: Net) {
        let Some(gen) = self.conns.get(&pair(from, to)).copied() else {
            return;
        };
        let lat = 1 + self.rand(3);
        let last = self.last.get(&(from, to)).copied().unwrap_or(0);
        let at = (self.now + lat).max(last);
        self.last.insert((from, to), at);
        self.push(at, Ev::Net { from, to, gen, msg });
    }

    pub fn connect(&mut self, a: usize, b: usize) -> bool {
        if a == b || self.connected(a, b) {
            return true;
        }
        if self.blocked.contains(&pair(a, b)) {
            return false;
        }
        self.gen += 1;
        self.conns.insert(pair(a, b), self.gen);
        let (na, nb) = (self.name(a), self.name(b));
        let (la, lb) = (self.rand(2), self.rand(2));
        self.push(
            self.now + la,
            Ev::Input(
                a,
                Input::NodeUp {
                    node: nb,
                    visible: true,
                },
            ),
        );
        self.push(
            self.now + lb,
            Ev::Input(
                b,
                Input::NodeUp {
                    node: na,
                    visible: true,
                },
            ),
        );
        true
    }

    pub fn disconnect(&mut self, a: usize, b: usize) {
        if self.conns.remove(&pair(a, b)).is_none() {
            return;
        }
        let (na, nb) = (self.name(a), self.name(b));
        self.push(self.now, Ev::Input(a, Input::NodeDown { node: nb }));
        self.push(self.now, Ev::Input(b, Input::NodeDown { node: na }));
        for (x, y) in [(a, b), (b, a)] {
            let calls: Vec<_> = self
                .calls
                .iter()
                .filter(|c| c.0 == x && c.2 == y)
                .copied()
                .collect();
            for c in calls {
                self.calls.remove(&c);
                let node = self.name(y);
                let inp = Input::CallReply {
                    id: c.1,
                    node,
                    reply: None,
                };
                self.push(self.now, Ev::Input(x, inp));
            }
            let rpcs: Vec<_> = self
                .rpcs
                .iter()
                .filter(|c| c.0 == x && c.2 == y)
                .copied()
                .collect();
            for c in rpcs {
                self.rpcs.remove(&c);
                let result = Term::tuple(vec![Term::atom("badrpc"), Term::atom("nodedown")]);
                self.push(self.now, Ev::Input(x, Input::RpcResult { id: c.1, result }));
            }
            let ny = self.name(y);
            let mons: Vec<_> = self
                .mons
                .iter()
                .filter(|(k, p)| k.0 == x && p.node == ny)
                .map(|(k, _)| *k)
                .collect();
            for k in mons {
                self.mons.remove(&k);
                self.push(self.now, Ev::Input(x, Input::Down { monitor: k.1 }));
            }
        }
    }

    pub fn kill(&mut self, p: Pid) {
        self.push(self.now, Ev::Kill(p));
    }

    pub fn local(&mut self, i: usize, request: LocalRequest) -> u64 {
        let r = self.next_req;
        self.next_req += 1;
        self.push(
            self.now,
            Ev::Input(
                i,
                Input::Local {
                    req: ReqId(r),
                    request,
                },
            ),
        );
        r
    }

    pub fn register(&mut self, i: usize, name: &str, pid: Pid) -> u64 {
        let method = ferl::global::StdMethod::RandomExitName.to_term();
        self.local(
            i,
            LocalRequest::RegisterName {
                name: Term::atom(name),
                pid,
                method,
            },
        )
    }

    /// Run until nothing is left to do before `until` (virtual ms). Returns false on overrun.
    pub fn run_until(&mut self, until: u64) -> bool {
        while let Some(Reverse((at, seq))) = self.heap.peek().copied() {
            if at > until {
                self.now = until;
                return true;
            }
            self.heap.pop();
            self.now = at;
            if let Some(ev) = self.evs.remove(&seq) {
                self.step(ev);
            }
            self.steps += 1;
            if self.steps > 20_000_000 {
                return false;
            }
        }
        self.now = self.now.max(until);
        true
    }

    /// Run until quiet (only far timers left, e.g. lost_connection's hour) or `limit` ms.
    pub fn settle(&mut self, limit: u64) {
        let end = self.now + limit;
        loop {
            let busy = self.nodes.iter().any(|n| !n.srv.is_idle());
            let next = self.heap.peek().map(|Reverse((at, _))| *at);
            match next {
                Some(at) if at <= end && (busy || at < self.now + 30 * 60 * 1000) => {
                    self.run_until(at);
                }
                _ => return,
            }
            if !busy
                && self
                    .heap
                    .iter()
                    .all(|Reverse((at, _))| *at > self.now + 20_000)
            {
                return;
            }
        }
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Input(i, inp) => self.feed(i, inp),
            Ev::Kill(p) => {
                let Some(i) = self.idx(p.node) else { return };
                if !self.nodes[i].alive.remove(&p.id) {
                    return;
                }
                self.killed.push(p);
                let mons: Vec<_> = self
                    .mons
                    .iter()
                    .filter(|(_, q)| **q == p)
                    .map(|(k, _)| *k)
                    .collect();
                for k in mons {
                    self.mons.remove(&k);
                    let lat = if k.0 == i { 0 } else { 1 + self.rand(3) };
                    self.push(self.now + lat, Ev::Input(k.0, Input::Down { monitor: k.1 }));
                }
            }
            Ev::Net { from, to, gen, msg } => {
                if self.conns.get(&pair(from, to)) != Some(&gen) {
                    return;
                }
                self.net(from, to, msg);
            }
        }
    }

    fn net(&mut self, from: usize, to: usize, msg: Net) {
        match msg {
            Net::Global(t) => self.feed(to, Input::Message(t)),
            Net::Locker(t) => self.feed(to, Input::LockerMessage(t)),
            Net::CallReq { id, from: fp, req } => {
                let tag = Term::tuple(vec![Term::Int(id.0 as i64), Term::Atom(self.name(from))]);
                let from_t = ferl::global::messages::CallFrom { pid: fp, tag };
                let m = Incoming::Call {
                    from: from_t,
                    request: req,
                }
                .to_term();
                self.feed(to, Input::Message(m));
            }
            Net::CallRep { id, reply } => {
                if self.calls.remove(&(to, id, from)) {
                    let node = self.name(from);
                    self.feed(
                        to,
                        Input::CallReply {
                            id,
                            node,
                            reply: Some(reply),
                        },
                    );
                }
            }
            Net::Rpc {
                id,
                method,
                name,
                p1,
                p2,
            } => {
                let (result, acts) = resolve_it(&method, &name, p1, p2).unwrap_or((
                    Term::tuple(vec![Term::atom("EXIT"), Term::atom("undef")]),
                    vec![],
                ));
                self.perform(to, acts);
                self.send(to, from, Net::RpcRep { id, result });
            }
            Net::RpcRep { id, result } => {
                if self.rpcs.remove(&(to, id, from)) {
                    self.feed(to, Input::RpcResult { id, result });
                }
            }
        }
    }

    /// `global:resolve_it/4` on node `i`: a standard method, a Rust one, or undef.
    fn resolve(&mut self, i: usize, method: &Term, name: &Term, p1: Pid, p2: Pid) -> Term {
        if let Some((result, acts)) = resolve_it(method, name, p1, p2) {
            self.perform(i, acts);
            return result;
        }
        match method {
            Term::Export(e) => match self.custom.get(e.function.as_str()) {
                Some(f) => f(p1, p2),
                None => Term::tuple(vec![Term::atom("EXIT"), Term::atom("undef")]),
            },
            _ => Term::tuple(vec![Term::atom("EXIT"), Term::atom("undef")]),
        }
    }

    fn feed(&mut self, i: usize, inp: Input) {
        let acts = self.nodes[i].srv.handle(inp);
        self.perform(i, acts);
    }

    fn perform(&mut self, i: usize, acts: Vec<Action>) {
        for a in acts {
            self.action(i, a);
        }
    }

    fn action(&mut self, i: usize, a: Action) {
        match a {
            Action::Cast { .. } | Action::Info { .. } => {
                let Some((node, term)) = a.wire() else { return };
                // Check the exact wire form decodes back to the same message.
                let back = Incoming::from_term(&term).expect("own message decodes");
                assert_eq!(back.to_term(), term);
                if let Some(j) = self.idx(node) {
                    self.send(i, j, Net::Global(term));
                }
            }
            Action::Send { to, msg } => {
                let Some(j) = self.idx(to.node) else { return };
                if to.id == 1 {
                    if j == i {
                        self.push(self.now, Ev::Input(i, Input::LockerMessage(msg)));
                    } else {
                        self.send(i, j, Net::Locker(msg));
                    }
                } else {
                    self.conflicts.push((to, msg));
                }
            }
            Action::Reply { to, tag, reply } => {
                let Some(j) = self.idx(to.node) else { return };
                if let Some([Term::Int(id), _]) = tag.as_tuple() {
                    if j != i {
                        self.send(
                            i,
                            j,
                            Net::CallRep {
                                id: CallId(*id as u64),
                                reply,
                            },
                        );
                    }
                }
            }
            Action::Call {
                id,
                from,
                nodes,
                request,
            } => {
                assert!(!nodes.contains(&self.name(i)), "core must answer itself");
                for n in nodes {
                    match self.idx(n) {
                        Some(j) if self.connected(i, j) => {
                            self.calls.insert((i, id, j));
                            self.send(
                                i,
                                j,
                                Net::CallReq {
                                    id,
                                    from,
                                    req: request.clone(),
                                },
                            );
                        }
                        _ => self.push(
                            self.now,
                            Ev::Input(
                                i,
                                Input::CallReply {
                                    id,
                                    node: n,
                                    reply: None,
                                },
                            ),
                        ),
                    }
                }
            }
            Action::Monitor { id, pid } => {
                let ok = self.is_alive(pid)
                    && self
                        .idx(pid.node)
                        .is_some_and(|j| j == i || self.connected(i, j));
                if ok {
                    self.mons.insert((i, id), pid);
                } else {
                    self.push(self.now, Ev::Input(i, Input::Down { monitor: id }));
                }
            }
            Action::Demonitor { id } => {
                self.mons.remove(&(i, id));
            }
            Action::Link { .. } | Action::Unlink { .. } => {}
            Action::Dial { node } => {
                let Some(j) = self.idx(node) else { return };
                let ok = self.connect(i, j);
                let lat = 2 + self.rand(2);
                self.push(
                    self.now + lat,
                    Ev::Input(
                        i,
                        Input::DialResult {
                            node,
                            connected: ok,
                        },
                    ),
                );
            }
            Action::Disconnect { node } => {
                if let Some(j) = self.idx(node) {
                    self.disconnect(i, j);
                }
            }
            Action::Rpc {
                id,
                node,
                method,
                name,
                pid1,
                pid2,
            } => match self.idx(node) {
                Some(j) if self.connected(i, j) => {
                    self.rpcs.insert((i, id, j));
                    self.send(
                        i,
                        j,
                        Net::Rpc {
                            id,
                            method,
                            name,
                            p1: pid1,
                            p2: pid2,
                        },
                    );
                }
                _ => {
                    let result = Term::tuple(vec![Term::atom("badrpc"), Term::atom("nodedown")]);
                    self.push(self.now, Ev::Input(i, Input::RpcResult { id, result }));
                }
            },
            Action::Exit { pid, .. } => {
                let lat = if pid.node == self.name(i) { 0 } else { 1 };
                self.push(self.now + lat, Ev::Kill(pid));
            }
            Action::SetTimer { id, after_ms } => {
                self.push(self.now + after_ms, Ev::Input(i, Input::Timer(id)));
            }
            Action::LocalReply { req, reply } => {
                self.replies.insert((i, req.0), reply);
            }
        }
    }

    /// Every node's name table as (name, pid) pairs.
    pub fn table(&self, i: usize) -> Vec<(Term, Pid)> {
        let s = &self.nodes[i].srv;
        s.registered_names()
            .into_iter()
            .filter_map(|n| s.whereis_name(&n).map(|p| (n, p)))
            .collect()
    }

    /// The invariants after quiescence: every node of a connected component has the same
    /// table, knows the other members, holds no lock and is idle; names point at live pids.
    pub fn check_converged(&self) {
        for i in 0..self.nodes.len() {
            let s = &self.nodes[i].srv;
            assert!(
                s.locks().is_empty(),
                "{}: locks left {:?}",
                self.name(i),
                s.locks()
            );
            assert!(s.is_idle(), "{} not idle", self.name(i));
            for (n, p) in self.table(i) {
                assert!(self.is_alive(p), "{}: {n:?} -> dead {p:?}", self.name(i));
            }
            for j in 0..self.nodes.len() {
                if i != j && self.connected(i, j) {
                    assert_eq!(
                        self.table(i),
                        self.table(j),
                        "{} vs {}",
                        self.name(i),
                        self.name(j)
                    );
                    assert!(
                        s.known_nodes().contains(&self.name(j)),
                        "{} does not know {}",
                        self.name(i),
                        self.name(j)
                    );
                }
            }
        }
    }

    pub fn cast_count(acts: &[Action]) -> usize {
        acts.iter()
            .filter(|a| {
                matches!(
                    a,
                    Action::Cast {
                        msg: Cast::InSync { .. },
                        ..
                    }
                )
            })
            .count()
    }
}
