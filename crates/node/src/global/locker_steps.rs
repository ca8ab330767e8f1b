//! The locker's multi-step lock operations: `lock_nodes_safely/3` (boss, then both nodes, then
//! every known node, undoing on refusal), what follows it for an initiator or a responder, and
//! `delete_global_lock/2` (all but the boss, then the boss).

use super::*;

impl GlobalServer {
    /// `lock_nodes_safely/3`: boss first, then the two nodes, then every known node.
    pub(super) fn lock_nodes_safely(
        &mut self,
        lock_id: LockId,
        extra: Vec<Atom>,
        purpose: Purpose,
    ) {
        let first = delete_nonode(vec![self.locker.boss]);
        if first != [self.cfg.node] && self.t.can_set_lock(&lock_id).is_none() {
            self.safely_done(false, lock_id, purpose);
            return;
        }
        self.locker.state = State::Safely {
            lock_id: lock_id.clone(),
            first: first.clone(),
            second: Vec::new(),
            extra,
            step: Step::First,
            purpose,
        };
        let me = self.cfg.locker;
        self.start_op(Owner::Locker, me, OpKind::SetLock(lock_id), first);
    }

    pub(crate) fn locker_op_done(&mut self, ok: bool) {
        let me = self.cfg.locker;
        match self.locker.state.clone() {
            State::Safely {
                lock_id,
                first,
                second,
                extra,
                step,
                purpose,
            } => {
                let (next, nodes, kind) = match (step, ok) {
                    (Step::First, true) => {
                        // update_locker_known/1: take pending known changes now.
                        let mut keep = VecDeque::new();
                        while let Some(m) = self.locker.mailbox.pop_front() {
                            match m {
                                LMsg::AddToKnown(_) | LMsg::RemoveFromKnown(_) => {
                                    self.locker.update_known(&m)
                                }
                                other => keep.push_back(other),
                            }
                        }
                        self.locker.mailbox = keep;
                        let mut us = vec![self.cfg.node];
                        us.extend(extra.iter().copied());
                        let second = delete_nonode(minus(&us, &first));
                        (Step::Second, second, OpKind::SetLock(lock_id.clone()))
                    }
                    (Step::Second, true) => {
                        let third = minus(&self.locker.known, &first);
                        (Step::Third, third, OpKind::SetLock(lock_id.clone()))
                    }
                    (Step::Third, true) => return self.safely_done(true, lock_id, purpose),
                    (Step::Second, false) => {
                        (Step::Undo, first.clone(), OpKind::DelLock(lock_id.clone()))
                    }
                    (Step::Third, false) => {
                        let mut so_far = first.clone();
                        so_far.extend(second.iter().copied());
                        (Step::Undo, so_far, OpKind::DelLock(lock_id.clone()))
                    }
                    (Step::First, false) | (Step::Undo, _) => {
                        return self.safely_done(false, lock_id, purpose)
                    }
                };
                let second = if matches!(next, Step::Second) {
                    nodes.clone()
                } else {
                    second
                };
                self.locker.state = State::Safely {
                    lock_id,
                    first,
                    second,
                    extra,
                    step: next,
                    purpose,
                };
                self.start_op(Owner::Locker, me, kind, nodes);
            }
            State::Deleting {
                lock_id,
                boss: Some(boss),
                after,
            } => {
                self.locker.state = State::Deleting {
                    lock_id: lock_id.clone(),
                    boss: None,
                    after,
                };
                self.start_op(Owner::Locker, me, OpKind::DelLock(lock_id), vec![boss]);
            }
            State::Deleting {
                boss: None, after, ..
            } => {
                if let Some(j) = after.just_synced {
                    self.locker.just_synced = j;
                }
                if let Some((n, t)) = after.remove_node {
                    self.locker.remove_node(n, &t);
                }
                if let Some(h) = after.delete_him {
                    self.locker.local.retain(|x| *x != h);
                    self.locker.remote.retain(|x| *x != h);
                }
                self.locker_loop();
            }
            _ => {}
        }
    }

    pub(super) fn safely_done(&mut self, ok: bool, lock_id: LockId, purpose: Purpose) {
        match purpose {
            Purpose::Initiate(him) => {
                if !ok {
                    self.locker.fails += 1;
                    return self.locker_loop();
                }
                self.locker.fails = 0;
                let mut known1 = vec![self.cfg.node, him.node];
                known1.extend(self.locker.known.iter().copied());
                self.send_lock_set(true, him.locker, him.vsn, him.his_tag.clone());
                self.locker.state = State::AwaitLockSet {
                    him,
                    known1,
                    lock_id,
                };
                self.locker_pump();
            }
            Purpose::Respond {
                pid,
                vsn,
                his_tag,
                my_tag,
            } => {
                self.send_lock_set(ok, pid, vsn, his_tag);
                if !ok {
                    self.locker.just_synced = false;
                    return self.locker_loop();
                }
                let mut known = vec![self.cfg.node];
                known.extend(self.locker.known.iter().copied());
                self.lock_is_set_cast(pid.node, my_tag.clone(), &lock_id);
                self.locker.state = State::AwaitCancel {
                    node: pid.node,
                    my_tag: my_tag.clone(),
                    lock_id,
                    known,
                    after: After {
                        just_synced: Some(true),
                        remove_node: Some((pid.node, my_tag)),
                        delete_him: None,
                    },
                };
                self.locker_pump();
            }
        }
    }

    /// `delete_global_lock/2`.
    pub(super) fn delete_global_lock(
        &mut self,
        lock_id: LockId,
        mut nodes: Vec<Atom>,
        after: After,
    ) {
        let boss = the_boss(&nodes);
        if let Some(b) = boss {
            if let Some(i) = nodes.iter().position(|n| NodeKey(*n) == NodeKey(b)) {
                nodes.remove(i);
            }
        }
        self.locker.state = State::Deleting {
            lock_id: lock_id.clone(),
            boss,
            after,
        };
        let me = self.cfg.locker;
        self.start_op(Owner::Locker, me, OpKind::DelLock(lock_id), nodes);
    }
}
