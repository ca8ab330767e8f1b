//! rpc between ferl and a real Elixir 1.14 / OTP 25 node, both directions (never skipped):
//! iex calls ferl (every row of research §5.2, the tutorial's Greet call, casts, block_call);
//! ferl calls Elixir (Greet defined in Elixir, BIFs, raise/throw/exit/undef, timeout, node down).

mod rpc_support;

use ferl::rpc::{self, RpcError};
use ferl::{Atom, Class, Exception, Node, Process, Term};
use rpc_support::*;
use std::time::Duration;
use testkit::{BeamNode, RealEpmd};

async fn elixir_and_ferl() -> (RealEpmd, BeamNode, Node) {
    let epmd = RealEpmd::start();
    let ex = tokio::task::block_in_place(|| BeamNode::elixir(epmd.port));
    let ferl = ferl_node(epmd.port, &ex.opts.cookie).await;
    (epmd, ex, ferl)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iex_calls_ferl_every_outcome() {
    let (_epmd, mut ex, ferl) = elixir_and_ferl().await;
    eval(&mut ex, &format!("f = :\"{}\"", ferl.name()));
    eval(
        &mut ex,
        &format!("ghost = :\"ghost@{}\"", testkit::hostname()),
    );
    let cases: &[(&str, &str)] = &[
        // The tutorial's first act.
        (
            r#":rpc.call(f, Greet, :say, ["alice"])"#,
            r#""Hello alice, nice to meet you""#,
        ),
        // §5.2, :rpc.call column.
        (":rpc.call(f, Fx, :value, [])", "42"),
        (":rpc.call(f, Fx, :throw, [])", ":ball"),
        (":rpc.call(f, Fx, :exit, [])", "{:badrpc, {:EXIT, :bye}}"),
        (
            ":rpc.call(f, Fx, :error, [])",
            "{:badrpc, {:EXIT, {:boom, [{Fx, :error, 0, []}]}}}",
        ),
        (
            ":rpc.call(f, Greet, :nope, [])",
            "{:badrpc, {:EXIT, {:undef, [{Greet, :nope, [], []}]}}}",
        ),
        (
            ":rpc.call(f, Nope, :f, [1])",
            "{:badrpc, {:EXIT, {:undef, [{Nope, :f, [1], []}]}}}",
        ),
        (
            ":rpc.call(f, Greet, :say, [])",
            "{:badrpc, {:EXIT, {:undef, [{Greet, :say, [], []}]}}}",
        ),
        (
            ":rpc.call(f, Fx, :killed, [])",
            "{:badrpc, {:EXIT, :killed}}",
        ),
        (
            ":rpc.call(f, Fx, :panic, [])",
            r#"{:badrpc, {:EXIT, {{:panic, "rust went wrong"}, [{Fx, :panic, 0, []}]}}}"#,
        ),
        (
            ":rpc.call(f, Fx, :sleep, [3000], 200)",
            "{:badrpc, :timeout}",
        ),
        // The node is fine after a panic and a timeout.
        (
            r#":rpc.call(f, Greet, :say, ["again"])"#,
            r#""Hello again, nice to meet you""#,
        ),
        // §5.2, :erpc.call column.
        (
            "try do :erpc.call(f, Fx, :value, []) catch k, r -> {k, r} end",
            "42",
        ),
        (
            "try do :erpc.call(f, Fx, :throw, []) catch k, r -> {k, r} end",
            "{:throw, :ball}",
        ),
        (
            "try do :erpc.call(f, Fx, :exit, []) catch k, r -> {k, r} end",
            "{:exit, {:exception, :bye}}",
        ),
        (
            "try do :erpc.call(f, Fx, :error, []) catch k, r -> {k, r} end",
            "{:error, {:exception, :boom, [{Fx, :error, 0, []}]}}",
        ),
        (
            "try do :erpc.call(f, Greet, :nope, []) catch k, r -> {k, r} end",
            "{:error, {:exception, :undef, [{Greet, :nope, [], []}]}}",
        ),
        (
            "try do :erpc.call(f, Fx, :killed, []) catch k, r -> {k, r} end",
            "{:exit, {:signal, :killed}}",
        ),
        (
            "try do :erpc.call(f, Fx, :sleep, [3000], 200) catch k, r -> {k, r} end",
            "{:error, {:erpc, :timeout}}",
        ),
        // Casts.
        (":rpc.cast(f, Fx, :note, [self()])", "true"),
        ("receive do :noted -> :got after 5000 -> :none end", ":got"),
        (":erpc.cast(f, Fx, :note, [self()])", ":ok"),
        ("receive do :noted -> :got after 5000 -> :none end", ":got"),
        // rex.
        (
            r#":rpc.block_call(f, Greet, :say, ["bob"])"#,
            r#""Hello bob, nice to meet you""#,
        ),
        (
            ":rpc.block_call(f, Fx, :error, [])",
            "{:badrpc, {:EXIT, {:boom, [{Fx, :error, 0, []}]}}}",
        ),
        (
            ":rpc.block_call(f, Greet, :nope, [])",
            "{:badrpc, {:EXIT, {:undef, [{Greet, :nope, [], []}]}}}",
        ),
        // multicall.
        (
            r#"{res, bad} = :rpc.multicall([f, ghost], Greet, :say, ["x"]); {res, bad == [ghost]}"#,
            r#"{["Hello x, nice to meet you"], true}"#,
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(&eval(&mut ex, expr), want, "{expr}");
    }
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferl_calls_elixir() {
    let (_epmd, mut ex, ferl) = elixir_and_ferl().await;
    eval(
        &mut ex,
        r#"
        defmodule Greet do
          def say(name), do: "Hello #{name}, nice to meet you"
        end
        defmodule Boom do
          def raise_it, do: raise "boom"
          def throw_it, do: throw(:ball)
          def exit_it, do: exit(:bye)
        end
        :ok
        "#,
    );
    let beam = Atom::new(&ex.node);
    let me = ferl.name();
    let got = in_process(&ferl, move |mut p: Process| async move {
        let c = |m: &str, f: &str, a: Vec<Term>| (Atom::new(m), Atom::new(f), a);
        let calls = vec![
            c("Elixir.Greet", "say", vec![Term::from("alice")]),
            c("erlang", "node", vec![]),
            c(
                "lists",
                "reverse",
                vec![Term::List(vec![Term::Int(1), Term::Int(2)])],
            ),
            c("Elixir.Boom", "raise_it", vec![]),
            c("Elixir.Boom", "throw_it", vec![]),
            c("Elixir.Boom", "exit_it", vec![]),
            c("Elixir.Greet", "nope", vec![]),
        ];
        let mut out = Vec::new();
        for (m, f, a) in calls {
            out.push(rpc::call(&mut p, beam, m, f, a, T).await);
        }
        let short = Some(Duration::from_millis(300));
        let sleep = vec![Term::Int(3000)];
        out.push(rpc::call(&mut p, beam, "timer", "sleep", sleep, short).await);
        // A cast: the Elixir node sends us `casted`.
        let args = vec![Term::Pid(p.pid()), atom("casted")];
        rpc::cast(p.node(), beam, "erlang", "send", args);
        let casted = p.receive_timeout(Duration::from_secs(10)).await;
        let ghost = Atom::new(&format!("ghost@{}", testkit::hostname()));
        let nodes = [beam, me, ghost];
        let arg = vec![Term::from("m")];
        let multi = rpc::multicall(&mut p, &nodes, "Elixir.Greet", "say", arg, T).await;
        (out, casted, multi)
    })
    .await;
    let (out, casted, (results, bad)) = got;
    assert_eq!(out[0], Ok(Term::from("Hello alice, nice to meet you")));
    assert_eq!(out[1], Ok(Term::Atom(beam)));
    assert_eq!(out[2], Ok(Term::List(vec![Term::Int(2), Term::Int(1)])));
    match &out[3] {
        Err(RpcError::Exception(e @ Exception::Error { reason, stack })) => {
            assert_eq!(e.class(), Class::Error);
            let key = atom("__struct__");
            assert_eq!(reason.map_get(&key), Some(&atom("Elixir.RuntimeError")));
            assert!(stack
                .erlang()
                .to_string()
                .contains("'Elixir.Boom',raise_it,0"));
        }
        other => panic!("raise: {other:?}"),
    }
    assert_eq!(
        out[4],
        Err(RpcError::Exception(Exception::Throw(atom("ball"))))
    );
    assert_eq!(
        out[5],
        Err(RpcError::Exception(Exception::Exit(atom("bye"))))
    );
    assert!(out[6].as_ref().unwrap_err().is_undef(), "{:?}", out[6]);
    assert_eq!(
        rpc::to_term(&out[6]).erlang().to_string(),
        "{badrpc,{'EXIT',{undef,[{'Elixir.Greet',nope,[],[]}]}}}"
    );
    assert_eq!(out[7], Err(RpcError::Timeout));
    assert_eq!(casted, Some(atom("casted")));
    let hello = Term::from("Hello m, nice to meet you");
    assert_eq!(results, vec![hello.clone(), hello]);
    assert_eq!(bad.len(), 1);

    // Node down: the Elixir node dies; the next call is {badrpc, nodedown}.
    tokio::task::block_in_place(|| ex.kill());
    let r = ferl
        .rpc_call(beam, "Elixir.Greet", "say", vec![Term::from("x")], T)
        .await;
    assert!(r.as_ref().unwrap_err().is_nodedown(), "{r:?}");
    assert_eq!(rpc::to_term(&r).erlang().to_string(), "{badrpc,nodedown}");
    ferl.stop();
}
