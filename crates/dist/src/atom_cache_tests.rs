//! The atom cache header reader against a writer that follows the spec's layout, including
//! odd and even reference counts (where the LongAtoms half byte goes) and 2-byte lengths.

use super::*;
use proptest::prelude::*;

/// A header as `erl_ext_dist` lays it out: per reference (new?, segment, index, text).
pub(crate) fn header(refs: &[(bool, u8, u8, &str)], long_atoms: bool) -> Vec<u8> {
    let n = refs.len();
    let mut out = vec![n as u8];
    if n == 0 {
        return out;
    }
    let mut flags = vec![0u8; n / 2 + 1];
    for (i, (new, seg, _, _)) in refs.iter().enumerate() {
        flags[i / 2] |= (((*new as u8) << 3) | seg) << (4 * (i % 2));
    }
    flags[n / 2] |= (long_atoms as u8) << (4 * (n % 2));
    out.extend(flags);
    for (new, _, idx, text) in refs {
        out.push(*idx);
        if *new {
            if long_atoms {
                out.extend((text.len() as u16).to_be_bytes());
            } else {
                out.push(text.len() as u8);
            }
            out.extend(text.as_bytes());
        }
    }
    out
}

#[test]
fn new_entries_then_cached_references() {
    let mut c = AtomCache::default();
    let mut refs = Vec::new();
    let h = header(&[(true, 0, 5, "push"), (true, 7, 255, "bench_sink")], false);
    assert_eq!(c.read_header(&h, &mut refs), Ok(h.len()));
    assert_eq!(refs, vec![Atom::new("push"), Atom::new("bench_sink")]);
    // Odd count: the LongAtoms half byte shares the last flag byte.
    let h = header(
        &[
            (false, 7, 255, ""),
            (false, 0, 5, ""),
            (true, 3, 1, "héllo"),
        ],
        true,
    );
    assert_eq!(c.read_header(&h, &mut refs), Ok(h.len()));
    assert_eq!(
        refs,
        vec![
            Atom::new("bench_sink"),
            Atom::new("push"),
            Atom::new("héllo")
        ]
    );
    // A new entry replaces the slot's atom for later headers.
    let h = header(&[(true, 0, 5, "pop")], false);
    c.read_header(&h, &mut refs).expect("header");
    let h = header(&[(false, 0, 5, "")], false);
    c.read_header(&h, &mut refs).expect("header");
    assert_eq!(refs, vec![Atom::new("pop")]);
    assert_eq!(c.read_header(&[0], &mut refs), Ok(1));
    assert!(refs.is_empty());
}

/// A packet: `h` and 16 bytes after it (a control message would follow), so that a header
/// the cache remembers can be compared as one word.
fn packet(h: &[u8]) -> Vec<u8> {
    let mut body = h.to_vec();
    body.extend([0x83; 16]);
    body
}

/// A stream's repeated header is read from the last one: the same atoms, whatever follows it,
/// without going through the slots again (`read_last` takes it).
#[test]
fn a_repeated_header_is_read_as_the_last_one() {
    let mut c = AtomCache::default();
    let mut refs = Vec::new();
    let fill = header(&[(true, 0, 0, "bench_sink"), (true, 2, 9, "push")], false);
    c.read_header(&packet(&fill), &mut refs).expect("fill");
    let h = header(&[(false, 2, 9, ""), (false, 0, 0, "")], false);
    let want = vec![Atom::new("push"), Atom::new("bench_sink")];
    for tail in [0u8, 7, 255] {
        let mut body = packet(&h);
        body[h.len()..].fill(tail);
        assert_eq!(c.read_header(&body, &mut refs), Ok(h.len()));
        assert_eq!(refs, want);
        assert_eq!(c.read_last(&body, &mut Vec::new()), Some(h.len()));
    }
    // Another header of the same length is not taken for it.
    let other = header(&[(false, 0, 0, ""), (false, 2, 9, "")], false);
    assert_eq!(c.read_last(&packet(&other), &mut Vec::new()), None);
    assert_eq!(c.read_header(&packet(&other), &mut refs), Ok(other.len()));
    assert_eq!(refs, vec![Atom::new("bench_sink"), Atom::new("push")]);
}

/// A header that fills a slot changes what a remembered header's references name: the next
/// read of that header gives the slot's new atom.
#[test]
fn a_header_that_fills_slots_forgets_the_last_one() {
    let mut c = AtomCache::default();
    let mut refs = Vec::new();
    let fill = header(&[(true, 1, 4, "a"), (true, 1, 5, "b")], false);
    c.read_header(&packet(&fill), &mut refs).expect("fill");
    let h = packet(&header(&[(false, 1, 4, ""), (false, 1, 5, "")], false));
    c.read_header(&h, &mut refs).expect("cached");
    assert_eq!(refs, vec![Atom::new("a"), Atom::new("b")]);
    let refill = header(&[(true, 1, 4, "c")], false);
    c.read_header(&packet(&refill), &mut refs).expect("refill");
    c.read_header(&h, &mut refs).expect("cached again");
    assert_eq!(refs, vec![Atom::new("c"), Atom::new("b")]);
}

#[test]
fn specific_errors() {
    let mut c = AtomCache::default();
    let mut refs = Vec::new();
    let h = header(&[(false, 2, 9, "")], false);
    assert_eq!(
        c.read_header(&h, &mut refs),
        Err(HeaderError::EmptySlot {
            index: 0,
            slot: 2 * 256 + 9
        })
    );
    let h = header(&[(true, 0, 1, "abc")], false);
    assert_eq!(
        c.read_header(&h[..h.len() - 1], &mut refs),
        Err(HeaderError::Truncated)
    );
    let mut bad = header(&[(true, 0, 1, "ab")], false);
    let last = bad.len() - 1;
    bad[last] = 0xff;
    assert_eq!(c.read_header(&bad, &mut refs), Err(HeaderError::BadUtf8));
    assert_eq!(c.read_header(&[], &mut refs), Err(HeaderError::Truncated));
}

proptest! {
    /// A random run of headers against a model of the cache: every reference resolves to the
    /// atom the model says, whatever the count's parity and the length width.
    #[test]
    fn headers_resolve_like_the_model(
        msgs in proptest::collection::vec(
            (proptest::collection::vec((any::<bool>(), 0u8..8, any::<u8>(), "[a-z]{0,12}"), 0..40), any::<bool>()),
            1..20)
    ) {
        let mut c = AtomCache::default();
        let mut model: std::collections::HashMap<(u8, u8), String> = Default::default();
        let mut refs = Vec::new();
        for (entries, long) in msgs {
            // A reference to a slot the model has not filled yet must be a new entry.
            let entries: Vec<(bool, u8, u8, String)> = entries
                .into_iter()
                .map(|(new, s, i, t)| (new || !model.contains_key(&(s, i)), s, i, t))
                .collect();
            let mut expect = Vec::new();
            for (new, s, i, t) in &entries {
                if *new {
                    model.insert((*s, *i), t.clone());
                }
                expect.push(Atom::new(&model[&(*s, *i)]));
            }
            let borrowed: Vec<(bool, u8, u8, &str)> =
                entries.iter().map(|(n, s, i, t)| (*n, *s, *i, t.as_str())).collect();
            let h = header(&borrowed, long);
            prop_assert_eq!(c.read_header(&h, &mut refs), Ok(h.len()));
            prop_assert_eq!(&refs, &expect);
        }
    }

    /// A stream drawn from a few headers, so that the same one often comes again (the case the
    /// cache remembers), some of them filling slots: every reference resolves to the atom the
    /// model says.
    #[test]
    fn repeated_headers_resolve_like_the_model(
        pool in proptest::collection::vec(
            proptest::collection::vec((any::<bool>(), 0u8..2, 0u8..3, "[a-z]{1,3}"), 1..10),
            1..5),
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..40),
    ) {
        let mut c = AtomCache::default();
        let mut model: std::collections::HashMap<(u8, u8), String> = Default::default();
        let mut refs = Vec::new();
        for pick in picks {
            let entries = &pool[pick.index(pool.len())];
            let entries: Vec<(bool, u8, u8, &str)> = entries
                .iter()
                .map(|(new, s, i, t)| (*new || !model.contains_key(&(*s, *i)), *s, *i, t.as_str()))
                .collect();
            let mut expect = Vec::new();
            for (new, s, i, t) in &entries {
                if *new {
                    model.insert((*s, *i), t.to_string());
                }
                expect.push(Atom::new(&model[&(*s, *i)]));
            }
            let h = header(&entries, false);
            prop_assert_eq!(c.read_header(&packet(&h), &mut refs), Ok(h.len()));
            prop_assert_eq!(&refs, &expect);
        }
    }

    /// Headers of references to filled slots only, with bytes after them (as in a packet),
    /// read by the short path and by the general one alike: same atoms, same length.
    #[test]
    fn cached_references_read_alike_by_both_paths(
        fill in proptest::collection::vec((0u8..8, any::<u8>()), 1..20),
        picks in proptest::collection::vec(proptest::collection::vec(any::<prop::sample::Index>(), 0..20), 1..10),
        tail in proptest::collection::vec(any::<u8>(), 0..12),
    ) {
        let mut c = AtomCache::default();
        let mut refs = Vec::new();
        let filled: Vec<(bool, u8, u8, String)> = fill
            .iter()
            .enumerate()
            .map(|(k, &(s, i))| (true, s, i, format!("cached_ref_{k}")))
            .collect();
        let borrowed: Vec<(bool, u8, u8, &str)> =
            filled.iter().map(|(n, s, i, t)| (*n, *s, *i, t.as_str())).collect();
        let h = header(&borrowed, false);
        prop_assert_eq!(c.read_header(&h, &mut refs), Ok(h.len()));
        for pick in picks {
            let entries: Vec<(bool, u8, u8, &str)> = pick
                .iter()
                .map(|ix| {
                    let (_, s, i, _) = borrowed[ix.index(borrowed.len())];
                    (false, s, i, "")
                })
                .collect();
            let mut body = header(&entries, false);
            let len = body.len();
            body.extend(&tail);
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            let got = c.read_header(&body, &mut fast);
            prop_assert_eq!(c.read_any(&body, &mut general), Ok(len));
            prop_assert_eq!(got, Ok(len));
            prop_assert_eq!(&fast, &general);
            // The short path itself took it, where it applies.
            if (1..=16).contains(&entries.len()) && body.len() >= 9 {
                prop_assert_eq!(c.read_cached(&body, &mut Vec::new()), Some(len));
            }
            // Each reference is to the slot's current atom (a later fill of a slot wins).
            for (atom, (_, s, i, _)) in fast.iter().zip(&entries) {
                let last = borrowed.iter().rev().find(|(_, fs, fi, _)| fs == s && fi == i);
                prop_assert_eq!(atom.as_str(), last.map(|e| e.3).unwrap_or(""));
            }
        }
    }

    /// On any bytes, with some slots filled, the short path and the general one agree.
    #[test]
    fn both_paths_agree_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        // Two caches in the same state: reading a header may fill slots.
        let filled = || {
            let mut c = AtomCache::default();
            let fill = header(&[(true, 0, 1, "a"), (true, 0, 0, "b"), (true, 1, 2, "c")], false);
            c.read_header(&fill, &mut Vec::new()).map(|_| c)
        };
        let (Ok(mut c1), Ok(mut c2)) = (filled(), filled()) else {
            panic!("the filling header reads");
        };
        let (mut fast, mut general) = (Vec::new(), Vec::new());
        let got = c1.read_header(&bytes, &mut fast);
        let want = c2.read_any(&bytes, &mut general);
        prop_assert_eq!(&got, &want);
        if got.is_ok() {
            prop_assert_eq!(fast, general);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut c = AtomCache::default();
        let mut refs = Vec::new();
        if let Ok(n) = c.read_header(&bytes, &mut refs) {
            prop_assert!(n <= bytes.len());
        }
    }
}

/// The writer lays headers out as the spec does, for 0 to 20 references (both sides of the
/// fixed-size form's 16), new ones with their text and, the second time, cached ones.
#[test]
fn written_headers_follow_the_spec_layout() {
    let mut all_cached = 0;
    for n in 0..=20usize {
        let atoms: Vec<Atom> = (0..n)
            .map(|i| Atom::new(&format!("written_header_{n}_{i}")))
            .collect();
        let mut out = OutCache::default();
        for round in 0..2 {
            let mut refs = HeaderRefs::default();
            for a in &atoms {
                refs.index(&mut out, *a);
            }
            // Two atoms on one slot are new every time; the others only the first time.
            let expect: Vec<(bool, u8, u8, &str)> = refs
                .refs
                .iter()
                .zip(&atoms)
                .map(|(&(slot, new), a)| {
                    let (seg, idx) = (slot / SEGMENT_SIZE, slot % SEGMENT_SIZE);
                    (new, seg as u8, idx as u8, a.as_str())
                })
                .collect();
            if round == 1 && (1..=16).contains(&n) && expect.iter().all(|r| !r.0) {
                all_cached += 1;
            }
            let mut buf = bytes::BytesMut::new();
            refs.write(&mut buf);
            let mut want = vec![131, 68];
            want.extend(header(&expect, false));
            assert_eq!(&buf[..], &want[..], "{n} references, round {round}");
        }
    }
    assert!(
        all_cached >= 12,
        "only {all_cached} headers of cached references"
    );
}
