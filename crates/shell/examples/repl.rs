//! Try the shell without a node: `cargo run -p ferl-shell --example repl` (or pipe lines in).
//! A toy runtime: a local mailbox for `self()`, `Node.self/list`, everything else undefined.

use etf::{Atom, Pid, Term};
use ferl_shell::{run_interactive, run_script, Runtime, Shell, ShellError};
use std::io::IsTerminal;

struct Toy {
    mailbox: Vec<Term>,
}

fn me() -> Term {
    Term::Pid(Pid::new(Atom::NONODE_AT_NOHOST, 80, 0, 0))
}

impl Runtime for Toy {
    fn self_pid(&mut self) -> Term {
        me()
    }

    fn send(&mut self, dest: &Term, msg: Term) -> Result<Term, ShellError> {
        if *dest != me() {
            return Err(ShellError::invalid_destination(dest, &msg));
        }
        self.mailbox.push(msg.clone());
        Ok(msg)
    }

    fn flush(&mut self) -> Vec<Term> {
        std::mem::take(&mut self.mailbox)
    }

    fn call(&mut self, m: Atom, f: Atom, args: Vec<Term>) -> Result<Term, ShellError> {
        match (m.as_str(), f.as_str(), args.len()) {
            ("Elixir.Node", "self", 0) | ("erlang", "node", 0) => {
                Ok(Term::Atom(Atom::NONODE_AT_NOHOST))
            }
            ("Elixir.Node", "list", 0) => Ok(Term::nil()),
            _ => Err(ShellError::undefined_function(
                &Term::Atom(m),
                f.as_str(),
                &args,
                false,
            )),
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut shell = Shell::new(
        Toy {
            mailbox: Vec::new(),
        },
        None,
    );
    if std::io::stdin().is_terminal() {
        run_interactive(&mut shell, None)
    } else {
        run_script(
            &mut shell,
            std::io::stdin().lock(),
            std::io::stdout().lock(),
        )
    }
}
