//! Control messages to and from their tuples, as OTP writes them: the general path, for the
//! tags `fast.rs` and the view do not read straight from the bytes, and for tests.

use super::{ControlError, ControlMessage, ProcRef};
use etf::{Atom, Pid, Ref, Term};

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
