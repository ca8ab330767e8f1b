//! Fuzz the distribution decoders: a frame parser fed arbitrary bytes and the control-message
//! decoders fed arbitrary frame bodies must give a value or an error, never a panic or a hang.
//! The input is also read as a connection's reader reads a chunk: packets found in place
//! (`frame::next_at`), header packets decoded out of the chunk with one atom cache for the
//! whole stream, each message onto a batch that an error leaves as it was.
#![no_main]

use bytes::{Bytes, BytesMut};
use dist::frame::{self, FrameAt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dist::Message::decode(Bytes::copy_from_slice(data));
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = frame::parse(&mut buf, 1 << 20) {
        let _ = frame;
    }
    let chunk = Bytes::copy_from_slice(data);
    let (mut cache, mut batch, mut at) = (dist::AtomCache::default(), Vec::new(), 0);
    while let Ok(Some((packet, next))) = frame::next_at(&chunk, at, 1 << 20) {
        assert!(next > at, "a packet moves the offset on");
        at = next;
        let before = batch.len();
        let r = match packet {
            FrameAt::Tick => continue,
            FrameAt::PassThrough(body) => dist::Message::decode_onto(chunk.slice(body), &mut batch),
            FrameAt::DistHeader(body) => {
                dist::Message::decode_with_header_in(&chunk, body, &mut cache, &mut batch)
            }
        };
        assert_eq!(batch.len(), before + usize::from(r.is_ok()));
    }
});
