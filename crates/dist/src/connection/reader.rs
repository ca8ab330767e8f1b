//! The reader task: reads the socket, cuts the input into packets, decodes them onto a batch
//! and hands each batch to the connection's owner, then yields so the processes it woke run
//! before the next read.

use super::{until_closed, CloseReason, ConnectionConfig, Event, EventSink, Shared, MAX_BATCH};
use crate::atom_cache::AtomCache;
use crate::control::Message;
use crate::frame::{self, FrameAt, FrameError};
use crate::low_water::{self, LowWater};
use bytes::BytesMut;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;

pub(super) async fn reader(
    mut rd: OwnedReadHalf,
    mut buf: BytesMut,
    shared: Arc<Shared>,
    cfg: ConnectionConfig,
    events: Arc<dyn EventSink>,
) {
    let mut shutdown = shared.shutdown.subscribe();
    let peer = shared.outcome.peer;
    let conn = shared.id;
    // Boxed inside: 2048 slots, only touched by peers that send distribution headers.
    let mut atom_cache = AtomCache::default();
    let mut batch = Vec::new();
    let mut low_water = LowWater::new(AsRef::<TcpStream>::as_ref(&rd).as_raw_fd());
    'outer: loop {
        // Everything the last read completed, handed over in batches; a bad packet ends the
        // connection after the good ones before it are delivered. The complete packets are
        // decoded out of one frozen chunk: one reference count for the read, where a `Bytes`
        // per packet cost two atomic operations per message.
        let mut bad = None;
        let mut handed_over = false;
        match frame::next_at(&buf, 0, cfg.max_packet) {
            Ok(Some(_)) => {
                let chunk = buf.split().freeze();
                let mut at = 0;
                loop {
                    let (packet, next) = match frame::next_at(&chunk, at, cfg.max_packet) {
                        Ok(Some(p)) => p,
                        Ok(None) => break,
                        Err(e) => {
                            bad = Some(frame_error(e));
                            break;
                        }
                    };
                    at = next;
                    // Decoded onto the batch where each message stays until it is handed over.
                    let decoded = match packet {
                        FrameAt::Tick => continue,
                        FrameAt::PassThrough(body) => {
                            Message::decode_onto(chunk.slice(body), &mut batch)
                        }
                        FrameAt::DistHeader(body) => Message::decode_with_header_in(
                            &chunk,
                            body,
                            &mut atom_cache,
                            &mut batch,
                        ),
                    };
                    if let Err(e) = decoded {
                        bad = Some(CloseReason::Malformed(e.into()));
                        break;
                    }
                    if batch.len() == MAX_BATCH {
                        if *shutdown.borrow() {
                            break 'outer;
                        }
                        events.messages(peer, conn, &mut batch);
                        handed_over = true;
                    }
                }
                if bad.is_none() {
                    // The start of a packet still to come: carried over (each byte at most
                    // once, as a packet that is not complete at the front is never split).
                    buf.extend_from_slice(&chunk[at..]);
                }
            }
            Ok(None) => frame::reserve_for_next(&mut buf),
            Err(e) => bad = Some(frame_error(e)),
        }
        // Whether this read handed anything over: full batches inside the loop count too (a
        // read of exactly `MAX_BATCH` messages leaves no partial batch behind).
        let delivered = handed_over || !batch.is_empty();
        if !batch.is_empty() {
            if *shutdown.borrow() {
                break 'outer;
            }
            events.messages(peer, conn, &mut batch);
        }
        if let Some(reason) = bad {
            shared.close(reason);
            break 'outer;
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        // The processes just handed messages run before more input is read, as a BEAM port
        // task ends after each read. Read on while input kept coming, a reader (which tokio
        // lets run for up to 128 reads) built a backlog in its receivers' mailboxes that fell
        // out of the cache, and every later delivery and receive paid for it: in `ferl bench`
        // (g), 500 subscribers on the reading node, 4.4-4.8M -> 6.8-7.0M deliveries/s.
        if delivered {
            tokio::task::yield_now().await;
        }
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) => {
                    shared.close(CloseReason::PeerClosed);
                    break;
                }
                Ok(n) => {
                    shared.read_activity.store(true, Ordering::Relaxed);
                    low_water.after_read(n);
                }
                Err(e) => {
                    shared.close(CloseReason::Io(e.to_string()));
                    break;
                }
            },
            _ = until_closed(&mut shutdown) => break,
            // Not woken for a while with the mark raised: read what waits below it.
            _ = low_water::fallback(low_water.is_raised()) => low_water.lower(),
        }
    }
    events.event(Event::Closed {
        peer,
        conn,
        reason: shared.reason(),
    });
}

/// Why a connection whose framing went wrong is closed.
fn frame_error(e: FrameError) -> CloseReason {
    match e {
        FrameError::Oversized { len, max } => CloseReason::Oversized { len, max },
        e => CloseReason::Malformed(e.into()),
    }
}
