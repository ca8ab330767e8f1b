//! How much work each measurement does: the contract's counts for a real run, small ones for
//! `--quick` smoke runs. Every pairing gets the same sizes, passed to node A as environment.

/// Counts and durations for rows (a)-(i) and the raw-TCP limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    pub runs: usize,
    pub n_rtt: u64,
    pub warm_rtt: u64,
    pub n_msg: u64,
    pub warm_msg: u64,
    pub n_rpc: u64,
    pub warm_rpc: u64,
    pub senders: u64,
    pub f_callers: u64,
    pub f_ms: u64,
    pub g_subs: u64,
    pub g_rounds: u64,
    pub h_procs: u64,
    pub i_connects: u64,
    pub raw_frames: u64,
    /// Longest a single pairing run may take before its nodes are killed.
    pub run_timeout_s: u64,
    /// Worker threads of each ferl node (`erl +S`): the two nodes of a pairing share the
    /// machine, so each gets half its CPUs. The BEAM nodes keep their default, one scheduler
    /// per CPU.
    pub schedulers: usize,
    /// The rows (a)-(i) to measure, as their letters in order (`--rows`); the others show
    /// "-" in the table.
    pub rows: String,
}

/// Every row, (a) to (i).
pub const ALL_ROWS: &str = "abcdefghi";

/// `--rows`: some of the letters a-i, in any order and case, as the letters in table order.
pub fn parse_rows(s: &str) -> Result<String, String> {
    let s = s.to_ascii_lowercase();
    if let Some(c) = s.chars().find(|c| !ALL_ROWS.contains(*c)) {
        return Err(format!("no row ({c}): the rows are the letters a to i"));
    }
    let rows: String = ALL_ROWS.chars().filter(|c| s.contains(*c)).collect();
    if rows.is_empty() {
        return Err("no rows given: the rows are the letters a to i".into());
    }
    Ok(rows)
}

impl Sizes {
    /// The benchmark contract (bench/README.md).
    pub fn full() -> Self {
        Sizes {
            runs: 3,
            n_rtt: 20_000,
            warm_rtt: 2_000,
            // BENCH_N_MSG (profiling aid): longer (b)/(d)/(e) rows, so a profile is mostly them.
            n_msg: std::env::var("BENCH_N_MSG")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000_000),
            warm_msg: 100_000,
            n_rpc: 20_000,
            warm_rpc: 2_000,
            senders: 4,
            f_callers: 64,
            f_ms: 5_000,
            g_subs: 1_000,
            // BENCH_G_ROUNDS (profiling aid): a longer (g).
            g_rounds: std::env::var("BENCH_G_ROUNDS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000),
            h_procs: 1_000_000,
            i_connects: 50,
            raw_frames: 1_000_000,
            run_timeout_s: 900,
            schedulers: crate::schedulers::share(2),
            rows: ALL_ROWS.into(),
        }
    }

    /// A smoke run: every code path, in seconds rather than minutes.
    pub fn quick() -> Self {
        Sizes {
            runs: 1,
            n_rtt: 1_000,
            warm_rtt: 200,
            n_msg: 20_000,
            warm_msg: 2_000,
            n_rpc: 500,
            warm_rpc: 100,
            f_ms: 1_000,
            g_rounds: 20,
            h_procs: 100_000,
            i_connects: 5,
            raw_frames: 100_000,
            run_timeout_s: 180,
            ..Self::full()
        }
    }

    /// The knobs of bench/beam/node_a.exs, for one run of one pairing.
    pub fn node_a_env(&self) -> Vec<(&'static str, String)> {
        let v = |x: u64| x.to_string();
        vec![
            ("RUNS", "1".into()),
            ("N_RTT", v(self.n_rtt)),
            ("WARM_RTT", v(self.warm_rtt)),
            ("N_MSG", v(self.n_msg)),
            ("WARM_MSG", v(self.warm_msg)),
            ("N_STACK", v(self.n_msg)),
            ("N_RPC", v(self.n_rpc)),
            ("WARM_RPC", v(self.warm_rpc)),
            ("SENDERS", v(self.senders)),
            ("F_CALLERS", v(self.f_callers)),
            ("F_MS", v(self.f_ms)),
            ("G_SUBS", v(self.g_subs)),
            ("G_ROUNDS", v(self.g_rounds)),
            ("H_PROCS", v(self.h_procs)),
            ("I_CONNECTS", v(self.i_connects)),
            ("ROWS", self.rows.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_is_smaller_than_full_everywhere_it_matters() {
        let (q, f) = (Sizes::quick(), Sizes::full());
        assert!(q.n_msg < f.n_msg && q.n_rtt < f.n_rtt && q.h_procs < f.h_procs);
        assert_eq!(q.runs, 1);
        assert!(q.node_a_env().contains(&("N_MSG", "20000".to_string())));
        assert!(f.node_a_env().contains(&("ROWS", "abcdefghi".to_string())));
    }

    #[test]
    fn rows_are_letters_a_to_i_in_table_order() {
        assert_eq!(parse_rows("db").as_deref(), Ok("bd"));
        assert_eq!(parse_rows("IhA").as_deref(), Ok("ahi"));
        assert_eq!(parse_rows("dd").as_deref(), Ok("d"));
        assert!(parse_rows("j").unwrap_err().contains("(j)"));
        assert!(parse_rows("b,d").unwrap_err().contains("(,)"));
        assert!(parse_rows("").is_err());
    }
}
