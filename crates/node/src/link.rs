//! Links and exit signals, sender side: `link`, `unlink`, `exit/2`, local or through `Remote`.
//! The receiving side (trap_exit, kill, normal) is `ProcCell::exit_signal`.

use crate::cell::{ExitKind, ProcCell};
use crate::exit::ExitReason;
use crate::node::Node;
use etf::Pid;

impl Node {
    /// `link(Other)` made by the live local process `me`. Linking to a process that does not
    /// exist sends `me` an exit signal `noproc` (`noconnection` for an unreachable node).
    pub(crate) fn link(&self, me: &ProcCell, other: Pid) {
        if other == me.pid {
            return;
        }
        // `me` is the running caller, so it cannot finish exiting while we are here; insert our
        // side first so an EXIT from `other` racing with us finds the link.
        {
            let mut inner = me.lock();
            let rel = inner.rel_mut();
            rel.links.insert(other);
            if !self.is_local(other) && rel.touch_node(other.node) {
                self.inner.remote_index.add(other.node, me.pid);
            }
        }
        if self.is_local(other) {
            let linked = self
                .inner
                .table
                .with(other, |c| {
                    c.relate_if_alive(|rel| {
                        rel.links.insert(me.pid);
                    })
                })
                .unwrap_or(false);
            if !linked {
                me.exit_signal(other, &ExitReason::noproc(), ExitKind::Link);
            }
        } else {
            if self.remote().link(me.pid, other).is_err() {
                me.exit_signal(other, &ExitReason::noconnection(), ExitKind::Link);
            }
        }
    }

    /// `unlink(Other)`: once it returns, the link has no further effect on `me` (an EXIT from it
    /// that was already turned into a message stays in the mailbox, as in Erlang).
    pub(crate) fn unlink(&self, me: &ProcCell, other: Pid) {
        let was_linked = me
            .lock()
            .rel
            .as_mut()
            .is_some_and(|rel| rel.links.remove(&other));
        if self.is_local(other) {
            self.inner.table.with(other, |c| {
                if let Some(rel) = c.lock().rel.as_mut() {
                    rel.links.remove(&me.pid);
                }
            });
        } else if was_linked {
            self.remote().unlink(me.pid, other);
        }
    }

    /// `exit(To, Reason)` sent by `from` (EXIT2 semantics).
    pub(crate) fn exit_signal(&self, from: Pid, to: Pid, reason: ExitReason) {
        if self.is_local(to) {
            self.inner
                .table
                .signal(to, |c| c.push_exit(from, &reason, ExitKind::Exit2));
        } else {
            self.remote().exit(from, to, reason.into_term());
        }
    }
}
