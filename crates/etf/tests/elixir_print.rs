//! Elixir printing against the real thing: one `elixir` run inspects many terms and prints each
//! with its `term_to_binary` hex; ferl decodes the hex and must print the same text.
//! Fails loudly if `elixir` is not installed.

use bytes::Bytes;
use etf::decode;
use std::process::Command;

const SCRIPT: &str = r#"
defmodule Client do
  defstruct [:name, :pid]
end
terms = [
  {:push, "alice", "item-123"}, :ok, nil, true, false, :"hello world", :"Elixir.Foo.Bar", Foo,
  :ok?, :+, :"foo-bar", :Foo, :"9x", :_x, :"", :a@b,
  1, -1, 255, 256, Bitwise.bsl(1, 70), -Bitwise.bsl(1, 70), 0.0, 1.5, -3.25, 1.0e20, 1.0e6, 100.0, 0.1, 1.2345e-4, 1.0e15, 1.0e16, 9007199254740992.0, 123456789.0, -2.0e7, 5.0e-324,
  "", "hello", "héllo 日本", <<1, 2, 3>>, <<0>>, "a\nb\t\"q\" \\ \#{x}", <<255, 104>>,
  <<5::size(3)>>, <<1, 3::size(5)>>,
  [], [1, 2, 3], 'abc', [104, 233], [1 | 2], [:a, :b | :c], [a: 1, b: "two"], ["hello world": 1],
  [{:a, 1}, {"b", 2}], {}, {1}, {:a, {:b, [c: 3]}},
  [35, 123], [35, 35, 123], String.to_atom(<<35, 123>>), String.to_atom(<<97, 35, 123, 98>>),
  [{String.to_atom(<<35, 123>>), 2}], %{String.to_atom(<<35, 123>>) => 2},
  %{}, %{a: 1, b: 2}, %{"k" => 1}, %{1 => :int, :a => :atom}, %{"hello world": 1},
  %{a: %{b: [1, 2]}}, struct(Client, name: "alice", pid: self()),
  self(), make_ref(), &:lists.map/2, &Enum.map/2, hd(:erlang.ports())
]
for t <- terms do
  IO.puts(Base.encode16(:erlang.term_to_binary(t)) <> "\t" <> inspect(t, limit: :infinity, printable_limit: :infinity))
end
"#;

#[test]
fn elixir_inspect_matches() {
    let out = Command::new("elixir")
        .arg("-e")
        .arg(SCRIPT)
        .output()
        .expect("elixir (1.14) must be installed: run scripts/install-deps.sh");
    assert!(
        out.status.success(),
        "elixir failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    let mut failures = Vec::new();
    let mut n = 0;
    for line in text.lines() {
        let (hex, expected) = line.split_once('\t').expect("tab");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        let t = decode(&Bytes::from(bytes)).expect(expected);
        let ours = t.elixir().to_string();
        n += 1;
        if ours != expected {
            failures.push(format!("elixir: {expected}\nferl:   {ours}"));
        }
    }
    assert!(n > 60, "only {n} terms");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
