//! Defining Rust functions as `Module:Function/Arity` the easy way: an async closure of the
//! arguments (`def_fn`), of the process and the arguments (`def_fn_in_process`), or of serde
//! types (`def_fn_typed`). They become callable by `:rpc.call`, `:erpc.call` and `spawn/4`.

use crate::exception::{stack_frame, Exception};
use crate::mfa::MfaFn;
use crate::node::Node;
use crate::process::Process;
use etf::{Atom, Term};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;

/// What a defined function may return: a [`Term`] (its value), or a `Result` whose `Ok` converts
/// into a term and whose `Err` converts into an [`Exception`] (`throw`, `exit` or `error`).
pub trait IntoCallResult {
    fn into_call_result(self) -> Result<Term, Exception>;
}

impl IntoCallResult for Term {
    fn into_call_result(self) -> Result<Term, Exception> {
        Ok(self)
    }
}

impl<T: Into<Term>, E: Into<Exception>> IntoCallResult for Result<T, E> {
    fn into_call_result(self) -> Result<Term, Exception> {
        self.map(Into::into).map_err(Into::into)
    }
}

impl Node {
    /// Define `module:function/arity` as an async function of its arguments.
    /// Elixir modules are atoms with the `Elixir.` prefix: `Greet` is `"Elixir.Greet"`.
    ///
    /// ```
    /// # use ferl::{Node, Term, Exception};
    /// # let node = Node::local("doc@localhost", 1);
    /// node.def_fn("Elixir.Greet", "say", 1, |args: Vec<Term>| async move {
    ///     match args[0].as_str() {
    ///         Some(name) => Ok(Term::from(format!("Hello {name}, nice to meet you"))),
    ///         None => Err(Exception::error(Term::atom("badarg"))),
    ///     }
    /// });
    /// ```
    pub fn def_fn<F, Fut, R>(
        &self,
        module: impl Into<Atom>,
        function: impl Into<Atom>,
        arity: usize,
        f: F,
    ) where
        F: Fn(Vec<Term>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoCallResult,
    {
        let call: MfaFn = Arc::new(move |_p, args| {
            let fut = f(args);
            Box::pin(async move { fut.await.into_call_result() })
        });
        self.register_fn(module.into(), function.into(), arity, call);
    }

    /// Define a function that also gets its [`Process`] (its `self()`: to send, receive, call).
    pub fn def_fn_in_process<F, Fut, R>(
        &self,
        module: impl Into<Atom>,
        function: impl Into<Atom>,
        arity: usize,
        f: F,
    ) where
        F: Fn(Process, Vec<Term>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoCallResult,
    {
        let call: MfaFn = Arc::new(move |p, args| {
            let fut = f(p, args);
            Box::pin(async move { fut.await.into_call_result() })
        });
        self.register_fn(module.into(), function.into(), arity, call);
    }

    /// Define a function of serde types: the argument list is decoded as the tuple `A` (e.g.
    /// `(String,)`; arguments that do not fit give `function_clause`, as a BEAM function whose
    /// clauses do not match), the `Ok` value is encoded with `etf::to_term`.
    pub fn def_fn_typed<A, R, F, Fut>(
        &self,
        module: impl Into<Atom>,
        function: impl Into<Atom>,
        arity: usize,
        f: F,
    ) where
        A: DeserializeOwned + Send + 'static,
        R: Serialize,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Exception>> + Send + 'static,
    {
        let (m, fun) = (module.into(), function.into());
        let f = Arc::new(f);
        let call: MfaFn = Arc::new(move |_p, args| {
            let f = f.clone();
            Box::pin(async move {
                let list = Term::List(args);
                let a = etf::from_term::<A>(&list).map_err(|_| {
                    let stack = Term::list(vec![stack_frame(m, fun, list.clone())]);
                    Exception::error_with_stack(Term::atom("function_clause"), stack)
                })?;
                let r = f(a).await?;
                etf::to_term(&r).map_err(|e| {
                    Exception::error(Term::tuple(vec![
                        Term::atom("badarg"),
                        Term::from(e.to_string()),
                    ]))
                })
            })
        });
        self.register_fn(m, fun, arity, call);
    }
}
