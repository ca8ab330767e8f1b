//! `Term`: an Erlang term as ferl holds it, plus constructors, conversions and accessors.
//! Equality/hash/order live in `order.rs`, the codec in `encode.rs`/`decode.rs`, printing in `print/`.

use crate::atom::Atom;
use crate::bigint::BigInt;
use crate::binary::Binary;
use crate::pid::{Export, Fun, Pid, Port, Ref};
use bytes::Bytes;

/// An Erlang term.
///
/// Equality is exact match (`=:=`: `1 != 1.0`); `Ord` is Erlang's term order (see `order.rs`).
#[derive(Clone, Debug)]
pub enum Term {
    Atom(Atom),
    /// Any integer that fits `i64`.
    Int(i64),
    /// Integers outside `i64`.
    Big(BigInt),
    Float(f64),
    /// A binary: when decoded, short ones are held inline and longer ones are a zero-copy
    /// slice of the decoder's input (see `Binary`).
    Binary(Binary),
    /// A bitstring: `bits` (1..=7) bits of the last byte are used. Decoded with 8 -> `Binary`.
    BitBinary {
        bytes: Bytes,
        bits: u8,
    },
    Tuple(Vec<Term>),
    /// A proper list; empty is nil `[]`. STRING_EXT decodes to a list of `Int`.
    List(Vec<Term>),
    /// Non-empty head elements and a tail that is not a list.
    ImproperList(Vec<Term>, Box<Term>),
    /// Key/value pairs in any order (encoded sorted for small maps, as `term_to_binary`).
    Map(Vec<(Term, Term)>),
    Pid(Pid),
    Ref(Ref),
    Port(Port),
    /// `fun M:F/A`.
    Export(Export),
    /// A closure, carried as its encoding (see `Fun`): ferl does not run Erlang code.
    Fun(Fun),
    /// A LOCAL_EXT term, kept as its exact bytes (tag included).
    Local(Bytes),
}

impl Term {
    /// An atom term.
    pub fn atom(name: &str) -> Term {
        Term::Atom(Atom::new(name))
    }

    pub fn tuple(elems: Vec<Term>) -> Term {
        Term::Tuple(elems)
    }

    pub fn list(elems: Vec<Term>) -> Term {
        Term::List(elems)
    }

    /// The empty list `[]`.
    pub fn nil() -> Term {
        Term::List(Vec::new())
    }

    /// A binary copied from `bytes`.
    pub fn binary(bytes: &[u8]) -> Term {
        Term::Binary(Binary::copy_from_slice(bytes))
    }

    /// A charlist (Erlang string): list of code points.
    pub fn charlist(s: &str) -> Term {
        Term::List(s.chars().map(|c| Term::Int(c as i64)).collect())
    }

    /// A map from pairs.
    pub fn map(pairs: Vec<(Term, Term)>) -> Term {
        Term::Map(pairs)
    }

    /// An integer of any size (normalised: `Int` when it fits in `i64`).
    pub fn from_i128(v: i128) -> Term {
        match BigInt::from_i128(v) {
            Ok(b) => Term::Big(b),
            Err(i) => Term::Int(i),
        }
    }

    pub fn as_atom(&self) -> Option<Atom> {
        match self {
            Term::Atom(a) => Some(*a),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Term::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_float(&self) -> Option<f64> {
        match self {
            Term::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Elements of a proper list (`[]` gives an empty slice).
    pub fn as_list(&self) -> Option<&[Term]> {
        match self {
            Term::List(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_binary(&self) -> Option<&Binary> {
        match self {
            Term::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// A binary holding valid UTF-8 (an Elixir string).
    pub fn as_str(&self) -> Option<&str> {
        self.as_binary().and_then(|b| std::str::from_utf8(b).ok())
    }

    pub fn as_pid(&self) -> Option<&Pid> {
        match self {
            Term::Pid(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_ref(&self) -> Option<&Ref> {
        match self {
            Term::Ref(r) => Some(r),
            _ => None,
        }
    }

    pub fn as_port(&self) -> Option<&Port> {
        match self {
            Term::Port(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Term, Term)]> {
        match self {
            Term::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Value for `key` in a map term (linear scan; small maps are the norm on the wire).
    pub fn map_get(&self, key: &Term) -> Option<&Term> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// True if this is the atom `name`.
    pub fn is_atom(&self, name: &str) -> bool {
        matches!(self, Term::Atom(a) if a.as_str() == name)
    }

    /// True for `[]`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Term::List(v) if v.is_empty())
    }

    /// True for integers and floats.
    pub fn is_number(&self) -> bool {
        matches!(self, Term::Int(_) | Term::Big(_) | Term::Float(_))
    }
}

impl From<i64> for Term {
    fn from(v: i64) -> Term {
        Term::Int(v)
    }
}
impl From<i32> for Term {
    fn from(v: i32) -> Term {
        Term::Int(v as i64)
    }
}
impl From<u32> for Term {
    fn from(v: u32) -> Term {
        Term::Int(v as i64)
    }
}
impl From<u64> for Term {
    fn from(v: u64) -> Term {
        Term::from_i128(v as i128)
    }
}
impl From<usize> for Term {
    fn from(v: usize) -> Term {
        Term::from_i128(v as i128)
    }
}
impl From<i128> for Term {
    fn from(v: i128) -> Term {
        Term::from_i128(v)
    }
}
impl From<f64> for Term {
    fn from(v: f64) -> Term {
        Term::Float(v)
    }
}
impl From<bool> for Term {
    fn from(v: bool) -> Term {
        Term::Atom(if v { Atom::TRUE } else { Atom::FALSE })
    }
}
impl From<Atom> for Term {
    fn from(v: Atom) -> Term {
        Term::Atom(v)
    }
}
impl From<Pid> for Term {
    fn from(v: Pid) -> Term {
        Term::Pid(v)
    }
}
impl From<Ref> for Term {
    fn from(v: Ref) -> Term {
        Term::Ref(v)
    }
}
impl From<Port> for Term {
    fn from(v: Port) -> Term {
        Term::Port(v)
    }
}
impl From<BigInt> for Term {
    fn from(v: BigInt) -> Term {
        Term::Big(v)
    }
}
/// A `Bytes` becomes a binary sharing its buffer.
impl From<Bytes> for Term {
    fn from(v: Bytes) -> Term {
        Term::Binary(Binary::from(v))
    }
}
impl From<Binary> for Term {
    fn from(v: Binary) -> Term {
        Term::Binary(v)
    }
}
/// A `String` becomes a binary (an Elixir string).
impl From<String> for Term {
    fn from(v: String) -> Term {
        Term::Binary(Binary::from(v))
    }
}
/// A `&str` becomes a binary (an Elixir string).
impl From<&str> for Term {
    fn from(v: &str) -> Term {
        Term::Binary(Binary::from(v))
    }
}
/// A `Vec<Term>` becomes a proper list.
impl From<Vec<Term>> for Term {
    fn from(v: Vec<Term>) -> Term {
        Term::List(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_and_accessors() {
        let t = Term::tuple(vec![Term::atom("push"), "alice".into(), Term::from(3)]);
        let e = t.as_tuple().unwrap();
        assert!(e[0].is_atom("push"));
        assert_eq!(e[1].as_str(), Some("alice"));
        assert_eq!(e[2].as_int(), Some(3));
        assert!(Term::nil().is_nil());
        assert_eq!(Term::from(true).as_atom(), Some(Atom::TRUE));
        assert_eq!(Term::charlist("ab").as_list().unwrap().len(), 2);
        assert!(matches!(Term::from(u64::MAX), Term::Big(_)));
    }
}
