//! Evaluator tests against the fake runtime: values, operators, bindings, errors.

mod common;
use common::{ev, pid, shell, Fake};
use etf::Term;
use ferl_shell::Shell;

#[test]
fn literals_print_like_iex() {
    for (src, want) in [
        ("1_000 + 0x1F", "1031"),
        ("1.5 * 2", "3.0"),
        ("10 / 4", "2.5"),
        (":ok", ":ok"),
        (":\"quoted atom\"", ":\"quoted atom\""),
        ("true", "true"),
        ("nil", "nil"),
        ("Client", "Client"),
        ("Elixir.Foo", "Foo"),
        (":rpc", ":rpc"),
        ("\"a\\tb\"", "\"a\\tb\""),
        ("'abc'", "'abc'"),
        ("{1, :two, \"three\"}", "{1, :two, \"three\"}"),
        ("[1, 2 | [3]]", "[1, 2, 3]"),
        ("[1 | 2]", "[1 | 2]"),
        ("[a: 1, b: 2]", "[a: 1, b: 2]"),
        ("[1, a: 2]", "[1, {:a, 2}]"),
        ("%{a: 1, b: 2}", "%{a: 1, b: 2}"),
        ("%{\"k\" => 1, 2 => :x}", "%{2 => :x, \"k\" => 1}"),
        ("%{a: 1, a: 2}", "%{a: 2}"),
        ("%Client{name: \"x\"}", "%Client{name: \"x\"}"),
        ("x = 5; \"x is #{x * 2}!\"", "\"x is 10!\""),
        ("\"#{:ok} #{nil}|#{1.5}|#{'ab'}\"", "\"ok |1.5|ab\""),
        ("-3 - -2", "-1"),
        ("9223372036854775807 + 1", "9223372036854775808"),
        ("?a", "97"),
        ("(1; 2; 3)", "3"),
        ("()", "nil"),
    ] {
        assert_eq!(ev(src), want, "{src}");
    }
}

#[test]
fn operators() {
    for (src, want) in [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("1 == 1.0", "true"),
        ("1 === 1.0", "false"),
        ("1 != 2", "true"),
        ("1 !== 1", "false"),
        ("1 < :a", "true"),
        ("2 >= 2", "true"),
        ("3 <= 2", "false"),
        (":a > 1", "true"),
        ("true and false", "false"),
        ("false or :x", ":x"),
        ("not true", "false"),
        ("nil && 1", "nil"),
        ("nil || 2", "2"),
        ("!nil", "true"),
        ("\"ab\" <> \"cd\"", "\"abcd\""),
        ("[1, 2] ++ [3]", "[1, 2, 3]"),
        ("[1, 2, 1] -- [1]", "[2, 1]"),
        ("[1] ++ 2", "[1 | 2]"),
        ("2 in [1, 2]", "true"),
        ("3 not in [1, 2]", "true"),
        ("div(7, 2)", "3"),
        ("rem(7, 2)", "1"),
        ("-(1 + 1)", "-2"),
        ("[1, 2, 3] |> length()", "3"),
        ("[3, 1, 2] |> Enum.reverse() |> Enum.sort", "[1, 2, 3]"),
        ("\"abc\" |> String.upcase", "\"ABC\""),
        ("\"hello\" =~ \"ell\"", "true"),
    ] {
        assert_eq!(ev(src), want, "{src}");
    }
}

#[test]
fn kernel_and_friends() {
    for (src, want) in [
        ("length([1, 2])", "2"),
        ("hd([1, 2])", "1"),
        ("tl([1, 2])", "[2]"),
        ("elem({:a, :b}, 1)", ":b"),
        ("put_elem({:a, :b}, 0, :c)", "{:c, :b}"),
        ("tuple_size({1, 2, 3})", "3"),
        ("map_size(%{a: 1})", "1"),
        ("is_atom(:a)", "true"),
        ("is_pid(self())", "true"),
        ("is_binary(\"x\")", "true"),
        ("inspect({:a, \"b\"})", "\"{:a, \\\"b\\\"}\""),
        ("to_string(:abc)", "\"abc\""),
        ("to_string(42)", "\"42\""),
        ("String.length(\"héllo\")", "5"),
        ("String.split(\"a b  c\")", "[\"a\", \"b\", \"c\"]"),
        ("Enum.count([1, 2, 3])", "3"),
        ("Enum.map([1, 2], fn x -> x * 10 end)", "[10, 20]"),
        (
            "Enum.filter([1, 2, 3], fn x -> rem(x, 2) == 1 end)",
            "[1, 3]",
        ),
        ("Enum.reduce([1, 2, 3], 0, fn x, acc -> x + acc end)", "6"),
        ("Enum.join([\"a\", :b, 1], \"-\")", "\"a-b-1\""),
        ("Enum.sum([1, 2.5])", "3.5"),
        ("Map.get(%{a: 1}, :a)", "1"),
        ("Map.put(%{a: 1}, :b, 2)", "%{a: 1, b: 2}"),
        ("Map.keys(%{b: 1, a: 2})", "[:a, :b]"),
        ("Tuple.to_list({1, 2})", "[1, 2]"),
        ("max(1, 2)", "2"),
        ("abs(-3)", "3"),
        ("round(2.5)", "3"),
        ("IO.puts(\"hi\")", "hi\n:ok"),
        ("IO.inspect(:x)", ":x\n:x"),
        ("Kernel.+(1, 2)", "3"),
        ("apply(Kernel, :length, [[1]])", "1"),
    ] {
        assert_eq!(ev(src), want, "{src}");
    }
}

#[test]
fn maps_structs_and_access() {
    let mut sh = shell();
    sh.eval_line("m = %{a: 1, b: %{c: 2}}");
    assert_eq!(sh.eval_line("m.a"), "1");
    assert_eq!(sh.eval_line("m.b.c"), "2");
    assert_eq!(sh.eval_line("m[:a]"), "1");
    assert_eq!(sh.eval_line("m[:zz]"), "nil");
    assert_eq!(sh.eval_line("%{m | a: 5}"), "%{a: 5, b: %{c: 2}}");
    assert_eq!(sh.eval_line("[x: 1][:x]"), "1");
    assert_eq!(
        sh.eval_line("%{m | z: 1}"),
        "** (KeyError) key :z not found in: %{a: 1, b: %{c: 2}}\n"
    );
    assert_eq!(
        sh.eval_line("m.zz"),
        "** (KeyError) key :zz not found in: %{a: 1, b: %{c: 2}}\n"
    );
    sh.eval_line("c = %Client{name: \"alice\", pid: self()}");
    assert_eq!(sh.eval_line("c.name"), "\"alice\"");
    assert_eq!(sh.eval_line("c.__struct__"), "Client");
    assert_eq!(sh.eval_line("%Client{name: n} = c; n"), "\"alice\"");
    assert_eq!(
        sh.eval_line("%Server{} = c"),
        format!(
            "** (MatchError) no match of right hand side value: {}\n",
            sh.binding("c").unwrap().elixir()
        )
    );
}

#[test]
fn pattern_matching_and_bindings_persist() {
    let mut sh = shell();
    assert_eq!(sh.eval_line("{a, b} = {1, 2}"), "{1, 2}");
    assert_eq!(sh.eval_line("a + b"), "3");
    assert_eq!(sh.eval_line("[h | t] = [1, 2, 3]"), "[1, 2, 3]");
    assert_eq!(sh.eval_line("{h, t}"), "{1, [2, 3]}");
    assert_eq!(sh.eval_line("^a = 1"), "1");
    assert_eq!(
        sh.eval_line("^a = 2"),
        "** (MatchError) no match of right hand side value: 2\n"
    );
    assert_eq!(
        sh.eval_line("{x, x} = {1, 2}"),
        "** (MatchError) no match of right hand side value: {1, 2}\n"
    );
    assert_eq!(sh.eval_line("{_, y} = {1, 2}; y"), "2");
    assert_eq!(sh.eval_line("%{k: v} = %{k: :val, other: 1}; v"), ":val");
    assert_eq!(
        sh.eval_line("\"hello \" <> rest = \"hello world\"; rest"),
        "\"world\""
    );
    assert_eq!(sh.eval_line("a = b = 7; {a, b}"), "{7, 7}");
    // A failing line binds nothing, like iex.
    sh.eval_line("z = 1; 1 = 2");
    assert_eq!(sh.binding("z"), None);
    assert_eq!(
        sh.eval_line("^nope = 1"),
        "** (CompileError) iex:10: undefined variable ^nope. No variable \"nope\" has been defined before the current pattern\n"
    );
}

#[test]
fn case_if_cond_fn() {
    let mut sh = shell();
    assert_eq!(
        sh.eval_line("case {:ok, 5} do {:ok, n} when n > 3 -> n * 2; _ -> :other end"),
        "10"
    );
    assert_eq!(
        sh.eval_line("case 1 do\n  2 -> :two\n  x ->\n    y = x + 1\n    y\nend"),
        "2"
    );
    assert_eq!(
        sh.eval_line("case 3 do 1 -> :a end"),
        "** (CaseClauseError) no case clause matching: 3\n"
    );
    assert_eq!(sh.eval_line("if 1 > 2 do :yes else :no end"), ":no");
    assert_eq!(sh.eval_line("if true, do: 1, else: 2"), "1");
    assert_eq!(sh.eval_line("unless false do :ran end"), ":ran");
    assert_eq!(sh.eval_line("if false do :x end"), "nil");
    assert_eq!(sh.eval_line("cond do 1 > 2 -> :a; true -> :b end"), ":b");
    assert_eq!(sh.eval_line("add = fn a, b -> a + b end; add.(1, 2)"), "3");
    assert_eq!(
        sh.eval_line("f = fn {:ok, v} -> v; _ -> :error end; {f.({:ok, 1}), f.(:x)}"),
        "{1, :error}"
    );
    assert_eq!(sh.eval_line("k = 10; g = fn x -> x + k end; g.(1)"), "11");
    assert_eq!(
        sh.eval_line("x = 1; x.()"),
        "** (BadFunctionError) expected a function, got: 1\n"
    );
}

#[test]
fn send_self_flush() {
    let mut sh = shell();
    assert_eq!(sh.eval_line("send(self(), :hi)"), ":hi");
    assert_eq!(sh.eval_line("send self(), {:two, 2}"), "{:two, 2}");
    assert_eq!(sh.eval_line("flush()"), ":hi\n{:two, 2}\n:ok");
    assert_eq!(sh.eval_line("flush"), "warning: variable \"flush\" does not exist and is being expanded to \"flush()\", please use parentheses to remove the ambiguity or change the variable name\n  iex:4\n\n:ok");
    assert_eq!(sh.eval_line("send(:shell_name, :x)"), ":x");
    assert_eq!(sh.eval_line("send({:name, :bob@vm}, :x)"), ":x");
    assert_eq!(sh.runtime().sends.len(), 4);
    assert_eq!(
        sh.eval_line("send(:undefined, :hi)"),
        "** (ArgumentError) errors were found at the given arguments:\n\n  * 1st argument: invalid destination\n\n    :erlang.send(:undefined, :hi)"
    );
    assert_eq!(
        sh.eval_line("send(nil, {:notify, :empty})"),
        "** (ArgumentError) errors were found at the given arguments:\n\n  * 1st argument: invalid destination\n\n    :erlang.send(nil, {:notify, :empty})"
    );
    assert_eq!(
        sh.eval_line("send(1, :x)").lines().next().unwrap(),
        "** (ArgumentError) errors were found at the given arguments:"
    );
}

#[test]
fn remote_calls_go_to_the_runtime() {
    let fake = Fake::new()
        .answer("Node.list", Term::list(vec![Term::atom("server@vm")]))
        .answer("Node.ping", Term::atom("pong"))
        .answer(
            ":global.registered_names",
            Term::list(vec![Term::atom("stack")]),
        );
    let mut sh = Shell::new(fake, Some("alice@vm"));
    assert_eq!(sh.eval_line("Node.list"), "[:server@vm]");
    assert_eq!(sh.eval_line("Node.list()"), "[:server@vm]");
    assert_eq!(sh.eval_line("Node.ping :\"bob@vm\""), ":pong");
    assert_eq!(sh.eval_line(":global.registered_names()"), "[:stack]");
    assert_eq!(sh.eval_line("m = :global; m.registered_names"), "[:stack]");
    assert_eq!(
        sh.eval_line(":rpc.call(:\"bob@vm\", Greet, :say, [\"alice\"])"),
        "\"Hello alice, nice to meet you\""
    );
    let calls = &sh.runtime().calls;
    assert_eq!(calls[0], ("Node".into(), "list".into(), vec![]));
    assert_eq!(
        calls[2],
        ("Node".into(), "ping".into(), vec![Term::atom("bob@vm")])
    );
    assert_eq!(calls[5].2[1], Term::atom("Elixir.Greet"));
    assert_eq!(
        sh.eval_line("Foo.bar()"),
        "** (UndefinedFunctionError) function Foo.bar/0 is undefined (module Foo is not available)\n    Foo.bar()"
    );
    assert_eq!(sh.eval_line("node()"), "** (UndefinedFunctionError) function :erlang.node/0 is undefined (module :erlang is not available)\n    :erlang.node()");
}

#[test]
fn errors_render_like_iex() {
    for (src, want) in [
        ("1 = 2", "** (MatchError) no match of right hand side value: 2\n"),
        ("1 + :a", "** (ArithmeticError) bad argument in arithmetic expression: 1 + :a\n    :erlang.+(1, :a)"),
        ("exit(:boom)", "** (exit) :boom\n"),
        ("throw(:ball)", "** (throw) :ball\n"),
        ("raise \"oops\"", "** (RuntimeError) oops\n"),
        ("foo()", "** (CompileError) iex:1: undefined function foo/0 (there is no such import)\n"),
        ("hd([])", "** (ArgumentError) errors were found at the given arguments:\n\n  * 1st argument: not a nonempty list\n\n    :erlang.hd([])"),
        ("\"a\" <> 1", "** (ArgumentError) expected binary argument in <> operator but got: 1\n"),
        ("1 and true", "** (BadBooleanError) expected a boolean on left-side of \"and\", got: 1\n"),
        ("a = 5; a.b", "** (KeyError) key :b not found in: 5. If you are using the dot syntax, such as map.field, make sure the left-hand side of the dot is a map\n"),
        ("1 )", "** (SyntaxError) iex:1:3: unexpected token: )\n    |\n  1 | 1 )\n    |   ^\n"),
    ] {
        assert_eq!(ev(src), want, "{src}");
    }
    // The pid in a message is printed like iex prints local pids.
    assert_eq!(pid(80).elixir().to_string(), "#PID<0.80.0>");
}

#[test]
fn runaway_recursion_is_an_error() {
    let mut sh = shell();
    let out = sh.eval_line("f = fn g, n -> g.(g, n + 1) end; f.(f, 0)");
    assert!(out.starts_with("** (SystemLimitError)"), "{out}");
    // The shell is still usable.
    assert_eq!(sh.eval_line("1 + 1"), "2");
}

#[test]
fn captures() {
    assert_eq!(
        ev("Enum.map([\"a\", \"b\"], &String.upcase/1)"),
        "[\"A\", \"B\"]"
    );
    assert_eq!(ev("&String.upcase/1"), "&String.upcase/1");
    assert_eq!(ev("&:rpc.call/4"), "&:rpc.call/4");
    assert_eq!(ev("Enum.map([1, 2], &(&1 * 3))"), "[3, 6]");
    assert_eq!(ev("f = &(&1 + &2); f.(1, 2)"), "3");
    assert_eq!(ev("f = &length/1; f.([1, 2])"), "2");
}

#[test]
fn undefined_local_fails_before_anything_runs() {
    let mut sh = shell();
    let out = sh.eval_line("send(self(), :x); foo(1)");
    assert_eq!(
        out,
        "** (CompileError) iex:1: undefined function foo/1 (there is no such import)\n"
    );
    assert!(sh.runtime().sends.is_empty());
}
