//! Rust functions addressable as `Module:Function/Arity`, so other nodes can spawn and call them
//! (SPAWN_REQUEST, the base of rpc/erpc): a registry and `spawn_mfa`. A function returns its
//! value or an [`Exception`]; erpc reports either to the caller, a spawned process exits with it.

use crate::error::SpawnError;
use crate::exception::Exception;
use crate::node::Node;
use crate::process::Process;
use crate::spawn::SpawnOpts;
use etf::{Atom, Pid, Term};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// The future an MFA function returns: `Ok(value)` is its return value (a spawned process then
/// exits `normal`), `Err(exception)` a `throw`, `exit` or `error` (a spawned process exits as
/// on BEAM: `exit(X)` with `X`, `error(E)` with `{E, Stack}`). `?` on an
/// [`ExitReason`](crate::ExitReason) is `exit(Reason)`.
pub type MfaFuture = Pin<Box<dyn Future<Output = Result<Term, Exception>> + Send>>;
/// A function callable as `M:F(Args)` in a new process.
pub type MfaFn = Arc<dyn Fn(Process, Vec<Term>) -> MfaFuture + Send + Sync>;

pub(crate) struct MfaTable {
    fns: RwLock<HashMap<(Atom, Atom, usize), MfaFn>>,
}

/// Every node starts with the built-in functions (`erpc:execute_call/4`, ...), so that rpc
/// works on any node, with or without distribution.
impl Default for MfaTable {
    fn default() -> MfaTable {
        let fns = crate::rpc::builtins()
            .into_iter()
            .map(|(m, f, a, fun)| ((m, f, a), fun))
            .collect();
        MfaTable {
            fns: RwLock::new(fns),
        }
    }
}

impl Node {
    /// Make `module:function/arity` spawnable and callable (replaces an earlier registration).
    /// [`Node::def_fn`] is the friendlier way to define one.
    pub fn register_fn(&self, module: Atom, function: Atom, arity: usize, f: MfaFn) {
        self.inner
            .mfas
            .fns
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((module, function, arity), f);
    }

    /// Is `module:function/arity` registered?
    pub fn fn_exists(&self, module: Atom, function: Atom, arity: usize) -> bool {
        self.lookup_fn(module, function, arity).is_some()
    }

    pub(crate) fn lookup_fn(&self, module: Atom, function: Atom, arity: usize) -> Option<MfaFn> {
        self.inner
            .mfas
            .fns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(module, function, arity))
            .cloned()
    }

    /// `spawn(M, F, Args)` with options: runs the registered function in a new process.
    pub fn spawn_mfa(
        &self,
        module: Atom,
        function: Atom,
        args: Vec<Term>,
        opts: SpawnOpts,
    ) -> Result<Pid, SpawnError> {
        let f = self
            .lookup_fn(module, function, args.len())
            .ok_or(SpawnError::Undef(module, function, args.len()))?;
        Ok(self.spawn_opts(move |p| f(p, args), opts))
    }
}
