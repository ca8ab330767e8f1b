//! The traffic's control tuples read straight from the bytes: SEND `{2, '', To}`, REG_SEND
//! `{6, From, '', ToName}`, SEND_SENDER `{22, From, To}` and ALIAS_SEND `{33, From, Alias}`, in
//! the exact shape erts writes after a distribution header (pids as NEW_PID_EXT, references as
//! NEWER_REFERENCE_EXT, atoms as cache references or `''`).
//!
//! Every message a process sends to another node carries one of these, so on a busy
//! connection reading them dominates the receive path; the general path (the view decoder's
//! arena, then picking the fields) cost a quarter of a receiving node's time. Anything else,
//! including every malformed input, returns `None` and goes the general way, which gives the
//! specific error: this reader never decides what is wrong, only recognises what is right.

use crate::control::{ControlMessage, Message};
use etf::pid::MAX_REF_WORDS;
use etf::tag::{
    ATOM_CACHE_REF, NEWER_REFERENCE_EXT, NEW_PID_EXT, SMALL_ATOM_UTF8_EXT, SMALL_INTEGER_EXT,
    SMALL_TUPLE_EXT,
};
use etf::{Atom, Pid, Ref};

/// The control tuple at `at` in `body`, when it is one of the traffic's shapes, pushed onto
/// `out` as a message without its payload (which the caller decodes into it where it lies),
/// and the offset just after it; `refs` are the distribution header's atoms.
#[inline(always)]
pub(crate) fn traffic_onto(
    body: &[u8],
    at: usize,
    refs: &[Atom],
    out: &mut Vec<Message>,
) -> Option<usize> {
    let mut r = Reader { b: body, pos: at };
    if r.u8()? != SMALL_TUPLE_EXT {
        return None;
    }
    let arity = r.u8()?;
    if r.u8()? != SMALL_INTEGER_EXT {
        return None;
    }
    match (r.u8()?, arity) {
        (2, 3) => {
            r.atom(refs)?;
            let to = r.pid(refs)?;
            push_with(out, || {
                Message::new(ControlMessage::Send { to, token: None }, None)
            });
        }
        (6, 4) => {
            let from = r.pid(refs)?;
            r.atom(refs)?;
            let to = r.atom(refs)?;
            let token = None;
            push_with(out, || {
                Message::new(ControlMessage::RegSend { from, to, token }, None)
            });
        }
        (22, 3) => {
            let from = r.pid(refs)?;
            let to = r.pid(refs)?;
            let token = None;
            push_with(out, || {
                Message::new(ControlMessage::SendSender { from, to, token }, None)
            });
        }
        (33, 3) => {
            let from = r.pid(refs)?;
            let alias = r.reference(refs)?;
            let token = None;
            push_with(out, || {
                Message::new(ControlMessage::AliasSend { from, alias, token }, None)
            });
        }
        _ => return None,
    }
    Some(r.pos)
}

/// `out.push(make())`, the message made in the room reserved for it: a `Message` is 200
/// bytes, and one built before the push was copied into the vector whole (a `memcpy` call, 7%
/// of a receiving node in bench row (e)), where the traffic's messages set a few dozen.
#[inline(always)]
fn push_with(out: &mut Vec<Message>, make: impl FnOnce() -> Message) {
    out.reserve(1);
    out.spare_capacity_mut()[0].write(make());
    // SAFETY: `reserve` made room for one more element, and that slot was just written.
    unsafe { out.set_len(out.len() + 1) };
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.b.get(self.pos..self.pos + N)?;
        self.pos += N;
        s.try_into().ok()
    }

    #[inline(always)]
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }

    #[inline(always)]
    fn u32(&mut self) -> Option<u32> {
        self.take::<4>().map(u32::from_be_bytes)
    }

    /// A cache reference the header resolved, or `''` (the unused field of SEND/REG_SEND).
    #[inline(always)]
    fn atom(&mut self, refs: &[Atom]) -> Option<Atom> {
        match self.take::<2>()? {
            [ATOM_CACHE_REF, i] => refs.get(i as usize).copied(),
            [SMALL_ATOM_UTF8_EXT, 0] => Some(Atom::EMPTY),
            _ => None,
        }
    }

    #[inline(always)]
    fn pid(&mut self, refs: &[Atom]) -> Option<Pid> {
        if self.u8()? != NEW_PID_EXT {
            return None;
        }
        let node = self.atom(refs)?;
        let [id, serial, creation] = [self.u32()?, self.u32()?, self.u32()?];
        Some(Pid {
            node,
            id,
            serial,
            creation,
        })
    }

    fn reference(&mut self, refs: &[Atom]) -> Option<Ref> {
        if self.u8()? != NEWER_REFERENCE_EXT {
            return None;
        }
        let n = u16::from_be_bytes(self.take::<2>()?) as usize;
        if n == 0 || n > MAX_REF_WORDS {
            return None;
        }
        let node = self.atom(refs)?;
        let creation = self.u32()?;
        let mut words = [0u32; MAX_REF_WORDS];
        for w in &mut words[..n] {
            *w = self.u32()?;
        }
        Some(Ref::new(node, creation, &words[..n]))
    }
}
