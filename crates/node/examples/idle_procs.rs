//! Memory and spawn cost of idle processes: spawns N processes that wait in `receive`, and
//! prints the RSS growth per process and the spawn rate.
//!
//! `cargo run --release -p ferl --example idle_procs -- 1000000`

use ferl::{Node, Process, Term};
use std::time::{Duration, Instant};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let node = Node::local("idle@localhost", 1);
        // Warm up the runtime, the table and the allocator so the baseline is fair.
        let warm = node.spawn(|mut p: Process| async move {
            p.receive().await;
        });
        node.send(warm, Term::atom("stop"));
        tokio::time::sleep(Duration::from_millis(50)).await;

        let before = rss_kib();
        let t0 = Instant::now();
        let mut pids = Vec::with_capacity(n);
        for _ in 0..n {
            pids.push(node.spawn(|mut p: Process| async move {
                p.receive().await;
            }));
        }
        let spawn_time = t0.elapsed();
        // Let every process run to its receive (first poll) so we measure *idle* processes.
        while node.process_count() < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_kib();
        // The pid vector is measurement scaffolding, not process cost.
        let scaffolding = (pids.capacity() * std::mem::size_of::<ferl::Pid>()) as u64 / 1024;
        let grown = after.saturating_sub(before).saturating_sub(scaffolding);
        println!("processes:        {n}");
        println!(
            "spawn time:       {spawn_time:?} ({:.0} ns/spawn)",
            spawn_time.as_nanos() as f64 / n as f64
        );
        println!("RSS before:       {before} KiB");
        println!("RSS after:        {after} KiB (pid vector {scaffolding} KiB excluded)");
        println!("bytes/process:    {:.0}", grown as f64 * 1024.0 / n as f64);

        let t1 = Instant::now();
        for pid in &pids {
            node.send(*pid, Term::atom("stop"));
        }
        while node.process_count() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!("stop all:         {:?}", t1.elapsed());
    });
}
