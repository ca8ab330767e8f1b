//! The sending side's last traffic packet, kept for the next one: a process streaming messages
//! to one peer sends the same control message (SEND, REG_SEND, ...) with payloads of the same
//! atoms time after time, and with every atom already in the peer's cache each of those packets
//! starts with the same bytes: `131 68`, the distribution header, the control message. Those
//! bytes are copied rather than built again, which took a lookup per atom, the header's
//! layout and two passes over the control message (a fifth of a sending node's time in bench
//! row (d)).
//!
//! Kept only from a packet whose references were all in the cache (a header with new entries
//! is the first of its stream, and the next one differs). Every packet built afresh replaces
//! what is kept, or clears it if it gave a slot a new atom (the only way the cache changes), so
//! the kept bytes always name what the peer's cache holds.

use crate::atom_cache::HeaderRefs;
use crate::control::ControlMessage;
use etf::{Atom, Term};

#[derive(Default)]
pub struct LastTraffic {
    /// The control message the kept bytes were written for (`None`: nothing kept).
    control: Option<ControlMessage>,
    /// The atoms its payload's walk found, in order (`control::payload_atoms`).
    payload_atoms: Vec<Atom>,
    /// `131 68`, the header and the control message.
    prefix: Vec<u8>,
    /// The header's atoms by reference index, which the payload's references name.
    atoms: Vec<Atom>,
    /// The current packet's payload atoms (found before it is known whether it repeats).
    pub(crate) walked: Vec<Atom>,
}

impl LastTraffic {
    /// Writes the packet of `control` and `payload` (whose atoms are in `walked`) from the kept
    /// bytes, when they are its bytes: true if it did.
    pub(crate) fn write_again(
        &self,
        control: &ControlMessage,
        payload: Option<&Term>,
        buf: &mut bytes::BytesMut,
    ) -> bool {
        let repeats = self.control.as_ref() == Some(control) && self.walked == self.payload_atoms;
        if !repeats {
            return false;
        }
        buf.extend_from_slice(&self.prefix);
        if let Some(p) = payload {
            etf::encode_dist_term_with_refs(p, &self.atoms, buf);
        }
        true
    }

    /// Keeps the packet just written for `control` with the references `refs` (`prefix`: its
    /// bytes up to the payload), if every reference was in the cache already.
    pub(crate) fn keep(&mut self, control: &ControlMessage, refs: &HeaderRefs, prefix: &[u8]) {
        if !refs.all_cached() {
            self.control = None;
            return;
        }
        self.control = Some(control.clone());
        std::mem::swap(&mut self.payload_atoms, &mut self.walked);
        self.prefix.clear();
        self.prefix.extend_from_slice(prefix);
        self.atoms.clear();
        self.atoms.extend_from_slice(refs.atoms());
    }
}
