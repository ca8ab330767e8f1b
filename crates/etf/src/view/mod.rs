//! Borrowed, zero-allocation decoding: External Term Format bytes -> a `View` of the term,
//! for hot paths that inspect a message and move on (distribution control messages, matching
//! on incoming messages). The owned decoder (`etf::decode`) builds a `Term`, which costs
//! allocations and reference counts per container and binary; the view decoder instead writes
//! the term's nodes into a scratch arena that a `Decoder` keeps and reuses, so after warm-up a
//! decode allocates nothing, and binaries are plain `&[u8]` into the input. `View::to_term`
//! converts to an owned `Term` when one must be kept.
//!
//! Same contract as `etf::decode`: it accepts exactly the same inputs, fails with the same
//! `DecodeError` (kind and byte offset), interns atoms the same way (same table, same limits),
//! is total (no panics, no recursion: an explicit frame stack bounded by `Limits::max_depth`),
//! and allocates only in proportion to the input (one node per term, at least one byte each;
//! STRING_EXT characters and list terminators make no node).
//!
//! ```
//! use etf::view::{Decoder, TermRef};
//! use etf::{encode, Atom, Term};
//!
//! // A distribution control message: {2, '', To} (SEND).
//! let to = Term::atom("logger");
//! let bytes = encode(&Term::tuple(vec![2.into(), Term::atom(""), to.clone()]));
//!
//! let mut decoder = Decoder::new(); // keep one per connection: its arena is reused
//! let ctrl = decoder.decode(&bytes).unwrap();
//! let Some([op, _, dest]) = ctrl.tuple().and_then(|t| t.array()) else {
//!     panic!("not a 3-tuple");
//! };
//! match (op.as_int(), dest.term()) {
//!     (Some(2), TermRef::Atom(name)) => assert_eq!(name, Atom::new("logger")),
//!     _ => panic!("unexpected control message"),
//! }
//! // An owned copy when needed (binaries become slices of `bytes`).
//! assert_eq!(dest.to_term(&bytes), to);
//! ```

mod descent;
mod node;
mod owned;
mod parse;
mod term_ref;
#[cfg(test)]
mod tests;

pub use term_ref::{MapIter, MapSeq, Seq, SeqIter, TermRef, View};

use crate::atom::Atom;
use crate::decode::Limits;
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::term::Term;
use bytes::Bytes;
use node::Node;
use parse::{Frame, Parser};

/// A reusable view decoder: holds the node arena and frame stack that decoding writes into,
/// so decoding allocates only until they have grown to the largest term seen (`shrink_to`
/// gives memory back after an unusually large one).
#[derive(Debug, Default)]
pub struct Decoder {
    nodes: Vec<Node>,
    stack: Vec<Frame>,
    limits: Limits,
}

/// A term decoded by `Decoder::push_external`, to be viewed with `Decoder::view`. Several can
/// coexist (a distribution packet's control message and payload).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Root {
    node: usize,
    /// Length of the input it was decoded from: `view` refuses another input.
    input_len: usize,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Decoder {
        Decoder {
            nodes: Vec::new(),
            stack: Vec::new(),
            limits,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Decode one `131`-prefixed term that must span all of `input` (as `etf::decode`).
    #[inline]
    pub fn decode<'a>(&'a mut self, input: &'a [u8]) -> Result<View<'a>, DecodeError> {
        self.nodes.clear();
        let mut p = Parser::new(input, 0, self.limits, &mut self.nodes, &mut self.stack);
        let root = p.external()?;
        if p.pos != input.len() {
            return Err(trailing(p.pos, input.len()));
        }
        Ok(View::node(&self.nodes, input, root))
    }

    /// Decode one `131`-prefixed term at the start of `input`; also returns the bytes it used
    /// (what follows is, e.g., a distribution message's payload term).
    #[inline]
    pub fn decode_external<'a>(
        &'a mut self,
        input: &'a [u8],
    ) -> Result<(View<'a>, usize), DecodeError> {
        self.nodes.clear();
        let mut p = Parser::new(input, 0, self.limits, &mut self.nodes, &mut self.stack);
        let root = p.external()?;
        let used = p.pos;
        Ok((View::node(&self.nodes, input, root), used))
    }

    /// Forget all decoded terms (keeping the memory): invalidates every `Root`.
    pub fn clear(&mut self) {
        self.nodes.clear();
    }

    /// Decode one `131`-prefixed term of `input` starting at byte `pos`, keeping earlier terms
    /// (since the last `clear`/`decode`): returns its `Root` and the position after it. Error
    /// offsets are positions in `input`; on error the decoder is as before.
    ///
    /// ```
    /// # use etf::{encode_to, Term};
    /// # let mut packet = bytes::BytesMut::new();
    /// # encode_to(&Term::tuple(vec![2.into(), Term::atom(""), Term::atom("to")]), &mut packet);
    /// # encode_to(&Term::from(42), &mut packet);
    /// let mut d = etf::view::Decoder::new();
    /// d.clear();
    /// let (ctrl, end) = d.push_external(&packet, 0).unwrap();
    /// let (msg, end) = d.push_external(&packet, end).unwrap();
    /// assert_eq!(end, packet.len());
    /// let (ctrl, msg) = (d.view(&packet, ctrl).unwrap(), d.view(&packet, msg).unwrap());
    /// assert_eq!(ctrl.tuple().unwrap().len(), 3);
    /// assert_eq!(msg.as_int(), Some(42));
    /// ```
    pub fn push_external(
        &mut self,
        input: &[u8],
        pos: usize,
    ) -> Result<(Root, usize), DecodeError> {
        self.push(input, pos, &[], true)
    }

    /// Like `push_external` for a term without the version byte, as the control message and
    /// payload that follow a distribution header: ATOM_CACHE_REF `i` is `refs[i]`.
    pub fn push_term(
        &mut self,
        input: &[u8],
        pos: usize,
        refs: &[Atom],
    ) -> Result<(Root, usize), DecodeError> {
        self.push(input, pos, refs, false)
    }

    fn push(
        &mut self,
        input: &[u8],
        pos: usize,
        refs: &[Atom],
        version: bool,
    ) -> Result<(Root, usize), DecodeError> {
        if pos > input.len() {
            return Err(DecodeError::new(pos, K::UnexpectedEof));
        }
        let mut p =
            Parser::new(input, pos, self.limits, &mut self.nodes, &mut self.stack).with_refs(refs);
        let node = if version { p.external()? } else { p.term()? };
        let root = Root {
            node,
            input_len: input.len(),
        };
        Ok((root, p.pos))
    }

    /// The view of a term from `push_external` on this same `input`; `None` if `root` is stale
    /// (decoded before the last `clear`/`decode`) or came from an input of another length.
    pub fn view<'a>(&'a self, input: &'a [u8], root: Root) -> Option<View<'a>> {
        (root.node < self.nodes.len() && root.input_len == input.len())
            .then(|| View::node(&self.nodes, input, root.node))
    }

    /// Arena capacity, in nodes (a decode of at most this many terms allocates nothing).
    pub fn capacity(&self) -> usize {
        self.nodes.capacity()
    }

    /// Release arena memory beyond `nodes` nodes (after decoding an unusually large term).
    pub fn shrink_to(&mut self, nodes: usize) {
        self.nodes.clear();
        self.nodes.shrink_to(nodes);
        self.stack.clear();
        self.stack.shrink_to(nodes.min(64));
    }
}

/// The fun whose NEW_FUN_EXT tag is at `at` in `data` (a prefix of `input`, which its owned
/// parts are slices of), nested `depth` levels deep, and the offset after it. The owned
/// decoder reads funs this way, so both decoders take and refuse the same funs, and a fun's
/// free variables (which can hold funs again) are read without native recursion. Uses scratch
/// arenas: funs are rare in messages.
pub(crate) fn fun(
    input: &Bytes,
    data: &[u8],
    at: usize,
    depth: usize,
    limits: Limits,
    refs: &[Atom],
) -> Result<(Term, usize), DecodeError> {
    let (mut nodes, mut stack) = (Vec::new(), Vec::new());
    let mut p = Parser::new(data, at, limits, &mut nodes, &mut stack).with_refs(refs);
    if let Err(e) = p.run(depth) {
        return Err(p.fix_offset(e));
    }
    let end = p.pos;
    Ok((View::node(&nodes, data, 0).to_term(input), end))
}

#[cold]
fn trailing(pos: usize, len: usize) -> DecodeError {
    DecodeError::new(pos, K::Trailing(len.saturating_sub(pos)))
}
