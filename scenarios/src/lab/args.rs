//! `replharness lab`'s command line (clap types) and the validated settings
//! made of it; nothing past [`LabSettings::from_args`] sees clap types.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::duration::parse_flag as parse_duration;
use crate::error::{BadInput, Error};
use crate::plan::Plan;

/// The default virtual clock of a lab: 10 s of product time pass in 100 ms.
pub const DEFAULT_TIME_SCALE: f64 = 100.0;

/// How often the engine re-reads the live case folder when nothing changes.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(2);

#[derive(Debug, clap::Args)]
pub struct LabArgs {
    /// A scenario file: its topology, timings and time scale, and its steps played as a script.
    /// Without it: --flavor and --servers.
    pub scenario: Option<PathBuf>,
    /// The product family of the servers.
    #[arg(long, default_value = "ds", value_parser = ["ds", "389", "exchange"], conflicts_with = "scenario")]
    pub flavor: String,
    /// Number of servers (389: suppliers; Exchange: sites), named as `replharness mesh` names them:
    /// ds-1 … ds-N, slapd-s1 … slapd-sN, BH-LONDON, BH-PARIS … (default 3; 389: 1).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=32), conflicts_with = "scenario")]
    pub servers: Option<u16>,
    /// 389: read-only consumers beside the --servers suppliers, named slapd-c1 … (default 2);
    /// every supplier has an agreement to every other server, as `replharness mesh --flavor 389`.
    #[arg(long, value_parser = clap::value_parser!(u16).range(0..=32), conflicts_with = "scenario")]
    pub consumers: Option<u16>,
    /// DS and 389: the product version of every server (DS 2.6, 6.5, 7.0, 7.1 …, default 7.1;
    /// 389 1.3.6.1, 1.4.4.9, 2.3.1 …, default 2.3.1).
    #[arg(long, conflicts_with = "scenario")]
    pub version: Option<String>,
    /// DS: a replicated backend (repeat for more; default dc=example,dc=com); cn=schema, and
    /// cn=admin data before 7, are added.
    #[arg(long = "backend", conflicts_with = "scenario")]
    pub backends: Vec<String>,
    /// DS: mutual TLS on every replication connection.
    #[arg(long, conflicts_with = "scenario")]
    pub tls: bool,
    /// Divide every product interval by this and stretch log time by it (1 to 10000;
    /// default 100, or the scenario's own).
    #[arg(long)]
    pub time_scale: Option<f64>,
    /// Where the page and its API listen (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Allow --listen on an address other than loopback (anyone who reaches it can break the lab).
    #[arg(long)]
    pub allow_remote: bool,
    /// Keep the live case folder here (rewritten at each snapshot) instead of a temporary one.
    #[arg(long)]
    pub case_out: Option<PathBuf>,
    /// How often the engine reads a fresh snapshot when nothing changed (it also runs on every change).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub refresh: Duration,
    /// Seed for every random choice (printed at start).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The lab runs on the proxy network (its page lists and heals faults on the link proxies):
    /// `--network netns` is refused, saying so.
    #[command(flatten)]
    pub net: crate::network::NetworkArg,
}

/// The page lists and heals faults on the link proxies: no kernel network.
const PROXY_ONLY: &str = "the lab runs on the proxy network only: its page lists and heals faults on the \
     link proxies (replharness run and mesh take --network netns)";

/// Every error of a scenario file or a generated plan is bad input (exit 2).
fn bad(e: Error) -> BadInput {
    BadInput(e.to_string())
}

/// A lab, checked: the plan to bring up and how to serve it.
#[derive(Debug, Clone)]
pub struct LabSettings {
    pub plan: Plan,
    /// What the lab was made from, for the page's title (`3 ds servers`, a file name).
    pub source: String,
    pub seed: u64,
    pub listen: SocketAddr,
    pub case_out: Option<PathBuf>,
    pub refresh: Duration,
    /// 389: each running supplier writes a change this often (product
    /// time), so that sessions run and faults show; `None`: only the
    /// scenario's own writes.
    pub writes_every: Option<Duration>,
}

impl LabSettings {
    /// Checks the arguments and reads the scenario file, if any. Every
    /// error is bad input (exit 2).
    pub fn from_args(a: LabArgs) -> Result<LabSettings, BadInput> {
        if a.net.network == Some(crate::network::Network::Netns) {
            return Err(BadInput(format!("--network netns: {PROXY_ONLY}")));
        }
        if !a.listen.ip().is_loopback() && !a.allow_remote {
            return Err(BadInput(format!(
                "--listen {}: not a loopback address; pass --allow-remote to serve the lab beyond this machine",
                a.listen
            )));
        }
        let refresh_bounds = Duration::from_millis(200)..=Duration::from_secs(600);
        if !refresh_bounds.contains(&a.refresh) {
            return Err(BadInput(format!("--refresh must be from 200ms to 10m, not {:?}", a.refresh)));
        }
        if let Some(t) = a.time_scale {
            let max = crate::plan::MAX_TIME_SCALE;
            if !(t.is_finite() && (1.0..=max).contains(&t)) {
                return Err(BadInput(format!(
                    "--time-scale must be a number from 1 to {max}, not {}",
                    crate::error::show_number(t)
                )));
            }
        }
        let (plan, source, writes_every) = match &a.scenario {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| bad(Error::Read { path: path.clone(), source }))?;
                let plan = super::topology::scenario(&path.display().to_string(), &text, a.time_scale).map_err(bad)?;
                if plan.network == crate::network::Network::Netns {
                    return Err(BadInput(format!("{}: network = \"netns\": {PROXY_ONLY}", path.display())));
                }
                let source = plan.name.clone();
                // A file's steps write what it means to write.
                (plan, source, None)
            }
            None => {
                let flavor = super::topology::Flavor::parse(&a.flavor)?;
                // 389: one supplier and two consumers unless told otherwise (docs/lab.md, Families).
                let servers = a.servers.unwrap_or(if flavor == super::topology::Flavor::R389 { 1 } else { 3 });
                if flavor != super::topology::Flavor::R389 && a.consumers.is_some() {
                    return Err(BadInput(format!("--consumers is for --flavor 389, not {}", flavor.name())));
                }
                if flavor == super::topology::Flavor::R389 {
                    if a.tls {
                        return Err(BadInput(
                            "--tls: the 389 flavor's agreements run LDAP in clear (docs/389.md)".into(),
                        ));
                    }
                    if a.backends.len() > 1 {
                        return Err(BadInput("--flavor 389 replicates one suffix: give --backend once".into()));
                    }
                }
                if flavor == super::topology::Flavor::Exchange {
                    let ds_only =
                        [("--version", a.version.is_some()), ("--backend", !a.backends.is_empty()), ("--tls", a.tls)];
                    if let Some((flag, _)) = ds_only.iter().find(|(_, given)| *given) {
                        return Err(BadInput(format!("{flag} is for DS servers, not Exchange bridgeheads")));
                    }
                    if servers < 2 {
                        return Err(BadInput(format!(
                            "--servers {servers}: an Exchange organization needs 2 sites or more to replicate between"
                        )));
                    }
                }
                if let Some(b) = a.backends.iter().find(|b| !b.contains('=')) {
                    return Err(BadInput(format!("--backend {b:?} is not a DN such as dc=example,dc=com")));
                }
                let backends = if a.backends.is_empty() { vec!["dc=example,dc=com".to_owned()] } else { a.backends };
                let spec = super::topology::FlavorSpec {
                    flavor,
                    servers: usize::from(servers),
                    consumers: usize::from(a.consumers.unwrap_or(2)),
                    version: a.version.unwrap_or_else(|| "7.1".to_owned()),
                    backends,
                    tls: a.tls,
                    time_scale: a.time_scale.unwrap_or(DEFAULT_TIME_SCALE),
                };
                let plan = super::topology::flavor(&spec).map_err(bad)?;
                let what = match flavor {
                    super::topology::Flavor::Exchange => "sites".to_owned(),
                    super::topology::Flavor::R389 => format!("suppliers, {} consumers", spec.consumers),
                    super::topology::Flavor::Ds => "servers".to_owned(),
                };
                let writes = (flavor == super::topology::Flavor::R389).then_some(super::topology::R389_WRITE_EVERY);
                (plan, format!("{} {} {what}", spec.servers, flavor.name()), writes)
            }
        };
        Ok(LabSettings {
            plan,
            source,
            seed: a.seed.unwrap_or_else(crate::runner::seed_from_clock),
            listen: a.listen,
            case_out: a.case_out,
            refresh: a.refresh,
            writes_every,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        lab: LabArgs,
    }

    fn settings(args: &[&str]) -> Result<LabSettings, BadInput> {
        let cli = Cli::try_parse_from(std::iter::once("lab").chain(args.iter().copied())).expect("parses");
        LabSettings::from_args(cli.lab)
    }

    fn names(s: &LabSettings) -> Vec<String> {
        s.plan.r389.as_ref().map(|p| p.servers.iter().map(|c| c.name.clone()).collect()).unwrap_or_default()
    }

    #[test]
    fn a_389_lab_is_one_supplier_and_two_consumers_unless_told_otherwise_and_writes_changes() {
        let s = settings(&["--flavor", "389"]).expect("settings");
        assert_eq!(names(&s), ["slapd-s1", "slapd-c1", "slapd-c2"]);
        assert_eq!(s.source, "1 389 suppliers, 2 consumers");
        assert_eq!(s.writes_every, Some(super::super::topology::R389_WRITE_EVERY));
        let s = settings(&["--flavor", "389", "--servers", "2", "--consumers", "0"]).expect("settings");
        assert_eq!(names(&s), ["slapd-s1", "slapd-s2"]);
        let ds = settings(&[]).expect("settings");
        assert_eq!((ds.plan.servers.len(), ds.writes_every, ds.plan.r389.is_none()), (3, None, true));
        for (args, want) in [
            (&["--consumers", "1"][..], "--consumers is for --flavor 389, not ds"),
            (&["--flavor", "389", "--tls"][..], "--tls: the 389 flavor's agreements run LDAP in clear"),
            (&["--flavor", "389", "--backend", "dc=a", "--backend", "dc=b"][..], "give --backend once"),
        ] {
            let e = settings(args).expect_err("bad input").0;
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }
}
