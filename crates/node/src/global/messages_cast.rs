//! The codec of the casts (`{'$gen_cast', Msg}` to `global_name_server`): `Cast::to_term` and
//! the total `Cast::from_term`, shapes as in global.erl's `handle_cast/2` clauses.

use super::*;

impl Cast {
    pub fn to_term(&self) -> Term {
        match self {
            Cast::InitConnect {
                vsn,
                tag,
                vsn_rest,
                node,
                init,
            } => {
                let mut v = vec![Term::Int(*vsn), tag.clone()];
                v.extend(vsn_rest.iter().cloned());
                t(vec![
                    a("init_connect"),
                    t(v),
                    Term::Atom(*node),
                    t(vec![
                        a("locker"),
                        init.no_longer_a_pid.clone(),
                        init.known.clone(),
                        Term::Pid(init.locker),
                    ]),
                ])
            }
            Cast::LockIsSet { node, tag, lock_id } => t(vec![
                a("lock_is_set"),
                Term::Atom(*node),
                tag.clone(),
                lock_id.clone(),
            ]),
            Cast::Exchange {
                node,
                names,
                names_ext,
                tag,
            } => t(vec![
                a("exchange"),
                Term::Atom(*node),
                terms(names, NameEntry::to_term),
                names_ext.clone(),
                tag.clone(),
            ]),
            Cast::Resolved {
                node,
                resolved,
                known,
                unused,
                names_ext,
                tag,
            } => t(vec![
                a("resolved"),
                Term::Atom(*node),
                terms(resolved, Op::to_term),
                terms(known, NodeVsn::to_term),
                unused.clone(),
                terms(names_ext, NameExt::to_term),
                tag.clone(),
            ]),
            Cast::NewNodes {
                node,
                ops,
                names_ext,
                nodes,
                extra,
            } => t(vec![
                a("new_nodes"),
                Term::Atom(*node),
                terms(ops, Op::to_term),
                terms(names_ext, NameExt::to_term),
                terms(nodes, NodeVsn::to_term),
                extra.clone(),
            ]),
            Cast::InSync { node, is_known } => {
                t(vec![a("in_sync"), Term::Atom(*node), is_known.clone()])
            }
            Cast::AsyncDelName { name, pid } => {
                t(vec![a("async_del_name"), name.clone(), pid.clone()])
            }
            Cast::AsyncDelLock { resource, pid } => {
                t(vec![a("async_del_lock"), resource.clone(), pid.clone()])
            }
            Cast::LockSet(ls) => ls.to_term(),
        }
    }

    pub fn from_term(x: &Term) -> R<Cast> {
        let Some([k, rest @ ..]) = x.as_tuple() else {
            return Err(MsgError::Unknown);
        };
        let Some(k) = k.as_atom() else {
            return Err(MsgError::Unknown);
        };
        match (k.as_str(), rest) {
            ("init_connect", [vsn, node, init]) => {
                let (his_vsn, tag, vsn_rest) = match vsn.as_tuple() {
                    Some([v, tag, more @ ..]) => (
                        v.as_int().ok_or(MsgError::Malformed("init_connect vsn"))?,
                        tag.clone(),
                        more.to_vec(),
                    ),
                    _ => return Err(MsgError::Malformed("init_connect vsn tuple")),
                };
                let init = match init.as_tuple() {
                    Some([l, nlp, known, locker]) if l.is_atom("locker") => InitLocker {
                        no_longer_a_pid: nlp.clone(),
                        known: known.clone(),
                        locker: to_pid(locker, "init_connect locker")?,
                    },
                    _ => return Err(MsgError::Malformed("init_connect locker")),
                };
                Ok(Cast::InitConnect {
                    vsn: his_vsn,
                    tag,
                    vsn_rest,
                    node: to_atom(node, "init_connect node")?,
                    init,
                })
            }
            ("lock_is_set", [node, tag, lock_id]) => Ok(Cast::LockIsSet {
                node: to_atom(node, "lock_is_set node")?,
                tag: tag.clone(),
                lock_id: lock_id.clone(),
            }),
            ("exchange", [node, names, ext, tag]) => Ok(Cast::Exchange {
                node: to_atom(node, "exchange node")?,
                names: list_of(names, "exchange names", NameEntry::from_term)?,
                names_ext: ext.clone(),
                tag: tag.clone(),
            }),
            ("resolved", [node, res, known, unused, ext, tag]) => Ok(Cast::Resolved {
                node: to_atom(node, "resolved node")?,
                resolved: list_of(res, "resolved ops", Op::from_term)?,
                known: list_of(known, "resolved known", NodeVsn::from_term)?,
                unused: unused.clone(),
                names_ext: list_of(ext, "resolved names_ext", NameExt::from_term)?,
                tag: tag.clone(),
            }),
            ("new_nodes", [node, ops, ext, nodes, extra]) => Ok(Cast::NewNodes {
                node: to_atom(node, "new_nodes node")?,
                ops: list_of(ops, "new_nodes ops", Op::from_term)?,
                names_ext: list_of(ext, "new_nodes names_ext", NameExt::from_term)?,
                nodes: list_of(nodes, "new_nodes nodes", NodeVsn::from_term)?,
                extra: extra.clone(),
            }),
            ("in_sync", [node, is_known]) => Ok(Cast::InSync {
                node: to_atom(node, "in_sync node")?,
                is_known: is_known.clone(),
            }),
            ("async_del_name", [name, pid]) => Ok(Cast::AsyncDelName {
                name: name.clone(),
                pid: pid.clone(),
            }),
            ("async_del_lock", [r, pid]) => Ok(Cast::AsyncDelLock {
                resource: r.clone(),
                pid: pid.clone(),
            }),
            ("lock_set", e) => Ok(Cast::LockSet(LockSet::from_elems(e)?)),
            _ => Err(MsgError::Unknown),
        }
    }
}
