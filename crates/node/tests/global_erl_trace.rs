//! The `:global` codec against what real OTP 25 sends: three real `erl` nodes sync, register,
//! join transitively and lose a link while `global_name_server` on one of them is traced; every
//! protocol message it received must decode and re-encode to the very same term.

use ferl::global::messages::{Incoming, MsgError};
use std::collections::BTreeMap;
use std::time::Duration;
use testkit::RealEpmd;
use testkit::{BeamKind, BeamNode, BeamOpts};

const TRACER: &str = r#"
T = spawn(fun Loop() ->
      receive
        {trace, _, 'receive', M} ->
          put(msgs, [M | case get(msgs) of undefined -> []; L -> L end]), Loop();
        {get, From} ->
          From ! {msgs, lists:reverse(case get(msgs) of undefined -> []; L -> L end)}, Loop()
      end
    end),
erlang:trace(whereis(global_name_server), true, ['receive', {tracer, T}]),
register(gtracer, T), ok
"#;

const COLLECT: &str = r#"
gtracer ! {get, self()},
receive {msgs, Ms} -> [binary:encode_hex(term_to_binary(M)) || M <- Ms] after 5000 -> timeout end
"#;

fn spawn_named(node: &mut BeamNode, name: &str) {
    let e = format!(
        "P{name} = spawn(fun() -> receive stop -> ok end end), yes = global:register_name({name}, P{name}), ok"
    );
    node.eval_ok(&e);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// Messages global.erl sends to itself or only locally; they are not part of the protocol.
const LOCAL_ONLY: &[&str] = &[
    "exchange_ops",
    "registrar",
    "sync",
    "nodeup",
    "nodedown",
    "DOWN",
    "EXIT",
    "timeout",
    "extra_nodedown",
    "high_level_trace",
    "trace_message",
];

fn first_atom(t: &etf::Term) -> String {
    let inner = match t.as_tuple() {
        Some([k, m]) if k.is_atom("$gen_cast") => m,
        Some([k, _, r]) if k.is_atom("$gen_call") => r,
        _ => t,
    };
    match inner {
        etf::Term::Atom(a) => a.as_str().to_string(),
        etf::Term::Tuple(v) => v
            .first()
            .and_then(|x| x.as_atom())
            .map(|a| a.as_str().to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

#[test]
fn real_global_messages_decode_and_reencode_exactly() {
    let epmd = RealEpmd::start();
    let mut a = BeamNode::erl(epmd.port);
    let mut opts = BeamOpts::new(BeamKind::Erl, epmd.port);
    opts.cookie = a.opts.cookie.clone();
    let mut b = BeamNode::start(opts.clone());
    let mut c = BeamNode::start(opts);
    a.eval_ok(TRACER);
    spawn_named(&mut a, "ga");
    spawn_named(&mut b, "gb");
    spawn_named(&mut c, "gc");
    // a <-> b: the full connect-time sync.
    a.eval_ok(&format!(
        "true = net_kernel:connect_node('{}'), ok = global:sync()",
        b.node
    ));
    // b registers while synced: set_lock / register / del_lock calls reach a.
    spawn_named(&mut b, "gb2");
    b.eval_ok("global:unregister_name(gb2)");
    // c joins through b: a hears new_nodes from b, and in_sync / a sync with c.
    c.eval_ok(&format!(
        "true = net_kernel:connect_node('{}'), ok = global:sync()",
        b.node
    ));
    a.eval_ok("timer:sleep(1500), global:sync()");
    // c drops b: lost_connection reports reach a.
    c.eval_ok(&format!(
        "erlang:disconnect_node('{}'), timer:sleep(1000), ok",
        b.node
    ));
    let out = a.eval_ok(COLLECT);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0;
    for cap in out.split("<<\"").skip(1) {
        let h = cap.split('"').next().unwrap_or("");
        let term = etf::decode(&bytes::Bytes::from(hex(h))).expect("real term decodes");
        let kind = first_atom(&term);
        match Incoming::from_term(&term) {
            Ok(m) => {
                assert_eq!(m.to_term(), term, "re-encoding differs for {term:?}");
                *seen.entry(kind).or_default() += 1;
                n += 1;
            }
            Err(MsgError::Unknown) if LOCAL_ONLY.contains(&kind.as_str()) => {}
            Err(e) => panic!("real message not understood ({e}): {term:?}"),
        }
    }
    eprintln!("decoded {n} real global messages: {seen:?}");
    for k in [
        "init_connect",
        "init_connect_ack",
        "lock_set",
        "lock_is_set",
        "exchange",
        "resolved",
        "set_lock",
        "del_lock",
        "register",
        "unregister",
        "new_nodes",
        "in_sync",
    ] {
        assert!(seen.contains_key(k), "no {k} seen: {seen:?}");
    }
    drop((a, b, c));
    std::thread::sleep(Duration::from_millis(10));
}
