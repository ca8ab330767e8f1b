//! `ferl shell [--sname NAME] [--eval EXPR]`: an iex-like shell on a ferl node. Interactive with
//! line editing and history on a terminal, line by line from a pipe, or one expression with
//! `--eval` (exit status 1 when it raises).

use crate::node_args::NodeArgs;
use crate::run_cmd::init_logging;
use ferl::{Node, StartError};
use shell::{eval_once, run_interactive, run_script, NodeRuntime, Shell};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ShellArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// Evaluate one expression, print its result and exit.
    #[arg(long, value_name = "EXPR")]
    eval: Option<String>,
}

pub fn run(args: ShellArgs) -> ExitCode {
    init_logging();
    let rt = match args.node.runtime() {
        Ok(rt) => std::sync::Arc::new(rt),
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // This thread waits for lines outside the runtime: a node of one scheduler needs its own
    // thread to run it meanwhile (answer pings, deliver messages).
    let driver = match crate::schedulers::Driver::start(&rt) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot start the scheduler thread: {e}");
            return ExitCode::FAILURE;
        }
    };
    let node = match args.node.start_options() {
        Some(opts) => match rt.block_on(Node::start(opts)) {
            Ok(n) => n,
            Err(e @ StartError::NameInUse(_)) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("ferl shell: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => {
            let _guard = rt.enter();
            Node::local("nonode@nohost", 0)
        }
    };
    if node.global().is_some() {
        // Server/Client callable from other nodes too (`:rpc.call(node, Client, :push, ...)`).
        stack::install(&node);
    }
    let node_name = node.name().as_str().to_string();
    etf::print::set_local_node(node.name());
    let runtime = NodeRuntime::new(node.clone(), rt.handle().clone());
    let prompt_node = (node_name != "nonode@nohost").then_some(node_name.as_str());
    let code = if let Some(expr) = args.eval {
        match eval_once(runtime, prompt_node, &expr) {
            Ok(out) => {
                println!("{out}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("{err}");
                ExitCode::FAILURE
            }
        }
    } else {
        let mut shell = Shell::new(runtime, prompt_node);
        let result = if std::io::stdin().is_terminal() {
            let history = std::env::var_os("HOME")
                .map(|h| std::path::PathBuf::from(h).join(".ferl_shell_history"));
            run_interactive(&mut shell, history.as_deref())
        } else {
            run_script(&mut shell, std::io::stdin().lock(), std::io::stdout())
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ferl shell: {e}");
                ExitCode::FAILURE
            }
        }
    };
    rt.block_on(async {
        node.stop();
        // Let connections flush their close before the runtime goes away.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    });
    drop(driver);
    code
}
