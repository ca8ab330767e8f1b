//! A ferl process suspended on a busy connection to a real `erl` 25 node, as BEAM suspends a
//! sender on a busy distribution port: while erl is stopped (SIGSTOP, so it reads nothing) a
//! producer that awaits `suspend_while_busy` after each send stays suspended with its node's
//! queue bounded; once erl runs again the producer finishes and erl has every message, in order.
//! The same holds while the connection is still being set up (erl stopped before the first
//! dial): the signals queued for it count against the limit too.

mod dist_support;

use dist_support::*;
use ferl::{Process, Term};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use testkit::{BeamNode, RealEpmd};

/// 20 MB in 1 kB messages: far more than the busy limit (1 MB) and the kernel's socket
/// buffers on loopback (a few MB), so a producer that is not suspended would finish at once.
const MESSAGES: u64 = 20_000;

/// SIGSTOP / SIGCONT to the erl OS process this test started.
fn signal(erl: &BeamNode, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &erl.pid().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill {sig} {}", erl.pid());
}

/// On erl: `sink` takes {I, Bin} for I = 1, 2, ... in order and reports the count to `agent`
/// on `done`.
fn start_sink(erl: &mut BeamNode, agent: &Agent, ferl: &ferl::Node) {
    eval(
        erl,
        &format!(
            "register(sink, spawn(fun() -> L = fun Loop(N) -> receive \
             {{I, B}} when I =:= N + 1, byte_size(B) =:= 1000 -> Loop(I); \
             done -> {{{}, {}}} ! {{received, N}}; \
             Other -> {{{}, {}}} ! {{out_of_order, N, Other}} end end, L(0) end))",
            q(agent.name),
            q(ferl.name()),
            q(agent.name),
            q(ferl.name())
        ),
    );
}

/// A ferl process sending {1..MESSAGES, 1 kB} to `sink` on `e`, awaiting `suspend_while_busy`
/// after each; `sent` counts, the receiver fires when done (after `done` was sent).
fn producer(
    ferl: &ferl::Node,
    e: ferl::Atom,
    sent: Arc<AtomicU64>,
) -> tokio::sync::oneshot::Receiver<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    ferl.spawn(move |p: Process| async move {
        let bin = Term::binary(&[7u8; 1000]);
        let sink = ferl::Atom::new("sink");
        for i in 1..=MESSAGES {
            let _ = p.send_to(sink, e, Term::tuple(vec![Term::Int(i as i64), bin.clone()]));
            sent.store(i, Ordering::Relaxed);
            p.suspend_while_busy(e).await;
        }
        let _ = p.send_to(sink, e, Term::atom("done"));
        let _ = tx.send(());
    });
    rx
}

/// An erl node with `sink` running, a ferl node with its cookie (not connected yet), an agent
/// on it for the sink's report, and erl's node name.
async fn with_sink() -> (RealEpmd, BeamNode, ferl::Node, Agent, ferl::Atom) {
    let epmd = RealEpmd::start();
    let mut erl = tokio::task::block_in_place(|| BeamNode::erl(epmd.port));
    let ferl = ferl_node(epmd.port, &erl.opts.cookie).await;
    let agent = Agent::spawn(&ferl);
    let e = ferl::Atom::new(&erl.node);
    start_sink(&mut erl, &agent, &ferl);
    (epmd, erl, ferl, agent, e)
}

/// The producer finishes once erl runs again, and erl's sink got every message, in order.
async fn finishes_with_everything(done: tokio::sync::oneshot::Receiver<()>, agent: &mut Agent) {
    tokio::time::timeout(Duration::from_secs(60), done)
        .await
        .expect("the producer resumes and finishes")
        .expect("producer");
    assert_eq!(
        agent.next().await,
        tuple(vec![atom("received"), Term::Int(MESSAGES as i64)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_is_suspended_while_the_connection_to_a_stopped_erl_is_set_up() {
    let (_epmd, erl, ferl, mut agent, e) = with_sink().await;
    assert!(ferl.nodes().is_empty(), "not connected yet");

    // erl stops before ferl dials it: the kernel accepts the connection, the handshake waits.
    signal(&erl, "-STOP");
    let sent = Arc::new(AtomicU64::new(0));
    let done = producer(&ferl, e, sent.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let while_stopped = sent.load(Ordering::Relaxed);
    let connected = ferl.nodes().contains(&e);
    signal(&erl, "-CONT");
    assert!(!connected, "the handshake completed with erl stopped");
    // The busy limit (1 MB) in 1 kB messages, plus the one that crossed it.
    assert!(
        (1000..=1100).contains(&while_stopped),
        "{while_stopped} sent while the connection was being set up"
    );

    finishes_with_everything(done, &mut agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_is_suspended_while_a_stopped_erl_reads_nothing_and_loses_nothing() {
    let (_epmd, erl, ferl, mut agent, e) = with_sink().await;
    assert!(ferl.connect(e).await, "ferl reaches erl");

    signal(&erl, "-STOP");
    let sent = Arc::new(AtomicU64::new(0));
    let producer = producer(&ferl, e, sent.clone());

    // erl reads nothing: the producer is suspended part way.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let while_stopped = sent.load(Ordering::Relaxed);
    signal(&erl, "-CONT");
    assert!(
        while_stopped < MESSAGES,
        "the producer sent all {MESSAGES} while erl read nothing: never suspended"
    );
    assert!(while_stopped > 0, "the producer never started");

    // erl runs again: the producer finishes and erl got everything, in order.
    finishes_with_everything(producer, &mut agent).await;
}

/// As in BEAM, only a process whose own send found the connection busy is suspended: another
/// process passes `suspend_while_busy` at once while the producer has the connection to a
/// stopped erl full, and is held there too once one of its own sends finds it so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_sender_that_found_the_connection_busy_is_suspended() {
    let (_epmd, erl, ferl, mut agent, e) = with_sink().await;
    assert!(ferl.connect(e).await, "ferl reaches erl");

    signal(&erl, "-STOP");
    let sent = Arc::new(AtomicU64::new(0));
    let producer = producer(&ferl, e, sent.clone());
    // Until the producer is held: its count stops moving.
    let mut last = u64::MAX;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sent.load(Ordering::Relaxed);
        if now == last && now > 0 {
            break;
        }
        last = now;
    }
    assert!(last < MESSAGES, "the producer was never suspended");

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    ferl.spawn(move |p: Process| async move {
        // Nothing sent yet: not held, though the connection is busy.
        p.suspend_while_busy(e).await;
        let _ = tx.send("passed");
        // A message to a name erl does not have (dropped there), onto the full connection.
        let _ = p.send_to(ferl::Atom::new("nobody"), e, Term::atom("hello"));
        p.suspend_while_busy(e).await;
        let _ = tx.send("resumed");
    });
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    let held = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await;
    signal(&erl, "-CONT");
    assert_eq!(first, Ok(Some("passed")), "held without having sent");
    assert!(
        held.is_err(),
        "not held after its send found the connection busy"
    );
    let resumed = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await;
    assert_eq!(
        resumed,
        Ok(Some("resumed")),
        "held after erl drained the connection"
    );

    finishes_with_everything(producer, &mut agent).await;
}
