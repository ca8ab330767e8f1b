//! "Off To The Races" on three distributed ferl nodes over real TCP (own epmd): the server on
//! one, alice and bob on the others. `connect` returns only once `:stack` resolves (no 200 ms
//! race), the nodes end as a full mesh, and every notification crosses the wire intact.

mod support;

use ferl::Term;
use ferl_stack::{client, server, Client, Request};
use support::*;

#[tokio::test]
async fn off_to_the_races() {
    let (logs, _guard) = Logs::capture();
    let epmd = embedded_epmd().await;
    let cookie = testkit::unique_cookie();
    let srv = node(epmd, &cookie, "server").await;
    let alice_node = node(epmd, &cookie, "alice").await;
    let bob_node = node(epmd, &cookie, "bob").await;
    assert!(server::start(&srv).await.unwrap());

    assert!(client::connect_to(&alice_node, srv.name()).await);
    // The tutorial's race: on BEAM `subscribe` right after `connect` raises for ~200 ms.
    let alice = client::subscribe(&alice_node, "alice").expect(":stack resolvable at once");
    assert_eq!(alice_node.nodes(), vec![srv.name()]);
    assert!(client::connect_to(&bob_node, srv.name()).await);
    let bob = client::subscribe(&bob_node, "bob").unwrap();
    assert!(logs.wait_for("INFO bob subscribed", 1).await);
    // :global connects the full mesh: bob sees alice without connecting to her.
    assert!(
        eventually(|| {
            let mut n = bob_node.nodes();
            n.sort_by_key(|a| a.as_str().to_string());
            n.len() == 2 && n.contains(&alice_node.name()) && n.contains(&srv.name())
        })
        .await,
        "{:?}",
        bob_node.nodes()
    );

    // A probe on bob's node, subscribed as "watcher", sees what crosses the wire.
    let (watch_pid, mut watch) = probe(&bob_node);
    bob_node.send(
        client::server(&bob_node).unwrap(),
        Request::Subscribe {
            name: "watcher".into(),
            pid: watch_pid,
        }
        .to_term(),
    );
    assert!(logs.wait_for("INFO watcher subscribed", 1).await);

    client::push(&alice_node, &alice, "Howdy Partner!").unwrap();
    assert!(
        logs.wait_for("INFO alice gave: 'Howdy Partner!'", 3).await,
        "server + 2 listeners"
    );
    client::push(&bob_node, &bob, "Hey There!").unwrap();
    assert!(logs.wait_for("INFO bob gave: 'Hey There!'", 3).await);
    client::get(&alice_node, &alice).unwrap();
    assert!(
        logs.wait_for(
            r#"INFO current stack: [{"bob", "Hey There!"}, {"alice", "Howdy Partner!"}]"#,
            1
        )
        .await
    );
    client::pop(&alice_node, &alice).unwrap();
    assert!(
        logs.wait_for("INFO alice took: 'Hey There!' from: bob", 2)
            .await
    );
    client::pop(&bob_node, &bob).unwrap();
    assert!(
        logs.wait_for("INFO bob took: 'Howdy Partner!' from: alice", 2)
            .await
    );
    client::pop(&bob_node, &bob).unwrap();
    assert!(logs.wait_for("INFO whoops, stack is empty", 1).await);
    assert!(logs.wait_for("INFO nothing left to pop", 1).await);
    assert_eq!(
        client::unsubscribe(&alice_node, &alice).unwrap(),
        Term::atom("stop")
    );
    assert!(logs.wait_for("INFO alice unsubscribed", 1).await);
    assert!(logs.wait_for("INFO stopping", 1).await);
    client::push(&bob_node, &bob, "after alice left").unwrap();
    assert!(
        logs.wait_for("INFO bob gave: 'after alice left'", 2).await,
        "server + bob only"
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        logs.count("INFO bob gave: 'after alice left'"),
        2,
        "{:#?}",
        logs.lines()
    );

    let got: Vec<String> = {
        let mut v = Vec::new();
        while let Some(m) = quiet(&mut watch).await {
            v.push(m.elixir().to_string());
        }
        v
    };
    assert_eq!(
        got,
        [
            r#"{:notify, :push, "alice", "Howdy Partner!"}"#,
            r#"{:notify, :push, "bob", "Hey There!"}"#,
            r#"{:notify, :pop, "alice", {"bob", "Hey There!"}}"#,
            r#"{:notify, :pop, "bob", {"alice", "Howdy Partner!"}}"#,
            r#"{:notify, :push, "bob", "after alice left"}"#,
        ]
    );
    for n in [&srv, &alice_node, &bob_node] {
        n.stop();
    }
}

#[tokio::test]
async fn a_second_server_elsewhere_in_the_cluster_gets_no() {
    let epmd = embedded_epmd().await;
    let cookie = testkit::unique_cookie();
    let a = node(epmd, &cookie, "server").await;
    let b = node(epmd, &cookie, "server2").await;
    assert!(server::start(&a).await.unwrap());
    assert!(client::connect_to(&b, a.name()).await);
    let before = b.process_count();
    assert!(
        !server::start(&b).await.unwrap(),
        ":stack is taken cluster-wide"
    );
    assert!(
        eventually(|| b.process_count() == before).await,
        "no orphan on b"
    );
    let owner = client::server(&b).unwrap();
    assert_eq!(owner.node, a.name());
    let c = Client {
        name: "x".into(),
        pid: b.system_pid(),
    };
    assert!(client::push(&b, &c, "y").is_ok());
    a.stop();
    b.stop();
}
