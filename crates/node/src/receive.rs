//! Selective receive: take the first message (in arrival order) that a pattern accepts, waiting
//! with an optional timeout. Messages that do not match stay in the mailbox, in order; a save
//! position keeps a waiting receive from rescanning messages it already rejected.
//!
//! The timeout's timer belongs to the process and outlives the receive: a process that waits
//! with a timeout again and again (a `GenServer.call` loop: each call `after 5000`) would
//! otherwise register a timer in tokio's wheel and remove it again for every call, each under
//! the wheel's lock (measured: 6% of a calling node's time in bench row (f)). The kept timer is
//! moved only when a receive needs it earlier than it is set for; when it goes off before a
//! receive's own deadline (set by an earlier receive) it is set again for that deadline. So a
//! loop of calls with the same timeout touches the wheel about once per timeout, and a timer
//! that goes off when no receive waits only wakes the process once, to find nothing new.

use crate::cell::ProcCell;
use crate::mailbox::{Mailbox, Taken};
use crate::process::Process;
use etf::Term;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

impl Process {
    /// `receive Msg -> Msg end`: the oldest message, waiting as long as it takes.
    pub async fn receive(&mut self) -> Term {
        // The oldest message is the first of those taken in already, when there are any:
        // returned from here, not through the receive future's output, whose moves of the
        // term at odd offsets stalled the CPU (a tenth of a stack server's node in bench (e)).
        if let Some(msg) = self.receiving.private().and_then(Mailbox::pop_front) {
            return msg;
        }
        loop {
            if let Some(((), msg)) = self.scan_wait::<_, _, Term>(|_| Some(()), None).await {
                return msg;
            }
        }
    }

    /// `receive Msg -> Msg after 0 -> none end`, without a future: the oldest message if there
    /// is one now. A loop that drains its mailbox this way before it waits
    /// (`while let Some(m) = p.try_receive()`) takes each message straight out of the queue;
    /// through `receive().await` each one was also moved through the future's output.
    #[inline]
    pub fn try_receive(&mut self) -> Option<Term> {
        if let Some(msg) = self.receiving.private().and_then(Mailbox::pop_front) {
            return Some(msg);
        }
        let mut inner = self.cell.lock();
        if inner.mailbox.is_empty() {
            return None;
        }
        let private = &mut self.receiving.kept().private;
        private.take_all_from(&mut inner.mailbox);
        drop(inner);
        private.pop_front()
    }

    /// `receive Msg -> Msg after Timeout -> none end`.
    pub async fn receive_timeout(&mut self, timeout: Duration) -> Option<Term> {
        self.scan_wait::<_, _, Term>(|_| Some(()), Some(timeout))
            .await
            .map(|((), m)| m)
    }

    /// Selective receive: the first message for which `select` returns `Some(r)` is removed and
    /// `r` returned. `None` timeout waits forever; `Some(Duration::ZERO)` is `after 0`.
    /// Returns `None` only on timeout.
    pub async fn receive_match<R>(
        &mut self,
        select: impl FnMut(&Term) -> Option<R>,
        timeout: Option<Duration>,
    ) -> Option<R> {
        // The message itself is not needed: dropped where it lies (see `mailbox::Taken`).
        self.scan_wait::<R, _, ()>(select, timeout)
            .await
            .map(|(r, ())| r)
    }

    /// Selective receive by predicate, returning the message itself.
    pub async fn receive_if(
        &mut self,
        mut pred: impl FnMut(&Term) -> bool,
        timeout: Option<Duration>,
    ) -> Option<Term> {
        self.scan_wait::<_, _, Term>(|t| pred(t).then_some(()), timeout)
            .await
            .map(|((), m)| m)
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

    fn scan_wait<R, F, T>(&mut self, select: F, timeout: Option<Duration>) -> Receive<'_, F, T>
    where
        F: FnMut(&Term) -> Option<R>,
        T: Taken,
    {
        Receive {
            cell: &self.cell,
            kept: &mut self.receiving,
            select,
            save: 0,
            timeout,
            deadline: None,
            taken: PhantomData,
        }
    }
}

/// A process's receive timer (see the header). Created only when a receive with a timeout
/// actually has to wait, so a process that never does carries none.
pub(crate) type AfterTimer = Pin<Box<Sleep>>;

/// A pending selective receive. Hand-written (not an `async fn`) because it is what every idle
/// process is parked in: it holds only the cell reference, the pattern, the save position, the
/// timeout and a reference to the process's timer, keeping the whole process task small.
/// What a process keeps from one receive to the next: boxed, and only once it is needed, so
/// that a process idle in its first receive pays one pointer for it (an idle process's task
/// future is its memory, allocated in steps of 128 bytes: 8 more went over a step).
#[derive(Default)]
pub(crate) struct Receiving(Option<Box<Kept>>);

#[derive(Default)]
struct Kept {
    /// The timer of receives with a timeout, kept from one to the next.
    after: Option<AfterTimer>,
    /// Messages taken in from the cell's mailbox and not received yet (see `mailbox.rs`).
    private: Mailbox,
}

impl Receiving {
    fn kept(&mut self) -> &mut Kept {
        self.0.get_or_insert_with(Box::default)
    }

    /// The messages taken in and not received yet, if any were ever taken in.
    pub(crate) fn private(&mut self) -> Option<&mut Mailbox> {
        self.0.as_mut().map(|k| &mut k.private)
    }

    pub(crate) fn private_len(&self) -> usize {
        self.0.as_ref().map_or(0, |k| k.private.len())
    }
}

struct Receive<'a, F, T> {
    cell: &'a ProcCell,
    kept: &'a mut Receiving,
    select: F,
    /// Index of the first message this receive has not examined yet.
    save: usize,
    timeout: Option<Duration>,
    /// When this receive times out: set when it first has to wait.
    deadline: Option<Instant>,
    /// What it takes out with the accepted message (see `mailbox::Taken`).
    taken: PhantomData<fn() -> T>,
}

// `select` is only ever called through `&mut`, never pinned, so moving a `Receive` is fine.
impl<F, T> Unpin for Receive<'_, F, T> {}

impl<R, F, T> Future for Receive<'_, F, T>
where
    F: FnMut(&Term) -> Option<R>,
    T: Taken,
{
    type Output = Option<(R, T)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            // What was taken in already, without a lock; then whatever arrived since, all of
            // it at once. The waker is set under the same lock that saw the cell empty, so no
            // arrival is missed.
            if let Some(private) = this.kept.private() {
                if let Some(found) = private.scan_take(&mut this.save, &mut this.select) {
                    return Poll::Ready(Some(found));
                }
            }
            let mut inner = this.cell.lock();
            if inner.mailbox.is_empty() {
                if this.timeout == Some(Duration::ZERO) {
                    return Poll::Ready(None);
                }
                match &inner.recv_waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => inner.recv_waker = Some(cx.waker().clone()),
                }
                break;
            }
            this.kept.kept().private.take_all_from(&mut inner.mailbox);
        }
        let Some(d) = this.timeout else {
            return Poll::Pending;
        };
        let deadline = *this.deadline.get_or_insert_with(|| Instant::now() + d);
        let after = &mut this.kept.kept().after;
        let timer = match after {
            Some(t) => {
                if t.deadline() > deadline {
                    t.as_mut().reset(deadline);
                }
                t
            }
            None => after.insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        // The timer is set for this deadline or an earlier one.
        while timer.as_mut().poll(cx).is_ready() {
            if timer.deadline() >= deadline {
                return Poll::Ready(None);
            }
            // An earlier receive's deadline went by: this one's is still to come.
            timer.as_mut().reset(deadline);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use crate::Node;
    use std::time::Duration;

    /// `try_receive` takes the oldest message without waiting: first those a selective receive
    /// took in and left, then what arrived since, in order; `None` when there is nothing.
    #[tokio::test]
    async fn try_receive_takes_the_oldest_message_or_none_without_waiting() {
        let node = Node::local("try@test", 1);
        let (tx, rx) = tokio::sync::oneshot::channel();
        node.spawn(move |mut p| async move {
            let me = p.pid();
            assert_eq!(p.try_receive(), None);
            for i in 0..3 {
                p.send(me, etf::Term::Int(i));
            }
            // Takes all three in and leaves 0 and 1, in order.
            let two = p.receive_match(|m| (m.as_int() == Some(2)).then_some(()), None);
            assert!(two.await.is_some());
            p.send(me, etf::Term::Int(3));
            let mut got = Vec::new();
            while let Some(m) = p.try_receive() {
                got.push(m.as_int().expect("an integer"));
            }
            p.send(me, etf::Term::Int(4));
            got.push(p.try_receive().and_then(|m| m.as_int()).unwrap_or(-1));
            let _ = tx.send((got, p.try_receive()));
        });
        let (got, last) = tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .expect("in time")
            .expect("process ran");
        assert_eq!(got, vec![0, 1, 3, 4]);
        assert_eq!(last, None);
    }

    /// A loop of receives with the same timeout, each waiting for its message (as a loop of
    /// calls does), leaves the process's timer where the first receive set it.
    #[tokio::test]
    async fn a_loop_of_receives_with_one_timeout_keeps_its_timer_unmoved() {
        let node = Node::local("after@test", 1);
        let (tx, rx) = tokio::sync::oneshot::channel();
        node.spawn(move |mut p| async move {
            let me = p.pid();
            let mut deadlines = Vec::new();
            for _ in 0..10 {
                p.spawn(move |q| async move {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    q.send(me, etf::Term::Int(1));
                });
                let got = p.receive_timeout(Duration::from_secs(60)).await;
                assert!(got.is_some());
                deadlines.push(
                    p.receiving
                        .0
                        .as_ref()
                        .and_then(|k| k.after.as_ref())
                        .map(|t| t.deadline()),
                );
            }
            let _ = tx.send(deadlines);
        });
        let deadlines = tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .expect("in time")
            .expect("process ran");
        assert!(deadlines[0].is_some(), "the first wait sets the timer");
        assert!(
            deadlines.iter().all(|d| *d == deadlines[0]),
            "moved: {deadlines:?}"
        );
    }
}
