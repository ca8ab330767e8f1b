//! The typed result of a remote call, `Result<Term, RpcError>`, decoded from what erpc delivers
//! (an execute_call exit reason, a spawn error, a timeout), and rendered back exactly as
//! `rpc:call` returns it or `erpc:call` raises it (rpc.erl `rpcify_exception/2`, erpc.erl `result/4`).

use crate::exception::{Class, Exception};
use etf::{Atom, Ref, Term};

/// What `rpc::call` returns: the function's value, or why there is none.
pub type RpcResult = Result<Term, RpcError>;

/// Why a remote call gave no value.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RpcError {
    /// The node is down or unreachable: `{badrpc, nodedown}` (erpc: `{erpc, noconnection}`).
    #[error("node down")]
    NodeDown,
    /// No answer in time: `{badrpc, timeout}` (erpc: `{erpc, timeout}`).
    #[error("timeout")]
    Timeout,
    /// The function raised (a missing function is `error undef`).
    #[error("exception {0}")]
    Exception(Exception),
    /// The process running the call died of something else, e.g. killed: erpc's
    /// `exit({signal, Reason})`, `{badrpc, {'EXIT', Reason}}` from rpc.
    #[error("call process died: {}", .0.erlang())]
    Signal(Term),
    /// erpc refused or could not start the call: `{erpc, Reason}` (`notsup`, `badarg`,
    /// `system_limit`, a spawn error).
    #[error("erpc error: {}", .0.erlang())]
    Erpc(Term),
}

impl RpcError {
    pub fn is_nodedown(&self) -> bool {
        matches!(self, RpcError::NodeDown)
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, RpcError::Timeout)
    }

    /// The function (or module, or arity) does not exist on the callee.
    pub fn is_undef(&self) -> bool {
        matches!(self, RpcError::Exception(e) if e.is_undef())
    }

    /// The exception the callee raised, if that is what happened.
    pub fn exception(&self) -> Option<&Exception> {
        match self {
            RpcError::Exception(e) => Some(e),
            _ => None,
        }
    }

    /// An erpc error reason, normalised: `noconnection` and `timeout` get their own variants.
    pub(crate) fn erpc(reason: Term) -> RpcError {
        match reason.as_atom() {
            Some(a) if a == Atom::NOCONNECTION => RpcError::NodeDown,
            Some(a) if a.as_str() == "timeout" => RpcError::Timeout,
            _ => RpcError::Erpc(reason),
        }
    }

    /// Exactly what `rpc:call` returns for this outcome (a thrown value is returned as is).
    pub fn to_term(&self) -> Term {
        let badrpc = |t: Term| Term::tuple(vec![Term::Atom(Atom::BADRPC), t]);
        let exit = |t: Term| badrpc(Term::tuple(vec![Term::Atom(Atom::EXIT), t]));
        match self {
            RpcError::NodeDown => badrpc(Term::atom("nodedown")),
            RpcError::Timeout => badrpc(Term::atom("timeout")),
            RpcError::Exception(Exception::Throw(t)) => {
                if is_exit_tuple(t) {
                    badrpc(t.clone())
                } else {
                    t.clone()
                }
            }
            RpcError::Exception(Exception::Exit(x)) => exit(x.clone()),
            RpcError::Exception(Exception::Error { reason, stack }) => {
                exit(Term::tuple(vec![reason.clone(), stack.clone()]))
            }
            RpcError::Signal(r) => exit(r.clone()),
            RpcError::Erpc(r) if r.is_atom("notsup") => badrpc(r.clone()),
            RpcError::Erpc(r) => exit(r.clone()),
        }
    }

    /// What `erpc:call` raises for this outcome: `(Class, Reason)`.
    pub fn to_erpc_exception(&self) -> (Class, Term) {
        let erpc = |t: Term| Term::tuple(vec![Term::atom("erpc"), t]);
        match self {
            RpcError::NodeDown => (Class::Error, erpc(Term::Atom(Atom::NOCONNECTION))),
            RpcError::Timeout => (Class::Error, erpc(Term::atom("timeout"))),
            RpcError::Exception(Exception::Throw(t)) => (Class::Throw, t.clone()),
            RpcError::Exception(Exception::Exit(x)) => (
                Class::Exit,
                Term::tuple(vec![Term::atom("exception"), x.clone()]),
            ),
            RpcError::Exception(Exception::Error { reason, stack }) => (
                Class::Error,
                Term::tuple(vec![Term::atom("exception"), reason.clone(), stack.clone()]),
            ),
            RpcError::Signal(r) => (
                Class::Exit,
                Term::tuple(vec![Term::atom("signal"), r.clone()]),
            ),
            RpcError::Erpc(r) => (Class::Error, erpc(r.clone())),
        }
    }
}

/// Exactly what `rpc:call` returns for `result` (a value `{'EXIT', _}` becomes a badrpc, as
/// rpc.erl does so that callers can tell it from a crash).
pub fn to_term(result: &RpcResult) -> Term {
    match result {
        Ok(v) if is_exit_tuple(v) => Term::tuple(vec![Term::Atom(Atom::BADRPC), v.clone()]),
        Ok(v) => v.clone(),
        Err(e) => e.to_term(),
    }
}

fn is_exit_tuple(t: &Term) -> bool {
    matches!(t.as_tuple(), Some([Term::Atom(a), _]) if *a == Atom::EXIT)
}

/// `erpc:result(down, ...)`: the reason the execute_call process (tagged `res`) exited with.
pub(crate) fn from_down(res: &Ref, reason: Term) -> RpcResult {
    let Term::Tuple(items) = reason else {
        return Err(match reason.as_atom() {
            Some(a) if a == Atom::NOCONNECTION => RpcError::NodeDown,
            _ => RpcError::Signal(reason),
        });
    };
    let tagged = matches!(items.first(), Some(Term::Ref(r)) if r == res);
    let kind = match items.get(1) {
        Some(Term::Atom(a)) if tagged => a.as_str(),
        _ => return Err(RpcError::Signal(Term::Tuple(items))),
    };
    let mut it = items.into_iter().skip(2);
    match (kind, it.next(), it.next(), it.next()) {
        ("return", Some(v), None, None) => Ok(v),
        ("throw", Some(t), None, None) => Err(RpcError::Exception(Exception::Throw(t))),
        ("exit", Some(x), None, None) => Err(RpcError::Exception(Exception::Exit(x))),
        ("error", Some(reason), Some(stack), None) => {
            Err(RpcError::Exception(Exception::Error { reason, stack }))
        }
        // `{Res, error, {erpc, Reason}}`: an argument error erpc reports as its own.
        ("error", Some(Term::Tuple(e)), None, None) if e.len() == 2 && e[0].is_atom("erpc") => {
            Err(RpcError::erpc(e[1].clone()))
        }
        (kind, a, b, c) => {
            let mut v = vec![Term::Ref(*res), Term::atom(kind)];
            v.extend([a, b, c].into_iter().flatten());
            Err(RpcError::Signal(Term::Tuple(v)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res() -> Ref {
        Ref::new(Atom::new("a@h"), 1, &[1, 2, 3])
    }

    #[test]
    fn exit_reasons_map_like_erpc_result() {
        let r = res();
        let t = |v: Vec<Term>| Term::tuple(v);
        let ok = from_down(
            &r,
            t(vec![Term::Ref(r), Term::atom("return"), Term::Int(1)]),
        );
        assert_eq!(ok, Ok(Term::Int(1)));
        let thr = from_down(&r, t(vec![Term::Ref(r), Term::atom("throw"), Term::Int(2)]));
        assert_eq!(to_term(&thr), Term::Int(2));
        let undef = Exception::undef(Atom::new("m"), Atom::new("f"), vec![]);
        let e = RpcError::Exception(undef);
        assert!(e.is_undef());
        assert_eq!(
            e.to_term().erlang().to_string(),
            "{badrpc,{'EXIT',{undef,[{m,f,[],[]}]}}}"
        );
        assert!(from_down(&r, Term::atom("noconnection"))
            .unwrap_err()
            .is_nodedown());
        let other = from_down(&r, Term::atom("killed")).unwrap_err();
        assert_eq!(
            other.to_term().erlang().to_string(),
            "{badrpc,{'EXIT',killed}}"
        );
        let exit_value = Term::tuple(vec![Term::atom("EXIT"), Term::Int(1)]);
        assert_eq!(
            to_term(&Ok(exit_value)).erlang().to_string(),
            "{badrpc,{'EXIT',1}}"
        );
        assert_eq!(
            RpcError::erpc(Term::atom("notsup"))
                .to_term()
                .erlang()
                .to_string(),
            "{badrpc,notsup}"
        );
    }
}
