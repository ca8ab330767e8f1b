//! Typed forms of every message `global_name_server` (protocol version 8) sends or receives, with
//! exact, total conversion to and from `Term`: the casts (`handle_cast/2`), the plain messages
//! (`handle_info/2`) and the calls (`handle_call/3`) of global.erl. Peer input never panics.

use etf::{Atom, Pid, Term};

/// What a peer sent that is not a `global` message of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsgError {
    #[error("malformed global message: {0}")]
    Malformed(&'static str),
    #[error("unknown global message")]
    Unknown,
}

type R<T> = Result<T, MsgError>;

/// A gen_server `CallFrom`: `{Pid, Tag}`; the reply is `{Tag, Reply}` sent to `Pid`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallFrom {
    pub pid: Pid,
    pub tag: Term,
}

/// A lock id `{ResourceId, LockRequesterId}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LockId {
    pub resource: Term,
    pub requester: Term,
}

/// One registered name as exchanged: `{Name, Pid, Method}`.
#[derive(Debug, Clone, PartialEq)]
pub struct NameEntry {
    pub name: Term,
    pub pid: Pid,
    pub method: Term,
}

/// One `global_names_ext` row: `{Name, Pid, RegNode}`.
#[derive(Debug, Clone, PartialEq)]
pub struct NameExt {
    pub name: Term,
    pub pid: Pid,
    pub reg_node: Atom,
}

/// A name operation: `{insert, {Name, Pid, Method}}` or `{delete, Name}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Insert(NameEntry),
    Delete(Term),
}

/// A known-list element: `{Node, Vsn}` (v7+) or a bare node (older peers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeVsn {
    pub node: Atom,
    pub vsn: Option<i64>,
}

/// `{locker, no_longer_a_pid, HisKnown, HisTheLocker}`, the last element of `init_connect`.
#[derive(Debug, Clone, PartialEq)]
pub struct InitLocker {
    pub no_longer_a_pid: Term,
    pub known: Term,
    pub locker: Pid,
}

/// `{lock_set, Pid, Set, HisKnown, MyTag}` (v8 cast) or `{lock_set, Pid, Set, HisKnown}`.
#[derive(Debug, Clone, PartialEq)]
pub struct LockSet {
    pub locker: Pid,
    pub set: bool,
    pub his_known: Term,
    pub tag: Option<Term>,
}

/// Casts: `{'$gen_cast', Msg}` to `global_name_server`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cast {
    /// `{init_connect, {Vsn, Tag | Rest}, Node, InitMsg}`.
    InitConnect {
        vsn: i64,
        tag: Term,
        vsn_rest: Vec<Term>,
        node: Atom,
        init: InitLocker,
    },
    /// `{lock_is_set, Node, MyTag, LockId}` (from the node's own locker).
    LockIsSet {
        node: Atom,
        tag: Term,
        lock_id: Term,
    },
    /// `{exchange, Node, NameList, NameExtList, HisTag}`.
    Exchange {
        node: Atom,
        names: Vec<NameEntry>,
        names_ext: Term,
        tag: Term,
    },
    /// `{resolved, Node, HisResolved, HisKnown, Unused, Names_ext, HisTag}`.
    Resolved {
        node: Atom,
        resolved: Vec<Op>,
        known: Vec<NodeVsn>,
        unused: Term,
        names_ext: Vec<NameExt>,
        tag: Term,
    },
    /// `{new_nodes, Node, Ops, Names_ext, Nodes, ExtraInfo}`.
    NewNodes {
        node: Atom,
        ops: Vec<Op>,
        names_ext: Vec<NameExt>,
        nodes: Vec<NodeVsn>,
        extra: Term,
    },
    /// `{in_sync, Node, IsKnown}`.
    InSync {
        node: Atom,
        is_known: Term,
    },
    /// `{async_del_name, Name, Pid}` (ignored by v8 nodes).
    AsyncDelName {
        name: Term,
        pid: Term,
    },
    /// `{async_del_lock, ResourceId, Pid}` (ignored by v8 nodes).
    AsyncDelLock {
        resource: Term,
        pid: Term,
    },
    LockSet(LockSet),
}

/// Plain messages to `global_name_server` (`handle_info/2`).
#[derive(Debug, Clone, PartialEq)]
pub enum Info {
    /// `{init_connect_ack, Node, HisMyTag, HisHisTag}`.
    InitConnectAck {
        node: Atom,
        my_tag: Term,
        his_tag: Term,
    },
    /// `{cancel_connect, Node, MyTag}`.
    CancelConnect { node: Atom, tag: Term },
    /// `{lost_connection, NodeA, XCreationA, OpIdA, NodeB}`.
    LostConnection {
        node_a: Atom,
        xcreation: Term,
        op_id: Term,
        node_b: Atom,
    },
    /// `{remove_connection, Node}`.
    RemoveConnection { node: Atom },
    /// `{whereis, Name, CallFrom}` (`do_whereis/2`).
    Whereis { name: Term, from: CallFrom },
}

/// Calls `{'$gen_call', CallFrom, Request}` that other nodes make.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    SetLock(LockId),
    DelLock(LockId),
    Register {
        name: Term,
        pid: Pid,
        method: Term,
    },
    Unregister {
        name: Term,
    },
    RegisterExt {
        name: Term,
        pid: Pid,
        method: Term,
        reg_node: Atom,
    },
    GetKnown,
    GetSynced,
    GetProtocolVersion,
    GetNamesExt,
}

/// Anything that lands in `global_name_server`'s mailbox from the network.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Cast(Cast),
    Info(Info),
    Call { from: CallFrom, request: Request },
}

fn a(s: &str) -> Term {
    Term::atom(s)
}

fn t(v: Vec<Term>) -> Term {
    Term::Tuple(v)
}

fn to_atom(t: &Term, what: &'static str) -> R<Atom> {
    t.as_atom().ok_or(MsgError::Malformed(what))
}

fn to_pid(t: &Term, what: &'static str) -> R<Pid> {
    t.as_pid().copied().ok_or(MsgError::Malformed(what))
}

fn to_list<'a>(t: &'a Term, what: &'static str) -> R<&'a [Term]> {
    t.as_list().ok_or(MsgError::Malformed(what))
}

fn to_bool(t: &Term, what: &'static str) -> R<bool> {
    match t.as_atom() {
        Some(x) if x == Atom::TRUE => Ok(true),
        Some(x) if x == Atom::FALSE => Ok(false),
        _ => Err(MsgError::Malformed(what)),
    }
}

impl CallFrom {
    pub fn to_term(&self) -> Term {
        t(vec![Term::Pid(self.pid), self.tag.clone()])
    }
    pub fn from_term(x: &Term) -> R<CallFrom> {
        match x.as_tuple() {
            Some([p, tag]) => Ok(CallFrom {
                pid: to_pid(p, "CallFrom pid")?,
                tag: tag.clone(),
            }),
            _ => Err(MsgError::Malformed("CallFrom")),
        }
    }
}

impl LockId {
    pub fn to_term(&self) -> Term {
        t(vec![self.resource.clone(), self.requester.clone()])
    }
    pub fn from_term(x: &Term) -> R<LockId> {
        match x.as_tuple() {
            Some([r, q]) => Ok(LockId {
                resource: r.clone(),
                requester: q.clone(),
            }),
            _ => Err(MsgError::Malformed("lock id")),
        }
    }
}

impl NameEntry {
    pub fn to_term(&self) -> Term {
        t(vec![
            self.name.clone(),
            Term::Pid(self.pid),
            self.method.clone(),
        ])
    }
    pub fn from_term(x: &Term) -> R<NameEntry> {
        match x.as_tuple() {
            Some([n, p, m]) => Ok(NameEntry {
                name: n.clone(),
                pid: to_pid(p, "name pid")?,
                method: m.clone(),
            }),
            _ => Err(MsgError::Malformed("name entry")),
        }
    }
}

impl NameExt {
    pub fn to_term(&self) -> Term {
        t(vec![
            self.name.clone(),
            Term::Pid(self.pid),
            Term::Atom(self.reg_node),
        ])
    }
    pub fn from_term(x: &Term) -> R<NameExt> {
        match x.as_tuple() {
            Some([n, p, r]) => Ok(NameExt {
                name: n.clone(),
                pid: to_pid(p, "ext pid")?,
                reg_node: to_atom(r, "ext reg node")?,
            }),
            _ => Err(MsgError::Malformed("name ext entry")),
        }
    }
}

impl Op {
    pub fn to_term(&self) -> Term {
        match self {
            Op::Insert(e) => t(vec![a("insert"), e.to_term()]),
            Op::Delete(n) => t(vec![a("delete"), n.clone()]),
        }
    }
    pub fn from_term(x: &Term) -> R<Op> {
        match x.as_tuple() {
            Some([k, e]) if k.is_atom("insert") => Ok(Op::Insert(NameEntry::from_term(e)?)),
            Some([k, n]) if k.is_atom("delete") => Ok(Op::Delete(n.clone())),
            _ => Err(MsgError::Malformed("name op")),
        }
    }
}

impl NodeVsn {
    pub fn to_term(&self) -> Term {
        match self.vsn {
            Some(v) => t(vec![Term::Atom(self.node), Term::Int(v)]),
            None => Term::Atom(self.node),
        }
    }
    pub fn from_term(x: &Term) -> R<NodeVsn> {
        if let Some(node) = x.as_atom() {
            return Ok(NodeVsn { node, vsn: None });
        }
        match x.as_tuple() {
            Some([n, v]) => Ok(NodeVsn {
                node: to_atom(n, "known node")?,
                vsn: Some(v.as_int().ok_or(MsgError::Malformed("known vsn"))?),
            }),
            _ => Err(MsgError::Malformed("known entry")),
        }
    }
}

impl LockSet {
    pub fn to_term(&self) -> Term {
        let mut v = vec![
            a("lock_set"),
            Term::Pid(self.locker),
            Term::from(self.set),
            self.his_known.clone(),
        ];
        if let Some(tag) = &self.tag {
            v.push(tag.clone());
        }
        t(v)
    }
    fn from_elems(e: &[Term]) -> R<LockSet> {
        let (p, s, k, tag) = match e {
            [p, s, k] => (p, s, k, None),
            [p, s, k, tag] => (p, s, k, Some(tag.clone())),
            _ => return Err(MsgError::Malformed("lock_set arity")),
        };
        Ok(LockSet {
            locker: to_pid(p, "lock_set pid")?,
            set: to_bool(s, "lock_set flag")?,
            his_known: k.clone(),
            tag,
        })
    }
    /// A message sent straight to a locker pid (only `{lock_set, ...}` is meaningful).
    pub fn from_term(x: &Term) -> R<LockSet> {
        match x.as_tuple() {
            Some([k, rest @ ..]) if k.is_atom("lock_set") => LockSet::from_elems(rest),
            _ => Err(MsgError::Unknown),
        }
    }
}

fn list_of<T>(x: &Term, what: &'static str, f: impl Fn(&Term) -> R<T>) -> R<Vec<T>> {
    to_list(x, what)?.iter().map(f).collect()
}

fn terms<T>(v: &[T], f: impl Fn(&T) -> Term) -> Term {
    Term::List(v.iter().map(f).collect())
}

impl Info {
    pub fn to_term(&self) -> Term {
        match self {
            Info::InitConnectAck {
                node,
                my_tag,
                his_tag,
            } => t(vec![
                a("init_connect_ack"),
                Term::Atom(*node),
                my_tag.clone(),
                his_tag.clone(),
            ]),
            Info::CancelConnect { node, tag } => {
                t(vec![a("cancel_connect"), Term::Atom(*node), tag.clone()])
            }
            Info::LostConnection {
                node_a,
                xcreation,
                op_id,
                node_b,
            } => t(vec![
                a("lost_connection"),
                Term::Atom(*node_a),
                xcreation.clone(),
                op_id.clone(),
                Term::Atom(*node_b),
            ]),
            Info::RemoveConnection { node } => t(vec![a("remove_connection"), Term::Atom(*node)]),
            Info::Whereis { name, from } => t(vec![a("whereis"), name.clone(), from.to_term()]),
        }
    }

    pub fn from_term(x: &Term) -> R<Info> {
        let Some([k, rest @ ..]) = x.as_tuple() else {
            return Err(MsgError::Unknown);
        };
        let Some(k) = k.as_atom() else {
            return Err(MsgError::Unknown);
        };
        match (k.as_str(), rest) {
            ("init_connect_ack", [node, my, his]) => Ok(Info::InitConnectAck {
                node: to_atom(node, "init_connect_ack node")?,
                my_tag: my.clone(),
                his_tag: his.clone(),
            }),
            ("cancel_connect", [node, tag]) => Ok(Info::CancelConnect {
                node: to_atom(node, "cancel_connect node")?,
                tag: tag.clone(),
            }),
            ("lost_connection", [na, x, op, nb]) => Ok(Info::LostConnection {
                node_a: to_atom(na, "lost_connection node a")?,
                xcreation: x.clone(),
                op_id: op.clone(),
                node_b: to_atom(nb, "lost_connection node b")?,
            }),
            ("remove_connection", [node]) => Ok(Info::RemoveConnection {
                node: to_atom(node, "remove_connection node")?,
            }),
            ("whereis", [name, from]) => Ok(Info::Whereis {
                name: name.clone(),
                from: CallFrom::from_term(from)?,
            }),
            _ => Err(MsgError::Unknown),
        }
    }
}

impl Request {
    pub fn to_term(&self) -> Term {
        match self {
            Request::SetLock(id) => t(vec![a("set_lock"), id.to_term()]),
            Request::DelLock(id) => t(vec![a("del_lock"), id.to_term()]),
            Request::Register { name, pid, method } => t(vec![
                a("register"),
                name.clone(),
                Term::Pid(*pid),
                method.clone(),
            ]),
            Request::Unregister { name } => t(vec![a("unregister"), name.clone()]),
            Request::RegisterExt {
                name,
                pid,
                method,
                reg_node,
            } => t(vec![
                a("register_ext"),
                name.clone(),
                Term::Pid(*pid),
                method.clone(),
                Term::Atom(*reg_node),
            ]),
            Request::GetKnown => a("get_known"),
            Request::GetSynced => a("get_synced"),
            Request::GetProtocolVersion => a("get_protocol_version"),
            Request::GetNamesExt => a("get_names_ext"),
        }
    }

    pub fn from_term(x: &Term) -> R<Request> {
        if let Some(k) = x.as_atom() {
            return match k.as_str() {
                "get_known" => Ok(Request::GetKnown),
                "get_synced" => Ok(Request::GetSynced),
                "get_protocol_version" => Ok(Request::GetProtocolVersion),
                "get_names_ext" => Ok(Request::GetNamesExt),
                _ => Err(MsgError::Unknown),
            };
        }
        let Some([k, rest @ ..]) = x.as_tuple() else {
            return Err(MsgError::Unknown);
        };
        let Some(k) = k.as_atom() else {
            return Err(MsgError::Unknown);
        };
        match (k.as_str(), rest) {
            ("set_lock", [id]) => Ok(Request::SetLock(LockId::from_term(id)?)),
            ("del_lock", [id]) => Ok(Request::DelLock(LockId::from_term(id)?)),
            ("register", [n, p, m]) => Ok(Request::Register {
                name: n.clone(),
                pid: to_pid(p, "register pid")?,
                method: m.clone(),
            }),
            ("unregister", [n]) => Ok(Request::Unregister { name: n.clone() }),
            ("register_ext", [n, p, m, r]) => Ok(Request::RegisterExt {
                name: n.clone(),
                pid: to_pid(p, "register_ext pid")?,
                method: m.clone(),
                reg_node: to_atom(r, "register_ext node")?,
            }),
            _ => Err(MsgError::Unknown),
        }
    }
}

impl Incoming {
    pub fn to_term(&self) -> Term {
        match self {
            Incoming::Cast(c) => t(vec![Term::Atom(Atom::GEN_CAST), c.to_term()]),
            Incoming::Info(i) => i.to_term(),
            Incoming::Call { from, request } => t(vec![
                Term::Atom(Atom::GEN_CALL),
                from.to_term(),
                request.to_term(),
            ]),
        }
    }

    /// Classify a message from `global_name_server`'s mailbox (as `gen_server` does).
    pub fn from_term(x: &Term) -> R<Incoming> {
        match x.as_tuple() {
            Some([k, m]) if k.as_atom() == Some(Atom::GEN_CAST) => {
                Ok(Incoming::Cast(Cast::from_term(m)?))
            }
            Some([k, from, req]) if k.as_atom() == Some(Atom::GEN_CALL) => Ok(Incoming::Call {
                from: CallFrom::from_term(from)?,
                request: Request::from_term(req)?,
            }),
            _ => Ok(Incoming::Info(Info::from_term(x)?)),
        }
    }
}

/// `extra_info(lock, ExtraInfo)` of a `new_nodes`/`resolved` ExtraInfo list.
pub fn extra_info<'a>(tag: &str, extra: &'a Term) -> Option<&'a Term> {
    extra.as_list()?.iter().find_map(|e| match e.as_tuple() {
        Some([k, v]) if k.is_atom(tag) => Some(v),
        _ => None,
    })
}

#[path = "messages_cast.rs"]
mod cast;

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
