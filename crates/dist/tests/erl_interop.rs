//! Against real `erl` 25 (never skipped): handshakes both ways, wrong cookies both ways, the
//! `alive` rule, a REG_SEND echoed back as SEND_SENDER, ticks with a small net_ticktime, and
//! OTP's own refusal of a peer lacking mandatory flags.

extern crate ferl_dist as dist;

mod common;

use common::{capture_logs, epmd_port_please, ferl_name, setup, wait_log, Endpoint};
use dist::{
    handshake_io, AcceptAll, CloseReason, ControlMessage, Event, HandshakeError, Message,
    SetupError,
};
use etf::{Atom, Pid, Term};
use std::net::SocketAddr;
use std::time::Duration;
use testkit::{BeamKind, BeamNode, BeamOpts, RealEpmd};

const T: Duration = Duration::from_secs(15);

fn erl_addr(epmd: &RealEpmd, erl: &BeamNode) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], epmd_port_please(epmd.port, &erl.opts.name)))
}

fn erl_with(epmd: &RealEpmd, args: &[&str]) -> BeamNode {
    let mut o = BeamOpts::new(BeamKind::Erl, epmd.port);
    o.erl_args = args.iter().map(|s| s.to_string()).collect();
    BeamNode::start(o)
}

fn quoted(node: &Atom) -> String {
    format!("'{}'", node.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferl_dials_erl_and_erl_sees_nodeup() {
    let epmd = RealEpmd::start();
    let mut erl = BeamNode::erl(epmd.port);
    erl.eval_ok("net_kernel:monitor_nodes(true)");
    let ep = Endpoint::start(
        &ferl_name("ferl"),
        &erl.opts.cookie,
        Duration::from_secs(60),
        Some(epmd.port),
    )
    .await;
    let h = tokio::time::timeout(
        T,
        ep.net.connect(Atom::new(&erl.node), erl_addr(&epmd, &erl)),
    )
    .await
    .expect("in time")
    .expect("connected to erl");
    assert_eq!(h.peer().as_str(), erl.node);
    assert!(dist::flags::is_published(h.outcome().flags));
    let up = erl.eval_ok("receive {nodeup, N} -> N after 5000 -> timeout end");
    assert_eq!(up, ep.name.as_str());
    assert_eq!(erl.eval_ok("nodes()"), format!("[{}]", ep.name.as_str()));
    assert_eq!(erl.eval_ok("nodes(hidden)"), "[]", "visible, not hidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erl_dials_ferl() {
    let epmd = RealEpmd::start();
    let mut erl = BeamNode::erl(epmd.port);
    let ep = Endpoint::start(
        &ferl_name("ferl"),
        &erl.opts.cookie,
        Duration::from_secs(60),
        Some(epmd.port),
    )
    .await;
    let name = quoted(&ep.name);
    assert_eq!(
        erl.eval_ok(&format!("net_kernel:connect_node({name})")),
        "true"
    );
    assert_eq!(erl.eval_ok("nodes()"), format!("[{}]", ep.name.as_str()));
    assert_eq!(ep.net.peers(), vec![Atom::new(&erl.node)]);
    let h = ep.net.get(Atom::new(&erl.node)).expect("connection");
    assert_eq!(
        h.outcome().peer_creation.to_string(),
        erl.eval_ok("erlang:system_info(creation)"),
        "erl's creation comes through the handshake"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_cookie_is_refused_both_ways() {
    capture_logs();
    let epmd = RealEpmd::start();
    let mut erl = BeamNode::erl(epmd.port);
    let ep = Endpoint::start(
        &ferl_name("mallory"),
        "NOT_THE_COOKIE",
        Duration::from_secs(60),
        Some(epmd.port),
    )
    .await;
    // ferl -> erl: erl refuses our challenge reply and closes.
    let r = tokio::time::timeout(
        T,
        ep.net.connect(Atom::new(&erl.node), erl_addr(&epmd, &erl)),
    )
    .await
    .expect("in time");
    assert!(r.is_err(), "{r:?}");
    erl.wait_for_log("Invalid challenge reply", T)
        .unwrap_or_else(|e| panic!("erl did not log the refusal: {e}\n{:?}", erl.log()));
    // erl -> ferl: we refuse, with BEAM's line naming erl's node.
    let name = quoted(&ep.name);
    assert_eq!(
        erl.eval_ok(&format!("net_kernel:connect_node({name})")),
        "false"
    );
    let line = format!(
        "** Connection attempt from node :{} rejected. Invalid challenge reply. **",
        erl.node
    );
    assert!(wait_log(&line, T).await.is_some(), "ferl logged: {line}");
    assert_eq!(erl.eval_ok("nodes()"), "[]");
    assert!(ep.net.peers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reg_send_is_echoed_back() {
    let epmd = RealEpmd::start();
    let mut erl = BeamNode::erl(epmd.port);
    erl.eval_ok(
        "register(echo, spawn(fun Loop() -> receive {From, Msg} -> From ! {echo, Msg}, Loop() end end))",
    );
    let mut ep = Endpoint::start(
        &ferl_name("ferl"),
        &erl.opts.cookie,
        Duration::from_secs(60),
        Some(epmd.port),
    )
    .await;
    let h = tokio::time::timeout(
        T,
        ep.net.connect(Atom::new(&erl.node), erl_addr(&epmd, &erl)),
    )
    .await
    .expect("in time")
    .expect("connected");
    let me = Pid::new(ep.name, 42, 0, ep.creation);
    let payload = Term::tuple(vec![Term::Pid(me), Term::atom("hello")]);
    h.send(&Message::new(
        ControlMessage::RegSend {
            from: me,
            to: Atom::new("echo"),
            token: None,
        },
        Some(payload),
    ))
    .expect("send");
    // Skip erl's own traffic (global, rex) until the echo arrives.
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match ep.next_event(left).await {
            Some(Event::Message { message, .. }) => {
                let to = match &message.control {
                    ControlMessage::SendSender { to, .. } | ControlMessage::Send { to, .. } => *to,
                    _ => continue,
                };
                if to != me {
                    continue;
                }
                let p = message.payload.expect("payload");
                let t = p.as_tuple().expect("tuple");
                assert!(t[0].is_atom("echo") && t[1].is_atom("hello"), "{p:?}");
                break;
            }
            Some(Event::Closed { reason, .. }) => panic!("closed: {reason}"),
            Some(Event::Up { .. }) => continue,
            None => panic!("no echo; erl log: {:?}", erl.log()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_survives_small_ticktime() {
    let epmd = RealEpmd::start();
    let mut erl = erl_with(&epmd, &["-kernel", "net_ticktime", "4"]);
    let mut ep = Endpoint::start(
        &ferl_name("tick"),
        &erl.opts.cookie,
        Duration::from_secs(4),
        Some(epmd.port),
    )
    .await;
    let h = tokio::time::timeout(
        T,
        ep.net.connect(Atom::new(&erl.node), erl_addr(&epmd, &erl)),
    )
    .await
    .expect("in time")
    .expect("connected");
    // 2.5 x ticktime of silence from both users: only ticks keep it up.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Some(ev) = ep
        .next_event(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        if let Event::Closed { reason, .. } = ev {
            panic!("connection died: {reason}; erl log {:?}", erl.log());
        }
    }
    assert!(!h.is_closed());
    assert_eq!(erl.eval_ok("nodes()"), format!("[{}]", ep.name.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erl_declares_a_silent_ferl_dead_and_ferl_sees_it() {
    // ferl is configured with a huge ticktime (so it never ticks) against erl's 4 s: erl drops
    // us after ~4 silent slots and we see the close.
    let epmd = RealEpmd::start();
    let erl = erl_with(&epmd, &["-kernel", "net_ticktime", "4"]);
    let mut ep = Endpoint::start(
        &ferl_name("mute"),
        &erl.opts.cookie,
        Duration::from_secs(3600),
        Some(epmd.port),
    )
    .await;
    let _h = ep
        .net
        .connect(Atom::new(&erl.node), erl_addr(&epmd, &erl))
        .await
        .expect("connected");
    let start = tokio::time::Instant::now();
    let deadline = start + Duration::from_secs(12);
    loop {
        match ep
            .next_event(deadline.saturating_duration_since(tokio::time::Instant::now()))
            .await
        {
            Some(Event::Closed { reason, .. }) => {
                assert_eq!(reason, CloseReason::PeerClosed);
                break;
            }
            Some(_) => continue,
            None => panic!("erl did not drop a silent peer"),
        }
    }
    assert!(
        start.elapsed() >= Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alive_replaces_previous_incarnation_at_erl() {
    let epmd = RealEpmd::start();
    let mut erl = BeamNode::erl(epmd.port);
    erl.eval_ok("net_kernel:monitor_nodes(true)");
    let name = ferl_name("phoenix");
    let mut old = Endpoint::start(&name, &erl.opts.cookie, Duration::from_secs(60), None).await;
    let addr = erl_addr(&epmd, &erl);
    let h_old = old
        .net
        .connect(Atom::new(&erl.node), addr)
        .await
        .expect("old connects");
    // A restarted node with the same name: erl answers `alive`, we answer `true`.
    let new = Endpoint::start(&name, &erl.opts.cookie, Duration::from_secs(60), None).await;
    let h_new = tokio::time::timeout(T, new.net.connect(Atom::new(&erl.node), addr))
        .await
        .expect("in time")
        .expect("new incarnation connects");
    loop {
        match old.next_event(T).await {
            Some(Event::Closed { .. }) => break,
            Some(_) => continue,
            None => panic!("old connection not closed"),
        }
    }
    assert!(h_old.is_closed() && !h_new.is_closed());
    // nodeup, nodedown, nodeup as seen by erl. (It failed once in a CI simulation with the
    // last nodeup missing; erl's output, where net_kernel and dist_util report a refused
    // nodeup, is printed with it.)
    let seen = erl.eval_ok("[receive {E, N} -> E after 5000 -> timeout end || _ <- [1,2,3]]");
    assert_eq!(
        seen,
        "[nodeup,nodedown,nodeup]",
        "erl's output:\n{}",
        erl.log().join("\n")
    );
    assert_eq!(erl.eval_ok("nodes()"), format!("[{name}]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_connects_with_erl_end_with_one_connection() {
    let epmd = RealEpmd::start();
    let mut erl = BeamNode::erl(epmd.port);
    let ep = Endpoint::start(
        &ferl_name("race"),
        &erl.opts.cookie,
        Duration::from_secs(60),
        Some(epmd.port),
    )
    .await;
    let addr = erl_addr(&epmd, &erl);
    let name = quoted(&ep.name);
    let net = ep.net.clone();
    let peer = Atom::new(&erl.node);
    let ours = tokio::spawn(async move { net.connect(peer, addr).await });
    let theirs = erl.eval_ok(&format!("net_kernel:connect_node({name})"));
    let h = tokio::time::timeout(T, ours)
        .await
        .expect("in time")
        .expect("join")
        .expect("ours");
    assert_eq!(theirs, "true");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ep.net.peers(), vec![peer]);
    assert!(!h.is_closed() || ep.net.get(peer).is_some());
    assert_eq!(erl.eval_ok("nodes()"), format!("[{}]", ep.name.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erl_refuses_a_peer_lacking_mandatory_flags() {
    let epmd = RealEpmd::start();
    let erl = BeamNode::erl(epmd.port);
    let mut cfg = setup(&ferl_name("old"), &erl.opts.cookie, 5);
    cfg.handshake.flags = dist::flags::MANDATORY_25 & !dist::flags::DFLAG_MAP_TAG;
    let r = handshake_io::connect(
        erl_addr(&epmd, &erl),
        Atom::new(&erl.node),
        &cfg,
        &AcceptAll,
        1,
    )
    .await;
    assert!(
        matches!(r, Err(SetupError::Handshake(HandshakeError::NotAllowed))),
        "{r:?}"
    );
    erl.wait_for_log("cannot handle", T)
        .expect("erl logged the refusal");
}
