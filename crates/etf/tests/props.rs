//! Property and adversarial tests: encode/decode round trip over arbitrary terms, totality of
//! the decoder over arbitrary and mutated bytes, and targeted hostile inputs (depth, size,
//! declared lengths, atom table exhaustion).

use bytes::{BufMut, Bytes, BytesMut};
use etf::{
    decode, decode_at, decode_at_into, decode_with_limits, encode, encoded_len, Atom,
    DecodeErrorKind, Decoder, Limits, Term,
};
use proptest::prelude::*;

#[path = "support/strategies.rs"]
mod strategies;
use strategies::{mutate, term_strategy};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Into any room, `encode_dist_term_within` writes what `encode_dist_term_to` writes when
    /// that fits, and otherwise nothing, without growing the buffer.
    #[test]
    fn encoding_within_the_room_writes_all_or_nothing(
        t in term_strategy(),
        room in 0usize..96,
    ) {
        let mut want = BytesMut::from(&b"pre"[..]);
        etf::encode_dist_term_to(&t, &mut want);
        let mut buf = BytesMut::with_capacity(3 + room);
        buf.extend_from_slice(b"pre");
        let cap = buf.capacity();
        let fits = want.len() <= cap;
        prop_assert_eq!(etf::encode_dist_term_within(&t, &mut buf), fits);
        prop_assert_eq!(buf.capacity(), cap);
        if fits {
            prop_assert_eq!(&buf[..], &want[..]);
        } else {
            prop_assert_eq!(&buf[..], &b"pre"[..]);
        }
    }

    /// A tuple of leaves at the edges of the encoder's flat path (atoms of 12-15 bytes, integers
    /// around 255 and the 32-bit bounds, binaries of up to 30 bytes held either way, and now and
    /// then an element that is not flat) is written as its head and then each element as the
    /// element alone is written, by every writer (with atom cache references too), into any
    /// room.
    #[test]
    fn flat_tuples_encode_as_their_elements_do(
        elems in prop::collection::vec(flat_edge(), 0..8),
        room in 0usize..260,
    ) {
        let t = Term::Tuple(elems.clone());
        for dist in [false, true] {
            let one = |e: &Term| {
                let mut b = BytesMut::new();
                if dist { etf::encode_dist_term_to(e, &mut b) } else { etf::encode_to(e, &mut b) }
                b.split_off(if dist { 0 } else { 1 }) // the element without a version byte
            };
            let mut want = vec![131, 104, elems.len() as u8];
            for e in &elems {
                want.extend_from_slice(&one(e));
            }
            let mut buf = BytesMut::with_capacity(room);
            buf.extend_from_slice(b"pre");
            if dist {
                etf::encode_dist_to(&t, &mut buf);
            } else {
                etf::encode_to(&t, &mut buf);
            }
            prop_assert_eq!(&buf[..3], b"pre");
            prop_assert_eq!(&buf[3..], &want[..]);
            if !dist {
                prop_assert_eq!(&encode(&t)[..], &want[..]);
                prop_assert_eq!(encoded_len(&t), want.len());
            }
            if dist {
                // After a distribution header naming some of the atoms (as references).
                let refs: Vec<Atom> = elems
                    .iter()
                    .filter_map(Term::as_atom)
                    .filter(|a| a.as_str().len() % 2 == 0)
                    .collect();
                let mut want_refs = vec![104, elems.len() as u8];
                for e in &elems {
                    let mut b = BytesMut::new();
                    etf::encode_dist_term_with_refs(e, &refs, &mut b);
                    want_refs.extend_from_slice(&b);
                }
                let mut with_refs = BytesMut::with_capacity(room);
                etf::encode_dist_term_with_refs(&t, &refs, &mut with_refs);
                prop_assert_eq!(&with_refs[..], &want_refs[..]);
                // Without a version byte, into the room there is or not at all.
                let mut within = BytesMut::with_capacity(room);
                let fits = want.len() - 1 <= within.capacity();
                prop_assert_eq!(etf::encode_dist_term_within(&t, &mut within), fits);
                if fits {
                    prop_assert_eq!(&within[..], &want[1..]);
                }
            }
        }
    }

    /// Inside a term, a tuple's and a list's flat elements are written as each alone is, with
    /// atom cache references too, into any room.
    #[test]
    fn flat_elements_inside_containers_encode_as_alone(
        elems in prop::collection::vec(flat_edge(), 0..8),
        room in 0usize..520,
    ) {
        // `[elems..., 1.5]` is never a string, so it is a LIST_EXT.
        let mut list = elems.clone();
        list.push(Term::Float(1.5));
        let t = Term::tuple(vec![
            Term::Float(0.5),
            Term::Tuple(elems.clone()),
            Term::List(list.clone()),
        ]);
        let refs: Vec<Atom> = elems
            .iter()
            .filter_map(Term::as_atom)
            .filter(|a| a.as_str().len() % 2 == 1)
            .collect();
        let alone = |e: &Term, refs: &[Atom]| {
            let mut b = BytesMut::new();
            etf::encode_dist_term_with_refs(e, refs, &mut b);
            b
        };
        for refs in [&[][..], &refs[..]] {
            let mut want = vec![104, 3];
            want.extend_from_slice(&alone(&Term::Float(0.5), refs));
            want.extend_from_slice(&[104, elems.len() as u8]);
            for e in &elems {
                want.extend_from_slice(&alone(e, refs));
            }
            want.push(108);
            want.extend_from_slice(&(list.len() as u32).to_be_bytes());
            for e in &list {
                want.extend_from_slice(&alone(e, refs));
            }
            want.push(106);
            let mut buf = BytesMut::with_capacity(room);
            etf::encode_dist_term_with_refs(&t, refs, &mut buf);
            prop_assert_eq!(&buf[..], &want[..]);
        }
    }

    /// A binary held inline and the same bytes held in a shared buffer are the same term:
    /// equal, hashed and ordered alike, encoded alike, printed alike.
    #[test]
    fn binary_representations_agree(
        v in prop::collection::vec(any::<u8>(), 0..48),
        w in prop::collection::vec(any::<u8>(), 0..48),
    ) {
        use std::hash::{BuildHasher, RandomState};
        let own = |v: &Vec<u8>| Term::Binary(etf::Binary::from(v.clone()));
        let shared = |v: &Vec<u8>| Term::from(Bytes::from(v.clone()));
        let (a, b) = (own(&v), shared(&v));
        prop_assert_eq!(a.as_binary().unwrap().is_inline(), v.len() <= etf::Binary::INLINE);
        prop_assert!(!b.as_binary().unwrap().is_inline());
        prop_assert_eq!(&a, &b);
        let h = RandomState::new();
        prop_assert_eq!(h.hash_one(&a), h.hash_one(&b));
        prop_assert_eq!(encode(&a), encode(&b));
        prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
        prop_assert_eq!(a.cmp(&shared(&w)), b.cmp(&own(&w)));
        prop_assert_eq!(a.cmp(&own(&w)), v.cmp(&w));
    }

    #[test]
    fn round_trip(t in term_strategy()) {
        let b = encode(&t);
        prop_assert_eq!(b.len(), encoded_len(&t));
        let back = decode(&b).unwrap();
        prop_assert_eq!(&back, &t);
        // Ord and Eq agree; re-encoding a decoded term is stable.
        prop_assert_eq!(back.cmp(&t), std::cmp::Ordering::Equal);
        prop_assert_eq!(encode(&back), b);
    }

    /// The same, nested 24 levels deep: past the decoder's recursive levels, so the inner term
    /// goes through its iterative frame machine.
    #[test]
    fn round_trip_deep(t in term_strategy()) {
        let mut deep = t;
        for i in 0..24 {
            deep = match i % 3 {
                0 => Term::tuple(vec![deep, Term::atom("x")]),
                1 => Term::ImproperList(vec![Term::from(1), deep], Box::new(Term::atom("tl"))),
                _ => Term::map(vec![(Term::from(i), deep)]),
            };
        }
        let b = encode(&deep);
        prop_assert_eq!(decode(&b).unwrap(), deep);
    }

    /// A fun of any parts, each in any encoding erts takes (old index and uniq as any
    /// integer encoding of a 60-bit value, module as any atom encoding, creator as either pid
    /// format, any free variables, any size field), decodes alike in both decoders to the fun
    /// `term_to_binary` would write: the parts re-encoded, index and uniq as 32-bit ints, the
    /// true size. Written canonically, it is kept byte for byte.
    #[test]
    fn funs_decode_to_the_encoding_term_to_binary_writes(
        index in -(1i64 << 59)..(1i64 << 59),
        uniq in -(1i64 << 59)..(1i64 << 59),
        forms in (0u8..4, 0u8..4, 0u8..2, 0u8..2),
        size in any::<u32>(),
        fixed in prop::collection::vec(any::<u8>(), 21),
        free in prop::collection::vec(term_strategy(), 0..3),
    ) {
        let (index_form, uniq_form, module_form, pid_form) = forms;
        let int = |v: i64, form: u8| -> Vec<u8> {
            let fits_i32 = i32::try_from(v).is_ok();
            match form {
                0 if (0..=255).contains(&v) => vec![97, v as u8],
                1 if fits_i32 => [&[98u8][..], &(v as i32).to_be_bytes()].concat(),
                _ => {
                    // SMALL_BIG_EXT: sign, then the magnitude's 8 little-endian bytes.
                    let mut b = vec![110, 8, u8::from(v < 0)];
                    b.extend(v.unsigned_abs().to_le_bytes());
                    b
                }
            }
        };
        let module = if module_form == 0 { vec![100, 0, 2, b'm', b'z'] } else { vec![119, 2, b'm', b'z'] };
        let node = [100u8, 0, 3, b'n', b'@', b'h'];
        let pid = if pid_form == 0 {
            [&[88u8][..], &node, &[0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 3]].concat()
        } else {
            [&[103u8][..], &node, &[0, 0, 0, 7, 0, 0, 0, 1, 3]].concat()
        };
        let fun = |size: u32, module: &[u8], index: &[u8], uniq: &[u8], pid: &[u8]| {
            let mut f = vec![131, 112];
            f.extend(size.to_be_bytes());
            f.extend(&fixed);
            f.extend((free.len() as u32).to_be_bytes());
            f.extend(module);
            f.extend(index);
            f.extend(uniq);
            f.extend(pid);
            for t in &free {
                f.extend(&encode(t)[1..]);
            }
            f
        };
        let input = Bytes::from(fun(size, &module, &int(index, index_form), &int(uniq, uniq_form), &pid));
        // What term_to_binary writes: each part as ferl encodes it (OTP 25's choices).
        let canon_int = |v: i64| encode(&Term::from(v as i32 as i64))[1..].to_vec();
        let canon_pid = [&[88u8][..], &node, &[0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 3]].concat();
        let mut want = fun(0, &[100, 0, 2, b'm', b'z'], &canon_int(index), &canon_int(uniq), &canon_pid);
        let true_size = (want.len() - 2) as u32;
        want[2..6].copy_from_slice(&true_size.to_be_bytes());

        let owned = decode(&input).unwrap();
        let Term::Fun(f) = &owned else { panic!("not a fun: {owned:?}") };
        prop_assert_eq!(&f.raw()[..], &want[1..]);
        prop_assert_eq!(encode(&owned), Bytes::from(want.clone()));
        let mut view = etf::view::Decoder::new();
        prop_assert_eq!(view.decode(&input).unwrap().to_term(&input), owned.clone());
        // The canonical bytes are kept as they are: a slice of the input, not a copy.
        let canonical = Bytes::from(want);
        let again = decode(&canonical).unwrap();
        let Term::Fun(g) = &again else { panic!("not a fun: {again:?}") };
        prop_assert_eq!(g.raw().as_ptr(), canonical[1..].as_ptr());
    }

    #[test]
    fn order_is_total_and_consistent(a in term_strategy(), b in term_strategy()) {
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a == b, a.cmp(&b) == std::cmp::Ordering::Equal);
        if a == b { prop_assert!(a.erl_eq(&b)); }
    }

    #[test]
    fn arbitrary_bytes_never_panic(v in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&Bytes::from(v.clone()));
        let mut with_version = vec![131u8];
        with_version.extend(v);
        let _ = decode(&Bytes::from(with_version));
    }

    #[test]
    fn mutated_encodings_never_panic(t in term_strategy(), ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6)) {
        let v = mutate(encode(&t).to_vec(), &ops);
        if let Ok(back) = decode(&Bytes::from(v)) {
            // Whatever decodes must encode and decode again.
            let again = decode(&encode(&back)).unwrap();
            prop_assert_eq!(again, back);
        }
    }

    /// Decoding into a slot is decoding: on valid, mutated and arbitrary input, at any start,
    /// up to any end, with or without a version byte, `decode_at_into` gives exactly the term,
    /// end or error `decode_at` gives on the input cut at that end, and leaves `None` on error
    /// whatever the slot held.
    #[test]
    fn decoding_into_a_slot_agrees_with_decode_at(
        t in term_strategy(),
        ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..4),
        junk in prop::collection::vec(any::<u8>(), 0..3),
        held in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        whole in any::<bool>(),
    ) {
        let mut v = junk.clone();
        v.extend(mutate(encode(&t).to_vec(), &ops));
        let input = Bytes::from(v);
        // The whole input, or a cut anywhere in it.
        let end = if whole { input.len() } else { cut.index(input.len() + 1) };
        for external in [true, false] {
            let pos = junk.len() + usize::from(!external);
            let want = decode_at(&input.slice(..end), pos, external, &[], Limits::default());
            let mut slot = held.then(|| Term::atom("held"));
            let got = decode_at_into(&input, pos, end, external, &[], Limits::default(), &mut slot);
            match want {
                Ok((term, end)) => {
                    prop_assert_eq!(got, Ok(end));
                    prop_assert_eq!(slot, Some(term));
                }
                Err(e) => {
                    prop_assert_eq!(got, Err(e));
                    prop_assert_eq!(slot, None);
                }
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for tag in [
        &[104u8, 1][..],
        &[108, 0, 0, 0, 1][..],
        &[116, 0, 0, 0, 1, 97, 1][..],
    ] {
        let mut b = vec![131u8];
        for _ in 0..10_000 {
            b.extend_from_slice(tag);
        }
        b.extend_from_slice(&[97, 1]);
        let e = decode(&Bytes::from(b)).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TooDeep, "{tag:?}");
    }
    // Exactly at the limit is fine.
    let limits = Limits {
        max_depth: 100,
        ..Limits::default()
    };
    let mut b = vec![131u8];
    b.extend(std::iter::repeat_n([104u8, 1], 100).flatten());
    b.extend_from_slice(&[97, 1]);
    assert!(decode_with_limits(&Bytes::from(b.clone()), limits).is_ok());
    b.insert(1, 1);
    b.insert(1, 104);
    assert_eq!(
        decode_with_limits(&Bytes::from(b), limits)
            .unwrap_err()
            .kind,
        DecodeErrorKind::TooDeep
    );
}

#[test]
fn million_element_list() {
    let n = 1_000_000u32;
    let mut b = BytesMut::with_capacity(n as usize * 2 + 10);
    b.put_u8(131);
    b.put_u8(108);
    b.put_u32(n);
    for i in 0..n {
        b.put_u8(97);
        b.put_u8(i as u8);
    }
    b.put_u8(106);
    let t = decode(&b.freeze()).unwrap();
    assert_eq!(t.as_list().map(|l| l.len()), Some(n as usize));
    assert_eq!(encoded_len(&t), n as usize * 2 + 7);
}

#[test]
fn long_cons_chain_does_not_count_as_depth() {
    // [0 | [1 | [2 | ...]]] written as 200_000 nested one-element LIST_EXTs.
    let n = 200_000;
    let mut b = vec![131u8];
    for i in 0..n {
        b.extend_from_slice(&[108, 0, 0, 0, 1, 97, (i % 256) as u8]);
    }
    b.push(106);
    let t = decode(&Bytes::from(b.clone())).unwrap();
    assert_eq!(t.as_list().map(|l| l.len()), Some(n));
    // The same chain 30 tuples deep goes through the decoder's iterative (frame stack) path.
    let mut deep = vec![131u8];
    deep.extend(std::iter::repeat_n([104u8, 1], 30).flatten());
    deep.extend_from_slice(&b[1..]);
    let mut t = decode(&Bytes::from(deep)).unwrap();
    for _ in 0..30 {
        t = t.as_tuple().unwrap()[0].clone();
    }
    assert_eq!(t.as_list().map(|l| l.len()), Some(n));
}

#[test]
fn huge_declared_lengths_fail_fast() {
    for body in [
        &[108u8, 0xff, 0xff, 0xff, 0xff, 97, 1][..],
        &[105, 0x7f, 0xff, 0xff, 0xff, 97, 1][..],
        &[116, 0xff, 0xff, 0xff, 0xff, 97, 1, 97, 2][..],
        &[109, 0xff, 0xff, 0xff, 0xff, 0][..],
        &[77, 0xff, 0xff, 0xff, 0xff, 3, 0][..],
        &[111, 0xff, 0xff, 0xff, 0xff, 0, 1][..],
        &[118, 0xff, 0xff, b'a'][..],
        &[112, 0xff, 0xff, 0xff, 0xff, 0][..],
    ] {
        let mut b = vec![131u8];
        b.extend_from_slice(body);
        let e = decode(&Bytes::from(b)).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedEof, "{body:?}");
    }
    // Nested containers each declaring a large arity cannot reserve memory up front: 1000 levels
    // of 1_000_000-element tuples in 5 KB decode to an EOF error quickly.
    let mut b = vec![131u8];
    for _ in 0..1000 {
        b.extend_from_slice(&[105, 0, 0, 0, 4]);
    }
    let e = decode(&Bytes::from(b)).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::UnexpectedEof);
}

#[test]
fn atom_table_full_is_an_error() {
    let existing = Atom::new("already_here");
    let limits = Limits {
        max_atoms: etf::atom::atom_table().len(),
        ..Limits::default()
    };
    let fresh = format!("never_seen_before_{}", std::process::id());
    let mut b = vec![131u8, 119, fresh.len() as u8];
    b.extend_from_slice(fresh.as_bytes());
    let e = decode_with_limits(&Bytes::from(b), limits).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::AtomTableFull);
    assert_eq!(e.offset, 1);
    assert!(Atom::existing(&fresh).is_none());
    // Existing atoms still decode under the same limit.
    let enc = encode(&Term::Atom(existing));
    assert_eq!(
        decode_with_limits(&enc, limits).unwrap(),
        Term::Atom(existing)
    );
}

#[test]
fn bad_atoms() {
    let e = decode(&Bytes::from_static(&[131, 119, 2, 0xff, 0xfe])).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::BadAtomUtf8);
    let mut b = vec![131u8, 118, 1, 0];
    b.extend(std::iter::repeat_n(b'a', 256));
    assert_eq!(
        decode(&Bytes::from(b)).unwrap_err().kind,
        DecodeErrorKind::AtomTooLong
    );
}

#[test]
fn decoder_reads_sequential_terms() {
    let mut buf = BytesMut::new();
    etf::encode_to(&Term::atom("ctrl"), &mut buf);
    etf::encode_to(&Term::tuple(vec![1.into(), "x".into()]), &mut buf);
    let mut d = Decoder::new(buf.freeze());
    assert!(d.decode_external().unwrap().is_atom("ctrl"));
    assert_eq!(
        d.decode_external().unwrap(),
        Term::tuple(vec![1.into(), "x".into()])
    );
    assert_eq!(d.remaining(), 0);
    assert_eq!(
        d.decode_external().unwrap_err().kind,
        DecodeErrorKind::UnexpectedEof
    );
}

#[test]
fn binaries_longer_than_inline_are_zero_copy() {
    let input = encode(&Term::binary(b"hello world, zero copy, and longer"));
    let t = decode(&input).unwrap();
    let b = t.as_binary().unwrap();
    let (start, end) = (
        input.as_ptr() as usize,
        input.as_ptr() as usize + input.len(),
    );
    assert!(!b.is_inline());
    assert!((start..end).contains(&(b.as_ptr() as usize)));
}

/// Leaves at the edges of the encoder's flat path for tuples, and a few terms that are not flat.
fn flat_edge() -> impl Strategy<Value = Term> {
    let text = |n: usize| "abcdefghijklmnop"[..n].to_string();
    prop_oneof![
        (12usize..=15).prop_map(move |n| Term::atom(&text(n))),
        (5usize..=8).prop_map(|n| Term::atom(&"é".repeat(n))),
        prop::sample::select(vec![
            0i64,
            255,
            256,
            -1,
            i32::MAX as i64,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i32::MIN as i64 - 1,
        ])
        .prop_map(Term::Int),
        (prop::collection::vec(any::<u8>(), 0..=30), any::<bool>()).prop_map(|(v, shared)| {
            Term::Binary(if shared {
                etf::Binary::from(Bytes::from(v))
            } else {
                etf::Binary::from(v)
            })
        }),
        Just(Term::Float(1.5)),
        Just(Term::tuple(vec![Term::atom("ok")])),
        Just(Term::charlist("hi")),
    ]
}
