//! `View` (a `Copy` handle to one decoded term), `TermRef` (what the term is, for `match`),
//! and the container handles `Seq` (tuple/list elements) and `MapSeq` (map pairs). All borrow
//! the decoder's arena and the input: reading them allocates nothing.

use super::node::{Node, Tail};
use crate::atom::Atom;
use crate::pid::{Export, Pid, Port, Ref, MAX_REF_WORDS};

/// One decoded term: a handle into the view decoder's arena and the input it decoded.
/// `Copy`, three words plus a position; `term()` tells what it is.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub(super) nodes: &'a [Node],
    pub(super) input: &'a [u8],
    pub(super) at: Pos,
}

/// Where a `View`'s term is: a node, or one character of a STRING_EXT (which has no node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pos {
    Node(usize),
    Char(u8),
}

/// What a decoded term is, borrowed from the input (binaries, funs) and the arena.
#[derive(Clone, Copy, Debug)]
pub enum TermRef<'a> {
    Atom(Atom),
    /// Any integer that fits `i64`.
    Int(i64),
    /// An integer outside `i64`: sign and little-endian magnitude without most-significant
    /// zero bytes (what `BigInt::magnitude` holds).
    Big {
        negative: bool,
        magnitude: &'a [u8],
    },
    Float(f64),
    Binary(&'a [u8]),
    /// A bitstring; `bits` (1..=7) bits of the last byte are used. The bytes are as on the wire:
    /// unused bits are not cleared here (the owned `Term` clears them).
    BitBinary {
        bytes: &'a [u8],
        bits: u8,
    },
    Tuple(Seq<'a>),
    /// A proper list, `[]` included; STRING_EXT characters appear as `Int` elements.
    List(Seq<'a>),
    /// Non-empty head elements and a tail that is not a list.
    ImproperList(Seq<'a>, View<'a>),
    Map(MapSeq<'a>),
    Pid(Pid),
    Ref(Ref),
    Port(Port),
    Export(Export),
    /// A closure: its NEW_FUN_EXT encoding as received, tag included (`to_term` gives the
    /// `Fun` with the encoding `term_to_binary` writes, which can differ).
    Fun(&'a [u8]),
    /// A LOCAL_EXT term's exact encoding, tag included.
    Local(&'a [u8]),
}

#[inline(always)]
fn slice(input: &[u8], at: usize, len: usize) -> &[u8] {
    // In range by construction; the fallback keeps a misused `Root` (wrong input) panic-free.
    at.checked_add(len)
        .and_then(|end| input.get(at..end))
        .unwrap_or(&[])
}

impl<'a> View<'a> {
    #[inline(always)]
    pub(super) fn node(nodes: &'a [Node], input: &'a [u8], i: usize) -> View<'a> {
        View {
            nodes,
            input,
            at: Pos::Node(i),
        }
    }

    #[inline(always)]
    fn seq(&self, first: usize, heads: usize, chars: &'a [u8]) -> Seq<'a> {
        Seq {
            nodes: self.nodes,
            input: self.input,
            first,
            heads,
            chars,
        }
    }

    /// What this term is.
    #[inline]
    pub fn term(&self) -> TermRef<'a> {
        match self.at {
            Pos::Char(c) => TermRef::Int(c as i64),
            Pos::Node(i) => self.node_term(i),
        }
    }

    fn node_term(&self, i: usize) -> TermRef<'a> {
        let input = self.input;
        let Some(&node) = self.nodes.get(i) else {
            return TermRef::List(self.seq(0, 0, &[]));
        };
        match node {
            Node::Atom(a) => TermRef::Atom(a),
            Node::Int(v) => TermRef::Int(v),
            Node::Big { negative, len, at } => TermRef::Big {
                negative,
                magnitude: slice(input, at, len as usize),
            },
            Node::Float(f) => TermRef::Float(f),
            Node::Binary { len, at } => TermRef::Binary(slice(input, at, len as usize)),
            Node::BitBinary { len, bits, at } => TermRef::BitBinary {
                bytes: slice(input, at, len as usize),
                bits,
            },
            Node::Str { len, at } => TermRef::List(self.seq(0, 0, slice(input, at, len as usize))),
            Node::Nil => TermRef::List(self.seq(0, 0, &[])),
            Node::Tuple { arity, .. } => TermRef::Tuple(self.seq(i + 1, arity as usize, &[])),
            Node::List {
                heads,
                tail,
                tail_at,
                ..
            } => match tail {
                Tail::Nil => TermRef::List(self.seq(i + 1, heads, &[])),
                Tail::Str => {
                    let chars = match self.nodes.get(i + tail_at) {
                        Some(&Node::Str { len, at }) => slice(input, at, len as usize),
                        _ => &[],
                    };
                    TermRef::List(self.seq(i + 1, heads, chars))
                }
                // `[|T]` (a LIST_EXT of length 0 with tail T) is T, as in the owned decoder.
                Tail::Improper if heads == 0 => self.node_term(i + tail_at),
                Tail::Improper => TermRef::ImproperList(
                    self.seq(i + 1, heads, &[]),
                    View::node(self.nodes, input, i + tail_at),
                ),
            },
            Node::Map { pairs, .. } => TermRef::Map(MapSeq {
                nodes: self.nodes,
                input,
                first: i + 1,
                pairs: pairs as usize,
            }),
            Node::Pid(p) => TermRef::Pid(p),
            Node::Ref {
                node,
                creation,
                words,
                at,
            } => {
                let n = (words as usize).min(MAX_REF_WORDS);
                let mut ids = [0u32; MAX_REF_WORDS];
                for (k, w) in ids.iter_mut().enumerate().take(n) {
                    let b = slice(input, at + 4 * k, 4);
                    if let Ok(b) = <[u8; 4]>::try_from(b) {
                        *w = u32::from_be_bytes(b);
                    }
                }
                TermRef::Ref(Ref::new(node, creation, &ids[..n]))
            }
            Node::Port(p) => TermRef::Port(p),
            Node::Export(e) => TermRef::Export(e),
            Node::Fun { at, len, .. } => TermRef::Fun(slice(input, at, len)),
            Node::Local { at, len } => TermRef::Local(slice(input, at, len)),
        }
    }

    /// The atom, if this is one.
    #[inline]
    pub fn as_atom(&self) -> Option<Atom> {
        match self.at {
            Pos::Node(i) => match self.nodes.get(i) {
                Some(&Node::Atom(a)) => Some(a),
                _ => None,
            },
            Pos::Char(_) => None,
        }
    }

    /// True if this is the atom `a` (one integer compare).
    #[inline]
    pub fn is(&self, a: Atom) -> bool {
        self.as_atom() == Some(a)
    }

    /// True if this is the atom named `name`.
    pub fn is_atom(&self, name: &str) -> bool {
        self.as_atom().is_some_and(|a| a.as_str() == name)
    }

    /// The integer, if this is one that fits `i64`.
    #[inline]
    pub fn as_int(&self) -> Option<i64> {
        match self.term() {
            TermRef::Int(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes of a binary (not of a bitstring with a partial last byte).
    #[inline]
    pub fn as_binary(&self) -> Option<&'a [u8]> {
        match self.term() {
            TermRef::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// A binary holding valid UTF-8 (an Elixir string).
    pub fn as_str(&self) -> Option<&'a str> {
        self.as_binary().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The elements of a tuple.
    #[inline]
    pub fn tuple(&self) -> Option<Seq<'a>> {
        match self.at {
            Pos::Node(i) => match self.nodes.get(i) {
                Some(&Node::Tuple { arity, .. }) => Some(self.seq(i + 1, arity as usize, &[])),
                _ => None,
            },
            Pos::Char(_) => None,
        }
    }

    /// The elements of a proper list (`[]` and strings included).
    #[inline]
    pub fn list(&self) -> Option<Seq<'a>> {
        match self.term() {
            TermRef::List(s) => Some(s),
            _ => None,
        }
    }

    /// The pairs of a map.
    #[inline]
    pub fn map(&self) -> Option<MapSeq<'a>> {
        match self.term() {
            TermRef::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_pid(&self) -> Option<Pid> {
        match self.term() {
            TermRef::Pid(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_ref(&self) -> Option<Ref> {
        match self.term() {
            TermRef::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// True for `[]`.
    pub fn is_nil(&self) -> bool {
        self.list().is_some_and(|s| s.is_empty())
    }
}

/// The elements of a tuple or a list. `get(i)` walks `i` siblings (each skip is O(1): a
/// container knows its subtree size), so iterate rather than index in a loop.
#[derive(Clone, Copy)]
pub struct Seq<'a> {
    nodes: &'a [Node],
    input: &'a [u8],
    /// Index of the first element node.
    first: usize,
    /// Element nodes.
    heads: usize,
    /// STRING_EXT characters after the element nodes (a string, or a list with a string tail).
    chars: &'a [u8],
}

impl<'a> Seq<'a> {
    #[inline]
    pub fn len(&self) -> usize {
        self.heads + self.chars.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` (0-based).
    #[inline]
    pub fn get(&self, i: usize) -> Option<View<'a>> {
        if i < self.heads {
            let mut at = self.first;
            for _ in 0..i {
                at += self.nodes.get(at).map_or(1, Node::span);
            }
            Some(View::node(self.nodes, self.input, at))
        } else {
            let c = *self.chars.get(i - self.heads)?;
            Some(View {
                nodes: self.nodes,
                input: self.input,
                at: Pos::Char(c),
            })
        }
    }

    /// Element views, in order.
    #[inline]
    pub fn iter(&self) -> SeqIter<'a> {
        SeqIter {
            nodes: self.nodes,
            input: self.input,
            next: self.first,
            heads: self.heads,
            chars: self.chars.iter(),
        }
    }

    /// The elements as an array of exactly `N` views (`None` for another length): for
    /// matching fixed-arity tuples, `let [a, b, c] = t.tuple()?.array()?;`.
    pub fn array<const N: usize>(&self) -> Option<[View<'a>; N]> {
        if self.len() != N {
            return None;
        }
        let mut it = self.iter();
        let first = View::node(self.nodes, self.input, self.first);
        Some(std::array::from_fn(|_| it.next().unwrap_or(first)))
    }
}

impl<'a> IntoIterator for Seq<'a> {
    type Item = View<'a>;
    type IntoIter = SeqIter<'a>;
    fn into_iter(self) -> SeqIter<'a> {
        self.iter()
    }
}

/// Iterator over a `Seq`.
#[derive(Clone)]
pub struct SeqIter<'a> {
    nodes: &'a [Node],
    input: &'a [u8],
    next: usize,
    heads: usize,
    chars: std::slice::Iter<'a, u8>,
}

impl<'a> Iterator for SeqIter<'a> {
    type Item = View<'a>;

    #[inline]
    fn next(&mut self) -> Option<View<'a>> {
        if self.heads > 0 {
            self.heads -= 1;
            let at = self.next;
            self.next += self.nodes.get(at).map_or(1, Node::span);
            return Some(View::node(self.nodes, self.input, at));
        }
        let c = *self.chars.next()?;
        Some(View {
            nodes: self.nodes,
            input: self.input,
            at: Pos::Char(c),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.heads + self.chars.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for SeqIter<'_> {}

/// The pairs of a map, in wire order.
#[derive(Clone, Copy)]
pub struct MapSeq<'a> {
    nodes: &'a [Node],
    input: &'a [u8],
    first: usize,
    pairs: usize,
}

impl<'a> MapSeq<'a> {
    pub fn len(&self) -> usize {
        self.pairs
    }

    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// Key/value views, in wire order.
    pub fn iter(&self) -> MapIter<'a> {
        MapIter {
            inner: SeqIter {
                nodes: self.nodes,
                input: self.input,
                next: self.first,
                heads: 2 * self.pairs,
                chars: [].iter(),
            },
        }
    }

    /// The value for the atom key `key` (linear scan; small maps are the norm on the wire).
    pub fn get_atom(&self, key: Atom) -> Option<View<'a>> {
        self.iter().find(|(k, _)| k.is(key)).map(|(_, v)| v)
    }
}

impl<'a> IntoIterator for MapSeq<'a> {
    type Item = (View<'a>, View<'a>);
    type IntoIter = MapIter<'a>;
    fn into_iter(self) -> MapIter<'a> {
        self.iter()
    }
}

/// Iterator over a `MapSeq`'s pairs.
#[derive(Clone)]
pub struct MapIter<'a> {
    inner: SeqIter<'a>,
}

impl<'a> Iterator for MapIter<'a> {
    type Item = (View<'a>, View<'a>);

    fn next(&mut self) -> Option<(View<'a>, View<'a>)> {
        let k = self.inner.next()?;
        let v = self.inner.next()?;
        Some((k, v))
    }
}

impl std::fmt::Debug for View<'_> {
    /// As the owned term prints (`{push,<<"alice">>}` is `Tuple([Atom(push), Binary(..)])`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_term_copied().fmt(f)
    }
}

impl std::fmt::Debug for Seq<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl std::fmt::Debug for MapSeq<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
