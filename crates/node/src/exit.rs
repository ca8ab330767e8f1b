//! Exit reasons: the term a process dies with, and how a process body's return value becomes one
//! (`()` and `Ok(())` are `normal`, `Err(reason)` is that reason, a panic is `{panic, <<"msg">>}`).

use etf::{Atom, Term};
use std::any::Any;
use std::fmt;

/// Why a process exited: any term, as in Erlang. `normal` is the only reason that does not take
/// linked, non-trapping processes down with it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExitReason(Term);

impl ExitReason {
    /// `normal`.
    pub fn normal() -> ExitReason {
        ExitReason(Term::Atom(Atom::NORMAL))
    }

    /// `kill`: as an exit signal (`exit(Pid, kill)`) it cannot be trapped.
    pub fn kill() -> ExitReason {
        ExitReason(Term::Atom(Atom::KILL))
    }

    /// `killed`: the reason of a process that got an untrappable `kill`.
    pub fn killed() -> ExitReason {
        ExitReason(Term::Atom(Atom::KILLED))
    }

    /// `noproc`: the target of a link or monitor does not exist.
    pub fn noproc() -> ExitReason {
        ExitReason(Term::Atom(Atom::NOPROC))
    }

    /// `noconnection`: the target lives on a node we lost (or never had) a connection to.
    pub fn noconnection() -> ExitReason {
        ExitReason(Term::Atom(Atom::NOCONNECTION))
    }

    /// An atom reason, e.g. `ExitReason::atom("shutdown")`.
    pub fn atom(name: &str) -> ExitReason {
        ExitReason(Term::atom(name))
    }

    /// The reason a panicking process exits with: `{panic, <<"message">>}` (Elixir sees
    /// `{:panic, "message"}`), so BEAM peers can pattern-match it like any crash reason.
    pub fn panic(message: &str) -> ExitReason {
        ExitReason(Term::tuple(vec![
            Term::atom("panic"),
            Term::binary(message.as_bytes()),
        ]))
    }

    pub(crate) fn from_panic_payload(payload: &(dyn Any + Send)) -> ExitReason {
        let msg = if let Some(s) = payload.downcast_ref::<&'static str>() {
            s
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.as_str()
        } else {
            "Box<dyn Any>"
        };
        ExitReason::panic(msg)
    }

    pub fn is_normal(&self) -> bool {
        self.is_atom(Atom::NORMAL)
    }

    pub fn is_kill(&self) -> bool {
        self.is_atom(Atom::KILL)
    }

    fn is_atom(&self, a: Atom) -> bool {
        matches!(self.0, Term::Atom(x) if x == a)
    }

    pub fn as_term(&self) -> &Term {
        &self.0
    }

    pub fn into_term(self) -> Term {
        self.0
    }
}

impl From<Term> for ExitReason {
    fn from(t: Term) -> ExitReason {
        ExitReason(t)
    }
}

impl From<Atom> for ExitReason {
    fn from(a: Atom) -> ExitReason {
        ExitReason(Term::Atom(a))
    }
}

impl From<ExitReason> for Term {
    fn from(r: ExitReason) -> Term {
        r.0
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// What a process body may return: `()` (exit `normal`), an [`ExitReason`] or a [`Term`] (exit
/// with it), or a `Result` whose `Ok` is `normal` and whose `Err` is the reason.
pub trait IntoExitReason {
    fn into_exit_reason(self) -> ExitReason;
}

impl IntoExitReason for () {
    fn into_exit_reason(self) -> ExitReason {
        ExitReason::normal()
    }
}

impl IntoExitReason for ExitReason {
    fn into_exit_reason(self) -> ExitReason {
        self
    }
}

impl IntoExitReason for Term {
    fn into_exit_reason(self) -> ExitReason {
        ExitReason(self)
    }
}

impl<T, E: Into<ExitReason>> IntoExitReason for Result<T, E> {
    fn into_exit_reason(self) -> ExitReason {
        match self {
            Ok(_) => ExitReason::normal(),
            Err(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_results_map_to_reasons() {
        assert!(().into_exit_reason().is_normal());
        assert!(Ok::<(), Term>(()).into_exit_reason().is_normal());
        let r = Err::<(), Term>(Term::atom("boom")).into_exit_reason();
        assert_eq!(r.as_term(), &Term::atom("boom"));
        let p = ExitReason::from_panic_payload(&String::from("oops"));
        assert_eq!(
            p.into_term(),
            Term::tuple(vec![Term::atom("panic"), Term::binary(b"oops")])
        );
    }
}
