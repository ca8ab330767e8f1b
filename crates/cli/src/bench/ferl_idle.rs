//! Row (h) on a ferl node B, by B: `BenchB.idle_procs(n)` spawns n processes idle in receive
//! and returns `%{rss_bytes:, vm_bytes:, spawn_us:}` as node_b.exs does. "The runtime's own
//! count" is the heap in use by malloc (glibc `mallinfo2`, all arenas): ferl's memory is heap.

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

/// glibc's `struct mallinfo2` (all fields `size_t`); only two are read, all define the layout.
#[repr(C)]
#[allow(dead_code)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

extern "C" {
    fn mallinfo2() -> MallInfo2;
}

/// Bytes allocated by malloc and not freed: in-use chunks of every arena plus mmapped blocks.
fn heap_in_use() -> i64 {
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct by value (glibc >= 2.33).
    let m = unsafe { mallinfo2() };
    (m.uordblks + m.hblkhd) as i64
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
