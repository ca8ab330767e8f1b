//! `ferl run` as an OS process: it serves until SIGTERM (exit 0, its name gone from epmd),
//! answers `Node.ping` from iex, refuses a wrong cookie with BEAM's log line, refuses a name in
//! use with BEAM's text (exit 1), and talks to an in-process ferl node; SIGKILL -> noconnection.

use ferl::{Atom, Node, NodeName, Ping, SpawnRequestOpts, StartOptions, Term};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::{BeamNode, RealEpmd};

const FERL: &str = env!("CARGO_BIN_EXE_ferl");
const WAIT: Duration = Duration::from_secs(15);

/// A `ferl run` child; its stdout lines are collected; killed by pid on drop.
struct FerlRun {
    child: Child,
    node: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl FerlRun {
    fn start(epmd_port: u16, sname: &str, cookie: &str) -> FerlRun {
        let mut child = Command::new(FERL)
            .args(["run", "--sname", sname, "--cookie", cookie])
            .env("ERL_EPMD_PORT", epmd_port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ferl run");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("stdout");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(l);
            }
        });
        let run = FerlRun {
            child,
            node: format!("{sname}@{}", testkit::hostname()),
            lines,
        };
        let up = run.wait_line("running (epmd port");
        assert!(
            up.contains(&run.node) && up.contains(&epmd_port.to_string()),
            "{up}"
        );
        run
    }

    fn wait_line(&self, needle: &str) -> String {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|l| l.contains(needle))
            {
                return l.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no line with {needle:?} from ferl run; got {:?}",
            self.lines.lock().unwrap_or_else(|e| e.into_inner())
        );
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok);
    }

    fn wait_exit(&mut self) -> i32 {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("ferl run did not exit");
    }
}

impl Drop for FerlRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn epmd_names(port: u16) -> Vec<String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt")
        .block_on(epmd::names(("127.0.0.1", port)))
        .expect("names")
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

#[test]
fn ping_from_iex_and_sigterm_exits_cleanly() {
    let epmd = RealEpmd::start();
    let mut iex = BeamNode::elixir(epmd.port);
    let sname = testkit::unique_name("run");
    let mut run = FerlRun::start(epmd.port, &sname, &iex.opts.cookie);
    assert!(epmd_names(epmd.port).contains(&sname));
    let f = format!(":\"{}\"", run.node);
    assert_eq!(iex.eval_ok(&format!("Node.ping({f})")), ":pong");
    assert_eq!(iex.eval_ok(&format!("Node.list() == [{f}]")), "true");
    assert_eq!(
        iex.eval_ok(&format!(
            "{{pid, ref}} = Node.spawn_monitor({f}, Greet, :say, [\"x\"]); \
             receive do {{:DOWN, ^ref, :process, ^pid, why}} -> why after 5000 -> :timeout end"
        )),
        ":normal"
    );
    iex.eval_ok(&format!("Node.monitor({f}, true)"));
    run.signal("-TERM");
    assert_eq!(run.wait_exit(), 0, "exit status 0 on SIGTERM");
    assert!(!epmd_names(epmd.port).contains(&sname), "name unregistered");
    assert_eq!(
        iex.eval_ok("receive do {:nodedown, n} -> n after 5000 -> :timeout end"),
        format!(":{}", run.node)
    );
}

#[test]
fn wrong_cookie_is_logged_like_beam_and_name_in_use_exits_1() {
    let epmd = RealEpmd::start();
    let sname = testkit::unique_name("run");
    let run = FerlRun::start(epmd.port, &sname, "RIGHT_COOKIE");
    let mut mallory = BeamNode::elixir(epmd.port);
    let f = format!(":\"{}\"", run.node);
    assert_eq!(mallory.eval_ok(&format!("Node.ping({f})")), ":pang");
    let line = run.wait_line("Invalid challenge reply");
    let want = format!(
        "[error] ** Connection attempt from node :{} rejected. Invalid challenge reply. **",
        mallory.node
    );
    assert!(line.ends_with(&want), "{line}");
    // HH:MM:SS.mmm [error] ...
    let stamp = &line[..12];
    assert!(
        stamp.as_bytes()[2] == b':' && stamp.as_bytes()[8] == b'.',
        "{line}"
    );

    let out = Command::new(FERL)
        .args(["run", "--sname", &sname, "--cookie", "X"])
        .env("ERL_EPMD_PORT", epmd.port.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("second ferl run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "Protocol 'inet_tcp': the name {} seems to be in use by another Erlang node",
            run.node
        )),
        "{err}"
    );
}

#[test]
fn ferl_node_talks_to_ferl_run_and_sees_noconnection_on_sigkill() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let run = FerlRun::start(epmd.port, &testkit::unique_name("run"), &cookie);
    let mut o = StartOptions::new(NodeName::Short(testkit::unique_name("ferl")));
    o.cookie = Some(cookie);
    o.epmd_port = Some(epmd.port);
    let peer = Atom::new(&run.node);
    rt.block_on(async move {
        let node = Node::start(o).await.expect("start");
        assert_eq!(node.ping(peer).await, Ping::Pong);
        assert_eq!(node.nodes(), vec![peer]);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        node.spawn(move |mut p| async move {
            p.trap_exit(true);
            // Greet.say runs there and exits normal: a monitored remote spawn.
            let opts = SpawnRequestOpts {
                link: false,
                monitor: true,
                ..SpawnRequestOpts::default()
            };
            let arg = vec![Term::binary(b"x")];
            let (pid, r) = p
                .spawn_remote_opts(peer, Atom::new("Elixir.Greet"), Atom::new("say"), arg, opts)
                .await
                .expect("spawned");
            let first = p.receive_timeout(WAIT).await;
            // Monitor and link something long-lived there: its net_kernel.
            let nk = p.monitor_name_at(Atom::new("net_kernel"), peer);
            p.monitor_node(peer, true);
            let _ = go.send(());
            let mut rest = Vec::new();
            for _ in 0..2 {
                rest.push(p.receive_timeout(WAIT).await);
            }
            let _ = tx.send((pid, r, first, nk, rest));
        });
        wait.await.expect("monitors set");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut run = run;
        run.signal("-KILL");
        let _ = run.wait_exit();
        let (pid, r, first, nk, rest) = tokio::time::timeout(WAIT * 2, rx)
            .await
            .expect("in time")
            .expect("answered");
        assert_eq!(pid.node, peer);
        let down = |r: ferl::Ref, item: Term, why: &str| {
            Term::tuple(vec![
                Term::atom("DOWN"),
                Term::Ref(r),
                Term::atom("process"),
                item,
                Term::atom(why),
            ])
        };
        assert_eq!(first, Some(down(r, Term::Pid(pid), "normal")));
        let item = Term::tuple(vec![Term::atom("net_kernel"), Term::Atom(peer)]);
        let mut rest: Vec<Term> = rest.into_iter().map(|m| m.expect("message")).collect();
        rest.sort_by_key(|m| m.as_tuple().map(|t| t[0].is_atom("nodedown")));
        assert_eq!(rest[0], down(nk, item, "noconnection"));
        assert_eq!(
            rest[1],
            Term::tuple(vec![Term::atom("nodedown"), Term::Atom(peer)])
        );
        assert!(node.nodes().is_empty());
        node.stop();
    });
}

#[test]
fn iex_sees_noconnection_when_ferl_run_is_killed() {
    let epmd = RealEpmd::start();
    let mut iex = BeamNode::elixir(epmd.port);
    let mut run = FerlRun::start(epmd.port, &testkit::unique_name("run"), &iex.opts.cookie);
    let f = format!(":\"{}\"", run.node);
    assert_eq!(iex.eval_ok(&format!("Node.connect({f})")), "true");
    iex.eval_ok(&format!("ref = Process.monitor({{:net_kernel, {f}}})"));
    // The monitor is in place once a call through the same connection has been answered.
    assert_eq!(iex.eval_ok(&format!("Node.ping({f})")), ":pong");
    run.signal("-KILL");
    let _ = run.wait_exit();
    assert_eq!(
        iex.eval_ok(
            "receive do {:DOWN, ^ref, :process, _, why} -> why after 10000 -> :timeout end"
        ),
        ":noconnection"
    );
    assert_eq!(iex.eval_ok("Node.list()"), "[]");
}
