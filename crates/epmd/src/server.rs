//! The port mapper server: binds the listener, accepts connections and hands each to
//! [`conn`](crate::conn), shares the [`Registry`], and stops on an accepted KILL_REQ.
//! Real `erl` nodes and ferl nodes register with it exactly as with OTP's `epmd`.

use crate::registry::Registry;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

/// Tunables; the defaults follow real epmd.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// How long a non-registering connection may sit without completing a request
    /// (epmd's `-packet_timeout`, default 60 s).
    pub packet_timeout: Duration,
    /// Open connections at most; registrations count, since each holds its connection.
    pub max_connections: usize,
    /// Allow KILL_REQ while nodes are registered (epmd's `-relaxed_command_check`).
    pub relaxed_command_check: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            packet_timeout: Duration::from_secs(60),
            max_connections: 1024,
            relaxed_command_check: false,
        }
    }
}

/// State every connection task shares.
pub(crate) struct Shared {
    pub(crate) registry: Mutex<Registry>,
    pub(crate) config: ServerConfig,
    /// The port NAMES replies announce: the one we listen on.
    pub(crate) port: u16,
    pub(crate) shutdown: Notify,
}

impl Shared {
    /// The registry, even if a task panicked while holding the lock (its state stays valid:
    /// every mutation is a single push/remove).
    pub(crate) fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A bound port mapper, ready to [`serve`](Server::serve).
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl Server {
    /// Binds with the default configuration. Fails with `AddrInUse` when another epmd (or
    /// anything else) holds the port.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Server> {
        Server::bind_with(addr, ServerConfig::default()).await
    }

    pub async fn bind_with(addr: SocketAddr, config: ServerConfig) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            registry: Mutex::new(Registry::new(random_seed())),
            config,
            port,
            shutdown: Notify::new(),
        });
        Ok(Server { listener, shared })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until a KILL_REQ is accepted. Connection errors never stop the server.
    pub async fn serve(self) -> std::io::Result<()> {
        let addr = self.listener.local_addr()?;
        tracing::info!(%addr, "epmd listening");
        let limit = Arc::new(Semaphore::new(self.shared.config.max_connections));
        let next_id = AtomicU64::new(1);
        loop {
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = self.shared.shutdown.notified() => {
                    tracing::info!(%addr, "epmd stopping (KILL_REQ)");
                    return Ok(());
                }
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = limit.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "too many connections; closing the new one");
                continue;
            };
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            let shared = self.shared.clone();
            tokio::spawn(async move {
                crate::conn::handle(stream, peer, id, shared).await;
                drop(permit);
            });
        }
    }
}

/// Seed for starting creations; std's RandomState is randomly keyed per process.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}
