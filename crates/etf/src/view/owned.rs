//! View -> owned `Term`, for when a term must outlive the input or the decoder (storing a
//! message in a mailbox). Iterative over the arena's pre-order nodes (an explicit stack), so a
//! deep term cannot overflow the native stack; the result equals what `etf::decode` gives for
//! the same bytes, binaries sharing the caller's `Bytes` when they lie inside it.

use super::node::{Node, Tail};
use super::term_ref::{Pos, TermRef, View};
use crate::bigint::BigInt;
use crate::binary::Binary;
use crate::decode::descent::with_tail;
use crate::pid::Fun;
use crate::term::Term;
use bytes::Bytes;

/// A container being rebuilt.
enum Build<'a> {
    Tuple(Vec<Term>, usize),
    /// Head elements still expected, then (unless `Nil`) the tail.
    List(Vec<Term>, usize, Tail),
    Map(Vec<(Term, Term)>, Option<Term>, usize),
    /// A fun's parts (module, old index, old uniq, creator, free variables), those still
    /// expected, and its bytes as received.
    Fun(Vec<Term>, usize, &'a [u8]),
}

/// How binaries become `Bytes`.
trait Share {
    fn bytes(&self, s: &[u8]) -> Bytes;
}

/// Zero-copy slices of `backing` (copies for slices outside it).
struct Backed<'b>(&'b Bytes);
/// Copies.
struct Copied;

impl Share for Backed<'_> {
    #[inline]
    fn bytes(&self, s: &[u8]) -> Bytes {
        let b = self.0.as_ptr() as usize;
        let p = s.as_ptr() as usize;
        if !s.is_empty() && p >= b && p + s.len() <= b + self.0.len() {
            self.0.slice_ref(s)
        } else {
            Bytes::copy_from_slice(s)
        }
    }
}

impl Share for Copied {
    fn bytes(&self, s: &[u8]) -> Bytes {
        Bytes::copy_from_slice(s)
    }
}

impl View<'_> {
    /// The owned `Term`, equal to `etf::decode` of the same bytes. Binaries (and funs) that lie
    /// inside `backing` (normally the `Bytes` the view was decoded from) become zero-copy slices
    /// of it, unless they are short enough to be held inline (`Binary::INLINE`); anything else
    /// is copied.
    pub fn to_term(&self, backing: &Bytes) -> Term {
        self.build(&Backed(backing))
    }

    /// The owned `Term`, every binary copied.
    pub fn to_term_copied(&self) -> Term {
        self.build(&Copied)
    }

    fn build(&self, share: &impl Share) -> Term {
        let start = match self.at {
            Pos::Char(c) => return Term::Int(c as i64),
            Pos::Node(i) => i,
        };
        let end = self.nodes.get(start).map_or(start, |n| start + n.span());
        let mut stack: Vec<Build<'_>> = Vec::new();
        let mut i = start;
        while i < end {
            let Some(&node) = self.nodes.get(i) else {
                break;
            };
            let at = i;
            i += 1;
            let mut value = match node {
                Node::Tuple { arity, .. } if arity > 0 => {
                    let n = arity as usize;
                    stack.push(Build::Tuple(Vec::with_capacity(n), n));
                    continue;
                }
                Node::List { heads, tail, .. } if heads > 0 || tail != Tail::Nil => {
                    stack.push(Build::List(Vec::with_capacity(heads), heads, tail));
                    continue;
                }
                Node::Map { pairs, .. } if pairs > 0 => {
                    let n = pairs as usize;
                    stack.push(Build::Map(Vec::with_capacity(n), None, n));
                    continue;
                }
                Node::Fun { .. } => {
                    let TermRef::Fun(received) = View::node(self.nodes, self.input, at).term()
                    else {
                        break;
                    };
                    // Module, old index, old uniq, creator, then the free variables (their
                    // count, at byte 26, was checked against the input by the parser).
                    let free = received
                        .get(26..30)
                        .map_or(0, |w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]) as usize);
                    stack.push(Build::Fun(Vec::with_capacity(4 + free), 4 + free, received));
                    continue;
                }
                _ => leaf(View::node(self.nodes, self.input, at).term(), share),
            };
            // Feed the value up through the containers it completes.
            loop {
                let Some(top) = stack.last_mut() else {
                    return value;
                };
                match top {
                    Build::Tuple(elems, left) => {
                        elems.push(value);
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        value = Term::Tuple(std::mem::take(elems));
                    }
                    Build::List(elems, left, tail) => {
                        if *left > 0 {
                            elems.push(value);
                            *left -= 1;
                            if *left > 0 || *tail != Tail::Nil {
                                break;
                            }
                            value = Term::List(std::mem::take(elems));
                        } else {
                            // `value` is the tail (a string's characters join the list).
                            value = with_tail(std::mem::take(elems), value);
                        }
                    }
                    Build::Map(pairs, key, left) => {
                        match key.take() {
                            None => {
                                *key = Some(value);
                                break;
                            }
                            Some(k) => pairs.push((k, value)),
                        }
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        value = Term::Map(std::mem::take(pairs));
                    }
                    Build::Fun(parts, left, received) => {
                        parts.push(value);
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        let raw = Fun::canonical(received, parts)
                            .unwrap_or_else(|| share.bytes(received));
                        value = Term::Fun(Fun::from_raw(raw));
                    }
                }
                stack.pop();
            }
        }
        // Only reached for an inconsistent arena (not produced by the parser).
        Term::nil()
    }
}

/// A non-container term (containers here are empty ones, or strings).
fn leaf(t: TermRef<'_>, share: &impl Share) -> Term {
    match t {
        TermRef::Atom(a) => Term::Atom(a),
        TermRef::Int(v) => Term::Int(v),
        TermRef::Big {
            negative,
            magnitude,
        } => match BigInt::from_parts(negative, magnitude.to_vec()) {
            Ok(b) => Term::Big(b),
            Err(v) => Term::Int(v),
        },
        TermRef::Float(f) => Term::Float(f),
        TermRef::Binary(b) if b.len() <= Binary::INLINE => Term::Binary(Binary::copy_from_slice(b)),
        TermRef::Binary(b) => Term::Binary(Binary::from(share.bytes(b))),
        TermRef::BitBinary { bytes, bits } => {
            // Unused bits are cleared, as the owned decoder does (copying only if needed).
            let mask = 0xffu8
                .checked_shl(8u32.saturating_sub(bits as u32))
                .unwrap_or(0);
            match bytes.split_last() {
                Some((&last, _)) if last & !mask != 0 => {
                    let mut v = bytes.to_vec();
                    if let Some(l) = v.last_mut() {
                        *l = last & mask;
                    }
                    Term::BitBinary {
                        bytes: Bytes::from(v),
                        bits,
                    }
                }
                _ => Term::BitBinary {
                    bytes: share.bytes(bytes),
                    bits,
                },
            }
        }
        TermRef::Tuple(_) => Term::Tuple(Vec::new()),
        TermRef::List(s) => Term::List(s.iter().map(|v| leaf(v.term(), share)).collect()),
        TermRef::ImproperList(..) => Term::nil(), // never a leaf (lists with tails are built)
        TermRef::Map(_) => Term::Map(Vec::new()),
        TermRef::Pid(p) => Term::Pid(p),
        TermRef::Ref(r) => Term::Ref(r),
        TermRef::Port(p) => Term::Port(p),
        TermRef::Export(e) => Term::Export(e),
        TermRef::Fun(_) => Term::nil(), // never a leaf (funs are built from their parts)
        TermRef::Local(raw) => Term::Local(share.bytes(raw)),
    }
}
