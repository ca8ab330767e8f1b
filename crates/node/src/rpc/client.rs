//! The caller side: `call`, `cast` and `multicall` as OTP 25's erpc does them. A call is a
//! spawn of `erpc:execute_call/4` on the target node, monitored with the request id; its DOWN
//! reason carries the outcome. The local node is called the same way, without the network.

use super::erpc::{erpc_atom, execute_call_atom, execute_cast_atom};
use super::result::{from_down, to_term, RpcError, RpcResult};
use crate::net::{SpawnReplyMode, SpawnRequestOpts};
use crate::node::Node;
use crate::process::Process;
use crate::spawn::SpawnOpts;
use etf::{Atom, Ref, Term};
use std::time::Duration;
use tokio::time::Instant;

/// `rpc:call(Node, M, F, Args, Timeout)` / `erpc:call`: run `module:function(args)` on `node`
/// and wait for its value (`timeout` `None` waits forever). See [`RpcError`] for the failures
/// and [`RpcError::to_term`] for the exact `:rpc.call` result.
pub async fn call(
    p: &mut Process,
    node: impl Into<Atom>,
    module: impl Into<Atom>,
    function: impl Into<Atom>,
    args: Vec<Term>,
    timeout: Option<Duration>,
) -> RpcResult {
    let deadline = timeout.map(|t| Instant::now() + t);
    let pending = send_call(p, node.into(), module.into(), function.into(), args);
    pending.wait(p, deadline).await
}

/// `rpc:cast(Node, M, F, Args)` / `erpc:cast`: run `module:function(args)` on `node`, without
/// waiting or hearing about the outcome.
pub fn cast(
    node_handle: &Node,
    node: impl Into<Atom>,
    module: impl Into<Atom>,
    function: impl Into<Atom>,
    args: Vec<Term>,
) {
    let (node, m, f) = (node.into(), module.into(), function.into());
    let erpc_args = vec![Term::Atom(m), Term::Atom(f), Term::List(args)];
    if node == node_handle.name() {
        let _ = node_handle.spawn_mfa(
            erpc_atom(),
            execute_cast_atom(),
            erpc_args,
            SpawnOpts::default(),
        );
        return;
    }
    // A short-lived requester: the spawn reply (success or not) then finds nobody, which is
    // what erpc's `{reply, no}` asks for.
    node_handle.spawn(move |p: Process| async move {
        let opts = SpawnRequestOpts {
            reply: SpawnReplyMode::No,
            ..SpawnRequestOpts::default()
        };
        p.spawn_request(node, erpc_atom(), execute_cast_atom(), erpc_args, opts);
    });
}

/// `rpc:multicall(Nodes, M, F, Args, Timeout)`: call all nodes at once; returns the results of
/// the nodes that answered (as `:rpc.call` terms, in node order) and the nodes that were down or
/// did not answer in time.
pub async fn multicall(
    p: &mut Process,
    nodes: &[Atom],
    module: impl Into<Atom>,
    function: impl Into<Atom>,
    args: Vec<Term>,
    timeout: Option<Duration>,
) -> (Vec<Term>, Vec<Atom>) {
    let mut results = Vec::with_capacity(nodes.len());
    let mut bad = Vec::new();
    for (node, r) in multicall_results(p, nodes, module, function, args, timeout).await {
        match r {
            Err(RpcError::NodeDown) | Err(RpcError::Timeout) => bad.push(node),
            r => results.push(to_term(&r)),
        }
    }
    (results, bad)
}

/// `erpc:multicall`: every node's typed result, in node order.
pub async fn multicall_results(
    p: &mut Process,
    nodes: &[Atom],
    module: impl Into<Atom>,
    function: impl Into<Atom>,
    args: Vec<Term>,
    timeout: Option<Duration>,
) -> Vec<(Atom, RpcResult)> {
    let (m, f) = (module.into(), function.into());
    let deadline = timeout.map(|t| Instant::now() + t);
    let pending: Vec<_> = nodes
        .iter()
        .map(|&n| (n, send_call(p, n, m, f, args.clone())))
        .collect();
    let mut out = Vec::with_capacity(pending.len());
    for (n, call) in pending {
        out.push((n, call.wait(p, deadline).await));
    }
    out
}

/// A call on its way: the request id (also the monitor ref) and the result tag.
struct Pending {
    req: Ref,
    res: Ref,
    /// Set when the call could not even be sent.
    failed: Option<RpcError>,
}

fn send_call(p: &Process, node: Atom, m: Atom, f: Atom, args: Vec<Term>) -> Pending {
    let res = p.make_ref();
    let erpc_args = vec![
        Term::Ref(res),
        Term::Atom(m),
        Term::Atom(f),
        Term::List(args),
    ];
    if node == p.node().name() {
        let req = p.make_ref();
        let opts = SpawnOpts {
            link_to: None,
            monitor_by: Some((p.pid(), req)),
        };
        let spawned = p
            .node()
            .spawn_mfa(erpc_atom(), execute_call_atom(), erpc_args, opts);
        let failed = spawned.err().map(|_| RpcError::Erpc(Term::atom("undef")));
        return Pending { req, res, failed };
    }
    // As erpc: the outcome comes in the DOWN; a successful spawn's reply is not wanted.
    let opts = SpawnRequestOpts {
        link: false,
        monitor: true,
        reply: SpawnReplyMode::ErrorOnly,
    };
    let req = p.spawn_request(node, erpc_atom(), execute_call_atom(), erpc_args, opts);
    Pending {
        req,
        res,
        failed: None,
    }
}

impl Pending {
    async fn wait(mut self, p: &mut Process, deadline: Option<Instant>) -> RpcResult {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let req = self.req;
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let Some(msg) = p.receive_if(|m| is_for(m, req), left).await else {
                self.abandon(p).await;
                return Err(RpcError::Timeout);
            };
            let Term::Tuple(mut items) = msg else {
                continue;
            };
            let Some(last) = items.pop() else { continue };
            if items.len() == 4 {
                // {'DOWN', ReqId, process, Pid, Reason}
                return from_down(&self.res, last);
            }
            // {spawn_reply, ReqId, ok | error, PidOrReason}
            if items.get(2).is_some_and(|t| t.is_atom("error")) {
                return Err(RpcError::erpc(last));
            }
        }
    }

    /// Timed out: stop watching (erpc abandons the call the same way; the callee runs on) and
    /// drop what already arrived for it.
    async fn abandon(&self, p: &mut Process) {
        p.demonitor_flush(self.req);
        let req = self.req;
        while p
            .receive_if(|m| is_for(m, req), Some(Duration::ZERO))
            .await
            .is_some()
        {}
    }
}

/// Is `m` the spawn reply or the DOWN of request `req`?
fn is_for(m: &Term, req: Ref) -> bool {
    match m.as_tuple() {
        Some([tag, Term::Ref(r), _, _]) => *r == req && tag.is_atom("spawn_reply"),
        Some([Term::Atom(tag), Term::Ref(r), _, _, _]) => *r == req && *tag == Atom::DOWN,
        _ => false,
    }
}

impl Node {
    /// [`call`] from outside any process (a temporary process makes the call).
    pub async fn rpc_call(
        &self,
        node: impl Into<Atom>,
        module: impl Into<Atom>,
        function: impl Into<Atom>,
        args: Vec<Term>,
        timeout: Option<Duration>,
    ) -> RpcResult {
        let (node, m, f) = (node.into(), module.into(), function.into());
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.spawn(move |mut p: Process| async move {
            let r = call(&mut p, node, m, f, args, timeout).await;
            let _ = tx.send(r);
        });
        rx.await
            .unwrap_or_else(|_| Err(RpcError::Signal(Term::atom("killed"))))
    }
}
