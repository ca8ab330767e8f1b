//! Distribution: a ferl node as a visible member of an Erlang cluster. `Node::start` (epmd,
//! listener, handshake table), the outbound `Remote` with auto-connect, inbound dispatch of
//! control messages, remote spawn, the system processes (`net_kernel`, `rex`) and the node API
//! (`connect`, `disconnect`, `nodes`, `ping`, `monitor_node`, `monitor_nodes`).

mod accept;
mod api;
mod batch;
mod dispatch;
mod peers;
mod remote;
mod signal;
mod spawn;
mod start;
mod system;
mod watch;

pub use api::Ping;
pub(crate) use remote::DistRemote;
pub use spawn::{SpawnReplyMode, SpawnRequestOpts};
pub use start::{NodeGuard, NodeName, StartError, StartOptions, DEFAULT_BUSY_WAIT};
pub use system::greet;
