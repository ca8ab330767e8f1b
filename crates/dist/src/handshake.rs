//! The v6 handshake as two sans-I/O state machines (`dist_util`'s two halves): an `Initiator`
//! (we dialled) and an `Acceptor` (they dialled). Bytes go in with `feed`, `poll` says what is
//! needed next, bytes to send pile up in `take_output`; no socket, no clock, no randomness inside.

use crate::cookie::Cookie;
use crate::flags;
use crate::handshake_msg::{split_message, Expect, HsMessage, HsMessageError};
use bytes::{Bytes, BytesMut};
use etf::Atom;
use std::fmt;

/// Who we are, as both machines need it.
#[derive(Clone, Debug)]
pub struct HandshakeConfig {
    /// Our full node name, `alive@host`.
    pub our_name: Atom,
    pub cookie: Cookie,
    /// What we advertise (`flags::DEFAULT`, or `flags::DEFAULT_HIDDEN`).
    pub flags: u64,
    /// Our creation from EPMD (never 0).
    pub creation: u32,
}

/// A finished handshake: who the peer is and what the connection can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub peer: Atom,
    /// The flags the peer advertised (digest bit expanded).
    pub peer_flags: u64,
    /// What both sides can do: `ours & theirs`.
    pub flags: u64,
    pub peer_creation: u32,
}

/// What the acceptor answers to a peer's name (`net_kernel`'s `accept_pending` rules, §1.6);
/// computed by the owner of the connection table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptDecision {
    /// Nothing known about that peer: go on.
    Ok,
    /// We are dialling it too and our name is smaller: go on here, drop our own attempt.
    OkSimultaneous,
    /// We are dialling it too and our name is greater: our attempt wins, refuse this one.
    Nok,
    /// We have a live connection: ask the peer whether it is a new incarnation.
    Alive,
    /// Not in the allow list.
    NotAllowed,
    /// A replacement of a live connection is already in progress: close without a status.
    AlreadyPending,
}

impl AcceptDecision {
    fn status(self) -> Option<&'static str> {
        match self {
            AcceptDecision::Ok => Some("ok"),
            AcceptDecision::OkSimultaneous => Some("ok_simultaneous"),
            AcceptDecision::Nok => Some("nok"),
            AcceptDecision::Alive => Some("alive"),
            AcceptDecision::NotAllowed => Some("not_allowed"),
            AcceptDecision::AlreadyPending => None,
        }
    }
}

/// What a machine needs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send `take_output()` (if any), then feed more bytes from the peer.
    NeedMore,
    /// Acceptor only: the peer said who it is; call `Acceptor::decide`.
    Decide { peer: Atom },
    /// Initiator only: the peer has a live connection to us; call `Initiator::answer_alive`
    /// with `true` when our dial is still pending (no live connection here: we restarted).
    AliveQuestion { peer: Atom },
    /// Send `take_output()`; the connection is up. Bytes already read past the handshake are
    /// in `into_leftover()`.
    Done(Outcome),
}

/// Elixir's spelling of an atom, as Logger prints node names: `:a@h`, `:"a-b@h"`.
pub fn elixir_atom(s: &str) -> String {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .map(|c| c.is_ascii_alphabetic() || c == '_')
        .unwrap_or(false);
    let body: Vec<char> = s.chars().skip(1).collect();
    let n = body.len();
    let rest_ok = body.iter().enumerate().all(|(i, &c)| {
        c.is_ascii_alphanumeric() || c == '_' || c == '@' || (i + 1 == n && (c == '?' || c == '!'))
    });
    if first_ok && rest_ok {
        format!(":{s}")
    } else {
        format!(":{s:?}")
    }
}

/// What the peer (or our owner's decision) made the handshake fail with. The `Display` of the
/// cookie and flag failures are BEAM's own log lines.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("bad handshake message: {0}")]
    Message(#[from] HsMessageError),
    #[error("the peer's node name {0:?} is not a valid alive@host name")]
    BadPeerName(String),
    #[error("** Connection attempt from node {} rejected since it cannot handle {missing:?}.**", elixir_atom(.peer))]
    PeerLacksFlags {
        peer: String,
        missing: Vec<&'static str>,
    },
    #[error("** Connection attempt to node {} cancelled: it cannot handle {missing:?} **", elixir_atom(.peer))]
    AcceptorLacksFlags {
        peer: String,
        missing: Vec<&'static str>,
    },
    #[error("dialled {} but the peer calls itself {}", elixir_atom(.dialled), elixir_atom(.got))]
    NameMismatch { dialled: String, got: String },
    #[error("** Connection attempt from node {} rejected. Invalid challenge reply. **", elixir_atom(.peer))]
    InvalidChallengeReply { peer: String },
    #[error("** Connection attempt to node {} rejected. Invalid challenge ack (wrong cookie?). **", elixir_atom(.peer))]
    InvalidChallengeAck { peer: String },
    #[error("the peer replied `nok`: it is dialling us too and its connection wins")]
    Nok,
    #[error(
        "the peer replied `not_allowed`: we are not in its allow list or lack mandatory flags"
    )]
    NotAllowed,
    #[error("the peer has a live connection to us and ours is not pending: we answered `false`")]
    AliveDeclined,
    #[error("the peer answered `false` to `alive`: it keeps its existing connection")]
    PeerKeepsOld,
    #[error("unknown handshake status {0:?}")]
    UnknownStatus(String),
    #[error("we refused the connection from {}: {decision:?}", elixir_atom(.peer))]
    Refused {
        peer: String,
        decision: AcceptDecision,
    },
    #[error("handshake used out of order: {0}")]
    Misuse(&'static str),
}

fn peer_name(raw: &[u8]) -> Result<Atom, HandshakeError> {
    let bad = || HandshakeError::BadPeerName(String::from_utf8_lossy(raw).into_owned());
    let s = std::str::from_utf8(raw).map_err(|_| bad())?;
    match s.split_once('@') {
        Some((alive, host)) if !alive.is_empty() && !host.is_empty() => {}
        _ => return Err(bad()),
    }
    Atom::try_new(s).map_err(|_| bad())
}

/// Shared buffering of both machines.
#[derive(Debug, Default)]
struct Io {
    input: BytesMut,
    output: BytesMut,
}

impl Io {
    fn next(&mut self, expect: Expect) -> Result<Option<HsMessage>, HandshakeError> {
        match split_message(&mut self.input) {
            Some(body) => Ok(Some(HsMessage::decode(expect, &body)?)),
            None => Ok(None),
        }
    }

    fn send(&mut self, m: HsMessage) {
        m.encode(&mut self.output);
    }

    fn status(&mut self, s: &str) {
        self.send(HsMessage::Status(s.as_bytes().to_vec()));
    }
}

#[derive(Clone, Copy, Debug)]
enum AState {
    AwaitName,
    AwaitDecision {
        peer: Atom,
        flags: u64,
        creation: u32,
    },
    AwaitAliveReply {
        peer: Atom,
        flags: u64,
        creation: u32,
    },
    AwaitReply {
        peer: Atom,
        flags: u64,
        creation: u32,
    },
    Done,
    Failed,
}

/// The side that was dialled (`dist_util:handshake_other_started/1`).
#[derive(Debug)]
pub struct Acceptor {
    cfg: HandshakeConfig,
    challenge: u32,
    state: AState,
    io: Io,
}

impl Acceptor {
    /// `challenge` must be random (see `cookie::random_challenge`); it is a parameter so tests
    /// are deterministic.
    pub fn new(cfg: HandshakeConfig, challenge: u32) -> Acceptor {
        Acceptor {
            cfg,
            challenge,
            state: AState::AwaitName,
            io: Io::default(),
        }
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.io.input.extend_from_slice(data);
    }

    /// Bytes to send to the peer now (also after an error: a refusal status).
    pub fn take_output(&mut self) -> Bytes {
        self.io.output.split().freeze()
    }

    /// Bytes the peer sent after the handshake (the first distribution frames).
    pub fn into_leftover(self) -> BytesMut {
        self.io.input
    }

    pub fn poll(&mut self) -> Result<Step, HandshakeError> {
        let r = self.advance();
        if r.is_err() {
            self.state = AState::Failed;
        }
        r
    }

    fn advance(&mut self) -> Result<Step, HandshakeError> {
        match self.state {
            AState::AwaitName => {
                let Some(m) = self.io.next(Expect::Name)? else {
                    return Ok(Step::NeedMore);
                };
                let HsMessage::Name {
                    flags: f,
                    creation,
                    name,
                } = m
                else {
                    return Err(HandshakeError::Misuse("decoder returned another message"));
                };
                let peer = peer_name(&name)?;
                let missing = flags::missing_mandatory(f);
                if !missing.is_empty() {
                    // check_dflags/2: refused before any other status.
                    self.io.status("not_allowed");
                    return Err(HandshakeError::PeerLacksFlags {
                        peer: peer.as_str().to_string(),
                        missing,
                    });
                }
                self.state = AState::AwaitDecision {
                    peer,
                    flags: flags::expand(f),
                    creation,
                };
                Ok(Step::Decide { peer })
            }
            AState::AwaitDecision { peer, .. } => Ok(Step::Decide { peer }),
            AState::AwaitAliveReply {
                peer,
                flags,
                creation,
            } => {
                let Some(m) = self.io.next(Expect::Status)? else {
                    return Ok(Step::NeedMore);
                };
                match m {
                    HsMessage::Status(s) if s == b"true" => {
                        self.send_challenge();
                        self.state = AState::AwaitReply {
                            peer,
                            flags,
                            creation,
                        };
                        self.advance()
                    }
                    HsMessage::Status(s) if s == b"false" => Err(HandshakeError::PeerKeepsOld),
                    HsMessage::Status(s) => Err(HandshakeError::UnknownStatus(
                        String::from_utf8_lossy(&s).into_owned(),
                    )),
                    _ => Err(HandshakeError::Misuse("decoder returned another message")),
                }
            }
            AState::AwaitReply {
                peer,
                flags: f,
                creation,
            } => {
                let Some(m) = self.io.next(Expect::ChallengeReply)? else {
                    return Ok(Step::NeedMore);
                };
                let HsMessage::ChallengeReply { challenge, digest } = m else {
                    return Err(HandshakeError::Misuse("decoder returned another message"));
                };
                if digest != self.cfg.cookie.digest(self.challenge) {
                    return Err(HandshakeError::InvalidChallengeReply {
                        peer: peer.as_str().to_string(),
                    });
                }
                self.io.send(HsMessage::ChallengeAck {
                    digest: self.cfg.cookie.digest(challenge),
                });
                self.state = AState::Done;
                Ok(Step::Done(Outcome {
                    peer,
                    peer_flags: f,
                    flags: flags::negotiate(self.cfg.flags, f),
                    peer_creation: creation,
                }))
            }
            AState::Done => Err(HandshakeError::Misuse("poll after Done")),
            AState::Failed => Err(HandshakeError::Misuse("poll after an error")),
        }
    }

    fn send_challenge(&mut self) {
        self.io.send(HsMessage::Challenge {
            flags: self.cfg.flags,
            challenge: self.challenge,
            creation: self.cfg.creation,
            name: self.cfg.our_name.as_str().as_bytes().to_vec(),
        });
    }

    /// The owner's answer to `Step::Decide`. Refusals queue their status (if any) and return
    /// `Err(Refused)`: flush the output, then close.
    pub fn decide(&mut self, decision: AcceptDecision) -> Result<(), HandshakeError> {
        let AState::AwaitDecision {
            peer,
            flags,
            creation,
        } = self.state
        else {
            return Err(HandshakeError::Misuse("decide without Step::Decide"));
        };
        if let Some(s) = decision.status() {
            self.io.status(s);
        }
        match decision {
            AcceptDecision::Ok | AcceptDecision::OkSimultaneous => {
                self.send_challenge();
                self.state = AState::AwaitReply {
                    peer,
                    flags,
                    creation,
                };
                Ok(())
            }
            AcceptDecision::Alive => {
                self.state = AState::AwaitAliveReply {
                    peer,
                    flags,
                    creation,
                };
                Ok(())
            }
            AcceptDecision::Nok | AcceptDecision::NotAllowed | AcceptDecision::AlreadyPending => {
                self.state = AState::Failed;
                Err(HandshakeError::Refused {
                    peer: peer.as_str().to_string(),
                    decision,
                })
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum IState {
    AwaitStatus,
    AwaitAliveAnswer,
    AwaitChallenge,
    AwaitAck { flags: u64, creation: u32 },
    Done,
    Failed,
}

/// The side that dialled (`dist_util:handshake_we_started/1`).
#[derive(Debug)]
pub struct Initiator {
    cfg: HandshakeConfig,
    peer: Atom,
    challenge: u32,
    state: IState,
    io: Io,
}

impl Initiator {
    /// Starts a handshake towards `peer` (the name we dialled; the challenge must carry exactly
    /// this name). The `'N'` message is queued at once.
    pub fn new(cfg: HandshakeConfig, peer: Atom, challenge: u32) -> Initiator {
        let mut io = Io::default();
        io.send(HsMessage::Name {
            flags: cfg.flags,
            creation: cfg.creation,
            name: cfg.our_name.as_str().as_bytes().to_vec(),
        });
        Initiator {
            cfg,
            peer,
            challenge,
            state: IState::AwaitStatus,
            io,
        }
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.io.input.extend_from_slice(data);
    }

    pub fn take_output(&mut self) -> Bytes {
        self.io.output.split().freeze()
    }

    pub fn into_leftover(self) -> BytesMut {
        self.io.input
    }

    pub fn poll(&mut self) -> Result<Step, HandshakeError> {
        let r = self.advance();
        if r.is_err() {
            self.state = IState::Failed;
        }
        r
    }

    fn advance(&mut self) -> Result<Step, HandshakeError> {
        match self.state {
            IState::AwaitStatus => {
                let Some(m) = self.io.next(Expect::Status)? else {
                    return Ok(Step::NeedMore);
                };
                let HsMessage::Status(s) = m else {
                    return Err(HandshakeError::Misuse("decoder returned another message"));
                };
                match &s[..] {
                    b"ok" | b"ok_simultaneous" => {
                        self.state = IState::AwaitChallenge;
                        self.advance()
                    }
                    b"nok" => Err(HandshakeError::Nok),
                    b"not_allowed" => Err(HandshakeError::NotAllowed),
                    b"alive" => {
                        self.state = IState::AwaitAliveAnswer;
                        Ok(Step::AliveQuestion { peer: self.peer })
                    }
                    other => Err(HandshakeError::UnknownStatus(
                        String::from_utf8_lossy(other).into_owned(),
                    )),
                }
            }
            IState::AwaitAliveAnswer => Ok(Step::AliveQuestion { peer: self.peer }),
            IState::AwaitChallenge => {
                let Some(m) = self.io.next(Expect::Challenge)? else {
                    return Ok(Step::NeedMore);
                };
                let HsMessage::Challenge {
                    flags: f,
                    challenge,
                    creation,
                    name,
                } = m
                else {
                    return Err(HandshakeError::Misuse("decoder returned another message"));
                };
                if name != self.peer.as_str().as_bytes() {
                    return Err(HandshakeError::NameMismatch {
                        dialled: self.peer.as_str().to_string(),
                        got: String::from_utf8_lossy(&name).into_owned(),
                    });
                }
                let missing = flags::missing_mandatory(f);
                if !missing.is_empty() {
                    return Err(HandshakeError::AcceptorLacksFlags {
                        peer: self.peer.as_str().to_string(),
                        missing,
                    });
                }
                self.io.send(HsMessage::ChallengeReply {
                    challenge: self.challenge,
                    digest: self.cfg.cookie.digest(challenge),
                });
                self.state = IState::AwaitAck {
                    flags: flags::expand(f),
                    creation,
                };
                self.advance()
            }
            IState::AwaitAck { flags: f, creation } => {
                let Some(m) = self.io.next(Expect::ChallengeAck)? else {
                    return Ok(Step::NeedMore);
                };
                let HsMessage::ChallengeAck { digest } = m else {
                    return Err(HandshakeError::Misuse("decoder returned another message"));
                };
                if digest != self.cfg.cookie.digest(self.challenge) {
                    return Err(HandshakeError::InvalidChallengeAck {
                        peer: self.peer.as_str().to_string(),
                    });
                }
                self.state = IState::Done;
                Ok(Step::Done(Outcome {
                    peer: self.peer,
                    peer_flags: f,
                    flags: flags::negotiate(self.cfg.flags, f),
                    peer_creation: creation,
                }))
            }
            IState::Done => Err(HandshakeError::Misuse("poll after Done")),
            IState::Failed => Err(HandshakeError::Misuse("poll after an error")),
        }
    }

    /// The owner's answer to `Step::AliveQuestion`: `true` when our dial is still the pending
    /// one (the peer's live connection is to a previous incarnation of us).
    pub fn answer_alive(&mut self, still_pending: bool) -> Result<(), HandshakeError> {
        if !matches!(self.state, IState::AwaitAliveAnswer) {
            return Err(HandshakeError::Misuse("answer_alive without AliveQuestion"));
        }
        if still_pending {
            self.io.status("true");
            self.state = IState::AwaitChallenge;
            Ok(())
        } else {
            self.io.status("false");
            self.state = IState::Failed;
            Err(HandshakeError::AliveDeclined)
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (flags {:#x}, creation {})",
            elixir_atom(self.peer.as_str()),
            self.flags,
            self.peer_creation
        )
    }
}

#[cfg(test)]
#[path = "handshake_tests.rs"]
mod tests;
