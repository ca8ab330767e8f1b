//! `ferl run --sname NAME | --name NAME@HOST`: a ferl node that serves until SIGINT/SIGTERM,
//! logging like Elixir's Logger (`12:31:23.891 [info] message`), then unregisters from EPMD,
//! closes its connections and exits 0. A name in use prints BEAM's text and exits 1.

use ferl::{Node, NodeName, StartError, StartOptions};
use std::fmt;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// Start a distributed ferl node (like `erl -sname`/`-name`) and serve until stopped.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Short node name (`alice` -> alice@<short hostname>).
    #[arg(long, conflicts_with = "name", required_unless_present = "name")]
    sname: Option<String>,
    /// Long node name, `alice@host.example`.
    #[arg(long)]
    name: Option<String>,
    /// Magic cookie (default: ~/.erlang.cookie, created when missing).
    #[arg(long)]
    cookie: Option<String>,
    /// Hidden node: peers list it in `nodes(hidden)` only.
    #[arg(long)]
    hidden: bool,
    /// net_ticktime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    ticktime: u64,
}

/// Elixir Logger's console format: `HH:MM:SS.mmm [level] message` (UTC clock time).
pub(crate) struct ElixirFormat;

impl<S, N> FormatEvent<S, N> for ElixirFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let s = now.as_secs() % 86_400;
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "debug",
        };
        write!(
            writer,
            "{:02}:{:02}:{:02}.{:03} [{level}] ",
            s / 3600,
            s / 60 % 60,
            s % 60,
            now.subsec_millis()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Logs to stdout in Elixir's format; `RUST_LOG` overrides the `info` default.
pub(crate) fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .event_format(ElixirFormat)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}

pub fn run(args: RunArgs) -> ExitCode {
    init_logging();
    let name = match (args.sname, args.name) {
        (Some(s), _) => NodeName::Short(s),
        (None, Some(n)) => NodeName::Long(n),
        (None, None) => unreachable!("clap requires --sname or --name"),
    };
    let mut opts = StartOptions::new(name);
    opts.cookie = args.cookie;
    opts.hidden = args.hidden;
    opts.net_ticktime = Duration::from_secs(args.ticktime.max(1));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(serve(opts))
}

async fn serve(opts: StartOptions) -> ExitCode {
    let node = match Node::start(opts).await {
        Ok(n) => n,
        Err(e @ StartError::NameInUse(_)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("ferl run: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "ferl node {} running (epmd port {}, listening on {})",
        node.name(),
        node.epmd_port().unwrap_or_default(),
        node.listen_port().unwrap_or_default()
    );
    wait_for_stop_signal().await;
    tracing::info!("stopping node {}", node.name());
    node.stop();
    // Let the writers flush their close before the runtime goes away.
    tokio::time::sleep(Duration::from_millis(100)).await;
    ExitCode::SUCCESS
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
