//! The sans-I/O boundary of `:global`: the [`Input`]s a driver feeds to [`GlobalServer::handle`]
//! and the [`Action`]s it must perform. No sockets, clock or processes live behind this line;
//! the driver owns the `global_name_server` process, the locker and registrar pids, and timers.
//!
//! [`GlobalServer::handle`]: super::GlobalServer::handle

use super::messages::{Cast, Info, LockId, Request};
use etf::{Atom, Pid, Term};

/// Identifies one multi_call the core asked for ([`Action::Call`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);
/// Identifies one process monitor the core asked for ([`Action::Monitor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorId(pub u64);
/// Identifies one timer ([`Action::SetTimer`]); stale timers are ignored by the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub u64);
/// Identifies one conflict resolution ([`Action::Rpc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RpcId(pub u64);
/// Chosen by the driver for a [`LocalRequest`]; echoed in [`Action::LocalReply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReqId(pub u64);

/// How eagerly this node's locker starts a sync after `init_connect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockerTiming {
    /// global.erl's: 200 ms when nothing is known yet, else `min(1000 + 100*|known|, 3000)`.
    Beam,
    /// Lock as soon as the peer's locker is known, back off a little on contention, and retry at
    /// once when the global lock is released. BEAM peers accept this: it is what they see when
    /// their own locker is the slow one.
    Fast,
}

/// Static facts about this node; `seed` drives every random choice (backoff, `random_element`).
#[derive(Debug, Clone)]
pub struct Config {
    pub node: Atom,
    /// This node's creation (for `lost_connection`'s XCreation).
    pub creation: u32,
    /// The locker process: holder of sync locks, and the pid named in `init_connect`.
    pub locker: Pid,
    /// The registrar process: holder of `{global, Registrar}` while registering.
    pub registrar: Pid,
    pub connect_all: bool,
    pub prevent_overlapping_partitions: bool,
    pub timing: LockerTiming,
    /// kernel `global_multi_name_action = allow`: one pid may hold several names.
    pub allow_multi_names: bool,
    pub seed: u64,
}

impl Config {
    /// BEAM's defaults (connect_all, prevent_overlapping_partitions) with fast locking.
    pub fn new(node: Atom, creation: u32, locker: Pid, registrar: Pid, seed: u64) -> Config {
        Config {
            node,
            creation,
            locker,
            registrar,
            connect_all: true,
            prevent_overlapping_partitions: true,
            timing: LockerTiming::Fast,
            allow_multi_names: false,
            seed,
        }
    }
}

/// What happened, as seen by this node's `global_name_server`.
#[derive(Debug, Clone)]
pub enum Input {
    /// net_kernel nodeup. Hidden nodes are ignored, as BEAM's `monitor_nodes(true)` does.
    NodeUp {
        node: Atom,
        visible: bool,
    },
    NodeDown {
        node: Atom,
    },
    /// A message in `global_name_server`'s mailbox: `{'$gen_cast', _}`, `{'$gen_call', _, _}`
    /// or a plain message (`init_connect_ack`, `lost_connection`, `whereis`, ...).
    Message(Term),
    /// A message in the locker's mailbox other than call replies (old-style `lock_set`).
    LockerMessage(Term),
    /// One node's answer to [`Action::Call`]: `None` = bad node (down, or no server).
    CallReply {
        id: CallId,
        node: Atom,
        reply: Option<Term>,
    },
    /// The value `global:resolve_it/4` returned (or `{badrpc, Reason}`).
    RpcResult {
        id: RpcId,
        result: Term,
    },
    /// The outcome of [`Action::Dial`].
    DialResult {
        node: Atom,
        connected: bool,
    },
    /// A monitor from [`Action::Monitor`] fired (the process died or its node went down).
    Down {
        monitor: MonitorId,
    },
    Timer(TimerId),
    /// A call from this node's own code (the `global` API).
    Local {
        req: ReqId,
        request: LocalRequest,
    },
}

/// The `global` API calls that need the protocol (lookups are direct reads:
/// [`GlobalServer::whereis_name`](super::GlobalServer::whereis_name)).
#[derive(Debug, Clone)]
pub enum LocalRequest {
    /// `register_name/3` -> `yes | no`.
    RegisterName { name: Term, pid: Pid, method: Term },
    /// `re_register_name/3` -> `yes`.
    ReRegisterName { name: Term, pid: Pid, method: Term },
    /// `unregister_name/1` -> `ok`.
    UnregisterName { name: Term },
    /// `register_name_external/3` -> `yes | no`.
    RegisterNameExternal { name: Term, pid: Pid, method: Term },
    /// `set_lock/3` held by `holder` (the calling process); `nodes: None` = `[node() | nodes()]`,
    /// `retries: None` = infinity. -> `true | false`. `trans/4` is SetLock, the fun, DelLock.
    SetLock {
        holder: Pid,
        id: LockId,
        nodes: Option<Vec<Atom>>,
        retries: Option<u32>,
    },
    /// `del_lock/2` -> `true`.
    DelLock {
        holder: Pid,
        id: LockId,
        nodes: Option<Vec<Atom>>,
    },
    /// `sync/0,1` -> `ok` once every listed (default: connected visible) node is synced or down.
    Sync { nodes: Option<Vec<Atom>> },
}

/// What the driver must do.
#[derive(Debug, Clone)]
pub enum Action {
    /// REG_SEND `{'$gen_cast', msg}` to `{global_name_server, node}` (see [`Action::wire`]).
    Cast {
        node: Atom,
        msg: Cast,
    },
    /// REG_SEND `msg` to `{global_name_server, node}`, without auto-connect.
    Info {
        node: Atom,
        msg: Info,
    },
    /// Plain send of `msg` to `to` (conflict notices, old-style `lock_set` to a locker).
    Send {
        to: Pid,
        msg: Term,
    },
    /// gen_server reply: send `{from_tag, reply}` to `to` (or its alias, see research §4.3).
    Reply {
        to: Pid,
        tag: Term,
        reply: Term,
    },
    /// `gen_server:multi_call(nodes, global_name_server, request)` made *as* `from` (the lock
    /// holder: BEAM monitors From's pid). Feed each node's answer back as `Input::CallReply`.
    /// Never lists this node: the core answers itself.
    Call {
        id: CallId,
        from: Pid,
        nodes: Vec<Atom>,
        request: Request,
    },
    /// Monitor `pid`; report its death as `Input::Down` (at once if it does not exist).
    Monitor {
        id: MonitorId,
        pid: Pid,
    },
    Demonitor {
        id: MonitorId,
    },
    /// `register_name_external` on this node links the pid.
    Link {
        pid: Pid,
    },
    Unlink {
        pid: Pid,
    },
    /// `sync_other/2`: `monitor_node(node, true, [allow_passive_connect])` (auto-connect),
    /// then report `Input::DialResult`; the core then casts `in_sync`.
    Dial {
        node: Atom,
    },
    /// `net_kernel:async_disconnect(node)` (prevent_overlapping_partitions).
    Disconnect {
        node: Atom,
    },
    /// `rpc:call(node, global, resolve_it, [method, name, pid1, pid2])`; when `node` is this
    /// node the method is a Rust one (`fun M:F/3` in the MFA registry): call it with
    /// `[name, pid1, pid2]`. Report the value as `Input::RpcResult`.
    Rpc {
        id: RpcId,
        node: Atom,
        method: Term,
        name: Term,
        pid1: Pid,
        pid2: Pid,
    },
    /// `exit(pid, reason)` (`random_exit_name` kills the loser with `kill`).
    Exit {
        pid: Pid,
        reason: Term,
    },
    /// Feed `Input::Timer(id)` after `after_ms`.
    SetTimer {
        id: TimerId,
        after_ms: u64,
    },
    /// The answer to `Input::Local { req, .. }`.
    LocalReply {
        req: ReqId,
        reply: Term,
    },
}

impl Action {
    /// For `Cast`/`Info`: the destination node and the exact message to REG_SEND to
    /// `global_name_server` there.
    pub fn wire(&self) -> Option<(Atom, Term)> {
        match self {
            Action::Cast { node, msg } => Some((
                *node,
                Term::Tuple(vec![Term::Atom(Atom::GEN_CAST), msg.to_term()]),
            )),
            Action::Info { node, msg } => Some((*node, msg.to_term())),
            _ => None,
        }
    }
}
