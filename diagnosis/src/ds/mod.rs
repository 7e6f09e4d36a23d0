//! Family `ds` (ForgeRock DS / OpenDJ): verdicts for a replication-server
//! mesh from its servers' `errors` and `replication` logs, `topology.toml`
//! and the probes. One verdict per subject; the current state wins over
//! history; absence of a line is evidence only where the file that would
//! hold it exists; `ds.healthy` only with accepted connections to show.
//!
//! Files, by job (a new message is a row in [`messages::MESSAGES`]; a new
//! rule a file here, called from [`diagnose`]):
//! - [`log`]: the log line format, every dialect.
//! - [`messages`]: message texts → [`messages::Kind`], the catalog's templates.
//! - [`server_log`]: one server's two logs as time-ordered events.
//! - [`world`]: what the rules know of every server (names, ids, probes).
//! - [`links`]: RS-RS links: flapping, unreachable peers.
//! - [`cause`]: why a peer is unreachable, from probes and the other side's lines.
//! - [`tls`]: what a 105's JSSE text says went wrong, and on which side.
//! - [`ds_links`]: DS-RS connections: a DS without its RS.
//! - [`ports`]: an RS that cannot bind, an admin port blocked.
//! - [`generation`]: generation-id mismatches.
//! - [`healthy`]: the healthy verdict and its evidence.
//! - [`guidance`]: the cause's first step, reinitialize commands per version.

pub mod cause;
pub mod ds_links;
pub mod generation;
pub mod guidance;
pub mod healthy;
pub mod links;
pub mod log;
pub mod messages;
pub mod ports;
pub mod server_log;
pub mod tls;
pub mod world;

use time::Duration;

use crate::case::{Case, Flavor};
use crate::family::{Family, Input};
use crate::model::Verdict;
use crate::Options;

pub use messages::{classify, Kind};
pub use server_log::{Event, ServerLog};

/// The `ds` family for the engine.
pub const FAMILY: Family = Family { name: "ds", present, diagnose: run };

/// Thresholds of the `ds` rules.
#[derive(Debug, Clone)]
pub struct DsOptions {
    /// Losses-and-reconnects of one link that make it flapping.
    pub flap_count: usize,
    pub flap_window: Duration,
}

impl Default for DsOptions {
    fn default() -> Self {
        Self { flap_count: 3, flap_window: Duration::hours(24) }
    }
}

/// A server folder of the ds flavor (or of none) holds an `errors` or a `replication` log.
pub fn present(case: &Case) -> bool {
    case.any_file(Flavor::Ds, server_log::FILES)
}

fn run(case: &Case, input: &mut Input, opts: &Options) -> Vec<Verdict> {
    let logs: Vec<ServerLog> =
        case.servers_of(Flavor::Ds).map(|s| server_log::read_server(case, s, &mut input.stats)).collect();
    diagnose(case, &logs, &input.probes, &opts.ds)
}

/// Every `ds` verdict of these logs; `ds.healthy` when nothing is wrong and
/// accepted connections show it.
pub fn diagnose(case: &Case, logs: &[ServerLog], probes: &[crate::probes::Probe], opts: &DsOptions) -> Vec<Verdict> {
    let w = world::World::new(case, logs, probes);
    let links = links::collect(&w, case);
    let ds = ds_links::collect(&w);
    let mut out = Vec::new();
    links::verdicts(&w, &links, opts, &mut out);
    ds_links::verdicts(&w, &ds, &mut out);
    ports::not_listening(&w, &mut out);
    generation::verdicts(&w, &mut out);
    ports::admin_port(&w, &mut out);
    if out.is_empty() {
        out.extend(healthy::verdict(&links, &ds));
    }
    out
}
