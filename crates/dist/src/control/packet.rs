//! Whole packets: a control message and, for the kinds that carry one, its payload, decoded
//! from a pass-through packet or one after a distribution header (its atom cache references
//! resolved), and encoded as the peer's negotiated flags require.

use super::fast;
use super::{ControlError, ControlMessage, Message, CTRL_MAX};
use crate::atom_cache::{AtomCache, HeaderRefs, OutCache};
use crate::frame::PASS_THROUGH;
use crate::last_traffic::LastTraffic;
use bytes::{BufMut, Bytes, BytesMut};
use etf::view;
use etf::{Atom, DecodeError, Decoder, Term};
use std::cell::RefCell;
use std::ops::Range;

impl Message {
    pub fn new(control: ControlMessage, payload: Option<Term>) -> Message {
        Message { control, payload }
    }

    /// Decodes a pass-through packet body (after `112`): `131 Ctrl`, then `131 Payload` exactly
    /// when the control message carries one. The control tuple is read with the view decoder
    /// (no `Term` built for it); the payload becomes an owned `Term` for the mailbox.
    pub fn decode(body: Bytes) -> Result<Message, ControlError> {
        let mut one = Vec::with_capacity(1);
        Self::decode_onto(body, &mut one)?;
        Ok(one.pop().expect("decoded one message"))
    }

    /// `decode`, onto the end of `out` (unchanged on error). The payload is decoded straight
    /// into the pushed message (see `etf::decode_at_into`).
    pub fn decode_onto(body: Bytes, out: &mut Vec<Message>) -> Result<(), ControlError> {
        CONTROL_DECODER.with(|d| {
            let d = &mut *d.borrow_mut();
            let (ctrl, used) = d.view.decode_external(&body)?;
            let control = ControlMessage::from_view(ctrl, &body)?;
            out.push(Message {
                control,
                payload: None,
            });
            payload_onto_last(out, &body, 0..body.len(), used, true, &[])
        })
    }

    /// Decodes a packet with a distribution header (the bytes after `131 68`): the header's
    /// atom cache references (updating `cache`), then the control message and, exactly when it
    /// carries one, the payload, both without version bytes and with their ATOM_CACHE_REFs
    /// resolved through the header. Error offsets count from the start of `body`.
    pub fn decode_with_header(body: Bytes, cache: &mut AtomCache) -> Result<Message, ControlError> {
        let mut one = Vec::with_capacity(1);
        Self::decode_with_header_in(&body, 0..body.len(), cache, &mut one)?;
        Ok(one.pop().expect("decoded one message"))
    }

    /// `decode_with_header` for the packet whose body is `chunk[body]`, onto the end of `out`
    /// (unchanged on error), as `decode_onto`: a connection decodes all the packets of a read
    /// out of one buffer (a `Bytes` per packet cost two atomic operations per message). Error
    /// offsets count from the start of the body; the payload's `Bytes` are slices of `chunk`.
    pub fn decode_with_header_in(
        chunk: &Bytes,
        body: Range<usize>,
        cache: &mut AtomCache,
        out: &mut Vec<Message>,
    ) -> Result<(), ControlError> {
        CONTROL_DECODER.with(|d| {
            let d = &mut *d.borrow_mut();
            let bytes = &chunk[body.clone()];
            let at = cache.read_header(bytes, &mut d.refs)?;
            let used = match fast::traffic_onto(bytes, at, &d.refs, out) {
                Some(used) => used,
                None => {
                    let (control, used) = d.general(&chunk.slice(body.clone()), at)?;
                    out.push(Message {
                        control,
                        payload: None,
                    });
                    used
                }
            };
            payload_onto_last(out, chunk, body, used, false, &d.refs)
        })
    }

    /// Appends the whole packet as a connection with negotiated `flags` must send it: when
    /// DIST_HDR_ATOM_CACHE was negotiated (BEAM then accepts nothing else), after a
    /// distribution header, terms without version bytes, the node and name atoms of the
    /// traffic's control messages as references into the peer's cache (`cache`: what it holds
    /// after what this connection sent; `refs`: scratch; `last`: the connection's last traffic
    /// packet); else `encode`.
    pub fn encode_for(
        &self,
        flags: u64,
        cache: &mut OutCache,
        refs: &mut HeaderRefs,
        last: &mut LastTraffic,
        buf: &mut BytesMut,
    ) {
        encode_parts_for(
            &self.control,
            self.payload.as_ref(),
            flags,
            (cache, refs, last),
            buf,
        )
    }

    /// Appends the whole packet: 4-byte length, `112`, control, payload. The terms are written
    /// in one pass each (into `buf`'s spare room when it has enough, as an outbox does) and the
    /// length is filled in last. A payload on a kind that carries none is not sent; a
    /// payload-carrying kind without one sends `[]`, so the peer never desynchronises.
    pub fn encode(&self, buf: &mut BytesMut) {
        encode_parts(&self.control, self.payload.as_ref(), buf)
    }

    /// The packet as one `Bytes`.
    pub fn to_frame(&self) -> Bytes {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        b.freeze()
    }
}

/// `Message::encode_for` of a control message and a payload the caller keeps: a message sent
/// to many processes is encoded from the sender's own term, not from a copy per receiver.
pub fn encode_parts_for(
    control: &ControlMessage,
    payload: Option<&Term>,
    flags: u64,
    (cache, refs, last): (&mut OutCache, &mut HeaderRefs, &mut LastTraffic),
    buf: &mut BytesMut,
) {
    if flags & crate::flags::DFLAG_DIST_HDR_ATOM_CACHE == 0 {
        return encode_parts(control, payload, buf);
    }
    framed(buf, |buf| {
        let payload = payload_to_send(control, payload);
        // The payload's atoms, which only the traffic names by reference, are needed to tell
        // whether the last packet's header fits this one, and else to build it.
        last.walked.clear();
        if control.is_traffic() {
            if let Some(p) = payload {
                payload_atoms(p, &mut last.walked);
            }
            if last.write_again(control, payload, buf) {
                return;
            }
        }
        refs.clear();
        let start = buf.len();
        // The header lists the references and goes first: a first pass over the control
        // message only takes its atoms', the second writes it.
        match control.traffic_cached(cache, refs, None) {
            Some(_) => {
                // The payload's atoms are named by reference too, as erts does: the
                // peer then finds them by index instead of by their text.
                for &a in &last.walked {
                    if refs.len() < PAYLOAD_REFS.min(crate::atom_cache::MAX_REFS) {
                        refs.index(cache, a);
                    }
                }
                refs.write(buf);
                buf.reserve(CTRL_MAX);
                let out = &mut buf.spare_capacity_mut()[..CTRL_MAX];
                let n = control
                    .traffic_cached(cache, refs, Some(out))
                    .expect("the same control message is traffic the second time");
                // SAFETY: `traffic_cached` initialised the first `n` spare bytes, which
                // `reserve` made room for.
                unsafe { buf.set_len(buf.len() + n) };
                last.keep(control, refs, &buf[start..]);
                if let Some(p) = payload {
                    etf::encode_dist_term_with_refs(p, refs.atoms(), buf);
                }
            }
            None => {
                buf.put_slice(&[131, 68, 0]);
                control.encode_dist(buf, false);
                if let Some(p) = payload {
                    etf::encode_dist_term_to(p, buf);
                }
            }
        }
    })
}

/// `Message::encode` of a control message and a payload the caller keeps.
fn encode_parts(control: &ControlMessage, payload: Option<&Term>, buf: &mut BytesMut) {
    framed(buf, |buf| {
        buf.put_u8(PASS_THROUGH);
        control.encode_dist_to(buf);
        if let Some(p) = payload_to_send(control, payload) {
            etf::encode_dist_to(p, buf);
        }
    })
}

/// The payload as it goes out: none on a kind that carries none; `[]` on a payload-carrying
/// kind without one, so the peer never desynchronises.
fn payload_to_send<'a>(control: &ControlMessage, payload: Option<&'a Term>) -> Option<&'a Term> {
    static NIL: Term = Term::List(Vec::new());
    match (payload, control.needs_payload()) {
        (Some(p), true) => Some(p),
        (None, true) => Some(&NIL),
        (_, false) => None,
    }
}

/// Payload atoms given header references: at most this many references in all (a payload with
/// more distinct atoms has the rest written out), found among its first `PAYLOAD_WALK` terms
/// and no deeper than `PAYLOAD_DEPTH` (a long or deep payload is not walked to its end).
const PAYLOAD_REFS: usize = 32;
pub(super) const PAYLOAD_WALK: usize = 128;
const PAYLOAD_DEPTH: usize = 8;

/// The atoms of the payload `t` (and the node atoms of its pids, references and ports), onto
/// `out`, depth-first, within the walk's limits above (`PAYLOAD_REFS` then bounds how many of
/// them become references).
pub(super) fn payload_atoms(t: &Term, out: &mut Vec<Atom>) {
    let mut budget = PAYLOAD_WALK;
    walk_atoms(t, 0, &mut budget, out);
}

fn walk_atoms(t: &Term, depth: usize, budget: &mut usize, out: &mut Vec<Atom>) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    let deeper = depth < PAYLOAD_DEPTH;
    match t {
        Term::Tuple(v) | Term::List(v) if deeper => walk_elements(v, depth + 1, budget, out),
        Term::ImproperList(v, tail) if deeper => {
            walk_elements(v, depth + 1, budget, out);
            walk_atoms(tail, depth + 1, budget, out);
        }
        Term::Map(m) if deeper => {
            for (k, v) in m {
                walk_atoms(k, depth + 1, budget, out);
                walk_atoms(v, depth + 1, budget, out);
            }
        }
        _ => leaf_atoms(t, out),
    }
}

/// `walk_atoms` of each of `elems` (at `depth`), the leaves in this loop rather than by a call
/// each: a message is mostly a tuple of leaves.
#[inline]
fn walk_elements(elems: &[Term], depth: usize, budget: &mut usize, out: &mut Vec<Atom>) {
    for c in elems {
        match c {
            Term::Tuple(_) | Term::List(_) | Term::ImproperList(..) | Term::Map(_) => {
                walk_atoms(c, depth, budget, out)
            }
            _ if *budget == 0 => return,
            _ => {
                *budget -= 1;
                leaf_atoms(c, out);
            }
        }
    }
}

/// The atoms a term that holds no other term names.
#[inline(always)]
fn leaf_atoms(t: &Term, out: &mut Vec<Atom>) {
    match t {
        Term::Atom(a) => out.push(*a),
        Term::Pid(p) => out.push(p.node),
        Term::Ref(r) => out.push(r.node),
        Term::Port(p) => out.push(p.node),
        Term::Export(e) => {
            out.push(e.module);
            out.push(e.function);
        }
        _ => {}
    }
}

/// Appends a packet: its 4-byte length, filled in once `packet` has written the rest.
fn framed(buf: &mut BytesMut, packet: impl FnOnce(&mut BytesMut)) {
    let start = buf.len();
    buf.reserve(64);
    buf.put_u32(0);
    packet(buf);
    let len = (buf.len() - start - 4) as u32;
    buf[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// The payload of the message just pushed onto `out`, whose control message ended at `used`
/// (counted from the start of the body `chunk[body]`), decoded into it where it lies: exactly
/// when the control message carries one, and to the end of the body. On error the message is
/// taken off again.
fn payload_onto_last(
    out: &mut Vec<Message>,
    chunk: &Bytes,
    body: Range<usize>,
    used: usize,
    external: bool,
    refs: &[Atom],
) -> Result<(), ControlError> {
    let m = out.last_mut().expect("the control message was pushed");
    let r = payload_into(
        &m.control,
        chunk,
        body,
        used,
        external,
        refs,
        &mut m.payload,
    );
    if r.is_err() {
        out.pop();
    }
    r
}

fn payload_into(
    control: &ControlMessage,
    chunk: &Bytes,
    body: Range<usize>,
    used: usize,
    external: bool,
    refs: &[Atom],
    slot: &mut Option<Term>,
) -> Result<(), ControlError> {
    let tag = control.tag() as i64;
    if used >= body.len() {
        if control.needs_payload() {
            return Err(ControlError::MissingPayload(tag));
        }
        return Ok(());
    }
    if !control.needs_payload() {
        return Err(ControlError::UnexpectedPayload(tag));
    }
    let from = body.start + used;
    match etf::decode_at_into(
        chunk,
        from,
        body.end,
        external,
        refs,
        receive_limits(),
        slot,
    ) {
        Ok(end) if end < body.end => Err(ControlError::Trailing(body.end - end)),
        Ok(_) => Ok(()),
        Err(mut e) => {
            e.offset = e.offset.saturating_sub(body.start);
            Err(e.into())
        }
    }
}

/// How payloads are decoded: as BEAM does for a message it delivers, binaries of up to 64
/// bytes are copied into the term; longer ones stay slices of the packet.
fn receive_limits() -> etf::Limits {
    etf::Limits {
        copy_binaries_up_to: 64,
        ..etf::Limits::default()
    }
}

/// The per-thread decoding state of control messages: the view decoder (its arena reused
/// across packets) and the current distribution header's atoms.
#[derive(Default)]
pub(super) struct ControlDecoder {
    pub(super) view: view::Decoder,
    pub(super) refs: Vec<Atom>,
}

impl ControlDecoder {
    /// The control tuple at `at` (after a header whose atoms are in `refs`) when it is not in
    /// `fast.rs`'s shapes: read with the view decoder, the other tags through owned terms
    /// (an opaque fun in them gets its cache references written out). Returns the offset after
    /// it.
    #[cold]
    pub(super) fn general(
        &mut self,
        body: &Bytes,
        at: usize,
    ) -> Result<(ControlMessage, usize), ControlError> {
        self.view.clear();
        let (root, used) = self.view.push_term(body, at, &self.refs)?;
        let ctrl = self.view.view(body, root).ok_or(ControlError::NotATuple)?;
        let control = match ControlMessage::fast(ctrl) {
            Some(c) => c,
            None => {
                let mut owned = Decoder::new(body.slice(at..));
                let t = owned
                    .decode_term_with_atom_refs(&self.refs)
                    .map_err(|e| DecodeError::new(e.offset + at, e.kind))?;
                ControlMessage::from_term(&t)?
            }
        };
        Ok((control, used))
    }
}

thread_local! {
    /// One view decoder per thread (its arena is reused across packets): connections' reader
    /// tasks run on the runtime's worker threads.
    static CONTROL_DECODER: RefCell<ControlDecoder> = RefCell::new(ControlDecoder::default());
}
