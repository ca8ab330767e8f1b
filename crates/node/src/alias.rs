//! Process aliases (`alias/0`, `unalias/1`, OTP 24+): a ref that routes messages to the process
//! that created it until deactivated. gen_server replies from Elixir arrive this way (ALIAS_SEND).
//! Messages to an inactive alias are dropped, as in Erlang.

use crate::node::Node;
use crate::process::Process;
use etf::{Pid, Ref, Term};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

const SHARDS: usize = 16;

pub(crate) struct AliasTable {
    shards: Box<[Mutex<HashMap<Ref, Pid>>]>,
}

impl AliasTable {
    pub(crate) fn new() -> AliasTable {
        AliasTable {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, r: &Ref) -> MutexGuard<'_, HashMap<Ref, Pid>> {
        let word = r.ids().first().copied().unwrap_or(0);
        self.shards[word as usize % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn insert(&self, r: Ref, owner: Pid) {
        self.shard(&r).insert(r, owner);
    }

    pub(crate) fn get(&self, r: &Ref) -> Option<Pid> {
        self.shard(r).get(r).copied()
    }

    /// Deactivate `r` if `owner` holds it.
    pub(crate) fn remove(&self, r: &Ref, owner: Pid) -> bool {
        let mut shard = self.shard(r);
        if shard.get(r) == Some(&owner) {
            shard.remove(r);
            true
        } else {
            false
        }
    }
}

impl Node {
    /// ALIAS_SEND: a message for local alias `alias` (dropped if inactive).
    pub fn deliver_alias(&self, alias: Ref, msg: Term) {
        if let Some(pid) = self.inner.aliases.get(&alias) {
            self.deliver_local(pid, msg);
        }
    }

    /// Returns whether the connection it went onto is busy now (never for a local alias).
    pub(crate) fn route_alias(&self, from: Pid, alias: Ref, msg: Term) -> bool {
        if alias.node == self.name() {
            self.deliver_alias(alias, msg);
            false
        } else {
            self.remote().alias_send(from, alias, msg)
        }
    }

    /// Send to an alias (local or remote) from outside any process.
    pub fn send_alias(&self, alias: Ref, msg: impl Into<Term>) {
        let _busy = self.route_alias(self.system_pid(), alias, msg.into());
    }
}

impl Process {
    /// `alias()`: a new active alias for this process.
    pub fn alias(&self) -> Ref {
        let r = self.node.make_ref();
        self.cell.lock().rel_mut().aliases.push(r);
        self.node.inner.aliases.insert(r, self.pid());
        r
    }

    /// `unalias(Alias)`: deactivate; true if it was an active alias of this process.
    pub fn unalias(&self, alias: Ref) -> bool {
        if let Some(rel) = self.cell.lock().rel.as_mut() {
            rel.aliases.retain(|a| *a != alias);
        }
        self.node.inner.aliases.remove(&alias, self.pid())
    }

    /// `Alias ! Msg` (`erlang:send(Alias, Msg)`), local or remote.
    pub fn send_alias(&self, alias: Ref, msg: impl Into<Term>) {
        let busy = self.node.route_alias(self.pid(), alias, msg.into());
        self.note_busy(busy, alias.node);
    }
}
