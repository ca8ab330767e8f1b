//! Interop with real OTP 25: `erl` nodes register with and look up in ferl's epmd server, the
//! real `epmd -names` reads it, and ferl's client registers with a real `epmd`.

use ferl_epmd as epmd;

mod common;

use common::{erl_eval, eventually, real_epmd_names, FerlEpmd};
use std::time::Duration;
use testkit::{BeamKind, BeamNode, BeamOpts};

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_erl_registers_with_ferl_epmd_and_goes_away() {
    tokio::time::timeout(LIMIT, async {
        testkit::require_beam();
        let server = FerlEpmd::start().await;
        // erl refuses to start distribution without epmd: a running node is a registered one.
        let mut node = BeamNode::erl(server.port);
        let alive = node.opts.name.clone();
        assert_eq!(node.eval_ok("node()"), node.node);

        let names = epmd::names(server.addr).await.expect("names");
        let port = names
            .iter()
            .find(|(n, _)| *n == alive)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("{alive} not in {names:?}"));
        let info = epmd::port_please(server.addr, &alive)
            .await
            .expect("port_please")
            .expect("registered");
        assert_eq!(info.port, port);
        assert_eq!((info.high, info.low, info.node_type), (6, 5, 77));
        // The node's own view of its creation matches what our epmd handed out (nonzero).
        let creation = node.eval_ok("erlang:system_info(creation)");
        assert_ne!(creation, "0");

        let text = real_epmd_names(server.port).await;
        assert!(
            text.starts_with(&format!(
                "epmd: up and running on port {} with data:\n",
                server.port
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("name {alive} at port {port}\n")),
            "{text}"
        );

        node.kill();
        let gone = eventually(Duration::from_secs(10), || async {
            matches!(epmd::names(server.addr).await, Ok(n) if !n.iter().any(|(a, _)| *a == alive))
        })
        .await;
        assert!(gone, "{alive} still registered after its node died");
        assert_eq!(
            epmd::port_please(server.addr, &alive).await.ok(),
            Some(None)
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_erl_nodes_find_each_other_through_ferl_epmd() {
    tokio::time::timeout(LIMIT, async {
        testkit::require_beam();
        let server = FerlEpmd::start().await;
        let a = BeamNode::erl(server.port);
        let mut b_opts = BeamOpts::new(BeamKind::Erl, server.port);
        b_opts.cookie = a.opts.cookie.clone();
        let mut b = BeamNode::start(b_opts);
        assert_eq!(b.eval_ok(&format!("net_adm:ping('{}')", a.node)), "pong");
        // Real epmd rejects a second node with a live name; so must ours, and erl says so.
        let mut dup = std::process::Command::new("erl");
        dup.args([
            "-sname",
            &a.opts.name,
            "-setcookie",
            &a.opts.cookie,
            "-noshell",
            "-eval",
            "halt().",
        ])
        .env("ERL_EPMD_PORT", server.port.to_string());
        let out = common::run_bounded(dup, Duration::from_secs(30)).await;
        assert!(!out.status.success());
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            all.contains(&epmd::name_in_use_message(&a.node)),
            "erl said: {all}"
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ferl_client_registers_with_real_epmd() {
    tokio::time::timeout(LIMIT, async {
        let real = testkit::RealEpmd::start();
        let name = testkit::unique_name("ferl");
        let listen_port = testkit::free_port();
        let reg = epmd::register(("127.0.0.1", real.port), &name, listen_port, false)
            .await
            .expect("register with real epmd");
        assert_ne!(reg.creation(), 0);
        assert!(
            reg.creation() >= 4,
            "OTP 25 epmd gives 32-bit creations >= 4"
        );

        let text = real_epmd_names(real.port).await;
        assert!(
            text.contains(&format!("name {name} at port {listen_port}\n")),
            "{text}"
        );
        let found = erl_eval(
            real.port,
            &format!(
                "io:format(\"~p~n\", [erl_epmd:port_please(\"{name}\", \"localhost\")]), halt()."
            ),
        )
        .await;
        assert!(
            found.contains(&format!("{{port,{listen_port},6}}")),
            "erl said: {found}"
        );

        // A second registration of the live name is refused by the real epmd too.
        let dup = epmd::register(("127.0.0.1", real.port), &name, listen_port, false).await;
        assert!(
            matches!(dup, Err(epmd::EpmdError::NameInUse { .. })),
            "{dup:?}"
        );

        reg.unregister().await;
        let gone = eventually(Duration::from_secs(5), || async {
            matches!(
                epmd::port_please(("127.0.0.1", real.port), &name).await,
                Ok(None)
            )
        })
        .await;
        assert!(gone, "real epmd still knows {name} after unregister");
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_erl_looks_up_a_ferl_registration_in_ferl_epmd() {
    tokio::time::timeout(LIMIT, async {
        testkit::require_beam();
        let server = FerlEpmd::start().await;
        let name = testkit::unique_name("ferl");
        let reg = epmd::register(server.addr, &name, 40001, true)
            .await
            .expect("register");
        let found = erl_eval(
            server.port,
            &format!(
                "io:format(\"~p~n\", [erl_epmd:port_please(\"{name}\", \"localhost\")]), \
                 io:format(\"~p~n\", [net_adm:names()]), halt()."
            ),
        )
        .await;
        assert!(found.contains("{port,40001,6}"), "erl said: {found}");
        assert!(
            found.contains(&format!("{{\"{name}\",40001}}")),
            "erl said: {found}"
        );
        drop(reg);
    })
    .await
    .expect("test timed out");
}
