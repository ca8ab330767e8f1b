//! `:global` between ferl and real Elixir 1.14 (OTP 25) nodes: the connect-time sync both ways,
//! names registered on either side seen on the other, `:global.send`, `:global.sync()`,
//! transitive connection (ferl as hub and as newcomer), removal on exit and on SIGKILL,
//! concurrent registration, and two clusters with the same name joined.

mod dist_support;

use dist_support::*;
use ferl::{Atom, Node, Pid, Term};
use std::time::Duration;
use testkit::{BeamNode, RealEpmd};

/// `:"name@host"` as Elixir source.
fn ex(node: Atom) -> String {
    format!(":\"{}\"", node.as_str())
}

fn elixir(epmd: &RealEpmd, cookie: &str) -> BeamNode {
    let mut o = testkit::BeamOpts::new(testkit::BeamKind::Elixir, epmd.port);
    o.cookie = cookie.to_string();
    tokio::task::block_in_place(|| BeamNode::start(o))
}

/// A ferl process that waits forever (a name holder); forwards what it gets to `tx`.
fn holder(node: &Node) -> (Pid, tokio::sync::mpsc::UnboundedReceiver<Term>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let pid = node.spawn(move |mut p: ferl::Process| async move {
        loop {
            let m = p.receive().await;
            if m.is_atom("stop") {
                return;
            }
            let _ = tx.send(m);
        }
    });
    (pid, rx)
}

/// Spawns a process on the Elixir node that waits for `:stop`, registered globally as `name`.
fn ex_register(b: &mut BeamNode, name: &str) -> String {
    eval(
        b,
        &format!(
            "pid = spawn(fn -> receive do :stop -> :ok end end); \
             {{:global.register_name(:{name}, pid), pid}}"
        ),
    )
}

async fn pid_of(b: &mut BeamNode, expr: &str) -> Pid {
    let s = eval(
        b,
        &format!(":erlang.term_to_binary({expr}) |> :binary.bin_to_list()"),
    );
    let bytes: Vec<u8> = s
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|x| x.trim().parse().expect("byte"))
        .collect();
    match ferl::etf::decode(&bytes::Bytes::from(bytes)) {
        Ok(Term::Pid(p)) => p,
        other => panic!("{expr} is not a pid: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_shared_both_ways_and_sync_returns() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let mut iex = elixir(&epmd, &cookie);
    let ferl = ferl_node(epmd.port, &cookie).await;
    let g = ferl.global().expect("global runs");
    let f = ex(ferl.name());
    let f_inspected = format!(":{}", ferl.name().as_str());

    // A name registered on Elixir before the connection is seen by ferl after the sync.
    assert!(ex_register(&mut iex, "stack").starts_with("{:yes, #PID<"));
    assert_eq!(eval(&mut iex, &format!("Node.connect({f})")), "true");
    assert_eq!(
        tokio::task::block_in_place(|| iex.eval_timeout(":global.sync()", Duration::from_secs(10))),
        Ok(":ok".to_string()),
        "Elixir's :global.sync() returns once ferl took part in the sync"
    );
    let stack = pid_of(&mut iex, ":global.whereis_name(:stack)").await;
    assert!(eventually(|| g.whereis_name(&Term::atom("stack")) == Some(stack)).await);
    g.sync().await.expect("ferl's sync returns");

    // A name registered on ferl is seen by Elixir, and :global.send reaches the process.
    let (pid, mut inbox) = holder(&ferl);
    assert_eq!(
        g.register_name(Term::atom("ferl_name"), pid).await,
        Ok(true)
    );
    assert_eq!(
        eval(&mut iex, ":global.whereis_name(:ferl_name) |> node()"),
        f_inspected
    );
    eval(
        &mut iex,
        ":global.send(:ferl_name, {:hello, \"from elixir\"})",
    );
    let got = tokio::time::timeout(WAIT, inbox.recv())
        .await
        .expect("in time");
    assert_eq!(
        got,
        Some(Term::tuple(vec![
            Term::atom("hello"),
            Term::from("from elixir")
        ]))
    );

    // Taken names are refused on both sides.
    let (other, _rx) = holder(&ferl);
    assert_eq!(g.register_name(Term::atom("stack"), other).await, Ok(false));
    assert_eq!(
        eval(
            &mut iex,
            ":global.register_name(:ferl_name, spawn(fn -> :timer.sleep(1000) end))"
        ),
        ":no"
    );

    // An Elixir-side unregister and a ferl-side unregister are seen by the other side.
    eval(&mut iex, ":global.unregister_name(:stack)");
    assert!(eventually(|| g.whereis_name(&Term::atom("stack")).is_none()).await);
    g.unregister_name(Term::atom("ferl_name")).await.unwrap();
    assert_eq!(
        eval(&mut iex, ":global.whereis_name(:ferl_name)"),
        ":undefined"
    );

    // A ferl process that exits loses its name everywhere.
    let (pid, _rx) = holder(&ferl);
    assert_eq!(
        g.register_name(Term::atom("short_lived"), pid).await,
        Ok(true)
    );
    assert_eq!(
        eval(&mut iex, ":global.whereis_name(:short_lived) |> node()"),
        f_inspected
    );
    ferl.send(pid, Term::atom("stop"));
    assert_eq!(
        eval_until(&mut iex, ":global.whereis_name(:short_lived)", ":undefined"),
        ":undefined"
    );
    assert!(g.whereis_name(&Term::atom("short_lived")).is_none());

    // And an Elixir process that exits loses its name on ferl.
    ex_register(&mut iex, "ex_short");
    assert!(eventually(|| g.whereis_name(&Term::atom("ex_short")).is_some()).await);
    eval(&mut iex, ":global.send(:ex_short, :stop)");
    assert!(eventually(|| g.whereis_name(&Term::atom("ex_short")).is_none()).await);
    ferl.stop();
}

/// `Node.list()` of a BEAM node, sorted, as atoms' texts.
fn ex_nodes(b: &mut BeamNode) -> String {
    eval(b, "Node.list() |> Enum.sort() |> inspect()")
}

fn sorted_list(nodes: &[Atom]) -> String {
    let mut v: Vec<String> = nodes.iter().map(|n| format!(":{}", n.as_str())).collect();
    v.sort();
    format!("\"[{}]\"", v.join(", "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferl_as_hub_connects_the_elixir_nodes_to_each_other() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let hub = ferl_node(epmd.port, &cookie).await;
    let mut alice = elixir(&epmd, &cookie);
    let mut bob = elixir(&epmd, &cookie);
    let (a, b) = (Atom::new(&alice.node), Atom::new(&bob.node));
    let h = ex(hub.name());
    ex_register(&mut alice, "alice_name");
    assert_eq!(eval(&mut alice, &format!("Node.connect({h})")), "true");
    eval(&mut alice, ":global.sync()");
    assert_eq!(eval(&mut bob, &format!("Node.connect({h})")), "true");
    eval(&mut bob, ":global.sync()");
    // bob now sees alice (and her name) though he only connected to the ferl hub.
    let want = sorted_list(&[a, hub.name()]);
    assert_eq!(
        eval_until(&mut bob, "Node.list() |> Enum.sort() |> inspect()", &want),
        want
    );
    let alice_node = format!(":{}", a.as_str());
    assert_eq!(
        eval_until(
            &mut bob,
            ":global.whereis_name(:alice_name) |> node()",
            &alice_node
        ),
        alice_node
    );
    let want = sorted_list(&[b, hub.name()]);
    assert_eq!(ex_nodes(&mut alice), want);
    let mut mine = hub.nodes();
    mine.sort_by_key(|n| n.as_str().to_string());
    let mut both = vec![a, b];
    both.sort_by_key(|n| n.as_str().to_string());
    assert_eq!(mine, both);
    hub.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferl_newcomer_joins_every_node_of_an_elixir_cluster() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let mut alice = elixir(&epmd, &cookie);
    let mut bob = elixir(&epmd, &cookie);
    let (a, b) = (Atom::new(&alice.node), Atom::new(&bob.node));
    assert_eq!(
        eval(&mut alice, &format!("Node.connect({})", ex(b))),
        "true"
    );
    eval(&mut alice, ":global.sync()");
    ex_register(&mut bob, "bob_name");
    let newcomer = ferl_node(epmd.port, &cookie).await;
    let g = newcomer.global().unwrap();
    assert!(newcomer.connect(a).await);
    // Through alice's known list, the newcomer dials bob too.
    assert!(
        eventually(|| {
            let mut n = newcomer.nodes();
            n.sort_by_key(|x| x.as_str().to_string());
            let mut want = vec![a, b];
            want.sort_by_key(|x| x.as_str().to_string());
            n == want
        })
        .await,
        "{:?}",
        newcomer.nodes()
    );
    assert!(eventually(|| g.whereis_name(&Term::atom("bob_name")).is_some()).await);
    g.sync().await.unwrap();
    let (pid, _rx) = holder(&newcomer);
    assert_eq!(
        g.register_name(Term::atom("newcomer_name"), pid).await,
        Ok(true)
    );
    for n in [&mut alice, &mut bob] {
        assert_eq!(
            eval(n, ":global.whereis_name(:newcomer_name) |> node()"),
            format!(":{}", newcomer.name().as_str())
        );
    }
    newcomer.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_of_a_sigkilled_elixir_node_disappear() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let ferl = ferl_node(epmd.port, &cookie).await;
    let g = ferl.global().unwrap();
    let mut doomed = elixir(&epmd, &cookie);
    ex_register(&mut doomed, "doomed_name");
    assert!(ferl.connect(Atom::new(&doomed.node)).await);
    assert!(eventually(|| g.whereis_name(&Term::atom("doomed_name")).is_some()).await);
    tokio::task::block_in_place(|| doomed.kill());
    assert!(eventually(|| g.whereis_name(&Term::atom("doomed_name")).is_none()).await);
    assert!(eventually(|| ferl.nodes().is_empty()).await);
    ferl.stop();
}
