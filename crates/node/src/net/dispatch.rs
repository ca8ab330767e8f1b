//! Inbound: each control message from a connection becomes a call on the node's inbound seam
//! (deliver, signal_link, signal_monitor, ...), in the connection's order. Signals naming a pid
//! that is not ours, or a sender that is not on the sending node, are logged and dropped.

use super::remote::DistRemote;
use super::signal::Signal;
use crate::node::Node;
use crate::remote::MonitorTarget;
use dist::{ControlMessage as C, Event, Message, ProcRef};
use etf::{Atom, Pid, Term};

impl DistRemote {
    /// One event from a connection, on that connection's task. Messages need no lock: their
    /// connection's `Up` was handled before its reader started, and its `Closed` comes after.
    pub(crate) fn on_event(&self, ev: Event) {
        match ev {
            Event::Up { peer, conn } => {
                let _order = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(h) = self.net.get(peer).filter(|h| h.id() == conn) {
                    self.on_accepted(h);
                }
            }
            // A batch of one: sends are delivered in `batch.rs` only.
            Event::Message {
                peer,
                conn,
                message,
            } => self.on_messages(peer, conn, &mut vec![message]),
            Event::Closed { peer, conn, reason } => {
                let _order = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
                tracing::debug!("connection to {peer} closed: {reason}");
                self.lost(peer, Some(conn));
            }
        }
    }

    /// Every control message but the sends to a local process or name, which `on_messages`
    /// delivers in runs before calling this.
    pub(super) fn dispatch(&self, node: &Node, peer: Atom, _conn: u64, m: Message) {
        let me = node.name();
        let ours = |p: &Pid| p.node == me;
        let theirs = |p: &Pid| p.node == peer;
        let payload = m.payload.unwrap_or_else(Term::nil);
        match m.control {
            C::AliasSend { alias, .. } if alias.node == me => node.deliver_alias(alias, payload),
            C::Link { from, to } if theirs(&from) && ours(&to) => node.signal_link(from, to),
            C::Unlink { from, to } if ours(&to) => node.signal_unlink(from, to),
            C::UnlinkId { id, from, to } if theirs(&from) && ours(&to) => {
                node.signal_unlink(from, to);
                // The ack must precede any other signal from `to` to `from`: it goes out now,
                // on the same ordered path as everything `to` sends later.
                self.signal(
                    peer,
                    Signal::UnlinkAck {
                        id,
                        from: to,
                        to: from,
                    },
                );
            }
            C::UnlinkIdAck { .. } => {}
            C::Exit {
                from, to, reason, ..
            } if ours(&to) => node.signal_exit(from, to, reason, true),
            C::PayloadExit { from, to, .. } if ours(&to) => {
                node.signal_exit(from, to, payload, true)
            }
            C::Exit2 {
                from, to, reason, ..
            } if ours(&to) => node.signal_exit(from, to, reason, false),
            C::PayloadExit2 { from, to, .. } if ours(&to) => {
                node.signal_exit(from, to, payload, false)
            }
            C::MonitorP {
                from,
                to,
                reference,
            } if theirs(&from) => node.signal_monitor(from, local_target(to, me), reference),
            C::DemonitorP {
                from,
                to,
                reference,
            } if theirs(&from) => node.signal_demonitor(from, local_target(to, me), reference),
            C::MonitorPExit {
                from,
                to,
                reference,
                reason,
            } if ours(&to) => node.signal_down(remote_target(from, peer), to, reference, reason),
            C::PayloadMonitorPExit {
                from,
                to,
                reference,
            } if ours(&to) => node.signal_down(remote_target(from, peer), to, reference, payload),
            C::SpawnRequest {
                req_id,
                from,
                module,
                function,
                opts,
                ..
            } if theirs(&from) => {
                self.on_spawn_request(node, peer, req_id, from, module, function, &opts, payload)
            }
            C::SpawnReply {
                req_id,
                to,
                flags,
                result,
                ..
            } if ours(&to) => self.on_spawn_reply(node, peer, req_id, to, flags, &result),
            C::GroupLeader { .. } | C::NodeLink => {}
            other => tracing::warn!(
                "dropped control message {} from {peer}: it names a process on the wrong node",
                other.tag()
            ),
        }
    }
}

/// A monitor target as the peer named it on the wire, on this node.
fn local_target(t: ProcRef, me: Atom) -> MonitorTarget {
    match t {
        ProcRef::Pid(p) => MonitorTarget::Pid(p),
        ProcRef::Name(n) => MonitorTarget::Name(n, me),
    }
}

/// The sender of a DOWN, on the peer's node.
fn remote_target(t: ProcRef, peer: Atom) -> MonitorTarget {
    match t {
        ProcRef::Pid(p) => MonitorTarget::Pid(p),
        ProcRef::Name(n) => MonitorTarget::Name(n, peer),
    }
}
