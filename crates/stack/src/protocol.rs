//! The tutorial's messages as Rust values: what clients send the server (`Request`) and what the
//! server sends subscribers (`Notification`), converted to and from the exact Elixir terms
//! (`{:push, name, item}`, `{:notify, :pop, name, {from, item}}`, ...), so BEAM peers interoperate.

use etf::{Pid, Term};

/// A message to the `:stack` server. Names and items are any terms (the tutorial uses strings).
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// `{:subscribe, name, pid}`: `pid` receives every notification from now on.
    Subscribe { name: Term, pid: Pid },
    /// `{:unsubscribe, name}`.
    Unsubscribe { name: Term },
    /// `{:push, name, item}`.
    Push { name: Term, item: Term },
    /// `{:pop, name}`.
    Pop { name: Term },
    /// `{:get, name}`.
    Get { name: Term },
}

impl Request {
    /// Anything else is `None`: the server ignores it, as the tutorial's `_any ->` clause does.
    pub fn from_term(t: &Term) -> Option<Request> {
        let elems = t.as_tuple()?;
        let (tag, rest) = elems.split_first()?;
        let tag = tag.as_atom()?;
        Some(match (tag.as_str(), rest) {
            ("subscribe", [name, Term::Pid(pid)]) => Request::Subscribe {
                name: name.clone(),
                pid: *pid,
            },
            ("unsubscribe", [name]) => Request::Unsubscribe { name: name.clone() },
            ("push", [name, item]) => Request::Push {
                name: name.clone(),
                item: item.clone(),
            },
            ("pop", [name]) => Request::Pop { name: name.clone() },
            ("get", [name]) => Request::Get { name: name.clone() },
            _ => return None,
        })
    }

    pub fn to_term(&self) -> Term {
        let a = Term::atom;
        Term::tuple(match self {
            Request::Subscribe { name, pid } => vec![a("subscribe"), name.clone(), Term::Pid(*pid)],
            Request::Unsubscribe { name } => vec![a("unsubscribe"), name.clone()],
            Request::Push { name, item } => vec![a("push"), name.clone(), item.clone()],
            Request::Pop { name } => vec![a("pop"), name.clone()],
            Request::Get { name } => vec![a("get"), name.clone()],
        })
    }
}

/// A message to a client's listener (the process `Client.subscribe` spawns).
#[derive(Clone, Debug, PartialEq)]
pub enum Notification {
    /// `{:notify, :push, name, item}`: `name` pushed `item`.
    Push { name: Term, item: Term },
    /// `{:notify, :pop, name, {from, item}}`: `name` popped `item`, which `from` had pushed.
    Pop { name: Term, from: Term, item: Term },
    /// `{:notify, :get, stack}`: the whole stack, top first, as `[{name, item}]`.
    Get { stack: Vec<(Term, Term)> },
    /// `{:notify, :empty}`: a pop found the stack empty.
    Empty,
    /// `:stop`: the listener logs `stopping` and ends (sent by `Client.unsubscribe`).
    Stop,
}

impl Notification {
    /// `None` for anything else: the listener ignores it (the tutorial's `_any ->` clause).
    pub fn from_term(t: &Term) -> Option<Notification> {
        if t.is_atom("stop") {
            return Some(Notification::Stop);
        }
        let elems = t.as_tuple()?;
        if !elems.first()?.is_atom("notify") {
            return None;
        }
        let kind = elems.get(1)?.as_atom()?;
        Some(match (kind.as_str(), &elems[2..]) {
            ("push", [name, item]) => Notification::Push {
                name: name.clone(),
                item: item.clone(),
            },
            ("pop", [name, pair]) => match pair.as_tuple() {
                Some([from, item]) => Notification::Pop {
                    name: name.clone(),
                    from: from.clone(),
                    item: item.clone(),
                },
                _ => return None,
            },
            ("get", [stack]) => Notification::Get {
                stack: stack
                    .as_list()?
                    .iter()
                    .map(|e| match e.as_tuple() {
                        Some([n, i]) => Some((n.clone(), i.clone())),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?,
            },
            ("empty", []) => Notification::Empty,
            _ => return None,
        })
    }

    pub fn to_term(&self) -> Term {
        let a = Term::atom;
        match self {
            Notification::Push { name, item } => {
                Term::tuple(vec![a("notify"), a("push"), name.clone(), item.clone()])
            }
            Notification::Pop { name, from, item } => Term::tuple(vec![
                a("notify"),
                a("pop"),
                name.clone(),
                Term::tuple(vec![from.clone(), item.clone()]),
            ]),
            Notification::Get { stack } => {
                Term::tuple(vec![a("notify"), a("get"), stack_term(stack)])
            }
            Notification::Empty => Term::tuple(vec![a("notify"), a("empty")]),
            Notification::Stop => a("stop"),
        }
    }
}

/// The stack as the tutorial's server holds it: a list of `{name, item}`, top first.
pub fn stack_term(stack: &[(Term, Term)]) -> Term {
    Term::List(
        stack
            .iter()
            .map(|(n, i)| Term::tuple(vec![n.clone(), i.clone()]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid() -> Pid {
        Pid::new(etf::Atom::new("a@h"), 91, 0, 1)
    }

    #[test]
    fn requests_round_trip_through_the_tutorial_terms() {
        let all = [
            Request::Subscribe {
                name: "alice".into(),
                pid: pid(),
            },
            Request::Unsubscribe {
                name: "alice".into(),
            },
            Request::Push {
                name: "alice".into(),
                item: "Howdy Partner!".into(),
            },
            Request::Pop { name: "bob".into() },
            Request::Get { name: "bob".into() },
        ];
        for r in all {
            assert_eq!(Request::from_term(&r.to_term()), Some(r));
        }
        assert_eq!(
            Request::Push {
                name: "alice".into(),
                item: "x".into()
            }
            .to_term()
            .elixir()
            .to_string(),
            r#"{:push, "alice", "x"}"#
        );
    }

    #[test]
    fn anything_else_is_not_a_request() {
        for t in [
            Term::atom("push"),
            Term::tuple(vec![]),
            Term::tuple(vec![Term::atom("push"), "alice".into()]),
            Term::tuple(vec![
                Term::atom("subscribe"),
                "alice".into(),
                "not a pid".into(),
            ]),
            Term::tuple(vec![Term::atom("launch"), "alice".into()]),
            Term::tuple(vec![Term::Int(1), "alice".into()]),
            Term::list(vec![Term::atom("pop"), "alice".into()]),
        ] {
            assert_eq!(Request::from_term(&t), None, "{t:?}");
        }
    }

    #[test]
    fn notifications_round_trip_through_the_tutorial_terms() {
        let all = [
            Notification::Push {
                name: "alice".into(),
                item: "Howdy Partner!".into(),
            },
            Notification::Pop {
                name: "alice".into(),
                from: "bob".into(),
                item: "Hey There!".into(),
            },
            Notification::Get {
                stack: vec![("bob".into(), "Hey There!".into())],
            },
            Notification::Empty,
            Notification::Stop,
        ];
        for n in all {
            assert_eq!(Notification::from_term(&n.to_term()), Some(n));
        }
        let pop = Notification::Pop {
            name: "alice".into(),
            from: "bob".into(),
            item: "Hey There!".into(),
        };
        assert_eq!(
            pop.to_term().elixir().to_string(),
            r#"{:notify, :pop, "alice", {"bob", "Hey There!"}}"#
        );
        assert_eq!(
            Notification::Empty.to_term().elixir().to_string(),
            "{:notify, :empty}"
        );
    }

    #[test]
    fn malformed_notifications_are_ignored() {
        for t in [
            Term::atom("go"),
            Term::tuple(vec![Term::atom("notify")]),
            Term::tuple(vec![
                Term::atom("notify"),
                Term::atom("pop"),
                "a".into(),
                "not a pair".into(),
            ]),
            Term::tuple(vec![
                Term::atom("notify"),
                Term::atom("get"),
                Term::list(vec![Term::Int(1)]),
            ]),
            Term::tuple(vec![
                Term::atom("notify"),
                Term::atom("empty"),
                Term::Int(1),
            ]),
        ] {
            assert_eq!(Notification::from_term(&t), None, "{t:?}");
        }
    }
}
