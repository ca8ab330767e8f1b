//! Fuzz the distribution decoders: a frame parser fed arbitrary bytes and the control-message
//! decoder fed arbitrary frame bodies must give a value or an error, never a panic or a hang.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dist::Message::decode(Bytes::copy_from_slice(data));
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = dist::frame::parse(&mut buf, 1 << 20) {
        let _ = frame;
    }
});
