//! `Server` and `Client` as Elixir modules: calls by (function, args) in terms, as the shell
//! and `:rpc.call` make them. `apply` is the one dispatcher; `install` defines the functions
//! on a node so that any node (iex too) can `:rpc.call(node, Client, :push, [c, item])`.

use crate::client::{self, Client, ClientError};
use crate::notify::listen;
use crate::protocol::Request;
use crate::server::{self, ServerError};
use etf::{Atom, Term};
use ferl::{Exception, Node, Process};

pub const SERVER: &str = "Elixir.Server";
pub const CLIENT: &str = "Elixir.Client";

/// Why a call raised, in terms of the Elixir exception it stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// No clause of `Mod.fun/arity` matches the arguments (e.g. `Client.push("alice", 1)`).
    FunctionClause {
        module: &'static str,
        function: String,
        arity: usize,
    },
    /// `send(:undefined, msg)`: `:stack` is not registered; `msg` is what would have been sent.
    InvalidDestination(Term),
    /// `:global` is not running on this node (no `--sname`/`--name`).
    NotDistributed(String),
}

impl Fault {
    /// The exception as BEAM would raise it, for callers over rpc.
    pub fn to_exception(&self) -> Exception {
        match self {
            Fault::FunctionClause { .. } => Exception::error(Term::atom("function_clause")),
            Fault::InvalidDestination(_) => Exception::error(Term::atom("badarg")),
            Fault::NotDistributed(_) => Exception::error(Term::atom("notsup")),
        }
    }
}

/// True for the functions `apply` implements.
pub fn exports(module: &str, function: &str, arity: usize) -> bool {
    matches!(
        (module, function, arity),
        (SERVER, "start", 0)
            | (CLIENT, "connect", 0)
            | (CLIENT, "subscribe", 1)
            | (CLIENT, "unsubscribe", 1)
            | (CLIENT, "push", 2)
            | (CLIENT, "pop", 1)
            | (CLIENT, "get", 1)
    )
}

/// Runs `module.function(args)` on `node`; `None` when it is not one of [`exports`].
pub async fn apply(
    node: &Node,
    module: &str,
    function: &str,
    args: &[Term],
) -> Option<Result<Term, Fault>> {
    if !exports(module, function, args.len()) {
        return None;
    }
    let clause = || Fault::FunctionClause {
        module: if module == SERVER { "Server" } else { "Client" },
        function: function.to_string(),
        arity: args.len(),
    };
    let yes_no = |b: bool| Term::atom(if b { "yes" } else { "no" });
    Some(match (module, function, args) {
        (SERVER, "start", []) => match server::start(node).await {
            Ok(b) => Ok(yes_no(b)),
            Err(e @ ServerError::NotDistributed) => Err(Fault::NotDistributed(e.to_string())),
            Err(ServerError::Global(e)) => Err(Fault::NotDistributed(e.to_string())),
        },
        (CLIENT, "connect", []) => Ok(if node.global().is_none() {
            Term::atom("ignored")
        } else {
            Term::Atom(if client::connect(node).await {
                Atom::TRUE
            } else {
                Atom::FALSE
            })
        }),
        (CLIENT, "subscribe", [name]) => client::subscribe(node, name.clone())
            .map(|c| c.to_term())
            .map_err(|e| {
                fault(e, || {
                    Request::Subscribe {
                        name: name.clone(),
                        pid: node.system_pid(),
                    }
                    .to_term()
                })
            }),
        (CLIENT, f, [c, rest @ ..]) => {
            let Some(c) = Client::from_term(c) else {
                return Some(Err(clause()));
            };
            let (result, would_send) = match (f, rest) {
                ("unsubscribe", []) => (
                    client::unsubscribe(node, &c),
                    Request::Unsubscribe {
                        name: c.name.clone(),
                    },
                ),
                ("push", [item]) => (
                    client::push(node, &c, item.clone()),
                    Request::Push {
                        name: c.name.clone(),
                        item: item.clone(),
                    },
                ),
                ("pop", []) => (
                    client::pop(node, &c),
                    Request::Pop {
                        name: c.name.clone(),
                    },
                ),
                ("get", []) => (
                    client::get(node, &c),
                    Request::Get {
                        name: c.name.clone(),
                    },
                ),
                _ => return Some(Err(clause())),
            };
            result.map_err(|e| fault(e, || would_send.to_term()))
        }
        _ => Err(clause()),
    })
}

fn fault(e: ClientError, msg: impl FnOnce() -> Term) -> Fault {
    match e {
        ClientError::NoServer => Fault::InvalidDestination(msg()),
        ClientError::NotDistributed => Fault::NotDistributed(e.to_string()),
    }
}

/// Defines `Server.start/0`, `Client.connect/0`, `subscribe/1`, `unsubscribe/1`, `push/2`,
/// `pop/1`, `get/1` and `notify/0` on `node`, callable by `:rpc`/`:erpc` and `spawn/4`.
pub fn install(node: &Node) {
    let weak = node.downgrade();
    let defs: [(&str, &str, usize); 7] = [
        (SERVER, "start", 0),
        (CLIENT, "connect", 0),
        (CLIENT, "subscribe", 1),
        (CLIENT, "unsubscribe", 1),
        (CLIENT, "push", 2),
        (CLIENT, "pop", 1),
        (CLIENT, "get", 1),
    ];
    for (m, f, arity) in defs {
        let weak = weak.clone();
        node.def_fn(m, f, arity, move |args: Vec<Term>| {
            let weak = weak.clone();
            async move {
                let Some(node) = weak.upgrade() else {
                    return Err(Exception::error(Term::atom("noproc")));
                };
                match apply(&node, m, f, &args).await {
                    Some(Ok(t)) => Ok(t),
                    Some(Err(fault)) => Err(fault.to_exception()),
                    None => Err(Exception::undef(Atom::new(m), Atom::new(f), args)),
                }
            }
        });
    }
    // `spawn(node, Client, :notify, [])`: the listener, in the spawned process.
    node.def_fn_in_process(
        CLIENT,
        "notify",
        0,
        |p: Process, _args: Vec<Term>| async move {
            listen(p).await;
            Term::atom("ok")
        },
    );
}
