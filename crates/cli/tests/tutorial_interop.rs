//! The tutorial mixed with real Elixir 1.14 nodes running the tutorial's own code
//! (tests/tutorial/*.ex): Elixir and ferl clients on a ferl server (`ferl run --eval
//! 'Server.start'`), and a ferl client on the Elixir server. Same messages, same log lines.

mod support;

use std::time::{Duration, Instant};
use support::{tutorial_file, Ferl, WAIT};
use testkit::{BeamKind, BeamNode, BeamOpts, RealEpmd};

fn elixir_node(epmd: &RealEpmd, cookie: &str, prefix: &str) -> BeamNode {
    let mut o = BeamOpts::new(BeamKind::Elixir, epmd.port);
    o.cookie = cookie.to_string();
    o.name = testkit::unique_name(prefix);
    BeamNode::start(o)
}

fn load(b: &mut BeamNode, file: &str) {
    b.eval_ok(&format!(
        "Code.require_file({:?}); :ok",
        tutorial_file(file)
    ));
}

/// Polls an Elixir expression until it prints something satisfying `ok`.
fn eval_until(b: &mut BeamNode, expr: &str, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let got = b.eval_ok(expr);
        if ok(&got) || start.elapsed() > WAIT {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn log(b: &BeamNode, needle: &str) {
    if let Err(e) = b.wait_for_log(needle, WAIT) {
        panic!("{e}: {:#?}", b.log());
    }
}

#[test]
fn elixir_and_ferl_clients_on_a_ferl_server() {
    testkit::require_beam();
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let sname = testkit::unique_name("server");
    let server = Ferl::server(&sname, &cookie, epmd.port);
    let srv = format!("{sname}@{}", testkit::hostname());

    // alice: the tutorial's Elixir client.
    let mut alice = elixir_node(&epmd, &cookie, "alice");
    alice.eval_ok(&format!(
        "System.put_env(\"FERL_TUTORIAL_SERVER\", {srv:?})"
    ));
    load(&mut alice, "client.ex");
    assert_eq!(alice.eval_ok("Client.connect"), "true");
    // BEAM's race: :stack resolves on alice a moment after connect returns.
    let pid = eval_until(&mut alice, ":global.whereis_name(:stack)", |s| {
        s.starts_with("#PID<")
    });
    assert!(pid.starts_with("#PID<"), "{pid}");
    let sub = alice.eval_ok("alice = Client.subscribe(\"alice\")");
    assert!(
        sub.starts_with("%Client{name: \"alice\", pid: #PID<"),
        "{sub}"
    );
    server.wait_line("[info] alice subscribed");
    // The ferl node defines Server and Client for rpc too: a second start from iex is :no.
    assert_eq!(
        alice.eval_ok(&format!(":rpc.call(:{srv:?}, Server, :start, [])")),
        ":no"
    );

    // bob: a ferl shell.
    let bob_name = testkit::unique_name("bob");
    let mut bob = Ferl::spawn(
        &["shell", "--sname", &bob_name, "--cookie", &cookie],
        epmd.port,
        &[("FERL_TUTORIAL_SERVER", &srv)],
    );
    assert_eq!(bob.ask("Client.connect"), "true");
    assert!(bob
        .ask("bob = Client.subscribe(\"bob\")")
        .starts_with("%Client{name: \"bob\""));
    server.wait_line("[info] bob subscribed");
    // :global meshed the Elixir client and the ferl client.
    let bob_full = format!("{bob_name}@{}", testkit::hostname());
    let nodes = eval_until(&mut alice, "Node.list", |s| s.contains(&bob_full));
    assert!(nodes.contains(&bob_full), "{nodes}");

    assert_eq!(
        alice.eval_ok("Client.push(alice, \"Howdy Partner!\")"),
        "{:push, \"alice\", \"Howdy Partner!\"}"
    );
    server.wait_line("[info] alice gave: 'Howdy Partner!'");
    log(&alice, "[info] alice gave: 'Howdy Partner!'");
    bob.wait_line("[info] alice gave: 'Howdy Partner!'");

    assert_eq!(
        bob.ask("Client.push(bob, \"Hey There!\")"),
        "{:push, \"bob\", \"Hey There!\"}"
    );
    log(&alice, "[info] bob gave: 'Hey There!'");
    bob.wait_line("[info] bob gave: 'Hey There!'");

    assert_eq!(alice.eval_ok("Client.get(alice)"), "{:get, \"alice\"}");
    log(
        &alice,
        "[info] current stack: [{\"bob\", \"Hey There!\"}, {\"alice\", \"Howdy Partner!\"}]",
    );
    assert_eq!(alice.eval_ok("Client.pop(alice)"), "{:pop, \"alice\"}");
    log(&alice, "[info] alice took: 'Hey There!' from: bob");
    bob.wait_line("[info] alice took: 'Hey There!' from: bob");
    assert_eq!(bob.ask("Client.pop(bob)"), "{:pop, \"bob\"}");
    log(&alice, "[info] bob took: 'Howdy Partner!' from: alice");
    assert_eq!(bob.ask("Client.pop(bob)"), "{:pop, \"bob\"}");
    bob.wait_line("[info] nothing left to pop");
    server.wait_line("[info] whoops, stack is empty");

    assert_eq!(alice.eval_ok("Client.unsubscribe(alice)"), ":stop");
    log(&alice, "[info] stopping");
    server.wait_line("[info] alice unsubscribed");
    // What crashes the tutorial's server: a stranger pops the empty stack. Ours logs it and
    // stays registered, as every node of the cluster sees.
    alice.eval_ok("send(:global.whereis_name(:stack), {:pop, \"mallory\"})");
    server.wait_line("[warning] mallory is not subscribed: no answer sent");
    assert_eq!(alice.eval_ok(":global.registered_names()"), "[:stack]");
    assert_eq!(
        bob.ask("Client.push(bob, \"still here\")"),
        "{:push, \"bob\", \"still here\"}"
    );
    bob.wait_line("[info] bob gave: 'still here'");
    bob.close_stdin();
    assert_eq!(bob.wait_exit(WAIT), 0);
}

#[test]
fn a_ferl_client_on_the_elixir_server() {
    testkit::require_beam();
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let mut server = elixir_node(&epmd, &cookie, "server");
    load(&mut server, "server.ex");
    assert_eq!(server.eval_ok("Server.start"), ":yes");

    let alice_name = testkit::unique_name("alice");
    let mut alice = Ferl::spawn(
        &["shell", "--sname", &alice_name, "--cookie", &cookie],
        epmd.port,
        &[("FERL_TUTORIAL_SERVER", &server.node)],
    );
    assert_eq!(alice.ask("Client.connect"), "true");
    // No 200 ms race: ferl's connect returns once :stack (an Elixir pid) resolves.
    let sub = alice.ask("alice = Client.subscribe(\"alice\")");
    assert!(
        sub.starts_with("%Client{name: \"alice\", pid: #PID<0."),
        "{sub}"
    );
    log(&server, "[info] alice subscribed");
    assert!(alice
        .ask(":global.whereis_name(:stack)")
        .starts_with("#PID<"));

    assert_eq!(
        alice.ask("Client.push(alice, \"Howdy Partner!\")"),
        "{:push, \"alice\", \"Howdy Partner!\"}"
    );
    log(&server, "[info] alice gave: 'Howdy Partner!'");
    alice.wait_line("[info] alice gave: 'Howdy Partner!'");
    alice.ask("Client.push(alice, \"Hey There!\")");
    assert_eq!(alice.ask("Client.get(alice)"), "{:get, \"alice\"}");
    log(&server, "[info] alice requested stack");
    alice.wait_line(
        "[info] current stack: [{\"alice\", \"Hey There!\"}, {\"alice\", \"Howdy Partner!\"}]",
    );
    assert_eq!(alice.ask("Client.pop(alice)"), "{:pop, \"alice\"}");
    log(&server, "[info] alice took: 'Hey There!'");
    alice.wait_line("[info] alice took: 'Hey There!' from: alice");
    alice.ask("Client.pop(alice)");
    alice.ask("Client.pop(alice)");
    log(&server, "[info] whoops, stack is empty");
    alice.wait_line("[info] nothing left to pop");
    assert_eq!(alice.ask("Client.unsubscribe(alice)"), ":stop");
    log(&server, "[info] alice unsubscribed");
    alice.wait_line("[info] stopping");
    // The Elixir server is still there, registered.
    assert_eq!(server.eval_ok(":global.registered_names()"), "[:stack]");
    alice.close_stdin();
    assert_eq!(alice.wait_exit(WAIT), 0);
}
