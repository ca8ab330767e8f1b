//! Framing after the handshake: a 4-byte big-endian length, then the packet; a zero length is a
//! tick. ferl sends pass-through packets (`112`); it receives those and, from a peer that uses
//! the atom cache, packets with a distribution header (`131 68`). No fragments.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::ops::Range;

/// The pass-through packet type byte.
pub const PASS_THROUGH: u8 = 112;

/// Default largest packet accepted from a peer (64 MiB); configurable per connection.
pub const DEFAULT_MAX_PACKET: usize = 64 << 20;

/// One packet from the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A zero-length keep-alive.
    Tick,
    /// A pass-through packet: the bytes after `112` (`131 Ctrl [131 Payload]`).
    PassThrough(Bytes),
    /// A packet with a distribution header: the bytes after `131 68` (header, then `Ctrl`
    /// and `Payload` without version bytes).
    DistHeader(Bytes),
}

/// What was wrong with a packet's framing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("oversized packet: {len} bytes (limit {max})")]
    Oversized { len: usize, max: usize },
    #[error(
        "fragmented distribution header (131 {0}) received, but fragments were not negotiated"
    )]
    DistHeader(u8),
    #[error("unknown packet type {0} (only pass-through 112 is spoken)")]
    UnknownType(u8),
}

/// Where one packet lies in a buffer: as `Frame`, with each body as a range of the buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameAt {
    Tick,
    PassThrough(Range<usize>),
    DistHeader(Range<usize>),
}

/// The packet that starts at `at` of `buf` and the offset just after it; `Ok(None)`: it is
/// not all there yet. The size limit is checked as soon as the length is known, so a peer
/// cannot make us buffer a huge packet.
pub fn next_at(
    buf: &[u8],
    at: usize,
    max_packet: usize,
) -> Result<Option<(FrameAt, usize)>, FrameError> {
    let Some(len) = declared_len(buf, at) else {
        return Ok(None);
    };
    if len > max_packet {
        return Err(FrameError::Oversized {
            len,
            max: max_packet,
        });
    }
    let start = at + 4;
    let Some(packet) = buf.get(start..start + len) else {
        return Ok(None);
    };
    let end = start + len;
    let frame = match packet {
        [] => FrameAt::Tick,
        [PASS_THROUGH, ..] => FrameAt::PassThrough(start + 1..end),
        [131, 68, ..] => FrameAt::DistHeader(start + 2..end),
        [131, t @ 69..=70, ..] => return Err(FrameError::DistHeader(*t)),
        [other, ..] => return Err(FrameError::UnknownType(*other)),
    };
    Ok(Some((frame, end)))
}

/// The length of the packet at `at`, once its 4-byte prefix is there.
fn declared_len(buf: &[u8], at: usize) -> Option<usize> {
    let prefix = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(prefix.try_into().ok()?) as usize)
}

/// Makes room in `buf` for the rest of the incomplete packet at its front in one allocation,
/// rather than growing step by step as it arrives.
pub fn reserve_for_next(buf: &mut BytesMut) {
    if let Some(len) = declared_len(buf, 0) {
        buf.reserve((4 + len).saturating_sub(buf.len()));
    }
}

/// Splits one packet off the front of `buf` (`next_at` for a buffer consumed packet by
/// packet). `Ok(None)`: incomplete, read more; room for the rest is reserved.
pub fn parse(buf: &mut BytesMut, max_packet: usize) -> Result<Option<Frame>, FrameError> {
    let Some((frame, end)) = next_at(buf, 0, max_packet)? else {
        reserve_for_next(buf);
        return Ok(None);
    };
    let mut packet = buf.split_to(end);
    Ok(Some(match frame {
        FrameAt::Tick => Frame::Tick,
        FrameAt::PassThrough(body) => {
            packet.advance(body.start);
            Frame::PassThrough(packet.freeze())
        }
        FrameAt::DistHeader(body) => {
            packet.advance(body.start);
            Frame::DistHeader(packet.freeze())
        }
    }))
}

/// Appends a tick (four zero bytes).
pub fn put_tick(buf: &mut BytesMut) {
    buf.put_u32(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_packets_and_partial_input() {
        let mut b = BytesMut::from(&[0, 0, 0, 0, 0, 0, 0, 3, 112, 131, 106, 0, 0][..]);
        assert_eq!(parse(&mut b, 100), Ok(Some(Frame::Tick)));
        assert_eq!(
            parse(&mut b, 100),
            Ok(Some(Frame::PassThrough(Bytes::from_static(&[131, 106]))))
        );
        assert_eq!(parse(&mut b, 100), Ok(None));
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn packets_are_found_in_place_one_after_another() {
        // A tick, a pass-through packet, a header packet, then the start of another.
        let buf = [
            0, 0, 0, 0, 0, 0, 0, 3, 112, 131, 106, 0, 0, 0, 4, 131, 68, 0, 9, 0, 0, 0, 9, 112,
        ];
        assert_eq!(next_at(&buf, 0, 100), Ok(Some((FrameAt::Tick, 4))));
        assert_eq!(
            next_at(&buf, 4, 100),
            Ok(Some((FrameAt::PassThrough(9..11), 11)))
        );
        assert_eq!(
            next_at(&buf, 11, 100),
            Ok(Some((FrameAt::DistHeader(17..19), 19)))
        );
        assert_eq!(next_at(&buf, 19, 100), Ok(None), "5 of 13 bytes");
        assert_eq!(next_at(&buf, 21, 100), Ok(None), "half a length");
        assert_eq!(next_at(&buf, buf.len(), 100), Ok(None));
        // Limits and types are checked where the packet is, not at the front.
        assert_eq!(
            next_at(&buf, 19, 8),
            Err(FrameError::Oversized { len: 9, max: 8 })
        );
        assert_eq!(
            next_at(&[9, 0, 0, 0, 1, 7], 1, 100),
            Err(FrameError::UnknownType(7))
        );
    }

    #[test]
    fn bad_packets() {
        let mut b = BytesMut::from(&[0, 0, 1, 0][..]);
        assert_eq!(
            parse(&mut b, 255),
            Err(FrameError::Oversized { len: 256, max: 255 })
        );
        let mut b = BytesMut::from(&[0, 0, 0, 3, 131, 68, 0][..]);
        assert_eq!(
            parse(&mut b, 255),
            Ok(Some(Frame::DistHeader(Bytes::from_static(&[0]))))
        );
        let mut b = BytesMut::from(&[0, 0, 0, 3, 131, 69, 0][..]);
        assert_eq!(parse(&mut b, 255), Err(FrameError::DistHeader(69)));
        let mut b = BytesMut::from(&[0, 0, 0, 1, 7][..]);
        assert_eq!(parse(&mut b, 255), Err(FrameError::UnknownType(7)));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_and_next_at_agree_and_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100), max in 0usize..64) {
            let mut b = BytesMut::from(&bytes[..]);
            let mut at = 0;
            // In place and split off one by one, the same packets in the same places.
            while let Ok(Some((frame, next))) = next_at(&bytes, at, max) {
                let split = parse(&mut b, max);
                let body = |r: std::ops::Range<usize>| Bytes::copy_from_slice(&bytes[r]);
                let want = match frame {
                    FrameAt::Tick => Frame::Tick,
                    FrameAt::PassThrough(r) => Frame::PassThrough(body(r)),
                    FrameAt::DistHeader(r) => Frame::DistHeader(body(r)),
                };
                prop_assert_eq!(split, Ok(Some(want)));
                prop_assert!(next > at);
                at = next;
            }
            match next_at(&bytes, at, max) {
                Ok(None) => prop_assert_eq!(parse(&mut b, max), Ok(None)),
                Err(e) => prop_assert_eq!(parse(&mut b, max), Err(e)),
                Ok(Some(_)) => unreachable!("the loop took every complete packet"),
            }
        }
    }
}
