//! The client side of gen_server: `call` as `gen:do_call/4` does it (monitor the server, send
//! `{'$gen_call', {self(), [alias|A]}, Request}`, wait for `{[alias|A], Reply}` or the DOWN),
//! and `cast`.
//! Failures are gen_server's exit reasons: `noproc`, `{nodedown, Node}`, `timeout`, the server's.

use crate::process::Process;
use etf::{Atom, Pid, Ref, Term};
use std::time::Duration;

/// Who to call: a pid, a locally registered name, or `{Name, Node}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerRef {
    Pid(Pid),
    Name(Atom),
    At(Atom, Atom),
}

impl ServerRef {
    /// As written in Erlang: `Pid`, `Name` or `{Name, Node}`.
    pub fn to_term(&self) -> Term {
        match self {
            ServerRef::Pid(p) => Term::Pid(*p),
            ServerRef::Name(n) => Term::Atom(*n),
            ServerRef::At(n, node) => Term::tuple(vec![Term::Atom(*n), Term::Atom(*node)]),
        }
    }
}

impl From<Pid> for ServerRef {
    fn from(p: Pid) -> ServerRef {
        ServerRef::Pid(p)
    }
}

impl From<Atom> for ServerRef {
    fn from(a: Atom) -> ServerRef {
        ServerRef::Name(a)
    }
}

impl From<&str> for ServerRef {
    fn from(s: &str) -> ServerRef {
        ServerRef::Name(Atom::new(s))
    }
}

impl From<(Atom, Atom)> for ServerRef {
    fn from((name, node): (Atom, Atom)) -> ServerRef {
        ServerRef::At(name, node)
    }
}

/// Why `call` got no reply (the `Reason` of gen_server's `exit({Reason, {gen_server, call, ...}})`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CallError {
    /// No such process or name: `noproc`.
    #[error("noproc")]
    NoProc,
    /// The server's node went down or could not be reached: `{nodedown, Node}`.
    #[error("nodedown {0}")]
    NodeDown(Atom),
    /// No reply in time: `timeout`.
    #[error("timeout")]
    Timeout,
    /// A process called itself: `calling_self`.
    #[error("calling_self")]
    CallingSelf,
    /// The server exited with this reason before replying.
    #[error("server exited: {}", .0.erlang())]
    Exit(Term),
}

impl CallError {
    /// The exit reason as gen_server has it: `noproc`, `{nodedown, N}`, `timeout`, ...
    pub fn reason(&self) -> Term {
        match self {
            CallError::NoProc => Term::Atom(Atom::NOPROC),
            CallError::NodeDown(n) => Term::tuple(vec![Term::atom("nodedown"), Term::Atom(*n)]),
            CallError::Timeout => Term::atom("timeout"),
            CallError::CallingSelf => Term::atom("calling_self"),
            CallError::Exit(r) => r.clone(),
        }
    }

    pub fn is_noproc(&self) -> bool {
        matches!(self, CallError::NoProc)
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, CallError::Timeout)
    }
}

/// `gen_server:call(Server, Request, Timeout)` (`None` waits forever). A reply that comes after
/// the timeout is dropped.
pub async fn call(
    p: &mut Process,
    server: impl Into<ServerRef>,
    request: impl Into<Term>,
    timeout: Option<Duration>,
) -> Result<Term, CallError> {
    let server = server.into();
    let here = p.node().name();
    // gen:do_for_proc: a local name is resolved first; unregistered is noproc at once.
    let local = |n: Atom| p.node().whereis(n).ok_or(CallError::NoProc);
    let target = match server {
        ServerRef::Pid(pid) => Ok(pid),
        ServerRef::Name(n) => Ok(local(n)?),
        ServerRef::At(n, node) if node == here => Ok(local(n)?),
        ServerRef::At(n, node) => Err((n, node)),
    };
    // The tag is `[alias|A]`, as OTP 24+ callers send: once we stop waiting and drop the
    // alias, a late reply is dropped instead of lingering in our mailbox.
    let alias = p.alias();
    let from = Term::tuple(vec![Term::Pid(p.pid()), alias_tag(alias)]);
    let msg = Term::tuple(vec![Term::Atom(Atom::GEN_CALL), from, request.into()]);
    let (mref, node) = match target {
        Ok(pid) if pid == p.pid() => {
            p.unalias(alias);
            return Err(CallError::CallingSelf);
        }
        Ok(pid) => {
            let mref = p.monitor(pid);
            p.send(pid, msg);
            (mref, pid.node)
        }
        Err((n, node)) => {
            let mref = p.monitor_name_at(n, node);
            let _ = p.send_to(n, node, msg);
            (mref, node)
        }
    };
    let is_answer = |m: &Term| match m.as_tuple() {
        Some([tag, _]) => is_alias_tag(tag, alias),
        Some([Term::Atom(t), Term::Ref(r), _, _, _]) => *t == Atom::DOWN && *r == mref,
        _ => false,
    };
    let Some(answer) = p.receive_if(is_answer, timeout).await else {
        p.demonitor_flush(mref);
        p.unalias(alias);
        // A reply that made it in before we gave up still counts (gen.erl does the same).
        let late = p.receive_if(is_answer, Some(Duration::ZERO)).await;
        return late.map(take_last).ok_or(CallError::Timeout);
    };
    p.unalias(alias);
    let is_reply = matches!(answer.as_tuple(), Some(t) if t.len() == 2);
    let last = take_last(answer);
    if is_reply {
        p.demonitor_flush(mref);
        return Ok(last);
    }
    Err(match last.as_atom() {
        Some(a) if a == Atom::NOCONNECTION => CallError::NodeDown(node),
        Some(a) if a == Atom::NOPROC => CallError::NoProc,
        _ => CallError::Exit(last),
    })
}

/// `[alias|A]`.
fn alias_tag(a: Ref) -> Term {
    Term::ImproperList(vec![Term::Atom(Atom::ALIAS)], Box::new(Term::Ref(a)))
}

fn is_alias_tag(t: &Term, a: Ref) -> bool {
    match t {
        Term::ImproperList(head, tail) => {
            matches!(head.as_slice(), [Term::Atom(x)] if *x == Atom::ALIAS)
                && matches!(**tail, Term::Ref(r) if r == a)
        }
        _ => false,
    }
}

/// The reply of `{Mref, Reply}` or the reason of a DOWN.
fn take_last(t: Term) -> Term {
    match t {
        Term::Tuple(mut items) => items.pop().unwrap_or_else(Term::nil),
        other => other,
    }
}

/// `gen_server:cast(Server, Request)`: sends `{'$gen_cast', Request}`; never fails.
pub fn cast(p: &Process, server: impl Into<ServerRef>, request: impl Into<Term>) {
    let msg = Term::tuple(vec![Term::Atom(Atom::GEN_CAST), request.into()]);
    match server.into() {
        ServerRef::Pid(pid) => p.send(pid, msg),
        ServerRef::Name(n) => {
            let _ = p.send_name(n, msg);
        }
        ServerRef::At(n, node) => {
            let _ = p.send_to(n, node, msg);
        }
    }
}
