//! Spawning: allocate a pid, set up links/monitors requested with the spawn *before* the body can
//! run (so an immediate crash is never missed), and start the supervised tokio task.

use crate::cell::{ExitKind, Monitor, ProcCell, Watcher};
use crate::exit::{ExitReason, IntoExitReason};
use crate::node::Node;
use crate::process::Process;
use crate::remote::MonitorTarget;
use crate::supervise::ProcessTask;
use etf::{Pid, Ref};
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// Relations a new process starts with (`spawn_link`, `spawn_monitor`, SPAWN_REQUEST options).
/// `link_to` and the monitor's watcher may be local or remote pids.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpawnOpts {
    /// Link the new process to this pid.
    pub link_to: Option<Pid>,
    /// Make this pid monitor the new process with this ref.
    pub monitor_by: Option<(Pid, Ref)>,
}

impl Node {
    /// `spawn(Fun)`: start a process running `body`; returns its pid. The body gets its
    /// [`Process`] handle and may return `()`, an [`ExitReason`], a `Term` or a `Result`.
    pub fn spawn<F, Fut>(&self, body: F) -> Pid
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        self.spawn_opts(body, SpawnOpts::default())
    }

    /// `spawn_opt`: spawn with initial links/monitors.
    pub fn spawn_opts<F, Fut>(&self, body: F, opts: SpawnOpts) -> Pid
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        let (name, creation) = (self.name(), self.creation());
        let cell = self
            .inner
            .table
            .insert_new(|id, serial| ProcCell::new(Pid::new(name, id, serial, creation)));
        let pid = cell.pid;
        self.relate_at_spawn(&cell, opts);
        let process = Process::new(self.clone(), cell.clone());
        // The closure runs here, on the spawner's thread. If it panics before producing the
        // body, the new process must still leave the table (and tell its links), then the panic
        // goes on to the spawner, whose bug it is.
        let fut = match catch_unwind(AssertUnwindSafe(|| body(process))) {
            Ok(fut) => fut,
            Err(payload) => {
                self.terminate(&cell, ExitReason::from_panic_payload(&*payload));
                resume_unwind(payload)
            }
        };
        // The JoinHandle is dropped: the process is detached, its fate reported by signals.
        drop(
            self.runtime()
                .spawn(ProcessTask::new(self.clone(), cell, fut)),
        );
        pid
    }

    fn relate_at_spawn(&self, new: &ProcCell, opts: SpawnOpts) {
        if let Some(peer) = opts.link_to {
            let local = self.is_local(peer);
            new.relate_if_alive(|rel| {
                rel.links.insert(peer);
                if !local && rel.touch_node(peer.node) {
                    self.inner.remote_index.add(peer.node, new.pid);
                }
            });
            if local {
                let linked = self
                    .inner
                    .table
                    .with(peer, |c| {
                        c.relate_if_alive(|rel| {
                            rel.links.insert(new.pid);
                        })
                    })
                    .unwrap_or(false);
                if !linked {
                    new.exit_signal(peer, &ExitReason::noproc(), ExitKind::Link);
                }
            }
        }
        if let Some((watcher, r)) = opts.monitor_by {
            let local = self.is_local(watcher);
            new.relate_if_alive(|rel| {
                rel.watchers.insert(
                    r,
                    Watcher {
                        pid: watcher,
                        name: None,
                    },
                );
                if !local && rel.touch_node(watcher.node) {
                    self.inner.remote_index.add(watcher.node, new.pid);
                }
            });
            if local {
                let monitor = Monitor {
                    target: MonitorTarget::Pid(new.pid),
                    resolved: Some(new.pid),
                };
                self.inner.table.with(watcher, |c| {
                    c.relate_if_alive(|rel| {
                        rel.monitors.insert(r, monitor);
                    })
                });
            }
        }
    }
}

impl crate::process::Process {
    /// `spawn(Fun)` from this process.
    pub fn spawn<F, Fut>(&self, body: F) -> Pid
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        self.node.spawn(body)
    }

    /// `spawn_link(Fun)`: the link exists before the new process runs.
    pub fn spawn_link<F, Fut>(&self, body: F) -> Pid
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        let opts = SpawnOpts {
            link_to: Some(self.pid()),
            monitor_by: None,
        };
        self.node.spawn_opts(body, opts)
    }

    /// `spawn_monitor(Fun)`: returns the new pid and the monitor ref.
    pub fn spawn_monitor<F, Fut>(&self, body: F) -> (Pid, Ref)
    where
        F: FnOnce(Process) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExitReason,
    {
        let r = self.node.make_ref();
        let opts = SpawnOpts {
            link_to: None,
            monitor_by: Some((self.pid(), r)),
        };
        (self.node.spawn_opts(body, opts), r)
    }
}
