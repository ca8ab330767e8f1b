//! Spawning registered Rust functions by module/function/arity (the SPAWN_REQUEST seam).

mod common;
use common::*;
use ferl::{Atom, Exception, ExitReason, MfaFn, Node, SpawnError, SpawnOpts, Term};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn spawn_mfa_runs_function_with_monitor_and_link() {
    let node = Node::local("mfa@test", 1);
    let (m, f) = (Atom::new("math"), Atom::new("add_and_exit"));
    // math:add_and_exit(A, B) exits with {sum, A + B}.
    let add: MfaFn = Arc::new(|_p, args| {
        Box::pin(async move {
            let sum = args.iter().filter_map(|a| a.as_int()).sum::<i64>();
            Err(Exception::exit(Term::tuple(vec![
                atom("sum"),
                Term::Int(sum),
            ])))
        })
    });
    node.register_fn(m, f, 2, add);
    assert!(node.fn_exists(m, f, 2));
    assert_eq!(
        node.spawn_mfa(m, f, vec![Term::Int(1)], SpawnOpts::default()),
        Err(SpawnError::Undef(m, f, 1))
    );

    let (down, exit) = in_process(&node, move |mut p| async move {
        p.trap_exit(true);
        let r = p.make_ref();
        let opts = SpawnOpts {
            link_to: Some(p.pid()),
            monitor_by: Some((p.pid(), r)),
        };
        let pid = p
            .node()
            .spawn_mfa(m, f, vec![Term::Int(2), Term::Int(40)], opts)
            .unwrap();
        let t = Some(Duration::from_secs(5));
        let down = p
            .receive_match(|x| down_msg(x).filter(|d| d.0 == r), t)
            .await;
        let exit = p
            .receive_if(|x| exit_msg(x).is_some_and(|e| e.0 == pid), t)
            .await;
        (down, exit)
    })
    .await;
    let want = Term::tuple(vec![atom("sum"), Term::Int(42)]);
    assert_eq!(down.unwrap().2, want);
    assert_eq!(exit_msg(&exit.unwrap()).unwrap().1, want);
}

#[tokio::test]
async fn exit_self_normal_stops_process_and_nothing_is_left() {
    let node = Node::local("mfa2@test", 1);
    let reason = in_process(&node, |mut p| async move {
        let (_, r) = p.spawn_monitor(|c| async move {
            c.exit(c.pid(), ExitReason::normal());
            std::future::pending::<()>().await;
        });
        p.receive_match(
            |x| down_msg(x).filter(|d| d.0 == r).map(|d| d.2),
            Some(Duration::from_secs(5)),
        )
        .await
    })
    .await;
    assert_eq!(reason.unwrap(), atom("normal"));
    tokio::time::timeout(LIMIT, async {
        while node.process_count() != 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("every process gone from the table");
    assert!(node.registered().is_empty());
}
