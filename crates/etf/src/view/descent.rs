//! Recursive descent over the first `RECURSE_MAX` levels of nesting, the common shape of
//! messages: no frames, and the hot leaves (integers, atoms, binaries, `[]`) decoded inline in
//! the container loops. Deeper subtrees and funs go to the frame machine (`parse.rs`),
//! so native stack use stays bounded whatever the input. Checks are made in the same order as
//! the owned decoder's recursive descent (`decode/descent.rs`), so errors agree.

use super::node::{Node, Tail};
use super::parse::Parser;
use crate::decode::descent::RECURSE_MAX;
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::tag::*;

impl Parser<'_, '_> {
    /// One term, nested `depth` levels deep, appended to the arena.
    #[inline(always)]
    pub(super) fn value(&mut self, depth: usize) -> Result<(), DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        match tag {
            SMALL_INTEGER_EXT => {
                let v = self.u8()?;
                self.nodes.push(Node::Int(v as i64));
            }
            INTEGER_EXT => {
                let v = self.u32()?;
                self.nodes.push(Node::Int(v as i32 as i64));
            }
            SMALL_ATOM_UTF8_EXT | ATOM_UTF8_EXT | ATOM_EXT | SMALL_ATOM_EXT => {
                let a = self.atom_body(tag, at)?;
                self.nodes.push(Node::Atom(a));
            }
            BINARY_EXT => {
                let len = self.u32()?;
                let start = self.pos;
                self.take(len as usize)?;
                self.nodes.push(Node::Binary { len, at: start });
            }
            NIL_EXT => self.nodes.push(Node::Nil),
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT | LIST_EXT | MAP_EXT => {
                self.container(tag, at, depth)?
            }
            _ => self.rare(tag, at, depth)?,
        }
        Ok(())
    }

    /// The other leaves, and funs (decoded by the frame machine, by both decoders).
    #[inline(never)]
    fn rare(&mut self, tag: u8, at: usize, depth: usize) -> Result<(), DecodeError> {
        let node = match tag {
            NEW_FUN_EXT => {
                self.pos = at;
                return self.run(depth);
            }
            // Every `$gen_call` carries a pid and a reference: built in place (see `pid`).
            NEW_PID_EXT | PID_EXT => self.pid(tag, at)?,
            NEWER_REFERENCE_EXT | NEW_REFERENCE_EXT => self.reference(tag, at)?,
            _ => self.leaf(tag, at)?,
        };
        self.nodes.push(node);
        Ok(())
    }

    /// A subtree below the recursion limit: the frame machine (out of line, so the shallow
    /// path does not carry its stack frame).
    #[cold]
    #[inline(never)]
    fn deep(&mut self, at: usize, depth: usize) -> Result<(), DecodeError> {
        self.pos = at;
        self.run(depth)
    }

    #[cold]
    fn too_deep_at(at: usize) -> DecodeError {
        DecodeError::new(at, K::TooDeep)
    }

    /// A tuple, list or map whose tag (at `at`) has been read, nested `depth` levels deep.
    #[inline(never)]
    fn container(&mut self, tag: u8, at: usize, depth: usize) -> Result<(), DecodeError> {
        if depth >= RECURSE_MAX {
            return self.deep(at, depth);
        }
        let max_depth = self.limits.max_depth;
        match tag {
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT => {
                let n = if tag == SMALL_TUPLE_EXT {
                    self.u8()? as usize
                } else {
                    self.u32()? as usize
                };
                if n == 0 {
                    self.nodes.push(Node::Tuple { arity: 0, span: 1 });
                    return Ok(());
                }
                if depth >= max_depth {
                    return Err(Self::too_deep_at(at));
                }
                self.check_fits(n, 1, at)?;
                let node = self.nodes.len();
                self.nodes.push(Node::Tuple {
                    arity: n as u32,
                    span: 0,
                });
                for _ in 0..n {
                    self.value(depth + 1)?;
                }
                self.set_span(node);
                Ok(())
            }
            LIST_EXT => {
                if depth >= max_depth {
                    return Err(Self::too_deep_at(at));
                }
                let mut n = self.u32()? as usize;
                self.check_fits(n, 1, at)?;
                let node = self.nodes.len();
                self.nodes.push(Node::List {
                    heads: n,
                    tail: Tail::Nil,
                    tail_at: 0,
                    span: 0,
                });
                let mut heads = n;
                loop {
                    for _ in 0..n {
                        self.value(depth + 1)?;
                    }
                    match self.peek() {
                        Some(NIL_EXT) => {
                            self.pos += 1;
                            self.set_list(node, heads, Tail::Nil, 0);
                            return Ok(());
                        }
                        // A LIST_EXT tail continues the same list (no extra depth).
                        Some(LIST_EXT) => {
                            let list_at = self.pos;
                            self.pos += 1;
                            n = self.u32()? as usize;
                            self.check_fits(n, 1, list_at)?;
                            // Every head is at least one byte of input: no overflow.
                            heads += n;
                        }
                        _ => {
                            let tail_at = self.nodes.len();
                            self.value(depth + 1)?;
                            let tail = match self.nodes.get(tail_at) {
                                Some(Node::Str { .. }) => Tail::Str,
                                _ => Tail::Improper,
                            };
                            self.set_list(node, heads, tail, tail_at - node);
                            return Ok(());
                        }
                    }
                }
            }
            _ => {
                let n = self.u32()? as usize;
                if n == 0 {
                    self.nodes.push(Node::Map { pairs: 0, span: 1 });
                    return Ok(());
                }
                if depth >= max_depth {
                    return Err(Self::too_deep_at(at));
                }
                self.check_fits(n, 2, at)?;
                let node = self.nodes.len();
                self.nodes.push(Node::Map {
                    pairs: n as u32,
                    span: 0,
                });
                for _ in 0..n {
                    self.value(depth + 1)?;
                    self.value(depth + 1)?;
                }
                self.set_span(node);
                self.unique_keys(node, at)
            }
        }
    }

    #[inline(always)]
    fn set_span(&mut self, node: usize) {
        let len = self.nodes.len();
        if let Some(Node::Tuple { span, .. } | Node::Map { span, .. }) = self.nodes.get_mut(node) {
            *span = len - node;
        }
    }

    #[inline(always)]
    fn set_list(&mut self, node: usize, n: usize, t: Tail, off: usize) {
        let len = self.nodes.len();
        if let Some(Node::List {
            heads,
            tail,
            tail_at,
            span,
        }) = self.nodes.get_mut(node)
        {
            *heads = n;
            *tail = t;
            *tail_at = off;
            *span = len - node;
        }
    }
}
