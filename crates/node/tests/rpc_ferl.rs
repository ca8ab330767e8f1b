//! The same rpc and gen_server suite ferl-to-ferl: two ferl nodes over real distribution (on a
//! real epmd), every call outcome, casts, multicall, rex block_call, GenServer calls, node down.

mod rpc_support;

use ferl::gen_server::{self, CallError};
use ferl::rpc::{self, RpcError};
use ferl::{Atom, Exception, Process, Term};
use rpc_support::*;
use std::time::Duration;
use testkit::RealEpmd;

fn erl(t: &Term) -> String {
    t.erlang().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferl_calls_ferl() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let a = ferl_node(epmd.port, &cookie).await;
    let b = ferl_node(epmd.port, &cookie).await;
    let bn = b.name();
    let stack = Atom::new("stack");
    let spid = gen_server::start(&b, Stack::default(), Some(stack))
        .await
        .unwrap();

    let got = in_process(&a, move |mut p: Process| async move {
        let mut out = Vec::new();
        for (m, f, args) in [
            ("Elixir.Greet", "say", vec![Term::from("alice")]),
            ("Elixir.Fx", "value", vec![]),
            ("Elixir.Fx", "throw", vec![]),
            ("Elixir.Fx", "exit", vec![]),
            ("Elixir.Fx", "error", vec![]),
            ("Elixir.Greet", "nope", vec![]),
            ("Nope", "f", vec![Term::Int(1)]),
            ("Elixir.Greet", "say", vec![]),
            ("Elixir.Fx", "killed", vec![]),
            ("Elixir.Fx", "panic", vec![]),
        ] {
            out.push(rpc::call(&mut p, bn, m, f, args, T).await);
        }
        let short = Some(Duration::from_millis(200));
        let sleep = vec![Term::Int(1000)];
        out.push(rpc::call(&mut p, bn, "Elixir.Fx", "sleep", sleep, short).await);
        // When the abandoned call ends, nothing of it reaches us.
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let leftover = p.mailbox_len();
        // Cast: B's Fx.note sends `noted` back to us.
        rpc::cast(p.node(), bn, "Elixir.Fx", "note", vec![Term::Pid(p.pid())]);
        let noted = p.receive_timeout(Duration::from_secs(10)).await;
        // multicall: B, ourselves, and a node that does not exist.
        let me = p.node().name();
        let ghost = Atom::new(&format!("ghost@{}", testkit::hostname()));
        let say = vec![Term::from("m")];
        let multi = rpc::multicall(&mut p, &[bn, me, ghost], "Elixir.Greet", "say", say, T).await;
        // rex: rpc:block_call as OTP sends it.
        let block = |m: &str, f: &str, a: Vec<Term>| {
            Term::tuple(vec![
                atom("block_call"),
                atom(m),
                atom(f),
                Term::List(a),
                atom("user"),
            ])
        };
        let rex = Atom::new("rex");
        let b1 = gen_server::call(
            &mut p,
            (rex, bn),
            block("Elixir.Greet", "say", vec![Term::from("r")]),
            T,
        )
        .await;
        let b2 = gen_server::call(&mut p, (rex, bn), block("Elixir.Fx", "error", vec![]), T).await;
        (out, noted, multi, b1, b2, leftover)
    })
    .await;
    let (out, noted, (results, bad), b1, b2, leftover) = got;
    assert_eq!(leftover, 0, "an abandoned call left a message");
    let texts: Vec<String> = out.iter().map(|r| erl(&rpc::to_term(r))).collect();
    assert_eq!(
        texts,
        [
            "<<\"Hello alice, nice to meet you\">>",
            "42",
            "ball",
            "{badrpc,{'EXIT',bye}}",
            "{badrpc,{'EXIT',{boom,[{'Elixir.Fx',error,0,[]}]}}}",
            "{badrpc,{'EXIT',{undef,[{'Elixir.Greet',nope,[],[]}]}}}",
            "{badrpc,{'EXIT',{undef,[{'Nope',f,[1],[]}]}}}",
            "{badrpc,{'EXIT',{undef,[{'Elixir.Greet',say,[],[]}]}}}",
            "{badrpc,{'EXIT',killed}}",
            "{badrpc,{'EXIT',{{panic,<<\"rust went wrong\">>},[{'Elixir.Fx',panic,0,[]}]}}}",
            "{badrpc,timeout}",
        ]
    );
    assert_eq!(
        out[2],
        Err(RpcError::Exception(Exception::Throw(atom("ball"))))
    );
    assert!(out[5].as_ref().unwrap_err().is_undef());
    assert_eq!(out[8], Err(RpcError::Signal(atom("killed"))));
    assert!(out[10].as_ref().unwrap_err().is_timeout());
    assert_eq!(noted, Some(atom("noted")));
    let hello = Term::from("Hello m, nice to meet you");
    assert_eq!(results, vec![hello.clone(), hello]);
    assert_eq!(bad.len(), 1);
    assert_eq!(b1, Ok(Term::from("Hello r, nice to meet you")));
    assert_eq!(
        erl(&b2.unwrap()),
        "{badrpc,{'EXIT',{boom,[{'Elixir.Fx',error,0,[]}]}}}"
    );

    // GenServer across the nodes: by {name, node} and by pid, cast, noproc, timeout.
    let got = in_process(&a, move |mut p: Process| async move {
        let at = (stack, bn);
        gen_server::cast(&p, at, Term::tuple(vec![atom("push"), Term::Int(1)]));
        let peek = gen_server::call(&mut p, at, atom("peek"), T).await;
        let pop = gen_server::call(&mut p, spid, atom("pop"), T).await;
        let defer = Term::tuple(vec![atom("defer"), Term::Int(50)]);
        let deferred = gen_server::call(&mut p, spid, defer, T).await;
        let missing = gen_server::call(&mut p, (Atom::new("nobody"), bn), atom("x"), T).await;
        let short = Some(Duration::from_millis(200));
        let timeout = gen_server::call(&mut p, at, atom("sleep"), short).await;
        (peek, pop, deferred, missing, timeout)
    })
    .await;
    assert_eq!(got.0, Ok(Term::List(vec![Term::Int(1)])));
    assert_eq!(got.1, Ok(Term::Int(1)));
    assert_eq!(got.2, Ok(atom("deferred")));
    assert_eq!(got.3, Err(CallError::NoProc));
    assert_eq!(got.4, Err(CallError::Timeout));

    // B goes down: rpc gives nodedown, a gen_server call {nodedown, B}.
    b.stop();
    let r = a
        .rpc_call(bn, "Elixir.Greet", "say", vec![Term::from("x")], T)
        .await;
    assert!(r.as_ref().unwrap_err().is_nodedown(), "{r:?}");
    let g = in_process(&a, move |mut p: Process| async move {
        gen_server::call(&mut p, (stack, bn), atom("peek"), T).await
    })
    .await;
    assert_eq!(g, Err(CallError::NodeDown(bn)));
    a.stop();
}
