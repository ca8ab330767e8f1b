//! The local name registry (`register/2`, `unregister/1`, `whereis/1`, `registered/0`): name ->
//! pid in sharded maps; a process's own name lives in its cell so "already named" is O(1).
//! Lock order: process cell, then registry shard (never the other way round).

use crate::error::RegisterError;
use crate::node::Node;
use crate::table::IdHasher;
use etf::{Atom, Pid};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Mutex, MutexGuard};

const SHARDS: usize = 16;
type Shard = HashMap<Atom, Pid, BuildHasherDefault<IdHasher>>;

pub(crate) struct Registry {
    shards: Box<[Mutex<Shard>]>,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    fn shard(&self, name: Atom) -> MutexGuard<'_, Shard> {
        self.shards[name.index() as usize % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get(&self, name: Atom) -> Option<Pid> {
        self.shard(name).get(&name).copied()
    }

    /// Remove `name` only if it still maps to `pid` (a dying process frees only its own name).
    pub(crate) fn remove_if(&self, name: Atom, pid: Pid) {
        let mut shard = self.shard(name);
        if shard.get(&name) == Some(&pid) {
            shard.remove(&name);
        }
    }

    fn all(&self) -> Vec<Atom> {
        let mut names = Vec::new();
        for s in self.shards.iter() {
            names.extend(s.lock().unwrap_or_else(|e| e.into_inner()).keys().copied());
        }
        names
    }
}

impl Node {
    /// `register(Name, Pid)`: give a live local process a name.
    pub fn register(&self, name: Atom, pid: Pid) -> Result<(), RegisterError> {
        if name == Atom::UNDEFINED {
            return Err(RegisterError::Undefined);
        }
        if !self.is_local(pid) {
            return Err(RegisterError::NotLocal(pid));
        }
        let cell = self
            .inner
            .table
            .get(pid)
            .ok_or(RegisterError::NotAlive(pid))?;
        // Hold the cell lock across the registry insert so a concurrent exit either sees the
        // name (and frees it) or prevents the registration.
        let mut inner = cell.lock();
        if !inner.alive {
            return Err(RegisterError::NotAlive(pid));
        }
        if let Some(old) = inner.name {
            return Err(RegisterError::AlreadyNamed(pid, old));
        }
        let mut shard = self.inner.registry.shard(name);
        if let Some(holder) = shard.get(&name) {
            return Err(RegisterError::NameTaken(name, *holder));
        }
        shard.insert(name, pid);
        inner.name = Some(name);
        Ok(())
    }

    /// `unregister(Name)`.
    pub fn unregister(&self, name: Atom) -> Result<(), RegisterError> {
        let pid = self
            .inner
            .registry
            .get(name)
            .ok_or(RegisterError::NotRegistered(name))?;
        if let Some(cell) = self.inner.table.get(pid) {
            let mut inner = cell.lock();
            if inner.name == Some(name) {
                inner.name = None;
            }
            self.inner.registry.remove_if(name, pid);
        } else {
            self.inner.registry.remove_if(name, pid);
        }
        Ok(())
    }

    /// `whereis(Name)`: the local process registered as `name`.
    pub fn whereis(&self, name: Atom) -> Option<Pid> {
        self.inner.registry.get(name)
    }

    /// `registered()`: all locally registered names, in no particular order.
    pub fn registered(&self) -> Vec<Atom> {
        self.inner.registry.all()
    }
}
