//! The per-peer resolver (`resolver/2`, `exchange_names/4` of global.erl): compares the peer's
//! names with ours and resolves each conflict with `resolve_it` on the node of our pid, one rpc
//! at a time; only the node with the smaller name resolves (research §6.7).

use super::messages::{NameEntry, Op};
use super::methods::resolve_it;
use super::server::{GlobalServer, Internal};
use super::{Action, NodeKey, RpcId};
use etf::{Pid, Term};
use std::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct Resolver {
    /// The `MyTag` it was started with (`{Node, MyTag, Resolver}` in `#state.resolvers`).
    pub tag: Term,
    run: Option<Run>,
    /// The resolver process has exited (its entry stays until `cancel_locker`).
    done: bool,
}

#[derive(Debug)]
struct Run {
    names: VecDeque<NameEntry>,
    ops: Vec<Op>,
    res: Vec<Op>,
    /// The conflict an rpc is out for: (its id, the peer's entry, our pid and method).
    waiting: Option<(RpcId, NameEntry, Pid, Term)>,
}

impl Resolver {
    pub fn new(tag: Term) -> Resolver {
        Resolver {
            tag,
            run: None,
            done: false,
        }
    }
}

impl GlobalServer {
    /// `Resolver ! {resolve, NameList, Node}`.
    pub(crate) fn resolver_start(&mut self, node: etf::Atom, names: Vec<NameEntry>) {
        let Some(r) = self.resolvers.get_mut(&NodeKey(node)) else {
            tracing::warn!("global: no resolver for {node}");
            return;
        };
        if r.run.is_some() || r.done {
            return;
        }
        r.run = Some(Run {
            names: names.into(),
            ops: Vec::new(),
            res: Vec::new(),
            waiting: None,
        });
        self.resolver_step(node);
    }

    /// Run `exchange_names/4` until it needs an rpc or is done.
    fn resolver_step(&mut self, node: etf::Atom) {
        let me = self.cfg.node;
        loop {
            let Some(run) = self
                .resolvers
                .get_mut(&NodeKey(node))
                .and_then(|r| r.run.as_mut())
            else {
                return;
            };
            if run.waiting.is_some() {
                return;
            }
            let Some(e) = run.names.pop_front() else {
                let Some(r) = self.resolvers.get_mut(&NodeKey(node)) else {
                    return;
                };
                let Some(mut run) = r.run.take() else { return };
                r.done = true;
                run.ops.reverse();
                run.res.reverse();
                let tag = r.tag.clone();
                self.queue.push_back(Internal::ExchangeOps {
                    node,
                    tag,
                    ops: run.ops,
                    resolved: run.res,
                });
                return;
            };
            let ours = self.t.names().get(&e.name).cloned();
            match ours {
                Some(row) if row.pid == e.pid => {}
                Some(row) if NodeKey(me) < NodeKey(node) => {
                    let pid2 = row.pid;
                    let method2 = row.method.clone();
                    if pid2.node == me {
                        if let Some((winner, acts)) = resolve_it(&method2, &e.name, e.pid, pid2) {
                            self.out.extend(acts);
                            if let Some(run) = self.run_mut(node) {
                                apply_result(run, &e, pid2, &method2, &winner);
                            }
                            continue;
                        }
                    }
                    let id = RpcId(self.fresh());
                    if let Some(run) = self.run_mut(node) {
                        run.waiting = Some((id, e.clone(), pid2, method2.clone()));
                    }
                    self.rpcs.insert(id, NodeKey(node));
                    self.out.push(Action::Rpc {
                        id,
                        node: pid2.node,
                        method: method2,
                        name: e.name.clone(),
                        pid1: e.pid,
                        pid2,
                    });
                    return;
                }
                Some(_) => {}
                None => {
                    if let Some(run) = self.run_mut(node) {
                        run.ops.push(Op::Insert(e));
                    }
                }
            }
        }
    }

    fn run_mut(&mut self, node: etf::Atom) -> Option<&mut Run> {
        self.resolvers
            .get_mut(&NodeKey(node))
            .and_then(|r| r.run.as_mut())
    }

    pub(crate) fn on_rpc_result(&mut self, id: RpcId, result: Term) {
        let Some(node) = self.rpcs.remove(&id) else {
            return;
        };
        let Some(run) = self.resolvers.get_mut(&node).and_then(|r| r.run.as_mut()) else {
            return;
        };
        match run.waiting.take() {
            Some((wid, e, pid2, method2)) if wid == id => {
                apply_result(run, &e, pid2, &method2, &result);
                self.resolver_step(node.0);
            }
            other => run.waiting = other,
        }
    }
}

/// One `case rpc:call(...)` clause of `exchange_names/4`.
fn apply_result(run: &mut Run, e: &NameEntry, pid2: Pid, method2: &Term, result: &Term) {
    match result {
        Term::Pid(p) if *p == e.pid => run.ops.push(Op::Insert(e.clone())),
        Term::Pid(p) if *p == pid2 => run.res.push(Op::Insert(NameEntry {
            name: e.name.clone(),
            pid: pid2,
            method: method2.clone(),
        })),
        Term::Tuple(v) if v.len() == 2 && v[0].is_atom("badrpc") => {
            tracing::info!(
                "global: badrpc {:?} received when conflicting name {:?} was found",
                v[1],
                e.name
            );
            run.ops.push(Op::Insert(e.clone()));
        }
        other => {
            if !other.is_atom("none") {
                tracing::info!(
                    "global: Resolve method for conflicting name {:?} returned {other:?}",
                    e.name
                );
            }
            run.ops.push(Op::Delete(e.name.clone()));
            run.res.push(Op::Delete(e.name.clone()));
        }
    }
}
