//! Reading the nodes' output as the tutorial's transcript: a line is a prompt echo, a Logger
//! line (`21:40:06.776 [info] alice subscribed`) or a result; the demo prints every line
//! prefixed by its node and waits for the lines each step expects.

use super::child::Line;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What a line from a node is.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `HH:MM:SS.mmm [level] message`: the message part.
    Log(String),
    /// A shell result or error, or any other line.
    Output(String),
}

/// Removes the shell prompts a piped shell writes before each result (`ferl(alice@vm)3> `).
pub fn strip_prompts(mut s: &str) -> &str {
    loop {
        let rest = s
            .strip_prefix("ferl(")
            .or_else(|| s.strip_prefix("...("))
            .and_then(|r| r.split_once(")"))
            .and_then(|(_, r)| {
                let digits = r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                r[digits..]
                    .strip_prefix("> ")
                    .or_else(|| (r[digits..] == *">").then_some(""))
            });
        match rest {
            Some(r) => s = r,
            None => return s,
        }
    }
}

pub fn classify(line: &str) -> Option<Kind> {
    let s = strip_prompts(line).trim_end();
    if s.trim().is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let clock = b.len() > 13
        && b[2] == b':'
        && b[5] == b':'
        && b[8] == b'.'
        && b[12] == b' '
        && b[13] == b'[';
    if clock {
        if let Some((_, msg)) = s[13..].split_once("] ") {
            return Some(Kind::Log(msg.to_string()));
        }
    }
    Some(Kind::Output(s.to_string()))
}

/// Everything the nodes printed, printed as it arrives and kept for the steps' checks.
pub struct Transcript {
    events: Receiver<Line>,
    /// (node, kind) in arrival order.
    pub seen: Vec<(&'static str, Kind)>,
    width: usize,
}

impl Transcript {
    pub fn new(events: Receiver<Line>) -> Transcript {
        Transcript {
            events,
            seen: Vec::new(),
            width: 6,
        }
    }

    /// Prints a line of the demo itself (a command being typed).
    pub fn say(&self, node: &str, text: &str) {
        println!("{node:<w$} | {text}", w = self.width);
    }

    fn take(&mut self, line: Line) {
        let shown = strip_prompts(&line.text).trim_end();
        if shown.trim().is_empty() {
            return;
        }
        let tag = if line.stderr { " (stderr)" } else { "" };
        println!("{:<w$} | {shown}{tag}", line.node, w = self.width);
        // Results and Logger lines come on stdout; stderr is shown but never taken as either.
        if line.stderr {
            return;
        }
        if let Some(k) = classify(&line.text) {
            self.seen.push((line.node, k));
        }
    }

    /// Takes lines until `done(seen_since)` holds (checked on lines from index `from`), or
    /// `limit` passes (false).
    pub fn wait_until(
        &mut self,
        from: usize,
        limit: Duration,
        mut done: impl FnMut(&[(&'static str, Kind)]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if done(&self.seen[from.min(self.seen.len())..]) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            match self.events.recv_timeout(deadline - now) {
                Ok(line) => self.take(line),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return done(&self.seen[from.min(self.seen.len())..])
                }
            }
        }
    }

    /// Prints whatever arrives within `d` (the last log lines before the nodes stop).
    pub fn drain_for(&mut self, d: Duration) {
        let _ = self.wait_until(self.seen.len(), d, |_| false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_logs_and_results() {
        assert_eq!(strip_prompts("ferl(alice@vm)3> true"), "true");
        assert_eq!(
            strip_prompts("ferl(alice@vm)3> ferl(alice@vm)4> :ok"),
            ":ok"
        );
        assert_eq!(strip_prompts("ferl(alice@vm)12> "), "");
        assert_eq!(strip_prompts("ferl node x running"), "ferl node x running");
        assert_eq!(
            classify("ferl(alice@vm)5> 21:38:28.928 [info] alice gave: 'Howdy Partner!'"),
            Some(Kind::Log("alice gave: 'Howdy Partner!'".into()))
        );
        assert_eq!(
            classify("{:get, \"alice\"}"),
            Some(Kind::Output("{:get, \"alice\"}".into()))
        );
        assert_eq!(classify("ferl(alice@vm)5> "), None);
        assert_eq!(classify("12:00"), Some(Kind::Output("12:00".into())));
    }
}
