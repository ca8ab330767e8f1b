//! The inbound seam: what the distribution layer calls when a message or signal arrives from
//! another node for a local process, and when a connection is lost (`noconnection`).
//! All calls are non-blocking and safe to make from a connection's reader task.

use crate::cell::{ExitKind, Watcher};
use crate::exit::ExitReason;
use crate::monitor::resolve_local;
use crate::node::Node;
use crate::remote::MonitorTarget;
use etf::{Atom, Pid, Ref, Term};

impl Node {
    /// SEND / SEND_SENDER: a message for local `to` (dropped if `to` is dead).
    pub fn deliver(&self, to: Pid, msg: Term) {
        self.deliver_local(to, msg);
    }

    /// Several messages for local `to`, in order, under one mailbox lock (dropped if `to` is
    /// dead); takes them out of `msgs`.
    pub(crate) fn deliver_all(&self, to: Pid, msgs: &mut Vec<Term>) {
        self.inner.table.signal(to, |c| c.push_messages(msgs));
        msgs.clear();
    }

    /// REG_SEND: a message for local name `name` (dropped if no such name, as BEAM does).
    pub fn deliver_reg(&self, name: Atom, msg: Term) {
        if let Some(pid) = self.whereis(name) {
            self.deliver_local(pid, msg);
        }
    }

    /// LINK from remote `from` to local `to`. If `to` does not exist, `from` gets an EXIT
    /// `noproc` back (through `Remote::link_exit`).
    pub fn signal_link(&self, from: Pid, to: Pid) {
        let linked = self
            .inner
            .table
            .with(to, |c| {
                c.relate_if_alive(|rel| {
                    rel.links.insert(from);
                    if rel.touch_node(from.node) {
                        self.inner.remote_index.add(from.node, to);
                    }
                })
            })
            .unwrap_or(false);
        if !linked {
            self.remote()
                .link_exit(to, from, ExitReason::noproc().into_term());
        }
    }

    /// UNLINK / UNLINK_ID from remote `from` to local `to` (the ack is the caller's business).
    pub fn signal_unlink(&self, from: Pid, to: Pid) {
        self.inner.table.with(to, |c| {
            if let Some(rel) = c.lock().rel.as_mut() {
                rel.links.remove(&from);
            }
        });
    }

    /// EXIT (`is_link_exit`: a linked remote process died) or EXIT2 (`exit/2` from remote).
    pub fn signal_exit(&self, from: Pid, to: Pid, reason: Term, is_link_exit: bool) {
        let kind = if is_link_exit {
            ExitKind::Link
        } else {
            ExitKind::Exit2
        };
        let reason = ExitReason::from(reason);
        self.inner
            .table
            .signal(to, |c| c.push_exit(from, &reason, kind));
    }

    /// MONITOR_P from remote `watcher` on a local pid or name (`MonitorTarget::Name(name, _)`).
    /// If the target does not exist, the watcher gets DOWN `noproc` at once (through
    /// `Remote::monitor_down`): staying silent would hang `global:trans/2`.
    pub fn signal_monitor(&self, watcher: Pid, target: MonitorTarget, r: Ref) {
        let name = match target {
            MonitorTarget::Name(n, _) => Some(n),
            MonitorTarget::Pid(_) => None,
        };
        let added = resolve_local(self, target)
            .and_then(|pid| {
                self.inner.table.with(pid, |c| {
                    c.relate_if_alive(|rel| {
                        rel.watchers.insert(r, Watcher { pid: watcher, name });
                        if rel.touch_node(watcher.node) {
                            self.inner.remote_index.add(watcher.node, pid);
                        }
                    })
                })
            })
            .unwrap_or(false);
        if !added {
            let target = match name {
                Some(n) => MonitorTarget::Name(n, self.name()),
                None => target,
            };
            self.remote()
                .monitor_down(target, watcher, r, ExitReason::noproc().into_term());
        }
    }

    /// DEMONITOR_P from remote `watcher`.
    pub fn signal_demonitor(&self, watcher: Pid, target: MonitorTarget, r: Ref) {
        let found = resolve_local(self, target)
            .and_then(|pid| self.inner.table.with(pid, |c| c.remove_watcher(r)));
        if found.is_none() {
            // A name monitor whose name has since gone: look at the processes related to the
            // watcher's node instead of leaving a stale entry behind.
            for pid in self.inner.remote_index.pids_on(watcher.node) {
                self.inner.table.with(pid, |c| c.remove_watcher(r));
            }
        }
    }

    /// MONITOR_P_EXIT: a remote process (or name) that local `watcher` monitors with `r` is
    /// gone. The DOWN message names the target as the monitor was made (pid or {Name, Node}).
    pub fn signal_down(&self, _target: MonitorTarget, watcher: Pid, r: Ref, reason: Term) {
        let reason = ExitReason::from(reason);
        self.inner
            .table
            .signal(watcher, |c| c.push_down(r, &reason));
    }

    /// The connection to `node` is gone: every local link to a process there gets an exit
    /// signal `noconnection`, every local monitor of a pid/name there a DOWN `noconnection`,
    /// and monitors that processes there held on local processes are dropped.
    pub fn connection_lost(&self, node: Atom) {
        let reason = ExitReason::noconnection();
        for pid in self.inner.remote_index.take(node) {
            let Some(cell) = self.inner.table.get(pid) else {
                continue;
            };
            let (links, monitors) = {
                let mut inner = cell.lock();
                let Some(rel) = inner.rel.as_mut() else {
                    continue;
                };
                rel.remote_nodes.retain(|n| *n != node);
                rel.watchers.retain(|_, w| w.pid.node != node);
                let links: Vec<Pid> = rel
                    .links
                    .iter()
                    .filter(|p| p.node == node)
                    .copied()
                    .collect();
                let monitors: Vec<Ref> = rel
                    .monitors
                    .iter()
                    .filter(|(_, m)| m.resolved.is_none() && m.target.node() == node)
                    .map(|(r, _)| *r)
                    .collect();
                (links, monitors)
            };
            for from in links {
                cell.exit_signal(from, &reason, ExitKind::Link);
            }
            for r in monitors {
                cell.down(r, &reason);
            }
        }
    }
}
