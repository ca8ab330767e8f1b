//! The stack server and client on one distributed ferl node (own epmd): registration as `:stack`
//! (`:yes`, then `:no` without an orphan), the tutorial's messages and log lines, and the
//! tutorial's bugs fixed: strangers and unknown messages never crash the server.

mod support;

use ferl::{Node, Term};
use ferl_stack::{client, modules, server, Client, ClientError, Fault, Notification, Request};
use support::*;

async fn one_node() -> Node {
    let epmd = embedded_epmd().await;
    node(epmd, &testkit::unique_cookie(), "server").await
}

#[tokio::test]
async fn start_says_yes_then_no_and_leaves_no_orphan() {
    let node = one_node().await;
    assert!(server::start(&node).await.unwrap());
    let g = node.global().unwrap();
    let pid = g.whereis_name(&server::name()).expect(":stack registered");
    assert!(node.is_alive(pid));
    assert_eq!(g.registered_names(), vec![Term::atom("stack")]);
    let before = node.process_count();
    assert!(
        !server::start(&node).await.unwrap(),
        "the name is taken: :no"
    );
    assert!(
        eventually(|| node.process_count() == before).await,
        "the second loop is stopped, not orphaned"
    );
    assert_eq!(
        g.whereis_name(&server::name()),
        Some(pid),
        "the first server keeps the name"
    );
    // Through the Elixir-facing dispatcher, as the shell calls it.
    let r = modules::apply(&node, "Elixir.Server", "start", &[])
        .await
        .unwrap();
    assert_eq!(r, Ok(Term::atom("no")));
    node.stop();
}

#[tokio::test]
async fn the_tutorial_round_with_exact_messages_and_log_lines() {
    let (logs, _guard) = Logs::capture();
    let node = one_node().await;
    assert!(server::start(&node).await.unwrap());
    let alice = client::subscribe(&node, "alice").unwrap();
    // A probe subscribed as bob sees exactly what the server sends a subscriber.
    let (bob_pid, mut bob) = probe(&node);
    let srv = client::server(&node).unwrap();
    node.send(
        srv,
        Request::Subscribe {
            name: "bob".into(),
            pid: bob_pid,
        }
        .to_term(),
    );
    assert!(logs.wait_for("INFO bob subscribed", 1).await);

    let r = client::push(&node, &alice, "Howdy Partner!").unwrap();
    assert_eq!(
        r.elixir().to_string(),
        r#"{:push, "alice", "Howdy Partner!"}"#
    );
    assert_eq!(
        next(&mut bob).await.elixir().to_string(),
        r#"{:notify, :push, "alice", "Howdy Partner!"}"#
    );
    let bob_client = Client {
        name: "bob".into(),
        pid: bob_pid,
    };
    client::push(&node, &bob_client, "Hey There!").unwrap();
    next(&mut bob).await;

    assert_eq!(
        client::get(&node, &alice).unwrap().elixir().to_string(),
        r#"{:get, "alice"}"#
    );
    assert!(
        logs.wait_for(
            r#"INFO current stack: [{"bob", "Hey There!"}, {"alice", "Howdy Partner!"}]"#,
            1
        )
        .await,
        "{:#?}",
        logs.lines()
    );
    assert_eq!(quiet(&mut bob).await, None, "get answers only the asker");

    assert_eq!(
        client::pop(&node, &alice).unwrap().elixir().to_string(),
        r#"{:pop, "alice"}"#
    );
    assert_eq!(
        Notification::from_term(&next(&mut bob).await),
        Some(Notification::Pop {
            name: "alice".into(),
            from: "bob".into(),
            item: "Hey There!".into()
        })
    );
    client::pop(&node, &bob_client).unwrap();
    next(&mut bob).await;
    client::pop(&node, &bob_client).unwrap();
    assert_eq!(
        next(&mut bob).await.elixir().to_string(),
        "{:notify, :empty}"
    );

    assert_eq!(
        client::unsubscribe(&node, &alice).unwrap(),
        Term::atom("stop")
    );
    assert!(logs.wait_for("INFO stopping", 1).await);
    assert!(
        eventually(|| !node.is_alive(alice.pid)).await,
        "the listener ends at :stop"
    );
    client::push(&node, &bob_client, "after alice left").unwrap();
    next(&mut bob).await;

    for (line, n) in [
        ("INFO alice subscribed", 1),
        // once by the server, once by alice's listener
        ("INFO alice gave: 'Howdy Partner!'", 2),
        ("INFO bob gave: 'Hey There!'", 2),
        ("INFO alice requested stack", 1),
        ("INFO alice took: 'Hey There!'", 1),
        ("INFO alice took: 'Hey There!' from: bob", 1),
        ("INFO bob took: 'Howdy Partner!'", 1),
        ("INFO bob took: 'Howdy Partner!' from: alice", 1),
        ("INFO whoops, stack is empty", 1),
        ("INFO alice unsubscribed", 1),
        ("INFO bob gave: 'after alice left'", 1),
    ] {
        assert!(
            logs.wait_for(line, n).await,
            "{line} x{n} in {:#?}",
            logs.lines()
        );
        assert_eq!(logs.count(line), n, "{line} in {:#?}", logs.lines());
    }
    node.stop();
}

#[tokio::test]
async fn strangers_and_unknown_messages_never_crash_the_server() {
    let (logs, _guard) = Logs::capture();
    let node = one_node().await;
    assert!(server::start(&node).await.unwrap());
    let srv = client::server(&node).unwrap();
    let (pid, mut probe_rx) = probe(&node);
    node.send(
        srv,
        Request::Subscribe {
            name: "alice".into(),
            pid,
        }
        .to_term(),
    );

    let charlie = Client {
        name: "charlie".into(),
        pid,
    };
    client::pop(&node, &charlie).unwrap(); // empty stack, never subscribed: the tutorial crashes
    client::get(&node, &charlie).unwrap(); // same
    for junk in [
        Term::atom("hello"),
        Term::tuple(vec![Term::atom("push")]),
        Term::tuple(vec![
            Term::atom("subscribe"),
            "x".into(),
            "not a pid".into(),
        ]),
        Term::list(vec![Term::Int(1)]),
        Term::tuple(vec![Term::atom("notify"), Term::atom("empty")]),
    ] {
        node.send(srv, junk);
    }
    assert!(
        logs.wait_for("WARN charlie is not subscribed: no answer sent", 2)
            .await,
        "{:#?}",
        logs.lines()
    );
    assert_eq!(
        quiet(&mut probe_rx).await,
        None,
        "the stranger's answers go nowhere"
    );

    // Still the same live server under :stack, still serving.
    assert!(node.is_alive(srv));
    assert_eq!(client::server(&node), Some(srv));
    client::push(&node, &charlie, "still here").unwrap();
    assert_eq!(
        next(&mut probe_rx).await.elixir().to_string(),
        r#"{:notify, :push, "charlie", "still here"}"#
    );
    node.stop();
}

#[tokio::test]
async fn a_dead_listener_is_forgotten() {
    let (logs, _guard) = Logs::capture();
    let node = one_node().await;
    assert!(server::start(&node).await.unwrap());
    let alice = client::subscribe(&node, "alice").unwrap();
    assert!(logs.wait_for("INFO alice subscribed", 1).await);
    node.exit(alice.pid, ferl::ExitReason::kill());
    assert!(
        logs.wait_for("INFO alice is gone", 1).await,
        "{:#?}",
        logs.lines()
    );
    node.stop();
}

#[tokio::test]
async fn without_a_server_clients_fail_like_send_to_undefined_and_spawn_nothing() {
    let node = one_node().await;
    let before = node.process_count();
    assert_eq!(
        client::subscribe(&node, "alice"),
        Err(ClientError::NoServer)
    );
    assert_eq!(node.process_count(), before, "no listener left behind");
    let r = modules::apply(&node, "Elixir.Client", "subscribe", &["alice".into()]).await;
    assert!(
        matches!(r, Some(Err(Fault::InvalidDestination(_)))),
        "{r:?}"
    );
    let fake = Client {
        name: "alice".into(),
        pid: node.system_pid(),
    };
    let r = modules::apply(
        &node,
        "Elixir.Client",
        "push",
        &[fake.to_term(), "x".into()],
    )
    .await;
    assert_eq!(
        r,
        Some(Err(Fault::InvalidDestination(
            Request::Push {
                name: "alice".into(),
                item: "x".into()
            }
            .to_term()
        )))
    );
    // Not a %Client{}: no function clause matches, as in Elixir.
    let r = modules::apply(&node, "Elixir.Client", "pop", &["alice".into()]).await;
    assert!(
        matches!(r, Some(Err(Fault::FunctionClause { .. }))),
        "{r:?}"
    );
    assert_eq!(
        modules::apply(&node, "Elixir.Client", "nope", &[]).await,
        None
    );
    node.stop();
}

#[tokio::test]
async fn a_node_without_distribution_has_no_global_server() {
    let node = Node::local("nonode@nohost", 0);
    assert!(matches!(
        server::start(&node).await,
        Err(server::ServerError::NotDistributed)
    ));
    let r = modules::apply(&node, "Elixir.Client", "connect", &[]).await;
    assert_eq!(r, Some(Ok(Term::atom("ignored"))));
}

#[tokio::test]
async fn the_listener_ignores_junk_and_logs_until_stop() {
    let (logs, _guard) = Logs::capture();
    let node = one_node().await;
    let pid = node.spawn(ferl_stack::notify::listen);
    for junk in [
        Term::atom("hello"),
        Term::tuple(vec![Term::atom("notify"), Term::atom("pop"), "x".into()]),
        Term::Int(7),
    ] {
        node.send(pid, junk);
    }
    node.send(pid, Notification::Empty.to_term());
    assert!(logs.wait_for("INFO nothing left to pop", 1).await);
    assert!(node.is_alive(pid), "junk does not stop the listener");
    node.send(pid, Term::atom("stop"));
    assert!(logs.wait_for("INFO stopping", 1).await);
    assert!(eventually(|| !node.is_alive(pid)).await);
    node.stop();
}

#[tokio::test]
async fn connect_to_a_node_that_is_not_there_is_false() {
    let node = one_node().await;
    let ghost = ferl::Atom::new(&format!(
        "{}@{}",
        testkit::unique_name("ghost"),
        testkit::hostname()
    ));
    assert!(!client::connect_to(&node, ghost).await);
    node.stop();
}
