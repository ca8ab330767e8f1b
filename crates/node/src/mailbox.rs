//! The mailbox: an ordered queue of messages and the selective-receive scan over it.
//! A process has two, as BEAM does: the one in its cell's mutex, where senders put messages,
//! and a private one that only the process touches, which a receive takes the whole shared
//! queue into and scans without a lock (one lock per batch of arrivals, not per message).
//! Receive futures keep their own save position into the private queue.
//! A message sent to many local processes (`Process::send_shared`) is queued as one shared
//! term rather than a copy per receiver.

use etf::Term;
use std::collections::VecDeque;
use std::sync::Arc;

/// A queued message: the receiver's own term, or one shared with the other processes it was
/// sent to. Shared, it is copied only if a receive takes it out while others still hold it.
pub(crate) enum Msg {
    Own(Term),
    Shared(Arc<Term>),
}

impl Msg {
    pub(crate) fn term(&self) -> &Term {
        match self {
            Msg::Own(t) => t,
            Msg::Shared(t) => t,
        }
    }

    /// The message as the receiver's own term: moved out if no other process holds it.
    pub(crate) fn into_term(self) -> Term {
        match self {
            Msg::Own(t) => t,
            Msg::Shared(t) => Arc::try_unwrap(t).unwrap_or_else(|t| (*t).clone()),
        }
    }
}

/// What a receive takes out of the mailbox with the message it accepts: the message itself, or
/// nothing (`()`), for a receive that needs only what its pattern returned: the message is then
/// dropped where it lies. Moved out only to be dropped, a term went through two temporaries,
/// and reading the second back stalled the CPU (5% of a receiving node in bench row (b)).
pub(crate) trait Taken: Sized {
    /// Removes message `i` (which exists) and gives what is taken.
    fn take(queue: &mut VecDeque<Msg>, i: usize) -> Option<Self>;
}

impl Taken for Term {
    fn take(queue: &mut VecDeque<Msg>, i: usize) -> Option<Term> {
        let msg = if i == 0 {
            queue.pop_front()
        } else {
            queue.remove(i)
        };
        msg.map(Msg::into_term)
    }
}

impl Taken for () {
    fn take(queue: &mut VecDeque<Msg>, i: usize) -> Option<()> {
        queue.drain(i..=i);
        Some(())
    }
}

/// Messages in arrival order. An empty `VecDeque` allocates nothing, which keeps idle processes
/// cheap (a tokio mpsc would pre-allocate a 32-slot block per process).
#[derive(Default)]
pub(crate) struct Mailbox {
    queue: VecDeque<Msg>,
}

impl Mailbox {
    pub(crate) fn push(&mut self, msg: Term) {
        self.push_msg(Msg::Own(msg));
    }

    pub(crate) fn push_msg(&mut self, msg: Msg) {
        self.queue.push_back(msg);
    }

    /// The oldest message, taken out.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<Term> {
        self.queue.pop_front().map(Msg::into_term)
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Moves every message of `newer` (which all arrived after ours) to the end, in order.
    /// Into an empty queue the two just swap, so their buffers are reused.
    pub(crate) fn take_all_from(&mut self, newer: &mut Mailbox) {
        if self.queue.is_empty() {
            std::mem::swap(&mut self.queue, &mut newer.queue);
        } else {
            self.queue.append(&mut newer.queue);
        }
    }

    /// Scan from `*save` (the first message this receive has not looked at yet, like BEAM's save
    /// pointer) and remove the first message `select` accepts. Messages that do not match stay,
    /// in order; `*save` moves past them so a wakeup never rescans what was already rejected.
    #[cfg(test)]
    pub(crate) fn scan<R>(
        &mut self,
        save: &mut usize,
        select: &mut impl FnMut(&Term) -> Option<R>,
    ) -> Option<(R, Term)> {
        self.scan_take(save, select)
    }

    /// `scan`, taking out what `T` says (the message, or nothing: see `Taken`).
    pub(crate) fn scan_take<R, T: Taken>(
        &mut self,
        save: &mut usize,
        select: &mut impl FnMut(&Term) -> Option<R>,
    ) -> Option<(R, T)> {
        let mut i = *save;
        while i < self.queue.len() {
            if let Some(r) = select(self.queue[i].term()) {
                let taken = T::take(&mut self.queue, i)?;
                *save = 0;
                return Some((r, taken));
            }
            i += 1;
        }
        *save = i;
        None
    }

    /// Remove every message `select` accepts (used by `demonitor` with flush).
    pub(crate) fn remove_all(&mut self, mut select: impl FnMut(&Term) -> bool) {
        self.queue.retain(|m| !select(m.term()));
    }

    /// Drop all messages and give the memory back (the process is gone).
    pub(crate) fn clear(&mut self) {
        self.queue = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_keeps_order_and_advances_save() {
        let mut mb = Mailbox::default();
        for i in 0..5 {
            mb.push(Term::Int(i));
        }
        let mut save = 0;
        let mut want3 = |t: &Term| (t.as_int() == Some(3)).then_some(());
        assert!(mb.scan(&mut save, &mut want3).is_some());
        assert_eq!(save, 0);
        let mut none = |_: &Term| None::<()>;
        assert!(mb.scan(&mut save, &mut none).is_none());
        assert_eq!(save, 4);
        let rest: Vec<i64> = mb.queue.iter().filter_map(|t| t.term().as_int()).collect();
        assert_eq!(rest, vec![0, 1, 2, 4]);
    }

    #[test]
    fn taking_nothing_drops_the_accepted_message_where_it_lies() {
        let mut mb = Mailbox::default();
        for i in 0..5 {
            mb.push(Term::tuple(vec![
                Term::Int(i),
                Term::binary(&[i as u8; 100]),
            ]));
        }
        let rest = |mb: &Mailbox| -> Vec<i64> {
            mb.queue
                .iter()
                .filter_map(|t| t.term().as_tuple().and_then(|e| e[0].as_int()))
                .collect()
        };
        let want = |k: i64| {
            move |t: &Term| (t.as_tuple().and_then(|e| e[0].as_int()) == Some(k)).then_some(k)
        };
        let mut save = 0;
        assert_eq!(
            mb.scan_take::<_, ()>(&mut save, &mut want(3)),
            Some((3, ()))
        );
        assert_eq!(rest(&mb), vec![0, 1, 2, 4]);
        assert_eq!(
            mb.scan_take::<_, ()>(&mut save, &mut want(0)),
            Some((0, ()))
        );
        assert_eq!(rest(&mb), vec![1, 2, 4]);
        assert_eq!(mb.scan_take::<_, ()>(&mut save, &mut want(7)), None);
        assert_eq!((save, mb.len()), (3, 3));
    }

    #[test]
    fn a_queued_message_is_no_larger_than_a_term() {
        assert_eq!(std::mem::size_of::<Msg>(), std::mem::size_of::<Term>());
    }

    /// A shared message is the same term to every receiver: taken out by the last holder it
    /// is moved (the very allocation), while others hold it a copy is made.
    #[test]
    fn a_shared_message_is_moved_out_by_its_last_holder_and_copied_before() {
        let msg = Arc::new(Term::tuple(vec![Term::atom("notify"), Term::binary(b"x")]));
        let elems = msg.as_tuple().expect("tuple").as_ptr();
        let (mut a, mut b) = (Mailbox::default(), Mailbox::default());
        a.push_msg(Msg::Shared(msg.clone()));
        b.push_msg(Msg::Shared(msg));
        let any = |_: &Term| Some(());
        let (_, first): ((), Term) = a.scan_take(&mut 0, &mut { any }).expect("a has it");
        assert_eq!(
            first,
            Term::tuple(vec![Term::atom("notify"), Term::binary(b"x")])
        );
        assert_ne!(
            first.as_tuple().expect("tuple").as_ptr(),
            elems,
            "copied while shared"
        );
        let (_, last): ((), Term) = b.scan_take(&mut 0, &mut { any }).expect("b has it");
        assert_eq!(last, first);
        assert_eq!(
            last.as_tuple().expect("tuple").as_ptr(),
            elems,
            "moved by the last"
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(u8),
        Recv(u8),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![any::<u8>().prop_map(Op::Push), (0u8..4).prop_map(Op::Recv)]
    }

    proptest::proptest! {
        /// A blocked receive resumed from its save position after each new message takes exactly
        /// what a full rescan (the naive model) would take, and leaves the same mailbox.
        #[test]
        fn save_position_matches_full_rescan(ops in proptest::collection::vec(op(), 0..200)) {
            let mut mb = Mailbox::default();
            let mut model: VecDeque<i64> = VecDeque::new();
            let mut pending: Option<(u8, usize)> = None;
            let take_model = |model: &mut VecDeque<i64>, k: u8| {
                let i = model.iter().position(|v| v % 4 == k as i64)?;
                model.remove(i)
            };
            for op in ops {
                let k = match op {
                    Op::Push(v) => {
                        mb.push(Term::Int(v as i64));
                        model.push_back(v as i64);
                        match pending { Some((k, _)) => k, None => continue }
                    }
                    Op::Recv(k) => {
                        if pending.is_some() { continue }
                        pending = Some((k, 0));
                        k
                    }
                };
                let Some((_, save)) = pending.as_mut() else { continue };
                let mut sel = |t: &Term| t.as_int().filter(|v| v % 4 == k as i64);
                let got = mb.scan(save, &mut sel).map(|(v, _)| v);
                let want = take_model(&mut model, k);
                proptest::prop_assert_eq!(got, want);
                if got.is_some() { pending = None; }
            }
            let rest: Vec<i64> = mb.queue.iter().filter_map(|t| t.term().as_int()).collect();
            proptest::prop_assert_eq!(rest, model.into_iter().collect::<Vec<_>>());
        }
    }
}
