//! The connection's tasks, on in-memory writers and loopback sockets: the writer's batching and
//! ticks, every sender's order, the reader's batches and packets split across reads, the
//! low-water mark, and closing.

use super::*;
use crate::atom_cache::AtomCache;
use crate::flags;
use crate::frame::Frame;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Records the size of every `write` the writer task issues.
struct CountingWriter(Arc<Mutex<Vec<usize>>>);

impl AsyncWrite for CountingWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buf.len());
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn shared() -> Arc<Shared> {
    Arc::new(Shared {
        outcome: Outcome {
            peer: Atom::new("peer@h"),
            peer_flags: flags::DEFAULT,
            flags: flags::DEFAULT,
            peer_creation: 1,
        },
        id: 1,
        reason: Mutex::new(None),
        shutdown: watch::channel(false).0,
        read_activity: AtomicBool::new(true),
        is_closed: AtomicBool::new(false),
        outbox: Outbox::default(),
        busy_limit: DEFAULT_BUSY_LIMIT,
    })
}

const FRAME: [u8; 7] = [0, 0, 0, 3, 112, 131, 106];

fn queue(sh: &Shared, n: usize) {
    for _ in 0..n {
        sh.outbox.push(|q| q.buf.extend_from_slice(&FRAME));
    }
}

#[tokio::test]
async fn writer_coalesces_queued_frames_into_few_writes() {
    let writes = Arc::new(Mutex::new(Vec::new()));
    let sh = shared();
    queue(&sh, 1000);
    let task = tokio::spawn(writer(
        CountingWriter(writes.clone()),
        sh.clone(),
        ConnectionConfig::default(),
    ));
    tokio::time::sleep(Duration::from_millis(50)).await;
    sh.close(CloseReason::ClosedByUs);
    task.await.expect("writer ends");
    let w = writes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(w.iter().sum::<usize>(), 7000, "every byte written once");
    assert_eq!(w.len(), 1, "1000 queued frames, one write: {w:?}");
}

#[tokio::test]
async fn writer_waits_for_the_senders_that_are_ready_before_writing() {
    // One frame wakes the writer; ten more senders are ready to run at that moment (as
    // callers woken by one burst of replies). The writer lets them queue first: one write.
    let writes = Arc::new(Mutex::new(Vec::new()));
    let sh = shared();
    let task = tokio::spawn(writer(
        CountingWriter(writes.clone()),
        sh.clone(),
        ConnectionConfig::default(),
    ));
    tokio::task::yield_now().await; // the writer is waiting
    queue(&sh, 1);
    let senders: Vec<_> = (0..10)
        .map(|_| {
            let sh = sh.clone();
            tokio::spawn(async move { queue(&sh, 1) })
        })
        .collect();
    for s in senders {
        s.await.expect("sender");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    sh.close(CloseReason::ClosedByUs);
    task.await.expect("writer ends");
    let w = writes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(w, vec![77], "eleven frames, one write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_wake_the_nodes_busy_wait() {
    let busy = BusyWait::start(Duration::from_secs(30));
    let cfg = ConnectionConfig {
        busy_wait: Some(busy.clone()),
        ..ConnectionConfig::default()
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!busy.is_spinning(), "asleep before any activity");
    let sh = shared();
    let task = tokio::spawn(writer(
        CountingWriter(Arc::new(Mutex::new(Vec::new()))),
        sh.clone(),
        cfg,
    ));
    queue(&sh, 1);
    let woke = async {
        while !busy.is_spinning() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), woke)
        .await
        .expect("the write woke the spinner");
    sh.close(CloseReason::ClosedByUs);
    task.await.expect("writer ends");
}

#[tokio::test]
async fn frames_queued_before_our_close_are_written_not_dropped() {
    let writes = Arc::new(Mutex::new(Vec::new()));
    let sh = shared();
    // Queued, then closed before the writer ever runs: as `send` then `node.stop()`.
    queue(&sh, 3);
    sh.close(CloseReason::ClosedByUs);
    writer(
        CountingWriter(writes.clone()),
        sh.clone(),
        ConnectionConfig::default(),
    )
    .await;
    let w = writes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(w.iter().sum::<usize>(), 21, "all three frames: {w:?}");
}

#[tokio::test]
async fn a_broken_connection_does_not_write_after_close() {
    let writes = Arc::new(Mutex::new(Vec::new()));
    let sh = shared();
    queue(&sh, 1);
    sh.close(CloseReason::NetTickTimeout);
    writer(
        CountingWriter(writes.clone()),
        sh.clone(),
        ConnectionConfig::default(),
    )
    .await;
    assert!(writes.lock().unwrap_or_else(|e| e.into_inner()).is_empty());
}

/// Both ends of a loopback TCP connection: ours, then theirs.
async fn socket_pair() -> (TcpStream, TcpStream) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let ours = TcpStream::connect(l.local_addr().expect("addr"))
        .await
        .expect("connect");
    let (theirs, _) = l.accept().await.expect("accept");
    (ours, theirs)
}

/// A connection over a real loopback socket, and the raw other end.
async fn connected() -> (
    ConnectionHandle,
    Reader,
    mpsc::UnboundedReceiver<Event>,
    TcpStream,
) {
    let (ours, theirs) = socket_pair().await;
    let (tx, rx) = mpsc::unbounded_channel();
    let outcome = shared().outcome;
    let (h, r) = spawn(
        ours,
        outcome,
        BytesMut::new(),
        7,
        ConnectionConfig::default(),
        Arc::new(tx),
    );
    (h, r, rx, theirs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_packets_arrive_whole_and_in_each_senders_order() {
    senders_arrive_in_order(b"").await;
}

/// The same with 300-byte packets: a sender's burst reaches the outbox's early-write size
/// every few packets, so senders' early writes and the writer's writes interleave all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_writes_and_the_writers_writes_keep_every_senders_order() {
    senders_arrive_in_order(&[7; 300]).await;
}

/// 4 senders on their own tasks, 5000 packets each (`{sender, i, pad}`), over a real socket:
/// every packet arrives whole, and each sender's in its order.
async fn senders_arrive_in_order(pad: &'static [u8]) {
    use crate::control::{ControlMessage, Message};
    let (h, r, _rx, mut theirs) = connected().await;
    r.start();
    const SENDERS: i64 = 4;
    const EACH: i64 = 5000;
    let to = etf::Pid::new(Atom::new("peer@h"), 1, 0, 1);
    let tasks: Vec<_> = (0..SENDERS)
        .map(|s| {
            let h = h.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    let payload = etf::Term::tuple(vec![
                        etf::Term::Int(s),
                        etf::Term::Int(i),
                        etf::Term::binary(pad),
                    ]);
                    let m = Message::new(ControlMessage::Send { to, token: None }, Some(payload));
                    h.send(&m).expect("open");
                    if i % 64 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("sender");
    }
    let mut cache = AtomCache::default();
    let mut next = [0i64; SENDERS as usize];
    let mut buf = BytesMut::new();
    let mut seen = 0;
    while seen < SENDERS * EACH {
        match frame::parse(&mut buf, frame::DEFAULT_MAX_PACKET).expect("well framed") {
            Some(packet @ (Frame::PassThrough(_) | Frame::DistHeader(_))) => {
                // DEFAULT flags negotiate the atom cache: packets come with a header.
                let Frame::DistHeader(body) = packet else {
                    panic!("pass-through packet on a header connection")
                };
                let m = Message::decode_with_header(body, &mut cache).expect("whole packet");
                let Some(etf::Term::Tuple(v)) = m.payload else {
                    panic!("payload {:?}", m.payload)
                };
                let (etf::Term::Int(s), etf::Term::Int(i)) = (&v[0], &v[1]) else {
                    panic!("{v:?}")
                };
                assert_eq!(v[2].as_binary().map(|b| &b[..]), Some(pad), "whole payload");
                assert_eq!(next[*s as usize], *i, "sender {s} out of order");
                next[*s as usize] += 1;
                seen += 1;
            }
            Some(Frame::Tick) => {}
            None => {
                let n = tokio::time::timeout(Duration::from_secs(10), theirs.read_buf(&mut buf))
                    .await
                    .expect("packets keep coming")
                    .expect("read");
                assert!(n > 0, "closed after {seen} packets");
            }
        }
    }
}

/// Records the batches the reader hands over, and the close.
#[derive(Default)]
struct Batches {
    sizes: Mutex<Vec<usize>>,
    messages: Mutex<Vec<Message>>,
    closed: Mutex<Option<CloseReason>>,
}

impl Batches {
    fn received(&self) -> usize {
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Waits until `n` messages were handed over, at most `limit`; whether they were.
    async fn until_received(&self, n: usize, limit: Duration) -> bool {
        let all_in = async {
            while self.received() < n {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(limit, all_in).await.is_ok()
    }
}

impl EventSink for Batches {
    fn event(&self, ev: Event) {
        if let Event::Closed { reason, .. } = ev {
            *self.closed.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        }
    }
    fn messages(&self, _: Atom, _: u64, batch: &mut Vec<Message>) {
        self.sizes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(batch.len());
        let mut m = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        m.append(batch);
    }
}

#[tokio::test]
async fn the_reader_hands_over_a_reads_messages_in_order_in_bounded_batches() {
    use crate::control::ControlMessage;
    let (h, r, mut theirs, sink, _) = reader_into_batches().await;
    // 600 packets and then a malformed one, in one write, before the reader starts.
    let to = etf::Pid::new(Atom::new("peer@h"), 1, 0, 1);
    let mut bytes = BytesMut::new();
    for i in 0..600 {
        let m = Message::new(
            ControlMessage::Send { to, token: None },
            Some(etf::Term::Int(i)),
        );
        bytes.extend_from_slice(&m.to_frame());
    }
    bytes.extend_from_slice(&[0, 0, 0, 2, 112, 200]);
    theirs.write_all(&bytes).await.expect("write");
    r.start();
    let closed = async {
        while sink
            .closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .expect("the bad packet closes the connection");
    assert!(h.is_closed());
    let got: Vec<_> = sink
        .messages
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|m| m.payload.clone())
        .collect();
    let want: Vec<_> = (0..600).map(|i| Some(etf::Term::Int(i))).collect();
    assert_eq!(got, want, "every good packet before the bad one, in order");
    let sizes = sink.sizes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(sizes.iter().all(|&n| n <= MAX_BATCH), "{sizes:?}");
    assert!(sizes.len() < 600, "batched, not one by one: {sizes:?}");
    assert!(matches!(
        *sink.closed.lock().unwrap_or_else(|e| e.into_inner()),
        Some(CloseReason::Malformed(_))
    ));
}

/// A connection on one end of a fresh socket pair, its reader (not started) handing its
/// batches to the `Batches`; the other end, with Nagle off (each write its own segment),
/// and the reader's socket descriptor.
async fn reader_into_batches() -> (ConnectionHandle, Reader, TcpStream, Arc<Batches>, i32) {
    let (ours, theirs) = socket_pair().await;
    theirs.set_nodelay(true).expect("nodelay");
    let fd = ours.as_raw_fd();
    let sink = Arc::new(Batches::default());
    let (h, r) = reader_on(ours, sink.clone());
    (h, r, theirs, sink, fd)
}

/// A connection on `ours`, its reader (not started) handing what it reads to `sink`.
fn reader_on(ours: TcpStream, sink: Arc<dyn EventSink>) -> (ConnectionHandle, Reader) {
    spawn(
        ours,
        shared().outcome,
        BytesMut::new(),
        7,
        ConnectionConfig::default(),
        sink,
    )
}

/// The processes a read's messages woke run before the reader reads again, even while
/// input is waiting: five reads' worth is queued before the reader starts, and each
/// delivery's receiver (a task spawned by the sink) runs before the next delivery.
#[tokio::test(flavor = "current_thread")]
async fn woken_receivers_run_before_the_next_read() {
    receivers_run_between_reads(1000, 320).await;
}

/// The same when a read ends exactly on a batch: 256-byte packets, so that each 64 KB read
/// is `MAX_BATCH` messages, all handed over as a full batch inside the read's loop. The
/// reader once yielded only for a last, partial batch; with none it read on (up to
/// tokio's budget of 128 reads, 8 MB), and in `ferl bench` (d), whose packets are 64 bytes,
/// the sink's mailbox grew to 130k messages and the row fell to 4-6M msgs/s.
#[tokio::test(flavor = "current_thread")]
async fn woken_receivers_run_before_the_next_read_after_a_read_of_full_batches() {
    let payload = (24..256)
        .find(|&len| binary_send_frame(len).len() == 256)
        .expect("a 256-byte packet");
    assert_eq!(64 * 1024 / 256, MAX_BATCH, "a read is one full batch");
    receivers_run_between_reads(payload, 5 * MAX_BATCH).await;
}

/// A SEND packet whose message is a binary of `payload` bytes.
fn binary_send_frame(payload: usize) -> Bytes {
    let to = etf::Pid::new(Atom::new("peer@h"), 1, 0, 1);
    Message::new(
        crate::control::ControlMessage::Send { to, token: None },
        Some(Term::from(Bytes::from(vec![7u8; payload]))),
    )
    .to_frame()
}

/// `n` packets, each a binary of `payload` bytes, queued before the reader starts; then
/// every delivery's receiver must have run before the next delivery.
async fn receivers_run_between_reads(payload: usize, n: usize) {
    // A receive buffer that holds all of it, so that it is all queued before the start.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4 << 20).expect("rcvbuf");
    let ours = socket
        .connect(l.local_addr().expect("addr"))
        .await
        .expect("connect");
    let (mut theirs, _) = l.accept().await.expect("accept");

    /// Logs `D` per delivery and spawns a task that logs `C` when it runs.
    #[derive(Default)]
    struct Woken {
        log: Arc<Mutex<String>>,
        received: std::sync::atomic::AtomicUsize,
    }
    impl EventSink for Woken {
        fn event(&self, _: Event) {}
        fn messages(&self, _: Atom, _: u64, batch: &mut Vec<Message>) {
            self.received.fetch_add(batch.len(), Ordering::Relaxed);
            batch.clear();
            self.log.lock().unwrap_or_else(|e| e.into_inner()).push('D');
            let log = self.log.clone();
            tokio::spawn(async move {
                log.lock().unwrap_or_else(|e| e.into_inner()).push('C');
            });
        }
    }
    let sink = Arc::new(Woken::default());
    let (_h, r) = reader_on(ours, sink.clone());
    let frame = binary_send_frame(payload);
    let bytes: Vec<u8> = (0..n).flat_map(|_| frame.iter().copied()).collect();
    theirs.write_all(&bytes).await.expect("write");
    tokio::time::sleep(Duration::from_millis(50)).await;
    r.start();
    let all_in = async {
        while sink.received.load(Ordering::Relaxed) < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), all_in)
        .await
        .expect("every message arrives");
    tokio::task::yield_now().await;
    let log = sink.log.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(log.matches('D').count() >= 4, "several reads: {log}");
    assert!(
        !log.contains("DD"),
        "a delivery before the last one's receiver ran: {log}"
    );
}

#[tokio::test]
async fn packets_split_anywhere_across_reads_arrive_whole_and_in_order() {
    use crate::atom_cache::{HeaderRefs, OutCache};
    use crate::control::ControlMessage;
    let (h, r, mut theirs, sink, _) = reader_into_batches().await;
    r.start();
    // Both kinds of packet, ticks, and now and then a packet larger than a read.
    let to = etf::Pid::new(Atom::new("peer@h"), 1, 0, 1);
    let (mut cache, mut refs) = (OutCache::default(), HeaderRefs::default());
    let mut last = crate::LastTraffic::default();
    let mut bytes = BytesMut::new();
    let (mut want, mut big) = (Vec::new(), Vec::new());
    for i in 0..300i64 {
        let payload = if i % 150 == 7 {
            Term::from(Bytes::from(vec![i as u8; 100_000]))
        } else {
            Term::tuple(vec![
                Term::atom("push"),
                Term::Int(i),
                Term::binary(b"item-123"),
            ])
        };
        let m = Message::new(ControlMessage::Send { to, token: None }, Some(payload));
        let start = bytes.len();
        if i % 2 == 0 {
            bytes.extend_from_slice(&m.to_frame());
        } else {
            m.encode_for(flags::DEFAULT, &mut cache, &mut refs, &mut last, &mut bytes);
        }
        if i % 150 == 7 {
            big.push(start..bytes.len());
        }
        if i % 10 == 0 {
            bytes.extend_from_slice(&[0, 0, 0, 0]);
        }
        want.push(m);
    }
    // Written in pieces of 1 to 97 bytes (the large packets in 20 KB ones), with a pause
    // after each for the reader: reads end everywhere, in length prefixes, headers, terms.
    let (mut at, mut k) = (0, 0usize);
    while at < bytes.len() {
        k += 1;
        let end = match big.iter().find(|r| r.contains(&at)) {
            Some(r) => r.end.min(at + 20_000),
            None => (at + 1 + (k * 37) % 97).min(bytes.len()),
        };
        theirs.write_all(&bytes[at..end]).await.expect("write");
        at = end;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        sink.until_received(want.len(), Duration::from_secs(10))
            .await,
        "every packet arrives"
    );
    let got = std::mem::take(&mut *sink.messages.lock().unwrap_or_else(|e| e.into_inner()));
    assert!(got == want, "every message whole and in order");
    assert!(
        !h.is_closed(),
        "{:?}",
        sink.closed.lock().unwrap_or_else(|e| e.into_inner())
    );
    let sizes = sink.sizes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(sizes.len() > 100, "handed over read by read: {sizes:?}");
}

/// A BEAM-like peer, one small segment per message, that outruns the reader: the reader
/// raises the socket's low-water mark (fewer wake-ups), and a last packet left below the
/// mark still arrives (the fallback lowers it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_segments_raise_the_low_water_mark_and_stragglers_still_arrive() {
    use crate::control::ControlMessage;
    use crate::low_water::{mark, MARK};
    let (_h, r, theirs, sink, fd) = reader_into_batches().await;
    r.start();
    let to = etf::Pid::new(Atom::new("peer@h"), 1, 0, 1);
    let frame = move |i: usize| {
        Message::new(
            ControlMessage::Send { to, token: None },
            Some(Term::Int(i as i64)),
        )
        .to_frame()
    };
    // A writer thread streams bursts of 2000 packets, each its own write, until the mark is
    // seen raised (or 10 s pass) and for five bursts more; then, after a pause, the
    // straggler: alone, far below the mark. What waits below a raised mark is read once a
    // read below the mark lowers it or, failing that, the fallback does (without the
    // fallback this test times out in about one run in three).
    let raised = Arc::new(AtomicBool::new(false));
    let mut theirs = theirs.into_std().expect("std stream");
    theirs.set_nonblocking(false).expect("blocking");
    let seen = raised.clone();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let t0 = std::time::Instant::now();
        let (mut sent, mut more) = (0, 5);
        while more > 0 && t0.elapsed() < Duration::from_secs(10) {
            for _ in 0..2000 {
                theirs.write_all(&frame(sent)).expect("write");
                sent += 1;
            }
            std::thread::sleep(Duration::from_millis(2));
            if seen.load(Ordering::Relaxed) {
                more -= 1;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        theirs.write_all(&frame(sent)).expect("write");
        (theirs, sent + 1)
    });
    let watcher = raised.clone();
    let raised_seen = tokio::task::spawn_blocking(move || {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if mark(fd) == Some(MARK as i32) {
                watcher.store(true, Ordering::Relaxed);
                return true;
            }
            std::thread::yield_now();
        }
        false
    });
    assert!(raised_seen.await.expect("watcher"), "the mark was raised");
    let (_theirs, sent) = tokio::task::spawn_blocking(move || writer.join().expect("writer"))
        .await
        .expect("join");
    assert!(
        sink.until_received(sent, Duration::from_secs(5)).await,
        "the straggler arrives below the raised mark"
    );
    assert_eq!(sink.received(), sent);
    let lowered = async {
        while mark(fd) != Some(1) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(1), lowered)
        .await
        .expect("the mark is lowered once the stream stops");
}

#[tokio::test]
async fn dropping_every_handle_closes_the_connection() {
    let (h, r, mut rx, _theirs) = connected().await;
    r.start();
    let h2 = h.clone();
    drop(h);
    assert!(!h2.is_closed(), "a clone still holds it");
    drop(h2);
    let ev = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("closed in time");
    match ev {
        Some(Event::Closed { reason, conn, .. }) => {
            assert_eq!(reason, CloseReason::ClosedByUs);
            assert_eq!(conn, 7);
        }
        other => panic!("expected Closed, got {other:?}"),
    }
}

#[tokio::test]
async fn writer_ticks_when_idle_and_times_out_when_nothing_is_read() {
    let writes = Arc::new(Mutex::new(Vec::new()));
    let sh = shared();
    let cfg = ConnectionConfig {
        net_ticktime: Duration::from_millis(400),
        ..ConnectionConfig::default()
    };
    let start = tokio::time::Instant::now();
    writer(CountingWriter(writes.clone()), sh.clone(), cfg).await;
    assert_eq!(sh.reason(), CloseReason::NetTickTimeout);
    // The slot that saw the handshake counts as read; then four silent slots of 100 ms.
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_millis(900),
        "{took:?}"
    );
    let w = writes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(w.len() >= 4 && w.iter().all(|n| *n == 4), "ticks: {w:?}");
}
