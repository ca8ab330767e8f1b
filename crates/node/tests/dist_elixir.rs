//! ferl <-> real Elixir 1.14 (OTP 25), both directions, in Elixir syntax as a user types it in
//! iex: Node.ping/list/connect/disconnect, cookies, send, Node.spawn, Process.monitor/link with
//! normal, raise, kill, noproc and noconnection, unlink, auto-connect and per-pair order.

mod dist_support;

use dist_support::*;
use ferl::{Atom, MfaFn, Node, Pid, Ping, Term};
use std::sync::Arc;
use testkit::{BeamNode, RealEpmd};

async fn pair() -> (RealEpmd, BeamNode, Node) {
    let epmd = RealEpmd::start();
    let mut ex = tokio::task::block_in_place(|| BeamNode::elixir(epmd.port));
    eval(&mut ex, "Process.register(self(), :shell)");
    let ferl = ferl_node(epmd.port, &ex.opts.cookie).await;
    (epmd, ex, ferl)
}

/// `:"name@host"` as Elixir source.
fn ex(node: Atom) -> String {
    format!(":\"{}\"", node.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_list_connect_disconnect_and_cookies() {
    let (epmd, mut iex, ferl) = pair().await;
    let f = ex(ferl.name());
    let me = Atom::new(&iex.node);
    assert_eq!(eval(&mut iex, &format!("Node.ping({f})")), ":pong");
    assert_eq!(eval(&mut iex, &format!("Node.list() == [{f}]")), "true");
    assert!(eventually(|| ferl.nodes() == vec![me]).await);
    assert_eq!(ferl.ping(me).await, Ping::Pong);
    global_settle(&mut iex, &ferl).await;
    assert_eq!(eval(&mut iex, &format!("Node.disconnect({f})")), "true");
    assert!(eventually(|| ferl.nodes().is_empty()).await);
    assert_eq!(eval(&mut iex, &format!("Node.connect({f})")), "true");
    assert!(eventually(|| ferl.nodes() == vec![me]).await);
    global_settle(&mut iex, &ferl).await;
    assert!(ferl.disconnect(me));
    assert_eq!(eval_until(&mut iex, "Node.list()", "[]"), "[]");

    // Another iex with another cookie: pang both ways, nothing connected.
    let mut other = tokio::task::block_in_place(|| BeamNode::elixir(epmd.port));
    assert_eq!(eval(&mut other, &format!("Node.ping({f})")), ":pang");
    assert_eq!(eval(&mut other, &format!("Node.connect({f})")), "false");
    assert_eq!(ferl.ping(Atom::new(&other.node)).await, Ping::Pang);
    assert_eq!(eval(&mut other, "Node.list()"), "[]");
    assert!(ferl.nodes().is_empty(), "{:?}", ferl.nodes());
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_spawn_both_ways() {
    let (_epmd, mut iex, ferl) = pair().await;
    let mut agent = Agent::spawn(&ferl);
    let (a, f) = (ex(agent.name), ex(ferl.name()));
    let me = Atom::new(&iex.node);
    eval(
        &mut iex,
        &format!("send({{{a}, {f}}}, {{:hello, self(), %{{k: 1}}}})"),
    );
    let m = agent.next().await;
    let shell = match m.as_tuple() {
        Some([t, Term::Pid(p), map]) if t.is_atom("hello") && map.as_map().is_some() => *p,
        _ => panic!("{m:?}"),
    };
    agent.send(shell, Term::binary(b"back to pid"));
    assert_eq!(
        eval(
            &mut iex,
            "receive do x when is_binary(x) -> x after 5000 -> :timeout end"
        ),
        "\"back to pid\""
    );
    agent.send_to("shell", me, atom("to_name"));
    assert_eq!(
        eval(
            &mut iex,
            "receive do :to_name -> :ok after 5000 -> :timeout end"
        ),
        ":ok"
    );
    agent.announce("shell", me);
    eval(
        &mut iex,
        "fp = receive do {:ferl_pid, p} -> p end; send(fp, :to_ferl_pid)",
    );
    assert_eq!(agent.next().await, atom("to_ferl_pid"));

    // Node.spawn/4 on ferl, and Greet.say through it.
    let reply: MfaFn = Arc::new(|p, args| {
        Box::pin(async move {
            if let [Term::Pid(to), what] = args.as_slice() {
                p.send(
                    *to,
                    tuple(vec![atom("ran"), what.clone(), Term::Pid(p.pid())]),
                );
            }
            Ok(Term::nil())
        })
    });
    ferl.register_fn(Atom::new("ferl_test"), Atom::new("reply"), 2, reply);
    assert_eq!(
        eval(
            &mut iex,
            &format!(
                "pid = Node.spawn({f}, :ferl_test, :reply, [self(), :x]); \
                 receive do {{:ran, :x, ^pid}} -> node(pid) == {f} after 5000 -> :timeout end"
            )
        ),
        "true"
    );
    assert_eq!(
        eval(
            &mut iex,
            &format!(
                "{{pid, ref}} = Node.spawn_monitor({f}, Greet, :say, [\"x\"]); \
                 receive do {{:DOWN, ^ref, :process, ^pid, why}} -> why after 5000 -> :timeout end"
            )
        ),
        ":normal"
    );
    // ferl spawns on Elixir: Process.send/3 runs there.
    let (tx, rx) = tokio::sync::oneshot::channel();
    ferl.spawn(move |mut p| async move {
        let args = vec![Term::Pid(p.pid()), atom("ran_on_elixir"), Term::nil()];
        let pid = p
            .spawn_remote(me, Atom::new("Elixir.Process"), Atom::new("send"), args)
            .await;
        let got = p.receive_timeout(WAIT).await;
        let _ = tx.send((pid, got));
    });
    let (pid, got) = tokio::time::timeout(WAIT, rx)
        .await
        .expect("in time")
        .expect("ran");
    assert_eq!(pid.expect("spawned").node, me);
    assert_eq!(got, Some(atom("ran_on_elixir")));
    ferl.stop();
}

/// An Elixir process handed to `agent` as `{erl_pid, pid}`; bound as `var`. It exits with `r`
/// on `{:exit, r}`, raises on `:raise`, answers `{:sync, from}` with `:synced`.
async fn puppet(iex: &mut BeamNode, agent: &mut Agent, ferl: &Node, var: &str) -> Pid {
    eval(
        iex,
        &format!(
            "loop = fn loop -> receive do {{:exit, r}} -> exit(r); :raise -> raise \"boom\"; \
             {{:sync, from}} -> send(from, :synced); loop.(loop) end end; \
             {var} = spawn(fn -> loop.(loop) end); send({{{}, {}}}, {{:erl_pid, {var}}})",
            ex(agent.name),
            ex(ferl.name())
        ),
    );
    tagged_pid(&agent.next().await, "erl_pid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitors_and_links_both_ways() {
    let (_epmd, mut iex, ferl) = pair().await;
    let me = Atom::new(&iex.node);
    let mut w = Agent::spawn(&ferl);

    // ferl watches Elixir processes: normal, raise, kill, noproc.
    let p = puppet(&mut iex, &mut w, &ferl, "p1").await;
    let r = w.monitor(p).await;
    w.sync(p).await;
    eval(&mut iex, "send(p1, {:exit, :normal})");
    assert_eq!(down(&w.next().await), (r, Term::Pid(p), atom("normal")));
    let p = puppet(&mut iex, &mut w, &ferl, "p2").await;
    let r = w.monitor(p).await;
    w.link(p);
    w.sync(p).await;
    eval(&mut iex, "send(p2, :raise)");
    let mut got = [w.next().await, w.next().await];
    got.sort_by_key(|m| m.as_tuple().map(|t| t[0].is_atom("EXIT")));
    let (r2, _, why) = down(&got[0]);
    assert_eq!(r2, r);
    let runtime_error = |why: &Term| matches!(why.as_tuple(), Some([e, _]) if e.map_get(&atom("__struct__")) == Some(&atom("Elixir.RuntimeError")));
    assert!(runtime_error(&why), "{why:?}");
    let (xp, xwhy) = exit(&got[1]);
    assert!(xp == p && runtime_error(&xwhy), "{xwhy:?}");
    let p = puppet(&mut iex, &mut w, &ferl, "p3").await;
    let r = w.monitor(p).await;
    w.sync(p).await;
    w.exit_other(p, atom("kill"));
    assert_eq!(down(&w.next().await), (r, Term::Pid(p), atom("killed")));
    let r = w.monitor(p).await;
    assert_eq!(down(&w.next().await), (r, Term::Pid(p), atom("noproc")));

    // Elixir watches ferl processes.
    eval(&mut iex, "Process.flag(:trap_exit, true)");
    let wait_down = "receive do {:DOWN, _, :process, _, why} -> why after 5000 -> :timeout end";
    let wait_exit = "receive do {:EXIT, _, why} -> why after 5000 -> :timeout end";
    let mut t = Agent::spawn(&ferl);
    t.announce("shell", me);
    eval(&mut iex, "t1 = receive do {:ferl_pid, p} -> p end; Process.monitor(t1); Process.link(t1); send(t1, :sync)");
    assert_eq!(t.next().await, atom("sync"));
    t.exit(atom("normal"));
    assert_eq!(eval(&mut iex, wait_down), ":normal");
    assert_eq!(eval(&mut iex, wait_exit), ":normal");
    let mut t = Agent::spawn(&ferl);
    t.announce("shell", me);
    eval(
        &mut iex,
        "t2 = receive do {:ferl_pid, p} -> p end; Process.monitor(t2); send(t2, :sync)",
    );
    assert_eq!(t.next().await, atom("sync"));
    t.panic();
    assert_eq!(
        eval(&mut iex, wait_down),
        "{:panic, \"agent told to panic\"}"
    );
    let mut t = Agent::spawn(&ferl);
    t.announce("shell", me);
    eval(
        &mut iex,
        "t3 = receive do {:ferl_pid, p} -> p end; Process.monitor(t3); send(t3, :sync)",
    );
    assert_eq!(t.next().await, atom("sync"));
    eval(&mut iex, "Process.exit(t3, :kill)");
    assert_eq!(eval(&mut iex, wait_down), ":killed");
    assert_eq!(
        eval(&mut iex, &format!("Process.monitor(t3); {wait_down}")),
        ":noproc"
    );
    let f = ex(ferl.name());
    assert_eq!(
        eval(
            &mut iex,
            &format!("Process.monitor({{:nobody, {f}}}); {wait_down}")
        ),
        ":noproc"
    );
    // unlink: no EXIT after the ferl process crashes.
    let mut t = Agent::spawn(&ferl);
    t.announce("shell", me);
    eval(&mut iex, "t4 = receive do {:ferl_pid, p} -> p end; Process.link(t4); Process.unlink(t4); send(t4, :sync)");
    assert_eq!(t.next().await, atom("sync"));
    t.exit(atom("after_unlink"));
    assert_eq!(
        eval(
            &mut iex,
            "receive do {:EXIT, ^t4, r} -> r after 1000 -> :none end"
        ),
        ":none"
    );

    // noconnection both ways: ferl stops while Elixir watches a ferl process, and ferl's
    // watcher sees noconnection for the Elixir process it monitors and links.
    let mut t = Agent::spawn(&ferl);
    t.announce("shell", me);
    eval(&mut iex, "t5 = receive do {:ferl_pid, p} -> p end; Process.monitor(t5); Process.link(t5); send(t5, :sync)");
    assert_eq!(t.next().await, atom("sync"));
    let p = puppet(&mut iex, &mut w, &ferl, "p6").await;
    let r = w.monitor(p).await;
    w.link(p);
    w.monitor_node(me);
    w.sync(p).await;
    ferl.stop();
    assert_eq!(eval(&mut iex, wait_down), ":noconnection");
    assert_eq!(eval(&mut iex, wait_exit), ":noconnection");
    let mut got = [w.next().await, w.next().await, w.next().await];
    got.sort_by_key(|m| m.as_tuple().map(|t| t[0].as_atom().map(|a| a.as_str())));
    assert_eq!(down(&got[0]), (r, Term::Pid(p), atom("noconnection")));
    assert_eq!(exit(&got[1]), (p, atom("noconnection")));
    assert_eq!(got[2], tuple(vec![atom("nodedown"), Term::Atom(me)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_elixir_node_gives_noconnection() {
    let (_epmd, mut iex, ferl) = pair().await;
    let me = Atom::new(&iex.node);
    let mut w = Agent::spawn(&ferl);
    let p = puppet(&mut iex, &mut w, &ferl, "k1").await;
    let r = w.monitor(p).await;
    w.link(p);
    w.sync(p).await;
    tokio::task::block_in_place(|| iex.kill());
    let mut got = [w.next().await, w.next().await];
    got.sort_by_key(|m| m.as_tuple().map(|t| t[0].is_atom("EXIT")));
    assert_eq!(down(&got[0]), (r, Term::Pid(p), atom("noconnection")));
    assert_eq!(exit(&got[1]), (p, atom("noconnection")));
    assert!(eventually(|| ferl.nodes().is_empty()).await);
    let _ = me;
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_connect_and_order_both_ways() {
    let (_epmd, mut iex, ferl) = pair().await;
    let me = Atom::new(&iex.node);
    let mut agent = Agent::spawn(&ferl);
    for i in 1..=5 {
        agent.send_to("shell", me, tuple(vec![atom("q"), Term::Int(i)]));
    }
    assert_eq!(
        eval(
            &mut iex,
            "for _ <- 1..5, do: (receive do {:q, i} -> i after 5000 -> :timeout end)"
        ),
        "[1, 2, 3, 4, 5]"
    );
    let shell = Atom::new("shell");
    let (tx, rx) = tokio::sync::oneshot::channel();
    ferl.spawn(move |p| async move {
        for i in 1..=10_000i64 {
            let _ = p.send_to(shell, me, tuple(vec![atom("seq"), Term::Int(i)]));
        }
        let _ = tx.send(());
    });
    rx.await.expect("sent");
    let check = "Enum.reduce_while(1..10000, :ok, fn n, _ -> \
                 receive do {:seq, ^n} -> {:cont, :ok}; {:seq, m} -> {:halt, {:bad, n, m}} \
                 after 10000 -> {:halt, {:timeout, n}} end end)";
    assert_eq!(eval(&mut iex, check), ":ok");
    eval(
        &mut iex,
        &format!(
            "for n <- 1..10000, do: send({{{}, {}}}, {{:seq, n}}); :ok",
            ex(agent.name),
            ex(ferl.name())
        ),
    );
    for i in 1..=10_000i64 {
        assert_eq!(agent.next().await, tuple(vec![atom("seq"), Term::Int(i)]));
    }
    ferl.stop();
}
