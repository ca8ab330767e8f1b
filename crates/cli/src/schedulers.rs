//! Schedulers: the worker threads of a ferl node's runtime, as `erl +S` sets a BEAM node's.
//!
//! A node runs one worker per CPU by default, as BEAM runs one scheduler per core. Where several
//! nodes share a machine (the two nodes of a `ferl bench` pairing), each does better on its
//! share: two nodes of two workers each on 2 vCPUs left every worker stealing from and waking
//! the other across CPUs the other node needed. Measured in `ferl bench`, ferl->ferl, one
//! worker per node against two: (a) RTT p50 43.6 -> 13.2 µs, (c) 22k -> 53k calls/s, (f)
//! 0.82M -> 1.0M calls/s, (g) 3.9-4.4M -> 5.2-5.4M deliveries/s.

use std::num::NonZeroUsize;
use tokio::runtime::{Builder, Runtime};

/// The machine's CPUs (1 when unknown).
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// A node's share when `nodes` nodes run on this machine: an equal part of its CPUs, at least 1.
pub fn share(nodes: usize) -> usize {
    (cpus() / nodes.max(1)).max(1)
}

/// The runtime of a node with `schedulers` worker threads (one per CPU when `None`).
pub fn runtime(schedulers: Option<usize>) -> std::io::Result<Runtime> {
    let mut b = Builder::new_multi_thread();
    b.enable_all();
    if let Some(n) = schedulers {
        b.worker_threads(n.max(1));
    }
    b.build()
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
    fn each_node_gets_an_equal_share_of_at_least_one() {
        assert_eq!(share(1), cpus());
        assert_eq!(share(2), (cpus() / 2).max(1));
        assert_eq!(share(cpus() + 1), 1);
        assert_eq!(share(0), cpus());
    }
}
