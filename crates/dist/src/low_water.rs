//! Fewer wake-ups for a peer that streams small segments. A BEAM node makes one `writev` per
//! message it sends; a receiver that keeps up is woken for about every segment (0.5-4 KB), and
//! on loopback the sender's kernel runs that wake-up inside its own send. Measured in `ferl
//! bench`, BEAM->ferl, the Elixir sender then paid 40% more per message than towards a BEAM
//! receiver, which is slower and so lets data pile up: the sender was the bound, and ferl was
//! the slow end without being slow.
//!
//! So while reads keep finding `RAISE_AFTER` bytes or more queued and the peer's data segments
//! average under `SMALL_SEGMENT` bytes, the socket's receive low-water mark (`SO_RCVLOWAT`) is
//! raised to `MARK`: the kernel wakes the reader once per `MARK` bytes instead of once per
//! segment. What stays below the mark when the stream pauses is read at most `FALLBACK`
//! later: the reader lowers the mark again when it has not been woken for that long. A peer
//! that writes large segments is left alone (a ferl node batches its writes: 30-64 KB).

use std::os::fd::RawFd;
use std::time::Duration;

/// A read at least this large means the stream outruns the wake-ups.
pub(crate) const RAISE_AFTER: usize = 32 * 1024;
/// The raised low-water mark.
pub(crate) const MARK: usize = 16 * 1024;
/// Segments this small on average carry a message or a few each: at the large reads of
/// `ferl bench` (b), a BEAM sender's data segments averaged 0.5-4 KB, a ferl sender's
/// (which batches its writes) 30-64 KB.
const SMALL_SEGMENT: u64 = 8 * 1024;
/// How long data may wait below a raised mark.
pub(crate) const FALLBACK: Duration = Duration::from_millis(1);

/// The low-water mark of one connection's socket, as its reader drives it.
pub(crate) struct LowWater {
    fd: RawFd,
    raised: bool,
    /// Bytes and data segments received, at the last large read.
    last: Option<(u64, u32)>,
}

impl LowWater {
    pub(crate) fn new(fd: RawFd) -> LowWater {
        LowWater {
            fd,
            raised: false,
            last: None,
        }
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.raised
    }

    /// After a read of `n` bytes: raise the mark when large reads find small segments, lower
    /// it when a read found less than the mark (the stream thinned out).
    pub(crate) fn after_read(&mut self, n: usize) {
        if self.raised {
            if n < MARK {
                self.lower();
            }
            return;
        }
        if n < RAISE_AFTER {
            return;
        }
        let Some(now) = sys::received(self.fd) else {
            return;
        };
        if self.small_segments_since_last(now) && sys::set_mark(self.fd, MARK) {
            self.raised = true;
        }
    }

    /// Whether the data segments received since the last sample (`now`: bytes and data
    /// segments received so far) average under `SMALL_SEGMENT`; `now` becomes the sample.
    fn small_segments_since_last(&mut self, now: (u64, u32)) -> bool {
        let small = self.last.is_some_and(|(bytes, segs)| {
            let bytes = now.0.wrapping_sub(bytes);
            let segs = u64::from(now.1.wrapping_sub(segs));
            segs > 0 && bytes / segs < SMALL_SEGMENT
        });
        self.last = Some(now);
        small
    }

    /// Back to waking on every byte (the reader was not woken for `FALLBACK`).
    pub(crate) fn lower(&mut self) {
        if self.raised {
            // Lowering makes the kernel wake the reader at once if data is waiting.
            sys::set_mark(self.fd, 1);
            self.raised = false;
        }
    }
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
    //! `SO_RCVLOWAT` and `TCP_INFO` (the asm-generic socket constants; `tcpi_data_segs_in`
    //! since Linux 4.6: on older kernels the struct is shorter and the mark is never raised).
    use std::ffi::c_void;
    use std::os::fd::RawFd;

    extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, val: *const c_void, len: u32) -> i32;
        fn getsockopt(fd: i32, level: i32, name: i32, val: *mut c_void, len: *mut u32) -> i32;
    }

    const SOL_SOCKET: i32 = 1;
    const SO_RCVLOWAT: i32 = 18;
    const IPPROTO_TCP: i32 = 6;
    const TCP_INFO: i32 = 11;
    /// Offsets of `tcpi_bytes_received` (u64) and `tcpi_data_segs_in` (u32) in `tcp_info`.
    const BYTES_RECEIVED: usize = 128;
    const DATA_SEGS_IN: usize = 152;

    pub(super) fn set_mark(fd: RawFd, bytes: usize) -> bool {
        let v = bytes as i32;
        // SAFETY: `v` is a live i32 of the length given.
        unsafe { setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, (&v as *const i32).cast(), 4) == 0 }
    }

    #[cfg(test)]
    pub(crate) fn mark(fd: RawFd) -> Option<i32> {
        let (mut v, mut len) = (0i32, 4u32);
        // SAFETY: `v` and `len` are live and `len` is `v`'s size.
        let r = unsafe {
            getsockopt(
                fd,
                SOL_SOCKET,
                SO_RCVLOWAT,
                (&mut v as *mut i32).cast(),
                &mut len,
            )
        };
        (r == 0).then_some(v)
    }

    /// Bytes and data segments received on the socket so far.
    pub(super) fn received(fd: RawFd) -> Option<(u64, u32)> {
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
        let bytes = u64::from_ne_bytes(info[BYTES_RECEIVED..BYTES_RECEIVED + 8].try_into().ok()?);
        let segs = u32::from_ne_bytes(info[DATA_SEGS_IN..DATA_SEGS_IN + 4].try_into().ok()?);
        Some((bytes, segs))
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
    //! Elsewhere the mark is left alone.
    use std::os::fd::RawFd;

    pub(super) fn set_mark(_: RawFd, _: usize) -> bool {
        false
    }

    pub(super) fn received(_: RawFd) -> Option<(u64, u32)> {
        None
    }

    #[cfg(test)]
    pub(crate) fn mark(_: RawFd) -> Option<i32> {
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
        (a, b)
    }

    /// `total` bytes written as pieces of `piece`, then read whole by `b`; the read's size.
    fn burst(a: &mut TcpStream, b: &mut TcpStream, piece: usize, total: usize) -> usize {
        let chunk = vec![7u8; piece];
        for _ in 0..total / piece {
            a.write_all(&chunk).expect("write");
        }
        let mut buf = vec![0u8; total];
        b.read_exact(&mut buf).expect("read");
        total
    }

    #[test]
    fn the_average_segment_since_the_last_sample_decides() {
        let small = SMALL_SEGMENT;
        let mut lw = LowWater::new(-1);
        assert!(
            !lw.small_segments_since_last((0, 0)),
            "the first sample only records"
        );
        assert!(
            lw.small_segments_since_last((100 * 400, 100)),
            "400 B per segment"
        );
        let (b, s) = (100 * 400 + 10 * 2 * small, 110);
        assert!(
            !lw.small_segments_since_last((b, s)),
            "twice the limit per segment"
        );
        assert!(!lw.small_segments_since_last((b, s)), "nothing new arrived");
        assert!(
            lw.small_segments_since_last((b + small - 1, s + 1)),
            "just under"
        );
        let (b, s) = (b + small - 1, s + 1);
        assert!(
            !lw.small_segments_since_last((b + small, s + 1)),
            "the limit is not under it"
        );
        // The kernel's counters wrap.
        let mut lw = LowWater::new(-1);
        lw.small_segments_since_last((u64::MAX - 99, u32::MAX));
        assert!(lw.small_segments_since_last((400, 4)));
    }

    #[test]
    fn the_mark_is_set_read_back_and_lowered_on_a_real_socket() {
        let (mut a, mut b) = pair();
        let fd = b.as_raw_fd();
        assert_eq!(mark(fd), Some(1));
        let before = sys::received(fd).expect("TCP_INFO");
        burst(&mut a, &mut b, 1000, 10_000);
        let after = sys::received(fd).expect("TCP_INFO");
        assert_eq!(after.0 - before.0, 10_000, "bytes received");
        assert!(after.1 > before.1, "data segments counted");
        let mut lw = LowWater::new(fd);
        assert!(sys::set_mark(fd, MARK));
        lw.raised = true;
        assert_eq!(mark(fd), Some(MARK as i32));
        lw.lower();
        assert!(!lw.is_raised());
        assert_eq!(mark(fd), Some(1));
    }

    #[test]
    fn large_segments_or_small_reads_leave_the_mark_alone() {
        let (mut a, mut b) = pair();
        let mut lw = LowWater::new(b.as_raw_fd());
        for _ in 0..3 {
            let n = burst(&mut a, &mut b, 40 * 1024, 40 * 1024);
            lw.after_read(n);
        }
        assert!(!lw.is_raised(), "40 KB writes are not per-message segments");
        for _ in 0..3 {
            let n = burst(&mut a, &mut b, 64, RAISE_AFTER / 2);
            lw.after_read(n);
        }
        assert!(!lw.is_raised(), "reads that keep up need no mark");
        assert_eq!(mark(b.as_raw_fd()), Some(1));
    }
}
