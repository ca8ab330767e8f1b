//! Encoder: `Term` -> External Term Format, byte-identical to OTP 25 `term_to_binary/1`
//! (minor_version 1). One pass writes the term into space that is already there (a stack
//! buffer for `encode`, the caller's spare capacity for `encode_to`), with one bounds check per
//! write and no growth; `encode` then allocates its result once, at the exact size. A term
//! that does not fit is sized first (`encoded_len`) and written into exactly that much space.
//! Small maps are written in term order without allocating.

use crate::atom::Atom;
use crate::binary::Binary;
use crate::order::cmp_map_keys;
use crate::pid::{Pid, Port, Ref};
use crate::tag::*;
use crate::term::Term;
use bytes::{Bytes, BytesMut};
use std::cmp::Ordering;
use std::mem::MaybeUninit;

/// Writes sequentially into uninitialised space. Every write is checked against the space
/// left: a write that does not fit marks the output `full` (and every later write fails too),
/// so the caller falls back to sizing the term first; `buf[..pos]` is always initialised.
struct Out<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    pos: usize,
    full: bool,
    /// The atoms a distribution header names, written as ATOM_CACHE_REF by the writers
    /// instantiated with `R` (the others never look).
    refs: &'a [Atom],
}

impl<'a> Out<'a> {
    fn new(buf: &'a mut [MaybeUninit<u8>], refs: &'a [Atom]) -> Out<'a> {
        Out {
            buf,
            pos: 0,
            full: false,
            refs,
        }
    }

    #[cold]
    #[inline(never)]
    fn overflow(&mut self) {
        self.full = true;
        self.buf = &mut [];
        self.pos = 0;
    }

    #[inline(always)]
    fn slice(&mut self, s: &[u8]) {
        if s.len() > self.buf.len() - self.pos {
            return self.overflow();
        }
        // SAFETY: just checked.
        unsafe { self.slice_unchecked(s) }
    }

    /// # Safety
    /// `s.len() <= buf.len() - pos`.
    #[inline(always)]
    unsafe fn slice_unchecked(&mut self, s: &[u8]) {
        let n = s.len();
        // SAFETY: `pos + n <= buf.len()` (the caller's contract; `pos <= buf.len()` always
        // holds), so the `n` destination bytes are inside `buf`; `s` cannot overlap `buf`
        // (borrowed immutably while `buf` is borrowed mutably); `MaybeUninit<u8>` has the
        // layout of `u8`. Short copies (atoms, small binaries: the common case) use two
        // overlapping fixed-size moves inside those `n` bytes instead of a call to `memcpy`.
        unsafe {
            use std::ptr::{copy_nonoverlapping as copy, read_unaligned as rd};
            let (src, dst) = (s.as_ptr(), self.buf.as_mut_ptr().add(self.pos).cast::<u8>());
            if n >= 16 {
                copy(src, dst, n);
            } else if n >= 8 {
                let (a, b) = (rd(src.cast::<u64>()), rd(src.add(n - 8).cast::<u64>()));
                dst.cast::<u64>().write_unaligned(a);
                dst.add(n - 8).cast::<u64>().write_unaligned(b);
            } else if n >= 4 {
                let (a, b) = (rd(src.cast::<u32>()), rd(src.add(n - 4).cast::<u32>()));
                dst.cast::<u32>().write_unaligned(a);
                dst.add(n - 4).cast::<u32>().write_unaligned(b);
            } else {
                copy(src, dst, n);
            }
        }
        self.pos += n;
    }

    /// A fixed-size header followed by `s`, with one bounds check for both.
    #[inline(always)]
    fn head_slice<const N: usize>(&mut self, head: [u8; N], s: &[u8]) {
        if N + s.len() > self.buf.len() - self.pos {
            return self.overflow();
        }
        // SAFETY: the header and the payload are inside `buf` (checked above, together).
        unsafe {
            self.bytes_unchecked(head);
            self.slice_unchecked(s)
        }
    }

    /// Whether `n` more bytes fit; if not, the output is marked full.
    #[inline(always)]
    fn room(&mut self, n: usize) -> bool {
        if n > self.buf.len() - self.pos {
            self.overflow();
            return false;
        }
        true
    }

    /// # Safety
    /// `N <= buf.len() - pos`.
    #[inline(always)]
    unsafe fn bytes_unchecked<const N: usize>(&mut self, b: [u8; N]) {
        // SAFETY: the caller's contract keeps the `N` bytes inside `buf`.
        unsafe {
            self.buf
                .as_mut_ptr()
                .add(self.pos)
                .cast::<[u8; N]>()
                .write_unaligned(b)
        };
        self.pos += N;
    }

    #[inline(always)]
    fn bytes<const N: usize>(&mut self, b: [u8; N]) {
        if N > self.buf.len() - self.pos {
            return self.overflow();
        }
        // SAFETY: the `N` destination bytes are inside `buf` (checked above).
        unsafe { self.bytes_unchecked(b) }
    }

    #[inline(always)]
    fn u8(&mut self, b: u8) {
        self.bytes([b]);
    }
}

/// Write 131 (when `V`) + `t` at the start of `space`: the length written, or `None` if it did
/// not fit. With `R`, atoms in `refs` are written as references to it.
#[inline(always)]
fn write_into<const U: bool, const R: bool, const V: bool>(
    t: &Term,
    refs: &[Atom],
    space: &mut [MaybeUninit<u8>],
) -> Option<usize> {
    let mut o = Out::new(space, refs);
    match t {
        // A message is usually a small tuple: its elements are written here, saving a call,
        // as many of them as are flat first with the position in a register (`flat_elems`).
        Term::Tuple(v) if v.len() <= 255 => {
            let head = V as usize + 2;
            if o.buf.len() >= head + FLAT_ELEM_MAX * v.len() {
                let dst = o.buf.as_mut_ptr().cast::<u8>();
                // SAFETY: the head is inside `buf`, and after it the room `flat_elems` needs.
                let (pos, done) = unsafe {
                    if V {
                        dst.write(VERSION);
                    }
                    dst.add(V as usize)
                        .cast::<[u8; 2]>()
                        .write_unaligned([SMALL_TUPLE_EXT, v.len() as u8]);
                    flat_elems::<U, R>(v, refs, dst, head)
                };
                if done == v.len() {
                    return Some(pos);
                }
                o.pos = pos;
                for e in &v[done..] {
                    write_elem::<U, R>(e, &mut o);
                }
            } else {
                if V {
                    o.u8(VERSION);
                }
                o.bytes([SMALL_TUPLE_EXT, v.len() as u8]);
                for e in v {
                    write_elem::<U, R>(e, &mut o);
                }
            }
        }
        _ => {
            if V {
                o.u8(VERSION);
            }
            write_term::<U, R>(t, &mut o)
        }
    }
    (!o.full).then_some(o.pos)
}

/// The most room one flat element takes in `flat_elems`: a binary's header
/// and its whole inline area.
const FLAT_ELEM_MAX: usize = 5 + Binary::INLINE;

/// Write as many of the first elements of `v` as are flat, when `o` has the room for any
/// of them (see `flat_elems`), and return how many were written.
#[inline(always)]
fn write_flat<const U: bool, const R: bool>(v: &[Term], o: &mut Out) -> usize {
    if o.buf.len() - o.pos < FLAT_ELEM_MAX * v.len() {
        return 0;
    }
    // SAFETY: the room `flat_elems` needs is there after `pos` (checked just above).
    let (pos, done) =
        unsafe { flat_elems::<U, R>(v, o.refs, o.buf.as_mut_ptr().cast::<u8>(), o.pos) };
    o.pos = pos;
    done
}

/// Write, at `pos` of `dst`, as many of the first elements of `v` as are flat: atoms whose
/// encoding fits 16 bytes (13 Latin-1 characters for `term_to_binary`, 14 bytes of UTF-8 on a
/// connection), integers of up to 32 bits and inline binaries (the whole of most messages:
/// `{push, <<"alice">>, <<"item-123">>}`). Returns the position reached and how many were
/// written. With `R`, atoms in `refs` are written as references to it. The room is checked
/// once, by the caller, for the widest elements, so each element is one or two fixed-size
/// moves with the position in a register: through `Out`, which the recursive writers take by
/// reference, the position is reloaded from memory after every store.
///
/// # Safety
/// `dst` must be valid for writes of `FLAT_ELEM_MAX * v.len()` bytes from `pos`.
#[inline(always)]
unsafe fn flat_elems<const U: bool, const R: bool>(
    v: &[Term],
    refs: &[Atom],
    dst: *mut u8,
    mut pos: usize,
) -> (usize, usize) {
    // SAFETY (every write below): each element writes at most `FLAT_ELEM_MAX` bytes from
    // `pos` and moves `pos` on by at most that many, within the caller's room.
    unsafe {
        for (i, e) in v.iter().enumerate() {
            match e {
                Term::Atom(a) => {
                    if let Some(r) = cache_ref::<R>(*a, refs) {
                        dst.add(pos).cast::<[u8; 2]>().write_unaligned(r);
                        pos += 2;
                        continue;
                    }
                    let (ext, wide) = atom_ext::<U>(*a);
                    let n = ext.len();
                    if n > 16 {
                        return (pos, i);
                    }
                    dst.add(pos).cast::<[u8; 16]>().write_unaligned(*wide);
                    pos += n;
                }
                Term::Int(i @ 0..=255) => {
                    dst.add(pos)
                        .cast::<[u8; 2]>()
                        .write_unaligned([SMALL_INTEGER_EXT, *i as u8]);
                    pos += 2;
                }
                Term::Int(n) if i32::try_from(*n).is_ok() => {
                    let b = (*n as i32).to_be_bytes();
                    dst.add(pos).cast::<[u8; 5]>().write_unaligned([
                        INTEGER_EXT,
                        b[0],
                        b[1],
                        b[2],
                        b[3],
                    ]);
                    pos += 5;
                }
                Term::Binary(b) => {
                    let Some((n, area)) = b.inline_area() else {
                        return (pos, i);
                    };
                    dst.add(pos)
                        .cast::<[u8; 5]>()
                        .write_unaligned([BINARY_EXT, 0, 0, 0, n]);
                    dst.add(pos + 5)
                        .cast::<[u8; Binary::INLINE]>()
                        .write_unaligned(*area);
                    pos += 5 + n as usize;
                }
                _ => {
                    return (pos, i);
                }
            }
        }
    }
    (pos, v.len())
}

/// Write 131 + `t` into exactly `n` bytes at the start of `space` (`n` from `encoded_len`).
#[cold]
fn write_sized<const U: bool, const V: bool>(t: &Term, n: usize, space: &mut [MaybeUninit<u8>]) {
    let written = write_into::<U, false, V>(t, &[], &mut space[..n]);
    assert_eq!(written, Some(n), "encoded_len disagrees with the encoder");
}

/// Terms up to this size are encoded in one pass into a stack buffer, then copied once into
/// their exactly-sized result: cheaper than sizing the term in a separate pass first.
const STACK_BUF: usize = 512;

/// Maps with at most this many keys are "flatmaps" in BEAM and encoded with keys in term order.
/// Larger maps are hash maps whose encoding order depends on BEAM's internal hashing; ferl keeps
/// their pairs in the order it holds them (decoded maps keep the peer's order). There is no one
/// OTP 25 order to follow: `make_internal_hash` mixes an atom's table index (and an external
/// pid's node pointer), so the same map of 40 atom keys is written in different orders by two
/// VMs that created those atoms in different orders (checked with erl).
const FLATMAP_MAX: usize = 32;

/// Encode with the 131 version byte, exactly as OTP 25 `term_to_binary/1`.
pub fn encode(t: &Term) -> Bytes {
    // The result is a `Vec` of exactly the encoded size, which becomes a `Bytes` without
    // copying or reallocating (and whose drop is a plain `free`, no reference count).
    let mut stack = [const { MaybeUninit::<u8>::uninit() }; STACK_BUF];
    if let Some(n) = write_into::<false, false, true>(t, &[], &mut stack) {
        // SAFETY: `write_into` initialised the first `n` bytes of `stack`.
        let written = unsafe { std::slice::from_raw_parts(stack.as_ptr().cast::<u8>(), n) };
        return Bytes::from(written.to_vec());
    }
    encode_large(t)
}

#[cold]
#[inline(never)]
fn encode_large(t: &Term) -> Bytes {
    let n = encoded_len(t);
    let mut v: Vec<u8> = Vec::with_capacity(n);
    write_sized::<false, true>(t, n, v.spare_capacity_mut());
    // SAFETY: `write_sized` initialised `v`'s first `n` bytes (it checks it wrote all of them).
    unsafe { v.set_len(n) };
    Bytes::from(v)
}

/// Append 131 + the term to `buf` in one pass when its spare capacity suffices, else after
/// reserving exactly the space needed.
#[inline(always)]
fn append<const U: bool, const V: bool>(t: &Term, buf: &mut BytesMut) {
    let n = match write_into::<U, false, V>(t, &[], buf.spare_capacity_mut()) {
        Some(n) => n,
        None => append_sized::<U, V>(t, buf),
    };
    // SAFETY: the `n` bytes after `buf.len()` were initialised by `write_into`/`write_sized`.
    unsafe { buf.set_len(buf.len() + n) };
}

#[cold]
#[inline(never)]
fn append_sized<const U: bool, const V: bool>(t: &Term, buf: &mut BytesMut) -> usize {
    let n = V as usize + term_len::<U>(t);
    buf.reserve(n);
    write_sized::<U, V>(t, n, buf.spare_capacity_mut());
    n
}

/// Append 131 + the term to `buf`, as `encode` (one pass when `buf` has the room: reserving
/// beforehand, e.g. from `encoded_len`, makes sure of it).
pub fn encode_to(t: &Term, buf: &mut BytesMut) {
    append::<false, true>(t, buf)
}

/// `encode_to` without the version byte: a term inside another one's encoding (a fun's parts).
pub(crate) fn encode_term_to(t: &Term, buf: &mut BytesMut) {
    append::<false, false>(t, buf)
}

/// Append 131 + the term as an OTP 25 node writes it on a distribution connection (which
/// negotiated UTF8_ATOMS): every atom as SMALL_ATOM_UTF8_EXT / ATOM_UTF8_EXT. Otherwise identical
/// to `encode_to`. `term_to_binary/1` instead writes Latin-1-representable atoms as ATOM_EXT.
pub fn encode_dist_to(t: &Term, buf: &mut BytesMut) {
    append::<true, true>(t, buf)
}

/// `encode_dist_to` without the version byte: a term after a distribution header.
pub fn encode_dist_term_to(t: &Term, buf: &mut BytesMut) {
    append::<true, false>(t, buf)
}

/// `encode_dist_term_to` into the room `buf` already has: `false`, with `buf` unchanged, when
/// the term does not fit there. For a buffer that must not grow (a chunk of a packed store,
/// which checks the room by trying rather than by measuring the term first).
pub fn encode_dist_term_within(t: &Term, buf: &mut BytesMut) -> bool {
    match write_into::<true, false, false>(t, &[], buf.spare_capacity_mut()) {
        Some(n) => {
            // SAFETY: the `n` bytes after `buf.len()` were initialised by `write_into`.
            unsafe { buf.set_len(buf.len() + n) };
            true
        }
        None => false,
    }
}

/// `encode_dist_term_to` after a distribution header naming `refs`: each atom found in
/// `refs` (the payload's as well as the control message's, as erts writes them) is written as
/// ATOM_CACHE_REF to its index, the others are written out.
pub fn encode_dist_term_with_refs(t: &Term, refs: &[Atom], buf: &mut BytesMut) {
    let refs = &refs[..refs.len().min(256)];
    let n = match write_into::<true, true, false>(t, refs, buf.spare_capacity_mut()) {
        Some(n) => n,
        None => {
            // Written out, every atom takes at least the two bytes of a reference: the size
            // without references is enough room.
            let room = term_len::<true>(t);
            buf.reserve(room);
            write_into::<true, true, false>(t, refs, &mut buf.spare_capacity_mut()[..room])
                .expect("a term fits in its size with atoms written out")
        }
    };
    // SAFETY: the `n` bytes after `buf.len()` were initialised by `write_into`.
    unsafe { buf.set_len(buf.len() + n) };
}

/// Exact size of `encode(t)`, version byte included.
pub fn encoded_len(t: &Term) -> usize {
    1 + term_len::<false>(t)
}

/// Exact size of `encode_dist_to` output, version byte included.
pub fn encoded_dist_len(t: &Term) -> usize {
    1 + term_len::<true>(t)
}

/// Atom encoding, precomputed per atom by the table: OTP 25 `term_to_binary` uses ATOM_EXT
/// (Latin-1, u16 length) when every character is below 256, else SMALL_ATOM_UTF8_EXT /
/// ATOM_UTF8_EXT; with `UTF8` (distribution) always the UTF-8 forms.
#[inline(always)]
fn atom_len<const UTF8: bool>(a: Atom) -> usize {
    a.external(UTF8).len()
}

#[inline]
fn is_string(v: &[Term]) -> bool {
    v.len() <= 0xffff && v.iter().all(|e| matches!(e, Term::Int(0..=255)))
}

#[inline(always)]
fn int_len(i: i64) -> usize {
    match i {
        0..=255 => 2,
        _ if i32::try_from(i).is_ok() => 5,
        _ => 3 + (8 - (i.unsigned_abs().leading_zeros() as usize) / 8),
    }
}

/// Size of an element: the hot leaves inline, containers and the rest by a call.
#[inline(always)]
fn elem_len<const U: bool>(e: &Term) -> usize {
    match e {
        Term::Atom(a) => atom_len::<U>(*a),
        Term::Int(i) => int_len(*i),
        Term::Binary(b) => 5 + b.len(),
        _ => term_len::<U>(e),
    }
}

#[inline(always)]
fn elems_len<const U: bool>(v: &[Term]) -> usize {
    let mut n = 0;
    for e in v {
        n += elem_len::<U>(e);
    }
    n
}

fn term_len<const U: bool>(t: &Term) -> usize {
    match t {
        Term::Atom(a) => atom_len::<U>(*a),
        Term::Int(i) => int_len(*i),
        Term::Binary(b) => 5 + b.len(),
        Term::Tuple(v) => (if v.len() <= 255 { 2 } else { 5 }) + elems_len::<U>(v),
        Term::List(v) => {
            if v.is_empty() {
                1
            } else if is_string(v) {
                3 + v.len()
            } else {
                5 + elems_len::<U>(v) + 1
            }
        }
        Term::Map(m) => {
            let mut n = 5;
            for (k, v) in m {
                n += elem_len::<U>(k) + elem_len::<U>(v);
            }
            n
        }
        Term::Pid(p) => 1 + atom_len::<U>(p.node) + 12,
        Term::Ref(r) => 1 + 2 + atom_len::<U>(r.node) + 4 + 4 * r.ids().len(),
        _ => rare_len::<U>(t),
    }
}

/// Sizes of the terms that are rare on the hot path (kept out of line).
#[inline(never)]
fn rare_len<const U: bool>(t: &Term) -> usize {
    match t {
        Term::Big(b) => {
            let n = b.magnitude().len();
            if n <= 255 {
                3 + n
            } else {
                6 + n
            }
        }
        Term::Float(_) => 9,
        Term::BitBinary { bytes, bits } => {
            if bit_binary_is_binary(bytes, *bits) {
                5 + bytes.len()
            } else {
                6 + bytes.len()
            }
        }
        Term::ImproperList(v, tail) => {
            if v.is_empty() {
                term_len::<U>(tail)
            } else {
                5 + elems_len::<U>(v) + term_len::<U>(tail)
            }
        }
        Term::Port(p) => 1 + atom_len::<U>(p.node) + if p.id > MAX_V3_PORT_NUMBER { 12 } else { 8 },
        Term::Export(e) => 1 + atom_len::<U>(e.module) + atom_len::<U>(e.function) + 2,
        Term::Fun(f) => f.raw().len(),
        Term::Local(b) => b.len(),
        _ => term_len::<U>(t),
    }
}

/// A BitBinary whose bit count says "whole bytes" (user-constructed) is written as a binary.
fn bit_binary_is_binary(bytes: &[u8], bits: u8) -> bool {
    bytes.is_empty() || bits == 0 || bits >= 8
}

/// An atom's encoding, as a connection (`UTF8`) or `term_to_binary` writes it, and the same
/// bytes padded to 16 (for atoms that fit, copied with one move).
#[inline(always)]
fn atom_ext<const UTF8: bool>(a: Atom) -> (&'static [u8], &'static [u8; 16]) {
    let e = a.entry();
    if UTF8 {
        (e.dist, &e.dist16)
    } else {
        (e.t2b, &e.t2b16)
    }
}

#[inline(always)]
fn put_atom<const UTF8: bool, const R: bool>(a: Atom, o: &mut Out) {
    if let Some(r) = cache_ref::<R>(a, o.refs) {
        return o.bytes(r);
    }
    let (ext, wide) = atom_ext::<UTF8>(a);
    // Atoms of up to 16 bytes (tag and length included) as one 16-byte move when 16 bytes
    // are free: no branching on the length, no call. The bytes past the atom are overwritten
    // by what follows (or lie beyond the output's length).
    if ext.len() <= 16 && o.buf.len() - o.pos >= 16 {
        // SAFETY: 16 bytes at `pos` are inside `buf` (checked just above).
        unsafe { o.bytes_unchecked(*wide) };
        o.pos -= 16 - ext.len();
    } else {
        o.slice(ext);
    }
}

/// A pid's or reference's node atom as written inside it: its external encoding, or with `R`
/// an ATOM_CACHE_REF (in `cref`) when the header names it.
#[inline(always)]
fn node_bytes<'c, const U: bool, const R: bool>(
    node: Atom,
    o: &Out,
    cref: &'c mut [u8; 2],
) -> &'c [u8] {
    match cache_ref::<R>(node, o.refs) {
        Some(r) => {
            *cref = r;
            &cref[..]
        }
        None => node.external(U),
    }
}

/// With `R`, ATOM_CACHE_REF to `a` when the header names it.
#[inline(always)]
fn cache_ref<const R: bool>(a: Atom, refs: &[Atom]) -> Option<[u8; 2]> {
    if !R {
        return None;
    }
    let i = refs.iter().position(|r| *r == a)?;
    Some([ATOM_CACHE_REF, i as u8])
}

#[inline(always)]
fn put_int(i: i64, o: &mut Out) {
    match i {
        0..=255 => o.bytes([SMALL_INTEGER_EXT, i as u8]),
        _ if i32::try_from(i).is_ok() => {
            let b = (i as i32).to_be_bytes();
            o.bytes([INTEGER_EXT, b[0], b[1], b[2], b[3]]);
        }
        _ => {
            let m = i.unsigned_abs();
            let n = 8 - (m.leading_zeros() as usize) / 8;
            o.bytes([SMALL_BIG_EXT, n as u8, (i < 0) as u8]);
            o.slice(&m.to_le_bytes()[..n]);
        }
    }
}

#[inline(always)]
fn put_pid<const U: bool, const R: bool>(p: &Pid, o: &mut Out) {
    let mut cref = [0u8; 2];
    let node = node_bytes::<U, R>(p.node, o, &mut cref);
    if !o.room(1 + node.len() + 12) {
        return;
    }
    let (a, b, c) = (
        p.id.to_be_bytes(),
        p.serial.to_be_bytes(),
        p.creation.to_be_bytes(),
    );
    // SAFETY: `room` checked the space for all of it.
    unsafe {
        o.bytes_unchecked([NEW_PID_EXT]);
        o.slice_unchecked(node);
        o.bytes_unchecked([
            a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], c[0], c[1], c[2], c[3],
        ]);
    }
}

#[inline(always)]
fn put_ref<const U: bool, const R: bool>(r: &Ref, o: &mut Out) {
    let mut cref = [0u8; 2];
    let node = node_bytes::<U, R>(r.node, o, &mut cref);
    let ids = r.ids();
    if !o.room(3 + node.len() + 4 + 4 * ids.len()) {
        return;
    }
    let n = (ids.len() as u16).to_be_bytes();
    // SAFETY: `room` checked the space for all of it.
    unsafe {
        o.bytes_unchecked([NEWER_REFERENCE_EXT, n[0], n[1]]);
        o.slice_unchecked(node);
        o.bytes_unchecked(r.creation.to_be_bytes());
        for w in ids {
            o.bytes_unchecked(w.to_be_bytes());
        }
    }
}

/// The largest port number OTP 25 writes as NEW_PORT_EXT (erts's `ERTS_MAX_V3_PORT_NUMBER`, 28
/// bits; checked with erl: 0xFFFFFFF is NEW_PORT_EXT, 0x10000000 V4_PORT_EXT).
const MAX_V3_PORT_NUMBER: u64 = 0x0fff_ffff;

fn put_port<const U: bool, const R: bool>(p: &Port, o: &mut Out) {
    // OTP 25 writes NEW_PORT_EXT unless the number needs more than 28 bits.
    if p.id > MAX_V3_PORT_NUMBER {
        o.u8(V4_PORT_EXT);
        put_atom::<U, R>(p.node, o);
        o.bytes(p.id.to_be_bytes());
    } else {
        o.u8(NEW_PORT_EXT);
        put_atom::<U, R>(p.node, o);
        o.bytes((p.id as u32).to_be_bytes());
    }
    o.bytes(p.creation.to_be_bytes());
}

/// Map key order, with the common all-atom-keys case compared inline.
#[inline(always)]
fn key_gt(a: &Term, b: &Term) -> bool {
    match (a, b) {
        (Term::Atom(x), Term::Atom(y)) => {
            let (p, q) = (x.as_str().as_bytes(), y.as_str().as_bytes());
            // Keys usually differ in their first byte: decide there without a `memcmp`.
            match (p.first(), q.first()) {
                (Some(a), Some(b)) if a != b => a > b,
                _ => p > q,
            }
        }
        _ => cmp_map_keys(a, b) == Ordering::Greater,
    }
}

fn put_map<const U: bool, const R: bool>(m: &[(Term, Term)], o: &mut Out) {
    let n = (m.len() as u32).to_be_bytes();
    o.bytes([MAP_EXT, n[0], n[1], n[2], n[3]]);
    let sorted = m.len() > FLATMAP_MAX || m.windows(2).all(|w| !key_gt(&w[0].0, &w[1].0));
    if sorted {
        for (k, v) in m {
            if o.full {
                return; // the caller sizes the term and starts again
            }
            write_elem::<U, R>(k, o);
            write_elem::<U, R>(v, o);
        }
        return;
    }
    // Unsorted small map: insertion-sort indices on the stack (at most 32 of them).
    let mut idx = [0u8; FLATMAP_MAX];
    for i in 0..m.len() {
        let mut j = i;
        while j > 0 && key_gt(&m[idx[j - 1] as usize].0, &m[i].0) {
            idx[j] = idx[j - 1];
            j -= 1;
        }
        idx[j] = i as u8;
    }
    for &i in &idx[..m.len()] {
        let (k, v) = &m[i as usize];
        write_term::<U, R>(k, o);
        write_term::<U, R>(v, o);
    }
}

/// A binary: its header and its bytes, with one bounds check for both. (The inline binaries
/// of a flat run of elements are written by `flat_elems`; here, a fixed-size copy of the whole
/// inline area measured no faster.)
#[inline(always)]
fn put_binary(b: &Binary, o: &mut Out) {
    let n = (b.len() as u32).to_be_bytes();
    o.head_slice([BINARY_EXT, n[0], n[1], n[2], n[3]], b);
}

/// Write an element: the hot leaves inline, containers and the rest by a call.
#[inline(always)]
fn write_elem<const U: bool, const R: bool>(t: &Term, o: &mut Out) {
    match t {
        Term::Atom(a) => put_atom::<U, R>(*a, o),
        Term::Int(i) => put_int(*i, o),
        Term::Binary(b) => put_binary(b, o),
        _ => write_term::<U, R>(t, o),
    }
}

/// Write the term (no version byte) into space sized by `term_len::<U>(t)`.
fn write_term<const U: bool, const R: bool>(t: &Term, o: &mut Out) {
    match t {
        Term::Atom(a) => put_atom::<U, R>(*a, o),
        Term::Int(i) => put_int(*i, o),
        Term::Binary(b) => put_binary(b, o),
        Term::Tuple(v) => {
            if v.len() <= 255 {
                o.bytes([SMALL_TUPLE_EXT, v.len() as u8]);
            } else {
                let n = (v.len() as u32).to_be_bytes();
                o.bytes([LARGE_TUPLE_EXT, n[0], n[1], n[2], n[3]]);
            }
            let done = write_flat::<U, R>(v, o);
            for e in &v[done..] {
                write_elem::<U, R>(e, o);
            }
        }
        Term::List(v) => {
            if v.is_empty() {
                o.u8(NIL_EXT);
            } else if is_string(v) {
                let n = (v.len() as u16).to_be_bytes();
                o.bytes([STRING_EXT, n[0], n[1]]);
                for e in v {
                    if let Term::Int(i) = e {
                        o.u8(*i as u8);
                    }
                }
            } else {
                let n = (v.len() as u32).to_be_bytes();
                o.bytes([LIST_EXT, n[0], n[1], n[2], n[3]]);
                let done = write_flat::<U, R>(v, o);
                for e in &v[done..] {
                    if o.full {
                        return; // the caller sizes the term and starts again
                    }
                    write_elem::<U, R>(e, o);
                }
                o.u8(NIL_EXT);
            }
        }
        Term::Map(m) => put_map::<U, R>(m, o),
        Term::Pid(p) => put_pid::<U, R>(p, o),
        Term::Ref(r) => put_ref::<U, R>(r, o),
        _ => write_rare::<U, R>(t, o),
    }
}

/// The terms that are rare on the hot path (kept out of line).
#[inline(never)]
fn write_rare<const U: bool, const R: bool>(t: &Term, o: &mut Out) {
    match t {
        Term::Big(b) => {
            let mag = b.magnitude();
            if mag.len() <= 255 {
                o.bytes([SMALL_BIG_EXT, mag.len() as u8]);
            } else {
                let n = (mag.len() as u32).to_be_bytes();
                o.bytes([LARGE_BIG_EXT, n[0], n[1], n[2], n[3]]);
            }
            o.u8(b.is_negative() as u8);
            o.slice(mag);
        }
        Term::Float(f) => {
            o.u8(NEW_FLOAT_EXT);
            o.bytes(f.to_bits().to_be_bytes());
        }
        Term::BitBinary { bytes, bits } => {
            let n = (bytes.len() as u32).to_be_bytes();
            if bit_binary_is_binary(bytes, *bits) {
                o.bytes([BINARY_EXT, n[0], n[1], n[2], n[3]]);
            } else {
                o.bytes([BIT_BINARY_EXT, n[0], n[1], n[2], n[3], *bits]);
            }
            o.slice(bytes);
        }
        Term::ImproperList(v, tail) => {
            if !v.is_empty() {
                let n = (v.len() as u32).to_be_bytes();
                o.bytes([LIST_EXT, n[0], n[1], n[2], n[3]]);
                for e in v {
                    write_term::<U, R>(e, o);
                }
            }
            write_term::<U, R>(tail, o);
        }
        Term::Port(p) => put_port::<U, R>(p, o),
        Term::Export(e) => {
            o.u8(EXPORT_EXT);
            put_atom::<U, R>(e.module, o);
            put_atom::<U, R>(e.function, o);
            o.bytes([SMALL_INTEGER_EXT, e.arity]);
        }
        Term::Fun(f) => o.slice(f.raw()),
        Term::Local(b) => o.slice(b),
        _ => write_term::<U, R>(t, o),
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
    fn encode_to_appends_exactly() {
        let t = Term::tuple(vec![
            Term::atom("héllo"),
            Term::from(-7),
            Term::from(1i64 << 40),
            Term::binary(&[1; 20]),
            Term::list(vec![Term::atom("x"), Term::from(1.5)]),
            Term::charlist("ab"),
        ]);
        let mut buf = BytesMut::from(&b"pre"[..]);
        encode_to(&t, &mut buf);
        assert_eq!(&buf[..3], b"pre");
        assert_eq!(&buf[3..], &encode(&t)[..]);
        let mut d = BytesMut::new();
        encode_dist_to(&t, &mut d);
        assert_eq!(d.len(), encoded_dist_len(&t));
        // héllo: ATOM_EXT (3 + 5 Latin-1 bytes) or SMALL_ATOM_UTF8_EXT (2 + 6), the same size;
        // x: ATOM_EXT (3 + 1) or SMALL_ATOM_UTF8_EXT (2 + 1), one byte less.
        assert_eq!(d.len(), encoded_len(&t) - 1);
        assert_eq!(crate::decode(&d.freeze()).unwrap(), t);
    }

    #[test]
    fn one_pass_and_sized_paths_agree() {
        // Sizes around the stack buffer, and larger terms of every container kind: the
        // one-pass write (stack or spare capacity) and the sized fallback give the same bytes.
        let mut terms: Vec<Term> = (490..530)
            .map(|n| Term::tuple(vec![Term::atom("k"), Term::binary(&vec![7; n])]))
            .collect();
        terms.push(Term::list(
            (0..300).map(|i| Term::atom(&format!("a{i}"))).collect(),
        ));
        terms.push(Term::map(
            (0..40)
                .map(|i| (Term::from(i), Term::binary(&[1; 20])))
                .collect(),
        ));
        terms.push(Term::map(
            (0..20)
                .rev()
                .map(|i| (Term::from(i), Term::binary(&[2; 30])))
                .collect(),
        ));
        terms.push(Term::tuple(
            (0..300).map(|i| Term::from(i * 1000)).collect(),
        ));
        for t in &terms {
            let b = encode(t);
            assert_eq!(b.len(), encoded_len(t));
            assert_eq!(&crate::decode(&b).unwrap(), t);
            for spare in [0, 1, 10, 511, 512, 513, 4096] {
                let mut buf = BytesMut::with_capacity(spare);
                buf.extend_from_slice(b"x");
                encode_to(t, &mut buf);
                assert_eq!(&buf[1..], &b[..], "spare {spare}");
                let mut d = BytesMut::with_capacity(spare);
                encode_dist_to(t, &mut d);
                assert_eq!(d.len(), encoded_dist_len(t));
            }
        }
    }

    #[test]
    fn atoms_near_the_end_of_the_space() {
        // Atoms are copied 16 bytes at a time when 16 bytes are free, else exactly: every
        // spare capacity around the term's size, with atoms of every encoded length up to 16
        // and beyond, last or followed by more, gives `encode`'s bytes.
        let atoms: Vec<Term> = (0..20)
            .map(|n| Term::atom(&"é".repeat(n / 2).to_string()[..]))
            .chain((0..20).map(|n| Term::atom(&"q".repeat(n))))
            .collect();
        for a in &atoms {
            for t in [
                a.clone(),
                Term::tuple(vec![a.clone(), a.clone()]),
                Term::tuple(vec![a.clone(), Term::from(1)]),
                Term::list(vec![Term::from(1), a.clone()]),
            ] {
                let want = encode(&t);
                for spare in 0..want.len() + 20 {
                    let mut buf = BytesMut::with_capacity(spare);
                    encode_to(&t, &mut buf);
                    assert_eq!(&buf[..], &want[..], "{t:?} spare {spare}");
                    let mut d = BytesMut::with_capacity(spare);
                    encode_dist_to(&t, &mut d);
                    assert_eq!(d.len(), encoded_dist_len(&t), "{t:?} spare {spare}");
                    assert_eq!(crate::decode(&d.freeze()).unwrap(), t);
                }
            }
        }
    }

    #[test]
    fn atoms_named_by_a_header_are_written_as_references() {
        let (x, y) = (Atom::new("refs_x"), Atom::new("refs_y@host"));
        let t = Term::tuple(vec![
            Term::Atom(x),
            Term::atom("refs_not_named"),
            Term::Pid(Pid::new(y, 1, 2, 3)),
            Term::list(vec![Term::Atom(x); 40]),
        ]);
        let refs = [y, x];
        for spare in [0, 8, 4096] {
            // 0 and 8: the term does not fit the spare room, the sized path writes it.
            let mut buf = BytesMut::with_capacity(spare);
            encode_dist_term_with_refs(&t, &refs, &mut buf);
            let bytes = buf.freeze();
            assert_eq!(&bytes[2..4], &[ATOM_CACHE_REF, 1], "x is refs[1]");
            assert!(
                bytes.windows(2).any(|w| w == [ATOM_CACHE_REF, 0]),
                "y in the pid"
            );
            assert!(
                !bytes.windows(6).any(|w| w == b"refs_x"),
                "x is never written out"
            );
            let mut d = crate::Decoder::new(bytes);
            assert_eq!(d.decode_term_with_atom_refs(&refs), Ok(t.clone()));
        }
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
