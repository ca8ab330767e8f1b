//! The node flags shared by every command that starts a ferl node (`ferl shell`, later
//! `ferl run`): `--sname`/`--name`, `--cookie`, `--hidden`, `--ticktime`, as `erl`/`iex` spell them,
//! `--busy-wait` and `--schedulers` as `erl +sbwt` and `+S`.

use ferl::{NodeName, StartOptions};
use std::time::Duration;

#[derive(clap::Args, Debug, Clone)]
pub struct NodeArgs {
    /// Short node name (`alice` -> alice@<short hostname>).
    #[arg(long, conflicts_with = "name")]
    pub sname: Option<String>,
    /// Long node name, `alice@host.example`.
    #[arg(long)]
    pub name: Option<String>,
    /// Magic cookie (default: ~/.erlang.cookie, created when missing).
    #[arg(long)]
    pub cookie: Option<String>,
    /// Hidden node: peers list it in `nodes(hidden)` only.
    #[arg(long)]
    pub hidden: bool,
    /// net_ticktime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub ticktime: u64,
    /// Microseconds to keep polling for network input after the last write before sleeping (BEAM's `+sbwt`); 0 never spins.
    #[arg(long, value_name = "MICROS", default_value_t = ferl::DEFAULT_BUSY_WAIT.as_micros() as u64)]
    pub busy_wait: u64,
    /// Worker threads of the node's runtime (BEAM's `+S`) [default: one per CPU].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub schedulers: Option<u16>,
}

impl NodeArgs {
    /// The node's runtime, with `--schedulers` worker threads.
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        crate::schedulers::runtime(self.schedulers.map(usize::from))
    }

    /// Start options for a distributed node, or `None` when no name was given (then the node is
    /// `nonode@nohost`, without distribution, as `iex` without `--sname`).
    pub fn start_options(&self) -> Option<StartOptions> {
        let name = match (&self.sname, &self.name) {
            (Some(s), _) => NodeName::Short(s.clone()),
            (None, Some(n)) => NodeName::Long(n.clone()),
            (None, None) => return None,
        };
        let mut opts = StartOptions::new(name);
        opts.cookie = self.cookie.clone();
        opts.hidden = self.hidden;
        opts.net_ticktime = Duration::from_secs(self.ticktime.max(1));
        opts.busy_wait = Duration::from_micros(self.busy_wait);
        Some(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        node: NodeArgs,
    }

    fn opts(args: &[&str]) -> StartOptions {
        let cli = Cli::try_parse_from(std::iter::once("ferl").chain(args.iter().copied()))
            .expect("parses");
        cli.node.start_options().expect("a named node")
    }

    #[test]
    fn busy_wait_defaults_to_the_nodes_and_can_be_turned_off() {
        assert_eq!(opts(&["--sname", "a"]).busy_wait, ferl::DEFAULT_BUSY_WAIT);
        assert_eq!(
            opts(&["--sname", "a", "--busy-wait", "50"]).busy_wait,
            Duration::from_micros(50)
        );
        assert!(opts(&["--sname", "a", "--busy-wait", "0"])
            .busy_wait
            .is_zero());
        assert_eq!(
            opts(&["--sname", "a", "--ticktime", "7"]).net_ticktime,
            Duration::from_secs(7)
        );
    }

    #[test]
    fn schedulers_set_the_runtimes_worker_threads() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("ferl").chain(args.iter().copied())).map(|c| c.node)
        };
        let one = parse(&["--sname", "a", "--schedulers", "1"]).expect("parses");
        assert_eq!(one.runtime().expect("runtime").metrics().num_workers(), 1);
        let default = parse(&["--sname", "a"]).expect("parses");
        assert_eq!(
            default.runtime().expect("runtime").metrics().num_workers(),
            crate::schedulers::cpus()
        );
        assert!(parse(&["--sname", "a", "--schedulers", "0"]).is_err());
    }
}
