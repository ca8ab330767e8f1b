//! A fake `Runtime` for tests: records every send and call, returns canned values, and
//! answers like a small tutorial cluster (Node, :global, Client, Greet over :rpc).
#![allow(dead_code)]

use etf::{Atom, Pid, Term};
use ferl_shell::{Runtime, Shell, ShellError};
use std::collections::HashMap;

pub struct Fake {
    pub node: Atom,
    pub sends: Vec<(Term, Term)>,
    pub calls: Vec<(String, String, Vec<Term>)>,
    pub mailbox: Vec<Term>,
    /// Canned answers by "Module.fun" (module as inspect prints it).
    pub canned: HashMap<String, Term>,
    pub registered: Vec<Atom>,
}

pub fn pid(id: u32) -> Term {
    Term::Pid(Pid::new(Atom::new("alice@vm"), id, 0, 1))
}

impl Fake {
    pub fn new() -> Fake {
        etf::print::set_local_node(Atom::new("alice@vm"));
        Fake {
            node: Atom::new("alice@vm"),
            sends: Vec::new(),
            calls: Vec::new(),
            mailbox: Vec::new(),
            canned: HashMap::new(),
            registered: vec![Atom::new("shell_name")],
        }
    }

    pub fn answer(mut self, what: &str, v: Term) -> Fake {
        self.canned.insert(what.to_string(), v);
        self
    }
}

impl Runtime for Fake {
    fn self_pid(&mut self) -> Term {
        pid(80)
    }

    fn send(&mut self, dest: &Term, msg: Term) -> Result<Term, ShellError> {
        if let Term::Atom(a) = dest {
            if !self.registered.contains(a) {
                return Err(ShellError::invalid_destination(dest, &msg));
            }
        }
        self.sends.push((dest.clone(), msg.clone()));
        if *dest == pid(80) {
            self.mailbox.push(msg.clone());
        }
        Ok(msg)
    }

    fn flush(&mut self) -> Vec<Term> {
        std::mem::take(&mut self.mailbox)
    }

    fn call(&mut self, module: Atom, function: Atom, args: Vec<Term>) -> Result<Term, ShellError> {
        let m = Term::Atom(module).elixir().to_string();
        let key = format!("{m}.{}", function.as_str());
        self.calls
            .push((m.clone(), function.as_str().to_string(), args.clone()));
        if let Some(v) = self.canned.get(&key) {
            return Ok(v.clone());
        }
        match (key.as_str(), args.as_slice()) {
            ("Client.subscribe", [name]) => Ok(Term::map(vec![
                (Term::atom("__struct__"), Term::atom("Elixir.Client")),
                (Term::atom("name"), name.clone()),
                (Term::atom("pid"), pid(91)),
            ])),
            ("Client.push", [c, item]) => Ok(Term::tuple(vec![
                Term::atom("push"),
                c.map_get(&Term::atom("name"))
                    .cloned()
                    .unwrap_or(Term::atom("nil")),
                item.clone(),
            ])),
            (":rpc.call", [_, Term::Atom(m), Term::Atom(f), Term::List(a)])
                if m.as_str() == "Elixir.Greet" && f.as_str() == "say" =>
            {
                let name = a.first().and_then(|t| t.as_str()).unwrap_or("?");
                Ok(Term::from(format!("Hello {name}, nice to meet you")))
            }
            _ => Err(ShellError::undefined_function(
                &Term::Atom(module),
                function.as_str(),
                &args,
                false,
            )),
        }
    }
}

pub fn shell() -> Shell<Fake> {
    Shell::new(Fake::new(), Some("alice@vm"))
}

/// Evaluates each line in a fresh shell, returning the last output.
pub fn ev(src: &str) -> String {
    shell().eval_line(src)
}
