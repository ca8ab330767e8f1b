//! One outbound signal to another node, kept neutral until the connection is known: a signal
//! queued while connecting is encoded once the peer's flags say SEND or SEND_SENDER, EXIT or
//! PAYLOAD_EXIT, and so on.

use dist::flags::{DFLAG_EXIT_PAYLOAD, DFLAG_SEND_SENDER};
use dist::{ControlMessage as C, Message, ProcRef};
use etf::{Atom, Pid, Ref, Term};

/// What a signal without a message is taken to cost while queued (its control tuple).
const CONTROL_SIZE: usize = 32;

pub(crate) enum Signal {
    Send {
        from: Pid,
        to: Pid,
        msg: Term,
    },
    RegSend {
        from: Pid,
        name: Atom,
        msg: Term,
    },
    AliasSend {
        from: Pid,
        alias: Ref,
        msg: Term,
    },
    Link {
        from: Pid,
        to: Pid,
    },
    /// UNLINK_ID: the id is allocated per connection when encoded.
    Unlink {
        from: Pid,
        to: Pid,
    },
    UnlinkAck {
        id: u64,
        from: Pid,
        to: Pid,
    },
    /// `exit(To, Reason)` (EXIT2).
    Exit2 {
        from: Pid,
        to: Pid,
        reason: Term,
    },
    /// A linked process died (EXIT).
    LinkExit {
        from: Pid,
        to: Pid,
        reason: Term,
    },
    Monitor {
        watcher: Pid,
        target: ProcRef,
        r: Ref,
    },
    Demonitor {
        watcher: Pid,
        target: ProcRef,
        r: Ref,
    },
    /// MONITOR_P_EXIT: `target` is the pid, or the name atom for name monitors.
    Down {
        target: ProcRef,
        watcher: Pid,
        r: Ref,
        reason: Term,
    },
    SpawnRequest {
        req_id: Ref,
        from: Pid,
        module: Atom,
        function: Atom,
        args: Vec<Term>,
        opts: Term,
    },
    SpawnReply {
        req_id: Ref,
        to: Pid,
        flags: i64,
        result: Term,
    },
}

impl Signal {
    /// About how many bytes this signal takes on the wire: its message's encoding plus a
    /// control tuple (computed only for signals queued while a connection is set up).
    pub(crate) fn size_hint(&self) -> usize {
        match self {
            Signal::Send { msg, .. }
            | Signal::RegSend { msg, .. }
            | Signal::AliasSend { msg, .. } => CONTROL_SIZE + etf::encoded_dist_len(msg),
            _ => CONTROL_SIZE,
        }
    }

    /// The wire message for a connection with negotiated `flags`; `unlink_id` allocates the
    /// next UNLINK_ID of that connection.
    pub(crate) fn into_message(self, flags: u64, unlink_id: impl FnOnce() -> u64) -> Message {
        let payload_exit = flags & DFLAG_EXIT_PAYLOAD != 0;
        let (control, payload) = match self {
            Signal::Send { from, to, msg } => (send_control(flags, from, to), Some(msg)),
            Signal::RegSend { from, name, msg } => (reg_send_control(from, name), Some(msg)),
            Signal::AliasSend { from, alias, msg } => (
                C::AliasSend {
                    from,
                    alias,
                    token: None,
                },
                Some(msg),
            ),
            Signal::Link { from, to } => (C::Link { from, to }, None),
            Signal::Unlink { from, to } => (
                C::UnlinkId {
                    id: unlink_id(),
                    from,
                    to,
                },
                None,
            ),
            Signal::UnlinkAck { id, from, to } => (C::UnlinkIdAck { id, from, to }, None),
            Signal::Exit2 { from, to, reason } if payload_exit => (
                C::PayloadExit2 {
                    from,
                    to,
                    token: None,
                },
                Some(reason),
            ),
            Signal::Exit2 { from, to, reason } => (
                C::Exit2 {
                    from,
                    to,
                    reason,
                    token: None,
                },
                None,
            ),
            Signal::LinkExit { from, to, reason } if payload_exit => (
                C::PayloadExit {
                    from,
                    to,
                    token: None,
                },
                Some(reason),
            ),
            Signal::LinkExit { from, to, reason } => (
                C::Exit {
                    from,
                    to,
                    reason,
                    token: None,
                },
                None,
            ),
            Signal::Monitor { watcher, target, r } => (
                C::MonitorP {
                    from: watcher,
                    to: target,
                    reference: r,
                },
                None,
            ),
            Signal::Demonitor { watcher, target, r } => (
                C::DemonitorP {
                    from: watcher,
                    to: target,
                    reference: r,
                },
                None,
            ),
            Signal::Down {
                target,
                watcher,
                r,
                reason,
            } if payload_exit => (
                C::PayloadMonitorPExit {
                    from: target,
                    to: watcher,
                    reference: r,
                },
                Some(reason),
            ),
            Signal::Down {
                target,
                watcher,
                r,
                reason,
            } => (
                C::MonitorPExit {
                    from: target,
                    to: watcher,
                    reference: r,
                    reason,
                },
                None,
            ),
            Signal::SpawnRequest {
                req_id,
                from,
                module,
                function,
                args,
                opts,
            } => (
                C::SpawnRequest {
                    req_id,
                    from,
                    // The group leader must be a pid; ours is the requester itself (ferl has
                    // no io servers), as a dummy BEAM accepts.
                    group_leader: from,
                    module,
                    function,
                    arity: args.len() as u32,
                    opts,
                    token: None,
                },
                Some(Term::List(args)),
            ),
            Signal::SpawnReply {
                req_id,
                to,
                flags,
                result,
            } => (
                C::SpawnReply {
                    req_id,
                    to,
                    flags,
                    result,
                    token: None,
                },
                None,
            ),
        };
        Message::new(control, payload)
    }
}

/// The control message of `{name, node} ! msg` from `from`.
pub(crate) fn reg_send_control(from: Pid, name: Atom) -> C {
    C::RegSend {
        from,
        to: name,
        token: None,
    }
}

/// The control message of `from ! msg` to `to`: SEND_SENDER when the peer takes it, else SEND.
pub(crate) fn send_control(flags: u64, from: Pid, to: Pid) -> C {
    if flags & DFLAG_SEND_SENDER != 0 {
        C::SendSender {
            from,
            to,
            token: None,
        }
    } else {
        C::Send { to, token: None }
    }
}
