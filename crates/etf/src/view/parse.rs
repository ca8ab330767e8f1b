//! The view decoder's parser: bytes -> pre-order `Node`s in the decoder's arena. Iterative (an
//! explicit frame stack bounded by `Limits::max_depth`, no native recursion), total, and
//! allocation-free once the arena and the frame stack have grown to the input's shape.
//!
//! It mirrors the owned decoder (`decode/`) check for check, so both accept exactly the same
//! inputs and fail with the same `DecodeError` (kind and offset): the same primitive readers,
//! the same atom path, and, where the owned decoder's two modes (recursive descent for the first
//! `RECURSE_MAX` levels, frames below) order their checks differently, the same order.

use super::node::{Node, Tail};
use super::term_ref::{Pos, View};
use crate::atom::Atom;
use crate::decode::descent::RECURSE_MAX;
use crate::decode::{cached_atom, old_creation, old_ref_first_word, wire_atom, Limits};
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::pid::{Export, Pid, Port, MAX_REF_WORDS};
use crate::tag::*;
use crate::term::Term;

/// A primitive read ran past the end of the input. Zero-sized so a reader's `Result` stays in
/// registers; it becomes an UnexpectedEof at the failed read's position (readers do not advance
/// on failure), filled in by `Parser::fix_offset`.
pub(super) struct Eof;

impl From<Eof> for DecodeError {
    #[cold]
    fn from(_: Eof) -> DecodeError {
        DecodeError::new(usize::MAX, K::UnexpectedEof)
    }
}

/// What an open frame is collecting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FrameKind {
    Tuple,
    /// Head elements of a list (`left` of them still to come).
    List,
    /// The non-`[]` tail of a list; `left` holds the tail node's index.
    ListTail,
    /// Map keys and values (`left` counts both).
    Map,
    /// A fun's free variables (`left` of them still to come).
    FunFree,
    /// Around the whole term: complete when its one value is.
    Root,
}

const ROOT: Frame = Frame {
    node: 0,
    left: 1,
    at: 0,
    kind: FrameKind::Root,
};

/// A container being filled: its node's index in the arena, the children still to read and
/// (for errors and funs) the offset of its tag.
#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    node: usize,
    left: usize,
    at: usize,
    kind: FrameKind,
}

pub(super) struct Parser<'d, 'a> {
    input: &'a [u8],
    pub(super) pos: usize,
    pub(super) limits: Limits,
    pub(super) nodes: &'d mut Vec<Node>,
    stack: &'d mut Vec<Frame>,
    /// The atoms of the distribution header the term follows (ATOM_CACHE_REF indexes them).
    refs: &'a [Atom],
    /// Open fun frames: both decoders read a fun with this frame machine, so inside one checks
    /// are ordered as in frame mode whatever the depth.
    funs: usize,
}

impl<'d, 'a> Parser<'d, 'a> {
    #[inline(always)]
    pub(super) fn new(
        input: &'a [u8],
        pos: usize,
        limits: Limits,
        nodes: &'d mut Vec<Node>,
        stack: &'d mut Vec<Frame>,
    ) -> Self {
        Parser {
            input,
            // An out-of-range start reads as the end of the input (an UnexpectedEof there).
            pos: pos.min(input.len()),
            limits,
            nodes,
            stack,
            refs: &[],
            funs: 0,
        }
    }

    /// Resolve ATOM_CACHE_REF through `refs` (a term after a distribution header).
    pub(super) fn with_refs(mut self, refs: &'a [Atom]) -> Self {
        self.refs = refs;
        self
    }

    /// ATOM_CACHE_REF (tag at `at`): the header atom its index names.
    fn atom_ref(&mut self, at: usize) -> Result<Atom, DecodeError> {
        cached_atom(self.refs, self.u8()?, at)
    }

    fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// `131` followed by one term: its root node's index. On error the arena is as before.
    #[inline]
    pub(super) fn external(&mut self) -> Result<usize, DecodeError> {
        let v = self
            .u8()
            .map_err(|_| DecodeError::new(self.pos, K::UnexpectedEof))?;
        if v != VERSION {
            return Err(DecodeError::new(self.pos - 1, K::BadVersion(v)));
        }
        if self.peek() == Some(LOCAL_EXT) {
            // As the owned decoder: LOCAL_EXT is opaque and spans the rest of the input.
            let root = self.nodes.len();
            self.nodes.push(Node::Local {
                at: self.pos,
                len: self.remaining(),
            });
            self.pos = self.input.len();
            return Ok(root);
        }
        self.term()
    }

    /// One term (no version byte): its root node's index. On error the arena is as before.
    #[inline]
    pub(super) fn term(&mut self) -> Result<usize, DecodeError> {
        let root = self.nodes.len();
        self.stack.clear();
        match self.value(0) {
            Ok(()) => Ok(root),
            Err(e) => {
                self.nodes.truncate(root);
                self.stack.clear();
                Err(self.fix_offset(e))
            }
        }
    }

    #[cold]
    pub(super) fn fix_offset(&self, mut e: DecodeError) -> DecodeError {
        if e.offset == usize::MAX {
            e.offset = self.pos;
        }
        e
    }

    // ---- primitive readers (as the owned decoder's) -------------------------------------

    #[inline(always)]
    pub(super) fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// `pos <= input.len()` always holds (`Parser::new` clamps it; reads advance only within
    /// the input), so the room left is one subtraction and one compare.
    #[inline(always)]
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], Eof> {
        let input: &'a [u8] = self.input;
        let rest = input.get(self.pos..).unwrap_or(&[]);
        if n > rest.len() {
            return Err(Eof);
        }
        let (s, _) = rest.split_at(n);
        self.pos += n;
        Ok(s)
    }

    #[inline(always)]
    pub(super) fn u8(&mut self) -> Result<u8, Eof> {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(Eof),
        }
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], Eof> {
        let s = self.take(N)?;
        let mut w = [0u8; N];
        w.copy_from_slice(s);
        Ok(w)
    }

    #[inline(always)]
    pub(super) fn u16(&mut self) -> Result<u16, Eof> {
        self.array().map(u16::from_be_bytes)
    }

    #[inline(always)]
    pub(super) fn u32(&mut self) -> Result<u32, Eof> {
        self.array().map(u32::from_be_bytes)
    }

    #[inline(always)]
    pub(super) fn u64(&mut self) -> Result<u64, Eof> {
        self.array().map(u64::from_be_bytes)
    }

    pub(super) fn check_fits(
        &self,
        count: usize,
        min_size: usize,
        at: usize,
    ) -> Result<(), DecodeError> {
        match count.checked_mul(min_size) {
            Some(n) if n <= self.remaining() => Ok(()),
            _ => Err(DecodeError::new(at, K::UnexpectedEof)),
        }
    }

    // ---- atoms (the owned decoder's path: per-thread cache, then the bounded table) ------

    #[inline(always)]
    pub(super) fn atom_body(&mut self, tag: u8, at: usize) -> Result<Atom, DecodeError> {
        let len = match tag {
            SMALL_ATOM_UTF8_EXT | SMALL_ATOM_EXT => self.u8()? as usize,
            _ => self.u16()? as usize,
        };
        let bytes = self.take(len)?;
        wire_atom(bytes, tag, at, self.limits.max_atoms)
    }

    /// An atom where the format requires one (node names, export fields, fun modules).
    fn atom(&mut self) -> Result<Atom, DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        match tag {
            ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT | ATOM_EXT | SMALL_ATOM_EXT => {
                self.atom_body(tag, at)
            }
            ATOM_CACHE_REF => self.atom_ref(at),
            _ => Err(DecodeError::new(at, K::Malformed)),
        }
    }

    // ---- the frame machine ----------------------------------------------------------------
    // The innermost open frame, `cur`, is a local (kept in registers on the hot path: a tuple's
    // element count is decremented there); `stack` holds the enclosing ones, so the depth of
    // the next value is `stack.len()`. `Root` is the sentinel around the whole term.

    /// Whether the owned decoder would be in recursive-descent mode at `depth` (it checks the
    /// depth limit before, rather than after, the size plausibility check there).
    #[inline(always)]
    fn recursive_order(&self, depth: usize, recursive_limit: usize) -> bool {
        depth < recursive_limit && self.funs == 0
    }

    /// Opens a container: `cur` becomes its frame, the enclosing one goes on the stack.
    #[inline(always)]
    fn open(&mut self, cur: &mut Frame, kind: FrameKind, left: usize, at: usize, node: Node) {
        let outer = std::mem::replace(
            cur,
            Frame {
                node: self.nodes.len(),
                left,
                at,
                kind,
            },
        );
        self.stack.push(outer);
        self.nodes.push(node);
    }

    /// Closes `cur`: pops the enclosing frame into it.
    #[inline(always)]
    fn pop(&mut self, cur: &mut Frame) {
        *cur = self.stack.pop().unwrap_or(ROOT);
    }

    #[cold]
    fn too_deep(at: usize) -> DecodeError {
        DecodeError::new(at, K::TooDeep)
    }

    /// Decodes one term nested `base` levels deep into the arena, with frames (`descent.rs`
    /// hands it subtrees below `RECURSE_MAX` and funs).
    pub(super) fn run(&mut self, base: usize) -> Result<(), DecodeError> {
        let max_depth = self.limits.max_depth;
        // Depths below are relative to the term's outermost frame: shift the limit instead.
        let max_depth = max_depth.saturating_sub(base);
        let recursive_limit = RECURSE_MAX.saturating_sub(base);
        let mut cur = ROOT;
        let cur = &mut cur;
        loop {
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
                SMALL_TUPLE_EXT | LARGE_TUPLE_EXT => {
                    let n = if tag == SMALL_TUPLE_EXT {
                        self.u8()? as usize
                    } else {
                        self.u32()? as usize
                    };
                    if n == 0 {
                        self.nodes.push(Node::Tuple { arity: 0, span: 1 });
                    } else {
                        let depth = self.stack.len();
                        if self.recursive_order(depth, recursive_limit) {
                            if depth >= max_depth {
                                return Err(Self::too_deep(at));
                            }
                            self.check_fits(n, 1, at)?;
                        } else {
                            self.check_fits(n, 1, at)?;
                            if depth >= max_depth {
                                return Err(Self::too_deep(at));
                            }
                        }
                        let node = Node::Tuple {
                            arity: n as u32,
                            span: 0,
                        };
                        self.open(cur, FrameKind::Tuple, n, at, node);
                        continue;
                    }
                }
                LIST_EXT => {
                    let depth = self.stack.len();
                    if depth >= max_depth && self.recursive_order(depth, recursive_limit) {
                        return Err(Self::too_deep(at));
                    }
                    let n = self.u32()? as usize;
                    self.check_fits(n, 1, at)?;
                    if depth >= max_depth {
                        return Err(Self::too_deep(at));
                    }
                    let node = Node::List {
                        heads: n,
                        tail: Tail::Nil,
                        tail_at: 0,
                        span: 0,
                    };
                    self.open(cur, FrameKind::List, n, at, node);
                    if n > 0 || !self.list_tail(cur)? {
                        continue;
                    }
                    // `[]`-terminated at once: a complete value, fed up below.
                }
                MAP_EXT => {
                    let n = self.u32()? as usize;
                    if n == 0 {
                        self.nodes.push(Node::Map { pairs: 0, span: 1 });
                    } else {
                        let depth = self.stack.len();
                        if self.recursive_order(depth, recursive_limit) {
                            if depth >= max_depth {
                                return Err(Self::too_deep(at));
                            }
                            self.check_fits(n, 2, at)?;
                        } else {
                            self.check_fits(n, 2, at)?;
                            if depth >= max_depth {
                                return Err(Self::too_deep(at));
                            }
                        }
                        let node = Node::Map {
                            pairs: n as u32,
                            span: 0,
                        };
                        // `check_fits` proved 2 * n bytes are present, so this cannot overflow.
                        self.open(cur, FrameKind::Map, 2 * n, at, node);
                        continue;
                    }
                }
                NEW_FUN_EXT => {
                    let node = self.nodes.len();
                    let free = self.fun_head(at)?;
                    if free > 0 {
                        if self.stack.len() >= max_depth {
                            return Err(Self::too_deep(at));
                        }
                        let outer = std::mem::replace(
                            cur,
                            Frame {
                                node,
                                left: free,
                                at,
                                kind: FrameKind::FunFree,
                            },
                        );
                        self.stack.push(outer);
                        self.funs += 1;
                        continue;
                    }
                    self.close_fun(node, at);
                }
                _ => {
                    let node = match tag {
                        NEW_PID_EXT | PID_EXT => self.pid(tag, at)?,
                        NEWER_REFERENCE_EXT | NEW_REFERENCE_EXT => self.reference(tag, at)?,
                        _ => self.leaf(tag, at)?,
                    };
                    self.nodes.push(node);
                }
            }
            if self.complete(cur)? {
                return Ok(());
            }
        }
    }

    /// A value just completed: feed it up through the frames it completes. True when the
    /// whole term is complete.
    #[inline(always)]
    fn complete(&mut self, cur: &mut Frame) -> Result<bool, DecodeError> {
        loop {
            match cur.kind {
                FrameKind::Tuple | FrameKind::Map => {
                    cur.left -= 1;
                    if cur.left > 0 {
                        return Ok(false);
                    }
                    let map = matches!(cur.kind, FrameKind::Map).then_some((cur.node, cur.at));
                    self.close(cur, Tail::Nil, 0);
                    if let Some((node, at)) = map {
                        self.unique_keys(node, at)?;
                    }
                }
                FrameKind::List => {
                    cur.left -= 1;
                    if cur.left > 0 || !self.list_tail(cur)? {
                        return Ok(false);
                    }
                }
                FrameKind::ListTail => {
                    let tail_at = cur.left;
                    let tail = match self.nodes.get(tail_at) {
                        Some(Node::Str { .. }) => Tail::Str,
                        _ => Tail::Improper,
                    };
                    self.close(cur, tail, tail_at - cur.node);
                }
                FrameKind::FunFree => {
                    cur.left -= 1;
                    if cur.left > 0 {
                        return Ok(false);
                    }
                    let (node, at) = (cur.node, cur.at);
                    self.pop(cur);
                    self.funs -= 1;
                    self.close_fun(node, at);
                }
                FrameKind::Root => return Ok(true),
            }
        }
    }

    /// The map closed at `node` (its tag at `at`), refused when a key is repeated, as the owned
    /// decoder and `binary_to_term` refuse it. Up to 16 atom keys are compared in place; any
    /// other map's keys are copied and sorted (`decode::repeated_key`).
    pub(super) fn unique_keys(&self, node: usize, at: usize) -> Result<(), DecodeError> {
        // The common map of a message: atom keys, read straight off the arena (each key's
        // value is skipped by its subtree size).
        match self.atom_keys_repeat(node) {
            Some(true) => return Err(DecodeError::new(at, K::RepeatedMapKey)),
            Some(false) => return Ok(()),
            None => {}
        }
        let view = View {
            nodes: &self.nodes[..],
            input: self.input,
            at: Pos::Node(node),
        };
        let Some(map) = view.map().filter(|m| m.len() >= 2) else {
            return Ok(());
        };
        let owned: Vec<Term> = map.iter().map(|(k, _)| k.to_term_copied()).collect();
        let mut keys: Vec<&Term> = owned.iter().collect();
        if crate::decode::repeated_key(&mut keys) {
            return Err(DecodeError::new(at, K::RepeatedMapKey));
        }
        Ok(())
    }

    /// For a map at `node` of at most 16 pairs whose keys are all atoms, whether an atom
    /// repeats; `None` for any other map.
    fn atom_keys_repeat(&self, node: usize) -> Option<bool> {
        let Some(Node::Map { pairs, .. }) = self.nodes.get(node) else {
            return None;
        };
        let n = *pairs as usize;
        if n > 16 {
            return None;
        }
        let mut seen: [Option<Atom>; 16] = [None; 16];
        let mut i = node + 1;
        for slot in &mut seen[..n] {
            let Some(Node::Atom(a)) = self.nodes.get(i) else {
                return None;
            };
            *slot = Some(*a);
            i += 1 + self.nodes.get(i + 1)?.span();
        }
        Some((1..n).any(|k| seen[..k].contains(&seen[k])))
    }

    /// Closes `cur`'s container, recording its subtree size (and a list's tail).
    #[inline(always)]
    fn close(&mut self, cur: &mut Frame, tail: Tail, tail_off: usize) {
        let node = cur.node;
        let len = self.nodes.len();
        match self.nodes.get_mut(node) {
            Some(Node::Tuple { span, .. }) | Some(Node::Map { span, .. }) => *span = len - node,
            Some(Node::List {
                span,
                tail: t,
                tail_at,
                ..
            }) => {
                *span = len - node;
                *t = tail;
                *tail_at = tail_off;
            }
            _ => {}
        }
        self.pop(cur);
    }

    /// `cur` is a list whose head elements are all read: `[]` closes it (true), a LIST_EXT
    /// continues it (same list, no extra depth), anything else is its tail.
    fn list_tail(&mut self, cur: &mut Frame) -> Result<bool, DecodeError> {
        loop {
            match self.peek() {
                Some(NIL_EXT) => {
                    self.pos += 1;
                    self.close(cur, Tail::Nil, 0);
                    return Ok(true);
                }
                Some(LIST_EXT) => {
                    let list_at = self.pos;
                    self.pos += 1;
                    let n = self.u32()? as usize;
                    self.check_fits(n, 1, list_at)?;
                    if n > 0 {
                        cur.left = n;
                        if let Some(Node::List { heads, .. }) = self.nodes.get_mut(cur.node) {
                            // Every head is at least one byte of input: no overflow.
                            *heads += n;
                        }
                        return Ok(false);
                    }
                }
                _ => {
                    cur.kind = FrameKind::ListTail;
                    cur.left = self.nodes.len();
                    return Ok(false);
                }
            }
        }
    }

    // ---- the rarer leaves ---------------------------------------------------------------

    /// NEW_PID_EXT / PID_EXT body. Inlined where a pid is pushed straight onto the arena
    /// (`rare`): returned through `leaf`'s `Result`, a node was stored in parts and then reloaded
    /// whole, a store-forwarding stall.
    #[inline(always)]
    pub(super) fn pid(&mut self, tag: u8, at: usize) -> Result<Node, DecodeError> {
        let node = self.atom()?;
        let id = self.u32()?;
        let serial = self.u32()?;
        let creation = if tag == NEW_PID_EXT {
            self.u32()?
        } else {
            old_creation(self.u8()?, at)?
        };
        Ok(Node::Pid(Pid {
            node,
            id,
            serial,
            creation,
        }))
    }

    /// NEWER_REFERENCE_EXT / NEW_REFERENCE_EXT body (inlined as `pid` is).
    #[inline(always)]
    pub(super) fn reference(&mut self, tag: u8, at: usize) -> Result<Node, DecodeError> {
        let n = self.u16()?;
        if n == 0 || n as usize > MAX_REF_WORDS {
            return Err(DecodeError::new(at, K::InvalidRefLen(n)));
        }
        let node = self.atom()?;
        let creation = if tag == NEWER_REFERENCE_EXT {
            self.u32()?
        } else {
            old_creation(self.u8()?, at)?
        };
        let words_at = self.pos;
        // Word by word, so a short input fails at the same offset as the owned decoder.
        // `n` is 1 or more (checked above).
        let first = self.u32()?;
        for _ in 1..n {
            self.u32()?;
        }
        if tag == NEW_REFERENCE_EXT {
            old_ref_first_word(first, at)?;
        }
        Ok(Node::Ref {
            node,
            creation,
            words: n as u8,
            at: words_at,
        })
    }

    #[inline(never)]
    pub(super) fn leaf(&mut self, tag: u8, at: usize) -> Result<Node, DecodeError> {
        Ok(match tag {
            STRING_EXT => {
                let len = self.u16()?;
                let start = self.pos;
                self.take(len as usize)?;
                Node::Str { len, at: start }
            }
            NEW_FLOAT_EXT => float_checked(f64::from_bits(self.u64()?), at)?,
            NEW_PID_EXT | PID_EXT => self.pid(tag, at)?,
            NEWER_REFERENCE_EXT | NEW_REFERENCE_EXT => self.reference(tag, at)?,
            REFERENCE_EXT => {
                let node = self.atom()?;
                let id_at = self.pos;
                let id = self.u32()?;
                let creation = old_creation(self.u8()?, at)?;
                old_ref_first_word(id, at)?;
                Node::Ref {
                    node,
                    creation,
                    words: 1,
                    at: id_at,
                }
            }
            NEW_PORT_EXT | V4_PORT_EXT | PORT_EXT => {
                let node = self.atom()?;
                let id = match tag {
                    V4_PORT_EXT => self.u64()?,
                    _ => self.u32()? as u64,
                };
                let creation = match tag {
                    PORT_EXT => old_creation(self.u8()?, at)?,
                    _ => self.u32()?,
                };
                Node::Port(Port { node, id, creation })
            }
            SMALL_BIG_EXT => {
                let n = self.u8()? as usize;
                self.big(n)?
            }
            LARGE_BIG_EXT => {
                let n = self.u32()? as usize;
                self.check_fits(n, 1, at)?;
                self.big(n)?
            }
            BIT_BINARY_EXT => {
                let len = self.u32()?;
                let bits = self.u8()?;
                let start = self.pos;
                self.take(len as usize)?;
                match (len, bits) {
                    (0, 0) | (1.., 8) => Node::Binary { len, at: start },
                    (0, _) | (_, 0) => return Err(DecodeError::new(at, K::BadBitCount)),
                    (_, 1..=7) => Node::BitBinary {
                        len,
                        bits,
                        at: start,
                    },
                    _ => return Err(DecodeError::new(at, K::BadBitCount)),
                }
            }
            EXPORT_EXT => {
                let module = self.atom()?;
                let function = self.atom()?;
                let a_at = self.pos;
                if self.u8()? != SMALL_INTEGER_EXT {
                    return Err(DecodeError::new(a_at, K::Malformed));
                }
                let arity = self.u8()?;
                Node::Export(Export {
                    module,
                    function,
                    arity,
                })
            }
            FLOAT_EXT => self.old_float(at)?,
            ATOM_CACHE_REF => Node::Atom(self.atom_ref(at)?),
            COMPRESSED => return Err(DecodeError::new(at, K::Compressed)),
            DIST_HEADER | DIST_FRAG_HEADER => return Err(DecodeError::new(at, K::DistHeader)),
            _ => return Err(DecodeError::new(at, K::UnknownTag(tag))),
        })
    }

    /// SMALL_BIG_EXT / LARGE_BIG_EXT body: an `Int` when the value fits `i64` (as `BigInt`'s
    /// normalisation), else the magnitude without its most-significant zero bytes.
    fn big(&mut self, n: usize) -> Result<Node, DecodeError> {
        // Any sign byte but 0 is negative, as erts reads it (`binary_to_term` takes 2-255 too).
        let sign = u8::from(self.u8()? != 0);
        let start = self.pos;
        let mag = self.take(n)?;
        let used = mag.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        if used <= 8 {
            let mut w = [0u8; 8];
            w[..used].copy_from_slice(&mag[..used]);
            let m = u64::from_le_bytes(w);
            if sign == 0 && m <= i64::MAX as u64 {
                return Ok(Node::Int(m as i64));
            }
            if sign == 1 && m <= 1u64 << 63 {
                return Ok(Node::Int((m as i64).wrapping_neg()));
            }
        }
        Ok(Node::Big {
            negative: sign == 1,
            // `n` came from a u8 or a u32.
            len: used as u32,
            at: start,
        })
    }

    fn old_float(&mut self, at: usize) -> Result<Node, DecodeError> {
        let s = self.take(31)?;
        let f = crate::decode::old_float_text(s).ok_or(DecodeError::new(at, K::BadFloat))?;
        float_checked(f, at)
    }

    /// A NEW_FUN_EXT (tag at `at`) up to its free variables, read field by field as erts's
    /// `dec_term` does: the size field is not trusted (erts ignores it), the module must be an
    /// atom, the old index and old uniq integers that fit a small (60 bits), the creator a pid.
    /// Pushes the fun's node and those four children; returns the free-variable count, which
    /// the input was checked to have room for.
    fn fun_head(&mut self, at: usize) -> Result<usize, DecodeError> {
        self.take(4 + 1 + 16 + 4)?; // size, arity, uniq, index
        let free = self.u32()? as usize;
        self.check_fits(free, 1, at)?;
        let module = self.atom()?;
        self.nodes.push(Node::Fun {
            at,
            len: 0,
            span: 0,
        });
        self.nodes.push(Node::Atom(module));
        for _ in 0..2 {
            let v = self.fun_small()?;
            self.nodes.push(Node::Int(v));
        }
        let pid_at = self.pos;
        match self.u8()? {
            tag @ (NEW_PID_EXT | PID_EXT) => {
                let pid = self.leaf(tag, pid_at)?;
                self.nodes.push(pid);
            }
            // erts 25 takes any term here and crashes on it later (a segfault, checked).
            _ => return Err(DecodeError::new(pid_at, K::BadFunCreator)),
        }
        Ok(free)
    }

    /// A fun's old index or old uniq: any integer encoding of a value in erts's small range
    /// (`is_small`: -2^59 to 2^59 - 1), which is all `binary_to_term` takes there.
    fn fun_small(&mut self) -> Result<i64, DecodeError> {
        const SMALL: std::ops::RangeInclusive<i64> = -(1 << 59)..=(1 << 59) - 1;
        let at = self.pos;
        let value = match self.u8()? {
            SMALL_INTEGER_EXT => self.u8()? as i64,
            INTEGER_EXT => self.u32()? as i32 as i64,
            tag @ (SMALL_BIG_EXT | LARGE_BIG_EXT) => match self.leaf(tag, at)? {
                Node::Int(v) => v,
                _ => i64::MAX,
            },
            _ => return Err(DecodeError::new(at, K::BadFunIndex)),
        };
        if SMALL.contains(&value) {
            Ok(value)
        } else {
            Err(DecodeError::new(at, K::BadFunIndex))
        }
    }

    /// The fun whose node is at `node` (tag at `at`) is complete: record its length and span.
    fn close_fun(&mut self, node: usize, at: usize) {
        let (pos, len) = (self.pos, self.nodes.len());
        if let Some(Node::Fun {
            len: fun_len, span, ..
        }) = self.nodes.get_mut(node)
        {
            *fun_len = pos - at;
            *span = len - node;
        }
    }
}

fn float_checked(f: f64, at: usize) -> Result<Node, DecodeError> {
    if f.is_finite() {
        Ok(Node::Float(f))
    } else {
        Err(DecodeError::new(at, K::BadFloat))
    }
}
