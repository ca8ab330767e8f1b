//! The BEAM side: node B is `elixir bench/beam/node_b.exs`, the driver is
//! `elixir bench/beam/node_a.exs B` with `BENCH_REPORT=1`, whose `@@STEP`/`@@ROW` lines are
//! parsed here. The scripts are compiled into the binary, so `ferl bench` runs from anywhere.

use super::metrics::{metrics_of_rows, RunValues};
use super::pairing::{DriverA, NodeB, RunCtx, RunningB};
use super::procs::{tail, ChildGuard};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const NODE_A_EXS: &str = include_str!("../../../../bench/beam/node_a.exs");
const NODE_B_EXS: &str = include_str!("../../../../bench/beam/node_b.exs");

/// How long node B may take to print `ready` (elixir compiles the script first).
const B_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Writes the embedded script into the session directory (once) and returns its path.
fn script(ctx: &RunCtx, name: &str, text: &str) -> Result<PathBuf, String> {
    let path = ctx.session.path(name);
    if !path.exists() {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(path)
}

/// `<pairing>-run<N>-<role>.log` in the session directory, created.
fn log_file(ctx: &RunCtx, role: &str) -> Result<(PathBuf, File), String> {
    let path = ctx
        .session
        .path(&format!("{}-run{}-{role}.log", ctx.pairing.id(), ctx.run));
    let file = File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    Ok((path, file))
}

/// An Elixir node B running node_b.exs.
pub struct BeamNodeB;

impl NodeB for BeamNodeB {
    fn start(&self, ctx: &RunCtx) -> Result<RunningB, String> {
        let script = script(ctx, "node_b.exs", NODE_B_EXS)?;
        let sname = ctx.session.sname("b", ctx.run);
        // Row (h) spawns h_procs processes on B; the default limit is 262,144.
        let max_procs = (ctx.sizes.h_procs * 2).max(1 << 20);
        let mut cmd = Command::new("elixir");
        crate::thp::system_default_for(&mut cmd)
            .args([
                "--erl",
                &format!("+P {max_procs}"),
                "--sname",
                &sname,
                "--cookie",
                &ctx.session.cookie,
            ])
            .arg(&script);
        launch_b(ctx, cmd, &sname, "elixir (run scripts/install-deps.sh)")
    }
}

/// Starts node B's command `cmd` (an Elixir or a ferl node named `sname`) with this run's
/// epmd, its log as stdout and stderr, and a lifetime after which B exits by itself should we
/// die without stopping it; then waits until it is ready.
pub(super) fn launch_b(
    ctx: &RunCtx,
    mut cmd: Command,
    sname: &str,
    what: &str,
) -> Result<RunningB, String> {
    let (log, file) = log_file(ctx, "node_b")?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let lifetime_ms = (ctx.sizes.run_timeout_s + 60) * 1000;
    let child = cmd
        .env("ERL_EPMD_PORT", ctx.epmd_port.to_string())
        .env("B_MAX_LIFETIME_MS", lifetime_ms.to_string())
        .current_dir(&ctx.session.dir)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let process = ChildGuard::new(format!("node B {sname}"), child);
    wait_ready(ctx, sname, process, log)
}

/// Waits until node B's log says `<node> ready` (or it died, or took too long).
fn wait_ready(
    ctx: &RunCtx,
    sname: &str,
    mut process: ChildGuard,
    log: PathBuf,
) -> Result<RunningB, String> {
    let deadline = Instant::now() + B_START_TIMEOUT;
    loop {
        if std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(" ready")
        {
            return Ok(RunningB {
                node: ctx.session.full_name(sname),
                process,
                log,
            });
        }
        if process.exited() || Instant::now() > deadline {
            return Err(format!(
                "node B did not start; {}:\n{}",
                log.display(),
                tail(&log, 20)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The Elixir driver, node_a.exs, against any node B.
pub struct BeamDriver;

impl DriverA for BeamDriver {
    fn drive(
        &self,
        ctx: &RunCtx,
        b: &RunningB,
        progress: &mut dyn FnMut(&str),
    ) -> Result<RunValues, String> {
        let script = script(ctx, "node_a.exs", NODE_A_EXS)?;
        let sname = ctx.session.sname("a", ctx.run);
        let (log, mut log_w) = log_file(ctx, "node_a")?;
        let err = log_w.try_clone().map_err(|e| e.to_string())?;
        let child = crate::thp::system_default_for(&mut Command::new("elixir"))
            .args(["--sname", &sname, "--cookie", &ctx.session.cookie])
            .arg(&script)
            .arg(&b.node)
            .envs(ctx.sizes.node_a_env())
            .env("BENCH_REPORT", "1")
            .env("STOP_B", "1")
            .env("ERL_EPMD_PORT", ctx.epmd_port.to_string())
            .current_dir(&ctx.session.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start elixir (run scripts/install-deps.sh): {e}"))?;
        let mut a = ChildGuard::new(format!("node A {sname}"), child);
        let stdout = a.child_mut().stdout.take().ok_or("node A has no stdout")?;
        // A reader thread, so that the deadline below holds even if A stops printing.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(ctx.sizes.run_timeout_s);
        let mut values = RunValues::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let _ = writeln!(log_w, "{line}");
                    match parse_line(&line)? {
                        Line::Step(letter) => progress(&letter),
                        Line::Row(kvs) => values.extend(kvs),
                        Line::Other => {}
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "node A did not finish within {} s; {}",
                        ctx.sizes.run_timeout_s,
                        log.display()
                    ));
                }
            }
        }
        let status = a.child_mut().wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!(
                "node A failed ({status}); {}:\n{}\nnode B's log: {}",
                log.display(),
                tail(&log, 30),
                b.log.display()
            ));
        }
        let missing: Vec<_> = metrics_of_rows(&ctx.sizes.rows)
            .filter(|m| !values.contains_key(m.key))
            .map(|m| m.key)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "node A did not report {missing:?}; {}",
                log.display()
            ));
        }
        Ok(values)
    }
}

/// One line of node A's output, as far as the harness cares.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// `@@STEP <letter> run=N`: a measurement starts.
    Step(String),
    /// `@@ROW <letter> run=N k=v ...`: its results, keyed `<letter>.<k>`.
    Row(Vec<(String, f64)>),
    /// The human-readable table and anything else.
    Other,
}

pub fn parse_line(line: &str) -> Result<Line, String> {
    let mut words = line.split_whitespace();
    let kind = words.next();
    if kind != Some("@@STEP") && kind != Some("@@ROW") {
        return Ok(Line::Other);
    }
    let letter = words
        .next()
        .ok_or_else(|| format!("no row letter in {line:?}"))?;
    if kind == Some("@@STEP") {
        return Ok(Line::Step(letter.to_string()));
    }
    let mut kvs = Vec::new();
    for kv in words {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("bad field {kv:?} in {line:?}"))?;
        if k == "run" {
            continue;
        }
        let v: f64 = v
            .parse()
            .map_err(|_| format!("bad number {v:?} in {line:?}"))?;
        kvs.push((format!("{letter}.{k}"), v));
    }
    Ok(Line::Row(kvs))
}

#[cfg(test)]
mod tests {
    use super::super::metrics::pairing_metrics;
    use super::*;

    #[test]
    fn parses_steps_rows_and_ignores_the_rest() {
        assert_eq!(parse_line("@@STEP f run=2"), Ok(Line::Step("f".into())));
        assert_eq!(
            parse_line("@@ROW a run=1 p50_us=28.733 p99_us=1.5e3"),
            Ok(Line::Row(vec![
                ("a.p50_us".into(), 28.733),
                ("a.p99_us".into(), 1500.0)
            ]))
        );
        assert_eq!(parse_line("| (a) RTT p50, µs | 28.7 |"), Ok(Line::Other));
        assert!(parse_line("@@ROW a run=1 p50_us=fast").is_err());
    }

    #[test]
    fn the_embedded_scripts_report_every_row() {
        for m in pairing_metrics() {
            let field = m.key.split('.').nth(1).unwrap_or_default();
            assert!(
                NODE_A_EXS.contains(&format!("{field}:")),
                "node_a.exs never reports {}",
                m.key
            );
        }
        assert!(NODE_B_EXS.contains(":bench_server"));
    }
}
