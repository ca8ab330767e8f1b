//! Fuzz the ETF decoder: any bytes must give a term or a `DecodeError`, never a panic, abort,
//! stack overflow or oversized allocation; whatever decodes must re-encode and decode equal.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    if let Ok(t) = etf::decode(&input) {
        let again = etf::decode(&etf::encode(&t)).expect("re-encoded term decodes");
        assert_eq!(again, t);
        let _ = t.erlang().to_string();
        let _ = t.elixir().to_string();
    }
    // Frames holding several terms go through the sequential decoder.
    let mut d = etf::Decoder::new(input);
    while d.remaining() > 0 && d.decode_external().is_ok() {}
});
