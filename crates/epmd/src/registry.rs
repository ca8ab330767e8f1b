//! The port mapper's state: which names are registered by which connection, and the creation
//! each registration gets. Pure (no I/O, no clock), so the rules of epmd_srv.c are unit-tested.

use crate::proto::NodeInfo;

/// Identifies the connection holding a registration, so closing it removes exactly that one.
pub type ConnId = u64;

/// How many unregistered names keep their last creation (epmd's MAX_UNREG_COUNT is 1000);
/// beyond that the oldest is forgotten, bounding memory under name churn.
const MAX_REMEMBERED: usize = 1000;

struct Entry {
    info: NodeInfo,
    conn: ConnId,
    /// The 32-bit counter epmd calls `cr_counter`.
    counter: u32,
}

/// Registered nodes, newest first in listings as real epmd shows them.
pub struct Registry {
    live: Vec<Entry>,
    /// Last creation counter of names no longer registered, oldest first.
    remembered: Vec<(String, u32)>,
    seed: u64,
}

/// The creation a registration is answered with. OTP's epmd keeps a 32-bit counter per name,
/// starts it at a random value, bumps it on every re-registration and never lets it below 4
/// (0 means "dynamic name", 1..=3 are the old 2-bit creations). Nodes that announced a
/// protocol below 6 only get a 16-bit reply and are given `counter % 3 + 1`.
pub fn creation_for(counter: u32, high: u16) -> u32 {
    if high >= 6 {
        counter
    } else {
        counter % 3 + 1
    }
}

fn bump(counter: u32) -> u32 {
    let next = counter.wrapping_add(1);
    if next < 4 {
        4
    } else {
        next
    }
}

impl Registry {
    /// `seed` makes the starting creations unpredictable, like epmd's random start.
    pub fn new(seed: u64) -> Registry {
        Registry {
            live: Vec::new(),
            remembered: Vec::new(),
            seed,
        }
    }

    /// Registers `info` for connection `conn`; `None` when the name is taken (epmd replies
    /// result 1, creation 99).
    pub fn register(&mut self, info: NodeInfo, conn: ConnId) -> Option<u32> {
        if self.live.iter().any(|e| e.info.name == info.name) {
            return None;
        }
        let counter = match self.remembered.iter().position(|(n, _)| *n == info.name) {
            Some(i) => bump(self.remembered.remove(i).1),
            None => bump(self.next_random()),
        };
        let creation = creation_for(counter, info.high);
        self.live.push(Entry {
            info,
            conn,
            counter,
        });
        Some(creation)
    }

    /// Removes whatever `conn` registered; returns the name.
    pub fn unregister_conn(&mut self, conn: ConnId) -> Option<String> {
        let i = self.live.iter().position(|e| e.conn == conn)?;
        let entry = self.live.remove(i);
        if self.remembered.len() >= MAX_REMEMBERED {
            self.remembered.remove(0);
        }
        self.remembered
            .push((entry.info.name.clone(), entry.counter));
        Some(entry.info.name)
    }

    pub fn lookup(&self, name: &str) -> Option<&NodeInfo> {
        self.live
            .iter()
            .find(|e| e.info.name == name)
            .map(|e| &e.info)
    }

    /// `(name, port)` of every registered node, newest first.
    pub fn names(&self) -> Vec<(String, u16)> {
        self.live
            .iter()
            .rev()
            .map(|e| (e.info.name.clone(), e.info.port))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// splitmix64: cheap, well mixed, no dependency.
    fn next_random(&mut self) -> u32 {
        self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, high: u16) -> NodeInfo {
        let mut i = NodeInfo::new(name, 5000, false);
        i.high = high;
        i
    }

    #[test]
    fn duplicate_names_are_refused_until_the_holder_goes() {
        let mut r = Registry::new(1);
        assert!(r.register(info("bob", 6), 1).is_some());
        assert_eq!(r.register(info("bob", 6), 2), None);
        assert_eq!(r.unregister_conn(2), None, "the refused conn holds nothing");
        assert_eq!(r.unregister_conn(1).as_deref(), Some("bob"));
        assert!(r.register(info("bob", 6), 3).is_some());
    }

    #[test]
    fn re_registration_bumps_the_creation() {
        let mut r = Registry::new(7);
        let c1 = r.register(info("bob", 6), 1).unwrap_or(0);
        r.unregister_conn(1);
        let c2 = r.register(info("bob", 6), 2).unwrap_or(0);
        assert!(c1 >= 4 && c2 >= 4);
        assert_eq!(c2, bump(c1));
    }

    #[test]
    fn creations_are_never_below_four_and_old_nodes_get_one_to_three() {
        for seed in 0..2000 {
            let mut r = Registry::new(seed);
            assert!(r.register(info("a", 6), 1).unwrap_or(0) >= 4);
            let old = r.register(info("b", 5), 2).unwrap_or(0);
            assert!((1..=3).contains(&old));
        }
        assert_eq!(bump(u32::MAX), 4);
    }

    #[test]
    fn names_are_listed_newest_first() {
        let mut r = Registry::new(1);
        r.register(info("a", 6), 1);
        r.register(info("b", 6), 2);
        assert_eq!(r.names(), vec![("b".into(), 5000), ("a".into(), 5000)]);
        assert_eq!(r.lookup("a").map(|i| i.port), Some(5000));
        assert!(r.lookup("c").is_none());
    }

    #[test]
    fn remembered_names_are_bounded() {
        let mut r = Registry::new(1);
        for i in 0..(MAX_REMEMBERED as u64 + 50) {
            r.register(info(&format!("n{i}"), 6), i);
            r.unregister_conn(i);
        }
        assert_eq!(r.remembered.len(), MAX_REMEMBERED);
        assert!(r.is_empty());
    }
}
