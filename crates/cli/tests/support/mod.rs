//! Helpers for the tutorial's CLI tests: a `ferl` child (`run`, `shell`, `demo`) whose stdout
//! lines are collected as they come, with a stdin the test types into; bounded waits; killed by
//! its own pid on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const FERL: &str = env!("CARGO_BIN_EXE_ferl");
pub const WAIT: Duration = Duration::from_secs(15);

pub struct Ferl {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<Vec<String>>>,
}

fn collect(r: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(l);
        }
    });
    lines
}

impl Ferl {
    /// `ferl ARGS` with `ERL_EPMD_PORT` and extra environment.
    pub fn spawn(args: &[&str], epmd_port: u16, env: &[(&str, &str)]) -> Ferl {
        let mut cmd = Command::new(FERL);
        cmd.args(args)
            .env("ERL_EPMD_PORT", epmd_port.to_string())
            .env_remove("FERL_TUTORIAL_SERVER")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn ferl");
        let stdin = child.stdin.take();
        let out = collect(child.stdout.take().expect("stdout"));
        let err = collect(child.stderr.take().expect("stderr"));
        Ferl {
            child,
            stdin,
            out,
            err,
        }
    }

    /// `ferl run --sname NAME --cookie C --eval 'Server.start'`, once it printed `:yes`.
    pub fn server(sname: &str, cookie: &str, epmd_port: u16) -> Ferl {
        let f = Ferl::spawn(
            &[
                "run",
                "--sname",
                sname,
                "--cookie",
                cookie,
                "--eval",
                "Server.start",
            ],
            epmd_port,
            &[],
        );
        f.wait_line(":yes");
        f
    }

    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write stdin");
        stdin.flush().expect("flush");
    }

    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    pub fn lines(&self) -> Vec<String> {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn stderr(&self) -> Vec<String> {
        self.err.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many stdout lines end with `suffix` (log lines end with their message).
    pub fn count(&self, suffix: &str) -> usize {
        self.lines().iter().filter(|l| l.ends_with(suffix)).count()
    }

    /// Waits for a stdout line containing `needle`; panics with all output after `WAIT`.
    pub fn wait_line(&self, needle: &str) -> String {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if let Some(l) = self.lines().iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "no line with {needle:?}; stdout {:#?}\nstderr {:#?}",
            self.lines(),
            self.stderr()
        );
    }

    /// Waits for `n` stdout lines ending with `suffix`.
    pub fn wait_count(&self, suffix: &str, n: usize) {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if self.count(suffix) >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("{n} x {suffix:?} expected; stdout {:#?}", self.lines());
    }

    /// Waits for exit within `limit`; SIGKILL and panic otherwise.
    pub fn wait_exit(&mut self, limit: Duration) -> i32 {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(s)) = self.child.try_wait() {
                // Let the reader threads take the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return s.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!(
            "ferl did not exit within {limit:?}; stdout {:#?}",
            self.lines()
        );
    }

    /// SIGTERM by pid, then the exit status.
    pub fn terminate(&mut self) -> i32 {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.wait_exit(WAIT)
    }
}

impl Drop for Ferl {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Results a piped shell printed, in order: the text after each prompt, skipping log lines
/// (which may follow a prompt too) and empty answers.
pub fn results(lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for l in lines {
        let mut s = l.as_str();
        while let Some(rest) = s
            .strip_prefix("ferl(")
            .and_then(|r| r.split_once(")"))
            .and_then(|(_, r)| {
                r.trim_start_matches(|c: char| c.is_ascii_digit())
                    .strip_prefix("> ")
            })
        {
            s = rest;
        }
        let log = s.len() > 13 && s.as_bytes()[2] == b':' && s[12..].starts_with(" [");
        if !log && !s.trim().is_empty() && !l.starts_with("ferl node ") {
            out.push(s.to_string());
        }
    }
    out
}

impl Ferl {
    /// Types `line` into a piped shell and returns the result it prints (the next result line).
    pub fn ask(&mut self, line: &str) -> String {
        let before = results(&self.lines()).len();
        self.type_line(line);
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if let Some(r) = results(&self.lines()).get(before) {
                return r.clone();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no result for `{line}`; stdout {:#?}", self.lines());
    }
}

/// `tests/tutorial/NAME` (the tutorial's Elixir code, restored), as an absolute path.
pub fn tutorial_file(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/tutorial")
        .join(name);
    p.canonicalize().unwrap_or(p).to_string_lossy().into_owned()
}
