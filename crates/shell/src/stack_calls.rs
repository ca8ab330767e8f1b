//! The tutorial's `Server` and `Client` modules in the shell (`Server.start`,
//! `alice = Client.subscribe("alice")`, ...), run by the `stack` crate on the shell's node, with
//! failures shown as iex shows the Elixir client's (`send` to `:undefined`, no function clause).

use crate::error::ShellError;
use etf::Term;
use ferl::Node;
use stack::Fault;

/// `Server.*` / `Client.*` (callers check `stack::modules::exports` first).
pub(crate) async fn call(
    node: &Node,
    module: &str,
    function: &str,
    args: &[Term],
) -> Result<Term, ShellError> {
    let Some(r) = stack::apply(node, module, function, args).await else {
        return Err(ShellError::undefined_function(
            &Term::atom(module),
            function,
            args,
            false,
        ));
    };
    r.map_err(|fault| match fault {
        Fault::FunctionClause {
            module,
            function,
            arity,
        } => ShellError::exception(
            "FunctionClauseError",
            format!("no function clause matching in {module}.{function}/{arity}"),
        ),
        Fault::InvalidDestination(msg) => {
            ShellError::invalid_destination(&Term::atom("undefined"), &msg)
        }
        Fault::NotDistributed(text) => ShellError::exception("RuntimeError", text),
    })
}
