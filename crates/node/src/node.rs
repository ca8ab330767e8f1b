//! `Node`: one ferl node's runtime (name, creation, process table, registry, refs, the `Remote`
//! seam) and message routing: to a pid, a local name, or `{Name, Node}`.
//! `Node` is a cheap handle (an `Arc`); clone it freely.

use crate::alias::AliasTable;
use crate::error::{RemoteAlreadySet, SendError};
use crate::mfa::MfaTable;
use crate::registry::Registry;
use crate::remote::{NoRemote, Remote};
use crate::remote_index::RemoteIndex;
use crate::table::ProcTable;
use etf::{Atom, Pid, Ref, Term};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

/// How to start a node. Distribution options (epmd, listen address, cookie) are added by the
/// distribution layer; this holds what the local runtime needs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Full node name, `name@host`.
    pub name: String,
    /// The node's creation (incarnation number), part of every pid and ref.
    pub creation: u32,
}

impl NodeConfig {
    pub fn new(name: impl Into<String>, creation: u32) -> NodeConfig {
        NodeConfig {
            name: name.into(),
            creation,
        }
    }
}

/// A node: the home of local processes and the router of messages and signals.
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<NodeInner>,
}

pub(crate) struct NodeInner {
    pub(crate) name: Atom,
    pub(crate) creation: u32,
    pub(crate) table: ProcTable,
    pub(crate) registry: Registry,
    pub(crate) remote_index: RemoteIndex,
    pub(crate) mfas: MfaTable,
    pub(crate) aliases: AliasTable,
    refs: AtomicU64,
    remote: OnceLock<Arc<dyn Remote>>,
    /// The distribution layer, when the node was started with `Node::start`.
    pub(crate) dist: OnceLock<Arc<crate::net::DistRemote>>,
    /// `:global`, when the node was started with `Node::start`.
    pub(crate) global: OnceLock<Arc<crate::global::Shared>>,
    runtime: Option<tokio::runtime::Handle>,
}

static NO_REMOTE: NoRemote = NoRemote;

impl Node {
    /// A node from a config. Processes are spawned on the tokio runtime current at this call
    /// (or, if there is none, on the one current at each spawn, which then must exist).
    pub fn new(config: NodeConfig) -> Node {
        Node {
            inner: Arc::new(NodeInner {
                name: Atom::new(&config.name),
                creation: config.creation,
                table: ProcTable::new(),
                registry: Registry::new(),
                remote_index: RemoteIndex::default(),
                mfas: MfaTable::default(),
                aliases: AliasTable::new(),
                // BEAM starts its ref counter at an arbitrary point too; 0 would look odd.
                refs: AtomicU64::new(1 << 18),
                remote: OnceLock::new(),
                dist: OnceLock::new(),
                global: OnceLock::new(),
                runtime: tokio::runtime::Handle::try_current().ok(),
            }),
        }
    }

    /// A node without distribution: messages to other nodes are dropped and links/monitors to
    /// them get `noconnection`, until a `Remote` is set.
    pub fn local(name: &str, creation: u32) -> Node {
        Node::new(NodeConfig::new(name, creation))
    }

    /// Attach the distribution layer (once).
    pub fn set_remote(&self, remote: Arc<dyn Remote>) -> Result<(), RemoteAlreadySet> {
        self.inner.remote.set(remote).map_err(|_| RemoteAlreadySet)
    }

    pub(crate) fn remote(&self) -> &dyn Remote {
        match self.inner.remote.get() {
            Some(r) => r.as_ref(),
            None => &NO_REMOTE,
        }
    }

    /// The node name atom, e.g. `server@host`.
    pub fn name(&self) -> Atom {
        self.inner.name
    }

    pub fn creation(&self) -> u32 {
        self.inner.creation
    }

    /// True if `pid` names a process of this node incarnation's namespace. A pid with our name
    /// but another creation belongs to an earlier incarnation: it is local, and dead.
    pub(crate) fn is_local(&self, pid: Pid) -> bool {
        pid.node == self.inner.name
    }

    /// `make_ref()`: a node-unique reference.
    pub fn make_ref(&self) -> Ref {
        let n = self.inner.refs.fetch_add(1, Ordering::Relaxed);
        Ref::new(
            self.inner.name,
            self.inner.creation,
            &[(n & 0x3_ffff) as u32, (n >> 18) as u32, (n >> 50) as u32],
        )
    }

    /// The pid used as sender for messages sent from outside any process (`<0.0.0>` is never a
    /// ferl process; replies to it are dropped).
    pub fn system_pid(&self) -> Pid {
        Pid::new(self.inner.name, 0, 0, self.inner.creation)
    }

    /// Is this local process alive (`is_process_alive/1`)?
    pub fn is_alive(&self, pid: Pid) -> bool {
        self.inner
            .table
            .with(pid, |c| c.lock().alive)
            .unwrap_or(false)
    }

    /// Number of live local processes.
    pub fn process_count(&self) -> usize {
        self.inner.table.len()
    }

    pub(crate) fn runtime(&self) -> tokio::runtime::Handle {
        match &self.inner.runtime {
            Some(h) => h.clone(),
            None => tokio::runtime::Handle::current(),
        }
    }

    /// Route a message from `from` to `to`: local mailbox or the `Remote`. Returns whether
    /// the connection it went onto is busy now (never for a local one; see `Remote`).
    pub(crate) fn route(&self, from: Pid, to: Pid, msg: Term) -> bool {
        if self.is_local(to) {
            self.deliver_local(to, msg);
            false
        } else {
            self.remote().send(from, to, msg)
        }
    }

    /// `route` of a message the sender keeps: a local receiver gets a copy, a remote one is
    /// sent an encoding of `msg` itself.
    pub(crate) fn route_ref(&self, from: Pid, to: Pid, msg: &Term) -> bool {
        if self.is_local(to) {
            self.deliver_local(to, msg.clone());
            false
        } else {
            self.remote().send_ref(from, to, msg)
        }
    }

    /// `route_ref` of a message shared by its local receivers (`Process::send_shared`).
    pub(crate) fn route_shared(&self, from: Pid, to: Pid, msg: &Arc<Term>) -> bool {
        if self.is_local(to) {
            let msg = msg.clone();
            self.inner.table.signal(to, |c| c.push_shared(msg));
            false
        } else {
            self.remote().send_ref(from, to, msg)
        }
    }

    pub(crate) fn deliver_local(&self, to: Pid, msg: Term) {
        self.inner.table.signal(to, |c| c.push_message(msg));
    }

    pub(crate) fn route_name(&self, name: Atom, msg: Term) -> Result<(), SendError> {
        let pid = self.whereis(name).ok_or(SendError::NoProc(name))?;
        self.deliver_local(pid, msg);
        Ok(())
    }

    pub(crate) fn route_to_ref(
        &self,
        from: Pid,
        name: Atom,
        node: Atom,
        msg: &Term,
    ) -> Result<bool, SendError> {
        if node == self.inner.name {
            self.route_name(name, msg.clone()).map(|()| false)
        } else {
            Ok(self.remote().reg_send_ref(from, node, name, msg))
        }
    }

    pub(crate) fn route_to(
        &self,
        from: Pid,
        name: Atom,
        node: Atom,
        msg: Term,
    ) -> Result<bool, SendError> {
        if node == self.inner.name {
            self.route_name(name, msg).map(|()| false)
        } else {
            Ok(self.remote().reg_send(from, node, name, msg))
        }
    }

    /// Send from outside any process (sender: [`Node::system_pid`]).
    pub fn send(&self, to: Pid, msg: impl Into<Term>) {
        let _busy = self.route(self.system_pid(), to, msg.into());
    }

    /// Send to a local registered name from outside any process.
    pub fn send_name(&self, name: Atom, msg: impl Into<Term>) -> Result<(), SendError> {
        self.route_name(name, msg.into())
    }

    /// Send to `{Name, Node}` from outside any process. Remote sends never fail here.
    pub fn send_to(&self, name: Atom, node: Atom, msg: impl Into<Term>) -> Result<(), SendError> {
        self.route_to(self.system_pid(), name, node, msg.into())
            .map(|_busy| ())
    }

    /// [`Process::suspend_while_busy`](crate::Process::suspend_while_busy), for senders
    /// outside any process.
    pub async fn suspend_while_busy(&self, node: Atom) {
        if let Some(wait) = self.remote().busy(node) {
            wait.await
        }
    }

    /// `exit(Pid, Reason)` from outside any process (sender: [`Node::system_pid`]).
    pub fn exit(&self, pid: Pid, reason: impl Into<crate::ExitReason>) {
        self.exit_signal(self.system_pid(), pid, reason.into());
    }
}

/// A handle that does not keep the node alive: for the distribution layer, whose `Remote` the
/// node owns, to reach back to the node without an `Arc` cycle.
#[derive(Clone)]
pub struct WeakNode(Weak<NodeInner>);

impl WeakNode {
    pub fn upgrade(&self) -> Option<Node> {
        self.0.upgrade().map(|inner| Node { inner })
    }
}

impl Node {
    pub fn downgrade(&self) -> WeakNode {
        WeakNode(Arc::downgrade(&self.inner))
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Node({})", self.inner.name)
    }
}
