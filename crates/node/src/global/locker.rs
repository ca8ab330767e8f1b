//! The locker (`the_locker` process of global.erl): picks a peer whose sync is pending, locks
//! `{global, lists:sort([MyLocker, HisLocker])}` on the boss, on both nodes and on all known nodes
//! (`select_node`, `lock_nodes_safely`), trades `lock_set` with the peer's locker
//! (`the_locker_message`, `lock_is_set`) and holds the lock until the sync ends
//! (`wait_cancel_lock`, `delete_global_lock`). A sequential process with selective receive:
//! modelled as a mailbox plus a state; multi_calls go through the server's executor.

use super::messages::{Cast, LockId, LockSet};
use super::server::{GlobalServer, Internal, OpKind, Owner, TimerPurpose};
use super::{the_boss, Action, LockerTiming, NodeKey, TimerId};
use etf::{Atom, Pid, Term};
use std::collections::VecDeque;

/// The `new_nodes` sender `resolved/5` hands to the locker with its cancel.
#[derive(Debug, Clone)]
pub(crate) struct CancelFun {
    pub targets: Vec<(Atom, i64)>,
    pub msg: Cast,
}

/// Messages to the locker.
#[derive(Debug, Clone)]
pub(crate) enum LMsg {
    HisTheLocker {
        locker: Pid,
        vsn: i64,
        his_tag: Term,
        my_tag: Term,
    },
    Cancel {
        node: Atom,
        tag: Option<Term>,
        fun: Option<CancelFun>,
    },
    LockSet(LockSet),
    AddToKnown(Vec<Atom>),
    RemoveFromKnown(Atom),
    /// Fast timing only: the global lock was released.
    Kick,
}

/// `#him{}`.
#[derive(Debug, Clone, PartialEq)]
struct Him {
    node: Atom,
    locker: Pid,
    vsn: i64,
    my_tag: Term,
    his_tag: Term,
}

#[derive(Debug, Clone)]
enum Purpose {
    /// `select_node/1` chose this peer.
    Initiate(Him),
    /// Answering the peer locker's `lock_set` (`the_locker_message/2`).
    Respond {
        pid: Pid,
        vsn: i64,
        his_tag: Term,
        my_tag: Term,
    },
}

#[derive(Debug, Clone, Copy)]
enum Step {
    First,
    Second,
    Third,
    Undo,
}

/// What to do once `delete_global_lock/2` is done.
#[derive(Debug, Clone, Default)]
struct After {
    just_synced: Option<bool>,
    remove_node: Option<(Atom, Term)>,
    delete_him: Option<Him>,
}

#[derive(Debug, Clone)]
enum State {
    Idle,
    /// `lock_nodes_safely/3` waiting for a multi_call.
    Safely {
        lock_id: LockId,
        first: Vec<Atom>,
        second: Vec<Atom>,
        extra: Vec<Atom>,
        step: Step,
        purpose: Purpose,
    },
    /// `lock_is_set/5`: waiting for the peer locker's `lock_set`.
    AwaitLockSet {
        him: Him,
        known1: Vec<Atom>,
        lock_id: LockId,
    },
    /// `wait_cancel_lock/6`: the sync runs under the lock.
    AwaitCancel {
        node: Atom,
        my_tag: Term,
        lock_id: LockId,
        known: Vec<Atom>,
        after: After,
    },
    /// `delete_global_lock/2`: first on all but the boss, then on the boss.
    Deleting {
        lock_id: LockId,
        boss: Option<Atom>,
        after: After,
    },
}

#[derive(Debug)]
pub(crate) struct Locker {
    me: Atom,
    known: Vec<Atom>,
    boss: Atom,
    local: Vec<Him>,
    remote: Vec<Him>,
    just_synced: bool,
    fails: u32,
    state: State,
    mailbox: VecDeque<LMsg>,
    timer: Option<TimerId>,
}

#[path = "locker_steps.rs"]
mod steps;

fn host(n: Atom) -> &'static str {
    n.as_str().split_once('@').map_or("", |(_, h)| h)
}

impl Locker {
    pub fn new(me: Atom) -> Locker {
        Locker {
            me,
            known: Vec::new(),
            boss: me,
            local: Vec::new(),
            remote: Vec::new(),
            just_synced: false,
            fails: 0,
            state: State::Idle,
            mailbox: VecDeque::new(),
            timer: None,
        }
    }

    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle)
            && self.mailbox.is_empty()
            && self.local.is_empty()
            && self.remote.is_empty()
    }

    pub fn wants_kick(&self) -> bool {
        matches!(self.state, State::Idle) && !(self.local.is_empty() && self.remote.is_empty())
    }

    /// `update_locker_known/2`.
    fn update_known(&mut self, m: &LMsg) {
        match m {
            LMsg::AddToKnown(nodes) => {
                let mut k = nodes.clone();
                k.append(&mut self.known);
                self.known = k;
            }
            LMsg::RemoveFromKnown(n) => {
                if let Some(i) = self.known.iter().position(|x| x == n) {
                    self.known.remove(i);
                }
            }
            _ => return,
        }
        let mut all = vec![self.me];
        all.extend(self.known.iter().copied());
        self.boss = the_boss(&all).unwrap_or(self.me);
    }

    fn find_node_tag(&self, node: Atom) -> Option<&Him> {
        self.local
            .iter()
            .find(|h| h.node == node)
            .or_else(|| self.remote.iter().find(|h| h.node == node))
    }

    fn remove_node(&mut self, node: Atom, tag: &Term) {
        self.local.retain(|h| !(h.node == node && h.my_tag == *tag));
        self.remote
            .retain(|h| !(h.node == node && h.my_tag == *tag));
    }
}

/// `locker_lock_id/2`: `{global, lists:sort([self(), Pid])}` in term order.
fn locker_lock_id(mine: Pid, his: Pid) -> LockId {
    let mut v = vec![Term::Pid(mine), Term::Pid(his)];
    v.sort();
    LockId {
        resource: Term::atom("global"),
        requester: Term::List(v),
    }
}

fn minus(a: &[Atom], b: &[Atom]) -> Vec<Atom> {
    a.iter().filter(|x| !b.contains(x)).copied().collect()
}

fn delete_nonode(v: Vec<Atom>) -> Vec<Atom> {
    v.into_iter()
        .filter(|n| *n != Atom::NONODE_AT_NOHOST)
        .collect()
}

impl GlobalServer {
    pub(crate) fn locker_deliver(&mut self, m: LMsg) {
        self.locker.mailbox.push_back(m);
        self.locker_pump();
    }

    /// Process mailbox messages the current state accepts (selective receive).
    fn locker_pump(&mut self) {
        loop {
            match &self.locker.state {
                State::Idle => {
                    let Some(m) = self.locker.mailbox.pop_front() else {
                        return;
                    };
                    self.locker_idle_message(m);
                    if matches!(self.locker.state, State::Idle) {
                        self.locker_arm(false);
                    }
                }
                State::AwaitLockSet { .. } | State::AwaitCancel { .. } => {
                    let Some(i) = self
                        .locker
                        .mailbox
                        .iter()
                        .position(|m| self.locker_accepts(m))
                    else {
                        return;
                    };
                    if let Some(m) = self.locker.mailbox.remove(i) {
                        self.locker_blocked_message(m);
                    }
                }
                State::Safely { .. } | State::Deleting { .. } => return,
            }
        }
    }

    /// `loop_the_locker/1`: back to the idle receive.
    fn locker_loop(&mut self) {
        self.locker.state = State::Idle;
        self.locker_arm(true);
        self.locker_pump();
    }

    /// The `after Timeout` of `loop_the_locker/1`.
    fn locker_arm(&mut self, force: bool) {
        let l = &self.locker;
        if l.local.is_empty() && l.remote.is_empty() {
            self.locker.timer = None;
            return;
        }
        let ms = match self.cfg.timing {
            LockerTiming::Beam => {
                if l.just_synced {
                    0
                } else if l.known.is_empty() {
                    200
                } else {
                    (1000 + 100 * l.known.len() as u64).min(3000)
                }
            }
            LockerTiming::Fast => {
                if !force && l.timer.is_some() {
                    return;
                }
                if l.just_synced || l.fails == 0 {
                    0
                } else {
                    let cap = (10u64 << l.fails.min(7)).min(1000);
                    self.rng.uniform(cap)
                }
            }
        };
        self.locker.just_synced = false;
        let id = self.set_timer(TimerPurpose::Locker, ms);
        self.locker.timer = Some(id);
    }

    pub(crate) fn locker_timeout(&mut self, id: TimerId) {
        if self.locker.timer != Some(id) || !matches!(self.locker.state, State::Idle) {
            return;
        }
        self.locker.timer = None;
        if self.t.is_global_lock_set() {
            if self.cfg.timing == LockerTiming::Fast {
                // Woken by Kick when the lock goes; this is only a safety net.
                let ms = 20 + self.rng.uniform(80);
                let id = self.set_timer(TimerPurpose::Locker, ms);
                self.locker.timer = Some(id);
            } else {
                self.locker_arm(true);
            }
            return;
        }
        self.select_node();
    }

    fn locker_idle_message(&mut self, m: LMsg) {
        match m {
            LMsg::HisTheLocker {
                locker,
                vsn,
                his_tag,
                my_tag,
            } => {
                let him = Him {
                    node: locker.node,
                    locker,
                    vsn,
                    my_tag,
                    his_tag,
                };
                if host(him.node) == host(self.cfg.node) {
                    self.locker.local.insert(0, him);
                } else {
                    self.locker.remote.insert(0, him);
                }
            }
            LMsg::Cancel { tag: None, .. } => {}
            LMsg::Cancel {
                node,
                tag: Some(tag),
                fun: None,
            } => self.locker.remove_node(node, &tag),
            LMsg::Cancel { node, .. } => {
                tracing::warn!("The global_name_server locker process received an unexpected cancel for {node}");
            }
            LMsg::LockSet(ls) if !ls.set => {}
            LMsg::LockSet(ls) => {
                let node = ls.locker.node;
                let found = self.locker.find_node_tag(node).cloned();
                match found {
                    Some(him) if ls.tag.as_ref().is_none_or(|t| *t == him.my_tag) => {
                        let lock_id = locker_lock_id(self.cfg.locker, ls.locker);
                        let purpose = Purpose::Respond {
                            pid: ls.locker,
                            vsn: him.vsn,
                            his_tag: him.his_tag,
                            my_tag: him.my_tag,
                        };
                        self.lock_nodes_safely(lock_id, vec![], purpose);
                    }
                    _ => self.send_lock_set(false, ls.locker, 5, Term::Int(0)),
                }
            }
            m @ (LMsg::AddToKnown(_) | LMsg::RemoveFromKnown(_)) => self.locker.update_known(&m),
            LMsg::Kick => self.locker.timer = None,
        }
    }

    /// `select_node/1`.
    fn select_node(&mut self) {
        let use_remote = self.locker.local.is_empty();
        let known = self.locker.known.clone();
        let list = if use_remote {
            &mut self.locker.remote
        } else {
            &mut self.locker.local
        };
        list.retain(|h| !known.contains(&h.node));
        if list.is_empty() {
            self.locker_loop();
            return;
        }
        let i = (self.rng.next_u64() % list.len() as u64) as usize;
        let him = list[i].clone();
        let lock_id = locker_lock_id(self.cfg.locker, him.locker);
        self.lock_nodes_safely(lock_id, vec![him.node], Purpose::Initiate(him));
    }

    fn lock_is_set_cast(&mut self, node: Atom, tag: Term, lock_id: &LockId) {
        self.queue.push_back(Internal::Cast(Cast::LockIsSet {
            node,
            tag,
            lock_id: lock_id.to_term(),
        }));
    }

    /// `send_lock_set/5`.
    fn send_lock_set(&mut self, set: bool, his_locker: Pid, vsn: i64, his_tag: Term) {
        let known = Term::List(self.locker.known.iter().map(|n| Term::Atom(*n)).collect());
        let msg = LockSet {
            locker: self.cfg.locker,
            set,
            his_known: known,
            tag: (vsn >= 8).then_some(his_tag),
        };
        if vsn < 6 {
            self.out.push(Action::Send {
                to: his_locker,
                msg: msg.to_term(),
            });
        } else {
            self.cast(his_locker.node, Cast::LockSet(msg));
        }
    }

    fn locker_accepts(&self, m: &LMsg) -> bool {
        match (&self.locker.state, m) {
            (State::AwaitLockSet { him, .. }, LMsg::LockSet(ls)) => ls.locker.node == him.node,
            (State::AwaitLockSet { him, .. }, LMsg::Cancel { node, tag, .. }) => {
                *node == him.node && tag.as_ref() == Some(&him.my_tag)
            }
            (State::AwaitCancel { node, my_tag, .. }, LMsg::Cancel { node: n, tag, .. }) => {
                n == node && tag.as_ref() == Some(my_tag)
            }
            _ => false,
        }
    }

    fn locker_blocked_message(&mut self, m: LMsg) {
        match (self.locker.state.clone(), m) {
            (
                State::AwaitLockSet {
                    him,
                    known1,
                    lock_id,
                },
                LMsg::LockSet(ls),
            ) => {
                let current = ls.tag.as_ref().is_none_or(|t| *t == him.my_tag);
                if !current {
                    return; // an old tag: dropped, keep waiting
                }
                if ls.set {
                    // lock_is_set_true_received/6
                    self.lock_is_set_cast(him.node, him.my_tag.clone(), &lock_id);
                    self.locker.state = State::AwaitCancel {
                        node: him.node,
                        my_tag: him.my_tag.clone(),
                        lock_id,
                        known: known1,
                        after: After {
                            just_synced: Some(true),
                            remove_node: None,
                            delete_him: Some(him),
                        },
                    };
                } else {
                    self.delete_global_lock(lock_id, known1, After::default());
                }
            }
            (
                State::AwaitLockSet {
                    him,
                    known1,
                    lock_id,
                },
                LMsg::Cancel { fun, .. },
            ) => {
                if let Some(f) = fun {
                    self.run_cancel_fun(f);
                }
                let after = After {
                    remove_node: Some((him.node, him.my_tag)),
                    ..After::default()
                };
                self.delete_global_lock(lock_id, known1, after);
            }
            (
                State::AwaitCancel {
                    lock_id,
                    known,
                    after,
                    ..
                },
                LMsg::Cancel { fun, .. },
            ) => {
                if let Some(f) = fun {
                    self.run_cancel_fun(f);
                }
                self.delete_global_lock(lock_id, known, after);
            }
            _ => {}
        }
    }
}
