//! The four pairings and what one is made of: a node B that offers node_b.exs's services and a
//! driver on node A that measures it. A ferl pairing plugs in by providing a [`NodeB`] and/or
//! a [`DriverA`] (see [`Pairing::parts`]); everything else (runs, medians, table) is shared.

use super::metrics::RunValues;
use super::procs::{ChildGuard, Session};
use super::sizes::Sizes;

/// Who drives (A) and who is measured (B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pairing {
    BeamBeam,
    FerlFerl,
    BeamFerl,
    FerlBeam,
}

impl Pairing {
    pub const ALL: [Pairing; 4] = [
        Pairing::BeamBeam,
        Pairing::FerlFerl,
        Pairing::BeamFerl,
        Pairing::FerlBeam,
    ];

    /// The `--pairings` spelling.
    pub fn id(self) -> &'static str {
        match self {
            Pairing::BeamBeam => "beam-beam",
            Pairing::FerlFerl => "ferl-ferl",
            Pairing::BeamFerl => "beam-ferl",
            Pairing::FerlBeam => "ferl-beam",
        }
    }

    /// The table column heading.
    pub fn title(self) -> &'static str {
        match self {
            Pairing::BeamBeam => "BEAM->BEAM",
            Pairing::FerlFerl => "ferl->ferl",
            Pairing::BeamFerl => "BEAM->ferl",
            Pairing::FerlBeam => "ferl->BEAM",
        }
    }

    pub fn parse(s: &str) -> Result<Pairing, String> {
        Pairing::ALL
            .into_iter()
            .find(|p| p.id() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown pairing {s:?} (expected beam-beam, ferl-ferl, beam-ferl or ferl-beam)"
                )
            })
    }

    /// Can this pairing run yet?
    pub fn available(self) -> bool {
        self.parts().is_some()
    }

    /// The driver and node B of this pairing, or None while one side does not exist yet.
    pub fn parts(self) -> Option<(Box<dyn DriverA>, Box<dyn NodeB>)> {
        use super::beam::{BeamDriver, BeamNodeB};
        use super::ferl_a::FerlDriver;
        use super::ferl_b::FerlNodeB;
        Some(match self {
            Pairing::BeamBeam => (Box::new(BeamDriver), Box::new(BeamNodeB)),
            Pairing::FerlFerl => (Box::new(FerlDriver), Box::new(FerlNodeB)),
            Pairing::BeamFerl => (Box::new(BeamDriver), Box::new(FerlNodeB)),
            Pairing::FerlBeam => (Box::new(FerlDriver), Box::new(BeamNodeB)),
        })
    }
}

/// Everything a node needs to join this run's private cluster.
pub struct RunCtx<'a> {
    pub session: &'a Session,
    pub sizes: &'a Sizes,
    pub epmd_port: u16,
    /// 1-based run number, for unique node names and log files.
    pub run: usize,
    pub pairing: Pairing,
}

/// A started node B: its full node name and the process to stop afterwards.
pub struct RunningB {
    pub node: String,
    pub process: ChildGuard,
    pub log: std::path::PathBuf,
}

/// Starts a node B that provides node_b.exs's services (`:bench_echo`, `:bench_sink`,
/// `:bench_server`, global `:stack`, `Greet.say/1`, `BenchB.*`), registered with the run's epmd.
pub trait NodeB {
    fn start(&self, ctx: &RunCtx) -> Result<RunningB, String>;
}

/// Runs rows (a)-(i) from a node A against node `b`, reporting each step through `progress`
/// (row letter) and returning every metric of [`super::metrics::pairing_metrics`].
pub trait DriverA {
    fn drive(
        &self,
        ctx: &RunCtx,
        b: &RunningB,
        progress: &mut dyn FnMut(&str),
    ) -> Result<RunValues, String>;
}

/// One run of one pairing: start B, drive it from A, stop B (A asks it to stop; then by pid).
pub fn run_once(ctx: &RunCtx, progress: &mut dyn FnMut(&str)) -> Result<RunValues, String> {
    let (driver, node_b) = ctx
        .pairing
        .parts()
        .ok_or_else(|| format!("{} is not yet available", ctx.pairing.title()))?;
    let mut b = node_b.start(ctx)?;
    let result = driver.drive(ctx, &b, progress);
    b.process.stop(std::time::Duration::from_secs(10));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_every_pairing_runs() {
        for p in Pairing::ALL {
            assert_eq!(Pairing::parse(p.id()), Ok(p));
            assert!(p.available());
        }
        assert!(Pairing::parse("beam-rust").is_err());
    }
}
