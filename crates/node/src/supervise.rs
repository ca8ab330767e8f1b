//! The wrapper every process task runs: polls the body inside `catch_unwind` (a panic is a crash
//! of that process only), stops it when an exit signal kills it, and always runs the exit
//! (table/registry removal, EXIT and DOWN signals), even if the task is dropped by the runtime.

use crate::cell::ProcCell;
use crate::exit::{ExitReason, IntoExitReason};
use crate::node::Node;
use crate::pidfmt::elixir_pid;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The future of a process task. Hand-written rather than an `async fn` because an `async fn`
/// stores its argument and the pinned copy of the body separately, doubling the per-process cost.
pub(crate) struct ProcessTask<F> {
    /// The body, structurally pinned; set to `None` (dropped in place) when the process ends.
    body: Option<F>,
    node: Node,
    cell: Arc<ProcCell>,
    waker_registered: bool,
    /// The exit has run (it must run exactly once, also if the task is dropped unfinished).
    done: bool,
}

impl<F> ProcessTask<F>
where
    F: Future,
    F::Output: IntoExitReason,
{
    pub(crate) fn new(node: Node, cell: Arc<ProcCell>, body: F) -> ProcessTask<F> {
        ProcessTask {
            body: Some(body),
            node,
            cell,
            waker_registered: false,
            done: false,
        }
    }

    /// Poll the body once: `Some(reason)` when the process is over (returned, panicked, killed).
    fn step(
        cell: &ProcCell,
        node: &Node,
        waker_registered: &mut bool,
        body: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Option<ExitReason> {
        if cell.is_killed() {
            return Some(cell.take_exit_reason());
        }
        match catch_unwind(AssertUnwindSafe(|| body.poll(cx))) {
            Ok(Poll::Ready(out)) => Some(out.into_exit_reason()),
            Ok(Poll::Pending) => {
                // The task-level waker is stable for a tokio task: register it once so a kill
                // can wake a process blocked on anything, not just receive.
                let killed = if *waker_registered {
                    cell.is_killed()
                } else {
                    *waker_registered = true;
                    cell.register_task_waker(cx.waker())
                };
                killed.then(|| cell.take_exit_reason())
            }
            Err(payload) => {
                let reason = ExitReason::from_panic_payload(&*payload);
                tracing::error!(
                    "Process {} on node :{} raised an exception\n** (panic) {}",
                    elixir_pid(cell.pid),
                    node.name(),
                    panic_text(&reason),
                );
                Some(reason)
            }
        }
    }

    /// Drop the body (releasing what it holds, as a dead BEAM process holds nothing), then send
    /// the exit signals.
    fn finish(&mut self, reason: ExitReason) {
        self.done = true;
        let drop_body = catch_unwind(AssertUnwindSafe(|| self.body = None));
        if drop_body.is_err() {
            tracing::error!(
                "Process {} panicked while being dropped",
                elixir_pid(self.cell.pid)
            );
        }
        self.node.terminate(&self.cell, reason);
    }
}

impl<F> Future for ProcessTask<F>
where
    F: Future,
    F::Output: IntoExitReason,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: `body` is the only structurally pinned field. It is never moved: it is polled
        // through `Pin::new_unchecked` below and only ever dropped in place (`body = None`);
        // no other code moves it, and `ProcessTask` is `!Unpin` whenever `F` is.
        let this = unsafe { self.get_unchecked_mut() };
        if this.done {
            return Poll::Ready(());
        }
        let reason = match this.body.as_mut() {
            // SAFETY: see above; `this` is pinned, so is its `body` field.
            Some(body) => Self::step(
                &this.cell,
                &this.node,
                &mut this.waker_registered,
                unsafe { Pin::new_unchecked(body) },
                cx,
            ),
            None => Some(ExitReason::killed()),
        };
        match reason {
            Some(reason) => {
                this.finish(reason);
                Poll::Ready(())
            }
            None => Poll::Pending,
        }
    }
}

impl<F> Drop for ProcessTask<F> {
    fn drop(&mut self) {
        // Dropped unfinished (runtime shutdown): the process still exits, so its links and
        // monitors hear about it and it leaves the table.
        if !self.done {
            self.done = true;
            self.node.terminate(&self.cell, ExitReason::killed());
        }
    }
}

fn panic_text(reason: &ExitReason) -> String {
    match reason.as_term().as_tuple() {
        Some([_, msg]) => msg.as_str().unwrap_or("").to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;
    use crate::process::Process;

    fn size_of_fut<F: Future>(_: &F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Guards the idle-process budget (~456 B measured by `ferl bench` row (h), 1 KB allowed):
    /// the tokio task holds ~100 B of its own plus this future, rounded up to 128-byte
    /// multiples, so the task future of an idle process must stay at most 152 B. Turning
    /// `ProcessTask` or `Receive` back into `async fn`s roughly doubles it.
    #[tokio::test]
    async fn idle_process_stays_small() {
        let node = Node::local("size@test", 1);
        let cell = Arc::new(ProcCell::new(node.system_pid()));
        let body = |mut p: Process| async move {
            p.receive().await;
        };
        let fut = body(Process::new(node.clone(), cell.clone()));
        let task = ProcessTask::new(node.clone(), cell.clone(), fut);
        let task_size = size_of_fut(&task);
        assert!(task_size <= 160, "process task future is {task_size} bytes");
        // As `ferl bench` row (h)'s processes: a body that also holds an `Arc` until it runs.
        // 152 is the step: at 160, tokio's task cell (128-byte aligned) went from 256 to 384
        // bytes and (h) from 456 to 716 bytes per idle process.
        let running = Arc::new(());
        let body = move |mut p: Process| async move {
            drop(running);
            p.receive().await;
        };
        let fut = body(Process::new(node.clone(), cell.clone()));
        let task = ProcessTask::new(node.clone(), cell.clone(), fut);
        let task_size = size_of_fut(&task);
        assert!(
            task_size <= 152,
            "(h)'s process task future is {task_size} bytes"
        );
        let cell_size = std::mem::size_of::<ProcCell>();
        assert!(cell_size <= 144, "ProcCell is {cell_size} bytes");
    }
}
