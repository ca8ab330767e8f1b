//! The tutorial's iex session typed line by line into the shell, against the fake runtime:
//! the runtime sees the expected calls and the shell prints what iex printed.

mod common;
use common::{pid, Fake};
use etf::Term;
use ferl_shell::{run_script, Outcome, Shell};

#[test]
fn alice_session() {
    let fake = Fake::new()
        .answer("Client.connect", Term::atom("true"))
        .answer("Node.list", Term::list(vec![Term::atom("server@vm")]))
        .answer(
            "Client.get",
            Term::tuple(vec![Term::atom("get"), "alice".into()]),
        )
        .answer("Client.unsubscribe", Term::atom("stop"));
    let mut sh = Shell::new(fake, Some("alice@vm"));
    let session = [
        ("ferl(alice@vm)1> ", "Client.connect", "true"),
        (
            "ferl(alice@vm)2> ",
            "alice = Client.subscribe(\"alice\")",
            "%Client{name: \"alice\", pid: #PID<0.91.0>}",
        ),
        ("ferl(alice@vm)3> ", "Node.list", "[:server@vm]"),
        (
            "ferl(alice@vm)4> ",
            "Client.push(alice, \"Howdy Partner!\")",
            "{:push, \"alice\", \"Howdy Partner!\"}",
        ),
        (
            "ferl(alice@vm)5> ",
            "Client.get(alice)",
            "{:get, \"alice\"}",
        ),
        (
            "ferl(alice@vm)6> ",
            "Client.push alice, \"no parens\"",
            "{:push, \"alice\", \"no parens\"}",
        ),
        ("ferl(alice@vm)7> ", "alice.pid", "#PID<0.91.0>"),
        ("ferl(alice@vm)8> ", "Client.unsubscribe(alice)", ":stop"),
    ];
    for (prompt, line, want) in session {
        assert_eq!(sh.prompt(), prompt);
        assert_eq!(sh.feed(line), Outcome::Output(want.to_string()), "{line}");
    }
    let calls = &sh.runtime().calls;
    let names: Vec<String> = calls.iter().map(|(m, f, _)| format!("{m}.{f}")).collect();
    assert_eq!(
        names,
        [
            "Client.connect",
            "Client.subscribe",
            "Node.list",
            "Client.push",
            "Client.get",
            "Client.push",
            "Client.unsubscribe",
        ]
    );
    let client = sh.binding("alice").unwrap().clone();
    assert_eq!(calls[1].2, vec![Term::from("alice")]);
    assert_eq!(
        calls[3].2,
        vec![client.clone(), Term::from("Howdy Partner!")]
    );
    assert_eq!(calls[6].2, vec![client]);
    assert_eq!(
        sh.binding("alice").unwrap().map_get(&Term::atom("pid")),
        Some(&pid(91))
    );
}

#[test]
fn bob_greet_over_rpc_and_global() {
    let fake = Fake::new()
        .answer(":global.whereis_name", pid(110))
        .answer(":global.register_name", Term::atom("yes"));
    let mut sh = Shell::new(fake, Some("alice@vm"));
    assert_eq!(
        sh.eval_line(":rpc.call(:\"bob@vm\", Greet, :say, [\"alice\"])"),
        "\"Hello alice, nice to meet you\""
    );
    assert_eq!(
        sh.eval_line("server = :global.whereis_name(:stack)"),
        "#PID<0.110.0>"
    );
    assert_eq!(
        sh.eval_line("send server, {:push, \"alice\", \"x\"}"),
        "{:push, \"alice\", \"x\"}"
    );
    assert_eq!(sh.eval_line(":global.register_name(:me, self())"), ":yes");
    assert_eq!(sh.runtime().sends[0].0, pid(110));
}

#[test]
fn multi_line_input_and_prompts() {
    let mut sh = Shell::new(Fake::new(), Some("alice@vm"));
    assert_eq!(sh.feed("x = ["), Outcome::Incomplete);
    assert_eq!(sh.prompt(), "...(alice@vm)1> ");
    assert_eq!(sh.feed("  1,"), Outcome::Incomplete);
    assert_eq!(sh.feed("  2]"), Outcome::Output("[1, 2]".into()));
    assert_eq!(sh.prompt(), "ferl(alice@vm)2> ");
    for open in [
        "case x do",
        "\"abc",
        "foo(",
        "{1,",
        "%{a: 1,",
        "1 +",
        "fn x ->",
        "if true do",
    ] {
        let mut sh = Shell::new(Fake::new(), None);
        assert_eq!(sh.feed(open), Outcome::Incomplete, "{open}");
        assert_eq!(sh.prompt(), "...(1)> ");
    }
    // An error does not advance the counter; an empty line does nothing.
    assert_eq!(sh.feed(""), Outcome::Output(String::new()));
    sh.feed("1 = 2");
    assert_eq!(sh.prompt(), "ferl(alice@vm)2> ");
}

#[test]
fn scripted_mode_prints_prompts_like_iex() {
    // Error positions use iex's line numbering: line N is the input typed at prompt N.
    let mut sh = Shell::new(Fake::new(), Some("alice@vm"));
    let input = "send(self(), :hi)\nfoo(\n1)\n[1,\n2]\nflush()\n\"open";
    let mut out = Vec::new();
    run_script(&mut sh, input.as_bytes(), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out, "ferl(alice@vm)1> :hi\n\
ferl(alice@vm)2> ...(alice@vm)2> ** (CompileError) iex:2: undefined function foo/1 (there is no such import)\n\n\
ferl(alice@vm)2> ...(alice@vm)2> [1, 2]\n\
ferl(alice@vm)3> :hi\n:ok\n\
ferl(alice@vm)4> ** (TokenMissingError) iex:4:6: missing terminator: \" (for string starting at line 4)\n    |\n  4 | \"open\n    |      ^\n\nferl(alice@vm)4> \n");
}

#[test]
fn eval_once_reports_success_or_error() {
    assert_eq!(
        ferl_shell::eval_once(Fake::new(), None, "1 + 1"),
        Ok("2".into())
    );
    assert!(ferl_shell::eval_once(Fake::new(), None, "1 = 2").is_err());
}
