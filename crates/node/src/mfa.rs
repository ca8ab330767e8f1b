//! Rust functions addressable as `Module:Function/Arity`, so other nodes can spawn them
//! (SPAWN_REQUEST, the base of rpc/erpc): a registry and `spawn_mfa`.

use crate::error::SpawnError;
use crate::exit::ExitReason;
use crate::node::Node;
use crate::process::Process;
use crate::spawn::SpawnOpts;
use etf::{Atom, Pid, Term};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// The future an MFA function returns: `Ok(_)` exits `normal`, `Err(reason)` exits with it.
pub type MfaFuture = Pin<Box<dyn Future<Output = Result<Term, ExitReason>> + Send>>;
/// A function callable as `M:F(Args)` in a new process.
pub type MfaFn = Arc<dyn Fn(Process, Vec<Term>) -> MfaFuture + Send + Sync>;

#[derive(Default)]
pub(crate) struct MfaTable {
    fns: RwLock<HashMap<(Atom, Atom, usize), MfaFn>>,
}

impl Node {
    /// Make `module:function/arity` spawnable (replaces an earlier registration).
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

    fn lookup_fn(&self, module: Atom, function: Atom, arity: usize) -> Option<MfaFn> {
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
