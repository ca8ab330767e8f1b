//! One established connection, driven by tokio: a reader task (framing, decoding, events to the
//! owner), a writer task that coalesces queued packets into few `write` calls and sends ticks,
//! and a `ConnectionHandle` to send and close. The close reason is reported exactly once.

use crate::control::{ControlError, Message};
use crate::frame::{self, Frame, FrameError};
use crate::handshake::{elixir_atom, Outcome};
use bytes::{Bytes, BytesMut};
use etf::Atom;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

/// Per-connection settings.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionConfig {
    /// `net_ticktime`: a tick slot is a quarter of it; four silent slots kill the connection.
    pub net_ticktime: Duration,
    /// Largest packet accepted from the peer.
    pub max_packet: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            net_ticktime: Duration::from_secs(60),
            max_packet: frame::DEFAULT_MAX_PACKET,
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
            self.shutdown.send_replace(true);
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
    tx: mpsc::UnboundedSender<Bytes>,
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

    /// Queues a message; it is encoded here, on the caller's task, not in the writer.
    pub fn send(&self, m: &Message) -> Result<(), Closed> {
        self.send_frame(m.to_frame())
    }

    /// Queues an already framed packet (4-byte length included).
    pub fn send_frame(&self, frame: Bytes) -> Result<(), Closed> {
        if self.is_closed() {
            return Err(Closed);
        }
        self.tx.send(frame).map_err(|_| Closed)
    }

    pub fn close(&self) {
        self.shared.close(CloseReason::ClosedByUs);
    }

    pub fn is_closed(&self) -> bool {
        *self.shared.shutdown.borrow()
    }

    /// Waits until the connection is closed and returns why.
    pub async fn closed(&self) -> CloseReason {
        let mut rx = self.shared.shutdown.subscribe();
        let _ = rx.wait_for(|c| *c).await;
        self.shared.reason()
    }
}

/// Starts the tasks of an established connection. `leftover` holds bytes read past the
/// handshake. Events (messages, then one `Closed`) go to `events`.
pub fn spawn(
    stream: TcpStream,
    outcome: Outcome,
    leftover: BytesMut,
    id: u64,
    cfg: ConnectionConfig,
    events: mpsc::UnboundedSender<Event>,
) -> ConnectionHandle {
    // Ticks and small control messages must not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        outcome,
        id,
        reason: Mutex::new(None),
        shutdown: watch::channel(false).0,
        read_activity: AtomicBool::new(true),
    });
    tokio::spawn(reader(rd, leftover, shared.clone(), cfg, events));
    tokio::spawn(writer(wr, rx, shared.clone(), cfg));
    ConnectionHandle { shared, tx }
}

async fn reader(
    mut rd: OwnedReadHalf,
    mut buf: BytesMut,
    shared: Arc<Shared>,
    cfg: ConnectionConfig,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut shutdown = shared.shutdown.subscribe();
    let peer = shared.outcome.peer;
    let conn = shared.id;
    'outer: loop {
        loop {
            match frame::parse(&mut buf, cfg.max_packet) {
                Ok(None) => break,
                Ok(Some(Frame::Tick)) => {}
                Ok(Some(Frame::PassThrough(body))) => match Message::decode(body) {
                    Ok(message) => {
                        if *shutdown.borrow() {
                            break 'outer;
                        }
                        let _ = events.send(Event::Message {
                            peer,
                            conn,
                            message,
                        });
                    }
                    Err(e) => {
                        shared.close(CloseReason::Malformed(e.into()));
                        break 'outer;
                    }
                },
                Err(FrameError::Oversized { len, max }) => {
                    shared.close(CloseReason::Oversized { len, max });
                    break 'outer;
                }
                Err(e) => {
                    shared.close(CloseReason::Malformed(e.into()));
                    break 'outer;
                }
            }
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) => {
                    shared.close(CloseReason::PeerClosed);
                    break;
                }
                Ok(_) => shared.read_activity.store(true, Ordering::Relaxed),
                Err(e) => {
                    shared.close(CloseReason::Io(e.to_string()));
                    break;
                }
            },
            _ = until_closed(&mut shutdown) => break,
        }
    }
    let _ = events.send(Event::Closed {
        peer,
        conn,
        reason: shared.reason(),
    });
}

/// Resolves once the connection is marked closed (the watch guard is not held across awaits).
async fn until_closed(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|c| *c).await;
}

/// Largest batch written at once; the rest waits for the next `write`.
const MAX_BATCH: usize = 256 * 1024;

async fn writer<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: mpsc::UnboundedReceiver<Bytes>,
    shared: Arc<Shared>,
    cfg: ConnectionConfig,
) {
    let mut shutdown = shared.shutdown.subscribe();
    let slot = (cfg.net_ticktime / 4).max(Duration::from_millis(10));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + slot, slot);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut wrote = false;
    let mut silent_slots = 0u32;
    let mut batch = BytesMut::with_capacity(64 * 1024);
    loop {
        tokio::select! {
            biased;
            _ = until_closed(&mut shutdown) => break,
            first = rx.recv() => {
                let Some(first) = first else {
                    shared.close(CloseReason::ClosedByUs);
                    break;
                };
                // Coalesce: everything already queued goes out in the same write.
                batch.extend_from_slice(&first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(more) => batch.extend_from_slice(&more),
                        Err(_) => break,
                    }
                }
                if let Err(e) = wr.write_all(&batch).await {
                    shared.close(CloseReason::Io(e.to_string()));
                    break;
                }
                batch.clear();
                wrote = true;
            }
            _ = ticker.tick() => {
                if !wrote {
                    let mut tick = BytesMut::with_capacity(4);
                    frame::put_tick(&mut tick);
                    if let Err(e) = wr.write_all(&tick).await {
                        shared.close(CloseReason::Io(e.to_string()));
                        break;
                    }
                }
                wrote = false;
                if shared.read_activity.swap(false, Ordering::Relaxed) {
                    silent_slots = 0;
                } else {
                    silent_slots += 1;
                    if silent_slots >= 4 {
                        shared.close(CloseReason::NetTickTimeout);
                        break;
                    }
                }
            }
        }
    }
    // A close of ours (disconnect, node stop) comes after sends that processes already made:
    // deliver what is queued, so that a node that sends and then stops loses nothing. A broken
    // or silent connection (any other reason) has no one to deliver to.
    if shared.reason() == CloseReason::ClosedByUs {
        batch.clear();
        while let Ok(more) = rx.try_recv() {
            batch.extend_from_slice(&more);
        }
        if !batch.is_empty() {
            let _ = tokio::time::timeout(FLUSH_ON_CLOSE, wr.write_all(&batch)).await;
        }
    }
    let _ = wr.shutdown().await;
}

/// How long a closing writer may take to deliver what was queued before the close.
const FLUSH_ON_CLOSE: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// Records the size of every `write` the writer task issues.
    struct CountingWriter(Arc<Mutex<Vec<usize>>>);

    impl AsyncWrite for CountingWriter {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(buf.len());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn shared() -> Arc<Shared> {
        Arc::new(Shared {
            outcome: Outcome {
                peer: Atom::new("peer@h"),
                peer_flags: flags::DEFAULT,
                flags: flags::DEFAULT,
                peer_creation: 1,
            },
            id: 1,
            reason: Mutex::new(None),
            shutdown: watch::channel(false).0,
            read_activity: AtomicBool::new(true),
        })
    }

    #[tokio::test]
    async fn writer_coalesces_queued_frames_into_few_writes() {
        let writes = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        let frame = Bytes::from_static(&[0, 0, 0, 3, 112, 131, 106]);
        for _ in 0..1000 {
            tx.send(frame.clone()).expect("queued");
        }
        let sh = shared();
        let task = tokio::spawn(writer(
            CountingWriter(writes.clone()),
            rx,
            sh.clone(),
            ConnectionConfig::default(),
        ));
        tokio::time::sleep(Duration::from_millis(50)).await;
        sh.close(CloseReason::ClosedByUs);
        task.await.expect("writer ends");
        let w = writes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(w.iter().sum::<usize>(), 7000, "every byte written once");
        assert_eq!(w.len(), 1, "1000 queued frames, one write: {w:?}");
    }

    #[tokio::test]
    async fn frames_queued_before_our_close_are_written_not_dropped() {
        let writes = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        let sh = shared();
        // Queued, then closed before the writer ever runs: as `send` then `node.stop()`.
        for _ in 0..3 {
            tx.send(Bytes::from_static(&[0, 0, 0, 3, 112, 131, 106]))
                .expect("queued");
        }
        sh.close(CloseReason::ClosedByUs);
        writer(
            CountingWriter(writes.clone()),
            rx,
            sh.clone(),
            ConnectionConfig::default(),
        )
        .await;
        let w = writes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(w.iter().sum::<usize>(), 21, "all three frames: {w:?}");
    }

    #[tokio::test]
    async fn a_broken_connection_does_not_write_after_close() {
        let writes = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        let sh = shared();
        tx.send(Bytes::from_static(&[0, 0, 0, 3, 112, 131, 106]))
            .expect("queued");
        sh.close(CloseReason::NetTickTimeout);
        writer(
            CountingWriter(writes.clone()),
            rx,
            sh.clone(),
            ConnectionConfig::default(),
        )
        .await;
        assert!(writes.lock().unwrap_or_else(|e| e.into_inner()).is_empty());
    }

    #[tokio::test]
    async fn writer_ticks_when_idle_and_times_out_when_nothing_is_read() {
        let writes = Arc::new(Mutex::new(Vec::new()));
        let (_tx, rx) = mpsc::unbounded_channel();
        let sh = shared();
        let cfg = ConnectionConfig {
            net_ticktime: Duration::from_millis(400),
            ..ConnectionConfig::default()
        };
        let start = tokio::time::Instant::now();
        writer(CountingWriter(writes.clone()), rx, sh.clone(), cfg).await;
        assert_eq!(sh.reason(), CloseReason::NetTickTimeout);
        // The slot that saw the handshake counts as read; then four silent slots of 100 ms.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(500) && took < Duration::from_millis(900),
            "{took:?}"
        );
        let w = writes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(w.len() >= 4 && w.iter().all(|n| *n == 4), "ticks: {w:?}");
    }
}
