//! The shell's `Runtime` on a real ferl node: the shell's `self()` is a ferl process (it
//! receives the messages `flush()` prints, traps exits like iex's shell) that runs every call the
//! evaluator hands over (`Node.*`, `:rpc.*`, `:erpc.*`, `Process.*`, `:global.*`, the tutorial's
//! `Server`/`Client`, registered functions).

use crate::error::ShellError;
use crate::runtime::Runtime;
use etf::{Atom, Term};
use ferl::rpc::{self, RpcError};
use ferl::{Node, Ping, Process};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// One thing the shell thread asks its process to do.
enum Request {
    Flush(oneshot::Sender<Vec<Term>>),
    Send(Term, Term, oneshot::Sender<Result<Term, ShellError>>),
    Call(
        Atom,
        Atom,
        Vec<Term>,
        oneshot::Sender<Result<Term, ShellError>>,
    ),
}

/// A [`Runtime`] backed by a ferl node. Its methods block the calling thread, which must not be
/// a tokio runtime thread (the REPL runs on its own thread).
pub struct NodeRuntime {
    node: Node,
    handle: tokio::runtime::Handle,
    pid: etf::Pid,
    tx: mpsc::UnboundedSender<Request>,
}

impl NodeRuntime {
    /// Spawns the shell process on `node` (on the runtime behind `handle`).
    pub fn new(node: Node, handle: tokio::runtime::Handle) -> NodeRuntime {
        let (tx, rx) = mpsc::unbounded_channel();
        let _guard = handle.enter();
        let pid = node.spawn(move |p: Process| shell_process(p, rx));
        NodeRuntime {
            node,
            handle,
            pid,
            tx,
        }
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> Option<T> {
        let (reply_tx, reply_rx) = oneshot::channel();
        self.tx.send(make(reply_tx)).ok()?;
        self.handle.block_on(reply_rx).ok()
    }
}

impl Runtime for NodeRuntime {
    fn self_pid(&mut self) -> Term {
        Term::Pid(self.pid)
    }

    fn send(&mut self, dest: &Term, msg: Term) -> Result<Term, ShellError> {
        let dest = dest.clone();
        self.ask(|r| Request::Send(dest, msg, r))
            .unwrap_or_else(|| Err(shell_gone()))
    }

    fn flush(&mut self) -> Vec<Term> {
        self.ask(Request::Flush).unwrap_or_default()
    }

    fn call(&mut self, module: Atom, function: Atom, args: Vec<Term>) -> Result<Term, ShellError> {
        self.ask(|r| Request::Call(module, function, args, r))
            .unwrap_or_else(|| Err(shell_gone()))
    }
}

fn shell_gone() -> ShellError {
    ShellError::exception("RuntimeError", "the shell process is gone")
}

async fn shell_process(mut p: Process, mut rx: mpsc::UnboundedReceiver<Request>) {
    // Like iex's evaluator: a crash of a linked process shows up as a message, not a dead shell.
    p.trap_exit(true);
    while let Some(req) = rx.recv().await {
        match req {
            Request::Flush(reply) => {
                let mut msgs = Vec::new();
                while let Some(m) = p.receive_timeout(Duration::ZERO).await {
                    msgs.push(m);
                }
                let _ = reply.send(msgs);
            }
            Request::Send(dest, msg, reply) => {
                let _ = reply.send(send(&p, &dest, msg));
            }
            Request::Call(m, f, args, reply) => {
                let r = call(&mut p, m, f, args).await;
                let _ = reply.send(r);
            }
        }
    }
}

/// `Kernel.send/2`: to a pid, a registered name, or `{name, node}`.
fn send(p: &Process, dest: &Term, msg: Term) -> Result<Term, ShellError> {
    match dest {
        Term::Pid(pid) => {
            p.send(*pid, msg.clone());
            Ok(msg)
        }
        Term::Atom(name) => match p.send_name(*name, msg.clone()) {
            Ok(()) => Ok(msg),
            Err(_) => Err(ShellError::invalid_destination(dest, &msg)),
        },
        Term::Tuple(t) => match t.as_slice() {
            [Term::Atom(name), Term::Atom(node)] => match p.send_to(*name, *node, msg.clone()) {
                Ok(()) => Ok(msg),
                Err(_) => Err(ShellError::invalid_destination(dest, &msg)),
            },
            _ => Err(ShellError::invalid_destination(dest, &msg)),
        },
        _ => Err(ShellError::invalid_destination(dest, &msg)),
    }
}

/// A timeout argument: an integer of milliseconds or `:infinity`.
fn timeout_arg(t: &Term) -> Result<Option<Duration>, ShellError> {
    match t {
        Term::Int(ms) if *ms >= 0 => Ok(Some(Duration::from_millis(*ms as u64))),
        Term::Atom(a) if a.as_str() == "infinity" => Ok(None),
        _ => Err(ShellError::from_erlang(&Term::atom("badarg"))),
    }
}

fn atom_arg(t: &Term) -> Result<Atom, ShellError> {
    t.as_atom()
        .ok_or_else(|| ShellError::from_erlang(&Term::atom("badarg")))
}

fn list_arg(t: &Term) -> Result<Vec<Term>, ShellError> {
    match t {
        Term::List(v) => Ok(v.clone()),
        _ => Err(ShellError::from_erlang(&Term::atom("badarg"))),
    }
}

/// The exception `erpc:call` raises for a failed call, as the shell shows it.
fn erpc_error(e: &RpcError) -> ShellError {
    let (class, reason) = e.to_erpc_exception();
    class_error(class, reason)
}

fn class_error(class: ferl::Class, reason: Term) -> ShellError {
    match class {
        ferl::Class::Error => ShellError::from_erlang(&reason),
        ferl::Class::Exit => ShellError::Exit(reason),
        ferl::Class::Throw => ShellError::Throw(reason),
    }
}

fn bool_term(b: bool) -> Term {
    Term::Atom(if b { Atom::TRUE } else { Atom::FALSE })
}

fn nodes_term(nodes: Vec<Atom>) -> Term {
    Term::List(nodes.into_iter().map(Term::Atom).collect())
}

async fn call(p: &mut Process, m: Atom, f: Atom, args: Vec<Term>) -> Result<Term, ShellError> {
    let node = p.node().clone();
    match (m.as_str(), f.as_str(), args.as_slice()) {
        // ---- Node -------------------------------------------------------------------------
        ("Elixir.Node", "self", []) | ("erlang", "node", []) => Ok(Term::Atom(node.name())),
        ("erlang", "node", [Term::Pid(pid)]) => Ok(Term::Atom(pid.node)),
        ("Elixir.Node", "alive?", []) | ("erlang", "is_alive", []) => {
            Ok(bool_term(node.name().as_str() != "nonode@nohost"))
        }
        ("Elixir.Node", "list", []) | ("erlang", "nodes", []) => Ok(nodes_term(node.nodes())),
        ("Elixir.Node", "list", [Term::Atom(kind)]) | ("erlang", "nodes", [Term::Atom(kind)]) => {
            match kind.as_str() {
                "visible" => Ok(nodes_term(node.nodes())),
                "hidden" => Ok(nodes_term(node.nodes_hidden())),
                "connected" => {
                    let mut all = node.nodes();
                    all.extend(node.nodes_hidden());
                    Ok(nodes_term(all))
                }
                "this" => Ok(nodes_term(vec![node.name()])),
                _ => Err(ShellError::from_erlang(&Term::atom("badarg"))),
            }
        }
        ("Elixir.Node", "ping", [peer]) | ("net_adm", "ping", [peer]) => {
            let peer = atom_arg(peer)?;
            Ok(Term::atom(match node.ping(peer).await {
                Ping::Pong => "pong",
                Ping::Pang => "pang",
            }))
        }
        ("Elixir.Node", "connect", [peer]) | ("net_kernel", "connect_node", [peer]) => {
            let peer = atom_arg(peer)?;
            if node.name().as_str() == "nonode@nohost" {
                return Ok(Term::atom("ignored"));
            }
            Ok(bool_term(node.connect(peer).await))
        }
        ("Elixir.Node", "disconnect", [peer]) | ("erlang", "disconnect_node", [peer]) => {
            Ok(bool_term(node.disconnect(atom_arg(peer)?)))
        }
        // ---- rpc / erpc -------------------------------------------------------------------
        ("rpc", "call", [n, mm, ff, a]) => {
            let r = rpc::call(
                p,
                atom_arg(n)?,
                atom_arg(mm)?,
                atom_arg(ff)?,
                list_arg(a)?,
                None,
            );
            Ok(rpc::to_term(&r.await))
        }
        ("rpc", "call", [n, mm, ff, a, t]) => {
            let t = timeout_arg(t)?;
            let r = rpc::call(
                p,
                atom_arg(n)?,
                atom_arg(mm)?,
                atom_arg(ff)?,
                list_arg(a)?,
                t,
            );
            Ok(rpc::to_term(&r.await))
        }
        ("rpc", "cast", [n, mm, ff, a]) | ("erpc", "cast", [n, mm, ff, a]) => {
            let (n, mm, ff, a) = (atom_arg(n)?, atom_arg(mm)?, atom_arg(ff)?, list_arg(a)?);
            rpc::cast(&node, n, mm, ff, a);
            Ok(if m.as_str() == "rpc" {
                Term::Atom(Atom::TRUE)
            } else {
                Term::Atom(Atom::OK)
            })
        }
        ("rpc", "multicall", [ns, mm, ff, a]) => {
            let nodes: Vec<Atom> = list_arg(ns)?
                .iter()
                .map(atom_arg)
                .collect::<Result<_, _>>()?;
            let (good, bad) =
                rpc::multicall(p, &nodes, atom_arg(mm)?, atom_arg(ff)?, list_arg(a)?, None).await;
            Ok(Term::tuple(vec![
                Term::List(good),
                Term::List(bad.into_iter().map(Term::Atom).collect()),
            ]))
        }
        ("erpc", "call", [n, mm, ff, a]) => {
            let r = rpc::call(
                p,
                atom_arg(n)?,
                atom_arg(mm)?,
                atom_arg(ff)?,
                list_arg(a)?,
                None,
            );
            r.await.map_err(|e| erpc_error(&e))
        }
        ("erpc", "call", [n, mm, ff, a, t]) => {
            let t = timeout_arg(t)?;
            let r = rpc::call(
                p,
                atom_arg(n)?,
                atom_arg(mm)?,
                atom_arg(ff)?,
                list_arg(a)?,
                t,
            );
            r.await.map_err(|e| erpc_error(&e))
        }
        // ---- Process ----------------------------------------------------------------------
        ("Elixir.Process", "sleep", [t]) | ("timer", "sleep", [t]) => {
            if let Some(d) = timeout_arg(t)? {
                tokio::time::sleep(d).await;
            }
            Ok(Term::Atom(Atom::OK))
        }
        ("Elixir.Process", "whereis", [name]) | ("erlang", "whereis", [name]) => {
            Ok(match node.whereis(atom_arg(name)?) {
                Some(pid) => Term::Pid(pid),
                None if m.as_str() == "erlang" => Term::Atom(Atom::UNDEFINED),
                None => Term::Atom(Atom::NIL),
            })
        }
        ("Elixir.Process", "register", [Term::Pid(pid), name])
        | ("erlang", "register", [name, Term::Pid(pid)]) => node
            .register(atom_arg(name)?, *pid)
            .map(|()| Term::Atom(Atom::TRUE))
            .map_err(|_| ShellError::from_erlang(&Term::atom("badarg"))),
        ("Elixir.Process", "registered", []) | ("erlang", "registered", []) => {
            Ok(nodes_term(node.registered()))
        }
        ("Elixir.Process", "alive?", [Term::Pid(pid)]) => Ok(bool_term(node.is_alive(*pid))),
        ("Elixir.Process", "exit", [Term::Pid(pid), reason]) => {
            p.exit(*pid, reason.clone());
            Ok(Term::Atom(Atom::TRUE))
        }
        // ---- :global, and the tutorial's Server and Client -----------------------------------
        ("global", function, _) if crate::global_calls::known(function, args.len()) => {
            crate::global_calls::call(&node, function, &args).await
        }
        (module, function, _) if stack::modules::exports(module, function, args.len()) => {
            crate::stack_calls::call(&node, module, function, &args).await
        }
        // ---- anything registered on this node (e.g. Greet.say/1) ---------------------------
        _ => {
            if node.fn_exists(m, f, args.len()) {
                let r = rpc::call(p, node.name(), m, f, args, None).await;
                return r.map_err(|e| match e.exception() {
                    Some(ex) => class_error(ex.class(), ex.reason().clone()),
                    None => erpc_error(&e),
                });
            }
            Err(ShellError::undefined_function(
                &Term::Atom(m),
                f.as_str(),
                &args,
                false,
            ))
        }
    }
}
