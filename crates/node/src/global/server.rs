//! `GlobalServer`: the `global_name_server` state of one node and the dispatch of every
//! [`Input`] (`handle_call/3`, `handle_cast/2`, `handle_info/2` of global.erl), plus the
//! multi_call executor its helper processes (locker, registrar, lock clients) share.

use super::api::*;
use super::locker::{LMsg, Locker};
use super::messages::{CallFrom, Cast, Incoming, Info, LockId, Request};
use super::registrar::{Registrar, Syncer, UserLock};
use super::resolver::Resolver;
use super::sync::PeerSync;
use super::tables::Tables;
use super::{NodeKey, Rng};
use etf::{Atom, Pid, Term};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Who waits for a multi_call's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Locker,
    Registrar,
    User(u64),
}

/// The kinds of multi_call the helpers make (`set_lock_on_nodes/2`, `del_lock/2`, plain).
#[derive(Debug, Clone)]
pub(crate) enum OpKind {
    SetLock(LockId),
    DelLock(LockId),
    Plain(Request),
}

#[derive(Debug)]
struct PendingCall {
    owner: Owner,
    from: Pid,
    kind: OpKind,
    /// `check_replies/3`'s `del_lock` on the nodes that said true is running.
    undoing: bool,
    waiting: BTreeSet<NodeKey>,
    replies: Vec<(Atom, Term)>,
}

/// Why a timer was set.
#[derive(Debug, Clone)]
pub(crate) enum TimerPurpose {
    Locker,
    Registrar,
    User(u64),
    LostConnection(NodeKey, NodeKey),
    Whereis(Term, CallFrom),
}

/// Work the server hands to itself, in order: self-casts and messages between its "processes".
#[derive(Debug)]
pub(crate) enum Internal {
    Cast(Cast),
    ExchangeOps {
        node: Atom,
        tag: Term,
        ops: Vec<super::messages::Op>,
        resolved: Vec<super::messages::Op>,
    },
    Locker(LMsg),
    OpDone(Owner, bool),
}

/// One node's `global_name_server` (with its locker, registrar, resolvers and syncers).
pub struct GlobalServer {
    pub(crate) cfg: Config,
    pub(crate) t: Tables,
    pub(crate) global_lock_down: bool,
    /// `known`: synced nodes and their protocol versions.
    pub(crate) known: BTreeMap<NodeKey, i64>,
    /// `{pending, Node}` entries of `known`.
    pub(crate) pending: BTreeMap<NodeKey, i64>,
    /// `{removing, Node}` entries of `known`.
    pub(crate) removing: BTreeSet<NodeKey>,
    /// Visible connected nodes (`nodes()`).
    pub(crate) connected: BTreeSet<NodeKey>,
    pub(crate) synced: Vec<Atom>,
    /// The process dictionary entries of global.erl, per peer.
    pub(crate) peers: BTreeMap<NodeKey, PeerSync>,
    pub(crate) resolvers: BTreeMap<NodeKey, Resolver>,
    pub(crate) syncers: Vec<Syncer>,
    pub(crate) locker: Locker,
    pub(crate) registrar: Registrar,
    pub(crate) users: BTreeMap<u64, UserLock>,
    calls: BTreeMap<CallId, PendingCall>,
    pub(crate) rpcs: BTreeMap<RpcId, NodeKey>,
    pub(crate) timers: BTreeMap<TimerId, TimerPurpose>,
    pub(crate) lost: BTreeMap<(NodeKey, NodeKey), (Term, Term, TimerId)>,
    pub(crate) rng: Rng,
    /// `creation_extension` of global.erl's init/1.
    pub(crate) creation_ext: i64,
    next_id: u64,
    unique: i64,
    pub(crate) queue: VecDeque<Internal>,
    pub(crate) out: Vec<Action>,
}

impl GlobalServer {
    pub fn new(cfg: Config) -> GlobalServer {
        let mut rng = Rng::new(cfg.seed);
        // (rand:uniform(2^60 - 1) - 1) band bnot (2^32 - 1)
        let creation_ext = ((rng.uniform((1u64 << 60) - 1) - 1) & !0xFFFF_FFFFu64) as i64;
        let locker = Locker::new(cfg.node);
        GlobalServer {
            cfg,
            t: Tables::default(),
            global_lock_down: false,
            known: BTreeMap::new(),
            pending: BTreeMap::new(),
            removing: BTreeSet::new(),
            connected: BTreeSet::new(),
            synced: Vec::new(),
            peers: BTreeMap::new(),
            resolvers: BTreeMap::new(),
            syncers: Vec::new(),
            locker,
            registrar: Registrar::default(),
            users: BTreeMap::new(),
            calls: BTreeMap::new(),
            rpcs: BTreeMap::new(),
            timers: BTreeMap::new(),
            lost: BTreeMap::new(),
            rng,
            creation_ext,
            next_id: 1,
            unique: 0,
            queue: VecDeque::new(),
            out: Vec::new(),
        }
    }

    pub fn node(&self) -> Atom {
        self.cfg.node
    }

    /// `global:whereis_name/1` (a table read, as on BEAM).
    pub fn whereis_name(&self, name: &Term) -> Option<Pid> {
        self.t.where_(name)
    }

    /// `global:registered_names/0`.
    pub fn registered_names(&self) -> Vec<Term> {
        self.t.names().keys().cloned().collect()
    }

    /// The synced nodes (`known` without pending entries), sorted.
    pub fn known_nodes(&self) -> Vec<Atom> {
        self.known.keys().map(|k| k.0).collect()
    }

    /// Held locks as `(ResourceId, LockRequesterId, holders)`.
    pub fn locks(&self) -> Vec<(Term, Term, Vec<Pid>)> {
        let l = &self.t.locks;
        l.iter()
            .map(|(r, x)| (r.clone(), x.requester.clone(), x.holders.clone()))
            .collect()
    }

    /// True when no sync, registration or lock request of this node is in progress.
    pub fn is_idle(&self) -> bool {
        self.calls.is_empty()
            && self.rpcs.is_empty()
            && self.pending.is_empty()
            && self.locker.is_idle()
            && self.registrar.is_idle()
            && self.users.is_empty()
            && self.syncers.is_empty()
    }

    /// Feed one input; returns what the driver must do, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Action> {
        match input {
            Input::NodeUp { node, visible } => self.on_nodeup(node, visible),
            Input::NodeDown { node } => self.on_nodedown(node),
            Input::Message(m) => match Incoming::from_term(&m) {
                Ok(Incoming::Cast(c)) => self.on_cast(c),
                Ok(Incoming::Info(i)) => self.on_info(i),
                Ok(Incoming::Call { from, request }) => {
                    if let Some(reply) = self.handle_request(from.pid, &request) {
                        self.reply(&from, reply);
                    }
                }
                Err(e) => tracing::warn!("global_name_server: unexpected message {m:?}: {e}"),
            },
            Input::LockerMessage(m) => match super::messages::LockSet::from_term(&m) {
                Ok(ls) => self.queue.push_back(Internal::Locker(LMsg::LockSet(ls))),
                Err(_) => tracing::warn!("global locker: unexpected message {m:?}"),
            },
            Input::CallReply { id, node, reply } => self.on_call_reply(id, node, reply),
            Input::RpcResult { id, result } => self.on_rpc_result(id, result),
            Input::DialResult { node, connected } => self.on_dial_result(node, connected),
            Input::Down { monitor } => self.on_down(monitor),
            Input::Timer(id) => self.on_timer(id),
            Input::Local { req, request } => self.on_local(req, request),
        }
        self.run_queue();
        std::mem::take(&mut self.out)
    }

    pub(crate) fn run_queue(&mut self) {
        while let Some(ev) = self.queue.pop_front() {
            match ev {
                Internal::Cast(c) => self.on_cast(c),
                Internal::ExchangeOps {
                    node,
                    tag,
                    ops,
                    resolved,
                } => self.on_exchange_ops(node, tag, ops, resolved),
                Internal::Locker(m) => self.locker_deliver(m),
                Internal::OpDone(owner, ok) => match owner {
                    Owner::Locker => self.locker_op_done(ok),
                    Owner::Registrar => self.registrar_op_done(ok),
                    Owner::User(n) => self.user_op_done(n, ok),
                },
            }
        }
    }

    pub(crate) fn fresh(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// `erlang:unique_integer([monotonic])`.
    pub(crate) fn unique_integer(&mut self) -> i64 {
        self.unique += 1;
        self.unique
    }

    pub(crate) fn set_timer(&mut self, purpose: TimerPurpose, after_ms: u64) -> TimerId {
        let id = TimerId(self.fresh());
        self.timers.insert(id, purpose);
        self.out.push(Action::SetTimer { id, after_ms });
        id
    }

    pub(crate) fn cast(&mut self, node: Atom, msg: Cast) {
        self.out.push(Action::Cast { node, msg });
    }

    pub(crate) fn info(&mut self, node: Atom, msg: Info) {
        self.out.push(Action::Info { node, msg });
    }

    pub(crate) fn reply(&mut self, from: &CallFrom, reply: Term) {
        self.out.push(Action::Reply {
            to: from.pid,
            tag: from.tag.clone(),
            reply,
        });
    }

    /// `handle_call/3` for requests that may come from other nodes (or this node's helpers).
    pub(crate) fn handle_request(&mut self, from: Pid, req: &Request) -> Option<Term> {
        use super::ops::FromPidOrNode;
        Some(match req {
            Request::Register { name, pid, method } => {
                self.ins_name(name, *pid, method, FromPidOrNode::Pid(from), None);
                Term::atom("yes")
            }
            Request::Unregister { name } => {
                self.delete_global_name2(name);
                Term::Atom(Atom::OK)
            }
            Request::RegisterExt {
                name,
                pid,
                method,
                reg_node,
            } => {
                self.ins_name_ext(
                    name,
                    *pid,
                    method,
                    *reg_node,
                    FromPidOrNode::Pid(from),
                    None,
                );
                Term::atom("yes")
            }
            Request::SetLock(id) => Term::from(self.handle_set_lock(id, from)),
            Request::DelLock(id) => {
                self.handle_del_lock(id, from);
                Term::from(true)
            }
            Request::GetKnown => Term::List(self.known.keys().map(|k| Term::Atom(k.0)).collect()),
            Request::GetSynced => Term::List(self.synced.iter().map(|n| Term::Atom(*n)).collect()),
            Request::GetProtocolVersion => Term::Int(super::PROTOCOL_VERSION),
            Request::GetNamesExt => {
                Term::List(self.t.get_names_ext().iter().map(|e| e.to_term()).collect())
            }
        })
    }

    /// `gen_server:multi_call(Nodes, global_name_server, Req)` made as `from`, with
    /// `set_lock_on_nodes/2`'s `local_lock_check` and `check_replies` for `SetLock`. This node
    /// answers inline; the outcome reaches `owner` as `Internal::OpDone`.
    pub(crate) fn start_op(&mut self, owner: Owner, from: Pid, kind: OpKind, nodes: Vec<Atom>) {
        if let OpKind::SetLock(id) = &kind {
            if nodes.is_empty() {
                self.queue.push_back(Internal::OpDone(owner, true));
                return;
            }
            let me = self.cfg.node;
            if nodes.len() > 1 && nodes.contains(&me) && self.t.can_set_lock(id).is_none() {
                self.queue.push_back(Internal::OpDone(owner, false));
                return;
            }
        }
        self.issue_call(owner, from, kind, nodes, false);
    }

    fn issue_call(
        &mut self,
        owner: Owner,
        from: Pid,
        kind: OpKind,
        nodes: Vec<Atom>,
        undoing: bool,
    ) {
        let me = self.cfg.node;
        let req = match &kind {
            OpKind::SetLock(id) if !undoing => Request::SetLock(id.clone()),
            OpKind::SetLock(id) | OpKind::DelLock(id) => Request::DelLock(id.clone()),
            OpKind::Plain(r) => r.clone(),
        };
        let mut replies = Vec::new();
        let mut waiting = BTreeSet::new();
        let mut remote = Vec::new();
        for n in nodes {
            if n == me {
                if let Some(r) = self.handle_request(from, &req) {
                    replies.push((n, r));
                }
            } else if waiting.insert(NodeKey(n)) {
                remote.push(n);
            }
        }
        let id = CallId(self.fresh());
        self.calls.insert(
            id,
            PendingCall {
                owner,
                from,
                kind,
                undoing,
                waiting,
                replies,
            },
        );
        if !remote.is_empty() {
            self.out.push(Action::Call {
                id,
                from,
                nodes: remote,
                request: req,
            });
        }
        self.maybe_complete(id);
    }

    fn on_call_reply(&mut self, id: CallId, node: Atom, reply: Option<Term>) {
        let Some(pc) = self.calls.get_mut(&id) else {
            return;
        };
        if !pc.waiting.remove(&NodeKey(node)) {
            return;
        }
        if let Some(r) = reply {
            pc.replies.push((node, r));
        }
        self.maybe_complete(id);
    }

    fn maybe_complete(&mut self, id: CallId) {
        if !self.calls.get(&id).is_some_and(|pc| pc.waiting.is_empty()) {
            return;
        }
        let Some(pc) = self.calls.remove(&id) else {
            return;
        };
        match (&pc.kind, pc.undoing) {
            (OpKind::SetLock(_), false) => {
                // check_replies/3
                let all_true = pc.replies.iter().all(|(_, r)| r.is_atom("true"));
                if all_true {
                    self.queue.push_back(Internal::OpDone(pc.owner, true));
                } else if pc.replies.len() == 1 {
                    self.queue.push_back(Internal::OpDone(pc.owner, false));
                } else {
                    let trues: Vec<Atom> = pc
                        .replies
                        .iter()
                        .filter(|(_, r)| r.is_atom("true"))
                        .map(|(n, _)| *n)
                        .collect();
                    self.issue_call(pc.owner, pc.from, pc.kind, trues, true);
                }
            }
            (OpKind::SetLock(_), true) => self.queue.push_back(Internal::OpDone(pc.owner, false)),
            _ => self.queue.push_back(Internal::OpDone(pc.owner, true)),
        }
    }

    fn on_timer(&mut self, id: TimerId) {
        let Some(p) = self.timers.remove(&id) else {
            return;
        };
        match p {
            TimerPurpose::Locker => self.locker_timeout(id),
            TimerPurpose::Registrar => self.registrar_wake(),
            TimerPurpose::User(n) => self.user_wake(n),
            TimerPurpose::LostConnection(a, b) => {
                if self.lost.get(&(a, b)).is_some_and(|v| v.2 == id) {
                    self.lost.remove(&(a, b));
                }
            }
            TimerPurpose::Whereis(name, from) => self.do_whereis(name, from),
        }
    }

    /// `do_whereis/2`: answer unless the global lock is set, then retry after `random_sleep(5)`.
    pub(crate) fn do_whereis(&mut self, name: Term, from: CallFrom) {
        if self.t.is_global_lock_set() {
            let ms = super::random_sleep_ms(&mut self.rng, 5);
            self.set_timer(TimerPurpose::Whereis(name, from), ms);
        } else {
            let r = self
                .t
                .where_(&name)
                .map_or(Term::Atom(Atom::UNDEFINED), Term::Pid);
            self.reply(&from, r);
        }
    }

    fn on_down(&mut self, mon: MonitorId) {
        let Some(pid) = self.t.mon_pid(mon) else {
            return;
        };
        self.pid_down(pid);
    }

    /// A monitored pid is gone: `delete_lock/2` (as DOWN) and `del_name/2`.
    pub(crate) fn pid_down(&mut self, pid: Pid) {
        for id in self.t.locks_of(pid) {
            self.remove_lock(&id.resource, pid, true);
        }
        for name in self.t.names_of(pid) {
            self.delete_global_name2(&name);
        }
        self.t.mon_forget(pid);
    }

    /// Start a monitor use on `pid` (`erlang:monitor(process, Pid)` in insert_lock/insert_name).
    pub(crate) fn monitor(&mut self, pid: Pid) {
        let fresh = MonitorId(self.next_id + 1);
        if let Some(id) = self.t.mon_acquire(pid, fresh) {
            self.next_id += 1;
            self.out.push(Action::Monitor { id, pid });
        }
    }

    pub(crate) fn demonitor(&mut self, pid: Pid) {
        if let Some(id) = self.t.mon_release(pid) {
            self.out.push(Action::Demonitor { id });
        }
    }
}
