//! ferl <-> real `erl` 25, both directions (never skipped): ping, node lists, disconnect, wrong
//! cookie, sends to pids and names, remote spawn, monitors and links (normal, crash, kill,
//! noproc, noconnection), UNLINK_ID, auto-connect, per-pair order, ticks, funs carried back,
//! a one-way stream and a large binary after it.

mod dist_support;

use dist_support::*;
use ferl::{Atom, Node, Pid, Ping, SpawnRequestOpts, Term};
use std::sync::Arc;
use std::time::Duration;
use testkit::{BeamKind, BeamNode, BeamOpts, RealEpmd};

/// erl node + ferl node with the same cookie; erl's eval process is registered as `shell`.
async fn pair() -> (RealEpmd, BeamNode, Node) {
    let epmd = RealEpmd::start();
    let mut erl = tokio::task::block_in_place(|| BeamNode::erl(epmd.port));
    eval(&mut erl, "register(shell, self())");
    let ferl = ferl_node(epmd.port, &erl.opts.cookie).await;
    (epmd, erl, ferl)
}

fn erl_atom(erl: &BeamNode) -> Atom {
    Atom::new(&erl.node)
}

/// An erl process spawned from the shell, handed to `agent` as `{erl_pid, P}`; bound as `var`
/// on erl. It exits with `R` on `{exit, R}`, raises `boom` on `crash`, answers `{sync, From}`.
async fn erl_puppet(erl: &mut BeamNode, agent: &mut Agent, ferl: &Node, var: &str) -> Pid {
    eval(
        erl,
        &format!(
            "{var} = spawn(fun() -> L = fun Loop() -> receive {{exit, R}} -> exit(R); crash -> error(boom); \
             {{sync, From}} -> From ! synced, Loop() end end, L() end), \
             {{{}, {}}} ! {{erl_pid, {var}}}",
            q(agent.name),
            q(ferl.name())
        ),
    );
    tagged_pid(&agent.next().await, "erl_pid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_node_lists_and_disconnect_both_ways() {
    let (_epmd, mut erl, ferl) = pair().await;
    let mut watcher = Agent::spawn(&ferl);
    ferl.monitor_nodes(watcher.pid, true);
    let f = q(ferl.name());
    assert_eq!(eval(&mut erl, &format!("net_adm:ping({f})")), "pong");
    let e = erl_atom(&erl);
    assert_eq!(
        watcher.next().await,
        tuple(vec![atom("nodeup"), Term::Atom(e)])
    );
    assert_eq!(eval(&mut erl, "nodes()"), format!("[{}]", ferl.name()));
    assert!(eventually(|| ferl.nodes() == vec![erl_atom(&erl)]).await);
    assert_eq!(ferl.ping(erl_atom(&erl)).await, Ping::Pong);

    // A node that does not exist: pang, and no connection left behind.
    let ghost = Atom::new(&format!(
        "ghost_{}@{}",
        std::process::id(),
        testkit::hostname()
    ));
    assert_eq!(ferl.ping(ghost).await, Ping::Pang);
    assert!(!ferl.connect(ghost).await);
    assert_eq!(ferl.nodes(), vec![erl_atom(&erl)]);

    // ferl disconnects: gone on both sides.
    global_settle(&mut erl, &ferl).await;
    assert!(ferl.disconnect(erl_atom(&erl)));
    assert_eq!(
        watcher.next().await,
        tuple(vec![atom("nodedown"), Term::Atom(e)])
    );
    assert!(eventually(|| ferl.nodes().is_empty()).await);
    assert_eq!(eval_until(&mut erl, "nodes()", "[]"), "[]");

    // ferl connects again, erl disconnects.
    assert!(ferl.connect(erl_atom(&erl)).await);
    assert_eq!(eval(&mut erl, "nodes()"), format!("[{}]", ferl.name()));
    global_settle(&mut erl, &ferl).await;
    assert_eq!(eval(&mut erl, &format!("disconnect_node({f})")), "true");
    assert!(eventually(|| ferl.nodes().is_empty()).await);
    assert!(ferl.nodes_hidden().is_empty());
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_cookie_is_pang_both_ways() {
    let epmd = RealEpmd::start();
    let mut erl = tokio::task::block_in_place(|| BeamNode::erl(epmd.port));
    let ferl = ferl_node(epmd.port, "NOT_THE_COOKIE").await;
    assert_eq!(ferl.ping(erl_atom(&erl)).await, Ping::Pang);
    assert!(!ferl.connect(erl_atom(&erl)).await);
    assert!(ferl.nodes().is_empty());
    let line = tokio::task::block_in_place(|| erl.wait_for_log("Invalid challenge reply", WAIT))
        .expect("erl logs the refused handshake");
    assert!(line.contains(ferl.name().as_str()), "{line}");
    let f = q(ferl.name());
    assert_eq!(eval(&mut erl, &format!("net_adm:ping({f})")), "pang");
    assert_eq!(eval(&mut erl, "nodes()"), "[]");
    assert!(ferl.nodes().is_empty());
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_pids_and_registered_names_both_ways() {
    let (_epmd, mut erl, ferl) = pair().await;
    let mut agent = Agent::spawn(&ferl);
    let (a, f) = (q(agent.name), q(ferl.name()));
    // erl -> ferl registered name.
    eval(
        &mut erl,
        &format!("{{{a}, {f}}} ! {{from_erl, self(), <<\"hi\">>}}"),
    );
    let m = agent.next().await;
    let erl_shell = match m.as_tuple() {
        Some([tag, Term::Pid(p), b]) if tag.is_atom("from_erl") && b.as_str() == Some("hi") => *p,
        _ => panic!("{m:?}"),
    };
    assert_eq!(erl_shell.node, erl_atom(&erl));
    // ferl -> erl pid.
    agent.send(erl_shell, tuple(vec![atom("to_pid"), Term::Int(42)]));
    assert_eq!(
        eval(
            &mut erl,
            "receive {to_pid, X} -> X after 5000 -> timeout end"
        ),
        "42"
    );
    // ferl -> erl pid, a message the sender keeps (`send_ref`: encoded from it, not a copy).
    let kept = tuple(vec![
        atom("by_ref"),
        Term::binary(b"item-123"),
        Term::list(vec![Term::Int(1), atom("two")]),
    ]);
    let sent = kept.clone();
    dist_common_in_process(&ferl, move |p| async move { p.send_ref(erl_shell, &sent) }).await;
    assert_eq!(
        eval(
            &mut erl,
            "receive {by_ref, B, L} -> {B, L} after 5000 -> timeout end"
        ),
        "{<<\"item-123\">>,[1,two]}"
    );
    // ... and to a registered name (`send_to_ref`).
    let sent = tuple(vec![atom("by_name_ref"), kept]);
    let shell_node = erl_atom(&erl);
    dist_common_in_process(&ferl, move |p| async move {
        p.send_to_ref(Atom::new("shell"), shell_node, &sent)
            .expect("remote sends never fail")
    })
    .await;
    assert_eq!(
        eval(
            &mut erl,
            "receive {by_name_ref, {by_ref, B, _}} -> B after 5000 -> timeout end"
        ),
        "<<\"item-123\">>"
    );
    // ferl -> erl registered name.
    agent.send_to("shell", erl_atom(&erl), atom("to_name"));
    assert_eq!(
        eval(&mut erl, "receive to_name -> ok after 5000 -> timeout end"),
        "ok"
    );
    // erl -> ferl pid: a ferl echo process answers the erl pid.
    agent.announce("shell", erl_atom(&erl));
    eval(
        &mut erl,
        "FP = receive {ferl_pid, P} -> P after 5000 -> timeout end",
    );
    eval(&mut erl, "FP ! {to_ferl_pid, [1,2,3]}");
    let m = agent.next().await;
    assert_eq!(
        m,
        tuple(vec![
            atom("to_ferl_pid"),
            Term::list(vec![Term::Int(1), Term::Int(2), Term::Int(3)])
        ])
    );
    ferl.stop();
}

/// Funs from erl go through a ferl process and back unchanged: a closure over bindings (the
/// shell's `erl_eval` fun, whose free variables hold its environment and abstract code), a
/// closure over a fun, and `fun M:F/A`. erl finds each one `=:=` to what it sent and calls it.
/// A one-way stream of small messages from four erl processes arrives whole and in order per
/// sender, a 4 MB binary right after it arrives too, and the connection then still answers a
/// ping. (The reader's switch to chunked reads, `dist/src/low_water.rs`, needs input faster
/// than a debug build takes it in: its own tests drive real sockets directly.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_from_erl_and_a_large_binary_after_it_arrive_whole() {
    const SENDERS: usize = 4;
    const EACH: i64 = 50_000;
    let (_epmd, mut erl, ferl) = pair().await;
    let mut agent = Agent::spawn(&ferl);
    let to = format!("{{{}, {}}}", q(agent.name), q(ferl.name()));
    eval(
        &mut erl,
        &format!(
            "[spawn(fun() -> [{to} ! {{s, S, I}} || I <- lists:seq(1, {EACH})] end) \
             || S <- lists:seq(1, {SENDERS})], ok"
        ),
    );
    let mut next = [1i64; SENDERS];
    for _ in 0..SENDERS as i64 * EACH {
        let m = agent.next().await;
        let Some([_, Term::Int(s), Term::Int(i)]) = m.as_tuple() else {
            panic!("unexpected {m:?}");
        };
        let s = *s as usize - 1;
        assert_eq!(*i, next[s], "sender {} in order", s + 1);
        next[s] += 1;
    }
    assert!(next.iter().all(|n| *n == EACH + 1));
    eval(
        &mut erl,
        &format!("{to} ! {{big, binary:copy(<<7>>, 4194304)}}, ok"),
    );
    let m = agent.next().await;
    let Some([_, Term::Binary(b)]) = m.as_tuple() else {
        panic!("unexpected {m:?}");
    };
    assert!(b.len() == 4 << 20 && b.iter().all(|x| *x == 7));
    assert_eq!(ferl.ping(erl_atom(&erl)).await, Ping::Pong);
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funs_go_through_ferl_and_back_unchanged() {
    let (_epmd, mut erl, ferl) = pair().await;
    let mut agent = Agent::spawn(&ferl);
    let (a, f) = (q(agent.name), q(ferl.name()));
    eval(
        &mut erl,
        &format!(
            "Y = 5, F1 = fun(X) -> X + Y end, F2 = fun(X) -> F1(X) * 2 end, \
             F3 = fun lists:reverse/1, {{{a}, {f}}} ! {{funs, self(), [F1, F2, F3]}}"
        ),
    );
    let m = agent.next().await;
    let (shell, funs) = match m.as_tuple() {
        Some([tag, Term::Pid(p), funs]) if tag.is_atom("funs") => (*p, funs.clone()),
        _ => panic!("{m:?}"),
    };
    let Term::List(parts) = &funs else {
        panic!("{funs:?}")
    };
    assert!(matches!(
        parts[..],
        [Term::Fun(_), Term::Fun(_), Term::Export(_)]
    ));
    agent.send(shell, tuple(vec![atom("back"), funs]));
    assert_eq!(
        eval(
            &mut erl,
            "receive {back, [G1, G2, G3] = Gs} -> \
             {Gs =:= [F1, F2, F3], G1(1), G2(1), G3([a, b])} after 5000 -> timeout end"
        ),
        "{true,6,12,[b,a]}"
    );
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_spawn_both_ways() {
    let (_epmd, mut erl, ferl) = pair().await;
    let reply: ferl::MfaFn = Arc::new(|p, args| {
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
    let f = q(ferl.name());
    // erl spawns on ferl (erlang:spawn/4 is a SPAWN_REQUEST).
    assert_eq!(
        eval(
            &mut erl,
            &format!(
                "P1 = spawn({f}, ferl_test, reply, [self(), x]), \
                 receive {{ran, x, P1}} -> node(P1) after 5000 -> timeout end"
            )
        ),
        ferl.name().as_str()
    );
    // Greet.say/1 runs and exits normal.
    assert_eq!(
        eval(
            &mut erl,
            &format!(
                "{{P2, R2}} = spawn_monitor({f}, 'Elixir.Greet', say, [<<\"x\">>]), \
                 receive {{'DOWN', R2, process, P2, Why}} -> {{node(P2), Why}} after 5000 -> timeout end"
            )
        ),
        format!("{{{},normal}}", ferl.name())
    );
    // An MFA ferl does not have: the process exits undef, as on BEAM.
    assert_eq!(
        eval(
            &mut erl,
            &format!(
                "{{P3, R3}} = spawn_monitor({f}, nomod, nofun, [1]), \
                 receive {{'DOWN', R3, process, P3, Why3}} -> Why3 after 5000 -> timeout end"
            )
        ),
        "{undef,[{nomod,nofun,[1],[]}]}"
    );
    // spawn_link/4: the link is made with the spawn; the EXIT carries the undef.
    assert_eq!(
        eval(
            &mut erl,
            &format!(
                "process_flag(trap_exit, true), P4 = spawn_link({f}, nomod, nofun, []), \
                 receive {{'EXIT', P4, Why4}} -> Why4 after 5000 -> timeout end"
            )
        ),
        "{undef,[{nomod,nofun,[],[]}]}"
    );
    // ferl spawns on erl: erlang:send(Pid, Msg) runs there.
    let me = erl_atom(&erl);
    let (pid, got) = dist_common_in_process(&ferl, move |mut p| async move {
        let args = vec![Term::Pid(p.pid()), atom("ran_on_erl")];
        let pid = p
            .spawn_remote(me, Atom::new("erlang"), Atom::new("send"), args)
            .await
            .expect("spawned on erl");
        let got = p.receive_timeout(WAIT).await;
        (pid, got)
    })
    .await;
    assert_eq!(pid.node, erl_atom(&erl));
    assert_eq!(got, Some(atom("ran_on_erl")));
    // With a monitor: the DOWN carries erl's exit reason; ref = request id.
    let reason = dist_common_in_process(&ferl, move |mut p| async move {
        let opts = SpawnRequestOpts {
            link: false,
            monitor: true,
            ..SpawnRequestOpts::default()
        };
        let (pid, r) = p
            .spawn_remote_opts(
                me,
                Atom::new("erlang"),
                Atom::new("exit"),
                vec![atom("boom")],
                opts,
            )
            .await
            .expect("spawned");
        p.receive_match(
            |m| match m.as_tuple() {
                Some([t, Term::Ref(mr), _, Term::Pid(dp), why])
                    if t.is_atom("DOWN") && *mr == r && *dp == pid =>
                {
                    Some(why.clone())
                }
                _ => None,
            },
            Some(WAIT),
        )
        .await
    })
    .await;
    assert_eq!(reason, Some(atom("boom")));
    ferl.stop();
}

/// Runs `body` as a process on `node` and returns its result.
async fn dist_common_in_process<T, F, Fut>(node: &Node, body: F) -> T
where
    T: Send + 'static,
    F: FnOnce(ferl::Process) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    node.spawn(move |p| {
        let fut = body(p);
        async move {
            let _ = tx.send(fut.await);
        }
    });
    tokio::time::timeout(WAIT * 2, rx)
        .await
        .expect("in time")
        .expect("answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferl_monitors_and_links_erl_processes() {
    let (_epmd, mut erl, ferl) = pair().await;
    let mut agent = Agent::spawn(&ferl);
    let e = erl_atom(&erl);

    // Normal exit: DOWN normal; a link with reason normal gives a trapped EXIT normal.
    let p = erl_puppet(&mut erl, &mut agent, &ferl, "A1").await;
    let r = agent.monitor(p).await;
    agent.link(p);
    agent.sync(p).await;
    eval(&mut erl, "true = is_process_alive(A1), A1 ! {exit, normal}");
    let (m1, m2) = (agent.next().await, agent.next().await);
    let (d, x) = if m1.as_tuple().is_some_and(|t| t[0].is_atom("DOWN")) {
        (m1, m2)
    } else {
        (m2, m1)
    };
    assert_eq!(down(&d), (r, Term::Pid(p), atom("normal")));
    assert_eq!(exit(&x), (p, atom("normal")));

    // Crash: error(boom) -> {boom, Stack}.
    let p = erl_puppet(&mut erl, &mut agent, &ferl, "A2").await;
    let r = agent.monitor(p).await;
    agent.sync(p).await;
    eval(&mut erl, "A2 ! crash");
    let (r2, _, why) = down(&agent.next().await);
    assert_eq!(r2, r);
    assert!(
        matches!(why.as_tuple(), Some([b, _]) if b.is_atom("boom")),
        "{why:?}"
    );

    // exit(P, kill) from ferl: killed, for both the monitor and the link.
    let p = erl_puppet(&mut erl, &mut agent, &ferl, "A3").await;
    let r = agent.monitor(p).await;
    agent.link(p);
    agent.sync(p).await;
    agent.exit_other(p, atom("kill"));
    let mut got = [agent.next().await, agent.next().await];
    got.sort_by_key(|t| t.as_tuple().map(|t| t[0].is_atom("EXIT")));
    assert_eq!(down(&got[0]), (r, Term::Pid(p), atom("killed")));
    assert_eq!(exit(&got[1]), (p, atom("killed")));

    // noproc: a dead pid, and a name erl does not have.
    let r = agent.monitor(p).await;
    assert_eq!(down(&agent.next().await), (r, Term::Pid(p), atom("noproc")));
    let r = agent.monitor_name("no_such_name", e).await;
    let item = tuple(vec![atom("no_such_name"), Term::Atom(e)]);
    assert_eq!(down(&agent.next().await), (r, item, atom("noproc")));
    // A name erl has: DOWN names {Name, Node} when it exits.
    let p = erl_puppet(&mut erl, &mut agent, &ferl, "A4").await;
    eval(&mut erl, "register(puppet4, A4)");
    let r = agent.monitor_name("puppet4", e).await;
    agent.sync(p).await;
    eval(&mut erl, "A4 ! {exit, bye}");
    let item = tuple(vec![atom("puppet4"), Term::Atom(e)]);
    assert_eq!(down(&agent.next().await), (r, item, atom("bye")));
    let _ = p;

    // noconnection: erl is killed (SIGKILL) while we monitor and link a process there.
    let p = erl_puppet(&mut erl, &mut agent, &ferl, "A5").await;
    let r = agent.monitor(p).await;
    agent.link(p);
    agent.monitor_node(e);
    agent.sync(p).await;
    tokio::task::block_in_place(|| erl.kill());
    let mut got = [agent.next().await, agent.next().await, agent.next().await];
    got.sort_by_key(|t| t.as_tuple().map(|t| t[0].as_atom().map(|a| a.as_str())));
    assert_eq!(down(&got[0]), (r, Term::Pid(p), atom("noconnection")));
    assert_eq!(exit(&got[1]), (p, atom("noconnection")));
    assert_eq!(got[2], tuple(vec![atom("nodedown"), Term::Atom(e)]));
    assert!(eventually(|| ferl.nodes().is_empty()).await);
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erl_monitors_and_links_ferl_processes() {
    let (_epmd, mut erl, ferl) = pair().await;
    let e = erl_atom(&erl);
    eval(&mut erl, "process_flag(trap_exit, true)");
    let (f, fq) = (ferl.name(), q(ferl.name()));
    // Inside funs, so nothing gets bound in the shell between evaluations.
    let wait_down =
        "(fun() -> receive {'DOWN', _, process, _, Wd} -> Wd after 5000 -> timeout end end)()";
    let wait_exit = "(fun() -> receive {'EXIT', _, We} -> We after 5000 -> timeout end end)()";

    // Normal exit.
    let mut a = Agent::spawn(&ferl);
    a.announce("shell", e);
    eval(
        &mut erl,
        "F1 = receive {ferl_pid, PP1} -> PP1 end, monitor(process, F1), link(F1), F1 ! sync",
    );
    assert_eq!(a.next().await, atom("sync"), "monitor/link in place");
    a.exit(atom("normal"));
    assert_eq!(eval(&mut erl, wait_down), "normal");
    assert_eq!(eval(&mut erl, wait_exit), "normal");

    // Crash with a reason, and a Rust panic.
    let mut a = Agent::spawn(&ferl);
    a.announce("shell", e);
    eval(
        &mut erl,
        "F2 = receive {ferl_pid, PP2} -> PP2 end, monitor(process, F2), link(F2), F2 ! sync",
    );
    assert_eq!(a.next().await, atom("sync"), "monitor/link in place");
    a.exit(tuple(vec![atom("shutdown"), atom("crashed")]));
    assert_eq!(eval(&mut erl, wait_down), "{shutdown,crashed}");
    assert_eq!(eval(&mut erl, wait_exit), "{shutdown,crashed}");
    let mut a = Agent::spawn(&ferl);
    a.announce("shell", e);
    eval(
        &mut erl,
        "F3 = receive {ferl_pid, PP3} -> PP3 end, monitor(process, F3), F3 ! sync",
    );
    assert_eq!(a.next().await, atom("sync"), "monitor/link in place");
    a.panic();
    assert_eq!(
        eval(&mut erl, wait_down),
        "{panic,<<\"agent told to panic\">>}"
    );

    // exit(P, kill) from erl.
    let mut a = Agent::spawn(&ferl);
    a.announce("shell", e);
    eval(
        &mut erl,
        "F4 = receive {ferl_pid, PP4} -> PP4 end, monitor(process, F4), F4 ! sync",
    );
    assert_eq!(a.next().await, atom("sync"), "monitor/link in place");
    eval(&mut erl, "exit(F4, kill)");
    assert_eq!(eval(&mut erl, wait_down), "killed");
    assert!(eventually(|| !ferl.is_alive(a.pid)).await);

    // noproc: a dead ferl pid and a name ferl does not have.
    assert_eq!(
        eval(&mut erl, &format!("monitor(process, F4), {wait_down}")),
        "noproc"
    );
    assert_eq!(
        eval(
            &mut erl,
            &format!("monitor(process, {{no_such, {fq}}}), {wait_down}")
        ),
        "noproc"
    );
    // net_kernel and global_name_server are real processes there: no DOWN.
    for name in ["net_kernel", "global_name_server"] {
        assert_eq!(
            eval(
                &mut erl,
                &format!(
                    "NkRef_{name} = monitor(process, {{{name}, {fq}}}), \
                     receive {{'DOWN', NkRef_{name}, _, _, _}} -> down \
                     after 500 -> demonitor(NkRef_{name}) end"
                )
            ),
            "true"
        );
    }

    // noconnection: the ferl node stops.
    let mut a = Agent::spawn(&ferl);
    a.announce("shell", e);
    eval(
        &mut erl,
        "F5 = receive {ferl_pid, PP5} -> PP5 end, monitor(process, F5), link(F5), F5 ! sync",
    );
    assert_eq!(a.next().await, atom("sync"), "monitor/link in place");
    ferl.stop();
    assert_eq!(eval(&mut erl, wait_down), "noconnection");
    assert_eq!(eval(&mut erl, wait_exit), "noconnection");
    assert_eq!(eval_until(&mut erl, "nodes()", "[]"), "[]");
    let _ = f;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlink_id_means_no_exit_after_unlink() {
    let (_epmd, mut erl, ferl) = pair().await;
    let e = erl_atom(&erl);
    eval(&mut erl, "process_flag(trap_exit, true)");
    let mut a = Agent::spawn(&ferl);
    a.announce("shell", e);
    eval(
        &mut erl,
        "U = receive {ferl_pid, PP6} -> PP6 end, link(U), unlink(U), U ! sync",
    );
    assert_eq!(a.next().await, atom("sync"), "monitor/link in place");
    // The ferl side processed the unlink (and acked) before exiting with a crash reason.
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.exit(atom("crash_after_unlink"));
    assert!(eventually(|| !ferl.is_alive(a.pid)).await);
    assert_eq!(
        eval(
            &mut erl,
            "receive {'EXIT', U, R1} -> R1 after 1000 -> none end"
        ),
        "none"
    );
    // A link that stays does deliver.
    let mut a = Agent::spawn(&ferl);
    a.announce("shell", e);
    eval(
        &mut erl,
        "U2 = receive {ferl_pid, PP7} -> PP7 end, link(U2), U2 ! sync",
    );
    assert_eq!(a.next().await, atom("sync"), "monitor/link in place");
    a.exit(atom("crash_linked"));
    assert_eq!(
        eval(
            &mut erl,
            "receive {'EXIT', U2, R2} -> R2 after 5000 -> none end"
        ),
        "crash_linked"
    );
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_connect_and_order_both_ways() {
    let (_epmd, mut erl, ferl) = pair().await;
    let e = erl_atom(&erl);
    assert!(ferl.nodes().is_empty());
    // Not connected: the first sends queue behind the auto-connect, in order.
    for i in 1..=5 {
        ferl.send_to(Atom::new("shell"), e, tuple(vec![atom("q"), Term::Int(i)]))
            .expect("remote sends never fail");
    }
    assert_eq!(
        eval(
            &mut erl,
            "[receive {q, I} -> I after 5000 -> timeout end || _ <- lists:seq(1,5)]"
        ),
        "[1,2,3,4,5]"
    );
    assert_eq!(ferl.nodes(), vec![e]);

    // 10,000 sequenced messages ferl -> erl, checked on erl.
    let shell = Atom::new("shell");
    dist_common_in_process(&ferl, move |p| async move {
        for i in 1..=10_000i64 {
            let _ = p.send_to(shell, e, tuple(vec![atom("seq"), Term::Int(i)]));
        }
    })
    .await;
    let check = "Check = fun C(N) when N > 10000 -> ok; \
                 C(N) -> receive {seq, N} -> C(N + 1); {seq, M} -> {bad, N, M} \
                 after 10000 -> {timeout, N} end end, Check(1)";
    assert_eq!(eval(&mut erl, check), "ok");

    // 10,000 erl -> ferl, checked on ferl.
    let mut agent = Agent::spawn(&ferl);
    eval(
        &mut erl,
        &format!(
            "[{{{}, {}}} ! {{seq, N}} || N <- lists:seq(1, 10000)], ok",
            q(agent.name),
            q(ferl.name())
        ),
    );
    for i in 1..=10_000i64 {
        assert_eq!(agent.next().await, tuple(vec![atom("seq"), Term::Int(i)]));
    }
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_keep_an_idle_connection_up() {
    let epmd = RealEpmd::start();
    let mut o = BeamOpts::new(BeamKind::Erl, epmd.port);
    o.erl_args = vec!["-kernel".into(), "net_ticktime".into(), "4".into()];
    let mut erl = tokio::task::block_in_place(|| BeamNode::start(o));
    let ferl = ferl_node_with(epmd.port, &erl.opts.cookie, Duration::from_secs(4)).await;
    eval(&mut erl, "net_kernel:monitor_nodes(true)");
    let e = Atom::new(&erl.node);
    assert!(ferl.connect(e).await);
    // Idle for more than twice the tick time.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(ferl.nodes(), vec![e]);
    assert_eq!(eval(&mut erl, "nodes()"), format!("[{}]", ferl.name()));
    assert_eq!(
        eval(&mut erl, "receive {nodedown, N} -> N after 0 -> none end"),
        "none"
    );
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_ferl_node_is_listed_as_hidden() {
    let epmd = RealEpmd::start();
    let mut erl = tokio::task::block_in_place(|| BeamNode::erl(epmd.port));
    let mut o = ferl::StartOptions::new(ferl::NodeName::Short(testkit::unique_name("hidden")));
    o.cookie = Some(erl.opts.cookie.clone());
    o.epmd_port = Some(epmd.port);
    o.hidden = true;
    let ferl = Node::start(o).await.expect("hidden node starts");
    assert_eq!(ferl.ping(erl_atom(&erl)).await, Ping::Pong);
    assert_eq!(eval(&mut erl, "nodes()"), "[]");
    assert_eq!(
        eval(&mut erl, "nodes(hidden)"),
        format!("[{}]", ferl.name())
    );
    assert!(ferl.nodes().is_empty());
    assert_eq!(ferl.nodes_hidden(), vec![erl_atom(&erl)]);
    ferl.stop();
}
