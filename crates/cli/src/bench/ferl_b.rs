//! The ferl node B: this binary re-run as the hidden `ferl bench --node-b NAME`, a ferl node
//! offering node_b.exs's services (ferl_b_services.rs), so that any driver (node_a.exs or the
//! ferl driver) measures it unchanged. It stops on `:init.stop/0` or after its lifetime.

use super::beam::launch_b;
use super::pairing::{NodeB, RunCtx, RunningB};
use ferl::{Node, NodeName, StartOptions};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;

/// Starts `ferl bench --node-b` as node B of a ferl pairing.
pub struct FerlNodeB;

impl NodeB for FerlNodeB {
    fn start(&self, ctx: &RunCtx) -> Result<RunningB, String> {
        // A name per pairing: the previous pairing's B may still be leaving epmd.
        let role = format!("b_{}", ctx.pairing.id().replace('-', "_"));
        let sname = ctx.session.sname(&role, ctx.run);
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.args(["bench", "--node-b", &sname, "--node-b-cookie"])
            .arg(&ctx.session.cookie)
            .arg("--schedulers")
            .arg(ctx.sizes.schedulers.to_string());
        launch_b(ctx, cmd, &sname, "ferl node B")
    }
}

/// `ferl bench --node-b NAME --node-b-cookie C`: runs node B until `:init.stop/0`.
pub fn serve(sname: &str, cookie: &str, schedulers: usize) -> ExitCode {
    let rt = match crate::schedulers::runtime(Some(schedulers)) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferl bench --node-b: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(sname, cookie)) {
        // Exit at once: tearing down up to a million idle processes one by one is pointless.
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("ferl bench --node-b: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(sname: &str, cookie: &str) -> Result<(), String> {
    let mut opts = StartOptions::new(NodeName::Short(sname.to_string()));
    opts.cookie = Some(cookie.to_string());
    let node = Node::start(opts).await.map_err(|e| e.to_string())?;
    let stop = Arc::new(tokio::sync::Notify::new());
    super::ferl_b_services::install(&node, stop.clone());
    // As node_b.exs: the global :stack exists before B says it is ready.
    super::ferl_b_services::reset_stack(&node)
        .await
        .map_err(|e| format!("BenchB.reset_stack(): {e:?}"))?;
    println!("{} ready", node.name());
    let lifetime = std::env::var("B_MAX_LIFETIME_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(900_000);
    tokio::select! {
        _ = stop.notified() => {}
        _ = tokio::time::sleep(Duration::from_millis(lifetime)) => {
            println!("{} max lifetime reached, exiting", node.name());
        }
    }
    node.stop();
    // Let the writers flush the close (peers see a clean nodedown).
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}
