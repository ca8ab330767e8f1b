//! Equality, hashing and ordering of terms.
//! `Eq` is exact match (`=:=`, OTP 25: `1 =/= 1.0`, `0.0 =:= -0.0`); `Ord` is Erlang's term order
//! (`lists:sort/1`) with exact ties broken (integer before float) so it agrees with `Eq`;
//! `Term::erl_cmp` is the `==`-level comparison where `1 == 1.0`.

use crate::bigint::BigInt;
use crate::pid::{Pid, Port, Ref};
use crate::term::Term;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// Term class rank: number < atom < reference < fun < port < pid < tuple < map < nil < list <
/// bit string. LOCAL_EXT terms are opaque and sort last (they never reach a BEAM comparison).
fn rank(t: &Term) -> u8 {
    match t {
        Term::Int(_) | Term::Big(_) | Term::Float(_) => 0,
        Term::Atom(_) => 1,
        Term::Ref(_) => 2,
        Term::Fun(_) | Term::Export(_) => 3,
        Term::Port(_) => 4,
        Term::Pid(_) => 5,
        Term::Tuple(_) => 6,
        Term::Map(_) => 7,
        Term::List(v) if v.is_empty() => 8,
        Term::List(_) | Term::ImproperList(..) => 9,
        Term::Binary(_) | Term::BitBinary { .. } => 10,
        Term::Local(_) => 11,
    }
}

/// Floats: `-0.0` is identified with `0.0` (OTP 25 `=:=`); NaN cannot come from Erlang and is
/// ordered by `total_cmp` so the order stays total.
fn norm_float(f: f64) -> f64 {
    if f == 0.0 {
        0.0
    } else {
        f
    }
}

fn cmp_float(a: f64, b: f64) -> Ordering {
    norm_float(a).total_cmp(&norm_float(b))
}

/// Exact comparison of an i64 with a float.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less;
    }
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO63 {
        return Ordering::Less;
    }
    if f < -TWO63 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    match (i as i128).cmp(&(t as i128)) {
        Ordering::Equal => 0.0f64.total_cmp(&(f - t)).then(Ordering::Equal),
        o => o,
    }
    .then(Ordering::Equal)
}

/// Exact comparison of a bignum (outside i64) with a float.
fn cmp_big_float(b: &BigInt, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less;
    }
    if f.is_infinite() {
        return if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if f.abs() < TWO63 {
        // |b| >= 2^63 > |f|.
        return if b.is_negative() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    // |f| >= 2^63, so f is an integer: convert exactly (mantissa << exponent).
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1075;
    let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let shift = exp.max(0) as usize;
    let mut mag = vec![0u8; shift / 8 + 9];
    let m = (mant as u128) << (shift % 8);
    for (k, byte) in m.to_le_bytes().iter().take(9).enumerate() {
        mag[shift / 8 + k] = *byte;
    }
    match BigInt::from_parts(f < 0.0, mag) {
        Ok(fb) => b.cmp_value(&fb),
        // Only -2^63 fits i64 here; a (normalised) bignum is beyond it either way.
        Err(_) => {
            if b.is_negative() {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
    }
}

fn cmp_big_int(b: &BigInt, _i: i64) -> Ordering {
    // A normalised bignum lies outside i64.
    if b.is_negative() {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// `==`-level numeric comparison.
fn cmp_numbers(a: &Term, b: &Term) -> Ordering {
    match (a, b) {
        (Term::Int(x), Term::Int(y)) => x.cmp(y),
        (Term::Float(x), Term::Float(y)) => cmp_float(*x, *y),
        (Term::Big(x), Term::Big(y)) => x.cmp_value(y),
        (Term::Int(x), Term::Float(y)) => cmp_int_float(*x, *y),
        (Term::Float(x), Term::Int(y)) => cmp_int_float(*y, *x).reverse(),
        (Term::Big(x), Term::Int(y)) => cmp_big_int(x, *y),
        (Term::Int(x), Term::Big(y)) => cmp_big_int(y, *x).reverse(),
        (Term::Big(x), Term::Float(y)) => cmp_big_float(x, *y),
        (Term::Float(x), Term::Big(y)) => cmp_big_float(y, *x).reverse(),
        _ => Ordering::Equal,
    }
}

/// Order of pids as BEAM compares them (verified against OTP 25 `lists:sort/1` by the golden
/// test): serial, then id, then node name, then creation.
pub fn cmp_pid(a: &Pid, b: &Pid) -> Ordering {
    a.serial
        .cmp(&b.serial)
        .then(a.id.cmp(&b.id))
        .then_with(|| a.node.as_str().cmp(b.node.as_str()))
        .then(a.creation.cmp(&b.creation))
}

/// Order of ports as BEAM (verified by the golden test): node name, then creation, then id.
pub fn cmp_port(a: &Port, b: &Port) -> Ordering {
    a.node
        .as_str()
        .cmp(b.node.as_str())
        .then(a.creation.cmp(&b.creation))
        .then(a.id.cmp(&b.id))
}

/// Order of refs as BEAM (verified by the golden test): node name, then creation, then number
/// of words, then words from the most significant.
pub fn cmp_ref(a: &Ref, b: &Ref) -> Ordering {
    a.node
        .as_str()
        .cmp(b.node.as_str())
        .then(a.creation.cmp(&b.creation))
        .then_with(|| {
            let (x, y) = (a.ids(), b.ids());
            x.len()
                .cmp(&y.len())
                .then_with(|| x.iter().rev().cmp(y.iter().rev()))
        })
}

fn bit_len(bytes: &[u8], bits: u8) -> usize {
    if bytes.is_empty() {
        0
    } else {
        (bytes.len() - 1) * 8 + bits as usize
    }
}

fn bitstring_parts(t: &Term) -> (&[u8], usize) {
    match t {
        Term::Binary(b) => (b, b.len() * 8),
        Term::BitBinary { bytes, bits } => (bytes, bit_len(bytes, *bits)),
        _ => (&[], 0),
    }
}

fn cmp_bits(a: (&[u8], usize), b: (&[u8], usize)) -> Ordering {
    let n = a.1.min(b.1);
    let full = n / 8;
    match a.0[..full].cmp(&b.0[..full]) {
        Ordering::Equal => {}
        o => return o,
    }
    let rem = n % 8;
    if rem != 0 {
        let mask = 0xffu8 << (8 - rem);
        let x = a.0.get(full).copied().unwrap_or(0) & mask;
        let y = b.0.get(full).copied().unwrap_or(0) & mask;
        match x.cmp(&y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    a.1.cmp(&b.1)
}

/// Splits a list-ish term into (head elements, tail).
fn list_parts(t: &Term) -> (&[Term], Option<&Term>) {
    match t {
        Term::List(v) => (v, None),
        Term::ImproperList(v, tail) => (v, Some(tail)),
        _ => (&[], Some(t)),
    }
}

fn cmp_lists(a: &Term, b: &Term, mode: Mode) -> Ordering {
    let (ae, at) = list_parts(a);
    let (be, bt) = list_parts(b);
    for (x, y) in ae.iter().zip(be.iter()) {
        match cmp_terms(x, y, mode) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    let nil = Term::List(Vec::new());
    // What follows the common prefix on each side: remaining cells or the tail.
    let rest = |e: &[Term], t: Option<&Term>, n: usize| -> Term {
        if e.len() > n {
            match t {
                None => Term::List(e[n..].to_vec()),
                Some(t) => Term::ImproperList(e[n..].to_vec(), Box::new(t.clone())),
            }
        } else {
            t.cloned().unwrap_or(Term::List(Vec::new()))
        }
    };
    let n = ae.len().min(be.len());
    if ae.len() == be.len() {
        return cmp_terms(at.unwrap_or(&nil), bt.unwrap_or(&nil), mode);
    }
    // Rare path (different lengths): materialise the remainders (only the shorter side's tail
    // is a non-list, so one comparison settles it).
    cmp_terms(&rest(ae, at, n), &rest(be, bt, n), mode)
}

/// How numbers of different types compare.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `==`: by value, `1 == 1.0`.
    Arith,
    /// `Ord`: by value, ties broken integer-first (`1 < 1.0`).
    Exact,
    /// Map key order (how BEAM sorts flatmap keys and compares maps): all integers before all
    /// floats, applied recursively inside keys.
    MapKey,
}

/// Map key order (the order `term_to_binary` writes small-map keys in).
pub fn cmp_map_keys(a: &Term, b: &Term) -> Ordering {
    cmp_terms(a, b, Mode::MapKey)
}

fn sorted_pairs(m: &[(Term, Term)]) -> Vec<&(Term, Term)> {
    let mut v: Vec<&(Term, Term)> = m.iter().collect();
    v.sort_by(|x, y| cmp_map_keys(&x.0, &y.0));
    v
}

fn cmp_maps(a: &[(Term, Term)], b: &[(Term, Term)], mode: Mode) -> Ordering {
    match a.len().cmp(&b.len()) {
        Ordering::Equal => {}
        o => return o,
    }
    let (sa, sb) = (sorted_pairs(a), sorted_pairs(b));
    for (x, y) in sa.iter().zip(sb.iter()) {
        // Keys compare in map key order even under `==` (`#{1 => a} == #{1.0 => a}` is false).
        match cmp_map_keys(&x.0, &y.0) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    for (x, y) in sa.iter().zip(sb.iter()) {
        match cmp_terms(&x.1, &y.1, mode) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

fn cmp_terms(a: &Term, b: &Term, mode: Mode) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Term::Atom(x), Term::Atom(y)) => {
            if x == y {
                Ordering::Equal
            } else {
                x.as_str().cmp(y.as_str())
            }
        }
        _ if ra == 0 => {
            let is_float = |t: &Term| matches!(t, Term::Float(_));
            if mode == Mode::MapKey && is_float(a) != is_float(b) {
                // Map key order: every integer before every float.
                return is_float(a).cmp(&is_float(b));
            }
            let o = cmp_numbers(a, b);
            if o != Ordering::Equal || mode == Mode::Arith {
                return o;
            }
            // Exact tie-break: integers before floats (1 < 1.0).
            is_float(a).cmp(&is_float(b))
        }
        (Term::Ref(x), Term::Ref(y)) => cmp_ref(x, y),
        (Term::Port(x), Term::Port(y)) => cmp_port(x, y),
        (Term::Pid(x), Term::Pid(y)) => cmp_pid(x, y),
        (Term::Export(x), Term::Export(y)) => x
            .module
            .as_str()
            .cmp(y.module.as_str())
            .then_with(|| x.function.as_str().cmp(y.function.as_str()))
            .then(x.arity.cmp(&y.arity)),
        // Local funs sort before exports within the fun class; among themselves by bytes.
        (Term::Fun(_), Term::Export(_)) => Ordering::Less,
        (Term::Export(_), Term::Fun(_)) => Ordering::Greater,
        (Term::Fun(x), Term::Fun(y)) => x
            .module()
            .as_str()
            .cmp(y.module().as_str())
            .then_with(|| x.raw().cmp(y.raw())),
        (Term::Tuple(x), Term::Tuple(y)) => x.len().cmp(&y.len()).then_with(|| {
            for (p, q) in x.iter().zip(y.iter()) {
                match cmp_terms(p, q, mode) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            Ordering::Equal
        }),
        (Term::Map(x), Term::Map(y)) => cmp_maps(x, y, mode),
        _ if ra == 8 => Ordering::Equal,
        _ if ra == 9 => cmp_lists(a, b, mode),
        _ if ra == 10 => cmp_bits(bitstring_parts(a), bitstring_parts(b)),
        (Term::Local(x), Term::Local(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

impl Term {
    /// Erlang's `==`-level comparison: numbers compare by value (`1 == 1.0`).
    pub fn erl_cmp(&self, other: &Term) -> Ordering {
        cmp_terms(self, other, Mode::Arith)
    }

    /// `==` in Erlang.
    pub fn erl_eq(&self, other: &Term) -> bool {
        self.erl_cmp(other) == Ordering::Equal
    }
}

impl Ord for Term {
    fn cmp(&self, other: &Term) -> Ordering {
        cmp_terms(self, other, Mode::Exact)
    }
}

impl PartialOrd for Term {
    fn partial_cmp(&self, other: &Term) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        match (self, other) {
            (Term::Atom(a), Term::Atom(b)) => a == b,
            (Term::Int(a), Term::Int(b)) => a == b,
            (Term::Big(a), Term::Big(b)) => a == b,
            (Term::Float(a), Term::Float(b)) => {
                norm_float(*a).to_bits() == norm_float(*b).to_bits()
            }
            (Term::Binary(a), Term::Binary(b)) => a == b,
            (Term::BitBinary { bytes: a, bits: x }, Term::BitBinary { bytes: b, bits: y }) => {
                a == b && x == y
            }
            (Term::Tuple(a), Term::Tuple(b)) | (Term::List(a), Term::List(b)) => a == b,
            (Term::ImproperList(a, x), Term::ImproperList(b, y)) => a == b && x == y,
            (Term::Map(a), Term::Map(b)) => {
                a.len() == b.len() && (a == b || cmp_maps(a, b, Mode::Exact) == Ordering::Equal)
            }
            (Term::Pid(a), Term::Pid(b)) => a == b,
            (Term::Ref(a), Term::Ref(b)) => a == b,
            (Term::Port(a), Term::Port(b)) => a == b,
            (Term::Export(a), Term::Export(b)) => a == b,
            (Term::Fun(a), Term::Fun(b)) => a == b,
            (Term::Local(a), Term::Local(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Term {}

impl Hash for Term {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Term::Atom(a) => a.hash(state),
            Term::Int(i) => i.hash(state),
            Term::Big(b) => b.hash(state),
            Term::Float(f) => norm_float(*f).to_bits().hash(state),
            Term::Binary(b) => b.hash(state),
            Term::BitBinary { bytes, bits } => {
                bytes.hash(state);
                bits.hash(state);
            }
            Term::Tuple(v) | Term::List(v) => v.hash(state),
            Term::ImproperList(v, t) => {
                v.hash(state);
                t.hash(state);
            }
            Term::Map(m) => {
                // Order-independent: maps equal as sets of pairs hash alike.
                let mut acc = 0u64;
                for p in m {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    p.hash(&mut h);
                    acc = acc.wrapping_add(h.finish());
                }
                m.len().hash(state);
                acc.hash(state);
            }
            Term::Pid(p) => p.hash(state),
            Term::Ref(r) => r.hash(state),
            Term::Port(p) => p.hash(state),
            Term::Export(e) => e.hash(state),
            Term::Fun(f) => f.hash(state),
            Term::Local(b) => b.hash(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_order() {
        let mut v = [
            Term::binary(b"a"),
            Term::list(vec![Term::from(1)]),
            Term::nil(),
            Term::map(vec![]),
            Term::tuple(vec![]),
            Term::atom("a"),
            Term::Float(1.5),
            Term::from(1),
        ];
        v.sort();
        assert_eq!(v[0], Term::from(1));
        assert_eq!(v[1], Term::Float(1.5));
        assert!(v[2].is_atom("a"));
        assert_eq!(v[7], Term::binary(b"a"));
    }

    #[test]
    fn numbers() {
        assert_eq!(Term::from(1).erl_cmp(&Term::Float(1.0)), Ordering::Equal);
        assert_ne!(Term::from(1), Term::Float(1.0));
        assert_eq!(Term::from(1).cmp(&Term::Float(1.0)), Ordering::Less);
        assert_eq!(Term::Float(0.0), Term::Float(-0.0));
        let big = Term::from_i128(1i128 << 70);
        assert_eq!(big.erl_cmp(&Term::Float(2f64.powi(70))), Ordering::Equal);
        assert_eq!(big.erl_cmp(&Term::Float(2f64.powi(71))), Ordering::Less);
        assert_eq!(big.erl_cmp(&Term::Float(1e10)), Ordering::Greater);
        assert_eq!(Term::from(3).erl_cmp(&Term::Float(2.5)), Ordering::Greater);
        assert_eq!(Term::from(-3).erl_cmp(&Term::Float(-2.5)), Ordering::Less);
        assert_eq!(Term::from(2).erl_cmp(&Term::Float(2.5)), Ordering::Less);
    }

    #[test]
    fn improper_lists() {
        let a = Term::ImproperList(vec![Term::atom("a")], Box::new(Term::atom("b")));
        let b = Term::list(vec![Term::atom("a"), Term::atom("c")]);
        assert_eq!(a.cmp(&b), Ordering::Less); // tail atom b < list [c]
        let c = Term::ImproperList(vec![Term::atom("a")], Box::new(Term::binary(b"")));
        assert_eq!(c.cmp(&b), Ordering::Greater);
    }

    #[test]
    fn maps_eq_any_order() {
        let a = Term::map(vec![
            (Term::from(1), Term::from(2)),
            (Term::atom("x"), Term::nil()),
        ]);
        let b = Term::map(vec![
            (Term::atom("x"), Term::nil()),
            (Term::from(1), Term::from(2)),
        ]);
        assert_eq!(a, b);
        let h = |t: &Term| {
            let mut s = std::collections::hash_map::DefaultHasher::new();
            t.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&a), h(&b));
    }
}
