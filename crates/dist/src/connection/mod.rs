//! One established connection, driven by tokio: a reader task (framing, decoding, events to the
//! owner: `reader.rs`), a writer task that writes what senders queued in the outbox in as few
//! `write` calls as possible and sends ticks (`writer.rs`), and here the `ConnectionHandle` to
//! send and close, and the state the three share. The close reason is reported exactly once.

mod reader;
#[cfg(test)]
mod tests;
mod writer;

use crate::busy_wait::BusyWait;
use crate::control::{self, ControlError, ControlMessage, Message};
use crate::frame::{self, FrameError};
use crate::handshake::{elixir_atom, Outcome};
use crate::outbox::Outbox;
pub use crate::outbox::DEFAULT_BUSY_LIMIT;
use bytes::{Bytes, BytesMut};
use etf::{Atom, Term};
use reader::reader;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use writer::writer;

/// Per-connection settings.
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// `net_ticktime`: a tick slot is a quarter of it; four silent slots kill the connection.
    pub net_ticktime: Duration,
    /// Largest packet accepted from the peer.
    pub max_packet: usize,
    /// The node's busy-wait, told of every write (`None`: the node does not spin).
    pub busy_wait: Option<Arc<BusyWait>>,
    /// Bytes queued or being written above which the connection is busy and
    /// `ConnectionHandle::until_not_busy` waits (BEAM's `dist_buf_busy_limit`).
    pub busy_limit: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            net_ticktime: Duration::from_secs(60),
            max_packet: frame::DEFAULT_MAX_PACKET,
            busy_wait: None,
            busy_limit: DEFAULT_BUSY_LIMIT,
        }
    }
}

/// Why a connection ended.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CloseReason {
    #[error("connection closed by peer")]
    PeerClosed,
    #[error("net_tick_timeout")]
    NetTickTimeout,
    #[error("malformed packet: {0}")]
    Malformed(Malformed),
    #[error("oversized packet: {len} bytes (limit {max})")]
    Oversized { len: usize, max: usize },
    #[error("i/o error: {0}")]
    Io(String),
    #[error("closed by us")]
    ClosedByUs,
}

/// What was wrong with a packet the peer sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// What a connection tells its owner. For one connection, every `Message` comes before its
/// single `Closed`.
#[derive(Debug)]
pub enum Event {
    /// A connection was installed. It comes before any `Message` of that connection, so an
    /// owner that announces nodeup here keeps BEAM's promise: nodeup before the first signal.
    Up { peer: Atom, conn: u64 },
    Message {
        peer: Atom,
        conn: u64,
        message: Message,
    },
    Closed {
        peer: Atom,
        conn: u64,
        reason: CloseReason,
    },
}

/// Where a connection's events go. `event` is called on the connection's own reader task (and,
/// for `Up`, on the task that installs the connection), so the owner handles a message where it
/// was decoded: no channel hop and no task wake-up between the socket and the mailbox. It must
/// not block. For one connection the calls are sequential: `Up`, its messages, one `Closed`.
pub trait EventSink: Send + Sync + 'static {
    fn event(&self, ev: Event);

    /// Several messages of connection `conn`, in the order they arrived: everything one read
    /// from the socket completed (at most `MAX_BATCH`). Takes them all out of `batch`. An owner
    /// that overrides this pays its per-call costs (finding itself, looking up a destination,
    /// taking a mailbox lock, waking the receiver) once per run of messages rather than once
    /// per message; by default each becomes an `Event::Message`.
    fn messages(&self, peer: Atom, conn: u64, batch: &mut Vec<Message>) {
        for message in batch.drain(..) {
            self.event(Event::Message {
                peer,
                conn,
                message,
            });
        }
    }
}

/// The most messages the reader decodes before handing them to the owner: bounds the batch's
/// memory and how long the first of them waits for the last to be decoded.
pub const MAX_BATCH: usize = 256;

/// A channel is a sink too (tests, and owners that want their own task).
impl EventSink for mpsc::UnboundedSender<Event> {
    fn event(&self, ev: Event) {
        let _ = self.send(ev);
    }
}

/// Sending on a connection that is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("connection closed")]
pub struct Closed;

struct Shared {
    outcome: Outcome,
    id: u64,
    reason: Mutex<Option<CloseReason>>,
    shutdown: watch::Sender<bool>,
    read_activity: AtomicBool,
    /// `*shutdown.borrow()`, readable without the watch channel's lock: every send looks.
    is_closed: AtomicBool,
    outbox: Outbox,
    busy_limit: usize,
}

impl Shared {
    /// Records the first close reason and stops both tasks; later reasons are ignored.
    fn close(&self, reason: CloseReason) {
        let mut r = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if r.is_none() {
            let peer = elixir_atom(self.outcome.peer.as_str());
            match &reason {
                CloseReason::PeerClosed | CloseReason::ClosedByUs => {
                    tracing::info!("connection to {peer} closed: {reason}")
                }
                _ => tracing::warn!("closing connection to {peer}: {reason}"),
            }
            *r = Some(reason);
            self.is_closed.store(true, Ordering::Release);
            self.shutdown.send_replace(true);
            self.outbox.closed();
        }
    }

    fn reason(&self) -> CloseReason {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or(CloseReason::ClosedByUs)
    }
}

/// A cheap, cloneable way to use a connection. Dropping every handle closes it.
#[derive(Clone)]
pub struct ConnectionHandle {
    shared: Arc<Shared>,
    _last: Arc<CloseOnDrop>,
}

/// Shared by all clones of a handle: when the last one goes, so does the connection.
struct CloseOnDrop(Arc<Shared>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close(CloseReason::ClosedByUs);
    }
}

impl std::fmt::Debug for ConnectionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ConnectionHandle({}, #{})",
            self.shared.outcome, self.shared.id
        )
    }
}

impl ConnectionHandle {
    pub fn peer(&self) -> Atom {
        self.shared.outcome.peer
    }

    pub fn outcome(&self) -> Outcome {
        self.shared.outcome
    }

    /// Unique per connection (also in `Event`s), so a stale close can be told from a new one.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// Queues a message; it is encoded here, on the caller's task, straight into the outbox.
    pub fn send(&self, m: &Message) -> Result<(), Closed> {
        self.send_parts(&m.control, m.payload.as_ref())
    }

    /// `send` of a control message and a payload the caller keeps (see `encode_parts_for`).
    pub fn send_parts(
        &self,
        control: &ControlMessage,
        payload: Option<&Term>,
    ) -> Result<(), Closed> {
        if self.is_closed() {
            return Err(Closed);
        }
        let flags = self.shared.outcome.flags;
        self.shared.outbox.push(|q| {
            control::encode_parts_for(
                control,
                payload,
                flags,
                (&mut q.cache, &mut q.refs, &mut q.last),
                &mut q.buf,
            )
        });
        Ok(())
    }

    /// Queues an already framed packet (4-byte length included).
    pub fn send_frame(&self, frame: Bytes) -> Result<(), Closed> {
        if self.is_closed() {
            return Err(Closed);
        }
        self.shared.outbox.push(|q| q.buf.extend_from_slice(&frame));
        Ok(())
    }

    pub fn close(&self) {
        self.shared.close(CloseReason::ClosedByUs);
    }

    pub fn is_closed(&self) -> bool {
        self.shared.is_closed.load(Ordering::Acquire)
    }

    /// Bytes queued for the peer or being written to it.
    pub fn pending(&self) -> usize {
        self.shared.outbox.pending()
    }

    /// Whether at least the busy limit is pending: BEAM would suspend a process sending here.
    pub fn is_busy(&self) -> bool {
        self.pending() >= self.shared.busy_limit
    }

    /// Resolves once the connection is not busy (or is closed): the suspension point of a
    /// process that sends faster than the peer takes it (see `outbox.rs`).
    pub async fn until_not_busy(&self) {
        let limit = self.shared.busy_limit;
        self.shared
            .outbox
            .until_below(limit, || self.is_closed())
            .await
    }

    /// Waits until the connection is closed and returns why.
    pub async fn closed(&self) -> CloseReason {
        let mut rx = self.shared.shutdown.subscribe();
        let _ = rx.wait_for(|c| *c).await;
        self.shared.reason()
    }
}

/// The reader of a connection that `spawn` set up but did not start yet: the owner first records
/// the connection (and reports `Up`), then starts reading, so no message overtakes either.
#[must_use = "the connection reads nothing until `start` is called"]
pub struct Reader {
    rd: OwnedReadHalf,
    leftover: BytesMut,
    shared: Arc<Shared>,
    cfg: ConnectionConfig,
    events: Arc<dyn EventSink>,
}

impl Reader {
    /// Starts the reader task; events (messages, then one `Closed`) go to the sink.
    pub fn start(self) {
        tokio::spawn(reader(
            self.rd,
            self.leftover,
            self.shared,
            self.cfg,
            self.events,
        ));
    }
}

/// Starts the writer of an established connection and returns its handle and its (unstarted)
/// reader. `leftover` holds bytes read past the handshake.
pub fn spawn(
    stream: TcpStream,
    outcome: Outcome,
    leftover: BytesMut,
    id: u64,
    cfg: ConnectionConfig,
    events: Arc<dyn EventSink>,
) -> (ConnectionHandle, Reader) {
    // Ticks and small control messages must not wait for Nagle.
    let _ = stream.set_nodelay(true);
    // A second descriptor of the socket, for the outbox's early writes; without one (no
    // descriptor left) every write is the writer's.
    let early = stream
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(std::net::TcpStream::from);
    let (rd, wr) = stream.into_split();
    let shared = Arc::new(Shared {
        outcome,
        id,
        reason: Mutex::new(None),
        shutdown: watch::channel(false).0,
        read_activity: AtomicBool::new(true),
        is_closed: AtomicBool::new(false),
        outbox: Outbox::with_socket(early),
        busy_limit: cfg.busy_limit,
    });
    tokio::spawn(writer(wr, shared.clone(), cfg.clone()));
    let reader = Reader {
        rd,
        leftover,
        shared: shared.clone(),
        cfg,
        events,
    };
    let last = Arc::new(CloseOnDrop(shared.clone()));
    let handle = ConnectionHandle {
        shared,
        _last: last,
    };
    (handle, reader)
}

/// Resolves once the connection is marked closed (the watch guard is not held across awaits).
async fn until_closed(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|c| *c).await;
}
