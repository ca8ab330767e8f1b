//! The receiving side of the distribution header's atom cache (`erl_ext_dist` §"Distribution
//! Header", tag 68): a peer that negotiated DIST_HDR_ATOM_CACHE names the atoms of a message
//! once in its header, as cache references, and the control message and payload then use
//! ATOM_CACHE_REF (82) indexes into that list. The cache (8 segments of 256) belongs to one
//! connection: a new entry replaces the atom at its slot for later messages.
//! Reading a header is total: a specific error, never a panic, on any bytes.

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

/// One connection's atom cache.
pub struct AtomCache {
    slots: Box<[Option<Atom>; SEGMENTS * SEGMENT_SIZE]>,
}

impl Default for AtomCache {
    fn default() -> Self {
        AtomCache {
            slots: Box::new([None; SEGMENTS * SEGMENT_SIZE]),
        }
    }
}

impl AtomCache {
    /// Reads the header after `131 68` at the start of `body`: fills `refs` with the atom of
    /// each reference index (updating the cache for new entries) and returns the header's
    /// length in bytes.
    pub fn read_header(&mut self, body: &[u8], refs: &mut Vec<Atom>) -> Result<usize, HeaderError> {
        refs.clear();
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
                self.slots[slot] = Some(atom);
                atom
            } else {
                self.slots[slot].ok_or(HeaderError::EmptySlot { index, slot })?
            };
            refs.push(atom);
        }
        Ok(r.pos)
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
