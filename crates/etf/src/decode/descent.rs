//! Recursive descent over the first `RECURSE_MAX` levels of nesting: the common shape of
//! messages, decoded without a frame stack; deeper subtrees are handed to `frames.rs`.

use super::Cursor;
use super::MAX_PREALLOC;
use crate::binary::Binary;
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::tag::*;
use crate::term::Term;
use std::mem::MaybeUninit;

/// Levels decoded by native recursion before switching to the explicit frame stack.
pub(crate) const RECURSE_MAX: usize = 16;

/// A decoded map's pairs, refused (at the map's tag, `at`) when a key is repeated.
/// Few keys are compared pairwise where they lie (no allocation: a message's map has a few).
pub(crate) fn unique_keys(pairs: &[(Term, Term)], at: usize) -> Result<(), DecodeError> {
    let n = pairs.len();
    let repeated = if n <= 16 {
        (1..n).any(|i| pairs[..i].iter().any(|(k, _)| *k == pairs[i].0))
    } else {
        let mut keys: Vec<&Term> = pairs.iter().map(|(k, _)| k).collect();
        super::repeated_key(&mut keys)
    };
    if repeated {
        return Err(DecodeError::new(at, K::RepeatedMapKey));
    }
    Ok(())
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
        let mut t = MaybeUninit::<Term>::uninit();
        // SAFETY: `t` is valid for a write; `value_at` returned Ok, so it wrote it.
        unsafe {
            self.value_at(depth, t.as_mut_ptr())?;
            Ok(t.assume_init())
        }
    }

    /// Decodes one term straight into `slot`, which it writes exactly when it returns Ok.
    /// Terms are written in place all the way down (containers into their parent's free
    /// element slot) rather than returned: a `Result<Term>` built on the stack and copied on
    /// was reloaded wider than it was stored, a store-forwarding stall per element that
    /// cost more than the decoding itself. The hot leaves (integers, atoms and atom cache
    /// references, binaries, `[]`) are decoded right here; rare leaves are a call.
    ///
    /// # Safety
    /// `slot` must be valid for a write of one `Term`; it is not read or dropped.
    #[inline(always)]
    pub(super) unsafe fn value_at(
        &mut self,
        depth: usize,
        slot: *mut Term,
    ) -> Result<(), DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        match tag {
            SMALL_INTEGER_EXT => slot.write(Term::Int(self.u8()? as i64)),
            INTEGER_EXT => slot.write(Term::Int(self.u32()? as i32 as i64)),
            NIL_EXT => slot.write(Term::List(Vec::new())),
            SMALL_ATOM_UTF8_EXT | ATOM_UTF8_EXT | ATOM_EXT | SMALL_ATOM_EXT => {
                let a = self.atom_body(tag, at)?;
                slot.write(Term::Atom(a))
            }
            // After a distribution header, a peer names the atoms of its payloads this way
            // (erts does, and so does ferl): as hot as the atom itself.
            ATOM_CACHE_REF => {
                let a = self.atom_ref(at)?;
                slot.write(Term::Atom(a))
            }
            BINARY_EXT => {
                let n = self.u32()? as usize;
                let start = self.pos;
                let s = self.take(n)?;
                if n <= Binary::INLINE {
                    // Filled where it lies (see `container`), by a fixed-size copy when the
                    // input is long enough.
                    slot.write(Term::Binary(Binary::new()));
                    let Term::Binary(b) = &mut *slot else {
                        std::hint::unreachable_unchecked()
                    };
                    match self.data.get(start..start + Binary::INLINE) {
                        Some(w) => b.set_inline_window(w.try_into().unwrap_unchecked(), n),
                        None => b.set_inline(s),
                    }
                } else {
                    slot.write(Term::Binary(Binary::from(self.bytes_at(self.pos - n, n))));
                }
            }
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT | LIST_EXT | MAP_EXT => {
                self.container(tag, at, depth, slot)?
            }
            _ => self.leaf_call(tag, at, depth, slot)?,
        }
        Ok(())
    }

    /// Decodes one term onto the end of `out`.
    #[inline(always)]
    fn value_into(&mut self, depth: usize, out: &mut Vec<Term>) -> Result<(), DecodeError> {
        if out.len() == out.capacity() {
            out.reserve(1);
        }
        let len = out.len();
        // SAFETY: `len < capacity`, so the slot is allocated and unused; the length grows only
        // once `value_at` has written it.
        unsafe {
            self.value_at(depth, out.as_mut_ptr().add(len))?;
            out.set_len(len + 1);
        }
        Ok(())
    }

    /// `leaf` out of line (the rare leaves of `value_at`).
    ///
    /// # Safety
    /// As `value_at`.
    #[inline(never)]
    unsafe fn leaf_call(
        &mut self,
        tag: u8,
        at: usize,
        depth: usize,
        slot: *mut Term,
    ) -> Result<(), DecodeError> {
        let t = self.leaf(tag, at, self.limits.max_depth.saturating_sub(depth))?;
        slot.write(t);
        Ok(())
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

    /// A tuple, list or map whose tag (at `at`) has been read, nested `depth` levels deep,
    /// built in `slot`: the container is written first, empty with room for its elements,
    /// and they are decoded into it where it lies (a finished container moved into place
    /// was again a wide reload of narrow stores). On error the slot is dropped again, so it
    /// is written exactly when this returns Ok, as `value_at` promises.
    ///
    /// # Safety
    /// As `value_at`.
    unsafe fn container(
        &mut self,
        tag: u8,
        at: usize,
        depth: usize,
        slot: *mut Term,
    ) -> Result<(), DecodeError> {
        if depth >= RECURSE_MAX {
            slot.write(self.deep(at, depth)?);
            return Ok(());
        }
        // Too deep is found where the view decoder finds it (both fail alike): a list before
        // its length, a tuple or map after it (an empty one nests nothing).
        let too_deep = depth >= self.limits.max_depth;
        if tag == LIST_EXT && too_deep {
            return Err(DecodeError::new(at, K::TooDeep));
        }
        let n = match tag {
            SMALL_TUPLE_EXT => self.u8()? as usize,
            _ => self.u32()? as usize,
        };
        if n == 0 && tag != LIST_EXT {
            slot.write(if tag == MAP_EXT {
                Term::Map(Vec::new())
            } else {
                Term::Tuple(Vec::new())
            });
            return Ok(());
        }
        if too_deep {
            return Err(DecodeError::new(at, K::TooDeep));
        }
        self.check_fits(n, if tag == MAP_EXT { 2 } else { 1 }, at)?;
        let r = match tag {
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT => {
                slot.write(Term::Tuple(Vec::with_capacity(n.min(MAX_PREALLOC))));
                let Term::Tuple(elems) = &mut *slot else {
                    std::hint::unreachable_unchecked()
                };
                self.elements(n, depth, elems)
            }
            LIST_EXT => {
                slot.write(Term::List(Vec::with_capacity(n.min(MAX_PREALLOC))));
                self.list(n, depth, slot)
            }
            _ => {
                slot.write(Term::Map(Vec::with_capacity(n.min(MAX_PREALLOC))));
                let Term::Map(pairs) = &mut *slot else {
                    std::hint::unreachable_unchecked()
                };
                self.pairs(n, depth, pairs)
                    .and_then(|()| unique_keys(pairs, at))
            }
        };
        if r.is_err() {
            std::ptr::drop_in_place(slot);
        }
        r
    }

    /// `n` elements onto `elems`.
    #[inline(always)]
    fn elements(
        &mut self,
        n: usize,
        depth: usize,
        elems: &mut Vec<Term>,
    ) -> Result<(), DecodeError> {
        for _ in 0..n {
            self.value_into(depth + 1, elems)?;
        }
        Ok(())
    }

    /// The `n` head elements of a list and its tail, into the list in `slot`.
    ///
    /// # Safety
    /// `slot` holds a `Term::List`.
    unsafe fn list(
        &mut self,
        mut n: usize,
        depth: usize,
        slot: *mut Term,
    ) -> Result<(), DecodeError> {
        let Term::List(elems) = &mut *slot else {
            std::hint::unreachable_unchecked()
        };
        loop {
            self.elements(n, depth, elems)?;
            match self.peek() {
                Some(NIL_EXT) => {
                    self.pos += 1;
                    return Ok(());
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
                    let head = std::mem::take(elems);
                    *slot = with_tail(head, tail);
                    return Ok(());
                }
            }
        }
    }

    /// `n` key/value pairs onto `pairs`.
    #[inline(always)]
    fn pairs(
        &mut self,
        n: usize,
        depth: usize,
        pairs: &mut Vec<(Term, Term)>,
    ) -> Result<(), DecodeError> {
        for _ in 0..n {
            if pairs.len() == pairs.capacity() {
                pairs.reserve(1);
            }
            let len = pairs.len();
            // SAFETY: slot `len` is allocated and unused; it joins the map only once both its
            // key and value are written.
            unsafe {
                let pair = pairs.as_mut_ptr().add(len);
                let key = std::ptr::addr_of_mut!((*pair).0);
                self.value_at(depth + 1, key)?;
                if let Err(e) = self.value_at(depth + 1, std::ptr::addr_of_mut!((*pair).1)) {
                    // The key was written and is owned by no one yet.
                    std::ptr::drop_in_place(key);
                    return Err(e);
                }
                pairs.set_len(len + 1);
            }
        }
        Ok(())
    }
}
