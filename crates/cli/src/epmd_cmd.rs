//! `ferl epmd`: runs the port mapper (foreground, or `-daemon` in the background) or queries a
//! running one (`-names`, `-kill`), with real epmd's single-dash flags and messages, so scripts
//! written for `epmd` work with `ferl epmd`. `ERL_EPMD_PORT` and `-port` choose the port.

use clap::Parser;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

/// The raw arguments after `ferl epmd`: clap cannot parse epmd's single-dash long flags
/// (`-names` would be a cluster of short flags), so they are normalised and parsed by [`Opts`].
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub struct EpmdArgs {
    /// epmd flags: [-port No] [-daemon] [-names] [-kill] [-relaxed_command_check]
    /// [-packet_timeout Seconds] [-d|-debug] (single or double dash)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<String>,
}

/// Erlang Port Mapper Daemon, compatible with `epmd`.
#[derive(Parser, Debug)]
#[command(name = "ferl epmd")]
struct Opts {
    /// Port to listen on / talk to (default: $ERL_EPMD_PORT, else 4369).
    #[arg(long, value_name = "No")]
    port: Option<u16>,
    /// Start detached in the background; returns once it answers.
    #[arg(long, conflicts_with_all = ["names", "kill"])]
    daemon: bool,
    /// List the names registered with the running epmd.
    #[arg(long, conflicts_with = "kill")]
    names: bool,
    /// Stop the running epmd (refused while nodes are registered, unless it was started with
    /// -relaxed_command_check).
    #[arg(long)]
    kill: bool,
    /// Allow -kill while nodes are registered.
    #[arg(long = "relaxed_command_check", alias = "relaxed-command-check")]
    relaxed_command_check: bool,
    /// Seconds a connection may stay idle before a request completes (default 60).
    #[arg(
        long = "packet_timeout",
        alias = "packet-timeout",
        value_name = "SECONDS"
    )]
    packet_timeout: Option<u64>,
    /// More logging (repeatable).
    #[arg(short = 'd', long = "debug", action = clap::ArgAction::Count)]
    debug: u8,
}

/// `-names` -> `--names`, `-port` -> `--port`; short flags (`-d`) and `--long` stay as they are.
pub fn normalize_args(args: &[String]) -> Vec<String> {
    args.iter()
        .map(|a| {
            let single_dash_word = a.len() > 2
                && a.starts_with('-')
                && !a.starts_with("--")
                && a[1..].starts_with(|c: char| c.is_ascii_alphabetic());
            if single_dash_word {
                format!("-{a}")
            } else {
                a.clone()
            }
        })
        .collect()
}

pub fn run(args: EpmdArgs) -> ExitCode {
    let argv = std::iter::once("ferl epmd".to_string()).chain(normalize_args(&args.args));
    let opts = match Opts::try_parse_from(argv) {
        Ok(o) => o,
        Err(e) => e.exit(),
    };
    let port = opts.port.unwrap_or_else(epmd::epmd_port);
    init_logging(&opts);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("epmd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        if opts.names {
            names(port).await
        } else if opts.kill {
            kill(port).await
        } else if opts.daemon {
            daemon(port, &opts).await
        } else {
            foreground(port, &opts).await
        }
    })
}

/// Logs go to stderr. The foreground server says what it does at `info`; the client commands
/// and `-daemon` stay quiet unless `RUST_LOG` or `-d` ask for more (their stdout is the answer).
fn init_logging(opts: &Opts) {
    let serving = !(opts.names || opts.kill || opts.daemon);
    let default = match (serving, opts.debug) {
        (_, d) if d >= 2 => "debug",
        (true, _) | (false, 1) => "info",
        (false, _) => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn local(port: u16) -> (Ipv4Addr, u16) {
    (Ipv4Addr::LOCALHOST, port)
}

/// `epmd -names`: same text, same exit codes.
async fn names(port: u16) -> ExitCode {
    match epmd::names_reply(local(port)).await {
        Ok(reply) => {
            print!(
                "epmd: up and running on port {} with data:\n{}",
                reply.epmd_port,
                reply.text()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::debug!(error = %e, port, "names failed");
            eprintln!("epmd: Cannot connect to local epmd");
            ExitCode::FAILURE
        }
    }
}

/// `epmd -kill`: same text, same exit codes.
async fn kill(port: u16) -> ExitCode {
    match epmd::kill(local(port)).await {
        Ok(true) => {
            println!("Killed");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("Killing not allowed - living nodes in database.");
            ExitCode::FAILURE
        }
        Err(e) => {
            tracing::debug!(error = %e, port, "kill failed");
            eprintln!("epmd: Cannot connect to local epmd");
            ExitCode::FAILURE
        }
    }
}

/// Re-runs this binary as `ferl epmd -port N` detached, then waits until it answers. Like
/// `epmd -daemon`, an epmd already answering on the port is success.
async fn daemon(port: u16, opts: &Opts) -> ExitCode {
    match epmd::names_reply(local(port)).await {
        Ok(_) => {
            tracing::info!(port, "there is already an epmd running on this port");
            return ExitCode::SUCCESS;
        }
        Err(epmd::EpmdError::Connect { .. }) => {}
        Err(e) => {
            eprintln!("epmd: port {port} is in use by something that is not epmd ({e})");
            return ExitCode::FAILURE;
        }
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("epmd: cannot find this program to run it as a daemon: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut extra = Vec::new();
    if opts.relaxed_command_check {
        extra.push("-relaxed_command_check".to_string());
    }
    if let Some(t) = opts.packet_timeout {
        extra.extend(["-packet_timeout".to_string(), t.to_string()]);
    }
    let pid = match epmd::spawn_daemon(&exe, port, &extra) {
        Ok(pid) => pid,
        Err(e) => {
            eprintln!("epmd: {e}");
            return ExitCode::FAILURE;
        }
    };
    if epmd::wait_until_answering(port).await {
        // The pid goes to the log (stderr, when enabled) so scripts and tests can stop it.
        tracing::info!(pid, port, "epmd daemon started");
        ExitCode::SUCCESS
    } else {
        eprintln!("epmd: the daemon (pid {pid}) did not answer on port {port}");
        ExitCode::FAILURE
    }
}

/// The server in the foreground, logging to stderr, until killed or sent KILL_REQ.
async fn foreground(port: u16, opts: &Opts) -> ExitCode {
    let mut config = epmd::ServerConfig {
        relaxed_command_check: opts.relaxed_command_check,
        ..Default::default()
    };
    if let Some(t) = opts.packet_timeout {
        config.packet_timeout = Duration::from_secs(t.max(1));
    }
    let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
    let server = match epmd::Server::bind_with(addr, config).await {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            // Real epmd exits 0 here: the port mapper the user wanted is there already.
            return match epmd::names_reply(local(port)).await {
                Ok(_) => {
                    tracing::info!(port, "there is already an epmd running on this port");
                    ExitCode::SUCCESS
                }
                Err(_) => {
                    eprintln!("epmd: port {port} is in use by something that is not epmd");
                    ExitCode::FAILURE
                }
            };
        }
        Err(e) => {
            eprintln!("epmd: cannot listen on port {port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match server.serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("epmd: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn single_dash_words_become_long_flags() {
        assert_eq!(
            normalize_args(&s(&["-names", "-port", "4370", "-d", "--kill", "-1"])),
            s(&["--names", "--port", "4370", "-d", "--kill", "-1"])
        );
    }

    #[test]
    fn epmd_style_command_lines_parse() {
        let argv = std::iter::once("x".to_string()).chain(normalize_args(&s(&[
            "-port",
            "4370",
            "-daemon",
            "-relaxed_command_check",
            "-packet_timeout",
            "5",
        ])));
        let o = Opts::try_parse_from(argv).expect("parses");
        assert_eq!(o.port, Some(4370));
        assert!(o.daemon && o.relaxed_command_check && !o.names);
        assert_eq!(o.packet_timeout, Some(5));
    }
}
