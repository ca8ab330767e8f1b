//! `Exception`: how a Rust function called as `M:F(Args)` raises, with Erlang's three classes
//! (`throw`, `exit`, `error` with a stack), and the exit reason each becomes when nobody catches it.

use crate::exit::ExitReason;
use etf::{Atom, Term};
use std::fmt;

/// The class of an Erlang exception (`Class:Reason:Stack` in a `catch` clause).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Throw,
    Exit,
    Error,
}

impl Class {
    /// `throw`, `exit` or `error`.
    pub fn atom(self) -> Atom {
        match self {
            Class::Throw => Atom::THROW,
            Class::Exit => Atom::new("exit"),
            Class::Error => Atom::ERROR,
        }
    }
}

/// An exception raised by a registered Rust function: `throw(T)`, `exit(X)` or
/// `error(Reason)` with a stack (`[{M, F, ArityOrArgs, Location}]`; empty means "fill in the
/// called function", which is what erpc shows for a function that raised in its own body).
#[derive(Clone, Debug, PartialEq)]
pub enum Exception {
    Throw(Term),
    Exit(Term),
    Error { reason: Term, stack: Term },
}

impl Exception {
    /// `throw(Term)`.
    pub fn throw(t: impl Into<Term>) -> Exception {
        Exception::Throw(t.into())
    }

    /// `exit(Reason)`.
    pub fn exit(reason: impl Into<Term>) -> Exception {
        Exception::Exit(reason.into())
    }

    /// `error(Reason)`; the stack is filled in with the called function.
    pub fn error(reason: impl Into<Term>) -> Exception {
        Exception::Error {
            reason: reason.into(),
            stack: Term::nil(),
        }
    }

    /// `erlang:raise(error, Reason, Stack)`.
    pub fn error_with_stack(reason: impl Into<Term>, stack: Term) -> Exception {
        Exception::Error {
            reason: reason.into(),
            stack,
        }
    }

    /// `undef` for `M:F(Args)`, with the stack BEAM shows: `[{M, F, Args, []}]`.
    pub fn undef(module: Atom, function: Atom, args: Vec<Term>) -> Exception {
        Exception::Error {
            reason: Term::Atom(Atom::UNDEF),
            stack: Term::list(vec![stack_frame(module, function, Term::List(args))]),
        }
    }

    pub fn class(&self) -> Class {
        match self {
            Exception::Throw(_) => Class::Throw,
            Exception::Exit(_) => Class::Exit,
            Exception::Error { .. } => Class::Error,
        }
    }

    /// The thrown value, exit reason or error reason.
    pub fn reason(&self) -> &Term {
        match self {
            Exception::Throw(t) | Exception::Exit(t) => t,
            Exception::Error { reason, .. } => reason,
        }
    }

    /// `error(undef)`?
    pub fn is_undef(&self) -> bool {
        matches!(self, Exception::Error { reason: Term::Atom(a), .. } if *a == Atom::UNDEF)
    }
}

/// `{M, F, ArityOrArgs, []}`: one stack frame without location.
pub(crate) fn stack_frame(module: Atom, function: Atom, arity_or_args: Term) -> Term {
    Term::tuple(vec![
        Term::Atom(module),
        Term::Atom(function),
        arity_or_args,
        Term::nil(),
    ])
}

/// The exit reason of a process that does not catch the exception, as on BEAM: `exit(X)` exits
/// with `X`, `error(E)` with `{E, Stack}`, `throw(T)` with `{{nocatch, T}, Stack}`.
impl From<Exception> for ExitReason {
    fn from(e: Exception) -> ExitReason {
        let t = match e {
            Exception::Exit(x) => x,
            Exception::Error { reason, stack } => Term::tuple(vec![reason, stack]),
            Exception::Throw(t) => Term::tuple(vec![
                Term::tuple(vec![Term::atom("nocatch"), t]),
                Term::nil(),
            ]),
        };
        ExitReason::from(t)
    }
}

/// `?` on an `ExitReason` inside a registered function exits with it.
impl From<ExitReason> for Exception {
    fn from(r: ExitReason) -> Exception {
        Exception::Exit(r.into_term())
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exception::Error { reason, stack } => {
                write!(f, "error: {} {}", reason.erlang(), stack.erlang())
            }
            other => write!(f, "{}: {}", other.class().atom(), other.reason().erlang()),
        }
    }
}

impl std::error::Error for Exception {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncaught_exceptions_become_beam_exit_reasons() {
        let r: ExitReason = Exception::exit(Term::atom("bye")).into();
        assert_eq!(r.into_term(), Term::atom("bye"));
        let r: ExitReason = Exception::error(Term::atom("badarg")).into();
        assert_eq!(
            r.into_term(),
            Term::tuple(vec![Term::atom("badarg"), Term::nil()])
        );
        let u = Exception::undef(Atom::new("m"), Atom::new("f"), vec![Term::Int(1)]);
        assert!(u.is_undef());
        assert_eq!(u.class().atom(), Atom::ERROR);
    }
}
