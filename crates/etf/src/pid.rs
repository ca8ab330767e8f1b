//! Node-qualified identifiers as they travel on the wire: `Pid`, `Ref`, `Port`, plus the two fun
//! kinds (`Export` = `fun M:F/A`, `Fun` = a closure kept as opaque encoded bytes).
//! All are plain values: no node table, no liveness; `node` is the owning node's name atom.

use crate::atom::Atom;
use crate::term::Term;
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

/// A closure (NEW_FUN_EXT 112), kept as its encoded bytes (tag included), exactly as
/// `term_to_binary` writes it: ferl cannot run Erlang code, it only needs to carry funs (e.g.
/// `:global` lock methods) back to the BEAM. Only the bytes are stored (keeping `Term` small);
/// module and arity are read from them on demand.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fun {
    raw: Bytes,
}

impl Fun {
    /// Built by the decoder from the fun's bytes (tag 112 first), once it has read every field.
    pub(crate) fn from_raw(raw: Bytes) -> Fun {
        Fun { raw }
    }

    /// The encoding `term_to_binary` gives the fun decoded from `received` (a NEW_FUN_EXT,
    /// tag first) into `parts`: module, old index, old uniq, creator and free variables.
    /// `None` when that is `received` itself, as for any fun a BEAM node wrote.
    ///
    /// erts keeps the old index and old uniq as C `int`s (`erl_fun.c`), so they are written
    /// back truncated to 32 bits; the size field is recomputed (erts ignores the received one);
    /// the parts are written as `term_to_binary` writes them (atoms as ATOM_EXT, pids as
    /// NEW_PID_EXT). Checked against erl: see `tests/erl_verdicts.rs`.
    pub(crate) fn canonical(received: &[u8], parts: &[Term]) -> Option<Bytes> {
        let (Some(fixed), [module, index, uniq, creator, free @ ..]) = (received.get(5..26), parts)
        else {
            return None;
        };
        let word = |t: &Term| Term::Int(t.as_int().unwrap_or(0) as i32 as i64);
        let mut out = bytes::BytesMut::with_capacity(received.len() + 8);
        out.extend_from_slice(&[crate::tag::NEW_FUN_EXT, 0, 0, 0, 0]);
        out.extend_from_slice(fixed);
        out.extend_from_slice(&(free.len() as u32).to_be_bytes());
        for p in [module, &word(index), &word(uniq), creator]
            .into_iter()
            .chain(free)
        {
            crate::encode::encode_term_to(p, &mut out);
        }
        let size = (out.len() - 1) as u32;
        out[1..5].copy_from_slice(&size.to_be_bytes());
        (out[..] != *received).then(|| out.freeze())
    }

    /// The complete encoding of the fun, starting at its tag byte.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// Module the fun was defined in.
    pub fn module(&self) -> Atom {
        crate::decode::fun_module(&self.raw).unwrap_or(Atom::UNDEFINED)
    }

    /// Arity.
    pub fn arity(&self) -> u8 {
        self.raw.get(5).copied().unwrap_or(0)
    }
}
