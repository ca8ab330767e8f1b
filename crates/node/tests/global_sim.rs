//! `:global` core in a simulated cluster (tests/global_support): sync, transitive connection,
//! concurrent registration, removal, name conflicts, partitions, and random schedules.

mod global_support;

use ferl::global::messages::{Cast, LockId, LockSet};
use ferl::global::{
    method_term, Action, Config, GlobalServer, Input, LocalRequest, LockerTiming, StdMethod,
};
use ferl::{Atom, Pid, Term};
use global_support::Sim;
use proptest::prelude::*;

fn yes(sim: &Sim, node: usize, req: u64) -> bool {
    sim.replies
        .get(&(node, req))
        .is_some_and(|t| t.is_atom("yes"))
}

#[test]
fn two_nodes_sync_and_exchange_names() {
    for timing in [LockerTiming::Fast, LockerTiming::Beam] {
        let mut sim = Sim::new(2, 1, timing);
        let pa = sim.spawn(0);
        let pb = sim.spawn(1);
        let ra = sim.register(0, "a", pa);
        let rb = sim.register(1, "b", pb);
        sim.settle(1000);
        assert!(yes(&sim, 0, ra) && yes(&sim, 1, rb));
        let t0 = sim.now;
        sim.connect(0, 1);
        let mut visible_at = None;
        while sim.now < t0 + 5000 {
            sim.run_until(sim.now + 1);
            let s = &sim.nodes[1].srv;
            if visible_at.is_none() && s.whereis_name(&Term::atom("a")) == Some(pa) {
                visible_at = Some(sim.now - t0);
            }
        }
        sim.settle(10_000);
        sim.check_converged();
        assert_eq!(sim.nodes[0].srv.whereis_name(&Term::atom("b")), Some(pb));
        let ms = visible_at.expect("names visible");
        eprintln!(
            "{timing:?}: names visible after {ms} ms (virtual), {} steps",
            sim.steps
        );
        if timing == LockerTiming::Fast {
            assert!(ms <= 50, "fast sync took {ms} ms");
        } else {
            assert!(ms >= 200, "beam timing took {ms} ms");
        }
    }
}

#[test]
fn transitive_connection_through_a_hub() {
    let mut sim = Sim::new(3, 2, LockerTiming::Fast);
    let (a, hub, b) = (0, 1, 2);
    let pa = sim.spawn(a);
    let pb = sim.spawn(b);
    let ph = sim.spawn(hub);
    sim.register(a, "a", pa);
    sim.register(b, "b", pb);
    sim.register(hub, "hub", ph);
    sim.settle(1000);
    sim.connect(a, hub);
    sim.settle(5000);
    sim.connect(b, hub);
    sim.settle(5000);
    assert!(sim.connected(a, b), "b was not connected to a");
    sim.check_converged();
    for i in 0..3 {
        assert_eq!(sim.table(i).len(), 3, "node {i}: {:?}", sim.table(i));
    }
}

fn full_mesh(sim: &mut Sim) {
    let n = sim.nodes.len();
    for i in 1..n {
        sim.connect(0, i);
        sim.settle(3000);
    }
}

#[test]
fn concurrent_register_name_200_calls_over_4_nodes() {
    let mut sim = Sim::new(4, 3, LockerTiming::Fast);
    full_mesh(&mut sim);
    sim.check_converged();
    let mut reqs = Vec::new();
    for k in 0..100 {
        for _ in 0..2 {
            let node = sim.rand(4) as usize;
            let pid = sim.spawn(node);
            let r = sim.register(node, &format!("name{k}"), pid);
            reqs.push((k, node, r, pid));
        }
    }
    sim.settle(600_000);
    sim.check_converged();
    for k in 0..100 {
        let name = Term::atom(&format!("name{k}"));
        let winners: Vec<_> = reqs
            .iter()
            .filter(|(kk, n, r, _)| *kk == k && yes(&sim, *n, *r))
            .collect();
        assert_eq!(winners.len(), 1, "name{k}: {winners:?}");
        for i in 0..4 {
            assert_eq!(sim.nodes[i].srv.whereis_name(&name), Some(winners[0].3));
        }
    }
}

#[test]
fn names_go_when_the_process_dies_or_its_node_goes_down() {
    let mut sim = Sim::new(3, 4, LockerTiming::Fast);
    full_mesh(&mut sim);
    let p1 = sim.spawn(1);
    let p2 = sim.spawn(2);
    sim.register(1, "p1", p1);
    sim.register(2, "p2", p2);
    sim.settle(5000);
    assert_eq!(sim.table(0).len(), 2);
    sim.kill(p1);
    sim.settle(5000);
    for i in 0..3 {
        assert_eq!(sim.nodes[i].srv.whereis_name(&Term::atom("p1")), None);
    }
    sim.blocked.insert((0, 2));
    sim.blocked.insert((1, 2));
    sim.disconnect(0, 2);
    sim.disconnect(1, 2);
    sim.settle(5000);
    for i in 0..2 {
        assert_eq!(sim.nodes[i].srv.whereis_name(&Term::atom("p2")), None);
    }
    assert_eq!(sim.nodes[2].srv.whereis_name(&Term::atom("p2")), Some(p2));
    sim.check_converged();
}

#[test]
fn joined_clusters_with_the_same_name_keep_one_pid() {
    let mut sim = Sim::new(4, 5, LockerTiming::Fast);
    sim.connect(0, 1);
    sim.connect(2, 3);
    sim.settle(5000);
    let px = sim.spawn(1);
    let py = sim.spawn(3);
    sim.register(1, "dup", px);
    sim.register(3, "dup", py);
    sim.settle(5000);
    sim.connect(0, 2);
    sim.settle(20_000);
    sim.check_converged();
    let w = sim.nodes[0]
        .srv
        .whereis_name(&Term::atom("dup"))
        .expect("one survives");
    assert!(w == px || w == py);
    let loser = if w == px { py } else { px };
    assert!(!sim.is_alive(loser), "random_exit_name kills the loser");
    assert!(sim.is_alive(w));
}

#[test]
fn lost_connection_removes_the_overlap() {
    let mut sim = Sim::new(3, 6, LockerTiming::Fast);
    full_mesh(&mut sim);
    sim.check_converged();
    sim.blocked.insert((0, 1));
    sim.disconnect(0, 1);
    sim.settle(20_000);
    // No node stays connected to both sides of the cut.
    assert!(!(sim.connected(2, 0) && sim.connected(2, 1)));
    sim.check_converged();
}

#[test]
fn set_lock_and_del_lock_from_this_node() {
    let mut sim = Sim::new(3, 7, LockerTiming::Fast);
    full_mesh(&mut sim);
    let holder = sim.spawn(0);
    let other = sim.spawn(1);
    let id = LockId {
        resource: Term::atom("res"),
        requester: Term::atom("me"),
    };
    let id2 = LockId {
        resource: Term::atom("res"),
        requester: Term::atom("other"),
    };
    let r = sim.local(
        0,
        LocalRequest::SetLock {
            holder,
            id: id.clone(),
            nodes: None,
            retries: None,
        },
    );
    sim.settle(5000);
    assert!(sim.replies[&(0, r)].is_atom("true"));
    for i in 0..3 {
        assert_eq!(sim.nodes[i].srv.locks().len(), 1);
    }
    let r2 = sim.local(
        1,
        LocalRequest::SetLock {
            holder: other,
            id: id2,
            nodes: None,
            retries: Some(1),
        },
    );
    sim.settle(30_000);
    assert!(sim.replies[&(1, r2)].is_atom("false"));
    let r3 = sim.local(
        0,
        LocalRequest::DelLock {
            holder,
            id,
            nodes: None,
        },
    );
    sim.settle(5000);
    assert!(sim.replies[&(0, r3)].is_atom("true"));
    sim.check_converged();
    let r4 = sim.local(2, LocalRequest::Sync { nodes: None });
    sim.settle(5000);
    assert!(sim.replies[&(2, r4)].is_atom("ok"));
}

/// Conflict between `a` on n0 and n1, each registered with `method`; returns (p0, p1, sim).
/// A Rust method for the simulator: its function name and body.
type Custom = (&'static str, fn(Pid, Pid) -> Term);

fn conflict(method: Term, custom: Option<Custom>) -> (Pid, Pid, Sim) {
    let mut sim = Sim::new(2, 11, LockerTiming::Fast);
    if let Some((f, c)) = custom {
        sim.custom.insert(f, c);
    }
    let p0 = sim.spawn(0);
    let p1 = sim.spawn(1);
    for (i, p) in [(0, p0), (1, p1)] {
        let name = Term::atom("a");
        sim.local(
            i,
            LocalRequest::RegisterName {
                name,
                pid: p,
                method: method.clone(),
            },
        );
    }
    sim.settle(1000);
    sim.connect(0, 1);
    sim.settle(10_000);
    sim.check_converged();
    (p0, p1, sim)
}

#[test]
fn conflict_methods_standard_and_rust() {
    // random_exit_name keeps the pid on the node with the smaller name, kills the other.
    let (p0, p1, sim) = conflict(StdMethod::RandomExitName.to_term(), None);
    assert_eq!(sim.nodes[1].srv.whereis_name(&Term::atom("a")), Some(p0));
    assert!(!sim.is_alive(p1) && sim.is_alive(p0));
    // random_notify_name keeps the same one and tells the other.
    let (p0, p1, sim) = conflict(StdMethod::RandomNotifyName.to_term(), None);
    assert_eq!(sim.nodes[1].srv.whereis_name(&Term::atom("a")), Some(p0));
    assert!(sim.is_alive(p1));
    assert_eq!(sim.conflicts.len(), 1);
    assert_eq!(sim.conflicts[0].0, p1);
    // notify_all_name drops the name and tells both.
    let (_, _, sim) = conflict(StdMethod::NotifyAllName.to_term(), None);
    assert_eq!(sim.table(0), vec![]);
    assert_eq!(sim.conflicts.len(), 2);
    // A Rust method (`fun ferl_test:keep_newcomer/3`): evaluated by the node of our pid.
    let m = method_term(Atom::new("ferl_test"), Atom::new("keep_newcomer"));
    let (p0, p1, sim) = conflict(m, Some(("keep_newcomer", |p1, _p2| Term::Pid(p1))));
    assert_eq!(sim.nodes[0].srv.whereis_name(&Term::atom("a")), Some(p1));
    assert!(sim.is_alive(p0) && sim.is_alive(p1));
}

#[test]
fn hidden_nodes_and_connect_all_false_do_not_sync() {
    let node = Atom::new("x@h");
    let me = Atom::new("me@h");
    let mut s = GlobalServer::new(Config::new(
        me,
        1,
        Pid::new(me, 1, 0, 1),
        Pid::new(me, 2, 0, 1),
        1,
    ));
    assert!(s
        .handle(Input::NodeUp {
            node,
            visible: false
        })
        .is_empty());
    let mut cfg = Config::new(me, 1, Pid::new(me, 1, 0, 1), Pid::new(me, 2, 0, 1), 1);
    cfg.connect_all = false;
    let mut s2 = GlobalServer::new(cfg);
    assert!(s2
        .handle(Input::NodeUp {
            node,
            visible: true
        })
        .is_empty());
    let acts = s.handle(Input::NodeUp {
        node,
        visible: true,
    });
    assert!(
        matches!(
            &acts[..],
            [Action::Cast {
                msg: Cast::InitConnect { .. },
                ..
            }]
        ),
        "{acts:?}"
    );
    // A lock_set from a locker we do not know is refused with the old-style plain message.
    let ls = LockSet {
        locker: Pid::new(node, 1, 0, 1),
        set: true,
        his_known: Term::nil(),
        tag: None,
    };
    let cast = Term::tuple(vec![Term::atom("$gen_cast"), ls.to_term()]);
    let acts = s.handle(Input::Message(cast));
    match &acts[..] {
        [Action::Send { to, msg }] => {
            assert_eq!(*to, ls.locker);
            let back = LockSet::from_term(msg).expect("lock_set");
            assert!(!back.set && back.tag.is_none());
        }
        other => panic!("{other:?}"),
    }
    // Garbage from a peer is logged, never a panic.
    assert!(s
        .handle(Input::Message(Term::tuple(vec![
            Term::atom("$gen_cast"),
            Term::Int(1)
        ])))
        .is_empty());
}

/// A random scenario: registrations before and during joins, joins in random order, deaths.
fn scenario(seed: u64, n: usize) {
    let mut sim = Sim::new(n, seed, LockerTiming::Fast);
    let mut pids = Vec::new();
    for k in 0..(3 * n) {
        let node = sim.rand(n as u64) as usize;
        let p = sim.spawn(node);
        sim.register(node, &format!("r{}", k % (2 * n)), p);
        pids.push(p);
    }
    sim.settle(2000);
    let mut order: Vec<usize> = (1..n).collect();
    for i in (1..order.len()).rev() {
        let j = sim.rand(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    for &j in &order {
        let i = sim.rand(j as u64) as usize;
        sim.connect(i, j);
        let t = sim.rand(40);
        sim.run_until(sim.now + t);
        let node = sim.rand(n as u64) as usize;
        let p = sim.spawn(node);
        let k = sim.rand(2 * n as u64);
        sim.register(node, &format!("r{k}"), p);
        if sim.rand(3) == 0 {
            let victim = pids[sim.rand(pids.len() as u64) as usize];
            sim.kill(victim);
        }
    }
    sim.settle(3_600_000);
    for i in 0..n {
        for j in 0..n {
            assert!(
                i == j || sim.connected(i, j),
                "seed {seed}: not a full mesh"
            );
        }
    }
    sim.check_converged();
}

#[test]
fn random_schedules_fixed_seeds() {
    for seed in 0..30 {
        scenario(seed, 3 + (seed % 2) as usize);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_schedules_converge(seed in any::<u64>(), n in 2usize..5) {
        scenario(seed, n);
    }
}
