//! The bench stack server's entries, packed: each `{name, item}` is held as its two terms'
//! external format, in chunks of a fixed size, as ETS keeps a flat copy of a term rather than
//! the term's cells.
//!
//! Why packed: row (e) pushes a million entries without a pop, so what node B pays for is
//! mostly memory it has not touched before. As a pair of `Term`s an entry took 80 bytes; the
//! tutorial's `{"alice", "item-123"}` takes 27 here. On the reference VM each new 4 kB page
//! costs B ~1.4 µs to fault in, and ~9.7 µs when the VM's host has not yet backed that memory
//! (a page of guest memory touched for the first time since boot), so at 80 bytes an entry
//! the faults were 14% of B's time in (e) and, on fresh memory, as much again as the rest of
//! the row. Chunks rather than one growing buffer, because a buffer grown by doubling copies
//! the whole stack at each step and faults in twice what it keeps.
//!
//! Packing also copies what a long binary item would have shared: a `Term` binary decoded from
//! the wire is a slice of the connection's read buffer, and a stack holding it kept that whole
//! buffer alive.

use bytes::{Bytes, BytesMut};
use etf::Term;

/// Bytes per chunk (an entry longer than this gets a chunk of its own).
const CHUNK: usize = 256 * 1024;

/// Bytes after each entry that give its length (little-endian `u32`), so the top entry can be
/// found from the end.
const LEN: usize = 4;

/// `{name, item}` entries, bottom first: in each chunk, entry after entry, each being the
/// name's and the item's external format (without the version byte) and then their length.
#[derive(Default)]
pub struct StackStore {
    chunks: Vec<BytesMut>,
}

impl StackStore {
    pub fn push(&mut self, name: &Term, item: &Term) {
        // Written straight into the top chunk's room; only an entry that does not fit there is
        // measured (`encoded_dist_len` walks the terms: 2.5% of node B in bench row (e)).
        if let Some(top) = self.chunks.last_mut() {
            let start = top.len();
            if etf::encode_dist_term_within(name, top)
                && etf::encode_dist_term_within(item, top)
                && top.capacity() - top.len() >= LEN
            {
                let written = u32::try_from(top.len() - start).expect("an entry is under 4 GB");
                top.extend_from_slice(&written.to_le_bytes());
                return;
            }
            top.truncate(start);
        }
        self.push_measured(name, item);
    }

    /// `push` of an entry the top chunk has no room for (or onto no chunk).
    #[cold]
    fn push_measured(&mut self, name: &Term, item: &Term) {
        let len = etf::encoded_dist_len(name) + etf::encoded_dist_len(item) - 2;
        let room = len + LEN;
        let top = match self.chunks.last_mut() {
            Some(top) if top.capacity() - top.len() >= room => top,
            _ => {
                self.chunks.push(BytesMut::with_capacity(room.max(CHUNK)));
                self.chunks.last_mut().expect("just pushed")
            }
        };
        let start = top.len();
        etf::encode_dist_term_to(name, top);
        etf::encode_dist_term_to(item, top);
        let written = u32::try_from(top.len() - start).expect("an entry is under 4 GB");
        top.extend_from_slice(&written.to_le_bytes());
    }

    /// The top entry, taken off.
    pub fn pop(&mut self) -> Option<(Term, Term)> {
        let top = self.chunks.last_mut()?;
        let (start, entry) = last_entry(top);
        let entry = unpack(entry);
        top.truncate(start);
        if top.is_empty() {
            self.chunks.pop();
        }
        Some(entry)
    }

    /// Entries from the top down.
    pub fn top_first(&self) -> impl Iterator<Item = (Term, Term)> + '_ {
        self.chunks.iter().rev().flat_map(|chunk| {
            let mut end = chunk.len();
            std::iter::from_fn(move || {
                if end == 0 {
                    return None;
                }
                let (start, entry) = last_entry(&chunk[..end]);
                end = start;
                Some(unpack(entry))
            })
        })
    }
}

/// Where the last entry of a non-empty `chunk` starts, and its terms' bytes.
fn last_entry(chunk: &[u8]) -> (usize, &[u8]) {
    let end = chunk
        .len()
        .checked_sub(LEN)
        .expect("a chunk holds whole entries");
    let len = u32::from_le_bytes(chunk[end..].try_into().expect("LEN bytes")) as usize;
    let start = end - len;
    (start, &chunk[start..end])
}

/// The two terms `push` wrote. They were encoded by ferl a moment ago, so failing to decode
/// them is a bug, not bad input.
fn unpack(entry: &[u8]) -> (Term, Term) {
    let mut d = etf::Decoder::new(Bytes::copy_from_slice(entry));
    let name = d.decode_term().expect("the stack decodes what it encoded");
    let item = d.decode_term().expect("the stack decodes what it encoded");
    (name, item)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: i64) -> (Term, Term) {
        let long = Term::binary(&vec![b'x'; i as usize % 40]);
        (Term::Int(i), Term::tuple(vec![long, Term::atom("item")]))
    }

    /// Across chunk boundaries it is a stack: pops and the top-first listing give the pushes
    /// in reverse, as a `Vec` would, and an emptied stack holds no chunk.
    #[test]
    fn behaves_as_a_vec_stack_across_chunks() {
        let (mut s, mut model) = (StackStore::default(), Vec::new());
        let mut i = 0;
        while s.chunks.len() < 3 {
            let (name, item) = entry(i);
            s.push(&name, &item);
            model.push((name, item));
            i += 1;
        }
        for _ in 0..(model.len() / 2) {
            assert_eq!(s.pop(), model.pop());
        }
        let (name, item) = entry(-1);
        s.push(&name, &item);
        model.push((name, item));
        let listed: Vec<_> = s.top_first().collect();
        let want: Vec<_> = model.iter().rev().cloned().collect();
        assert_eq!(listed, want);
        while let Some(e) = s.pop() {
            assert_eq!(Some(e), model.pop());
        }
        assert!(model.is_empty() && s.chunks.is_empty());
        assert_eq!(s.pop(), None);
    }

    /// The tutorial's entry takes 27 bytes, a third of the 80 that a pair of terms took, and
    /// an item longer than a chunk still goes on (in a chunk of its own).
    #[test]
    fn entries_are_packed_and_any_size_fits() {
        let mut s = StackStore::default();
        s.push(&Term::from("alice"), &Term::from("item-123"));
        assert_eq!(s.chunks[0].len(), 27);
        let big = Term::binary(&vec![7; CHUNK + 1]);
        s.push(&Term::from("bob"), &big);
        assert_eq!(s.chunks.len(), 2);
        assert_eq!(s.pop(), Some((Term::from("bob"), big)));
        assert_eq!(s.pop(), Some((Term::from("alice"), Term::from("item-123"))));
    }
}
