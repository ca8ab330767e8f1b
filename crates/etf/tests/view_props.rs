//! The view decoder against the owned decoder: over arbitrary bytes, mutated encodings of
//! arbitrary terms and mutated OTP golden vectors, `view::Decoder::decode` succeeds exactly when
//! `etf::decode` does, with an equal term (`to_term`, and a byte-identical re-encoding) or the
//! same error (kind and offset). Plus round trips, decoder reuse, and hostile shapes (depth,
//! a million-element list, long cons chains, huge declared lengths, no allocation after warm-up).

use bytes::{BufMut, Bytes, BytesMut};
use etf::view::{Decoder, TermRef};
use etf::{decode, decode_with_limits, encode, DecodeErrorKind, Limits, Term};
use proptest::prelude::*;
use std::sync::OnceLock;

#[path = "support/strategies.rs"]
mod strategies;
use strategies::{mutate, term_strategy};

#[path = "support/golden_vectors.rs"]
mod golden_vectors;

/// The golden `term_to_binary` encodings (run once per test binary).
fn golden_encodings() -> &'static [Vec<u8>] {
    static G: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    G.get_or_init(|| {
        golden_vectors::golden()
            .into_iter()
            .filter(|v| v.kind == "vec")
            .map(|v| v.a)
            .collect()
    })
}

/// Both decoders agree on `bytes` (with `limits`), using `d` for the view.
fn agree(d: &mut Decoder, bytes: &[u8], limits: Limits) -> Result<(), TestCaseError> {
    let mut other;
    let d = if d.limits() == limits {
        d
    } else {
        other = Decoder::with_limits(limits);
        &mut other
    };
    let b = Bytes::copy_from_slice(bytes);
    let owned = decode_with_limits(&b, limits);
    match (d.decode(&b), owned) {
        (Ok(v), Ok(t)) => {
            let back = v.to_term(&b);
            prop_assert_eq!(&back, &t);
            prop_assert_eq!(encode(&back), encode(&t));
            prop_assert_eq!(v.to_term_copied(), t);
        }
        (Err(e), Err(o)) => prop_assert_eq!(e, o, "input {:?}", bytes),
        (v, o) => prop_assert!(
            false,
            "view {:?} vs owned {:?} on {:?}",
            v.map(|v| v.to_term_copied()),
            o,
            bytes
        ),
    }
    // The prefix form agrees with the owned sequential decoder too.
    let mut seq = etf::Decoder::with_limits(b.clone(), limits);
    match (d.decode_external(&b), seq.decode_external()) {
        (Ok((v, used)), Ok(t)) => {
            prop_assert_eq!(v.to_term(&b), t);
            prop_assert_eq!(used, seq.position());
        }
        (Err(e), Err(o)) => prop_assert_eq!(e, o),
        (v, o) => prop_assert!(false, "prefix: view {:?} vs owned {:?}", v.map(|v| v.1), o),
    }
    Ok(())
}

proptest! {
    // 1024 cases by default; PROPTEST_CASES=N for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(1024),
        ..ProptestConfig::default()
    })]

    #[test]
    fn round_trip(t in term_strategy()) {
        let b = encode(&t);
        let mut d = Decoder::new();
        let v = d.decode(&b).unwrap();
        prop_assert_eq!(v.to_term(&b), t.clone());
        // Nested past the owned decoder's recursive levels (and the view's frame machine).
        let mut deep = t;
        for i in 0..24 {
            deep = match i % 3 {
                0 => Term::tuple(vec![deep, Term::atom("x")]),
                1 => Term::ImproperList(vec![Term::from(1), deep], Box::new(Term::atom("tl"))),
                _ => Term::map(vec![(Term::from(i), deep)]),
            };
        }
        let b = encode(&deep);
        prop_assert_eq!(d.decode(&b).unwrap().to_term(&b), deep);
    }

    #[test]
    fn arbitrary_bytes_agree(v in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut d = Decoder::new();
        agree(&mut d, &v, Limits::default())?;
        let mut with_version = vec![131u8];
        with_version.extend(v);
        agree(&mut d, &with_version, Limits::default())?;
        // A small depth limit: the owned decoder's recursive mode reaches it.
        agree(&mut d, &with_version, Limits { max_depth: 3, ..Limits::default() })?;
    }

    #[test]
    fn mutated_encodings_agree(t in term_strategy(), ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6)) {
        let v = mutate(encode(&t).to_vec(), &ops);
        let mut d = Decoder::new();
        agree(&mut d, &v, Limits::default())?;
        agree(&mut d, &v, Limits { max_depth: 2, ..Limits::default() })?;
    }

    #[test]
    fn mutated_golden_vectors_agree(i in any::<prop::sample::Index>(), ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..6)) {
        let g = golden_encodings();
        let v = mutate(g[i.index(g.len())].clone(), &ops);
        let mut d = Decoder::new();
        agree(&mut d, &v, Limits::default())?;
    }

    /// One decoder over many inputs, successes and failures mixed: no stale nodes or frames.
    #[test]
    fn decoder_reuse(ts in prop::collection::vec(term_strategy(), 1..8), cut in any::<prop::sample::Index>()) {
        let mut d = Decoder::new();
        for t in &ts {
            let b = encode(t);
            let short = &b[..cut.index(b.len())];
            let _ = d.decode(short);
            prop_assert_eq!(d.decode(&b).unwrap().to_term(&b), t.clone());
        }
    }
}

#[test]
fn all_golden_vectors_agree() {
    let mut d = Decoder::new();
    for g in golden_encodings() {
        agree(&mut d, g, Limits::default()).unwrap();
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let mut d = Decoder::new();
    // A fun whose one free variable is the next term: module, old index, old uniq, creator.
    let mut fun = vec![112, 0, 0, 0, 0, 1];
    fun.extend([0; 16]);
    fun.extend([0, 0, 0, 0, 0, 0, 0, 1]);
    fun.extend([100, 0, 1, b'm', 97, 0, 97, 0]);
    fun.extend([
        88, 100, 0, 3, b'n', b'@', b'h', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
    for tag in [
        &[104u8, 1][..],
        &[108, 0, 0, 0, 1][..],
        &[116, 0, 0, 0, 1, 97, 1][..],
        &fun[..],
    ] {
        let mut b = vec![131u8];
        for _ in 0..100_000 {
            b.extend_from_slice(tag);
        }
        b.extend_from_slice(&[97, 1]);
        let e = d.decode(&b).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TooDeep, "{tag:?}");
        assert_eq!(Err(e), decode(&Bytes::from(b)), "{tag:?}");
    }
    // Exactly at the limit is fine, one more is not.
    let limits = Limits {
        max_depth: 100,
        ..Limits::default()
    };
    let mut d = Decoder::with_limits(limits);
    let mut b = vec![131u8];
    b.extend(std::iter::repeat_n([104u8, 1], 100).flatten());
    b.extend_from_slice(&[97, 1]);
    assert!(d.decode(&b).is_ok());
    b.insert(1, 1);
    b.insert(1, 104);
    assert_eq!(d.decode(&b).unwrap_err().kind, DecodeErrorKind::TooDeep);
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
    let b = b.freeze();
    let mut d = Decoder::new();
    let v = d.decode(&b).unwrap();
    let l = v.list().unwrap();
    assert_eq!(l.len(), n as usize);
    assert_eq!(
        l.iter().filter_map(|v| v.as_int()).sum::<i64>(),
        (0..n).map(|i| (i % 256) as i64).sum()
    );
    assert_eq!(v.to_term(&b), decode(&b).unwrap());
}

#[test]
fn long_cons_chain_does_not_count_as_depth() {
    let n = 200_000;
    let mut b = vec![131u8];
    for i in 0..n {
        b.extend_from_slice(&[108, 0, 0, 0, 1, 97, (i % 256) as u8]);
    }
    b.push(106);
    let mut d = Decoder::new();
    assert_eq!(d.decode(&b).unwrap().list().map(|l| l.len()), Some(n));
    let mut deep = vec![131u8];
    deep.extend(std::iter::repeat_n([104u8, 1], 30).flatten());
    deep.extend_from_slice(&b[1..]);
    let mut v = d.decode(&deep).unwrap();
    for _ in 0..30 {
        v = v.tuple().unwrap().get(0).unwrap();
    }
    assert_eq!(v.list().map(|l| l.len()), Some(n));
}

#[test]
fn huge_declared_lengths_fail_fast() {
    let mut d = Decoder::new();
    for body in [
        &[108u8, 0xff, 0xff, 0xff, 0xff, 97, 1][..],
        &[105, 0x7f, 0xff, 0xff, 0xff, 97, 1][..],
        &[116, 0xff, 0xff, 0xff, 0xff, 97, 1, 97, 2][..],
        &[109, 0xff, 0xff, 0xff, 0xff, 0][..],
        &[77, 0xff, 0xff, 0xff, 0xff, 3, 0][..],
        &[111, 0xff, 0xff, 0xff, 0xff, 0, 1][..],
        &[118, 0xff, 0xff, b'a'][..],
        &[112, 0xff, 0xff, 0xff, 0xff, 0][..],
        // A fun declaring 2^32 - 1 free variables.
        &[
            112, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
            0xff, 0xff, 0xff, 100, 0, 1, b'm',
        ][..],
    ] {
        let mut b = vec![131u8];
        b.extend_from_slice(body);
        let e = d.decode(&b).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedEof, "{body:?}");
    }
    let mut b = vec![131u8];
    for _ in 0..1000 {
        b.extend_from_slice(&[105, 0, 0, 0, 4]);
    }
    assert_eq!(
        d.decode(&b).unwrap_err().kind,
        DecodeErrorKind::UnexpectedEof
    );
    // The arena never holds more nodes than the input has bytes.
    assert!(d.capacity() <= b.len());
}

#[test]
fn no_allocation_after_warm_up() {
    let t = Term::tuple(vec![
        Term::atom("$gen_call"),
        Term::list((0..50).map(Term::from).collect()),
        Term::map(vec![(Term::atom("k"), "v".into())]),
    ]);
    let b = encode(&t);
    let mut d = Decoder::new();
    d.decode(&b).unwrap();
    let cap = d.capacity();
    for _ in 0..10 {
        let v = d.decode(&b).unwrap();
        assert!(matches!(v.term(), TermRef::Tuple(_)));
    }
    assert_eq!(d.capacity(), cap);
}

#[test]
fn binaries_borrow_the_input_and_share_the_backing() {
    let b = encode(&Term::binary(b"hello world, zero copy, and longer"));
    let mut d = Decoder::new();
    let v = d.decode(&b).unwrap();
    let s = v.as_binary().unwrap();
    let range = b.as_ptr() as usize..b.as_ptr() as usize + b.len();
    assert!(range.contains(&(s.as_ptr() as usize)));
    let t = v.to_term(&b);
    assert!(range.contains(&(t.as_binary().unwrap().as_ptr() as usize)));
    // Another backing: copied, still equal.
    let other = Bytes::from_static(b"unrelated");
    assert_eq!(v.to_term(&other), t);
    // A short binary is held inline, as the owned decoder holds it.
    let b = encode(&Term::binary(b"alice"));
    let v = d.decode(&b).unwrap();
    assert!(v.to_term(&b).as_binary().unwrap().is_inline());
    assert!(decode(&b).unwrap().as_binary().unwrap().is_inline());
}
