//! Table operations of the server: names (`ins_name`, `ins_name_ext`, `insert_global_name`,
//! `lock_still_set`, `delete_global_name2`, `do_ops`) and locks (`handle_set_lock`,
//! `handle_del_lock`, `remove_lock`), mirroring global.erl clause by clause.

use super::locker::LMsg;
use super::messages::{extra_info, LockId, NameExt, Op};
use super::server::{GlobalServer, Internal};
use super::tables::{LockRow, NameRow};
use super::{Action, LockerTiming};
use etf::{Atom, Pid, Term};

/// `FromPidOrNode` of `insert_global_name/6`: a register call's caller, or the node whose
/// sync brought the name (then the lock id in ExtraInfo is checked).
#[derive(Debug, Clone, Copy)]
pub(crate) enum FromPidOrNode {
    Pid(Pid),
    Node,
}

impl GlobalServer {
    /// `ins_name/6`.
    pub(crate) fn ins_name(
        &mut self,
        name: &Term,
        pid: Pid,
        method: &Term,
        from: FromPidOrNode,
        extra: Option<&Term>,
    ) {
        self.delete_global_name_keep_pid(name);
        self.insert_global_name(name, pid, method, from, extra);
    }

    /// `ins_name_ext/7`.
    pub(crate) fn ins_name_ext(
        &mut self,
        name: &Term,
        pid: Pid,
        method: &Term,
        reg_node: Atom,
        from: FromPidOrNode,
        extra: Option<&Term>,
    ) {
        self.delete_global_name_keep_pid(name);
        if reg_node == self.cfg.node {
            self.out.push(Action::Link { pid });
        }
        self.t.names_ext.insert(name.clone(), (pid, reg_node));
        self.insert_global_name(name, pid, method, from, extra);
    }

    fn insert_global_name(
        &mut self,
        name: &Term,
        pid: Pid,
        method: &Term,
        from: FromPidOrNode,
        extra: Option<&Term>,
    ) {
        self.monitor(pid);
        self.t.insert_name(
            name.clone(),
            NameRow {
                pid,
                method: method.clone(),
            },
        );
        if !self.lock_still_set(from, extra) {
            self.delete_global_name2(name);
        }
    }

    /// `lock_still_set/3`: a name may only go in while its inserter still holds the global
    /// lock (or no global lock exists and no holder died). A missing `{lock, _}` crashes BEAM's
    /// server; here it just refuses the name.
    fn lock_still_set(&self, from: FromPidOrNode, extra: Option<&Term>) -> bool {
        match (self.t.locks.get(&Term::atom("global")), from) {
            (Some(l), FromPidOrNode::Pid(p)) => l.holders.contains(&p),
            (Some(l), FromPidOrNode::Node) => {
                let id = extra.and_then(|e| extra_info("lock", e));
                match id.and_then(|t| t.as_tuple()) {
                    Some([g, lock_id]) if g.is_atom("global") => l.requester == *lock_id,
                    _ => {
                        tracing::warn!("global: sync without a lock id in ExtraInfo: {extra:?}");
                        false
                    }
                }
            }
            (None, _) => !self.global_lock_down,
        }
    }

    fn delete_global_name_keep_pid(&mut self, name: &Term) {
        self.delete_global_name2(name);
    }

    /// `delete_global_name2/2`.
    pub(crate) fn delete_global_name2(&mut self, name: &Term) {
        let Some(row) = self.t.remove_name(name) else {
            return;
        };
        self.demonitor(row.pid);
        if let Some((pid, reg_node)) = self.t.names_ext.get(name).copied() {
            if pid == row.pid {
                self.t.names_ext.remove(name);
                // dounlink_ext/2 -> unlink_pid/1
                if reg_node == self.cfg.node
                    && !self.t.pid_has_name(pid)
                    && !self.t.pid_is_locking_any(pid)
                {
                    self.out.push(Action::Unlink { pid });
                }
            }
        }
    }

    /// `do_ops/5`.
    pub(crate) fn do_ops(
        &mut self,
        ops: &[Op],
        conn: FromPidOrNode,
        names_ext: &[NameExt],
        extra: &Term,
    ) {
        let mut xnames = Vec::new();
        for x in names_ext {
            for op in ops {
                if let Op::Insert(e) = op {
                    if e.name == x.name && e.pid == x.pid {
                        self.ins_name_ext(&e.name, e.pid, &e.method, x.reg_node, conn, Some(extra));
                        xnames.push(e.name.clone());
                    }
                }
            }
        }
        for op in ops {
            if let Op::Insert(e) = op {
                if !xnames.contains(&e.name) {
                    self.ins_name(&e.name, e.pid, &e.method, conn, Some(extra));
                }
            }
        }
        for op in ops {
            if let Op::Delete(name) = op {
                self.delete_global_name2(name);
            }
        }
    }

    /// `handle_set_lock/3`.
    pub(crate) fn handle_set_lock(&mut self, id: &LockId, pid: Pid) -> bool {
        let Some(holders) = self.t.can_set_lock(id) else {
            return false;
        };
        if holders.contains(&pid) {
            return true;
        }
        let mut holders = holders.to_vec();
        holders.insert(0, pid);
        self.monitor(pid);
        self.t.locks.insert(
            id.resource.clone(),
            LockRow {
                requester: id.requester.clone(),
                holders,
            },
        );
        true
    }

    /// `handle_del_lock/3`.
    pub(crate) fn handle_del_lock(&mut self, id: &LockId, pid: Pid) {
        if self
            .t
            .locks
            .get(&id.resource)
            .is_some_and(|l| l.requester == id.requester)
        {
            self.remove_lock(&id.resource, pid, false);
        }
    }

    /// `remove_lock/6`: `down` is true when the holder died (then a vanished global lock sets
    /// `global_lock_down`, which makes lockless inserts fail).
    pub(crate) fn remove_lock(&mut self, resource: &Term, pid: Pid, down: bool) {
        let Some(row) = self.t.locks.get_mut(resource) else {
            return;
        };
        if row.holders == [pid] {
            self.t.locks.remove(resource);
            self.demonitor(pid);
            if resource.is_atom("global") {
                self.global_lock_down = down;
                self.global_lock_released();
            }
        } else if let Some(i) = row.holders.iter().position(|p| *p == pid) {
            row.holders.remove(i);
            self.demonitor(pid);
        }
    }

    /// Fast timing: a waiting locker retries as soon as the global lock is gone.
    fn global_lock_released(&mut self) {
        if self.cfg.timing == LockerTiming::Fast && self.locker.wants_kick() {
            self.queue.push_back(Internal::Locker(LMsg::Kick));
        }
    }
}
