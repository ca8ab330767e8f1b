//! rpc on one node, no network: defined functions and every outcome (value, throw, exit, error
//! with stack, undef, panic, timeout), the raw erpc exit-reason protocol, casts, multicall, rex.

mod common;
use common::*;
use ferl::gen_server;
use ferl::rpc::{self, RpcError};
use ferl::{Atom, Exception, Node, Process, SpawnOpts, Term};
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(10));

fn greet_node(name: &str) -> Node {
    let node = Node::local(name, 1);
    node.def_fn("Elixir.Greet", "say", 1, |args: Vec<Term>| async move {
        let name = args[0].as_str().unwrap_or("?").to_string();
        Term::from(format!("Hello {name}, nice to meet you"))
    });
    node.def_fn("m", "throw", 0, |_| async {
        Err::<Term, _>(Exception::throw(atom("ball")))
    });
    node.def_fn("m", "exit", 0, |_| async {
        Err::<Term, _>(Exception::exit(atom("bye")))
    });
    node.def_fn("m", "error", 0, |_| async {
        Err::<Term, _>(Exception::error(atom("boom")))
    });
    node.def_fn("m", "panic", 1, |_| async {
        if true {
            panic!("rust went wrong");
        }
        Term::nil()
    });
    node.def_fn("m", "sleep", 1, |args: Vec<Term>| async move {
        let ms = args[0].as_int().unwrap_or(0) as u64;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        atom("slept")
    });
    node.def_fn("m", "exit_tuple", 0, |_| async {
        Term::tuple(vec![atom("EXIT"), atom("fake")])
    });
    node
}

async fn call(node: &Node, m: &str, f: &str, args: Vec<Term>) -> rpc::RpcResult {
    let me = node.name();
    let (m, f) = (Atom::new(m), Atom::new(f));
    in_process(node, move |mut p: Process| async move {
        rpc::call(&mut p, me, m, f, args, T).await
    })
    .await
}

fn erl(t: &Term) -> String {
    t.erlang().to_string()
}

#[tokio::test]
async fn every_outcome_maps_like_rpc_call() {
    let node = greet_node("rpc1@test");
    let r = call(&node, "Elixir.Greet", "say", vec![Term::from("alice")]).await;
    assert_eq!(r, Ok(Term::from("Hello alice, nice to meet you")));

    let r = call(&node, "m", "throw", vec![]).await;
    assert_eq!(r, Err(RpcError::Exception(Exception::Throw(atom("ball")))));
    assert_eq!(erl(&rpc::to_term(&r)), "ball");

    let r = call(&node, "m", "exit", vec![]).await;
    assert_eq!(erl(&rpc::to_term(&r)), "{badrpc,{'EXIT',bye}}");

    // An error without an explicit stack gets the called function as its stack.
    let r = call(&node, "m", "error", vec![]).await;
    assert_eq!(
        erl(&rpc::to_term(&r)),
        "{badrpc,{'EXIT',{boom,[{m,error,0,[]}]}}}"
    );

    // undef: missing module, missing function, wrong arity; the stack shows the arguments.
    for (m, f, args, want) in [
        (
            "nope",
            "f",
            vec![],
            "{badrpc,{'EXIT',{undef,[{nope,f,[],[]}]}}}",
        ),
        (
            "Elixir.Greet",
            "nope",
            vec![],
            "{badrpc,{'EXIT',{undef,[{'Elixir.Greet',nope,[],[]}]}}}",
        ),
        (
            "Elixir.Greet",
            "say",
            vec![Term::Int(1), Term::Int(2)],
            "{badrpc,{'EXIT',{undef,[{'Elixir.Greet',say,[1,2],[]}]}}}",
        ),
    ] {
        let r = call(&node, m, f, args).await;
        assert!(r.as_ref().unwrap_err().is_undef(), "{r:?}");
        assert_eq!(erl(&rpc::to_term(&r)), want);
    }

    // A value that looks like a crash is wrapped, as rpc.erl does.
    let r = call(&node, "m", "exit_tuple", vec![]).await;
    assert_eq!(r, Ok(Term::tuple(vec![atom("EXIT"), atom("fake")])));
    assert_eq!(erl(&rpc::to_term(&r)), "{badrpc,{'EXIT',fake}}");
}

#[tokio::test]
async fn a_panic_is_an_error_and_the_node_lives_on() {
    let node = greet_node("rpc2@test");
    let r = call(&node, "m", "panic", vec![Term::Int(1)]).await;
    assert_eq!(
        erl(&rpc::to_term(&r)),
        "{badrpc,{'EXIT',{{panic,<<\"rust went wrong\">>},[{m,panic,1,[]}]}}}"
    );
    let r = call(&node, "Elixir.Greet", "say", vec![Term::from("bob")]).await;
    assert_eq!(r, Ok(Term::from("Hello bob, nice to meet you")));
}

#[tokio::test]
async fn timeout_gives_badrpc_timeout_and_leaves_no_message() {
    let node = greet_node("rpc3@test");
    let me = node.name();
    let (r, left) = in_process(&node, move |mut p: Process| async move {
        let r = rpc::call(
            &mut p,
            me,
            "m",
            "sleep",
            vec![Term::Int(2000)],
            Some(Duration::from_millis(100)),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(2300)).await;
        (r, p.mailbox_len())
    })
    .await;
    assert_eq!(r, Err(RpcError::Timeout));
    assert_eq!(erl(&RpcError::Timeout.to_term()), "{badrpc,timeout}");
    assert_eq!(left, 0, "the late DOWN must not be left in the mailbox");
}

#[tokio::test]
async fn node_without_distribution_reports_nodedown() {
    let node = greet_node("rpc4@test");
    let r = node
        .rpc_call(
            "ghost@nowhere",
            "Elixir.Greet",
            "say",
            vec![Term::from("x")],
            T,
        )
        .await;
    assert!(r.as_ref().unwrap_err().is_nodedown(), "{r:?}");
    assert_eq!(erl(&rpc::to_term(&r)), "{badrpc,nodedown}");
    let (class, reason) = r.unwrap_err().to_erpc_exception();
    assert_eq!(class, ferl::Class::Error);
    assert_eq!(erl(&reason), "{erpc,noconnection}");
}

#[tokio::test]
async fn execute_call_exit_reasons_are_erpcs() {
    // erpc:execute_call(Res, M, F, A) spawned with a monitor, as a SPAWN_REQUEST does.
    let node = greet_node("rpc5@test");
    let reasons = in_process(&node, |mut p: Process| async move {
        let mut out = Vec::new();
        for (f, arity) in [
            ("say", 1),
            ("throw", 0),
            ("exit", 0),
            ("error", 0),
            ("nope", 0),
        ] {
            let res = p.make_ref();
            let m = if f == "say" { "Elixir.Greet" } else { "m" };
            let args = (0..arity).map(|_| Term::from("ann")).collect::<Vec<_>>();
            let erpc_args = vec![Term::Ref(res), atom(m), atom(f), Term::List(args)];
            let r = p.make_ref();
            let opts = SpawnOpts {
                link_to: None,
                monitor_by: Some((p.pid(), r)),
            };
            p.node()
                .spawn_mfa(rpc::erpc_atom(), rpc::execute_call_atom(), erpc_args, opts)
                .unwrap();
            let reason = p
                .receive_match(|x| down_msg(x).filter(|d| d.0 == r).map(|d| d.2), T)
                .await
                .unwrap();
            // Replace the ref by `Res` so the text is stable.
            let mut items = reason.as_tuple().unwrap().to_vec();
            assert_eq!(items[0], Term::Ref(res));
            items[0] = atom("Res");
            out.push(erl(&Term::tuple(items)));
        }
        out
    })
    .await;
    assert_eq!(
        reasons,
        [
            "{'Res',return,<<\"Hello ann, nice to meet you\">>}",
            "{'Res',throw,ball}",
            "{'Res',exit,bye}",
            "{'Res',error,boom,[{m,error,0,[]}]}",
            "{'Res',error,undef,[{m,nope,[],[]}]}",
        ]
    );
}

#[tokio::test]
async fn typed_functions_decode_args_and_report_function_clause() {
    let node = Node::local("rpc6@test", 1);
    node.def_fn_typed("calc", "add", 2, |(a, b): (i64, i64)| async move {
        Ok::<_, Exception>(a + b)
    });
    let r = call(&node, "calc", "add", vec![Term::Int(2), Term::Int(40)]).await;
    assert_eq!(r, Ok(Term::Int(42)));
    let r = call(&node, "calc", "add", vec![atom("x"), Term::Int(1)]).await;
    assert_eq!(
        erl(&rpc::to_term(&r)),
        "{badrpc,{'EXIT',{function_clause,[{calc,add,[x,1],[]}]}}}"
    );
}

#[tokio::test]
async fn cast_runs_the_function_and_multicall_splits_bad_nodes() {
    let node = greet_node("rpc7@test");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    node.def_fn("m", "note", 1, move |args: Vec<Term>| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(args[0].clone());
            atom("ok")
        }
    });
    rpc::cast(&node, node.name(), "m", "note", vec![Term::Int(7)]);
    let got = tokio::time::timeout(LIMIT, rx.recv()).await.unwrap();
    assert_eq!(got, Some(Term::Int(7)));

    let me = node.name();
    let ghost = Atom::new("ghost@nowhere");
    let (results, bad) = in_process(&node, move |mut p: Process| async move {
        let nodes = [me, ghost, me];
        rpc::multicall(
            &mut p,
            &nodes,
            "Elixir.Greet",
            "say",
            vec![Term::from("al")],
            T,
        )
        .await
    })
    .await;
    let hello = Term::from("Hello al, nice to meet you");
    assert_eq!(results, vec![hello.clone(), hello]);
    assert_eq!(bad, vec![ghost]);
}

#[tokio::test]
async fn rex_answers_block_call_and_call() {
    let node = greet_node("rpc8@test");
    rpc::rex::start(&node);
    let got = in_process(&node, |mut p: Process| async move {
        let mut out = Vec::new();
        for (tag, m, f, args) in [
            ("block_call", "Elixir.Greet", "say", vec![Term::from("rex")]),
            ("call", "m", "error", vec![]),
            ("block_call", "m", "throw", vec![]),
            ("block_call", "nope", "f", vec![Term::Int(1)]),
        ] {
            let req = Term::tuple(vec![
                atom(tag),
                atom(m),
                atom(f),
                Term::List(args),
                atom("user"),
            ]);
            let r = gen_server::call(&mut p, "rex", req, T).await.unwrap();
            out.push(erl(&r));
        }
        out
    })
    .await;
    assert_eq!(
        got,
        [
            "<<\"Hello rex, nice to meet you\">>",
            "{badrpc,{'EXIT',{boom,[{m,error,0,[]}]}}}",
            "ball",
            "{badrpc,{'EXIT',{undef,[{nope,f,[1],[]}]}}}",
        ]
    );
}
