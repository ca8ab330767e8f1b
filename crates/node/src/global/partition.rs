//! Losing nodes (research §6.9): `handle_nodedown/3`, `inform_connection_loss/2` and the
//! prevent_overlapping_partitions messages `lost_connection` / `remove_connection`, with the
//! per-`{A, B}` de-duplication and the `{removing, Node}` mark of global.erl.

use super::locker::LMsg;
use super::messages::Info;
use super::server::{GlobalServer, Internal, TimerPurpose};
use super::{Action, NodeKey};
use etf::{Atom, Term};

/// `What` of `handle_nodedown/3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeDownType {
    Disconnected,
    RemoveConnection,
}

/// How long a `lost_connection` report is remembered (global.erl: one hour).
const LOST_CONNECTION_MS: u64 = 60 * 60 * 1000;

impl GlobalServer {
    /// `handle_nodedown/3`.
    pub(crate) fn handle_nodedown(&mut self, node: Atom, what: NodeDownType) {
        let tag = self.tag_my(node);
        self.cancel_locker(node, tag, None);
        self.queue
            .push_back(Internal::Locker(LMsg::RemoveFromKnown(node)));
        self.reset_node_state(node);
        let k = NodeKey(node);
        match what {
            NodeDownType::RemoveConnection => {
                self.removing.insert(k);
            }
            NodeDownType::Disconnected => {
                if !self.removing.remove(&k) {
                    self.inform_connection_loss(node);
                }
            }
        }
        self.pending.remove(&k);
        self.known.remove(&k);
        self.synced.retain(|n| *n != node);
    }

    fn xcreation(&self) -> Term {
        // creation_extension + creation + 2^59
        Term::Int(self.creation_ext + i64::from(self.cfg.creation) + (1i64 << 59))
    }

    /// `inform_connection_loss/2`.
    fn inform_connection_loss(&mut self, node: Atom) {
        if !(self.cfg.connect_all && self.cfg.prevent_overlapping_partitions) {
            return;
        }
        let msg = Info::LostConnection {
            node_a: self.cfg.node,
            xcreation: self.xcreation(),
            op_id: Term::Int(self.unique_integer()),
            node_b: node,
        };
        self.volatile_multicast(msg, node);
    }

    /// `gns_volatile_multicast(Msg, IgnoreNode, 7, true, S)`.
    fn volatile_multicast(&mut self, msg: Info, ignore: Atom) {
        let targets: Vec<Atom> = self
            .known
            .iter()
            .chain(self.pending.iter())
            .filter(|(k, v)| k.0 != ignore && **v >= 7)
            .map(|(k, _)| k.0)
            .collect();
        for n in targets {
            self.info(n, msg.clone());
        }
    }

    fn is_node_potentially_known(&self, node: Atom) -> bool {
        let k = NodeKey(node);
        self.known.contains_key(&k) || self.pending.contains_key(&k)
    }

    /// `handle_info({lost_connection, ...})`.
    pub(crate) fn on_lost_connection(&mut self, a: Atom, xcre: Term, op_id: Term, b: Atom) {
        if !(self.cfg.connect_all && self.cfg.prevent_overlapping_partitions) {
            return;
        }
        let key = (NodeKey(a), NodeKey(b));
        if let Some((x, o, _)) = self.lost.get(&key) {
            if *x == xcre && op_id <= *o {
                return;
            }
        }
        let msg = Info::LostConnection {
            node_a: a,
            xcreation: xcre.clone(),
            op_id: op_id.clone(),
            node_b: b,
        };
        self.volatile_multicast(msg, a);
        let tmr = self.set_timer(
            TimerPurpose::LostConnection(key.0, key.1),
            LOST_CONNECTION_MS,
        );
        self.lost.insert(key, (xcre, op_id, tmr));
        let me = self.cfg.node;
        let rm = if me == b { a } else { b };
        if !self.is_node_potentially_known(rm) {
            return;
        }
        if self.node_vsn(rm) < 7 {
            self.out.push(Action::Disconnect { node: rm });
            tracing::warn!("'global' at node {me} disconnected old node {rm} in order to prevent overlapping partitions");
        } else {
            self.info(rm, Info::RemoveConnection { node: me });
            tracing::warn!("'global' at node {me} requested disconnect from node {rm} in order to prevent overlapping partitions");
        }
        self.handle_nodedown(rm, NodeDownType::RemoveConnection);
    }

    /// `handle_info({remove_connection, Node})`: the peer asks us to drop it.
    pub(crate) fn on_remove_connection(&mut self, node: Atom) {
        if !self.is_node_potentially_known(node) {
            return;
        }
        self.out.push(Action::Disconnect { node });
        self.handle_nodedown(node, NodeDownType::RemoveConnection);
        tracing::warn!(
            "'global' at node {} disconnected node {node} in order to prevent overlapping partitions",
            self.cfg.node
        );
    }
}
