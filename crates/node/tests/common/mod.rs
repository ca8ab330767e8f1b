//! Test helpers: run a closure as a process and get its result back, with a time bound.
#![allow(dead_code)]

use ferl::{Node, Process, Term};
use std::future::Future;
use std::time::Duration;

pub const LIMIT: Duration = Duration::from_secs(20);

/// Run `body` as a process on `node` and return what it returns (the process then exits normal).
pub async fn in_process<T, F, Fut>(node: &Node, body: F) -> T
where
    T: Send + 'static,
    F: FnOnce(Process) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    node.spawn(move |p| {
        let fut = body(p);
        async move {
            let _ = tx.send(fut.await);
        }
    });
    tokio::time::timeout(LIMIT, rx)
        .await
        .expect("test process timed out")
        .expect("test process died before answering")
}

pub fn atom(s: &str) -> Term {
    Term::atom(s)
}

/// `{'EXIT', Pid, Reason}` accessor.
pub fn exit_msg(t: &Term) -> Option<(ferl::Pid, Term)> {
    match t.as_tuple()? {
        [tag, Term::Pid(p), reason] if tag.is_atom("EXIT") => Some((*p, reason.clone())),
        _ => None,
    }
}

/// `{'DOWN', Ref, process, Item, Reason}` accessor.
pub fn down_msg(t: &Term) -> Option<(ferl::Ref, Term, Term)> {
    match t.as_tuple()? {
        [tag, Term::Ref(r), kind, item, reason]
            if tag.is_atom("DOWN") && kind.is_atom("process") =>
        {
            Some((*r, item.clone(), reason.clone()))
        }
        _ => None,
    }
}

/// Wait (bounded) until `pid` is no longer alive on `node`.
pub async fn wait_dead(node: &Node, pid: ferl::Pid) {
    tokio::time::timeout(LIMIT, async {
        while node.is_alive(pid) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("process did not die");
}
