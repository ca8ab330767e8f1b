//! The ETS tables of global.erl as plain data: `global_names`, `global_names_ext`,
//! `global_pid_names`, `global_locks`, plus the monitor bookkeeping (`global_node_resources`):
//! one monitor per pid with a use count instead of one per name/lock (same deaths, fewer signals).

use super::api::MonitorId;
use super::messages::{LockId, NameEntry, NameExt};
use super::whereis::NamesVersion;
use etf::{Atom, Pid, Term};
use std::collections::BTreeMap;

/// One `global_names` row.
#[derive(Debug, Clone)]
pub(crate) struct NameRow {
    pub pid: Pid,
    pub method: Term,
}

/// One `global_locks` row: `{ResourceId, LockRequesterId, [{Pid, Ref}]}`, newest holder first.
#[derive(Debug, Clone)]
pub(crate) struct LockRow {
    pub requester: Term,
    pub holders: Vec<Pid>,
}

#[derive(Debug, Default)]
pub(crate) struct Tables {
    /// Changed only by `insert_name` and `remove_name`, which count each change in
    /// `names_version` (lookups outside the lock rely on it: `whereis.rs`).
    names: BTreeMap<Term, NameRow>,
    names_version: NamesVersion,
    pub names_ext: BTreeMap<Term, (Pid, Atom)>,
    pub locks: BTreeMap<Term, LockRow>,
    /// pid -> (monitor, number of names and lock holdings that need it).
    mons: BTreeMap<Term, (MonitorId, usize)>,
    mon_pids: BTreeMap<MonitorId, Pid>,
}

impl Tables {
    /// The `global_names` rows.
    pub fn names(&self) -> &BTreeMap<Term, NameRow> {
        &self.names
    }

    pub fn insert_name(&mut self, name: Term, row: NameRow) {
        self.names.insert(name, row);
        self.names_version.bump();
    }

    pub fn remove_name(&mut self, name: &Term) -> Option<NameRow> {
        let row = self.names.remove(name)?;
        self.names_version.bump();
        Some(row)
    }

    /// The count of changes to the names, shared with readers that hold no lock.
    pub fn names_version(&self) -> NamesVersion {
        self.names_version.clone()
    }

    /// `get_names/0`.
    pub fn get_names(&self) -> Vec<NameEntry> {
        self.names
            .iter()
            .map(|(n, r)| NameEntry {
                name: n.clone(),
                pid: r.pid,
                method: r.method.clone(),
            })
            .collect()
    }

    /// `get_names_ext/0`.
    pub fn get_names_ext(&self) -> Vec<NameExt> {
        self.names_ext
            .iter()
            .map(|(n, (p, r))| NameExt {
                name: n.clone(),
                pid: *p,
                reg_node: *r,
            })
            .collect()
    }

    /// `where/1` without the liveness check (the driver may add it for local pids).
    pub fn where_(&self, name: &Term) -> Option<Pid> {
        self.names.get(name).map(|r| r.pid)
    }

    /// Does `pid` hold any name (`global_pid_names` lookup by pid)?
    pub fn pid_has_name(&self, pid: Pid) -> bool {
        self.names.values().any(|r| r.pid == pid)
    }

    pub fn names_of(&self, pid: Pid) -> Vec<Term> {
        self.names
            .iter()
            .filter(|(_, r)| r.pid == pid)
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn pid_is_locking_any(&self, pid: Pid) -> bool {
        self.locks.values().any(|l| l.holders.contains(&pid))
    }

    /// `can_set_lock/1`: `Some(holders)` when the lock is free or has the same requester id.
    pub fn can_set_lock(&self, id: &LockId) -> Option<&[Pid]> {
        match self.locks.get(&id.resource) {
            Some(row) if row.requester == id.requester => Some(&row.holders),
            Some(_) => None,
            None => Some(&[]),
        }
    }

    /// `is_global_lock_set/0`.
    pub fn is_global_lock_set(&self) -> bool {
        self.locks.contains_key(&Term::atom("global"))
    }

    /// Count one more use of a monitor on `pid`; `Some(id)` when a new monitor is needed.
    pub fn mon_acquire(&mut self, pid: Pid, fresh: MonitorId) -> Option<MonitorId> {
        let e = self.mons.entry(Term::Pid(pid)).or_insert((fresh, 0));
        e.1 += 1;
        if e.1 == 1 {
            self.mon_pids.insert(fresh, pid);
            Some(fresh)
        } else {
            None
        }
    }

    /// Count one use less; `Some(id)` when the monitor should go.
    pub fn mon_release(&mut self, pid: Pid) -> Option<MonitorId> {
        let key = Term::Pid(pid);
        let e = self.mons.get_mut(&key)?;
        e.1 = e.1.saturating_sub(1);
        if e.1 == 0 {
            let id = e.0;
            self.mons.remove(&key);
            self.mon_pids.remove(&id);
            Some(id)
        } else {
            None
        }
    }

    /// The pid a monitor watches (None for stale or unknown monitors).
    pub fn mon_pid(&self, id: MonitorId) -> Option<Pid> {
        self.mon_pids.get(&id).copied()
    }

    /// Forget the monitor of a dead pid entirely (its DOWN has arrived).
    pub fn mon_forget(&mut self, pid: Pid) {
        if let Some((id, _)) = self.mons.remove(&Term::Pid(pid)) {
            self.mon_pids.remove(&id);
        }
    }

    /// Locks held by `pid`: `(resource, requester)`.
    pub fn locks_of(&self, pid: Pid) -> Vec<LockId> {
        self.locks
            .iter()
            .filter(|(_, l)| l.holders.contains(&pid))
            .map(|(r, l)| LockId {
                resource: r.clone(),
                requester: l.requester.clone(),
            })
            .collect()
    }

    /// Pids on `node` that hold names or locks (what nodedown's DOWN noconnection would hit).
    pub fn pids_on(&self, node: Atom) -> Vec<Pid> {
        self.mon_pids
            .values()
            .filter(|p| p.node == node)
            .copied()
            .collect()
    }
}
