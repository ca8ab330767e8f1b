//! Per-pair message order and no loss under concurrent senders.

mod common;
use common::*;
use ferl::{Node, Term};
use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_sender_order_is_kept() {
    const SENDERS: i64 = 4;
    const N: i64 = 10_000;
    let node = Node::local("order@test", 1);
    let (counts, ok) = in_process(&node, |mut p| async move {
        let me = p.pid();
        for s in 0..SENDERS {
            p.spawn(move |q| async move {
                for i in 0..N {
                    q.send(me, Term::tuple(vec![Term::Int(s), Term::Int(i)]));
                    if i % 100 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            });
        }
        let mut last: HashMap<i64, i64> = HashMap::new();
        let mut ok = true;
        for _ in 0..SENDERS * N {
            let m = p.receive().await;
            let [Term::Int(s), Term::Int(i)] = m.as_tuple().unwrap() else {
                panic!("bad message {m:?}")
            };
            let prev = last.insert(*s, *i).unwrap_or(-1);
            ok &= *i == prev + 1;
        }
        (last, ok)
    })
    .await;
    assert!(ok, "a sender's sequence was reordered or had a gap");
    for s in 0..SENDERS {
        assert_eq!(counts[&s], N - 1);
    }
}
