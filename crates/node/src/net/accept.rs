//! The accept loop: every incoming connection runs the acceptor handshake through `Net`, and
//! once installed it is cached for senders and announced (`{nodeup, Node}`), as for our dials.

use super::peers::{Peer, Slot};
use super::remote::DistRemote;
use dist::{ConnectionHandle, Net};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub(crate) fn serve(remote: Weak<DistRemote>, net: Net, listener: TcpListener) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let (net, remote) = (net.clone(), remote.clone());
                    tokio::spawn(async move {
                        // Failures are logged by dist (BEAM's lines for cookies and flags).
                        if let Ok(h) = net.accept(stream).await {
                            if let Some(r) = remote.upgrade() {
                                r.on_accepted(h);
                            }
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    })
}

impl DistRemote {
    /// A peer's handshake completed. A pending dial of ours is left to finish (it returns this
    /// same connection); otherwise senders use it from now on.
    pub(crate) fn on_accepted(&self, h: ConnectionHandle) {
        let peer = h.peer();
        {
            let mut map = self.peers.write();
            match map.get(&peer) {
                Some(Slot::Pending { .. }) => {}
                Some(Slot::Up(p)) if p.is_up() && p.handle.id() == h.id() => {}
                _ if h.is_closed() => return,
                _ => {
                    map.insert(peer, Slot::Up(Arc::new(Peer::new(h.clone()))));
                }
            }
        }
        self.announce_up(peer, &h);
    }
}
