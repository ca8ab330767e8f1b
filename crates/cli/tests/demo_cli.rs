//! `ferl demo` as the README runs it: three ferl processes play "Off To The Races" on an
//! embedded epmd; it exits 0 and prints every line of the tutorial's transcript, prefixed by
//! node, each node's lines in the tutorial's order (research/beam_baseline.md).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FERL: &str = env!("CARGO_BIN_EXE_ferl");

/// `(node, text)`: a line of the demo's output `node | ...text` must end with `text`; each
/// node's lines come in this order.
const TRANSCRIPT: &[(&str, &str)] = &[
    ("server", ":yes"),
    ("alice", "Client.connect"),
    ("alice", "true"),
    ("alice", "alice = Client.subscribe(\"alice\")"),
    ("server", "[info] alice subscribed"),
    ("bob", "bob = Client.subscribe(\"bob\")"),
    ("server", "[info] bob subscribed"),
    ("alice", "Client.push(alice, \"Howdy Partner!\")"),
    ("server", "[info] alice gave: 'Howdy Partner!'"),
    ("bob", "Client.push(bob, \"Hey There!\")"),
    ("server", "[info] bob gave: 'Hey There!'"),
    ("alice", "Client.get(alice)"),
    ("server", "[info] alice requested stack"),
    (
        "alice",
        "[info] current stack: [{\"bob\", \"Hey There!\"}, {\"alice\", \"Howdy Partner!\"}]",
    ),
    ("alice", "Client.pop(alice)"),
    ("server", "[info] alice took: 'Hey There!'"),
    ("bob", "Client.pop(bob)"),
    ("server", "[info] bob took: 'Howdy Partner!'"),
    ("bob", "Client.pop(bob)"),
    ("server", "[info] whoops, stack is empty"),
    ("bob", "[info] nothing left to pop"),
    ("alice", "Client.unsubscribe(alice)"),
    ("server", "[info] alice unsubscribed"),
];

/// Lines every node prints somewhere (notifications, whose order between nodes may vary, and
/// the result of a push, a send that the server may log before the shell prints it).
const ANYWHERE: &[(&str, &str)] = &[
    ("alice", "{:push, \"alice\", \"Howdy Partner!\"}"),
    ("alice", "[info] alice gave: 'Howdy Partner!'"),
    ("bob", "[info] alice gave: 'Howdy Partner!'"),
    ("alice", "[info] bob gave: 'Hey There!'"),
    ("bob", "[info] bob gave: 'Hey There!'"),
    ("alice", "[info] alice took: 'Hey There!' from: bob"),
    ("bob", "[info] alice took: 'Hey There!' from: bob"),
    ("alice", "[info] bob took: 'Howdy Partner!' from: alice"),
    ("bob", "[info] bob took: 'Howdy Partner!' from: alice"),
    ("alice", "[info] stopping"),
    ("bob", "[info] bob gave: 'after alice left'"),
];

#[test]
fn demo_plays_the_tutorial_and_exits_0() {
    let start = Instant::now();
    let mut child = Command::new(FERL)
        .arg("demo")
        .env_remove("FERL_TUTORIAL_SERVER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferl demo");
    let pid = child.id();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(90));
        // Only our own child, by pid, if it is still there.
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    });
    let _ = child.stdin.take();
    let out = child.wait_with_output().expect("wait");
    drop(killer);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "the demo is quick"
    );

    let lines: Vec<(&str, &str)> = stdout
        .lines()
        .filter_map(|l| l.split_once(" | "))
        .map(|(node, text)| (node.trim(), text))
        .collect();
    // Each node prints its transcript lines in the tutorial's order. (Between nodes, the order
    // of two lines printed within the same millisecond depends on which pipe the demo read
    // first, so it is not checked.)
    for node in ["server", "alice", "bob"] {
        let mine: Vec<&str> = lines
            .iter()
            .filter(|(n, _)| *n == node)
            .map(|(_, t)| *t)
            .collect();
        let mut at = 0;
        for (_, text) in TRANSCRIPT.iter().filter(|(n, _)| *n == node) {
            match mine[at..].iter().position(|t| t.ends_with(text)) {
                Some(i) => at += i + 1,
                None => panic!("`{node} | ...{text}` missing or out of order in:\n{stdout}"),
            }
        }
    }
    for (node, text) in ANYWHERE {
        assert!(
            lines.iter().any(|(n, t)| n == node && t.ends_with(text)),
            "`{node} | ...{text}` missing in:\n{stdout}"
        );
    }
    // After alice unsubscribed, only bob (and the server) hear bob's last push.
    assert!(!lines
        .iter()
        .any(|(n, t)| *n == "alice" && t.ends_with("after alice left'")));
    assert!(stdout.contains("ferl(alice@"), "prompts like iex's");
    assert!(stdout.trim_end().ends_with("nodes stopped"), "{stdout}");
}
