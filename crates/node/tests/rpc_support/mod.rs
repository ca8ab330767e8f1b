//! Helpers for the rpc / gen_server interop tests: ferl nodes on a test's own epmd with the
//! test functions `Fx.*` defined, a `Stack` GenServer, and running code in a ferl process.
#![allow(dead_code)]

use ferl::gen_server::{CallResponse, GenServer, Next, ReplyTo};
use ferl::{Exception, ExitReason, Node, NodeName, Process, StartOptions, Term};
use std::future::Future;
use std::time::Duration;
use testkit::BeamNode;

pub const T: Option<Duration> = Some(Duration::from_secs(15));

/// A distributed ferl node with `Fx.*` defined (`rex` is one of the system processes every
/// node starts).
pub async fn ferl_node(epmd_port: u16, cookie: &str) -> Node {
    let mut o = StartOptions::new(NodeName::Short(testkit::unique_name("ferl")));
    o.cookie = Some(cookie.to_string());
    o.epmd_port = Some(epmd_port);
    let node = Node::start(o).await.expect("ferl node starts");
    define_fx(&node);
    node
}

pub fn atom(s: &str) -> Term {
    Term::atom(s)
}

/// `Fx`: one function per outcome of §5.2.
pub fn define_fx(node: &Node) {
    const FX: &str = "Elixir.Fx";
    node.def_fn(FX, "value", 0, |_| async { Term::Int(42) });
    node.def_fn(FX, "throw", 0, |_| async {
        Err::<Term, _>(Exception::throw(atom("ball")))
    });
    node.def_fn(FX, "exit", 0, |_| async {
        Err::<Term, _>(Exception::exit(atom("bye")))
    });
    node.def_fn(FX, "error", 0, |_| async {
        Err::<Term, _>(Exception::error(atom("boom")))
    });
    node.def_fn(FX, "panic", 0, |_| async {
        if true {
            panic!("rust went wrong");
        }
        Term::nil()
    });
    node.def_fn(FX, "sleep", 1, |args: Vec<Term>| async move {
        let ms = args[0].as_int().unwrap_or(0) as u64;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        atom("slept")
    });
    // Dies of an untrappable kill: not an exception, a signal.
    node.def_fn_in_process(FX, "killed", 0, |p: Process, _| async move {
        p.exit(p.pid(), ExitReason::kill());
        std::future::pending::<()>().await;
        Term::nil()
    });
    // Sends `noted` to the pid given.
    node.def_fn_in_process(FX, "note", 1, |p: Process, args: Vec<Term>| async move {
        if let Some(Term::Pid(to)) = args.first() {
            p.send(*to, atom("noted"));
        }
        atom("ok")
    });
}

/// Run `body` as a ferl process and get its result.
pub async fn in_process<R, F, Fut>(node: &Node, body: F) -> R
where
    R: Send + 'static,
    F: FnOnce(Process) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    node.spawn(move |p| {
        let fut = body(p);
        async move {
            let _ = tx.send(fut.await);
        }
    });
    tokio::time::timeout(Duration::from_secs(60), rx)
        .await
        .expect("test process timed out")
        .expect("test process died")
}

/// Evaluate on a BEAM node from a multi-thread tokio test.
pub fn eval(b: &mut BeamNode, expr: &str) -> String {
    tokio::task::block_in_place(|| b.eval_ok(expr))
}

/// A stack GenServer: `{push, X}` cast, `pop`/`peek` calls, `sleep` never answers,
/// `{defer, Ms}` answers later from another process.
#[derive(Default)]
pub struct Stack {
    pub items: Vec<Term>,
}

impl GenServer for Stack {
    async fn handle_call(&mut self, req: Term, from: ReplyTo, p: &mut Process) -> CallResponse {
        if let Some([tag, Term::Int(ms)]) = req.as_tuple() {
            if tag.is_atom("defer") {
                let ms = *ms as u64;
                p.spawn(move |q: Process| async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    from.reply(&q, atom("deferred"));
                });
                return CallResponse::NoReply;
            }
        }
        if req.is_atom("pop") {
            CallResponse::Reply(self.items.pop().unwrap_or_else(|| atom("empty")))
        } else if req.is_atom("peek") {
            CallResponse::Reply(Term::List(self.items.clone()))
        } else if req.is_atom("sleep") {
            CallResponse::NoReply
        } else {
            CallResponse::Reply(Term::tuple(vec![atom("unknown"), req]))
        }
    }

    async fn handle_cast(&mut self, req: Term, _p: &mut Process) -> Next {
        if let Some([tag, x]) = req.as_tuple() {
            if tag.is_atom("push") {
                self.items.push(x.clone());
            }
        }
        Next::Continue
    }
}
