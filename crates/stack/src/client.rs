//! `Client`: the tutorial's client functions on a ferl node. A client is `%Client{name, pid}`
//! (its name and its listener's pid); every call sends one tutorial message to the server found
//! through `:global.whereis_name(:stack)` and returns what the Elixir client returns.

use crate::notify::listen;
use crate::protocol::Request;
use crate::server;
use etf::{Atom, Term};
use ferl::{Node, Pid};
use std::time::{Duration, Instant};

/// `%Client{name: name, pid: pid}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    pub name: Term,
    /// The listener process that logs the notifications.
    pub pid: Pid,
}

/// The Elixir module atom of the struct.
pub const MODULE: &str = "Elixir.Client";

impl Client {
    /// The Elixir struct: a map with `__struct__: Client` (prints `%Client{name: .., pid: ..}`).
    pub fn to_term(&self) -> Term {
        Term::map(vec![
            (Term::atom("__struct__"), Term::atom(MODULE)),
            (Term::atom("name"), self.name.clone()),
            (Term::atom("pid"), Term::Pid(self.pid)),
        ])
    }

    /// A `%Client{}` (or any map with `name` and `pid`); `None` otherwise.
    pub fn from_term(t: &Term) -> Option<Client> {
        t.as_map()?;
        if let Some(s) = t.map_get(&Term::atom("__struct__")) {
            if !s.is_atom(MODULE) {
                return None;
            }
        }
        Some(Client {
            name: t.map_get(&Term::atom("name"))?.clone(),
            pid: *t.map_get(&Term::atom("pid"))?.as_pid()?,
        })
    }
}

/// Why a client call could not send.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// `:global.whereis_name(:stack)` is `:undefined`: Elixir's `send` raises ArgumentError
    /// "invalid destination" here.
    #[error("no process is registered as :stack (did Client.connect reach the server?)")]
    NoServer,
    /// `:global` runs only on a distributed node.
    #[error("the client needs a distributed node (start it with --sname or --name)")]
    NotDistributed,
}

/// How long `connect` waits for `:stack` to become resolvable after connecting.
pub const RESOLVE_WAIT: Duration = Duration::from_secs(5);

/// The server node `Client.connect` connects to: `FERL_TUTORIAL_SERVER` when set, otherwise
/// `server@<this node's host>` (the tutorial hard-codes `:"server@MacBook-Pro"`).
pub fn server_node(node: &Node) -> Atom {
    if let Ok(name) = std::env::var("FERL_TUTORIAL_SERVER") {
        if !name.is_empty() {
            return Atom::new(&name);
        }
    }
    let me = node.name();
    let host = me.as_str().split_once('@').map_or("nohost", |(_, h)| h);
    Atom::new(&format!("server@{host}"))
}

/// `Client.connect`: `Node.connect(server_node)`. Unlike the tutorial (where `:stack` stays
/// unresolvable for ~200 ms after `true`, so an immediate `subscribe` raises), it returns once
/// `:global` here knows `:stack`, or after [`RESOLVE_WAIT`] if the server has not started it.
pub async fn connect(node: &Node) -> bool {
    connect_to(node, server_node(node)).await
}

/// `Client.connect` to a given server node.
pub async fn connect_to(node: &Node, server_node: Atom) -> bool {
    if !node.connect(server_node).await {
        return false;
    }
    if !wait_for_server(node, RESOLVE_WAIT).await {
        tracing::warn!("connected to {server_node}, but no process is registered as :stack");
    }
    true
}

/// Waits until `:global.whereis_name(:stack)` resolves here; false after `limit`.
pub async fn wait_for_server(node: &Node, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        if server(node).is_some() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `server/0`: `:global.whereis_name(:stack)`.
pub fn server(node: &Node) -> Option<Pid> {
    node.global()?.whereis_name(&server::name())
}

/// Sends one request to the server; the request's term is what `send/2` returns.
fn send(node: &Node, req: Request) -> Result<Term, ClientError> {
    let global = node.global().ok_or(ClientError::NotDistributed)?;
    let pid = global
        .whereis_name(&server::name())
        .ok_or(ClientError::NoServer)?;
    let msg = req.to_term();
    node.send(pid, msg.clone());
    Ok(msg)
}

/// `Client.subscribe(name)`: spawns the listener and subscribes it under `name`. The listener
/// is spawned only when the server is resolvable, so a failed subscribe leaves nothing behind.
pub fn subscribe(node: &Node, name: impl Into<Term>) -> Result<Client, ClientError> {
    let name = name.into();
    server(node).ok_or(ClientError::NoServer)?;
    let pid = node.spawn(listen);
    let client = Client { name, pid };
    if let Err(e) = send(
        node,
        Request::Subscribe {
            name: client.name.clone(),
            pid,
        },
    ) {
        node.send(pid, Term::atom("stop"));
        return Err(e);
    }
    Ok(client)
}

/// `Client.unsubscribe(client)`: tells the server, then stops the listener; returns `:stop`.
pub fn unsubscribe(node: &Node, client: &Client) -> Result<Term, ClientError> {
    send(
        node,
        Request::Unsubscribe {
            name: client.name.clone(),
        },
    )?;
    let stop = Term::atom("stop");
    node.send(client.pid, stop.clone());
    Ok(stop)
}

/// `Client.push(client, item)`: returns `{:push, name, item}`.
pub fn push(node: &Node, client: &Client, item: impl Into<Term>) -> Result<Term, ClientError> {
    send(
        node,
        Request::Push {
            name: client.name.clone(),
            item: item.into(),
        },
    )
}

/// `Client.pop(client)`: returns `{:pop, name}`.
pub fn pop(node: &Node, client: &Client) -> Result<Term, ClientError> {
    send(
        node,
        Request::Pop {
            name: client.name.clone(),
        },
    )
}

/// `Client.get(client)`: returns `{:get, name}`; the stack arrives at the listener.
pub fn get(node: &Node, client: &Client) -> Result<Term, ClientError> {
    send(
        node,
        Request::Get {
            name: client.name.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_the_elixir_struct() {
        let c = Client {
            name: "alice".into(),
            pid: Pid::new(Atom::new("alice@vm"), 91, 0, 1),
        };
        let t = c.to_term();
        assert!(t
            .elixir()
            .to_string()
            .starts_with(r#"%Client{name: "alice", pid: #PID<"#));
        assert_eq!(Client::from_term(&t), Some(c));
        assert_eq!(Client::from_term(&Term::from("alice")), None);
        let other = Term::map(vec![
            (Term::atom("__struct__"), Term::atom("Elixir.Other")),
            (Term::atom("name"), "x".into()),
            (
                Term::atom("pid"),
                Term::Pid(Pid::new(Atom::new("a@h"), 1, 0, 1)),
            ),
        ]);
        assert_eq!(Client::from_term(&other), None);
    }
}
