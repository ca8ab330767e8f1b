//! Who hears about connections coming and going: `monitor_node/2` (per process and node,
//! `{nodedown, Node}` once) and `net_kernel:monitor_nodes(true)` subscribers (`{nodeup, N}` /
//! `{nodedown, N}` for visible nodes), plus which connection each nodeup announced.

use etf::{Atom, Pid};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
struct Inner {
    /// Announced connections: peer -> (connection id, visible).
    up: HashMap<Atom, (u64, bool)>,
    subscribers: Vec<Pid>,
    /// `monitor_node(Node, true)` calls; a pid may appear several times, like in BEAM.
    node_monitors: HashMap<Atom, Vec<Pid>>,
}

#[derive(Default)]
pub(crate) struct NodeWatch {
    inner: Mutex<Inner>,
}

impl NodeWatch {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connection `conn` to `peer` is up. Returns the subscribers to tell `{nodeup, Peer}`
    /// (none if this connection was already announced or is hidden).
    pub(crate) fn up(&self, peer: Atom, conn: u64, visible: bool) -> Vec<Pid> {
        let mut w = self.lock();
        if w.up.get(&peer).is_some_and(|(c, _)| *c == conn) {
            return Vec::new();
        }
        w.up.insert(peer, (conn, visible));
        if visible {
            w.subscribers.clone()
        } else {
            Vec::new()
        }
    }

    /// Connection `conn` to `peer` closed (`None`: a connect attempt failed). Returns
    /// (subscribers to tell `{nodedown, Peer}`, `monitor_node` holders to tell, once each).
    pub(crate) fn down(&self, peer: Atom, conn: Option<u64>) -> (Vec<Pid>, Vec<Pid>) {
        let mut w = self.lock();
        let subs = match (conn, w.up.get(&peer)) {
            (Some(c), Some((announced, visible))) if *announced == c => {
                let visible = *visible;
                w.up.remove(&peer);
                if visible {
                    w.subscribers.clone()
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        };
        let monitors = w.node_monitors.remove(&peer).unwrap_or_default();
        (subs, monitors)
    }

    /// The connection to `peer` announced as up, if any.
    pub(crate) fn announced(&self, peer: Atom) -> Option<u64> {
        self.lock().up.get(&peer).map(|(c, _)| *c)
    }

    pub(crate) fn subscribe(&self, pid: Pid, on: bool) {
        let mut w = self.lock();
        w.subscribers.retain(|p| *p != pid);
        if on {
            w.subscribers.push(pid);
        }
    }

    pub(crate) fn monitor_node(&self, peer: Atom, pid: Pid, on: bool) {
        let mut w = self.lock();
        let list = w.node_monitors.entry(peer).or_default();
        if on {
            list.push(pid);
        } else if let Some(i) = list.iter().position(|p| *p == pid) {
            list.remove(i);
        }
        if list.is_empty() {
            w.node_monitors.remove(&peer);
        }
    }
}
