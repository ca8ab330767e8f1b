//! Transparent huge pages: off for the `ferl` process, back to the system's setting for the BEAM
//! nodes it starts (the bench's Elixir nodes and epmd), so those run as they would anyway.
//!
//! Why off: with THP on (`always`, as on the reference VM), the first touch of memory in a
//! 2 MB-aligned region has the kernel zero a whole 2 MB page. A process whose state grows (the
//! tutorial's stack server holding a million pushes) then spent half its time in the kernel's
//! `clear_page_erms`, under a `Vec` growing by reallocation. With THP off, pages are zeroed 4 kB
//! at a time as they are used. Interleaved ferl->ferl runs: (e) 0.95-1.43M -> 1.92-2.26M msgs/s,
//! (b) 1.90-1.94M -> 2.03-2.35M, the other rows unchanged. mimalloc does the same when told
//! (`MIMALLOC_ALLOW_THP=0`), but reads that before `main`; `prctl` is what it would call.

use std::ffi::{c_int, c_ulong};
use std::os::unix::process::CommandExt;
use std::process::Command;

const PR_SET_THP_DISABLE: c_int = 41;

extern "C" {
    fn prctl(option: c_int, ...) -> c_int;
}

fn set_disabled(disabled: bool) -> bool {
    let flag: c_ulong = disabled.into();
    let zero: c_ulong = 0;
    // SAFETY: prctl(PR_SET_THP_DISABLE, flag, 0, 0, 0) sets one flag of the calling process and
    // reads no memory; a kernel without it returns -1 (EINVAL), which the caller may ignore.
    unsafe { prctl(PR_SET_THP_DISABLE, flag, zero, zero, zero) == 0 }
}

/// Turns THP off for this process (and, by inheritance, the ferl processes it starts).
pub fn disable() {
    let _ = set_disabled(true);
}

/// Makes `cmd`'s process start with the system's THP setting rather than ferl's.
pub fn system_default_for(cmd: &mut Command) -> &mut Command {
    // SAFETY: the closure runs in the child between fork and exec; it makes one system call
    // (async-signal-safe), allocates nothing and touches no state shared with the parent.
    unsafe {
        cmd.pre_exec(|| {
            let _ = set_disabled(false);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `THP_enabled` of /proc/self/status as `cmd` sees it (Linux 5.0 and later).
    fn thp_enabled_in(cmd: &mut Command) -> String {
        let out = cmd
            .args(["-c", "grep THP_enabled /proc/self/status"])
            .output()
            .expect("sh runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn ferl_runs_without_thp_and_the_nodes_it_starts_with_the_systems_setting() {
        let system = thp_enabled_in(&mut Command::new("sh"));
        disable();
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        assert!(
            status.lines().any(|l| l == "THP_enabled:\t0"),
            "THP still enabled here"
        );
        // Inherited by a plain child...
        assert_eq!(thp_enabled_in(&mut Command::new("sh")), "THP_enabled:\t0");
        // ...but not by one started for a BEAM node.
        let mut sh = Command::new("sh");
        assert_eq!(thp_enabled_in(system_default_for(&mut sh)), system);
    }
}
