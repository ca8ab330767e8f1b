//! Framing after the handshake: a 4-byte big-endian length, then the packet; a zero length is a
//! tick. ferl sends pass-through packets (`112`); it receives those and, from a peer that uses
//! the atom cache, packets with a distribution header (`131 68`). No fragments.

use bytes::{Buf, BufMut, Bytes, BytesMut};

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

/// Splits one packet off the front of `buf`. `Ok(None)`: incomplete, read more. The size limit
/// is checked as soon as the length is known, so a peer cannot make us buffer a huge packet.
pub fn parse(buf: &mut BytesMut, max_packet: usize) -> Result<Option<Frame>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > max_packet {
        return Err(FrameError::Oversized {
            len,
            max: max_packet,
        });
    }
    if buf.len() < 4 + len {
        // Make room for the rest in one allocation rather than growing step by step.
        buf.reserve(4 + len - buf.len());
        return Ok(None);
    }
    buf.advance(4);
    if len == 0 {
        return Ok(Some(Frame::Tick));
    }
    let mut packet = buf.split_to(len).freeze();
    match packet[0] {
        PASS_THROUGH => {
            packet.advance(1);
            Ok(Some(Frame::PassThrough(packet)))
        }
        131 if packet.len() > 1 && packet[1] == 68 => {
            packet.advance(2);
            Ok(Some(Frame::DistHeader(packet)))
        }
        131 if packet.len() > 1 && matches!(packet[1], 69..=70) => {
            Err(FrameError::DistHeader(packet[1]))
        }
        other => Err(FrameError::UnknownType(other)),
    }
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
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100), max in 0usize..64) {
            let mut b = BytesMut::from(&bytes[..]);
            while let Ok(Some(_)) = parse(&mut b, max) {}
        }
    }
}
