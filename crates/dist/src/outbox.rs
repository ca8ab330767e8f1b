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

use crate::atom_cache::{HeaderRefs, OutCache};
use bytes::BytesMut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::sync::Notify;

/// BEAM's default `dist_buf_busy_limit`: 1024 kB.
pub const DEFAULT_BUSY_LIMIT: usize = 1024 * 1024;

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
}

impl Outbox {
    /// Appends with `put`, under the lock, waking the writer if the box was empty.
    pub(crate) fn push(&self, put: impl FnOnce(&mut Queued)) {
        let mut q = self.queued.lock().unwrap_or_else(|e| e.into_inner());
        let was_empty = q.buf.is_empty();
        put(&mut q);
        // A plain store under the lock: no read-modify-write on the send path.
        self.queued_len.store(q.buf.len(), Ordering::Relaxed);
        drop(q);
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Everything queued so far, leaving `spare` (emptied) in its place; it counts as in
    /// flight until `written`.
    pub(crate) fn take(&self, spare: &mut BytesMut) {
        spare.clear();
        if spare.capacity() > KEEP_CAPACITY {
            *spare = BytesMut::with_capacity(64 * 1024);
        }
        let mut q = self.queued.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::swap(&mut q.buf, spare);
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

    /// The connection is gone: nobody will drain it, so nobody may wait on it.
    pub(crate) fn closed(&self) {
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
