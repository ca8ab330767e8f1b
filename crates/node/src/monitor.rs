//! Monitors, watcher side: `monitor` of a pid or a name (local or remote) and `demonitor`.
//! DOWN delivery is `ProcCell::down`; a target's death is handled in `terminate.rs`.

use crate::cell::{Monitor, ProcCell, Watcher};
use crate::exit::ExitReason;
use crate::node::Node;
use crate::remote::MonitorTarget;
use etf::{Atom, Pid, Ref, Term};

impl Node {
    /// `monitor(process, Target)` by the live local process `me`. A target that does not exist
    /// gives DOWN `noproc` at once; one on an unreachable node gives DOWN `noconnection`.
    pub(crate) fn monitor(&self, me: &ProcCell, target: MonitorTarget) -> Ref {
        let r = self.make_ref();
        let local_pid = match target {
            MonitorTarget::Pid(p) if self.is_local(p) => Some(Some(p)),
            MonitorTarget::Name(name, node) if node == self.name() => Some(self.whereis(name)),
            _ => None,
        };
        match local_pid {
            Some(resolved) => {
                me.lock()
                    .rel_mut()
                    .monitors
                    .insert(r, Monitor { target, resolved });
                let name = match target {
                    MonitorTarget::Name(n, _) => Some(n),
                    MonitorTarget::Pid(_) => None,
                };
                let watcher = Watcher { pid: me.pid, name };
                let added = resolved
                    .and_then(|p| {
                        self.inner.table.with(p, |c| {
                            c.relate_if_alive(|rel| {
                                rel.watchers.insert(r, watcher);
                            })
                        })
                    })
                    .unwrap_or(false);
                if !added {
                    me.down(r, &ExitReason::noproc());
                }
            }
            None => {
                let monitor = Monitor {
                    target,
                    resolved: None,
                };
                {
                    let mut inner = me.lock();
                    let rel = inner.rel_mut();
                    rel.monitors.insert(r, monitor);
                    if rel.touch_node(target.node()) {
                        self.inner.remote_index.add(target.node(), me.pid);
                    }
                }
                if self.remote().monitor(me.pid, target, r).is_err() {
                    me.down(r, &ExitReason::noconnection());
                }
            }
        }
        r
    }

    /// `demonitor(Ref)` (with `flush`: also drop a DOWN for it already in the mailbox).
    /// Returns whether the monitor was still active.
    pub(crate) fn demonitor(&self, me: &ProcCell, r: Ref, flush: bool) -> bool {
        let removed = me
            .lock()
            .rel
            .as_mut()
            .and_then(|rel| rel.monitors.remove(&r));
        match removed {
            Some(Monitor {
                resolved: Some(p), ..
            }) => {
                self.inner.table.with(p, |c| c.remove_watcher(r));
            }
            Some(Monitor {
                target,
                resolved: None,
            }) if target.node() != self.name() => {
                self.remote().demonitor(me.pid, target, r);
            }
            _ => {}
        }
        if flush {
            me.lock().mailbox.remove_all(|m| is_down_for(m, r));
        }
        removed.is_some()
    }
}

pub(crate) fn is_down_for(msg: &Term, r: Ref) -> bool {
    match msg.as_tuple() {
        Some([Term::Atom(tag), Term::Ref(mr), ..]) => *tag == Atom::DOWN && *mr == r,
        _ => false,
    }
}

/// The `Pid` or `{Name, Node}` a remote peer's monitor names, resolved to a local pid.
pub(crate) fn resolve_local(node: &Node, target: MonitorTarget) -> Option<Pid> {
    match target {
        MonitorTarget::Pid(p) => Some(p),
        MonitorTarget::Name(name, _) => node.whereis(name),
    }
}
