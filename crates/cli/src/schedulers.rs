//! Schedulers: the worker threads of a ferl node's runtime, as `erl +S` sets a BEAM node's.
//!
//! A node runs one worker per CPU by default, as BEAM runs one scheduler per core. Where several
//! nodes share a machine (the two nodes of a `ferl bench` pairing), each does better on its
//! share: two nodes of two workers each on 2 vCPUs left every worker stealing from and waking
//! the other across CPUs the other node needed. Measured in `ferl bench`, ferl->ferl, one
//! worker per node against two: (a) RTT p50 43.6 -> 13.2 µs, (c) 22k -> 53k calls/s, (f)
//! 0.82M -> 1.0M calls/s, (g) 3.9-4.4M -> 5.2-5.4M deliveries/s.
//!
//! A node of one scheduler runs on tokio's current-thread runtime, whose run queue is one FIFO:
//! a woken process waits behind every process woken before it, as on BEAM's run queue. The
//! multi-thread runtime, even with one worker, puts a woken task in a LIFO slot and a local
//! queue of 256, and spills half of that queue to a global one it looks at once in 61 polls.
//! A dist reader that wakes hundreds of receivers per read (bench row (g), 500 subscribers per
//! node) left the spilled ones 10-70 messages behind on average, up to 360; their mailboxes
//! grew past the caches and every delivery's store into one missed them (`ProcCell::push`
//! was 43% of the publishing node). On one FIFO no subscriber fell behind by one message.
//! Measured in `ferl bench`, ferl->ferl, two interleaved rounds of three runs: (g) 4.0-6.9M ->
//! 6.7-8.2M deliveries/s, (c) and (f) up by 8%, (b), (d) and (e) within their spread.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::runtime::{Builder, Runtime, RuntimeFlavor};
use tokio::sync::oneshot;

/// The machine's CPUs (1 when unknown).
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// A node's share when `nodes` nodes run on this machine: an equal part of its CPUs, at least 1.
pub fn share(nodes: usize) -> usize {
    (cpus() / nodes.max(1)).max(1)
}

/// The runtime of a node with `schedulers` schedulers (one per CPU when `None`). One scheduler
/// is a current-thread runtime (see the header): it runs only while a thread is in its
/// `block_on`, so an owner that blocks elsewhere keeps a [`Driver`] on it.
pub fn runtime(schedulers: Option<usize>) -> std::io::Result<Runtime> {
    let n = schedulers.unwrap_or_else(cpus).max(1);
    if n == 1 {
        return Builder::new_current_thread().enable_all().build();
    }
    Builder::new_multi_thread()
        .enable_all()
        .worker_threads(n)
        .build()
}

/// A thread in `block_on` of a current-thread runtime until dropped: the scheduler of a node
/// whose owner blocks outside the runtime (the shell, waiting for a line). While the driver
/// runs the runtime, another thread's `block_on` polls its own future and waits for it. On a
/// multi-thread runtime, whose workers run it anyway, it starts no thread.
pub struct Driver {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Driver {
    pub fn start(rt: &Arc<Runtime>) -> std::io::Result<Driver> {
        if rt.handle().runtime_flavor() != RuntimeFlavor::CurrentThread {
            return Ok(Driver {
                stop: None,
                thread: None,
            });
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let rt = rt.clone();
        let thread = std::thread::Builder::new()
            .name("ferl-scheduler".into())
            .spawn(move || {
                let _ = rt.block_on(stopped);
            })?;
        Ok(Driver {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_runs_the_schedulers_asked_for() {
        for n in [1, 3] {
            let rt = runtime(Some(n)).expect("runtime");
            assert_eq!(rt.metrics().num_workers(), n);
        }
        let rt = runtime(None).expect("runtime");
        assert_eq!(rt.metrics().num_workers(), cpus());
    }

    #[test]
    fn one_scheduler_is_one_fifo_run_queue() {
        let rt = runtime(Some(1)).expect("runtime");
        assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
        // Tasks woken in order run in that order: 300 of them, more than the multi-thread
        // runtime's local queue holds (which ran them as 299, 0, 1, ..., 77, 128, 78, ...).
        let order = rt.block_on(async {
            let log = Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut wakes = Vec::new();
            let mut tasks = Vec::new();
            for i in 0..300 {
                let (tx, rx) = oneshot::channel::<()>();
                wakes.push(tx);
                let log = log.clone();
                tasks.push(tokio::spawn(async move {
                    let _ = rx.await;
                    log.lock().unwrap().push(i);
                }));
            }
            tokio::task::yield_now().await; // every task parks on its channel
            let waker = tokio::spawn(async move {
                for tx in wakes {
                    let _ = tx.send(());
                }
                tokio::task::yield_now().await;
            });
            waker.await.expect("waker");
            for t in tasks {
                t.await.expect("task");
            }
            Arc::try_unwrap(log).unwrap().into_inner().unwrap()
        });
        assert_eq!(order, (0..300).collect::<Vec<_>>());
    }

    #[test]
    fn a_driver_runs_a_one_scheduler_runtime_while_its_owner_blocks_elsewhere() {
        let rt = Arc::new(runtime(Some(1)).expect("runtime"));
        let driver = Driver::start(&rt).expect("driver");
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            let _ = tx.send(());
        });
        // This thread is not in the runtime: only the driver can run the task and its timer.
        let ran = rx.recv_timeout(std::time::Duration::from_secs(10));
        assert!(ran.is_ok(), "the task did not run");
        drop(driver);
        let rt = Arc::try_unwrap(rt);
        assert!(rt.is_ok(), "the driver let go of the runtime");
        assert!(Driver::start(&Arc::new(runtime(Some(2)).expect("rt")))
            .expect("driver")
            .thread
            .is_none());
        drop(rt);
    }

    #[test]
    fn each_node_gets_an_equal_share_of_at_least_one() {
        assert_eq!(share(1), cpus());
        assert_eq!(share(2), (cpus() / 2).max(1));
        assert_eq!(share(cpus() + 1), 1);
        assert_eq!(share(0), cpus());
    }
}
