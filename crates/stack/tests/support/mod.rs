//! Helpers for the stack tests: an embedded epmd on a free port, distributed ferl nodes with
//! unique names and cookie, a capture of the log lines (current-thread runtime only), and a
//! probe process that hands whatever it receives to the test.
#![allow(dead_code)]

use ferl::{Node, NodeName, Pid, Process, StartOptions, Term};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long a test waits for any one expected thing.
pub const WAIT: Duration = Duration::from_secs(10);

/// ferl's own epmd, served inside the test on a free port (stops with the test's runtime).
pub async fn embedded_epmd() -> u16 {
    let server = epmd::Server::bind(([127, 0, 0, 1], 0).into())
        .await
        .expect("bind epmd");
    let port = server.local_addr().expect("addr").port();
    tokio::spawn(server.serve());
    port
}

pub async fn node(epmd_port: u16, cookie: &str, prefix: &str) -> Node {
    let mut o = StartOptions::new(NodeName::Short(testkit::unique_name(prefix)));
    o.cookie = Some(cookie.to_string());
    o.epmd_port = Some(epmd_port);
    Node::start(o).await.expect("node starts")
}

/// Polls `f` until it holds or `WAIT` passes.
pub async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}

/// Every log line (`[level] message`, without the clock) written while the guard lives, on
/// this thread: use it with the default current-thread `#[tokio::test]` runtime.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let w = logs.clone();
        let sub = tracing_subscriber::fmt()
            .with_writer(move || w.clone())
            .with_max_level(tracing::Level::INFO)
            .with_target(false)
            .without_time()
            .with_ansi(false)
            .with_level(true)
            .finish();
        (logs, tracing::subscriber::set_default(sub))
    }

    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(|l| l.trim().to_string())
            .collect()
    }

    /// How many lines are exactly `LEVEL message` (e.g. `INFO alice subscribed`).
    pub fn count(&self, level_and_message: &str) -> usize {
        self.lines()
            .iter()
            .filter(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") == level_and_message)
            .count()
    }

    pub async fn wait_for(&self, level_and_message: &str, n: usize) -> bool {
        eventually(|| self.count(level_and_message) >= n).await
    }
}

/// A process on `node` that forwards every message it receives to the returned channel.
pub fn probe(node: &Node) -> (Pid, mpsc::UnboundedReceiver<Term>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let pid = node.spawn(move |mut p: Process| async move {
        loop {
            let m = p.receive().await;
            if tx.send(m).is_err() {
                return;
            }
        }
    });
    (pid, rx)
}

/// The next message a probe got, within `WAIT`.
pub async fn next(rx: &mut mpsc::UnboundedReceiver<Term>) -> Term {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a message in time")
        .expect("probe alive")
}

/// Nothing more arrives within a short while.
pub async fn quiet(rx: &mut mpsc::UnboundedReceiver<Term>) -> Option<Term> {
    tokio::time::timeout(Duration::from_millis(200), rx.recv())
        .await
        .ok()
        .flatten()
}
