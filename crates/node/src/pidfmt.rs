//! Printing pids for logs the way Elixir's Logger does (`#PID<0.110.0>` for a local process).

use etf::Pid;

/// `#PID<0.Id.Serial>`: in logs the node is shown separately, so the node index is 0.
pub(crate) fn elixir_pid(pid: Pid) -> String {
    format!("#PID<0.{}.{}>", pid.id, pid.serial)
}
