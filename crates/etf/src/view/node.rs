//! `Node`: one decoded term in the view decoder's arena. Terms are stored in pre-order, a
//! container followed by its children; each container records its subtree size (`span`) so a
//! reader skips a child in O(1). Variable-size data (binaries, strings, bignum magnitudes, a fun's fixed fields)
//! stays in the input and is referred to by offset, which keeps a node at 32 bytes and lets one
//! arena be reused across inputs (offsets carry no lifetime).

use crate::atom::Atom;
use crate::pid::{Export, Pid, Port};

/// How a list ends. The tail, when there is one to store, is the list's last child node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tail {
    /// `[]`: a proper list (no tail node).
    Nil,
    /// A STRING_EXT tail (`[1, 2 | "abc"]`): still a proper list, its characters follow the
    /// head elements (the owned decoder merges them the same way).
    Str,
    /// Any other tail: an improper list (or, with no head elements, just that term).
    Improper,
}

/// One term in the arena. `at`/`len` are byte offsets into the decoded input.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Node {
    Atom(Atom),
    Int(i64),
    /// Normalised magnitude (no most-significant zero bytes), never fitting `i64`.
    Big {
        negative: bool,
        len: u32,
        at: usize,
    },
    Float(f64),
    Binary {
        len: u32,
        at: usize,
    },
    /// As on the wire: unused bits of the last byte are not cleared here (see `TermRef`).
    BitBinary {
        len: u32,
        bits: u8,
        at: usize,
    },
    /// STRING_EXT: a list of small integers, one per byte, with no node per character.
    Str {
        len: u16,
        at: usize,
    },
    /// `[]` as a value (a list terminator creates no node).
    Nil,
    Tuple {
        arity: u32,
        span: usize,
    },
    /// `heads` head elements, then (unless `tail` is `Nil`) the tail node at `tail_at` nodes
    /// after this one. With no heads, the list *is* its tail (`[|T]` decodes to `T`).
    List {
        heads: usize,
        tail: Tail,
        tail_at: usize,
        span: usize,
    },
    Map {
        pairs: u32,
        span: usize,
    },
    Pid(Pid),
    /// The id words are read from the input (at `at`, big-endian u32s) on access.
    Ref {
        node: Atom,
        creation: u32,
        words: u8,
        at: usize,
    },
    Port(Port),
    Export(Export),
    /// A closure (NEW_FUN_EXT): its bytes as received, tag included (the fixed fields, arity
    /// to free-variable count, are read from them), then as children its module (`Atom`), old
    /// index and old uniq (`Int`), creator (`Pid`) and free variables.
    Fun {
        at: usize,
        len: usize,
        span: usize,
    },
    /// LOCAL_EXT: the rest of the input, tag included.
    Local {
        at: usize,
        len: usize,
    },
}

impl Node {
    /// Nodes in this term's subtree, itself included.
    #[inline(always)]
    pub(crate) fn span(&self) -> usize {
        match *self {
            Node::Tuple { span, .. }
            | Node::List { span, .. }
            | Node::Map { span, .. }
            | Node::Fun { span, .. } => span,
            _ => 1,
        }
    }
}
