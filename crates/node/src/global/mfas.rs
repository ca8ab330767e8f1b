//! The `global` module as other nodes call it by rpc on a ferl node (`:rpc.call(ferl, :global,
//! :whereis_name, [:stack])` and friends), with BEAM's return values, including the `badarg`
//! exit of `global:send/2` for a name nobody holds.

use super::name_server::Shared;
use super::{LocalRequest, StdMethod};
use crate::exception::Exception;
use crate::node::Node;
use crate::process::Process;
use crate::MfaFn;
use etf::{Atom, Term};
use std::future::Future;
use std::sync::{Arc, Weak};

fn badarg() -> Exception {
    Exception::error(Term::atom("badarg"))
}

/// Registers `global:F/A` for each function below, bound to `shared`.
pub(crate) fn register(node: &Node, shared: &Arc<Shared>) {
    def(node, shared, "whereis_name", 1, |s, _p, a| async move {
        let name = a.first().ok_or_else(badarg)?;
        Ok(super::whereis::whereis_name(&s, name).map_or(Term::atom("undefined"), Term::Pid))
    });
    def(
        node,
        shared,
        "registered_names",
        0,
        |s, _p, _a| async move { Ok(Term::List(s.core().registered_names())) },
    );
    def(node, shared, "send", 2, |s, p, a| async move {
        let [name, msg] = <[Term; 2]>::try_from(a).map_err(|_| badarg())?;
        match super::whereis::whereis_name(&s, &name) {
            Some(pid) => {
                p.send(pid, msg);
                Ok(Term::Pid(pid))
            }
            None => Err(Exception::exit(Term::tuple(vec![
                Term::atom("badarg"),
                Term::tuple(vec![name, msg]),
            ]))),
        }
    });
    for arity in [2, 3] {
        def(
            node,
            shared,
            "register_name",
            arity,
            |s, _p, a| async move {
                let mut it = a.into_iter();
                let (Some(name), Some(Term::Pid(pid))) = (it.next(), it.next()) else {
                    return Err(badarg());
                };
                let method = it
                    .next()
                    .unwrap_or_else(|| StdMethod::RandomExitName.to_term());
                ask(&s, LocalRequest::RegisterName { name, pid, method }).await
            },
        );
    }
    def(node, shared, "unregister_name", 1, |s, _p, a| async move {
        let name = a.into_iter().next().ok_or_else(badarg)?;
        ask(&s, LocalRequest::UnregisterName { name }).await
    });
    def(node, shared, "sync", 0, |s, _p, _a| async move {
        s.sync()
            .await
            .ok_or_else(|| Exception::exit(Term::atom("noproc")))
    });
}

async fn ask(s: &Shared, r: LocalRequest) -> Result<Term, Exception> {
    s.request(r)
        .await
        .ok_or_else(|| Exception::exit(Term::atom("noproc")))
}

/// `global:name/arity` calling `f(shared, process, args)`; holds `shared` weakly, so a stopped
/// node's `:global` is not kept alive by its own registry.
fn def<F, Fut>(node: &Node, shared: &Arc<Shared>, name: &str, arity: usize, f: F)
where
    F: Fn(Arc<Shared>, Process, Vec<Term>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Term, Exception>> + Send + 'static,
{
    let weak: Weak<Shared> = Arc::downgrade(shared);
    let f = Arc::new(f);
    let mfa: MfaFn = Arc::new(move |p: Process, args: Vec<Term>| {
        let (weak, f) = (weak.clone(), f.clone());
        Box::pin(async move {
            let s = weak
                .upgrade()
                .ok_or_else(|| Exception::exit(Term::atom("noproc")))?;
            f(s, p, args).await
        })
    });
    node.register_fn(Atom::new("global"), Atom::new(name), arity, mfa);
}
