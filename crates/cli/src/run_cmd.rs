//! `ferl run --sname NAME | --name NAME@HOST [--eval EXPR]`: a ferl node that serves until
//! SIGINT/SIGTERM, logging like Elixir's Logger (`12:31:23.891 [info] message`), then unregisters
//! from EPMD, closes its connections and exits 0. A name in use prints BEAM's text and exits 1.
//! `--eval` runs one shell expression at start (`--eval 'Server.start'`: the tutorial's server).

use crate::node_args::NodeArgs;
use ferl::{Node, StartError, StartOptions};
use shell::{eval_once, NodeRuntime};
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
#[command(group(clap::ArgGroup::new("node_name").required(true).args(["sname", "name"])))]
pub struct RunArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// Evaluate one shell expression once the node is up (printing its result), then serve.
    /// Exit status 1 if it raises.
    #[arg(long, value_name = "EXPR")]
    eval: Option<String>,
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
        // Fields (`port=4369`) in plain text, whatever the terminal: a fresh `Writer` has no
        // ANSI styling, and the output is read by people and by tests alike.
        let mut fields = String::new();
        ctx.field_format()
            .format_fields(Writer::new(&mut fields), event)?;
        writer.write_str(&fields)?;
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
    let Some(opts) = args.node.start_options() else {
        eprintln!("ferl run: --sname or --name is required");
        return ExitCode::from(2);
    };
    let rt = match args.node.runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(serve(opts, args.eval))
}

async fn serve(opts: StartOptions, eval: Option<String>) -> ExitCode {
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
    etf::print::set_local_node(node.name());
    stack::install(&node);
    if let Some(expr) = eval {
        if let Err(text) = eval_at_start(&node, expr).await {
            eprintln!("{text}");
            node.stop();
            tokio::time::sleep(Duration::from_millis(100)).await;
            return ExitCode::FAILURE;
        }
    }
    wait_for_stop_signal().await;
    tracing::info!("stopping node {}", node.name());
    node.stop();
    // Let the writers flush their close before the runtime goes away.
    tokio::time::sleep(Duration::from_millis(100)).await;
    ExitCode::SUCCESS
}

/// Evaluates `expr` in a shell on `node` and prints the result; `Err` is the iex error text.
async fn eval_at_start(node: &Node, expr: String) -> Result<(), String> {
    let runtime = NodeRuntime::new(node.clone(), tokio::runtime::Handle::current());
    let name = node.name().as_str().to_string();
    // The shell's runtime blocks its caller, so it runs off the async worker threads.
    let out = tokio::task::spawn_blocking(move || eval_once(runtime, Some(&name), &expr))
        .await
        .map_err(|e| format!("ferl run: --eval failed: {e}"))??;
    println!("{out}");
    Ok(())
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
