//! A real `erl` or `elixir` node driven from a test: it runs a small read-eval-print loop on
//! stdin (one base64 line per expression, one `@@R` line per result), so a test can evaluate
//! Erlang or Elixir expressions on it and read everything else it prints (logs) on the side.

use crate::{hostname, require_beam, unique_cookie, unique_name};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Which reference runtime to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeamKind {
    Erl,
    Elixir,
}

/// How to start a node. `name` is the part before `@` (a unique one is picked when empty).
#[derive(Clone, Debug)]
pub struct BeamOpts {
    pub kind: BeamKind,
    pub name: String,
    pub cookie: String,
    pub epmd_port: u16,
    /// Extra `erl` arguments, e.g. `["-kernel", "net_ticktime", "4"]`. For Elixir they go
    /// through `--erl`.
    pub erl_args: Vec<String>,
    /// `-hidden` node.
    pub hidden: bool,
}

impl BeamOpts {
    pub fn new(kind: BeamKind, epmd_port: u16) -> BeamOpts {
        BeamOpts {
            kind,
            name: String::new(),
            cookie: unique_cookie(),
            epmd_port,
            erl_args: Vec::new(),
            hidden: false,
        }
    }
}

/// What went wrong evaluating an expression on a BEAM node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// The expression raised; the text is the inspected `{Class, Reason, Stack}`.
    Raised(String),
    /// No result within the time limit.
    Timeout(String),
    /// The node's stdout closed (it died).
    NodeGone,
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Raised(t) => write!(f, "expression raised: {t}"),
            EvalError::Timeout(e) => write!(f, "no result for `{e}` in time"),
            EvalError::NodeGone => write!(f, "the node exited"),
        }
    }
}

#[derive(Default)]
struct Shared {
    results: HashMap<u64, Result<String, String>>,
    log: Vec<String>,
    closed: bool,
}

/// A running real BEAM node; killed by its pid on drop.
pub struct BeamNode {
    pub opts: BeamOpts,
    /// The full node name, `name@host`.
    pub node: String,
    child: Child,
    stdin: ChildStdin,
    shared: Arc<(Mutex<Shared>, Condvar)>,
    next_id: u64,
}

const ERL_LOOP: &str = r#"
FerlLoop = fun Loop(Bs) ->
  case io:get_line("") of
    eof -> erlang:halt(0);
    {error, _} -> erlang:halt(0);
    Line ->
      [IdS, B64] = string:split(string:trim(Line), " "),
      Src = unicode:characters_to_list(base64:decode(B64)),
      {Tag, Out, Bs2} =
        try
          {ok, Toks, _} = erl_scan:string(Src),
          {ok, Exprs} = erl_parse:parse_exprs(Toks),
          {value, V, B2} = erl_eval:exprs(Exprs, Bs),
          {"ok", V, B2}
        catch C:R:St -> {"error", {C, R, St}, Bs}
        end,
      Txt = io_lib_pretty:print(Out, [{column, 1}, {line_length, 100000000}, {depth, -1}, {encoding, unicode}]),
      io:format("~n@@R ~s ~s ~ts~n", [IdS, Tag, Txt]),
      Loop(Bs2)
  end
end,
io:format("~n@@READY ~p~n", [node()]),
FerlLoop(erl_eval:new_bindings()).
"#;

const ELIXIR_LOOP: &str = r#"
defmodule FerlTestkitLoop do
  def loop(binding) do
    case IO.gets("") do
      :eof -> System.halt(0)
      {:error, _} -> System.halt(0)
      line ->
        [id, b64] = String.split(String.trim(line), " ", parts: 2)
        src = Base.decode64!(b64)
        {tag, out, binding} =
          try do
            {v, b} = Code.eval_string(src, binding)
            {"ok", v, b}
          catch
            kind, reason -> {"error", {kind, reason, __STACKTRACE__}, binding}
          end
        IO.puts("\n@@R #{id} #{tag} #{inspect(out, limit: :infinity, printable_limit: :infinity)}")
        loop(binding)
    end
  end
end
IO.puts("\n@@READY #{inspect(node())}")
FerlTestkitLoop.loop([])
"#;

impl BeamNode {
    /// A real `erl` node on the given epmd port, with a unique name and cookie.
    pub fn erl(epmd_port: u16) -> BeamNode {
        BeamNode::start(BeamOpts::new(BeamKind::Erl, epmd_port))
    }

    /// A real `elixir` node on the given epmd port, with a unique name and cookie.
    pub fn elixir(epmd_port: u16) -> BeamNode {
        BeamNode::start(BeamOpts::new(BeamKind::Elixir, epmd_port))
    }

    /// Starts the node and waits (at most 20 s) until its eval loop is ready.
    pub fn start(mut opts: BeamOpts) -> BeamNode {
        require_beam();
        if opts.name.is_empty() {
            opts.name = unique_name(match opts.kind {
                BeamKind::Erl => "erl",
                BeamKind::Elixir => "ex",
            });
        }
        let mut cmd = match opts.kind {
            BeamKind::Erl => {
                let mut c = Command::new("erl");
                c.args(["-sname", &opts.name, "-setcookie", &opts.cookie, "-noshell"]);
                if opts.hidden {
                    c.arg("-hidden");
                }
                c.args(&opts.erl_args);
                c.args(["-eval", ERL_LOOP]);
                c
            }
            BeamKind::Elixir => {
                let mut c = Command::new("elixir");
                c.args(["--sname", &opts.name, "--cookie", &opts.cookie]);
                if opts.hidden {
                    c.arg("--hidden");
                }
                if !opts.erl_args.is_empty() {
                    c.args(["--erl", &opts.erl_args.join(" ")]);
                }
                c.args(["-e", ELIXIR_LOOP]);
                c
            }
        };
        cmd.env("ERL_EPMD_PORT", opts.epmd_port.to_string())
            .env("ERL_CRASH_DUMP_SECONDS", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn a BEAM node");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        spawn_reader(stdout, shared.clone(), true);
        spawn_reader(stderr, shared.clone(), false);
        let node = format!("{}@{}", opts.name, hostname());
        let beam = BeamNode {
            opts,
            node,
            child,
            stdin,
            shared,
            next_id: 1,
        };
        if let Err(e) = beam.wait_for_log("@@READY", Duration::from_secs(20)) {
            panic!(
                "BEAM node {} did not start: {e}\n{}",
                beam.node,
                beam.log().join("\n")
            );
        }
        beam
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Evaluates an expression (Erlang or Elixir syntax, by kind) and returns its printed value.
    pub fn eval(&mut self, expr: &str) -> Result<String, EvalError> {
        self.eval_timeout(expr, Duration::from_secs(20))
    }

    pub fn eval_timeout(&mut self, expr: &str, limit: Duration) -> Result<String, EvalError> {
        let mut src = expr.trim().to_string();
        if self.opts.kind == BeamKind::Erl && !src.ends_with('.') {
            src.push('.');
        }
        let id = self.next_id;
        self.next_id += 1;
        let line = format!("{id} {}\n", crate::base64::encode(src.as_bytes()));
        if self.stdin.write_all(line.as_bytes()).is_err() || self.stdin.flush().is_err() {
            return Err(EvalError::NodeGone);
        }
        let (lock, cvar) = &*self.shared;
        let deadline = Instant::now() + limit;
        let mut guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = guard.results.remove(&id) {
                return r.map_err(EvalError::Raised);
            }
            if guard.closed {
                return Err(EvalError::NodeGone);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(EvalError::Timeout(expr.to_string()));
            }
            guard = cvar
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Evaluates and panics with the node's log if the expression fails.
    pub fn eval_ok(&mut self, expr: &str) -> String {
        match self.eval(expr) {
            Ok(v) => v,
            Err(e) => panic!(
                "on {}: `{expr}` failed: {e}\nnode output:\n{}",
                self.node,
                self.log().join("\n")
            ),
        }
    }

    /// Everything the node printed so far that was not an eval result.
    pub fn log(&self) -> Vec<String> {
        let (lock, _) = &*self.shared;
        lock.lock().unwrap_or_else(|e| e.into_inner()).log.clone()
    }

    /// Waits until a printed line contains `needle`; returns that line.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> Result<String, EvalError> {
        let (lock, cvar) = &*self.shared;
        let deadline = Instant::now() + limit;
        let mut guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(l) = guard.log.iter().find(|l| l.contains(needle)) {
                return Ok(l.clone());
            }
            if guard.closed {
                return Err(EvalError::NodeGone);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(EvalError::Timeout(format!(
                    "log line containing {needle:?}"
                )));
            }
            guard = cvar
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Kills the node with SIGKILL (as a crash would) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BeamNode {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_reader<R: std::io::Read + Send + 'static>(
    stream: R,
    shared: Arc<(Mutex<Shared>, Condvar)>,
    is_stdout: bool,
) {
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.lines() {
            let Ok(line) = line else { break };
            let (lock, cvar) = &*shared;
            let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
            match parse_result(&line) {
                Some((id, r)) if is_stdout => {
                    g.results.insert(id, r);
                }
                _ => g.log.push(line),
            }
            cvar.notify_all();
        }
        if is_stdout {
            let (lock, cvar) = &*shared;
            lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
            cvar.notify_all();
        }
    });
}

/// `@@R <id> ok|error <text>` -> (id, Ok(text) | Err(text)).
fn parse_result(line: &str) -> Option<(u64, Result<String, String>)> {
    let rest = line.strip_prefix("@@R ")?;
    let (id, rest) = rest.split_once(' ')?;
    let id = id.parse().ok()?;
    let (tag, text) = rest.split_once(' ').unwrap_or((rest, ""));
    match tag {
        "ok" => Some((id, Ok(text.to_string()))),
        "error" => Some((id, Err(text.to_string()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RealEpmd;

    #[test]
    fn parses_result_lines() {
        assert_eq!(
            parse_result("@@R 7 ok {a,b}"),
            Some((7, Ok("{a,b}".to_string())))
        );
        assert_eq!(
            parse_result("@@R 8 error {error,badarg,[]}"),
            Some((8, Err("{error,badarg,[]}".to_string())))
        );
        assert_eq!(parse_result("hello"), None);
    }

    #[test]
    fn erl_and_elixir_nodes_evaluate_and_see_each_other() {
        let epmd = RealEpmd::start();
        let mut erl = BeamNode::erl(epmd.port);
        let mut ex_opts = BeamOpts::new(BeamKind::Elixir, epmd.port);
        ex_opts.cookie = erl.opts.cookie.clone();
        let mut ex = BeamNode::start(ex_opts);
        assert_eq!(erl.eval_ok("X = 1 + 2, X * 2"), "6");
        assert_eq!(erl.eval_ok("X"), "3", "bindings persist between evals");
        assert_eq!(
            ex.eval_ok("{:push, \"alice\", 'abc'}"),
            "{:push, \"alice\", 'abc'}"
        );
        assert!(matches!(erl.eval("1 = 2"), Err(EvalError::Raised(_))));
        let ping = format!("Node.ping(:\"{}\")", erl.node);
        assert_eq!(ex.eval_ok(&ping), ":pong");
        assert_eq!(erl.eval_ok("nodes()"), format!("[{}]", ex.node));
    }
}
