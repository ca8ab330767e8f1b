//! The server side: the `GenServer` trait (Elixir's callbacks, with the server value as state)
//! and the loop that runs it: `init` before `start` returns, then `'$gen_call'`,
//! `'$gen_cast'` and other messages dispatched to `handle_call`/`handle_cast`/`handle_info`.

use super::reply_to::ReplyTo;
use crate::exit::ExitReason;
use crate::node::Node;
use crate::process::Process;
use crate::spawn::SpawnOpts;
use etf::{Atom, Pid, Term};
use std::future::Future;

/// What `handle_call` answers: `{:reply, Reply, state}`, `{:noreply, state}` (reply later with
/// [`ReplyTo::reply`]) or `{:stop, Reason, Reply, state}`.
#[derive(Clone, Debug, PartialEq)]
pub enum CallResponse {
    Reply(Term),
    NoReply,
    Stop {
        reason: ExitReason,
        reply: Option<Term>,
    },
}

impl CallResponse {
    /// `{:reply, value, state}`.
    pub fn reply(value: impl Into<Term>) -> CallResponse {
        CallResponse::Reply(value.into())
    }
}

/// What `handle_cast` and `handle_info` answer: carry on, or stop with a reason.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    Continue,
    Stop(ExitReason),
}

/// A gen_server written in Rust: `self` is the state. Callable with `GenServer.call` from
/// Elixir and `gen_server::call` from ferl. Every callback gets the server's [`Process`].
pub trait GenServer: Send + 'static {
    /// Runs in the new process before `start` returns; `Err(reason)` makes `start` fail.
    fn init(&mut self, _p: &mut Process) -> impl Future<Output = Result<(), Term>> + Send {
        async { Ok(()) }
    }

    /// A `call`. The default stops the server with `{bad_call, Request}`, as Elixir's does.
    fn handle_call(
        &mut self,
        request: Term,
        _from: ReplyTo,
        _p: &mut Process,
    ) -> impl Future<Output = CallResponse> + Send {
        async move {
            let reason = Term::tuple(vec![Term::atom("bad_call"), request]);
            CallResponse::Stop {
                reason: reason.into(),
                reply: None,
            }
        }
    }

    /// A `cast`. The default stops the server with `{bad_cast, Request}`.
    fn handle_cast(
        &mut self,
        request: Term,
        _p: &mut Process,
    ) -> impl Future<Output = Next> + Send {
        async move { Next::Stop(Term::tuple(vec![Term::atom("bad_cast"), request]).into()) }
    }

    /// Any other message. The default ignores it.
    fn handle_info(&mut self, _msg: Term, _p: &mut Process) -> impl Future<Output = Next> + Send {
        async { Next::Continue }
    }

    /// Called when a callback asked to stop, before the process exits with `reason`.
    fn terminate(
        &mut self,
        _reason: &ExitReason,
        _p: &mut Process,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// Why `start` failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StartError {
    /// The name is taken: `{error, {already_started, Pid}}`.
    #[error("already started as {0:?}")]
    AlreadyStarted(Pid),
    /// `init` returned an error (the process exited with it).
    #[error("init failed: {}", .0.erlang())]
    Init(Term),
}

/// `GenServer.start(Module, Args, name: Name)`: run `server` in a new process, registered as
/// `name` if given; returns once `init` succeeded.
pub async fn start<S: GenServer>(
    node: &Node,
    server: S,
    name: Option<Atom>,
) -> Result<Pid, StartError> {
    start_opts(node, server, name, SpawnOpts::default()).await
}

/// `GenServer.start_link`: as [`start`], linked to `p`.
pub async fn start_link<S: GenServer>(
    p: &Process,
    server: S,
    name: Option<Atom>,
) -> Result<Pid, StartError> {
    let opts = SpawnOpts {
        link_to: Some(p.pid()),
        monitor_by: None,
    };
    start_opts(p.node(), server, name, opts).await
}

async fn start_opts<S: GenServer>(
    node: &Node,
    server: S,
    name: Option<Atom>,
    opts: SpawnOpts,
) -> Result<Pid, StartError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    node.spawn_opts(
        move |p: Process| async move {
            let mut server = server;
            let mut p = p;
            if let Some(n) = name {
                if let Err(e) = p.register(n) {
                    let owner = match e {
                        crate::RegisterError::NameTaken(_, owner) => owner,
                        _ => p.pid(),
                    };
                    let _ = tx.send(Err(StartError::AlreadyStarted(owner)));
                    return ExitReason::normal();
                }
            }
            if let Err(reason) = server.init(&mut p).await {
                let _ = tx.send(Err(StartError::Init(reason.clone())));
                return reason.into();
            }
            let _ = tx.send(Ok(p.pid()));
            run(server, p).await
        },
        opts,
    );
    rx.await
        .unwrap_or_else(|_| Err(StartError::Init(Term::Atom(Atom::KILLED))))
}

/// The receive loop; returns the exit reason.
async fn run<S: GenServer>(mut server: S, mut p: Process) -> ExitReason {
    loop {
        let msg = p.receive().await;
        let next = match classify(msg) {
            Msg::Call(from, request) => {
                match server.handle_call(request, from.clone(), &mut p).await {
                    CallResponse::Reply(r) => {
                        from.reply(&p, r);
                        Next::Continue
                    }
                    CallResponse::NoReply => Next::Continue,
                    CallResponse::Stop { reason, reply } => {
                        server.terminate(&reason, &mut p).await;
                        if let Some(r) = reply {
                            from.reply(&p, r);
                        }
                        return reason;
                    }
                }
            }
            Msg::Cast(request) => server.handle_cast(request, &mut p).await,
            Msg::Info(m) => server.handle_info(m, &mut p).await,
        };
        if let Next::Stop(reason) = next {
            server.terminate(&reason, &mut p).await;
            return reason;
        }
    }
}

enum Msg {
    Call(ReplyTo, Term),
    Cast(Term),
    Info(Term),
}

/// `{'$gen_call', From, Request}`, `{'$gen_cast', Request}`, or anything else.
fn classify(msg: Term) -> Msg {
    let Term::Tuple(mut items) = msg else {
        return Msg::Info(msg);
    };
    let tag = items.first().and_then(Term::as_atom);
    match (tag, items.len()) {
        (Some(t), 3) if t == Atom::GEN_CALL => match ReplyTo::from_term(&items[1]) {
            Some(from) => Msg::Call(from, items.pop().unwrap_or_else(Term::nil)),
            None => Msg::Info(Term::Tuple(items)),
        },
        (Some(t), 2) if t == Atom::GEN_CAST => Msg::Cast(items.pop().unwrap_or_else(Term::nil)),
        _ => Msg::Info(Term::Tuple(items)),
    }
}
