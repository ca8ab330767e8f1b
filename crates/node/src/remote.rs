//! The outbound seam to other nodes: the `Remote` trait the distribution layer implements, the
//! `NoRemote` stand-in for a node without distribution, and `MonitorTarget`.
//! The inbound side (signals arriving from other nodes) is in `inbound.rs`.

use etf::{Atom, Pid, Ref, Term};
use std::future::Future;
use std::pin::Pin;

/// What a process awaits while the connection it sends over is busy (see `Remote::busy`).
pub type BusyDistWait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The node a signal must go to is not connected (and will not be): the runtime then produces
/// `noconnection` locally, as BEAM does for an unreachable node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no connection to node")]
pub struct NoConnection;

/// What a monitor watches: a pid, or a registered name on a node (`{Name, Node}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MonitorTarget {
    Pid(Pid),
    Name(Atom, Atom),
}

impl MonitorTarget {
    pub fn node(&self) -> Atom {
        match self {
            MonitorTarget::Pid(p) => p.node,
            MonitorTarget::Name(_, node) => *node,
        }
    }

    /// The item in a DOWN message: `Pid` or `{Name, Node}`.
    pub fn to_term(&self) -> Term {
        match self {
            MonitorTarget::Pid(p) => Term::Pid(*p),
            MonitorTarget::Name(name, node) => {
                Term::tuple(vec![Term::Atom(*name), Term::Atom(*node)])
            }
        }
    }
}

/// Signals from local processes to processes (or names) on other nodes. Implemented by the
/// distribution layer; every method must return quickly (queue, never block on the network).
///
/// Per-pair order: calls for one (from, to) pair arrive here in the order the local process made
/// them and must reach the peer in that order.
///
/// The message sends return whether the connection now has its busy limit or more queued, as
/// BEAM's busy distribution port: BEAM suspends a sender whose send finds it so, and the
/// runtime notes it for the sender's `Process::suspend_while_busy`.
///
/// Methods returning `Result` say whether the signal can be delivered at all: `Err(NoConnection)`
/// makes the runtime produce `noconnection` at once (EXIT for a link, DOWN for a monitor). If a
/// connection is lost later, the distribution layer calls `Node::connection_lost`.
pub trait Remote: Send + Sync {
    /// SEND_SENDER (22). Undeliverable messages are dropped, as in Erlang.
    fn send(&self, from: Pid, to: Pid, msg: Term) -> bool;
    /// `send` of a message the sender keeps (`Process::send_ref`): a distribution layer
    /// encodes it as it is, without a copy.
    fn send_ref(&self, from: Pid, to: Pid, msg: &Term) -> bool {
        self.send(from, to, msg.clone())
    }
    /// ALIAS_SEND (33) to a remote process alias (the alias ref names its node).
    fn alias_send(&self, from: Pid, alias: Ref, msg: Term) -> bool;
    /// REG_SEND (6) to `name` on `node`.
    fn reg_send(&self, from: Pid, node: Atom, name: Atom, msg: Term) -> bool;
    /// `reg_send` of a message the sender keeps (see `send_ref`).
    fn reg_send_ref(&self, from: Pid, node: Atom, name: Atom, msg: &Term) -> bool {
        self.reg_send(from, node, name, msg.clone())
    }
    /// LINK (1) from local `from` to remote `to`.
    fn link(&self, from: Pid, to: Pid) -> Result<(), NoConnection>;
    /// UNLINK (UNLINK_ID 35) from local `from` to remote `to`.
    fn unlink(&self, from: Pid, to: Pid);
    /// EXIT2 (8/26): `exit(To, Reason)` called by local `from`.
    fn exit(&self, from: Pid, to: Pid, reason: Term);
    /// EXIT (3/24): local `from`, linked to remote `to`, died with `reason`.
    fn link_exit(&self, from: Pid, to: Pid, reason: Term);
    /// MONITOR_P (19): local `watcher` monitors `target` (a remote pid or `{Name, Node}`).
    fn monitor(&self, watcher: Pid, target: MonitorTarget, r: Ref) -> Result<(), NoConnection>;
    /// DEMONITOR_P (20).
    fn demonitor(&self, watcher: Pid, target: MonitorTarget, r: Ref);
    /// MONITOR_P_EXIT (21/28): a local process watched by remote `watcher` died. `target` is
    /// `Pid` for pid monitors and `Name(name, this_node)` for monitors by name (send the name
    /// atom on the wire then).
    fn monitor_down(&self, target: MonitorTarget, watcher: Pid, r: Ref, reason: Term);
    /// BEAM's busy distribution port: when the connection to `node` has at least its busy
    /// limit queued, the wait that ends once it has less (or is gone); `None` when it is not
    /// busy, or there is no connection. Called after sends, so the common answer is cheap.
    fn busy(&self, _node: Atom) -> Option<BusyDistWait> {
        None
    }
}

/// The `Remote` of a node without distribution: messages to other nodes are dropped and links
/// and monitors to them fail with `noconnection` at once.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoRemote;

impl Remote for NoRemote {
    fn send(&self, _from: Pid, to: Pid, _msg: Term) -> bool {
        tracing::debug!(?to, "no distribution: message to remote pid dropped");
        false
    }
    fn alias_send(&self, _from: Pid, alias: Ref, _msg: Term) -> bool {
        tracing::debug!(?alias, "no distribution: message to remote alias dropped");
        false
    }
    fn reg_send(&self, _from: Pid, node: Atom, name: Atom, _msg: Term) -> bool {
        tracing::debug!(%node, %name, "no distribution: message to remote name dropped");
        false
    }
    fn link(&self, _from: Pid, _to: Pid) -> Result<(), NoConnection> {
        Err(NoConnection)
    }
    fn unlink(&self, _from: Pid, _to: Pid) {}
    fn exit(&self, _from: Pid, _to: Pid, _reason: Term) {}
    fn link_exit(&self, _from: Pid, _to: Pid, _reason: Term) {}
    fn monitor(&self, _w: Pid, _t: MonitorTarget, _r: Ref) -> Result<(), NoConnection> {
        Err(NoConnection)
    }
    fn demonitor(&self, _w: Pid, _t: MonitorTarget, _r: Ref) {}
    fn monitor_down(&self, _t: MonitorTarget, _w: Pid, _r: Ref, _reason: Term) {}
}
