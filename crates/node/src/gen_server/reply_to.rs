//! `From` of a gen_server call: `{Pid, Tag}`, where the tag is whatever the caller chose
//! (`[alias|Ref]` from OTP 24+ `gen_server:call`, `{Ref, Node}` from `multi_call`, a plain ref
//! from older callers and ferl). The reply is `{Tag, Reply}`, tag echoed exactly (`gen:reply/2`).

use crate::node::Node;
use crate::process::Process;
use etf::{Pid, Ref, Term};

/// Where a call's reply goes: the `From` argument of `handle_call`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplyTo {
    pub pid: Pid,
    pub tag: Term,
}

impl ReplyTo {
    /// Parse `{Pid, Tag}` (`None` for anything else: such a call cannot be answered).
    pub fn from_term(t: &Term) -> Option<ReplyTo> {
        match t.as_tuple()? {
            [Term::Pid(pid), tag] => Some(ReplyTo {
                pid: *pid,
                tag: tag.clone(),
            }),
            _ => None,
        }
    }

    /// `{Pid, Tag}`.
    pub fn to_term(&self) -> Term {
        Term::tuple(vec![Term::Pid(self.pid), self.tag.clone()])
    }

    /// The caller's alias when the tag is `[alias|A]` or `[[alias|A]|_]`: the reply then goes
    /// to the alias, so a caller that gave up (and dropped the alias) never gets it.
    pub fn alias(&self) -> Option<Ref> {
        fn alias_of(t: &Term) -> Option<Ref> {
            match t {
                Term::ImproperList(head, tail) if head.len() == 1 && head[0].is_atom("alias") => {
                    match **tail {
                        Term::Ref(r) => Some(r),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        match &self.tag {
            Term::ImproperList(head, _) | Term::List(head) => {
                alias_of(&self.tag).or_else(|| head.first().and_then(alias_of))
            }
            _ => None,
        }
    }

    /// `gen_server:reply(From, Reply)` from process `p`.
    pub fn reply(&self, p: &Process, reply: impl Into<Term>) {
        let busy = self.reply_as(p.node(), p.pid(), reply.into());
        p.note_busy(busy, self.pid.node);
    }

    /// `gen_server:reply(From, Reply)` from outside any process.
    pub fn reply_from_node(&self, node: &Node, reply: impl Into<Term>) {
        let _busy = self.reply_as(node, node.system_pid(), reply.into());
    }

    /// Returns whether the connection the reply went onto is busy now (see `Remote`).
    pub(crate) fn reply_as(&self, node: &Node, sender: Pid, reply: Term) -> bool {
        let msg = Term::tuple(vec![self.tag.clone(), reply]);
        match self.alias() {
            Some(a) => node.route_alias(sender, a, msg),
            None => node.route(sender, self.pid, msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etf::Atom;

    /// `[alias|Ref]`, the tag of an OTP 24+ `gen_server:call`.
    fn alias_tag(r: Ref) -> Term {
        Term::ImproperList(vec![Term::Atom(Atom::ALIAS)], Box::new(Term::Ref(r)))
    }

    #[test]
    fn alias_tags_are_recognised() {
        let node = Atom::new("n@h");
        let pid = Pid::new(node, 1, 0, 1);
        let r = Ref::new(node, 1, &[1, 2, 3]);
        let from = ReplyTo {
            pid,
            tag: alias_tag(r),
        };
        assert_eq!(from.alias(), Some(r));
        let nested = ReplyTo {
            pid,
            tag: Term::ImproperList(vec![alias_tag(r)], Box::new(Term::atom("x"))),
        };
        assert_eq!(nested.alias(), Some(r));
        let multi = ReplyTo {
            pid,
            tag: Term::tuple(vec![Term::Ref(r), Term::Atom(node)]),
        };
        assert_eq!(multi.alias(), None);
        assert_eq!(ReplyTo::from_term(&from.to_term()), Some(from));
    }
}
