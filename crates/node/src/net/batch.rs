//! A connection's messages in batches (`EventSink::messages`): each run of consecutive sends to
//! one local process goes into its mailbox under one lock with at most one wake-up, where one
//! at a time cost a table lookup, a lock and a wake-up check per message. Anything else in the
//! batch (links, exits, monitors, sends to other processes) ends the run and is dispatched on
//! its own, so every signal keeps its place in the connection's order.

use super::remote::DistRemote;
use crate::node::Node;
use dist::{ControlMessage as C, Message};
use etf::{Atom, Pid, Term};

impl DistRemote {
    /// `batch` of connection `conn` from `peer`, in arrival order; takes them all out.
    pub(crate) fn on_messages(&self, peer: Atom, conn: u64, batch: &mut Vec<Message>) {
        let Some(node) = self.node() else {
            batch.clear();
            return;
        };
        let me = node.name();
        let mut run = Run::default();
        // The last registered name looked up: a stream of REG_SENDs names one process.
        let mut named: Option<(Atom, Option<Pid>)> = None;
        // Read where they lie (a `Message` moved out of the batch was a 200-byte copy); only
        // the payload, or a whole message to dispatch, is taken out.
        for m in batch.iter_mut() {
            let to = match m.control {
                C::Send { to, .. } | C::SendSender { to, .. } if to.node == me => Some(to),
                C::RegSend { to: name, .. } => {
                    // Stored only when the name changes: rewritten for every message, the pid
                    // was read back right after its pieces were stored (a stall, 4% of a
                    // receiving node in bench row (b)).
                    if !matches!(named, Some((n, _)) if n == name) {
                        named = Some((name, node.whereis(name)));
                    }
                    // To a name nobody holds: dropped, as BEAM does.
                    let Some((_, Some(pid))) = named else {
                        continue;
                    };
                    Some(pid)
                }
                _ => None,
            };
            match to {
                Some(pid) => run.push(&node, pid, &mut m.payload),
                None => {
                    run.flush(&node);
                    let m = std::mem::replace(m, Message::new(C::NodeLink, None));
                    self.dispatch(&node, peer, conn, m);
                }
            }
        }
        batch.clear();
        run.flush(&node);
    }
}

/// Consecutive messages for one process, not yet in its mailbox.
#[derive(Default)]
struct Run {
    to: Option<Pid>,
    msgs: Vec<Term>,
}

impl Run {
    /// Adds the payload in `slot` (taken out; a message without one carries `[]`).
    fn push(&mut self, node: &Node, to: Pid, slot: &mut Option<Term>) {
        if self.to != Some(to) {
            self.flush(node);
            self.to = Some(to);
        }
        take_onto(slot, &mut self.msgs);
    }

    fn flush(&mut self, node: &Node) {
        if let Some(to) = self.to.take() {
            node.deliver_all(to, &mut self.msgs);
        }
    }
}

/// Moves the term in `slot` to the end of `msgs` (`[]` when there is none), leaving `None`.
/// Copied from the slot straight to the end: taken out through a temporary (`slot.take()`), the
/// term was stored on the stack and loaded back at once with wider loads, which the CPU cannot
/// forward from the stores (a stall: 5% of a receiving node in bench row (d)).
#[inline(always)]
fn take_onto(slot: &mut Option<Term>, msgs: &mut Vec<Term>) {
    let Some(msg) = slot.as_ref() else {
        msgs.push(Term::nil());
        return;
    };
    msgs.reserve(1);
    let len = msgs.len();
    // SAFETY: `reserve` made room at `len`. The term's bytes move from the slot to there, and
    // the slot is overwritten with `None` without dropping what it held, so the term has
    // exactly one owner, `msgs`, once `len + 1` takes it in.
    unsafe {
        std::ptr::copy_nonoverlapping(msg, msgs.as_mut_ptr().add(len), 1);
        std::ptr::write(slot, None);
        msgs.set_len(len + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// Terms that own heap memory (a list, a shared binary) move out of their slots whole,
    /// once: each ends in `msgs` exactly once and every slot is left empty (Miri checks the
    /// moves: `cargo +nightly miri test -p ferl --lib take_onto`).
    #[test]
    fn take_onto_moves_each_term_once_and_empties_its_slot() {
        let terms = vec![
            Term::tuple(vec![Term::atom("push"), Term::binary(b"alice")]),
            Term::from(Bytes::from(vec![7u8; 100])),
            Term::list(vec![Term::Int(1), Term::Int(2)]),
        ];
        let mut slots: Vec<Option<Term>> = terms.iter().cloned().map(Some).collect();
        slots.push(None);
        let mut msgs = Vec::with_capacity(1);
        for slot in &mut slots {
            take_onto(slot, &mut msgs);
        }
        assert!(slots.iter().all(Option::is_none));
        let mut want = terms;
        want.push(Term::nil());
        assert_eq!(msgs, want);
    }
}
