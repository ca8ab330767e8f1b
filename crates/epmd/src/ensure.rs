//! Finding or starting the port mapper, as `erl` does: use whatever epmd answers on the port,
//! otherwise start `ferl epmd` as a detached daemon that outlives this process (or, with no
//! `ferl` binary at hand, serve from inside this process).

use crate::error::EpmdError;
use crate::server::Server;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a freshly started epmd may take to answer.
const START_WAIT: Duration = Duration::from_secs(3);
/// A probe of an existing epmd; a live epmd answers NAMES in microseconds.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Which epmd the node ended up with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EpmdStatus {
    /// Something already answered NAMES on the port (system epmd, a BEAM's, another ferl's).
    AlreadyRunning,
    /// We started `ferl epmd` as a daemon with this pid; it outlives us. (If another node
    /// started one at the same instant, ours stepped aside and exited; the winner answers.)
    Spawned { pid: u32 },
    /// No `ferl` binary was found: the server runs inside this process and dies with it.
    Embedded { addr: SocketAddr },
}

/// How to start an epmd when none answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launcher {
    /// Run `<path> epmd -port N` detached.
    Binary(PathBuf),
    /// Serve from a tokio task in this process.
    Embedded,
}

/// What answered on a port.
enum Probe {
    Epmd,
    Nothing,
    Other,
}

/// The `ferl` binary to start epmd with: `$FERL_BIN`, else `ferl` next to the running
/// executable, else `ferl` on `$PATH`.
pub fn find_ferl_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("FERL_BIN").filter(|b| !b.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        let beside = dir.join("ferl");
        if beside.is_file() {
            return Some(beside);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("ferl"))
        .find(|p| p.is_file())
}

/// Makes sure an epmd answers on 127.0.0.1:`port`, starting one the way [`find_ferl_binary`]
/// allows.
pub async fn ensure_running(port: u16) -> Result<EpmdStatus, EpmdError> {
    let launcher = match find_ferl_binary() {
        Some(bin) => Launcher::Binary(bin),
        None => Launcher::Embedded,
    };
    ensure_running_with(port, launcher).await
}

pub async fn ensure_running_with(port: u16, launcher: Launcher) -> Result<EpmdStatus, EpmdError> {
    match probe(port).await {
        Probe::Epmd => return Ok(EpmdStatus::AlreadyRunning),
        Probe::Other => return Err(EpmdError::NotEpmd { port }),
        Probe::Nothing => {}
    }
    match launcher {
        Launcher::Binary(bin) => {
            let pid = spawn_daemon(&bin, port, &[])?;
            if wait_until_answering(port).await {
                // If two nodes raced, our daemon lost the bind and exited; the winner answers.
                tracing::info!(port, pid, bin = %bin.display(), "started epmd daemon");
                Ok(EpmdStatus::Spawned { pid })
            } else {
                Err(EpmdError::StartFailed {
                    port,
                    reason: format!(
                        "{} epmd did not answer within {START_WAIT:?}",
                        bin.display()
                    ),
                })
            }
        }
        Launcher::Embedded => {
            let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
            match Server::bind(addr).await {
                Ok(server) => {
                    tracing::warn!(
                        port,
                        "no ferl binary found to run epmd as a daemon; serving epmd inside this \
                         process (it stops when this node stops)"
                    );
                    tokio::spawn(async move {
                        if let Err(e) = server.serve().await {
                            tracing::error!(error = %e, "embedded epmd stopped");
                        }
                    });
                    Ok(EpmdStatus::Embedded { addr })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    // Another node started one between our probe and our bind: use it.
                    if wait_until_answering(port).await {
                        Ok(EpmdStatus::AlreadyRunning)
                    } else {
                        Err(EpmdError::NotEpmd { port })
                    }
                }
                Err(e) => Err(EpmdError::StartFailed {
                    port,
                    reason: e.to_string(),
                }),
            }
        }
    }
}

/// Starts `<bin> epmd -port N <extra>` in its own process group with stdio on /dev/null, so
/// it survives this process and its terminal. Returns its pid. A thread reaps it if it exits
/// while we live (e.g. it lost a bind race), so it never lingers as a zombie.
pub fn spawn_daemon(bin: &std::path::Path, port: u16, extra: &[String]) -> Result<u32, EpmdError> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(bin)
        .arg("epmd")
        .arg("-port")
        .arg(port.to_string())
        .args(extra)
        .env("ERL_EPMD_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| EpmdError::StartFailed {
            port,
            reason: format!("cannot run {}: {e}", bin.display()),
        })?;
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(pid)
}

/// Polls NAMES until an epmd answers or [`START_WAIT`] passes.
pub async fn wait_until_answering(port: u16) -> bool {
    let start = Instant::now();
    while start.elapsed() < START_WAIT {
        if let Probe::Epmd = probe(port).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

async fn probe(port: u16) -> Probe {
    let ask = crate::client::names_reply((Ipv4Addr::LOCALHOST, port));
    match tokio::time::timeout(PROBE_TIMEOUT, ask).await {
        Ok(Ok(_)) => Probe::Epmd,
        Ok(Err(EpmdError::Connect { .. })) => Probe::Nothing,
        Ok(Err(e)) => {
            tracing::debug!(port, error = %e, "something on the epmd port is not epmd");
            Probe::Other
        }
        Err(_) => Probe::Other,
    }
}
