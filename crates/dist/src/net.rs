//! A small connection table keyed by peer node name (the data side of `net_kernel`): it
//! answers the handshake's questions (pending/alive rules of §1.6), so two nodes dialling each
//! other at once end up with exactly one connection, and it forgets connections as they close.

use crate::connection::{self, ConnectionConfig, ConnectionHandle, Event, EventSink};
use crate::control::Message;
use crate::handshake::AcceptDecision;
use crate::handshake_io::{self, AcceptPolicy, Established, SetupConfig, SetupError};
use etf::Atom;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

enum Entry {
    /// A handshake (ours or the peer's) is in progress; `abort` stops our own dial.
    Pending { attempt: u64, abort: Arc<Notify> },
    /// Connected; `replacing` is an incoming handshake we answered `alive` to.
    Up {
        handle: ConnectionHandle,
        replacing: Option<u64>,
    },
}

struct Inner {
    setup: SetupConfig,
    conn: ConnectionConfig,
    table: Mutex<HashMap<Atom, Entry>>,
    changed: watch::Sender<u64>,
    next_attempt: AtomicU64,
    /// The owner's sink behind `TableSink`, given to every connection.
    events: Arc<dyn EventSink>,
}

/// Forgets a closed connection in the table before the owner hears of the close (so the owner,
/// reacting to it, never finds the dead connection), then passes every event on. It runs on
/// the connection's reader task: no task or channel between a connection and the owner.
struct TableSink {
    inner: Weak<Inner>,
    owner: Box<dyn EventSink>,
}

impl EventSink for TableSink {
    fn event(&self, ev: Event) {
        if let Event::Closed { peer, conn, .. } = &ev {
            if let Some(inner) = self.inner.upgrade() {
                inner.forget_closed(*peer, *conn);
            }
        }
        self.owner.event(ev);
    }

    fn messages(&self, peer: Atom, conn: u64, batch: &mut Vec<Message>) {
        self.owner.messages(peer, conn, batch);
    }
}

impl Inner {
    /// Connection `conn` to `peer` closed: drop its entry unless a newer one replaced it.
    fn forget_closed(&self, peer: Atom, conn: u64) {
        {
            let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
            match t.get(&peer) {
                // The peer came back (we answered its new handshake `alive`) before this close
                // was seen: that handshake owns the entry now, as if no connection had been
                // there. Removing it would orphan the handshake.
                Some(Entry::Up {
                    handle,
                    replacing: Some(attempt),
                }) if handle.id() == conn => {
                    let attempt = *attempt;
                    let abort = Arc::new(Notify::new());
                    t.insert(peer, Entry::Pending { attempt, abort });
                }
                Some(Entry::Up { handle, .. }) if handle.id() == conn => {
                    t.remove(&peer);
                }
                _ => {}
            }
        }
        self.changed.send_modify(|n| *n += 1);
    }
}

/// The connection table. Cheap to clone.
#[derive(Clone)]
pub struct Net {
    inner: Arc<Inner>,
}

impl AcceptPolicy for Inner {
    fn accept_pending(&self, peer: Atom, attempt: u64) -> AcceptDecision {
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let me = self.setup.handshake.our_name;
        let decision = match t.get_mut(&peer) {
            None => AcceptDecision::Ok,
            Some(Entry::Pending { abort, .. }) => {
                // Atoms compare by text; the greater name's dial wins.
                if me.as_str() > peer.as_str() {
                    tracing::debug!("simultaneous connect with {peer}: our dial wins (nok)");
                    return AcceptDecision::Nok;
                }
                tracing::debug!("simultaneous connect with {peer}: theirs wins (ok_simultaneous)");
                abort.notify_one();
                AcceptDecision::OkSimultaneous
            }
            Some(Entry::Up { replacing, .. }) => {
                if replacing.is_some() {
                    return AcceptDecision::AlreadyPending;
                }
                *replacing = Some(attempt);
                return AcceptDecision::Alive;
            }
        };
        t.insert(
            peer,
            Entry::Pending {
                attempt,
                abort: Arc::new(Notify::new()),
            },
        );
        decision
    }

    fn still_pending(&self, peer: Atom, attempt: u64) -> bool {
        let t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        matches!(t.get(&peer), Some(Entry::Pending { attempt: a, .. }) if *a == attempt)
    }
}

/// Why `Net::connect` failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The other handshake we waited for (simultaneous connect, `nok`) failed or took longer
    /// than the setup timeout.
    #[error("no connection to {0} came up")]
    NotConnected(Atom),
}

impl Net {
    /// `events` receives every connection's `Up`, messages and close, on the connection's task.
    pub fn new(setup: SetupConfig, conn: ConnectionConfig, events: impl EventSink) -> Net {
        let owner: Box<dyn EventSink> = Box::new(events);
        let inner = Arc::new_cyclic(|weak| Inner {
            setup,
            conn,
            table: Mutex::new(HashMap::new()),
            changed: watch::channel(0).0,
            next_attempt: AtomicU64::new(1),
            events: Arc::new(TableSink {
                inner: weak.clone(),
                owner,
            }),
        });
        Net { inner }
    }

    pub fn our_name(&self) -> Atom {
        self.inner.setup.handshake.our_name
    }

    /// The live connection to `peer`, if any.
    pub fn get(&self, peer: Atom) -> Option<ConnectionHandle> {
        let t = self.inner.table.lock().unwrap_or_else(|e| e.into_inner());
        match t.get(&peer) {
            Some(Entry::Up { handle, .. }) if !handle.is_closed() => Some(handle.clone()),
            _ => None,
        }
    }

    /// Peers with a live connection.
    pub fn peers(&self) -> Vec<Atom> {
        let t = self.inner.table.lock().unwrap_or_else(|e| e.into_inner());
        t.iter()
            .filter_map(|(p, e)| matches!(e, Entry::Up { .. }).then_some(*p))
            .collect()
    }

    /// Connects to `peer` at `addr`, or returns the existing connection. When the peer is
    /// dialling us at the same moment, whichever handshake wins is returned.
    pub async fn connect(
        &self,
        peer: Atom,
        addr: SocketAddr,
    ) -> Result<ConnectionHandle, NetError> {
        let attempt = self.inner.next_attempt.fetch_add(1, Ordering::Relaxed);
        let abort = Arc::new(Notify::new());
        enum Start {
            Existing(ConnectionHandle),
            Wait,
            Dial,
        }
        // Decide under the lock; never hold it across an await (the future must be Send).
        let start = {
            let mut t = self.inner.table.lock().unwrap_or_else(|e| e.into_inner());
            match t.get(&peer) {
                Some(Entry::Up { handle, .. }) if !handle.is_closed() => {
                    Start::Existing(handle.clone())
                }
                Some(Entry::Pending { .. }) => Start::Wait,
                _ => {
                    t.insert(
                        peer,
                        Entry::Pending {
                            attempt,
                            abort: abort.clone(),
                        },
                    );
                    Start::Dial
                }
            }
        };
        match start {
            Start::Existing(h) => return Ok(h),
            Start::Wait => return self.wait_up(peer).await,
            Start::Dial => {}
        }
        let inner = &*self.inner;
        let r = tokio::select! {
            r = handshake_io::connect(addr, peer, &inner.setup, inner, attempt) => r,
            _ = abort.notified() => Err(SetupError::Superseded),
        };
        match r {
            Ok(est) => match self.install(est, attempt) {
                Some(h) => Ok(h),
                None => self.wait_up(peer).await,
            },
            Err(SetupError::Superseded) => self.wait_up(peer).await,
            Err(SetupError::Handshake(crate::HandshakeError::Nok)) => {
                // The peer is dialling us and its dial wins: keep our entry pending (so its
                // incoming handshake gets `ok_simultaneous`) and wait for that connection.
                let r = self.wait_for(peer, false).await;
                self.forget(peer, attempt);
                r
            }
            Err(e) => {
                self.forget(peer, attempt);
                Err(e.into())
            }
        }
    }

    /// Runs the acceptor handshake on an incoming socket and installs the connection.
    pub async fn accept(&self, stream: TcpStream) -> Result<ConnectionHandle, NetError> {
        let attempt = self.inner.next_attempt.fetch_add(1, Ordering::Relaxed);
        let inner = &*self.inner;
        match handshake_io::accept(stream, &inner.setup, inner, attempt).await {
            Ok(est) => {
                let peer = est.outcome.peer;
                self.install(est, attempt)
                    .ok_or(NetError::Setup(SetupError::Superseded))
                    .inspect_err(|_| tracing::debug!("incoming connection from {peer} superseded"))
            }
            Err(e) => {
                let mut t = inner.table.lock().unwrap_or_else(|e| e.into_inner());
                for entry in t.values_mut() {
                    if let Entry::Up { replacing, .. } = entry {
                        if *replacing == Some(attempt) {
                            *replacing = None;
                        }
                    }
                }
                t.retain(|_, e| !matches!(e, Entry::Pending { attempt: a, .. } if *a == attempt));
                Err(e.into())
            }
        }
    }

    /// Accepts connections on `listener` for as long as the returned task runs.
    pub fn serve(&self, listener: TcpListener) -> tokio::task::JoinHandle<()> {
        let net = self.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let net = net.clone();
                        tokio::spawn(async move {
                            let _ = net.accept(stream).await;
                        });
                    }
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        })
    }

    /// Closes the connection to `peer`, if any.
    pub fn disconnect(&self, peer: Atom) {
        if let Some(h) = self.get(peer) {
            h.close();
        }
    }

    /// Makes a finished handshake the connection to its peer, if this attempt still owns the
    /// entry (or is replacing a live one after `alive`/`true`).
    fn install(&self, est: Established, attempt: u64) -> Option<ConnectionHandle> {
        let peer = est.outcome.peer;
        let mut t = self.inner.table.lock().unwrap_or_else(|e| e.into_inner());
        let ours = match t.get(&peer) {
            Some(Entry::Pending { attempt: a, .. }) => *a == attempt,
            Some(Entry::Up { handle, replacing }) if *replacing == Some(attempt) => {
                handle.close();
                true
            }
            _ => false,
        };
        if !ours {
            return None;
        }
        let (handle, reader) = connection::spawn(
            est.stream,
            est.outcome,
            est.leftover,
            attempt,
            self.inner.conn.clone(),
            self.inner.events.clone(),
        );
        t.insert(
            peer,
            Entry::Up {
                handle: handle.clone(),
                replacing: None,
            },
        );
        drop(t);
        self.inner.changed.send_modify(|n| *n += 1);
        // Up is reported once the table has the connection (the owner looks it up) and before
        // the reader starts, so it precedes every message of this connection.
        self.inner.events.event(Event::Up {
            peer,
            conn: attempt,
        });
        reader.start();
        Some(handle)
    }

    fn forget(&self, peer: Atom, attempt: u64) {
        let mut t = self.inner.table.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(t.get(&peer), Some(Entry::Pending { attempt: a, .. }) if *a == attempt) {
            t.remove(&peer);
        }
        drop(t);
        self.inner.changed.send_modify(|n| *n += 1);
    }

    /// Waits (one setup timeout at most) for another handshake to bring `peer` up.
    async fn wait_up(&self, peer: Atom) -> Result<ConnectionHandle, NetError> {
        self.wait_for(peer, true).await
    }

    /// `give_up_when_absent`: stop as soon as nothing is pending for `peer` any more.
    async fn wait_for(
        &self,
        peer: Atom,
        give_up_when_absent: bool,
    ) -> Result<ConnectionHandle, NetError> {
        let mut rx = self.inner.changed.subscribe();
        let limit = self.inner.setup.setup_timeout;
        let wait = async {
            loop {
                if let Some(h) = self.get(peer) {
                    return Some(h);
                }
                if give_up_when_absent {
                    let t = self.inner.table.lock().unwrap_or_else(|e| e.into_inner());
                    if !t.contains_key(&peer) {
                        return None;
                    }
                }
                if rx.changed().await.is_err() {
                    return None;
                }
            }
        };
        match tokio::time::timeout(limit, wait).await {
            Ok(Some(h)) => Ok(h),
            _ => Err(NetError::NotConnected(peer)),
        }
    }
}
