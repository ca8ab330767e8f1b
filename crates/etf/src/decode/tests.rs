//! Unit tests of the decoder's edge cases (offsets, tails, bit counts, Latin-1 atoms).

use super::*;
use crate::binary::Binary;

fn d(bytes: &[u8]) -> Result<Term, DecodeError> {
    decode(&Bytes::copy_from_slice(bytes))
}

#[test]
fn push_message() {
    let b = [
        131, 104, 3, 119, 4, b'p', b'u', b's', b'h', 109, 0, 0, 0, 5, b'a', b'l', b'i', b'c', b'e',
        109, 0, 0, 0, 8, b'i', b't', b'e', b'm', b'-', b'1', b'2', b'3',
    ];
    let t = d(&b).unwrap();
    assert_eq!(
        t,
        Term::tuple(vec![Term::atom("push"), "alice".into(), "item-123".into()])
    );
}

#[test]
fn list_tail_continuation() {
    // [1 | [2]] encoded as nested LIST_EXT.
    let t = d(&[131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106]).unwrap();
    assert_eq!(t, Term::list(vec![Term::from(1), Term::from(2)]));
    // [1 | a]
    let t = d(&[131, 108, 0, 0, 0, 1, 97, 1, 119, 1, b'a']).unwrap();
    assert_eq!(
        t,
        Term::ImproperList(vec![Term::from(1)], Box::new(Term::atom("a")))
    );
    // [1 | "ab"]
    let t = d(&[131, 108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 97, 98]).unwrap();
    assert_eq!(t, Term::list(vec![1.into(), 97.into(), 98.into()]));
}

#[test]
fn errors_carry_offsets() {
    assert_eq!(d(&[130]).unwrap_err().kind, K::BadVersion(130));
    assert_eq!(
        d(&[131, 200]).unwrap_err(),
        DecodeError::new(1, K::UnknownTag(200))
    );
    assert_eq!(
        d(&[131, 97]).unwrap_err(),
        DecodeError::new(2, K::UnexpectedEof)
    );
    assert_eq!(d(&[131, 97, 1, 0]).unwrap_err().kind, K::Trailing(1));
    assert_eq!(d(&[131, 82, 0]).unwrap_err().kind, K::AtomCacheRef);
    assert_eq!(d(&[131, 80, 0, 0, 0, 1]).unwrap_err().kind, K::Compressed);
    assert_eq!(
        d(&[131, 90, 0, 6, 119, 1, b'a']).unwrap_err().kind,
        K::InvalidRefLen(6)
    );
    assert_eq!(
        d(&[131, 70, 127, 240, 0, 0, 0, 0, 0, 0]).unwrap_err().kind,
        K::BadFloat
    );
    let e = d(&[131, 104, 1, 104, 1, 200]).unwrap_err();
    assert_eq!(e, DecodeError::new(5, K::UnknownTag(200)));
    assert_eq!(e.to_string(), "unknown tag 200 at byte 5");
}

#[test]
fn huge_declared_lengths() {
    for b in [
        &[131, 108, 255, 255, 255, 255, 106][..],
        &[131, 105, 255, 255, 255, 255][..],
        &[131, 116, 255, 255, 255, 255][..],
        &[131, 109, 255, 255, 255, 255, 1][..],
        &[131, 111, 255, 255, 255, 255, 0][..],
        &[131, 107, 255, 255, 1][..],
    ] {
        assert_eq!(d(b).unwrap_err().kind, K::UnexpectedEof, "{b:?}");
    }
}

/// A map with a key twice is refused at its tag, as `binary_to_term` refuses it (badarg;
/// found by tests/erl_verdicts.rs), by the owned and the view decoder alike, through the
/// recursive path and the frame stack, and for few keys and many. Keys that are only `==`
/// (`1` and `1.0`) are two keys.
#[test]
fn maps_with_a_repeated_key() {
    let map = |keys: &[u8]| {
        let mut b = vec![131, 116, 0, 0, 0, keys.len() as u8];
        for k in keys {
            b.extend([97, *k, 106]);
        }
        b
    };
    let nested = |inner: Vec<u8>, levels: usize| {
        let mut b = vec![131];
        for _ in 0..levels {
            b.extend([104, 1]);
        }
        b.extend(&inner[1..]);
        b
    };
    // #{a => [], b => [], a => []}: atom keys, which the view decoder compares in place.
    let mut atoms = vec![131, 116, 0, 0, 0, 3];
    for k in [b'a', b'b', b'a'] {
        atoms.extend([119, 1, k, 106]);
    }
    let many: Vec<u8> = (0..40).chain([7]).collect();
    for (input, at) in [
        (atoms, 1),
        (map(&[1, 2, 1]), 1),
        (map(&many), 1),
        (nested(map(&[3, 3]), 20), 41),
        (nested(map(&many), 20), 41),
    ] {
        let e = d(&input).unwrap_err();
        assert_eq!((e.offset, e.kind), (at, K::RepeatedMapKey), "{input:?}");
        let v = crate::view::Decoder::new()
            .decode(&input)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(v, e, "view decoder, {input:?}");
    }
    let distinct: Vec<u8> = (0..40).collect();
    assert!(d(&map(&distinct)).is_ok());
    assert!(d(&nested(map(&distinct), 20)).is_ok());
    // #{1 => [], 1.0 => []}
    let mut one_and_float = vec![131, 116, 0, 0, 0, 2, 97, 1, 106, 70];
    one_and_float.extend(1.0f64.to_be_bytes());
    one_and_float.push(106);
    assert!(d(&one_and_float).is_ok());
}

/// Each case as OTP 25's `binary_to_term/1` decides it (checked with erl): an empty bitstring
/// has no last byte, so its bit count is 0 and nothing else; a non-empty one uses 1-8 bits of
/// its last byte.
#[test]
fn bit_binaries() {
    assert_eq!(d(&[131, 77, 0, 0, 0, 0, 0]).unwrap(), Term::binary(b""));
    assert_eq!(
        d(&[131, 77, 0, 0, 0, 0, 3]).unwrap_err().kind,
        K::BadBitCount
    );
    // Found by the `decode_view` fuzz target: the owned decoder took it as `<<>>`, the view
    // decoder refused it, as erl does (badarg).
    let e = d(&[131, 77, 0, 0, 0, 0, 8]).unwrap_err();
    assert_eq!((e.offset, e.kind), (1, K::BadBitCount));
    assert_eq!(
        d(&[131, 77, 0, 0, 0, 1, 0, 5]).unwrap_err().kind,
        K::BadBitCount
    );
    assert_eq!(
        d(&[131, 77, 0, 0, 0, 1, 9, 1]).unwrap_err().kind,
        K::BadBitCount
    );
    assert_eq!(d(&[131, 77, 0, 0, 0, 1, 8, 1]).unwrap(), Term::binary(&[1]));
    assert_eq!(
        d(&[131, 77, 0, 0, 0, 1, 3, 255]).unwrap(),
        Term::BitBinary {
            bytes: Bytes::from_static(&[0xe0]),
            bits: 3
        }
    );
}

#[test]
fn latin1_atoms() {
    let t = d(&[131, 100, 0, 2, b'h', 0xe9]).unwrap();
    assert!(t.is_atom("hé"));
    let t = d(&[131, 115, 2, b'o', b'k']).unwrap();
    assert_eq!(t, Term::Atom(Atom::OK));
}

#[test]
fn several_terms_in_one_frame() {
    let mut dec = Decoder::new(Bytes::from_static(&[131, 97, 1, 131, 106, 9]));
    assert_eq!(dec.decode_external().unwrap(), Term::from(1));
    assert_eq!(dec.position(), 3);
    assert_eq!(dec.decode_external().unwrap(), Term::nil());
    assert_eq!(dec.remaining(), 1);
    assert_eq!(&dec.rest()[..], &[9]);
}

/// NEW_FUN_EXT with `module`, the pid's node and one free variable as given atom encodings.
fn new_fun(module: &[u8], node: &[u8], free: &[u8]) -> Vec<u8> {
    let mut f = vec![112, 0, 0, 0, 0, 0];
    f.extend([7u8; 16]);
    f.extend(0u32.to_be_bytes());
    f.extend(1u32.to_be_bytes());
    f.extend(module);
    f.extend([97, 0, 97, 9, 88]);
    f.extend(node);
    f.extend([0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1]);
    f.extend(free);
    let size = (f.len() - 1) as u32;
    f[1..5].copy_from_slice(&size.to_be_bytes());
    f
}

#[test]
fn atom_cache_refs_resolve_and_funs_keep_their_atoms_written_out() {
    let refs = [Atom::new("m"), Atom::new("n@h"), Atom::new("x")];
    // Outside a distribution header, a reference is an error.
    assert_eq!(d(&[131, 82, 0]).unwrap_err().kind, K::AtomCacheRef);
    let mut dec = Decoder::new(Bytes::from_static(&[104, 2, 82, 2, 82, 0]));
    assert_eq!(
        dec.decode_term_with_atom_refs(&refs),
        Ok(Term::tuple(vec![Term::atom("x"), Term::atom("m")]))
    );
    let mut dec = Decoder::new(Bytes::from_static(&[82, 3]));
    assert_eq!(
        dec.decode_term_with_atom_refs(&refs).unwrap_err().kind,
        K::AtomCacheRef
    );
    // A fun that uses references comes out as the same fun with its atoms written out (as
    // `term_to_binary` writes them), so it can be sent on anywhere.
    let cached = new_fun(&[82, 0], &[82, 1], &[82, 2]);
    let utf8 = new_fun(
        &[119, 1, b'm'],
        &[119, 3, b'n', b'@', b'h'],
        &[119, 1, b'x'],
    );
    let plain = new_fun(
        &[100, 0, 1, b'm'],
        &[100, 0, 3, b'n', b'@', b'h'],
        &[100, 0, 1, b'x'],
    );
    let mut dec = Decoder::new(Bytes::from(cached));
    let got = dec.decode_term_with_atom_refs(&refs).expect("fun");
    let mut want = Decoder::new(Bytes::from(utf8));
    assert_eq!(got, want.decode_term().expect("utf8 fun"));
    let Term::Fun(f) = got else { panic!("{got:?}") };
    assert_eq!(&f.raw()[..], &plain[..]);
}

/// A NEW_FUN_EXT from its parts (after the fixed fields) with the given size field.
fn fun_with(size: Option<u32>, num_free: u32, parts: &[&[u8]]) -> Vec<u8> {
    let mut f = vec![112, 0, 0, 0, 0, 2];
    f.extend([7u8; 16]);
    f.extend(5u32.to_be_bytes());
    f.extend(num_free.to_be_bytes());
    for p in parts {
        f.extend(*p);
    }
    let size = size.unwrap_or((f.len() - 1) as u32);
    f[1..5].copy_from_slice(&size.to_be_bytes());
    f
}

const MODULE: &[u8] = &[100, 0, 1, b'm'];
const CREATOR: &[u8] = &[
    88, 100, 0, 3, b'n', b'@', b'h', 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1,
];

#[test]
fn funs_are_read_field_by_field_as_binary_to_term_reads_them() {
    let zero: &[u8] = &[97, 0];
    let check = |fun: &[u8]| {
        let mut input = vec![131];
        input.extend(fun);
        let bytes = Bytes::from(input);
        let owned = decode_at(&bytes, 0, true, &[], Limits::default());
        let mut view = crate::view::Decoder::new();
        let viewed = view
            .decode(&bytes)
            .map(|v| (v.to_term(&bytes), bytes.len()));
        assert_eq!(owned, viewed, "owned and view decoders differ on {fun:?}");
        owned.map(|(t, _)| t)
    };
    let fun_of = |t: Term| match t {
        Term::Fun(f) => f,
        other => panic!("not a fun: {other:?}"),
    };
    // As erl writes it: kept as a slice of the input, byte for byte.
    let canonical = fun_with(None, 1, &[MODULE, zero, zero, CREATOR, &[97, 42]]);
    let f = fun_of(check(&canonical).unwrap());
    assert_eq!(&f.raw()[..], &canonical[..]);
    assert_eq!((f.module(), f.arity()), (Atom::new("m"), 2));
    // erts ignores the size field: any size reads the same fun, written with its true size.
    for size in [0, 10, canonical.len() as u32 + 1, u32::MAX] {
        let lying = fun_with(Some(size), 1, &[MODULE, zero, zero, CREATOR, &[97, 42]]);
        assert_eq!(&fun_of(check(&lying).unwrap()).raw()[..], &canonical[..]);
    }
    // Parts in other encodings are written back as `term_to_binary` writes them: the old
    // index and uniq as erts's 32-bit ints, the module as ATOM_EXT, the creator as NEW_PID_EXT.
    let int_ext: &[u8] = &[98, 0, 0, 0, 0];
    let big_2_32: &[u8] = &[110, 5, 0, 0, 0, 0, 0, 1];
    let utf8_module: &[u8] = &[119, 1, b'm'];
    let old_pid: &[u8] = &[103, 100, 0, 3, b'n', b'@', b'h', 0, 0, 0, 5, 0, 0, 0, 0, 1];
    let other = fun_with(
        None,
        1,
        &[utf8_module, int_ext, big_2_32, old_pid, &[97, 42]],
    );
    assert_eq!(&fun_of(check(&other).unwrap()).raw()[..], &canonical[..]);
    let minus_five = fun_with(None, 0, &[MODULE, &[98, 255, 255, 255, 251], zero, CREATOR]);
    assert_eq!(
        &fun_of(check(&minus_five).unwrap()).raw()[..],
        &minus_five[..]
    );
    // Refused, as binary_to_term refuses them: a module that is not an atom, an old index
    // or uniq that is not a small integer (2^59 is not), a creator that is not a pid (erts
    // 25 takes one and crashes later), free variables that are not all there.
    let two_59: &[u8] = &[110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 8];
    for (bad, kind) in [
        (
            fun_with(None, 0, &[zero, zero, zero, CREATOR]),
            K::Malformed,
        ),
        (
            fun_with(None, 0, &[MODULE, &[100, 0, 1, b'x'], zero, CREATOR]),
            K::BadFunIndex,
        ),
        (
            fun_with(None, 0, &[MODULE, zero, two_59, CREATOR]),
            K::BadFunIndex,
        ),
        (
            fun_with(None, 0, &[MODULE, zero, zero, MODULE]),
            K::BadFunCreator,
        ),
        (
            fun_with(None, 2, &[MODULE, zero, zero, CREATOR, zero]),
            K::UnexpectedEof,
        ),
    ] {
        assert_eq!(check(&bad).map_err(|e| e.kind), Err(kind), "{bad:?}");
    }
    // 2^59 - 1 is still a small.
    let small_max: &[u8] = &[110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 7];
    assert!(check(&fun_with(None, 0, &[MODULE, zero, small_max, CREATOR])).is_ok());
    // The old FUN_EXT (117) is gone from OTP 23 on: binary_to_term refuses it.
    let mut old = vec![117, 0, 0, 0, 0];
    old.extend(CREATOR);
    old.extend([100, 0, 1, b'm', 97, 1, 97, 2]);
    assert_eq!(check(&old).unwrap_err().kind, K::UnknownTag(117));
}

#[test]
fn funs_nested_in_free_variables_are_read_without_native_recursion() {
    // 100,000 funs, each the only free variable of the one before: the frame machine's depth
    // limit refuses them, it does not overflow the stack.
    let zero: &[u8] = &[97, 0];
    let head = fun_with(Some(0), 1, &[MODULE, zero, zero, CREATOR]);
    let mut input = vec![131];
    for _ in 0..100_000 {
        input.extend(&head);
    }
    input.extend([97, 1]);
    let bytes = Bytes::from(input);
    let e = decode_at(&bytes, 0, true, &[], Limits::default()).unwrap_err();
    assert_eq!(e.kind, K::TooDeep);
    // Within the limit they are read, each written with its true size.
    let mut input = vec![131];
    for _ in 0..100 {
        input.extend(&head);
    }
    input.extend([97, 1]);
    let bytes = Bytes::from(input);
    let (t, end) = decode_at(&bytes, 0, true, &[], Limits::default()).unwrap();
    assert_eq!(end, bytes.len());
    assert_eq!(
        crate::encode(&t).len(),
        bytes.len(),
        "every size field rewritten, no byte more"
    );
    let (mut t, mut depth) = (t, 0);
    while let Term::Fun(f) = t {
        let raw = f.raw().clone();
        let size = u32::from_be_bytes([raw[1], raw[2], raw[3], raw[4]]) as usize;
        assert_eq!(size, raw.len() - 1);
        t = decode_at(
            &raw,
            30 + MODULE.len() + 4 + CREATOR.len(),
            false,
            &[],
            Limits::default(),
        )
        .unwrap()
        .0;
        depth += 1;
    }
    assert_eq!((depth, t), (100, Term::Int(1)));
}

#[test]
fn decode_at_reads_one_term_mid_input_with_offsets_from_the_start() {
    let refs = [Atom::new("m")];
    // A junk byte, `{m, <<"ab">>}` after a header (no version byte), then `131 97 7`.
    let input = Bytes::from_static(&[0, 104, 2, 82, 0, 109, 0, 0, 0, 2, b'a', b'b', 131, 97, 7]);
    let (t, end) = decode_at(&input, 1, false, &refs, Limits::default()).expect("header term");
    assert_eq!(t, Term::tuple(vec![Term::atom("m"), Term::binary(b"ab")]));
    assert_eq!(end, 12);
    assert_eq!(
        decode_at(&input, end, true, &[], Limits::default()),
        Ok((Term::Int(7), 15))
    );
    // Errors name the offset in `input`, not in the term.
    let e = decode_at(&input, 1, false, &[], Limits::default()).unwrap_err();
    assert_eq!((e.offset, e.kind), (3, K::AtomCacheRef));
    let cut = input.slice(..11);
    assert_eq!(
        decode_at(&cut, 1, false, &refs, Limits::default())
            .unwrap_err()
            .kind,
        K::UnexpectedEof
    );
}

#[test]
fn short_binaries_are_inline_mid_ones_copied_when_asked_and_long_ones_sliced() {
    // {<<"ab">>, <<1 x 30>>, <<0 x 65>>}
    let mut raw = vec![131, 104, 3, 109, 0, 0, 0, 2, b'a', b'b', 109, 0, 0, 0, 30];
    raw.extend([1u8; 30]);
    raw.extend([109, 0, 0, 0, 65]);
    raw.extend([0u8; 65]);
    let input = Bytes::from(raw);
    let inside = |b: &Binary| input.as_ptr_range().contains(&b.as_ptr());
    let binaries = |limits| match decode_at(&input, 0, true, &[], limits) {
        Ok((Term::Tuple(v), _)) => match &v[..] {
            [Term::Binary(a), Term::Binary(b), Term::Binary(c)] => {
                (a.clone(), b.clone(), c.clone())
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let (short, mid, long) = binaries(Limits::default());
    assert!(short.is_inline() && !inside(&short), "2 bytes: inline");
    assert!(
        inside(&mid) && inside(&long),
        "30 and 65 bytes: zero-copy by default"
    );
    let copy = Limits {
        copy_binaries_up_to: 64,
        ..Limits::default()
    };
    let (short, mid, long) = binaries(copy);
    assert!(short.is_inline());
    assert!(!mid.is_inline() && !inside(&mid), "30 bytes: copied");
    assert!(inside(&long), "65 bytes: still a slice");
    assert_eq!(
        (&short[..], &mid[..], long.len()),
        (&b"ab"[..], &[1u8; 30][..], 65)
    );
}
