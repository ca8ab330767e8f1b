//! Unit tests of the view decoder: shapes the owned decoder special-cases, arena reuse and
//! sizes. Equivalence with the owned decoder over arbitrary input is in tests/view_props.rs.

use super::node::Node;
use super::{Decoder, TermRef};
use crate::{decode, encode, Atom, DecodeErrorKind, Term};
use bytes::Bytes;

fn same(bytes: &[u8]) {
    let b = Bytes::copy_from_slice(bytes);
    let owned = decode(&b);
    let mut d = Decoder::new();
    let view = d.decode(&b).map(|v| v.to_term(&b));
    assert_eq!(view, owned, "{bytes:?}");
}

#[test]
fn node_is_small() {
    assert!(
        std::mem::size_of::<Node>() <= 32,
        "{}",
        std::mem::size_of::<Node>()
    );
}

#[test]
fn list_shapes() {
    same(&[131, 108, 0, 0, 0, 0, 106]); // [] via LIST_EXT 0
    same(&[131, 108, 0, 0, 0, 0, 97, 5]); // [|5] is 5
    same(&[131, 108, 0, 0, 0, 0, 107, 0, 2, 1, 2]); // [|"\1\2"]
    same(&[131, 108, 0, 0, 0, 1, 97, 9, 107, 0, 2, 1, 2]); // [9|"\1\2"]
    same(&[131, 108, 0, 0, 0, 1, 97, 9, 108, 0, 0, 0, 1, 97, 8, 106]); // cons chain
    same(&[
        131, 108, 0, 0, 0, 1, 97, 9, 108, 0, 0, 0, 0, 100, 0, 1, b'a',
    ]); // [9|a] via chain
    same(&[131, 108, 0, 0, 0, 1, 97, 9, 104, 1, 97, 1]); // [9|{1}]
    same(&[131, 107, 0, 0]); // "" (STRING_EXT of length 0)
    same(&[131, 104, 0]);
    same(&[131, 116, 0, 0, 0, 0]);
    same(&[131, 104, 2, 107, 0, 3, b'a', b'b', b'c', 106]);
}

#[test]
fn string_is_a_list_of_ints_without_nodes() {
    let b = encode(&Term::charlist("hey"));
    let mut d = Decoder::new();
    let v = d.decode(&b).unwrap();
    let s = v.list().unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!(s.get(1).unwrap().as_int(), Some(b'e' as i64));
    let ints: Vec<i64> = s.iter().filter_map(|v| v.as_int()).collect();
    assert_eq!(ints, vec![104, 101, 121]);
    assert_eq!(d.nodes.len(), 1);
}

#[test]
fn accessors() {
    let t = Term::tuple(vec![
        Term::atom("push"),
        "alice".into(),
        Term::map(vec![(Term::atom("n"), 1.into())]),
        Term::ImproperList(vec![1.into()], Box::new(Term::atom("t"))),
        Term::nil(),
    ]);
    let b = encode(&t);
    let mut d = Decoder::new();
    let v = d.decode(&b).unwrap();
    let [tag, name, map, improper, nil] = v.tuple().unwrap().array().unwrap();
    assert!(tag.is_atom("push"));
    assert_eq!(name.as_str(), Some("alice"));
    assert_eq!(
        map.map()
            .unwrap()
            .get_atom(Atom::new("n"))
            .unwrap()
            .as_int(),
        Some(1)
    );
    match improper.term() {
        TermRef::ImproperList(h, tl) => {
            assert_eq!(h.len(), 1);
            assert!(tl.is_atom("t"));
        }
        other => panic!("{other:?}"),
    }
    assert!(nil.is_nil());
    assert_eq!(v.tuple().unwrap().get(4).map(|v| v.is_nil()), Some(true));
    assert!(v.tuple().unwrap().get(5).is_none());
    assert_eq!(v.to_term(&b), t);
    assert_eq!(v.to_term_copied(), t);
}

#[test]
fn trailing_and_prefix() {
    let mut b = encode(&Term::from(1)).to_vec();
    b.push(0);
    let mut d = Decoder::new();
    let e = d.decode(&b).unwrap_err();
    assert_eq!(e, decode(&Bytes::from(b.clone())).unwrap_err());
    assert_eq!(e.kind, DecodeErrorKind::Trailing(1));
    let (v, used) = d.decode_external(&b).unwrap();
    assert_eq!((v.as_int(), used), (Some(1), 3));
}

#[test]
fn roots_are_checked() {
    let b = encode(&Term::from(7));
    let mut d = Decoder::new();
    let (r, _) = d.push_external(&b, 0).unwrap();
    assert!(d.view(&b[..2], r).is_none());
    assert_eq!(d.view(&b, r).unwrap().as_int(), Some(7));
    d.clear();
    assert!(d.view(&b, r).is_none());
}
