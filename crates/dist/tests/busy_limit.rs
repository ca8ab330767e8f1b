//! The busy limit of a connection's outbox (BEAM's `dist_buf_busy_limit`): a peer that stops
//! reading makes the connection busy once that much is pending, `until_not_busy` waits while it
//! is, and ends when the peer reads again (with every message delivered) or the connection
//! closes.

use bytes::{Bytes, BytesMut};
use etf::{Atom, Pid, Term};
use ferl_dist::connection::{spawn, ConnectionConfig, ConnectionHandle, Event};
use ferl_dist::control::{ControlMessage, Message};
use ferl_dist::flags;
use ferl_dist::handshake::Outcome;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const LIMIT: usize = 64 * 1024;

/// A started connection with a 64 kB busy limit over loopback, and the raw other end.
async fn connected() -> (ConnectionHandle, TcpStream, mpsc::UnboundedReceiver<Event>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let ours = TcpStream::connect(l.local_addr().expect("addr"))
        .await
        .expect("connect");
    let (theirs, _) = l.accept().await.expect("accept");
    let outcome = Outcome {
        peer: Atom::new("busy_peer@h"),
        peer_flags: flags::DEFAULT,
        flags: flags::DEFAULT,
        peer_creation: 1,
    };
    let cfg = ConnectionConfig {
        busy_limit: LIMIT,
        ..ConnectionConfig::default()
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let (h, r) = spawn(ours, outcome, BytesMut::new(), 1, cfg, Arc::new(tx));
    r.start();
    (h, theirs, rx)
}

/// A SEND of `{i, <<1000 bytes>>}`.
fn message(i: i64) -> Message {
    let to = Pid::new(Atom::new("busy_peer@h"), 1, 0, 1);
    let payload = Term::tuple(vec![Term::Int(i), Term::from(Bytes::from(vec![7u8; 1000]))]);
    Message::new(ControlMessage::Send { to, token: None }, Some(payload))
}

/// Sends until the connection stays busy: the peer reads nothing, so once the kernel's buffers
/// are full the writer cannot empty the outbox any more. Returns how many were sent.
async fn fill(h: &ConnectionHandle) -> usize {
    let mut sent = 0;
    loop {
        for _ in 0..64 {
            h.send(&message(sent as i64)).expect("open");
            sent += 1;
        }
        assert!(
            sent < 200_000,
            "200 MB sent and the connection is still not busy"
        );
        // Time for the writer to take and write what is queued, as it would between sends.
        tokio::time::sleep(Duration::from_millis(2)).await;
        if h.is_busy() {
            return sent;
        }
    }
}

/// Reads frames from `theirs` until `n` non-tick packets arrived; returns the packets' count,
/// and the socket, still open (closing it would end any wait on the connection by itself).
async fn read_packets(mut theirs: TcpStream, n: usize) -> (usize, TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut got = 0;
    let mut pos = 0;
    while got < n {
        let k = theirs.read(&mut chunk).await.expect("read");
        assert!(k > 0, "closed after {got} of {n} packets");
        buf.extend_from_slice(&chunk[..k]);
        while buf.len() - pos >= 4 {
            let len = u32::from_be_bytes(buf[pos..pos + 4].try_into().expect("4 bytes")) as usize;
            if buf.len() - pos < 4 + len {
                break;
            }
            if len > 0 {
                got += 1;
            }
            pos += 4 + len;
        }
    }
    (got, theirs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_makes_the_connection_busy_until_it_reads_again() {
    let (h, theirs, _events) = connected().await;
    assert!(!h.is_busy(), "nothing pending yet");
    tokio::time::timeout(Duration::from_secs(1), h.until_not_busy())
        .await
        .expect("a connection that is not busy does not make anyone wait");

    let sent = tokio::time::timeout(Duration::from_secs(30), fill(&h))
        .await
        .expect("the connection became busy");
    assert!(h.pending() >= LIMIT, "{} pending", h.pending());
    // A process waiting now stays suspended while the peer reads nothing...
    let waiter = {
        let h = h.clone();
        tokio::spawn(async move { h.until_not_busy().await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiter.is_finished(),
        "the wait ended while the peer read nothing"
    );

    // ...and is resumed once the peer reads again; every message sent arrives.
    let reader = tokio::spawn(read_packets(theirs, sent));
    tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("the wait ends once the peer reads")
        .expect("waiter");
    assert!(!h.is_busy());
    let (got, _theirs) = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("all packets within 10 s")
        .expect("reader");
    assert_eq!(got, sent);
    tokio::time::timeout(Duration::from_secs(5), async {
        while h.pending() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("nothing stays pending once everything is written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_busy_connection_ends_the_wait() {
    let (h, _theirs, _events) = connected().await;
    tokio::time::timeout(Duration::from_secs(30), fill(&h))
        .await
        .expect("the connection became busy");
    let waiter = {
        let h = h.clone();
        tokio::spawn(async move { h.until_not_busy().await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiter.is_finished(), "the wait ended while busy and open");
    h.close();
    tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("closing ends the wait")
        .expect("waiter");
}
