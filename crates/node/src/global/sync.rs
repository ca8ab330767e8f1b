//! The connect-time sync of two nodes (research §6.2, §6.8): `handle_nodeup`, `init_connect`,
//! `init_connect_ack`, `cancel_connect`, `lock_is_set`, `exchange`, `exchange_ops`, `resolved`,
//! `new_nodes`, `in_sync`, `handle_nodedown`, `sync_others` and `cancel_locker` of global.erl.

use super::locker::{CancelFun, LMsg};
use super::messages::{Cast, Info, InitLocker, NameExt, NodeVsn, Op};
use super::ops::FromPidOrNode;
use super::resolver::Resolver;
use super::server::{GlobalServer, Internal};
use super::{Action, NodeKey, PROTOCOL_VERSION};
use etf::{Atom, Term};

/// The per-node process dictionary of global.erl (`sync_tag_my`, `sync_tag_his`, `prot_vsn`,
/// `wait_lock`, `save_ops`, `pre_connect`, `lock_id`); `reset_node_state/1` drops it.
#[derive(Debug, Default, Clone)]
pub(crate) struct PeerSync {
    pub my_tag: Option<Term>,
    pub his_tag: Option<Term>,
    pub prot_vsn: Option<i64>,
    pub wait_lock: Option<WaitLock>,
    pub save_ops: Option<SaveOps>,
    pub pre_connect: Option<(i64, Term, InitLocker)>,
    pub lock_id: Option<Term>,
}

#[derive(Debug, Clone)]
pub(crate) enum WaitLock {
    LockIsSet,
    Exchange(Vec<super::messages::NameEntry>),
}

#[derive(Debug, Clone)]
pub(crate) enum SaveOps {
    Ops(Vec<Op>),
    Resolved {
        known: Vec<NodeVsn>,
        names_ext: Vec<NameExt>,
        resolved: Vec<Op>,
    },
}

fn undefined() -> Term {
    Term::Atom(Atom::UNDEFINED)
}

impl GlobalServer {
    pub(crate) fn peer(&mut self, node: Atom) -> &mut PeerSync {
        self.peers.entry(NodeKey(node)).or_default()
    }

    pub(crate) fn tag_my(&self, node: Atom) -> Option<Term> {
        self.peers
            .get(&NodeKey(node))
            .and_then(|p| p.my_tag.clone())
    }

    fn tag_his(&self, node: Atom) -> Term {
        let p = self.peers.get(&NodeKey(node));
        p.and_then(|p| p.his_tag.clone()).unwrap_or_else(undefined)
    }

    /// `reset_node_state/1`.
    pub(crate) fn reset_node_state(&mut self, node: Atom) {
        self.peers.remove(&NodeKey(node));
    }

    pub(crate) fn on_nodeup(&mut self, node: Atom, visible: bool) {
        if !visible || node == self.cfg.node {
            return;
        }
        self.connected.insert(NodeKey(node));
        if self.cfg.connect_all {
            self.handle_nodeup(node);
        }
    }

    /// `handle_nodeup/2`: start a sync unless one runs or the node is known.
    pub(crate) fn handle_nodeup(&mut self, node: Atom) {
        let k = NodeKey(node);
        if self.known.contains_key(&k) || self.resolvers.contains_key(&k) {
            return;
        }
        // resend_pre_connect/1
        if let Some((vsn, tag, init)) = self.peer(node).pre_connect.take() {
            self.queue.push_back(Internal::Cast(Cast::InitConnect {
                vsn,
                tag,
                vsn_rest: vec![],
                node,
                init,
            }));
        }
        let my_tag = Term::Int(self.unique_integer());
        self.peer(node).my_tag = Some(my_tag.clone());
        let known = Term::Map(
            self.known
                .iter()
                .map(|(n, v)| (Term::Atom(n.0), Term::Int(*v)))
                .collect(),
        );
        let init = InitLocker {
            no_longer_a_pid: Term::atom("no_longer_a_pid"),
            known,
            locker: self.cfg.locker,
        };
        let msg = Cast::InitConnect {
            vsn: PROTOCOL_VERSION,
            tag: my_tag.clone(),
            vsn_rest: vec![],
            node: self.cfg.node,
            init,
        };
        self.cast(node, msg);
        self.resolvers.insert(k, Resolver::new(my_tag));
    }

    /// `init_connect/6`.
    pub(crate) fn on_init_connect(
        &mut self,
        his_vsn: i64,
        longer: bool,
        his_tag: Term,
        node: Atom,
        init: InitLocker,
    ) {
        let vsn = if his_vsn > 8 || longer { 8 } else { his_vsn };
        if self.pending.contains_key(&NodeKey(node)) {
            if his_vsn < 8 {
                self.out.push(Action::Disconnect { node });
                tracing::error!("'global' at node {} got an out of sync connection attempt from old version {his_vsn} node {node}. Disconnecting from it.", self.cfg.node);
                return;
            }
            self.send_cancel_connect_message(node, his_tag.clone());
            let old = self.tag_my(node);
            self.restart_connect(node, old);
        }
        let p = self.peer(node);
        p.prot_vsn = Some(vsn);
        p.his_tag = Some(his_tag.clone());
        match self.resolvers.get(&NodeKey(node)).map(|r| r.tag.clone()) {
            Some(my_tag) => {
                if vsn <= 4 {
                    tracing::warn!("global: ignoring init_connect of version {vsn} from {node}");
                    return;
                }
                self.queue.push_back(Internal::Locker(LMsg::HisTheLocker {
                    locker: init.locker,
                    vsn,
                    his_tag: his_tag.clone(),
                    my_tag: my_tag.clone(),
                }));
                if his_vsn >= 8 {
                    let me = self.cfg.node;
                    self.info(
                        node,
                        Info::InitConnectAck {
                            node: me,
                            my_tag: his_tag,
                            his_tag: my_tag,
                        },
                    );
                }
                self.pending.insert(NodeKey(node), his_vsn);
            }
            None => self.peer(node).pre_connect = Some((vsn, his_tag, init)),
        }
    }

    /// `restart_connect/3`.
    pub(crate) fn restart_connect(&mut self, node: Atom, my_tag: Option<Term>) {
        self.cancel_locker(node, my_tag.clone(), None);
        self.reset_node_state(node);
        self.pending.remove(&NodeKey(node));
        if matches!(my_tag, Some(Term::Int(_)) | Some(Term::Big(_))) {
            self.handle_nodeup(node);
        }
    }

    pub(crate) fn send_cancel_connect_message(&mut self, node: Atom, his_tag: Term) {
        let me = self.cfg.node;
        self.info(
            node,
            Info::CancelConnect {
                node: me,
                tag: his_tag,
            },
        );
    }

    /// `cancel_locker/4`: tell the locker, tell a pending peer, kill the resolver.
    pub(crate) fn cancel_locker(&mut self, node: Atom, tag: Option<Term>, fun: Option<CancelFun>) {
        self.queue.push_back(Internal::Locker(LMsg::Cancel {
            node,
            tag: tag.clone(),
            fun,
        }));
        // send_cancel_connect/3
        if let (Some(v), Some(t)) = (self.pending.get(&NodeKey(node)), &tag) {
            if *v >= 8 && self.tag_my(node).as_ref() == Some(t) {
                let his = self.tag_his(node);
                self.send_cancel_connect_message(node, his);
            }
        }
        let k = NodeKey(node);
        if tag.is_some() && self.resolvers.get(&k).map(|r| &r.tag) == tag.as_ref() {
            self.resolvers.remove(&k);
        }
    }

    pub(crate) fn on_init_connect_ack(&mut self, node: Atom, his_my: Term, his_his: Term) {
        let my_my = self.tag_my(node);
        let my_his = self
            .peers
            .get(&NodeKey(node))
            .and_then(|p| p.his_tag.clone());
        if my_my.as_ref() == Some(&his_my) && my_his.as_ref() == Some(&his_his) {
            return;
        }
        self.send_cancel_connect_message(node, his_his);
        self.restart_connect(node, my_my);
    }

    pub(crate) fn on_cancel_connect(&mut self, node: Atom, tag: Term) {
        let my = self.tag_my(node);
        if my.as_ref() != Some(&tag) {
            return;
        }
        self.cancel_locker(node, my.clone(), None);
        self.reset_node_state(node);
        self.pending.remove(&NodeKey(node));
        self.restart_connect(node, my);
    }

    /// `lock_is_set` cast from the own locker: the lock is held, send our names.
    pub(crate) fn on_lock_is_set(&mut self, node: Atom, tag: Term, lock_id: Term) {
        if self.tag_my(node).as_ref() != Some(&tag) {
            self.cancel_locker(node, Some(tag), None);
            return;
        }
        let me = self.cfg.node;
        let msg = Cast::Exchange {
            node: me,
            names: self.t.get_names(),
            names_ext: Term::nil(),
            tag: self.tag_his(node),
        };
        self.cast(node, msg);
        let p = self.peer(node);
        p.lock_id = Some(lock_id);
        match p.wait_lock.take() {
            Some(WaitLock::Exchange(names)) => {
                p.wait_lock = Some(WaitLock::LockIsSet);
                self.exchange(node, names);
            }
            _ => p.wait_lock = Some(WaitLock::LockIsSet),
        }
    }

    pub(crate) fn on_exchange(
        &mut self,
        node: Atom,
        names: Vec<super::messages::NameEntry>,
        tag: Term,
    ) {
        if self.tag_my(node).as_ref() == Some(&tag) {
            self.exchange(node, names);
        } else {
            self.cancel_locker(node, Some(tag), None);
        }
    }

    /// `exchange/3`: both the lock and the peer's names are in: start the resolver.
    fn exchange(&mut self, node: Atom, names: Vec<super::messages::NameEntry>) {
        match self.peer(node).wait_lock.take() {
            Some(WaitLock::LockIsSet) => self.resolver_start(node, names),
            _ => self.peer(node).wait_lock = Some(WaitLock::Exchange(names)),
        }
    }

    pub(crate) fn on_exchange_ops(
        &mut self,
        node: Atom,
        tag: Term,
        ops: Vec<Op>,
        resolved: Vec<Op>,
    ) {
        if self.tag_my(node).as_ref() != Some(&tag) {
            self.cancel_locker(node, Some(tag), None);
            return;
        }
        let known = self.mk_known_list();
        let me = self.cfg.node;
        let msg = Cast::Resolved {
            node: me,
            resolved,
            known,
            unused: Term::atom("unused"),
            names_ext: self.t.get_names_ext(),
            tag: self.tag_his(node),
        };
        self.cast(node, msg);
        if let Some(SaveOps::Resolved {
            known,
            names_ext,
            resolved,
        }) = self.peer(node).save_ops.replace(SaveOps::Ops(ops))
        {
            self.resolved(node, resolved, known, names_ext);
        }
    }

    pub(crate) fn on_resolved(
        &mut self,
        node: Atom,
        resolved: Vec<Op>,
        known: Vec<NodeVsn>,
        names_ext: Vec<NameExt>,
        tag: Term,
    ) {
        if self.tag_my(node).as_ref() != Some(&tag) {
            self.cancel_locker(node, Some(tag), None);
            return;
        }
        if matches!(self.peer(node).save_ops, Some(SaveOps::Ops(_))) {
            self.resolved(node, resolved, known, names_ext);
        } else {
            self.peer(node).save_ops = Some(SaveOps::Resolved {
                known,
                names_ext,
                resolved,
            });
        }
    }

    /// `resolved/5`: apply the ops, learn the peer's known nodes (dial them), tell our old
    /// known nodes via `new_nodes` (run by the locker as it releases the lock).
    fn resolved(
        &mut self,
        node: Atom,
        his_resolved: Vec<Op>,
        his_known: Vec<NodeVsn>,
        names_ext: Vec<NameExt>,
    ) {
        let mut ops = match self.peer(node).save_ops.take() {
            Some(SaveOps::Ops(o)) => o,
            _ => Vec::new(),
        };
        ops.extend(his_resolved);
        let known_before: Vec<(Atom, i64)> = self.known.iter().map(|(k, v)| (k.0, *v)).collect();
        let mut all = vec![NodeVsn { node, vsn: None }];
        all.extend(his_known.iter().copied());
        let new_nodes = self.make_node_vsn_list(&all);
        let his_known_nodes: Vec<Atom> = his_known.iter().map(|n| n.node).collect();
        self.sync_others(&his_known_nodes);
        let p = self.peer(node);
        let vsn = p.prot_vsn.map_or(undefined(), Term::Int);
        let lock = p.lock_id.clone().unwrap_or_else(undefined);
        let extra = Term::List(vec![
            Term::Tuple(vec![Term::atom("vsn"), vsn]),
            Term::Tuple(vec![Term::atom("lock"), lock]),
        ]);
        let me = self.cfg.node;
        self.do_ops(&ops, FromPidOrNode::Node, &names_ext, &extra);
        self.notify_syncers(node);
        for n in &his_known_nodes {
            self.cancel_resolved_locker(*n, None);
        }
        let msg = Cast::NewNodes {
            node: me,
            ops,
            names_ext,
            nodes: new_nodes.clone(),
            extra,
        };
        let fun = CancelFun {
            targets: known_before,
            msg,
        };
        self.cancel_resolved_locker(node, Some(fun));
        let added = self.add_to_known(&new_nodes);
        self.queue
            .push_back(Internal::Locker(LMsg::AddToKnown(added)));
        self.synced.push(node);
    }

    fn cancel_resolved_locker(&mut self, node: Atom, fun: Option<CancelFun>) {
        let tag = self.tag_my(node);
        self.pending.remove(&NodeKey(node));
        self.cancel_locker(node, tag, fun);
        self.reset_node_state(node);
    }

    /// Run the `new_nodes` sender `resolved/5` gave the locker (`call_fun/1`).
    pub(crate) fn run_cancel_fun(&mut self, fun: CancelFun) {
        for (n, v) in fun.targets {
            let msg = if v >= 7 {
                fun.msg.clone()
            } else if let Cast::NewNodes {
                node,
                ops,
                names_ext,
                nodes,
                extra,
            } = fun.msg.clone()
            {
                let nodes = nodes
                    .iter()
                    .map(|x| NodeVsn {
                        node: x.node,
                        vsn: None,
                    })
                    .collect();
                Cast::NewNodes {
                    node,
                    ops,
                    names_ext,
                    nodes,
                    extra,
                }
            } else {
                continue;
            };
            self.cast(n, msg);
        }
    }

    pub(crate) fn on_new_nodes(
        &mut self,
        _node: Atom,
        ops: Vec<Op>,
        names_ext: Vec<NameExt>,
        nodes: Vec<NodeVsn>,
        extra: Term,
    ) {
        let added = self.add_to_known(&nodes);
        self.sync_others(&added);
        self.do_ops(&ops, FromPidOrNode::Node, &names_ext, &extra);
        self.queue
            .push_back(Internal::Locker(LMsg::AddToKnown(added)));
    }

    pub(crate) fn on_in_sync(&mut self, node: Atom) {
        self.notify_syncers(node);
        if !self.synced.contains(&node) {
            self.synced.push(node);
        }
        self.pending.remove(&NodeKey(node));
        let tag = self.tag_my(node);
        self.cancel_locker(node, tag, None);
        self.reset_node_state(node);
    }

    /// `sync_others/1`: dial each node (`monitor_node` with auto-connect), then `in_sync`.
    fn sync_others(&mut self, nodes: &[Atom]) {
        for n in nodes {
            if *n != self.cfg.node {
                self.out.push(Action::Dial { node: *n });
            }
        }
    }

    pub(crate) fn on_dial_result(&mut self, node: Atom, connected: bool) {
        if connected {
            let me = self.cfg.node;
            self.cast(
                node,
                Cast::InSync {
                    node: me,
                    is_known: Term::from(true),
                },
            );
        } else {
            tracing::warn!("'global' at {} failed to connect to {node}", self.cfg.node);
            // {extra_nodedown, Node}
            self.syncers_nodedown(node);
            self.handle_nodedown(node, super::partition::NodeDownType::Disconnected);
        }
    }

    pub(crate) fn on_nodedown(&mut self, node: Atom) {
        if node == self.cfg.node || !self.connected.remove(&NodeKey(node)) {
            return;
        }
        // The DOWN noconnection of every monitored pid there.
        for pid in self.t.pids_on(node) {
            self.pid_down(pid);
        }
        self.syncers_nodedown(node);
        self.handle_nodedown(node, super::partition::NodeDownType::Disconnected);
    }

    /// `make_node_vsn_list/2`.
    fn make_node_vsn_list(&self, l: &[NodeVsn]) -> Vec<NodeVsn> {
        l.iter()
            .map(|n| match n.vsn {
                Some(v) if v != 0 => *n,
                _ => NodeVsn {
                    node: n.node,
                    vsn: Some(self.node_vsn(n.node)),
                },
            })
            .collect()
    }

    /// `node_vsn/2`.
    pub(crate) fn node_vsn(&self, node: Atom) -> i64 {
        if node == self.cfg.node {
            return PROTOCOL_VERSION;
        }
        let k = NodeKey(node);
        self.known
            .get(&k)
            .or_else(|| self.pending.get(&k))
            .copied()
            .unwrap_or(0)
    }

    /// `mk_known_list/2` for v7+ peers.
    fn mk_known_list(&self) -> Vec<NodeVsn> {
        self.known
            .iter()
            .map(|(k, v)| NodeVsn {
                node: k.0,
                vsn: Some(*v),
            })
            .collect()
    }

    /// `add_to_known/2`: returns the nodes that were new.
    fn add_to_known(&mut self, add: &[NodeVsn]) -> Vec<Atom> {
        let mut added = Vec::new();
        for n in add {
            if n.node == self.cfg.node {
                continue;
            }
            let k = NodeKey(n.node);
            match (self.known.get(&k).copied(), n.vsn) {
                (None, v) => {
                    added.insert(0, n.node);
                    self.known.insert(k, v.unwrap_or(0));
                }
                (Some(old), Some(v)) if old < 0 => {
                    self.known.insert(k, v);
                }
                _ => {}
            }
        }
        added
    }
}
