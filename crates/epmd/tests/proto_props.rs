//! Property tests of the wire codec: every decoder is total over arbitrary bytes, and every
//! message survives encode -> decode unchanged.

use ferl_epmd as epmd;

use epmd::proto::{decode_frame, Alive2Reply, NamesReply, NodeInfo, PortPlease2Reply, Request};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    // Printable names, including non-ASCII; epmd allows any UTF-8 without NUL.
    "[a-zA-Z0-9_\\-\u{e9}\u{4e2d}]{1,40}"
}

fn node_info() -> impl Strategy<Value = NodeInfo> {
    (
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        name(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(port, node_type, protocol, high, low, name, extra)| NodeInfo {
                port,
                node_type,
                protocol,
                high,
                low,
                name,
                extra,
            },
        )
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        node_info().prop_map(Request::Alive2),
        name().prop_map(Request::PortPlease2),
        Just(Request::Names),
        Just(Request::Dump),
        Just(Request::Kill),
    ]
}

proptest! {
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_frame(&bytes);
        let _ = Request::decode_body(&bytes);
        let _ = Alive2Reply::decode(&bytes);
        let _ = PortPlease2Reply::decode(&bytes);
        let _ = NamesReply::decode(&bytes);
        let _ = epmd::proto::node_name(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_near_valid_input(req in request(), cut in 0usize..200, flip in any::<(usize, u8)>()) {
        let mut frame = req.encode_frame();
        let i = flip.0 % frame.len();
        frame[i] ^= flip.1;
        frame.truncate(frame.len().saturating_sub(cut % 4));
        let _ = decode_frame(&frame);
    }

    #[test]
    fn requests_round_trip(req in request()) {
        let frame = req.encode_frame();
        prop_assert_eq!(decode_frame(&frame), Ok(Some((req.clone(), frame.len()))));
        prop_assert_eq!(Request::decode_body(&req.encode_body()), Ok(req));
    }

    #[test]
    fn alive2_replies_round_trip(result in any::<u8>(), creation in any::<u32>(), extended in any::<bool>()) {
        let creation = if extended { creation } else { creation & 0xffff };
        let reply = Alive2Reply { result, creation, extended };
        prop_assert_eq!(Alive2Reply::decode(&reply.encode()), Ok(reply));
    }

    #[test]
    fn port2_replies_round_trip(info in node_info(), code in 1u8..) {
        let found = PortPlease2Reply::Found(info);
        prop_assert_eq!(PortPlease2Reply::decode(&found.encode()), Ok(found));
        let missing = PortPlease2Reply::NotFound(code);
        prop_assert_eq!(PortPlease2Reply::decode(&missing.encode()), Ok(missing));
    }

    #[test]
    fn names_replies_round_trip(epmd_port in any::<u32>(), names in proptest::collection::vec((name(), any::<u16>()), 0..20)) {
        let reply = NamesReply { epmd_port, names };
        prop_assert_eq!(NamesReply::decode(&reply.encode()), Ok(reply));
    }
}
