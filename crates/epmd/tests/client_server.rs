//! ferl's client against ferl's server: registration lifetime, creations, lookups, duplicate
//! names, and robustness against peers that send garbage or stall.

use ferl_epmd as epmd;

mod common;

use common::{eventually, FerlEpmd};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMIT: Duration = Duration::from_secs(30);

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test timed out")
}

#[tokio::test]
async fn register_lookup_list_duplicate_and_unregister() {
    bounded(async {
        let s = FerlEpmd::start().await;
        let name = testkit::unique_name("bob");
        let reg = epmd::register(s.addr, &name, 45678, false)
            .await
            .expect("register");
        assert!(reg.creation() >= 4);

        let info = epmd::port_please(s.addr, &name)
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!(
            (
                info.port,
                info.node_type,
                info.high,
                info.low,
                info.name.as_str()
            ),
            (45678, 77, 6, 5, name.as_str())
        );
        assert_eq!(
            epmd::port_please(s.addr, "nobody").await.expect("lookup"),
            None
        );
        assert_eq!(
            epmd::names(s.addr).await.expect("names"),
            vec![(name.clone(), 45678)]
        );
        let reply = epmd::names_reply(s.addr).await.expect("names");
        assert_eq!(reply.epmd_port, u32::from(s.port));

        let dup = epmd::register(s.addr, &name, 1, false).await;
        let Err(err @ epmd::EpmdError::NameInUse { .. }) = dup else {
            panic!("expected NameInUse, got {dup:?}");
        };
        assert!(err
            .to_string()
            .contains("seems to be in use by another Erlang node"));
        assert_eq!(
            epmd::name_in_use_message(&format!("{name}@vm")),
            format!(
                "Protocol 'inet_tcp': the name {name}@vm seems to be in use by another Erlang node"
            )
        );
        // The refused attempt did not disturb the holder.
        assert_eq!(
            epmd::port_please(s.addr, &name)
                .await
                .expect("lookup")
                .map(|i| i.port),
            Some(45678)
        );

        let first = reg.creation();
        drop(reg);
        assert!(
            eventually(Duration::from_secs(5), || async {
                matches!(epmd::names(s.addr).await, Ok(n) if n.is_empty())
            })
            .await,
            "dropping the registration unregisters"
        );
        let again = epmd::register(s.addr, &name, 45679, true)
            .await
            .expect("re-register");
        assert_ne!(
            again.creation(),
            first,
            "a new incarnation gets a new creation"
        );
        assert!(epmd::port_please(s.addr, &name)
            .await
            .expect("lookup")
            .expect("found")
            .hidden());
        again.unregister().await;
        assert!(
            eventually(Duration::from_secs(5), || async {
                matches!(epmd::port_please(s.addr, &name).await, Ok(None))
            })
            .await
        );
    })
    .await;
}

#[tokio::test]
async fn kill_is_refused_while_nodes_are_registered() {
    bounded(async {
        let s = FerlEpmd::start().await;
        let reg = epmd::register(s.addr, "k", 1, false)
            .await
            .expect("register");
        assert!(!epmd::kill(s.addr).await.expect("kill reply"));
        drop(reg);
        assert!(
            eventually(Duration::from_secs(5), || async {
                matches!(epmd::names(s.addr).await, Ok(n) if n.is_empty())
            })
            .await
        );
        assert!(epmd::kill(s.addr).await.expect("kill reply"));
        assert!(
            eventually(Duration::from_secs(5), || async {
                TcpStream::connect(s.addr).await.is_err()
            })
            .await,
            "server stops after an accepted KILL_REQ"
        );
    })
    .await;
}

#[tokio::test]
async fn bad_names_are_rejected_before_sending() {
    let s = bounded(FerlEpmd::start()).await;
    let err = epmd::register(s.addr, "", 1, false).await;
    assert!(
        matches!(err, Err(epmd::EpmdError::BadName { .. })),
        "{err:?}"
    );
    let err = epmd::port_please(s.addr, "a\0b").await;
    assert!(
        matches!(err, Err(epmd::EpmdError::BadName { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let port = testkit::free_port();
    let err = epmd::names(("127.0.0.1", port)).await;
    assert!(
        matches!(err, Err(epmd::EpmdError::Connect { .. })),
        "{err:?}"
    );
}

/// Each bad peer only loses its own connection: registrations made before and after survive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_stalled_peers_do_not_disturb_others() {
    bounded(async {
        let config = epmd::ServerConfig {
            packet_timeout: Duration::from_millis(500),
            ..Default::default()
        };
        let s = FerlEpmd::start_with(config).await;
        let before = epmd::register(s.addr, "before", 1000, false)
            .await
            .expect("register");

        let mut garbage = TcpStream::connect(s.addr).await.expect("connect");
        garbage
            .write_all(&[0, 5, 1, 2, 3, 4, 5])
            .await
            .expect("write");
        let mut huge = TcpStream::connect(s.addr).await.expect("connect");
        huge.write_all(&[0xff, 0xff, 120, 0, 0])
            .await
            .expect("write");
        let mut zero = TcpStream::connect(s.addr).await.expect("connect");
        zero.write_all(&[0, 0]).await.expect("write");
        let mut half = TcpStream::connect(s.addr).await.expect("connect");
        half.write_all(&[0, 30, 120, 0x10]).await.expect("write"); // then hangs
        let mut bad_alive = TcpStream::connect(s.addr).await.expect("connect");
        bad_alive
            .write_all(&[0, 4, 120, 0, 1, 77])
            .await
            .expect("write");

        // While the half request hangs, others register and look up normally.
        let during = epmd::register(s.addr, "during", 2000, false)
            .await
            .expect("register");
        let mut names = epmd::names(s.addr).await.expect("names");
        names.sort();
        assert_eq!(
            names,
            vec![("before".into(), 1000), ("during".into(), 2000)]
        );

        // Garbage connections are closed by the server (read sees EOF), the stalled one after
        // the packet timeout.
        for (what, conn) in [
            ("garbage", &mut garbage),
            ("huge length", &mut huge),
            ("zero length", &mut zero),
            ("bad alive", &mut bad_alive),
            ("half request", &mut half),
        ] {
            let mut buf = [0u8; 8];
            let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("{what}: server kept the connection open"));
            assert!(matches!(n, Ok(0) | Err(_)), "{what}: server replied {n:?}");
        }

        // Bytes on a registration socket end that registration only (as real epmd).
        let mut raw = TcpStream::connect(s.addr).await.expect("connect");
        let req = epmd::proto::Request::Alive2(epmd::NodeInfo::new("raw", 3000, false));
        raw.write_all(&req.encode_frame()).await.expect("write");
        let mut reply = [0u8; 6];
        raw.read_exact(&mut reply).await.expect("alive reply");
        assert_eq!(reply[..2], [118, 0]);
        raw.write_all(b"junk").await.expect("write");
        assert!(
            eventually(Duration::from_secs(5), || async {
                matches!(epmd::port_please(s.addr, "raw").await, Ok(None))
            })
            .await
        );
        assert!(epmd::port_please(s.addr, "before")
            .await
            .expect("lookup")
            .is_some());
        drop((before, during));
    })
    .await;
}

/// Nodes announcing only version 5 get the old 16-bit reply with a creation in 1..=3.
#[tokio::test]
async fn old_nodes_get_the_short_reply() {
    bounded(async {
        let s = FerlEpmd::start().await;
        let mut info = epmd::NodeInfo::new("old", 3000, false);
        info.high = 5;
        let mut raw = TcpStream::connect(s.addr).await.expect("connect");
        raw.write_all(&epmd::proto::Request::Alive2(info).encode_frame())
            .await
            .expect("write");
        let mut reply = [0u8; 4];
        raw.read_exact(&mut reply).await.expect("reply");
        assert_eq!(reply[..2], [121, 0]);
        assert!((1..=3).contains(&u16::from_be_bytes([reply[2], reply[3]])));
    })
    .await;
}
