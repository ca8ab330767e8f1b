//! `:global` names of a ferl node that is an OS process (`ferl run --eval 'Server.start'`
//! registers `:stack`): real Elixir nodes find the name, and when the ferl process is killed with
//! SIGKILL the name disappears on every Elixir node and can be taken again. (Whether e1 and e2
//! stay connected after their hub died is BEAM's prevent_overlapping_partitions' business, so
//! the new registration is checked where it was made.)

mod support;

use std::time::{Duration, Instant};
use support::{Ferl, WAIT};
use testkit::{BeamKind, BeamNode, BeamOpts, RealEpmd};

fn elixir_node(epmd: &RealEpmd, cookie: &str) -> BeamNode {
    let mut o = BeamOpts::new(BeamKind::Elixir, epmd.port);
    o.cookie = cookie.to_string();
    BeamNode::start(o)
}

/// The node of `:stack`'s pid, or `:undefined` (never raises, so it can be polled).
const WHERE_NODE: &str =
    "case :global.whereis_name(:stack) do :undefined -> :undefined; p -> node(p) end";

fn eval_until(b: &mut BeamNode, expr: &str, want: &str) -> String {
    let start = Instant::now();
    loop {
        let got = b.eval_ok(expr);
        if got == want || start.elapsed() > WAIT {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_sigkilled_ferl_node_loses_its_global_names_everywhere() {
    testkit::require_beam();
    let epmd = RealEpmd::start();
    let cookie = testkit::unique_cookie();
    let sname = testkit::unique_name("gserver");
    let server = Ferl::server(&sname, &cookie, epmd.port);
    let node = format!(":\"{sname}@{}\"", testkit::hostname());
    let inspected = format!(":{sname}@{}", testkit::hostname());
    let mut e1 = elixir_node(&epmd, &cookie);
    let mut e2 = elixir_node(&epmd, &cookie);
    assert_eq!(e1.eval_ok(&format!("Node.connect({node})")), "true");
    assert_eq!(e2.eval_ok(&format!("Node.connect({node})")), "true");
    for e in [&mut e1, &mut e2] {
        assert_eq!(e.eval_ok(":global.sync()"), ":ok");
        assert_eq!(eval_until(e, WHERE_NODE, &inspected), inspected);
    }
    drop(server); // SIGKILL, by the child's pid.
    for e in [&mut e1, &mut e2] {
        assert_eq!(
            eval_until(e, ":global.whereis_name(:stack)", ":undefined"),
            ":undefined"
        );
    }
    assert_eq!(
        e1.eval_ok(":global.register_name(:stack, spawn(fn -> :timer.sleep(:infinity) end))"),
        ":yes"
    );
    assert_eq!(e1.eval_ok(WHERE_NODE), format!(":{}", e1.node));
}
