//! ferl-dist: the Erlang distribution protocol (v6, OTP 25): flags, cookie, the handshake as
//! sans-I/O state machines, 4-byte framing and control messages, plus a small tokio driver per
//! connection and a connection table that applies `net_kernel`'s simultaneous-connect rules.
//!
//! Layers, bottom up:
//! - sans-I/O: [`flags`], [`cookie`], [`handshake_msg`] + [`handshake`] (`Initiator`,
//!   `Acceptor`), [`frame`], [`atom_cache`] (the distribution header's atom cache),
//!   [`control`] (`ControlMessage`, `Message`), `last_traffic` (a stream's repeated header
//!   and control message, copied from its last packet).
//! - tokio: [`handshake_io`] (`connect`, `accept`, with the 7 s per-step setup timeout),
//!   [`connection`] (`spawn` -> `ConnectionHandle`, reader/writer/ticker tasks, `Event`s to an
//!   `EventSink` called on the connection's own task, senders encoding into its outbox;
//!   `low_water`: a one-way stream of small segments read in chunks).
//! - [`net`]: `Net`, a table keyed by peer name: `connect`, `accept`/`serve`, `get`, `peers`;
//!   at most one connection per peer.

pub mod atom_cache;
pub mod busy_wait;
pub mod connection;
pub mod control;
pub mod cookie;
pub mod flags;
pub mod frame;
pub mod handshake;
pub mod handshake_io;
pub mod handshake_msg;
mod last_traffic;
mod low_water;
pub mod net;
mod outbox;

pub use atom_cache::{AtomCache, HeaderError};
pub use connection::{
    CloseReason, Closed, ConnectionConfig, ConnectionHandle, Event, EventSink, Malformed,
};
pub use control::{ControlError, ControlMessage, Message, ProcRef};
pub use cookie::{Cookie, CookieError};
pub use frame::{Frame, FrameError};
pub use handshake::{
    AcceptDecision, Acceptor, HandshakeConfig, HandshakeError, Initiator, Outcome, Step,
};
pub use handshake_io::{AcceptAll, AcceptPolicy, Established, SetupConfig, SetupError};
pub use last_traffic::LastTraffic;
pub use net::{Net, NetError};
