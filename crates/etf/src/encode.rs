//! Encoder: `Term` -> External Term Format, byte-identical to OTP 25 `term_to_binary/1`
//! (minor_version 1). `encoded_len` computes the exact size first so the output buffer is
//! allocated once; small maps are written in term order without allocating.

use crate::atom::Atom;
use crate::order::cmp_map_keys;
use crate::pid::{Pid, Port, Ref};
use crate::tag::*;
use crate::term::Term;
use bytes::{BufMut, Bytes, BytesMut};
use std::cmp::Ordering;

/// Where encoded bytes go: a `Vec<u8>` (fast pushes) or a caller's `BytesMut`.
pub(crate) trait Sink {
    fn put_u8(&mut self, b: u8);
    fn put_slice(&mut self, s: &[u8]);
    #[inline]
    fn put_u16(&mut self, v: u16) {
        self.put_slice(&v.to_be_bytes())
    }
    #[inline]
    fn put_u32(&mut self, v: u32) {
        self.put_slice(&v.to_be_bytes())
    }
    #[inline]
    fn put_i32(&mut self, v: i32) {
        self.put_slice(&v.to_be_bytes())
    }
    #[inline]
    fn put_u64(&mut self, v: u64) {
        self.put_slice(&v.to_be_bytes())
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn put_u8(&mut self, b: u8) {
        self.push(b)
    }
    #[inline]
    fn put_slice(&mut self, s: &[u8]) {
        self.extend_from_slice(s)
    }
}

impl Sink for BytesMut {
    #[inline]
    fn put_u8(&mut self, b: u8) {
        BufMut::put_u8(self, b)
    }
    #[inline]
    fn put_slice(&mut self, s: &[u8]) {
        self.extend_from_slice(s)
    }
}

/// Maps with at most this many keys are "flatmaps" in BEAM and encoded with keys in term order.
/// Larger maps are hash maps whose encoding order depends on BEAM's internal hashing; ferl keeps
/// their pairs in the order it holds them (decoded maps keep the peer's order).
const FLATMAP_MAX: usize = 32;

/// Encode with the 131 version byte, exactly as OTP 25 `term_to_binary/1`.
pub fn encode(t: &Term) -> Bytes {
    // A `Vec` with the exact size: its pushes are cheaper than `BufMut` calls, and the
    // conversion to `Bytes` takes ownership without copying.
    let mut v = Vec::with_capacity(encoded_len(t));
    v.push(VERSION);
    write_term::<false>(t, &mut v);
    Bytes::from(v)
}

/// Append 131 + the term to `buf` (reserving exactly the space needed), as `encode`.
pub fn encode_to(t: &Term, buf: &mut BytesMut) {
    buf.reserve(encoded_len(t));
    Sink::put_u8(buf, VERSION);
    write_term::<false>(t, buf);
}

/// Exact size of `encode(t)`, version byte included.
pub fn encoded_len(t: &Term) -> usize {
    1 + term_len::<false>(t)
}

/// Append 131 + the term as an OTP 25 node writes it on a distribution connection (which
/// negotiated UTF8_ATOMS): every atom as SMALL_ATOM_UTF8_EXT / ATOM_UTF8_EXT. Otherwise identical
/// to `encode_to`. `term_to_binary/1` instead writes Latin-1-representable atoms as ATOM_EXT.
pub fn encode_dist_to(t: &Term, buf: &mut BytesMut) {
    buf.reserve(encoded_dist_len(t));
    Sink::put_u8(buf, VERSION);
    write_term::<true>(t, buf);
}

/// Exact size of `encode_dist_to` output, version byte included.
pub fn encoded_dist_len(t: &Term) -> usize {
    1 + term_len::<true>(t)
}

/// Atom encoding, precomputed per atom by the table: OTP 25 `term_to_binary` uses ATOM_EXT
/// (Latin-1, u16 length) when every character is below 256, else SMALL_ATOM_UTF8_EXT /
/// ATOM_UTF8_EXT; with `UTF8` (distribution) always the UTF-8 forms.
#[inline]
fn atom_len<const UTF8: bool>(a: Atom) -> usize {
    a.external(UTF8).len()
}

fn is_string(v: &[Term]) -> bool {
    v.len() <= 0xffff && v.iter().all(|e| matches!(e, Term::Int(0..=255)))
}

fn int_len(i: i64) -> usize {
    match i {
        0..=255 => 2,
        _ if i32::try_from(i).is_ok() => 5,
        _ => 3 + (8 - (i.unsigned_abs().leading_zeros() as usize) / 8),
    }
}

fn term_len<const U: bool>(t: &Term) -> usize {
    match t {
        Term::Atom(a) => atom_len::<U>(*a),
        Term::Int(i) => int_len(*i),
        Term::Big(b) => {
            let n = b.magnitude().len();
            if n <= 255 {
                3 + n
            } else {
                6 + n
            }
        }
        Term::Float(_) => 9,
        Term::Binary(b) => 5 + b.len(),
        Term::BitBinary { bytes, bits } => {
            if bit_binary_is_binary(bytes, *bits) {
                5 + bytes.len()
            } else {
                6 + bytes.len()
            }
        }
        Term::Tuple(v) => {
            let h = if v.len() <= 255 { 2 } else { 5 };
            h + v.iter().map(term_len::<U>).sum::<usize>()
        }
        Term::List(v) => {
            if v.is_empty() {
                1
            } else if is_string(v) {
                3 + v.len()
            } else {
                5 + v.iter().map(term_len::<U>).sum::<usize>() + 1
            }
        }
        Term::ImproperList(v, tail) => {
            if v.is_empty() {
                term_len::<U>(tail)
            } else {
                5 + v.iter().map(term_len::<U>).sum::<usize>() + term_len::<U>(tail)
            }
        }
        Term::Map(m) => {
            5 + m
                .iter()
                .map(|(k, v)| term_len::<U>(k) + term_len::<U>(v))
                .sum::<usize>()
        }
        Term::Pid(p) => 1 + atom_len::<U>(p.node) + 12,
        Term::Ref(r) => 1 + 2 + atom_len::<U>(r.node) + 4 + 4 * r.ids().len(),
        Term::Port(p) => 1 + atom_len::<U>(p.node) + if p.id > u32::MAX as u64 { 12 } else { 8 },
        Term::Export(e) => 1 + atom_len::<U>(e.module) + atom_len::<U>(e.function) + 2,
        Term::Fun(f) => f.raw().len(),
        Term::Local(b) => b.len(),
    }
}

/// A BitBinary whose bit count says "whole bytes" (user-constructed) is written as a binary.
fn bit_binary_is_binary(bytes: &[u8], bits: u8) -> bool {
    bytes.is_empty() || bits == 0 || bits >= 8
}

fn put_atom<const UTF8: bool>(a: Atom, buf: &mut impl Sink) {
    buf.put_slice(a.external(UTF8));
}

fn put_int(i: i64, buf: &mut impl Sink) {
    match i {
        0..=255 => {
            buf.put_u8(SMALL_INTEGER_EXT);
            buf.put_u8(i as u8);
        }
        _ if i32::try_from(i).is_ok() => {
            buf.put_u8(INTEGER_EXT);
            buf.put_i32(i as i32);
        }
        _ => {
            let m = i.unsigned_abs();
            let n = 8 - (m.leading_zeros() as usize) / 8;
            buf.put_u8(SMALL_BIG_EXT);
            buf.put_u8(n as u8);
            buf.put_u8((i < 0) as u8);
            buf.put_slice(&m.to_le_bytes()[..n]);
        }
    }
}

fn put_pid<const U: bool>(p: &Pid, buf: &mut impl Sink) {
    buf.put_u8(NEW_PID_EXT);
    put_atom::<U>(p.node, buf);
    buf.put_u32(p.id);
    buf.put_u32(p.serial);
    buf.put_u32(p.creation);
}

fn put_ref<const U: bool>(r: &Ref, buf: &mut impl Sink) {
    buf.put_u8(NEWER_REFERENCE_EXT);
    buf.put_u16(r.ids().len() as u16);
    put_atom::<U>(r.node, buf);
    buf.put_u32(r.creation);
    for w in r.ids() {
        buf.put_u32(*w);
    }
}

fn put_port<const U: bool>(p: &Port, buf: &mut impl Sink) {
    // OTP 25 writes NEW_PORT_EXT unless the id needs more than 32 bits.
    if p.id > u32::MAX as u64 {
        buf.put_u8(V4_PORT_EXT);
        put_atom::<U>(p.node, buf);
        buf.put_u64(p.id);
    } else {
        buf.put_u8(NEW_PORT_EXT);
        put_atom::<U>(p.node, buf);
        buf.put_u32(p.id as u32);
    }
    buf.put_u32(p.creation);
}

fn put_map<const U: bool>(m: &[(Term, Term)], buf: &mut impl Sink) {
    buf.put_u8(MAP_EXT);
    buf.put_u32(m.len() as u32);
    let sorted = m
        .windows(2)
        .all(|w| cmp_map_keys(&w[0].0, &w[1].0) != Ordering::Greater);
    if m.len() > FLATMAP_MAX || sorted {
        for (k, v) in m {
            write_term::<U>(k, buf);
            write_term::<U>(v, buf);
        }
        return;
    }
    // Unsorted small map: insertion-sort indices on the stack (at most 32 of them).
    let mut idx = [0u8; FLATMAP_MAX];
    for i in 0..m.len() {
        let mut j = i;
        while j > 0 && cmp_map_keys(&m[idx[j - 1] as usize].0, &m[i].0) == Ordering::Greater {
            idx[j] = idx[j - 1];
            j -= 1;
        }
        idx[j] = i as u8;
    }
    for &i in &idx[..m.len()] {
        let (k, v) = &m[i as usize];
        write_term::<U>(k, buf);
        write_term::<U>(v, buf);
    }
}

/// Write the term (no version byte). The caller has reserved `term_len::<U>(t)` bytes.
fn write_term<const U: bool>(t: &Term, buf: &mut impl Sink) {
    match t {
        Term::Atom(a) => put_atom::<U>(*a, buf),
        Term::Int(i) => put_int(*i, buf),
        Term::Big(b) => {
            let mag = b.magnitude();
            if mag.len() <= 255 {
                buf.put_u8(SMALL_BIG_EXT);
                buf.put_u8(mag.len() as u8);
            } else {
                buf.put_u8(LARGE_BIG_EXT);
                buf.put_u32(mag.len() as u32);
            }
            buf.put_u8(b.is_negative() as u8);
            buf.put_slice(mag);
        }
        Term::Float(f) => {
            buf.put_u8(NEW_FLOAT_EXT);
            buf.put_u64(f.to_bits());
        }
        Term::Binary(b) => {
            buf.put_u8(BINARY_EXT);
            buf.put_u32(b.len() as u32);
            buf.put_slice(b);
        }
        Term::BitBinary { bytes, bits } => {
            if bit_binary_is_binary(bytes, *bits) {
                buf.put_u8(BINARY_EXT);
                buf.put_u32(bytes.len() as u32);
            } else {
                buf.put_u8(BIT_BINARY_EXT);
                buf.put_u32(bytes.len() as u32);
                buf.put_u8(*bits);
            }
            buf.put_slice(bytes);
        }
        Term::Tuple(v) => {
            if v.len() <= 255 {
                buf.put_u8(SMALL_TUPLE_EXT);
                buf.put_u8(v.len() as u8);
            } else {
                buf.put_u8(LARGE_TUPLE_EXT);
                buf.put_u32(v.len() as u32);
            }
            for e in v {
                write_term::<U>(e, buf);
            }
        }
        Term::List(v) => {
            if v.is_empty() {
                buf.put_u8(NIL_EXT);
            } else if is_string(v) {
                buf.put_u8(STRING_EXT);
                buf.put_u16(v.len() as u16);
                for e in v {
                    if let Term::Int(i) = e {
                        buf.put_u8(*i as u8);
                    }
                }
            } else {
                buf.put_u8(LIST_EXT);
                buf.put_u32(v.len() as u32);
                for e in v {
                    write_term::<U>(e, buf);
                }
                buf.put_u8(NIL_EXT);
            }
        }
        Term::ImproperList(v, tail) => {
            if !v.is_empty() {
                buf.put_u8(LIST_EXT);
                buf.put_u32(v.len() as u32);
                for e in v {
                    write_term::<U>(e, buf);
                }
            }
            write_term::<U>(tail, buf);
        }
        Term::Map(m) => put_map::<U>(m, buf),
        Term::Pid(p) => put_pid::<U>(p, buf),
        Term::Ref(r) => put_ref::<U>(r, buf),
        Term::Port(p) => put_port::<U>(p, buf),
        Term::Export(e) => {
            buf.put_u8(EXPORT_EXT);
            put_atom::<U>(e.module, buf);
            put_atom::<U>(e.function, buf);
            buf.put_u8(SMALL_INTEGER_EXT);
            buf.put_u8(e.arity);
        }
        Term::Fun(f) => buf.put_slice(f.raw()),
        Term::Local(b) => buf.put_slice(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_message_bytes() {
        let t = Term::tuple(vec![Term::atom("push"), "alice".into(), "item-123".into()]);
        let b = encode(&t);
        assert_eq!(b.len(), 33);
        assert_eq!(b.len(), encoded_len(&t));
        assert_eq!(&b[..6], &[131, 104, 3, 100, 0, 4]);
    }

    #[test]
    fn integers() {
        assert_eq!(&encode(&Term::from(255))[..], &[131, 97, 255]);
        assert_eq!(&encode(&Term::from(256))[..], &[131, 98, 0, 0, 1, 0]);
        assert_eq!(&encode(&Term::from(-1))[..], &[131, 98, 255, 255, 255, 255]);
        assert_eq!(
            &encode(&Term::from(1i64 << 31))[..],
            &[131, 110, 4, 0, 0, 0, 0, 128]
        );
        assert_eq!(
            &encode(&Term::from(i64::MIN))[..],
            &[131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128]
        );
    }

    #[test]
    fn small_map_sorted() {
        let m = Term::map(vec![
            (Term::atom("b"), Term::from(1)),
            (Term::from(2), Term::from(2)),
            (Term::atom("a"), Term::from(3)),
        ]);
        let sorted = Term::map(vec![
            (Term::from(2), Term::from(2)),
            (Term::atom("a"), Term::from(3)),
            (Term::atom("b"), Term::from(1)),
        ]);
        assert_eq!(encode(&m), encode(&sorted));
    }
}
