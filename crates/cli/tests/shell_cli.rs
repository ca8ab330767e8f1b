//! `ferl shell` as a person uses it: one expression with `--eval`, and a session typed on
//! stdin, against a real Elixir node that defines the tutorial's `Greet` (the first act of the
//! tutorial: ping, Node.list, `:rpc.call` of a function that exists only on the other node).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{BeamKind, BeamNode, BeamOpts, RealEpmd};

const FERL: &str = env!("CARGO_BIN_EXE_ferl");

/// Runs `ferl shell ARGS` with `input` on stdin; kills it after `limit`. Returns (status, stdout, stderr).
fn ferl_shell(
    args: &[&str],
    input: &str,
    epmd_port: u16,
    limit: Duration,
) -> (i32, String, String) {
    let mut child = Command::new(FERL)
        .arg("shell")
        .args(args)
        .env("ERL_EPMD_PORT", epmd_port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferl shell");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let pid = child.id();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(limit);
        // Only our own child, by pid, if it is still there.
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    });
    let out = child.wait_with_output().expect("wait");
    drop(killer);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn eval_prints_the_value_or_the_iex_error_with_exit_status() {
    let epmd = RealEpmd::start();
    let (code, out, _) = ferl_shell(
        &["--eval", "{:ok, 1 + 1, \"x\" <> \"y\"}"],
        "",
        epmd.port,
        Duration::from_secs(20),
    );
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "{:ok, 2, \"xy\"}");

    let (code, _, err) = ferl_shell(
        &["--eval", "send(:nobody, :hello)"],
        "",
        epmd.port,
        Duration::from_secs(20),
    );
    assert_eq!(code, 1, "a raising --eval exits 1");
    assert!(
        err.contains("** (ArgumentError) errors were found at the given arguments:")
            && err.contains("* 1st argument: invalid destination"),
        "{err}"
    );
}

#[test]
fn tutorial_first_act_against_a_real_elixir_node() {
    let epmd = RealEpmd::start();
    let mut bob = BeamNode::start(BeamOpts::new(BeamKind::Elixir, epmd.port));
    bob.eval_ok(r#"defmodule Greet do def say(name), do: "Hello #{name}, nice to meet you" end"#);
    let alice = testkit::unique_name("alice");
    let host = testkit::hostname();
    let charlie = format!("{}@{host}", testkit::unique_name("charlie"));
    let b = &bob.node;
    let session = format!(
        "Node.ping(:\"{b}\")\n\
         Node.list\n\
         :rpc.call(:\"{b}\", Greet, :say, [\"alice\"])\n\
         :rpc.call(:\"{b}\", Greet, :nope, [])\n\
         Node.ping(:\"{charlie}\")\n\
         Node.list\n\
         me = self()\n\
         send(me, {{:hi, 1 + 2}})\n\
         flush()\n"
    );
    let cookie = bob.opts.cookie.clone();
    let (code, out, err) = ferl_shell(
        &["--sname", &alice, "--cookie", &cookie],
        &session,
        epmd.port,
        Duration::from_secs(40),
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let results: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once("> ").map(|(_, r)| r))
        .collect();
    let prompt = format!("ferl({alice}@{host})1> ");
    assert!(out.contains(&prompt), "prompt like iex's: {out}");
    assert_eq!(results[0], ":pong");
    assert_eq!(results[1], format!("[:{b}]"));
    assert_eq!(results[2], "\"Hello alice, nice to meet you\"");
    assert_eq!(
        results[3],
        "{:badrpc, {:EXIT, {:undef, [{Greet, :nope, [], []}]}}}"
    );
    assert_eq!(results[4], ":pang");
    assert_eq!(
        results[5],
        format!("[:{b}]"),
        "a failed ping leaves no connection"
    );
    assert!(results[6].starts_with("#PID<0."), "{}", results[6]);
    assert_eq!(results[7], "{:hi, 3}");
    assert_eq!(results[8], "{:hi, 3}", "flush prints the message");
    assert!(out.contains("\n:ok\n") || out.ends_with(":ok\n"), "{out}");
    // bob saw alice as a visible node while the shell ran; after the shell exits it is gone.
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        bob.eval_ok("Node.list") == "[]"
    });
    assert!(gone, "the shell's node disconnects when it exits");
}
