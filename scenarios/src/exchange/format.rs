//! An Exchange scenario file (TOML) as strict serde types: the common keys
//! of every scenario (`name`, `tags`, `time_scale`, `[[steps]]`,
//! `[[expect]]` …), a `[topology]` of sites instead of servers, and the
//! steps only an organization has (`schedule`, `request-now`, `import`).
//! Steps shared with the other families keep their shapes
//! ([`crate::format::FaultStep`] …). Documented in `docs/exchange.md`.

use serde::{Deserialize, Serialize};

use crate::format::{ClearStep, Expect, FaultStep, ServerStep, WaitStep};

fn default_scale() -> f64 {
    100.0
}

fn yes() -> bool {
    true
}

/// One Exchange scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExScenario {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default = "default_scale")]
    pub time_scale: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Wall-clock limit for the whole scenario (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// Virtual time the organization runs before the case is taken (default:
    /// until the last step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_for: Option<String>,
    pub topology: ExTopology,
    #[serde(default)]
    pub timings: ExTimings,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<ExStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expect>,
}

/// A schedule as written: activations a day, a name (`every-3h`), or a weekly grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ScheduleSpec {
    PerDay(i64),
    Named(String),
    Grid(Vec<String>),
}

/// `[topology]` of an Exchange scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExTopology {
    /// `exchange`.
    pub flavor: String,
    /// `/o=NAME/…` (default `Contoso`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// When the virtual clock starts (RFC 3339; default Monday 2026-11-23T00:00:00Z).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// `sites = 20` (named LONDON, PARIS …) or `[[topology.sites]]`.
    pub sites: SitesSpec,
    /// Every connector's schedule unless its site says otherwise (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleSpec>,
    /// `1h` or `15m` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_view: Option<String>,
    /// Every bridgehead's capacity unless its site says otherwise: `200/h`, `600 objects/h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// Every directed link between bridgeheads through its own fault-proxy listener.
    #[serde(default = "yes")]
    pub proxy: bool,
}

/// `sites = N` or a list of sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SitesSpec {
    Count(i64),
    List(Vec<SiteSpec>),
}

/// One `[[topology.sites]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    pub name: String,
    /// Default `BH-NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridgehead: Option<String>,
    /// Default `bh-name.organization.example`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Default 127.0.0.N for the N-th site (loopback only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The connector's inbound sites (default every other site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_sites: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_view: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// Objects in the site context at the start (default 400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_objects: Option<i64>,
    /// Objects in the configuration context at the start (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_objects: Option<i64>,
    /// Objects changed an hour in the site context (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_changes_per_hour: Option<i64>,
    /// Objects changed an hour in the configuration context (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_changes_per_hour: Option<i64>,
}

/// `[timings]`: product (virtual) durations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExTimings {
    /// Wait before a failed connection to a partner is tried again (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_retry: Option<String>,
    /// How long a connection attempt may take (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<String>,
}

/// One timeline step of an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ExStep {
    /// A fault on the proxies of a link between two bridgeheads.
    Fault(FaultStep),
    /// Removes a fault by name.
    Clear(ClearStep),
    /// A bridgehead stops cleanly.
    Stop(ServerStep),
    /// A bridgehead is killed (its connections reset).
    Kill(ServerStep),
    /// A bridgehead starts again (same port, directory kept).
    Start(ServerStep),
    /// Waits for a condition (a logged event id, a link up or down).
    Wait(WaitStep),
    /// A connector gets a new schedule.
    Schedule(ScheduleStep),
    /// Administrator's Request Now on a connector's Sites tab.
    RequestNow(RequestNowStep),
    /// New objects in one of a site's contexts (an import).
    Import(ImportStep),
}

impl ExStep {
    pub fn action(&self) -> &'static str {
        match self {
            ExStep::Fault(_) => "fault",
            ExStep::Clear(_) => "clear",
            ExStep::Stop(_) => "stop",
            ExStep::Kill(_) => "kill",
            ExStep::Start(_) => "start",
            ExStep::Wait(_) => "wait",
            ExStep::Schedule(_) => "schedule",
            ExStep::RequestNow(_) => "request-now",
            ExStep::Import(_) => "import",
        }
    }

    pub fn at(&self) -> Option<&str> {
        match self {
            ExStep::Fault(s) => s.at.as_deref(),
            ExStep::Clear(s) => s.at.as_deref(),
            ExStep::Stop(s) | ExStep::Kill(s) | ExStep::Start(s) => s.at.as_deref(),
            ExStep::Wait(s) => s.at.as_deref(),
            ExStep::Schedule(s) => s.at.as_deref(),
            ExStep::RequestNow(s) => s.at.as_deref(),
            ExStep::Import(s) => s.at.as_deref(),
        }
    }
}

/// `action = "schedule"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The site (or bridgehead) whose connector changes; absent: every site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    pub schedule: ScheduleSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_view: Option<String>,
}

/// `action = "request-now"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestNowStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The requesting bridgehead (or its site).
    pub server: String,
    /// The inbound site to ask.
    pub site: String,
    /// "Refresh all items in the directory": ask from USN 0.
    #[serde(default)]
    pub refresh: bool,
}

/// `action = "import"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The bridgehead (or its site) whose own context grows.
    pub server: String,
    /// `site` or `configuration`.
    pub context: String,
    pub objects: i64,
}
