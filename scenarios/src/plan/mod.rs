//! Scenario → Plan: everything a scenario file means, checked once and typed
//! (durations, server configs, the directed links through the fault proxy,
//! toxics already parsed by the proxy, expectations), so the runner plays a
//! plan with nothing left to re-parse or default. Every check's error names
//! the place in the file ([`crate::error::Place`]).

mod fault;
mod network;
pub(crate) mod r389;
mod steps;
mod topology;

use std::collections::BTreeMap;
use std::time::Duration;

use harness::{ServerConfig, Timings};

pub use r389::{Action389, Plan389, Until389};
pub use steps::{parse_link, Action, PlannedStep, Until};
pub use topology::LinkRef;

use crate::duration::{self, DurationError};
use crate::error::{Error, Place, Problem};
use crate::format::{Locator, Scenario, Seg};
use crate::path;

/// The largest `time_scale`: a virtual day then passes in under 9 s, and
/// virtual timestamps stay far inside what dates can hold.
pub const MAX_TIME_SCALE: f64 = 10_000.0;

/// How long a scenario may run (wall clock) unless it says otherwise.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// How long a TCP or TLS probe waits for an answer unless the file says otherwise.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// A scenario, checked and typed: what the runner plays.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub name: String,
    /// The file it came from (`library/NAME.toml` for the bundled ones).
    pub file: String,
    pub description: String,
    pub tags: Vec<String>,
    /// The file's own seed, overriding the run's.
    pub seed: Option<u64>,
    pub time_scale: f64,
    /// Wall-clock limit for the whole scenario.
    pub deadline: Duration,
    pub servers: Vec<ServerConfig>,
    pub timings: Timings,
    /// Every directed link that goes through its own proxy listener.
    pub proxied: Vec<LinkRef>,
    /// False when a server's certificate is broken on purpose: the runner
    /// then does not wait for every link before the first step.
    pub expect_all_up: bool,
    /// In time order (steps at the same time in file order).
    pub steps: Vec<PlannedStep>,
    /// `None`: probes off.
    pub probe_timeout: Option<Duration>,
    pub expect: Vec<Expectation>,
    /// The network it runs on: the file's `[topology] network`, or what
    /// [`Plan::on_network`] set (`--network`).
    pub network: crate::network::Network,
    /// Where the file gives servers' addresses (refused on the netns network).
    pub fixed_addresses: Vec<Place>,
    /// `[topology.proxy] api`: an external proxy API, and where the file says so.
    pub proxy_api: Option<(crate::proxy_api::ApiUrl, Place)>,
    /// `[topology] flavor = "389"`: its servers, agreements and links (the
    /// DS fields above then stay unused).
    pub r389: Option<Plan389>,
    /// An Exchange organization and its timeline ([`crate::exchange`]); `None` for the other flavors.
    pub exchange: Option<crate::exchange::ExchangePlan>,
}

/// One `[[expect]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// A verdict with this id, and the cause, subject keys and guidance substrings given.
    Present { id: String, cause: Option<String>, subject: BTreeMap<String, String>, guidance: Vec<String> },
    /// No verdict with this id.
    Absent(String),
}

/// Reads a scenario file into its plan.
pub fn load(file: &str, text: &str) -> Result<Plan, Error> {
    if let Some(plan) = crate::exchange::plan::load(file, text)? {
        return Ok(plan);
    }
    let (sc, loc) = crate::format::parse(file, text)?;
    Plan::from_scenario(&sc, &loc)
}

/// A `fault` step's toxic, checked by the fault proxy as for every other
/// flavor, for a plan built elsewhere ([`crate::exchange::plan`]).
pub(crate) fn toxic_for(
    loc: &Locator,
    names: Vec<&str>,
    time_scale: f64,
    i: usize,
    step: &crate::format::FaultStep,
) -> Result<fault_proxy::Toxic, Error> {
    fault::toxic(&Ctx { loc, names, time_scale }, i, step)
}

/// What the checks share: the places and the server names.
pub(crate) struct Ctx<'a> {
    loc: &'a Locator,
    names: Vec<&'a str>,
    time_scale: f64,
}

impl Ctx<'_> {
    fn place(&self, path: &[Seg<'_>]) -> Place {
        self.loc.place(path)
    }

    fn err(&self, path: &[Seg<'_>], problem: Problem) -> Error {
        Error::invalid(self.place(path), problem)
    }

    fn key_err(&self, path: &[Seg<'_>], problem: Problem) -> Error {
        Error::invalid(self.loc.key_place(path), problem)
    }

    /// A duration of at most 24 h.
    fn duration(&self, text: &str, path: &[Seg<'_>]) -> Result<Duration, Error> {
        duration::parse(text).map_err(|e| {
            let text = text.to_owned();
            self.err(
                path,
                match e {
                    DurationError::Bad(reason) => Problem::BadDuration { text, reason },
                    DurationError::TooLong => Problem::DurationTooLong { text },
                },
            )
        })
    }

    fn duration_or(&self, text: Option<&str>, path: &[Seg<'_>], default: Duration) -> Result<Duration, Error> {
        text.map_or(Ok(default), |t| self.duration(t, path))
    }

    /// A name that names a server of the topology.
    fn server(&self, name: &str, path: &[Seg<'_>]) -> Result<String, Error> {
        if self.names.contains(&name) {
            Ok(name.to_owned())
        } else {
            Err(self.err(path, Problem::UnknownServer { name: name.to_owned(), known: self.names.join(", ") }))
        }
    }
}

fn valid_tag(t: &str) -> bool {
    let mut bytes = t.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Plan {
    /// Checks a scenario and types it.
    pub fn from_scenario(sc: &Scenario, loc: &Locator) -> Result<Plan, Error> {
        let names = sc.topology.servers.iter().map(|s| s.name.as_str()).collect();
        let ctx = Ctx { loc, names, time_scale: sc.time_scale };
        if !(sc.time_scale.is_finite() && (1.0..=MAX_TIME_SCALE).contains(&sc.time_scale)) {
            return Err(ctx.err(&path!["time_scale"], Problem::TimeScale { value: sc.time_scale, max: MAX_TIME_SCALE }));
        }
        for (i, t) in sc.tags.iter().enumerate() {
            if !valid_tag(t) {
                return Err(ctx.err(&path!["tags", i], Problem::BadTag(t.clone())));
            }
        }
        let deadline = ctx.duration_or(sc.deadline.as_deref(), &path!["deadline"], DEFAULT_DEADLINE)?;
        let r389 = if r389::is_389(sc) {
            Some(r389::plan(sc, &ctx)?)
        } else {
            r389::refuse_389_keys(sc, &ctx)?;
            None
        };
        // A 389 topology: the DS planner reads it without its 389 keys (its
        // plan stays unused); the steps' links are the agreements'.
        let ds_view;
        let ds_sc = match &r389 {
            Some(_) => {
                ds_view = r389::ds_view(sc);
                &ds_view
            }
            None => sc,
        };
        let world = topology::plan(ds_sc, &ctx)?;
        let step_links = r389.as_ref().map_or(&world.proxied, |p| &p.links);
        let steps = steps::plan(sc, &ctx, step_links, r389.as_ref())?;
        let probe_timeout = if sc.probes.enabled {
            Some(ctx.duration_or(sc.probes.timeout.as_deref(), &path!["probes", "timeout"], DEFAULT_PROBE_TIMEOUT)?)
        } else {
            None
        };
        let proxy_api = match &sc.topology.proxy.api {
            Some(text) => {
                let at = path!["topology", "proxy", "api"];
                let url = crate::proxy_api::ApiUrl::parse(text)
                    .map_err(|e| ctx.err(&at, Problem::ProxyApi(e.to_string())))?;
                Some((url, ctx.place(&at)))
            }
            None => None,
        };
        let mut expect = Vec::new();
        for (i, e) in sc.expect.iter().enumerate() {
            let (id, field) = match (&e.id, &e.absent) {
                (Some(id), None) => (id, "id"),
                (None, Some(id)) => (id, "absent"),
                _ => return Err(ctx.err(&path!["expect", i], Problem::ExpectShape)),
            };
            if diagnosis::catalog::def(id).is_none() {
                return Err(ctx.err(&path!["expect", i, field], Problem::UnknownVerdict(id.clone())));
            }
            expect.push(match field {
                "id" => Expectation::Present {
                    id: id.clone(),
                    cause: e.cause.clone(),
                    subject: e.subject.clone(),
                    guidance: e.guidance.clone(),
                },
                _ => Expectation::Absent(id.clone()),
            });
        }
        let plan = Plan {
            name: sc.name.clone(),
            file: loc.file().to_owned(),
            description: sc.description.clone(),
            tags: sc.tags.clone(),
            seed: sc.seed,
            time_scale: sc.time_scale,
            deadline,
            servers: world.servers,
            timings: world.timings,
            proxied: world.proxied,
            expect_all_up: world.expect_all_up,
            steps,
            probe_timeout,
            expect,
            network: sc.topology.network.unwrap_or_default(),
            fixed_addresses: world.fixed_addresses,
            proxy_api,
            r389,
            exchange: None,
        };
        network::check(&plan, plan.network)?;
        Ok(plan)
    }

    /// The same plan on `network` (`--network`, which wins over the file's),
    /// or the place of the first step that network cannot play.
    pub fn on_network(mut self, network: crate::network::Network) -> Result<Plan, Error> {
        network::check(&self, network)?;
        self.network = network;
        Ok(self)
    }

    /// The file name without its folder (`firewall-drop.toml`).
    pub fn file_name(&self) -> &str {
        self.file.rsplit(['/', '\\']).next().unwrap_or(&self.file)
    }

    /// `--filter X`: the name or the file name contains X, or a tag is X.
    pub fn matches(&self, filter: &str) -> bool {
        self.name.contains(filter) || self.file_name().contains(filter) || self.tags.iter().any(|t| t == filter)
    }
}

#[cfg(test)]
mod tests;
