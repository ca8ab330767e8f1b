//! The EPMD client a node uses, as OTP's `erl_epmd`: register (ALIVE2, the socket held for the
//! node's life), look a node up (PORT_PLEASE2), list names (NAMES). Every call is time-bounded.

use crate::error::EpmdError;
use crate::proto::{self, Alive2Reply, NamesReply, NodeInfo, PortPlease2Reply, Request};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};

/// How long any one exchange with EPMD may take, connect included.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A reply bigger than this is not from an epmd (NAMES of ~1000 nodes fits comfortably).
const MAX_REPLY: usize = 1 << 20;

/// A live registration. EPMD keeps the name while this socket is open, so hold it for the
/// node's life; dropping it (or [`unregister`](Registration::unregister)) frees the name.
#[derive(Debug)]
pub struct Registration {
    stream: TcpStream,
    name: String,
    port: u16,
    creation: u32,
}

impl Registration {
    /// The creation EPMD assigned; goes in the handshake and in every pid, ref and port.
    pub fn creation(&self) -> u32 {
        self.creation
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Closes the registration socket, which is how EPMD learns the node is gone.
    pub async fn unregister(mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// Resolves when EPMD closes our registration (it died or was killed).
    pub async fn closed(&mut self) {
        let mut buf = [0u8; 16];
        loop {
            match self.stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                // epmd never writes after the reply; ignore noise rather than spin.
                Ok(_) => continue,
            }
        }
    }
}

/// Registers `name` (the alive part, before `@`) listening on `port`, announcing versions 5-6
/// like OTP 25. A taken name gives [`EpmdError::NameInUse`].
pub async fn register<A: ToSocketAddrs>(
    epmd: A,
    name: &str,
    port: u16,
    hidden: bool,
) -> Result<Registration, EpmdError> {
    check_name(name)?;
    let info = NodeInfo::new(name, port, hidden);
    bounded(async {
        let mut stream = connect(epmd).await?;
        stream
            .write_all(&Request::Alive2(info).encode_frame())
            .await?;
        let mut tag = [0u8; 1];
        read_exact_or_closed(&mut stream, &mut tag).await?;
        let len = Alive2Reply::len_for_tag(tag[0])?;
        let mut buf = vec![0u8; len];
        buf[0] = tag[0];
        read_exact_or_closed(&mut stream, &mut buf[1..]).await?;
        let reply = Alive2Reply::decode(&buf)?;
        match reply.result {
            0 => Ok(Registration {
                stream,
                name: name.to_string(),
                port,
                creation: reply.creation,
            }),
            1 => Err(EpmdError::NameInUse {
                name: name.to_string(),
            }),
            result => Err(EpmdError::Refused {
                name: name.to_string(),
                result,
            }),
        }
    })
    .await
}

/// Where node `name` listens, or `None` when EPMD does not know it.
pub async fn port_please<A: ToSocketAddrs>(
    epmd: A,
    name: &str,
) -> Result<Option<NodeInfo>, EpmdError> {
    check_name(name)?;
    let reply = request_until_close(epmd, Request::PortPlease2(name.to_string())).await?;
    match PortPlease2Reply::decode(&reply)? {
        PortPlease2Reply::Found(info) => Ok(Some(info)),
        PortPlease2Reply::NotFound(_) => Ok(None),
    }
}

/// Every registered `(name, port)`, as `epmd -names` lists them.
pub async fn names<A: ToSocketAddrs>(epmd: A) -> Result<Vec<(String, u16)>, EpmdError> {
    Ok(names_reply(epmd).await?.names)
}

/// The whole NAMES reply, including the port EPMD says it listens on.
pub async fn names_reply<A: ToSocketAddrs>(epmd: A) -> Result<NamesReply, EpmdError> {
    let reply = request_until_close(epmd, Request::Names).await?;
    Ok(NamesReply::decode(&reply)?)
}

/// Asks EPMD to stop: `Ok(true)` when it agreed, `Ok(false)` when it refused because nodes are
/// still registered (as `epmd -kill`).
pub async fn kill<A: ToSocketAddrs>(epmd: A) -> Result<bool, EpmdError> {
    let reply = request_until_close(epmd, Request::Kill).await?;
    proto::decode_kill_reply(&reply).ok_or(EpmdError::BadReply(
        crate::error::DecodeError::UnexpectedReply {
            expected: "OK or NO",
            got: reply.first().copied().unwrap_or(0),
        },
    ))
}

/// Sends one request and reads the reply until EPMD closes the socket.
async fn request_until_close<A: ToSocketAddrs>(
    epmd: A,
    request: Request,
) -> Result<Vec<u8>, EpmdError> {
    bounded(async {
        let mut stream = connect(epmd).await?;
        stream.write_all(&request.encode_frame()).await?;
        let mut reply = Vec::new();
        (&mut stream)
            .take(MAX_REPLY as u64 + 1)
            .read_to_end(&mut reply)
            .await?;
        if reply.len() > MAX_REPLY {
            return Err(EpmdError::BadReply(
                crate::error::DecodeError::RequestTooLong(reply.len()),
            ));
        }
        if reply.is_empty() {
            return Err(EpmdError::Closed);
        }
        Ok(reply)
    })
    .await
}

async fn connect<A: ToSocketAddrs>(epmd: A) -> Result<TcpStream, EpmdError> {
    // Resolve first so the error can name the address that refused.
    let addrs: Vec<_> = tokio::net::lookup_host(epmd).await?.collect();
    let mut last = None;
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some((addr.to_string(), e)),
        }
    }
    let (addr, source) = last.unwrap_or_else(|| {
        (
            "<no address>".to_string(),
            std::io::Error::new(std::io::ErrorKind::NotFound, "host did not resolve"),
        )
    });
    Err(EpmdError::Connect { addr, source })
}

async fn read_exact_or_closed(stream: &mut TcpStream, buf: &mut [u8]) -> Result<(), EpmdError> {
    match stream.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(EpmdError::Closed),
        Err(e) => Err(e.into()),
    }
}

async fn bounded<T>(
    fut: impl std::future::Future<Output = Result<T, EpmdError>>,
) -> Result<T, EpmdError> {
    tokio::time::timeout(TIMEOUT, fut)
        .await
        .map_err(|_| EpmdError::Timeout(TIMEOUT))?
}

fn check_name(name: &str) -> Result<(), EpmdError> {
    proto::node_name(name.as_bytes())
        .map(|_| ())
        .map_err(|reason| EpmdError::BadName {
            name: name.to_string(),
            reason,
        })
}
