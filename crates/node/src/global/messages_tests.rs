//! Round-trip and totality tests of the global message codec (messages.rs).
use super::*;
use proptest::prelude::*;

fn pid(n: &str, id: u32) -> Pid {
    Pid::new(Atom::new(n), id, 0, 3)
}

fn entry(name: &str) -> NameEntry {
    NameEntry {
        name: Term::atom(name),
        pid: pid("a@h", 7),
        method: crate::global::StdMethod::RandomExitName.to_term(),
    }
}

fn samples() -> Vec<Incoming> {
    let node = Atom::new("a@h");
    let tag = Term::Int(-576460752303423487);
    let lock = Term::tuple(vec![
        Term::atom("global"),
        Term::list(vec![Term::Pid(pid("a@h", 1)), Term::Pid(pid("b@h", 1))]),
    ]);
    let known = vec![
        NodeVsn { node, vsn: Some(8) },
        NodeVsn {
            node: Atom::new("c@h"),
            vsn: None,
        },
    ];
    let ext = vec![NameExt {
        name: Term::atom("x"),
        pid: pid("a@h", 9),
        reg_node: node,
    }];
    let from = CallFrom {
        pid: pid("b@h", 5),
        tag: Term::ImproperList(vec![Term::atom("alias")], Box::new(Term::Int(1))),
    };
    let id = LockId {
        resource: Term::atom("global"),
        requester: Term::Pid(pid("b@h", 5)),
    };
    let casts = vec![
        Cast::InitConnect {
            vsn: 8,
            tag: tag.clone(),
            vsn_rest: vec![],
            node,
            init: InitLocker {
                no_longer_a_pid: Term::atom("no_longer_a_pid"),
                known: Term::map(vec![]),
                locker: pid("a@h", 1),
            },
        },
        Cast::InitConnect {
            vsn: 9,
            tag: tag.clone(),
            vsn_rest: vec![Term::atom("future")],
            node,
            init: InitLocker {
                no_longer_a_pid: Term::atom("no_longer_a_pid"),
                known: Term::nil(),
                locker: pid("a@h", 1),
            },
        },
        Cast::LockIsSet {
            node,
            tag: tag.clone(),
            lock_id: lock.clone(),
        },
        Cast::Exchange {
            node,
            names: vec![entry("n1"), entry("n2")],
            names_ext: Term::nil(),
            tag: tag.clone(),
        },
        Cast::Resolved {
            node,
            resolved: vec![Op::Insert(entry("n")), Op::Delete(Term::atom("m"))],
            known: known.clone(),
            unused: Term::atom("unused"),
            names_ext: ext.clone(),
            tag: tag.clone(),
        },
        Cast::NewNodes {
            node,
            ops: vec![Op::Insert(entry("n"))],
            names_ext: vec![],
            nodes: known,
            extra: Term::list(vec![
                Term::tuple(vec![Term::atom("vsn"), Term::Int(8)]),
                Term::tuple(vec![Term::atom("lock"), lock]),
            ]),
        },
        Cast::InSync {
            node,
            is_known: Term::from(true),
        },
        Cast::AsyncDelName {
            name: Term::atom("n"),
            pid: Term::Pid(pid("a@h", 3)),
        },
        Cast::AsyncDelLock {
            resource: Term::atom("r"),
            pid: Term::Pid(pid("a@h", 3)),
        },
        Cast::LockSet(LockSet {
            locker: pid("a@h", 1),
            set: true,
            his_known: Term::nil(),
            tag: Some(tag.clone()),
        }),
        Cast::LockSet(LockSet {
            locker: pid("a@h", 1),
            set: false,
            his_known: Term::nil(),
            tag: None,
        }),
    ];
    let infos = vec![
        Info::InitConnectAck {
            node,
            my_tag: tag.clone(),
            his_tag: Term::Int(4),
        },
        Info::CancelConnect {
            node,
            tag: tag.clone(),
        },
        Info::LostConnection {
            node_a: node,
            xcreation: Term::Int(1 << 59),
            op_id: Term::Int(-12),
            node_b: Atom::new("b@h"),
        },
        Info::RemoveConnection { node },
        Info::Whereis {
            name: Term::atom("n"),
            from: from.clone(),
        },
    ];
    let reqs = vec![
        Request::SetLock(id.clone()),
        Request::DelLock(id),
        Request::Register {
            name: Term::atom("n"),
            pid: pid("a@h", 2),
            method: Term::atom("m"),
        },
        Request::Unregister {
            name: Term::atom("n"),
        },
        Request::RegisterExt {
            name: Term::atom("n"),
            pid: pid("a@h", 2),
            method: Term::atom("m"),
            reg_node: node,
        },
        Request::GetKnown,
        Request::GetSynced,
        Request::GetProtocolVersion,
        Request::GetNamesExt,
    ];
    let mut v: Vec<Incoming> = casts.into_iter().map(Incoming::Cast).collect();
    v.extend(infos.into_iter().map(Incoming::Info));
    v.extend(reqs.into_iter().map(|request| Incoming::Call {
        from: from.clone(),
        request,
    }));
    v
}

#[test]
fn every_message_round_trips_through_term_and_etf() {
    for m in samples() {
        let t = m.to_term();
        let back = Incoming::from_term(&t).unwrap_or_else(|e| panic!("{m:?}: {e}"));
        assert_eq!(back, m);
        let bytes = etf::encode(&t);
        let t2 = etf::decode(&bytes).expect("etf decodes");
        assert_eq!(Incoming::from_term(&t2).expect("decodes"), m);
    }
}

#[test]
fn malformed_messages_are_specific_errors() {
    let cast = |m: Term| Term::tuple(vec![Term::Atom(Atom::GEN_CAST), m]);
    let bad = [
        (
            cast(Term::tuple(vec![
                Term::atom("init_connect"),
                Term::Int(8),
                Term::atom("a@h"),
                Term::nil(),
            ])),
            "init_connect vsn tuple",
        ),
        (
            cast(Term::tuple(vec![
                Term::atom("exchange"),
                Term::atom("a@h"),
                Term::Int(1),
                Term::nil(),
                Term::Int(1),
            ])),
            "exchange names",
        ),
        (
            cast(Term::tuple(vec![
                Term::atom("in_sync"),
                Term::Int(1),
                Term::atom("true"),
            ])),
            "in_sync node",
        ),
        (
            cast(Term::tuple(vec![
                Term::atom("lock_set"),
                Term::Int(1),
                Term::atom("true"),
                Term::nil(),
            ])),
            "lock_set pid",
        ),
        (
            Term::tuple(vec![Term::atom("remove_connection"), Term::Int(3)]),
            "remove_connection node",
        ),
    ];
    for (t, what) in bad {
        assert_eq!(
            Incoming::from_term(&t),
            Err(MsgError::Malformed(what)),
            "{t:?}"
        );
    }
    assert_eq!(
        Incoming::from_term(&Term::atom("hello")),
        Err(MsgError::Unknown)
    );
    assert_eq!(extra_info("lock", &Term::Int(3)), None);
}

fn arb_term() -> impl Strategy<Value = Term> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Term::Int),
        prop::sample::select(vec![
            "init_connect",
            "exchange",
            "resolved",
            "new_nodes",
            "lock_set",
            "in_sync",
            "lock_is_set",
            "whereis",
            "lost_connection",
            "remove_connection",
            "cancel_connect",
            "init_connect_ack",
            "$gen_cast",
            "$gen_call",
            "true",
            "false",
            "insert",
            "delete",
            "locker",
            "set_lock",
            "register",
            "a@h",
        ])
        .prop_map(Term::atom),
        (0u32..4).prop_map(|i| Term::Pid(pid("a@h", i))),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..7).prop_map(Term::Tuple),
            prop::collection::vec(inner, 0..5).prop_map(Term::List),
        ]
    })
}

proptest! {
    /// Decoding never panics, and whatever decodes re-encodes to the very same term.
    #[test]
    fn decoding_is_total_and_exact(t in arb_term()) {
        if let Ok(m) = Incoming::from_term(&t) {
            prop_assert_eq!(m.to_term(), t);
        }
        let _ = LockSet::from_term(&Term::Int(1));
    }

    #[test]
    fn samples_with_random_payloads_round_trip(name in arb_term(), tag in arb_term()) {
        let m = Incoming::Cast(Cast::Exchange {
            node: Atom::new("a@h"),
            names: vec![NameEntry { name: name.clone(), pid: pid("a@h", 1), method: tag.clone() }],
            names_ext: Term::nil(),
            tag: tag.clone(),
        });
        prop_assert_eq!(Incoming::from_term(&m.to_term()), Ok(m));
        let w = Incoming::Info(Info::Whereis { name, from: CallFrom { pid: pid("b@h", 2), tag } });
        prop_assert_eq!(Incoming::from_term(&w.to_term()), Ok(w));
    }
}
