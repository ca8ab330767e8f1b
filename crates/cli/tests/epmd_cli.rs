//! `ferl epmd` as users run it: foreground server, `-names` output identical to real epmd's,
//! `-daemon` that outlives its caller, `-kill`, and `epmd::ensure_running` starting the binary.
//! Every test uses its own free port and stops by pid only what it started.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const FERL: &str = env!("CARGO_BIN_EXE_ferl");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs to completion within `limit`, killing the child by pid if it overruns.
fn run(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait_with_output().expect("output")
}

fn ferl_epmd(args: &[&str], epmd_port: u16) -> Output {
    run(
        Command::new(FERL)
            .arg("epmd")
            .args(args)
            .env("ERL_EPMD_PORT", epmd_port.to_string()),
        Duration::from_secs(15),
    )
}

fn answers(port: u16) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(epmd::names(("127.0.0.1", port))).is_ok()
}

fn wait_answering(port: u16) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if answers(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    false
}

fn pid_alive(pid: u32) -> bool {
    // A zombie is dead for our purposes.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// Stops a ferl process we started (checked by its command line, so a recycled pid is safe).
fn stop_pid(pid: u32) {
    let ours = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("ferl"))
        .unwrap_or(false);
    if ours && pid_alive(pid) {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
}

/// Stops the listed daemons by pid when the test ends, passing or failing.
struct StopOnDrop(Vec<u32>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        for pid in &self.0 {
            stop_pid(*pid);
        }
    }
}

/// A foreground `ferl epmd -port P`, killed by pid on drop.
struct Foreground(Child);

impl Drop for Foreground {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn foreground_server_and_names_output_match_real_epmd() {
    let port = free_port();
    let child = Command::new(FERL)
        .args(["epmd", "-port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ferl epmd");
    let _server = Foreground(child);
    assert!(wait_answering(port), "ferl epmd did not answer");

    let name = unique("bob");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let reg = rt
        .block_on(epmd::register(("127.0.0.1", port), &name, 45678, false))
        .expect("register");

    // `-names` finds the port through ERL_EPMD_PORT alone.
    let ours = ferl_epmd(&["-names"], port);
    assert!(ours.status.success(), "{ours:?}");
    let expected =
        format!("epmd: up and running on port {port} with data:\nname {name} at port 45678\n");
    assert_eq!(String::from_utf8_lossy(&ours.stdout), expected);
    let real = run(
        Command::new("epmd")
            .args(["-names"])
            .env("ERL_EPMD_PORT", port.to_string()),
        Duration::from_secs(10),
    );
    assert_eq!(
        String::from_utf8_lossy(&real.stdout),
        expected,
        "real epmd -names agrees"
    );

    // A second server on the same port steps aside like epmd does, exit 0.
    let second = ferl_epmd(&["-port", &port.to_string()], 1);
    assert!(second.status.success(), "{second:?}");

    // Kill is refused while a node is registered, then accepted.
    let refused = ferl_epmd(&["-kill"], port);
    assert!(!refused.status.success());
    assert_eq!(
        String::from_utf8_lossy(&refused.stdout),
        "Killing not allowed - living nodes in database.\n"
    );
    drop(reg);
    drop(rt);
    let start = Instant::now();
    let mut killed = ferl_epmd(&["-kill"], port);
    while !killed.status.success() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
        killed = ferl_epmd(&["-kill"], port);
    }
    assert_eq!(String::from_utf8_lossy(&killed.stdout), "Killed\n");
}

#[test]
fn names_without_an_epmd_fails_like_epmd() {
    let port = free_port();
    let out = ferl_epmd(&["-names"], port);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "epmd: Cannot connect to local epmd\n"
    );
    let out = ferl_epmd(&["--names", "-port", &port.to_string()], 1);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn daemon_returns_answers_and_is_killed() {
    let port = free_port();
    let out = run(
        Command::new(FERL)
            .args(["epmd", "-daemon", "-port", &port.to_string()])
            .env("RUST_LOG", "info"),
        Duration::from_secs(15),
    );
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let pid: u32 = log
        .split("pid=")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in the daemon log: {log}"));
    let _stop = StopOnDrop(vec![pid]);
    {
        assert!(out.status.success(), "{out:?}");
        assert!(out.stdout.is_empty(), "-daemon prints nothing on stdout");
        assert!(pid_alive(pid), "the daemon outlives `ferl epmd -daemon`");
        assert!(answers(port));
        // A second -daemon finds it running and succeeds.
        assert!(ferl_epmd(&["-daemon"], port).status.success());
        let killed = ferl_epmd(&["-kill"], port);
        assert_eq!(String::from_utf8_lossy(&killed.stdout), "Killed\n");
        let start = Instant::now();
        while pid_alive(pid) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!pid_alive(pid), "daemon still running after -kill");
    }
}

/// Something that is not epmd: answers every connection with an HTTP error.
fn impostor() -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("0.0.0.0:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(true).ok();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok((mut s, _)) = listener.accept() {
                let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (port, handle)
}

#[test]
fn a_port_taken_by_something_else_is_an_error() {
    let (port, _keep) = impostor();
    let out = ferl_epmd(&["-daemon"], port);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not epmd"),
        "{out:?}"
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let err = rt.block_on(epmd::ensure_running_with(
        port,
        epmd::Launcher::Binary(FERL.into()),
    ));
    assert!(
        matches!(err, Err(epmd::EpmdError::NotEpmd { .. })),
        "{err:?}"
    );
}

#[test]
fn ensure_running_starts_one_daemon_even_when_racing() {
    let port = free_port();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (a, b) = rt.block_on(async {
        let launcher = epmd::Launcher::Binary(FERL.into());
        tokio::join!(
            epmd::ensure_running_with(port, launcher.clone()),
            epmd::ensure_running_with(port, launcher)
        )
    });
    let pids: Vec<u32> = [&a, &b]
        .iter()
        .filter_map(|r| match r {
            Ok(epmd::EpmdStatus::Spawned { pid }) => Some(*pid),
            _ => None,
        })
        .collect();
    let _stop = StopOnDrop(pids.clone());
    {
        assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
        assert!(answers(port));
        let again = rt.block_on(epmd::ensure_running_with(
            port,
            epmd::Launcher::Binary(FERL.into()),
        ));
        assert_eq!(again.ok(), Some(epmd::EpmdStatus::AlreadyRunning));
        // Exactly one daemon holds the port; a loser of the race has exited by now.
        let start = Instant::now();
        while pids.iter().filter(|p| pid_alive(**p)).count() > 1
            && start.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            pids.iter().filter(|p| pid_alive(**p)).count(),
            1,
            "{pids:?}"
        );
        // A real erl node registers with the daemon.
        let name = unique("erl");
        let mut erl = Command::new("erl")
            .args(["-sname", &name, "-setcookie", &unique("C"), "-noshell"])
            .env("ERL_EPMD_PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn erl");
        let start = Instant::now();
        let mut seen = false;
        while !seen && start.elapsed() < Duration::from_secs(20) {
            seen = matches!(rt.block_on(epmd::names(("127.0.0.1", port))),
                Ok(n) if n.iter().any(|(a, _)| *a == name));
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = erl.kill();
        let _ = erl.wait();
        assert!(seen, "erl did not register with the ensured epmd");
    }
}

#[test]
fn ensure_running_embedded_serves_in_process() {
    let port = free_port();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let status = rt
        .block_on(epmd::ensure_running_with(port, epmd::Launcher::Embedded))
        .expect("embedded");
    assert!(
        matches!(status, epmd::EpmdStatus::Embedded { .. }),
        "{status:?}"
    );
    let out = ferl_epmd(&["-names"], port);
    assert!(out.status.success());
    // Lines of the log go to stderr only; reading it keeps BufRead in use for clarity.
    let lines = BufReader::new(&out.stdout[..]).lines().count();
    assert_eq!(lines, 1, "empty registry: only the header line");
    drop(rt); // the embedded server dies with its runtime
    assert!(!answers(port));
}
