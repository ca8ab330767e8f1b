//! Remote procedure calls, both ways, as OTP 25 does them (research §5): serving
//! `erpc:execute_call/4` / `execute_cast/3` spawn requests and `rex` calls for Rust functions
//! defined by module/function/arity, and calling any node with [`call`], [`cast`], [`multicall`].
//!
//! Define a function with [`Node::def_fn`](crate::Node::def_fn) (or `def_fn_typed`,
//! `def_fn_in_process`); it returns its value or an [`Exception`](crate::Exception). Every
//! outcome reaches the caller as from a BEAM callee: value, throw, exit, error with a stack,
//! `undef` for a missing function, and a panic as `error {panic, <<"message">>}`.

mod apply;
mod client;
mod define;
mod erpc;
mod result;
pub mod rex;

pub use client::{call, cast, multicall, multicall_results};
pub use define::IntoCallResult;
pub use erpc::{erpc_atom, execute_call_atom, execute_cast_atom};
pub use result::{to_term, RpcError, RpcResult};

pub(crate) use erpc::builtins;
