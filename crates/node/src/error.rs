//! Error enums of the runtime API; each variant is a case where BEAM would raise `badarg`
//! (or `undef` for a missing MFA), named for what went wrong.

use etf::{Atom, Pid};

/// Why `register`/`unregister` failed (all `badarg` in Erlang).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error("name {0} is already registered to {1:?}")]
    NameTaken(Atom, Pid),
    #[error("{0:?} is already registered as {1}")]
    AlreadyNamed(Pid, Atom),
    #[error("{0:?} is not alive")]
    NotAlive(Pid),
    #[error("{0:?} is not a local process")]
    NotLocal(Pid),
    #[error("the name 'undefined' cannot be registered")]
    Undefined,
    #[error("name {0} is not registered")]
    NotRegistered(Atom),
}

/// Why a send failed. Sends to pids never fail (a dead pid drops the message, as in Erlang); a
/// send to a local name that is not registered is `badarg` in Erlang.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("no process registered as {0}")]
    NoProc(Atom),
}

/// Why `spawn_mfa` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SpawnError {
    /// No function registered under this module/function/arity (Erlang's `undef`).
    #[error("undefined function {0}:{1}/{2}")]
    Undef(Atom, Atom, usize),
    /// A spawn on another node failed: the reason from its SPAWN_REPLY (`noconnection`,
    /// `badarg`, `notsup`, ...).
    #[error("remote spawn failed: {0}")]
    Remote(Atom),
}

/// `Node::set_remote` was called twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the node's Remote is already set")]
pub struct RemoteAlreadySet;
