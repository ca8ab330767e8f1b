//! `apply(M, F, Args)` inside the calling process: look the function up, run it, and turn every
//! way it can end (value, throw, exit, error, panic, missing function) into a `Result` with an
//! Erlang-looking exception, so a bad function can never take anything but its call down.

use crate::exception::{stack_frame, Exception};
use crate::exit::ExitReason;
use crate::process::Process;
use etf::{Atom, Term};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Run `module:function(args)` in process `p` (which it consumes: the function owns its
/// `self()`). A missing function is `error undef` with stack `[{M, F, Args, []}]`; a panic is
/// `error {panic, <<"message">>}`; an error without a stack gets `[{M, F, Arity, []}]`.
pub(crate) async fn apply(
    p: Process,
    module: Atom,
    function: Atom,
    args: Vec<Term>,
) -> Result<Term, Exception> {
    let arity = args.len();
    let Some(f) = p.node().lookup_fn(module, function, arity) else {
        return Err(Exception::undef(module, function, args));
    };
    let here = || Term::list(vec![stack_frame(module, function, Term::from(arity))]);
    // Building the future runs user code too (the closure body before its `async`).
    let fut = match catch_unwind(AssertUnwindSafe(|| f(p, args))) {
        Ok(fut) => fut,
        Err(payload) => return Err(panic_error(&*payload, here())),
    };
    match (CatchUnwind { fut }).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(Exception::Error { reason, stack })) if stack.is_nil() => {
            Err(Exception::error_with_stack(reason, here()))
        }
        Ok(Err(e)) => Err(e),
        Err(payload) => Err(panic_error(&*payload, here())),
    }
}

fn panic_error(payload: &(dyn std::any::Any + Send), stack: Term) -> Exception {
    let reason = ExitReason::from_panic_payload(payload).into_term();
    tracing::error!("rpc function panicked: {}", reason.erlang());
    Exception::error_with_stack(reason, stack)
}

/// Polls a future inside `catch_unwind`: `Err(payload)` if it panicked.
struct CatchUnwind<F> {
    fut: F,
}

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = Pin::new(&mut self.fut);
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
