//! The boundary between the language and the node: everything that needs a process, a
//! mailbox or the network goes through `Runtime`, which the `ferl` node implements (and tests fake).

use crate::error::ShellError;
use etf::{Atom, Term};

/// What the shell needs from the node it runs on.
pub trait Runtime {
    /// `self()`: the shell process's pid.
    fn self_pid(&mut self) -> Term;

    /// `send(dest, msg)`; `dest` is a pid, a locally registered name (atom) or `{name, node}`.
    /// Returns `msg`, like `Kernel.send/2`; an unknown name is
    /// `ShellError::invalid_destination(dest, &msg)`.
    fn send(&mut self, dest: &Term, msg: Term) -> Result<Term, ShellError>;

    /// Takes every message from the shell's mailbox, oldest first (for `flush()`).
    fn flush(&mut self) -> Vec<Term>;

    /// Any `Mod.fun(args)` the evaluator does not implement itself: `Node.*`, `:rpc.*`,
    /// `:erpc.*`, `:global.*`, `Process.*`, `Server.*`, `Client.*`, `Greet.*`, ... Unknown
    /// functions are `ShellError::undefined_function(..)`.
    fn call(&mut self, module: Atom, function: Atom, args: Vec<Term>) -> Result<Term, ShellError>;
}
