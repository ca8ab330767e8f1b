//! Fuzz the borrowed view decoder against the owned one: any bytes must give the same result
//! from both (an equal term, or the same `DecodeError`), never a panic, abort, stack overflow or
//! oversized allocation; one `view::Decoder` is reused across inputs, as the runtime does.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;

thread_local! {
    static VIEW: RefCell<etf::view::Decoder> = RefCell::new(etf::view::Decoder::new());
}

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    let owned = etf::decode(&input);
    VIEW.with(|d| {
        let mut d = d.borrow_mut();
        match (d.decode(&input), &owned) {
            (Ok(v), Ok(t)) => {
                assert_eq!(&v.to_term(&input), t);
                assert_eq!(&v.to_term_copied(), t);
            }
            (Err(e), Err(o)) => assert_eq!(&e, o),
            (v, o) => panic!("view {:?} vs owned {:?}", v.map(|v| v.to_term_copied()), o),
        }
        // Several terms in one packet (control message, then payload), as the dist layer does.
        d.clear();
        let mut pos = 0;
        while pos < input.len() {
            match d.push_external(&input, pos) {
                Ok((root, end)) => {
                    let _ = d.view(&input, root).map(|v| v.to_term_copied());
                    pos = end;
                }
                Err(_) => break,
            }
        }
    });
});
