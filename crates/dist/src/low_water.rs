//! Reading a one-way stream of small segments in chunks. A BEAM node makes one `writev` per
//! message it sends, and towards a receiver that keeps up each one leaves as its own segment:
//! the sender's congestion window is open, so its system call also runs the loopback delivery
//! into the receiver's socket, and the receiver, woken per segment, reads a few messages at a
//! time. Measured in `ferl bench` (d), BEAM->ferl: 150-byte segments, ferl reading 124k times a
//! second, the Elixir sender paying 1.94 µs per message against 1.44 towards a BEAM receiver.
//! A BEAM receiver falls behind: the sender, held back by the receive window, only appends to
//! its send queue, which leaves in 47 KB segments when the receiver's read opens the window.
//!
//! So when a connection's input is such a stream, the reader reads it in chunks. Every
//! `SAMPLE_EVERY` reads (or after a large one) it samples the socket's counters (`TCP_INFO`);
//! when since the last sample the peer's data segments average under `SMALL_SEGMENT` bytes,
//! arrived at `STREAM_RATE` or faster, and this side sent back less than a `ONE_WAY`th of it
//! (not requests waiting for replies), then:
//! - the socket's receive low-water mark (`SO_RCVLOWAT`) is raised to `MARK`: the kernel wakes
//!   the reader once per `MARK` bytes instead of once per segment;
//! - its receive buffer is set to `STREAM_RCVBUF` (for the rest of the connection): with data
//!   waiting below the mark, the window then closes, so the kernel stops acknowledging on
//!   arrival and the sender waits for the reader's next read, merging its writes meanwhile.
//!
//! A peer that batches its writes (a ferl node: 2 KB at the least) is left alone.
//!
//! The mark alone or the buffer alone did not help (docs/performance-log.md, 2026-12-05).
//! Together, in interleaved runs of BEAM->ferl, (d) went from 379-704k to 890-1001k msgs/s,
//! and (b) and (e) gained 5-10%. What stays below the mark when the stream stops is read at
//! most `FALLBACK` later: the reader lowers the mark when it has not been woken for that long,
//! and a new stream must show itself over a fresh sample before the mark goes up again.
//!
//! The buffer is set once and stays: the kernel cannot be given its autotuning back. A peer
//! whose window had grown large before the buffer shrank can overrun it once; the kernel then
//! resends what it dropped on its retransmission timeout, a 0.2 s stall (the unit test below
//! shows it after streaming 4 MB in 64 KB segments first).

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// A read at least this large is sampled at once, whatever the count of reads.
pub(crate) const RAISE_AFTER: usize = 32 * 1024;
/// The raised low-water mark.
pub(crate) const MARK: usize = 8 * 1024;
/// The receive buffer of a socket read by the mark (`SO_RCVBUF`; the kernel doubles it). Small
/// enough that what waits below the mark closes the window (small segments take far more of
/// the buffer than their bytes); large enough for a 64 KB loopback segment with that much
/// waiting: at 32 KB, a ferl peer's 64 KB segment was dropped again and again and the
/// connection hung.
pub(crate) const STREAM_RCVBUF: i32 = 72 * 1024;
/// Segments this small on average carry a message or a few each: a BEAM sender's, one
/// `writev` per message, averaged 130-470 bytes towards a ferl reader that kept up (bench rows
/// (b) and (d)). A ferl sender batches its writes: 2 KB at the least (the early write of a
/// burst's head, `outbox.rs`), 30-64 KB in a stream; under an 8 KB limit, a ferl->ferl bench
/// row's mix of the two passed for small.
const SMALL_SEGMENT: u64 = 1024;
/// Input at least this fast (bytes a second) is a stream: the mark is then reached within a
/// millisecond. A request/response peer on loopback (bench row (a)) sends about 5 MB/s.
const STREAM_RATE: u64 = 16 * 1024 * 1024;
/// Sending back at most a `ONE_WAY`th of what was received is a one-way stream. Replies (RPC,
/// gen_server calls) are about as large as their requests: under a raised mark, a request
/// left below it would wait for the fallback.
const ONE_WAY: u64 = 64;
/// Reads between two samples of the socket's counters.
const SAMPLE_EVERY: u32 = 32;
/// How long data may wait below a raised mark.
pub(crate) const FALLBACK: Duration = Duration::from_millis(1);

/// The socket's counters at one instant.
#[derive(Clone, Copy, Debug)]
struct Counters {
    at: Instant,
    /// `tcpi_bytes_received`.
    received: u64,
    /// `tcpi_data_segs_in`.
    segs: u32,
    /// `tcpi_bytes_acked`: what this side sent, as far as the peer acknowledged it.
    acked: u64,
}

/// The low-water mark of one connection's socket, as its reader drives it.
pub(crate) struct LowWater {
    fd: RawFd,
    raised: bool,
    /// The receive buffer was set to `STREAM_RCVBUF`.
    shrunk: bool,
    /// Reads since the last sample.
    reads: u32,
    last: Option<Counters>,
}

impl LowWater {
    pub(crate) fn new(fd: RawFd) -> LowWater {
        LowWater {
            fd,
            raised: false,
            shrunk: false,
            reads: 0,
            last: None,
        }
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.raised
    }

    /// After a read of `n` bytes: with the mark up, lower it when the read found less than
    /// the mark (the stream thinned out); else sample now and then, and raise it on a stream.
    pub(crate) fn after_read(&mut self, n: usize) {
        if self.raised {
            if n < MARK {
                self.lower();
            }
            return;
        }
        self.reads += 1;
        if self.reads < SAMPLE_EVERY && n < RAISE_AFTER {
            return;
        }
        self.reads = 0;
        let Some(now) = sys::counters(self.fd) else {
            return;
        };
        let stream = self.last.is_some_and(|last| is_stream(last, now));
        self.last = Some(now);
        if stream {
            if !self.shrunk {
                self.shrunk = sys::set_rcvbuf(self.fd, STREAM_RCVBUF);
            }
            self.raised = sys::set_mark(self.fd, MARK);
        }
    }

    /// Back to waking on every byte (the reader was not woken for `FALLBACK`, or a read found
    /// less than the mark). The next raise needs two fresh samples: the last one spans the
    /// stream.
    pub(crate) fn lower(&mut self) {
        if self.raised {
            // Lowering makes the kernel wake the reader at once if data is waiting.
            sys::set_mark(self.fd, 1);
            self.raised = false;
            self.reads = 0;
            self.last = None;
        }
    }
}

/// Whether the input between two samples was a one-way stream of small segments.
fn is_stream(last: Counters, now: Counters) -> bool {
    let bytes = now.received.wrapping_sub(last.received);
    let segs = u64::from(now.segs.wrapping_sub(last.segs));
    let sent = now.acked.wrapping_sub(last.acked);
    let nanos = now.at.saturating_duration_since(last.at).as_nanos();
    segs > 0
        && bytes / segs < SMALL_SEGMENT
        && sent <= bytes / ONE_WAY
        && u128::from(bytes) * 1_000_000_000 >= u128::from(STREAM_RATE) * nanos
}

/// Resolves `FALLBACK` after it is first polled when `raised`, never otherwise.
pub(crate) async fn fallback(raised: bool) {
    if raised {
        tokio::time::sleep(FALLBACK).await
    } else {
        std::future::pending().await
    }
}

#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
))]
mod sys {
    //! `SO_RCVLOWAT`, `SO_RCVBUF` and `TCP_INFO` (the asm-generic socket constants;
    //! `tcpi_data_segs_in` since Linux 4.6: on older kernels the struct is shorter and the mark
    //! is never raised).
    use super::Counters;
    use std::ffi::c_void;
    use std::os::fd::RawFd;
    use std::time::Instant;

    extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, val: *const c_void, len: u32) -> i32;
        fn getsockopt(fd: i32, level: i32, name: i32, val: *mut c_void, len: *mut u32) -> i32;
    }

    const SOL_SOCKET: i32 = 1;
    const SO_RCVBUF: i32 = 8;
    const SO_RCVLOWAT: i32 = 18;
    const IPPROTO_TCP: i32 = 6;
    const TCP_INFO: i32 = 11;
    /// Offsets of `tcpi_bytes_acked` (u64), `tcpi_bytes_received` (u64) and
    /// `tcpi_data_segs_in` (u32) in `tcp_info`.
    const BYTES_ACKED: usize = 120;
    const BYTES_RECEIVED: usize = 128;
    const DATA_SEGS_IN: usize = 152;

    fn set_int(fd: RawFd, name: i32, v: i32) -> bool {
        // SAFETY: `v` is a live i32 of the length given.
        unsafe { setsockopt(fd, SOL_SOCKET, name, (&v as *const i32).cast(), 4) == 0 }
    }

    #[cfg(test)]
    fn get_int(fd: RawFd, name: i32) -> Option<i32> {
        let (mut v, mut len) = (0i32, 4u32);
        // SAFETY: `v` and `len` are live and `len` is `v`'s size.
        let r = unsafe { getsockopt(fd, SOL_SOCKET, name, (&mut v as *mut i32).cast(), &mut len) };
        (r == 0).then_some(v)
    }

    pub(super) fn set_mark(fd: RawFd, bytes: usize) -> bool {
        set_int(fd, SO_RCVLOWAT, bytes as i32)
    }

    pub(super) fn set_rcvbuf(fd: RawFd, bytes: i32) -> bool {
        set_int(fd, SO_RCVBUF, bytes)
    }

    #[cfg(test)]
    pub(crate) fn mark(fd: RawFd) -> Option<i32> {
        get_int(fd, SO_RCVLOWAT)
    }

    #[cfg(test)]
    pub(crate) fn rcvbuf(fd: RawFd) -> Option<i32> {
        get_int(fd, SO_RCVBUF)
    }

    /// The socket's counters now.
    pub(super) fn counters(fd: RawFd) -> Option<Counters> {
        let mut info = [0u8; 256];
        let mut len = info.len() as u32;
        // SAFETY: `info` is live, writable and `len` bytes long.
        let r = unsafe {
            getsockopt(
                fd,
                IPPROTO_TCP,
                TCP_INFO,
                info.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if r != 0 || (len as usize) < DATA_SEGS_IN + 4 {
            return None;
        }
        let u64_at = |at: usize| info[at..at + 8].try_into().ok().map(u64::from_ne_bytes);
        let segs = info[DATA_SEGS_IN..DATA_SEGS_IN + 4].try_into().ok();
        Some(Counters {
            at: Instant::now(),
            received: u64_at(BYTES_RECEIVED)?,
            segs: u32::from_ne_bytes(segs?),
            acked: u64_at(BYTES_ACKED)?,
        })
    }
}

#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
)))]
mod sys {
    //! Elsewhere the mark and the buffer are left alone.
    use super::Counters;
    use std::os::fd::RawFd;

    pub(super) fn set_mark(_: RawFd, _: usize) -> bool {
        false
    }

    pub(super) fn set_rcvbuf(_: RawFd, _: i32) -> bool {
        false
    }

    pub(super) fn counters(_: RawFd) -> Option<Counters> {
        None
    }

    #[cfg(test)]
    pub(crate) fn mark(_: RawFd) -> Option<i32> {
        None
    }

    #[cfg(test)]
    pub(crate) fn rcvbuf(_: RawFd) -> Option<i32> {
        None
    }
}

#[cfg(test)]
pub(crate) use sys::mark;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let a = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        let (b, _) = l.accept().expect("accept");
        a.set_nodelay(true).expect("nodelay");
        b.set_nodelay(true).expect("nodelay");
        (a, b)
    }

    /// `total` bytes written by `a` as pieces of `piece` (which divides it), then read whole
    /// by `b`; the read's size.
    fn burst(a: &mut TcpStream, b: &mut TcpStream, piece: usize, total: usize) -> usize {
        assert_eq!(total % piece, 0);
        let chunk = vec![7u8; piece];
        for _ in 0..total / piece {
            a.write_all(&chunk).expect("write");
        }
        let mut buf = vec![0u8; total];
        b.read_exact(&mut buf).expect("read");
        total
    }

    /// Enough reads for two samples, each a `burst`, then `after_read`; `between` runs after
    /// each read.
    fn stream(
        lw: &mut LowWater,
        a: &mut TcpStream,
        b: &mut TcpStream,
        piece: usize,
        total: usize,
        mut between: impl FnMut(&mut TcpStream, &mut TcpStream),
    ) {
        for _ in 0..2 * SAMPLE_EVERY + 1 {
            let n = burst(a, b, piece, total);
            lw.after_read(n);
            between(a, b);
        }
    }

    /// 4 MB written by `a` in 256 KB writes (64 KB segments on loopback) from a thread, read
    /// whole by `b` (whose read timeout turns a hang into a failure); how long it took.
    fn large_segments(a: &mut TcpStream, b: &mut TcpStream) -> Duration {
        let t0 = Instant::now();
        let mut w = a.try_clone().expect("clone");
        let writer = std::thread::spawn(move || {
            let chunk = vec![7u8; 256 * 1024];
            for _ in 0..16 {
                w.write_all(&chunk).expect("write");
            }
        });
        let mut buf = vec![0u8; 16 * 256 * 1024];
        b.read_exact(&mut buf)
            .expect("4 MB in large segments arrive");
        writer.join().expect("writer");
        t0.elapsed()
    }

    fn counters(ms: u64, received: u64, segs: u32, acked: u64) -> Counters {
        static T0: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let t0 = *T0.get_or_init(Instant::now);
        Counters {
            at: t0 + Duration::from_millis(ms),
            received,
            segs,
            acked,
        }
    }

    #[test]
    fn a_stream_is_fast_small_segmented_and_one_way() {
        let last = counters(0, 0, 0, 0);
        let kb64 = 64 * 1024;
        assert!(
            is_stream(last, counters(1, kb64, 400, 0)),
            "64 MB/s of 160 B"
        );
        assert!(
            !is_stream(last, counters(10, kb64, 400, 0)),
            "6.4 MB/s is no stream"
        );
        let rate = STREAM_RATE;
        assert!(
            is_stream(last, counters(1000, rate, (rate / 1000) as u32, 0)),
            "STREAM_RATE is a stream"
        );
        assert!(
            !is_stream(last, counters(1000, rate - 1, (rate / 1000) as u32, 0)),
            "just under it is not"
        );
        assert!(
            !is_stream(last, counters(1, kb64, 4, 0)),
            "16 KB segments are a batching peer's"
        );
        assert!(
            !is_stream(last, counters(1, kb64, 64, 0)),
            "1 KB segments are not small"
        );
        assert!(
            is_stream(last, counters(1, kb64, 65, 0)),
            "1008-byte ones are"
        );
        assert!(
            is_stream(last, counters(1, kb64, 400, kb64 / ONE_WAY)),
            "replies of a 64th are still one way"
        );
        assert!(
            !is_stream(last, counters(1, kb64, 400, kb64 / ONE_WAY + 1)),
            "more than that are replies"
        );
        assert!(!is_stream(last, last), "nothing arrived");
        // The kernel's counters wrap.
        let last = Counters {
            received: u64::MAX - 99,
            segs: u32::MAX,
            acked: u64::MAX,
            ..last
        };
        assert!(is_stream(last, counters(1, kb64, 400, 0)));
    }

    #[test]
    fn the_mark_and_the_buffer_are_set_and_read_back_on_a_real_socket() {
        let (mut a, mut b) = pair();
        let fd = b.as_raw_fd();
        assert_eq!(mark(fd), Some(1));
        let before = sys::counters(fd).expect("TCP_INFO");
        burst(&mut a, &mut b, 1000, 10_000);
        burst(&mut b, &mut a, 1000, 3_000);
        let after = sys::counters(fd).expect("TCP_INFO");
        assert_eq!(after.received - before.received, 10_000, "bytes received");
        assert!(after.segs > before.segs, "data segments counted");
        assert_eq!(
            after.acked - before.acked,
            3_000,
            "bytes sent and acknowledged"
        );
        let mut lw = LowWater::new(fd);
        assert!(sys::set_mark(fd, MARK));
        lw.raised = true;
        assert_eq!(mark(fd), Some(MARK as i32));
        lw.lower();
        assert!(!lw.is_raised());
        assert_eq!(mark(fd), Some(1));
        assert!(sys::set_rcvbuf(fd, STREAM_RCVBUF));
        // Linux doubles what it is given, for its own overhead.
        assert_eq!(sys::rcvbuf(fd), Some(2 * STREAM_RCVBUF));
    }

    #[test]
    fn a_one_way_stream_of_small_segments_raises_the_mark_and_shrinks_the_buffer() {
        let (mut a, mut b) = pair();
        let fd = b.as_raw_fd();
        b.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        // First a fast stream of large segments, as from a ferl peer: the kernel grows the
        // buffer and the window.
        large_segments(&mut a, &mut b);
        let autotuned = sys::rcvbuf(fd).expect("SO_RCVBUF");
        let mut lw = LowWater::new(fd);
        stream(&mut lw, &mut a, &mut b, 200, 16_000, |_, _| {});
        assert!(lw.is_raised());
        assert_eq!(mark(fd), Some(MARK as i32));
        assert_eq!(sys::rcvbuf(fd), Some(2 * STREAM_RCVBUF));
        assert_ne!(
            autotuned,
            2 * STREAM_RCVBUF,
            "the buffer was another size before"
        );
        // Then large segments again: they still fit in the smaller buffer. (At 32 KB the kernel
        // dropped them again and again, even into an empty buffer, each resent only on its
        // retransmission timeout: 4 MB took 12.7 s here, and a ferl->ferl bench row hung.)
        let took = large_segments(&mut a, &mut b);
        assert!(took < Duration::from_secs(3), "4 MB took {took:?}");
        // A read below the mark lowers it; a new stream must show itself afresh.
        lw.after_read(MARK - 1);
        assert!(!lw.is_raised());
        assert_eq!(mark(fd), Some(1));
        assert!(lw.last.is_none() && lw.reads == 0);
    }

    #[test]
    fn replies_large_segments_or_a_trickle_leave_the_mark_alone() {
        let replies = |a: &mut TcpStream, b: &mut TcpStream| {
            burst(b, a, 1000, 16_000);
        };
        type Between = Box<dyn FnMut(&mut TcpStream, &mut TcpStream)>;
        let cases: [(&str, usize, usize, Between); 3] = [
            ("requests answered in kind", 1000, 16_000, Box::new(replies)),
            ("40 KB writes", 40 * 1024, 40 * 1024, Box::new(|_, _| {})),
            (
                "1 KB every 2 ms",
                200,
                1000,
                Box::new(|_, _| std::thread::sleep(Duration::from_millis(2))),
            ),
        ];
        for (what, piece, total, between) in cases {
            let (mut a, mut b) = pair();
            let fd = b.as_raw_fd();
            let mut lw = LowWater::new(fd);
            stream(&mut lw, &mut a, &mut b, piece, total, between);
            assert!(!lw.is_raised(), "{what}");
            assert_eq!(mark(fd), Some(1), "{what}");
            // Left to the kernel's autotuning, which may have grown it.
            assert_ne!(sys::rcvbuf(fd), Some(2 * STREAM_RCVBUF), "{what}");
        }
    }
}
