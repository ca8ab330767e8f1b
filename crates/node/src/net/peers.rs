//! The outbound routing table: per peer node either a live connection (with its negotiated
//! flags and UNLINK_ID counter) or a pending connect with the signals queued for it, in order.
//! Sends take only the read lock; the write lock is for connection changes and queueing.

use super::signal::Signal;
use crate::table::IdHasher;
use dist::ConnectionHandle;
use etf::{Atom, Pid, Term};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::watch;

/// A live connection as the senders see it.
pub(crate) struct Peer {
    pub(crate) handle: ConnectionHandle,
    flags: u64,
    unlink_ids: AtomicU64,
}

impl Peer {
    pub(crate) fn new(handle: ConnectionHandle) -> Peer {
        Peer {
            flags: handle.outcome().flags,
            handle,
            unlink_ids: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        !self.handle.is_closed()
    }

    /// Encodes (on the caller's task) and queues on the connection. A connection that just
    /// closed drops the signal, as BEAM does; its Closed event produces `noconnection`.
    pub(crate) fn send(&self, s: Signal) {
        let m = s.into_message(self.flags, || {
            self.unlink_ids.fetch_add(1, Ordering::Relaxed) + 1
        });
        if self.handle.send(&m).is_err() {
            tracing::debug!(
                "signal to {} dropped: connection closed",
                self.handle.peer()
            );
        }
    }

    /// `from ! msg` to `to` on this connection, encoded from `msg` itself (see
    /// `Process::send_ref`).
    pub(crate) fn send_ref(&self, from: Pid, to: Pid, msg: &Term) {
        self.send_kept(&super::signal::send_control(self.flags, from, to), msg);
    }

    /// `{name, node} ! msg` from `from` on this connection, encoded from `msg` itself (see
    /// `Process::send_to_ref`).
    pub(crate) fn reg_send_ref(&self, from: Pid, name: Atom, msg: &Term) {
        self.send_kept(&super::signal::reg_send_control(from, name), msg);
    }

    fn send_kept(&self, control: &dist::ControlMessage, msg: &Term) {
        if self.handle.send_parts(control, Some(msg)).is_err() {
            tracing::debug!(
                "message to {} dropped: connection closed",
                self.handle.peer()
            );
        }
    }
}

/// The result of a connect attempt, for whoever waits on it (`Node::connect`).
pub(crate) type ConnectDone = watch::Sender<Option<bool>>;

pub(crate) enum Slot {
    Up(Arc<Peer>),
    /// Connecting: signals wait here and go out in order once connected. `bytes` estimates
    /// their encoded size, so that a sender is suspended here too once it reaches the busy
    /// limit (`Remote::busy`), as BEAM suspends it on a connection that is still being set up.
    Pending {
        queue: Vec<Signal>,
        bytes: usize,
        done: ConnectDone,
    },
}

/// Peers by node name. Keyed by atom index with `IdHasher`: every remote send looks its peer up
/// (and a sender that checks for a busy connection, twice), and SipHash was 4% of a sending
/// node in row (b).
type PeerMap = HashMap<Atom, Slot, BuildHasherDefault<IdHasher>>;

#[derive(Default)]
pub(crate) struct PeerTable {
    map: RwLock<PeerMap>,
}

impl PeerTable {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, PeerMap> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, PeerMap> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Forget connection `conn` to `peer` (it closed); a newer entry stays.
    pub(crate) fn remove_conn(&self, peer: Atom, conn: u64) {
        let mut map = self.write();
        if matches!(map.get(&peer), Some(Slot::Up(p)) if p.handle.id() == conn) {
            map.remove(&peer);
        }
    }
}
