//! `DistRemote`: the node's distribution layer. It implements `Remote` (local processes'
//! signals to other nodes) over `dist::Net`, auto-connecting as BEAM does: the first signal to an
//! unconnected node starts one connect task and queues; later signals queue behind it, so the
//! per-pair order holds; on failure the queue is dropped and the node sees `noconnection`.

use super::peers::{Peer, PeerTable, Slot};
use super::signal::Signal;
use super::spawn::PendingSpawns;
use super::watch::NodeWatch;
use crate::node::{Node, WeakNode};
use crate::remote::{BusyDistWait, MonitorTarget, NoConnection, Remote};
use dist::{
    flags, ConnectionConfig, ConnectionHandle, Event, EventSink, Net, ProcRef, SetupConfig,
};
use etf::{Atom, Pid, Ref, Term};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::watch;

pub(crate) struct DistRemote {
    pub(crate) me: Weak<DistRemote>,
    pub(crate) node: WeakNode,
    pub(crate) net: Net,
    pub(crate) epmd_port: u16,
    pub(crate) listen_port: u16,
    pub(crate) peers: PeerTable,
    pub(crate) watch: NodeWatch,
    pub(crate) spawns: PendingSpawns,
    stopped: AtomicBool,
    /// The connections' busy limit, applied to the queue of a connection being set up too.
    busy_limit: usize,
    /// Serialises connection ups and closes (`on_event`), which arrive on the tasks of different
    /// connections: a replacement's `Up` and its predecessor's late `Closed` must not interleave.
    pub(crate) lifecycle: Mutex<()>,
    /// Held for the node's life: EPMD forgets the name when this socket closes.
    pub(crate) registration: Mutex<Option<epmd::Registration>>,
    /// The accept loop, stopped by `shutdown` (the event task runs on to report the closes).
    pub(crate) serve: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// The connections' event sink: each event is handled on the task of the connection it comes
/// from (see `dispatch.rs`), so a message goes from the socket to the mailbox on one task.
struct Inbound(Weak<DistRemote>);

impl EventSink for Inbound {
    fn event(&self, ev: Event) {
        if let Some(r) = self.0.upgrade() {
            r.on_event(ev);
        }
    }

    fn messages(&self, peer: Atom, conn: u64, batch: &mut Vec<dist::Message>) {
        match self.0.upgrade() {
            Some(r) => r.on_messages(peer, conn, batch),
            None => batch.clear(),
        }
    }
}

/// Where a connect stands, for `Node::connect`.
pub(crate) enum Connecting {
    Up,
    Wait(watch::Receiver<Option<bool>>),
    Stopped,
}

impl DistRemote {
    pub(crate) fn new(
        node: WeakNode,
        setup: SetupConfig,
        conn: ConnectionConfig,
        epmd_port: u16,
        listen_port: u16,
    ) -> Arc<Self> {
        let busy_limit = conn.busy_limit;
        Arc::new_cyclic(|me| DistRemote {
            me: me.clone(),
            busy_limit,
            node,
            net: Net::new(setup, conn, Inbound(me.clone())),
            epmd_port,
            listen_port,
            peers: PeerTable::default(),
            watch: NodeWatch::default(),
            spawns: PendingSpawns::default(),
            stopped: AtomicBool::new(false),
            lifecycle: Mutex::new(()),
            registration: Mutex::new(None),
            serve: Mutex::new(None),
        })
    }

    /// Routes one signal to `peer`: straight onto the connection when up (`PeerTable::with_up`),
    /// else into the pending queue, starting a connect if none is under way. Returns whether
    /// the connection (or the queue of one being set up) is busy now.
    pub(crate) fn signal(&self, peer: Atom, s: Signal) -> bool {
        let sent = self.peers.with_up(peer, |p| match p {
            Some(p) => {
                p.send(s);
                Ok(p.handle.is_busy())
            }
            None => Err(s),
        });
        match sent {
            Ok(busy) => busy,
            Err(s) => self.signal_slow(peer, s),
        }
    }

    /// Like `signal`, but never starts a connection (EXIT of a link, DEMONITOR: without a
    /// connection the relation is already gone on both sides).
    pub(crate) fn signal_if_connected(&self, peer: Atom, s: Signal) {
        match self.peers.read().get(&peer) {
            Some(Slot::Up(p)) if p.is_up() => return p.send(s),
            Some(Slot::Pending { .. }) => {}
            _ if self.net.get(peer).is_some() => {}
            _ => return,
        }
        let _busy = self.signal_slow(peer, s);
    }

    /// `signal` for a message the sender keeps: over a connection that is up, `encode` writes
    /// it from the sender's term; only a signal that has to wait (or dial) takes a copy of its
    /// own, made by `owned`.
    fn signal_kept(
        &self,
        peer: Atom,
        encode: impl FnOnce(&Peer),
        owned: impl FnOnce() -> Signal,
    ) -> bool {
        let sent = self.peers.with_up(peer, |p| {
            p.map(|p| {
                encode(p);
                p.handle.is_busy()
            })
        });
        match sent {
            Some(busy) => busy,
            None => self.signal_slow(peer, owned()),
        }
    }

    fn signal_slow(&self, peer: Atom, s: Signal) -> bool {
        if self.stopped.load(Ordering::Relaxed) {
            return false;
        }
        let mut map = self.peers.write();
        match map.get_mut(&peer) {
            Some(Slot::Up(p)) if p.is_up() => {
                p.send(s);
                return p.handle.is_busy();
            }
            Some(Slot::Pending { queue, bytes, .. }) => {
                *bytes += s.size_hint();
                queue.push(s);
                return *bytes >= self.busy_limit;
            }
            _ => {}
        }
        // Not cached: the peer may have dialled us (or replaced a connection).
        if let Some(h) = self.net.get(peer) {
            let p = Arc::new(Peer::new(h));
            p.send(s);
            map.insert(peer, Slot::Up(p.clone()));
            drop(map);
            self.announce_up(peer, &p.handle);
            return p.handle.is_busy();
        }
        let (done, _) = watch::channel(None);
        let bytes = s.size_hint();
        map.insert(
            peer,
            Slot::Pending {
                bytes,
                queue: vec![s],
                done,
            },
        );
        drop(map);
        self.spawn_connect(peer);
        bytes >= self.busy_limit
    }

    /// Makes sure a connection to `peer` is up or coming (`monitor_node`, `Node.connect`).
    pub(crate) fn ensure_connection(&self, peer: Atom) -> Connecting {
        if self.stopped.load(Ordering::Relaxed) {
            return Connecting::Stopped;
        }
        let mut map = self.peers.write();
        match map.get(&peer) {
            Some(Slot::Up(p)) if p.is_up() => return Connecting::Up,
            Some(Slot::Pending { done, .. }) => return Connecting::Wait(done.subscribe()),
            _ => {}
        }
        if let Some(h) = self.net.get(peer) {
            let p = Arc::new(Peer::new(h));
            map.insert(peer, Slot::Up(p.clone()));
            drop(map);
            self.announce_up(peer, &p.handle);
            return Connecting::Up;
        }
        let (done, rx) = watch::channel(None);
        map.insert(
            peer,
            Slot::Pending {
                queue: Vec::new(),
                bytes: 0,
                done,
            },
        );
        drop(map);
        self.spawn_connect(peer);
        Connecting::Wait(rx)
    }

    fn spawn_connect(&self, peer: Atom) {
        let (Some(me), Some(node)) = (self.me.upgrade(), self.node.upgrade()) else {
            return;
        };
        node.runtime().spawn(async move {
            let r = me.dial(peer).await;
            me.finish_connect(peer, r);
        });
    }

    /// `erl_epmd:port_please` on the peer's host, then the handshake.
    async fn dial(&self, peer: Atom) -> Result<ConnectionHandle, String> {
        let (alive, host) = peer
            .as_str()
            .split_once('@')
            .ok_or_else(|| format!("{peer} is not a node name"))?;
        let info = epmd::port_please((host, self.epmd_port), alive)
            .await
            .map_err(|e| format!("epmd on {host}: {e}"))?
            .ok_or_else(|| format!("{alive} is not registered with epmd on {host}"))?;
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, info.port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        let addr = addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .ok_or_else(|| format!("{host} has no address"))?;
        self.net
            .connect(peer, addr)
            .await
            .map_err(|e| e.to_string())
    }

    /// The connect task ended: flush the queue in order and go live, or drop it and report
    /// `noconnection` / `nodedown`.
    fn finish_connect(&self, peer: Atom, r: Result<ConnectionHandle, String>) {
        let mut map = self.peers.write();
        let (queue, done) = match map.remove(&peer) {
            Some(Slot::Pending { queue, done, .. }) => (queue, Some(done)),
            Some(other) => {
                map.insert(peer, other);
                (Vec::new(), None)
            }
            None => (Vec::new(), None),
        };
        match r {
            Ok(h) if !h.is_closed() && !self.stopped.load(Ordering::Relaxed) => {
                let p = Arc::new(Peer::new(h));
                for s in queue {
                    p.send(s);
                }
                map.insert(peer, Slot::Up(p.clone()));
                drop(map);
                if let Some(d) = done {
                    d.send_replace(Some(true));
                }
                self.announce_up(peer, &p.handle);
            }
            r => {
                drop(map);
                if let Err(e) = r {
                    tracing::debug!("auto-connect to {peer} failed: {e}");
                }
                if let Some(d) = done {
                    d.send_replace(Some(false));
                }
                self.lost(peer, None);
            }
        }
    }

    /// A connection is up (ours or theirs): `{nodeup, Peer}` to `monitor_nodes` subscribers.
    pub(crate) fn announce_up(&self, peer: Atom, h: &ConnectionHandle) {
        if h.is_closed() {
            return;
        }
        if let Some(old) = self.watch.announced(peer).filter(|c| *c != h.id()) {
            // This connection replaced one whose close we have not seen yet (the peer came
            // back before its old connection's reader noticed): that one is lost now, so that
            // nodedown and its noconnection signals come before this nodeup, as on BEAM.
            self.lost(peer, Some(old));
        }
        let visible = flags::is_published(h.outcome().flags);
        let subs = self.watch.up(peer, h.id(), visible);
        if let Some(node) = self.node.upgrade() {
            for pid in subs {
                node.deliver(pid, nodeup_down("nodeup", peer));
            }
        }
    }

    /// Connection `conn` to `peer` is gone (`None`: it never came up): `noconnection` for
    /// links and monitors, `{nodedown, Peer}`, failed pending spawn requests.
    pub(crate) fn lost(&self, peer: Atom, conn: Option<u64>) {
        if let Some(c) = conn {
            self.peers.remove_conn(peer, c);
            if self.watch.announced(peer).is_some_and(|up| up != c) {
                // The late close of a connection already replaced (and handled as lost when
                // its successor was announced): the peer is up on the new one.
                return;
            }
        }
        let Some(node) = self.node.upgrade() else {
            return;
        };
        node.connection_lost(peer);
        let (subs, monitors) = self.watch.down(peer, conn);
        for pid in subs.into_iter().chain(monitors) {
            node.deliver(pid, nodeup_down("nodedown", peer));
        }
        self.spawns.fail_node(&node, peer);
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Unregister from EPMD, stop accepting, close every connection; later signals are dropped.
    pub(crate) fn shutdown(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        drop(
            self.registration
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        if let Some(t) = self.serve.lock().unwrap_or_else(|e| e.into_inner()).take() {
            t.abort();
        }
        for peer in self.net.peers() {
            self.net.disconnect(peer);
        }
    }

    pub(crate) fn node(&self) -> Option<Node> {
        self.node.upgrade()
    }
}

fn nodeup_down(tag: &str, peer: Atom) -> Term {
    Term::tuple(vec![Term::atom(tag), Term::Atom(peer)])
}

fn wire_target(t: MonitorTarget) -> ProcRef {
    match t {
        MonitorTarget::Pid(p) => ProcRef::Pid(p),
        MonitorTarget::Name(name, _) => ProcRef::Name(name),
    }
}

impl Remote for DistRemote {
    fn send(&self, from: Pid, to: Pid, msg: Term) -> bool {
        self.signal(to.node, Signal::Send { from, to, msg })
    }

    fn send_ref(&self, from: Pid, to: Pid, msg: &Term) -> bool {
        self.signal_kept(
            to.node,
            |p| p.send_ref(from, to, msg),
            || Signal::Send {
                from,
                to,
                msg: msg.clone(),
            },
        )
    }

    fn reg_send_ref(&self, from: Pid, node: Atom, name: Atom, msg: &Term) -> bool {
        self.signal_kept(
            node,
            |p| p.reg_send_ref(from, name, msg),
            || Signal::RegSend {
                from,
                name,
                msg: msg.clone(),
            },
        )
    }

    fn busy(&self, node: Atom) -> Option<BusyDistWait> {
        match self.peers.read().get(&node) {
            Some(Slot::Up(p)) if p.handle.is_busy() => {
                let handle = p.handle.clone();
                Some(Box::pin(async move { handle.until_not_busy().await }))
            }
            // Still connecting with the limit queued: wait for the outcome (then the queue is
            // on the connection, or dropped), and let the caller look again.
            Some(Slot::Pending { bytes, done, .. }) if *bytes >= self.busy_limit => {
                let mut outcome = done.subscribe();
                Some(Box::pin(async move {
                    let _ = outcome.wait_for(|o| o.is_some()).await;
                }))
            }
            _ => None,
        }
    }

    fn alias_send(&self, from: Pid, alias: Ref, msg: Term) -> bool {
        self.signal(alias.node, Signal::AliasSend { from, alias, msg })
    }

    fn reg_send(&self, from: Pid, node: Atom, name: Atom, msg: Term) -> bool {
        self.signal(node, Signal::RegSend { from, name, msg })
    }

    fn link(&self, from: Pid, to: Pid) -> Result<(), NoConnection> {
        if self.is_stopped() {
            return Err(NoConnection);
        }
        self.signal(to.node, Signal::Link { from, to });
        Ok(())
    }

    fn unlink(&self, from: Pid, to: Pid) {
        self.signal(to.node, Signal::Unlink { from, to });
    }

    fn exit(&self, from: Pid, to: Pid, reason: Term) {
        self.signal(to.node, Signal::Exit2 { from, to, reason });
    }

    fn link_exit(&self, from: Pid, to: Pid, reason: Term) {
        // A dying process does not dial a node just to say so: no connection, no link left.
        self.signal_if_connected(to.node, Signal::LinkExit { from, to, reason });
    }

    fn monitor(&self, watcher: Pid, target: MonitorTarget, r: Ref) -> Result<(), NoConnection> {
        if self.is_stopped() {
            return Err(NoConnection);
        }
        let target_ref = wire_target(target);
        self.signal(
            target.node(),
            Signal::Monitor {
                watcher,
                target: target_ref,
                r,
            },
        );
        Ok(())
    }

    fn demonitor(&self, watcher: Pid, target: MonitorTarget, r: Ref) {
        let node = target.node();
        let target = wire_target(target);
        self.signal_if_connected(node, Signal::Demonitor { watcher, target, r });
    }

    fn monitor_down(&self, target: MonitorTarget, watcher: Pid, r: Ref, reason: Term) {
        self.signal(
            watcher.node,
            Signal::Down {
                target: wire_target(target),
                watcher,
                r,
                reason,
            },
        );
    }
}
