//! Control messages (`erl_dist_protocol` §"Protocol between connected nodes"): every tag OTP 25
//! can send, as typed Rust values; the `_TT` variants fold into their base with `token: Some(..)`.
//! Decoding from a pass-through packet is total; encoding writes a whole 4-byte-framed packet.

use crate::atom_cache::{AtomCache, HeaderError, HeaderRefs, OutCache};
use crate::control_fast;
use crate::frame::PASS_THROUGH;
use crate::last_traffic::LastTraffic;
use bytes::{BufMut, Bytes, BytesMut};
use etf::tag::{
    ATOM_CACHE_REF, NEWER_REFERENCE_EXT, NEW_PID_EXT, SMALL_INTEGER_EXT, SMALL_TUPLE_EXT,
};
use etf::view::{self, View};
use etf::{Atom, DecodeError, Decoder, Pid, Ref, Term};
use std::cell::{Cell, RefCell};
use std::mem::MaybeUninit;
use std::ops::Range;
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

fn pid(t: &[Term], i: usize, tag: i64) -> Result<Pid, ControlError> {
    match t.get(i) {
        Some(Term::Pid(p)) => Ok(*p),
        _ => Err(ControlError::BadField { tag, field: i }),
    }
}

fn atom(t: &[Term], i: usize, tag: i64) -> Result<Atom, ControlError> {
    match t.get(i) {
        Some(Term::Atom(a)) => Ok(*a),
        _ => Err(ControlError::BadField { tag, field: i }),
    }
}

fn reference(t: &[Term], i: usize, tag: i64) -> Result<Ref, ControlError> {
    match t.get(i) {
        Some(Term::Ref(r)) => Ok(*r),
        _ => Err(ControlError::BadField { tag, field: i }),
    }
}

fn proc_ref(t: &[Term], i: usize, tag: i64) -> Result<ProcRef, ControlError> {
    match t.get(i) {
        Some(Term::Pid(p)) => Ok(ProcRef::Pid(*p)),
        Some(Term::Atom(a)) => Ok(ProcRef::Name(*a)),
        _ => Err(ControlError::BadField { tag, field: i }),
    }
}

fn term(t: &[Term], i: usize, tag: i64) -> Result<Term, ControlError> {
    t.get(i)
        .cloned()
        .ok_or(ControlError::BadField { tag, field: i })
}

fn uint(t: &[Term], i: usize, tag: i64) -> Result<u64, ControlError> {
    match t.get(i) {
        Some(Term::Int(n)) if *n >= 0 => Ok(*n as u64),
        Some(Term::Big(b)) => b
            .to_i128()
            .and_then(|v| u64::try_from(v).ok())
            .ok_or(ControlError::BadField { tag, field: i }),
        _ => Err(ControlError::BadField { tag, field: i }),
    }
}

/// Whether a tag travels with a payload term.
fn has_payload(tag: i64) -> bool {
    matches!(
        tag,
        2 | 6 | 12 | 16 | 22 | 23 | 24 | 25 | 26 | 27 | 28 | 29 | 30 | 33 | 34
    )
}

/// The arity (including the tag) each known tag must have.
fn arity(tag: i64) -> Option<usize> {
    Some(match tag {
        5 => 1,
        1 | 2 | 4 | 7 | 22 | 24 | 26 | 33 => 3,
        3 | 6 | 8 | 12 | 19 | 20 | 23 | 25 | 27 | 28 | 34 | 35 | 36 => 4,
        13 | 16 | 18 | 21 | 31 => 5,
        29 | 32 => 6,
        30 => 7,
        _ => return None,
    })
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

    /// Parses a control tuple.
    pub fn from_term(ctrl: &Term) -> Result<ControlMessage, ControlError> {
        use ControlMessage::*;
        let t = ctrl.as_tuple().ok_or(ControlError::NotATuple)?;
        let tag = match t.first() {
            Some(Term::Int(n)) => *n,
            _ => return Err(ControlError::NotATuple),
        };
        let want = arity(tag).ok_or(ControlError::UnknownTag(tag))?;
        if t.len() != want {
            return Err(ControlError::BadArity {
                tag,
                arity: t.len(),
            });
        }
        let tok = |i: usize| term(t, i, tag).map(Some);
        Ok(match tag {
            1 => Link {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
            },
            2 => Send {
                to: pid(t, 2, tag)?,
                token: None,
            },
            12 => Send {
                to: pid(t, 2, tag)?,
                token: tok(3)?,
            },
            3 => Exit {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                reason: term(t, 3, tag)?,
                token: None,
            },
            13 => Exit {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                token: tok(3)?,
                reason: term(t, 4, tag)?,
            },
            4 => Unlink {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
            },
            5 => NodeLink,
            6 => RegSend {
                from: pid(t, 1, tag)?,
                to: atom(t, 3, tag)?,
                token: None,
            },
            16 => RegSend {
                from: pid(t, 1, tag)?,
                to: atom(t, 3, tag)?,
                token: tok(4)?,
            },
            7 => GroupLeader {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
            },
            8 => Exit2 {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                reason: term(t, 3, tag)?,
                token: None,
            },
            18 => Exit2 {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                token: tok(3)?,
                reason: term(t, 4, tag)?,
            },
            19 => MonitorP {
                from: pid(t, 1, tag)?,
                to: proc_ref(t, 2, tag)?,
                reference: reference(t, 3, tag)?,
            },
            20 => DemonitorP {
                from: pid(t, 1, tag)?,
                to: proc_ref(t, 2, tag)?,
                reference: reference(t, 3, tag)?,
            },
            21 => MonitorPExit {
                from: proc_ref(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                reference: reference(t, 3, tag)?,
                reason: term(t, 4, tag)?,
            },
            22 | 23 => SendSender {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                token: if tag == 23 { tok(3)? } else { None },
            },
            24 | 25 => PayloadExit {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                token: if tag == 25 { tok(3)? } else { None },
            },
            26 | 27 => PayloadExit2 {
                from: pid(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                token: if tag == 27 { tok(3)? } else { None },
            },
            28 => PayloadMonitorPExit {
                from: proc_ref(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                reference: reference(t, 3, tag)?,
            },
            29 | 30 => {
                let mfa = t
                    .get(4)
                    .and_then(Term::as_tuple)
                    .filter(|m| m.len() == 3)
                    .ok_or(ControlError::BadField { tag, field: 4 })?;
                let bad_mfa = ControlError::BadField { tag, field: 4 };
                let arity = match mfa.get(2) {
                    Some(Term::Int(n)) => u32::try_from(*n).map_err(|_| bad_mfa.clone())?,
                    _ => return Err(bad_mfa),
                };
                SpawnRequest {
                    req_id: reference(t, 1, tag)?,
                    from: pid(t, 2, tag)?,
                    group_leader: pid(t, 3, tag)?,
                    module: atom(mfa, 0, tag).map_err(|_| bad_mfa.clone())?,
                    function: atom(mfa, 1, tag).map_err(|_| bad_mfa.clone())?,
                    arity,
                    opts: term(t, 5, tag)?,
                    token: if tag == 30 { tok(6)? } else { None },
                }
            }
            31 | 32 => SpawnReply {
                req_id: reference(t, 1, tag)?,
                to: pid(t, 2, tag)?,
                flags: t
                    .get(3)
                    .and_then(Term::as_int)
                    .ok_or(ControlError::BadField { tag, field: 3 })?,
                result: match t.get(4) {
                    Some(r @ (Term::Pid(_) | Term::Atom(_))) => r.clone(),
                    _ => return Err(ControlError::BadField { tag, field: 4 }),
                },
                token: if tag == 32 { tok(5)? } else { None },
            },
            33 | 34 => AliasSend {
                from: pid(t, 1, tag)?,
                alias: reference(t, 2, tag)?,
                token: if tag == 34 { tok(3)? } else { None },
            },
            35 => UnlinkId {
                id: uint(t, 1, tag)?,
                from: pid(t, 2, tag)?,
                to: pid(t, 3, tag)?,
            },
            36 => UnlinkIdAck {
                id: uint(t, 1, tag)?,
                from: pid(t, 2, tag)?,
                to: pid(t, 3, tag)?,
            },
            other => return Err(ControlError::UnknownTag(other)),
        })
    }

    /// The control tuple as OTP writes it.
    pub fn to_term(&self) -> Term {
        use ControlMessage::*;
        let tag = Term::Int(self.tag() as i64);
        let empty = || Term::atom("");
        let mut v = match self {
            Link { from, to }
            | Unlink { from, to }
            | GroupLeader { from, to }
            | SendSender { from, to, .. }
            | PayloadExit { from, to, .. }
            | PayloadExit2 { from, to, .. } => vec![tag, Term::Pid(*from), Term::Pid(*to)],
            Send { to, .. } => vec![tag, empty(), Term::Pid(*to)],
            Exit { from, to, .. } | Exit2 { from, to, .. } => {
                vec![tag, Term::Pid(*from), Term::Pid(*to)]
            }
            NodeLink => vec![tag],
            RegSend { from, to, .. } => vec![tag, Term::Pid(*from), empty(), Term::Atom(*to)],
            MonitorP {
                from,
                to,
                reference,
            }
            | DemonitorP {
                from,
                to,
                reference,
            } => vec![tag, Term::Pid(*from), to.to_term(), Term::Ref(*reference)],
            MonitorPExit {
                from,
                to,
                reference,
                reason,
            } => vec![
                tag,
                from.to_term(),
                Term::Pid(*to),
                Term::Ref(*reference),
                reason.clone(),
            ],
            PayloadMonitorPExit {
                from,
                to,
                reference,
            } => vec![tag, from.to_term(), Term::Pid(*to), Term::Ref(*reference)],
            SpawnRequest {
                req_id,
                from,
                group_leader,
                module,
                function,
                arity,
                opts,
                ..
            } => vec![
                tag,
                Term::Ref(*req_id),
                Term::Pid(*from),
                Term::Pid(*group_leader),
                Term::Tuple(vec![
                    Term::Atom(*module),
                    Term::Atom(*function),
                    Term::Int(*arity as i64),
                ]),
                opts.clone(),
            ],
            SpawnReply {
                req_id,
                to,
                flags,
                result,
                ..
            } => vec![
                tag,
                Term::Ref(*req_id),
                Term::Pid(*to),
                Term::Int(*flags),
                result.clone(),
            ],
            AliasSend { from, alias, .. } => vec![tag, Term::Pid(*from), Term::Ref(*alias)],
            UnlinkId { id, from, to } | UnlinkIdAck { id, from, to } => {
                vec![tag, Term::from(*id), Term::Pid(*from), Term::Pid(*to)]
            }
        };
        // The trace token goes last, except for EXIT_TT/EXIT2_TT where the reason follows it.
        match self {
            Exit { reason, token, .. } | Exit2 { reason, token, .. } => {
                if let Some(t) = token {
                    v.push(t.clone());
                }
                v.push(reason.clone());
            }
            Send { token: Some(t), .. }
            | RegSend { token: Some(t), .. }
            | SendSender { token: Some(t), .. }
            | PayloadExit { token: Some(t), .. }
            | PayloadExit2 { token: Some(t), .. }
            | SpawnRequest { token: Some(t), .. }
            | SpawnReply { token: Some(t), .. }
            | AliasSend { token: Some(t), .. } => v.push(t.clone()),
            _ => {}
        }
        Term::Tuple(v)
    }
}

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
            let used = match control_fast::traffic_onto(bytes, at, &d.refs, out) {
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
const PAYLOAD_WALK: usize = 128;
const PAYLOAD_DEPTH: usize = 8;

/// The atoms of the payload `t` (and the node atoms of its pids, references and ports), onto
/// `out`, depth-first, within the walk's limits above (`PAYLOAD_REFS` then bounds how many of
/// them become references).
fn payload_atoms(t: &Term, out: &mut Vec<Atom>) {
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
struct ControlDecoder {
    view: view::Decoder,
    refs: Vec<Atom>,
}

impl ControlDecoder {
    /// The control tuple at `at` (after a header whose atoms are in `refs`) when it is not in
    /// `control_fast`'s shapes: read with the view decoder, the other tags through owned terms
    /// (an opaque fun in them gets its cache references written out). Returns the offset after
    /// it.
    #[cold]
    fn general(
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
    /// Elements of the control tuple being encoded, reused (see `encode_dist_to`).
    static CONTROL_SCRATCH: Cell<Vec<Term>> = const { Cell::new(Vec::new()) };
    /// One view decoder per thread (its arena is reused across packets): connections' reader
    /// tasks run on the runtime's worker threads.
    static CONTROL_DECODER: RefCell<ControlDecoder> = RefCell::new(ControlDecoder::default());
}

#[cfg(test)]
#[path = "control_tests.rs"]
mod tests;
