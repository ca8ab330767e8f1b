//! `ferl epmd`: runs the embedded port mapper (foreground or daemon) or queries one (`-names`).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct EpmdArgs {}

pub fn run(_args: EpmdArgs) -> ExitCode {
    eprintln!("ferl epmd: not built yet");
    ExitCode::FAILURE
}
