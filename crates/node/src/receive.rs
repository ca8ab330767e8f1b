//! Selective receive: take the first message (in arrival order) that a pattern accepts, waiting
//! with an optional timeout. Messages that do not match stay in the mailbox, in order; a save
//! position keeps a waiting receive from rescanning messages it already rejected.

use crate::cell::ProcCell;
use crate::process::Process;
use etf::Term;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

impl Process {
    /// `receive Msg -> Msg end`: the oldest message, waiting as long as it takes.
    pub async fn receive(&mut self) -> Term {
        loop {
            if let Some((_, msg)) = self.scan_wait(|_| Some(()), None).await {
                return msg;
            }
        }
    }

    /// `receive Msg -> Msg after Timeout -> none end`.
    pub async fn receive_timeout(&mut self, timeout: Duration) -> Option<Term> {
        self.scan_wait(|_| Some(()), Some(timeout))
            .await
            .map(|(_, m)| m)
    }

    /// Selective receive: the first message for which `select` returns `Some(r)` is removed and
    /// `r` returned. `None` timeout waits forever; `Some(Duration::ZERO)` is `after 0`.
    /// Returns `None` only on timeout.
    pub async fn receive_match<R>(
        &mut self,
        select: impl FnMut(&Term) -> Option<R>,
        timeout: Option<Duration>,
    ) -> Option<R> {
        self.scan_wait(select, timeout).await.map(|(r, _)| r)
    }

    /// Selective receive by predicate, returning the message itself.
    pub async fn receive_if(
        &mut self,
        mut pred: impl FnMut(&Term) -> bool,
        timeout: Option<Duration>,
    ) -> Option<Term> {
        self.scan_wait(|t| pred(t).then_some(()), timeout)
            .await
            .map(|(_, m)| m)
    }

    /// Typed selective receive: the first message that deserializes as `T` (serde, through
    /// `etf::from_term`); other messages stay in the mailbox.
    pub async fn receive_as<T: DeserializeOwned>(
        &mut self,
        timeout: Option<Duration>,
    ) -> Option<T> {
        self.receive_match(|t| etf::from_term::<T>(t).ok(), timeout)
            .await
    }

    fn scan_wait<R, F>(&mut self, select: F, timeout: Option<Duration>) -> Receive<'_, F>
    where
        F: FnMut(&Term) -> Option<R>,
    {
        Receive {
            cell: &self.cell,
            select,
            save: 0,
            timeout,
            sleep: None,
        }
    }
}

/// A pending selective receive. Hand-written (not an `async fn`) because it is what every idle
/// process is parked in: it holds only the cell reference, the pattern, the save position and
/// the timeout, keeping the whole process task small.
struct Receive<'a, F> {
    cell: &'a ProcCell,
    select: F,
    /// Index of the first message this receive has not examined yet.
    save: usize,
    timeout: Option<Duration>,
    /// Created only when a receive with a timeout actually has to wait, so a process idle in a
    /// plain `receive` carries no timer.
    sleep: Option<Pin<Box<Sleep>>>,
}

// `select` is only ever called through `&mut`, never pinned, so moving a `Receive` is fine.
impl<F> Unpin for Receive<'_, F> {}

impl<R, F> Future for Receive<'_, F>
where
    F: FnMut(&Term) -> Option<R>,
{
    type Output = Option<(R, Term)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        {
            let mut inner = this.cell.lock();
            if let Some(found) = inner.mailbox.scan(&mut this.save, &mut this.select) {
                return Poll::Ready(Some(found));
            }
            if this.timeout == Some(Duration::ZERO) {
                return Poll::Ready(None);
            }
            match &inner.recv_waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => inner.recv_waker = Some(cx.waker().clone()),
            }
        }
        match this.timeout {
            None => Poll::Pending,
            Some(d) => {
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + d)));
                sleep.as_mut().poll(cx).map(|()| None)
            }
        }
    }
}
