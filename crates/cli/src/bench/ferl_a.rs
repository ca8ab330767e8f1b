//! The ferl driver: a ferl node A, started in this process on its own tokio runtime, that does
//! what node_a.exs does (same warm-ups, rows in the same order, then `:init.stop/0` on B) and
//! returns the values directly.

use super::ferl_rows as rows;
use super::metrics::RunValues;
use super::pairing::{DriverA, RunCtx, RunningB};
use ferl::{Atom, Node, NodeName, Process, StartOptions};
use std::future::Future;
use std::time::Duration;

/// How long A waits for B's answer to `:init.stop/0` (B is stopped by pid after anyway).
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// Node A in ferl, against any node B.
pub struct FerlDriver;

impl DriverA for FerlDriver {
    fn drive(
        &self,
        ctx: &RunCtx,
        b: &RunningB,
        progress: &mut dyn FnMut(&str),
    ) -> Result<RunValues, String> {
        let rt = crate::schedulers::runtime(Some(ctx.sizes.schedulers))
            .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
        let limit = Duration::from_secs(ctx.sizes.run_timeout_s);
        let result = rt.block_on(async {
            match tokio::time::timeout(limit, drive(ctx, b, progress)).await {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "ferl node A did not finish within {} s",
                    ctx.sizes.run_timeout_s
                )),
            }
        });
        // Processes still parked (a failed row's) must not keep this thread waiting.
        rt.shutdown_timeout(Duration::from_secs(1));
        result.map_err(|e| format!("{e}\nnode B's log: {}", b.log.display()))
    }
}

async fn drive(
    ctx: &RunCtx<'_>,
    b: &RunningB,
    progress: &mut dyn FnMut(&str),
) -> Result<RunValues, String> {
    let role = format!("a_{}", ctx.pairing.id().replace('-', "_"));
    let mut opts = StartOptions::new(NodeName::Short(ctx.session.sname(&role, ctx.run)));
    opts.cookie = Some(ctx.session.cookie.clone());
    opts.epmd_port = Some(ctx.epmd_port);
    let node = Node::start(opts)
        .await
        .map_err(|e| format!("ferl node A: {e}"))?;
    let result = measure(&node, ctx, Atom::new(&b.node), progress).await;
    node.stop();
    // Let the writers flush the close before the runtime goes away.
    tokio::time::sleep(Duration::from_millis(50)).await;
    result
}

async fn measure(
    node: &Node,
    ctx: &RunCtx<'_>,
    b: Atom,
    progress: &mut dyn FnMut(&str),
) -> Result<RunValues, String> {
    if !node.connect(b).await {
        return Err(format!("ferl node A cannot connect to {b}"));
    }
    // As node_a.exs: B's :global names (its :stack) are known here before any row runs.
    rows::global_of(node)?
        .sync()
        .await
        .map_err(|e| format!(":global.sync(): {e}"))?;
    let s = ctx.sizes.clone();
    // `--rows` (as node_a.exs's ROWS): the other rows show "-".
    let has = |row: char| s.rows.contains(row);
    // Warm-up for the throughput paths (not recorded), as node_a.exs.
    if has('b') {
        in_process(node, move |mut p| async move {
            rows::throughput(&mut p, b, s.warm_msg, 1).await
        })
        .await?;
    }
    if has('d') {
        let (n, k) = (s.warm_msg, s.senders);
        in_process(node, move |mut p| async move {
            rows::throughput(&mut p, b, n, k).await
        })
        .await?;
    }
    let mut v = RunValues::new();
    let mut put = |k: &str, x: f64| v.insert(k.to_string(), x);
    if has('a') {
        progress("a");
        let (n, warm) = (s.n_rtt, s.warm_rtt);
        let mut t = in_process(node, move |mut p| async move {
            rows::rtt(&mut p, b, warm).await;
            Ok(rows::rtt(&mut p, b, n).await)
        })
        .await?;
        t.sort_unstable();
        put("a.p50_us", rows::pct(&t, 0.50) as f64 / 1000.0);
        put("a.p99_us", rows::pct(&t, 0.99) as f64 / 1000.0);
    }
    if has('b') {
        progress("b");
        let n = s.n_msg;
        let r = in_process(node, move |mut p| async move {
            rows::throughput(&mut p, b, n, 1).await
        });
        put("b.msgs_per_s", r.await?);
    }
    if has('c') {
        progress("c");
        let (n, warm) = (s.n_rpc, s.warm_rpc);
        let r = in_process(node, move |mut p| async move {
            rows::rpc(&mut p, b, warm).await?;
            rows::rpc(&mut p, b, n).await
        });
        put("c.calls_per_s", r.await?);
    }
    if has('d') {
        progress("d");
        let (n, k) = (s.n_msg, s.senders);
        let r = in_process(node, move |mut p| async move {
            rows::throughput(&mut p, b, n, k).await
        });
        put("d.msgs_per_s", r.await?);
    }
    if has('e') {
        progress("e");
        let n = s.n_msg;
        let r = in_process(node, move |mut p| async move {
            rows::stack_push(&mut p, b, n).await
        });
        put("e.msgs_per_s", r.await?);
    }
    if has('f') {
        progress("f");
        let (k, ms) = (s.f_callers, s.f_ms);
        let r = in_process(node, move |mut p| async move {
            rows::calls(&mut p, b, k, ms).await
        });
        put("f.calls_per_s", r.await?);
    }
    if has('g') {
        progress("g");
        let (subs, rounds) = (s.g_subs, s.g_rounds);
        let r = in_process(node, move |mut p| async move {
            rows::fanout(&mut p, b, subs, rounds).await
        });
        put("g.deliveries_per_s", r.await?);
    }
    if has('h') {
        progress("h");
        let n = s.h_procs;
        let r = in_process(node, move |mut p| async move {
            rows::idle_procs(&mut p, b, n).await
        });
        let (rss, vm, spawn_ms) = r.await?;
        put("h.rss_bytes", rss);
        put("h.vm_bytes", vm);
        put("h.spawn_ms", spawn_ms);
    }
    if has('i') {
        progress("i");
        let n = s.i_connects;
        let r = in_process(node, move |mut p| async move {
            rows::connect_visible(&mut p, b, n).await
        });
        let (p50, max) = r.await?;
        put("i.p50_ms", p50);
        put("i.max_ms", max);
    }
    // STOP_B=1: node A stops B with :init.stop/0 (its answer may not make it back).
    let _ = in_process(node, move |mut p| async move {
        let stop = ferl::rpc::call(&mut p, b, "init", "stop", vec![], Some(STOP_LIMIT)).await;
        Ok(stop.is_ok())
    })
    .await;
    Ok(v)
}

/// Runs `f` as a ferl process on `node` (a measurement needs a pid and a mailbox) and returns
/// its result; a process that crashed (e.g. a linked helper died) is an error.
async fn in_process<T, F, Fut>(node: &Node, f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(Process) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, String>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    node.spawn(move |p: Process| async move {
        let _ = tx.send(f(p).await);
    });
    rx.await
        .map_err(|_| "a measuring process on node A crashed".to_string())?
}
