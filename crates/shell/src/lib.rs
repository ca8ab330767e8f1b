//! ferl-shell: the language core of an iex-like shell. Elixir-syntax expressions are lexed,
//! parsed and evaluated over `etf::Term`s; the node is reached only through the `Runtime` trait.

pub mod ast;
pub mod builtins;
pub mod error;
pub mod eval;
mod global_calls;
pub mod lexer;
pub mod node_runtime;
pub mod ops;
pub mod parser;
pub mod pattern;
pub mod repl;
pub mod runtime;
mod stack_calls;
pub mod stdlib;
pub mod token;

pub use error::{ParseError, ShellError, SyntaxIssue};
pub use eval::Interp;
pub use node_runtime::NodeRuntime;
pub use parser::parse;
pub use repl::{eval_once, run_interactive, run_script, Outcome, Shell};
pub use runtime::Runtime;
