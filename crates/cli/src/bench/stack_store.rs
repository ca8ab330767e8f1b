//! The bench stack server's entries, packed: each `{name, item}` is held as a flat copy of its
//! two terms, in chunks of a fixed size, as ETS keeps a flat copy of a term rather than the
//! term's cells.
//!
//! Why packed: row (e) pushes a million entries without a pop, so what node B pays for is
//! mostly memory it has not touched before. As a pair of `Term`s an entry took 80 bytes; the
//! tutorial's `{"alice", "item-123"}` takes 18 here. On the reference VM each new 4 kB page
//! costs B ~1.4 µs to fault in, and ~9.7 µs when the VM's host has not yet backed that memory
//! (a page of guest memory touched for the first time since boot, or handed back to the host
//! since), so at 80 bytes an entry the faults were 14% of B's time in (e) and, on fresh memory,
//! as much again as the rest of the row. Chunks rather than one growing buffer, because a
//! buffer grown by doubling copies the whole stack at each step and faults in twice what it
//! keeps.
//!
//! The format. A binary of at most 255 bytes (the tutorial's names and items) is a marker byte,
//! a length byte and its bytes: 2 bytes of overhead, where its external format takes 5. Any
//! other term is its external format without the version byte. After the two terms comes the
//! entry's length, so the top entry can be found from the end: one byte when under 255, else
//! four (little-endian) and a marker byte. Against the 27 bytes of two external formats and a
//! four-byte length, row (e) gained 7% (docs/performance-log.md, 2026-12-05).
//!
//! Packing also copies what a long binary item would have shared: a `Term` binary decoded from
//! the wire is a slice of the connection's read buffer, and a stack holding it kept that whole
//! buffer alive.

use bytes::{BufMut, Bytes, BytesMut};
use etf::Term;

/// Bytes per chunk (an entry longer than this gets a chunk of its own).
const CHUNK: usize = 256 * 1024;

/// First byte of a short binary. No external format tag has this value (they end at 119).
const SHORT_BINARY: u8 = 0xFF;

/// Last byte of an entry whose length (255 or more) is the four bytes before it; any other
/// last byte is the length itself.
const LONG_ENTRY: u8 = 0xFF;

/// `{name, item}` entries, bottom first: in each chunk, entry after entry, each being the
/// name's and the item's packed form (see the header) and then their length.
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
            if put_within(name, top) && put_within(item, top) && end_within(start, top) {
                return;
            }
            top.truncate(start);
        }
        self.push_measured(name, item);
    }

    /// `push` of an entry the top chunk has no room for (or onto no chunk).
    #[cold]
    fn push_measured(&mut self, name: &Term, item: &Term) {
        let len = packed_len(name) + packed_len(item);
        let room = len + trailer_len(len);
        let top = match self.chunks.last_mut() {
            Some(top) if top.capacity() - top.len() >= room => top,
            _ => {
                self.chunks.push(BytesMut::with_capacity(room.max(CHUNK)));
                self.chunks.last_mut().expect("just pushed")
            }
        };
        let start = top.len();
        let fits = put_within(name, top) && put_within(item, top) && end_within(start, top);
        assert!(fits, "an entry fits the room measured for it");
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

/// The bytes of a binary short enough for the short form.
fn short_binary(t: &Term) -> Option<&[u8]> {
    t.as_binary().map(|b| &b[..]).filter(|b| b.len() <= 255)
}

/// The packed size of `t`.
fn packed_len(t: &Term) -> usize {
    match short_binary(t) {
        Some(b) => 2 + b.len(),
        // `encoded_dist_len` counts the version byte, which the store leaves out.
        None => etf::encoded_dist_len(t) - 1,
    }
}

/// The size of the length written after an entry of `len` bytes.
fn trailer_len(len: usize) -> usize {
    if len < LONG_ENTRY as usize {
        1
    } else {
        5
    }
}

/// `t` packed into the room `top` already has: `false` (with part of it perhaps written) when
/// it does not fit there.
fn put_within(t: &Term, top: &mut BytesMut) -> bool {
    match short_binary(t) {
        Some(b) if top.capacity() - top.len() >= 2 + b.len() => {
            top.put_u8(SHORT_BINARY);
            top.put_u8(b.len() as u8);
            top.extend_from_slice(b);
            true
        }
        Some(_) => false,
        None => etf::encode_dist_term_within(t, top),
    }
}

/// The length of the entry written since `start`, in the room `top` already has.
fn end_within(start: usize, top: &mut BytesMut) -> bool {
    let len = top.len() - start;
    if top.capacity() - top.len() < trailer_len(len) {
        return false;
    }
    if len < LONG_ENTRY as usize {
        top.put_u8(len as u8);
    } else {
        let len = u32::try_from(len).expect("an entry is under 4 GB");
        top.put_u32_le(len);
        top.put_u8(LONG_ENTRY);
    }
    true
}

/// Where the last entry of a non-empty `chunk` starts, and its terms' bytes.
fn last_entry(chunk: &[u8]) -> (usize, &[u8]) {
    let (&last, rest) = chunk.split_last().expect("a chunk holds whole entries");
    let (len, end) = if last != LONG_ENTRY {
        (last as usize, rest.len())
    } else {
        let end = rest.len() - 4;
        let len = u32::from_le_bytes(rest[end..].try_into().expect("4 bytes"));
        (len as usize, end)
    };
    let start = end - len;
    (start, &chunk[start..end])
}

/// The two terms `push` wrote. They were written by ferl a moment ago, so failing to read
/// them is a bug, not bad input.
fn unpack(entry: &[u8]) -> (Term, Term) {
    let (name, n) = unpack_term(entry);
    let (item, _) = unpack_term(&entry[n..]);
    (name, item)
}

/// The term packed at the start of `bytes`, and its packed size.
fn unpack_term(bytes: &[u8]) -> (Term, usize) {
    if bytes[0] == SHORT_BINARY {
        let n = 2 + bytes[1] as usize;
        return (Term::binary(&bytes[2..n]), n);
    }
    let mut d = etf::Decoder::new(Bytes::copy_from_slice(bytes));
    let t = d.decode_term().expect("the stack reads what it wrote");
    (t, d.position())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names and items of both forms: integers, tuples, and binaries of 0-299 bytes.
    fn entry(i: i64) -> (Term, Term) {
        let bytes = Term::binary(&vec![b'x'; i.unsigned_abs() as usize % 300]);
        let name = if i % 2 == 0 {
            Term::Int(i)
        } else {
            bytes.clone()
        };
        let item = if i % 3 == 0 {
            Term::tuple(vec![bytes, Term::atom("item")])
        } else {
            bytes
        };
        (name, item)
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

    /// The tutorial's entry takes 18 bytes, under a quarter of the 80 that a pair of terms
    /// took, and an item longer than a chunk still goes on (in a chunk of its own).
    #[test]
    fn entries_are_packed_and_any_size_fits() {
        let mut s = StackStore::default();
        s.push(&Term::from("alice"), &Term::from("item-123"));
        assert_eq!(s.chunks[0].len(), 18);
        let big = Term::binary(&vec![7; CHUNK + 1]);
        s.push(&Term::from("bob"), &big);
        assert_eq!(s.chunks.len(), 2);
        assert_eq!(s.pop(), Some((Term::from("bob"), big)));
        assert_eq!(s.pop(), Some((Term::from("alice"), Term::from("item-123"))));
    }

    /// At the edges of the short forms: a binary of 255 bytes is short (2 bytes over its
    /// own), one of 256 is in external format (5 over); an entry of 254 bytes ends in one
    /// length byte, one of 255 in five. Each entry reads back as written.
    #[test]
    fn short_forms_end_where_their_length_byte_does() {
        let mut s = StackStore::default();
        let mut want_len = 0;
        for n in 250..=260 {
            s.push(&Term::from(""), &Term::binary(&vec![b'i'; n]));
            let item = if n <= 255 { 2 + n } else { 5 + n };
            let entry = 2 + item;
            want_len += entry + if entry < 255 { 1 } else { 5 };
            assert_eq!(s.chunks[0].len(), want_len, "after an item of {n} bytes");
        }
        for n in (250..=260).rev() {
            assert_eq!(
                s.pop(),
                Some((Term::from(""), Term::binary(&vec![b'i'; n])))
            );
        }
        assert_eq!(s.pop(), None);
    }
}
