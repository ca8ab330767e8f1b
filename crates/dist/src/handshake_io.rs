//! The tokio driver of the handshake: runs an `Initiator` or `Acceptor` over a `TcpStream`,
//! with the setup timeout (`net_setuptime`, 7 s) restarted at every step, and asks an
//! `AcceptPolicy` (the owner's connection table) the questions of §1.6.

use crate::cookie::random_challenge;
use crate::handshake::{
    elixir_atom, AcceptDecision, Acceptor, HandshakeConfig, HandshakeError, Initiator, Outcome,
    Step,
};
use bytes::{Bytes, BytesMut};
use etf::Atom;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `net_kernel:connecttime/0`.
pub const DEFAULT_SETUP_TIMEOUT: Duration = Duration::from_secs(7);

/// Handshake settings plus the per-step timeout.
#[derive(Clone, Debug)]
pub struct SetupConfig {
    pub handshake: HandshakeConfig,
    pub setup_timeout: Duration,
}

impl SetupConfig {
    pub fn new(handshake: HandshakeConfig) -> SetupConfig {
        SetupConfig {
            handshake,
            setup_timeout: DEFAULT_SETUP_TIMEOUT,
        }
    }
}

/// The owner's answers during a handshake. `attempt` identifies the handshake asking.
pub trait AcceptPolicy: Send + Sync {
    /// Acceptor: the peer `peer` wants to connect; see `AcceptDecision`.
    fn accept_pending(&self, peer: Atom, attempt: u64) -> AcceptDecision;
    /// Initiator: the peer answered `alive`; `true` if this dial is still our pending one.
    fn still_pending(&self, peer: Atom, attempt: u64) -> bool;
}

/// A policy with no connection table: accept everyone, always answer `true` to `alive`.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceptAll;

impl AcceptPolicy for AcceptAll {
    fn accept_pending(&self, _: Atom, _: u64) -> AcceptDecision {
        AcceptDecision::Ok
    }
    fn still_pending(&self, _: Atom, _: u64) -> bool {
        true
    }
}

/// A finished handshake with its socket, ready for `connection::spawn`.
#[derive(Debug)]
pub struct Established {
    pub stream: TcpStream,
    pub outcome: Outcome,
    /// Bytes already read past the handshake.
    pub leftover: BytesMut,
}

/// Why a connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error("handshake step timed out after {0:?}")]
    Timeout(Duration),
    #[error("peer closed the connection during the handshake (wrong cookie or refused?)")]
    PeerClosed,
    #[error("i/o error during the handshake: {0}")]
    Io(#[from] std::io::Error),
    #[error("our own attempt was dropped in favour of the peer's (simultaneous connect)")]
    Superseded,
}

async fn flush(stream: &mut TcpStream, out: Bytes) -> Result<(), SetupError> {
    if !out.is_empty() {
        stream.write_all(&out).await?;
    }
    Ok(())
}

async fn read_more(
    stream: &mut TcpStream,
    buf: &mut [u8],
    limit: Duration,
) -> Result<usize, SetupError> {
    match tokio::time::timeout(limit, stream.read(buf)).await {
        Err(_) => Err(SetupError::Timeout(limit)),
        Ok(Ok(0)) => Err(SetupError::PeerClosed),
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(SetupError::Io(e)),
    }
}

/// Dials `addr` and runs the initiator handshake towards node `peer`.
pub async fn connect(
    addr: SocketAddr,
    peer: Atom,
    cfg: &SetupConfig,
    policy: &dyn AcceptPolicy,
    attempt: u64,
) -> Result<Established, SetupError> {
    let stream = tokio::time::timeout(cfg.setup_timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| SetupError::Timeout(cfg.setup_timeout))??;
    connect_stream(stream, peer, cfg, policy, attempt).await
}

/// Runs the initiator handshake on an already connected socket.
pub async fn connect_stream(
    mut stream: TcpStream,
    peer: Atom,
    cfg: &SetupConfig,
    policy: &dyn AcceptPolicy,
    attempt: u64,
) -> Result<Established, SetupError> {
    let mut m = Initiator::new(cfg.handshake.clone(), peer, random_challenge());
    let mut buf = vec![0u8; 4096];
    let r: Result<Outcome, SetupError> = async {
        loop {
            let step = m.poll();
            flush(&mut stream, m.take_output()).await?;
            match step? {
                Step::NeedMore => {
                    let n = read_more(&mut stream, &mut buf, cfg.setup_timeout).await?;
                    m.feed(&buf[..n]);
                }
                Step::AliveQuestion { peer } => {
                    let answer = m.answer_alive(policy.still_pending(peer, attempt));
                    flush(&mut stream, m.take_output()).await?;
                    answer?;
                }
                Step::Done(o) => return Ok(o),
                Step::Decide { .. } => {
                    return Err(HandshakeError::Misuse("initiator asked to decide").into())
                }
            }
        }
    }
    .await;
    match r {
        Ok(outcome) => {
            tracing::debug!("connected to {outcome}");
            Ok(Established {
                stream,
                outcome,
                leftover: m.into_leftover(),
            })
        }
        Err(e) => {
            let who = elixir_atom(peer.as_str());
            match &e {
                SetupError::Handshake(HandshakeError::Nok) => {
                    tracing::debug!("connection attempt to {who}: {e}")
                }
                SetupError::Handshake(h @ HandshakeError::InvalidChallengeAck { .. }) => {
                    tracing::error!("{h}")
                }
                _ => tracing::warn!("connection attempt to node {who} failed: {e}"),
            }
            Err(e)
        }
    }
}

/// Runs the acceptor handshake on a socket a peer opened to us.
pub async fn accept(
    mut stream: TcpStream,
    cfg: &SetupConfig,
    policy: &dyn AcceptPolicy,
    attempt: u64,
) -> Result<Established, SetupError> {
    let mut m = Acceptor::new(cfg.handshake.clone(), random_challenge());
    let mut buf = vec![0u8; 4096];
    let r: Result<Outcome, SetupError> = async {
        loop {
            let step = m.poll();
            flush(&mut stream, m.take_output()).await?;
            match step? {
                Step::NeedMore => {
                    let n = read_more(&mut stream, &mut buf, cfg.setup_timeout).await?;
                    m.feed(&buf[..n]);
                }
                Step::Decide { peer } => {
                    let decided = m.decide(policy.accept_pending(peer, attempt));
                    flush(&mut stream, m.take_output()).await?;
                    decided?;
                }
                Step::Done(o) => return Ok(o),
                Step::AliveQuestion { .. } => {
                    return Err(HandshakeError::Misuse("acceptor asked about alive").into())
                }
            }
        }
    }
    .await;
    match r {
        Ok(outcome) => {
            tracing::debug!("accepted {outcome}");
            Ok(Established {
                stream,
                outcome,
                leftover: m.into_leftover(),
            })
        }
        Err(e) => {
            match &e {
                // BEAM's own lines, at BEAM's level.
                SetupError::Handshake(
                    h @ (HandshakeError::InvalidChallengeReply { .. }
                    | HandshakeError::PeerLacksFlags { .. }),
                ) => tracing::error!("{h}"),
                SetupError::Handshake(HandshakeError::Refused { .. }) => {
                    tracing::debug!("{e}")
                }
                _ => tracing::warn!("incoming connection attempt failed: {e}"),
            }
            Err(e)
        }
    }
}
