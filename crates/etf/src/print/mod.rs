//! Printing terms: `Term::erlang()` (like `io:format("~tp")` on one line) and `Term::elixir()`
//! (like Elixir 1.14 `inspect/1`). Shared pieces live here: float formatting, node numbers for
//! pids/refs/ports, and the fields of opaque funs.
//!
//! Node numbers: BEAM prints `<0.91.0>` for a local pid and `<N.91.0>` for a remote one, where N
//! is an index into its node table. ferl keeps a process-global numbering: the node set with
//! `set_local_node` prints as 0 (`nonode@nohost` too until then); every other node gets 1, 2, ...
//! in order of first appearance, stable for the life of the process.

mod elixir;
mod erlang;

pub use elixir::ElixirDisplay;
pub use erlang::ErlangDisplay;

use crate::atom::Atom;
use crate::decode::Decoder;
use crate::pid::Fun;
use crate::term::Term;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

struct NodeNumbers {
    local: Option<Atom>,
    others: HashMap<Atom, u32>,
}

fn numbers() -> &'static Mutex<NodeNumbers> {
    static N: OnceLock<Mutex<NodeNumbers>> = OnceLock::new();
    N.get_or_init(|| {
        Mutex::new(NodeNumbers {
            local: None,
            others: HashMap::new(),
        })
    })
}

/// Declare the local node's name: its pids print as `<0.ID.SERIAL>`.
pub fn set_local_node(node: Atom) {
    let mut n = numbers().lock().unwrap_or_else(|e| e.into_inner());
    n.local = Some(node);
}

/// The number a node's pids/refs/ports print with (0 = local).
pub fn node_number(node: Atom) -> u32 {
    let mut n = numbers().lock().unwrap_or_else(|e| e.into_inner());
    if n.local == Some(node) || (n.local.is_none() && node == Atom::NONODE_AT_NOHOST) {
        return 0;
    }
    let next = n.others.len() as u32 + 1;
    *n.others.entry(node).or_insert(next)
}

/// Shortest round-trip float text as OTP's `float_to_list(F, [short])` (used by both `~p` and
/// Elixir's `inspect`): the shorter of positional (`123.456`) and scientific (`1.0e6`),
/// positional on a tie, scientific from 2^53 up; always with a `.` in the mantissa.
pub fn format_float(f: f64) -> String {
    if !f.is_finite() {
        return format!("{f}");
    }
    let sci = format!("{:e}", f.abs()); // shortest round-trip digits, e.g. "1.2345e-4", "1e6"
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let scientific = {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{first}.{rest}e{exp}")
    };
    let l = digits.len() as i32;
    let positional = if exp >= 0 {
        if l - 1 <= exp {
            format!("{digits}{}.0", "0".repeat((exp - (l - 1)) as usize))
        } else {
            let (a, b) = digits.split_at((exp + 1) as usize);
            format!("{a}.{b}")
        }
    } else {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    };
    // OTP switches to scientific for every |f| >= 2^53 (integers no longer exact) even when the
    // positional form would be shorter (observed: 9007199254740992.0 prints 9.007199254740992e15).
    if f.abs() >= 9_007_199_254_740_992.0 || scientific.len() < positional.len() {
        format!("{sign}{scientific}")
    } else {
        format!("{sign}{positional}")
    }
}

/// (old index, old uniq) of a NEW_FUN_EXT fun, as BEAM prints them in `#Fun<M.I.U>`.
pub(crate) fn fun_index_uniq(f: &Fun) -> Option<(i64, i64)> {
    let raw = f.raw();
    if raw.first() != Some(&crate::tag::NEW_FUN_EXT) {
        return None;
    }
    let mut d = Decoder::new(raw.slice(30.min(raw.len())..));
    let _module = d.decode_term().ok()?;
    let index = d.decode_term().ok()?.as_int()?;
    let uniq = d.decode_term().ok()?.as_int()?;
    Some((index, uniq))
}

/// Latin-1 printable, as `io_lib:printable_list/1` with the default `+pc latin1`.
pub(crate) fn erl_printable_char(c: u32) -> bool {
    matches!(c, 32..=126 | 160..=255 | 8..=13 | 27)
}

impl Term {
    /// Erlang syntax (`~tp` on one line): `{push,<<"alice">>,<<"item-123">>}`.
    pub fn erlang(&self) -> ErlangDisplay<'_> {
        ErlangDisplay(self)
    }

    /// Elixir `inspect`: `{:push, "alice", "item-123"}`.
    pub fn elixir(&self) -> ElixirDisplay<'_> {
        ElixirDisplay(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_hand_built_bitstrings_do_not_panic() {
        for (bytes, bits) in [
            (&b""[..], 3u8),
            (&b"a"[..], 0),
            (&b"a"[..], 8),
            (&b"a"[..], 200),
        ] {
            let t = Term::BitBinary {
                bytes: bytes::Bytes::copy_from_slice(bytes),
                bits,
            };
            let _ = t.erlang().to_string();
            let _ = t.elixir().to_string();
            let _ = crate::encode(&t);
        }
    }

    #[test]
    fn node_numbers_are_stable() {
        let a = Atom::new("print_test_a@host");
        let b = Atom::new("print_test_b@host");
        let (na, nb) = (node_number(a), node_number(b));
        assert!(na > 0 && nb > 0 && na != nb);
        assert_eq!(node_number(a), na);
        let pid = Term::Pid(crate::pid::Pid::new(a, 91, 0, 1));
        assert_eq!(pid.erlang().to_string(), format!("<{na}.91.0>"));
        assert_eq!(pid.elixir().to_string(), format!("#PID<{na}.91.0>"));
    }

    #[test]
    fn floats_like_otp() {
        for (f, s) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.5, "1.5"),
            (100.0, "100.0"),
            (1.0e6, "1.0e6"),
            (123456789.0, "123456789.0"),
            (0.0001, "0.0001"),
            (1.2345e-4, "1.2345e-4"),
            (1.0e-10, "1.0e-10"),
            (5.0e-324, "5.0e-324"),
            (1.0e300, "1.0e300"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (9007199254740992.0, "9.007199254740992e15"),
            (-3.25, "-3.25"),
        ] {
            assert_eq!(format_float(f), s, "{f:?}");
        }
    }
}
