//! `rex`, the rpc server every node registers: `rpc:block_call` and older `rpc:call` arrive as
//! gen_server calls `{block_call | call, M, F, A, GroupLeader}`, casts as `{cast, M, F, A, GL}`,
//! and OTP 25 nodes send `{From, features_request}` on connect (rpc.erl's `handle_*`).

use super::apply::apply;
use super::erpc::{erpc_atom, execute_cast_atom};
use crate::exception::Exception;
use crate::gen_server::ReplyTo;
use crate::node::Node;
use crate::process::Process;
use crate::spawn::SpawnOpts;
use etf::{Atom, Pid, Term};

/// Start `rex` on `node`, replacing (and killing) a `rex` registered before.
pub fn start(node: &Node) -> Pid {
    let name = Atom::new("rex");
    if let Some(old) = node.whereis(name) {
        let _ = node.unregister(name);
        node.exit(old, crate::ExitReason::kill());
    }
    let pid = node.spawn(serve);
    if let Err(e) = node.register(name, pid) {
        tracing::error!("cannot register rex: {e}");
    }
    pid
}

/// The body of the `rex` process.
pub async fn serve(mut p: Process) {
    loop {
        let m = p.receive().await;
        handle(&p, m);
    }
}

/// Where a worker's answer goes: a gen_server caller, or an old `{From, {call, ...}}` sender
/// (answered `{rex, Reply}`).
enum Answer {
    Gen(ReplyTo),
    Rex(Pid),
}

fn handle(p: &Process, m: Term) {
    let Some(items) = m.as_tuple() else { return };
    match items {
        [Term::Atom(tag), from, req] if *tag == Atom::GEN_CALL => {
            let Some(from) = ReplyTo::from_term(from) else {
                return;
            };
            match mfa_request(req, &["block_call", "call"]) {
                Some((m, f, a)) => spawn_worker(p.node(), Answer::Gen(from), m, f, a),
                None => tracing::debug!("rex: unsupported call {}", req.erlang()),
            }
        }
        [Term::Atom(tag), req] if *tag == Atom::GEN_CAST => {
            if let Some((m, f, a)) = mfa_request(req, &["cast"]) {
                let args = vec![Term::Atom(m), Term::Atom(f), Term::List(a)];
                let node = p.node();
                let _ =
                    node.spawn_mfa(erpc_atom(), execute_cast_atom(), args, SpawnOpts::default());
            }
        }
        // OTP 25 sends `{From, features_request}` on every nodeup and never reads the reply
        // (research §4.2). Not replying matters: a reply racing with a disconnect would dial
        // the peer again.
        [Term::Pid(_), req] if req.is_atom("features_request") => {}
        [Term::Pid(from), req] => match mfa_request(req, &["call"]) {
            Some((m, f, a)) => spawn_worker(p.node(), Answer::Rex(*from), m, f, a),
            None => tracing::debug!("rex: unsupported message {}", req.erlang()),
        },
        _ => {}
    }
}

/// `{Tag, M, F, A, GroupLeader}` with `Tag` one of `tags`.
fn mfa_request(req: &Term, tags: &[&str]) -> Option<(Atom, Atom, Vec<Term>)> {
    match req.as_tuple()? {
        [Term::Atom(t), Term::Atom(m), Term::Atom(f), Term::List(a), _gl]
            if tags.contains(&t.as_str()) =>
        {
            Some((*m, *f, a.clone()))
        }
        _ => None,
    }
}

/// Run the call in its own process (so rex stays responsive and a crash stays there) and send
/// the value, or `{badrpc, {'EXIT', ...}}`, as rpc.erl's `execute_call/3` shapes it.
fn spawn_worker(node: &Node, to: Answer, m: Atom, f: Atom, a: Vec<Term>) {
    node.spawn(move |wp: Process| async move {
        let (node, me) = (wp.node().clone(), wp.pid());
        let value = match apply(wp, m, f, a).await {
            Ok(v) => v,
            Err(Exception::Throw(t)) => t,
            Err(e) => super::RpcError::Exception(e).to_term(),
        };
        let _busy = match to {
            Answer::Gen(from) => from.reply_as(&node, me, value),
            Answer::Rex(pid) => node.route(me, pid, Term::tuple(vec![Term::atom("rex"), value])),
        };
    });
}
