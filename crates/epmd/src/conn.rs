//! One client connection to the server: read one bounded request within the packet timeout,
//! answer it, and either close (PORT_PLEASE2, NAMES, ...) or hold the connection as the node's
//! registration until it closes (ALIVE2). A bad peer only ever loses its own connection.

use crate::proto::{self, Alive2Reply, NamesReply, PortPlease2Reply, Request};
use crate::registry::ConnId;
use crate::server::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why a connection was dropped without being served.
#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error("no complete request within the packet timeout")]
    Timeout,
    #[error("closed before sending a whole request")]
    Partial,
    #[error("bad request: {0}")]
    Decode(#[from] crate::error::DecodeError),
    #[error("{0} from a non-local address refused")]
    NotLocal(&'static str),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

pub(crate) async fn handle(
    mut stream: TcpStream,
    peer: SocketAddr,
    id: ConnId,
    shared: Arc<Shared>,
) {
    if let Err(e) = serve(&mut stream, peer, id, &shared).await {
        tracing::debug!(%peer, error = %e, "epmd connection closed");
    }
}

async fn serve(
    stream: &mut TcpStream,
    peer: SocketAddr,
    id: ConnId,
    shared: &Shared,
) -> Result<(), ConnError> {
    let body = tokio::time::timeout(shared.config.packet_timeout, read_request(stream))
        .await
        .map_err(|_| ConnError::Timeout)??;
    let request = match Request::decode_body(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(%peer, error = %e, "garbage request; closing that connection");
            return Err(e.into());
        }
    };
    match request {
        Request::Alive2(info) => {
            if !is_local(stream) {
                return Err(ConnError::NotLocal("ALIVE2_REQ"));
            }
            alive(stream, peer, id, shared, info).await
        }
        Request::PortPlease2(name) => {
            let reply = match shared.registry().lookup(&name) {
                Some(info) => PortPlease2Reply::Found(info.clone()),
                None => PortPlease2Reply::NotFound(1),
            };
            tracing::debug!(%peer, %name, found = matches!(reply, PortPlease2Reply::Found(_)), "PORT_PLEASE2");
            reply_and_close(stream, &reply.encode()).await
        }
        Request::Names => {
            let reply = NamesReply {
                epmd_port: u32::from(shared.port),
                names: shared.registry().names(),
            };
            reply_and_close(stream, &reply.encode()).await
        }
        Request::Dump => {
            if !is_local(stream) {
                return Err(ConnError::NotLocal("DUMP_REQ"));
            }
            let mut out = u32::from(shared.port).to_be_bytes().to_vec();
            for (name, port) in shared.registry().names() {
                // epmd's format, including the NUL it writes after each line.
                out.extend_from_slice(
                    format!("active name     <{name}> at port {port}\n\0").as_bytes(),
                );
            }
            reply_and_close(stream, &out).await
        }
        Request::Kill => {
            if !is_local(stream) {
                return Err(ConnError::NotLocal("KILL_REQ"));
            }
            let ok = shared.config.relaxed_command_check || shared.registry().is_empty();
            reply_and_close(stream, proto::encode_kill_reply(ok)).await?;
            if ok {
                shared.shutdown.notify_one();
            } else {
                tracing::warn!(%peer, "KILL_REQ refused: nodes are registered");
            }
            Ok(())
        }
    }
}

/// ALIVE2: register, answer, then hold the registration until the node's socket closes.
async fn alive(
    stream: &mut TcpStream,
    peer: SocketAddr,
    id: ConnId,
    shared: &Shared,
    info: proto::NodeInfo,
) -> Result<(), ConnError> {
    let name = info.name.clone();
    let high = info.high;
    let registered = shared.registry().register(info.clone(), id);
    let reply = Alive2Reply {
        result: if registered.is_some() { 0 } else { 1 },
        creation: registered.unwrap_or(99),
        extended: high >= 6,
    };
    if let Err(e) = stream.write_all(&reply.encode()).await {
        shared.registry().unregister_conn(id);
        return Err(e.into());
    }
    let Some(creation) = registered else {
        tracing::warn!(%peer, %name, "name already occupied");
        // Real epmd keeps a refused connection until the peer closes it; BEAM closes at once.
        return Ok(());
    };
    tracing::info!(%peer, %name, port = info.port, creation, hidden = info.hidden(), "registered");
    // Anything the node sends now, or EOF, or an error, ends the registration (as epmd does).
    let mut buf = [0u8; 64];
    let outcome = stream.read(&mut buf).await;
    shared.registry().unregister_conn(id);
    match outcome {
        Ok(0) => tracing::info!(%peer, %name, "unregistered (connection closed)"),
        Ok(n) => {
            tracing::warn!(%peer, %name, bytes = n, "unexpected data on a registration; unregistered")
        }
        Err(e) => tracing::info!(%peer, %name, error = %e, "unregistered (connection error)"),
    }
    Ok(())
}

/// Reads one `Len:u16, Body` request; the length is checked before anything is allocated.
async fn read_request(stream: &mut TcpStream) -> Result<Vec<u8>, ConnError> {
    let mut prefix = [0u8; 2];
    read_exact(stream, &mut prefix).await?;
    let len = proto::request_len(prefix)?;
    let mut body = vec![0u8; len];
    read_exact(stream, &mut body).await?;
    Ok(body)
}

async fn read_exact(stream: &mut TcpStream, buf: &mut [u8]) -> Result<(), ConnError> {
    match stream.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(ConnError::Partial),
        Err(e) => Err(e.into()),
    }
}

async fn reply_and_close(stream: &mut TcpStream, bytes: &[u8]) -> Result<(), ConnError> {
    stream.write_all(bytes).await?;
    stream.shutdown().await?;
    Ok(())
}

/// epmd only takes registrations and admin requests from this host: a loopback peer, or a
/// peer whose address is the one it connected to.
fn is_local(stream: &TcpStream) -> bool {
    match (stream.peer_addr(), stream.local_addr()) {
        (Ok(peer), Ok(local)) => peer.ip().is_loopback() || peer.ip() == local.ip(),
        _ => false,
    }
}
