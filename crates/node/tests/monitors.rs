//! Monitors: DOWN reasons (normal, crash, killed, noproc), demonitor, monitor by name.

mod common;
use common::*;
use ferl::{Atom, ExitReason, Node, Term};
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(5));

async fn down_reason_of(node: &Node, result: Result<(), Term>) -> (ferl::Pid, Term, Term) {
    in_process(node, move |mut p| async move {
        let (pid, r) = p.spawn_monitor(move |mut c| async move {
            c.receive().await;
            result
        });
        p.send(pid, atom("go"));
        let (_, item, reason) = p
            .receive_match(|t| down_msg(t).filter(|d| d.0 == r), T)
            .await
            .unwrap();
        (pid, item, reason)
    })
    .await
}

#[tokio::test]
async fn down_normal_and_crash() {
    let node = Node::local("m1@test", 1);
    let (pid, item, reason) = down_reason_of(&node, Ok(())).await;
    assert_eq!(item, Term::Pid(pid));
    assert_eq!(reason, atom("normal"));
    let (_, _, reason) = down_reason_of(&node, Err(atom("crash"))).await;
    assert_eq!(reason, atom("crash"));
}

#[tokio::test]
async fn down_killed() {
    let node = Node::local("m2@test", 1);
    let reason = in_process(&node, |mut p| async move {
        let target = p.spawn(|c| async move {
            c.trap_exit(true);
            std::future::pending::<()>().await;
        });
        let r = p.monitor(target);
        p.exit(target, ExitReason::kill());
        p.receive_match(|t| down_msg(t).filter(|d| d.0 == r).map(|d| d.2), T)
            .await
    })
    .await;
    assert_eq!(reason.unwrap(), atom("killed"));
}

#[tokio::test]
async fn monitor_of_dead_pid_and_unknown_name_is_noproc() {
    let node = Node::local("m3@test", 1);
    let dead = node.spawn(|_| async {});
    wait_dead(&node, dead).await;
    let (a, b) = in_process(&node, move |mut p| async move {
        let r1 = p.monitor(dead);
        let a = p
            .receive_match(|t| down_msg(t).filter(|d| d.0 == r1), T)
            .await;
        let r2 = p.monitor_name(Atom::new("nobody_here"));
        let b = p
            .receive_match(|t| down_msg(t).filter(|d| d.0 == r2), T)
            .await;
        (a, b)
    })
    .await;
    let (_, item, reason) = a.unwrap();
    assert_eq!((item, reason), (Term::Pid(dead), atom("noproc")));
    let (_, item, reason) = b.unwrap();
    assert_eq!(
        item,
        Term::tuple(vec![atom("nobody_here"), atom("m3@test")])
    );
    assert_eq!(reason, atom("noproc"));
}

#[tokio::test]
async fn demonitor_stops_down_and_flush_removes_it() {
    let node = Node::local("m4@test", 1);
    let (active, got, flushed_active, len) = in_process(&node, |mut p| async move {
        let target = p.spawn(|mut c| async move {
            c.receive().await;
        });
        let r = p.monitor(target);
        let active = p.demonitor(r);
        p.send(target, atom("go"));
        wait_dead(p.node(), target).await;
        let got = p.receive_timeout(Duration::from_millis(30)).await;
        // flush: the DOWN is already in the mailbox when we demonitor.
        let t2 = p.spawn(|_| async {});
        let r2 = p.monitor(t2);
        wait_dead(p.node(), t2).await;
        let flushed_active = p.demonitor_flush(r2);
        (active, got, flushed_active, p.mailbox_len())
    })
    .await;
    assert!(active);
    assert!(got.is_none(), "DOWN after demonitor: {got:?}");
    // t2 may have died before or after the monitor was set; either way no DOWN stays.
    let _ = flushed_active;
    assert_eq!(len, 0);
}

#[tokio::test]
async fn monitor_by_name_reports_name_and_node() {
    let node = Node::local("m5@test", 1);
    let server = node.spawn(|mut c| async move {
        c.register(Atom::new("srv")).unwrap();
        c.receive().await;
        Err::<(), _>(atom("stopped"))
    });
    tokio::time::timeout(LIMIT, async {
        while node.whereis(Atom::new("srv")).is_none() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .unwrap();
    let down = in_process(&node, move |mut p| async move {
        let r = p.monitor_name(Atom::new("srv"));
        p.send(server, atom("go"));
        p.receive_match(|t| down_msg(t).filter(|d| d.0 == r), T)
            .await
    })
    .await;
    let (_, item, reason) = down.unwrap();
    assert_eq!(item, Term::tuple(vec![atom("srv"), atom("m5@test")]));
    assert_eq!(reason, atom("stopped"));
}
