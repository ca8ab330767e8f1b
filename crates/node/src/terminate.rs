//! A process's death: remove it from the table and registry, then send EXIT to every link and
//! DOWN to every watcher (in that order), and retract the monitors it held.
//! Runs exactly once per process, from the task wrapper, after the body has been dropped.

use crate::cell::{ExitKind, ProcCell};
use crate::exit::ExitReason;
use crate::node::Node;
use crate::remote::MonitorTarget;

impl Node {
    pub(crate) fn terminate(&self, cell: &ProcCell, reason: ExitReason) {
        let me = cell.pid;
        // Mark dead first: from now on links/monitors to us get noproc, so none is missed.
        let (name, rel) = cell.begin_exit();
        self.inner.table.remove(me);
        if let Some(name) = name {
            self.inner.registry.remove_if(name, me);
        }
        let Some(rel) = rel else {
            return;
        };
        for alias in &rel.aliases {
            self.inner.aliases.remove(alias, me);
        }
        let local = self.name();
        for &other in &rel.links {
            if other.node == local {
                self.inner
                    .table
                    .signal(other, |c| c.push_exit(me, &reason, ExitKind::Link));
            } else {
                self.remote().link_exit(me, other, reason.as_term().clone());
            }
        }
        for (&r, m) in &rel.watchers {
            if m.pid.node == local {
                self.inner.table.signal(m.pid, |c| c.push_down(r, &reason));
            } else {
                let target = match m.name {
                    Some(n) => MonitorTarget::Name(n, local),
                    None => MonitorTarget::Pid(me),
                };
                self.remote()
                    .monitor_down(target, m.pid, r, reason.as_term().clone());
            }
        }
        // Monitors we held die with us (BEAM removes them; remote peers get DEMONITOR).
        for (&r, m) in &rel.monitors {
            match m.resolved {
                Some(p) => {
                    self.inner.table.with(p, |c| c.remove_watcher(r));
                }
                None if m.target.node() != local => {
                    self.remote().demonitor(me, m.target, r);
                }
                None => {}
            }
        }
        if !rel.remote_nodes.is_empty() {
            self.inner
                .remote_index
                .remove(me, rel.remote_nodes.iter().copied());
        }
    }
}
