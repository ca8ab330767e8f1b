//! The bench stack server's entries: a stack kept in fixed-size chunks, as a BEAM list grows a
//! cell at a time. A `Vec` grown by doubling copied the whole stack at each step and, its old
//! block handed back, faulted in twice the memory it kept; row (e) pushes a million entries
//! without a pop, and node B paid for that growth. Interleaved ferl->ferl runs of (e):
//! 3.86-4.01M -> 4.20-4.37M msgs/s.

use etf::Term;

/// Entries per chunk: 4096 pairs of terms, 256 KB.
const CHUNK: usize = 4096;

/// `{name, item}` entries, bottom first.
#[derive(Default)]
pub struct StackStore {
    chunks: Vec<Vec<(Term, Term)>>,
}

impl StackStore {
    pub fn push(&mut self, entry: (Term, Term)) {
        match self.chunks.last_mut() {
            Some(top) if top.len() < CHUNK => top.push(entry),
            _ => {
                let mut top = Vec::with_capacity(CHUNK);
                top.push(entry);
                self.chunks.push(top);
            }
        }
    }

    /// The top entry, taken off.
    pub fn pop(&mut self) -> Option<(Term, Term)> {
        let top = self.chunks.last_mut()?;
        let entry = top.pop();
        if top.is_empty() {
            self.chunks.pop();
        }
        entry
    }

    /// Entries from the top down.
    pub fn top_first(&self) -> impl Iterator<Item = &(Term, Term)> {
        self.chunks.iter().rev().flat_map(|c| c.iter().rev())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Across chunk boundaries it is a stack: pops and the top-first listing give the pushes
    /// in reverse, as a `Vec` would, and an emptied stack holds no chunk.
    #[test]
    fn behaves_as_a_vec_stack_across_chunks() {
        let (mut s, mut model) = (StackStore::default(), Vec::new());
        let entry = |i: i64| (Term::Int(i), Term::Int(-i));
        for i in 0..(2 * CHUNK as i64 + 5) {
            s.push(entry(i));
            model.push(entry(i));
        }
        assert_eq!(s.chunks.len(), 3);
        for _ in 0..(CHUNK + 7) {
            assert_eq!(s.pop(), model.pop());
        }
        s.push(entry(-1));
        model.push(entry(-1));
        let listed: Vec<_> = s.top_first().cloned().collect();
        let want: Vec<_> = model.iter().rev().cloned().collect();
        assert_eq!(listed, want);
        while let Some(e) = s.pop() {
            assert_eq!(Some(e), model.pop());
        }
        assert!(model.is_empty() && s.chunks.is_empty());
        assert_eq!(s.pop(), None);
    }
}
