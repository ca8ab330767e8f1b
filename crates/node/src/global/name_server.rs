//! The I/O around the sans-I/O core: the `global_name_server` process that owns a
//! [`GlobalServer`] and performs its [`Action`]s with real sends, monitors, timers, connects and
//! rpcs, plus the `locker` and `registrar` processes whose pids the core names on the wire.
//! Work from outside the process (API calls, timers, dial and rpc results) is queued in
//! [`Shared::inbox`] and announced by a wake-up message, so everything reaches the core in order,
//! from one task.

use super::api::{Action, CallId, Config, Input, MonitorId, ReqId};
use super::messages::Request;
use super::whereis::NamesVersion;
use super::GlobalServer;
use crate::gen_server::ReplyTo;
use crate::node::{Node, WeakNode};
use crate::process::Process;
use crate::ExitReason;
use etf::{Atom, Pid, Ref, Term};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// What the API side and the `global_name_server` process share.
pub(crate) struct Shared {
    pub(crate) node: WeakNode,
    /// The core. Locked only for one `handle` (by the server process) or one lookup (by anyone).
    pub(crate) core: Mutex<GlobalServer>,
    /// Inputs from outside the server process, in arrival order.
    inbox: Mutex<VecDeque<Input>>,
    /// API calls waiting for their `LocalReply`.
    waiting: Mutex<HashMap<u64, oneshot::Sender<Term>>>,
    next_req: AtomicU64,
    /// The `global_name_server` process.
    pub(crate) server: Pid,
    /// The wake-up message: `{'$ferl_global_wake', Ref}` with a ref only this node knows.
    wake: Term,
    /// This server among all of the process's (its nodes may come and go): names the answers
    /// `whereis.rs` keeps per thread.
    pub(crate) id: u64,
    /// The core's count of changes to its names table (`whereis.rs`).
    pub(crate) names_version: NamesVersion,
}

/// The next `Shared::id`.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn core(&self) -> MutexGuard<'_, GlobalServer> {
        lock(&self.core)
    }

    /// Queue `input` for the server process and wake it.
    fn push(&self, input: Input) {
        lock(&self.inbox).push_back(input);
        if let Some(node) = self.node.upgrade() {
            node.send(self.server, self.wake.clone());
        }
    }

    /// `global:sync()`: waits for the visible nodes connected now (BEAM's `check_sync_nodes/0`
    /// reads `nodes()`), including one whose nodeup has not reached the server yet.
    pub(crate) async fn sync(&self) -> Option<Term> {
        let nodes = Some(self.node.upgrade()?.nodes());
        self.request(super::LocalRequest::Sync { nodes }).await
    }

    /// Ask the core and wait for its `LocalReply` (`None` if the server is gone).
    pub(crate) async fn request(&self, request: super::LocalRequest) -> Option<Term> {
        let id = self.next_req.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.waiting).insert(id, tx);
        self.push(Input::Local {
            req: ReqId(id),
            request,
        });
        rx.await.ok()
    }
}

/// Per-process bookkeeping of the server: what each alias, monitor ref and link stands for.
#[derive(Default)]
struct Pending {
    /// multi_call alias -> (call, callee node, monitor of `{global_name_server, Node}`).
    calls: HashMap<Ref, (CallId, Atom, Ref)>,
    /// That monitor -> the alias.
    call_monitors: HashMap<Ref, Ref>,
    /// Core monitors.
    monitors: HashMap<Ref, MonitorId>,
    monitor_refs: HashMap<MonitorId, Ref>,
}

pub(crate) fn server_name() -> Atom {
    Atom::new("global_name_server")
}

/// Starts `global_name_server` (registered), its locker and registrar on `node`; `hidden`
/// nodes run the server but never sync (BEAM's global only syncs over visible connections).
pub(crate) fn start(node: &Node, connect_all: bool, hidden: bool, seed: u64) -> Arc<Shared> {
    let (tx, rx) = oneshot::channel::<Arc<Shared>>();
    let server = node.spawn(move |p: Process| async move {
        if let Ok(shared) = rx.await {
            serve(p, shared, hidden).await;
        }
    });
    let (ltx, lrx) = oneshot::channel::<Arc<Shared>>();
    let locker = node.spawn(move |mut p: Process| async move {
        let Ok(shared) = lrx.await else { return };
        loop {
            let m = p.receive().await;
            shared.push(Input::LockerMessage(m));
        }
        #[allow(unreachable_code)]
        ()
    });
    // The registrar holds `{global, Registrar}` locks; nothing is ever sent to it but a stray
    // reply, which it drops. It must live: BEAM monitors lock holders.
    let registrar = node.spawn(|mut p: Process| async move {
        loop {
            let _ = p.receive().await;
        }
        #[allow(unreachable_code)]
        ()
    });
    let mut cfg = Config::new(node.name(), node.creation(), locker, registrar, seed);
    cfg.connect_all = connect_all;
    let core = GlobalServer::new(cfg);
    let names_version = core.t.names_version();
    let shared = Arc::new(Shared {
        node: node.downgrade(),
        core: Mutex::new(core),
        inbox: Mutex::new(VecDeque::new()),
        waiting: Mutex::new(HashMap::new()),
        next_req: AtomicU64::new(1),
        server,
        wake: Term::tuple(vec![
            Term::atom("$ferl_global_wake"),
            Term::Ref(node.make_ref()),
        ]),
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        names_version,
    });
    if let Err(e) = node.register(server_name(), server) {
        tracing::error!("cannot register global_name_server: {e}");
    }
    let _ = tx.send(shared.clone());
    let _ = ltx.send(shared.clone());
    super::resolve_fn::register(node);
    super::mfas::register(node, &shared);
    shared
}

async fn serve(mut p: Process, shared: Arc<Shared>, hidden: bool) {
    p.trap_exit(true);
    if !hidden {
        p.node().monitor_nodes(p.pid(), true);
    }
    let mut pending = Pending::default();
    loop {
        let m = p.receive().await;
        if m == shared.wake {
            loop {
                let next = lock(&shared.inbox).pop_front();
                let Some(input) = next else { break };
                feed(&mut p, &shared, &mut pending, input);
            }
            continue;
        }
        if let Some(input) = classify(&mut p, &mut pending, m) {
            feed(&mut p, &shared, &mut pending, input);
        }
    }
}

/// What a message in the server's mailbox means to the core (`None`: our own bookkeeping).
fn classify(p: &mut Process, pending: &mut Pending, m: Term) -> Option<Input> {
    match m.as_tuple() {
        Some([Term::Atom(t), Term::Atom(n)]) if t.as_str() == "nodeup" => {
            return Some(Input::NodeUp {
                node: *n,
                visible: true,
            })
        }
        Some([Term::Atom(t), Term::Atom(n)]) if t.as_str() == "nodedown" => {
            return Some(Input::NodeDown { node: *n })
        }
        // A multi_call reply `{[alias|A], Reply}`.
        Some([Term::ImproperList(head, tail), reply])
            if head.len() == 1 && head[0].is_atom("alias") =>
        {
            if let Term::Ref(alias) = **tail {
                if let Some((id, node, mref)) = pending.calls.remove(&alias) {
                    pending.call_monitors.remove(&mref);
                    p.demonitor_flush(mref);
                    p.unalias(alias);
                    return Some(Input::CallReply {
                        id,
                        node,
                        reply: Some(reply.clone()),
                    });
                }
            }
            return None;
        }
        Some([Term::Atom(t), Term::Ref(r), _, _, _]) if *t == Atom::DOWN => {
            if let Some(alias) = pending.call_monitors.remove(r) {
                let (id, node, _) = pending.calls.remove(&alias)?;
                p.unalias(alias);
                return Some(Input::CallReply {
                    id,
                    node,
                    reply: None,
                });
            }
            let id = pending.monitors.remove(r)?;
            pending.monitor_refs.remove(&id);
            return Some(Input::Down { monitor: id });
        }
        // Exits of linked (register_name_external) pids: their monitors tell the core.
        Some([Term::Atom(t), _, _]) if *t == Atom::EXIT => return None,
        _ => {}
    }
    Some(Input::Message(m))
}

fn feed(p: &mut Process, shared: &Arc<Shared>, pending: &mut Pending, input: Input) {
    let actions = shared.core().handle(input);
    for a in actions {
        perform(p, shared, pending, a);
    }
}

fn perform(p: &mut Process, shared: &Arc<Shared>, pending: &mut Pending, a: Action) {
    let node = p.node();
    match a {
        // Protocol traffic only ever goes to nodes connected now: global dials explicitly
        // (`Dial`), and an auto-connecting send racing with a disconnect would bring back a
        // connection the user just closed.
        Action::Cast { .. } | Action::Info { .. } => {
            let Some((to, msg)) = a.wire() else { return };
            if to == node.name() {
                p.send(p.pid(), msg);
            } else if node.nodes().contains(&to) {
                let _ = p.send_to(server_name(), to, msg);
            }
        }
        // Conflict notices and kills go to wherever the pid is, dialling its node if need be,
        // as BEAM's `!` and `exit/2` do (the loser may sit on a node not yet meshed with us).
        Action::Send { to, msg } => p.send(to, msg),
        Action::Reply { to, tag, reply } => {
            if to.node == node.name() || node.nodes().contains(&to.node) {
                ReplyTo { pid: to, tag }.reply(p, reply);
            }
        }
        Action::Call {
            id,
            from,
            nodes,
            request,
        } => {
            let up = node.nodes();
            for n in nodes {
                if up.contains(&n) {
                    call(p, pending, id, from, n, &request);
                } else {
                    // A bad node, as multi_call reports one it cannot reach.
                    shared.push(Input::CallReply {
                        id,
                        node: n,
                        reply: None,
                    });
                }
            }
        }
        Action::Monitor { id, pid } => {
            let r = p.monitor(pid);
            pending.monitors.insert(r, id);
            pending.monitor_refs.insert(id, r);
        }
        Action::Demonitor { id } => {
            if let Some(r) = pending.monitor_refs.remove(&id) {
                pending.monitors.remove(&r);
                p.demonitor_flush(r);
            }
        }
        Action::Link { pid } => p.link(pid),
        Action::Unlink { pid } => p.unlink(pid),
        Action::Dial { node: peer } => {
            let (node, shared) = (node.clone(), shared.clone());
            tokio::spawn(async move {
                let connected = node.connect(peer).await;
                shared.push(Input::DialResult {
                    node: peer,
                    connected,
                });
            });
        }
        Action::Disconnect { node: peer } => {
            node.disconnect(peer);
        }
        Action::Rpc {
            id,
            node: at,
            method,
            name,
            pid1,
            pid2,
        } => {
            if at == node.name() {
                let (node, shared) = (node.clone(), shared.clone());
                tokio::spawn(async move {
                    let result =
                        super::resolve_fn::resolve_here(&node, method, name, pid1, pid2).await;
                    shared.push(Input::RpcResult { id, result });
                });
            } else {
                let (node, shared) = (node.clone(), shared.clone());
                tokio::spawn(async move {
                    let args = vec![method, name, Term::Pid(pid1), Term::Pid(pid2)];
                    let r = node
                        .rpc_call(at, Atom::new("global"), Atom::new("resolve_it"), args, None)
                        .await;
                    let result = crate::rpc::to_term(&r);
                    shared.push(Input::RpcResult { id, result });
                });
            }
        }
        Action::Exit { pid, reason } => p.exit(pid, ExitReason::from(reason)),
        Action::SetTimer { id, after_ms } => {
            let shared = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(after_ms)).await;
                shared.push(Input::Timer(id));
            });
        }
        Action::LocalReply { req, reply } => {
            if let Some(tx) = lock(&shared.waiting).remove(&req.0) {
                let _ = tx.send(reply);
            }
        }
    }
}

/// One node's part of `gen_server:multi_call(Nodes, global_name_server, Request)` made as
/// `from` (the lock holder, which BEAM records and monitors): the tag is an alias of this
/// process, so the reply comes here whoever `from` is, and a monitor of
/// `{global_name_server, Node}` turns a dead node into a bad node.
fn call(p: &Process, pending: &mut Pending, id: CallId, from: Pid, to: Atom, req: &Request) {
    let alias = p.alias();
    let tag = Term::ImproperList(vec![Term::Atom(Atom::ALIAS)], Box::new(Term::Ref(alias)));
    let msg = Term::tuple(vec![
        Term::Atom(Atom::GEN_CALL),
        Term::tuple(vec![Term::Pid(from), tag]),
        req.to_term(),
    ]);
    let mref = p.monitor_name_at(server_name(), to);
    pending.calls.insert(alias, (id, to, mref));
    pending.call_monitors.insert(mref, alias);
    let _ = p.send_to(server_name(), to, msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::resolve_it;

    #[test]
    fn resolve_it_of_a_standard_method_needs_no_process() {
        // The std methods are pure: `resolve_it` gives the winner and the actions to perform.
        let a = Pid::new(Atom::new("a@h"), 1, 0, 1);
        let b = Pid::new(Atom::new("b@h"), 2, 0, 1);
        let m = super::super::StdMethod::NotifyAllName.to_term();
        let (winner, acts) = resolve_it(&m, &Term::atom("n"), a, b).expect("std method");
        assert!(winner.is_atom("none"));
        assert_eq!(acts.len(), 2);
    }
}
