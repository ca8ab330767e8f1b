//! The read-eval-print layer: `Shell` accumulates lines until an expression is complete,
//! evaluates it and returns what iex would print; plus the interactive (rustyline), scripted
//! (stdin not a TTY) and one-shot (`--eval`) drivers.

use crate::error::ParseError;
use crate::eval::Interp;
use crate::parser::{parse, parse_from};
use crate::runtime::Runtime;
use std::io::{self, BufRead, Write};
use std::path::Path;

/// The result of feeding one line to the shell.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The input so far is not a complete expression: show the continuation prompt.
    Incomplete,
    /// What iex prints for the complete input (value or error; may be empty for a blank line).
    Output(String),
}

pub struct Shell<R: Runtime> {
    interp: Interp<R>,
    /// `alice@vm`, or None for a node without a name (prompt `ferl(1)>`).
    node: Option<String>,
    counter: u32,
    pending: String,
}

impl<R: Runtime> Shell<R> {
    pub fn new(runtime: R, node: Option<&str>) -> Shell<R> {
        Shell {
            interp: Interp::new(runtime),
            node: node.map(str::to_string),
            counter: 1,
            pending: String::new(),
        }
    }

    pub fn runtime(&self) -> &R {
        &self.interp.runtime
    }

    pub fn runtime_mut(&mut self) -> &mut R {
        &mut self.interp.runtime
    }

    /// A variable's current value.
    pub fn binding(&self, name: &str) -> Option<&etf::Term> {
        self.interp.bindings.get(name)
    }

    /// `ferl(alice@vm)1> `, or `...(alice@vm)1> ` while an expression is being continued.
    pub fn prompt(&self) -> String {
        let node = self
            .node
            .as_deref()
            .map(|n| format!("({n})"))
            .unwrap_or_default();
        if self.pending.is_empty() {
            match &self.node {
                Some(_) => format!("ferl{node}{}> ", self.counter),
                None => format!("ferl({})> ", self.counter),
            }
        } else {
            match &self.node {
                Some(_) => format!("...{node}{}> ", self.counter),
                None => format!("...({})> ", self.counter),
            }
        }
    }

    /// True while lines are being accumulated for an unfinished expression.
    pub fn is_continuing(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Adds one line of input; evaluates once the accumulated input is complete.
    pub fn feed(&mut self, line: &str) -> Outcome {
        if self.pending.is_empty() && line.trim().is_empty() {
            return Outcome::Output(String::new());
        }
        self.pending.push_str(line);
        self.pending.push('\n');
        match parse(&self.pending) {
            Err(ParseError::Incomplete(_)) => Outcome::Incomplete,
            _ => {
                let src = std::mem::take(&mut self.pending);
                Outcome::Output(self.eval_line(&src))
            }
        }
    }

    /// Drops a half-typed expression (Ctrl-C at a continuation prompt).
    pub fn cancel(&mut self) {
        self.pending.clear();
    }

    /// At end of input: the error for an unfinished expression, if any.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let src = std::mem::take(&mut self.pending);
        // Without the newline `feed` appended, positions point into the last real line.
        Some(self.eval_line(src.strip_suffix('\n').unwrap_or(&src)))
    }

    /// Evaluates a complete input and returns what iex prints for it: output produced while
    /// running (IO.puts, flush, warnings), then the inspected value or the error. Incomplete
    /// input is reported as iex's `TokenMissingError`. The prompt counter advances on success.
    pub fn eval_line(&mut self, src: &str) -> String {
        self.interp.output.clear();
        self.interp.line = self.counter;
        let result = match parse_from(src, self.counter) {
            Err(e) => Err(e.to_shell_error_from(src, self.counter)),
            Ok(exprs) if exprs.is_empty() => return String::new(),
            Ok(exprs) => self.interp.eval_top(&exprs),
        };
        let mut out = std::mem::take(&mut self.interp.output);
        match result {
            Ok(v) => {
                self.counter += 1;
                out.push_str(&v.elixir().to_string());
            }
            Err(e) => out.push_str(&e.render()),
        }
        out
    }
}

/// Runs lines from `input` (stdin when it is not a TTY), printing prompts and results like iex
/// does when its input is piped.
pub fn run_script<R: Runtime, I: BufRead, W: Write>(
    shell: &mut Shell<R>,
    input: I,
    mut out: W,
) -> io::Result<()> {
    for line in input.lines() {
        let line = line?;
        write!(out, "{}", shell.prompt())?;
        if let Outcome::Output(text) = shell.feed(&line) {
            if !text.is_empty() {
                writeln!(out, "{text}")?;
            }
        }
        out.flush()?;
    }
    if let Some(text) = shell.finish() {
        writeln!(out, "{text}")?;
    }
    // iex shows one last prompt when its input ends.
    writeln!(out, "{}", shell.prompt())?;
    out.flush()
}

/// `ferl shell --eval EXPR`: evaluates once; `Ok(printed)` or `Err(error text)` (for the exit code).
pub fn eval_once<R: Runtime>(runtime: R, node: Option<&str>, expr: &str) -> Result<String, String> {
    let mut shell = Shell::new(runtime, node);
    let before = shell.counter;
    let text = shell.eval_line(expr);
    if shell.counter > before {
        Ok(text)
    } else {
        Err(text)
    }
}

/// The interactive loop with line editing and history (kept in `history` if given).
/// Ctrl-C abandons the current input, Ctrl-D leaves.
pub fn run_interactive<R: Runtime>(shell: &mut Shell<R>, history: Option<&Path>) -> io::Result<()> {
    use rustyline::error::ReadlineError;
    let mut rl = rustyline::DefaultEditor::new().map_err(io::Error::other)?;
    if let Some(h) = history {
        // A missing or unreadable history file is normal on first use.
        let _ = rl.load_history(h);
    }
    loop {
        match rl.readline(&shell.prompt()) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                }
                if let Outcome::Output(text) = shell.feed(&line) {
                    if !text.is_empty() {
                        println!("{text}");
                    }
                }
            }
            Err(ReadlineError::Interrupted) => shell.cancel(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(io::Error::other(e)),
        }
    }
    if let Some(h) = history {
        let _ = rl.save_history(h);
    }
    Ok(())
}
