//! Fuzz the handshake: every message decoder on arbitrary bodies, and both state machines fed
//! arbitrary peer bytes, must answer with a value or an error, never a panic.
#![no_main]

use dist::handshake_msg::{Expect, HsMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for e in [
        Expect::Name,
        Expect::Status,
        Expect::Challenge,
        Expect::ChallengeReply,
        Expect::ChallengeAck,
    ] {
        let _ = HsMessage::decode(e, data);
    }
    let cfg = || dist::HandshakeConfig {
        our_name: etf::Atom::new("fuzz@host"),
        cookie: dist::Cookie::new("c"),
        flags: dist::flags::DEFAULT,
        creation: 1,
    };
    let mut a = dist::Acceptor::new(cfg(), 7);
    a.feed(data);
    let mut i = dist::Initiator::new(cfg(), etf::Atom::new("peer@host"), 7);
    i.feed(data);
});
