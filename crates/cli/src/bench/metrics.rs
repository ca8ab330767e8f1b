//! The catalogue of table rows: one entry per number the table shows, keyed as node A reports
//! it (`@@ROW a ... p50_us=...` is metric `a.p50_us`), with its label and which way is better.

use super::sizes::Sizes;
use std::collections::BTreeMap;

/// The values one run of one pairing produced, by metric key.
pub type RunValues = BTreeMap<String, f64>;

/// Whether a larger number is a better result (throughput) or a worse one (latency, memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

impl Better {
    pub fn arrow(self) -> &'static str {
        match self {
            Better::Higher => "↑",
            Better::Lower => "↓",
        }
    }
}

/// One row of the table.
pub struct Metric {
    /// `<row letter>.<field>` as node A reports it, or `limit.<field>` for the raw-TCP floor.
    pub key: &'static str,
    /// The first column: `(a)` .. `(i)` or `limit`.
    pub row: &'static str,
    pub better: Better,
    /// The second column, given the sizes of this run.
    pub what: fn(&Sizes) -> String,
}

/// Every row of the table, in order. Rows (a)-(i) come from the pairings, `limit` from rawtcp.
pub const METRICS: &[Metric] = &[
    m("a.p50_us", "(a)", Better::Lower, |s| {
        format!("request/response RTT p50, µs ({} round trips)", s.n_rtt)
    }),
    m("a.p99_us", "(a)", Better::Lower, |_| {
        "request/response RTT p99, µs".into()
    }),
    m("b.msgs_per_s", "(b)", Better::Higher, |s| {
        format!("1 sender -> registered sink, msgs/s ({})", s.n_msg)
    }),
    m("c.calls_per_s", "(c)", Better::Higher, |s| {
        format!(":rpc.call Greet.say/1, calls/s ({})", s.n_rpc)
    }),
    m("d.msgs_per_s", "(d)", Better::Higher, |s| {
        format!(
            "{} senders -> registered sink, msgs/s ({} total)",
            s.senders, s.n_msg
        )
    }),
    m("e.msgs_per_s", "(e)", Better::Higher, |s| {
        format!("tutorial :stack push + pop-ack, msgs/s ({})", s.n_msg)
    }),
    m("f.calls_per_s", "(f)", Better::Higher, |s| {
        format!(
            "{} callers -> one :bench_server, gen_server calls/s ({} ms)",
            s.f_callers, s.f_ms
        )
    }),
    m("g.deliveries_per_s", "(g)", Better::Higher, |s| {
        format!(
            "fan-out to {} subscribers (half on each node), deliveries/s ({} rounds)",
            s.g_subs, s.g_rounds
        )
    }),
    m("h.rss_bytes", "(h)", Better::Lower, |s| {
        format!(
            "idle process on B, bytes (VmRSS delta over {} processes)",
            s.h_procs
        )
    }),
    m("h.vm_bytes", "(h)", Better::Lower, |_| {
        "idle process on B, bytes (the runtime's own count)".into()
    }),
    m("h.spawn_ms", "(h)", Better::Lower, |s| {
        format!("time to spawn {} idle processes on B, ms", s.h_procs)
    }),
    m("i.p50_ms", "(i)", Better::Lower, |s| {
        format!(
            "Node.connect -> B's :global names visible, p50 ms ({} connects)",
            s.i_connects
        )
    }),
    m("i.max_ms", "(i)", Better::Lower, |_| {
        "Node.connect -> B's :global names visible, max ms".into()
    }),
    m("limit.rtt_p50_us", "limit", Better::Lower, |s| {
        format!(
            "raw TCP, 8-byte ping-pong RTT p50, µs ({} round trips)",
            s.n_rtt
        )
    }),
    m("limit.rtt_p99_us", "limit", Better::Lower, |_| {
        "raw TCP, 8-byte ping-pong RTT p99, µs".into()
    }),
    m("limit.frames_per_s", "limit", Better::Higher, |s| {
        format!(
            "raw TCP, 1 sender of 40-byte length-prefixed frames, frames/s ({})",
            s.raw_frames
        )
    }),
];

const fn m(
    key: &'static str,
    row: &'static str,
    better: Better,
    what: fn(&Sizes) -> String,
) -> Metric {
    Metric {
        key,
        row,
        better,
        what,
    }
}

/// The short name shown in progress lines for a row letter.
pub fn step_name(letter: &str) -> &'static str {
    match letter {
        "a" => "(a) request/response RTT",
        "b" => "(b) 1-sender throughput",
        "c" => "(c) sequential :rpc.call",
        "d" => "(d) 4-sender throughput",
        "e" => "(e) tutorial :stack protocol",
        "f" => "(f) concurrent gen_server calls",
        "g" => "(g) fan-out to subscribers",
        "h" => "(h) memory per idle process",
        "i" => "(i) connect -> :global visible",
        _ => "(?) unknown row",
    }
}

/// The metrics a pairing run must report (everything but the raw-TCP limit).
pub fn pairing_metrics() -> impl Iterator<Item = &'static Metric> {
    METRICS.iter().filter(|m| m.row != "limit")
}

impl Metric {
    /// Whether this is a metric of a pairing row among `rows` (letters a-i, as `Sizes::rows`;
    /// a `limit.` key is never among them).
    pub fn in_rows(&self, rows: &str) -> bool {
        self.key.split('.').next().is_some_and(|r| rows.contains(r))
    }
}

/// The metrics of the pairing rows among `rows`.
pub fn metrics_of_rows(rows: &str) -> impl Iterator<Item = &'static Metric> + '_ {
    pairing_metrics().filter(move |m| m.in_rows(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_every_row_a_to_i_is_there() {
        let mut keys: Vec<_> = METRICS.iter().map(|m| m.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), METRICS.len());
        for l in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "limit"] {
            assert!(
                METRICS.iter().any(|m| m.key.starts_with(&format!("{l}."))),
                "row {l}"
            );
        }
    }
}
