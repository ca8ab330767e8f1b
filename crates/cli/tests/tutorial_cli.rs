//! The tutorial through the `ferl` binary: `ferl run --eval 'Server.start'` as the server, a
//! `ferl shell` session piped on stdin and `ferl shell --eval` as clients; results and log lines
//! compared with the transcript (research/beam_baseline.md), the tutorial's bugs fixed.

mod support;

use std::time::Duration;
use support::{results, Ferl};
use testkit::RealEpmd;

fn server_name(sname: &str) -> String {
    format!("{sname}@{}", testkit::hostname())
}

#[test]
fn a_piped_shell_session_against_ferl_run_eval_server_start() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let sname = testkit::unique_name("server");
    let server = Ferl::server(&sname, &cookie, epmd.port);
    let srv = server_name(&sname);
    let alice_name = testkit::unique_name("alice");
    let mut alice = Ferl::spawn(
        &["shell", "--sname", &alice_name, "--cookie", &cookie],
        epmd.port,
        &[("FERL_TUTORIAL_SERVER", &srv)],
    );
    let session = [
        ("Client.connect", "true"),
        (
            "alice = Client.subscribe(\"alice\")",
            "%Client{name: \"alice\", pid: #PID<0.",
        ),
        ("Node.list", &format!("[:{srv}]")),
        (":global.registered_names()", "[:stack]"),
        (
            "Client.push(alice, \"Howdy Partner!\")",
            "{:push, \"alice\", \"Howdy Partner!\"}",
        ),
        (
            "Client.push(alice, \"Hey There!\")",
            "{:push, \"alice\", \"Hey There!\"}",
        ),
        ("Client.get(alice)", "{:get, \"alice\"}"),
        ("Client.pop(alice)", "{:pop, \"alice\"}"),
        ("Client.pop(alice)", "{:pop, \"alice\"}"),
        ("Client.pop(alice)", "{:pop, \"alice\"}"),
        // The tutorial's crash: a stranger pops the empty stack, or asks for it.
        (
            "send(:global.whereis_name(:stack), {:pop, \"charlie\"})",
            "{:pop, \"charlie\"}",
        ),
        (
            "send(:global.whereis_name(:stack), {:get, \"charlie\"})",
            "{:get, \"charlie\"}",
        ),
        ("send(:global.whereis_name(:stack), :hello)", ":hello"),
        (":global.registered_names()", "[:stack]"),
        ("Server.start", ":no"),
        (
            "Client.push(alice, \"still serving\")",
            "{:push, \"alice\", \"still serving\"}",
        ),
        // As a person typing: the listener stops at once on unsubscribe (as the Elixir client's
        // does), so a notification still in flight from the server would not be logged.
        ("Process.sleep(200)", ":ok"),
        ("Client.unsubscribe(alice)", ":stop"),
        ("Process.sleep(300)", ":ok"),
    ];
    for (line, _) in &session {
        alice.type_line(line);
    }
    alice.close_stdin();
    assert_eq!(
        alice.wait_exit(Duration::from_secs(30)),
        0,
        "{:#?}",
        alice.stderr()
    );
    let got = results(&alice.lines());
    assert_eq!(got.len(), session.len(), "{got:#?}");
    for ((line, want), got) in session.iter().zip(&got) {
        assert!(
            got.starts_with(want),
            "`{line}` printed {got:?}, want {want:?}"
        );
    }
    assert!(
        alice.lines()[0].starts_with(&format!("ferl({alice_name}@")),
        "iex-like prompt"
    );

    // alice's listener logged every notification, and nothing meant for charlie.
    for (line, n) in [
        ("[info] alice gave: 'Howdy Partner!'", 1),
        ("[info] alice gave: 'Hey There!'", 1),
        (
            r#"[info] current stack: [{"alice", "Hey There!"}, {"alice", "Howdy Partner!"}]"#,
            1,
        ),
        ("[info] alice took: 'Hey There!' from: alice", 1),
        ("[info] alice took: 'Howdy Partner!' from: alice", 1),
        ("[info] nothing left to pop", 1),
        ("[info] alice gave: 'still serving'", 1),
        ("[info] stopping", 1),
    ] {
        assert_eq!(alice.count(line), n, "{line}: {:#?}", alice.lines());
    }
    // The server logged the tutorial's lines, survived the stranger and ignored :hello.
    for (line, n) in [
        ("[info] alice subscribed", 1),
        ("[info] alice gave: 'Howdy Partner!'", 1),
        ("[info] alice requested stack", 1),
        ("[info] alice took: 'Hey There!'", 1),
        ("[info] whoops, stack is empty", 2),
        ("[info] charlie requested stack", 1),
        ("[warning] charlie is not subscribed: no answer sent", 2),
        ("[info] alice gave: 'still serving'", 1),
        ("[info] alice unsubscribed", 1),
    ] {
        server.wait_count(line, n);
        assert_eq!(server.count(line), n, "{line}: {:#?}", server.lines());
    }
    let line_with_clock = server.wait_line("alice subscribed");
    assert!(
        line_with_clock.len() == "HH:MM:SS.mmm [info] alice subscribed".len()
            && line_with_clock.as_bytes()[8] == b'.',
        "Logger's format: {line_with_clock}"
    );
}

#[test]
fn shell_eval_runs_a_client_and_exits() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let sname = testkit::unique_name("server");
    let server = Ferl::server(&sname, &cookie, epmd.port);
    let srv = server_name(&sname);
    let eve = testkit::unique_name("eve");
    let mut c = Ferl::spawn(
        &[
            "shell",
            "--sname",
            &eve,
            "--cookie",
            &cookie,
            "--eval",
            "Client.connect; eve = Client.subscribe(\"eve\"); Client.push(eve, \"hi\")",
        ],
        epmd.port,
        &[("FERL_TUTORIAL_SERVER", &srv)],
    );
    assert_eq!(c.wait_exit(Duration::from_secs(20)), 0, "{:#?}", c.stderr());
    assert!(
        c.lines().iter().any(|l| l == "{:push, \"eve\", \"hi\"}"),
        "{:#?}",
        c.lines()
    );
    server.wait_line("[info] eve subscribed");
    server.wait_line("[info] eve gave: 'hi'");

    // Without a server to reach, an Elixir client's send raises; so does ours, with iex's text.
    let mut c = Ferl::spawn(
        &[
            "shell",
            "--sname",
            &testkit::unique_name("eve"),
            "--cookie",
            "other",
            "--eval",
            "Client.subscribe(\"eve\")",
        ],
        epmd.port,
        &[],
    );
    assert_eq!(c.wait_exit(Duration::from_secs(20)), 1);
    let err = c.stderr().join("\n");
    assert!(
        err.contains("** (ArgumentError)") && err.contains("invalid destination"),
        "{err}"
    );
}

#[test]
fn run_eval_that_raises_exits_1() {
    let epmd = RealEpmd::start();
    let mut r = Ferl::spawn(
        &[
            "run",
            "--sname",
            &testkit::unique_name("srv"),
            "--cookie",
            "c",
            "--eval",
            "Client.push(1, 2)",
        ],
        epmd.port,
        &[],
    );
    assert_eq!(r.wait_exit(Duration::from_secs(20)), 1);
    let err = r.stderr().join("\n");
    assert!(
        err.contains("** (FunctionClauseError) no function clause matching in Client.push/2"),
        "{err}"
    );
}

#[test]
fn global_in_the_shell() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let mut sh = Ferl::spawn(
        &[
            "shell",
            "--sname",
            &testkit::unique_name("g"),
            "--cookie",
            &cookie,
        ],
        epmd.port,
        &[],
    );
    assert_eq!(sh.ask(":global.register_name(:me, self())"), ":yes");
    assert_eq!(sh.ask(":global.register_name(:me, self())"), ":no");
    assert_eq!(sh.ask(":global.whereis_name(:me) == self()"), "true");
    assert_eq!(sh.ask(":global.registered_names()"), "[:me]");
    assert!(sh.ask(":global.send(:me, :hi)").starts_with("#PID<0."));
    assert_eq!(sh.ask("flush()"), ":hi");
    sh.wait_line(":ok");
    assert_eq!(
        sh.ask(":global.send(:nobody, :hi)"),
        "** (exit) {:badarg, {:nobody, :hi}}"
    );
    assert_eq!(sh.ask(":global.unregister_name(:me)"), ":ok");
    assert_eq!(sh.ask(":global.whereis_name(:me)"), ":undefined");
    assert_eq!(sh.ask(":global.registered_names()"), "[]");
    sh.close_stdin();
    assert_eq!(sh.wait_exit(Duration::from_secs(20)), 0);
}

/// Nodes of one scheduler (`--schedulers 1`: a current-thread runtime, run by whichever thread
/// blocks on it). The shell's main thread waits for lines outside the runtime, so its node must
/// go on meanwhile: bob pings alice and pushes while alice's shell waits for its next line, and
/// alice's listener logs the notification.
#[test]
fn one_scheduler_nodes_run_while_the_shell_waits_for_a_line() {
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let sname = testkit::unique_name("server");
    let one = ["--cookie", &cookie, "--schedulers", "1"];
    let server = Ferl::spawn(
        &[
            &["run", "--sname", &sname][..],
            &one,
            &["--eval", "Server.start"],
        ]
        .concat(),
        epmd.port,
        &[],
    );
    server.wait_line(":yes");
    let srv = server_name(&sname);
    let env = [("FERL_TUTORIAL_SERVER", srv.as_str())];
    let shell = |name: &str| {
        Ferl::spawn(
            &[&["shell", "--sname", name][..], &one].concat(),
            epmd.port,
            &env,
        )
    };
    let alice_name = testkit::unique_name("alice");
    let mut alice = shell(&alice_name);
    assert_eq!(alice.ask("Client.connect"), "true");
    let sub = alice.ask("alice = Client.subscribe(\"alice\")");
    assert!(sub.starts_with("%Client{name: \"alice\""), "{sub}");

    let mut bob = shell(&testkit::unique_name("bob"));
    assert_eq!(bob.ask("Client.connect"), "true");
    assert_eq!(
        bob.ask(&format!("Node.ping(:\"{}\")", server_name(&alice_name))),
        ":pong"
    );
    assert!(bob
        .ask("bob = Client.subscribe(\"bob\")")
        .starts_with("%Client{"));
    bob.ask("Client.push(bob, \"while alice waits\")");
    server.wait_line("[info] bob gave: 'while alice waits'");
    alice.wait_line("[info] bob gave: 'while alice waits'");

    for shell in [&mut alice, &mut bob] {
        shell.close_stdin();
        assert_eq!(
            shell.wait_exit(Duration::from_secs(20)),
            0,
            "{:#?}",
            shell.stderr()
        );
    }
}
