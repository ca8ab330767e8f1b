//! The `ferl` command: one binary for every role a ferl node plays (epmd, node, shell, demo, bench).
//! Each subcommand lives in its own module; this file only parses arguments and dispatches.

mod bench;
mod demo;
mod epmd_cmd;
mod node_args;
mod run_cmd;
mod schedulers;
mod shell_cmd;
mod thp;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The `ferl` binary allocates with mimalloc (the library crates leave the choice to their
/// user). Message passing allocates a term on the connection's reader thread and frees it on
/// whichever thread runs the receiving process: glibc's malloc then contends on its arena locks
/// (futex wake-ups were a tenth of a receiving node's time in fan-out) and walks cold free
/// lists, where mimalloc frees into per-thread pages. Measured in interleaved `ferl bench`
/// runs, ferl->ferl, with the busy limit on both: (b) 1.50-1.69M -> 1.72-2.19M msgs/s, (d)
/// 1.42-1.66M -> 1.72-1.99M, (g) 1.38-1.53M -> 2.09-2.68M deliveries/s, (f) unchanged within
/// noise, and (h) 627 -> 453 bytes per idle process.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ferl",
    version,
    about = "Erlang-style distributed messaging for Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Erlang Port Mapper Daemon, compatible with `epmd` (real erl nodes register with it too).
    Epmd(epmd_cmd::EpmdArgs),
    /// Benchmarks ferl and BEAM side by side (bench/README.md) and prints one Markdown table.
    Bench(bench::BenchArgs),
    /// The tutorial's "Off To The Races" on three ferl nodes (server, alice, bob), checked line by line.
    Demo(demo::DemoArgs),
    /// Runs a distributed ferl node (`--sname`/`--name`) until SIGINT/SIGTERM.
    Run(run_cmd::RunArgs),
    /// An iex-like shell on a ferl node (`--sname`/`--name`), or one expression with `--eval`.
    Shell(shell_cmd::ShellArgs),
}

fn main() -> ExitCode {
    thp::disable();
    let cli = Cli::parse();
    match cli.command {
        Command::Epmd(args) => epmd_cmd::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => run_cmd::run(args),
        Command::Shell(args) => shell_cmd::run(args),
    }
}
