//! Row (h) on a ferl node B, by B: `BenchB.idle_procs(n)` spawns n processes idle in receive
//! and returns `%{rss_bytes:, vm_bytes:, spawn_us:}` as node_b.exs does. "The runtime's own
//! count" is the heap the allocator (mimalloc, see main.rs) holds committed: ferl's memory is heap.

use ferl::{Atom, ExitReason, Process, Term};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn idle_procs(p: &Process, args: &[Term]) -> Result<Term, ferl::Exception> {
    let n = match args {
        [Term::Int(n)] if *n > 0 => *n as usize,
        _ => return Err(ferl::Exception::error(Term::atom("badarg"))),
    };
    let node = p.node().clone();
    // The pids are kept to kill the processes afterwards; the list is filled (its pages
    // touched) before the first reading, so it is not counted as the processes' memory.
    let mut pids = vec![p.pid(); n];
    let running = Arc::new(AtomicUsize::new(0));
    let (rss0, heap0) = (rss(), heap_in_use());
    let t0 = Instant::now();
    for slot in pids.iter_mut() {
        let running = running.clone();
        *slot = node.spawn(move |mut q: Process| async move {
            running.fetch_add(1, Ordering::Relaxed);
            drop(running);
            q.receive().await;
        });
    }
    // As node_b.exs waits for empty run queues: every process has run into its receive.
    while running.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let spawn_us = t0.elapsed().as_micros() as i64;
    let (rss1, heap1) = (rss(), heap_in_use());
    for pid in pids {
        node.exit(pid, ExitReason::kill());
    }
    let kv = |k: &str, v: i64| (Term::Atom(Atom::new(k)), Term::Int(v));
    Ok(Term::map(vec![
        kv("rss_bytes", rss1 - rss0),
        kv("vm_bytes", heap1 - heap0),
        kv("spawn_us", spawn_us),
    ]))
}

/// This OS process's resident set, from /proc/self/status (as node_b.exs reads VmRSS).
fn rss() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        .map_or(0, |kb| kb * 1024)
}

extern "C" {
    /// mimalloc's process statistics (the binary's global allocator, see main.rs); any
    /// out-parameter may be null.
    fn mi_process_info(
        elapsed_msecs: *mut usize,
        user_msecs: *mut usize,
        system_msecs: *mut usize,
        current_rss: *mut usize,
        peak_rss: *mut usize,
        current_commit: *mut usize,
        peak_commit: *mut usize,
        page_faults: *mut usize,
    );
}

/// Bytes the allocator holds committed for this process's heap.
fn heap_in_use() -> i64 {
    let mut commit = 0usize;
    let null = std::ptr::null_mut();
    // SAFETY: mi_process_info writes each non-null out-parameter (one valid `usize` here) and
    // ignores null ones; it takes no locks the caller could hold.
    unsafe { mi_process_info(null, null, null, null, null, &mut commit, null, null) };
    commit as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_heap_readings_move_with_an_allocation() {
        assert!(rss() > 0);
        // Other tests of this binary allocate and free on other threads meanwhile: a large
        // allocation, and a bound that their churn cannot eat.
        let before = heap_in_use();
        let v = std::hint::black_box(vec![1u8; 64 << 20]);
        let after = heap_in_use();
        assert!(
            after.saturating_sub(before) >= 48 << 20,
            "{before} -> {after}"
        );
        drop(v);
    }
}
