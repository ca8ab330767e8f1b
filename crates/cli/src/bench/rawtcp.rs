//! The physical floor: raw TCP over loopback between this process and a peer process (this
//! binary re-run as the hidden `ferl bench --raw-peer PORT`), no protocol at all. Measures an
//! 8-byte ping-pong RTT (p50/p99) and a one-way blast of length-prefixed 40-byte frames.
//!
//! Wire, parent -> peer: a command `[kind: u8][n: u64 BE]`; `P`: n x (8 bytes, echoed back);
//! `B`: n x `[len: u32 BE = 40][40 bytes]`, then the peer answers n as u64 BE; `Q` or EOF: quit.

use super::metrics::RunValues;
use super::procs::ChildGuard;
use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The payload of a blast frame; 40 bytes, about the size of a small ETF message.
const FRAME: [u8; 40] = [b'x'; 40];
/// No single step may hang the benchmark.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs both measurements against a freshly started peer process.
pub fn measure(n_rtt: u64, warm_rtt: u64, n_frames: u64) -> Result<RunValues, String> {
    fn err(what: &'static str) -> impl Fn(std::io::Error) -> String {
        move |e| format!("raw tcp: {what}: {e}")
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(err("bind"))?;
    let port = listener.local_addr().map_err(err("bind"))?.port();
    let exe = std::env::current_exe().map_err(err("cannot find this program"))?;
    let child = Command::new(exe)
        .args(["bench", "--raw-peer", &port.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .map_err(err("cannot start the peer process"))?;
    let mut peer = ChildGuard::new("raw tcp peer", child);
    let mut s = accept(&listener, &mut peer)?;
    s.set_nodelay(true).map_err(err("nodelay"))?;
    s.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(err("timeout"))?;

    let mut values = RunValues::new();
    let mut rtts = ping_pong(&mut s, n_rtt, warm_rtt).map_err(err("ping-pong"))?;
    rtts.sort_unstable();
    values.insert(
        "limit.rtt_p50_us".into(),
        percentile(&rtts, 0.50) as f64 / 1000.0,
    );
    values.insert(
        "limit.rtt_p99_us".into(),
        percentile(&rtts, 0.99) as f64 / 1000.0,
    );
    let secs = blast(&mut s, n_frames).map_err(err("blast"))?;
    values.insert("limit.frames_per_s".into(), n_frames as f64 / secs);

    let _ = s.write_all(&command(b'Q', 0));
    drop(s);
    peer.stop(Duration::from_secs(5));
    Ok(values)
}

/// Waits for the peer to connect, but gives up if it died or took too long.
fn accept(listener: &TcpListener, peer: &mut ChildGuard) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("raw tcp: accept: {e}")),
        }
        if peer.exited() || Instant::now() > deadline {
            return Err("raw tcp: the peer process did not connect".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn command(kind: u8, n: u64) -> [u8; 9] {
    let mut c = [kind; 9];
    c[1..].copy_from_slice(&n.to_be_bytes());
    c
}

/// Round trips in nanoseconds, warm-up excluded.
fn ping_pong(s: &mut TcpStream, n: u64, warm: u64) -> std::io::Result<Vec<u64>> {
    s.write_all(&command(b'P', n + warm))?;
    let mut rtts = Vec::with_capacity(n as usize);
    let mut buf = [0u8; 8];
    for i in 0..n + warm {
        let t0 = Instant::now();
        s.write_all(&i.to_be_bytes())?;
        s.read_exact(&mut buf)?;
        let t = t0.elapsed();
        if u64::from_be_bytes(buf) != i {
            return Err(std::io::Error::other("echo out of sequence"));
        }
        if i >= warm {
            rtts.push(t.as_nanos() as u64);
        }
    }
    Ok(rtts)
}

/// Seconds from the first frame written to the peer's count of them all.
fn blast(s: &mut TcpStream, n: u64) -> std::io::Result<f64> {
    let t0 = Instant::now();
    s.write_all(&command(b'B', n))?;
    // A buffered writer: many frames per write syscall, as a batching writer task would do.
    let mut w = BufWriter::with_capacity(64 * 1024, &*s);
    for _ in 0..n {
        w.write_all(&(FRAME.len() as u32).to_be_bytes())?;
        w.write_all(&FRAME)?;
    }
    w.flush()?;
    drop(w);
    let mut ack = [0u8; 8];
    s.read_exact(&mut ack)?;
    if u64::from_be_bytes(ack) != n {
        return Err(std::io::Error::other(
            "peer counted a different number of frames",
        ));
    }
    Ok(t0.elapsed().as_secs_f64())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).max(1) - 1;
    sorted[rank.min(sorted.len() - 1)]
}

/// `ferl bench --raw-peer PORT`: connects to the parent and serves commands until told to quit.
pub fn peer(port: u16) -> std::io::Result<()> {
    let s = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut r = BufReader::with_capacity(64 * 1024, &s);
    let mut w = &s;
    let mut cmd = [0u8; 9];
    loop {
        if r.read_exact(&mut cmd).is_err() {
            return Ok(()); // the parent went away: done
        }
        let n = u64::from_be_bytes(cmd[1..].try_into().unwrap_or_default());
        match cmd[0] {
            b'P' => {
                let mut buf = [0u8; 8];
                for _ in 0..n {
                    r.read_exact(&mut buf)?;
                    w.write_all(&buf)?;
                }
            }
            b'B' => {
                let mut frame = vec![0u8; 1024];
                for _ in 0..n {
                    let mut len = [0u8; 4];
                    r.read_exact(&mut len)?;
                    let len = u32::from_be_bytes(len) as usize;
                    if len > frame.len() {
                        return Err(std::io::Error::other("frame too long"));
                    }
                    r.read_exact(&mut frame[..len])?;
                }
                w.write_all(&n.to_be_bytes())?;
            }
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.50), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&[7], 0.99), 7);
    }

    #[test]
    fn peer_serves_ping_pong_and_blast_in_a_thread() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let t = std::thread::spawn(move || peer(port));
        let (mut s, _) = listener.accept().unwrap();
        assert_eq!(ping_pong(&mut s, 50, 5).unwrap().len(), 50);
        assert!(blast(&mut s, 1000).unwrap() > 0.0);
        s.write_all(&command(b'Q', 0)).unwrap();
        t.join().unwrap().unwrap();
    }
}
