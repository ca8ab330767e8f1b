//! The `ferl` command: one binary for every role a ferl node plays (epmd, node, shell, demo, bench).
//! Each subcommand lives in its own module; this file only parses arguments and dispatches.

mod epmd_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "ferl", version, about = "Erlang-style distributed messaging for Rust")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Erlang Port Mapper Daemon, compatible with `epmd` (real erl nodes register with it too).
    Epmd(epmd_cmd::EpmdArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Epmd(args) => epmd_cmd::run(args),
    }
}
