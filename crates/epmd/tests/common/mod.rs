//! Shared test helpers: a ferl epmd server on a free port, bounded polling, and running the
//! real `epmd`/`erl` binaries as clients with `ERL_EPMD_PORT` pointing at a test's epmd.
#![allow(dead_code)]

use ferl_epmd as epmd;

use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A ferl epmd serving on 127.0.0.1:<ephemeral> in this test's runtime.
pub struct FerlEpmd {
    pub port: u16,
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl FerlEpmd {
    pub async fn start() -> FerlEpmd {
        FerlEpmd::start_with(epmd::ServerConfig::default()).await
    }

    pub async fn start_with(config: epmd::ServerConfig) -> FerlEpmd {
        let server = epmd::Server::bind_with("127.0.0.1:0".parse().expect("addr"), config)
            .await
            .expect("bind ferl epmd");
        let addr = server.local_addr().expect("local addr");
        let task = tokio::spawn(server.serve());
        FerlEpmd {
            port: addr.port(),
            addr,
            task,
        }
    }
}

impl Drop for FerlEpmd {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Polls `check` until it returns true or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Runs a command to completion with a time limit (killing it by pid when over), off the
/// async runtime's threads.
pub async fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("spawn");
        let start = Instant::now();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("output")
    })
    .await
    .expect("join")
}

/// `epmd -port P -names` from the real epmd binary, with `ERL_EPMD_PORT=P` too.
pub async fn real_epmd_names(port: u16) -> String {
    let mut cmd = Command::new("epmd");
    cmd.args(["-port", &port.to_string(), "-names"])
        .env("ERL_EPMD_PORT", port.to_string());
    let out = run_bounded(cmd, Duration::from_secs(10)).await;
    assert!(
        out.status.success(),
        "epmd -names failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `erl -sname <unique> -noshell -eval <expr>` against the epmd on `port`; returns stdout.
pub async fn erl_eval(port: u16, expr: &str) -> String {
    let mut cmd = Command::new("erl");
    cmd.args([
        "-sname",
        &testkit::unique_name("q"),
        "-setcookie",
        &testkit::unique_cookie(),
        "-noshell",
        "-eval",
        expr,
    ])
    .env("ERL_EPMD_PORT", port.to_string());
    let out = run_bounded(cmd, Duration::from_secs(30)).await;
    String::from_utf8_lossy(&out.stdout).into_owned()
}
