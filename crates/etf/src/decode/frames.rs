//! The iterative decoder for deep subtrees: an explicit stack of partially built containers,
//! so nesting costs heap frames (bounded by `Limits::max_depth`), never native stack.

use super::descent::with_tail;
use super::MAX_PREALLOC;
use super::{Cursor, FRAMES};
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::tag::*;
use crate::term::Term;

/// A container being filled.
pub(super) enum Frame {
    Tuple {
        elems: Vec<Term>,
        left: usize,
    },
    /// `left` head elements still to read, then the tail (when `left == 0`).
    List {
        elems: Vec<Term>,
        left: usize,
    },
    Map {
        pairs: Vec<(Term, Term)>,
        key: Option<Term>,
        left: usize,
        /// Where its tag is (a repeated key is reported there).
        at: usize,
    },
}

impl Cursor<'_> {
    /// Decodes one term, using frames above `base` on the stack; at most `max_depth` frames.
    /// Inlined into its callers: returning a 48-byte `Result<Term>` through extra call layers
    /// cost more than the decoding itself (store-forwarding stalls on the copies).
    #[inline(always)]
    pub(super) fn run(&mut self, base: usize, max_depth: usize) -> Result<Term, DecodeError> {
        loop {
            let at = self.pos;
            let tag = self.u8()?;
            let mut value = match tag {
                SMALL_TUPLE_EXT | LARGE_TUPLE_EXT => {
                    let n = if tag == SMALL_TUPLE_EXT {
                        self.u8()? as usize
                    } else {
                        self.u32()? as usize
                    };
                    if n == 0 {
                        Term::Tuple(Vec::new())
                    } else {
                        self.check_fits(n, 1, at)?;
                        self.push(
                            base,
                            max_depth,
                            at,
                            Frame::Tuple {
                                elems: Vec::with_capacity(n.min(MAX_PREALLOC)),
                                left: n,
                            },
                        )?;
                        continue;
                    }
                }
                LIST_EXT => {
                    let n = self.u32()? as usize;
                    self.check_fits(n, 1, at)?;
                    // A LIST_EXT in tail position of a list continues that list: no new
                    // frame, so lists encoded as chains of cons cells cannot exhaust depth.
                    if self.stack.len() > base {
                        if let Some(Frame::List { elems, left }) = self.stack.last_mut() {
                            if *left == 0 {
                                elems.reserve(n.min(MAX_PREALLOC));
                                *left = n;
                                continue;
                            }
                        }
                    }
                    self.push(
                        base,
                        max_depth,
                        at,
                        Frame::List {
                            elems: Vec::with_capacity(n.min(MAX_PREALLOC)),
                            left: n,
                        },
                    )?;
                    continue;
                }
                MAP_EXT => {
                    let n = self.u32()? as usize;
                    if n == 0 {
                        Term::Map(Vec::new())
                    } else {
                        self.check_fits(n, 2, at)?;
                        self.push(
                            base,
                            max_depth,
                            at,
                            Frame::Map {
                                pairs: Vec::with_capacity(n.min(MAX_PREALLOC)),
                                key: None,
                                left: n,
                                at,
                            },
                        )?;
                        continue;
                    }
                }
                _ => {
                    let used = self.stack.len() - base;
                    self.leaf(tag, at, max_depth.saturating_sub(used))?
                }
            };
            // Feed the value up through completed frames.
            loop {
                if self.stack.len() == base {
                    return Ok(value);
                }
                let Some(top) = self.stack.last_mut() else {
                    return Ok(value);
                };
                match top {
                    Frame::Tuple { elems, left } => {
                        elems.push(value);
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        let elems = std::mem::take(elems);
                        self.stack.pop();
                        value = Term::Tuple(elems);
                    }
                    Frame::List { elems, left } => {
                        if *left > 0 {
                            elems.push(value);
                            *left -= 1;
                            break; // the tail (or more elements) follows
                        }
                        // `value` is the tail.
                        let elems = std::mem::take(elems);
                        self.stack.pop();
                        value = with_tail(elems, value);
                    }
                    Frame::Map {
                        pairs,
                        key,
                        left,
                        at,
                    } => {
                        match key.take() {
                            None => {
                                *key = Some(value);
                                break;
                            }
                            Some(k) => {
                                pairs.push((k, value));
                                *left -= 1;
                            }
                        }
                        if *left > 0 {
                            break;
                        }
                        super::descent::unique_keys(pairs, *at)?;
                        let pairs = std::mem::take(pairs);
                        self.stack.pop();
                        value = Term::Map(pairs);
                    }
                }
            }
        }
    }

    pub(super) fn push(
        &mut self,
        base: usize,
        max_depth: usize,
        at: usize,
        frame: Frame,
    ) -> Result<(), DecodeError> {
        if self.stack.len() - base >= max_depth {
            return Err(DecodeError::new(at, K::TooDeep));
        }
        if self.stack.capacity() == 0 {
            // First container of this decode: borrow the thread's reusable stack.
            *self.stack = FRAMES.with(|f| f.take());
        }
        self.stack.push(frame);
        Ok(())
    }
}
