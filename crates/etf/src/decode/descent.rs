//! Recursive descent over the first `RECURSE_MAX` levels of nesting: the common shape of
//! messages, decoded without a frame stack; deeper subtrees are handed to `frames.rs`.

use super::Cursor;
use super::MAX_PREALLOC;
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::tag::*;
use crate::term::Term;

/// Levels decoded by native recursion before switching to the explicit frame stack.
pub(crate) const RECURSE_MAX: usize = 16;

/// `v.push(x)`, with the common case (room left: containers are allocated for their declared
/// size, up to `MAX_PREALLOC`) inlined; `Vec::push` stayed a call.
#[inline(always)]
fn push<T>(v: &mut Vec<T>, x: T) {
    let len = v.len();
    if len < v.capacity() {
        // SAFETY: `len < capacity`, so slot `len` is allocated and uninitialised; once it is
        // written, the first `len + 1` elements are initialised.
        unsafe {
            v.as_mut_ptr().add(len).write(x);
            v.set_len(len + 1);
        }
    } else {
        v.push(x);
    }
}

/// A list's head elements joined with its decoded tail.
pub(crate) fn with_tail(mut elems: Vec<Term>, tail: Term) -> Term {
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
    /// hot leaves (integers, atoms, binaries, `[]`) are decoded right there, with no call and
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
            SMALL_INTEGER_EXT => push(out, Term::Int(self.u8()? as i64)),
            INTEGER_EXT => push(out, Term::Int(self.u32()? as i32 as i64)),
            NIL_EXT => push(out, Term::List(Vec::new())),
            SMALL_ATOM_UTF8_EXT | ATOM_UTF8_EXT | ATOM_EXT | SMALL_ATOM_EXT => {
                let a = self.atom_body(tag, at)?;
                push(out, Term::Atom(a));
            }
            BINARY_EXT => {
                let len = self.u32()? as usize;
                let b = self.take_bytes(len)?;
                push(out, Term::Binary(b));
            }
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT | LIST_EXT | MAP_EXT => {
                let t = self.container(tag, at, depth)?;
                push(out, t);
            }
            _ => {
                let t = self.leaf_call(tag, at, depth)?;
                push(out, t);
            }
        }
        Ok(())
    }

    /// `value` with the hot leaves inlined (map keys and values).
    #[inline(always)]
    fn value_inline(&mut self, depth: usize) -> Result<Term, DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        Ok(match tag {
            SMALL_INTEGER_EXT => Term::Int(self.u8()? as i64),
            INTEGER_EXT => Term::Int(self.u32()? as i32 as i64),
            NIL_EXT => Term::List(Vec::new()),
            SMALL_ATOM_UTF8_EXT | ATOM_UTF8_EXT | ATOM_EXT | SMALL_ATOM_EXT => {
                Term::Atom(self.atom_body(tag, at)?)
            }
            BINARY_EXT => {
                let len = self.u32()? as usize;
                Term::Binary(self.take_bytes(len)?)
            }
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT | LIST_EXT | MAP_EXT => {
                self.container(tag, at, depth)?
            }
            _ => self.leaf_call(tag, at, depth)?,
        })
    }

    /// `leaf` out of line (the rare leaves of `value_into`).
    #[inline(never)]
    fn leaf_call(&mut self, tag: u8, at: usize, depth: usize) -> Result<Term, DecodeError> {
        self.leaf(tag, at, self.limits.max_depth.saturating_sub(depth))
    }

    /// A subtree below the recursion limit: decoded with the explicit frame stack (kept out of
    /// line so the common shallow path does not carry its stack frame).
    #[cold]
    #[inline(never)]
    fn deep(&mut self, at: usize, depth: usize) -> Result<Term, DecodeError> {
        self.pos = at;
        let base = self.stack.len();
        self.run(base, self.limits.max_depth.saturating_sub(depth))
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
            return self.deep(at, depth);
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
                self.check_fits(n, 1, at)?;
                let mut elems = Vec::with_capacity(n.min(MAX_PREALLOC));
                loop {
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
                            let list_at = self.pos;
                            self.pos += 1;
                            n = self.u32()? as usize;
                            self.check_fits(n, 1, list_at)?;
                            elems.reserve(n.min(MAX_PREALLOC));
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
                    let k = self.value_inline(depth + 1)?;
                    let v = self.value_inline(depth + 1)?;
                    push(&mut pairs, (k, v));
                }
                Ok(Term::Map(pairs))
            }
        }
    }
}
