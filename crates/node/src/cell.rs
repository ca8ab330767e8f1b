//! `ProcCell`: the shared state of one live process (mailbox, wakers, trap_exit, pending exit,
//! registered name, links and monitors) and how it *receives* messages and signals.
//! One small mutex per process, never held while taking another process's lock.

use crate::exit::ExitReason;
use crate::mailbox::{Mailbox, Msg};
use crate::remote::MonitorTarget;
use etf::{Atom, Pid, Ref, Term};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

pub(crate) struct ProcCell {
    pub(crate) pid: Pid,
    /// Set (under the lock) when the process must die; the supervising wrapper checks it on
    /// every poll so an exit signal stops a process that is not in receive.
    killed: AtomicBool,
    /// The node (its atom's index + 1) whose connection a remote send of this process last
    /// found busy, 0 when none did since the process last looked (`Process::suspend_while_busy`).
    /// Only the process itself writes it.
    busy_on: AtomicU32,
    inner: Mutex<Inner>,
}

pub(crate) struct Inner {
    pub(crate) alive: bool,
    pub(crate) trap_exit: bool,
    pub(crate) mailbox: Mailbox,
    /// Woken when a message arrives (registered by a pending receive).
    pub(crate) recv_waker: Option<Waker>,
    /// The task's own waker, woken when the process is killed.
    pub(crate) task_waker: Option<Waker>,
    pending_exit: Option<Box<ExitReason>>,
    pub(crate) name: Option<Atom>,
    /// Links and monitors, allocated on first use: most processes have none.
    pub(crate) rel: Option<Box<Relations>>,
}

/// Who this process is linked to and which monitors involve it.
#[derive(Default)]
pub(crate) struct Relations {
    pub(crate) links: HashSet<Pid>,
    /// Monitors this process holds (it is the watcher): ref -> what it watches.
    pub(crate) monitors: HashMap<Ref, Monitor>,
    /// Monitors on this process (it is the target): ref -> watcher, and the name if by name.
    pub(crate) watchers: HashMap<Ref, Watcher>,
    /// Remote nodes this process has (or had) links/monitors with: its entries in the node's
    /// `RemoteIndex`, removed when it exits.
    pub(crate) remote_nodes: Vec<Atom>,
    /// Active aliases of this process, deactivated when it exits.
    pub(crate) aliases: Vec<Ref>,
}

impl Relations {
    /// Note a relation with `node`; true if it is the first one (add to the `RemoteIndex`).
    pub(crate) fn touch_node(&mut self, node: Atom) -> bool {
        if self.remote_nodes.contains(&node) {
            false
        } else {
            self.remote_nodes.push(node);
            true
        }
    }
}

/// A monitor held by a watcher: what it watches (for the DOWN message) and, for local targets,
/// the pid it resolved to (so `demonitor` can find the target's side of it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Monitor {
    pub(crate) target: MonitorTarget,
    pub(crate) resolved: Option<Pid>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Watcher {
    pub(crate) pid: Pid,
    pub(crate) name: Option<Atom>,
}

/// Which kind of exit signal arrives: from a dying linked process, or `exit/2`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ExitKind {
    Link,
    Exit2,
}

impl Inner {
    pub(crate) fn rel_mut(&mut self) -> &mut Relations {
        self.rel.get_or_insert_with(Default::default)
    }
}

impl ProcCell {
    /// A remote send of this process found the connection to `node` busy (BEAM would
    /// suspend it on that send).
    pub(crate) fn sent_into_busy(&self, node: Atom) {
        self.busy_on.store(node.index() + 1, Ordering::Relaxed);
    }

    /// Whether a send found a busy connection since the note was last taken. The note is
    /// taken when it names `node` (the caller looks at that connection now); one naming
    /// another node stays for a later look at that one.
    pub(crate) fn take_busy(&self, node: Atom) -> bool {
        match self.busy_on.load(Ordering::Relaxed) {
            0 => false,
            n => {
                if n == node.index() + 1 {
                    self.busy_on.store(0, Ordering::Relaxed);
                }
                true
            }
        }
    }

    pub(crate) fn new(pid: Pid) -> ProcCell {
        ProcCell {
            pid,
            killed: AtomicBool::new(false),
            busy_on: AtomicU32::new(0),
            inner: Mutex::new(Inner {
                alive: true,
                trap_exit: false,
                mailbox: Mailbox::default(),
                recv_waker: None,
                task_waker: None,
                pending_exit: None,
                name: None,
                rel: None,
            }),
        }
    }

    /// A poisoned lock only means some code panicked while holding it; the state is still
    /// consistent for our purposes (every critical section is a few field updates).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Mark the process to die with `reason` (first reason wins) and return the waker to wake.
    fn kill_locked(&self, inner: &mut Inner, reason: ExitReason) -> Option<Waker> {
        if inner.pending_exit.is_none() {
            inner.pending_exit = Some(Box::new(reason));
        }
        self.killed.store(true, Ordering::Release);
        inner.task_waker.take()
    }

    /// The reason set by the kill, once the process is dying.
    pub(crate) fn take_exit_reason(&self) -> ExitReason {
        let mut inner = self.lock();
        inner
            .pending_exit
            .take()
            .map(|b| *b)
            .unwrap_or_else(ExitReason::killed)
    }

    /// Register the task waker; returns true if the process has already been killed (so the
    /// caller does not sleep past a kill that raced with this poll).
    pub(crate) fn register_task_waker(&self, waker: &Waker) -> bool {
        let mut inner = self.lock();
        match &inner.task_waker {
            Some(w) if w.will_wake(waker) => {}
            _ => inner.task_waker = Some(waker.clone()),
        }
        self.is_killed()
    }

    /// Enqueue a message; messages to a process that is gone are dropped, as in Erlang.
    /// Returns the waker to wake once the caller has released its locks.
    #[must_use]
    pub(crate) fn push_message(&self, msg: Term) -> Option<Waker> {
        self.push(Msg::Own(msg))
    }

    /// `push_message` of a message shared with other receivers (`Process::send_shared`).
    pub(crate) fn push_shared(&self, msg: Arc<Term>) -> Option<Waker> {
        self.push(Msg::Shared(msg))
    }

    #[inline]
    fn push(&self, msg: Msg) -> Option<Waker> {
        let mut inner = self.lock();
        if !inner.alive {
            return None;
        }
        inner.mailbox.push_msg(msg);
        inner.recv_waker.take()
    }

    /// `push_message` for each of `msgs` in order, under one lock; takes them out of `msgs`.
    #[must_use]
    pub(crate) fn push_messages(&self, msgs: &mut Vec<Term>) -> Option<Waker> {
        let mut inner = self.lock();
        if !inner.alive {
            return None;
        }
        for msg in msgs.drain(..) {
            inner.mailbox.push(msg);
        }
        inner.recv_waker.take()
    }

    /// An exit signal from `from` arrives. Link exits only count while the link exists (so
    /// after `unlink` returns the link has no effect). A trapping process gets
    /// `{'EXIT', From, Reason}`; otherwise a non-normal reason kills it (`kill` by `exit/2` is
    /// untrappable and becomes `killed`), and `normal` is ignored unless a process sends it to
    /// itself.
    #[must_use]
    pub(crate) fn push_exit(
        &self,
        from: Pid,
        reason: &ExitReason,
        kind: ExitKind,
    ) -> Option<Waker> {
        let mut inner = self.lock();
        if !inner.alive {
            return None;
        }
        if kind == ExitKind::Link {
            let linked = inner
                .rel
                .as_mut()
                .is_some_and(|rel| rel.links.remove(&from));
            if !linked {
                return None;
            }
        }
        if kind == ExitKind::Exit2 && reason.is_kill() {
            self.kill_locked(&mut inner, ExitReason::killed())
        } else if inner.trap_exit {
            inner.mailbox.push(Term::tuple(vec![
                Term::Atom(Atom::EXIT),
                Term::Pid(from),
                reason.as_term().clone(),
            ]));
            inner.recv_waker.take()
        } else if !reason.is_normal() {
            self.kill_locked(&mut inner, reason.clone())
        } else if kind == ExitKind::Exit2 && from == self.pid {
            self.kill_locked(&mut inner, ExitReason::normal())
        } else {
            None
        }
    }

    /// `push_exit` and wake, for callers that hold no lock.
    pub(crate) fn exit_signal(&self, from: Pid, reason: &ExitReason, kind: ExitKind) {
        wake(self.push_exit(from, reason, kind));
    }

    /// A monitor this process holds fired: deliver `{'DOWN', Ref, process, Item, Reason}` if the
    /// monitor is still active (a `demonitor` that won the race means no DOWN).
    #[must_use]
    pub(crate) fn push_down(&self, r: Ref, reason: &ExitReason) -> Option<Waker> {
        let mut inner = self.lock();
        if !inner.alive {
            return None;
        }
        let m = inner.rel.as_mut().and_then(|rel| rel.monitors.remove(&r))?;
        inner.mailbox.push(down_message(r, &m.target, reason));
        inner.recv_waker.take()
    }

    /// `push_down` and wake, for callers that hold no lock.
    pub(crate) fn down(&self, r: Ref, reason: &ExitReason) {
        wake(self.push_down(r, reason));
    }

    /// The watcher side of monitor `r` went away (`demonitor`, or the watcher died).
    pub(crate) fn remove_watcher(&self, r: Ref) {
        if let Some(rel) = self.lock().rel.as_mut() {
            rel.watchers.remove(&r);
        }
    }

    /// Add `f(rel)` if the process is alive; false if it is dead (the caller reports `noproc`).
    pub(crate) fn relate_if_alive(&self, f: impl FnOnce(&mut Relations)) -> bool {
        let mut inner = self.lock();
        if !inner.alive {
            return false;
        }
        f(inner.rel_mut());
        true
    }

    /// First step of dying: mark the process dead and take everything the exit must notify.
    /// After this, new links/monitors see a dead process and messages are dropped.
    pub(crate) fn begin_exit(&self) -> (Option<Atom>, Option<Box<Relations>>) {
        let mut inner = self.lock();
        inner.alive = false;
        inner.mailbox.clear();
        // Dropping the wakers breaks the task <-> cell reference cycle.
        inner.recv_waker = None;
        inner.task_waker = None;
        inner.pending_exit = None;
        (inner.name.take(), inner.rel.take())
    }
}

/// Wake outside any lock: a waker may run arbitrary code (another executor's), which must not
/// find our locks held.
pub(crate) fn wake(waker: Option<Waker>) {
    if let Some(w) = waker {
        w.wake();
    }
}

/// `{'DOWN', Ref, process, Pid | {Name, Node}, Reason}`.
pub(crate) fn down_message(r: Ref, target: &MonitorTarget, reason: &ExitReason) -> Term {
    Term::tuple(vec![
        Term::Atom(Atom::DOWN),
        Term::Ref(r),
        Term::Atom(Atom::PROCESS),
        target.to_term(),
        reason.as_term().clone(),
    ])
}
