//! Live comparison with the real thing: the same lines are piped into Elixir 1.14's `iex` and
//! into `run_script`, and the transcripts must be identical (prompts normalised `iex(` -> `ferl(`).
//! Skipped (with a note) when `iex` is not installed.

mod common;
use common::Fake;
use ferl_shell::{run_script, Shell};
use std::io::Write;
use std::process::{Command, Stdio};

/// Only inputs whose output does not depend on the node (no pids, refs, node names). Errors for
/// which iex prints its own evaluator's frames (`erl_eval`, macro expansion) are tested in
/// eval.rs instead: ferl prints the same first lines without those frames.
const INPUT: &str = r##"1 + 2
x = 5
x * 2
{:ok, "str", 'abc', [a: 1], %{b: 2}, nil, 1.5, :"a b", Client}
1 = 2
1 + :a
y
foo()
Foo.bar()
send(:undefined, :hi)
exit(:boom)
throw(:ball)
hd([])
1 and true
%{a: 1}.b
length(1)
tuple_size(1)
1 )
]
1 2
:ok :ok
1 abc
1 Foo
1 "s"
1 + * 2
%{a: 1 b: 2}
case 3 do 1 -> :a end
foo(
1)
[1,
2]
raise "oops"
send(self(), :hi)
send(self(), {:two, [2]})
flush()
flush()
^z = 1
x.()
[1] ++ 2
'abc' ++ 'd'
"a#{x}b#{:c}"
0.1 + 0.2
1.0e20
div(7, 2)
String.upcase("abc")
Enum.map([1, 2], fn x -> x * 2 end)
{a, b} = {1, 2}
[h | t] = [1, 2, 3]
t
case {:ok, 1} do {:ok, n} when n > 0 -> n * 10; _ -> :neg end
if x > 3, do: :big, else: :small
[a: 1][:a]
"#{1}" <> "#{2.5}"
1_000_000 * 1_000_000 * 1_000_000
"#{:a}" == "a"
elem({1}, 5)
[1, 2, 3] |> Enum.reverse
%{a: %{b: 1}}.a.b
Map.get(%{}, :x, 0)
{:ok, v} = {:error, 1}
String.split("a,b", ",")
abs(-1.5)
"é" <> "x"
'é'
[1.0, -0.0, 1.0e16, 1.0e15, 123.456]
<<1, 2>>
<<"a", 0>>
rem(-7, 2)
div(-7, 2)
round(-2.5)
4 / 2
Enum.at([1, 2, 3], -1)
[a: [b: 1], c: %{"d" => :e}]
%{{1, 2} => [3], :x => 1}
x = [1, 2]; [0 | x]
:erlang
:"Elixir.Foo"
:"foo-bar"
:+
[1, 2, 3] -- [2]
1 < 2 and 2 < 3
is_atom(nil)
to_string(:Elixir)
"a\tb\n"
"\#{x}"
?a
0b1010 + 0o17
1_0.5
"##;

fn iex_transcript(input: &str) -> Option<String> {
    let mut child = Command::new("iex")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // Drop the banner line; iex writes warnings to stderr, which a terminal interleaves.
    let body = text.split_once('\n')?.1;
    Some(body.replace("iex(", "ferl("))
}

#[test]
fn transcript_matches_real_iex() {
    // Interop tests never skip: scripts/install-deps.sh installs iex.
    let want = iex_transcript(INPUT)
        .expect("could not run `iex` (install Elixir with scripts/install-deps.sh)");
    let mut sh = Shell::new(Fake::new(), None);
    let mut out = Vec::new();
    run_script(&mut sh, INPUT.as_bytes(), &mut out).unwrap();
    let got = String::from_utf8(out).unwrap();
    // Warnings go to stderr in iex; remove ours from the comparison.
    let got = strip_warnings(&got);
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    for (i, (a, b)) in w.iter().zip(g.iter()).enumerate() {
        assert_eq!(
            b,
            a,
            "line {} differs\n--- iex:\n{}\n--- ferl:\n{}",
            i + 1,
            want,
            got
        );
    }
    assert_eq!(g.len(), w.len(), "--- iex:\n{want}\n--- ferl:\n{got}");
}

fn strip_warnings(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("warning: variable") {
        out.push_str(&rest[..i]);
        // A warning is three lines: the text, "  iex:N", and an empty line.
        let mut after = &rest[i..];
        for _ in 0..3 {
            after = after.split_once('\n').map(|x| x.1).unwrap_or("");
        }
        rest = after;
    }
    out.push_str(rest);
    out
}
