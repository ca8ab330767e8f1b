//! Fuzz the port-mapper protocol: requests and every reply decoder on arbitrary bytes.
#![no_main]

use epmd::proto::{decode_frame, decode_kill_reply, Alive2Reply, NamesReply, PortPlease2Reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_frame(data);
    let _ = Alive2Reply::decode(data);
    let _ = PortPlease2Reply::decode(data);
    let _ = NamesReply::decode(data);
    let _ = decode_kill_reply(data);
});
