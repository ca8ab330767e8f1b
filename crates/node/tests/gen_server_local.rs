//! gen_server on one node: start/init/registration, call by pid, name and {Name, Node}, cast,
//! info, deferred replies, stop, and the exit reasons of failed calls (noproc, timeout, the
//! server's crash reason, calling_self).

mod common;
use common::*;
use ferl::gen_server::{self, CallError, CallResponse, GenServer, Next, ReplyTo, StartError};
use ferl::{Atom, ExitReason, Node, Process, Term};
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(10));

/// A stack server: push (cast), pop/peek (call), `{defer, Ms}` replies later from a helper,
/// `sleep` never replies, `crash` stops with `boom`, info `{put, X}` pushes too.
#[derive(Default)]
struct Stack {
    items: Vec<Term>,
}

impl GenServer for Stack {
    async fn handle_call(&mut self, req: Term, from: ReplyTo, p: &mut Process) -> CallResponse {
        match req.as_tuple() {
            Some([tag, Term::Int(ms)]) if tag.is_atom("defer") => {
                let ms = *ms as u64;
                p.spawn(move |q: Process| async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    gen_server::reply(&q, &from, atom("deferred"));
                });
                return CallResponse::NoReply;
            }
            _ => {}
        }
        if req.is_atom("pop") {
            CallResponse::Reply(self.items.pop().unwrap_or_else(|| atom("empty")))
        } else if req.is_atom("peek") {
            CallResponse::Reply(Term::List(self.items.clone()))
        } else if req.is_atom("sleep") {
            CallResponse::NoReply
        } else if req.is_atom("stop") {
            CallResponse::Stop {
                reason: ExitReason::normal(),
                reply: Some(atom("stopping")),
            }
        } else {
            CallResponse::Stop {
                reason: ExitReason::atom("boom"),
                reply: None,
            }
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

    async fn handle_info(&mut self, msg: Term, _p: &mut Process) -> Next {
        if let Some([tag, x]) = msg.as_tuple() {
            if tag.is_atom("put") {
                self.items.push(x.clone());
            }
        }
        Next::Continue
    }
}

fn push(x: i64) -> Term {
    Term::tuple(vec![atom("push"), Term::Int(x)])
}

#[tokio::test]
async fn call_cast_info_by_pid_name_and_name_at_node() {
    let node = Node::local("gs1@test", 1);
    let name = Atom::new("stack");
    let pid = gen_server::start(&node, Stack::default(), Some(name))
        .await
        .unwrap();
    assert_eq!(node.whereis(name), Some(pid));
    let here = node.name();
    let got = in_process(&node, move |mut p: Process| async move {
        gen_server::cast(&p, pid, push(1));
        gen_server::cast(&p, name, push(2));
        gen_server::cast(&p, (name, here), push(3));
        p.send(pid, Term::tuple(vec![atom("put"), Term::Int(4)]));
        let peek = gen_server::call(&mut p, pid, atom("peek"), T).await;
        let a = gen_server::call(&mut p, name, atom("pop"), T).await;
        let b = gen_server::call(&mut p, (name, here), atom("pop"), None).await;
        (peek, a, b, p.mailbox_len())
    })
    .await;
    let ints = |v: &[i64]| Term::List(v.iter().map(|i| Term::Int(*i)).collect());
    assert_eq!(got.0, Ok(ints(&[1, 2, 3, 4])));
    assert_eq!(got.1, Ok(Term::Int(4)));
    assert_eq!(got.2, Ok(Term::Int(3)));
    assert_eq!(got.3, 0, "no DOWN or reply left behind");
}

#[tokio::test]
async fn failed_calls_exit_like_gen_server() {
    let node = Node::local("gs2@test", 1);
    let pid = gen_server::start(&node, Stack::default(), None)
        .await
        .unwrap();
    let got = in_process(&node, move |mut p: Process| async move {
        let missing = gen_server::call(&mut p, "nobody", atom("pop"), T).await;
        let short = Some(Duration::from_millis(100));
        let timeout = gen_server::call(&mut p, pid, atom("sleep"), short).await;
        let crash = gen_server::call(&mut p, pid, atom("crash"), T).await;
        let dead = gen_server::call(&mut p, pid, atom("pop"), T).await;
        let me = p.pid();
        let selfcall = gen_server::call(&mut p, me, atom("pop"), T).await;
        (missing, timeout, crash, dead, selfcall)
    })
    .await;
    assert_eq!(got.0, Err(CallError::NoProc));
    assert_eq!(got.1, Err(CallError::Timeout));
    assert_eq!(got.2, Err(CallError::Exit(atom("boom"))));
    assert_eq!(got.3, Err(CallError::NoProc));
    assert_eq!(got.4, Err(CallError::CallingSelf));
    assert_eq!(got.2.unwrap_err().reason(), atom("boom"));
}

#[tokio::test]
async fn deferred_reply_and_stop_with_reply() {
    let node = Node::local("gs3@test", 1);
    let pid = gen_server::start(&node, Stack::default(), None)
        .await
        .unwrap();
    let got = in_process(&node, move |mut p: Process| async move {
        let defer = Term::tuple(vec![atom("defer"), Term::Int(50)]);
        let d = gen_server::call(&mut p, pid, defer, T).await;
        // A reply after the caller gave up is dropped (the alias is gone), not left behind.
        let late = Term::tuple(vec![atom("defer"), Term::Int(200)]);
        let short = Some(Duration::from_millis(20));
        let t = gen_server::call(&mut p, pid, late, short).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let left = p.mailbox_len();
        let s = gen_server::call(&mut p, pid, atom("stop"), T).await;
        (d, s, t, left)
    })
    .await;
    assert_eq!(got.0, Ok(atom("deferred")));
    assert_eq!(got.1, Ok(atom("stopping")));
    assert_eq!(got.2, Err(CallError::Timeout));
    assert_eq!(got.3, 0);
    wait_dead(&node, pid).await;
}

struct Failing;

impl GenServer for Failing {
    async fn init(&mut self, _p: &mut Process) -> Result<(), Term> {
        Err(atom("no_way"))
    }
}

#[tokio::test]
async fn start_reports_taken_names_and_init_errors() {
    let node = Node::local("gs4@test", 1);
    let name = Atom::new("only");
    let first = gen_server::start(&node, Stack::default(), Some(name))
        .await
        .unwrap();
    let again = gen_server::start(&node, Stack::default(), Some(name)).await;
    assert_eq!(again, Err(StartError::AlreadyStarted(first)));
    let failed = gen_server::start(&node, Failing, None).await;
    assert_eq!(failed, Err(StartError::Init(atom("no_way"))));
}

#[tokio::test]
async fn multi_call_and_alias_tags_are_echoed() {
    // Replies echo any tag: `{Ref, Node}` (multi_call) goes to the pid, `[alias|A]` to the alias.
    let node = Node::local("gs5@test", 1);
    let pid = gen_server::start(&node, Stack::default(), None)
        .await
        .unwrap();
    let got = in_process(&node, move |mut p: Process| async move {
        let r = p.make_ref();
        let tag = Term::tuple(vec![Term::Ref(r), Term::Atom(p.node().name())]);
        let from = Term::tuple(vec![Term::Pid(p.pid()), tag.clone()]);
        p.send(
            pid,
            Term::tuple(vec![atom("$gen_call"), from, atom("peek")]),
        );
        let multi = p.receive_timeout(Duration::from_secs(10)).await;
        let alias = p.alias();
        let tag2 = Term::ImproperList(vec![atom("alias")], Box::new(Term::Ref(alias)));
        let from2 = Term::tuple(vec![Term::Pid(p.pid()), tag2.clone()]);
        p.send(
            pid,
            Term::tuple(vec![atom("$gen_call"), from2, atom("pop")]),
        );
        let aliased = p.receive_timeout(Duration::from_secs(10)).await;
        (tag, multi, tag2, aliased)
    })
    .await;
    assert_eq!(got.1, Some(Term::tuple(vec![got.0, Term::nil()])));
    assert_eq!(got.3, Some(Term::tuple(vec![got.2, atom("empty")])));
}
