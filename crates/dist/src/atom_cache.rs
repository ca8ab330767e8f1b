//! The receiving side of the distribution header's atom cache (`erl_ext_dist` §"Distribution
//! Header", tag 68): a peer that negotiated DIST_HDR_ATOM_CACHE names the atoms of a message
//! once in its header, as cache references, and the control message and payload then use
//! ATOM_CACHE_REF (82) indexes into that list. The cache (8 segments of 256) belongs to one
//! connection: a new entry replaces the atom at its slot for later messages.
//! Reading a header is total: a specific error, never a panic, on any bytes. The sending side
//! (`OutCache`, `HeaderRefs`) names the node atoms of the messages that carry the traffic this
//! way, so a BEAM peer looks each up by a one-byte index instead of by its text.

use etf::{Atom, AtomError};

const SEGMENTS: usize = 8;
const SEGMENT_SIZE: usize = 256;

/// What was wrong with a distribution header.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("distribution header ends early")]
    Truncated,
    #[error("atom cache reference {index} names slot {slot} that no header has filled")]
    EmptySlot { index: usize, slot: usize },
    #[error("atom text in the distribution header is not UTF-8")]
    BadUtf8,
    #[error("atom in the distribution header: {0}")]
    Atom(#[from] AtomError),
}

/// The atom in each of a cache's slots (segment * 256 + index).
struct Slots(Box<[Option<Atom>; SEGMENTS * SEGMENT_SIZE]>);

impl Default for Slots {
    fn default() -> Self {
        Slots(Box::new([None; SEGMENTS * SEGMENT_SIZE]))
    }
}

/// One connection's atom cache.
#[derive(Default)]
pub struct AtomCache {
    slots: Slots,
    last: Last,
}

/// The last header `read_cached` read (at most `MEMO_REFS` references, none new) and the atoms
/// it named: a stream's messages repeat one header, and its bytes, compared as one word, then
/// stand for those atoms, where reading them again was a loop with a lookup per reference (9%
/// of a receiving node in bench row (d)). Forgotten whenever a header fills slots.
struct Last {
    /// The header's bytes (the first `len`, the rest zero); `len` 0 when nothing is kept.
    bytes: u128,
    len: usize,
    /// The atoms the header's references named (the first as many as it has).
    refs: [Atom; MEMO_REFS],
}

impl Default for Last {
    fn default() -> Self {
        Last {
            bytes: 0,
            len: 0,
            refs: [Atom::EMPTY; MEMO_REFS],
        }
    }
}

/// Most references a remembered header has: 1 + 5 + 8 = 14 bytes of header, within one
/// 16-byte word.
const MEMO_REFS: usize = 8;

impl AtomCache {
    /// Reads the header after `131 68` at the start of `body`: fills `refs` with the atom of
    /// each reference index (updating the cache for new entries) and returns the header's
    /// length in bytes.
    pub fn read_header(&mut self, body: &[u8], refs: &mut Vec<Atom>) -> Result<usize, HeaderError> {
        refs.clear();
        if let Some(len) = self.read_last(body, refs) {
            return Ok(len);
        }
        if let Some(len) = self.read_cached(body, refs) {
            self.remember(body, len, refs);
            return Ok(len);
        }
        refs.clear();
        // A header that fills slots may change what the remembered one's references name.
        self.last.len = 0;
        self.read_any(body, refs)
    }

    /// `read_header` of the same header bytes as the last one `read_cached` read, if `body`
    /// starts with them (and has a whole word to compare).
    #[inline]
    fn read_last(&self, body: &[u8], refs: &mut Vec<Atom>) -> Option<usize> {
        let len = self.last.len;
        if len == 0 {
            return None;
        }
        let word = u128::from_le_bytes(body.get(..16)?.try_into().ok()?);
        if word & low_bytes(len) != self.last.bytes {
            return None;
        }
        let n = *body.first()? as usize;
        refs.extend_from_slice(self.last.refs.get(..n)?);
        Some(len)
    }

    /// Keeps the header `read_cached` just read (`len` bytes of `body`, naming `refs`) for
    /// `read_last`, when it is short enough.
    fn remember(&mut self, body: &[u8], len: usize, refs: &[Atom]) {
        let (Some(head), true) = (body.get(..16), refs.len() <= MEMO_REFS && len < 16) else {
            self.last.len = 0;
            return;
        };
        let word = u128::from_le_bytes(head.try_into().unwrap_or([0; 16]));
        self.last.bytes = word & low_bytes(len);
        self.last.len = len;
        if let Some(kept) = self.last.refs.get_mut(..refs.len()) {
            kept.copy_from_slice(refs);
        }
    }

    /// `read_header` of a header of 1 to 16 references, none new, in a body long enough to
    /// read its flag nibbles as one word: the header of every message in a stream whose atoms
    /// the cache holds, read without a branch per nibble. `None` for anything else (`refs`
    /// may hold some atoms then), which `read_any` reads, or reports.
    #[inline]
    fn read_cached(&self, body: &[u8], refs: &mut Vec<Atom>) -> Option<usize> {
        let n = *body.first()? as usize;
        if !(1..=16).contains(&n) {
            return None;
        }
        let flag_bytes = n / 2 + 1;
        let len = 1 + flag_bytes + n;
        let (word, indexes) = (body.get(1..9)?, body.get(1 + flag_bytes..len)?);
        // Nibble i is bits 4i..4i+4 of the little-endian word: bit 3 says new, bits 0-2 the
        // segment. The word may run past the nibbles (into the indexes): masked off.
        let nibbles = u64::from_le_bytes(word.try_into().ok()?);
        let mask = if n == 16 {
            u64::MAX
        } else {
            (1u64 << (4 * n)) - 1
        };
        if nibbles & mask & 0x8888_8888_8888_8888 != 0 {
            return None;
        }
        refs.reserve(n);
        for (i, &index) in indexes.iter().enumerate() {
            let segment = ((nibbles >> (4 * i)) & 7) as usize;
            refs.push(self.slots.0[segment * SEGMENT_SIZE + index as usize]?);
        }
        Some(len)
    }

    /// `read_header` of any header.
    fn read_any(&mut self, body: &[u8], refs: &mut Vec<Atom>) -> Result<usize, HeaderError> {
        let mut r = Reader { body, pos: 0 };
        let n = r.u8()? as usize;
        if n == 0 {
            return Ok(r.pos);
        }
        // One half byte of flags per reference, then the LongAtoms half byte.
        let flags = r.take(n / 2 + 1)?;
        let nibble = |i: usize| (flags[i / 2] >> (4 * (i % 2))) & 0x0f;
        let long_atoms = nibble(n) & 1 != 0;
        for index in 0..n {
            let f = nibble(index);
            let slot = (f & 7) as usize * SEGMENT_SIZE + r.u8()? as usize;
            let atom = if f & 8 != 0 {
                let len = if long_atoms {
                    u16::from_be_bytes([r.u8()?, r.u8()?]) as usize
                } else {
                    r.u8()? as usize
                };
                let text = std::str::from_utf8(r.take(len)?).map_err(|_| HeaderError::BadUtf8)?;
                let atom = Atom::try_new(text)?;
                self.slots.0[slot] = Some(atom);
                atom
            } else {
                self.slots.0[slot].ok_or(HeaderError::EmptySlot { index, slot })?
            };
            refs.push(atom);
        }
        Ok(r.pos)
    }
}

/// The cache slot the sending side gives `atom`: a fixed one per atom (a multiplicative hash
/// of its index), as erts does, so that a name sent again finds itself there and costs one
/// byte.
pub(crate) fn slot_of(atom: Atom) -> usize {
    (atom.index().wrapping_mul(0x9E37_79B1) >> 21) as usize
}

/// A mask of the low `len` (under 16) bytes of a little-endian word.
fn low_bytes(len: usize) -> u128 {
    (1u128 << (8 * len)) - 1
}

/// The sending side: which atom each of the peer's cache slots holds after what we sent. Only
/// the sender writes to it (under the connection's outbox lock, in stream order), so it always
/// matches the peer's `AtomCache`.
#[derive(Default)]
pub struct OutCache {
    slots: Slots,
}

/// One message's header under construction: its references in index order, at most 255.
#[derive(Default)]
pub struct HeaderRefs {
    /// The referenced atoms, by index (what the term encoder resolves references with) ...
    atoms: Vec<Atom>,
    /// ... and for each, (its cache slot, whether this header must carry its text).
    refs: Vec<(usize, bool)>,
}

/// References a header may carry (its count is one byte).
pub const MAX_REFS: usize = 255;

impl HeaderRefs {
    pub fn clear(&mut self) {
        self.refs.clear();
        self.atoms.clear();
    }

    /// The atoms referenced so far, by index.
    pub fn atoms(&self) -> &[Atom] {
        &self.atoms
    }

    pub fn len(&self) -> usize {
        self.refs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }

    /// Whether every reference taken so far was in the peer's cache already (none is new).
    pub fn all_cached(&self) -> bool {
        self.refs.iter().all(|&(_, new)| !new)
    }

    /// The reference index of `atom` in this message, adding it (and claiming its slot in
    /// `cache`, as a new entry if the slot held another atom) when it is not there yet.
    /// The caller keeps to `MAX_REFS` references.
    pub fn index(&mut self, cache: &mut OutCache, atom: Atom) -> u8 {
        if let Some(i) = self.atoms.iter().position(|a| *a == atom) {
            return i as u8;
        }
        let slot = slot_of(atom);
        let new = cache.slots.0[slot] != Some(atom);
        // Two atoms of one message on the same slot: the later one must not evict the
        // earlier, whose references come first; it is written out as new with its text
        // (which the peer stores), and the earlier stays valid for this message only.
        cache.slots.0[slot] = Some(atom);
        self.refs.push((slot, new));
        self.atoms.push(atom);
        (self.refs.len() - 1) as u8
    }

    /// Appends `131 68` and the header for the references taken so far.
    pub fn write(&self, buf: &mut bytes::BytesMut) {
        use bytes::BufMut;
        if self.write_short(buf) {
            return;
        }
        let n = self.refs.len();
        buf.put_slice(&[131, 68, n as u8]);
        if n == 0 {
            return;
        }
        let long = self
            .atoms
            .iter()
            .zip(&self.refs)
            .any(|(a, (_, new))| *new && a.as_str().len() > 255);
        let mut flags = [0u8; 128];
        for (i, (slot, new)) in self.refs.iter().enumerate() {
            let nibble = ((*new as u8) << 3) | (slot / SEGMENT_SIZE) as u8;
            flags[i / 2] |= nibble << (4 * (i % 2));
        }
        flags[n / 2] |= (long as u8) << (4 * (n % 2));
        buf.put_slice(&flags[..n / 2 + 1]);
        for (atom, (slot, new)) in self.atoms.iter().zip(&self.refs) {
            buf.put_u8((slot % SEGMENT_SIZE) as u8);
            if *new {
                let text = atom.as_str().as_bytes();
                if long {
                    buf.put_u16(text.len() as u16);
                } else {
                    buf.put_u8(text.len() as u8);
                }
                buf.put_slice(text);
            }
        }
    }
}

/// Headers of up to this many references, none new, are built in a fixed-size array.
const SHORT: usize = 16;

impl HeaderRefs {
    /// `write` for at most `SHORT` references that are all in the peer's cache already (a
    /// stream of messages whose atoms it has seen): `131 68 N`, the flag nibbles (no LongAtoms
    /// flag: no text follows) and one index byte per reference, stored straight into `buf`'s
    /// spare capacity (the nibbles gathered in a register, not or-ed into bytes in memory,
    /// which a copy then read back wider: a stall). False, with nothing written, when there
    /// are more references or one is new.
    #[inline]
    fn write_short(&self, buf: &mut bytes::BytesMut) -> bool {
        let n = self.refs.len();
        if n > SHORT || self.refs.iter().any(|&(_, new)| new) {
            return false;
        }
        // Nibble i at bit 4i of a little-endian word is the high or low half of byte i / 2.
        let flags = self
            .refs
            .iter()
            .enumerate()
            .fold(0u64, |f, (i, &(slot, _))| {
                f | ((slot / SEGMENT_SIZE) as u64) << (4 * i)
            });
        let flag_bytes = if n == 0 { 0 } else { n / 2 + 1 };
        let len = 3 + flag_bytes + n;
        buf.reserve(len);
        let out = &mut buf.spare_capacity_mut()[..len];
        out[0].write(131);
        out[1].write(68);
        out[2].write(n as u8);
        let flags = flags.to_le_bytes();
        for (k, to) in out[3..3 + flag_bytes].iter_mut().enumerate() {
            // 16 references take 8 bytes of nibbles; the ninth holds only LongAtoms (0).
            to.write(flags.get(k).copied().unwrap_or(0));
        }
        for (to, &(slot, _)) in out[3 + flag_bytes..].iter_mut().zip(&self.refs) {
            to.write((slot % SEGMENT_SIZE) as u8);
        }
        // SAFETY: all `len` bytes were just written, into room `reserve` made.
        unsafe { buf.set_len(buf.len() + len) };
        true
    }
}

struct Reader<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, HeaderError> {
        let b = *self.body.get(self.pos).ok_or(HeaderError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], HeaderError> {
        let s = self
            .body
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or(HeaderError::Truncated)?;
        self.pos += n;
        Ok(s)
    }
}

#[cfg(test)]
#[path = "atom_cache_tests.rs"]
mod tests;
