//! Starting a distributed node as `erl -sname/-name` does: find or start EPMD, listen, register
//! (-> creation), accept connections, attach `DistRemote`, start the system processes.
//! `Node::stop` (or dropping a `NodeGuard`) unregisters and closes every connection.

use super::remote::DistRemote;
use crate::node::{Node, NodeConfig};
use dist::busy_wait::BusyWait;
use dist::{flags, ConnectionConfig, Cookie, HandshakeConfig, SetupConfig};
use etf::Atom;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// `-sname alice` (host: this machine's short host name) or `-name alice@host.example`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeName {
    Short(String),
    Long(String),
}

impl NodeName {
    /// The full `alive@host` name.
    pub fn full(&self) -> Result<String, StartError> {
        let (alive, host) = match self {
            NodeName::Short(s) => match s.split_once('@') {
                Some((a, h)) => (a.to_string(), h.to_string()),
                None => (s.clone(), short_hostname()),
            },
            NodeName::Long(s) => match s.split_once('@') {
                Some((a, h)) => (a.to_string(), h.to_string()),
                None => (s.clone(), full_hostname()),
            },
        };
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        if !ok(&alive) || !ok(&host) {
            return Err(StartError::BadName(format!("{alive}@{host}")));
        }
        Ok(format!("{alive}@{host}"))
    }
}

fn full_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// What `erl -sname` puts after the `@`: the host name up to the first dot.
fn short_hostname() -> String {
    let full = full_hostname();
    full.split('.').next().unwrap_or("localhost").to_string()
}

/// How to start a distributed node.
#[derive(Clone, Debug)]
pub struct StartOptions {
    pub name: NodeName,
    /// `None`: `~/.erlang.cookie`, created like `erl` does when missing.
    pub cookie: Option<String>,
    pub net_ticktime: Duration,
    /// A hidden node: peers list it in `nodes(hidden)` only.
    pub hidden: bool,
    /// `None`: `ERL_EPMD_PORT`, else 4369.
    pub epmd_port: Option<u16>,
    /// Where to accept connections (port 0: any free one).
    pub listen: SocketAddr,
    /// kernel `connect_all`: `:global` syncs with every visible node and connects to the
    /// nodes its peers know (the transitive mesh). `false`: no sync, no transitive connects.
    pub connect_all: bool,
    /// How long the node keeps polling for network input after its connections last wrote,
    /// before its runtime may sleep (BEAM's scheduler busy wait, `+sbwt`): a reply that
    /// arrives within it is seen without the wake-up latency of a sleeping CPU. It costs the
    /// CPU time of one spinning task, only during that window. `Duration::ZERO`: never spin.
    pub busy_wait: Duration,
}

/// `StartOptions::busy_wait` by default: long enough to cover a request's reply on a busy
/// machine, short enough that an idle node spins for well under a millisecond per exchange.
pub const DEFAULT_BUSY_WAIT: Duration = Duration::from_micros(200);

impl StartOptions {
    pub fn new(name: NodeName) -> StartOptions {
        StartOptions {
            name,
            cookie: None,
            net_ticktime: Duration::from_secs(60),
            hidden: false,
            epmd_port: None,
            listen: SocketAddr::from(([0, 0, 0, 0], 0)),
            connect_all: true,
            busy_wait: DEFAULT_BUSY_WAIT,
        }
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// BEAM's text: `Protocol 'inet_tcp': the name bob@vm seems to be in use by another
    /// Erlang node`.
    #[error("{}", epmd::name_in_use_message(.0))]
    NameInUse(String),
    #[error("invalid node name {0:?}")]
    BadName(String),
    #[error(transparent)]
    Cookie(#[from] dist::CookieError),
    #[error("epmd: {0}")]
    Epmd(#[from] epmd::EpmdError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl Node {
    /// Starts a distributed node (see the module docs). Must run inside a tokio runtime.
    pub async fn start(opts: StartOptions) -> Result<Node, StartError> {
        let name = opts.name.full()?;
        let alive = name.split('@').next().unwrap_or(&name).to_string();
        let cookie = match &opts.cookie {
            Some(c) => Cookie::new(c.clone()),
            None => Cookie::from_home()?,
        };
        let epmd_port = opts.epmd_port.unwrap_or_else(epmd::epmd_port);
        epmd::ensure_running(epmd_port).await?;
        let listener =
            TcpListener::bind(opts.listen)
                .await
                .map_err(|source| StartError::Listen {
                    addr: opts.listen,
                    source,
                })?;
        let listen_port = listener
            .local_addr()
            .map_err(|source| StartError::Listen {
                addr: opts.listen,
                source,
            })?
            .port();
        let registration = match epmd::register(
            ("127.0.0.1", epmd_port),
            &alive,
            listen_port,
            opts.hidden,
        )
        .await
        {
            Ok(r) => r,
            Err(epmd::EpmdError::NameInUse { .. }) => return Err(StartError::NameInUse(name)),
            Err(e) => return Err(e.into()),
        };
        let creation = registration.creation();
        let node = Node::new(NodeConfig::new(name.clone(), creation));
        let setup = SetupConfig::new(HandshakeConfig {
            our_name: Atom::new(&name),
            cookie,
            flags: if opts.hidden {
                flags::DEFAULT_HIDDEN
            } else {
                flags::DEFAULT
            },
            creation,
        });
        let conn = ConnectionConfig {
            net_ticktime: opts.net_ticktime,
            busy_wait: (!opts.busy_wait.is_zero()).then(|| BusyWait::start(opts.busy_wait)),
            ..ConnectionConfig::default()
        };
        let remote = DistRemote::new(node.downgrade(), setup, conn, epmd_port, listen_port);
        let net = remote.net.clone();
        let serve = super::accept::serve(Arc::downgrade(&remote), net.clone(), listener);
        *remote
            .registration
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(registration);
        *remote.serve.lock().unwrap_or_else(|e| e.into_inner()) = Some(serve);
        let _ = node.set_remote(remote.clone());
        let _ = node.inner.dist.set(remote);
        super::system::start(&node);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(creation);
        let global = crate::global::start(&node, opts.connect_all, opts.hidden, seed);
        let _ = node.inner.global.set(global);
        tracing::debug!("node {name} up: listening on {listen_port}, creation {creation}");
        Ok(node)
    }

    /// Stops distribution: unregisters from EPMD, stops accepting, closes every connection
    /// (peers see nodedown; local links and monitors to them get `noconnection`).
    pub fn stop(&self) {
        if let Some(d) = self.inner.dist.get() {
            d.shutdown();
        }
    }

    /// The port this node accepts distribution connections on (`None` without distribution).
    pub fn listen_port(&self) -> Option<u16> {
        self.inner.dist.get().map(|d| d.listen_port)
    }

    /// The EPMD port this node registered with (`None` without distribution).
    pub fn epmd_port(&self) -> Option<u16> {
        self.inner.dist.get().map(|d| d.epmd_port)
    }
}

/// A started node that stops (unregisters, closes connections) when dropped.
pub struct NodeGuard(Node);

impl NodeGuard {
    pub fn new(node: Node) -> NodeGuard {
        NodeGuard(node)
    }
}

impl std::ops::Deref for NodeGuard {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.0
    }
}

impl Drop for NodeGuard {
    fn drop(&mut self) {
        self.0.stop();
    }
}
