//! Recursive descent over the first `RECURSE_MAX` levels of nesting: the common shape of
//! messages, decoded without a frame stack; deeper subtrees are handed to `frames.rs`.

use super::Cursor;
use super::MAX_PREALLOC;
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::tag::*;
use crate::term::Term;

/// Levels decoded by native recursion before switching to the explicit frame stack.
pub(super) const RECURSE_MAX: usize = 16;

/// A list's head elements joined with its decoded tail.
pub(super) fn with_tail(mut elems: Vec<Term>, tail: Term) -> Term {
    match tail {
        Term::List(rest) => {
            elems.extend(rest);
            Term::List(elems)
        }
        Term::ImproperList(rest, t) => {
            elems.extend(rest);
            Term::ImproperList(elems, t)
        }
        t if elems.is_empty() => t,
        t => Term::ImproperList(elems, Box::new(t)),
    }
}

impl Cursor<'_> {
    /// Recursive descent for the first `RECURSE_MAX` levels (the common, shallow case: no frame
    /// stack, no per-element dispatch through frames); deeper subtrees are handed to the
    /// iterative `run`, so native stack use stays bounded whatever the input.
    pub(super) fn value(&mut self, depth: usize) -> Result<Term, DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        match tag {
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT | LIST_EXT | MAP_EXT => {
                self.container(tag, at, depth)
            }
            _ => self.leaf(tag, at, self.limits.max_depth.saturating_sub(depth)),
        }
    }

    /// Like `value`, but pushes the term onto `out`, and inlined into the container loops: the
    /// hot leaves (small integers, atoms, binaries) are decoded right there, with no call and
    /// no `Result<Term>` travelling back (whose copies cost more than the decoding); containers
    /// and rare leaves are calls.
    #[inline(always)]
    pub(super) fn value_into(
        &mut self,
        depth: usize,
        out: &mut Vec<Term>,
    ) -> Result<(), DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        match tag {
            SMALL_INTEGER_EXT => out.push(Term::Int(self.u8()? as i64)),
            SMALL_ATOM_UTF8_EXT | ATOM_UTF8_EXT | ATOM_EXT | SMALL_ATOM_EXT => {
                let a = self.atom_body(tag, at)?;
                out.push(Term::Atom(a));
            }
            BINARY_EXT => {
                let len = self.u32()? as usize;
                let b = self.take_bytes(len)?;
                out.push(Term::Binary(b));
            }
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT | LIST_EXT | MAP_EXT => {
                let t = self.container(tag, at, depth)?;
                out.push(t);
            }
            _ => {
                let t = self.leaf_call(tag, at, depth)?;
                out.push(t);
            }
        }
        Ok(())
    }

    /// `leaf` out of line (the rare leaves of `value_into`).
    #[inline(never)]
    fn leaf_call(&mut self, tag: u8, at: usize, depth: usize) -> Result<Term, DecodeError> {
        self.leaf(tag, at, self.limits.max_depth.saturating_sub(depth))
    }

    /// A tuple, list or map whose tag (at `at`) has been read, nested `depth` levels deep.
    pub(super) fn container(
        &mut self,
        tag: u8,
        at: usize,
        depth: usize,
    ) -> Result<Term, DecodeError> {
        let max_depth = self.limits.max_depth;
        if depth >= RECURSE_MAX {
            self.pos = at;
            let base = self.stack.len();
            return self.run(base, max_depth.saturating_sub(depth));
        }
        match tag {
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT => {
                let n = if tag == SMALL_TUPLE_EXT {
                    self.u8()? as usize
                } else {
                    self.u32()? as usize
                };
                if n == 0 {
                    return Ok(Term::Tuple(Vec::new()));
                }
                if depth >= max_depth {
                    return Err(DecodeError::new(at, K::TooDeep));
                }
                self.check_fits(n, 1, at)?;
                let mut elems = Vec::with_capacity(n.min(MAX_PREALLOC));
                for _ in 0..n {
                    self.value_into(depth + 1, &mut elems)?;
                }
                Ok(Term::Tuple(elems))
            }
            LIST_EXT => {
                if depth >= max_depth {
                    return Err(DecodeError::new(at, K::TooDeep));
                }
                let mut n = self.u32()? as usize;
                let mut elems = Vec::new();
                let mut list_at = at;
                loop {
                    self.check_fits(n, 1, list_at)?;
                    elems.reserve(n.min(MAX_PREALLOC));
                    for _ in 0..n {
                        self.value_into(depth + 1, &mut elems)?;
                    }
                    match self.peek() {
                        Some(NIL_EXT) => {
                            self.pos += 1;
                            return Ok(Term::List(elems));
                        }
                        // A LIST_EXT tail continues the same list (no extra depth).
                        Some(LIST_EXT) => {
                            list_at = self.pos;
                            self.pos += 1;
                            n = self.u32()? as usize;
                        }
                        _ => {
                            let tail = self.value(depth + 1)?;
                            return Ok(with_tail(elems, tail));
                        }
                    }
                }
            }
            _ => {
                let n = self.u32()? as usize;
                if n == 0 {
                    return Ok(Term::Map(Vec::new()));
                }
                if depth >= max_depth {
                    return Err(DecodeError::new(at, K::TooDeep));
                }
                self.check_fits(n, 2, at)?;
                let mut pairs = Vec::with_capacity(n.min(MAX_PREALLOC));
                for _ in 0..n {
                    let k = self.value(depth + 1)?;
                    let v = self.value(depth + 1)?;
                    pairs.push((k, v));
                }
                Ok(Term::Map(pairs))
            }
        }
    }
}
