//! Which local processes have links or monitors involving each remote node, so that losing a
//! connection visits only those processes (not the whole table) to produce `noconnection`.
//! Touched when remote links/monitors are made and when such a process exits, never on sends.

use etf::{Atom, Pid};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct RemoteIndex {
    by_node: Mutex<HashMap<Atom, HashSet<Pid>>>,
}

impl RemoteIndex {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Atom, HashSet<Pid>>> {
        self.by_node.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add(&self, node: Atom, local: Pid) {
        self.lock().entry(node).or_default().insert(local);
    }

    /// A local process exited: forget it for each node it had relations with.
    pub(crate) fn remove(&self, local: Pid, nodes: impl IntoIterator<Item = Atom>) {
        let mut map = self.lock();
        for node in nodes {
            if let Some(set) = map.get_mut(&node) {
                set.remove(&local);
                if set.is_empty() {
                    map.remove(&node);
                }
            }
        }
    }

    /// The connection to `node` is gone: take every local process that had relations there.
    pub(crate) fn take(&self, node: Atom) -> Vec<Pid> {
        self.lock()
            .remove(&node)
            .map(|s| s.into_iter().collect())
            .unwrap_or_default()
    }

    pub(crate) fn pids_on(&self, node: Atom) -> Vec<Pid> {
        self.lock()
            .get(&node)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
}
