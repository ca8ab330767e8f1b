//! gen_server, the OTP client/server protocol, both ways: a Rust [`GenServer`] answers
//! `GenServer.call`/`cast` from Elixir (and ferl), and [`call`]/[`cast`] reach any gen_server.
//!
//! Wire shapes (research §4.3): a call is `{'$gen_call', From, Request}` with `From = {Pid, Tag}`
//! (`Tag` is `[alias|Mref]` from OTP 24+ callers, `{Ref, Node}` from `multi_call`, `Mref` from
//! ferl); the reply is `{Tag, Reply}`; a cast is `{'$gen_cast', Request}`.
//!
//! ```
//! use ferl::gen_server::{self, CallResponse, GenServer, ReplyTo};
//! use ferl::{Node, Process, Term};
//!
//! struct Counter(i64);
//!
//! impl GenServer for Counter {
//!     async fn handle_call(&mut self, req: Term, _from: ReplyTo, _p: &mut Process) -> CallResponse {
//!         if req.is_atom("bump") {
//!             self.0 += 1;
//!         }
//!         CallResponse::reply(self.0)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let node = Node::local("doc@localhost", 1);
//! let pid = gen_server::start(&node, Counter(0), Some("counter".into())).await.unwrap();
//! # let _ = pid;
//! # }
//! ```

mod call;
mod reply_to;
mod server;

pub use call::{call, cast, CallError, ServerRef};
pub use reply_to::ReplyTo;
pub use server::{start, start_link, CallResponse, GenServer, Next, StartError};

/// `gen_server:reply(From, Reply)`.
pub fn reply(p: &crate::Process, to: &ReplyTo, reply: impl Into<etf::Term>) {
    to.reply(p, reply);
}
