//! One node of the demo: a `ferl` child process whose stdout and stderr lines are read by
//! threads and sent, tagged with the node's label, to the demo's single event channel. Stopped
//! by closing its stdin (a shell) or SIGTERM to its pid (a `ferl run`), SIGKILL as a last resort.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// A line a child printed.
#[derive(Clone, Debug)]
pub struct Line {
    /// `server`, `alice`, `bob`.
    pub node: &'static str,
    pub stderr: bool,
    pub text: String,
}

pub struct NodeProcess {
    pub label: &'static str,
    /// A shell leaves at end of input; `ferl run` needs SIGTERM.
    stops_on_eof: bool,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl NodeProcess {
    /// Starts `ferl ARGS` with `env`, streaming its output lines to `events`.
    pub fn spawn(
        label: &'static str,
        args: &[&str],
        env: &[(&str, String)],
        events: Sender<Line>,
    ) -> std::io::Result<NodeProcess> {
        let exe = std::env::current_exe()?;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // The tutorial's client finds the server by this node's host, not by a setting.
            .env_remove("FERL_TUTORIAL_SERVER");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take();
        for (stderr, reader) in [
            (
                false,
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            ),
            (
                true,
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            ),
        ] {
            let Some(reader) = reader else { continue };
            let events = events.clone();
            std::thread::spawn(move || {
                for text in BufReader::new(reader).lines().map_while(Result::ok) {
                    if events
                        .send(Line {
                            node: label,
                            stderr,
                            text,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        Ok(NodeProcess {
            label,
            stops_on_eof: args.first() == Some(&"shell"),
            child,
            stdin,
        })
    }

    /// Types one line into the child's stdin.
    pub fn type_line(&mut self, line: &str) -> std::io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| std::io::Error::other("stdin closed"))?;
        writeln!(stdin, "{line}")?;
        stdin.flush()
    }

    /// Ends the child: EOF on stdin (a shell leaves), SIGTERM (a `ferl run` stops), then
    /// SIGKILL; always by its own pid. Returns its exit status (None if it had to be killed).
    pub fn stop(&mut self, limit: Duration) -> Option<i32> {
        drop(self.stdin.take());
        if self.stops_on_eof {
            if let Some(code) = self.wait(limit / 2) {
                return Some(code);
            }
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        if let Some(code) = self.wait(limit / 2) {
            return Some(code);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    fn wait(&mut self, limit: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
