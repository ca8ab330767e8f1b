//! `global:resolve_it/4` on a ferl node: what a resolver (BEAM's or ours) runs, by rpc, on the
//! node of the pid whose method decides a name conflict (research §6.7). A standard method is
//! evaluated here; a Rust method `fun M:F/3` calls the MFA-registered `M:F/3`.

use super::methods::resolve_it;
use super::Action;
use crate::exception::Exception;
use crate::node::Node;
use crate::process::Process;
use crate::ExitReason;
use crate::MfaFn;
use etf::{Atom, Pid, Term};
use std::sync::Arc;

/// Registers `global:resolve_it/4` in `node`'s MFA registry.
pub(crate) fn register(node: &Node) {
    let f: MfaFn = Arc::new(|p: Process, args: Vec<Term>| {
        Box::pin(async move {
            let [method, name, Term::Pid(pid1), Term::Pid(pid2)] =
                <[Term; 4]>::try_from(args).map_err(|_| Exception::error(Term::atom("badarg")))?
            else {
                return Err(Exception::error(Term::atom("badarg")));
            };
            let node = p.node().clone();
            Ok(resolve_here(&node, method, name, pid1, pid2).await)
        })
    });
    node.register_fn(Atom::new("global"), Atom::new("resolve_it"), 4, f);
}

/// `Method(Name, Pid1, Pid2)` here: the winner pid or `none`, or `{'EXIT', Reason}` as
/// global.erl's `catch` gives when the method fails.
pub(crate) async fn resolve_here(
    node: &Node,
    method: Term,
    name: Term,
    pid1: Pid,
    pid2: Pid,
) -> Term {
    if let Some((winner, actions)) = resolve_it(&method, &name, pid1, pid2) {
        for a in actions {
            match a {
                Action::Exit { pid, reason } => node.exit(pid, ExitReason::from(reason)),
                Action::Send { to, msg } => node.send(to, msg),
                other => tracing::warn!("global: unexpected resolve action {other:?}"),
            }
        }
        return winner;
    }
    let undef = |m: &Term| {
        Term::tuple(vec![
            Term::atom("EXIT"),
            Term::tuple(vec![
                Term::Atom(Atom::UNDEF),
                Term::list(vec![Term::tuple(vec![
                    m.clone(),
                    name.clone(),
                    Term::Pid(pid1),
                    Term::Pid(pid2),
                ])]),
            ]),
        ])
    };
    let Term::Export(e) = &method else {
        return undef(&method);
    };
    let Some(f) = node.lookup_fn(e.module, e.function, 3) else {
        return undef(&method);
    };
    // Run the method in a process of its own, as BEAM's rpc does: a crash stays there.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let args = vec![name.clone(), Term::Pid(pid1), Term::Pid(pid2)];
    node.spawn(move |p: Process| async move {
        let _ = tx.send(f(p, args).await);
    });
    match rx.await {
        Ok(Ok(v)) => v,
        // `catch`: a throw gives the thrown value, an error or exit `{'EXIT', Reason}`.
        Ok(Err(Exception::Throw(t))) => t,
        Ok(Err(e)) => Term::tuple(vec![Term::atom("EXIT"), ExitReason::from(e).into_term()]),
        Err(_) => Term::tuple(vec![Term::atom("EXIT"), Term::atom("killed")]),
    }
}
