//! Test helpers shared by the integration tests: a ferl endpoint (listener + `Net`), a tiny
//! EPMD client (ALIVE2_REQ / PORT_PLEASE2_REQ, §2) so real `erl` can find it, and a tracing
//! subscriber that records log lines so tests can assert what was logged.
#![allow(dead_code)]

use dist::{flags, AcceptAll, ConnectionConfig, Cookie, Event, HandshakeConfig, Net, SetupConfig};
use etf::Atom;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Registers `alive` at `listen_port` with the EPMD on `epmd_port`; returns the socket (keep
/// it open: closing unregisters) and the creation.
pub fn epmd_register(epmd_port: u16, alive: &str, listen_port: u16) -> (std::net::TcpStream, u32) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", epmd_port)).expect("epmd");
    let mut req = vec![120u8];
    req.extend_from_slice(&listen_port.to_be_bytes());
    req.extend_from_slice(&[77, 0, 0, 6, 0, 5]);
    req.extend_from_slice(&(alive.len() as u16).to_be_bytes());
    req.extend_from_slice(alive.as_bytes());
    req.extend_from_slice(&[0, 0]);
    let mut msg = (req.len() as u16).to_be_bytes().to_vec();
    msg.extend_from_slice(&req);
    s.write_all(&msg).expect("alive2 req");
    let mut resp = [0u8; 6];
    s.read_exact(&mut resp).expect("alive2 resp");
    assert_eq!((resp[0], resp[1]), (118, 0), "ALIVE2_X_RESP ok");
    (s, u32::from_be_bytes([resp[2], resp[3], resp[4], resp[5]]))
}

/// PORT_PLEASE2_REQ: the distribution port of `alive`.
pub fn epmd_port_please(epmd_port: u16, alive: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", epmd_port)).expect("epmd");
    let mut msg = ((alive.len() + 1) as u16).to_be_bytes().to_vec();
    msg.push(122);
    msg.extend_from_slice(alive.as_bytes());
    s.write_all(&msg).expect("port please");
    let mut resp = [0u8; 4];
    s.read_exact(&mut resp).expect("port2 resp");
    assert_eq!((resp[0], resp[1]), (119, 0), "{alive} is registered");
    u16::from_be_bytes([resp[2], resp[3]])
}

pub fn setup(name: &str, cookie: &str, creation: u32) -> SetupConfig {
    let mut s = SetupConfig::new(HandshakeConfig {
        our_name: Atom::new(name),
        cookie: Cookie::new(cookie),
        flags: flags::DEFAULT,
        creation,
    });
    s.setup_timeout = Duration::from_secs(7);
    s
}

/// A ferl node's distribution side: a listener, a `Net`, its events.
pub struct Endpoint {
    pub name: Atom,
    pub creation: u32,
    pub addr: SocketAddr,
    pub net: Net,
    pub events: mpsc::UnboundedReceiver<Event>,
    _epmd: Option<std::net::TcpStream>,
    _serve: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    /// `epmd_port`: register there (so real erl can dial us) under the alive part of `name`.
    pub async fn start(
        name: &str,
        cookie: &str,
        ticktime: Duration,
        epmd_port: Option<u16>,
    ) -> Endpoint {
        let listener = TcpListener::bind("0.0.0.0:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (epmd, creation) = match epmd_port {
            Some(p) => {
                let alive = name.split('@').next().unwrap_or(name);
                let (s, c) = epmd_register(p, alive, port);
                (Some(s), c)
            }
            None => (None, 1 + (std::process::id() % 1000)),
        };
        let (tx, events) = mpsc::unbounded_channel();
        let conn = ConnectionConfig {
            net_ticktime: ticktime,
            ..ConnectionConfig::default()
        };
        let net = Net::new(setup(name, cookie, creation), conn, tx);
        let serve = net.serve(listener);
        Endpoint {
            name: Atom::new(name),
            creation,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            net,
            events,
            _epmd: epmd,
            _serve: serve,
        }
    }

    /// Next event within `limit`.
    /// A message or close already received, if any (`Up` events skipped).
    pub fn try_event(&mut self) -> Option<Event> {
        loop {
            match self.events.try_recv() {
                Ok(Event::Up { .. }) => continue,
                Ok(ev) => return Some(ev),
                Err(_) => return None,
            }
        }
    }

    /// The next message or close (`Up` events are skipped: these tests watch handles).
    pub async fn next_event(&mut self, limit: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .ok()
                .flatten()?;
            if !matches!(ev, Event::Up { .. }) {
                return Some(ev);
            }
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self._serve.abort();
    }
}

/// Unused but kept so a test can run a driver without a table.
pub fn accept_all() -> AcceptAll {
    AcceptAll
}

pub fn ferl_name(prefix: &str) -> String {
    format!("{}@{}", testkit::unique_name(prefix), testkit::hostname())
}

// ---- log capture ----

static LOGS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();

struct Capture;

struct Visitor<'a>(&'a mut String);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!("{value:?}"));
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = format!("[{}] ", event.metadata().level());
        event.record(&mut Visitor(&mut line));
        eprintln!("{line}");
        if let Some(l) = LOGS.get() {
            l.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Installs the capturing subscriber (once per test binary).
pub fn capture_logs() {
    if LOGS.set(Mutex::new(Vec::new())).is_ok() {
        let _ = tracing::subscriber::set_global_default(Capture);
    }
}

/// Waits until a captured log line contains `needle`.
pub async fn wait_log(needle: &str, limit: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(l) = LOGS.get() {
            let l = l.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(line) = l.iter().find(|s| s.contains(needle)) {
                return Some(line.clone());
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
