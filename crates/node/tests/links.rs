//! Links and exit signals: normal/crash propagation, trap_exit, kill, exit/2, noproc.

mod common;
use common::*;
use ferl::{ExitReason, Node, Term};
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(5));

#[tokio::test]
async fn normal_exit_does_not_kill_linked() {
    let node = Node::local("l1@test", 1);
    let alive = in_process(&node, |mut p| async move {
        let child = p.spawn_link(|_| async {});
        wait_dead(p.node(), child).await;
        // Give any (wrong) exit signal time to act.
        let _ = p.receive_timeout(Duration::from_millis(20)).await;
        p.node().is_alive(p.pid())
    })
    .await;
    assert!(alive);
}

#[tokio::test]
async fn crash_kills_linked_non_trapping() {
    let node = Node::local("l2@test", 1);
    let n = node.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let parent = node.spawn(move |mut p| async move {
        let child = p.spawn_link(|mut c| async move {
            c.receive().await;
            Err::<(), _>(Term::atom("boom"))
        });
        let _ = tx.send(child);
        p.receive().await;
    });
    let child = rx.await.unwrap();
    let watcher = in_process(&n, move |mut w| async move {
        let r = w.monitor(parent);
        w.send(child, atom("go"));
        w.receive_match(|t| down_msg(t).filter(|d| d.0 == r), T)
            .await
    })
    .await;
    let (_, item, reason) = watcher.unwrap();
    assert_eq!(item, Term::Pid(parent));
    assert_eq!(reason, atom("boom"));
}

#[tokio::test]
async fn trap_exit_turns_signal_into_message() {
    let node = Node::local("l3@test", 1);
    let (child, msg) = in_process(&node, |mut p| async move {
        p.trap_exit(true);
        let child = p.spawn_link(|_| async { Err::<(), _>(Term::atom("crashed")) });
        (child, p.receive_timeout(Duration::from_secs(5)).await)
    })
    .await;
    let (from, reason) = exit_msg(&msg.unwrap()).unwrap();
    assert_eq!(from, child);
    assert_eq!(reason, atom("crashed"));
}

#[tokio::test]
async fn trapped_normal_exit_arrives_as_message() {
    let node = Node::local("l3b@test", 1);
    let msg = in_process(&node, |mut p| async move {
        p.trap_exit(true);
        p.spawn_link(|_| async {});
        p.receive_timeout(Duration::from_secs(5)).await
    })
    .await;
    assert_eq!(exit_msg(&msg.unwrap()).unwrap().1, atom("normal"));
}

#[tokio::test]
async fn kill_is_untrappable_and_links_see_killed() {
    let node = Node::local("l4@test", 1);
    let (victim, msg) = in_process(&node, |mut p| async move {
        p.trap_exit(true);
        let victim = p.spawn_link(|v| async move {
            v.trap_exit(true);
            std::future::pending::<()>().await;
        });
        p.exit(victim, ExitReason::kill());
        (victim, p.receive_timeout(Duration::from_secs(5)).await)
    })
    .await;
    let (from, reason) = exit_msg(&msg.unwrap()).unwrap();
    assert_eq!(from, victim);
    assert_eq!(reason, atom("killed"));
}

#[tokio::test]
async fn kill_stops_a_process_that_is_not_receiving() {
    let node = Node::local("l4b@test", 1);
    let reason = in_process(&node, |mut p| async move {
        let (victim, r) = p.spawn_monitor(|_| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        p.exit(victim, ExitReason::atom("shutdown"));
        p.receive_match(|t| down_msg(t).filter(|d| d.0 == r).map(|d| d.2), T)
            .await
    })
    .await;
    assert_eq!(reason.unwrap(), atom("shutdown"));
}

#[tokio::test]
async fn exit_normal_ignored_unless_trapping() {
    let node = Node::local("l5@test", 1);
    let (still_alive, trapped) = in_process(&node, |mut p| async move {
        let plain = p.spawn(|mut c| async move {
            c.receive().await;
        });
        p.exit(plain, ExitReason::normal());
        tokio::time::sleep(Duration::from_millis(20)).await;
        let still_alive = p.node().is_alive(plain);
        let me = p.pid();
        let trapper = p.spawn(move |mut c| async move {
            c.trap_exit(true);
            c.send(me, atom("ready"));
            let m = c.receive().await;
            c.send(me, m);
        });
        p.receive_if(|t| t.is_atom("ready"), T).await;
        p.exit(trapper, ExitReason::normal());
        let got = p.receive_if(|t| exit_msg(t).is_some(), T).await;
        (still_alive, got)
    })
    .await;
    assert!(still_alive);
    let (_, reason) = exit_msg(&trapped.unwrap()).unwrap();
    assert_eq!(reason, atom("normal"));
}

#[tokio::test]
async fn link_to_dead_pid_gives_noproc() {
    let node = Node::local("l6@test", 1);
    let dead = node.spawn(|_| async {});
    wait_dead(&node, dead).await;
    let msg = in_process(&node, move |mut p| async move {
        p.trap_exit(true);
        p.link(dead);
        p.receive_timeout(Duration::from_secs(5)).await
    })
    .await;
    let (from, reason) = exit_msg(&msg.unwrap()).unwrap();
    assert_eq!(from, dead);
    assert_eq!(reason, atom("noproc"));

    // Not trapping: the linker itself dies with noproc.
    let dead2 = dead;
    let reason = in_process(&node, move |mut p| async move {
        let (pid, r) = p.spawn_monitor(move |c| async move {
            c.link(dead2);
            std::future::pending::<()>().await;
        });
        let _ = pid;
        p.receive_match(|t| down_msg(t).filter(|d| d.0 == r).map(|d| d.2), T)
            .await
    })
    .await;
    assert_eq!(reason.unwrap(), atom("noproc"));
}

#[tokio::test]
async fn unlink_stops_propagation() {
    let node = Node::local("l7@test", 1);
    let alive = in_process(&node, |mut p| async move {
        let child = p.spawn_link(|mut c| async move {
            c.receive().await;
            Err::<(), _>(Term::atom("boom"))
        });
        p.unlink(child);
        p.send(child, atom("go"));
        wait_dead(p.node(), child).await;
        let _ = p.receive_timeout(Duration::from_millis(20)).await;
        p.node().is_alive(p.pid())
    })
    .await;
    assert!(alive);
}
