//! An Exchange scenario file → its plan: the organization (sites, their
//! connectors, schedules and capacities), the directed links that get a
//! fault-proxy listener, and the typed steps, every check naming its place
//! in the file. The result is a [`Plan`] like any other (name, tags,
//! deadline, expectations), carrying an [`ExchangePlan`] for the runner.

use std::net::IpAddr;
use std::time::Duration;

use fault_proxy::Toxic;
use harness::exchange::config::{Timings, DEFAULT_START, SITE_NAMES};
use harness::exchange::{Capacity, Context, DetailView, OrgSpec, Schedule, SiteConfig};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::format::{ExScenario, ExStep, ScheduleSpec, SitesSpec};
use crate::duration::{self, DurationError};
use crate::error::{Error, Place, Problem};
use crate::format::{Locator, Port, Seg};
use crate::path;
use crate::plan::{parse_link, Expectation, LinkRef, Plan, DEFAULT_DEADLINE, MAX_TIME_SCALE};

/// How long a `wait` waits unless it says otherwise (wall clock).
const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// The most sites a scenario brings up (each its own 127.0.0.N).
const MAX_SITES: usize = 254;
/// The most objects a context holds or an import adds.
const MAX_OBJECTS: i64 = 1_000_000;
/// The most changes an hour a context takes.
const MAX_CHANGES: i64 = 100_000;

/// What the runner needs of an Exchange scenario.
#[derive(Debug, Clone)]
pub struct ExchangePlan {
    /// The organization, time scale and start set (the seed is the run's).
    pub org: OrgSpec,
    /// Virtual time to run before the case is taken; `None`: until the last step.
    pub run_for: Option<Duration>,
    pub steps: Vec<ExPlanned>,
    /// Directed links (from bridgehead, to bridgehead) through their own proxy listener.
    pub proxied: Vec<(String, String)>,
}

/// One step, at its virtual time, with its place.
#[derive(Debug, Clone)]
pub struct ExPlanned {
    pub at: Duration,
    pub place: Place,
    pub action: ExAction,
}

/// What a step does, typed.
#[derive(Debug, Clone)]
pub enum ExAction {
    Fault {
        links: Vec<(String, String)>,
        toxic: Toxic,
    },
    Clear {
        links: Vec<(String, String)>,
        name: String,
    },
    Stop {
        server: String,
    },
    Kill {
        server: String,
    },
    Start {
        server: String,
    },
    Wait {
        until: ExUntil,
        timeout: Duration,
    },
    /// `servers` (bridgeheads) get `schedule`.
    Schedule {
        servers: Vec<String>,
        schedule: Schedule,
    },
    RequestNow {
        server: String,
        site: String,
        refresh: bool,
    },
    Import {
        server: String,
        context: Context,
        objects: u32,
    },
}

impl ExAction {
    pub fn verb(&self) -> &'static str {
        match self {
            ExAction::Fault { .. } => "fault",
            ExAction::Clear { .. } => "clear",
            ExAction::Stop { .. } => "stop",
            ExAction::Kill { .. } => "kill",
            ExAction::Start { .. } => "start",
            ExAction::Wait { .. } => "wait",
            ExAction::Schedule { .. } => "schedule",
            ExAction::RequestNow { .. } => "request-now",
            ExAction::Import { .. } => "import",
        }
    }
}

/// What a `wait` waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExUntil {
    /// Event id `event` logged on `server` at least `count` times.
    Logged {
        server: String,
        event: u32,
        count: usize,
    },
    /// Both directed links between the two are connected / neither is.
    LinkUp {
        a: String,
        b: String,
    },
    LinkDown {
        a: String,
        b: String,
    },
}

impl std::fmt::Display for ExUntil {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExUntil::Logged { server, event, count } => write!(f, "event {event} ×{count} on {server}"),
            ExUntil::LinkUp { a, b } => write!(f, "{a} <-> {b} to be up"),
            ExUntil::LinkDown { a, b } => write!(f, "{a} <-> {b} to be down"),
        }
    }
}

/// True when the file's `[topology]` says `flavor = "exchange"`.
pub fn is_exchange(text: &str) -> bool {
    let Ok(t) = text.parse::<toml::Table>() else { return false };
    t.get("topology").and_then(|t| t.get("flavor")).and_then(|f| f.as_str()) == Some("exchange")
}

/// Reads an Exchange scenario file into its plan; `None` for a file of another flavor.
pub fn load(file: &str, text: &str) -> Result<Option<Plan>, Error> {
    if !is_exchange(text) {
        return Ok(None);
    }
    let loc = Locator::new(file, text);
    let sc: ExScenario = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let key = e.message().strip_prefix("unknown field `").and_then(|r| r.split_once('`')).map(|(k, _)| k);
        let place = key.and_then(|k| loc.find_key(span.clone(), k)).unwrap_or_else(|| loc.at_offset(span.start));
        Error::invalid(place, Problem::Shape(e.message().to_owned()))
    })?;
    Checker { loc: &loc, sc: &sc }.plan().map(Some)
}

struct Checker<'a> {
    loc: &'a Locator,
    sc: &'a ExScenario,
}

/// A name, bounded and plain: letters, digits, `-` and `_`.
fn plain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_tag(t: &str) -> bool {
    let mut bytes = t.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Checker<'_> {
    fn err(&self, path: &[Seg<'_>], message: impl Into<String>) -> Error {
        Error::invalid(self.loc.place(path), Problem::Shape(message.into()))
    }

    fn problem(&self, path: &[Seg<'_>], problem: Problem) -> Error {
        Error::invalid(self.loc.place(path), problem)
    }

    fn duration(&self, text: &str, path: &[Seg<'_>]) -> Result<Duration, Error> {
        duration::parse(text).map_err(|e| {
            let text = text.to_owned();
            self.problem(
                path,
                match e {
                    DurationError::Bad(reason) => Problem::BadDuration { text, reason },
                    DurationError::TooLong => Problem::DurationTooLong { text },
                },
            )
        })
    }

    fn bounded(&self, v: Option<i64>, path: &[Seg<'_>], max: i64, default: u32) -> Result<u32, Error> {
        match v {
            None => Ok(default),
            Some(n) if (0..=max).contains(&n) => Ok(n as u32),
            Some(n) => Err(self.err(path, format!("{n}: give 0 to {max}"))),
        }
    }

    fn plan(&self) -> Result<Plan, Error> {
        let sc = self.sc;
        if !(sc.time_scale.is_finite() && (1.0..=MAX_TIME_SCALE).contains(&sc.time_scale)) {
            return Err(
                self.problem(&path!["time_scale"], Problem::TimeScale { value: sc.time_scale, max: MAX_TIME_SCALE })
            );
        }
        for (i, t) in sc.tags.iter().enumerate() {
            if !valid_tag(t) {
                return Err(self.problem(&path!["tags", i], Problem::BadTag(t.clone())));
            }
        }
        let deadline = match &sc.deadline {
            Some(d) => self.duration(d, &path!["deadline"])?,
            None => DEFAULT_DEADLINE,
        };
        let run_for = sc.run_for.as_deref().map(|d| self.duration(d, &path!["run_for"])).transpose()?;
        let org = self.org()?;
        let proxied = if sc.topology.proxy { directed_links(&org.sites) } else { Vec::new() };
        let steps = self.steps(&org, &proxied)?;
        let expect = self.expect()?;
        let links = proxied
            .iter()
            .map(|(from, to)| LinkRef { from: from.clone(), to: to.clone(), port: Port::Replication })
            .collect();
        Ok(Plan {
            name: sc.name.clone(),
            file: self.loc.file().to_owned(),
            description: sc.description.clone(),
            tags: sc.tags.clone(),
            seed: sc.seed,
            time_scale: sc.time_scale,
            deadline,
            proxied: links,
            expect,
            exchange: Some(super::ExchangePlan { org, run_for, steps, proxied }),
            ..Plan::default()
        })
    }

    fn schedule(
        &self,
        spec: &ScheduleSpec,
        view: Option<&str>,
        at: &[Seg<'_>],
        view_at: &[Seg<'_>],
    ) -> Result<Schedule, Error> {
        let view = match view {
            None => DetailView::FifteenMinutes,
            Some(v) => DetailView::parse(v)
                .ok_or_else(|| self.err(view_at, format!("detail_view {v:?}: expected 1h or 15m")))?,
        };
        let made = match spec {
            ScheduleSpec::PerDay(n) => match u32::try_from(*n) {
                Ok(n) => Schedule::per_day(n, view),
                Err(_) => return Err(self.err(at, format!("{n} activations a day: give 1 to 96"))),
            },
            ScheduleSpec::Named(s) => Schedule::parse_spec(s, view),
            ScheduleSpec::Grid(g) => Schedule::grid(g, view),
        };
        made.map_err(|e| self.err(at, e.to_string().trim_start_matches("invalid configuration: ").to_owned()))
    }

    fn org(&self) -> Result<OrgSpec, Error> {
        let t = &self.sc.topology;
        if t.flavor != "exchange" {
            return Err(self.err(&path!["topology", "flavor"], "this reader takes flavor = \"exchange\""));
        }
        let organization = t.organization.clone().unwrap_or_else(|| "Contoso".into());
        if !plain(&organization) {
            return Err(
                self.err(&path!["topology", "organization"], format!("{organization:?}: letters, digits, - and _"))
            );
        }
        let default_schedule = match &t.schedule {
            Some(s) => self.schedule(
                s,
                t.detail_view.as_deref(),
                &path!["topology", "schedule"],
                &path!["topology", "detail_view"],
            )?,
            None => self.schedule(
                &ScheduleSpec::PerDay(8),
                t.detail_view.as_deref(),
                &path!["topology"],
                &path!["topology", "detail_view"],
            )?,
        };
        let capacity = |text: Option<&String>, at: &[Seg<'_>]| match text {
            None => Ok(None),
            Some(c) => Capacity::parse(c)
                .map(Some)
                .map_err(|e| self.err(at, e.to_string().trim_start_matches("invalid configuration: ").to_owned())),
        };
        let default_capacity = capacity(t.capacity.as_ref(), &path!["topology", "capacity"])?.unwrap_or_default();
        let mut spec = OrgSpec::full(0, &default_schedule);
        spec.organization = organization.clone();
        spec.time_scale = self.sc.time_scale;
        spec.start = match &t.start {
            None => DEFAULT_START,
            Some(s) => OffsetDateTime::parse(s, &Rfc3339)
                .map_err(|e| self.err(&path!["topology", "start"], format!("{s:?} is not an RFC 3339 time: {e}")))?,
        };
        spec.timings = self.timings()?;
        match &t.sites {
            SitesSpec::Count(n) => {
                let n = usize::try_from(*n).ok().filter(|n| (2..=MAX_SITES).contains(n)).ok_or_else(|| {
                    self.err(&path!["topology", "sites"], format!("{n} sites: an organization has 2 to {MAX_SITES}"))
                })?;
                let mut full = OrgSpec::full(n, &default_schedule);
                for s in &mut full.sites {
                    s.capacity = default_capacity;
                    *s = rename_org(s.clone(), &organization);
                }
                spec.sites = full.sites;
            }
            SitesSpec::List(list) => {
                if list.len() < 2 || list.len() > MAX_SITES {
                    return Err(self.err(
                        &path!["topology", "sites"],
                        format!("{} sites: an organization has 2 to {MAX_SITES}", list.len()),
                    ));
                }
                let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
                for (i, s) in list.iter().enumerate() {
                    let at = |f: &'static str| path!["topology", "sites", i, f];
                    if !plain(&s.name) {
                        return Err(self.err(&at("name"), format!("site {:?}: letters, digits, - and _", s.name)));
                    }
                    if names[..i].contains(&s.name.as_str()) {
                        return Err(self.problem(&at("name"), Problem::DuplicateServer(s.name.clone())));
                    }
                    let mut c = SiteConfig::new(&s.name, i + 1, &organization);
                    if let Some(b) = &s.bridgehead {
                        if !plain(b) {
                            return Err(self.err(&at("bridgehead"), format!("{b:?}: letters, digits, - and _")));
                        }
                        c.bridgehead = b.clone();
                    }
                    if let Some(h) = &s.host {
                        c.host = h.clone();
                    }
                    if let Some(a) = &s.address {
                        c.address = match a.parse::<IpAddr>() {
                            Ok(ip) if ip.is_loopback() => ip,
                            _ => return Err(self.problem(&at("address"), Problem::NotLoopback(a.clone()))),
                        };
                    }
                    c.inbound_sites = match &s.inbound_sites {
                        None => names.iter().filter(|n| **n != s.name).map(|n| (*n).to_owned()).collect(),
                        Some(inbound) => {
                            for (j, x) in inbound.iter().enumerate() {
                                let here = path!["topology", "sites", i, "inbound_sites", j];
                                if x == &s.name {
                                    return Err(self.err(&here, format!("{x}: a site is not inbound to itself")));
                                }
                                if !names.contains(&x.as_str()) {
                                    let known = names.join(", ");
                                    return Err(self.err(&here, format!("no site named {x:?} (sites: {known})")));
                                }
                            }
                            inbound.clone()
                        }
                    };
                    c.schedule = match (&s.schedule, &s.detail_view) {
                        (None, None) => default_schedule.clone(),
                        (spec, view) => {
                            let spec = spec.clone().or_else(|| t.schedule.clone()).unwrap_or(ScheduleSpec::PerDay(8));
                            let view = view.as_deref().or(t.detail_view.as_deref());
                            self.schedule(&spec, view, &at("schedule"), &at("detail_view"))?
                        }
                    };
                    c.capacity = capacity(s.capacity.as_ref(), &at("capacity"))?.unwrap_or(default_capacity);
                    c.site_context.objects =
                        self.bounded(s.site_objects, &at("site_objects"), MAX_OBJECTS, c.site_context.objects)?;
                    c.config_context.objects =
                        self.bounded(s.config_objects, &at("config_objects"), MAX_OBJECTS, c.config_context.objects)?;
                    c.site_context.changes_per_hour = self.bounded(
                        s.site_changes_per_hour,
                        &at("site_changes_per_hour"),
                        MAX_CHANGES,
                        c.site_context.changes_per_hour,
                    )?;
                    c.config_context.changes_per_hour = self.bounded(
                        s.config_changes_per_hour,
                        &at("config_changes_per_hour"),
                        MAX_CHANGES,
                        c.config_context.changes_per_hour,
                    )?;
                    spec.sites.push(c);
                }
                let bridgeheads: Vec<&str> = spec.sites.iter().map(|s| s.bridgehead.as_str()).collect();
                for (i, b) in bridgeheads.iter().enumerate() {
                    if bridgeheads[..i].contains(b) {
                        return Err(self.problem(
                            &path!["topology", "sites", i, "bridgehead"],
                            Problem::DuplicateServer((*b).to_owned()),
                        ));
                    }
                }
            }
        }
        spec.validate().map_err(|e| self.err(&path!["topology"], e.to_string()))?;
        Ok(spec)
    }

    fn timings(&self) -> Result<Timings, Error> {
        let t = &self.sc.timings;
        let base = Timings::default();
        Ok(Timings {
            connect_retry: match &t.connect_retry {
                Some(d) => self.duration(d, &path!["timings", "connect_retry"])?,
                None => base.connect_retry,
            },
            connect_timeout: match &t.connect_timeout {
                Some(d) => self.duration(d, &path!["timings", "connect_timeout"])?,
                None => base.connect_timeout,
            },
        })
    }

    /// A bridgehead, by its name or its site's.
    fn server(&self, org: &OrgSpec, name: &str, at: &[Seg<'_>]) -> Result<String, Error> {
        org.sites.iter().find(|s| s.bridgehead == name || s.site == name).map(|s| s.bridgehead.clone()).ok_or_else(
            || {
                let known: Vec<&str> = org.sites.iter().map(|s| s.bridgehead.as_str()).collect();
                self.problem(at, Problem::UnknownServer { name: name.to_owned(), known: known.join(", ") })
            },
        )
    }

    fn links(
        &self,
        org: &OrgSpec,
        proxied: &[(String, String)],
        text: &str,
        at: &[Seg<'_>],
    ) -> Result<Vec<(String, String)>, Error> {
        let (a, b, both) = parse_link(text).ok_or_else(|| self.problem(at, Problem::BadLink(text.to_owned())))?;
        let (a, b) = (self.server(org, &a, at)?, self.server(org, &b, at)?);
        let mut out = vec![(a.clone(), b.clone())];
        if both {
            out.push((b, a));
        }
        for (from, to) in &out {
            if !proxied.contains(&(from.clone(), to.clone())) {
                let why = if proxied.is_empty() {
                    "[topology] proxy = false"
                } else {
                    "neither site is inbound to the other, so no message takes that link"
                };
                return Err(self.problem(at, Problem::NotProxied { link: format!("{from}->{to}"), why }));
            }
        }
        Ok(out)
    }

    fn steps(&self, org: &OrgSpec, proxied: &[(String, String)]) -> Result<Vec<ExPlanned>, Error> {
        let names: Vec<&str> = org.sites.iter().map(|s| s.bridgehead.as_str()).collect();
        let mut out = Vec::new();
        for (i, step) in self.sc.steps.iter().enumerate() {
            let at = match step.at() {
                Some(t) => self.duration(t, &path!["steps", i, "at"])?,
                None => Duration::ZERO,
            };
            let action = self.action(org, proxied, &names, i, step)?;
            out.push(ExPlanned { at, place: self.loc.place(&path!["steps", i]), action });
        }
        out.sort_by_key(|s| s.at);
        Ok(out)
    }

    fn action(
        &self,
        org: &OrgSpec,
        proxied: &[(String, String)],
        names: &[&str],
        i: usize,
        step: &ExStep,
    ) -> Result<ExAction, Error> {
        let server = |name: &str| self.server(org, name, &path!["steps", i, "server"]);
        Ok(match step {
            ExStep::Fault(f) => {
                if f.port != Port::Replication {
                    return Err(self.err(&path!["steps", i, "port"], "an Exchange link has one port: leave port out"));
                }
                let links = self.links(org, proxied, &f.link, &path!["steps", i, "link"])?;
                let toxic = crate::plan::toxic_for(self.loc, names.to_vec(), self.sc.time_scale, i, f)?;
                ExAction::Fault { links, toxic }
            }
            ExStep::Clear(c) => {
                if c.port != Port::Replication {
                    return Err(self.err(&path!["steps", i, "port"], "an Exchange link has one port: leave port out"));
                }
                ExAction::Clear {
                    links: self.links(org, proxied, &c.link, &path!["steps", i, "link"])?,
                    name: c.name.clone(),
                }
            }
            ExStep::Stop(s) => ExAction::Stop { server: server(&s.server)? },
            ExStep::Kill(s) => ExAction::Kill { server: server(&s.server)? },
            ExStep::Start(s) => ExAction::Start { server: server(&s.server)? },
            ExStep::Wait(w) => {
                let timeout = match &w.timeout {
                    Some(t) => self.duration(t, &path!["steps", i, "timeout"])?,
                    None => DEFAULT_WAIT,
                };
                ExAction::Wait { until: self.until(org, i, &w.until)?, timeout }
            }
            ExStep::Schedule(s) => {
                let servers = match &s.site {
                    Some(site) => vec![self.server(org, site, &path!["steps", i, "site"])?],
                    None => org.sites.iter().map(|x| x.bridgehead.clone()).collect(),
                };
                let at = path!["steps", i, "schedule"];
                let schedule =
                    self.schedule(&s.schedule, s.detail_view.as_deref(), &at, &path!["steps", i, "detail_view"])?;
                ExAction::Schedule { servers, schedule }
            }
            ExStep::RequestNow(r) => {
                let server = server(&r.server)?;
                let site = org
                    .sites
                    .iter()
                    .find(|s| s.bridgehead == server)
                    .map(|s| s.inbound_sites.clone())
                    .unwrap_or_default();
                if !site.contains(&r.site) {
                    return Err(self.err(
                        &path!["steps", i, "site"],
                        format!("{:?} is not an inbound site of {server}'s connector ({})", r.site, site.join(", ")),
                    ));
                }
                ExAction::RequestNow { server, site: r.site.clone(), refresh: r.refresh }
            }
            ExStep::Import(m) => {
                let context = match m.context.as_str() {
                    "site" => Context::Site,
                    "configuration" => Context::Configuration,
                    other => {
                        return Err(self
                            .err(&path!["steps", i, "context"], format!("{other:?}: expected site or configuration")))
                    }
                };
                let objects =
                    u32::try_from(m.objects).ok().filter(|n| (1..=MAX_OBJECTS as u32).contains(n)).ok_or_else(
                        || self.err(&path!["steps", i, "objects"], format!("{}: give 1 to {MAX_OBJECTS}", m.objects)),
                    )?;
                ExAction::Import { server: server(&m.server)?, context, objects }
            }
        })
    }

    fn until(&self, org: &OrgSpec, i: usize, u: &crate::format::Until) -> Result<ExUntil, Error> {
        let at = |f: &'static str| path!["steps", i, "until", f];
        match (u.logged, &u.link_up, &u.link_down) {
            (Some(event), None, None) => {
                let name = u
                    .server
                    .as_deref()
                    .ok_or_else(|| self.problem(&path!["steps", i, "until"], Problem::LoggedWithoutServer))?;
                let count = usize::try_from(u.count.unwrap_or(1)).unwrap_or(usize::MAX);
                Ok(ExUntil::Logged { server: self.server(org, name, &at("server"))?, event, count })
            }
            (None, Some(link), None) | (None, None, Some(link)) => {
                for (field, given) in [("server", u.server.is_some()), ("count", u.count.is_some())] {
                    if given {
                        return Err(Error::invalid(self.loc.key_place(&at(field)), Problem::UntilStray(field)));
                    }
                }
                let field = if u.link_up.is_some() { "link_up" } else { "link_down" };
                let (a, b, _) =
                    parse_link(link).ok_or_else(|| self.problem(&at(field), Problem::BadLink(link.clone())))?;
                let (a, b) = (self.server(org, &a, &at(field))?, self.server(org, &b, &at(field))?);
                Ok(if u.link_up.is_some() { ExUntil::LinkUp { a, b } } else { ExUntil::LinkDown { a, b } })
            }
            _ => Err(self.problem(&path!["steps", i, "until"], Problem::UntilShape)),
        }
    }

    fn expect(&self) -> Result<Vec<Expectation>, Error> {
        let mut out = Vec::new();
        for (i, e) in self.sc.expect.iter().enumerate() {
            let (id, field) = match (&e.id, &e.absent) {
                (Some(id), None) => (id, "id"),
                (None, Some(id)) => (id, "absent"),
                _ => return Err(self.problem(&path!["expect", i], Problem::ExpectShape)),
            };
            if diagnosis::catalog::def(id).is_none() {
                return Err(self.problem(&path!["expect", i, field], Problem::UnknownVerdict(id.clone())));
            }
            out.push(match field {
                "id" => Expectation::Present {
                    id: id.clone(),
                    cause: e.cause.clone(),
                    subject: e.subject.clone(),
                    guidance: e.guidance.clone(),
                },
                _ => Expectation::Absent(id.clone()),
            });
        }
        Ok(out)
    }
}

/// A generated site under another organization's name.
fn rename_org(mut s: SiteConfig, org: &str) -> SiteConfig {
    let i = SITE_NAMES.iter().position(|n| *n == s.site).map_or(1, |p| p + 1);
    let fresh = SiteConfig::new(&s.site, i, org);
    s.host = fresh.host;
    s
}

/// Every directed link a message takes: from a site to each inbound site
/// (requests) and back (replies).
fn directed_links(sites: &[SiteConfig]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in sites {
        for b in sites {
            let used = a.inbound_sites.contains(&b.site) || b.inbound_sites.contains(&a.site);
            if a.site != b.site && used {
                out.push((a.bridgehead.clone(), b.bridgehead.clone()));
            }
        }
    }
    out
}
