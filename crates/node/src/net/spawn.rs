//! Remote spawn (SPAWN_REQUEST / SPAWN_REPLY), both ways. Outbound: `Process::spawn_request`
//! and `spawn_remote`, with the requester's link/monitor set up when the reply arrives, and
//! `{spawn_reply, ReqId, error, noconnection}` if the connection goes first. Inbound: run a
//! registered MFA (or exit `{undef, [{M, F, Args, []}]}` as BEAM does), replying before it runs.

use super::remote::DistRemote;
use super::signal::Signal;
use crate::cell::Monitor;
use crate::error::SpawnError;
use crate::exit::ExitReason;
use crate::node::Node;
use crate::process::Process;
use crate::remote::MonitorTarget;
use crate::spawn::SpawnOpts;
use etf::{Atom, Pid, Ref, Term};
use std::collections::HashMap;
use std::sync::Mutex;

/// Options of `spawn_request/5` that travel to the other node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpawnRequestOpts {
    /// Link the requester and the new process.
    pub link: bool,
    /// The requester monitors the new process; the monitor ref is the request id.
    pub monitor: bool,
    /// Which `spawn_reply` messages the requester gets (`{reply, ...}`).
    pub reply: SpawnReplyMode,
}

/// `spawn_request/5`'s `{reply, Mode}` option. It is the requester's node that holds back the
/// unwanted replies (the peer always sends SPAWN_REPLY: it carries the new pid for the link or
/// monitor), so a caller that waits only for a DOWN, as `erpc:call` does with `error_only`, is
/// not woken for a successful spawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpawnReplyMode {
    /// `yes`: every reply (the default).
    #[default]
    Yes,
    /// `no`: none.
    No,
    /// `error_only`: only `{spawn_reply, Req, error, Reason}`.
    ErrorOnly,
    /// `success_only`: only `{spawn_reply, Req, ok, Pid}`.
    SuccessOnly,
}

impl SpawnReplyMode {
    fn wants(self, success: bool) -> bool {
        match self {
            SpawnReplyMode::Yes => true,
            SpawnReplyMode::No => false,
            SpawnReplyMode::ErrorOnly => !success,
            SpawnReplyMode::SuccessOnly => success,
        }
    }
}

const FLAG_LINK: i64 = 1;
const FLAG_MONITOR: i64 = 2;

/// Outstanding outbound requests: peer -> request id -> requester.
#[derive(Default)]
pub(crate) struct PendingSpawns {
    by_node: Mutex<HashMap<Atom, Requests>>,
}

/// One peer's outstanding requests: request id -> requester and its reply mode.
type Requests = HashMap<Ref, (Pid, SpawnReplyMode)>;

impl PendingSpawns {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Atom, Requests>> {
        self.by_node.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, peer: Atom, req: Ref, requester: Pid, reply: SpawnReplyMode) {
        self.lock()
            .entry(peer)
            .or_default()
            .insert(req, (requester, reply));
    }

    fn take(&self, peer: Atom, req: Ref) -> Option<(Pid, SpawnReplyMode)> {
        let mut m = self.lock();
        let reqs = m.get_mut(&peer)?;
        let r = reqs.remove(&req);
        if reqs.is_empty() {
            m.remove(&peer);
        }
        r
    }

    /// The connection to `peer` is gone: every request to it fails with `noconnection`.
    pub(crate) fn fail_node(&self, node: &Node, peer: Atom) {
        let reqs = self.lock().remove(&peer).unwrap_or_default();
        for (req, (requester, reply)) in reqs {
            if reply.wants(false) {
                node.deliver(requester, reply_msg(req, Err(Atom::NOCONNECTION)));
            }
        }
    }
}

/// `{spawn_reply, ReqId, ok, Pid}` / `{spawn_reply, ReqId, error, Reason}`.
fn reply_msg(req: Ref, r: Result<Pid, Atom>) -> Term {
    let (tag, v) = match r {
        Ok(p) => (Atom::OK, Term::Pid(p)),
        Err(a) => (Atom::ERROR, Term::Atom(a)),
    };
    Term::tuple(vec![
        Term::atom("spawn_reply"),
        Term::Ref(req),
        Term::Atom(tag),
        v,
    ])
}

/// Spawns `M:F(Args)` (a registered function, or a process exiting `{undef, [{M, F, Args, []}]}`
/// as on BEAM) that starts running only when the returned sender fires (or is dropped): the
/// spawn reply must reach the requester before any EXIT or DOWN of the new process.
fn spawn_gated(
    node: &Node,
    module: Atom,
    function: Atom,
    args: Vec<Term>,
    opts: SpawnOpts,
) -> (Pid, tokio::sync::oneshot::Sender<()>) {
    let f = node.lookup_fn(module, function, args.len());
    let undef = Term::tuple(vec![
        Term::Atom(Atom::UNDEF),
        Term::list(vec![Term::tuple(vec![
            Term::Atom(module),
            Term::Atom(function),
            Term::List(args.clone()),
            Term::nil(),
        ])]),
    ]);
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let pid = node.spawn_opts(
        move |p| async move {
            let _ = wait.await;
            match f {
                Some(f) => f(p, args).await.map(|_| ()).map_err(ExitReason::from),
                None => Err(ExitReason::from(undef)),
            }
        },
        opts,
    );
    (pid, go)
}

impl Process {
    /// `erlang:spawn_request(Node, M, F, Args, Opts)`: asks `node` to spawn `M:F(Args)`;
    /// `{spawn_reply, ReqId, ok, Pid}` or `{spawn_reply, ReqId, error, Reason}` arrives later.
    pub fn spawn_request(
        &self,
        node: Atom,
        module: Atom,
        function: Atom,
        args: Vec<Term>,
        opts: SpawnRequestOpts,
    ) -> Ref {
        let req = self.make_ref();
        let me = self.pid();
        if node == self.node.name() {
            // Our own node: the same protocol without the wire.
            let reply = opts.reply;
            let opts = SpawnOpts {
                link_to: opts.link.then_some(me),
                monitor_by: opts.monitor.then_some((me, req)),
            };
            let (pid, go) = spawn_gated(&self.node, module, function, args, opts);
            if reply.wants(true) {
                self.node.deliver(me, reply_msg(req, Ok(pid)));
            }
            let _ = go.send(());
            return req;
        }
        let Some(d) = self.node.inner.dist.get() else {
            // No distribution: fail like an unreachable node.
            if opts.reply.wants(false) {
                self.node
                    .deliver(me, reply_msg(req, Err(Atom::NOCONNECTION)));
            }
            return req;
        };
        d.spawns.add(node, req, me, opts.reply);
        let mut wire_opts = Vec::new();
        if opts.link {
            wire_opts.push(Term::atom("link"));
        }
        if opts.monitor {
            wire_opts.push(Term::atom("monitor"));
        }
        d.signal(
            node,
            Signal::SpawnRequest {
                req_id: req,
                from: me,
                module,
                function,
                args,
                opts: Term::List(wire_opts),
            },
        );
        req
    }

    /// `spawn(Node, M, F, Args)`: the pid of the new process on `node`, once it replied.
    pub async fn spawn_remote(
        &mut self,
        node: Atom,
        module: Atom,
        function: Atom,
        args: Vec<Term>,
    ) -> Result<Pid, SpawnError> {
        self.spawn_remote_opts(node, module, function, args, SpawnRequestOpts::default())
            .await
            .map(|(pid, _)| pid)
    }

    /// `spawn_opt(Node, M, F, Args, [link | monitor])`: the new pid and the request id, which
    /// is the monitor's ref when `opts.monitor`.
    pub async fn spawn_remote_opts(
        &mut self,
        node: Atom,
        module: Atom,
        function: Atom,
        args: Vec<Term>,
        opts: SpawnRequestOpts,
    ) -> Result<(Pid, Ref), SpawnError> {
        let req = self.spawn_request(node, module, function, args, opts);
        let r = self
            .receive_match(
                |m| match m.as_tuple() {
                    Some([tag, Term::Ref(r), Term::Atom(ok), v])
                        if tag.is_atom("spawn_reply") && *r == req =>
                    {
                        match (*ok == Atom::OK, v) {
                            (true, Term::Pid(p)) => Some(Ok(*p)),
                            (_, Term::Atom(a)) => Some(Err(*a)),
                            _ => Some(Err(Atom::new("badarg"))),
                        }
                    }
                    _ => None,
                },
                None,
            )
            .await;
        match r {
            Some(Ok(pid)) => Ok((pid, req)),
            Some(Err(a)) => Err(SpawnError::Remote(a)),
            None => Err(SpawnError::Remote(Atom::NOCONNECTION)),
        }
    }
}

impl DistRemote {
    /// SPAWN_REQUEST from `peer`: spawn, reply, then let the new process run (so the reply is
    /// on the wire before any EXIT or DOWN of the new process).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_spawn_request(
        &self,
        node: &Node,
        peer: Atom,
        req_id: Ref,
        from: Pid,
        module: Atom,
        function: Atom,
        opts: &Term,
        args: Term,
    ) {
        let reply = |flags: i64, result: Term| {
            let _busy = self.signal(
                peer,
                Signal::SpawnReply {
                    req_id,
                    to: from,
                    flags,
                    result,
                },
            );
        };
        let (Some(args), Some(opt_list)) = (args.as_list(), opts.as_list()) else {
            return reply(0, Term::atom("badarg"));
        };
        let args = args.to_vec();
        let has = |name: &str| opt_list.iter().any(|o| o.is_atom(name));
        let (link, monitor) = (has("link"), has("monitor"));
        let spawn_opts = SpawnOpts {
            link_to: link.then_some(from),
            monitor_by: monitor.then_some((from, req_id)),
        };
        let (pid, go) = spawn_gated(node, module, function, args, spawn_opts);
        let flags = if link { FLAG_LINK } else { 0 } | if monitor { FLAG_MONITOR } else { 0 };
        reply(flags, Term::Pid(pid));
        let _ = go.send(());
    }

    /// SPAWN_REPLY from `peer`: set up the requester's side of the link/monitor, then deliver
    /// `{spawn_reply, ...}` (before any DOWN/EXIT that follows on the same connection).
    pub(crate) fn on_spawn_reply(
        &self,
        node: &Node,
        peer: Atom,
        req: Ref,
        to: Pid,
        flags: i64,
        result: &Term,
    ) {
        let Some((requester, reply)) = self.spawns.take(peer, req) else {
            tracing::debug!("SPAWN_REPLY from {peer} for an unknown request");
            return;
        };
        if requester != to {
            tracing::debug!("SPAWN_REPLY from {peer} names another requester");
        }
        let new = match result {
            Term::Pid(p) => *p,
            Term::Atom(a) if reply.wants(false) => {
                return node.deliver(requester, reply_msg(req, Err(*a)))
            }
            _ => return,
        };
        let alive = node
            .inner
            .table
            .with(requester, |c| {
                c.relate_if_alive(|rel| {
                    if flags & FLAG_LINK != 0 {
                        rel.links.insert(new);
                    }
                    if flags & FLAG_MONITOR != 0 {
                        rel.monitors.insert(
                            req,
                            Monitor {
                                target: MonitorTarget::Pid(new),
                                resolved: None,
                            },
                        );
                    }
                    if flags & (FLAG_LINK | FLAG_MONITOR) != 0 && rel.touch_node(peer) {
                        node.inner.remote_index.add(peer, requester);
                    }
                })
            })
            .unwrap_or(false);
        if alive {
            if reply.wants(true) {
                node.deliver(requester, reply_msg(req, Ok(new)));
            }
        } else {
            // The requester is gone: undo what the other side set up for it.
            if flags & FLAG_LINK != 0 {
                self.signal(
                    peer,
                    Signal::LinkExit {
                        from: requester,
                        to: new,
                        reason: Term::Atom(Atom::NOPROC),
                    },
                );
            }
            if flags & FLAG_MONITOR != 0 {
                self.signal(
                    peer,
                    Signal::Demonitor {
                        watcher: requester,
                        target: dist::ProcRef::Pid(new),
                        r: req,
                    },
                );
            }
        }
    }
}
