//! Properties: the lexer/parser/evaluator never panic on arbitrary input, and printing a term
//! in Elixir syntax then evaluating that text gives the same term back.

mod common;
use common::shell;
use etf::Term;
use ferl_shell::parse;
use proptest::prelude::*;

fn atom_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-zA-Z0-9_@]{0,6}[?!]?",
        "[A-Z][a-zA-Z0-9_]{0,5}".prop_map(|s| format!("Elixir.{s}")),
        "[ -~]{0,6}",
        Just("nil".to_string()),
        Just("true".to_string()),
        Just("+".to_string()),
        Just("..".to_string()),
        Just("Elixir".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = Term> {
    prop_oneof![
        atom_text().prop_map(|s| Term::atom(&s)),
        any::<i64>().prop_map(Term::Int),
        (-(i128::MAX)..i128::MAX).prop_map(Term::from_i128),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Term::Float),
        ".{0,8}".prop_map(|s: String| Term::from(s)),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(|b| Term::binary(&b)),
        "[ -~\n\t]{1,6}".prop_map(|s: String| Term::charlist(&s)),
    ]
}

fn term() -> impl Strategy<Value = Term> {
    leaf().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Term::Tuple),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Term::List),
            (
                proptest::collection::vec(inner.clone(), 1..3),
                inner.clone()
            )
                .prop_filter("improper tail", |(_, t)| !matches!(
                    t,
                    Term::List(_) | Term::ImproperList(..)
                ))
                .prop_map(|(h, t)| Term::ImproperList(h, Box::new(t))),
            proptest::collection::vec((atom_text(), inner.clone()), 1..3).prop_map(|kv| {
                Term::List(
                    kv.into_iter()
                        .map(|(k, v)| Term::tuple(vec![Term::atom(&k), v]))
                        .collect(),
                )
            }),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..3).prop_map(|kv| {
                let mut m: Vec<(Term, Term)> = Vec::new();
                for (k, v) in kv {
                    if !k.is_atom("__struct__") && !m.iter().any(|(x, _)| *x == k) {
                        m.push((k, v));
                    }
                }
                Term::Map(m)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics(src in "\\PC{0,40}") {
        let _ = parse(&src);
    }

    #[test]
    fn parser_never_panics_on_elixirish(src in "[-+*/=<>|&!^%{}\\[\\]()\"',.:;# a-zA-Z0-9_\n]{0,40}") {
        let _ = parse(&src);
    }

    #[test]
    fn evaluator_never_panics(src in "[-+*/=<>|&!^%{}\\[\\]()\"',.:; a-z0-9_]{0,30}") {
        let mut sh = shell();
        let _ = sh.eval_line(&src);
        let _ = sh.feed(&src);
        let _ = sh.finish();
    }

    #[test]
    fn evaluator_never_panics_on_any_text(src in "\\PC{0,30}") {
        let mut sh = shell();
        let _ = sh.eval_line(&src);
    }

    #[test]
    fn integer_edges_never_panic(
        a in prop_oneof![Just(i128::MAX), Just(-i128::MAX), Just(0i128), Just(-1i128), any::<i64>().prop_map(i128::from)],
        b in prop_oneof![Just(i128::MAX), Just(-i128::MAX), Just(0i128), Just(-1i128), any::<i64>().prop_map(i128::from)],
    ) {
        let mut sh = shell();
        sh.eval_line(&format!("a = {a} - 1; b = {b}"));
        for op in ["a + b", "a - b", "a * b", "a / b", "div(a, b)", "rem(a, b)", "abs(a)", "-a", "a - 1"] {
            let _ = sh.eval_line(op);
        }
    }

    #[test]
    fn inspect_output_evaluates_back(t in term()) {
        let text = t.elixir().to_string();
        let mut sh = shell();
        let out = sh.eval_line(&format!("value = {text}"));
        prop_assert!(!out.starts_with("** "), "{text} -> {out}");
        prop_assert_eq!(sh.binding("value"), Some(&t), "{}", text);
    }
}

#[test]
fn struct_and_special_round_trips() {
    for t in [
        Term::map(vec![
            (Term::atom("__struct__"), Term::atom("Elixir.Client")),
            (Term::atom("name"), "alice".into()),
        ]),
        Term::from("a #{b} \"q\" \\ é"),
        Term::atom("hello world"),
        Term::Float(-0.0),
        Term::Float(5.0e-324),
        Term::charlist("a\u{7}\u{1b}b"),
    ] {
        let text = t.elixir().to_string();
        let mut sh = shell();
        sh.eval_line(&format!("v = {text}"));
        assert_eq!(sh.binding("v"), Some(&t), "{text}");
    }
}
