//! The process table: pid id -> live process cell, in 64 independently locked shards so sends
//! and spawns on different processes never contend on one lock. Also allocates pid ids.

use crate::cell::ProcCell;
use etf::Pid;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

const SHARDS: usize = 64;
/// BEAM's first user processes are around <0.80.0>; start ours nearby so pids look familiar and
/// low ids stay free for well-known system processes.
pub(crate) const FIRST_ID: u64 = 80;
/// Pid ids use 28 bits like BEAM's; when they run out the serial is bumped.
const ID_BITS: u32 = 28;
const ID_MASK: u64 = (1 << ID_BITS) - 1;

/// Multiplicative hash of a u32 id: ids are sequential, which SipHash would handle too, but at
/// a much higher price on the send path.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Shard = HashMap<u32, Arc<ProcCell>, BuildHasherDefault<IdHasher>>;

pub(crate) struct ProcTable {
    shards: Box<[Mutex<Shard>]>,
    next: AtomicU64,
}

impl ProcTable {
    pub(crate) fn new() -> ProcTable {
        ProcTable {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            next: AtomicU64::new(FIRST_ID),
        }
    }

    fn shard(&self, id: u32) -> MutexGuard<'_, Shard> {
        self.shards[id as usize % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Allocate a fresh (id, serial) and insert the cell built for it. After 2^28 spawns ids
    /// wrap (serial + 1); an id still held by a live process is skipped.
    pub(crate) fn insert_new(&self, make: impl Fn(u32, u32) -> ProcCell) -> Arc<ProcCell> {
        loop {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            let id = (n & ID_MASK) as u32;
            if id < FIRST_ID as u32 {
                continue;
            }
            let serial = ((n >> ID_BITS) & 0x1fff) as u32;
            let mut shard = self.shard(id);
            if shard.contains_key(&id) {
                continue;
            }
            let cell = Arc::new(make(id, serial));
            shard.insert(id, cell.clone());
            return cell;
        }
    }

    /// Run `f` on the live process `pid` while its shard is locked (no Arc clone on the send
    /// path). The whole pid must match: a pid of an earlier serial or incarnation is dead.
    /// `f` must not touch the table.
    pub(crate) fn with<R>(&self, pid: Pid, f: impl FnOnce(&ProcCell) -> R) -> Option<R> {
        let shard = self.shard(pid.id);
        let cell = shard.get(&pid.id).filter(|c| c.pid == pid)?;
        Some(f(cell))
    }

    /// Signal the live process `pid` under its shard lock and wake it after the lock is gone.
    pub(crate) fn signal(&self, pid: Pid, f: impl FnOnce(&ProcCell) -> Option<Waker>) {
        let waker = self.with(pid, f).flatten();
        crate::cell::wake(waker);
    }

    pub(crate) fn get(&self, pid: Pid) -> Option<Arc<ProcCell>> {
        let shard = self.shard(pid.id);
        shard.get(&pid.id).filter(|c| c.pid == pid).cloned()
    }

    pub(crate) fn remove(&self, pid: Pid) {
        let mut shard = self.shard(pid.id);
        if shard.get(&pid.id).is_some_and(|c| c.pid == pid) {
            shard.remove(&pid.id);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}
