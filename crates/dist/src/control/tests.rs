//! Round trips of every control message (base and `_TT`), and the specific errors of bad ones.

use super::packet::{payload_atoms, ControlDecoder, PAYLOAD_WALK};
use super::*;
use crate::atom_cache::AtomCache;
use crate::frame::{self, Frame};
use crate::last_traffic::LastTraffic;
use etf::Decoder;
use proptest::prelude::*;

fn p(id: u32) -> Pid {
    Pid::new(Atom::new("a@h"), id, 0, 5)
}

fn r() -> Ref {
    Ref::new(Atom::new("a@h"), 5, &[1, 2, 3])
}

fn all(token: Option<Term>) -> Vec<ControlMessage> {
    use ControlMessage::*;
    let t = || token.clone();
    let mut v = vec![
        Send {
            to: p(1),
            token: t(),
        },
        Exit {
            from: p(1),
            to: p(2),
            reason: Term::atom("normal"),
            token: t(),
        },
        RegSend {
            from: p(1),
            to: Atom::new("echo"),
            token: t(),
        },
        Exit2 {
            from: p(1),
            to: p(2),
            reason: Term::atom("kill"),
            token: t(),
        },
        SendSender {
            from: p(1),
            to: p(2),
            token: t(),
        },
        PayloadExit {
            from: p(1),
            to: p(2),
            token: t(),
        },
        PayloadExit2 {
            from: p(1),
            to: p(2),
            token: t(),
        },
        SpawnRequest {
            req_id: r(),
            from: p(1),
            group_leader: p(2),
            module: Atom::new("erpc"),
            function: Atom::new("execute_call"),
            arity: 4,
            opts: Term::list(vec![Term::atom("monitor")]),
            token: t(),
        },
        SpawnReply {
            req_id: r(),
            to: p(1),
            flags: 2,
            result: Term::Pid(p(9)),
            token: t(),
        },
        AliasSend {
            from: p(1),
            alias: r(),
            token: t(),
        },
    ];
    if token.is_none() {
        v.extend([
            Link {
                from: p(1),
                to: p(2),
            },
            Unlink {
                from: p(1),
                to: p(2),
            },
            NodeLink,
            GroupLeader {
                from: p(1),
                to: p(2),
            },
            MonitorP {
                from: p(1),
                to: ProcRef::Name(Atom::new("net_kernel")),
                reference: r(),
            },
            DemonitorP {
                from: p(1),
                to: ProcRef::Pid(p(3)),
                reference: r(),
            },
            MonitorPExit {
                from: ProcRef::Name(Atom::new("x")),
                to: p(1),
                reference: r(),
                reason: Term::atom("noproc"),
            },
            PayloadMonitorPExit {
                from: ProcRef::Pid(p(2)),
                to: p(1),
                reference: r(),
            },
            UnlinkId {
                id: 77,
                from: p(1),
                to: p(2),
            },
            UnlinkIdAck {
                id: u64::MAX,
                from: p(1),
                to: p(2),
            },
        ]);
    }
    v
}

fn roundtrip(c: ControlMessage) {
    let payload = c
        .needs_payload()
        .then(|| Term::tuple(vec![Term::atom("hello"), Term::Int(1)]));
    let m = Message::new(c, payload);
    let mut buf = BytesMut::from(&m.to_frame()[..]);
    let Ok(Some(Frame::PassThrough(body))) = frame::parse(&mut buf, 1 << 20) else {
        panic!("not a frame: {m:?}");
    };
    assert!(buf.is_empty());
    assert_eq!(Message::decode(body), Ok(m));
}

#[test]
fn every_message_roundtrips() {
    let base = all(None);
    assert_eq!(base.len(), 20);
    for c in base {
        roundtrip(c);
    }
    let traced = all(Some(Term::tuple(vec![Term::Int(0), Term::atom("lbl")])));
    let tags: Vec<u8> = traced.iter().map(ControlMessage::tag).collect();
    assert_eq!(tags, vec![12, 13, 16, 18, 23, 25, 27, 30, 32, 34]);
    for c in traced {
        roundtrip(c);
    }
}

#[test]
fn encoding_without_to_term_writes_the_same_bytes_as_to_term() {
    let tok = Some(Term::tuple(vec![Term::Int(0), Term::atom("lbl")]));
    for c in all(None).into_iter().chain(all(tok)) {
        let mut fast = BytesMut::new();
        c.encode_dist_to(&mut fast);
        let mut slow = BytesMut::new();
        etf::encode_dist_to(&c.to_term(), &mut slow);
        assert_eq!(fast, slow, "{c:?}");
    }
}

#[test]
fn tt_token_position_matches_otp() {
    // EXIT_TT is {13, From, To, Token, Reason}.
    let c = ControlMessage::Exit {
        from: p(1),
        to: p(2),
        reason: Term::atom("r"),
        token: Some(Term::atom("tok")),
    };
    let t = c.to_term();
    let t = t.as_tuple().expect("tuple");
    assert!(t[3].is_atom("tok") && t[4].is_atom("r"));
}

fn packet(ctrl: Term, payload: Option<Term>) -> Bytes {
    let mut b = BytesMut::new();
    etf::encode_dist_to(&ctrl, &mut b);
    if let Some(p) = payload {
        etf::encode_dist_to(&p, &mut b);
    }
    b.freeze()
}

#[test]
fn specific_errors() {
    let t = |v: Vec<Term>| Term::tuple(v);
    assert_eq!(
        Message::decode(packet(t(vec![Term::Int(99)]), None)),
        Err(ControlError::UnknownTag(99))
    );
    assert_eq!(
        Message::decode(packet(Term::atom("x"), None)),
        Err(ControlError::NotATuple)
    );
    assert_eq!(
        Message::decode(packet(t(vec![Term::Int(1), Term::Pid(p(1))]), None)),
        Err(ControlError::BadArity { tag: 1, arity: 2 })
    );
    assert_eq!(
        Message::decode(packet(
            t(vec![Term::Int(1), Term::Pid(p(1)), Term::atom("x")]),
            None
        )),
        Err(ControlError::BadField { tag: 1, field: 2 })
    );
    let send = t(vec![Term::Int(2), Term::atom(""), Term::Pid(p(1))]);
    assert_eq!(
        Message::decode(packet(send.clone(), None)),
        Err(ControlError::MissingPayload(2))
    );
    let link = t(vec![Term::Int(1), Term::Pid(p(1)), Term::Pid(p(2))]);
    assert_eq!(
        Message::decode(packet(link, Some(Term::Int(1)))),
        Err(ControlError::UnexpectedPayload(1))
    );
    let mut trailing = BytesMut::from(&packet(send, Some(Term::Int(1)))[..]);
    trailing.extend_from_slice(&[1, 2]);
    assert!(matches!(
        Message::decode(trailing.freeze()),
        Err(ControlError::Term(_) | ControlError::Trailing(_))
    ));
    assert!(matches!(
        Message::decode(Bytes::from_static(&[131, 200])),
        Err(ControlError::Term(_))
    ));
}

/// The decoding `Message::decode` did before the view decoder: everything through owned
/// `Term`s and `from_term`. The fast path must agree with it on every input.
fn decode_owned(body: Bytes) -> Result<Message, ControlError> {
    let mut d = Decoder::new(body);
    let ctrl = d.decode_external()?;
    let control = ControlMessage::from_term(&ctrl)?;
    let tag = control.tag() as i64;
    let payload = if d.remaining() > 0 {
        if !control.needs_payload() {
            return Err(ControlError::UnexpectedPayload(tag));
        }
        let p = d.decode_external()?;
        if d.remaining() > 0 {
            return Err(ControlError::Trailing(d.remaining()));
        }
        Some(p)
    } else {
        if control.needs_payload() {
            return Err(ControlError::MissingPayload(tag));
        }
        None
    };
    Ok(Message { control, payload })
}

#[test]
fn fast_path_fields_of_the_wrong_type_get_from_terms_errors() {
    let t = |v: Vec<Term>| Term::tuple(v);
    let cases = [
        t(vec![Term::Int(2), Term::atom(""), Term::atom("x")]),
        t(vec![
            Term::Int(6),
            Term::atom("x"),
            Term::atom(""),
            Term::atom("n"),
        ]),
        t(vec![
            Term::Int(6),
            Term::Pid(p(1)),
            Term::atom(""),
            Term::Pid(p(2)),
        ]),
        t(vec![Term::Int(22), Term::Pid(p(1)), Term::Int(3)]),
        t(vec![Term::Int(33), Term::Pid(p(1)), Term::Pid(p(2))]),
        t(vec![
            Term::Int(19),
            Term::Pid(p(1)),
            Term::Int(1),
            Term::Ref(r()),
        ]),
        t(vec![
            Term::Int(20),
            Term::Pid(p(1)),
            Term::Pid(p(2)),
            Term::atom("r"),
        ]),
    ];
    for c in cases {
        let body = packet(c.clone(), Some(Term::atom("hi")));
        let got = Message::decode(body.clone());
        assert!(
            matches!(got, Err(ControlError::BadField { .. })),
            "{c:?}: {got:?}"
        );
        assert_eq!(got, decode_owned(body), "{c:?}");
    }
}

/// One traffic message (or another kind) between pids of nodes named by `nodes`.
fn traffic(kind: u8, a: u16, b: u16, name: u16) -> Message {
    let node = |i: u16| Atom::new(&format!("node_{i}@host"));
    let from = Pid::new(node(a), 1, 2, 3);
    let to = Pid::new(node(b), 4, 5, 6);
    let alias = Ref::new(node(b), 7, &[1, 2, 3]);
    let control = match kind % 5 {
        0 => ControlMessage::Send { to, token: None },
        1 => ControlMessage::RegSend {
            from,
            to: Atom::new(&format!("name_{name}")),
            token: None,
        },
        2 => ControlMessage::SendSender {
            from,
            to,
            token: None,
        },
        3 => ControlMessage::AliasSend {
            from,
            alias,
            token: None,
        },
        _ => ControlMessage::Link { from, to },
    };
    let payload = control
        .needs_payload()
        .then(|| Term::tuple(vec![Term::atom("push"), Term::Pid(from)]));
    Message::new(control, payload)
}

/// The packets `msgs` make, sent in order over one connection with the atom cache.
fn sent_with_cache(msgs: &[Message]) -> Vec<Bytes> {
    let (mut out, mut refs) = (OutCache::default(), HeaderRefs::default());
    let mut last = LastTraffic::default();
    msgs.iter()
        .map(|m| {
            let mut buf = BytesMut::new();
            m.encode_for(
                crate::flags::DEFAULT,
                &mut out,
                &mut refs,
                &mut last,
                &mut buf,
            );
            buf.freeze()
        })
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn payload_atoms_travel_as_cache_references() {
    // As erts writes them: the payload's atoms (and its pids' node atoms) are in the header,
    // so the second message names no atom by its text, and the payload holds references.
    let node = Atom::new("payload_refs_x@host");
    let from = Pid::new(Atom::new("payload_refs_a@host"), 1, 2, 3);
    let to = Pid::new(Atom::new("payload_refs_b@host"), 4, 5, 6);
    let payload = Term::tuple(vec![
        Term::atom("notify_payload_ref"),
        Term::atom("push_payload_ref"),
        Term::binary(b"alice"),
        Term::Pid(Pid::new(node, 7, 8, 9)),
    ]);
    let m = Message::new(
        ControlMessage::SendSender {
            from,
            to,
            token: None,
        },
        Some(payload),
    );
    let packets = sent_with_cache(&[m.clone(), m.clone()]);
    for text in [
        &b"notify_payload_ref"[..],
        b"push_payload_ref",
        b"payload_refs_x@host",
    ] {
        assert!(
            contains(&packets[0], text),
            "the first header carries {text:?}"
        );
        assert!(
            !contains(&packets[1], text),
            "the second names {text:?} by reference"
        );
    }
    let mut cache = AtomCache::default();
    for p in packets {
        let mut buf = BytesMut::from(&p[..]);
        let Ok(Some(Frame::DistHeader(body))) = frame::parse(&mut buf, 1 << 20) else {
            panic!("not a header packet");
        };
        assert_eq!(Message::decode_with_header(body, &mut cache), Ok(m.clone()));
    }
}

#[test]
fn received_binaries_up_to_64_bytes_are_copied_out_of_the_packet() {
    // As BEAM's heap binaries: a small binary in a message does not hold on to the packet
    // (and with it the connection's read buffer); a longer one is a slice of it.
    let to = Pid::new(Atom::new("copy_b@host"), 4, 5, 6);
    // 40 bytes: longer than a binary held inline anyway (`Binary::INLINE`).
    let payload = Term::tuple(vec![Term::binary(&[1u8; 40]), Term::binary(&[7u8; 65])]);
    let m = Message::new(ControlMessage::Send { to, token: None }, Some(payload));
    let body = header_body(&m);
    let got =
        Message::decode_with_header(body.clone(), &mut AtomCache::default()).expect("decodes");
    assert_eq!(got, m);
    let Some(Term::Tuple(v)) = got.payload else {
        panic!("payload")
    };
    let (Term::Binary(small), Term::Binary(large)) = (&v[0], &v[1]) else {
        panic!("{v:?}")
    };
    let inside = |b: &etf::Binary| body.as_ptr_range().contains(&b.as_ptr());
    assert!(!inside(small), "40 bytes: copied");
    assert!(inside(large), "65 bytes: a slice of the packet");
}

#[test]
fn payloads_with_many_or_deep_atoms_round_trip() {
    // More distinct atoms than a header takes for a payload, and atoms deeper or further along
    // than the walk goes: those are written out, and everything decodes as it was sent.
    let many = Term::list((0..300).map(|i| Term::atom(&format!("many_{i}"))).collect());
    let mut deep = Term::atom("at_the_bottom");
    for i in 0..20 {
        deep = Term::tuple(vec![Term::atom(&format!("level_{i}")), deep]);
    }
    let to = Pid::new(Atom::new("payload_refs_b@host"), 4, 5, 6);
    let msgs: Vec<Message> = [many, deep]
        .into_iter()
        .map(|p| Message::new(ControlMessage::Send { to, token: None }, Some(p)))
        .collect();
    let mut cache = AtomCache::default();
    for (p, m) in sent_with_cache(&msgs).into_iter().zip(msgs) {
        let mut buf = BytesMut::from(&p[..]);
        let Ok(Some(Frame::DistHeader(body))) = frame::parse(&mut buf, 1 << 20) else {
            panic!("not a header packet");
        };
        assert_eq!(Message::decode_with_header(body, &mut cache), Ok(m));
    }
}

/// A packet's control tuple read by `fast.rs` and by the general reader, after its header
/// (read with a fresh cache); `None` when the header itself does not read.
#[allow(clippy::type_complexity)]
fn both_readers(
    body: &Bytes,
) -> Option<(
    Option<(ControlMessage, usize)>,
    Result<(ControlMessage, usize), ControlError>,
)> {
    let mut d = ControlDecoder::default();
    let at = AtomCache::default().read_header(body, &mut d.refs).ok()?;
    let mut out = Vec::new();
    let fast = fast::traffic_onto(body, at, &d.refs, &mut out).map(|used| {
        assert_eq!(out.len(), 1, "the fast reader pushes exactly its message");
        (out.pop().expect("pushed").control, used)
    });
    if fast.is_none() {
        assert!(
            out.is_empty(),
            "the fast reader pushes nothing when it declines"
        );
    }
    Some((fast, d.general(body, at)))
}

/// The body (after `131 68`) of `m` sent first on a connection with the atom cache.
fn header_body(m: &Message) -> Bytes {
    let mut buf = BytesMut::from(&sent_with_cache(std::slice::from_ref(m))[0][..]);
    let Ok(Some(Frame::DistHeader(body))) = frame::parse(&mut buf, 1 << 20) else {
        panic!("not a header packet");
    };
    body
}

#[test]
fn the_traffic_is_read_by_the_fast_reader_and_the_rest_is_not() {
    for token in [
        None,
        Some(Term::tuple(vec![Term::Int(0), Term::atom("lbl")])),
    ] {
        for c in all(token.clone()) {
            let traffic = matches!(
                c,
                ControlMessage::Send { .. }
                    | ControlMessage::RegSend { .. }
                    | ControlMessage::SendSender { .. }
                    | ControlMessage::AliasSend { .. }
            ) && token.is_none();
            let payload = c.needs_payload().then(|| Term::atom("hi"));
            let m = Message::new(c.clone(), payload);
            let (fast, general) = both_readers(&header_body(&m)).expect("header reads");
            assert_eq!(fast.is_some(), traffic, "{c:?}");
            if let Some(fast) = fast {
                assert_eq!(Ok(fast), general, "{c:?}");
            }
        }
    }
}

#[test]
fn the_fast_reader_agrees_with_the_general_one_on_every_single_byte_change() {
    // Every position of each traffic packet, set to each tag the reader tests for and to
    // the neighbours of the byte that was there: the edges a hand-written reader gets wrong.
    let tags = [0u8, 1, 2, 4, 82, 88, 90, 97, 100, 104, 118, 119, 255];
    for kind in 0..4 {
        let body = header_body(&traffic(kind, 1, 2, 3)).to_vec();
        for pos in 0..body.len() {
            let near = [body[pos].wrapping_sub(1), body[pos].wrapping_add(1)];
            for val in tags.into_iter().chain(near) {
                let mut b = body.clone();
                b[pos] = val;
                for cut in [b.len(), pos + 1] {
                    let b = Bytes::copy_from_slice(&b[..cut]);
                    if let Some((Some(fast), general)) = both_readers(&b) {
                        assert_eq!(Ok(fast), general, "kind {kind}, byte {pos} = {val}");
                    }
                }
            }
        }
    }
}

proptest! {
    /// Whatever the bytes, the fast reader either declines or reads exactly what the general
    /// reader reads (the same message, ending at the same offset): it never accepts what the
    /// general reader rejects, so errors stay the general reader's specific ones.
    #[test]
    fn the_fast_reader_agrees_with_the_general_one_on_mutated_packets(
        idx in 0usize..30, kind in any::<u8>(), pick in any::<bool>(), pos in any::<usize>(),
        val in any::<u8>(), cut in any::<usize>(), traced in any::<bool>()
    ) {
        let m = if pick {
            traffic(kind, 1, 2, 3)
        } else {
            let token = traced.then(|| Term::tuple(vec![Term::Int(0), Term::atom("lbl")]));
            let mut msgs = all(token);
            let c = msgs.swap_remove(idx % msgs.len());
            let payload = c.needs_payload().then(|| Term::atom("hi"));
            Message::new(c, payload)
        };
        let mut body = header_body(&m).to_vec();
        let n = body.len();
        body[pos % n] = val;
        body.truncate(cut % (n + 1));
        if let Some((Some(fast), general)) = both_readers(&Bytes::from(body)) {
            prop_assert_eq!(Ok(fast), general);
        }
    }

    /// A stream that repeats a few traffic messages (copied from the last packet when they
    /// repeat), with other messages in between whose node names take cache slots (3000 names
    /// for 2048 slots): byte for byte what it is when every packet is built afresh, and read
    /// back as sent.
    #[test]
    fn repeated_packets_are_the_bytes_built_afresh(
        pool in proptest::collection::vec((any::<u8>(), 0u16..3000, 0u16..3000, 0u16..5), 1..4),
        picks in proptest::collection::vec((any::<bool>(), any::<prop::sample::Index>(), (any::<u8>(), 0u16..3000, 0u16..3000, 0u16..5)), 1..200),
    ) {
        let sent: Vec<Message> = picks
            .iter()
            .map(|(repeat, ix, other)| {
                let (k, a, b, n) = if *repeat { pool[ix.index(pool.len())] } else { *other };
                traffic(k, a, b, n)
            })
            .collect();
        let (mut out, mut refs, mut last) = (OutCache::default(), HeaderRefs::default(), LastTraffic::default());
        let (mut out2, mut refs2) = (OutCache::default(), HeaderRefs::default());
        let mut cache = AtomCache::default();
        for m in &sent {
            let mut buf = BytesMut::new();
            m.encode_for(crate::flags::DEFAULT, &mut out, &mut refs, &mut last, &mut buf);
            let mut afresh = BytesMut::new();
            m.encode_for(crate::flags::DEFAULT, &mut out2, &mut refs2, &mut LastTraffic::default(), &mut afresh);
            prop_assert_eq!(&buf, &afresh);
            let Ok(Some(Frame::DistHeader(body))) = frame::parse(&mut buf, 1 << 20) else {
                panic!("not a header packet");
            };
            let got = Message::decode_with_header(body, &mut cache);
            prop_assert_eq!(got.as_ref(), Ok(m));
        }
    }

    /// Sent with the atom cache (3000 node names for 2048 slots, so entries are replaced) and
    /// read back by the receiving cache: every message comes out as it went in.
    #[test]
    fn atom_cache_sender_and_receiver_stay_in_step(
        msgs in proptest::collection::vec((any::<u8>(), 0u16..3000, 0u16..3000, 0u16..5), 1..300)
    ) {
        let (mut out, mut refs, mut cache) = (OutCache::default(), HeaderRefs::default(), AtomCache::default());
        let mut last = LastTraffic::default();
        let mut buf = BytesMut::new();
        let sent: Vec<Message> = msgs.iter().map(|&(k, a, b, n)| traffic(k, a, b, n)).collect();
        for m in &sent {
            m.encode_for(crate::flags::DEFAULT, &mut out, &mut refs, &mut last, &mut buf);
        }
        for m in sent {
            let Ok(Some(Frame::DistHeader(body))) = frame::parse(&mut buf, 1 << 20) else {
                panic!("not a header packet");
            };
            prop_assert_eq!(Message::decode_with_header(body, &mut cache), Ok(m));
        }
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn view_and_owned_decoding_agree_on_mutated_packets(idx in 0usize..30, pos in any::<usize>(), val in any::<u8>(), cut in any::<usize>(), traced in any::<bool>()) {
        let token = traced.then(|| Term::tuple(vec![Term::Int(0), Term::atom("lbl")]));
        let mut msgs = all(token);
        let c = msgs.swap_remove(idx % msgs.len());
        let payload = c.needs_payload().then(|| Term::tuple(vec![Term::atom("hi"), Term::binary(b"x")]));
        let frame = Message::new(c, payload).to_frame();
        let mut body = frame[5..].to_vec();
        let n = body.len();
        body[pos % n] = val;
        body.truncate(cut % (n + 1));
        let body = Bytes::from(body);
        prop_assert_eq!(Message::decode(body.clone()), decode_owned(body));
    }

    /// Decoding onto a batch appends exactly the message decoding gives (checked against the
    /// independent `decode_owned` for pass-through packets) after what the batch held, and on
    /// error leaves the batch as it was: a bad packet never leaves half a message behind.
    #[test]
    fn decoding_onto_a_batch_appends_the_message_or_nothing(
        idx in 0usize..30, pos in any::<usize>(), val in any::<u8>(), cut in any::<usize>(),
        traced in any::<bool>(), header in any::<bool>()
    ) {
        let token = traced.then(|| Term::tuple(vec![Term::Int(0), Term::atom("lbl")]));
        let mut msgs = all(token);
        let c = msgs.swap_remove(idx % msgs.len());
        let payload = c.needs_payload().then(|| Term::tuple(vec![Term::atom("hi"), Term::binary(b"x")]));
        let m = Message::new(c, payload);
        let mut body = if header { header_body(&m).to_vec() } else { m.to_frame()[5..].to_vec() };
        let n = body.len();
        body[pos % n] = val;
        body.truncate(cut % (n + 1));
        let body = Bytes::from(body);
        let before = traffic(0, 1, 2, 3);
        let mut out = vec![before.clone()];
        let (want, got) = if header {
            let want = Message::decode_with_header(body.clone(), &mut AtomCache::default());
            let whole = 0..body.len();
            (want, Message::decode_with_header_in(&body, whole, &mut AtomCache::default(), &mut out))
        } else {
            (decode_owned(body.clone()), Message::decode_onto(body, &mut out))
        };
        match want {
            Ok(m) => {
                prop_assert_eq!(got, Ok(()));
                prop_assert_eq!(out, vec![before, m]);
            }
            Err(e) => {
                prop_assert_eq!(got, Err(e));
                prop_assert_eq!(out, vec![before]);
            }
        }
    }

    #[test]
    fn decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Message::decode(Bytes::from(bytes));
    }

    #[test]
    fn decoder_never_panics_on_mutated_packets(idx in 0usize..20, pos in any::<usize>(), val in any::<u8>(), cut in any::<usize>()) {
        let c = all(None).swap_remove(idx % 20);
        let payload = c.needs_payload().then(|| Term::atom("hi"));
        let frame = Message::new(c, payload).to_frame();
        let mut body = frame[5..].to_vec();
        let n = body.len();
        body[pos % n] = val;
        body.truncate(cut % (n + 1));
        let _ = Message::decode(Bytes::from(body));
    }
}

/// The packet of a message sent again is copied from the last one, and not once a message in
/// between has given one of its atoms' cache slots to another atom: it then names that atom
/// again as a new entry, and the peer reads the message as it was sent.
#[test]
fn a_packet_is_not_copied_once_its_atoms_lost_their_slots() {
    let m = Message::new(
        ControlMessage::RegSend {
            from: Pid::new(Atom::new("last_traffic_a@host"), 1, 2, 3),
            to: Atom::new("last_traffic_sink"),
            token: None,
        },
        Some(Term::tuple(vec![
            Term::atom("last_traffic_push"),
            Term::Int(1),
        ])),
    );
    let (mut out, mut refs, mut last) = (
        OutCache::default(),
        HeaderRefs::default(),
        LastTraffic::default(),
    );
    let mut cache = AtomCache::default();
    let mut send = |m: &Message, out: &mut OutCache, last: &mut LastTraffic| {
        let mut buf = BytesMut::new();
        m.encode_for(crate::flags::DEFAULT, out, &mut refs, last, &mut buf);
        let Ok(Some(Frame::DistHeader(body))) = frame::parse(&mut buf, 1 << 20) else {
            panic!("not a header packet");
        };
        let got = Message::decode_with_header(body.clone(), &mut cache);
        assert_eq!(got.as_ref(), Ok(m));
        body
    };
    send(&m, &mut out, &mut last);
    let second = send(&m, &mut out, &mut last);
    let third = send(&m, &mut out, &mut last);
    assert_eq!(third, second, "the same packet");
    // An atom on the sink name's slot: a message naming it takes the slot.
    let sink_slot = crate::atom_cache::slot_of(Atom::new("last_traffic_sink"));
    let rival = (0..100_000)
        .map(|k| Atom::new(&format!("last_traffic_rival_{k}")))
        .find(|a| crate::atom_cache::slot_of(*a) == sink_slot)
        .expect("an atom on the same slot");
    let other = Message::new(
        ControlMessage::RegSend {
            from: Pid::new(Atom::new("last_traffic_a@host"), 1, 2, 3),
            to: rival,
            token: None,
        },
        Some(Term::Int(0)),
    );
    send(&other, &mut out, &mut last);
    let fourth = send(&m, &mut out, &mut last);
    assert_ne!(fourth, second, "the sink's name is a new entry again");
}

/// The payload walk that picks the atoms a header names: depth-first, in order, into tuples,
/// lists, improper lists and maps, with the node atoms of pids, references and ports and both
/// atoms of an export; containers no deeper than `PAYLOAD_DEPTH` and `PAYLOAD_WALK` terms.
#[test]
fn the_payload_walk_finds_atoms_depth_first_within_its_limits() {
    let a = Term::atom;
    let node = Atom::new("walk_node@host");
    let t = Term::tuple(vec![
        a("w_a"),
        Term::list(vec![a("w_b"), Term::tuple(vec![a("w_c")]), Term::Int(7)]),
        Term::map(vec![(a("w_d"), a("w_e"))]),
        Term::ImproperList(vec![a("w_f")], Box::new(a("w_g"))),
        Term::Pid(Pid::new(node, 1, 0, 1)),
        Term::binary(b"w_h"),
    ]);
    let mut got = Vec::new();
    payload_atoms(&t, &mut got);
    let names: Vec<&str> = got.iter().map(|x| x.as_str()).collect();
    assert_eq!(
        names,
        [
            "w_a",
            "w_b",
            "w_c",
            "w_d",
            "w_e",
            "w_f",
            "w_g",
            "walk_node@host"
        ]
    );
    // Ten nested tuples: the containers at depths 0 to 7 are walked, so eight levels' atoms.
    let mut deep = a("w_bottom");
    for i in 0..10 {
        deep = Term::tuple(vec![a(&format!("w_level_{i}")), deep]);
    }
    let mut got = Vec::new();
    payload_atoms(&deep, &mut got);
    let want: Vec<String> = (2..10).rev().map(|i| format!("w_level_{i}")).collect();
    assert_eq!(got.iter().map(|x| x.as_str()).collect::<Vec<_>>(), want);
    // A list of 200 atoms: the list and its first 127 elements are the 128 terms walked.
    let long = Term::list((0..200).map(|i| a(&format!("w_long_{i}"))).collect());
    let mut got = Vec::new();
    payload_atoms(&long, &mut got);
    assert_eq!(got.len(), PAYLOAD_WALK - 1);
    assert_eq!(got.last().map(|x| x.as_str()), Some("w_long_126"));
}

/// The messages whose payload atoms are walked for a header (`is_traffic`) are those whose
/// control message `traffic_cached` writes with references, traced or not.
#[test]
fn traffic_is_what_traffic_cached_writes() {
    for token in [None, Some(Term::atom("tok"))] {
        for c in all(token) {
            let (mut cache, mut refs) = (OutCache::default(), HeaderRefs::default());
            let cached = c.traffic_cached(&mut cache, &mut refs, None).is_some();
            assert_eq!(c.is_traffic(), cached, "{c:?}");
        }
    }
}
