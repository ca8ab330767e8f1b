//! gen_server between ferl and a real Elixir 1.14 / OTP 25 node, both directions (never
//! skipped): GenServer.call/cast from Elixir to a ferl GenServer by {name, node} and by pid,
//! multi_call, noproc, timeout; ferl calling an Elixir GenServer, and the node going down.

mod rpc_support;

use ferl::gen_server::{self, CallError};
use ferl::rpc;
use ferl::{Atom, Process, Term};
use rpc_support::*;
use std::time::Duration;
use testkit::{BeamNode, RealEpmd};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elixir_calls_a_ferl_gen_server() {
    let epmd = RealEpmd::start();
    let mut ex = tokio::task::block_in_place(|| BeamNode::elixir(epmd.port));
    let ferl = ferl_node(epmd.port, &ex.opts.cookie).await;
    let pid = gen_server::start(&ferl, Stack::default(), Some(Atom::new("stack")))
        .await
        .unwrap();
    eval(&mut ex, &format!("f = :\"{}\"", ferl.name()));
    eval(&mut ex, "Process.register(self(), :shell)");
    let beam = Atom::new(&ex.node);
    ferl.send_to(
        Atom::new("shell"),
        beam,
        Term::tuple(vec![atom("stack_pid"), Term::Pid(pid)]),
    )
    .unwrap();
    let cases: &[(&str, &str)] = &[
        ("GenServer.cast({:stack, f}, {:push, 1})", ":ok"),
        ("GenServer.call({:stack, f}, :peek)", "[1]"),
        ("sp = receive do {:stack_pid, p} -> p after 5000 -> nil end; is_pid(sp)", "true"),
        ("GenServer.cast(sp, {:push, 2})", ":ok"),
        ("GenServer.call(sp, :pop)", "2"),
        ("GenServer.call({:stack, f}, {:defer, 50})", ":deferred"),
        (
            "{replies, bad} = :gen_server.multi_call([f], :stack, :peek); {replies == [{f, [1]}], bad}",
            "{true, []}",
        ),
        (
            "try do GenServer.call({:nobody, f}, :x) catch :exit, r -> r end == \
             {:noproc, {GenServer, :call, [{:nobody, f}, :x, 5000]}}",
            "true",
        ),
        (
            "try do GenServer.call({:stack, f}, :sleep, 300) catch :exit, r -> elem(r, 0) end",
            ":timeout",
        ),
        ("GenServer.call({:stack, f}, :pop)", "1"),
        ("GenServer.call({:stack, f}, :pop)", ":empty"),
    ];
    for (expr, want) in cases {
        assert_eq!(&eval(&mut ex, expr), want, "{expr}");
    }
    ferl.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferl_calls_an_elixir_gen_server() {
    let epmd = RealEpmd::start();
    let mut ex = tokio::task::block_in_place(|| BeamNode::elixir(epmd.port));
    let ferl = ferl_node(epmd.port, &ex.opts.cookie).await;
    eval(
        &mut ex,
        r#"
        defmodule Counter do
          use GenServer
          def init(n), do: {:ok, n}
          def handle_call(:get, _from, n), do: {:reply, n, n}
          def handle_call(:slow, _from, n) do
            Process.sleep(1000)
            {:reply, n, n}
          end
          def handle_call(:crash, _from, _n), do: raise "crash"
          def handle_cast({:add, k}, n), do: {:noreply, n + k}
        end
        {:ok, _} = GenServer.start(Counter, 10, name: :counter)
        :ok
        "#,
    );
    let beam = Atom::new(&ex.node);
    let counter = Atom::new("counter");
    let got = in_process(&ferl, move |mut p: Process| async move {
        let at = (counter, beam);
        let a = gen_server::call(&mut p, at, atom("get"), T).await;
        gen_server::cast(&p, at, Term::tuple(vec![atom("add"), Term::Int(5)]));
        let b = gen_server::call(&mut p, at, atom("get"), T).await;
        let whereis = rpc::call(&mut p, beam, "erlang", "whereis", vec![atom("counter")], T).await;
        let by_pid = match whereis {
            Ok(Term::Pid(pid)) => gen_server::call(&mut p, pid, atom("get"), T).await,
            other => panic!("whereis: {other:?}"),
        };
        let missing = gen_server::call(&mut p, (Atom::new("nobody"), beam), atom("get"), T).await;
        let short = Some(Duration::from_millis(200));
        let slow = gen_server::call(&mut p, at, atom("slow"), short).await;
        // Let the late reply arrive: it is dropped, and not mistaken for the next call's.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(p.mailbox_len(), 0, "the late reply went to a dead alias");
        let after = gen_server::call(&mut p, at, atom("get"), T).await;
        let crash = gen_server::call(&mut p, at, atom("crash"), T).await;
        (a, b, by_pid, missing, slow, after, crash)
    })
    .await;
    assert_eq!(got.0, Ok(Term::Int(10)));
    assert_eq!(got.1, Ok(Term::Int(15)));
    assert_eq!(got.2, Ok(Term::Int(15)));
    assert_eq!(got.3, Err(CallError::NoProc));
    assert_eq!(got.4, Err(CallError::Timeout));
    assert_eq!(got.5, Ok(Term::Int(15)));
    match &got.6 {
        Err(CallError::Exit(reason)) => {
            let text = reason.erlang().to_string();
            assert!(text.contains("'Elixir.RuntimeError'"), "{text}");
        }
        other => panic!("crash: {other:?}"),
    }

    // The node goes down while a call waits: {nodedown, Node}.
    eval(
        &mut ex,
        "{:ok, _} = GenServer.start(Counter, 1, name: :counter); :ok",
    );
    let waiting = {
        let ferl = ferl.clone();
        tokio::spawn(async move {
            in_process(&ferl, move |mut p: Process| async move {
                gen_server::call(&mut p, (counter, beam), atom("slow"), T).await
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| ex.kill());
    let r = waiting.await.unwrap();
    assert_eq!(r, Err(CallError::NodeDown(beam)));
    ferl.stop();
}
