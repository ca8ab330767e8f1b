//! ferl-to-ferl over loopback: handshake and messages, duplicate and simultaneous connects,
//! `alive` replacement, wrong cookies, a silent peer, and peers sending bad packets.

extern crate ferl_dist as dist;

mod common;

use common::{capture_logs, ferl_name, setup, wait_log, Endpoint};
use dist::handshake_io::{self, connect_stream};
use dist::{
    AcceptAll, CloseReason, ControlError, ControlMessage, Event, FrameError, HandshakeError,
    HeaderError, Malformed, Message, NetError, SetupError,
};
use etf::{Atom, Pid, Term};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(10);

fn pid(node: Atom, creation: u32, id: u32) -> Pid {
    Pid::new(node, id, 0, creation)
}

async fn expect_message(ep: &mut Endpoint) -> (Atom, Message) {
    match ep.next_event(T).await {
        Some(Event::Message { peer, message, .. }) => (peer, message),
        Some(other) => panic!("{}: expected a message, got {other:?}", ep.name),
        None => panic!("{}: no message", ep.name),
    }
}

async fn expect_closed(ep: &mut Endpoint, limit: Duration) -> (Atom, CloseReason) {
    loop {
        match ep.next_event(limit).await {
            Some(Event::Closed { peer, reason, .. }) => return (peer, reason),
            Some(_) => continue,
            None => panic!("{}: no close within {limit:?}", ep.name),
        }
    }
}

fn send_to(from: &Endpoint, to: Pid, msg: Term) -> Message {
    let _ = from;
    Message::new(ControlMessage::Send { to, token: None }, Some(msg))
}

#[tokio::test]
async fn handshake_and_messages_both_ways() {
    let cookie = testkit::unique_cookie();
    let mut a = Endpoint::start(&ferl_name("a"), &cookie, Duration::from_secs(60), None).await;
    let mut b = Endpoint::start(&ferl_name("b"), &cookie, Duration::from_secs(60), None).await;
    let h = tokio::time::timeout(T, a.net.connect(b.name, b.addr))
        .await
        .expect("in time")
        .expect("connected");
    assert_eq!(h.peer(), b.name);
    assert!(dist::flags::is_published(h.outcome().flags));
    assert_eq!(h.outcome().peer_creation, b.creation);
    // Duplicate connect returns the same connection.
    let again = a.net.connect(b.name, b.addr).await.expect("again");
    assert_eq!(again.id(), h.id());

    let to_b = pid(b.name, b.creation, 1);
    for i in 0..100 {
        h.send(&send_to(&a, to_b, Term::Int(i))).expect("send");
    }
    // Each side's first event of the connection is Up, before any message of it (the owner
    // announces nodeup there: nodeup precedes the first signal).
    let (a_name, b_name) = (a.name, b.name);
    match tokio::time::timeout(T, a.events.recv()).await {
        Ok(Some(Event::Up { peer, conn })) => assert_eq!((peer, conn), (b_name, h.id())),
        other => panic!("a: expected Up first, got {other:?}"),
    }
    match tokio::time::timeout(T, b.events.recv()).await {
        Ok(Some(Event::Up { peer, .. })) => assert_eq!(peer, a_name),
        other => panic!("b: expected Up first, got {other:?}"),
    }
    for i in 0..100 {
        let (peer, m) = expect_message(&mut b).await;
        assert_eq!(peer, a.name);
        assert_eq!(
            m.control,
            ControlMessage::Send {
                to: to_b,
                token: None
            }
        );
        assert_eq!(m.payload.and_then(|p| p.as_int()), Some(i), "order kept");
    }
    // And back, on the table's connection of b.
    let hb = b.net.get(a.name).expect("b has the connection");
    let to_a = pid(a.name, a.creation, 7);
    hb.send(&Message::new(
        ControlMessage::RegSend {
            from: to_b,
            to: Atom::new("someone"),
            token: None,
        },
        Some(Term::atom("hi")),
    ))
    .expect("send back");
    let (_, m) = expect_message(&mut a).await;
    assert!(matches!(m.control, ControlMessage::RegSend { .. }));
    let _ = to_a;
    // Closing on one side is seen on both, once.
    h.close();
    assert_eq!(expect_closed(&mut a, T).await.1, CloseReason::ClosedByUs);
    assert_eq!(expect_closed(&mut b, T).await.1, CloseReason::PeerClosed);
    assert!(a.net.get(b.name).is_none());
}

#[tokio::test]
async fn simultaneous_connect_gives_one_connection() {
    capture_logs();
    let cookie = testkit::unique_cookie();
    for round in 0..5 {
        let mut a = Endpoint::start(&ferl_name("sa"), &cookie, Duration::from_secs(60), None).await;
        let mut b = Endpoint::start(&ferl_name("sb"), &cookie, Duration::from_secs(60), None).await;
        let (ra, rb) = tokio::join!(
            tokio::time::timeout(T, a.net.connect(b.name, b.addr)),
            tokio::time::timeout(T, b.net.connect(a.name, a.addr)),
        );
        let ha = ra.expect("a in time").expect("a connected");
        let hb = rb.expect("b in time").expect("b connected");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(a.net.peers(), vec![b.name], "round {round}");
        assert_eq!(b.net.peers(), vec![a.name], "round {round}");
        assert!(!ha.is_closed() && !hb.is_closed(), "round {round}");
        // Both usable: a message each way arrives.
        ha.send(&send_to(&a, pid(b.name, b.creation, 1), Term::atom("x")))
            .expect("a sends");
        hb.send(&send_to(&b, pid(a.name, a.creation, 1), Term::atom("y")))
            .expect("b sends");
        let (_, m) = expect_message(&mut b).await;
        assert!(m.payload.expect("payload").is_atom("x"));
        let (_, m) = expect_message(&mut a).await;
        assert!(m.payload.expect("payload").is_atom("y"));
        // No connection was closed on either side.
        assert!(a.try_event().is_none());
        assert!(b.try_event().is_none());
    }
    // The race really happened (both rules were applied at least once).
    assert!(wait_log("(nok)", T).await.is_some());
    assert!(wait_log("(ok_simultaneous)", T).await.is_some());
}

#[tokio::test]
async fn alive_replaces_a_previous_incarnation() {
    let cookie = testkit::unique_cookie();
    let name = ferl_name("inc");
    let mut b = Endpoint::start(&ferl_name("hub"), &cookie, Duration::from_secs(60), None).await;
    let mut old = Endpoint::start(&name, &cookie, Duration::from_secs(60), None).await;
    let h_old = old.net.connect(b.name, b.addr).await.expect("old connects");
    // The same node name comes back (a restart): b answers `alive`, the newcomer says `true`.
    let new = Endpoint::start(&name, &cookie, Duration::from_secs(60), None).await;
    let h_new = tokio::time::timeout(T, new.net.connect(b.name, b.addr))
        .await
        .expect("in time")
        .expect("new incarnation connects");
    assert_eq!(expect_closed(&mut old, T).await.1, CloseReason::PeerClosed);
    assert!(h_old.is_closed());
    let (peer, reason) = expect_closed(&mut b, T).await;
    assert_eq!(
        (peer.as_str(), reason),
        (name.as_str(), CloseReason::ClosedByUs)
    );
    h_new
        .send(&send_to(&new, pid(b.name, b.creation, 1), Term::Int(1)))
        .expect("send");
    assert_eq!(expect_message(&mut b).await.0.as_str(), name);
    assert_eq!(b.net.peers().len(), 1);
}

#[tokio::test]
async fn alive_false_keeps_the_old_connection() {
    // An initiator that still has a live connection answers `false`: modelled with a policy
    // that says our dial is not pending.
    struct NotPending;
    impl dist::AcceptPolicy for NotPending {
        fn accept_pending(&self, _: Atom, _: u64) -> dist::AcceptDecision {
            dist::AcceptDecision::Ok
        }
        fn still_pending(&self, _: Atom, _: u64) -> bool {
            false
        }
    }
    let cookie = testkit::unique_cookie();
    let name = ferl_name("keep");
    let mut b = Endpoint::start(&ferl_name("hub"), &cookie, Duration::from_secs(60), None).await;
    let old = Endpoint::start(&name, &cookie, Duration::from_secs(60), None).await;
    let _h = old.net.connect(b.name, b.addr).await.expect("old connects");
    let r = handshake_io::connect(b.addr, b.name, &setup(&name, &cookie, 9), &NotPending, 1).await;
    assert!(matches!(
        r,
        Err(SetupError::Handshake(HandshakeError::AliveDeclined))
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(b.try_event().is_none(), "b kept its connection");
    assert_eq!(b.net.peers(), vec![Atom::new(&name)]);
}

#[tokio::test]
async fn wrong_cookie_is_refused_both_ways_and_logged() {
    capture_logs();
    let mallory = ferl_name("mallory");
    let b = Endpoint::start(&ferl_name("bob"), "RIGHT", Duration::from_secs(60), None).await;
    let m = Endpoint::start(&mallory, "WRONG", Duration::from_secs(60), None).await;
    let r = tokio::time::timeout(T, m.net.connect(b.name, b.addr))
        .await
        .expect("in time");
    assert!(
        matches!(r, Err(NetError::Setup(SetupError::PeerClosed))),
        "{r:?}"
    );
    let line =
        format!("** Connection attempt from node :{mallory} rejected. Invalid challenge reply. **");
    assert!(wait_log(&line, T).await.is_some(), "logged: {line}");
    assert!(b.net.peers().is_empty() && m.net.peers().is_empty());
    // The other way: the acceptor has the wrong cookie, so our initiator sees a bad ack...
    // no: the acceptor refuses our reply first. Either way nothing connects.
    let r = tokio::time::timeout(T, b.net.connect(m.name, m.addr))
        .await
        .expect("in time");
    assert!(r.is_err());
    let line = format!(
        "** Connection attempt from node :{} rejected. Invalid challenge reply. **",
        b.name
    );
    assert!(wait_log(&line, T).await.is_some(), "logged: {line}");
}

/// Completes a handshake to `ep` as a fake peer and returns the raw socket.
async fn fake_peer(ep: &Endpoint, name: &str, cookie: &str) -> TcpStream {
    let s = TcpStream::connect(ep.addr).await.expect("dial");
    let est = connect_stream(s, ep.name, &setup(name, cookie, 3), &AcceptAll, 1)
        .await
        .expect("fake handshake");
    est.stream
}

#[tokio::test]
async fn silent_peer_is_declared_dead() {
    let cookie = testkit::unique_cookie();
    let mut ep = Endpoint::start(&ferl_name("tick"), &cookie, Duration::from_secs(1), None).await;
    let _silent = fake_peer(&ep, &ferl_name("silent"), &cookie).await;
    let start = tokio::time::Instant::now();
    let (_, reason) = expect_closed(&mut ep, Duration::from_secs(5)).await;
    assert_eq!(reason, CloseReason::NetTickTimeout);
    let took = start.elapsed();
    // Four silent slots of 250 ms (plus up to one slot of phase).
    assert!(
        took >= Duration::from_millis(900) && took <= Duration::from_millis(1800),
        "{took:?}"
    );
}

#[tokio::test]
async fn idle_connection_survives_on_ticks() {
    let cookie = testkit::unique_cookie();
    let mut a = Endpoint::start(&ferl_name("ia"), &cookie, Duration::from_secs(1), None).await;
    let mut b = Endpoint::start(&ferl_name("ib"), &cookie, Duration::from_secs(1), None).await;
    let h = a.net.connect(b.name, b.addr).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert!(!h.is_closed());
    assert!(a.try_event().is_none() && b.try_event().is_none());
}

async fn bad_peer_closed_with(bytes: Vec<u8>, want: fn(&CloseReason) -> bool) {
    let cookie = testkit::unique_cookie();
    let mut ep =
        Endpoint::start(&ferl_name("victim"), &cookie, Duration::from_secs(60), None).await;
    // A well-behaved peer first, to check it is unaffected.
    let good = Endpoint::start(&ferl_name("good"), &cookie, Duration::from_secs(60), None).await;
    let hg = good
        .net
        .connect(ep.name, ep.addr)
        .await
        .expect("good connects");
    let bad_name = ferl_name("bad");
    let mut bad = fake_peer(&ep, &bad_name, &cookie).await;
    bad.write_all(&bytes).await.expect("write");
    let (peer, reason) = expect_closed(&mut ep, T).await;
    assert_eq!(peer.as_str(), bad_name);
    assert!(want(&reason), "{reason:?}");
    hg.send(&send_to(
        &good,
        pid(ep.name, ep.creation, 1),
        Term::atom("still"),
    ))
    .expect("good sends");
    let (peer, m) = expect_message(&mut ep).await;
    assert_eq!(peer, good.name);
    assert!(m.payload.expect("payload").is_atom("still"));
    assert_eq!(ep.net.peers(), vec![good.name]);
}

#[tokio::test]
async fn malformed_frame_closes_only_that_connection() {
    bad_peer_closed_with(vec![0, 0, 0, 3, 112, 131, 255], |r| {
        matches!(
            r,
            CloseReason::Malformed(Malformed::Control(ControlError::Term(_)))
        )
    })
    .await;
}

#[tokio::test]
async fn unknown_control_tag_closes_only_that_connection() {
    let mut b = bytes::BytesMut::new();
    etf::encode_dist_to(&Term::tuple(vec![Term::Int(99)]), &mut b);
    let mut pkt = ((b.len() + 1) as u32).to_be_bytes().to_vec();
    pkt.push(112);
    pkt.extend_from_slice(&b);
    bad_peer_closed_with(pkt, |r| {
        matches!(
            r,
            CloseReason::Malformed(Malformed::Control(ControlError::UnknownTag(99)))
        )
    })
    .await;
}

#[tokio::test]
async fn fragmented_header_closes_only_that_connection() {
    bad_peer_closed_with(vec![0, 0, 0, 3, 131, 69, 0], |r| {
        matches!(
            r,
            CloseReason::Malformed(Malformed::Frame(FrameError::DistHeader(69)))
        )
    })
    .await;
}

#[tokio::test]
async fn atom_cache_reference_to_an_empty_slot_closes_only_that_connection() {
    // One reference, not new, segment 0, slot 5: nothing ever filled it.
    bad_peer_closed_with(vec![0, 0, 0, 5, 131, 68, 1, 0x00, 5], |r| {
        matches!(
            r,
            CloseReason::Malformed(Malformed::Control(ControlError::Header(
                HeaderError::EmptySlot { index: 0, slot: 5 }
            )))
        )
    })
    .await;
}

/// SEND `{2, '', To}` + payload after a distribution header, To's node and the payload atom
/// as ATOM_CACHE_REFs 0 and 1; `new` puts them in slots 3 (segment 0) and 4 (segment 1).
fn header_send(ep: &Endpoint, new: bool) -> Vec<u8> {
    let node = ep.name.as_str().as_bytes();
    let mut p = vec![131, 68, 2];
    let n = if new { 8 } else { 0 };
    p.extend([n | ((n | 1) << 4), 0]);
    p.push(3);
    if new {
        p.push(node.len() as u8);
        p.extend(node);
    }
    p.push(4);
    if new {
        p.extend([5, b'h', b'e', b'l', b'l', b'o']);
    }
    p.extend([104, 3, 97, 2, 119, 0, 88, 82, 0]);
    p.extend(1u32.to_be_bytes());
    p.extend(0u32.to_be_bytes());
    p.extend(ep.creation.to_be_bytes());
    p.extend([82, 1]);
    let mut frame = (p.len() as u32).to_be_bytes().to_vec();
    frame.extend(p);
    frame
}

#[tokio::test]
async fn distribution_header_atom_cache_entries_are_kept_per_connection() {
    let cookie = testkit::unique_cookie();
    let mut ep =
        Endpoint::start(&ferl_name("cached"), &cookie, Duration::from_secs(60), None).await;
    let mut peer = fake_peer(&ep, &ferl_name("cacher"), &cookie).await;
    // First the entries are new, then the same slots are referenced from the cache.
    let mut bytes = header_send(&ep, true);
    bytes.extend(header_send(&ep, false));
    peer.write_all(&bytes).await.expect("write");
    for _ in 0..2 {
        let (_, m) = expect_message(&mut ep).await;
        assert_eq!(
            m.control,
            ControlMessage::Send {
                to: pid(ep.name, ep.creation, 1),
                token: None
            }
        );
        assert!(m.payload.expect("payload").is_atom("hello"));
    }
}

#[tokio::test]
async fn oversized_packet_closes_only_that_connection() {
    // Default limit 64 MiB: announce 1 GiB; nothing more needs to be sent.
    bad_peer_closed_with(
        vec![0x40, 0, 0, 0, 112],
        |r| matches!(r, CloseReason::Oversized { len, .. } if *len == 1 << 30),
    )
    .await;
}

#[tokio::test]
async fn setup_timeout_applies_per_step() {
    use dist::{AcceptDecision, Acceptor, Step};
    use tokio::io::AsyncReadExt;
    let cookie = testkit::unique_cookie();
    let mut cfg = setup(&ferl_name("slowi"), &cookie, 4);
    cfg.setup_timeout = Duration::from_millis(400);

    // A silent acceptor: the initiator gives up after one step's timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hold = tokio::spawn(async move { listener.accept().await.map(|(s, _)| s) });
    let start = tokio::time::Instant::now();
    let r = handshake_io::connect(addr, Atom::new("x@h"), &cfg, &AcceptAll, 1).await;
    assert!(matches!(r, Err(SetupError::Timeout(_))), "{r:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
    drop(hold);

    // A silent initiator: the acceptor gives up too.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _silent = TcpStream::connect(addr).await.expect("dial");
    let (s, _) = listener.accept().await.expect("accept");
    let r = handshake_io::accept(s, &cfg, &AcceptAll, 1).await;
    assert!(matches!(r, Err(SetupError::Timeout(_))), "{r:?}");

    // A slow acceptor (300 ms per step, 900 ms in all) is fine: the timer restarts per step.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acc_cfg = setup("slowa@h", &cookie, 5).handshake;
    let slow = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut a = Acceptor::new(acc_cfg, 77);
        let mut buf = [0u8; 1024];
        loop {
            match a.poll().expect("acceptor step") {
                Step::NeedMore => {
                    let n = s.read(&mut buf).await.expect("read");
                    assert!(n > 0);
                    a.feed(&buf[..n]);
                }
                Step::Decide { .. } => {
                    a.decide(AcceptDecision::Ok).expect("ok");
                    // Status and challenge, each late.
                    let out = a.take_output();
                    let (status, challenge) = out.split_at(2 + out[1] as usize);
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    s.write_all(status).await.expect("w");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    s.write_all(challenge).await.expect("w");
                }
                Step::Done(_) => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    s.write_all(&a.take_output()).await.expect("w");
                    return s;
                }
                Step::AliveQuestion { .. } => unreachable!(),
            }
        }
    });
    let est = handshake_io::connect(addr, Atom::new("slowa@h"), &cfg, &AcceptAll, 1)
        .await
        .expect("slow but steady handshake completes");
    assert_eq!(est.outcome.peer.as_str(), "slowa@h");
    let _ = slow.await;
}

#[tokio::test]
async fn frames_sent_with_the_ack_are_not_lost() {
    use dist::{AcceptDecision, Acceptor, Step};
    use tokio::io::AsyncReadExt;
    let cookie = testkit::unique_cookie();
    let mut ep = Endpoint::start(&ferl_name("eager"), &cookie, Duration::from_secs(60), None).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer_name = ferl_name("fast");
    let acc_cfg = setup(&peer_name, &cookie, 5).handshake;
    let to = pid(ep.name, ep.creation, 3);
    let fake = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut a = Acceptor::new(acc_cfg, 77);
        let mut buf = [0u8; 1024];
        loop {
            match a.poll().expect("acceptor step") {
                Step::NeedMore => {
                    let n = s.read(&mut buf).await.expect("read");
                    assert!(n > 0);
                    a.feed(&buf[..n]);
                }
                Step::Decide { .. } => a.decide(AcceptDecision::Ok).expect("ok"),
                Step::Done(_) => break,
                Step::AliveQuestion { .. } => unreachable!(),
            }
            s.write_all(&a.take_output()).await.expect("w");
        }
        // The ack and the first packet in one write, as a busy BEAM may send them.
        let mut out = a.take_output().to_vec();
        let m = Message::new(
            ControlMessage::Send { to, token: None },
            Some(Term::atom("first")),
        );
        out.extend_from_slice(&m.to_frame());
        s.write_all(&out).await.expect("w");
        s
    });
    let _h = tokio::time::timeout(T, ep.net.connect(Atom::new(&peer_name), addr))
        .await
        .expect("in time")
        .expect("connected");
    let _s = fake.await.expect("fake peer");
    let (_, m) = expect_message(&mut ep).await;
    assert!(m.payload.expect("payload").is_atom("first"));
}

#[tokio::test]
async fn failed_dial_leaves_no_entry() {
    let cookie = testkit::unique_cookie();
    let ep = Endpoint::start(&ferl_name("lonely"), &cookie, Duration::from_secs(60), None).await;
    let port = testkit::free_port();
    let nobody = Atom::new(&ferl_name("nobody"));
    let r = ep
        .net
        .connect(nobody, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await;
    assert!(
        matches!(r, Err(NetError::Setup(SetupError::Io(_)))),
        "{r:?}"
    );
    assert!(ep.net.peers().is_empty());
    // The next attempt dials again (nothing left pending).
    let r = ep
        .net
        .connect(nobody, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await;
    assert!(
        matches!(r, Err(NetError::Setup(SetupError::Io(_)))),
        "{r:?}"
    );
}
