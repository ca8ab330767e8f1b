//! "Off To The Races", the tutorial's session, as the demo types it: for each step the node,
//! the line typed, the result iex printed, and the log lines every node must print (the
//! tutorial's transcript, research/beam_baseline.md), in the tutorial's order.

/// What a step's result must look like.
#[derive(Clone, Debug)]
pub enum Expect {
    Exact(String),
    StartsWith(String),
    OneOf(Vec<String>),
}

impl Expect {
    pub fn matches(&self, s: &str) -> bool {
        match self {
            Expect::Exact(e) => s == e,
            Expect::StartsWith(p) => s.starts_with(p.as_str()),
            Expect::OneOf(v) => v.iter().any(|e| e == s),
        }
    }
}

pub struct Step {
    pub node: &'static str,
    pub input: String,
    pub result: Expect,
    /// (node, log message) pairs that must appear after the input, in any order.
    pub logs: Vec<(&'static str, String)>,
    /// How many times to type the line again (200 ms apart) while the result differs: for
    /// `Node.list` right after a connect, as `:global` completes the mesh in the background.
    pub retries: u32,
}

fn step(node: &'static str, input: &str, result: Expect, logs: &[(&'static str, &str)]) -> Step {
    Step {
        node,
        input: input.to_string(),
        result,
        logs: logs.iter().map(|(n, l)| (*n, l.to_string())).collect(),
        retries: 0,
    }
}

/// A `Node.list` of a full mesh, which `:global` may still be completing.
fn mesh(node: &'static str, result: Expect) -> Step {
    Step {
        retries: 20,
        ..step(node, "Node.list", result, &[])
    }
}

fn exact(s: &str) -> Expect {
    Expect::Exact(s.to_string())
}

/// The session, for nodes named `server@host`, `alice@host`, `bob@host`.
pub fn tutorial(host: &str) -> Vec<Step> {
    let (s, a, b) = (
        format!(":server@{host}"),
        format!(":alice@{host}"),
        format!(":bob@{host}"),
    );
    const ALL: [&str; 3] = ["server", "alice", "bob"];
    let everyone = |line: &str| -> Vec<(&'static str, String)> {
        ALL.iter().map(|n| (*n, line.to_string())).collect()
    };
    let mut steps = vec![
        step("alice", "Client.connect", exact("true"), &[]),
        step(
            "alice",
            "alice = Client.subscribe(\"alice\")",
            Expect::StartsWith("%Client{name: \"alice\", pid: #PID<0.".into()),
            &[("server", "alice subscribed")],
        ),
        step("alice", "Node.list", exact(&format!("[{s}]")), &[]),
        step(
            "alice",
            ":global.registered_names()",
            exact("[:stack]"),
            &[],
        ),
        step("bob", "Client.connect", exact("true"), &[]),
        step(
            "bob",
            "bob = Client.subscribe(\"bob\")",
            Expect::StartsWith("%Client{name: \"bob\", pid: #PID<0.".into()),
            &[("server", "bob subscribed")],
        ),
        // :global connected bob to alice too: the tutorial's full mesh.
        mesh(
            "bob",
            Expect::OneOf(vec![format!("[{s}, {a}]"), format!("[{a}, {s}]")]),
        ),
    ];
    let push = |node: &'static str, input: &str, result: &str, line: &str| {
        let mut st = step(node, input, exact(result), &[]);
        st.logs = everyone(line);
        st
    };
    let p1 = push(
        "alice",
        "Client.push(alice, \"Howdy Partner!\")",
        "{:push, \"alice\", \"Howdy Partner!\"}",
        "alice gave: 'Howdy Partner!'",
    );
    let p2 = push(
        "bob",
        "Client.push(bob, \"Hey There!\")",
        "{:push, \"bob\", \"Hey There!\"}",
        "bob gave: 'Hey There!'",
    );
    steps.extend([p1, p2]);
    steps.extend([
        step(
            "alice",
            "Client.get(alice)",
            exact("{:get, \"alice\"}"),
            &[
                ("server", "alice requested stack"),
                (
                    "alice",
                    "current stack: [{\"bob\", \"Hey There!\"}, {\"alice\", \"Howdy Partner!\"}]",
                ),
            ],
        ),
        step(
            "alice",
            "Client.pop(alice)",
            exact("{:pop, \"alice\"}"),
            &[
                ("server", "alice took: 'Hey There!'"),
                ("alice", "alice took: 'Hey There!' from: bob"),
                ("bob", "alice took: 'Hey There!' from: bob"),
            ],
        ),
        step(
            "bob",
            "Client.pop(bob)",
            exact("{:pop, \"bob\"}"),
            &[
                ("server", "bob took: 'Howdy Partner!'"),
                ("alice", "bob took: 'Howdy Partner!' from: alice"),
                ("bob", "bob took: 'Howdy Partner!' from: alice"),
            ],
        ),
        step(
            "bob",
            "Client.pop(bob)",
            exact("{:pop, \"bob\"}"),
            &[
                ("server", "whoops, stack is empty"),
                ("bob", "nothing left to pop"),
            ],
        ),
        step(
            "alice",
            "Client.unsubscribe(alice)",
            exact(":stop"),
            &[("alice", "stopping"), ("server", "alice unsubscribed")],
        ),
        step(
            "bob",
            "Client.push(bob, \"after alice left\")",
            exact("{:push, \"bob\", \"after alice left\"}"),
            &[
                ("server", "bob gave: 'after alice left'"),
                ("bob", "bob gave: 'after alice left'"),
            ],
        ),
        mesh(
            "alice",
            Expect::OneOf(vec![format!("[{s}, {b}]"), format!("[{b}, {s}]")]),
        ),
    ]);
    steps
}
