//! Control messages (`erl_dist_protocol` §"Protocol between connected nodes"): every tag OTP 25
//! can send, as typed Rust values; the `_TT` variants fold into their base with `token: Some(..)`.
//! Here the vocabulary, read from a view of its tuple and written as bytes. Elsewhere: whole
//! packets (a control message and its payload, with or without a distribution header) in
//! `packet.rs`, the traffic's control tuples read straight from the bytes in `fast.rs`, and
//! control messages to and from `Term`s in `term.rs`. Decoding is total; encoding writes a
//! whole 4-byte-framed packet.

mod fast;
mod packet;
mod term;
#[cfg(test)]
mod tests;

pub use packet::encode_parts_for;

use crate::atom_cache::{HeaderError, HeaderRefs, OutCache};
use bytes::{Bytes, BytesMut};
use etf::tag::{
    ATOM_CACHE_REF, NEWER_REFERENCE_EXT, NEW_PID_EXT, SMALL_INTEGER_EXT, SMALL_TUPLE_EXT,
};
use etf::view::View;
use etf::{Atom, DecodeError, Pid, Ref, Term};
use std::cell::Cell;
use std::mem::MaybeUninit;
use std::sync::LazyLock;

/// A process named either by pid or by registered name (monitor targets, DOWN senders).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcRef {
    Pid(Pid),
    Name(Atom),
}

impl ProcRef {
    fn to_term(self) -> Term {
        match self {
            ProcRef::Pid(p) => Term::Pid(p),
            ProcRef::Name(a) => Term::Atom(a),
        }
    }
}

/// One control message. `token` is the seq-trace token of the `_TT` variants (`None` for the
/// base tag). Messages marked "+ payload" travel with a second term in `Message::payload`.
#[derive(Clone, Debug, PartialEq)]
pub enum ControlMessage {
    /// 1 `{1, From, To}`
    Link { from: Pid, to: Pid },
    /// 2 / 12 `{2, '', To}` + message
    Send { to: Pid, token: Option<Term> },
    /// 3 / 13 `{3, From, To, Reason}`
    Exit {
        from: Pid,
        to: Pid,
        reason: Term,
        token: Option<Term>,
    },
    /// 4 `{4, From, To}` (old unlink, without UNLINK_ID)
    Unlink { from: Pid, to: Pid },
    /// 5 `{5}`
    NodeLink,
    /// 6 / 16 `{6, From, '', ToName}` + message
    RegSend {
        from: Pid,
        to: Atom,
        token: Option<Term>,
    },
    /// 7 `{7, From, To}`
    GroupLeader { from: Pid, to: Pid },
    /// 8 / 18 `{8, From, To, Reason}`
    Exit2 {
        from: Pid,
        to: Pid,
        reason: Term,
        token: Option<Term>,
    },
    /// 19 `{19, From, PidOrName, Ref}`
    MonitorP {
        from: Pid,
        to: ProcRef,
        reference: Ref,
    },
    /// 20 `{20, From, PidOrName, Ref}`
    DemonitorP {
        from: Pid,
        to: ProcRef,
        reference: Ref,
    },
    /// 21 `{21, PidOrName, To, Ref, Reason}` (a DOWN)
    MonitorPExit {
        from: ProcRef,
        to: Pid,
        reference: Ref,
        reason: Term,
    },
    /// 22 / 23 `{22, From, To}` + message
    SendSender {
        from: Pid,
        to: Pid,
        token: Option<Term>,
    },
    /// 24 / 25 `{24, From, To}` + reason
    PayloadExit {
        from: Pid,
        to: Pid,
        token: Option<Term>,
    },
    /// 26 / 27 `{26, From, To}` + reason
    PayloadExit2 {
        from: Pid,
        to: Pid,
        token: Option<Term>,
    },
    /// 28 `{28, PidOrName, To, Ref}` + reason (a DOWN)
    PayloadMonitorPExit {
        from: ProcRef,
        to: Pid,
        reference: Ref,
    },
    /// 29 / 30 `{29, ReqId, From, GroupLeader, {M, F, Arity}, Opts}` + args
    SpawnRequest {
        req_id: Ref,
        from: Pid,
        group_leader: Pid,
        module: Atom,
        function: Atom,
        arity: u32,
        opts: Term,
        token: Option<Term>,
    },
    /// 31 / 32 `{31, ReqId, To, Flags, PidOrError}`
    SpawnReply {
        req_id: Ref,
        to: Pid,
        flags: i64,
        result: Term,
        token: Option<Term>,
    },
    /// 33 / 34 `{33, From, Alias}` + message
    AliasSend {
        from: Pid,
        alias: Ref,
        token: Option<Term>,
    },
    /// 35 `{35, Id, From, To}`
    UnlinkId { id: u64, from: Pid, to: Pid },
    /// 36 `{36, Id, From, To}`
    UnlinkIdAck { id: u64, from: Pid, to: Pid },
}

/// A decoded packet: the control message and, for the kinds that carry one, the payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub control: ControlMessage,
    pub payload: Option<Term>,
}

/// What was wrong with a control packet.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("undecodable control term: {0}")]
    Term(#[from] DecodeError),
    #[error("control message is not a tuple with an integer tag")]
    NotATuple,
    #[error("unknown control message tag {0}")]
    UnknownTag(i64),
    #[error("control message tag {tag}: arity {arity} is wrong")]
    BadArity { tag: i64, arity: usize },
    #[error("control message tag {tag}: field {field} has the wrong type")]
    BadField { tag: i64, field: usize },
    #[error("control message tag {0} needs a payload and has none")]
    MissingPayload(i64),
    #[error("control message tag {0} carries no payload but one follows")]
    UnexpectedPayload(i64),
    #[error("{0} bytes left after the payload")]
    Trailing(usize),
    #[error(transparent)]
    Header(#[from] HeaderError),
}

/// Whether a tag travels with a payload term.
fn has_payload(tag: i64) -> bool {
    matches!(
        tag,
        2 | 6 | 12 | 16 | 22 | 23 | 24 | 25 | 26 | 27 | 28 | 29 | 30 | 33 | 34
    )
}

impl ControlMessage {
    /// The wire tag (the `_TT` tag when a token is present).
    pub fn tag(&self) -> u8 {
        use ControlMessage::*;
        let tt = |t: &Option<Term>, base: u8, traced: u8| if t.is_some() { traced } else { base };
        match self {
            Link { .. } => 1,
            Send { token, .. } => tt(token, 2, 12),
            Exit { token, .. } => tt(token, 3, 13),
            Unlink { .. } => 4,
            NodeLink => 5,
            RegSend { token, .. } => tt(token, 6, 16),
            GroupLeader { .. } => 7,
            Exit2 { token, .. } => tt(token, 8, 18),
            MonitorP { .. } => 19,
            DemonitorP { .. } => 20,
            MonitorPExit { .. } => 21,
            SendSender { token, .. } => tt(token, 22, 23),
            PayloadExit { token, .. } => tt(token, 24, 25),
            PayloadExit2 { token, .. } => tt(token, 26, 27),
            PayloadMonitorPExit { .. } => 28,
            SpawnRequest { token, .. } => tt(token, 29, 30),
            SpawnReply { token, .. } => tt(token, 31, 32),
            AliasSend { token, .. } => tt(token, 33, 34),
            UnlinkId { .. } => 35,
            UnlinkIdAck { .. } => 36,
        }
    }

    /// Whether this message must travel with a payload term.
    pub fn needs_payload(&self) -> bool {
        has_payload(self.tag() as i64)
    }

    /// Parses a decoded control tuple. The messages that carry the traffic (SEND, REG_SEND,
    /// SEND_SENDER, ALIAS_SEND, MONITOR_P, DEMONITOR_P without a trace token) are
    /// read straight from the view; any other message, or one that is not well formed, goes
    /// through `from_term`, so the result and its errors are exactly those of `from_term`.
    pub fn from_view(ctrl: View<'_>, backing: &Bytes) -> Result<ControlMessage, ControlError> {
        if let Some(m) = Self::fast(ctrl) {
            return Ok(m);
        }
        Self::from_term(&ctrl.to_term(backing))
    }

    fn fast(ctrl: View<'_>) -> Option<ControlMessage> {
        let t = ctrl.tuple()?;
        let f = |i: usize| t.get(i);
        let name_or_pid = |v: View<'_>| match v.as_pid() {
            Some(p) => Some(ProcRef::Pid(p)),
            None => v.as_atom().map(ProcRef::Name),
        };
        Some(match (f(0)?.as_int()?, t.len()) {
            (2, 3) => ControlMessage::Send {
                to: f(2)?.as_pid()?,
                token: None,
            },
            (6, 4) => ControlMessage::RegSend {
                from: f(1)?.as_pid()?,
                to: f(3)?.as_atom()?,
                token: None,
            },
            (22, 3) => ControlMessage::SendSender {
                from: f(1)?.as_pid()?,
                to: f(2)?.as_pid()?,
                token: None,
            },
            (33, 3) => ControlMessage::AliasSend {
                from: f(1)?.as_pid()?,
                alias: f(2)?.as_ref()?,
                token: None,
            },
            (19, 4) => ControlMessage::MonitorP {
                from: f(1)?.as_pid()?,
                to: name_or_pid(f(2)?)?,
                reference: f(3)?.as_ref()?,
            },
            (20, 4) => ControlMessage::DemonitorP {
                from: f(1)?.as_pid()?,
                to: name_or_pid(f(2)?)?,
                reference: f(3)?.as_ref()?,
            },
            _ => return None,
        })
    }

    /// Appends `131` + the control tuple.
    pub fn encode_dist_to(&self, buf: &mut BytesMut) {
        self.encode_dist(buf, true)
    }

    /// The control tuple, after `131` when `version`. The messages that carry the traffic build
    /// their tuple in a per-thread scratch vector, so sending them allocates nothing; others
    /// use `to_term`.
    fn encode_dist(&self, buf: &mut BytesMut, version: bool) {
        let put = |t: &Term, buf: &mut BytesMut| match version {
            true => etf::encode_dist_to(t, buf),
            false => etf::encode_dist_term_to(t, buf),
        };
        CONTROL_SCRATCH.with(|scratch| {
            let mut v = scratch.take();
            v.clear();
            if !self.traffic_fields(&mut v) {
                scratch.set(v);
                return put(&self.to_term(), buf);
            }
            let t = Term::Tuple(v);
            put(&t, buf);
            if let Term::Tuple(v) = t {
                scratch.set(v);
            }
        })
    }

    /// SEND, REG_SEND, SEND_SENDER, ALIAS_SEND (no trace token) as the control term after a
    /// distribution header, into `out` (at least `CTRL_MAX` bytes; `None`: only its atoms are
    /// taken), with its atoms as ATOM_CACHE_REFs taken in `refs`: the length, or `None` for
    /// any other message (nothing taken then). A second call with the same `refs` takes
    /// nothing new: each atom is found where the first put it.
    fn traffic_cached(
        &self,
        cache: &mut OutCache,
        refs: &mut HeaderRefs,
        out: Option<&mut [MaybeUninit<u8>]>,
    ) -> Option<usize> {
        use ControlMessage::*;
        let mut w = CtrlWriter { out, n: 0 };
        let mut atom = |w: &mut CtrlWriter, a: Atom| {
            let i = refs.index(cache, a);
            w.put(&[ATOM_CACHE_REF, i]);
        };
        // NEW_PID_EXT with its node as a reference.
        fn pid(w: &mut CtrlWriter, p: &Pid, atom: &mut dyn FnMut(&mut CtrlWriter, Atom)) {
            w.put(&[NEW_PID_EXT]);
            atom(w, p.node);
            w.put(&p.id.to_be_bytes());
            w.put(&p.serial.to_be_bytes());
            w.put(&p.creation.to_be_bytes());
        }
        match self {
            Send { to, token: None } => {
                w.put(&[SMALL_TUPLE_EXT, 3, SMALL_INTEGER_EXT, 2]);
                atom(&mut w, *EMPTY);
                pid(&mut w, to, &mut atom);
            }
            RegSend {
                from,
                to,
                token: None,
            } => {
                w.put(&[SMALL_TUPLE_EXT, 4, SMALL_INTEGER_EXT, 6]);
                pid(&mut w, from, &mut atom);
                atom(&mut w, *EMPTY);
                atom(&mut w, *to);
            }
            SendSender {
                from,
                to,
                token: None,
            } => {
                w.put(&[SMALL_TUPLE_EXT, 3, SMALL_INTEGER_EXT, 22]);
                pid(&mut w, from, &mut atom);
                pid(&mut w, to, &mut atom);
            }
            AliasSend {
                from,
                alias,
                token: None,
            } => {
                w.put(&[SMALL_TUPLE_EXT, 3, SMALL_INTEGER_EXT, 33]);
                pid(&mut w, from, &mut atom);
                let ids = alias.ids();
                w.put(&[NEWER_REFERENCE_EXT]);
                w.put(&(ids.len() as u16).to_be_bytes());
                atom(&mut w, alias.node);
                w.put(&alias.creation.to_be_bytes());
                for id in ids {
                    w.put(&id.to_be_bytes());
                }
            }
            _ => return None,
        }
        Some(w.n)
    }

    /// SEND, REG_SEND, SEND_SENDER or ALIAS_SEND without a trace token: the messages whose
    /// atoms `traffic_cached` names by cache reference.
    fn is_traffic(&self) -> bool {
        use ControlMessage::*;
        matches!(
            self,
            Send { token: None, .. }
                | RegSend { token: None, .. }
                | SendSender { token: None, .. }
                | AliasSend { token: None, .. }
        )
    }

    /// The tuple elements of SEND, REG_SEND, SEND_SENDER, ALIAS_SEND (no trace token), as
    /// `to_term` writes them; false for any other message.
    fn traffic_fields(&self, v: &mut Vec<Term>) -> bool {
        use ControlMessage::*;
        let tag = Term::Int(self.tag() as i64);
        match self {
            Send { to, token: None } => v.extend([tag, Term::Atom(*EMPTY), Term::Pid(*to)]),
            RegSend {
                from,
                to,
                token: None,
            } => v.extend([tag, Term::Pid(*from), Term::Atom(*EMPTY), Term::Atom(*to)]),
            SendSender {
                from,
                to,
                token: None,
            } => v.extend([tag, Term::Pid(*from), Term::Pid(*to)]),
            AliasSend {
                from,
                alias,
                token: None,
            } => v.extend([tag, Term::Pid(*from), Term::Ref(*alias)]),
            _ => return false,
        }
        true
    }
}

/// The empty atom `''` of SEND and REG_SEND, interned once.
static EMPTY: LazyLock<Atom> = LazyLock::new(|| Atom::new(""));

/// The longest control term `traffic_cached` writes: 4 + 2 * 15 + 3 + 2 + 20 bytes, rounded up.
const CTRL_MAX: usize = 64;

/// Where `traffic_cached` writes a control term: nowhere (a pass that only takes its atoms'
/// references), or straight into a packet's spare capacity, in pieces of a size known at
/// compile time (plain stores, no copy of a staged buffer: its bytes, just written one or a
/// few at a time, were read back wider, a stall the CPU cannot forward around).
struct CtrlWriter<'a> {
    out: Option<&'a mut [MaybeUninit<u8>]>,
    n: usize,
}

impl CtrlWriter<'_> {
    #[inline(always)]
    fn put<const N: usize>(&mut self, b: &[u8; N]) {
        if let Some(out) = &mut self.out {
            for (to, from) in out[self.n..self.n + N].iter_mut().zip(b) {
                to.write(*from);
            }
        }
        self.n += N;
    }
}

thread_local! {
    /// Elements of the control tuple being encoded, reused (see `encode_dist_to`).
    static CONTROL_SCRATCH: Cell<Vec<Term>> = const { Cell::new(Vec::new()) };
}
