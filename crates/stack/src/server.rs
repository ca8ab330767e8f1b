//! `Server.start`: the stack server as a ferl process registered as `:stack` with `:global`.
//! The process runs [`Stack`] over its mailbox: every request is logged and answered as
//! `state.rs` says; anything else is ignored.

use crate::protocol::Request;
use crate::state::{Level, Reaction, Stack};
use crate::text::interpolate;
use etf::{Atom, Term};
use ferl::global::GlobalError;
use ferl::{ExitReason, Node, Pid, Process};

/// The global name of the server, `@name` in the tutorial.
pub const NAME: &str = "stack";

/// `:stack`, as a term for `:global`.
pub fn name() -> Term {
    Term::atom(NAME)
}

/// Why `Server.start` could not even try to register.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// `:global` runs only on a distributed node (`--sname`/`--name`).
    #[error("the stack server needs a distributed node (start it with --sname or --name)")]
    NotDistributed,
    #[error(transparent)]
    Global(#[from] GlobalError),
}

/// `Server.start`: spawns the server loop and registers it as `:stack` cluster-wide.
/// `Ok(true)` is `:yes`; `Ok(false)` is `:no` (the name is taken), and then the loop just
/// spawned is stopped rather than left behind (the tutorial leaves it running, orphaned).
pub async fn start(node: &Node) -> Result<bool, ServerError> {
    let global = node.global().ok_or(ServerError::NotDistributed)?;
    let pid = node.spawn(serve);
    match global.register_name(name(), pid).await {
        Ok(true) => Ok(true),
        Ok(false) => {
            node.exit(pid, ExitReason::kill());
            Ok(false)
        }
        Err(e) => {
            node.exit(pid, ExitReason::kill());
            Err(e.into())
        }
    }
}

/// `Server.loop/2`: the server process's body.
pub async fn serve(mut p: Process) {
    let mut stack = Stack::new();
    loop {
        let msg = p.receive().await;
        if let Some(gone) = down_pid(&msg) {
            // A listener that died (or whose node went down) is dropped, so the server does not
            // keep notifying a pid that cannot hear it.
            if let Some(name) = stack.forget_pid(gone) {
                tracing::info!("{} is gone", interpolate(&name));
            }
            continue;
        }
        let Some(req) = Request::from_term(&msg) else {
            tracing::debug!("stack server ignores {}", msg.elixir());
            continue;
        };
        if let Request::Subscribe { pid, .. } = &req {
            p.monitor(*pid);
        }
        perform(&p, stack.handle(req));
    }
}

fn perform(p: &Process, r: Reaction) {
    for (level, line) in r.log {
        match level {
            Level::Info => tracing::info!("{line}"),
            Level::Warning => tracing::warn!("{line}"),
        }
    }
    for (to, msg) in r.sends {
        p.send(to, msg);
    }
}

/// The pid in a monitor's `{:DOWN, ref, :process, pid, reason}`.
fn down_pid(msg: &Term) -> Option<Pid> {
    match msg.as_tuple()? {
        [Term::Atom(tag), Term::Ref(_), kind, Term::Pid(pid), _]
            if *tag == Atom::DOWN && kind.is_atom("process") =>
        {
            Some(*pid)
        }
        _ => None,
    }
}
