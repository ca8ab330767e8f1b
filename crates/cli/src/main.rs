//! The `ferl` command: one binary for every role a ferl node plays (epmd, node, shell, demo, bench).
//! Each subcommand lives in its own module; this file only parses arguments and dispatches.

mod bench;
mod demo;
mod epmd_cmd;
mod node_args;
mod run_cmd;
mod shell_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
    let cli = Cli::parse();
    match cli.command {
        Command::Epmd(args) => epmd_cmd::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => run_cmd::run(args),
        Command::Shell(args) => shell_cmd::run(args),
    }
}
