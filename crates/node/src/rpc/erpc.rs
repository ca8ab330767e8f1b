//! The callee side of `:rpc.call` / `:erpc.call` / casts on OTP 25: the functions
//! `erpc:execute_call/4` and `erpc:execute_cast/3` that a SPAWN_REQUEST starts. execute_call
//! reports the outcome in its exit reason, which the caller's `erpc:result/4` decodes.

use super::apply::apply;
use crate::exception::{stack_frame, Exception};
use crate::mfa::MfaFn;
use crate::process::Process;
use etf::{Atom, Term};
use std::sync::{Arc, LazyLock};

// Interned once: every call names them, and `Atom::new` is a hash lookup under a lock.
static ERPC: LazyLock<Atom> = LazyLock::new(|| Atom::new("erpc"));
static EXECUTE_CALL: LazyLock<Atom> = LazyLock::new(|| Atom::new("execute_call"));
static EXECUTE_CAST: LazyLock<Atom> = LazyLock::new(|| Atom::new("execute_cast"));
static RETURN: LazyLock<Atom> = LazyLock::new(|| Atom::new("return"));
static EXIT: LazyLock<Atom> = LazyLock::new(|| Atom::new("exit"));

/// `erpc`.
pub fn erpc_atom() -> Atom {
    *ERPC
}

/// `execute_call`.
pub fn execute_call_atom() -> Atom {
    *EXECUTE_CALL
}

/// `execute_cast`.
pub fn execute_cast_atom() -> Atom {
    *EXECUTE_CAST
}

/// `erpc:execute_call/4` and `erpc:execute_cast/3`, as built-in functions of every node.
pub(crate) fn builtins() -> Vec<(Atom, Atom, usize, MfaFn)> {
    let call: MfaFn = Arc::new(|p, args| Box::pin(execute_call(p, args)));
    let cast: MfaFn = Arc::new(|p, args| Box::pin(execute_cast(p, args)));
    vec![
        (erpc_atom(), execute_call_atom(), 4, call),
        (erpc_atom(), execute_cast_atom(), 3, cast),
    ]
}

/// `execute_call(Ref, M, F, A)`: never returns normally; exits with `{Ref, return, V}`,
/// `{Ref, throw, T}`, `{Ref, exit, X}` or `{Ref, error, E, Stack}`.
async fn execute_call(p: Process, args: Vec<Term>) -> Result<Term, Exception> {
    let mut it = args.into_iter();
    let (Some(res), Some(m), Some(f), Some(a)) = (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(Exception::error(Term::atom("badarg")));
    };
    let outcome = match mfa_args(&m, &f, a) {
        Ok((m, f, a)) => apply(p, m, f, a).await,
        Err(e) => Err(e),
    };
    Err(Exception::Exit(call_reply(res, outcome)))
}

/// The exit reason execute_call/4 ends with, for outcome `outcome` and result tag `res`.
pub(crate) fn call_reply(res: Term, outcome: Result<Term, Exception>) -> Term {
    Term::tuple(match outcome {
        Ok(v) => vec![res, Term::Atom(*RETURN), v],
        Err(Exception::Throw(t)) => vec![res, Term::Atom(Atom::THROW), t],
        Err(Exception::Exit(x)) => vec![res, Term::Atom(*EXIT), x],
        Err(Exception::Error { reason, stack }) => {
            vec![res, Term::Atom(Atom::ERROR), reason, stack]
        }
    })
}

/// `execute_cast(M, F, A)`: runs it; an error crashes the process with
/// `{exception, {Reason, Stack}}` as erpc does (so it is logged), a throw or exit is uncaught.
async fn execute_cast(p: Process, args: Vec<Term>) -> Result<Term, Exception> {
    let mut it = args.into_iter();
    let (Some(m), Some(f), Some(a)) = (it.next(), it.next(), it.next()) else {
        return Err(Exception::error(Term::atom("badarg")));
    };
    let (m, f, a) = mfa_args(&m, &f, a)?;
    match apply(p, m, f, a).await {
        Ok(_) => Ok(Term::atom("ok")),
        Err(Exception::Error { reason, stack }) => {
            let here = stack_frame(erpc_atom(), execute_cast_atom(), Term::Int(3));
            tracing::error!(
                "erpc cast {}:{} raised {} {}",
                m,
                f,
                reason.erlang(),
                stack.erlang()
            );
            let exc = Term::tuple(vec![
                Term::atom("exception"),
                Term::tuple(vec![reason, stack]),
            ]);
            Err(Exception::error_with_stack(exc, Term::list(vec![here])))
        }
        Err(other) => Err(other),
    }
}

/// Check `M`, `F`, `A` as `apply/3` does: atoms and a proper list, else `badarg`.
fn mfa_args(m: &Term, f: &Term, a: Term) -> Result<(Atom, Atom, Vec<Term>), Exception> {
    match (m, f, a) {
        (Term::Atom(m), Term::Atom(f), Term::List(a)) => Ok((*m, *f, a)),
        (m, f, a) => {
            let frame = Term::tuple(vec![
                Term::atom("erlang"),
                Term::atom("apply"),
                Term::list(vec![m.clone(), f.clone(), a]),
                Term::nil(),
            ]);
            Err(Exception::error_with_stack(
                Term::atom("badarg"),
                Term::list(vec![frame]),
            ))
        }
    }
}
