//! Runs `ferl bench --quick` end to end (real Elixir nodes, ferl nodes, a private epmd, the
//! raw-TCP peer process), so that the harness cannot rot: it must exit 0 within a time bound and
//! print a numeric value for every pairing on every row.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A quick run takes seconds; this bound only catches a hang (on a loaded 2-core machine).
const TIME_LIMIT: Duration = Duration::from_secs(240);

fn elixir_is_installed() -> bool {
    Command::new("elixir")
        .arg("--short-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn collect(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    })
}

/// Waits for the child until the time limit, then kills it and the nodes it started: it runs
/// in a process group of its own (see below), whose id is its pid.
fn wait_bounded(child: &mut Child) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + TIME_LIMIT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// One bench at a time: each loads both CPUs of a small machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `ferl bench --quick --schedulers 1` with `more` arguments, to its end: its stdout and stderr.
fn quick_bench(more: &[&str]) -> (String, String) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        elixir_is_installed(),
        "`elixir` was not found or does not run: install Erlang/OTP 25 and Elixir with \
         scripts/install-deps.sh (this test does not skip)"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferl"))
        .args(["bench", "--quick", "--schedulers", "1"])
        .args(more)
        .process_group(0) // so that a hung run's elixir nodes and epmd can be killed with it
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ferl bench");
    let stdout = collect(child.stdout.take().expect("stdout"));
    let stderr = collect(child.stderr.take().expect("stderr"));
    let status = wait_bounded(&mut child);
    let (out, err) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    let status = status
        .unwrap_or_else(|| panic!("ferl bench --quick took over {TIME_LIMIT:?}; stderr:\n{err}"));
    assert!(
        status.success(),
        "ferl bench --quick failed ({status}); stderr:\n{err}\nstdout:\n{out}"
    );
    (out, err)
}

/// The table's rows, split into trimmed cells: `[_, row, what, BEAM->BEAM, ...]`.
fn table_rows(out: &str) -> Vec<Vec<&str>> {
    out.lines()
        .filter(|l| l.starts_with("| "))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect()
}

#[test]
fn quick_bench_prints_every_row_for_every_pairing() {
    let (out, err) = quick_bench(&[]);
    assert!(
        err.contains("[bench] beam-beam run 1/1: (a)"),
        "no progress lines on stderr:\n{err}"
    );

    assert!(
        out.contains("ferl nodes run 1 scheduler(s) each"),
        "the header does not give the ferl nodes' schedulers:\n{out}"
    );

    // | row | what | BEAM->BEAM | ferl->ferl | ratio | BEAM->ferl | ratio | ferl->BEAM | ratio |
    let rows = table_rows(&out);
    assert_eq!(rows[0][3], "BEAM->BEAM", "header row:\n{out}");
    for row in [
        "(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)", "(h)", "(i)", "limit",
    ] {
        let found: Vec<_> = rows.iter().filter(|r| r[1] == row).collect();
        assert!(!found.is_empty(), "no row {row} in:\n{out}");
        for r in found {
            let v: f64 = r[3].parse().unwrap_or_else(|_| {
                panic!("row {row}: BEAM->BEAM {:?} is not a number:\n{out}", r[3])
            });
            assert!(v.is_finite() && v > 0.0, "row {row}: BEAM->BEAM value {v}");
        }
    }
    // The ferl pairings (columns 4, 6, 8) measure every row too, (e) and (i) over `:global`.
    for (col, title) in [(4, "ferl->ferl"), (6, "BEAM->ferl"), (8, "ferl->BEAM")] {
        assert_eq!(rows[0][col], title, "header row:\n{out}");
        for r in rows.iter().filter(|r| r[1].starts_with('(')) {
            let v: f64 = r[col].parse().unwrap_or_else(|_| {
                panic!("{title} {}: {:?} is not a number:\n{out}", r[1], r[col])
            });
            assert!(v.is_finite() && v > 0.0, "{title} {}: value {v}", r[1]);
        }
    }
    assert!(!out.contains("n/a"), "{out}");
}

/// `--rows` reaches both drivers, the Elixir node A (node_a.exs's ROWS) and ferl's, and the
/// table holds only the rows asked for.
#[test]
fn rows_limits_every_driver_to_the_rows_given() {
    let (out, err) = quick_bench(&["--rows", "b", "--pairings", "beam-ferl,ferl-ferl"]);
    assert!(
        out.contains("rows (b) only"),
        "the header does not say which rows ran:\n{out}"
    );
    assert!(
        !err.contains(": (a)") && err.contains("beam-ferl run 1/1: (b)"),
        "rows other than (b) ran, or (b) did not:\n{err}"
    );
    // rows[0] is the header row.
    let rows = table_rows(&out);
    let names: Vec<&str> = rows[1..].iter().map(|r| r[1]).collect();
    assert_eq!(names, ["(b)", "limit", "limit", "limit"], "{out}");
    for (col, title) in [(4, "ferl->ferl"), (6, "BEAM->ferl")] {
        assert_eq!(rows[0][col], title, "header row:\n{out}");
        let v: f64 = rows[1][col]
            .parse()
            .unwrap_or_else(|_| panic!("{title} (b): {:?} is not a number:\n{out}", rows[1][col]));
        assert!(v.is_finite() && v > 0.0, "{title} (b): value {v}");
    }
}
