//! A connection's outbox: the packets senders queued and the writer has not finished writing,
//! and BEAM's busy limit on them (`dist_buf_busy_limit`, `+zdbbl`).
//!
//! Senders encode straight into `queued` (no buffer per packet, no copy into a batch); the
//! writer swaps it for its own empty buffer and writes it whole. Only the sender that finds the
//! box empty wakes the writer: one wake-up per batch, not per packet.
//!
//! Why a busy limit: a process can produce messages faster than the network or the peer takes
//! them, and without a bound its node buffers them all (a sender of ten million 40-byte
//! messages to a slower sink held 600 MB, and spent most of its time having the kernel zero
//! fresh pages for it). BEAM suspends a process that sends over a connection with more than
//! the limit queued until the queue drains; here a send never blocks (`send` is not async), and
//! `until_below` (`ConnectionHandle::until_not_busy`) is the suspension point a producer
//! awaits. The count covers what is queued and what the writer took but has not written yet,
//! so memory stays near twice the limit.
//!
//! Early write: when a burst reaches `EARLY_WRITE` bytes, the sender whose packet got it there
//! writes what is queued (at most `EARLY_WRITE_MAX`) at once, with a non-blocking write on the
//! connection's socket; the rest of the burst waits for the writer as before. Why: the writer
//! lets every ready sender queue before it writes, so a burst of requests (64 callers woken by
//! one read of replies) left in one write after the last of them ran, and the peer, idle until
//! then, answered in one write after its last reply: the two nodes took turns, each idle while
//! the other worked (measured: one write per 64 calls, each node a third idle, in bench row
//! (f)). Sending the head of the burst at once lets the peer work on it while this node
//! produces the rest. Only the head, once per burst: a one-way stream, whose peer is busy
//! anyway, keeps its few large writes (more early writes cost its throughput rows up to a
//! tenth). The early write happens under the outbox lock and only while the writer holds
//! nothing unwritten, so bytes leave in queue order.

use crate::atom_cache::{HeaderRefs, OutCache};
use crate::last_traffic::LastTraffic;
use bytes::BytesMut;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::sync::Notify;

/// BEAM's default `dist_buf_busy_limit`: 1024 kB.
pub const DEFAULT_BUSY_LIMIT: usize = 1024 * 1024;

/// How much of a burst a sender writes at once (see the header); a few requests' worth, so
/// the peer starts on a 64-call burst when about half of it is queued.
const EARLY_WRITE: usize = 2048;

/// At most this much of a burst is written early: the head is what lets the peer start, and a
/// large write under the outbox lock would hold up every other sender for its whole copy.
const EARLY_WRITE_MAX: usize = 64 * 1024;

/// A writer's buffer that a burst grew beyond this is dropped after use, not kept.
const KEEP_CAPACITY: usize = 1 << 20;

#[derive(Default)]
pub(crate) struct Outbox {
    queued: Mutex<Queued>,
    /// Wakes the writer: something was queued into an empty box.
    pub(crate) wake: Notify,
    /// `queued.buf.len()` as of the last change (read without the lock by `pending`).
    queued_len: AtomicUsize,
    /// Bytes the writer took and is still writing.
    in_flight: AtomicUsize,
    /// Told when a write completed (or the connection closed): busy senders look again.
    drained: Notify,
}

/// The packets not yet written, and the peer's atom cache as they leave it: both change
/// together, in stream order, under the outbox lock.
#[derive(Default)]
pub(crate) struct Queued {
    pub(crate) buf: BytesMut,
    pub(crate) cache: OutCache,
    pub(crate) refs: HeaderRefs,
    pub(crate) last: LastTraffic,
    /// The connection's socket (a duplicate of the writer's descriptor), for early writes;
    /// `None` once the connection closed, or where there is no socket (tests of the writer).
    socket: Option<TcpStream>,
    /// Bytes of the current burst already written early: the burst ends when the writer takes.
    early: usize,
}

impl Outbox {
    /// An outbox that writes the head of each burst itself on `socket` (non-blocking).
    pub(crate) fn with_socket(socket: Option<TcpStream>) -> Outbox {
        let outbox = Outbox::default();
        outbox.lock().socket = socket;
        outbox
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queued> {
        self.queued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends with `put`, under the lock, waking the writer if the box was empty; the head of
    /// a burst is written at once.
    pub(crate) fn push(&self, put: impl FnOnce(&mut Queued)) {
        let mut q = self.lock();
        let was_empty = q.buf.is_empty();
        put(&mut q);
        if q.early == 0 && q.buf.len() >= EARLY_WRITE {
            self.write_early(&mut q);
        }
        // A plain store under the lock: no read-modify-write on the send path.
        self.queued_len.store(q.buf.len(), Ordering::Relaxed);
        drop(q);
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Writes what is queued (up to `EARLY_WRITE_MAX`) straight to the socket, as far as it
    /// takes it without blocking, unless the writer is still writing bytes queued before these.
    /// A failed write leaves everything queued: the writer meets the same error and closes the
    /// connection.
    fn write_early(&self, q: &mut Queued) {
        if self.in_flight.load(Ordering::Relaxed) != 0 {
            return;
        }
        let Some(socket) = &q.socket else { return };
        // `&TcpStream` writes with MSG_NOSIGNAL; the descriptor is non-blocking (tokio's), so
        // a full socket buffer is `WouldBlock`: nothing written, one attempt per burst all the
        // same.
        let head = q.buf.len().min(EARLY_WRITE_MAX);
        let n = (&*socket).write(&q.buf[..head]).unwrap_or(0);
        bytes::Buf::advance(&mut q.buf, n);
        q.early = n.max(1);
        if n > 0 {
            self.drained.notify_waiters();
        }
    }

    /// Everything queued so far, leaving `spare` (emptied) in its place; it counts as in
    /// flight until `written`.
    pub(crate) fn take(&self, spare: &mut BytesMut) {
        spare.clear();
        if spare.capacity() > KEEP_CAPACITY {
            *spare = BytesMut::with_capacity(64 * 1024);
        }
        let mut q = self.lock();
        std::mem::swap(&mut q.buf, spare);
        q.early = 0;
        // In flight first: between the two stores the bytes count twice (a sender may wait for
        // the next write), never zero times (a sender never overruns the limit).
        self.in_flight.store(spare.len(), Ordering::Relaxed);
        self.queued_len.store(0, Ordering::Relaxed);
    }

    /// The writer wrote some of what it took: `left` bytes of it remain.
    pub(crate) fn written(&self, left: usize) {
        self.in_flight.store(left, Ordering::Relaxed);
        self.drained.notify_waiters();
    }

    /// The connection is gone: nobody will drain it, so nobody may wait on it, and senders
    /// write nothing more to its socket.
    pub(crate) fn closed(&self) {
        self.lock().socket = None;
        self.drained.notify_waiters();
    }

    /// Bytes queued or being written.
    pub(crate) fn pending(&self) -> usize {
        self.queued_len.load(Ordering::Relaxed) + self.in_flight.load(Ordering::Relaxed)
    }

    /// Resolves once fewer than `limit` bytes are pending, or `gone()` says the connection
    /// closed.
    pub(crate) async fn until_below(&self, limit: usize, gone: impl Fn() -> bool) {
        loop {
            // Registered before looking, so a write that completes in between still wakes us.
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.pending() < limit || gone() {
                return;
            }
            drained.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;
    use std::time::Duration;

    /// An outbox on one end of a loopback connection (non-blocking, as tokio's sockets are),
    /// the other end to read what it wrote, and our end kept open.
    fn outbox() -> (Outbox, TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let ours = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        let (theirs, _) = l.accept().expect("accept");
        ours.set_nonblocking(true).expect("non-blocking");
        let dup = ours.try_clone().expect("dup");
        theirs
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        (Outbox::with_socket(Some(dup)), ours, theirs)
    }

    /// 64 bytes, all `n`: frames whose order the other end can check.
    fn push(o: &Outbox, from: u8, count: u8) {
        for n in from..from + count {
            o.push(|q| q.buf.extend_from_slice(&[n; 64]));
        }
    }

    /// Everything the other end receives within the read timeout.
    fn received(theirs: &mut TcpStream) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n @ 1..) = theirs.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    fn frames(from: u8, count: u8) -> Vec<u8> {
        (from..from + count).flat_map(|n| [n; 64]).collect()
    }

    #[test]
    fn the_head_of_a_burst_leaves_at_once_and_the_rest_waits_for_the_writer() {
        let (o, _ours, mut theirs) = outbox();
        push(&o, 0, 100);
        // The 32nd frame brings the queue to EARLY_WRITE: frames 0-31 go, nothing after them.
        assert_eq!(received(&mut theirs), frames(0, 32));
        assert_eq!(o.pending(), 68 * 64);
        let mut batch = BytesMut::new();
        o.take(&mut batch);
        assert_eq!(
            &batch[..],
            &frames(32, 68)[..],
            "the writer takes the rest, in order"
        );
        // The writer's take ends the burst: the next one's head leaves early again.
        o.written(0);
        push(&o, 100, 40);
        assert_eq!(received(&mut theirs), frames(100, 32));
    }

    #[test]
    fn nothing_leaves_early_while_the_writer_still_writes_earlier_bytes() {
        let (o, mut ours, mut theirs) = outbox();
        push(&o, 0, 10);
        let mut batch = BytesMut::new();
        o.take(&mut batch);
        // The writer holds frames 0-9, unwritten: frames 10-49 must wait behind them.
        push(&o, 10, 40);
        assert_eq!(received(&mut theirs), b"");
        assert_eq!(o.pending(), 50 * 64);
        ours.set_nonblocking(false).expect("blocking");
        ours.write_all(&batch).expect("the writer's write");
        o.written(0);
        // Now the queued burst goes with the next push.
        push(&o, 50, 1);
        assert_eq!(received(&mut theirs), frames(0, 51));
        assert_eq!(o.pending(), 0);
    }

    #[test]
    fn a_full_socket_leaves_the_burst_queued_and_is_tried_once() {
        let (o, mut ours, mut theirs) = outbox();
        // Fill the socket while the other end does not read.
        let mut filled = 0;
        while let Ok(n) = ours.write(&[9; 65536]) {
            filled += n;
        }
        push(&o, 0, 40);
        assert_eq!(o.pending(), 40 * 64, "nothing written");
        let got = received(&mut theirs);
        assert!(
            got.len() == filled && got.iter().all(|b| *b == 9),
            "only the filling"
        );
        // The socket has room again, but this burst had its attempt.
        push(&o, 40, 40);
        assert_eq!(received(&mut theirs), b"", "one attempt per burst");
        assert_eq!(o.pending(), 80 * 64);
        let mut batch = BytesMut::new();
        o.take(&mut batch);
        assert_eq!(&batch[..], &frames(0, 80)[..], "the burst whole, in order");
    }

    #[test]
    fn a_closed_outbox_writes_nothing_early() {
        let (o, _ours, mut theirs) = outbox();
        o.closed();
        push(&o, 0, 100);
        assert_eq!(received(&mut theirs), b"");
        assert_eq!(o.pending(), 100 * 64);
    }

    #[test]
    fn a_large_burst_leaves_a_bounded_head_early_and_the_rest_queued_in_order() {
        let (o, _ours, mut theirs) = outbox();
        let big: Vec<u8> = (0..16 << 20).map(|i: u32| (i % 251) as u8).collect();
        o.push(|q| q.buf.extend_from_slice(&big));
        let early = big.len() - o.pending();
        assert!(
            early > 0 && early <= EARLY_WRITE_MAX,
            "early write of at most {EARLY_WRITE_MAX}: {early}"
        );
        // One attempt per burst: a second push does not write.
        o.push(|q| q.buf.extend_from_slice(&[7; 4096]));
        assert_eq!(o.pending(), big.len() - early + 4096);
        let mut batch = BytesMut::new();
        o.take(&mut batch);
        let got = received(&mut theirs);
        assert_eq!(got.len(), early);
        let mut all = got;
        all.extend_from_slice(&batch);
        let mut want = big;
        want.extend_from_slice(&[7; 4096]);
        assert!(all == want, "every byte once, in order");
    }
}
