//! `ferl demo`: the tutorial's "Off To The Races" on three ferl nodes, each its own OS process
//! (`ferl run --sname server --eval Server.start`, `ferl shell --sname alice`, `... bob`), on an
//! embedded epmd on a free port. Prints every command, its result and every node's log lines,
//! prefixed by node, in the tutorial's order; checks each against the tutorial; exits 0 if all held.

mod child;
mod script;
mod transcript;

use child::NodeProcess;
use script::Step;
use std::process::ExitCode;
use std::time::Duration;
use transcript::{Kind, Transcript};

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// How long one step may take (its result and its log lines), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    step_timeout: u64,
}

pub fn run(args: DemoArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferl demo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // ferl's own epmd, in this process, on a free port: the demo needs nothing running and
    // disturbs no epmd (or tutorial) already on this machine.
    let epmd = match rt.block_on(epmd::Server::bind(([0, 0, 0, 0], 0).into())) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ferl demo: cannot start epmd: {e}");
            return ExitCode::FAILURE;
        }
    };
    let epmd_port = epmd.local_addr().map(|a| a.port()).unwrap_or_default();
    let epmd_thread = std::thread::spawn(move || {
        let _ = rt.block_on(epmd.serve());
    });
    drop(epmd_thread); // serves until this process exits
    match play(epmd_port, Duration::from_secs(args.step_timeout.max(1))) {
        Ok(n) => {
            println!("demo  | all {n} steps printed what the tutorial shows; nodes stopped");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("ferl demo: {why}");
            ExitCode::FAILURE
        }
    }
}

fn cookie() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("DEMO{}X{nanos}", std::process::id())
}

/// Runs the session; `Ok(steps)` when every step printed what it must.
fn play(epmd_port: u16, limit: Duration) -> Result<usize, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut out = Transcript::new(rx);
    let cookie = cookie();
    let env = [("ERL_EPMD_PORT", epmd_port.to_string())];
    println!("demo  | epmd (embedded) on port {epmd_port}; three ferl nodes: server, alice, bob");

    let server_args = [
        "run",
        "--sname",
        "server",
        "--cookie",
        &cookie,
        "--eval",
        "Server.start",
    ];
    out.say("server", "$ ferl run --sname server --eval 'Server.start'");
    let mut server = NodeProcess::spawn("server", &server_args, &env, tx.clone())
        .map_err(|e| format!("cannot start the server node: {e}"))?;
    let mut host = None;
    let started = out.wait_until(0, limit, |seen| {
        for (node, k) in seen {
            if let (&"server", Kind::Output(text)) = (node, k) {
                if let Some(name) = text
                    .strip_prefix("ferl node ")
                    .and_then(|r| r.split(' ').next())
                {
                    host = name.split_once('@').map(|(_, h)| h.to_string());
                }
            }
        }
        seen.iter()
            .any(|(n, k)| *n == "server" && *k == Kind::Output(":yes".into()))
    });
    let host = match (started, host) {
        (true, Some(h)) => h,
        _ => {
            server.stop(Duration::from_secs(2));
            return Err("the server did not start (expected `:yes` from Server.start)".into());
        }
    };

    let mut shells = Vec::new();
    for label in ["alice", "bob"] {
        out.say(label, &format!("$ ferl shell --sname {label}"));
        let args = ["shell", "--sname", label, "--cookie", &cookie];
        shells.push(
            NodeProcess::spawn(label, &args, &env, tx.clone())
                .map_err(|e| format!("cannot start {label}: {e}"))?,
        );
    }
    drop(tx);
    let steps = script::tutorial(&host);
    let result = run_steps(&mut out, &mut shells, &steps, &host, limit);
    // Let the last notifications print, then stop the clients before the server.
    out.drain_for(Duration::from_millis(300));
    let mut codes = Vec::new();
    for sh in shells.iter_mut() {
        codes.push((sh.label, sh.stop(Duration::from_secs(5))));
    }
    codes.push(("server", server.stop(Duration::from_secs(5))));
    out.drain_for(Duration::from_millis(200));
    result?;
    for (label, code) in codes {
        if code != Some(0) {
            return Err(format!("node {label} did not exit cleanly ({code:?})"));
        }
    }
    Ok(steps.len())
}

fn run_steps(
    out: &mut Transcript,
    shells: &mut [NodeProcess],
    steps: &[Step],
    host: &str,
    limit: Duration,
) -> Result<(), String> {
    let mut counters = [1u32; 2];
    for st in steps {
        let i = shells
            .iter()
            .position(|s| s.label == st.node)
            .ok_or_else(|| format!("no node {}", st.node))?;
        let mut tries = 0;
        loop {
            out.say(
                st.node,
                &format!("ferl({}@{host}){}> {}", st.node, counters[i], st.input),
            );
            let (got, missing) = type_and_wait(out, &mut shells[i], st, limit)?;
            if !got.starts_with("** (") {
                counters[i] += 1;
            }
            if !st.result.matches(&got) {
                if tries < st.retries {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
                return Err(format!(
                    "`{}` on {} printed {got:?}, the tutorial expects {:?}",
                    st.input, st.node, st.result
                ));
            }
            if !missing.is_empty() {
                return Err(format!(
                    "after `{}`, missing log lines: {missing:?}",
                    st.input
                ));
            }
            break;
        }
    }
    Ok(())
}

/// Types a step's line and waits for its result and its log lines; returns the result and
/// the log lines still missing when `limit` passed.
fn type_and_wait(
    out: &mut Transcript,
    shell: &mut NodeProcess,
    st: &Step,
    limit: Duration,
) -> Result<(String, Vec<String>), String> {
    let from = out.seen.len();
    shell
        .type_line(&st.input)
        .map_err(|e| format!("{} stopped reading: {e}", st.node))?;
    let logged = |seen: &[(&'static str, Kind)], node: &str, line: &str| {
        seen.iter()
            .any(|(n, k)| *n == node && matches!(k, Kind::Log(l) if l == line))
    };
    let mut result = None;
    out.wait_until(from, limit, |seen| {
        if result.is_none() {
            result = seen.iter().find_map(|(n, k)| match k {
                Kind::Output(t) if *n == st.node => Some(t.clone()),
                _ => None,
            });
        }
        result.is_some() && st.logs.iter().all(|(node, line)| logged(seen, node, line))
    });
    let missing = st
        .logs
        .iter()
        .filter(|(node, line)| !logged(&out.seen[from..], node, line))
        .map(|(n, l)| format!("{n}: {l}"))
        .collect();
    Ok((result.unwrap_or_default(), missing))
}
