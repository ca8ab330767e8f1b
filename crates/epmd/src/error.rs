//! Errors of the EPMD crate: what was wrong with bytes a peer sent (`DecodeError`) and what went
//! wrong talking to a port mapper (`EpmdError`).

use std::time::Duration;

/// What was wrong with bytes a peer sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("request has length 0")]
    EmptyRequest,
    #[error("request of {0} bytes is larger than the {max} allowed", max = crate::proto::MAX_REQUEST_LEN)]
    RequestTooLong(usize),
    #[error("unknown request tag {0}")]
    UnknownRequest(u8),
    #[error("message ended while reading {what}: needed {need} bytes, {have} left")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("{0} bytes left over after the message")]
    TrailingBytes(usize),
    #[error("empty node name")]
    EmptyName,
    #[error("node name of {0} bytes is longer than 255 characters")]
    NameTooLong(usize),
    #[error("node name contains a NUL byte")]
    NameHasNul,
    #[error("extra data of {0} bytes is too long")]
    ExtraTooLong(usize),
    #[error("{0} is not valid UTF-8")]
    NotUtf8(&'static str),
    #[error("expected {expected}, got tag {got}")]
    UnexpectedReply { expected: &'static str, got: u8 },
    #[error("malformed NAMES line {0:?}")]
    BadNamesLine(String),
}

/// What went wrong talking to a port mapper.
#[derive(Debug, thiserror::Error)]
pub enum EpmdError {
    /// EPMD refused ALIVE2: another node holds the name. BEAM's message for it comes from
    /// [`name_in_use_message`](crate::name_in_use_message), which needs the full node name.
    #[error("the name {name} seems to be in use by another Erlang node")]
    NameInUse { name: String },
    #[error("epmd refused to register {name} (result {result})")]
    Refused { name: String, result: u8 },
    #[error("invalid node name {name:?}: {reason}")]
    BadName { name: String, reason: DecodeError },
    #[error("cannot connect to epmd at {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("epmd did not answer within {0:?}")]
    Timeout(Duration),
    #[error("i/o error talking to epmd: {0}")]
    Io(#[from] std::io::Error),
    #[error("epmd sent a bad reply: {0}")]
    BadReply(#[from] DecodeError),
    #[error("epmd closed the connection before replying")]
    Closed,
    #[error("port {port} is taken by something that is not epmd")]
    NotEpmd { port: u16 },
    #[error("could not start an epmd on port {port}: {reason}")]
    StartFailed { port: u16, reason: String },
}

/// BEAM's text when the name is taken, for a full node name such as `bob@vm`:
/// `Protocol 'inet_tcp': the name bob@vm seems to be in use by another Erlang node`.
pub fn name_in_use_message(full_node_name: &str) -> String {
    format!(
        "Protocol 'inet_tcp': the name {full_node_name} seems to be in use by another Erlang node"
    )
}
