//! ferl: Erlang-style processes for Rust, on a node that can join a real Erlang/Elixir cluster.
//!
//! A [`Node`] hosts processes. A process is a tokio task with a mailbox: it has a [`Pid`],
//! receives [`Term`]s with selective receive (non-matching messages stay, in order), can
//! register a name, link to and monitor other processes, trap exits, and dies with an
//! [`ExitReason`] that its links and monitors see (a panic is a crash of that process only:
//! `{panic, <<"message">>}`). Messages between a pair of processes keep their order.
//!
//! A process body is `|p: Process| async move { ... }`. It may return `()` (exit `normal`), an
//! [`ExitReason`] or [`Term`] (exit with it), or a `Result` (`Err(reason)` exits with the
//! reason). A body that never returns (`loop { ... }`) has type `!`, which Rust cannot use here:
//! end it with `std::future::pending::<()>().await` or give it a `return` path. Exit signals stop
//! a process at its next `.await`, whatever it is waiting on.
//!
//! The seams to the distribution layer are [`Remote`] (outbound signals, implemented by `dist`)
//! and the `Node` methods `deliver`, `deliver_reg`, `signal_*` and `connection_lost` (inbound).
//!
//! ```
//! use ferl::{Node, Process, Term};
//! use ferl::etf::Atom;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let node = Node::local("demo@localhost", 1);
//!
//! // A process that answers every {ping, From} with pong, until it gets stop.
//! let ponger = node.spawn(|mut p: Process| async move {
//!     loop {
//!         let msg = p.receive().await;
//!         match msg.as_tuple() {
//!             Some([tag, Term::Pid(from)]) if tag.is_atom("ping") => p.send(*from, Term::atom("pong")),
//!             _ if msg.is_atom("stop") => return,
//!             _ => {}
//!         }
//!     }
//! });
//!
//! let (tx, rx) = tokio::sync::oneshot::channel();
//! node.spawn(move |mut p: Process| async move {
//!     p.send(ponger, Term::tuple(vec![Term::atom("ping"), Term::Pid(p.pid())]));
//!     let reply = p.receive().await;
//!     p.send(ponger, Term::atom("stop"));
//!     let _ = tx.send(reply);
//! });
//! assert!(rx.await.unwrap().is_atom("pong"));
//! # let _ = Atom::OK;
//! # }
//! ```

mod alias;
mod cell;
mod error;
mod exception;
mod exit;
pub mod gen_server;
pub mod global;
mod inbound;
mod link;
mod mailbox;
mod mfa;
mod monitor;
pub mod net;
mod node;
mod pidfmt;
mod process;
mod receive;
mod registry;
mod remote;
mod remote_index;
pub mod rpc;
mod spawn;
mod supervise;
mod table;
mod terminate;

pub use crate::error::{RegisterError, RemoteAlreadySet, SendError, SpawnError};
pub use crate::exception::{Class, Exception};
pub use crate::exit::{ExitReason, IntoExitReason};
pub use crate::mfa::{MfaFn, MfaFuture};
pub use crate::net::{
    NodeGuard, NodeName, Ping, SpawnReplyMode, SpawnRequestOpts, StartError, StartOptions,
    DEFAULT_BUSY_WAIT,
};
pub use crate::node::{Node, NodeConfig, WeakNode};
pub use crate::process::Process;
pub use crate::remote::{BusyDistWait, MonitorTarget, NoConnection, NoRemote, Remote};
pub use crate::spawn::SpawnOpts;
pub use etf;
pub use etf::{Atom, Pid, Ref, Term};
