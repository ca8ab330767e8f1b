//! `ferl bench`: rows (a)-(i) of bench/README.md for each pairing, plus the raw-TCP limit, in
//! one run, several times; prints one Markdown table of medians and ratios to BEAM->BEAM.
//! Progress goes to stderr, the table to stdout (and `--out`).

mod beam;
mod ferl_a;
mod ferl_b;
mod ferl_b_services;
mod ferl_idle;
mod ferl_rows;
mod machine;
mod metrics;
mod pairing;
mod procs;
mod rawtcp;
mod sizes;
mod stack_store;
mod table;

use pairing::{Pairing, RunCtx};
use procs::Session;
use sizes::Sizes;
use std::path::PathBuf;
use std::process::ExitCode;
use table::Results;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Small counts and one run: a smoke test of every path, well under a minute.
    #[arg(long)]
    quick: bool,
    /// Runs per pairing (the table shows medians) [default: 3, or 1 with --quick].
    #[arg(long)]
    runs: Option<usize>,
    /// Pairings to run, comma-separated: beam-beam, ferl-ferl, beam-ferl, ferl-beam.
    #[arg(long, value_delimiter = ',', value_parser = Pairing::parse,
          default_value = "beam-beam,ferl-ferl,beam-ferl,ferl-beam")]
    pairings: Vec<Pairing>,
    /// Rows to measure, as letters: `--rows d` runs (d) alone, `--rows bde` three rows; the
    /// others show "-" [default: abcdefghi, every row].
    #[arg(long, value_name = "LETTERS", value_parser = sizes::parse_rows)]
    rows: Option<String>,
    /// Also write the table to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads of each ferl node [default: half the CPUs, at least 1: the two nodes of a
    /// pairing share the machine]. The BEAM nodes run their default schedulers.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    schedulers: Option<u16>,
    /// Internal: be the far end of the raw-TCP limit measurement (connects to this port).
    #[arg(long, hide = true)]
    raw_peer: Option<u16>,
    /// Internal: be a ferl node B with this short name (until `:init.stop/0`).
    #[arg(long, hide = true, requires = "node_b_cookie")]
    node_b: Option<String>,
    /// Internal: node B's cookie.
    #[arg(long, hide = true)]
    node_b_cookie: Option<String>,
}

impl BenchArgs {
    /// The ferl nodes' worker threads: `--schedulers`, else the contract's default (`Sizes`).
    fn schedulers(&self) -> usize {
        self.schedulers
            .map_or_else(|| Sizes::full().schedulers, usize::from)
    }
}

pub fn run(args: BenchArgs) -> ExitCode {
    if let Some(port) = args.raw_peer {
        return match rawtcp::peer(port) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ferl bench --raw-peer: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let (Some(sname), Some(cookie)) = (&args.node_b, &args.node_b_cookie) {
        return ferl_b::serve(sname, cookie, args.schedulers());
    }
    let mut sizes = if args.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    if let Some(n) = args.runs {
        sizes.runs = n.max(1);
    }
    if let Some(n) = args.schedulers {
        sizes.schedulers = n.into();
    }
    if let Some(rows) = &args.rows {
        sizes.rows.clone_from(rows);
    }
    let mode = if args.quick { "quick" } else { "full" };
    match bench(&sizes, &args.pairings, mode) {
        Ok(table) => {
            print!("{table}");
            if let Some(path) = &args.out {
                if let Err(e) = std::fs::write(path, &table) {
                    eprintln!("[bench] cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("[bench] failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sets up (scratch directory, private epmd), runs everything, tears down, renders the table.
/// Logs are deleted after a success and kept after a failure.
fn bench(sizes: &Sizes, requested: &[Pairing], mode: &str) -> Result<String, String> {
    let mut header = machine::header(mode, sizes.runs, sizes.schedulers);
    if sizes.rows != sizes::ALL_ROWS {
        let rows: Vec<String> = sizes.rows.chars().map(|r| format!("({r})")).collect();
        header.push_str(&format!("; rows {} only (--rows)", rows.join(" ")));
    }
    let runnable: Vec<Pairing> = Pairing::ALL
        .into_iter()
        .filter(|p| requested.contains(p))
        .filter(|p| {
            if !p.available() {
                eprintln!("[bench] {}: not yet available, skipped", p.title());
            }
            p.available()
        })
        .collect();
    let session = Session::new().map_err(|e| format!("cannot create a scratch directory: {e}"))?;
    let outcome = procs::start_epmd().and_then(|(epmd, epmd_port)| {
        eprintln!(
            "[bench] epmd (pid {}) on port {epmd_port}; logs in {}",
            epmd.pid(),
            session.dir.display()
        );
        run_all(sizes, &runnable, &session, epmd_port)
        // `epmd` is dropped here, which stops it by pid: only this run's nodes used it.
    });
    match outcome {
        Ok(results) => {
            let _ = std::fs::remove_dir_all(&session.dir);
            Ok(table::render(&header, sizes, &results))
        }
        Err(e) => Err(format!("{e}\n(logs kept in {})", session.dir.display())),
    }
}

/// All runs of all runnable pairings and the raw-TCP limit, interleaved run by run so that a
/// drift of the machine (another job, thermal throttling) hits every pairing alike.
fn run_all(
    sizes: &Sizes,
    runnable: &[Pairing],
    session: &Session,
    epmd_port: u16,
) -> Result<Results, String> {
    let mut results = Results::default();
    for run in 1..=sizes.runs {
        let tag = format!("run {run}/{}", sizes.runs);
        eprintln!("[bench] raw tcp limit {tag}");
        let limit = rawtcp::measure(sizes.n_rtt, sizes.warm_rtt, sizes.raw_frames)?;
        results.limit.push(limit);
        for &pairing in runnable {
            let ctx = RunCtx {
                session,
                sizes,
                epmd_port,
                run,
                pairing,
            };
            eprintln!("[bench] {} {tag}: starting node B", pairing.id());
            let mut progress = |letter: &str| {
                let step = metrics::step_name(letter);
                eprintln!("[bench] {} {tag}: {step} ...", pairing.id());
            };
            let values = pairing::run_once(&ctx, &mut progress)?;
            // Each run's own figures, so a drift or an outlier behind a median can be seen.
            let figures: Vec<String> = values.iter().map(|(k, x)| format!("{k}={x:.1}")).collect();
            eprintln!("[bench] {} {tag}: {}", pairing.id(), figures.join(" "));
            results.pairings.entry(pairing).or_default().push(values);
        }
    }
    Ok(results)
}
