//! Parser tests: the tree for every construct the shell supports, and syntax errors at the
//! columns Elixir 1.14 reports (checked against `elixir`, see iex_live.rs for the live check).

use etf::Term;
use ferl_shell::ast::{Expr, StrPart};
use ferl_shell::parse;
use ferl_shell::{ParseError, SyntaxIssue};

fn one(src: &str) -> Expr {
    let mut v = parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
    assert_eq!(v.len(), 1, "{src}");
    v.remove(0)
}

fn var(n: &str) -> Expr {
    Expr::Var(n.into(), 1)
}

fn int(i: i64) -> Expr {
    Expr::Lit(Term::Int(i))
}

fn atom(a: &str) -> Expr {
    Expr::atom(a)
}

#[test]
fn literals() {
    assert_eq!(one("1_000"), int(1000));
    assert_eq!(one("0x1F"), int(31));
    assert_eq!(one("-5"), int(-5));
    assert_eq!(one("1.5e3"), Expr::Lit(Term::Float(1500.0)));
    assert_eq!(one(":ok"), atom("ok"));
    assert_eq!(one(":\"quoted atom\""), atom("quoted atom"));
    assert_eq!(one("true"), atom("true"));
    assert_eq!(one("nil"), atom("nil"));
    assert_eq!(one("Client"), atom("Elixir.Client"));
    assert_eq!(one("Elixir.Foo.Bar"), atom("Elixir.Foo.Bar"));
    assert_eq!(one("Foo.Bar"), atom("Elixir.Foo.Bar"));
    assert_eq!(one(":global"), atom("global"));
    assert_eq!(one("\"a\\n\""), Expr::Lit(Term::from("a\n")));
    assert_eq!(one("'ab'"), Expr::Lit(Term::charlist("ab")));
    assert_eq!(one("<<1, 2>>"), Expr::Bin(vec![int(1), int(2)]));
    assert_eq!(
        one("\"x#{y}\""),
        Expr::Str(vec![StrPart::Lit("x".into()), StrPart::Expr(var("y"))])
    );
}

#[test]
fn collections() {
    assert_eq!(one("{1, :a}"), Expr::Tuple(vec![int(1), atom("a")]));
    assert_eq!(one("{}"), Expr::Tuple(vec![]));
    assert_eq!(one("[1, 2]"), Expr::List(vec![int(1), int(2)], None));
    assert_eq!(
        one("[h | t]"),
        Expr::List(vec![var("h")], Some(Box::new(var("t"))))
    );
    let kw = |k: &str, v: Expr| Expr::Tuple(vec![atom(k), v]);
    assert_eq!(
        one("[a: 1, b: 2]"),
        Expr::List(vec![kw("a", int(1)), kw("b", int(2))], None)
    );
    assert_eq!(one("%{a: 1}"), Expr::Map(vec![(atom("a"), int(1))]));
    assert_eq!(
        one("%{\"k\" => 1, 2 => 3}"),
        Expr::Map(vec![(Expr::Lit("k".into()), int(1)), (int(2), int(3))])
    );
    assert_eq!(
        one("%{\"k\" => 1, b: 2}"),
        Expr::Map(vec![(Expr::Lit("k".into()), int(1)), (atom("b"), int(2))])
    );
    assert_eq!(
        one("%{m | a: 1}"),
        Expr::MapUpdate(Box::new(var("m")), vec![(atom("a"), int(1))])
    );
    assert_eq!(
        one("%Client{name: \"x\"}"),
        Expr::Struct(
            Term::atom("Elixir.Client"),
            vec![(atom("name"), Expr::Lit("x".into()))]
        )
    );
    // Multi-line collections.
    assert_eq!(one("[\n 1,\n 2\n]"), Expr::List(vec![int(1), int(2)], None));
}

#[test]
fn calls() {
    assert_eq!(one("self()"), Expr::Local("self".into(), vec![], 1));
    assert_eq!(
        one("send pid, :hi"),
        Expr::Local("send".into(), vec![var("pid"), atom("hi")], 1)
    );
    assert_eq!(
        one("Node.list"),
        Expr::Remote(Box::new(atom("Elixir.Node")), "list".into(), vec![])
    );
    assert_eq!(
        one("Node.connect :\"b@vm\""),
        Expr::Remote(
            Box::new(atom("Elixir.Node")),
            "connect".into(),
            vec![atom("b@vm")]
        )
    );
    assert_eq!(
        one(":rpc.call(n, Greet, :say, [\"a\"])"),
        Expr::Remote(
            Box::new(atom("rpc")),
            "call".into(),
            vec![
                var("n"),
                atom("Elixir.Greet"),
                atom("say"),
                Expr::List(vec![Expr::Lit("a".into())], None)
            ]
        )
    );
    assert_eq!(
        one("f(x, a: 1)"),
        Expr::Local(
            "f".into(),
            vec![
                var("x"),
                Expr::List(vec![Expr::Tuple(vec![atom("a"), int(1)])], None)
            ],
            1
        )
    );
    assert_eq!(
        one("client.name"),
        Expr::Dot(Box::new(var("client")), "name".into())
    );
    assert_eq!(
        one("m[:a]"),
        Expr::Access(Box::new(var("m")), Box::new(atom("a")))
    );
    assert_eq!(one("f.(1)"), Expr::Apply(Box::new(var("f")), vec![int(1)]));
    assert_eq!(
        one("x |> f(1)"),
        Expr::Local("f".into(), vec![var("x"), int(1)], 1)
    );
    assert_eq!(
        one("x |> String.upcase"),
        Expr::Remote(
            Box::new(atom("Elixir.String")),
            "upcase".into(),
            vec![var("x")]
        )
    );
}

#[test]
fn operators_and_precedence() {
    let b = |op, l, r| Expr::BinOp(op, Box::new(l), Box::new(r));
    assert_eq!(one("1 + 2 * 3"), b("+", int(1), b("*", int(2), int(3))));
    assert_eq!(one("1 - 2 - 3"), b("-", b("-", int(1), int(2)), int(3)));
    assert_eq!(
        one("a ++ b ++ c"),
        b("++", var("a"), b("++", var("b"), var("c")))
    );
    assert_eq!(
        one("a == 1 and b"),
        b("and", b("==", var("a"), int(1)), var("b"))
    );
    assert_eq!(
        one("a || b && c"),
        b("||", var("a"), b("&&", var("b"), var("c")))
    );
    assert_eq!(
        one("x = 1 + 1"),
        Expr::Match(Box::new(var("x")), Box::new(b("+", int(1), int(1))))
    );
    assert_eq!(one("not a"), Expr::Unary("not", Box::new(var("a"))));
    assert_eq!(one("-x"), Expr::Unary("-", Box::new(var("x"))));
    assert_eq!(
        one("^x = 1"),
        Expr::Match(Box::new(Expr::Pin("x".into(), 1)), Box::new(int(1)))
    );
    assert_eq!(one("1 +\n 2"), b("+", int(1), int(2)));
    assert_eq!(
        one("\"a\" <> \"b\""),
        b("<>", Expr::Lit("a".into()), Expr::Lit("b".into()))
    );
}

#[test]
fn sequences_and_blocks() {
    assert_eq!(parse("1; 2\n3").unwrap().len(), 3);
    assert!(matches!(one("case x do 1 -> :a; _ -> :b end"), Expr::Case(_, c) if c.len() == 2));
    assert!(
        matches!(one("case x do\n {:ok, v} when v > 1 ->\n v\n _ ->\n 0\nend"), Expr::Case(_, c) if c[0].guard.is_some() && c.len() == 2)
    );
    assert!(matches!(one("if a do 1 else 2 end"), Expr::If(..)));
    assert!(matches!(one("fn x, y -> x + y end"), Expr::Fn(c) if c[0].patterns.len() == 2));
    assert!(matches!(one("cond do a -> 1; true -> 2 end"), Expr::Cond(c) if c.len() == 2));
}

fn err(src: &str) -> (bool, u32, u32, String) {
    match parse(src) {
        Ok(v) => panic!("{src} parsed: {v:?}"),
        Err(ParseError::Incomplete(SyntaxIssue {
            line, col, message, ..
        })) => (true, line, col, message),
        Err(ParseError::Syntax(SyntaxIssue {
            line, col, message, ..
        })) => (false, line, col, message),
    }
}

#[test]
fn syntax_errors_at_elixirs_columns() {
    // (source, incomplete?, line, column, message): from `elixir` 1.14 on this machine.
    for (src, inc, line, col, msg) in [
        ("1 )", false, 1, 3, "unexpected token: )"),
        ("]", false, 1, 1, "unexpected token: ]"),
        (")", false, 1, 1, "unexpected token: )"),
        ("1 2", false, 1, 3, "syntax error before: \"2\""),
        (":ok :ok", false, 1, 5, "syntax error before: ok"),
        ("1 abc", false, 1, 3, "syntax error before: abc"),
        ("1 Foo", false, 1, 3, "syntax error before: 'Foo'"),
        ("1 \"s\"", false, 1, 3, "syntax error before: \"s\""),
        ("1 + * 2", false, 1, 5, "syntax error before: '*'"),
        ("%{a: 1 b: 2}", false, 1, 8, "syntax error before: 'b:'"),
        ("1 +", true, 1, 3, "syntax error: expression is incomplete"),
        (
            "foo(",
            true,
            1,
            5,
            "missing terminator: ) (for \"(\" starting at line 1)",
        ),
        (
            "[1, 2",
            true,
            1,
            6,
            "missing terminator: ] (for \"[\" starting at line 1)",
        ),
        (
            "(1 + 2",
            true,
            1,
            7,
            "missing terminator: ) (for \"(\" starting at line 1)",
        ),
        (
            "{1, 2",
            true,
            1,
            6,
            "missing terminator: } (for \"{\" starting at line 1)",
        ),
        (
            "\"abc",
            true,
            1,
            5,
            "missing terminator: \" (for string starting at line 1)",
        ),
        (
            "\"#{1 +}\"",
            true,
            1,
            6,
            "syntax error: expression is incomplete",
        ),
    ] {
        assert_eq!(err(src), (inc, line, col, msg.to_string()), "{src}");
    }
    assert!(err("case x do").0);
    assert!(err("fn x ->").0);
    assert!(err("if x do 1 else").0);
    assert!(!err("1 end").0);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    assert!(matches!(parse(&deep), Err(ParseError::Syntax(_))));
    let deep = "-".repeat(10_000) + "1";
    assert!(parse(&deep).is_err());
}

#[test]
fn nesting_up_to_the_limit_parses_and_evaluates() {
    // 90 levels: well past any literal typed at a prompt, within the limit, on a 2 MiB test thread.
    let src = "[".repeat(90) + &"]".repeat(90);
    assert!(parse(&src).is_ok());
    let src = "{".repeat(45) + &"[".repeat(45) + &"]".repeat(45) + &"}".repeat(45);
    let mut sh = ferl_shell::Shell::new(NoRuntime, None);
    assert!(!sh.eval_line(&src).starts_with("**"));
}

struct NoRuntime;

impl ferl_shell::Runtime for NoRuntime {
    fn self_pid(&mut self) -> Term {
        Term::atom("nopid")
    }
    fn send(&mut self, _: &Term, msg: Term) -> Result<Term, ferl_shell::ShellError> {
        Ok(msg)
    }
    fn flush(&mut self) -> Vec<Term> {
        Vec::new()
    }
    fn call(
        &mut self,
        m: etf::Atom,
        f: etf::Atom,
        a: Vec<Term>,
    ) -> Result<Term, ferl_shell::ShellError> {
        Err(ferl_shell::ShellError::undefined_function(
            &Term::Atom(m),
            f.as_str(),
            &a,
            false,
        ))
    }
}
