//! serde mapping with the tutorial's messages: enums as tagged tuples, structs as maps
//! (optionally Elixir structs or Erlang records), pids and terms passing through unchanged.

use etf::{decode, encode, from_term, to_term, Atom, Pid, Ref, Term};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "snake_case")]
enum Msg {
    Subscribe(String, Pid),
    Push(String, String),
    Pop(String),
    Get(String),
    Stop,
    Put { key: String, value: i64 },
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Client {
    name: String,
    pid: Pid,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "Elixir.Client")]
struct ExClient {
    name: String,
    pid: Pid,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "#point")]
struct Point {
    x: i64,
    y: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Everything {
    b: bool,
    i: i32,
    u: u64,
    big: u128,
    neg: i128,
    f: f64,
    s: String,
    o: Option<String>,
    none: Option<i32>,
    v: Vec<u8>,
    t: (i32, String),
    m: BTreeMap<String, i32>,
    r: Ref,
    a: Atom,
    any: Term,
    unit: (),
}

fn pid() -> Pid {
    Pid::new(Atom::new("alice@host"), 91, 0, 1_700_000_000)
}

#[test]
fn enum_variants_are_tagged_tuples() {
    let t = to_term(&Msg::Subscribe("alice".into(), pid())).unwrap();
    assert_eq!(
        t,
        Term::tuple(vec![
            Term::atom("subscribe"),
            "alice".into(),
            Term::Pid(pid())
        ])
    );
    let t = to_term(&Msg::Push("alice".into(), "item-123".into())).unwrap();
    assert_eq!(t.elixir().to_string(), r#"{:push, "alice", "item-123"}"#);
    // Exactly the bytes erl produces for {push, <<"alice">>, <<"item-123">>}.
    assert_eq!(
        encode(&t).to_vec(),
        [
            131, 104, 3, 100, 0, 4, b'p', b'u', b's', b'h', 109, 0, 0, 0, 5, b'a', b'l', b'i',
            b'c', b'e', 109, 0, 0, 0, 8, b'i', b't', b'e', b'm', b'-', b'1', b'2', b'3'
        ]
    );
    assert_eq!(
        to_term(&Msg::Pop("alice".into()))
            .unwrap()
            .elixir()
            .to_string(),
        r#"{:pop, "alice"}"#
    );
    assert_eq!(to_term(&Msg::Stop).unwrap(), Term::atom("stop"));
    let put = to_term(&Msg::Put {
        key: "k".into(),
        value: 3,
    })
    .unwrap();
    assert_eq!(put.elixir().to_string(), r#"{:put, %{key: "k", value: 3}}"#);
    for m in [
        Msg::Subscribe("alice".into(), pid()),
        Msg::Push("a".into(), "b".into()),
        Msg::Pop("a".into()),
        Msg::Get("g".into()),
        Msg::Stop,
        Msg::Put {
            key: "k".into(),
            value: -1,
        },
    ] {
        let t = to_term(&m).unwrap();
        let back = decode(&encode(&t)).unwrap();
        assert_eq!(from_term::<Msg>(&back).unwrap(), m);
    }
}

#[test]
fn structs_are_maps() {
    let c = Client {
        name: "alice".into(),
        pid: pid(),
    };
    let t = to_term(&c).unwrap();
    let expected = Term::map(vec![
        (Term::atom("name"), "alice".into()),
        (Term::atom("pid"), Term::Pid(pid())),
    ]);
    assert_eq!(t, expected);
    assert_eq!(from_term::<Client>(&t).unwrap(), c);

    let e = ExClient {
        name: "alice".into(),
        pid: pid(),
    };
    let t = to_term(&e).unwrap();
    assert_eq!(
        t.map_get(&Term::atom("__struct__")),
        Some(&Term::atom("Elixir.Client"))
    );
    assert!(t
        .elixir()
        .to_string()
        .starts_with(r#"%Client{name: "alice", pid: #PID<"#));
    assert_eq!(from_term::<ExClient>(&t).unwrap(), e);
    // A plain struct also accepts an Elixir struct map (the marker key is skipped).
    assert_eq!(from_term::<Client>(&t).unwrap(), c);
}

#[test]
fn records_are_tuples() {
    let t = to_term(&Point { x: 1, y: -2 }).unwrap();
    assert_eq!(t.erlang().to_string(), "{point,1,-2}");
    assert_eq!(from_term::<Point>(&t).unwrap(), Point { x: 1, y: -2 });
    assert!(
        from_term::<Point>(&Term::tuple(vec![Term::atom("other"), 1.into(), 2.into()])).is_err()
    );
}

#[test]
fn everything_round_trips() {
    let v = Everything {
        b: true,
        i: -5,
        u: u64::MAX,
        big: u128::MAX,
        neg: i128::MIN,
        f: 1.5,
        s: "héllo".into(),
        o: Some("x".into()),
        none: None,
        v: vec![1, 2, 3],
        t: (7, "seven".into()),
        m: [("a".to_string(), 1), ("b".to_string(), 2)]
            .into_iter()
            .collect(),
        r: Ref::new(Atom::new("alice@host"), 5, &[1, 2, 3]),
        a: Atom::new("some_atom"),
        any: Term::tuple(vec![
            Term::atom("x"),
            Term::ImproperList(vec![1.into()], Box::new(2.into())),
        ]),
        unit: (),
    };
    let t = to_term(&v).unwrap();
    assert_eq!(t.map_get(&Term::atom("none")), Some(&Term::atom("nil")));
    assert_eq!(t.map_get(&Term::atom("a")), Some(&Term::atom("some_atom")));
    assert!(matches!(t.map_get(&Term::atom("big")), Some(Term::Big(_))));
    let back: Everything = from_term(&decode(&encode(&t)).unwrap()).unwrap();
    assert_eq!(back, v);
}

#[test]
fn lenient_strings_and_errors() {
    assert_eq!(from_term::<String>(&Term::atom("abc")).unwrap(), "abc");
    assert_eq!(from_term::<String>(&Term::charlist("abc")).unwrap(), "abc");
    assert!(from_term::<String>(&Term::from(1)).is_err());
    assert!(from_term::<u8>(&Term::from(256)).is_err());
    assert!(from_term::<Pid>(&Term::atom("nope")).is_err());
    assert!(from_term::<Msg>(&Term::tuple(vec![Term::atom("unknown")])).is_err());
}
