//! The `replharness` command line. Nothing past [`Cli::parse`] sees clap types:
//! each subcommand turns its arguments into a validated settings struct.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::duration::parse_flag as parse_duration;
use crate::partition::Partition;
use crate::proxy_api::ApiUrl;

#[derive(Debug, Parser)]
#[command(
    name = "replharness",
    version,
    about = "Makes directory-replication failures happen on demand and checks that they are diagnosed right"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios (files or folders; none: the bundled suite) and judge the verdicts.
    Run(RunArgs),
    /// Bring up a mesh of mock replication servers on loopback, report its links, write the case folder.
    Mesh(MeshArgs),
    /// Diagnose a case folder: verdicts, evidence and fix steps (no network connection is opened).
    Diagnose(DiagnoseArgs),
    /// Print the verdict catalog.
    Verdicts(VerdictsArgs),
    /// An emulated day of an Exchange 5.5 organization: messages counted on the sockets, beside the seed's formula.
    ExchangeDay(crate::exchange::day::ExchangeDayArgs),
    /// List the scenarios a run would take (name, file, family, tags), for a CI matrix to read.
    List(ListArgs),
    /// JSON Lines reports: `report merge` makes one report from the shards of a run.
    Report(ReportArgs),
    /// The trainers' web page: a live topology, links broken with a click, verdicts that follow.
    Lab(crate::lab::LabArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files or folders of them; none: the bundled suite.
    pub paths: Vec<PathBuf>,
    /// Judge an external analyzer: 'CMD ARGS' (split like a shell; the case folder is appended).
    #[arg(long)]
    pub analyzer: Option<String>,
    /// How long the analyzer may take per scenario.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub analyzer_timeout: Duration,
    /// Write JSON Lines records ({"type","data"}) here.
    #[arg(long)]
    pub report_json: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Run only scenarios whose name or file name contains this, or with this tag (repeat: any of them).
    #[arg(long)]
    pub filter: Vec<String>,
    /// Seed for every random choice (default: from the clock; printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Scenarios run at once (results are the same for any value).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Keep each case folder under DIR/NAME.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    #[command(flatten)]
    pub net: crate::network::NetworkArg,
    /// Run one shard: count:K/N (dealt in order) or hash:K/N (by name), as cargo-nextest.
    #[arg(long, value_name = "KIND:K/N", value_parser = parse_partition)]
    pub partition: Option<Partition>,
    /// Create the link proxies on this Toxiproxy-compatible API (fault-proxy or Toxiproxy) instead of in-process.
    #[arg(long, value_name = "URL", value_parser = parse_api_url)]
    pub proxy_api: Option<ApiUrl>,
    /// Let --proxy-api, and scenario files' [topology.proxy] api, name an address off loopback.
    #[arg(long)]
    pub allow_remote_proxy_api: bool,
    /// How long one request to the proxy API may take.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub proxy_api_timeout: Duration,
}

/// `--partition`: clap prints the value, so the reason alone.
fn parse_partition(s: &str) -> Result<Partition, String> {
    s.parse::<Partition>().map_err(|e| e.reason)
}

/// `--proxy-api`: clap prints the value, so the reason alone.
fn parse_api_url(s: &str) -> Result<ApiUrl, String> {
    ApiUrl::parse(s).map_err(|e| match e {
        crate::proxy_api::ApiError::BadUrl { reason, .. } => reason,
        other => other.to_string(),
    })
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Scenario files or folders of them; none: the bundled suite.
    pub paths: Vec<PathBuf>,
    /// Only scenarios whose name or file name contains this, or with this tag (repeat: any of them).
    #[arg(long)]
    pub filter: Vec<String>,
    /// Only the scenarios of one shard (as `run --partition`).
    #[arg(long, value_name = "KIND:K/N", value_parser = parse_partition)]
    pub partition: Option<Partition>,
    /// Print a JSON array of {"name", "file", "family", "tags"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Merge the --report-json files of a run's shards: one summary, one JUnit file, the run's exit code.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' JSON Lines reports (every shard of the run, each once).
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Write the merged JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write the merged JSON Lines report here.
    #[arg(long)]
    pub report_json: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct DiagnoseArgs {
    /// The case folder (topology.toml, servers/NAME/…, probes.jsonl).
    pub case: PathBuf,
    /// 389: how far a green agreement's last sent change may lag the supplier's newest before it is 389.stalled.
    #[arg(long = "389-stall-lag", value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub stall_lag_389: Duration,
    /// Print the verdict object of spec/cli.md instead of the human report.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct VerdictsArgs {
    /// Print the catalog as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct MeshArgs {
    /// The product family: ds (DS/OpenDJ servers), 389 (389-DS suppliers and consumers) or
    /// exchange (Exchange 5.5 bridgeheads, one per site).
    #[arg(long, default_value = "ds", value_parser = ["ds", "389", "exchange"])]
    pub flavor: String,
    /// 389: read-only consumers beside the --servers suppliers (every supplier has an agreement to each).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(0..=253))]
    pub consumers: u16,
    /// Number of servers (each runs an RS and a DS; exchange: sites, one bridgehead each).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub servers: u16,
    /// Product version of every server (2.6, 6.5, 7.0, 7.1 …): picks the log dialect and the domains.
    #[arg(long, default_value = "7.1")]
    pub version: String,
    /// Replicated backend (repeat for more); cn=schema, and cn=admin data before 7, are added.
    #[arg(long = "backend", default_value = "dc=example,dc=com")]
    pub backends: Vec<String>,
    /// Divide every product interval by this and stretch log time by it (1 to 10000).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// How long to wait for every link to come up.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub settle_timeout: Duration,
    /// Write the case folder here.
    #[arg(long)]
    pub case_out: Option<PathBuf>,
    /// Also append each server's logs live under DIR/NAME/.
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// Seed for every random choice (printed at start).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Mutual TLS on every replication connection (a test CA and one certificate per server).
    #[arg(long)]
    pub tls: bool,
    /// Keep the mesh running this long after it is up (to point tools at it), then stop.
    #[arg(long, value_parser = parse_duration)]
    pub hold_for: Option<Duration>,
    #[command(flatten)]
    pub net: crate::network::NetworkArg,
}
