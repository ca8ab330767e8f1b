//! The OS processes a benchmark starts: a guard that stops a child by its pid however the run
//! ends, a private `epmd` on a free port (a benchmark never touches the system's epmd on 4369),
//! and the unique names, cookie and work directory of one `ferl bench` invocation.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A child process that is stopped (by its pid, SIGKILL) when dropped, unless it already exited.
pub struct ChildGuard {
    pub what: String,
    child: Child,
}

impl ChildGuard {
    pub fn new(what: impl Into<String>, child: Child) -> Self {
        ChildGuard {
            what: what.into(),
            child,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Has it exited (and been reaped)?
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `grace` for it to exit by itself, then kills it. True if it exited by itself.
    pub fn stop(&mut self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.exited() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "[bench] {} (pid {}) did not exit by itself: killed",
            self.what,
            self.pid()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if !self.exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port nobody listens on right now (the OS picks it; there is a small window before use).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Starts the real `epmd -port P` in the foreground as our child, on a free port, and waits
/// until it accepts connections. Retries with another port if the chosen one was taken.
pub fn start_epmd() -> Result<(ChildGuard, u16), String> {
    let mut last_err = String::new();
    for _ in 0..5 {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let child = crate::thp::system_default_for(&mut Command::new("epmd"))
            .args(["-port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start epmd (is Erlang installed?): {e}"))?;
        let mut guard = ChildGuard::new(format!("epmd -port {port}"), child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !guard.exited() {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok((guard, port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        last_err = format!("epmd on port {port} did not come up");
    }
    Err(last_err)
}

/// The host part of `--sname` names, as `erl` derives it: the hostname up to the first dot.
pub fn short_hostname() -> String {
    let full = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| {
            let out = Command::new("hostname").output().ok()?;
            String::from_utf8(out.stdout).ok()
        })
        .unwrap_or_else(|| "localhost".into());
    full.trim()
        .split('.')
        .next()
        .unwrap_or("localhost")
        .to_string()
}

/// Names, cookie and scratch directory unique to this `ferl bench` invocation.
pub struct Session {
    pub tag: String,
    pub cookie: String,
    pub host: String,
    pub dir: PathBuf,
}

impl Session {
    pub fn new() -> std::io::Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tag = format!("{}_{nanos}", std::process::id());
        let dir = std::env::temp_dir().join(format!("ferl-bench-{tag}"));
        std::fs::create_dir_all(&dir)?;
        Ok(Session {
            cookie: format!("ferlbench_{tag}"),
            host: short_hostname(),
            tag,
            dir,
        })
    }

    /// A node name unique to this session, role and run: `ferlbench_b_<tag>_<run>`.
    pub fn sname(&self, role: &str, run: usize) -> String {
        format!("ferlbench_{role}_{}_{run}", self.tag)
    }

    pub fn full_name(&self, sname: &str) -> String {
        format!("{sname}@{}", self.host)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
}

/// The last `n` lines of a log file, for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
