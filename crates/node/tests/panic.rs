//! A panicking process is a crash of that process only: the node carries on, and its links and
//! monitors see `{panic, <<"message">>}`.

mod common;
use common::*;
use ferl::{Node, Term};
use std::time::Duration;

fn kaboom(n: i32) {
    panic!("kaboom {n}");
}

fn panic_reason(msg: &str) -> Term {
    Term::tuple(vec![atom("panic"), Term::binary(msg.as_bytes())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_is_seen_by_links_and_monitors() {
    let node = Node::local("p1@test", 1);
    let (exit, down) = in_process(&node, |mut p| async move {
        p.trap_exit(true);
        let child = p.spawn_link(|mut c| async move {
            c.receive().await;
            kaboom(42);
        });
        let r = p.monitor(child);
        p.send(child, atom("go"));
        let t = Some(Duration::from_secs(5));
        let exit = p.receive_if(|m| exit_msg(m).is_some(), t).await;
        let down = p
            .receive_match(|m| down_msg(m).filter(|d| d.0 == r), t)
            .await;
        (exit, down)
    })
    .await;
    assert_eq!(
        exit_msg(&exit.unwrap()).unwrap().1,
        panic_reason("kaboom 42")
    );
    assert_eq!(down.unwrap().2, panic_reason("kaboom 42"));

    // The node still works.
    let echo = in_process(&node, |mut p| async move {
        p.send(p.pid(), atom("still_here"));
        p.receive().await
    })
    .await;
    assert!(echo.is_atom("still_here"));
    tokio::time::timeout(LIMIT, async {
        while node.process_count() != 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("dead processes must leave the table");
}

/// A runtime that shuts down drops its tasks: each process still exits (reason `killed`), leaves
/// the table, and its monitors on another runtime hear about it.
#[test]
fn runtime_shutdown_still_exits_processes() {
    // Created outside any runtime: each spawn uses the runtime current at the spawn.
    let node = Node::local("p2@test", 1);
    let doomed_rt = tokio::runtime::Runtime::new().unwrap();
    let doomed = {
        let _in_doomed = doomed_rt.enter();
        node.spawn(|_| std::future::pending::<()>())
    };
    let main_rt = tokio::runtime::Runtime::new().unwrap();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (down_tx, down_rx) = tokio::sync::oneshot::channel();
    main_rt.block_on(async {
        node.spawn(move |mut p| async move {
            let r = p.monitor(doomed);
            let _ = ready_tx.send(());
            let d = p
                .receive_match(
                    |t| down_msg(t).filter(|d| d.0 == r).map(|d| d.2),
                    Some(LIMIT),
                )
                .await;
            let _ = down_tx.send(d);
        });
        ready_rx.await.unwrap();
    });
    doomed_rt.shutdown_timeout(LIMIT);
    let reason =
        main_rt.block_on(async { tokio::time::timeout(LIMIT, down_rx).await.unwrap().unwrap() });
    assert_eq!(reason, Some(atom("killed")));
    assert!(!node.is_alive(doomed));
}
