//! The stack server's state and its reaction to each request, without processes or I/O: who is
//! subscribed, what is on the stack, and for each request the log lines and the notifications
//! to send. `server.rs` runs it in a process; the tests here check the tutorial's behaviour.

use crate::protocol::{Notification, Request};
use crate::text::interpolate;
use etf::{Pid, Term};

/// How loud a log line is (Logger's `[info]` or `[warning]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
}

/// What the server does for one request: log these lines, then send these messages.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reaction {
    pub log: Vec<(Level, String)>,
    pub sends: Vec<(Pid, Term)>,
}

impl Reaction {
    fn info(&mut self, line: String) {
        self.log.push((Level::Info, line));
    }

    fn tell(&mut self, pid: Pid, n: Notification) {
        self.sends.push((pid, n.to_term()));
    }
}

/// The server's loop arguments in the tutorial (`subs`, `stack`).
#[derive(Clone, Debug, Default)]
pub struct Stack {
    /// Subscribers in subscription order; a name subscribes once (re-subscribing replaces the
    /// pid, as `HashDict.put` does).
    subs: Vec<(Term, Pid)>,
    /// `{name, item}` pairs, bottom first (the top is the last element).
    items: Vec<(Term, Term)>,
}

impl Stack {
    pub fn new() -> Stack {
        Stack::default()
    }

    /// The stack as `{:notify, :get, stack}` carries it: top first.
    pub fn items_top_first(&self) -> Vec<(Term, Term)> {
        self.items.iter().rev().cloned().collect()
    }

    pub fn subscribers(&self) -> impl Iterator<Item = (&Term, Pid)> {
        self.subs.iter().map(|(n, p)| (n, *p))
    }

    fn subscriber(&self, name: &Term) -> Option<Pid> {
        self.subs.iter().find(|(n, _)| n == name).map(|(_, p)| *p)
    }

    fn broadcast(&self, r: &mut Reaction, n: Notification) {
        for (_, pid) in &self.subs {
            r.tell(*pid, n.clone());
        }
    }

    /// Forgets a subscriber whose listener is gone (its pid died or its node went down).
    pub fn forget_pid(&mut self, pid: Pid) -> Option<Term> {
        let at = self.subs.iter().position(|(_, p)| *p == pid)?;
        Some(self.subs.remove(at).0)
    }

    pub fn handle(&mut self, req: Request) -> Reaction {
        let mut r = Reaction::default();
        match req {
            Request::Subscribe { name, pid } => {
                r.info(format!("{} subscribed", interpolate(&name)));
                match self.subs.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 = pid,
                    None => self.subs.push((name, pid)),
                }
            }
            Request::Unsubscribe { name } => {
                r.info(format!("{} unsubscribed", interpolate(&name)));
                self.subs.retain(|(n, _)| *n != name);
            }
            Request::Push { name, item } => {
                r.info(format!(
                    "{} gave: '{}'",
                    interpolate(&name),
                    interpolate(&item)
                ));
                self.broadcast(
                    &mut r,
                    Notification::Push {
                        name: name.clone(),
                        item: item.clone(),
                    },
                );
                self.items.push((name, item));
            }
            Request::Pop { name } => match self.items.pop() {
                None => {
                    r.info("whoops, stack is empty".to_string());
                    // The tutorial sends to `HashDict.get(subs, name)`, which is nil for a
                    // stranger and crashes the server; here the stranger is only logged.
                    match self.subscriber(&name) {
                        Some(pid) => r.tell(pid, Notification::Empty),
                        None => not_subscribed(&mut r, &name),
                    }
                }
                Some((from, item)) => {
                    r.info(format!(
                        "{} took: '{}'",
                        interpolate(&name),
                        interpolate(&item)
                    ));
                    self.broadcast(&mut r, Notification::Pop { name, from, item });
                }
            },
            Request::Get { name } => {
                r.info(format!("{} requested stack", interpolate(&name)));
                match self.subscriber(&name) {
                    Some(pid) => r.tell(
                        pid,
                        Notification::Get {
                            stack: self.items_top_first(),
                        },
                    ),
                    None => not_subscribed(&mut r, &name),
                }
            }
        }
        r
    }
}

fn not_subscribed(r: &mut Reaction, name: &Term) {
    r.log.push((
        Level::Warning,
        format!("{} is not subscribed: no answer sent", interpolate(name)),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(id: u32) -> Pid {
        Pid::new(etf::Atom::new("client@h"), id, 0, 1)
    }

    fn push(name: &str, item: &str) -> Request {
        Request::Push {
            name: name.into(),
            item: item.into(),
        }
    }

    fn info(lines: &[&str]) -> Vec<(Level, String)> {
        lines.iter().map(|l| (Level::Info, l.to_string())).collect()
    }

    fn tutorial_pair() -> Stack {
        let mut s = Stack::new();
        s.handle(Request::Subscribe {
            name: "alice".into(),
            pid: pid(1),
        });
        s.handle(Request::Subscribe {
            name: "bob".into(),
            pid: pid(2),
        });
        s
    }

    #[test]
    fn the_tutorial_round_logs_and_notifies_like_the_elixir_server() {
        let mut s = Stack::new();
        let r = s.handle(Request::Subscribe {
            name: "alice".into(),
            pid: pid(1),
        });
        assert_eq!(r.log, info(&["alice subscribed"]));
        assert!(r.sends.is_empty());
        s.handle(Request::Subscribe {
            name: "bob".into(),
            pid: pid(2),
        });

        let r = s.handle(push("alice", "Howdy Partner!"));
        assert_eq!(r.log, info(&["alice gave: 'Howdy Partner!'"]));
        let n = Notification::Push {
            name: "alice".into(),
            item: "Howdy Partner!".into(),
        }
        .to_term();
        assert_eq!(r.sends, vec![(pid(1), n.clone()), (pid(2), n)]);
        s.handle(push("bob", "Hey There!"));

        let r = s.handle(Request::Get {
            name: "alice".into(),
        });
        assert_eq!(r.log, info(&["alice requested stack"]));
        assert_eq!(r.sends.len(), 1, "only the asker gets the stack");
        assert_eq!(
            r.sends[0].1.elixir().to_string(),
            r#"{:notify, :get, [{"bob", "Hey There!"}, {"alice", "Howdy Partner!"}]}"#
        );
        assert_eq!(r.sends[0].0, pid(1));

        let r = s.handle(Request::Pop {
            name: "alice".into(),
        });
        assert_eq!(r.log, info(&["alice took: 'Hey There!'"]));
        let n = Notification::Pop {
            name: "alice".into(),
            from: "bob".into(),
            item: "Hey There!".into(),
        };
        assert_eq!(r.sends, vec![(pid(1), n.to_term()), (pid(2), n.to_term())]);

        let r = s.handle(Request::Pop { name: "bob".into() });
        assert_eq!(r.log, info(&["bob took: 'Howdy Partner!'"]));
        assert_eq!(r.sends.len(), 2);

        let r = s.handle(Request::Pop { name: "bob".into() });
        assert_eq!(r.log, info(&["whoops, stack is empty"]));
        assert_eq!(r.sends, vec![(pid(2), Notification::Empty.to_term())]);

        let r = s.handle(Request::Unsubscribe {
            name: "alice".into(),
        });
        assert_eq!(r.log, info(&["alice unsubscribed"]));
        let r = s.handle(push("bob", "after alice left"));
        assert_eq!(r.sends.len(), 1, "alice is no longer notified");
        assert_eq!(r.sends[0].0, pid(2));
    }

    #[test]
    fn a_stranger_popping_an_empty_stack_or_getting_it_is_logged_not_answered() {
        let mut s = tutorial_pair();
        let r = s.handle(Request::Pop {
            name: "charlie".into(),
        });
        assert_eq!(
            r.log[0],
            (Level::Info, "whoops, stack is empty".to_string())
        );
        assert_eq!(
            r.log[1],
            (
                Level::Warning,
                "charlie is not subscribed: no answer sent".to_string()
            )
        );
        assert!(r.sends.is_empty());
        let r = s.handle(Request::Get {
            name: "charlie".into(),
        });
        assert_eq!(
            r.log[0],
            (Level::Info, "charlie requested stack".to_string())
        );
        assert_eq!(r.log[1].0, Level::Warning);
        assert!(r.sends.is_empty());
        // The server carries on: the stack still works for subscribers.
        let r = s.handle(push("alice", "still here"));
        assert_eq!(r.sends.len(), 2);
    }

    #[test]
    fn a_stranger_popping_a_full_stack_takes_the_top_and_everyone_hears_it() {
        // As in the tutorial: a pop broadcasts, so it needs no subscription.
        let mut s = tutorial_pair();
        s.handle(push("alice", "x"));
        let r = s.handle(Request::Pop {
            name: "charlie".into(),
        });
        assert_eq!(r.log, info(&["charlie took: 'x'"]));
        assert_eq!(r.sends.len(), 2);
    }

    #[test]
    fn resubscribing_replaces_the_listener_and_forget_pid_drops_it() {
        let mut s = tutorial_pair();
        s.handle(Request::Subscribe {
            name: "alice".into(),
            pid: pid(9),
        });
        let r = s.handle(push("bob", "x"));
        let to: Vec<Pid> = r.sends.iter().map(|(p, _)| *p).collect();
        assert_eq!(to, vec![pid(9), pid(2)]);
        assert_eq!(s.forget_pid(pid(9)), Some(Term::from("alice")));
        assert_eq!(s.forget_pid(pid(9)), None);
        assert_eq!(s.subscribers().count(), 1);
    }
}
