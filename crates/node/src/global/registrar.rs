//! This node's own API calls: the registrar (`loop_the_registrar`, `trans_all_known`,
//! `set_lock_known`: lock `{global, Registrar}` on the boss, then on all known nodes, then call
//! `register`/`unregister` on each, research §6.4), user `set_lock`/`del_lock` (`set_lock/4`,
//! run as the calling process), and `sync` (`start_sync`, `sync_loop`).

use super::api::{Action, LocalRequest, ReqId};
use super::messages::{LockId, Request};
use super::server::{GlobalServer, OpKind, Owner, TimerPurpose};
use super::{random_sleep_ms, the_boss};
use etf::{Atom, Pid, Term};
use std::collections::VecDeque;

#[derive(Debug, Clone)]
enum RegOp {
    Register { name: Term, pid: Pid, method: Term },
    ReRegister { name: Term, pid: Pid, method: Term },
    Unregister { name: Term },
    RegisterExt { name: Term, pid: Pid, method: Term },
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    LockBoss,
    LockAll,
    UndoBoss,
    Sleep,
    Op,
    UnlockRest,
    UnlockBoss,
}

#[derive(Debug)]
struct Run {
    req: ReqId,
    op: RegOp,
    times: u32,
    known: Vec<Atom>,
    nodes: Vec<Atom>,
    boss: Atom,
    phase: Phase,
    result: Term,
}

/// The registrar process: one transaction at a time, in request order.
#[derive(Debug, Default)]
pub(crate) struct Registrar {
    queue: VecDeque<(ReqId, RegOp)>,
    cur: Option<Run>,
}

impl Registrar {
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.cur.is_none()
    }
}

/// A `set_lock/4` or `del_lock/2` of a local process.
#[derive(Debug)]
pub(crate) struct UserLock {
    req: ReqId,
    holder: Pid,
    id: LockId,
    nodes: Vec<Atom>,
    retries: Option<u32>,
    times: u32,
    del: bool,
}

/// A `sync/0,1` waiting for nodes to be synced or down.
#[derive(Debug)]
pub(crate) struct Syncer {
    req: ReqId,
    nodes: Vec<Atom>,
}

impl GlobalServer {
    pub(crate) fn on_local(&mut self, req: ReqId, r: LocalRequest) {
        let op = match r {
            LocalRequest::RegisterName { name, pid, method } => {
                RegOp::Register { name, pid, method }
            }
            LocalRequest::ReRegisterName { name, pid, method } => {
                RegOp::ReRegister { name, pid, method }
            }
            LocalRequest::UnregisterName { name } => {
                if self.t.where_(&name).is_none() {
                    return self.local_reply(req, Term::Atom(Atom::OK));
                }
                RegOp::Unregister { name }
            }
            LocalRequest::RegisterNameExternal { name, pid, method } => {
                RegOp::RegisterExt { name, pid, method }
            }
            LocalRequest::SetLock {
                holder,
                id,
                nodes,
                retries,
            } => return self.user_lock(req, holder, id, nodes, retries, false),
            LocalRequest::DelLock { holder, id, nodes } => {
                return self.user_lock(req, holder, id, nodes, None, true)
            }
            LocalRequest::Sync { nodes } => return self.start_sync(req, nodes),
        };
        self.registrar.queue.push_back((req, op));
        self.registrar_next();
    }

    fn local_reply(&mut self, req: ReqId, reply: Term) {
        self.out.push(Action::LocalReply { req, reply });
    }

    /// `[node() | nodes()]`.
    fn all_nodes(&self) -> Vec<Atom> {
        let mut v = vec![self.cfg.node];
        v.extend(self.connected.iter().map(|k| k.0));
        v
    }

    fn registrar_next(&mut self) {
        if self.registrar.cur.is_some() {
            return;
        }
        let Some((req, op)) = self.registrar.queue.pop_front() else {
            return;
        };
        self.registrar.cur = Some(Run {
            req,
            op,
            times: 0,
            known: vec![],
            nodes: vec![],
            boss: self.cfg.node,
            phase: Phase::LockBoss,
            result: Term::atom("no"),
        });
        self.set_lock_known();
    }

    fn reg_id(&self) -> LockId {
        LockId {
            resource: Term::atom("global"),
            requester: Term::Pid(self.cfg.registrar),
        }
    }

    fn reg_op(&mut self, phase: Phase, kind: OpKind, nodes: Vec<Atom>) {
        if let Some(r) = self.registrar.cur.as_mut() {
            r.phase = phase;
        }
        let me = self.cfg.registrar;
        self.start_op(Owner::Registrar, me, kind, nodes);
    }

    /// `set_lock_known/2`: lock the boss first.
    fn set_lock_known(&mut self) {
        let known = self.known_nodes();
        let mut nodes = vec![self.cfg.node];
        nodes.extend(known.iter().copied());
        let boss = the_boss(&nodes).unwrap_or(self.cfg.node);
        if let Some(r) = self.registrar.cur.as_mut() {
            r.known = known;
            r.nodes = nodes;
            r.boss = boss;
        }
        let id = self.reg_id();
        self.reg_op(Phase::LockBoss, OpKind::SetLock(id), vec![boss]);
    }

    pub(crate) fn registrar_op_done(&mut self, ok: bool) {
        let Some(r) = self.registrar.cur.as_ref() else {
            return;
        };
        let (phase, nodes, boss, known) = (r.phase, r.nodes.clone(), r.boss, r.known.clone());
        let id = self.reg_id();
        match (phase, ok) {
            (Phase::LockBoss, true) => self.reg_op(Phase::LockAll, OpKind::SetLock(id), nodes),
            (Phase::LockBoss, false) | (Phase::UndoBoss, _) => self.registrar_sleep(),
            (Phase::LockAll, true) => {
                // lock_on_known_nodes/3: nobody joined meanwhile
                let now = self.known_nodes();
                if now.iter().all(|n| known.contains(n)) {
                    self.registrar_run_op();
                } else {
                    self.reg_op(Phase::UndoBoss, OpKind::DelLock(id), vec![boss]);
                }
            }
            (Phase::LockAll, false) => {
                self.reg_op(Phase::UndoBoss, OpKind::DelLock(id), vec![boss])
            }
            (Phase::Op, _) => self.registrar_unlock(),
            (Phase::UnlockRest, _) => {
                self.reg_op(Phase::UnlockBoss, OpKind::DelLock(id), vec![boss])
            }
            (Phase::UnlockBoss, _) => {
                if let Some(r) = self.registrar.cur.take() {
                    self.local_reply(r.req, r.result);
                }
                self.registrar_next();
            }
            (Phase::Sleep, _) => {}
        }
    }

    fn registrar_sleep(&mut self) {
        let Some(r) = self.registrar.cur.as_mut() else {
            return;
        };
        r.phase = Phase::Sleep;
        let ms = random_sleep_ms(&mut self.rng, r.times);
        self.set_timer(TimerPurpose::Registrar, ms);
    }

    pub(crate) fn registrar_wake(&mut self) {
        match self.registrar.cur.as_mut() {
            Some(r) if matches!(r.phase, Phase::Sleep) => r.times += 1,
            _ => return,
        }
        self.set_lock_known();
    }

    /// The registrar's `Fun(Nodes)` under the lock.
    fn registrar_run_op(&mut self) {
        let Some(r) = self.registrar.cur.as_ref() else {
            return;
        };
        let nodes = r.nodes.clone();
        let (req, result) = match r.op.clone() {
            RegOp::Register { name, pid, method } => {
                let free = self.t.where_(&name).is_none() && self.check_dupname(&name, pid);
                if !free {
                    return self.registrar_set_result_and_unlock(Term::atom("no"));
                }
                (Request::Register { name, pid, method }, Term::atom("yes"))
            }
            RegOp::ReRegister { name, pid, method } => {
                (Request::Register { name, pid, method }, Term::atom("yes"))
            }
            RegOp::Unregister { name } => (Request::Unregister { name }, Term::Atom(Atom::OK)),
            RegOp::RegisterExt { name, pid, method } => {
                if self.t.where_(&name).is_some() {
                    return self.registrar_set_result_and_unlock(Term::atom("no"));
                }
                let reg_node = self.cfg.node;
                let r = Request::RegisterExt {
                    name,
                    pid,
                    method,
                    reg_node,
                };
                (r, Term::atom("yes"))
            }
        };
        if let Some(r) = self.registrar.cur.as_mut() {
            r.result = result;
        }
        self.reg_op(Phase::Op, OpKind::Plain(req), nodes);
    }

    fn registrar_set_result_and_unlock(&mut self, result: Term) {
        if let Some(r) = self.registrar.cur.as_mut() {
            r.result = result;
        }
        self.registrar_unlock();
    }

    /// `delete_global_lock/2` of the registrar: all but the boss, then the boss.
    fn registrar_unlock(&mut self) {
        let Some(r) = self.registrar.cur.as_ref() else {
            return;
        };
        let mut rest = r.nodes.clone();
        if let Some(i) = rest.iter().position(|n| *n == r.boss) {
            rest.remove(i);
        }
        let id = self.reg_id();
        self.reg_op(Phase::UnlockRest, OpKind::DelLock(id), rest);
    }

    /// `check_dupname/2`.
    fn check_dupname(&self, name: &Term, pid: Pid) -> bool {
        if !self.t.pid_has_name(pid) || self.cfg.allow_multi_names {
            return true;
        }
        let names = self.t.names_of(pid);
        tracing::error!(
            "global: {pid:?} registered under several names: {:?}",
            (name, names)
        );
        false
    }

    fn user_lock(
        &mut self,
        req: ReqId,
        holder: Pid,
        id: LockId,
        nodes: Option<Vec<Atom>>,
        retries: Option<u32>,
        del: bool,
    ) {
        let nodes = nodes.unwrap_or_else(|| self.all_nodes());
        let n = self.fresh();
        let kind = if del {
            OpKind::DelLock(id.clone())
        } else {
            OpKind::SetLock(id.clone())
        };
        self.users.insert(
            n,
            UserLock {
                req,
                holder,
                id,
                nodes: nodes.clone(),
                retries,
                times: 1,
                del,
            },
        );
        self.start_op(Owner::User(n), holder, kind, nodes);
    }

    pub(crate) fn user_op_done(&mut self, n: u64, ok: bool) {
        let Some(u) = self.users.get(&n) else {
            return;
        };
        if u.del || ok || u.retries == Some(0) {
            let (req, reply) = (u.req, u.del || ok);
            self.users.remove(&n);
            return self.local_reply(req, Term::from(reply));
        }
        let ms = random_sleep_ms(&mut self.rng, u.times);
        self.set_timer(TimerPurpose::User(n), ms);
    }

    pub(crate) fn user_wake(&mut self, n: u64) {
        let Some(u) = self.users.get_mut(&n) else {
            return;
        };
        u.times += 1;
        u.retries = u.retries.map(|r| r.saturating_sub(1));
        let (holder, id, nodes) = (u.holder, u.id.clone(), u.nodes.clone());
        self.start_op(Owner::User(n), holder, OpKind::SetLock(id), nodes);
    }

    /// `sync/0,1` (`start_sync/2`). The driver lists the nodes connected *now* (BEAM's
    /// `check_sync_nodes/0` reads `nodes()`), which may include a node whose nodeup has not
    /// reached the server yet: the sync waits for it, as BEAM's does. `None`: the nodes the
    /// server has seen come up.
    fn start_sync(&mut self, req: ReqId, nodes: Option<Vec<Atom>>) {
        let nodes = nodes.unwrap_or_else(|| self.connected.iter().map(|k| k.0).collect());
        let me = self.cfg.node;
        let nodes: Vec<Atom> = nodes
            .into_iter()
            .filter(|n| *n != me && !self.synced.contains(n))
            .collect();
        if nodes.is_empty() {
            return self.local_reply(req, Term::Atom(Atom::OK));
        }
        self.syncers.push(Syncer { req, nodes });
    }

    /// `{synced, [Node]}` to every syncer.
    pub(crate) fn notify_syncers(&mut self, node: Atom) {
        self.syncers_nodedown(node);
    }

    /// A node is synced or down: syncers stop waiting for it.
    pub(crate) fn syncers_nodedown(&mut self, node: Atom) {
        let mut done = Vec::new();
        self.syncers.retain_mut(|s| {
            s.nodes.retain(|n| *n != node);
            if s.nodes.is_empty() {
                done.push(s.req);
                false
            } else {
                true
            }
        });
        for req in done {
            self.local_reply(req, Term::Atom(Atom::OK));
        }
    }
}
