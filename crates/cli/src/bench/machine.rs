//! The table's header: which machine and which Erlang/Elixir the numbers were taken on, and
//! when (ratios hold within one run on one machine; absolute numbers do not travel).

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// `# ferl bench, <date>` plus one line on the machine and the BEAM.
pub fn header(mode: &str, runs: usize, schedulers: usize) -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = cpu_model().unwrap_or_else(|| "unknown CPU".into());
    format!(
        "# ferl bench, {}\n\nmachine: {cpus} cores (nproc), {model}; Erlang/OTP {}, Elixir {}; \
         loopback, TCP congestion control {}; {mode} mode, runs={runs}; ferl nodes run \
         {schedulers} scheduler(s) each, BEAM nodes their default (one per core)",
        utc_now(),
        otp_version().unwrap_or_else(|| "?".into()),
        output("elixir", &["--short-version"]).unwrap_or_else(|| "?".into()),
        congestion_control().unwrap_or_else(|| "?".into()),
    )
}

/// The kernel's TCP congestion control (e.g. `bbr`, `cubic`): whether a sender's socket backs up
/// and its writes merge into fewer segments depends on it, which moves the one-way rows.
fn congestion_control() -> Option<String> {
    let s = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_congestion_control").ok()?;
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

/// The full OTP version (e.g. 25.2.3), which `otp_release` alone (25) does not give.
fn otp_version() -> Option<String> {
    let eval = "{ok, V} = file:read_file(filename:join([code:root_dir(), \"releases\", \
                erlang:system_info(otp_release), \"OTP_VERSION\"])), io:put_chars(V), halt().";
    output("erl", &["-noshell", "-eval", eval])
}

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

/// `YYYY-MM-DD HH:MM UTC`, from the system clock (civil-from-days, no date crate needed).
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_utc(secs)
}

fn format_utc(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_the_kernels_congestion_control_and_the_schedulers() {
        let cc = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_congestion_control")
            .expect("a Linux kernel")
            .trim()
            .to_string();
        assert!(!cc.is_empty());
        let h = header("quick", 1, 3);
        assert!(h.contains(&format!("TCP congestion control {cc};")), "{h}");
        assert!(h.contains("ferl nodes run 3 scheduler(s) each"), "{h}");
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_795_533_351), "2026-11-24 15:15 UTC");
    }
}
