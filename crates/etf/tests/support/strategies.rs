//! Proptest strategies shared by the property tests (tests/props.rs, tests/view_props.rs):
//! arbitrary terms, and byte-level mutation of encodings.

use bytes::Bytes;
use etf::{Atom, Binary, Export, Pid, Port, Ref, Term};
use proptest::prelude::*;

pub fn atom_strategy() -> impl Strategy<Value = Atom> {
    prop_oneof![
        prop::sample::select(vec![
            "ok",
            "error",
            "nil",
            "true",
            "",
            "alice@host",
            "Elixir.Foo",
            "héllo",
            "日本"
        ]),
        "[a-z_][a-zA-Z0-9_@]{0,12}".prop_map(|s| Box::leak(s.into_boxed_str()) as &str),
    ]
    .prop_map(Atom::new)
}

pub fn leaf() -> impl Strategy<Value = Term> {
    prop_oneof![
        atom_strategy().prop_map(Term::Atom),
        any::<i64>().prop_map(Term::Int),
        (0i64..=300).prop_map(Term::Int),
        any::<i128>().prop_map(Term::from_i128),
        (any::<bool>(), prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(neg, mut m)| {
            m.push(1);
            match etf::BigInt::from_parts(neg, m) {
                Ok(b) => Term::Big(b),
                Err(i) => Term::Int(i),
            }
        }),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Term::Float),
        // Held either way: a shared buffer (as a user's `Bytes`) or inline when short.
        (prop::collection::vec(any::<u8>(), 0..40), any::<bool>()).prop_map(|(v, shared)| {
            Term::Binary(if shared {
                Binary::from(Bytes::from(v))
            } else {
                Binary::from(v)
            })
        }),
        (prop::collection::vec(any::<u8>(), 1..10), 1u8..=7).prop_map(|(mut v, bits)| {
            let n = v.len();
            v[n - 1] &= 0xffu8 << (8 - bits);
            Term::BitBinary {
                bytes: Bytes::from(v),
                bits,
            }
        }),
        (atom_strategy(), any::<u32>(), any::<u32>(), any::<u32>())
            .prop_map(|(n, i, s, c)| Term::Pid(Pid::new(n, i, s, c))),
        (
            atom_strategy(),
            any::<u32>(),
            prop::collection::vec(any::<u32>(), 1..=5)
        )
            .prop_map(|(n, c, ids)| Term::Ref(Ref::new(n, c, &ids))),
        (atom_strategy(), any::<u64>(), any::<u32>())
            .prop_map(|(node, id, creation)| Term::Port(Port { node, id, creation })),
        (atom_strategy(), atom_strategy(), any::<u8>()).prop_map(|(module, function, arity)| {
            Term::Export(Export {
                module,
                function,
                arity,
            })
        }),
    ]
}

pub fn term_strategy() -> impl Strategy<Value = Term> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Term::Tuple),
            prop::collection::vec(inner.clone(), 0..8).prop_map(Term::List),
            (prop::collection::vec(inner.clone(), 1..5), leaf())
                .prop_map(|(h, t)| Term::ImproperList(h, Box::new(t))),
            // A map's keys are distinct (`binary_to_term` refuses a repeated one).
            prop::collection::vec((inner.clone(), inner), 0..6).prop_map(|mut pairs| {
                let mut seen: Vec<Term> = Vec::new();
                pairs.retain(|(k, _)| {
                    let new = !seen.contains(k);
                    if new {
                        seen.push(k.clone());
                    }
                    new
                });
                Term::Map(pairs)
            }),
        ]
    })
}

pub fn mutate(mut v: Vec<u8>, ops: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(op, pos, byte) in ops {
        if v.is_empty() {
            v.push(byte);
            continue;
        }
        let p = pos % v.len();
        match op % 4 {
            0 => v[p] ^= byte | 1,
            1 => v.insert(p, byte),
            2 => {
                v.remove(p);
            }
            _ => v.truncate(p),
        }
    }
    v
}
