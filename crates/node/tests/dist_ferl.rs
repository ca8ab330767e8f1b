//! Two ferl nodes in one test process, over real TCP and a real epmd: the same suite as against
//! erl (ping, lists, disconnect, cookies, sends, remote spawn, monitors, links, UNLINK_ID,
//! auto-connect, order, ticks) plus nodeup/nodedown subscriptions.

mod dist_support;

use dist_support::*;
use ferl::{Atom, MfaFn, Node, Ping, Process, SpawnError, SpawnReplyMode, SpawnRequestOpts, Term};
use std::sync::Arc;
use std::time::Duration;
use testkit::RealEpmd;

async fn pair() -> (RealEpmd, Node, Node) {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let a = ferl_node(epmd.port, &cookie).await;
    let b = ferl_node(epmd.port, &cookie).await;
    (epmd, a, b)
}

/// Runs `body` as a process on `node` and returns its result.
async fn run_in<T, F, Fut>(node: &Node, body: F) -> T
where
    T: Send + 'static,
    F: FnOnce(Process) -> Fut,
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
async fn ping_lists_disconnect_and_cookies() {
    let (epmd, a, b) = pair().await;
    assert_eq!(a.ping(b.name()).await, Ping::Pong);
    assert_eq!(a.nodes(), vec![b.name()]);
    assert!(eventually(|| b.nodes() == vec![a.name()]).await);
    assert_eq!(b.ping(a.name()).await, Ping::Pong);

    let ghost = Atom::new(&format!(
        "ghost_{}@{}",
        std::process::id(),
        testkit::hostname()
    ));
    assert_eq!(a.ping(ghost).await, Ping::Pang);
    assert_eq!(a.nodes(), vec![b.name()]);

    global_settle_ferl(&[&a, &b]).await;
    assert!(a.disconnect(b.name()));
    assert!(eventually(|| a.nodes().is_empty() && b.nodes().is_empty()).await);
    assert!(!a.disconnect(b.name()));
    assert!(b.connect(a.name()).await);
    assert!(eventually(|| a.nodes() == vec![b.name()]).await);
    global_settle_ferl(&[&a, &b]).await;
    assert!(b.disconnect(a.name()));
    assert!(eventually(|| a.nodes().is_empty() && b.nodes().is_empty()).await);

    // Wrong cookie: pang both ways, no connection.
    let mallory = ferl_node(epmd.port, "WRONG").await;
    assert_eq!(mallory.ping(a.name()).await, Ping::Pang);
    assert_eq!(a.ping(mallory.name()).await, Ping::Pang);
    assert!(!mallory.connect(a.name()).await);
    assert!(mallory.nodes().is_empty() && a.nodes().is_empty());
    for n in [a, b, mallory] {
        n.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_auto_connect_and_order_both_ways() {
    let (_epmd, a, b) = pair().await;
    let mut on_a = Agent::spawn(&a);
    let mut on_b = Agent::spawn(&b);
    // Not connected yet: names, in order, behind the auto-connect.
    for i in 1..=5 {
        on_a.send_to(
            on_b.name.as_str(),
            b.name(),
            tuple(vec![atom("q"), Term::Int(i)]),
        );
    }
    for i in 1..=5 {
        assert_eq!(on_b.next().await, tuple(vec![atom("q"), Term::Int(i)]));
    }
    // Pids both ways.
    on_b.send(on_a.pid, atom("to_a_pid"));
    assert_eq!(on_a.next().await, atom("to_a_pid"));
    on_a.send(on_b.pid, atom("to_b_pid"));
    assert_eq!(on_b.next().await, atom("to_b_pid"));
    // 10,000 each way, from one process each.
    for (from, to, sink) in [(&a, &b, &mut on_b), (&b, &a, &mut on_a)] {
        let (dest, node) = (sink.pid, to.name());
        run_in(from, move |p| async move {
            for i in 1..=10_000i64 {
                p.send(dest, tuple(vec![atom("seq"), Term::Int(i)]));
            }
        })
        .await;
        for i in 1..=10_000i64 {
            assert_eq!(sink.next().await, tuple(vec![atom("seq"), Term::Int(i)]));
        }
        let _ = node;
    }
    a.stop();
    b.stop();
}

/// `send_ref` and `send_to_ref`: the same term, kept by the sender, to a remote receiver by pid
/// and by name (first before the connection exists, then over it) and to a local one,
/// interleaved with plain sends: every receiver gets it unchanged and in send order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_ref_delivers_the_kept_term_locally_and_remotely_in_order() {
    let (_epmd, a, b) = pair().await;
    let mut on_a = Agent::spawn(&a);
    let mut on_b = Agent::spawn(&b);
    let (remote, local) = (on_b.pid, on_a.pid);
    let (remote_name, b_node, local_name, a_node) = (on_b.name, b.name(), on_a.name, a.name());
    let notification = |i: i64| {
        tuple(vec![
            atom("notify"),
            Term::Int(i),
            Term::binary(b"alice"),
            Term::map(vec![(atom("k"), Term::list(vec![Term::Int(i)]))]),
        ])
    };
    run_in(&a, move |p| async move {
        for i in 1..=1000i64 {
            let kept = notification(i);
            match i % 3 {
                0 => p.send(remote, kept.clone()),
                1 => p.send_ref(remote, &kept),
                _ => p
                    .send_to_ref(remote_name, b_node, &kept)
                    .expect("remote: never fails"),
            }
            if i % 2 == 0 {
                p.send_ref(local, &kept);
            } else {
                p.send_to_ref(local_name, a_node, &kept)
                    .expect("registered here");
            }
        }
    })
    .await;
    for i in 1..=1000i64 {
        let want = notification(i);
        assert_eq!(on_b.next().await, want);
        assert_eq!(on_a.next().await, want);
    }
    a.stop();
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_mixing_names_pids_unknown_names_and_exits_keeps_its_order() {
    // Sent in one burst (queued behind the auto-connect, then written together), so the
    // receiving node gets them in large batches: runs to one process, broken by sends to
    // another, to a name nobody holds, and by an exit signal, which must keep its place.
    let (_epmd, a, b) = pair().await;
    let mut on_b = Agent::spawn(&b);
    let mut other = Agent::spawn(&b);
    let (name, pid, other_pid, node) = (on_b.name, on_b.pid, other.pid, b.name());
    let nobody = Atom::new(&format!("nobody_{}", std::process::id()));
    let msg = |tag: &str, i: i64| tuple(vec![atom(tag), Term::Int(i)]);
    let (mut want, mut want_other) = (Vec::new(), Vec::new());
    for i in 0..600i64 {
        match i % 4 {
            0 => want.push(msg("by_name", i)),
            1 => want.push(msg("by_pid", i)),
            2 => {}
            _ => want_other.push(msg("other", i)),
        }
    }
    let sender = run_in(&a, move |p| async move {
        for i in 0..600i64 {
            match i % 4 {
                0 => p.send_to(name, node, msg("by_name", i)).expect("remote"),
                1 => p.send(pid, msg("by_pid", i)),
                2 => p.send_to(nobody, node, msg("lost", i)).expect("remote"),
                _ => p.send(other_pid, msg("other", i)),
            }
            if i == 301 {
                p.exit(pid, atom("halfway"));
            }
        }
        p.pid()
    })
    .await;
    let exit = tuple(vec![atom("EXIT"), Term::Pid(sender), atom("halfway")]);
    want.insert(
        want.iter().position(|m| *m == msg("by_pid", 301)).unwrap() + 1,
        exit,
    );
    for w in want {
        assert_eq!(on_b.next().await, w);
    }
    for w in want_other {
        assert_eq!(other.next().await, w);
    }
    a.stop();
    b.stop();
}

/// Includes `spawn_request` to the node itself, which BEAM allows too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_spawn_both_ways() {
    let (_epmd, a, b) = pair().await;
    let reply: MfaFn = Arc::new(|p, args| {
        Box::pin(async move {
            if let [Term::Pid(to), what] = args.as_slice() {
                p.send(*to, tuple(vec![atom("ran"), what.clone()]));
            }
            Ok(Term::nil())
        })
    });
    for n in [&a, &b] {
        n.register_fn(Atom::new("ferl_test"), Atom::new("reply"), 2, reply.clone());
    }
    for (from, to) in [(&a, &b), (&b, &a), (&a, &a)] {
        let target = to.name();
        let (pid, got) = run_in(from, move |mut p| async move {
            let args = vec![Term::Pid(p.pid()), atom("x")];
            let pid = p
                .spawn_remote(target, Atom::new("ferl_test"), Atom::new("reply"), args)
                .await
                .expect("spawned");
            (pid, p.receive_timeout(WAIT).await)
        })
        .await;
        assert_eq!(pid.node, to.name());
        assert_eq!(got, Some(tuple(vec![atom("ran"), atom("x")])));
    }
    // Monitor + link: Greet.say exits normal; an unknown MFA exits undef.
    let target = b.name();
    let (normal, undef, exit) = run_in(&a, move |mut p| async move {
        p.trap_exit(true);
        let opts = SpawnRequestOpts {
            link: true,
            monitor: true,
            ..SpawnRequestOpts::default()
        };
        let say = vec![Term::binary(b"x")];
        let (pid, r) = p
            .spawn_remote_opts(
                target,
                Atom::new("Elixir.Greet"),
                Atom::new("say"),
                say,
                opts,
            )
            .await
            .expect("spawned");
        let normal = p.receive_timeout(WAIT).await;
        let exit = p.receive_timeout(WAIT).await;
        let (_, r2) = p
            .spawn_remote_opts(target, Atom::new("nomod"), Atom::new("nofun"), vec![], opts)
            .await
            .expect("spawned");
        let undef = p.receive_match(|m| down_reason(m, r2), Some(WAIT)).await;
        let _ = (pid, r);
        (normal, undef, exit)
    })
    .await;
    let all = [
        normal.clone().unwrap_or(Term::nil()),
        exit.unwrap_or(Term::nil()),
    ];
    assert!(
        all.iter().any(|m| m
            .as_tuple()
            .is_some_and(|t| t[0].is_atom("DOWN") && t[4].is_atom("normal"))),
        "{all:?}"
    );
    assert!(
        all.iter().any(|m| m
            .as_tuple()
            .is_some_and(|t| t[0].is_atom("EXIT") && t[2].is_atom("normal"))),
        "{all:?}"
    );
    assert_eq!(
        undef,
        Some(tuple(vec![
            Term::Atom(Atom::UNDEF),
            Term::list(vec![tuple(vec![
                atom("nomod"),
                atom("nofun"),
                Term::nil(),
                Term::nil()
            ])])
        ]))
    );
    // A node that is not there: the spawn fails with noconnection.
    let ghost = Atom::new(&format!(
        "ghost_{}@{}",
        std::process::id(),
        testkit::hostname()
    ));
    let r = run_in(&a, move |mut p| async move {
        p.spawn_remote(ghost, Atom::new("m"), Atom::new("f"), vec![])
            .await
    })
    .await;
    assert_eq!(r, Err(SpawnError::Remote(Atom::NOCONNECTION)));
    a.stop();
    b.stop();
}

fn down_reason(m: &Term, r: ferl::Ref) -> Option<Term> {
    match m.as_tuple() {
        Some([t, Term::Ref(mr), _, _, why]) if t.is_atom("DOWN") && *mr == r => Some(why.clone()),
        _ => None,
    }
}

/// `{reply, Mode}` of spawn_request: the requester's node holds back the replies not asked for
/// (`error_only` is what erpc uses: the outcome comes in the DOWN), on the wire and locally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_request_reply_modes() {
    let (_epmd, a, b) = pair().await;
    let ghost = Atom::new(&format!(
        "ghost_{}@{}",
        std::process::id(),
        testkit::hostname()
    ));
    for target in [b.name(), a.name()] {
        let seen = run_in(&a, move |mut p| async move {
            let mut seen = Vec::new();
            for reply in [
                SpawnReplyMode::Yes,
                SpawnReplyMode::No,
                SpawnReplyMode::ErrorOnly,
                SpawnReplyMode::SuccessOnly,
            ] {
                let opts = SpawnRequestOpts {
                    monitor: true,
                    reply,
                    ..SpawnRequestOpts::default()
                };
                let say = vec![Term::binary(b"x")];
                let (m, f) = (Atom::new("Elixir.Greet"), Atom::new("say"));
                let ok = p.spawn_request(target, m, f, say.clone(), opts);
                // The DOWN comes in any mode; a wanted spawn_reply comes before it.
                let first = p.receive_timeout(WAIT).await.expect("a message");
                let got_reply = first
                    .as_tuple()
                    .is_some_and(|t| t[0].is_atom("spawn_reply"));
                if got_reply {
                    assert_eq!(first.as_tuple().map(|t| t[1].clone()), Some(Term::Ref(ok)));
                    let down = p.receive_match(|m| down_reason(m, ok), Some(WAIT)).await;
                    assert!(down.is_some(), "{reply:?}: DOWN after the reply");
                } else {
                    assert_eq!(down_reason(&first, ok), Some(atom("normal")), "{reply:?}");
                }
                let err = p.spawn_request(ghost, m, f, say, opts);
                let failed = p
                    .receive_match(
                        |m| match m.as_tuple() {
                            Some([t, Term::Ref(r), e, _])
                                if *r == err && t.is_atom("spawn_reply") =>
                            {
                                Some(e.is_atom("error"))
                            }
                            _ => None,
                        },
                        Some(Duration::from_secs(3)),
                    )
                    .await;
                seen.push((reply, got_reply, failed == Some(true)));
            }
            seen
        })
        .await;
        use SpawnReplyMode::*;
        assert_eq!(
            seen,
            vec![
                (Yes, true, true),
                (No, false, false),
                (ErrorOnly, false, true),
                (SuccessOnly, true, false)
            ],
            "spawning on {target}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitors_links_and_noconnection() {
    let (_epmd, a, b) = pair().await;
    let mut w = Agent::spawn(&a);
    let bn = b.name();

    // Normal exit, crash, panic, kill.
    for (how, want) in [
        ("normal", atom("normal")),
        ("crash", atom("boom")),
        (
            "panic",
            tuple(vec![atom("panic"), Term::binary(b"agent told to panic")]),
        ),
        ("kill", atom("killed")),
    ] {
        let mut t = Agent::spawn(&b);
        let r = w.monitor(t.pid).await;
        w.link(t.pid);
        // A round trip through t proves the monitor and link arrived first.
        w.send(t.pid, atom("sync"));
        assert_eq!(t.next().await, atom("sync"));
        match how {
            "normal" => t.exit(atom("normal")),
            "crash" => t.exit(atom("boom")),
            "panic" => t.panic(),
            _ => w.exit_other(t.pid, atom("kill")),
        }
        let mut got = [w.next().await, w.next().await];
        got.sort_by_key(|m| m.as_tuple().map(|t| t[0].is_atom("EXIT")));
        assert_eq!(down(&got[0]), (r, Term::Pid(t.pid), want.clone()), "{how}");
        assert_eq!(exit(&got[1]), (t.pid, want), "{how}");
    }
    // noproc: a dead pid, a missing name.
    let t = Agent::spawn(&b);
    t.exit(atom("normal"));
    assert!(eventually(|| !b.is_alive(t.pid)).await);
    let r = w.monitor(t.pid).await;
    assert_eq!(down(&w.next().await), (r, Term::Pid(t.pid), atom("noproc")));
    let r = w.monitor_name("nobody", bn).await;
    let item = tuple(vec![atom("nobody"), Term::Atom(bn)]);
    assert_eq!(down(&w.next().await), (r, item, atom("noproc")));
    // A name there, and its exit.
    let mut t = Agent::spawn(&b);
    let r = w.monitor_name(t.name.as_str(), bn).await;
    w.send(t.pid, atom("sync"));
    assert_eq!(t.next().await, atom("sync"));
    t.exit(atom("bye"));
    let item = tuple(vec![Term::Atom(t.name), Term::Atom(bn)]);
    assert_eq!(down(&w.next().await), (r, item, atom("bye")));

    // UNLINK_ID: link then unlink, then the other side crashes: no EXIT.
    let mut t = Agent::spawn(&b);
    w.link(t.pid);
    w.unlink(t.pid);
    w.send(t.pid, atom("sync"));
    assert_eq!(t.next().await, atom("sync"));
    t.exit(atom("after_unlink"));
    assert!(eventually(|| !b.is_alive(t.pid)).await);
    w.expect_nothing(Duration::from_millis(500)).await;

    // The other way round, b watches a, then a stops: noconnection on b's side.
    let mut wb = Agent::spawn(&b);
    let mut t = Agent::spawn(&a);
    let r = wb.monitor(t.pid).await;
    wb.link(t.pid);
    wb.monitor_node(a.name());
    wb.send(t.pid, atom("sync"));
    assert_eq!(t.next().await, atom("sync"));
    // And a watches b too.
    let mut tb = Agent::spawn(&b);
    let ra = w.monitor(tb.pid).await;
    w.link(tb.pid);
    w.send(tb.pid, atom("sync"));
    assert_eq!(tb.next().await, atom("sync"));
    a.stop();
    let mut got = [wb.next().await, wb.next().await, wb.next().await];
    got.sort_by_key(|m| m.as_tuple().map(|t| t[0].as_atom().map(|a| a.as_str())));
    assert_eq!(down(&got[0]), (r, Term::Pid(t.pid), atom("noconnection")));
    assert_eq!(exit(&got[1]), (t.pid, atom("noconnection")));
    assert_eq!(got[2], tuple(vec![atom("nodedown"), Term::Atom(a.name())]));
    let mut got = [w.next().await, w.next().await];
    got.sort_by_key(|m| m.as_tuple().map(|t| t[0].is_atom("EXIT")));
    assert_eq!(down(&got[0]), (ra, Term::Pid(tb.pid), atom("noconnection")));
    assert_eq!(exit(&got[1]), (tb.pid, atom("noconnection")));
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodeup_nodedown_and_ticks() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let tick = Duration::from_secs(1);
    let a = ferl_node_with(epmd.port, &cookie, tick).await;
    let b = ferl_node_with(epmd.port, &cookie, tick).await;
    let mut wa = Agent::spawn(&a);
    let mut wb = Agent::spawn(&b);
    a.monitor_nodes(wa.pid, true);
    b.monitor_nodes(wb.pid, true);
    // The first signal over a new connection arrives after its nodeup (as monitor_nodes
    // promises): wb subscribed and is the receiver of the message that makes the connection.
    wa.send_to(wb.name.as_str(), b.name(), atom("first"));
    assert_eq!(
        wb.next().await,
        tuple(vec![atom("nodeup"), Term::Atom(a.name())])
    );
    assert_eq!(wb.next().await, atom("first"));
    assert_eq!(
        wa.next().await,
        tuple(vec![atom("nodeup"), Term::Atom(b.name())])
    );
    assert!(a.connect(b.name()).await);
    // Idle for three tick times: the ticks keep it up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(a.nodes(), vec![b.name()]);
    assert_eq!(b.nodes(), vec![a.name()]);
    wa.expect_nothing(Duration::ZERO).await;
    // And nodedown comes after everything the connection delivered.
    wa.send(wb.pid, atom("last"));
    assert_eq!(wb.next().await, atom("last"));
    // nodedown comes after everything the connection delivered: a burst cut short by the
    // disconnect arrives as an in-order prefix, then nodedown, then nothing.
    let (dest, from_node) = (wb.pid, a.clone());
    run_in(&from_node, move |p| async move {
        for i in 1..=2000i64 {
            p.send(dest, Term::Int(i));
        }
    })
    .await;
    assert!(a.disconnect(b.name()));
    let mut next = 1;
    loop {
        let m = wb.next().await;
        if m == tuple(vec![atom("nodedown"), Term::Atom(a.name())]) {
            break;
        }
        assert_eq!(m, Term::Int(next), "in order, no gaps");
        next += 1;
    }
    wb.expect_nothing(Duration::from_millis(300)).await;
    assert_eq!(
        wa.next().await,
        tuple(vec![atom("nodedown"), Term::Atom(b.name())])
    );
    a.stop();
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_and_monitors_to_an_unreachable_node_get_noconnection() {
    let epmd = RealEpmd::start();
    let a = ferl_node(epmd.port, &testkit::unique_cookie()).await;
    let ghost = Atom::new(&format!(
        "ghost_{}@{}",
        std::process::id(),
        testkit::hostname()
    ));
    let far = ferl::Pid::new(ghost, 42, 0, 7);
    let mut w = Agent::spawn(&a);
    w.link(far);
    let r = w.monitor(far).await;
    w.monitor_node(ghost);
    let mut got = [w.next().await, w.next().await, w.next().await];
    got.sort_by_key(|m| m.as_tuple().map(|t| t[0].as_atom().map(|a| a.as_str())));
    assert_eq!(down(&got[0]), (r, Term::Pid(far), atom("noconnection")));
    assert_eq!(exit(&got[1]), (far, atom("noconnection")));
    assert_eq!(got[2], tuple(vec![atom("nodedown"), Term::Atom(ghost)]));
    assert!(a.nodes().is_empty());
    a.stop();
}

/// Sends from one thread (a current-thread runtime, so every send below runs on it, and the
/// thread's remembered route is made and used): after a disconnect they reach the peer over a
/// new connection, and a second node's sends to the same peer go over a connection of its own.
#[tokio::test(flavor = "current_thread")]
async fn sends_from_one_thread_take_each_nodes_current_connection() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let (a, b, c) = (
        ferl_node(epmd.port, &cookie).await,
        ferl_node(epmd.port, &cookie).await,
        ferl_node(epmd.port, &cookie).await,
    );
    let mut on_c = Agent::spawn(&c);
    let (name, c_node) = (on_c.name, c.name());
    let mut next = 0;
    // Three sends from `from` to the agent on c, each awaited: the first may dial, the others
    // go over the live connection (the second makes the route, the third takes it).
    let mut three = async |from: &Node, on_c: &mut Agent| {
        for _ in 0..3 {
            let msg = tuple(vec![atom("n"), Term::Int(next)]);
            next += 1;
            from.send_to(name, c_node, msg.clone())
                .expect("a remote send never fails here");
            assert_eq!(on_c.next().await, msg);
        }
    };
    three(&a, &mut on_c).await;
    // The connection goes, and at once (before anything else runs on this thread and takes
    // its remembered route elsewhere) the next sends: they dial c again and arrive.
    assert!(a.disconnect(c.name()));
    three(&a, &mut on_c).await;
    // Another node on the same thread: over its own connection, not a's.
    three(&b, &mut on_c).await;
    assert!(
        b.nodes().contains(&c_node),
        "b sent over a connection of its own"
    );
    for n in [a, b, c] {
        n.stop();
    }
}
