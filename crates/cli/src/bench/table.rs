//! The one Markdown table `ferl bench` prints: per metric, the median over runs of each
//! pairing, each ferl pairing's ratio to BEAM->BEAM, and the raw-TCP limit rows.

use super::metrics::{Metric, RunValues, METRICS};
use super::pairing::Pairing;
use super::sizes::Sizes;
use std::collections::BTreeMap;
use std::fmt::Write;

/// What every pairing and the raw-TCP limit produced, one `RunValues` per run.
#[derive(Default)]
pub struct Results {
    pub pairings: BTreeMap<Pairing, Vec<RunValues>>,
    pub limit: Vec<RunValues>,
}

/// Median of the values `key` took over `runs` (mean of the middle two for an even count).
pub fn median(runs: &[RunValues], key: &str) -> Option<f64> {
    let mut v: Vec<f64> = runs.iter().filter_map(|r| r.get(key).copied()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// Plain numbers (no thousands separators), so that the table is also machine-readable.
pub fn fmt_num(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The table and its notes. A pairing without results is "n/a" if it cannot run yet, "-" if it
/// was not asked for (`--pairings`).
pub fn render(header: &str, sizes: &Sizes, results: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{header}\n");
    let mut head = String::from("| row | what | BEAM->BEAM |");
    for p in &Pairing::ALL[1..] {
        let _ = write!(head, " {} | ratio |", p.title());
    }
    let _ = writeln!(out, "{head}");
    let _ = writeln!(out, "|---|---|---:|{}", "---:|---:|".repeat(3));
    // Rows left out with `--rows` are left out of the table too.
    let measured = |m: &&Metric| m.row == "limit" || m.in_rows(&sizes.rows);
    for m in METRICS.iter().filter(measured) {
        let what = format!("{} {}", (m.what)(sizes), m.better.arrow());
        let _ = write!(out, "| {} | {what} |", m.row);
        if m.row == "limit" {
            // Pairing-independent: the floor every pairing is compared with.
            let v = median(&results.limit, m.key)
                .map(fmt_num)
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(out, " {v} |{}", "  |  |".repeat(3));
            continue;
        }
        let cell = |p: Pairing| match results.pairings.get(&p) {
            Some(runs) => median(runs, m.key),
            None => None,
        };
        let missing = |p: Pairing| if p.available() { "-" } else { "n/a" };
        let beam = cell(Pairing::BeamBeam);
        let _ = write!(
            out,
            " {} |",
            beam.map(fmt_num)
                .unwrap_or_else(|| missing(Pairing::BeamBeam).into())
        );
        for p in Pairing::ALL[1..].iter().copied() {
            let v = cell(p);
            let ratio = match (v, beam) {
                (Some(v), Some(b)) if b != 0.0 => format!("{:.2}×", v / b),
                _ => String::new(),
            };
            let _ = write!(
                out,
                " {} | {ratio} |",
                v.map(fmt_num).unwrap_or_else(|| missing(p).into())
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "\n{}", notes(sizes, results));
    out
}

fn notes(sizes: &Sizes, results: &Results) -> String {
    let mut n = format!(
        "Medians of {} run(s). ratio = pairing / BEAM->BEAM; ↑ higher is better, ↓ lower is better. \
         (h) is measured on node B, the node under test. limit = raw TCP over loopback between two \
         OS processes, no protocol: the floor of this machine for every pairing.",
        sizes.runs
    );
    for p in Pairing::ALL
        .into_iter()
        .filter(|p| !results.pairings.contains_key(p))
    {
        let why = if p.available() {
            "-, not run (not in --pairings)"
        } else {
            "n/a, not yet available: the ferl runtime does not exist yet"
        };
        let _ = write!(n, "\n{}: {why}.", p.title());
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, f64)]) -> RunValues {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        let runs = vec![run(&[("x", 3.0)]), run(&[("x", 1.0)]), run(&[("x", 2.0)])];
        assert_eq!(median(&runs, "x"), Some(2.0));
        assert_eq!(median(&runs[..2], "x"), Some(2.0));
        assert_eq!(median(&runs, "y"), None);
    }

    #[test]
    fn renders_medians_ratios_and_unavailable_pairings() {
        let mut results = Results::default();
        results.pairings.insert(
            Pairing::BeamBeam,
            vec![run(&[("a.p50_us", 30.0), ("b.msgs_per_s", 300000.0)])],
        );
        results
            .pairings
            .insert(Pairing::FerlFerl, vec![run(&[("a.p50_us", 15.0)])]);
        results.limit = vec![run(&[("limit.rtt_p50_us", 9.5)])];
        let t = render("# h", &Sizes::quick(), &results);
        let row_a = t
            .lines()
            .find(|l| l.starts_with("| (a) | request"))
            .unwrap();
        assert_eq!(
            row_a.split('|').map(str::trim).collect::<Vec<_>>()[3..8],
            ["30.0", "15.0", "0.50×", "-", ""]
        );
        assert!(t
            .lines()
            .any(|l| l.starts_with("| (b) |") && l.contains("| 300000 |")));
        assert!(t
            .lines()
            .any(|l| l.starts_with("| limit |") && l.contains("| 9.5 |")));
        assert!(t.contains("BEAM->ferl: -, not run"));
        // Every pairing measures every row: one that did not report a value shows "-".
        let row_e = t.lines().find(|l| l.starts_with("| (e) |")).unwrap();
        assert_eq!(row_e.split('|').map(str::trim).nth(4), Some("-"));
        assert!(!t.contains("n/a"));
    }

    #[test]
    fn rows_left_out_with_rows_are_not_in_the_table() {
        let mut results = Results::default();
        results
            .pairings
            .insert(Pairing::BeamBeam, vec![run(&[("d.msgs_per_s", 700000.0)])]);
        results.limit = vec![run(&[("limit.rtt_p50_us", 9.5)])];
        let sizes = Sizes {
            rows: "d".into(),
            ..Sizes::quick()
        };
        let t = render("# h", &sizes, &results);
        let rows: Vec<&str> = t
            .lines()
            .filter_map(|l| l.strip_prefix("| "))
            .filter_map(|l| l.split(' ').next())
            .filter(|r| r.starts_with('(') || *r == "limit")
            .collect();
        assert_eq!(rows, ["(d)", "limit", "limit", "limit"]);
        assert!(t.contains("| 700000 |"));
    }
}
