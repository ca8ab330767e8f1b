//! Fuzz the `:global` message codec: any decodable term a peer sends to `global_name_server`
//! gives a typed message or an error, and a typed message re-encodes to the same term.
#![no_main]

use bytes::Bytes;
use ferl::global::messages::Incoming;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(t) = etf::decode(&Bytes::copy_from_slice(data)) else {
        return;
    };
    if let Ok(m) = Incoming::from_term(&t) {
        assert_eq!(Incoming::from_term(&m.to_term()), Ok(m));
    }
});
