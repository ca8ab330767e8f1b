//! The `global` module's API on a ferl node, `node.global()`: cluster-wide names
//! (`register_name`, `whereis_name`, `send`, ...), cluster-wide locks (`set_lock`, `trans`) and
//! `sync`. Lookups read the local table, as BEAM's ETS reads do; changes go through the
//! protocol (lock the cluster, update every node, unlock) and return when it is done.

use super::messages::LockId;
use super::name_server::Shared;
use super::{LocalRequest, StdMethod};
use crate::node::Node;
use etf::{Atom, Pid, Term};
use std::future::Future;
use std::sync::Arc;

/// This node's `:global`. Cheap to clone.
#[derive(Clone)]
pub struct Global {
    shared: Arc<Shared>,
}

/// Why a `global` call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GlobalError {
    /// `global:send/2` to a name nobody holds: BEAM exits `{badarg, {Name, Msg}}`.
    #[error("badarg: no global name {}", .0.elixir())]
    NotRegistered(Term),
    /// The node is stopping: `global_name_server` no longer answers.
    #[error("global_name_server is not running")]
    NotRunning,
}

impl Node {
    /// `:global` on this node (`None` for a node without distribution, see [`Node::start`]).
    pub fn global(&self) -> Option<Global> {
        self.inner.global.get().map(|shared| Global {
            shared: shared.clone(),
        })
    }
}

fn yes(t: &Term) -> bool {
    t.is_atom("yes")
}

impl Global {
    async fn ask(&self, request: LocalRequest) -> Result<Term, GlobalError> {
        self.shared
            .request(request)
            .await
            .ok_or(GlobalError::NotRunning)
    }

    /// `global:register_name(Name, Pid)`: `true` (`yes`) if the name was free cluster-wide and
    /// now names `pid` on every node, `false` (`no`) if it is taken or `pid` has a name already.
    /// Conflicts found later (when clusters join) are resolved by `random_exit_name`.
    pub async fn register_name(
        &self,
        name: impl Into<Term>,
        pid: Pid,
    ) -> Result<bool, GlobalError> {
        self.register_name_with(name, pid, StdMethod::RandomExitName.to_term())
            .await
    }

    /// `global:register_name(Name, Pid, Method)`: `method` is a standard method
    /// ([`StdMethod::to_term`]) or a Rust one ([`super::method_term`] of an MFA-registered
    /// `M:F/3` that returns the winning pid or `none`).
    pub async fn register_name_with(
        &self,
        name: impl Into<Term>,
        pid: Pid,
        method: Term,
    ) -> Result<bool, GlobalError> {
        let r = self
            .ask(LocalRequest::RegisterName {
                name: name.into(),
                pid,
                method,
            })
            .await?;
        Ok(yes(&r))
    }

    /// `global:re_register_name(Name, Pid)`: `name` names `pid` from now on, whoever held it.
    pub async fn re_register_name(
        &self,
        name: impl Into<Term>,
        pid: Pid,
    ) -> Result<(), GlobalError> {
        self.ask(LocalRequest::ReRegisterName {
            name: name.into(),
            pid,
            method: StdMethod::RandomExitName.to_term(),
        })
        .await
        .map(|_| ())
    }

    /// `global:unregister_name(Name)` (a name nobody holds is fine, as on BEAM).
    pub async fn unregister_name(&self, name: impl Into<Term>) -> Result<(), GlobalError> {
        self.ask(LocalRequest::UnregisterName { name: name.into() })
            .await
            .map(|_| ())
    }

    /// `global:whereis_name(Name)`: a read of this node's table, without its lock when the
    /// table has not changed since this thread's last lookup of the same name.
    pub fn whereis_name(&self, name: &Term) -> Option<Pid> {
        super::whereis::whereis_name(&self.shared, name)
    }

    /// `global:registered_names()`.
    pub fn registered_names(&self) -> Vec<Term> {
        self.shared.core().registered_names()
    }

    /// `global:send(Name, Msg)`: the pid the message went to.
    pub fn send(&self, name: &Term, msg: impl Into<Term>) -> Result<Pid, GlobalError> {
        let pid = self
            .whereis_name(name)
            .ok_or_else(|| GlobalError::NotRegistered(name.clone()))?;
        let node = self.shared.node.upgrade().ok_or(GlobalError::NotRunning)?;
        node.send(pid, msg);
        Ok(pid)
    }

    /// `global:set_lock({ResourceId, LockRequesterId}, Nodes, Retries)` held by `holder`;
    /// `nodes: None` is `[node() | nodes()]`, `retries: None` is `infinity`.
    pub async fn set_lock(
        &self,
        holder: Pid,
        id: LockId,
        nodes: Option<Vec<Atom>>,
        retries: Option<u32>,
    ) -> Result<bool, GlobalError> {
        let r = self
            .ask(LocalRequest::SetLock {
                holder,
                id,
                nodes,
                retries,
            })
            .await?;
        Ok(r.is_atom("true"))
    }

    /// `global:del_lock({ResourceId, LockRequesterId}, Nodes)`.
    pub async fn del_lock(
        &self,
        holder: Pid,
        id: LockId,
        nodes: Option<Vec<Atom>>,
    ) -> Result<(), GlobalError> {
        self.ask(LocalRequest::DelLock { holder, id, nodes })
            .await
            .map(|_| ())
    }

    /// `global:trans(Id, Fun, Nodes, Retries)`: runs `f` while `holder` holds the lock;
    /// `Ok(None)` is `aborted` (the lock could not be set within `retries`).
    pub async fn trans<F, Fut, T>(
        &self,
        holder: Pid,
        id: LockId,
        f: F,
        nodes: Option<Vec<Atom>>,
        retries: Option<u32>,
    ) -> Result<Option<T>, GlobalError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if !self
            .set_lock(holder, id.clone(), nodes.clone(), retries)
            .await?
        {
            return Ok(None);
        }
        let value = f().await;
        self.del_lock(holder, id, nodes).await?;
        Ok(Some(value))
    }

    /// `global:sync()`: returns once this node has synced with every visible node connected
    /// now (BEAM's `check_sync_nodes/0` reads `nodes()`), or that node went down.
    pub async fn sync(&self) -> Result<(), GlobalError> {
        self.shared
            .sync()
            .await
            .map(|_| ())
            .ok_or(GlobalError::NotRunning)
    }

    /// True when no sync, registration or lock of this node is in progress (no call of ours
    /// is waiting for a peer's answer).
    pub fn is_idle(&self) -> bool {
        self.shared.core().is_idle()
    }

    /// The nodes `:global` has synced with (`known` in global.erl).
    pub fn known_nodes(&self) -> Vec<Atom> {
        self.shared.core().known_nodes()
    }
}
