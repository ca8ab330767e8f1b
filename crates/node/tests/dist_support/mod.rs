//! Helpers for the distribution tests: start ferl nodes on a test's own epmd, evaluate on real
//! BEAM nodes from async tests, and `Agent`, a ferl process a test drives by messages (monitor,
//! link, send, exit, panic) that forwards everything else it receives to the test.
#![allow(dead_code)]

use ferl::{Atom, Node, NodeName, Pid, Process, Ref, StartOptions, Term};
use std::time::Duration;
use testkit::BeamNode;
use tokio::sync::mpsc;

/// How long a test waits for any one expected thing.
pub const WAIT: Duration = Duration::from_secs(15);

pub async fn ferl_node(epmd_port: u16, cookie: &str) -> Node {
    ferl_node_with(epmd_port, cookie, Duration::from_secs(60)).await
}

pub async fn ferl_node_with(epmd_port: u16, cookie: &str, ticktime: Duration) -> Node {
    let mut o = StartOptions::new(NodeName::Short(testkit::unique_name("ferl")));
    o.cookie = Some(cookie.to_string());
    o.epmd_port = Some(epmd_port);
    o.net_ticktime = ticktime;
    Node::start(o).await.expect("ferl node starts")
}

/// `'name@host'` as Erlang source.
pub fn q(node: Atom) -> String {
    format!("'{}'", node.as_str())
}

pub fn atom(s: &str) -> Term {
    Term::atom(s)
}

pub fn tuple(v: Vec<Term>) -> Term {
    Term::tuple(v)
}

/// Evaluate on a BEAM node from inside a multi-thread tokio test.
pub fn eval(b: &mut BeamNode, expr: &str) -> String {
    tokio::task::block_in_place(|| b.eval_ok(expr))
}

/// Waits until `:global` on `b` and on `ferl` have synced with the nodes they are connected to
/// and have no call in flight. A test that
/// disconnects right after connecting calls this first: a gen_server reply that BEAM's
/// `global_name_server` sends to a call still in flight re-dials the node (as it would a BEAM
/// peer), which is BEAM's behaviour, not what such a test is about.
/// The same holds for ferl's own calls in flight, so the ferl node's `:global` must be idle too.
pub async fn global_settle(b: &mut BeamNode, ferl: &Node) {
    let expr = match b.opts.kind {
        testkit::BeamKind::Erl => "global:sync()",
        testkit::BeamKind::Elixir => ":global.sync()",
    };
    eval(b, expr);
    let g = ferl.global().expect("global runs");
    g.sync().await.expect("ferl's sync returns");
    assert!(eventually(|| g.is_idle()).await, "ferl's :global settles");
}

/// `global_settle` for two ferl nodes: both synced and idle, so that a disconnect does not
/// race with `:global`'s connect-time calls (whose monitors of the peer's locker re-dial it,
/// as BEAM's do).
pub async fn global_settle_ferl(nodes: &[&Node]) {
    for n in nodes {
        let g = n.global().expect("global runs");
        g.sync().await.expect("sync returns");
    }
    for n in nodes {
        let g = n.global().expect("global runs");
        assert!(
            eventually(|| g.is_idle()).await,
            "{}: :global settles",
            n.name()
        );
    }
}

/// Polls `f` until true or `WAIT` passes.
pub async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < WAIT {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}

/// Polls a BEAM expression until it prints `want`.
pub fn eval_until(b: &mut BeamNode, expr: &str, want: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        let got = eval(b, expr);
        if got == want || start.elapsed() > WAIT {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A ferl process driven by `{'$agent', ...}` commands; it traps exits and forwards every
/// other message (EXIT, DOWN, nodedown, plain messages) to the test, in arrival order.
pub struct Agent {
    pub pid: Pid,
    pub name: Atom,
    node: Node,
    rx: mpsc::UnboundedReceiver<Term>,
}

fn cmd(items: Vec<Term>) -> Term {
    let mut v = vec![atom("$agent")];
    v.extend(items);
    Term::tuple(v)
}

async fn agent_body(mut p: Process, tx: mpsc::UnboundedSender<Term>) -> Result<(), Term> {
    p.trap_exit(true);
    loop {
        let m = p.receive().await;
        let t = match m.as_tuple() {
            Some([tag, rest @ ..]) if tag.is_atom("$agent") => rest.to_vec(),
            _ => {
                let _ = tx.send(m);
                continue;
            }
        };
        let reply = match t.as_slice() {
            [c, Term::Pid(pid)] if c.is_atom("monitor") => Some(Term::Ref(p.monitor(*pid))),
            [c, Term::Atom(n), Term::Atom(node)] if c.is_atom("monitor_name") => {
                Some(Term::Ref(p.monitor_name_at(*n, *node)))
            }
            [c, Term::Pid(pid)] if c.is_atom("link") => {
                p.link(*pid);
                None
            }
            [c, Term::Pid(pid)] if c.is_atom("unlink") => {
                p.unlink(*pid);
                None
            }
            [c, Term::Atom(node)] if c.is_atom("monitor_node") => {
                p.monitor_node(*node, true);
                None
            }
            [c, Term::Pid(to), msg] if c.is_atom("send") => {
                p.send(*to, msg.clone());
                None
            }
            [c, Term::Atom(n), Term::Atom(node), msg] if c.is_atom("send_to") => {
                let _ = p.send_to(*n, *node, msg.clone());
                None
            }
            [c, Term::Atom(n), Term::Atom(node)] if c.is_atom("announce") => {
                let _ = p.send_to(*n, *node, tuple(vec![atom("ferl_pid"), Term::Pid(p.pid())]));
                None
            }
            [c, Term::Pid(to), reason] if c.is_atom("exit_other") => {
                p.exit(*to, reason.clone());
                None
            }
            [c, reason] if c.is_atom("exit") => return Err(reason.clone()),
            [c] if c.is_atom("panic") => panic!("agent told to panic"),
            _ => None,
        };
        if let Some(r) = reply {
            let _ = tx.send(tuple(vec![atom("$reply"), r]));
        }
    }
}

impl Agent {
    pub fn spawn(node: &Node) -> Agent {
        let (tx, rx) = mpsc::unbounded_channel();
        let name = Atom::new(&testkit::unique_name("agent"));
        let pid = node.spawn(move |p| agent_body(p, tx));
        node.register(name, pid).expect("register agent");
        Agent {
            pid,
            name,
            node: node.clone(),
            rx,
        }
    }

    fn cmd(&self, items: Vec<Term>) {
        self.node.send(self.pid, cmd(items));
    }

    /// The next forwarded message (panics after `WAIT`).
    pub async fn next(&mut self) -> Term {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("agent {:?}: nothing arrived in {WAIT:?}", self.pid))
            .expect("agent alive")
    }

    /// Nothing arrives for `d`.
    pub async fn expect_nothing(&mut self, d: Duration) {
        if let Ok(Some(m)) = tokio::time::timeout(d, self.rx.recv()).await {
            panic!("agent {:?}: unexpected {m:?}", self.pid);
        }
    }

    async fn reply(&mut self) -> Term {
        let m = self.next().await;
        match m.as_tuple() {
            Some([tag, r]) if tag.is_atom("$reply") => r.clone(),
            _ => panic!("expected a command reply, got {m:?}"),
        }
    }

    pub async fn monitor(&mut self, pid: Pid) -> Ref {
        self.cmd(vec![atom("monitor"), Term::Pid(pid)]);
        *self.reply().await.as_ref().expect("ref")
    }

    pub async fn monitor_name(&mut self, name: &str, node: Atom) -> Ref {
        self.cmd(vec![atom("monitor_name"), atom(name), Term::Atom(node)]);
        *self.reply().await.as_ref().expect("ref")
    }

    pub fn link(&self, pid: Pid) {
        self.cmd(vec![atom("link"), Term::Pid(pid)]);
    }

    pub fn unlink(&self, pid: Pid) {
        self.cmd(vec![atom("unlink"), Term::Pid(pid)]);
    }

    pub fn monitor_node(&self, node: Atom) {
        self.cmd(vec![atom("monitor_node"), Term::Atom(node)]);
    }

    pub fn send(&self, to: Pid, msg: Term) {
        self.cmd(vec![atom("send"), Term::Pid(to), msg]);
    }

    pub fn send_to(&self, name: &str, node: Atom, msg: Term) {
        self.cmd(vec![atom("send_to"), atom(name), Term::Atom(node), msg]);
    }

    /// Sends `{sync, Self}` to `pid` and waits for its `synced`: every signal this agent sent
    /// to `pid` before (monitor, link) has then been processed there.
    pub async fn sync(&mut self, pid: Pid) {
        self.send(pid, tuple(vec![atom("sync"), Term::Pid(self.pid)]));
        assert_eq!(self.next().await, atom("synced"), "sync with {pid:?}");
    }

    /// Sends `{ferl_pid, Self}` to `{name, node}`.
    pub fn announce(&self, name: &str, node: Atom) {
        self.cmd(vec![atom("announce"), atom(name), Term::Atom(node)]);
    }

    pub fn exit_other(&self, to: Pid, reason: Term) {
        self.cmd(vec![atom("exit_other"), Term::Pid(to), reason]);
    }

    pub fn exit(&self, reason: Term) {
        self.cmd(vec![atom("exit"), reason]);
    }

    pub fn panic(&self) {
        self.cmd(vec![atom("panic")]);
    }
}

/// `{'DOWN', Ref, process, Item, Reason}` -> (Ref, Item, Reason).
pub fn down(t: &Term) -> (Ref, Term, Term) {
    match t.as_tuple() {
        Some([tag, Term::Ref(r), kind, item, reason])
            if tag.is_atom("DOWN") && kind.is_atom("process") =>
        {
            (*r, item.clone(), reason.clone())
        }
        _ => panic!("expected a DOWN, got {t:?}"),
    }
}

/// `{'EXIT', Pid, Reason}` -> (Pid, Reason).
pub fn exit(t: &Term) -> (Pid, Term) {
    match t.as_tuple() {
        Some([tag, Term::Pid(p), reason]) if tag.is_atom("EXIT") => (*p, reason.clone()),
        _ => panic!("expected an EXIT, got {t:?}"),
    }
}

/// `{Tag, Pid}` -> Pid.
pub fn tagged_pid(t: &Term, tag: &str) -> Pid {
    match t.as_tuple() {
        Some([a, Term::Pid(p)]) if a.is_atom(tag) => *p,
        _ => panic!("expected {{{tag}, Pid}}, got {t:?}"),
    }
}
