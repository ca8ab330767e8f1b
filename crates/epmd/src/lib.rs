//! The Erlang Port Mapper Daemon protocol: wire messages ([`proto`], sans-I/O), a client for
//! nodes ([`register`], [`port_please`], [`names`]), a server real `erl` nodes use too
//! ([`Server`]), and [`ensure_running`], which finds or starts one like `erl` does.

mod client;
mod conn;
mod ensure;
mod error;
pub mod proto;
mod registry;
mod server;

pub use client::{kill, names, names_reply, port_please, register, Registration, TIMEOUT};
pub use ensure::{
    ensure_running, ensure_running_with, find_ferl_binary, spawn_daemon, wait_until_answering,
    EpmdStatus, Launcher,
};
pub use error::{name_in_use_message, DecodeError, EpmdError};
pub use proto::NodeInfo;
pub use server::{Server, ServerConfig};

/// The port EPMD listens on unless `ERL_EPMD_PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 4369;

/// The EPMD port: `ERL_EPMD_PORT` when set to a valid port, else 4369 (as `erl` and `epmd`).
pub fn epmd_port() -> u16 {
    parse_port(std::env::var("ERL_EPMD_PORT").ok().as_deref())
}

fn parse_port(value: Option<&str>) -> u16 {
    value
        .and_then(|v| v.trim().parse::<u16>().ok())
        .filter(|p| *p != 0)
        .unwrap_or(DEFAULT_PORT)
}

/// `(host, epmd_port())`: the address of the EPMD on `host`, for the client calls.
pub fn at(host: &str) -> (String, u16) {
    (host.to_string(), epmd_port())
}

#[cfg(test)]
mod tests {
    #[test]
    fn epmd_port_parsing() {
        assert_eq!(super::parse_port(None), 4369);
        assert_eq!(super::parse_port(Some("4370")), 4370);
        assert_eq!(super::parse_port(Some("junk")), 4369);
        assert_eq!(super::parse_port(Some("0")), 4369);
    }
}
