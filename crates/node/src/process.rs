//! `Process`: the handle a process body gets, i.e. its `self()`. Sending, links, monitors,
//! trap_exit, registration and spawning from a process (receive is in `receive.rs`).

use crate::cell::ProcCell;
use crate::error::{RegisterError, SendError};
use crate::exit::ExitReason;
use crate::monitor::is_down_for;
use crate::node::Node;
use crate::receive::Receiving;
use crate::remote::MonitorTarget;
use etf::{Atom, Pid, Ref, Term};
use std::fmt;
use std::sync::Arc;

/// A running process, as seen from its own body. Not `Clone`: only the process itself receives.
pub struct Process {
    pub(crate) node: Node,
    pub(crate) cell: Arc<ProcCell>,
    /// What receives keep from one to the next (see `receive.rs`).
    pub(crate) receiving: Receiving,
}

impl Process {
    pub(crate) fn new(node: Node, cell: Arc<ProcCell>) -> Process {
        Process {
            node,
            cell,
            receiving: Receiving::default(),
        }
    }

    /// `self()`.
    pub fn pid(&self) -> Pid {
        self.cell.pid
    }

    /// The node this process runs on.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// `To ! Msg`. Never fails: a message to a dead process is dropped, as in Erlang.
    pub fn send(&self, to: Pid, msg: impl Into<Term>) {
        let busy = self.node.route(self.pid(), to, msg.into());
        self.note_busy(busy, to.node);
    }

    /// `To ! Msg` for a message this process goes on using, as a notification sent to every
    /// subscriber: a local receiver gets its own copy (as BEAM copies a message into the
    /// receiver's heap), a remote one is sent an encoding of `msg` itself, with no copy made.
    pub fn send_ref(&self, to: Pid, msg: &Term) {
        let busy = self.node.route_ref(self.pid(), to, msg);
        self.note_busy(busy, to.node);
    }

    /// `To ! Msg` for one message sent to many processes, as a notification to every
    /// subscriber: the local receivers share `msg` (one term, where BEAM copies it into each
    /// heap; a receive that takes it out while others still hold it gets its own copy), a
    /// remote one is sent an encoding of it, as by `send_ref`.
    pub fn send_shared(&self, to: Pid, msg: &Arc<Term>) {
        let busy = self.node.route_shared(self.pid(), to, msg);
        self.note_busy(busy, to.node);
    }

    /// `Name ! Msg` to a local registered name (`badarg` in Erlang if unregistered).
    pub fn send_name(&self, name: Atom, msg: impl Into<Term>) -> Result<(), SendError> {
        self.node.route_name(name, msg.into())
    }

    /// `{Name, Node} ! Msg`. Local when `node` is this node; remote sends never fail.
    pub fn send_to(&self, name: Atom, node: Atom, msg: impl Into<Term>) -> Result<(), SendError> {
        let busy = self.node.route_to(self.pid(), name, node, msg.into())?;
        self.note_busy(busy, node);
        Ok(())
    }

    /// `{Name, Node} ! Msg` for a message this process goes on using (as `send_ref`).
    pub fn send_to_ref(&self, name: Atom, node: Atom, msg: &Term) -> Result<(), SendError> {
        let busy = self.node.route_to_ref(self.pid(), name, node, msg)?;
        self.note_busy(busy, node);
        Ok(())
    }

    /// Notes a send that found the connection to `node` busy, for `suspend_while_busy`.
    #[inline]
    pub(crate) fn note_busy(&self, busy: bool, node: Atom) {
        if busy {
            self.cell.sent_into_busy(node);
        }
    }

    /// Suspends this process while the connection to `node` is busy, if one of its own sends
    /// found it so: BEAM suspends a process whose send finds `dist_buf_busy_limit` (1 MB) or
    /// more queued on the connection, until it drains, and only that process. Sends never
    /// block here (`send` is not async), so a process that may produce messages faster than a
    /// peer takes them awaits this after sending. It ends at once when none of this process's
    /// sends found a busy connection since it last looked (without looking the connection up:
    /// it runs after every send), and when the connection is no longer busy, or gone.
    pub async fn suspend_while_busy(&self, node: Atom) {
        if self.cell.take_busy(node) {
            self.node.suspend_while_busy(node).await
        }
    }

    /// `link(Pid)`. A pid that does not exist sends us an exit signal `noproc`.
    pub fn link(&self, pid: Pid) {
        self.node.link(&self.cell, pid);
    }

    /// `unlink(Pid)`.
    pub fn unlink(&self, pid: Pid) {
        self.node.unlink(&self.cell, pid);
    }

    /// `process_flag(trap_exit, Flag)`: returns the previous value. While trapping, exit
    /// signals (except `kill` sent by `exit/2`) arrive as `{'EXIT', From, Reason}` messages.
    pub fn trap_exit(&self, flag: bool) -> bool {
        std::mem::replace(&mut self.cell.lock().trap_exit, flag)
    }

    /// `exit(Pid, Reason)`: send an exit signal (`kill` is untrappable; `normal` is ignored by a
    /// non-trapping process other than the sender itself).
    pub fn exit(&self, pid: Pid, reason: impl Into<ExitReason>) {
        self.node.exit_signal(self.pid(), pid, reason.into());
    }

    /// `monitor(process, Pid)`: DOWN arrives as `{'DOWN', Ref, process, Pid, Reason}`.
    pub fn monitor(&self, pid: Pid) -> Ref {
        self.node.monitor(&self.cell, MonitorTarget::Pid(pid))
    }

    /// `monitor(process, Name)` for a local registered name; DOWN names `{Name, Node}`.
    pub fn monitor_name(&self, name: Atom) -> Ref {
        let node = self.node.name();
        self.node
            .monitor(&self.cell, MonitorTarget::Name(name, node))
    }

    /// `monitor(process, {Name, Node})`, local or remote.
    pub fn monitor_name_at(&self, name: Atom, node: Atom) -> Ref {
        self.node
            .monitor(&self.cell, MonitorTarget::Name(name, node))
    }

    /// `demonitor(Ref)`: true if the monitor was still active.
    pub fn demonitor(&self, r: Ref) -> bool {
        self.node.demonitor(&self.cell, r, false)
    }

    /// `demonitor(Ref, [flush])`: also removes a DOWN for `r` already in the mailbox.
    pub fn demonitor_flush(&mut self, r: Ref) -> bool {
        let active = self.node.demonitor(&self.cell, r, true);
        if let Some(private) = self.receiving.private() {
            private.remove_all(|m| is_down_for(m, r));
        }
        active
    }

    /// `register(Name, self())`.
    pub fn register(&self, name: Atom) -> Result<(), RegisterError> {
        self.node.register(name, self.pid())
    }

    /// `make_ref()`.
    pub fn make_ref(&self) -> Ref {
        self.node.make_ref()
    }

    /// Number of messages waiting (`process_info(self(), message_queue_len)`).
    pub fn mailbox_len(&self) -> usize {
        self.receiving.private_len() + self.cell.lock().mailbox.len()
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Process({:?})", self.cell.pid)
    }
}
