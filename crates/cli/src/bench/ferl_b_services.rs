//! What node B offers, in ferl, with exactly node_b.exs's message shapes: `:bench_echo`,
//! `:bench_sink`, `:bench_server`, the global `:stack` with `BenchB.reset_stack/0`,
//! `BenchB.spawn_subscribers/3`, `BenchB.idle_procs/1` (ferl_idle.rs), `:init.stop/0` and the
//! `:erlang.system_info/1` item node_a.exs asks for. `Greet.say/1` is built into every ferl node.

use super::stack_store::StackStore;
use ferl::{Atom, Node, Pid, Process, Term};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Registers the processes and functions; `stop` is notified shortly after `:init.stop/0`.
pub fn install(node: &Node, stop: Arc<Notify>) {
    for (name, pid) in [
        ("bench_echo", node.spawn(echo)),
        ("bench_server", node.spawn(server)),
        ("bench_sink", node.spawn(sink)),
    ] {
        if let Err(e) = node.register(Atom::new(name), pid) {
            eprintln!("cannot register {name}: {e}");
        }
    }
    node.def_fn_in_process("Elixir.BenchB", "reset_stack", 0, |p, _| async move {
        reset_stack(p.node()).await
    });
    node.def_fn_in_process(
        "Elixir.BenchB",
        "spawn_subscribers",
        3,
        |p, args| async move { spawn_subscribers(&p, &args) },
    );
    node.def_fn_in_process("Elixir.BenchB", "idle_procs", 1, |p, args| async move {
        super::ferl_idle::idle_procs(&p, &args).await
    });
    // node_a.exs prints B's scheduler count: a ferl node's are its runtime's worker threads.
    node.def_fn("erlang", "system_info", 1, |args| async move {
        match args.first() {
            Some(item) if item.is_atom("schedulers_online") => {
                let n = tokio::runtime::Handle::current().metrics().num_workers();
                Ok(Term::Int(n as i64))
            }
            _ => Err(ferl::Exception::error(Term::atom("badarg"))),
        }
    });
    node.def_fn("init", "stop", 0, move |_| {
        let stop = stop.clone();
        async move {
            // Reply first (as :init.stop/0 does), stop a moment later.
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                stop.notify_one();
            });
            Term::Atom(Atom::OK)
        }
    });
}

/// `{:ping, from, seq}` -> `from ! {:pong, seq}`.
async fn echo(mut p: Process) {
    let (ping, pong) = (Atom::new("ping"), Atom::new("pong"));
    loop {
        let Term::Tuple(mut t) = p.receive().await else {
            continue;
        };
        if t.len() == 3 && t[0] == Term::Atom(ping) {
            if let (Some(seq), Some(Term::Pid(from))) = (t.pop(), t.pop()) {
                p.send(from, Term::Tuple(vec![Term::Atom(pong), seq]));
            }
        }
    }
}

/// `{:'$gen_call', {from, tag}, {:echo, seq}}` -> `from ! {tag, {:echo, seq}}`.
async fn server(mut p: Process) {
    loop {
        let Term::Tuple(mut t) = p.receive().await else {
            continue;
        };
        if t.len() != 3 || t[0] != Term::Atom(Atom::GEN_CALL) {
            continue;
        }
        let (Some(req), Some(Term::Tuple(mut from))) = (t.pop(), t.pop()) else {
            continue;
        };
        if let (Some(tag), Some(Term::Pid(pid))) = (from.pop(), from.pop()) {
            p.send(pid, Term::Tuple(vec![tag, req]));
        }
    }
}

/// `{:bench_begin, from, n}`, then counts n `{:push, _, _}` and sends `{:bench_done, n}`.
async fn sink(mut p: Process) {
    let (begin, push, done) = (
        Atom::new("bench_begin"),
        Atom::new("push"),
        Atom::new("bench_done"),
    );
    loop {
        let m = p.receive().await;
        let Some([Term::Atom(tag), Term::Pid(from), Term::Int(n)]) = m.as_tuple() else {
            continue;
        };
        if *tag != begin {
            continue;
        }
        for _ in 0..*n {
            // Selective, as node_b.exs's `receive {:push, _name, _item}`.
            let is_push = |m: &Term| match m.as_tuple() {
                Some([Term::Atom(a), _, _]) if *a == push => Some(()),
                _ => None,
            };
            p.receive_match(is_push, None).await;
        }
        p.send(*from, Term::tuple(vec![Term::Atom(done), Term::Int(*n)]));
    }
}

/// `BenchB.reset_stack/0`: unregisters and stops the old `:stack`, registers a fresh, empty
/// one globally (`:yes = :global.register_name(:stack, pid)`). Also run once at B's start.
pub async fn reset_stack(node: &Node) -> Result<Term, ferl::Exception> {
    let not_running = || ferl::Exception::exit(Term::atom("noproc"));
    let global = node.global().ok_or_else(not_running)?;
    let name = Term::atom("stack");
    if let Some(old) = global.whereis_name(&name) {
        global
            .unregister_name(name.clone())
            .await
            .map_err(|_| not_running())?;
        node.send(old, Term::atom("stop"));
    }
    let pid = node.spawn(|p| bench_stack(p, BTreeMap::new(), StackStore::default()));
    match global.register_name(name, pid).await {
        Ok(true) => Ok(Term::Atom(Atom::OK)),
        _ => Err(ferl::Exception::error(Term::tuple(vec![
            Term::atom("badmatch"),
            Term::atom("no"),
        ]))),
    }
}

/// node_b.exs's `BenchStack.loop/2`: the tutorial's server protocol without logging. `subs` maps
/// a subscriber's name to its pid (the Map), `stack` holds the `{name, item}` entries, packed
/// (`stack_store.rs`).
async fn bench_stack(
    mut p: Process,
    mut subs: BTreeMap<Term, Pid>,
    mut stack: StackStore,
) -> Result<(), Term> {
    let [subscribe, unsubscribe, push, pop, get] =
        ["subscribe", "unsubscribe", "push", "pop", "get"].map(Atom::new);
    // `send(Map.get(subs, name), ...)` with no such subscriber is `send(nil, ...)`: badarg.
    let badarg = || Term::atom("badarg");
    loop {
        let mut msg = match p.try_receive() {
            Some(msg) => msg,
            None => p.receive().await,
        };
        if msg.is_atom("stop") {
            return Ok(());
        }
        // Matched in place: moved out, the tuple's vector was read back right after the term's
        // copy from the mailbox, at an offset the copy had not stored it at (a store-forwarding
        // stall, 4% of node B in (e)).
        let Term::Tuple(t) = &mut msg else {
            continue;
        };
        let Some(&Term::Atom(tag)) = t.first() else {
            continue;
        };
        if tag == push && t.len() == 3 {
            notify(&p, &subs, "push", &t[1], &t[2]);
            stack.push(&t[1], &t[2]);
        } else if tag == pop && t.len() == 2 {
            match stack.pop() {
                None => {
                    let to = subs.get(&t[1]).copied().ok_or_else(badarg)?;
                    let empty = Term::tuple(vec![Term::atom("notify"), Term::atom("empty")]);
                    p.send(to, empty);
                }
                // `{:notify, :pop, name, {pushed_by, item}}`: the popper's name, the whole entry.
                Some((name, item)) => {
                    let head = Term::Tuple(vec![name, item]);
                    notify(&p, &subs, "pop", &t[1], &head)
                }
            }
        } else if tag == subscribe && t.len() == 3 {
            if let (Some(Term::Pid(pid)), Some(name)) = (t.pop(), t.pop()) {
                subs.insert(name, pid);
            }
        } else if tag == unsubscribe && t.len() == 2 {
            subs.remove(&t[1]);
        } else if tag == get && t.len() == 2 {
            let to = subs.get(&t[1]).copied().ok_or_else(badarg)?;
            let list = stack
                .top_first()
                .map(|(name, item)| Term::Tuple(vec![name, item]))
                .collect();
            p.send(
                to,
                Term::tuple(vec![
                    Term::atom("notify"),
                    Term::Atom(get),
                    Term::List(list),
                ]),
            );
        }
    }
}

/// `for {_name, pid} <- subs, do: send(pid, {:notify, action, name, item})`.
fn notify(p: &Process, subs: &BTreeMap<Term, Pid>, action: &str, name: &Term, item: &Term) {
    if subs.is_empty() {
        return;
    }
    let msg = std::sync::Arc::new(Term::tuple(vec![
        Term::atom("notify"),
        Term::atom(action),
        name.clone(),
        item.clone(),
    ]));
    for pid in subs.values() {
        p.send_shared(*pid, &msg);
    }
}

/// `BenchB.spawn_subscribers(n, rounds, report_to)`: n processes that each count `rounds`
/// `{:notify, :push, _, _}`, then send `{:sub_done, self()}` to report_to. Returns their pids.
fn spawn_subscribers(p: &Process, args: &[Term]) -> Result<Term, ferl::Exception> {
    let badarg = || ferl::Exception::error(Term::atom("badarg"));
    let [Term::Int(n), Term::Int(rounds), Term::Pid(report_to)] = args else {
        return Err(badarg());
    };
    let (rounds, report_to) = (*rounds, *report_to);
    let pids = (0..*n)
        .map(|_| Term::Pid(p.node().spawn(move |q| subscriber(q, rounds, report_to))))
        .collect();
    Ok(Term::List(pids))
}

pub async fn subscriber(mut p: Process, rounds: i64, report_to: ferl::Pid) {
    let (notify, push) = (Atom::new("notify"), Atom::new("push"));
    let is_notify = |m: &Term| match m.as_tuple() {
        Some([Term::Atom(a), Term::Atom(b), _, _]) if *a == notify && *b == push => Some(()),
        _ => None,
    };
    for _ in 0..rounds {
        p.receive_match(is_notify, None).await;
    }
    let done = Term::tuple(vec![Term::atom("sub_done"), Term::Pid(p.pid())]);
    p.send(report_to, done);
}
