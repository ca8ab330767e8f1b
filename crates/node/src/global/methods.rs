//! Name conflict methods: `resolve_it/4` and the three standard methods of global.erl
//! (`random_exit_name/3`, `random_notify_name/3`, `notify_all_name/3`), and how a method is
//! written as a term. A Rust method is `fun M:F/3` with `M:F/3` in the node's MFA registry.

use super::Action;
use super::NodeKey;
use etf::pid::Export;
use etf::{Atom, Pid, Term};

/// The standard methods, which every node can evaluate without running Erlang code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdMethod {
    RandomExitName,
    RandomNotifyName,
    NotifyAllName,
}

impl StdMethod {
    fn function(self) -> &'static str {
        match self {
            StdMethod::RandomExitName => "random_exit_name",
            StdMethod::RandomNotifyName => "random_notify_name",
            StdMethod::NotifyAllName => "notify_all_name",
        }
    }

    /// Recognise a method term: `fun global:F/3` (EXPORT_EXT), or BEAM's default, the local
    /// fun `fun random_exit_name/3` of module `global` (the only arity-3 closure global.erl
    /// makes; NEW_FUN_EXT, new_index 0 in OTP 25.2.3).
    pub fn from_term(t: &Term) -> Option<StdMethod> {
        match t {
            Term::Export(e) if e.module.as_str() == "global" && e.arity == 3 => {
                match e.function.as_str() {
                    "random_exit_name" => Some(StdMethod::RandomExitName),
                    "random_notify_name" => Some(StdMethod::RandomNotifyName),
                    "notify_all_name" => Some(StdMethod::NotifyAllName),
                    _ => None,
                }
            }
            Term::Fun(f) if f.module().as_str() == "global" && f.arity() == 3 => {
                Some(StdMethod::RandomExitName)
            }
            _ => None,
        }
    }

    /// The method as ferl sends it: `fun global:F/3`.
    pub fn to_term(self) -> Term {
        method_term(Atom::new("global"), Atom::new(self.function()))
    }
}

/// `fun Module:Function/3` as a method term (for Rust methods: an MFA-registered function).
pub fn method_term(module: Atom, function: Atom) -> Term {
    Term::Export(Export {
        module,
        function,
        arity: 3,
    })
}

/// `minmax/2`: order two pids by their node names.
fn minmax(p1: Pid, p2: Pid) -> (Pid, Pid) {
    if NodeKey(p1.node) < NodeKey(p2.node) {
        (p1, p2)
    } else {
        (p2, p1)
    }
}

fn conflict(parts: Vec<Term>) -> Term {
    let mut v = vec![Term::atom("global_name_conflict")];
    v.extend(parts);
    Term::Tuple(v)
}

/// `resolve_it/4` for a standard method: the winner (a pid or `none`) and the signals to send.
/// `None` when the method is not a standard one (the driver then calls the MFA, or for a
/// foreign closure answers `{'EXIT', {undef, _}}` as BEAM's `catch` would).
pub fn resolve_it(method: &Term, name: &Term, pid1: Pid, pid2: Pid) -> Option<(Term, Vec<Action>)> {
    let m = StdMethod::from_term(method)?;
    Some(match m {
        StdMethod::RandomExitName => {
            let (min, max) = minmax(pid1, pid2);
            tracing::info!("global: Name conflict terminating {:?}", (name, max));
            let kill = Action::Exit {
                pid: max,
                reason: Term::Atom(Atom::KILL),
            };
            (Term::Pid(min), vec![kill])
        }
        StdMethod::RandomNotifyName => {
            let (min, max) = minmax(pid1, pid2);
            let msg = conflict(vec![name.clone()]);
            (Term::Pid(min), vec![Action::Send { to: max, msg }])
        }
        StdMethod::NotifyAllName => {
            let to1 = conflict(vec![name.clone(), Term::Pid(pid2)]);
            let to2 = conflict(vec![name.clone(), Term::Pid(pid1)]);
            let acts = vec![
                Action::Send { to: pid1, msg: to1 },
                Action::Send { to: pid2, msg: to2 },
            ];
            (Term::atom("none"), acts)
        }
    })
}
