//! The system processes a visible node runs, registered by name as in OTP: `net_kernel`
//! (answers `is_auth`, which makes `Node.ping` work) and `rex` (rpc.erl's server: `block_call`,
//! old-style `call`, `cast`), plus `Greet.say/1`, the MFA every ferl node offers.
//! `global_name_server` is started next to them (global/name_server.rs).

use crate::node::Node;
use crate::process::Process;
use crate::MfaFn;
use etf::{Atom, Term};
use std::sync::Arc;

/// `{Tag, Reply}` sent to `Pid` for a gen_server `From = {Pid, Tag}` (`gen:reply/2`); sending
/// to the pid always works, whatever shape the tag has.
pub(crate) fn gen_reply(p: &Process, from: &Term, reply: Term) {
    if let Some([Term::Pid(pid), tag]) = from.as_tuple() {
        p.send(*pid, Term::tuple(vec![tag.clone(), reply]));
    }
}

/// `{'$gen_call', From, Request}` -> (From, Request).
fn gen_call(m: &Term) -> Option<(&Term, &Term)> {
    match m.as_tuple()? {
        [Term::Atom(tag), from, req] if *tag == Atom::GEN_CALL => Some((from, req)),
        _ => None,
    }
}

async fn net_kernel(mut p: Process) {
    loop {
        let m = p.receive().await;
        let Some((from, req)) = gen_call(&m) else {
            continue;
        };
        match req.as_tuple() {
            Some([tag, _node]) if tag.is_atom("is_auth") => {
                gen_reply(&p, from, Term::Atom(Atom::YES))
            }
            _ => tracing::debug!("net_kernel: unsupported call {req:?}"),
        }
    }
}

/// `Greet.say(name)`: `"Hello #{name}, nice to meet you"`.
pub fn greet(name: &Term) -> Term {
    let name = match name {
        Term::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.elixir().to_string(),
    };
    Term::binary(format!("Hello {name}, nice to meet you").as_bytes())
}

/// Starts `net_kernel` and `rex` and registers the built-in MFAs.
pub(crate) fn start(node: &Node) {
    if let Err(e) = node.register(Atom::new("net_kernel"), node.spawn(net_kernel)) {
        tracing::error!("cannot register net_kernel: {e}");
    }
    crate::rpc::rex::start(node);
    let say: MfaFn = Arc::new(|_p, args| {
        Box::pin(async move { Ok(greet(args.first().unwrap_or(&Term::nil()))) })
    });
    node.register_fn(Atom::new("Elixir.Greet"), Atom::new("say"), 1, say);
}
