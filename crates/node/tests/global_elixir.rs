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
            "case :global.whereis_name(:alice_name) do :undefined -> :undefined; p -> node(p) end",
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

/// Starts, in the background on an Elixir node, `n` registrations `:"c#{i}"` (each with a fresh
/// process); `:reg_results` collects `{yes_count, pids}` for a later `collect_registrations`.
fn ex_start_registrations(b: &mut BeamNode, n: usize) {
    eval(
        b,
        &format!(
            "parent = spawn(fn -> \
               rs = for _ <- 1..{n}, do: (receive do {{:reg, r}} -> r end); \
               receive do {{:get, to}} -> send(to, Enum.count(rs, &(&1 == :yes))) end \
             end); \
             Process.register(parent, :reg_results); \
             for i <- 1..{n} do spawn(fn -> \
               p = spawn(fn -> receive do :stop -> :ok end end); \
               send(parent, {{:reg, :global.register_name(:\"c#{{i}}\", p)}}) end) end; :ok"
        ),
    );
}

fn ex_collect_registrations(b: &mut BeamNode) -> usize {
    eval(
        b,
        "send(:reg_results, {:get, self()}); receive do n -> n after 60000 -> :timeout end",
    )
    .parse()
    .expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_registrations_over_elixir_and_ferl_nodes() {
    const NAMES: usize = 50;
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let mut e1 = elixir(&epmd, &cookie);
    let mut e2 = elixir(&epmd, &cookie);
    let f1 = ferl_node(epmd.port, &cookie).await;
    let f2 = ferl_node(epmd.port, &cookie).await;
    for n in [Atom::new(&e1.node), Atom::new(&e2.node), f2.name()] {
        assert!(f1.connect(n).await);
    }
    // A full mesh of four, all synced.
    f1.global().unwrap().sync().await.unwrap();
    eval(&mut e1, ":global.sync()");
    assert_eq!(eval_until(&mut e2, "length(Node.list())", "3"), "3");
    assert_eq!(eval_until(&mut e1, "length(Node.list())", "3"), "3");
    eval(&mut e2, ":global.sync()");

    // 4 x 50 register_name calls for the same 50 names, all at once.
    ex_start_registrations(&mut e1, NAMES);
    ex_start_registrations(&mut e2, NAMES);
    let mut tasks = Vec::new();
    for f in [&f1, &f2] {
        for i in 1..=NAMES {
            let (g, (pid, _rx)) = (f.global().unwrap(), holder(f));
            tasks.push(tokio::spawn(async move {
                let r = g.register_name(Term::atom(&format!("c{i}")), pid).await;
                drop(_rx);
                r
            }));
        }
    }
    let mut ferl_yes = 0;
    for t in tasks {
        let r = tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("every ferl registration completes")
            .unwrap();
        ferl_yes += usize::from(r.expect("global runs"));
    }
    let ex_yes = ex_collect_registrations(&mut e1) + ex_collect_registrations(&mut e2);
    assert_eq!(
        ferl_yes + ex_yes,
        NAMES,
        "each name went to exactly one caller"
    );

    // Every node has the same live pid for every name.
    let views = eval(
        &mut e1,
        &format!(
            "for i <- 1..{NAMES} do \
               n = :\"c#{{i}}\"; \
               vs = for nd <- [node() | Node.list()], do: :rpc.call(nd, :global, :whereis_name, [n]); \
               length(Enum.uniq(vs)) == 1 and is_pid(hd(vs)) \
             end |> Enum.all?()"
        ),
    );
    assert_eq!(views, "true");
    for f in [&f1, &f2] {
        f.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_two_clusters_with_the_same_name_keeps_one_pid_everywhere() {
    // The pid on the node with the smaller name wins: "a..." beats the Elixir node's name,
    // "z..." loses to it; the loser is killed either way.
    join_clusters("a_ferl").await;
    join_clusters("z_ferl").await;
}

async fn join_clusters(fy_prefix: &str) {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    // Cluster X: Elixir ex + ferl fx, :dup held by an Elixir process.
    let mut ex_node = elixir(&epmd, &cookie);
    let fx = ferl_node(epmd.port, &cookie).await;
    ex_register(&mut ex_node, "dup");
    eval(&mut ex_node, "dup_pid = pid");
    assert!(fx.connect(Atom::new(&ex_node.node)).await);
    fx.global().unwrap().sync().await.unwrap();
    assert!(fx
        .global()
        .unwrap()
        .whereis_name(&Term::atom("dup"))
        .is_some());
    // Cluster Y: ferl fy alone, :dup held by a ferl process.
    let mut o = ferl::StartOptions::new(ferl::NodeName::Short(testkit::unique_name(fy_prefix)));
    o.cookie = Some(cookie.clone());
    o.epmd_port = Some(epmd.port);
    let fy = Node::start(o).await.expect("ferl node starts");
    let (y_pid, _rx) = holder(&fy);
    assert_eq!(
        fy.global()
            .unwrap()
            .register_name(Term::atom("dup"), y_pid)
            .await,
        Ok(true)
    );
    let x_pid = fx
        .global()
        .unwrap()
        .whereis_name(&Term::atom("dup"))
        .unwrap();

    // Join them: random_exit_name keeps the pid on the node with the smaller name.
    assert!(fy.connect(fx.name()).await);
    for f in [&fx, &fy] {
        f.global().unwrap().sync().await.unwrap();
    }
    assert_eq!(eval_until(&mut ex_node, "length(Node.list())", "2"), "2");
    eval(&mut ex_node, ":global.sync()");
    let ex_wins = ex_node.node.as_str() < fy.name().as_str();
    assert_eq!(ex_wins, fy_prefix.starts_with('z'));
    let (winner, loser) = if ex_wins {
        (x_pid, y_pid)
    } else {
        (y_pid, x_pid)
    };
    for f in [&fx, &fy] {
        let g = f.global().unwrap();
        assert!(
            eventually(|| g.whereis_name(&Term::atom("dup")) == Some(winner)).await,
            "{}: {:?}",
            f.name(),
            g.whereis_name(&Term::atom("dup"))
        );
    }
    assert_eq!(
        eval(
            &mut ex_node,
            "vs = for nd <- [node() | Node.list()], do: :rpc.call(nd, :global, :whereis_name, [:dup]); \
             {length(vs), length(Enum.uniq(vs))}"
        ),
        "{3, 1}"
    );
    // The loser was killed.
    if loser.node == fy.name() {
        assert!(eventually(|| !fy.is_alive(loser)).await);
    } else {
        assert_eq!(
            eval_until(&mut ex_node, "Process.alive?(dup_pid)", "false"),
            "false"
        );
    }
    for f in [&fx, &fy] {
        f.stop();
    }
}
