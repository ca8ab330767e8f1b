//! Routing of decoded casts and plain messages to their handlers (`handle_cast/2` and the
//! protocol clauses of `handle_info/2` in global.erl), including the tag check on `lock_set`.

use super::locker::LMsg;
use super::messages::{Cast, Info};
use super::server::{GlobalServer, Internal};

impl GlobalServer {
    pub(crate) fn on_cast(&mut self, c: Cast) {
        match c {
            Cast::InitConnect {
                vsn,
                tag,
                vsn_rest,
                node,
                init,
            } => self.on_init_connect(vsn, !vsn_rest.is_empty(), tag, node, init),
            Cast::LockIsSet { node, tag, lock_id } => self.on_lock_is_set(node, tag, lock_id),
            Cast::Exchange {
                node, names, tag, ..
            } => self.on_exchange(node, names, tag),
            Cast::Resolved {
                node,
                resolved,
                known,
                names_ext,
                tag,
                ..
            } => self.on_resolved(node, resolved, known, names_ext, tag),
            Cast::NewNodes {
                node,
                ops,
                names_ext,
                nodes,
                extra,
            } => self.on_new_nodes(node, ops, names_ext, nodes, extra),
            Cast::InSync { node, .. } => self.on_in_sync(node),
            Cast::AsyncDelName { .. } | Cast::AsyncDelLock { .. } => {}
            Cast::LockSet(ls) => {
                // The v8 form is forwarded only when it carries our current tag.
                let forward = match &ls.tag {
                    Some(tag) => self.tag_my(ls.locker.node).as_ref() == Some(tag),
                    None => true,
                };
                if forward {
                    self.queue.push_back(Internal::Locker(LMsg::LockSet(ls)));
                }
            }
        }
    }

    pub(crate) fn on_info(&mut self, i: Info) {
        match i {
            Info::InitConnectAck {
                node,
                my_tag,
                his_tag,
            } => self.on_init_connect_ack(node, my_tag, his_tag),
            Info::CancelConnect { node, tag } => self.on_cancel_connect(node, tag),
            Info::LostConnection {
                node_a,
                xcreation,
                op_id,
                node_b,
            } => self.on_lost_connection(node_a, xcreation, op_id, node_b),
            Info::RemoveConnection { node } => self.on_remove_connection(node),
            Info::Whereis { name, from } => self.do_whereis(name, from),
        }
    }
}
