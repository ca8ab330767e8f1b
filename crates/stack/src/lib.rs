//! ferl-stack: the tutorial's stack server and client ("Distributed messaging with Elixir"),
//! written as a ferl user writes them, speaking the tutorial's exact messages so that Elixir
//! clients use a ferl server and ferl clients an Elixir server.
//!
//! * [`server::start`] is `Server.start`: a process registered as `:stack` with `:global`.
//! * [`client`] is `Client`: `connect`, `subscribe`, `unsubscribe`, `push`, `pop`, `get`.
//! * [`modules`] exposes both as the Elixir modules `Server` and `Client` (for the shell and
//!   for `:rpc.call` from any node).

pub mod client;
pub mod modules;
pub mod notify;
pub mod protocol;
pub mod server;
pub mod state;
mod text;

pub use client::{Client, ClientError};
pub use modules::{apply, install, Fault};
pub use protocol::{Notification, Request};
pub use server::{start, ServerError};
pub use text::interpolate;
