//! The ferl driver's measurements, one function per row, each a line-by-line port of the same
//! function in node_a.exs (same messages, counts, timeouts and clocks), run inside a ferl
//! process on node A against node B `b`.

use ferl::global::Global;
use ferl::{Atom, Pid, Process, Term};
use std::time::{Duration, Instant};

/// node_a.exs's `receive ... after` limits, kept so that both drivers wait the same way.
const ACK_LIMIT: Duration = Duration::from_secs(120);
const CALL_LIMIT: Duration = Duration::from_secs(60);
const NODE_LIMIT: Duration = Duration::from_secs(10);
/// node_a.exs's `wait_until(f, 10_000)`: that many 1 ms polls.
const POLLS: u32 = 10_000;
/// (i): how many times a disconnect is repeated when `:global` dials B again (see `disconnect`).
const REDIALS: u32 = 10;
/// (i): the pause before each disconnect (node_a.exs's `@settle_ms`).
const SETTLE: Duration = Duration::from_millis(20);

/// `{:push, "alice", "item-123"}`, the message of (b) and (d).
fn push_msg() -> Term {
    Term::tuple(vec![
        Term::atom("push"),
        Term::binary(b"alice"),
        Term::binary(b"item-123"),
    ])
}

/// (a) `n` round trips to `{:bench_echo, b}`, in ns each.
pub async fn rtt(p: &mut Process, b: Atom, n: u64) -> Vec<u64> {
    let (echo, ping, pong) = (
        Atom::new("bench_echo"),
        Atom::new("ping"),
        Atom::new("pong"),
    );
    let me = Term::Pid(p.pid());
    let mut out = Vec::with_capacity(n as usize);
    // node_a.exs counts down from n.
    for i in (1..=n as i64).rev() {
        let t0 = Instant::now();
        let msg = Term::Tuple(vec![Term::Atom(ping), me.clone(), Term::Int(i)]);
        let _ = p.send_to(echo, b, msg);
        let is_pong = |m: &Term| match m.as_tuple() {
            Some([Term::Atom(a), Term::Int(s)]) if *a == pong && *s == i => Some(()),
            _ => None,
        };
        p.receive_match(is_pong, None).await;
        out.push(t0.elapsed().as_nanos() as u64);
    }
    out
}

/// node_a.exs's `pct/2`: nearest rank.
pub fn pct(sorted: &[u64], p: f64) -> u64 {
    let n = sorted.len();
    if n == 0 {
        return 0;
    }
    let rank = ((p * n as f64).ceil() as usize).max(1) - 1;
    sorted[rank.min(n - 1)]
}

/// (b)/(d) `n` pushes to `{:bench_sink, b}` from `senders` processes; msgs/s until the ack.
pub async fn throughput(p: &mut Process, b: Atom, n: u64, senders: u64) -> Result<f64, String> {
    let sink = Atom::new("bench_sink");
    let begin = Term::tuple(vec![
        Term::atom("bench_begin"),
        Term::Pid(p.pid()),
        Term::Int(n as i64),
    ]);
    let _ = p.send_to(sink, b, begin);
    let per = n / senders;
    if per * senders != n {
        return Err(format!("{n} messages do not split over {senders} senders"));
    }
    let go = Atom::new("go");
    let pids: Vec<Pid> = (0..senders)
        .map(|_| {
            p.spawn_link(move |mut q: Process| async move {
                q.receive_match(|m| m.is_atom("go").then_some(()), None)
                    .await;
                // The same term every time, as the Elixir driver's literal: sent by reference,
                // so the row measures sending rather than copying.
                let msg = push_msg();
                for _ in 0..per {
                    let _ = q.send_to_ref(sink, b, &msg);
                    // BEAM's sender is suspended on a busy connection; so is this one.
                    q.suspend_while_busy(b).await;
                }
            })
        })
        .collect();
    let t0 = Instant::now();
    for pid in pids {
        p.send(pid, Term::Atom(go));
    }
    let done = Atom::new("bench_done");
    let is_done = |m: &Term| match m.as_tuple() {
        Some([Term::Atom(a), Term::Int(k)]) if *a == done && *k == n as i64 => Some(()),
        _ => None,
    };
    p.receive_match(is_done, Some(ACK_LIMIT))
        .await
        .ok_or("sink did not ack within 120 s")?;
    Ok(n as f64 / t0.elapsed().as_secs_f64())
}

/// (c) `n` sequential `:rpc.call(b, Greet, :say, ["alice"])`; calls/s.
pub async fn rpc(p: &mut Process, b: Atom, n: u64) -> Result<f64, String> {
    let (greet, say) = (Atom::new("Elixir.Greet"), Atom::new("say"));
    let t0 = Instant::now();
    for _ in 0..n {
        let args = vec![Term::binary(b"alice")];
        let r = ferl::rpc::call(p, b, greet, say, args, None).await;
        match r {
            Ok(Term::Binary(s)) if &s[..] == b"Hello alice, nice to meet you" => {}
            other => return Err(format!("Greet.say(\"alice\") answered {other:?}")),
        }
    }
    Ok(n as f64 / t0.elapsed().as_secs_f64())
}

/// This node's `:global`: the driver's node is always distributed.
pub fn global_of(node: &ferl::Node) -> Result<Global, String> {
    node.global()
        .ok_or_else(|| "node A has no :global".to_string())
}

/// (e) the tutorial's protocol: a fresh `:stack` on B (`BenchB.reset_stack/0`), `:global.sync()`,
/// `n` pushes to `:global.whereis_name(:stack)` looked up per message (as `Client.push` does),
/// then `{:subscribe, "bench", self()}` + `{:pop, "bench"}`, whose notification is the ack; msgs/s.
pub async fn stack_push(p: &mut Process, b: Atom, n: u64) -> Result<f64, String> {
    let bench_b = Atom::new("Elixir.BenchB");
    match ferl::rpc::call(p, b, bench_b, "reset_stack", vec![], None).await {
        Ok(t) if t.is_atom("ok") => {}
        other => return Err(format!("BenchB.reset_stack() answered {other:?}")),
    }
    let g = global_of(p.node())?;
    g.sync().await.map_err(|e| format!(":global.sync(): {e}"))?;
    let name = Term::atom("stack");
    // `send(:undefined, msg)` raises badarg in Elixir.
    let whereis = || {
        g.whereis_name(&name)
            .ok_or(":global :stack is not registered")
    };
    let t0 = Instant::now();
    let msg = push_msg();
    for _ in 0..n {
        p.send_ref(whereis()?, &msg);
        p.suspend_while_busy(b).await;
    }
    let server = whereis()?;
    let bench = Term::binary(b"bench");
    let me = Term::Pid(p.pid());
    p.send(
        server,
        Term::tuple(vec![Term::atom("subscribe"), bench.clone(), me]),
    );
    p.send(server, Term::tuple(vec![Term::atom("pop"), bench.clone()]));
    let (notify, pop) = (Atom::new("notify"), Atom::new("pop"));
    let item = Term::tuple(vec![Term::binary(b"alice"), Term::binary(b"item-123")]);
    let is_ack = |m: &Term| match m.as_tuple() {
        Some([Term::Atom(a), Term::Atom(o), who, got])
            if *a == notify && *o == pop && *who == bench && *got == item =>
        {
            Some(())
        }
        _ => None,
    };
    p.receive_match(is_ack, Some(ACK_LIMIT))
        .await
        .ok_or("stack server did not answer within 120 s")?;
    let rate = n as f64 / t0.elapsed().as_secs_f64();
    p.send(server, Term::tuple(vec![Term::atom("unsubscribe"), bench]));
    Ok(rate)
}

/// (f) `callers` processes calling `{:bench_server, b}` gen_server-style until `ms` is up;
/// calls/s over the time until the last caller reported.
pub async fn calls(p: &mut Process, b: Atom, callers: u64, ms: u64) -> Result<f64, String> {
    let me = p.pid();
    // The deadline travels in `{:go, deadline}` as nanoseconds after this instant.
    let base = Instant::now();
    let pids: Vec<Pid> = (0..callers)
        .map(|_| p.spawn_link(move |q: Process| caller(q, b, me, base)))
        .collect();
    let t0 = Instant::now();
    let deadline = (t0 + Duration::from_millis(ms)).duration_since(base);
    let go = Term::tuple(vec![
        Term::atom("go"),
        Term::Int(deadline.as_nanos() as i64),
    ]);
    for pid in pids {
        p.send(pid, go.clone());
    }
    let calls = Atom::new("calls");
    let mut total = 0;
    for _ in 0..callers {
        let count = |m: &Term| match m.as_tuple() {
            Some([Term::Atom(a), Term::Int(n)]) if *a == calls => Some(*n),
            _ => None,
        };
        let limit = Duration::from_millis(ms) + CALL_LIMIT;
        total += p
            .receive_match(count, Some(limit))
            .await
            .ok_or("callers did not finish")?;
    }
    Ok(total as f64 / t0.elapsed().as_secs_f64())
}

/// One (f) caller: until the deadline, `{:'$gen_call', {self(), ref}, {:echo, n}}` to
/// `{:bench_server, b}` and wait for `{ref, {:echo, n}}`; then `{:calls, n}` to `report_to`.
async fn caller(mut q: Process, b: Atom, report_to: Pid, base: Instant) -> Result<(), Term> {
    let go = |m: &Term| match m.as_tuple() {
        Some([t, Term::Int(ns)]) if t.is_atom("go") => Some(*ns as u64),
        _ => None,
    };
    let deadline = base + Duration::from_nanos(q.receive_match(go, None).await.unwrap_or(0));
    let (server, echo) = (Atom::new("bench_server"), Atom::new("echo"));
    let me = Term::Pid(q.pid());
    let mut n: i64 = 0;
    while Instant::now() < deadline {
        let r = q.make_ref();
        let req = Term::Tuple(vec![
            Term::Atom(Atom::GEN_CALL),
            Term::Tuple(vec![me.clone(), Term::Ref(r)]),
            Term::Tuple(vec![Term::Atom(echo), Term::Int(n)]),
        ]);
        let _ = q.send_to(server, b, req);
        let is_reply = |m: &Term| match m.as_tuple() {
            Some([Term::Ref(got), reply]) if *got == r => match reply.as_tuple() {
                Some([Term::Atom(a), Term::Int(k)]) if *a == echo && *k == n => Some(()),
                _ => None,
            },
            _ => None,
        };
        q.receive_match(is_reply, Some(CALL_LIMIT))
            .await
            .ok_or_else(|| Term::from("no reply from :bench_server within 60 s"))?;
        n += 1;
    }
    q.send(
        report_to,
        Term::tuple(vec![Term::atom("calls"), Term::Int(n)]),
    );
    Ok(())
}

/// (g) fan-out: `subs / 2` subscribers here and `subs / 2` on B (`BenchB.spawn_subscribers`),
/// `rounds` notifications to every one in turn (interleaved); deliveries/s to the last done.
pub async fn fanout(p: &mut Process, b: Atom, subs: u64, rounds: u64) -> Result<f64, String> {
    let half = subs / 2;
    if 2 * half != subs {
        return Err(format!("{subs} subscribers do not split over 2 nodes"));
    }
    let me = p.pid();
    let local: Vec<Pid> = (0..half)
        .map(|_| p.spawn(move |q| super::ferl_b_services::subscriber(q, rounds as i64, me)))
        .collect();
    let args = vec![
        Term::Int(half as i64),
        Term::Int(rounds as i64),
        Term::Pid(me),
    ];
    let bench_b = Atom::new("Elixir.BenchB");
    let remote = ferl::rpc::call(p, b, bench_b, "spawn_subscribers", args, None)
        .await
        .map_err(|e| format!("BenchB.spawn_subscribers: {e:?}"))?;
    let remote: Vec<Pid> = remote
        .as_list()
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t.as_pid().copied())
        .collect();
    if remote.len() as u64 != half {
        return Err(format!(
            "B spawned {} subscribers, not {half}",
            remote.len()
        ));
    }
    let all: Vec<Pid> = local
        .iter()
        .zip(&remote)
        .flat_map(|(l, r)| [*l, *r])
        .collect();
    let msg = Term::tuple(vec![
        Term::atom("notify"),
        Term::atom("push"),
        Term::binary(b"alice"),
        Term::binary(b"item-123"),
    ]);
    let t0 = Instant::now();
    for _ in 0..rounds {
        // Each round's notification is made afresh (as each push makes its own) and shared by
        // the local subscribers (`send_shared`).
        let msg = std::sync::Arc::new(msg.clone());
        for pid in &all {
            p.send_shared(*pid, &msg);
        }
        p.suspend_while_busy(b).await;
    }
    let sub_done = Atom::new("sub_done");
    for _ in 0..subs {
        let is_done = |m: &Term| match m.as_tuple() {
            Some([Term::Atom(a), _]) if *a == sub_done => Some(()),
            _ => None,
        };
        p.receive_match(is_done, Some(ACK_LIMIT))
            .await
            .ok_or("subscribers did not finish within 120 s")?;
    }
    Ok((subs * rounds) as f64 / t0.elapsed().as_secs_f64())
}

/// (h) `BenchB.idle_procs(n)` on B: (rss bytes, runtime bytes) per process and spawn ms.
pub async fn idle_procs(p: &mut Process, b: Atom, n: u64) -> Result<(f64, f64, f64), String> {
    let bench_b = Atom::new("Elixir.BenchB");
    let args = vec![Term::Int(n as i64)];
    let r = ferl::rpc::call(p, b, bench_b, "idle_procs", args, None)
        .await
        .map_err(|e| format!("BenchB.idle_procs: {e:?}"))?;
    let get = |k: &str| {
        r.map_get(&Term::atom(k))
            .and_then(|v| v.as_int().map(|i| i as f64).or_else(|| v.as_float()))
            .ok_or_else(|| format!("BenchB.idle_procs: no {k} in {r:?}"))
    };
    let nf = n as f64;
    Ok((
        get("rss_bytes")? / nf,
        get("vm_bytes")? / nf,
        get("spawn_us")? / 1000.0,
    ))
}

/// (i) `n` times: disconnect from B (and see it gone), then time `Node.connect(b)` until
/// `:global.whereis_name(:stack)` (polled every 1 ms) is a pid. (p50, max) in ms.
pub async fn connect_visible(p: &mut Process, b: Atom, n: u64) -> Result<(f64, f64), String> {
    let node = p.node().clone();
    let g = global_of(p.node())?;
    let name = Term::atom("stack");
    node.monitor_nodes(p.pid(), true);
    let mut samples = Vec::with_capacity(n as usize);
    for _ in 0..n {
        disconnect(p, &g, b).await?;
        let t0 = Instant::now();
        connect(p, b, 100).await?;
        wait_until(|| g.whereis_name(&name).is_some(), POLLS)
            .await
            .map_err(|_| stuck(p, &g, "not visible after reconnecting"))?;
        samples.push(t0.elapsed().as_nanos() as u64);
        p.receive_match(node_event("nodeup", b), Some(NODE_LIMIT))
            .await
            .ok_or_else(|| format!("no nodeup for {b}"))?;
    }
    node.monitor_nodes(p.pid(), false);
    samples.sort_unstable();
    let max = samples.last().copied().unwrap_or(0);
    Ok((pct(&samples, 0.50) as f64 / 1.0e6, max as f64 / 1.0e6))
}

/// Gone on both levels: the connection (nodedown) and, after it, B's names in `:global` here.
/// Disconnecting right after a sync races `:global`'s own unlock traffic: a `del_lock` reply
/// still owed to B, or a `del_lock` call to B, goes out after the disconnect and dials B again,
/// and the names come back. OTP does this between two BEAM nodes too. So, as node_a.exs does,
/// the row first lets that traffic finish (outside the timed part), and if B was dialled again
/// all the same, waits for that sync to end and disconnects again.
async fn disconnect(p: &mut Process, g: &Global, b: Atom) -> Result<(), String> {
    let name = Term::atom("stack");
    for _ in 0..=REDIALS {
        tokio::time::sleep(SETTLE).await;
        if !p.node().disconnect(b) {
            return Err(format!("not connected to {b}"));
        }
        p.receive_match(node_event("nodedown", b), Some(NODE_LIMIT))
            .await
            .ok_or_else(|| format!("no nodedown for {b}"))?;
        let node = p.node().clone();
        let redialed = || node.nodes().contains(&b);
        wait_until(|| g.whereis_name(&name).is_none() || redialed(), POLLS)
            .await
            .map_err(|_| stuck(p, g, "still registered after nodedown"))?;
        if !redialed() {
            return Ok(());
        }
        p.receive_match(node_event("nodeup", b), Some(NODE_LIMIT))
            .await
            .ok_or_else(|| format!("no nodeup for {b} after it was dialled again"))?;
        wait_until(|| g.whereis_name(&name).is_some(), POLLS)
            .await
            .map_err(|_| stuck(p, g, "not visible after it was dialled again"))?;
    }
    Err(format!("{b} keeps coming back after disconnecting"))
}

/// Why (i) gave up, with what this node sees: its connections and whom `:global` synced with.
fn stuck(p: &Process, g: &Global, what: &str) -> String {
    format!(
        "B's :stack {what} (10,000 polls of 1 ms); here: nodes() = {:?}, :global known = {:?}",
        p.node().nodes(),
        g.known_nodes()
    )
}

/// B may not have seen the old connection go yet; then it refuses the new one, so retry.
async fn connect(p: &Process, b: Atom, mut tries: u32) -> Result<(), String> {
    while !p.node().connect(b).await {
        if tries == 0 {
            return Err(format!("cannot reconnect to {b}"));
        }
        tries -= 1;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// Polls `f` every 1 ms, at most `polls` times, as node_a.exs's `wait_until/2`.
async fn wait_until(f: impl Fn() -> bool, polls: u32) -> Result<(), ()> {
    for _ in 0..polls {
        if f() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    f().then_some(()).ok_or(())
}

/// Matches `{event, b}` from `net_kernel:monitor_nodes(true)`.
fn node_event(event: &'static str, b: Atom) -> impl Fn(&Term) -> Option<()> {
    move |m| match m.as_tuple() {
        Some([e, Term::Atom(n)]) if e.is_atom(event) && *n == b => Some(()),
        _ => None,
    }
}
