//! Test helpers that start real BEAM processes (epmd, erl, elixir) for interop tests.
//! Every node gets a unique name and cookie, every port is a free one, every call is bounded in
//! time, and everything started is stopped by its own pid on drop, never by name.

mod base64;
mod beam;

pub use beam::{BeamKind, BeamNode, BeamOpts, EvalError};

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// A node-name part unique to this test process and call: `prefix_<pid>_<n>`.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}_{}_{}",
        prefix,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A cookie no other test uses.
pub fn unique_cookie() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{}", unique_name("cookie"), nanos).to_uppercase()
}

/// The short host name, as `erl -sname` puts after the `@`.
pub fn hostname() -> String {
    let full = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    full.split('.').next().unwrap_or("localhost").to_string()
}

/// Panics with a clear message when the reference system is missing: interop tests never skip.
pub fn require_beam() {
    for tool in ["erl", "epmd", "elixir"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            found,
            "`{tool}` is not installed: run scripts/install-deps.sh (interop tests never skip)"
        );
    }
}

/// A real `epmd` on a free port, in the foreground as our child; killed by pid on drop.
pub struct RealEpmd {
    pub port: u16,
    child: Child,
}

impl RealEpmd {
    pub fn start() -> RealEpmd {
        require_beam();
        let port = free_port();
        let child = Command::new("epmd")
            .arg("-port")
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn epmd");
        wait_for_port(port, Duration::from_secs(5));
        RealEpmd { port, child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RealEpmd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until something accepts TCP connections on 127.0.0.1:port; panics after `limit`.
pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing answered on port {port} within {limit:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_cookies_are_unique() {
        assert_ne!(unique_name("a"), unique_name("a"));
        assert_ne!(unique_cookie(), unique_cookie());
    }

    #[test]
    fn real_epmd_starts_and_stops_by_pid() {
        let epmd = RealEpmd::start();
        let port = epmd.port;
        let pid = epmd.pid();
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
        drop(epmd);
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}
