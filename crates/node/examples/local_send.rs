//! Local messaging figures (not a test): one-way throughput between two processes, several
//! senders into one mailbox, and ping-pong round trips.
//!
//! `cargo run --release -p ferl --example local_send -- 1000000`

use ferl::{Node, Pid, Process, Term};
use std::time::Instant;
use tokio::sync::oneshot;

async fn one_way(node: &Node, senders: u64, n: u64) -> f64 {
    let (tx, rx) = oneshot::channel();
    let sink = node.spawn(move |mut p: Process| async move {
        for _ in 0..senders * n {
            p.receive().await;
        }
        let _ = tx.send(Instant::now());
    });
    let t0 = Instant::now();
    for _ in 0..senders {
        node.spawn(move |p: Process| async move {
            for i in 0..n {
                p.send(sink, Term::Int(i as i64));
            }
        });
    }
    let t1 = rx.await.expect("sink finished");
    (senders * n) as f64 / (t1 - t0).as_secs_f64()
}

async fn ping_pong(node: &Node, n: u64) -> f64 {
    let ponger = node.spawn(move |mut p: Process| async move {
        for _ in 0..n {
            let m = p.receive().await;
            if let Some(from) = m.as_pid() {
                p.send(*from, Term::atom("pong"));
            }
        }
    });
    let (tx, rx) = oneshot::channel();
    let t0 = Instant::now();
    node.spawn(move |mut p: Process| async move {
        let me: Pid = p.pid();
        for _ in 0..n {
            p.send(ponger, Term::Pid(me));
            p.receive().await;
        }
        let _ = tx.send(Instant::now());
    });
    let t1 = rx.await.expect("pinger finished");
    n as f64 / (t1 - t0).as_secs_f64()
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let node = Node::local("bench@localhost", 1);
        println!("one-way 1->1:   {:>12.0} msg/s", one_way(&node, 1, n).await);
        println!(
            "one-way 4->1:   {:>12.0} msg/s",
            one_way(&node, 4, n / 4).await
        );
        println!(
            "ping-pong:      {:>12.0} round trips/s",
            ping_pong(&node, n / 10).await
        );
    });
}
