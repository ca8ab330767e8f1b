//! The shell's `:global` module on a ferl node: `register_name`, `re_register_name`,
//! `unregister_name`, `whereis_name`, `registered_names`, `send` and `sync`, with BEAM's return
//! values (`:yes`/`:no`, `:undefined`, `:ok`) and errors (`global:send` exits `{:badarg, {name, msg}}`).

use crate::error::ShellError;
use etf::{Atom, Term};
use ferl::global::{Global, GlobalError};
use ferl::Node;

/// True for the `:global` functions the shell implements.
pub(crate) fn known(function: &str, arity: usize) -> bool {
    matches!(
        (function, arity),
        ("register_name", 2)
            | ("re_register_name", 2)
            | ("unregister_name", 1)
            | ("whereis_name", 1)
            | ("registered_names", 0)
            | ("send", 2)
            | ("sync", 0)
    )
}

/// `:global.function(args)` for a [`known`] function.
pub(crate) async fn call(node: &Node, function: &str, args: &[Term]) -> Result<Term, ShellError> {
    let Some(g) = node.global() else {
        // BEAM runs :global on a node without distribution too; ferl only on a distributed one.
        return Err(ShellError::exception(
            "RuntimeError",
            ":global needs a distributed node (start the shell with --sname or --name)",
        ));
    };
    dispatch(&g, function, args).await
}

async fn dispatch(g: &Global, function: &str, args: &[Term]) -> Result<Term, ShellError> {
    let badarg = || ShellError::from_erlang(&Term::atom("badarg"));
    match (function, args) {
        ("register_name", [name, pid]) => {
            let pid = *pid.as_pid().ok_or_else(badarg)?;
            let yes = g
                .register_name(name.clone(), pid)
                .await
                .map_err(not_running)?;
            Ok(Term::atom(if yes { "yes" } else { "no" }))
        }
        ("re_register_name", [name, pid]) => {
            let pid = *pid.as_pid().ok_or_else(badarg)?;
            g.re_register_name(name.clone(), pid)
                .await
                .map_err(not_running)?;
            Ok(Term::atom("yes"))
        }
        ("unregister_name", [name]) => {
            g.unregister_name(name.clone()).await.map_err(not_running)?;
            Ok(Term::Atom(Atom::OK))
        }
        ("whereis_name", [name]) => Ok(match g.whereis_name(name) {
            Some(pid) => Term::Pid(pid),
            None => Term::Atom(Atom::UNDEFINED),
        }),
        ("registered_names", []) => Ok(Term::List(g.registered_names())),
        ("send", [name, msg]) => match g.send(name, msg.clone()) {
            Ok(pid) => Ok(Term::Pid(pid)),
            Err(GlobalError::NotRegistered(_)) => Err(ShellError::Exit(Term::tuple(vec![
                Term::atom("badarg"),
                Term::tuple(vec![name.clone(), msg.clone()]),
            ]))),
            Err(e) => Err(not_running(e)),
        },
        ("sync", []) => {
            g.sync().await.map_err(not_running)?;
            Ok(Term::Atom(Atom::OK))
        }
        _ => Err(badarg()),
    }
}

fn not_running(e: GlobalError) -> ShellError {
    ShellError::Exit(Term::tuple(vec![
        Term::atom("noproc"),
        Term::from(e.to_string()),
    ]))
}
