//! Selective receive: order of non-matching messages, timeouts, save-pointer behaviour.

mod common;
use common::*;
use ferl::{Node, Term};
use std::time::{Duration, Instant};

#[tokio::test]
async fn selective_receive_keeps_order_of_others() {
    let node = Node::local("recv@test", 1);
    let got = in_process(&node, |mut p| async move {
        for i in 0..10 {
            p.send(p.pid(), Term::Int(i));
        }
        let five = p
            .receive_match(|t| (t.as_int() == Some(5)).then_some(5), None)
            .await;
        let mut rest = Vec::new();
        while let Some(t) = p.receive_timeout(Duration::ZERO).await {
            rest.push(t.as_int().unwrap());
        }
        (five, rest)
    })
    .await;
    assert_eq!(got.0, Some(5));
    assert_eq!(got.1, vec![0, 1, 2, 3, 4, 6, 7, 8, 9]);
}

#[tokio::test]
async fn receive_timeout_expires_and_leaves_mailbox() {
    let node = Node::local("recv2@test", 1);
    let (res, waited, len) = in_process(&node, |mut p| async move {
        p.send(p.pid(), atom("other"));
        let t0 = Instant::now();
        let res = p
            .receive_if(|t| t.is_atom("wanted"), Some(Duration::from_millis(50)))
            .await;
        (res, t0.elapsed(), p.mailbox_len())
    })
    .await;
    assert!(res.is_none());
    assert!(waited >= Duration::from_millis(50), "{waited:?}");
    assert_eq!(len, 1, "non-matching message stays");
}

#[tokio::test]
async fn receive_waits_for_later_message() {
    let node = Node::local("recv3@test", 1);
    let res = in_process(&node, |mut p| async move {
        let me = p.pid();
        p.spawn(move |p2| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            p2.send(me, atom("late"));
        });
        p.receive_timeout(Duration::from_secs(5)).await
    })
    .await;
    assert!(res.unwrap().is_atom("late"));
}

#[tokio::test]
async fn after_zero_does_not_wait() {
    let node = Node::local("recv4@test", 1);
    let res = in_process(&node, |mut p| async move {
        p.receive_timeout(Duration::ZERO).await
    })
    .await;
    assert!(res.is_none());
}

/// `me ! :late` from another process after `ms` milliseconds.
fn send_later(p: &ferl::Process, ms: u64) {
    let me = p.pid();
    p.spawn(move |p2| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        p2.send(me, atom("late"));
    });
}

// A process keeps its receive timer from one receive to the next (receive.rs): these show that
// each receive still times out at its own deadline, whatever the kept timer was set for.

/// A process that gets `:late` after `late_ms`, receives with `first` (which waits for it, or
/// not), then with `second`: both results and how long the second receive took.
async fn two_receives(
    name: &str,
    late_ms: u64,
    first: Duration,
    second: Duration,
) -> (Option<Term>, Option<Term>, Duration) {
    let node = Node::local(name, 1);
    in_process(&node, move |mut p| async move {
        send_later(&p, late_ms);
        let first = p.receive_timeout(first).await;
        let t0 = Instant::now();
        let second = p.receive_timeout(second).await;
        (first, second, t0.elapsed())
    })
    .await
}

#[tokio::test]
async fn a_short_timeout_after_a_long_one_expires_on_time() {
    // The first receive waits, with the timer set 10 s ahead, and gets the message.
    let (first, second, waited) = two_receives(
        "recv5@test",
        20,
        Duration::from_secs(10),
        Duration::from_millis(50),
    )
    .await;
    assert!(first.is_some_and(|t| t.is_atom("late")));
    assert!(second.is_none());
    assert!(
        waited >= Duration::from_millis(50) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_long_timeout_after_a_short_one_waits_its_whole_time() {
    // The kept timer goes off 100 ms after the first receive began: not the second's time.
    let (first, second, waited) = two_receives(
        "recv6@test",
        10,
        Duration::from_millis(100),
        Duration::from_millis(400),
    )
    .await;
    assert!(first.is_some());
    assert!(second.is_none());
    assert!(waited >= Duration::from_millis(400), "{waited:?}");
}

#[tokio::test]
async fn a_timer_that_went_off_between_receives_changes_nothing() {
    let node = Node::local("recv7@test", 1);
    let (got, timed_out, waited, late) = in_process(&node, |mut p| async move {
        send_later(&p, 10);
        let got = p.receive_timeout(Duration::from_millis(30)).await;
        // The kept timer goes off here, with no receive waiting.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t0 = Instant::now();
        let timed_out = p.receive_timeout(Duration::from_millis(200)).await;
        let waited = t0.elapsed();
        send_later(&p, 20);
        let late = p.receive_timeout(Duration::from_secs(5)).await;
        (got, timed_out, waited, late)
    })
    .await;
    assert!(got.is_some());
    assert!(timed_out.is_none());
    assert!(waited >= Duration::from_millis(200), "{waited:?}");
    assert!(late.is_some_and(|t| t.is_atom("late")));
}

/// 100k non-matching messages arrive while the receiver waits for the last one: with a save
/// pointer each wakeup only scans new messages (O(n) in total, not O(n^2)).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_pointer_long_mailbox() {
    const N: i64 = 100_000;
    let node = Node::local("recv5@test", 1);
    let t0 = Instant::now();
    let (found, left) = in_process(&node, |mut p| async move {
        let me = p.pid();
        p.spawn(move |p2| async move {
            for i in 0..N {
                p2.send(me, Term::Int(i));
                // Yield after every message so the receiver wakes (and scans) very often.
                tokio::task::yield_now().await;
            }
            p2.send(me, atom("last"));
        });
        let found = p.receive_if(|t| t.is_atom("last"), None).await;
        (found, p.mailbox_len())
    })
    .await;
    assert!(found.unwrap().is_atom("last"));
    assert_eq!(left, N as usize);
    // O(n^2) over 100k would be ~5e9 term inspections (minutes); O(n) takes milliseconds.
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Point {
    x: i64,
    y: i64,
}

#[tokio::test]
async fn typed_receive_skips_other_messages() {
    let node = Node::local("recv6@test", 1);
    let (pt, len) = in_process(&node, |mut p| async move {
        p.send(p.pid(), atom("noise"));
        let t = etf::to_term(&point_out()).unwrap();
        p.send(p.pid(), t);
        let pt = p.receive_as::<Point>(Some(Duration::from_secs(1))).await;
        (pt, p.mailbox_len())
    })
    .await;
    assert_eq!(pt, Some(Point { x: 1, y: 2 }));
    assert_eq!(len, 1);
}

#[derive(serde::Serialize)]
struct PointOut {
    x: i64,
    y: i64,
}

fn point_out() -> PointOut {
    PointOut { x: 1, y: 2 }
}

/// Sends 0, 1 and 2 to `p` itself and receives 1 selectively: the receive takes all three in,
/// so 0 and 2 are left in the private queue. What the receive gave.
async fn leave_0_and_2_taken_in(p: &mut ferl::Process) -> Option<Term> {
    let me = p.pid();
    for i in 0..3 {
        p.send(me, Term::Int(i));
    }
    p.receive_if(|t| t.as_int() == Some(1), None).await
}

/// Another process sends `ints` to `p`, in order, and has ended when this returns.
async fn sent_by_another(p: &ferl::Process, ints: &[i64]) {
    let (me, ints) = (p.pid(), ints.to_vec());
    let sender = p.spawn(move |q| async move {
        for i in ints {
            q.send(me, Term::Int(i));
        }
    });
    wait_dead(p.node(), sender).await;
}

/// A receive takes everything that arrived into the process's private queue; what it leaves
/// there comes before what arrives later, and `mailbox_len` counts both.
#[tokio::test]
async fn messages_taken_in_and_arriving_later_keep_one_order() {
    let node = Node::local("recv_private@test", 1);
    let got = in_process(&node, |mut p| async move {
        let one = leave_0_and_2_taken_in(&mut p).await;
        let after_one = p.mailbox_len();
        // 3 and 4 arrive (from another process) while 0 and 2 wait in the private queue.
        sent_by_another(&p, &[3, 4]).await;
        let before_four = p.mailbox_len();
        let four = p.receive_if(|t| t.as_int() == Some(4), None).await;
        let mut rest = Vec::new();
        while let Some(t) = p.receive_timeout(Duration::ZERO).await {
            rest.push(t.as_int().unwrap());
        }
        (one, after_one, before_four, four, rest, p.mailbox_len())
    })
    .await;
    assert_eq!(got.0, Some(Term::Int(1)));
    assert_eq!(got.1, 2, "0 and 2 are still waiting");
    assert_eq!(got.2, 4, "0, 2, 3, 4");
    assert_eq!(got.3, Some(Term::Int(4)));
    assert_eq!(
        got.4,
        vec![0, 2, 3],
        "taken-in messages first, in arrival order"
    );
    assert_eq!(got.5, 0);
}

/// `demonitor(Ref, [flush])` also drops a DOWN that a receive already took in (it sat in
/// front of the message that receive looked for).
#[tokio::test]
async fn flush_removes_a_down_already_taken_in() {
    let node = Node::local("recv_flush@test", 1);
    let got = in_process(&node, |mut p| async move {
        let me = p.pid();
        let target = p.spawn(|_| async {});
        let r = p.monitor(target);
        wait_dead(p.node(), target).await;
        p.send(me, atom("after"));
        // The DOWN (or nothing, had the target died before the monitor) is taken in with it.
        let after = p.receive_if(|t| t.is_atom("after"), None).await;
        let before = p.mailbox_len();
        p.demonitor_flush(r);
        let left = p.receive_timeout(Duration::ZERO).await;
        (after, before, left, p.mailbox_len())
    })
    .await;
    assert!(got.0.is_some());
    assert_eq!(got.1, 1, "the DOWN waits in the process's own queue");
    assert_eq!(got.2, None, "flushed: {:?}", got.2);
    assert_eq!(got.3, 0);
}

/// `send_shared`: every local receiver gets the term, in order with the other messages its
/// sender sent it, whether it receives it selectively, whole, or after the others let go.
#[tokio::test]
async fn a_shared_message_reaches_every_local_receiver_in_order() {
    let node = Node::local("shared@test", 1);
    let got = in_process(&node, |mut p| async move {
        let me = p.pid();
        let receivers: Vec<_> = (0..3)
            .map(|k| {
                p.spawn(move |mut q| async move {
                    // Receiver 0 takes its message whole, the others match it in place.
                    let first = if k == 0 {
                        q.receive().await
                    } else {
                        q.receive_match(|t| Some(t.clone()), None)
                            .await
                            .expect("one")
                    };
                    let second = q.receive().await;
                    q.send(me, Term::tuple(vec![Term::Int(k), first, second]));
                })
            })
            .collect();
        let msg = std::sync::Arc::new(Term::tuple(vec![atom("notify"), Term::binary(b"x")]));
        for pid in &receivers {
            p.send_shared(*pid, &msg);
            p.send(*pid, atom("after"));
        }
        drop(msg);
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(
                p.receive_timeout(Duration::from_secs(5))
                    .await
                    .expect("reply"),
            );
        }
        got
    })
    .await;
    let want = |k| {
        Term::tuple(vec![
            Term::Int(k),
            Term::tuple(vec![atom("notify"), Term::binary(b"x")]),
            atom("after"),
        ])
    };
    let mut got = got;
    got.sort();
    assert_eq!(got, vec![want(0), want(1), want(2)]);
}

/// `receive()` takes the oldest message, whether it was already taken in (left behind by a
/// selective receive) or still waits behind the lock, and waits for one when there is none.
#[tokio::test]
async fn receive_takes_the_oldest_message_across_both_queues() {
    let node = Node::local("recv_oldest@test", 1);
    let got = in_process(&node, |mut p| async move {
        leave_0_and_2_taken_in(&mut p).await;
        sent_by_another(&p, &[3]).await;
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(p.receive().await.as_int().unwrap());
        }
        // Nothing left: the next receive waits for a message sent later.
        let me = p.pid();
        p.spawn(move |q| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            q.send(me, Term::Int(4));
        });
        got.push(p.receive().await.as_int().unwrap());
        (got, p.mailbox_len())
    })
    .await;
    assert_eq!(got, (vec![0, 2, 3, 4], 0));
}
