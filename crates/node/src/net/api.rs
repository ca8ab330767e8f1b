//! The node-level distribution API, named as in Erlang: `connect` (`net_kernel:connect_node`),
//! `disconnect` (`disconnect_node`), `nodes`/`nodes_hidden`, `ping` (`net_adm:ping`),
//! `monitor_nodes` (`net_kernel:monitor_nodes`) and `Process::monitor_node`.

use super::remote::Connecting;
use crate::node::Node;
use crate::process::Process;
use dist::flags;
use etf::{Atom, Term};
use std::time::Duration;

/// What `net_adm:ping/1` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ping {
    Pong,
    Pang,
}

/// Longest a ping waits for `net_kernel`'s answer once connected (a setup failure answers
/// sooner: the connect task reports `noconnection` within the 7 s setup time).
const PING_LIMIT: Duration = Duration::from_secs(30);

impl Node {
    /// `net_kernel:connect_node(Node)` / `Node.connect/1`: true once a connection is up; false
    /// for an unreachable node or a refused handshake (wrong cookie), leaving no connection.
    pub async fn connect(&self, peer: Atom) -> bool {
        if peer == self.name() {
            return true;
        }
        let Some(d) = self.inner.dist.get() else {
            return false;
        };
        match d.ensure_connection(peer) {
            Connecting::Up => true,
            Connecting::Stopped => false,
            Connecting::Wait(mut rx) => match rx.wait_for(|r| r.is_some()).await {
                Ok(r) => r.unwrap_or(false),
                Err(_) => false,
            },
        }
    }

    /// `erlang:disconnect_node(Node)`: true if there was a connection to close.
    pub fn disconnect(&self, peer: Atom) -> bool {
        let Some(d) = self.inner.dist.get() else {
            return false;
        };
        match d.net.get(peer) {
            Some(h) => {
                h.close();
                true
            }
            None => false,
        }
    }

    /// `nodes()` / `Node.list()`: peers with a live visible connection.
    pub fn nodes(&self) -> Vec<Atom> {
        self.connected(true)
    }

    /// `nodes(hidden)`: peers with a live hidden connection.
    pub fn nodes_hidden(&self) -> Vec<Atom> {
        self.connected(false)
    }

    fn connected(&self, visible: bool) -> Vec<Atom> {
        let Some(d) = self.inner.dist.get() else {
            return Vec::new();
        };
        let mut v: Vec<Atom> = d
            .net
            .peers()
            .into_iter()
            .filter(|p| {
                d.net
                    .get(*p)
                    .is_some_and(|h| flags::is_published(h.outcome().flags) == visible)
            })
            .collect();
        v.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        v
    }

    /// `net_adm:ping(Node)`: a gen call `{is_auth, node()}` to `{net_kernel, Node}`; `yes` is
    /// `Pong`. Anything else is `Pang`, and the connection (if any) is dropped.
    pub async fn ping(&self, peer: Atom) -> Ping {
        if peer == self.name() {
            return Ping::Pong;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.spawn(move |mut p: Process| async move {
            let _ = tx.send(p.is_auth(peer).await);
        });
        let ok = rx.await.unwrap_or(false);
        if ok {
            Ping::Pong
        } else {
            self.disconnect(peer);
            Ping::Pang
        }
    }

    /// `net_kernel:monitor_nodes(Flag)` for `pid`: `{nodeup, Node}` / `{nodedown, Node}` for
    /// every visible connection that comes or goes.
    pub fn monitor_nodes(&self, pid: etf::Pid, on: bool) {
        if let Some(d) = self.inner.dist.get() {
            d.watch.subscribe(pid, on);
        }
    }
}

impl Process {
    /// `erlang:monitor_node(Node, Flag)`: `{nodedown, Node}` when the connection goes, at once
    /// if it cannot be set up (a connect is attempted, as BEAM does).
    pub fn monitor_node(&self, peer: Atom, on: bool) {
        let down = Term::tuple(vec![Term::atom("nodedown"), Term::Atom(peer)]);
        let Some(d) = self.node.inner.dist.get() else {
            if on {
                self.node.deliver(self.pid(), down);
            }
            return;
        };
        if peer == self.node.name() {
            return;
        }
        d.watch.monitor_node(peer, self.pid(), on);
        if on && matches!(d.ensure_connection(peer), Connecting::Stopped) {
            d.watch.monitor_node(peer, self.pid(), false);
            self.node.deliver(self.pid(), down);
        }
    }

    /// The `gen:call({net_kernel, Peer}, {is_auth, node()})` of `net_adm:ping`.
    async fn is_auth(&mut self, peer: Atom) -> bool {
        let net_kernel = Atom::new("net_kernel");
        let mref = self.monitor_name_at(net_kernel, peer);
        let call = Term::tuple(vec![
            Term::Atom(Atom::GEN_CALL),
            Term::tuple(vec![Term::Pid(self.pid()), Term::Ref(mref)]),
            Term::tuple(vec![Term::atom("is_auth"), Term::Atom(self.node.name())]),
        ]);
        let _ = self.send_to(net_kernel, peer, call);
        let answer = self
            .receive_match(
                |m| match m.as_tuple() {
                    Some([Term::Ref(r), reply]) if *r == mref => Some(reply.is_atom("yes")),
                    Some([tag, Term::Ref(r), ..]) if tag.is_atom("DOWN") && *r == mref => {
                        Some(false)
                    }
                    _ => None,
                },
                Some(PING_LIMIT),
            )
            .await;
        self.demonitor_flush(mref);
        answer.unwrap_or(false)
    }
}
