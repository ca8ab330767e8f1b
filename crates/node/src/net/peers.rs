//! The outbound routing table: per peer node either a live connection (with its negotiated
//! flags and UNLINK_ID counter) or a pending connect with the signals queued for it, in order.
//! Sends take only the read lock, or not even that: each thread remembers its last route, which
//! holds while the table has not changed (`with_up`). The write lock is for connection changes
//! and queueing.

use super::signal::Signal;
use crate::table::IdHasher;
use dist::ConnectionHandle;
use etf::{Atom, Pid, Term};
use std::cell::RefCell;
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

pub(crate) struct PeerTable {
    map: RwLock<PeerMap>,
    /// Changes, under the write lock, before the map may change (see `GENERATIONS`).
    generation: AtomicU64,
}

/// Where the generations of every peer table in the process come from: no two tables, and no
/// two states of one table, share a generation, so a remembered (table, generation) names one
/// state of one table, even after that table is gone and another took its address.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, Ordering::Relaxed)
}

/// A thread's last route: through which peer of which table, in which state, it sent to `node`.
struct Route {
    table: usize,
    generation: u64,
    node: Atom,
    peer: Arc<Peer>,
}

thread_local! {
    /// Why: every remote send looked its peer up under the table's read lock, whose counter
    /// moved between the threads of senders on several (bench row (d), four senders on two
    /// threads: the lock was 10-14% of the sending node). A process sends to the same node
    /// again and again, and the processes of one thread mostly to the same few. Holding the
    /// peer keeps a closed connection's memory (not its socket, which closing releases) until
    /// the thread's next remote send. Connections are closed by their node (`stop`,
    /// `disconnect`, a failure); a distributed node's own processes keep it alive, so it is
    /// never the last handle going that closes them.
    static LAST_ROUTE: RefCell<Option<Route>> = const { RefCell::new(None) };
}

impl Default for PeerTable {
    fn default() -> Self {
        PeerTable {
            map: RwLock::default(),
            generation: AtomicU64::new(next_generation()),
        }
    }
}

impl PeerTable {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, PeerMap> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, PeerMap> {
        let map = self.map.write().unwrap_or_else(|e| e.into_inner());
        // Before any change, under the lock. A thread that still read the old generation sends
        // as one that took the read lock just before this writer would, and a writer replaces
        // only a slot whose connection is closed or absent (a live one is never replaced).
        self.generation.store(next_generation(), Ordering::Release);
        map
    }

    /// Calls `f` with the live connection to `node`, or with `None` when there is none (not up,
    /// or still connecting: the caller goes the slow way). The connection comes from this
    /// thread's last route when the table has not changed since, else from the map under the
    /// read lock, and is then remembered. Inlined, so that `f` runs where it was written: passed
    /// to a call, its captures were stored and at once loaded back wider, a stall (5% of a
    /// sending node in bench row (d)).
    #[inline(always)]
    pub(crate) fn with_up<R>(&self, node: Atom, f: impl FnOnce(Option<&Peer>) -> R) -> R {
        let table = self as *const PeerTable as usize;
        let generation = self.generation.load(Ordering::Acquire);
        let missed = LAST_ROUTE.with(|last| {
            let Ok(last) = last.try_borrow() else {
                return Err(f);
            };
            match last.as_ref() {
                Some(r)
                    if r.table == table
                        && r.generation == generation
                        && r.node == node
                        && r.peer.is_up() =>
                {
                    Ok(f(Some(&r.peer)))
                }
                _ => Err(f),
            }
        });
        match missed {
            Ok(r) => r,
            Err(f) => self.with_up_looked_up(node, generation, f),
        }
    }

    /// `with_up` through the map, for a thread whose last route does not hold.
    #[inline(never)]
    fn with_up_looked_up<R>(
        &self,
        node: Atom,
        generation: u64,
        f: impl FnOnce(Option<&Peer>) -> R,
    ) -> R {
        let table = self as *const PeerTable as usize;
        let map = self.read();
        match map.get(&node) {
            Some(Slot::Up(p)) if p.is_up() => {
                // With the generation read before the lock: if a writer came in between, the
                // route is stale already, and the next send looks again.
                LAST_ROUTE.with(|last| {
                    if let Ok(mut last) = last.try_borrow_mut() {
                        *last = Some(Route {
                            table,
                            generation,
                            node,
                            peer: p.clone(),
                        });
                    }
                });
                f(Some(p))
            }
            _ => {
                drop(map);
                f(None)
            }
        }
    }

    /// Forget connection `conn` to `peer` (it closed); a newer entry stays.
    pub(crate) fn remove_conn(&self, peer: Atom, conn: u64) {
        let mut map = self.write();
        if matches!(map.get(&peer), Some(Slot::Up(p)) if p.handle.id() == conn) {
            map.remove(&peer);
        }
    }
}
