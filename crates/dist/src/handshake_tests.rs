//! Every handshake transition, deterministically: two machines wired back to back, and single
//! machines fed hand-made peer messages.

use super::*;
use crate::flags;

fn cfg(name: &str, cookie: &str) -> HandshakeConfig {
    HandshakeConfig {
        our_name: Atom::new(name),
        cookie: Cookie::new(cookie),
        flags: flags::DEFAULT,
        creation: 42,
    }
}

fn msg(m: HsMessage) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode(&mut b);
    b.to_vec()
}

fn status(s: &str) -> Vec<u8> {
    msg(HsMessage::Status(s.as_bytes().to_vec()))
}

/// Runs both machines to the end; returns (initiator result, acceptor result).
fn run(
    i: &mut Initiator,
    a: &mut Acceptor,
    decision: AcceptDecision,
    alive_answer: bool,
) -> (
    Result<Outcome, HandshakeError>,
    Result<Outcome, HandshakeError>,
) {
    let (mut ir, mut ar) = (None, None);
    for _ in 0..20 {
        if ir.is_none() {
            match i.poll() {
                Ok(Step::Done(o)) => ir = Some(Ok(o)),
                Ok(Step::AliveQuestion { .. }) => {
                    if let Err(e) = i.answer_alive(alive_answer) {
                        ir = Some(Err(e));
                    }
                }
                Ok(_) => {}
                Err(e) => ir = Some(Err(e)),
            }
        }
        a.feed(&i.take_output());
        if ar.is_none() {
            match a.poll() {
                Ok(Step::Done(o)) => ar = Some(Ok(o)),
                Ok(Step::Decide { .. }) => {
                    if let Err(e) = a.decide(decision) {
                        ar = Some(Err(e));
                    }
                }
                Ok(_) => {}
                Err(e) => ar = Some(Err(e)),
            }
        }
        i.feed(&a.take_output());
        if ir.is_some() && ar.is_some() {
            break;
        }
    }
    (
        ir.unwrap_or(Err(HandshakeError::Misuse("initiator stuck"))),
        ar.unwrap_or(Err(HandshakeError::Misuse("acceptor stuck"))),
    )
}

#[test]
fn ok_handshake_both_sides_agree() {
    let mut i = Initiator::new(cfg("alice@h", "C"), Atom::new("bob@h"), 1);
    let mut a = Acceptor::new(cfg("bob@h", "C"), 2);
    let (ir, ar) = run(&mut i, &mut a, AcceptDecision::Ok, true);
    let (io, ao) = (ir.expect("initiator"), ar.expect("acceptor"));
    assert_eq!(io.peer, Atom::new("bob@h"));
    assert_eq!(ao.peer, Atom::new("alice@h"));
    assert_eq!(io.flags, ao.flags);
    assert!(flags::is_published(io.flags));
    assert_eq!((io.peer_creation, ao.peer_creation), (42, 42));
}

#[test]
fn ok_simultaneous_continues() {
    let mut i = Initiator::new(cfg("alice@h", "C"), Atom::new("bob@h"), 1);
    let mut a = Acceptor::new(cfg("bob@h", "C"), 2);
    let (ir, ar) = run(&mut i, &mut a, AcceptDecision::OkSimultaneous, true);
    assert!(ir.is_ok() && ar.is_ok());
}

#[test]
fn wrong_cookie_is_refused_with_beam_line() {
    let mut i = Initiator::new(cfg("mallory@vm", "WRONG"), Atom::new("bob@vm"), 1);
    let mut a = Acceptor::new(cfg("bob@vm", "RIGHT"), 2);
    let (ir, ar) = run(&mut i, &mut a, AcceptDecision::Ok, true);
    let err = ar.expect_err("acceptor refuses");
    assert_eq!(
        err.to_string(),
        "** Connection attempt from node :mallory@vm rejected. Invalid challenge reply. **"
    );
    // The acceptor sends nothing more: the initiator is left waiting for the ack.
    assert!(ir.is_err());
}

#[test]
fn wrong_ack_is_refused_by_initiator() {
    let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 7);
    i.take_output();
    i.feed(&status("ok"));
    i.feed(&msg(HsMessage::Challenge {
        flags: flags::DEFAULT,
        challenge: 9,
        creation: 1,
        name: b"b@h".to_vec(),
    }));
    assert_eq!(i.poll(), Ok(Step::NeedMore));
    let out = i.take_output();
    assert_eq!(out[2], b'r');
    i.feed(&msg(HsMessage::ChallengeAck { digest: [0; 16] }));
    assert!(matches!(
        i.poll(),
        Err(HandshakeError::InvalidChallengeAck { .. })
    ));
    assert!(matches!(i.poll(), Err(HandshakeError::Misuse(_))));
}

#[test]
fn nok_and_not_allowed_end_both_sides() {
    for (d, want) in [
        (AcceptDecision::Nok, HandshakeError::Nok),
        (AcceptDecision::NotAllowed, HandshakeError::NotAllowed),
    ] {
        let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
        let mut a = Acceptor::new(cfg("b@h", "C"), 2);
        let (ir, ar) = run(&mut i, &mut a, d, true);
        assert_eq!(ir, Err(want));
        assert!(matches!(ar, Err(HandshakeError::Refused { decision, .. }) if decision == d));
    }
}

#[test]
fn already_pending_closes_without_status() {
    let mut a = Acceptor::new(cfg("b@h", "C"), 2);
    let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
    a.feed(&i.take_output());
    assert!(matches!(a.poll(), Ok(Step::Decide { .. })));
    assert!(a.decide(AcceptDecision::AlreadyPending).is_err());
    assert!(a.take_output().is_empty());
}

#[test]
fn alive_true_replaces_and_completes() {
    let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
    let mut a = Acceptor::new(cfg("b@h", "C"), 2);
    let (ir, ar) = run(&mut i, &mut a, AcceptDecision::Alive, true);
    assert!(ir.is_ok() && ar.is_ok());
}

#[test]
fn alive_false_stops_both_sides() {
    let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
    let mut a = Acceptor::new(cfg("b@h", "C"), 2);
    let (ir, ar) = run(&mut i, &mut a, AcceptDecision::Alive, false);
    assert_eq!(ir, Err(HandshakeError::AliveDeclined));
    assert_eq!(ar, Err(HandshakeError::PeerKeepsOld));
}

#[test]
fn acceptor_refuses_missing_mandatory_flags_with_not_allowed() {
    let mut a = Acceptor::new(cfg("b@h", "C"), 2);
    a.feed(&msg(HsMessage::Name {
        flags: flags::MANDATORY_25 & !flags::DFLAG_MAP_TAG,
        creation: 1,
        name: b"old@h".to_vec(),
    }));
    let err = a.poll().expect_err("refused");
    assert_eq!(
        err.to_string(),
        "** Connection attempt from node :old@h rejected since it cannot handle [\"MAP_TAG\"].**"
    );
    assert_eq!(&a.take_output()[..], &status("not_allowed")[..]);
}

#[test]
fn acceptor_takes_digest_bit_alone() {
    let mut a = Acceptor::new(cfg("b@h", "C"), 2);
    a.feed(&msg(HsMessage::Name {
        flags: flags::DFLAG_MANDATORY_25_DIGEST,
        creation: 1,
        name: b"j@h".to_vec(),
    }));
    assert_eq!(
        a.poll(),
        Ok(Step::Decide {
            peer: Atom::new("j@h")
        })
    );
}

#[test]
fn acceptor_refuses_bad_names() {
    for name in [&b"nohost"[..], b"@h", b"a@", b"\xff@h"] {
        let mut a = Acceptor::new(cfg("b@h", "C"), 2);
        a.feed(&msg(HsMessage::Name {
            flags: flags::DEFAULT,
            creation: 1,
            name: name.to_vec(),
        }));
        assert!(matches!(a.poll(), Err(HandshakeError::BadPeerName(_))));
    }
}

#[test]
fn initiator_requires_the_dialled_name_and_flags() {
    let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
    i.feed(&status("ok"));
    i.feed(&msg(HsMessage::Challenge {
        flags: flags::DEFAULT,
        challenge: 1,
        creation: 1,
        name: b"B@h".to_vec(),
    }));
    assert!(matches!(i.poll(), Err(HandshakeError::NameMismatch { .. })));
    let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
    i.feed(&status("ok"));
    i.feed(&msg(HsMessage::Challenge {
        flags: flags::DFLAG_PUBLISHED,
        challenge: 1,
        creation: 1,
        name: b"b@h".to_vec(),
    }));
    assert!(matches!(
        i.poll(),
        Err(HandshakeError::AcceptorLacksFlags { .. })
    ));
}

#[test]
fn unknown_status_and_wrong_tags_are_errors() {
    let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
    i.feed(&status("named:x"));
    assert!(matches!(i.poll(), Err(HandshakeError::UnknownStatus(_))));
    let mut a = Acceptor::new(cfg("b@h", "C"), 2);
    a.feed(&status("ok"));
    assert!(matches!(a.poll(), Err(HandshakeError::Message(_))));
}

#[test]
fn byte_at_a_time_and_leftover_frames() {
    let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
    let mut a = Acceptor::new(cfg("b@h", "C"), 2);
    for b in i.take_output().iter() {
        assert!(matches!(a.poll(), Ok(Step::NeedMore)));
        a.feed(&[*b]);
    }
    assert!(matches!(a.poll(), Ok(Step::Decide { .. })));
    a.decide(AcceptDecision::Ok).expect("ok");
    let mut to_i = a.take_output().to_vec();
    to_i.extend_from_slice(&[0, 0, 0, 0]);
    i.feed(&to_i[..to_i.len() - 4]);
    assert_eq!(i.poll(), Ok(Step::NeedMore));
    a.feed(&i.take_output());
    assert!(matches!(a.poll(), Ok(Step::Done(_))));
    let mut ack = a.take_output().to_vec();
    ack.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 112]);
    i.feed(&ack);
    assert!(matches!(i.poll(), Ok(Step::Done(_))));
    assert_eq!(&i.into_leftover()[..], &[0, 0, 0, 0, 0, 0, 0, 1, 112]);
}

#[test]
fn misuse_is_reported_not_panicked() {
    let mut a = Acceptor::new(cfg("b@h", "C"), 2);
    assert!(a.decide(AcceptDecision::Ok).is_err());
    let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
    assert!(i.answer_alive(true).is_err());
}

#[test]
fn elixir_atom_quoting() {
    assert_eq!(elixir_atom("mallory@vm"), ":mallory@vm");
    assert_eq!(elixir_atom("a-b@vm"), ":\"a-b@vm\"");
    assert_eq!(elixir_atom("ok?"), ":ok?");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn valid_transcript() -> (Vec<u8>, Vec<u8>) {
        // What an initiator sends and what an acceptor sends in a good handshake.
        let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
        let mut a = Acceptor::new(cfg("b@h", "C"), 2);
        let (mut to_a, mut to_i) = (Vec::new(), Vec::new());
        for _ in 0..6 {
            let _ = i.poll();
            let o = i.take_output();
            to_a.extend_from_slice(&o);
            a.feed(&o);
            if let Ok(Step::Decide { .. }) = a.poll() {
                let _ = a.decide(AcceptDecision::Ok);
            }
            let o = a.take_output();
            to_i.extend_from_slice(&o);
            i.feed(&o);
        }
        (to_a, to_i)
    }

    fn drive_acceptor(bytes: &[u8]) {
        let mut a = Acceptor::new(cfg("b@h", "C"), 2);
        a.feed(bytes);
        for _ in 0..8 {
            match a.poll() {
                Ok(Step::Decide { .. }) => {
                    let _ = a.decide(AcceptDecision::Alive);
                }
                Ok(Step::NeedMore) | Ok(Step::Done(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = a.take_output();
    }

    fn drive_initiator(bytes: &[u8]) {
        let mut i = Initiator::new(cfg("a@h", "C"), Atom::new("b@h"), 1);
        i.feed(bytes);
        for _ in 0..8 {
            match i.poll() {
                Ok(Step::AliveQuestion { .. }) => {
                    let _ = i.answer_alive(true);
                }
                Ok(Step::NeedMore) | Ok(Step::Done(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = i.take_output();
    }

    proptest! {
        #[test]
        fn machines_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            drive_acceptor(&bytes);
            drive_initiator(&bytes);
            for expect in [Expect::Name, Expect::Status, Expect::Challenge, Expect::ChallengeReply, Expect::ChallengeAck] {
                let _ = HsMessage::decode(expect, &bytes);
            }
        }

        #[test]
        fn machines_never_panic_on_mutated_transcripts(pos in any::<usize>(), val in any::<u8>(), cut in any::<usize>()) {
            let (mut to_a, mut to_i) = valid_transcript();
            let (na, ni) = (to_a.len(), to_i.len());
            to_a[pos % na] = val;
            to_i[pos % ni] = val;
            to_a.truncate(cut % (na + 1));
            to_i.truncate(cut % (ni + 1));
            drive_acceptor(&to_a);
            drive_initiator(&to_i);
        }
    }
}
