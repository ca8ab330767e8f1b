//! Two nodes in one OS process, wired by an in-memory `Remote`: cross-node send, link, monitor,
//! and `connection_lost` -> `noconnection` for links (EXIT) and monitors (DOWN).

mod common;
use common::*;
use ferl::{Atom, MonitorTarget, NoConnection, Node, Pid, Ref, Remote, Term};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(5));

/// Delivers every outbound call straight into the peer node's inbound seam.
struct Loopback {
    peer: OnceLock<Node>,
    up: AtomicBool,
}

impl Loopback {
    fn peer(&self) -> Option<&Node> {
        if self.up.load(Ordering::SeqCst) {
            self.peer.get()
        } else {
            None
        }
    }
}

impl Remote for Loopback {
    fn send(&self, _from: Pid, to: Pid, msg: Term) -> bool {
        if let Some(n) = self.peer() {
            n.deliver(to, msg);
        }
        false
    }
    fn alias_send(&self, _from: Pid, alias: Ref, msg: Term) -> bool {
        if let Some(n) = self.peer() {
            n.deliver_alias(alias, msg);
        }
        false
    }
    fn reg_send(&self, _from: Pid, _node: Atom, name: Atom, msg: Term) -> bool {
        if let Some(n) = self.peer() {
            n.deliver_reg(name, msg);
        }
        false
    }
    fn link(&self, from: Pid, to: Pid) -> Result<(), NoConnection> {
        self.peer().ok_or(NoConnection)?.signal_link(from, to);
        Ok(())
    }
    fn unlink(&self, from: Pid, to: Pid) {
        if let Some(n) = self.peer() {
            n.signal_unlink(from, to);
        }
    }
    fn exit(&self, from: Pid, to: Pid, reason: Term) {
        if let Some(n) = self.peer() {
            n.signal_exit(from, to, reason, false);
        }
    }
    fn link_exit(&self, from: Pid, to: Pid, reason: Term) {
        if let Some(n) = self.peer() {
            n.signal_exit(from, to, reason, true);
        }
    }
    fn monitor(&self, watcher: Pid, target: MonitorTarget, r: Ref) -> Result<(), NoConnection> {
        self.peer()
            .ok_or(NoConnection)?
            .signal_monitor(watcher, target, r);
        Ok(())
    }
    fn demonitor(&self, watcher: Pid, target: MonitorTarget, r: Ref) {
        if let Some(n) = self.peer() {
            n.signal_demonitor(watcher, target, r);
        }
    }
    fn monitor_down(&self, target: MonitorTarget, watcher: Pid, r: Ref, reason: Term) {
        if let Some(n) = self.peer() {
            n.signal_down(target, watcher, r, reason);
        }
    }
}

struct Pair {
    a: Node,
    b: Node,
    a_out: Arc<Loopback>,
    b_out: Arc<Loopback>,
}

impl Pair {
    fn new(tag: &str) -> Pair {
        let a = Node::local(&format!("a_{tag}@test"), 1);
        let b = Node::local(&format!("b_{tag}@test"), 2);
        let a_out = Arc::new(Loopback {
            peer: OnceLock::new(),
            up: AtomicBool::new(true),
        });
        let b_out = Arc::new(Loopback {
            peer: OnceLock::new(),
            up: AtomicBool::new(true),
        });
        let _ = a_out.peer.set(b.clone());
        let _ = b_out.peer.set(a.clone());
        a.set_remote(a_out.clone()).unwrap();
        b.set_remote(b_out.clone()).unwrap();
        Pair { a, b, a_out, b_out }
    }

    /// Cut the wire and tell both sides, as the connection manager will.
    fn disconnect(&self) {
        self.a_out.up.store(false, Ordering::SeqCst);
        self.b_out.up.store(false, Ordering::SeqCst);
        self.a.connection_lost(self.b.name());
        self.b.connection_lost(self.a.name());
    }
}

/// A process on `node` that echoes `{From, Msg}` back as `Msg`, and exits with `{stop, R}` -> R.
fn echo(node: &Node, name: Option<&str>) -> Pid {
    let name = name.map(Atom::new);
    node.spawn(move |mut p| async move {
        if let Some(n) = name {
            p.register(n).unwrap();
        }
        loop {
            let m = p.receive().await;
            match m.as_tuple() {
                Some([Term::Pid(from), msg]) => p.send(*from, msg.clone()),
                Some([tag, reason]) if tag.is_atom("stop") => {
                    return Err::<(), Term>(reason.clone())
                }
                _ => {}
            }
        }
    })
}

#[tokio::test]
async fn cross_node_send_by_pid_and_name() {
    let pair = Pair::new("send");
    let e = echo(&pair.b, Some("echo"));
    let b_name = pair.b.name();
    let (r1, r2) = in_process(&pair.a, move |mut p| async move {
        let me = Term::Pid(p.pid());
        p.send(e, Term::tuple(vec![me.clone(), atom("one")]));
        let r1 = p.receive_timeout(Duration::from_secs(5)).await;
        p.send_to(
            Atom::new("echo"),
            b_name,
            Term::tuple(vec![me, atom("two")]),
        )
        .unwrap();
        let r2 = p.receive_timeout(Duration::from_secs(5)).await;
        (r1, r2)
    })
    .await;
    assert!(r1.unwrap().is_atom("one"));
    assert!(r2.unwrap().is_atom("two"));
}

#[tokio::test]
async fn cross_node_link_and_monitor_see_exit_reason() {
    let pair = Pair::new("lm");
    let e = echo(&pair.b, Some("victim"));
    let b_name = pair.b.name();
    let (exit, down, down_name) = in_process(&pair.a, move |mut p| async move {
        p.trap_exit(true);
        p.link(e);
        let r = p.monitor(e);
        let rn = p.monitor_name_at(Atom::new("victim"), b_name);
        p.send(e, Term::tuple(vec![atom("stop"), atom("bye")]));
        let exit = p.receive_if(|m| exit_msg(m).is_some(), T).await;
        let down = p
            .receive_match(|m| down_msg(m).filter(|d| d.0 == r), T)
            .await;
        let down_name = p
            .receive_match(|m| down_msg(m).filter(|d| d.0 == rn), T)
            .await;
        (exit, down, down_name)
    })
    .await;
    assert_eq!(exit_msg(&exit.unwrap()).unwrap(), (e, atom("bye")));
    let (_, item, reason) = down.unwrap();
    assert_eq!((item, reason), (Term::Pid(e), atom("bye")));
    let (_, item, reason) = down_name.unwrap();
    assert_eq!(item, Term::tuple(vec![atom("victim"), Term::Atom(b_name)]));
    assert_eq!(reason, atom("bye"));
}

#[tokio::test]
async fn cross_node_noproc_for_missing_targets() {
    let pair = Pair::new("np");
    let dead = pair.b.spawn(|_| async {});
    wait_dead(&pair.b, dead).await;
    let b_name = pair.b.name();
    let (exit, down, down_name) = in_process(&pair.a, move |mut p| async move {
        p.trap_exit(true);
        p.link(dead);
        let exit = p.receive_if(|m| exit_msg(m).is_some(), T).await;
        let r = p.monitor(dead);
        let down = p
            .receive_match(|m| down_msg(m).filter(|d| d.0 == r), T)
            .await;
        let rn = p.monitor_name_at(Atom::new("nobody"), b_name);
        let down_name = p
            .receive_match(|m| down_msg(m).filter(|d| d.0 == rn), T)
            .await;
        (exit, down, down_name)
    })
    .await;
    assert_eq!(exit_msg(&exit.unwrap()).unwrap(), (dead, atom("noproc")));
    assert_eq!(down.unwrap().2, atom("noproc"));
    let (_, item, reason) = down_name.unwrap();
    assert_eq!(item, Term::tuple(vec![atom("nobody"), Term::Atom(b_name)]));
    assert_eq!(reason, atom("noproc"));
}

#[tokio::test]
async fn remote_crash_kills_local_non_trapping_link() {
    let pair = Pair::new("rk");
    let e = echo(&pair.b, None);
    let reason = in_process(&pair.a, move |mut p| async move {
        let (linked, r) = p.spawn_monitor(move |mut c| async move {
            c.link(e);
            c.receive().await;
        });
        // Let the link be set up before the crash.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = linked;
        p.send(e, Term::tuple(vec![atom("stop"), atom("crash")]));
        p.receive_match(|m| down_msg(m).filter(|d| d.0 == r).map(|d| d.2), T)
            .await
    })
    .await;
    assert_eq!(reason.unwrap(), atom("crash"));
}

#[tokio::test]
async fn connection_lost_gives_noconnection_to_links_and_monitors() {
    let pair = Pair::new("nc");
    let e = echo(&pair.b, None);
    let pair = Arc::new(pair);
    let p2 = pair.clone();
    // On b: a non-trapping process linked to an a-process dies with noconnection.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let a_target = pair.a.spawn(|mut c| async move {
        c.receive().await;
    });
    let b_linked = pair.b.spawn(move |mut c| async move {
        c.link(a_target);
        let _ = tx.send(());
        c.receive().await;
    });
    rx.await.unwrap();
    let b_watch = tokio::spawn({
        let b = pair.b.clone();
        async move {
            in_process(&b, move |mut w| async move {
                let r = w.monitor(b_linked);
                w.receive_match(|m| down_msg(m).filter(|d| d.0 == r).map(|d| d.2), T)
                    .await
            })
            .await
        }
    });
    let (exit, down) = in_process(&pair.a, move |mut p| async move {
        p.trap_exit(true);
        p.link(e);
        let r = p.monitor(e);
        p2.disconnect();
        let exit = p.receive_if(|m| exit_msg(m).is_some(), T).await;
        let down = p
            .receive_match(|m| down_msg(m).filter(|d| d.0 == r), T)
            .await;
        (exit, down)
    })
    .await;
    assert_eq!(exit_msg(&exit.unwrap()).unwrap(), (e, atom("noconnection")));
    let (_, item, reason) = down.unwrap();
    assert_eq!((item, reason), (Term::Pid(e), atom("noconnection")));
    assert_eq!(b_watch.await.unwrap().unwrap(), atom("noconnection"));
    // Both sides apply it: e (b, not trapping) was linked to p (a) and dies with noconnection;
    // a_target (a) was linked from b_linked (b) and dies too.
    wait_dead(&pair.b, e).await;
    wait_dead(&pair.a, a_target).await;
}

#[tokio::test]
async fn without_distribution_remote_link_and_monitor_are_noconnection() {
    let node = Node::local("alone@test", 1);
    let far = Pid::new(Atom::new("far@away"), 100, 0, 1);
    let (exit, down) = in_process(&node, move |mut p| async move {
        p.trap_exit(true);
        p.link(far);
        let exit = p.receive_if(|m| exit_msg(m).is_some(), T).await;
        let r = p.monitor(far);
        let down = p
            .receive_match(|m| down_msg(m).filter(|d| d.0 == r), T)
            .await;
        (exit, down)
    })
    .await;
    assert_eq!(
        exit_msg(&exit.unwrap()).unwrap(),
        (far, atom("noconnection"))
    );
    assert_eq!(down.unwrap().2, atom("noconnection"));
}

#[tokio::test]
async fn alias_routes_local_and_remote_until_unaliased() {
    let pair = Pair::new("al");
    // A b-process that replies to whatever alias it is given, twice.
    let replier = pair.b.spawn(|mut p| async move {
        for _ in 0..2 {
            let m = p.receive().await;
            if let Some([Term::Ref(alias), msg]) = m.as_tuple() {
                p.send_alias(*alias, msg.clone());
            }
        }
    });
    let (first, second, local) = in_process(&pair.a, move |mut p| async move {
        let alias = p.alias();
        p.send(replier, Term::tuple(vec![Term::Ref(alias), atom("one")]));
        let first = p.receive_timeout(Duration::from_secs(5)).await;
        assert!(p.unalias(alias));
        p.send(replier, Term::tuple(vec![Term::Ref(alias), atom("two")]));
        let second = p.receive_timeout(Duration::from_millis(50)).await;
        let a2 = p.alias();
        p.send_alias(a2, atom("local"));
        let local = p.receive_timeout(Duration::from_secs(5)).await;
        (first, second, local)
    })
    .await;
    assert!(first.unwrap().is_atom("one"));
    assert!(
        second.is_none(),
        "message to an inactive alias must be dropped"
    );
    assert!(local.unwrap().is_atom("local"));
}
