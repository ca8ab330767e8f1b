//! `:global` (protocol version 8) as a sans-I/O core: the state of one node's
//! `global_name_server`, its locker, registrar and resolvers, driven by [`GlobalServer::handle`]
//! (`Input` -> `Action`s). Mirrors OTP 25.2.3 lib/kernel/src/global.erl; research doc §6.

mod api;
mod dispatch;
mod handle;
mod locker;
pub mod messages;
mod methods;
mod mfas;
mod name_server;
mod ops;
mod partition;
mod registrar;
mod resolve_fn;
mod resolver;
mod server;
mod sync;
mod tables;
mod whereis;

pub use api::{
    Action, CallId, Config, Input, LocalRequest, LockerTiming, MonitorId, ReqId, RpcId, TimerId,
};
pub use handle::{Global, GlobalError};
pub use methods::{method_term, resolve_it, StdMethod};
pub(crate) use name_server::{start, Shared};
pub use server::GlobalServer;

use etf::Atom;
use std::cmp::Ordering;

/// The global protocol version this implementation speaks.
pub const PROTOCOL_VERSION: i64 = 8;

/// A node name with Erlang's atom order (by text), so node maps iterate deterministically and
/// `the_boss` (`lists:max`) is computed as on BEAM.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct NodeKey(pub Atom);

impl Ord for NodeKey {
    fn cmp(&self, o: &NodeKey) -> Ordering {
        self.0.as_str().cmp(o.0.as_str())
    }
}

impl PartialOrd for NodeKey {
    fn partial_cmp(&self, o: &NodeKey) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// `the_boss/1`: `lists:max` of node atoms.
pub(crate) fn the_boss(nodes: &[Atom]) -> Option<Atom> {
    nodes.iter().copied().max_by_key(|n| NodeKey(*n))
}

/// splitmix64: small, seedable, deterministic; the driver seeds it (no clock, no OS entropy).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// `rand:uniform(n)`: 1..=n.
    pub fn uniform(&mut self, n: u64) -> u64 {
        1 + self.next_u64() % n.max(1)
    }
}

/// `random_sleep(Times)` of global.erl: uniform in 1..=Tmax ms, Tmax doubling from 125 ms, capped
/// at 8 s.
pub(crate) fn random_sleep_ms(rng: &mut Rng, times: u32) -> u64 {
    let tmax = if times > 5 {
        8000
    } else {
        (1u64 << times) * 1000 / 8
    };
    rng.uniform(tmax)
}
