//! Node-qualified identifiers as they travel on the wire: `Pid`, `Ref`, `Port`, plus the two fun
//! kinds (`Export` = `fun M:F/A`, `Fun` = a closure kept as opaque encoded bytes).
//! All are plain values: no node table, no liveness; `node` is the owning node's name atom.

use crate::atom::Atom;
use bytes::Bytes;

/// A process identifier (NEW_PID_EXT fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pid {
    pub node: Atom,
    pub id: u32,
    pub serial: u32,
    pub creation: u32,
}

impl Pid {
    pub fn new(node: Atom, id: u32, serial: u32, creation: u32) -> Pid {
        Pid {
            node,
            id,
            serial,
            creation,
        }
    }
}

/// Maximum number of 32-bit words in a reference (NEWER_REFERENCE_EXT allows 1..=5 in OTP 25/26).
pub const MAX_REF_WORDS: usize = 5;

/// A reference: node, creation and 1..=5 id words, stored inline so `Ref` is `Copy`.
/// Unused words are always zero so the derived `Eq`/`Hash` are correct.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ref {
    pub node: Atom,
    pub creation: u32,
    len: u8,
    words: [u32; MAX_REF_WORDS],
}

impl Ref {
    /// `ids` must hold 1..=5 words; extra words are dropped and an empty slice yields one zero
    /// word (local code constructs refs; the decoder validates lengths before calling this).
    pub fn new(node: Atom, creation: u32, ids: &[u32]) -> Ref {
        let n = ids.len().clamp(1, MAX_REF_WORDS);
        let mut words = [0u32; MAX_REF_WORDS];
        for (w, id) in words.iter_mut().zip(ids.iter()) {
            *w = *id;
        }
        Ref {
            node,
            creation,
            len: n as u8,
            words,
        }
    }

    /// The id words, least significant first (wire order).
    pub fn ids(&self) -> &[u32] {
        &self.words[..self.len as usize]
    }
}

/// A port identifier. `id` is 64-bit because V4_PORT_EXT carries 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Port {
    pub node: Atom,
    pub id: u64,
    pub creation: u32,
}

/// `fun Module:Function/Arity` (EXPORT_EXT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Export {
    pub module: Atom,
    pub function: Atom,
    pub arity: u8,
}

/// A closure (NEW_FUN_EXT 112, or old FUN_EXT 117), kept as its exact encoded bytes (tag
/// included) so it is re-encoded byte-identical: ferl cannot run Erlang code, it only needs to
/// carry funs (e.g. `:global` lock methods) back to the BEAM. Only the bytes are stored (keeping
/// `Term` small); module and arity are read from them on demand.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fun {
    raw: Bytes,
}

impl Fun {
    /// Built by the decoder from the fun's exact bytes (starting with tag 112 or 117), after it
    /// checked that the module atom is readable.
    pub(crate) fn from_raw(raw: Bytes) -> Fun {
        Fun { raw }
    }

    /// The complete encoding of the fun, starting at its tag byte.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// Module the fun was defined in.
    pub fn module(&self) -> Atom {
        crate::decode::fun_module(&self.raw).unwrap_or(Atom::UNDEFINED)
    }

    /// Arity (NEW_FUN_EXT; old FUN_EXT funs report 0).
    pub fn arity(&self) -> u8 {
        match self.raw.first() {
            Some(&crate::tag::NEW_FUN_EXT) => self.raw.get(5).copied().unwrap_or(0),
            _ => 0,
        }
    }
}
