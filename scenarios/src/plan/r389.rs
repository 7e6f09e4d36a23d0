//! The 389 flavor's part of Scenario → Plan (`[topology] flavor = "389"`):
//! servers with their replica (`replica = { role, … }`), agreements, the
//! knobs, the 389 steps and waits, each checked once with its place in the
//! file, typed into what [`crate::runner`] plays on a [`harness::ds389::Lab389`].
//!
//! The directed link of each agreement (supplier → consumer) gets its own
//! fault-proxy listener, so `fault` and `clear` steps name agreements' paths
//! as `"slapd-a -> slapd-b"` (or `<->` for both suppliers' agreements).

use std::time::Duration;

use harness::ds389::config::{Transport, DEFAULT_PASSWORD, REPLICATION_MANAGER};
use harness::ds389::{
    AgreementConfig, Answer, ConsumerKnobs, ReplicaConfig, Role, ServerConfig389, SupplierFault, Version389,
};
use harness::mesh::loopback_for;

use super::topology::{loopback, LinkRef};
use super::Ctx;
use crate::error::{Error, Problem};
use crate::format::{Port, Scenario, Seg, Step};
use crate::path;
use crate::r389::format::{AgreementSpec, ReplicaSpec, ReplicaStep};

/// The version a 389 server runs unless the file says otherwise.
pub const DEFAULT_VERSION: &str = "2.3.1";

/// A 389 topology, checked.
#[derive(Debug, Clone)]
pub struct Plan389 {
    pub servers: Vec<ServerConfig389>,
    /// Per server: `nsds5ReplicaReleaseTimeout` and the flow-control window, when set.
    pub release_timeouts: Vec<(String, Duration)>,
    pub flow_windows: Vec<(String, usize)>,
    /// Every agreement's directed link (supplier → consumer), proxied.
    pub links: Vec<LinkRef>,
    /// False when the topology starts broken on purpose (a knob, a fault, a
    /// never-initialized consumer, a disabled agreement, other credentials):
    /// the runner then does not wait for every agreement to be in sync.
    pub expect_in_sync: bool,
}

/// A 389 step, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action389 {
    Write { server: String, count: usize },
    Agreement { supplier: String, agreement: String, change: AgreementChange },
    Init { supplier: String, agreement: String },
    Poke { supplier: String, agreement: String },
    Replica { server: String, change: ReplicaChange },
}

/// What an `agreement` step changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgreementChange {
    pub credentials: Option<String>,
    pub enabled: Option<bool>,
    pub timeout: Option<Duration>,
    pub transport: Option<Transport>,
}

/// What a `replica` step changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaChange {
    pub bind_dns: Option<Vec<String>>,
    pub password: Option<String>,
    pub enabled: Option<bool>,
    pub import: bool,
    pub lose_changelog: bool,
    pub clock_offset: Option<time::Duration>,
    /// `Some(None)`: cleared.
    pub answer: Option<Option<Answer>>,
    pub garble_response: Option<bool>,
    pub replay_error: Option<Option<i32>>,
    pub abort_session: Option<bool>,
    pub fault: Option<Option<SupplierFault>>,
}

/// What a 389 `wait` waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Until389 {
    /// An agreement's status (as a search shows it) contains `text`
    /// (`agreement`: that one; else any).
    Status { agreement: Option<String>, text: String },
    /// A line containing `text` in `server`'s errors log, `count` times.
    Line { server: String, text: String, count: usize },
    /// Every enabled agreement in sync.
    InSync,
}

impl std::fmt::Display for Until389 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Until389::Status { agreement: Some(a), text } => write!(f, "agreement {a}'s status to contain {text:?}"),
            Until389::Status { agreement: None, text } => write!(f, "an agreement's status to contain {text:?}"),
            Until389::Line { server, text, count } => {
                write!(f, "{count} line(s) with {text:?} in {server}'s errors log")
            }
            Until389::InSync => f.write_str("every agreement to be in sync"),
        }
    }
}

fn shape(ctx: &Ctx<'_>, at: &[Seg<'_>], msg: String) -> Error {
    ctx.err(at, Problem::Shape(msg))
}

/// Is this a 389 scenario?
pub fn is_389(sc: &Scenario) -> bool {
    sc.topology.flavor == Some(crate::format::Flavor::R389)
}

/// A topology of another flavor with 389 keys (`replica`, `[[topology.agreements]]`).
pub(super) fn refuse_389_keys(sc: &Scenario, ctx: &Ctx<'_>) -> Result<(), Error> {
    let hint = "takes a 389 topology ([topology] flavor = \"389\")";
    if let Some(i) = sc.topology.servers.iter().position(|s| s.replica.is_some()) {
        return Err(ctx.key_err(&path!["topology", "servers", i, "replica"], Problem::Shape(format!("replica {hint}"))));
    }
    if !sc.topology.agreements.is_empty() {
        return Err(shape(ctx, &path!["topology", "agreements", 0], format!("an agreement {hint}")));
    }
    Ok(())
}

/// The scenario as the DS planner may read it (its DS-only checks then
/// see no 389 key): versions and replica settings left out.
pub fn ds_view(sc: &Scenario) -> Scenario {
    let mut v = sc.clone();
    v.topology.version = "7.1".into();
    for s in &mut v.topology.servers {
        s.version = None;
        s.replica = None;
    }
    v.topology.agreements.clear();
    v
}

/// `+2d`, `-2h`, `30m`: a signed duration, up to ten years either way (a
/// clock can be further off than the 24 h other durations are held to).
fn signed(ctx: &Ctx<'_>, text: &str, at: &[Seg<'_>]) -> Result<time::Duration, Error> {
    let t = text.trim();
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let bad = |reason: String| ctx.err(at, Problem::BadDuration { text: text.to_owned(), reason });
    let d = humantime::parse_duration(rest.trim()).map_err(|e| bad(e.to_string()))?;
    if d > Duration::from_secs(3650 * 86_400) {
        return Err(bad("a clock offset is at most ten years".into()));
    }
    let d = time::Duration::try_from(d).map_err(|e| bad(e.to_string()))?;
    Ok(if neg { -d } else { d })
}

fn answer(ctx: &Ctx<'_>, text: &str, at: &[Seg<'_>]) -> Result<Answer, Error> {
    Answer::parse(text).ok_or_else(|| {
        let known: Vec<&str> = Answer::ALL.iter().map(|a| a.name()).collect();
        shape(ctx, at, format!("answer {text:?} is not one of {}", known.join(", ")))
    })
}

fn fault(ctx: &Ctx<'_>, text: &str, at: &[Seg<'_>]) -> Result<SupplierFault, Error> {
    SupplierFault::parse(text).ok_or_else(|| {
        let known: Vec<&str> = SupplierFault::NAMES.iter().map(|(n, _)| *n).collect();
        shape(ctx, at, format!("fault {text:?} is not one of {}", known.join(", ")))
    })
}

fn transport(ctx: &Ctx<'_>, text: &str, at: &[Seg<'_>]) -> Result<Transport, Error> {
    Transport::parse(text).ok_or_else(|| shape(ctx, at, format!("transport {text:?} is not LDAP, SSL or TLS")))
}

/// Keys of `[[topology.servers]]` that only DS servers take.
fn ds_only_keys(s: &crate::format::ServerSpec) -> Option<&'static str> {
    [
        (s.server_id.is_some(), "server_id"),
        (s.domains.is_some(), "domains"),
        (s.replication_port.is_some(), "replication_port"),
        (s.admin_port.is_some(), "admin_port"),
        (!s.rs, "rs"),
        (!s.ds, "ds"),
        (s.replicates_through.is_some(), "replicates_through"),
        (s.tls, "tls"),
        (!s.ssl_encryption, "ssl_encryption"),
        (s.cert.is_some(), "cert"),
    ]
    .into_iter()
    .find(|(given, _)| *given)
    .map(|(_, k)| k)
}

fn replica(
    ctx: &Ctx<'_>,
    i: usize,
    r: &ReplicaSpec,
    suffix: &str,
    next_rid: &mut u16,
    c: &mut ServerConfig389,
) -> Result<(Option<Duration>, Option<usize>, bool), Error> {
    let at = |f: &'static str| path!["topology", "servers", i, "replica", f];
    let role = match r.role.as_str() {
        "supplier" => {
            let rid = r.id.unwrap_or(*next_rid);
            *next_rid = rid.saturating_add(1);
            Role::Supplier { rid }
        }
        "consumer" => {
            if r.id.is_some() {
                return Err(shape(ctx, &at("id"), "a consumer's replica id is 65535: give none".into()));
            }
            Role::Consumer
        }
        other => return Err(shape(ctx, &at("role"), format!("role {other:?} is not supplier or consumer"))),
    };
    let mut rc = ReplicaConfig::new(r.suffix.as_deref().unwrap_or(suffix), role);
    let d =
        |text: &Option<String>, f: &'static str, default: Duration| ctx.duration_or(text.as_deref(), &at(f), default);
    rc.backoff_min = d(&r.backoff_min, "backoff_min", rc.backoff_min)?;
    rc.backoff_max = d(&r.backoff_max, "backoff_max", rc.backoff_max)?;
    rc.busy_wait = d(&r.busy_wait, "busy_wait", rc.busy_wait)?;
    rc.keepalive_interval = d(&r.keepalive_interval, "keepalive_interval", rc.keepalive_interval)?;
    rc.changelog_max_entries = r.changelog_max_entries.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    rc.initialized = r.initialized.unwrap_or(true);
    if let Some(b) = &r.bind_dns {
        rc.bind_dns = b.clone();
    }
    let mut knobs = ConsumerKnobs::default();
    if let Some(a) = &r.answer {
        knobs.answer = Some(answer(ctx, a, &at("answer"))?);
    }
    knobs.garble_response = r.garble_response;
    knobs.replay_error = r.replay_error;
    knobs.abort_session = r.abort_session;
    c.knobs = knobs;
    if let Some(f) = &r.fault {
        c.fault = Some(fault(ctx, f, &at("fault"))?);
    }
    if let Some(p) = &r.password {
        c.accounts.insert(REPLICATION_MANAGER.into(), p.clone());
    }
    if let Some(o) = &r.clock_offset {
        c.clock_offset = signed(ctx, o, &at("clock_offset"))?;
    }
    c.tls = r.tls;
    let broken = knobs != ConsumerKnobs::default()
        || c.fault.is_some()
        || !rc.initialized
        || r.bind_dns.is_some()
        || r.password.is_some()
        || r.clock_offset.is_some();
    c.replica = Some(rc);
    let release = r.release_timeout.as_deref().map(|t| ctx.duration(t, &at("release_timeout"))).transpose()?;
    let window = r.flow_control_window.map(|n| usize::try_from(n).unwrap_or(usize::MAX).max(1));
    Ok((release, window, broken))
}

fn agreement(ctx: &Ctx<'_>, j: usize, a: &AgreementSpec) -> Result<(String, AgreementConfig, bool), Error> {
    let at = |f: &'static str| path!["topology", "agreements", j, f];
    let from = ctx.server(&a.from, &at("from"))?;
    let to = ctx.server(&a.to, &at("to"))?;
    if from == to {
        return Err(shape(ctx, &at("to"), format!("agreement from {from} to itself")));
    }
    let short = |n: &str| n.trim_start_matches("slapd-").to_owned();
    let name = a.name.clone().unwrap_or_else(|| format!("{}-to-{}", short(&from), short(&to)));
    let mut c = AgreementConfig::new(&name, &to);
    if let Some(d) = &a.bind_dn {
        c.bind_dn = d.clone();
    }
    if let Some(p) = &a.credentials {
        c.credentials = p.clone();
    }
    if let Some(t) = &a.transport {
        c.transport = transport(ctx, t, &at("transport"))?;
    }
    c.timeout = ctx.duration_or(a.timeout.as_deref(), &at("timeout"), c.timeout)?;
    if c.timeout.is_zero() {
        return Err(shape(ctx, &at("timeout"), "an agreement's timeout must be positive".into()));
    }
    c.enabled = a.enabled;
    let broken = a.enabled == Some(false)
        || a.credentials.as_deref().is_some_and(|p| p != DEFAULT_PASSWORD)
        || a.bind_dn.is_some()
        || c.transport != Transport::Ldap;
    Ok((from, c, broken))
}

/// `[topology]` of a 389 scenario.
pub(super) fn plan(sc: &Scenario, ctx: &Ctx<'_>) -> Result<Plan389, Error> {
    let t = &sc.topology;
    if t.servers.is_empty() {
        return Err(ctx.err(&path!["topology"], Problem::NoServers));
    }
    let suffix = t.backends.first().cloned().unwrap_or_else(|| "dc=example,dc=com".into());
    let default_version = if t.version == "7.1" { DEFAULT_VERSION } else { t.version.as_str() };
    let mut servers: Vec<ServerConfig389> = Vec::new();
    let (mut release_timeouts, mut flow_windows) = (Vec::new(), Vec::new());
    let mut next_rid = 1u16;
    let mut expect_in_sync = true;
    for (i, s) in t.servers.iter().enumerate() {
        let at = |f: &'static str| path!["topology", "servers", i, f];
        if servers.iter().any(|c| c.name == s.name) {
            return Err(ctx.err(&at("name"), Problem::DuplicateServer(s.name.clone())));
        }
        if let Some(k) = ds_only_keys(s) {
            return Err(ctx.key_err(
                &at(k),
                Problem::Shape(format!("{k} is a key of DS servers, not of 389 ones (docs/389.md)")),
            ));
        }
        let vtext = s.version.as_deref().unwrap_or(default_version);
        let version = Version389::parse(vtext).map_err(|e| {
            let place =
                if s.version.is_some() { ctx.place(&at("version")) } else { ctx.place(&path!["topology", "version"]) };
            Error::invalid(place, Problem::BadVersion(e.to_string()))
        })?;
        let host = s.host.clone().unwrap_or_else(|| format!("{}.example.com", s.name.trim_start_matches("slapd-")));
        let mut c = ServerConfig389::new(&s.name, &host, loopback_for(i + 1), None);
        c.version = version;
        if let Some(addrs) = &s.addresses {
            c.addresses = addrs
                .iter()
                .enumerate()
                .map(|(j, a)| loopback(ctx, a, &path!["topology", "servers", i, "addresses", j]))
                .collect::<Result<_, _>>()?;
        }
        let spec = s.replica.clone().unwrap_or_else(ReplicaSpec::supplier);
        let (release, window, broken) = replica(ctx, i, &spec, &suffix, &mut next_rid, &mut c)?;
        expect_in_sync &= !broken;
        if let Some(r) = release {
            release_timeouts.push((s.name.clone(), r));
        }
        if let Some(w) = window {
            flow_windows.push((s.name.clone(), w));
        }
        servers.push(c);
    }
    let mut links = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for (j, a) in t.agreements.iter().enumerate() {
        let (from, cfg, broken) = agreement(ctx, j, a)?;
        if !names.insert(cfg.name.clone()) {
            return Err(shape(
                ctx,
                &path!["topology", "agreements", j],
                format!("two agreements are named {:?}", cfg.name),
            ));
        }
        let Some(sup) = servers.iter_mut().find(|s| s.name == from) else { continue };
        if !matches!(sup.replica.as_ref().map(|r| r.role), Some(Role::Supplier { .. })) {
            return Err(shape(
                ctx,
                &path!["topology", "agreements", j, "from"],
                format!("{from} is no supplier: only suppliers have agreements"),
            ));
        }
        expect_in_sync &= !broken;
        links.push(LinkRef { from: from.clone(), to: cfg.consumer.clone(), port: Port::Replication });
        sup.agreements.push(cfg);
    }
    for s in &servers {
        s.validate().map_err(|e| shape(ctx, &path!["topology"], e.to_string()))?;
    }
    // Two suppliers sharing a replica id never get in sync.
    let mut rids = std::collections::BTreeSet::new();
    for s in &servers {
        if let Some(Role::Supplier { rid }) = s.replica.as_ref().map(|r| r.role) {
            expect_in_sync &= rids.insert(rid);
        }
    }
    Ok(Plan389 { servers, release_timeouts, flow_windows, links, expect_in_sync })
}

/// The supplier holding agreement `name`.
fn supplier_of(ctx: &Ctx<'_>, p: &Plan389, name: &str, at: &[Seg<'_>]) -> Result<String, Error> {
    p.servers.iter().find(|s| s.agreements.iter().any(|a| a.name == name)).map(|s| s.name.clone()).ok_or_else(|| {
        let known: Vec<String> = p.servers.iter().flat_map(|s| s.agreements.iter().map(|a| a.name.clone())).collect();
        shape(ctx, at, format!("no agreement named {name:?} (the topology has: {})", known.join(", ")))
    })
}

fn replica_change(ctx: &Ctx<'_>, i: usize, r: &ReplicaStep) -> Result<ReplicaChange, Error> {
    let at = |f: &'static str| path!["steps", i, f];
    fn none_or(text: &Option<String>) -> Option<Option<&str>> {
        text.as_deref().map(|t| (t != "none").then_some(t))
    }
    Ok(ReplicaChange {
        bind_dns: r.bind_dns.clone(),
        password: r.password.clone(),
        enabled: r.enabled,
        import: r.import,
        lose_changelog: r.lose_changelog,
        clock_offset: r.clock_offset.as_deref().map(|o| signed(ctx, o, &at("clock_offset"))).transpose()?,
        answer: match none_or(&r.answer) {
            None => None,
            Some(None) => Some(None),
            Some(Some(a)) => Some(Some(answer(ctx, a, &at("answer"))?)),
        },
        garble_response: r.garble_response,
        replay_error: r.replay_error.map(|rc| (rc != 0).then_some(rc)),
        abort_session: r.abort_session,
        fault: match none_or(&r.fault) {
            None => None,
            Some(None) => Some(None),
            Some(Some(f)) => Some(Some(fault(ctx, f, &at("fault"))?)),
        },
    })
}

/// A 389 step; `None` for a step of no 389 action.
pub(super) fn action(ctx: &Ctx<'_>, p: &Plan389, i: usize, step: &Step) -> Result<Option<Action389>, Error> {
    let at = |f: &'static str| path!["steps", i, f];
    Ok(Some(match step {
        Step::Write(w) => {
            let server = ctx.server(&w.server, &at("server"))?;
            let count = w.count.unwrap_or(1);
            if count == 0 || count > 1_000_000 {
                return Err(shape(ctx, &at("count"), format!("count {count} is not between 1 and 1000000")));
            }
            Action389::Write { server, count: count as usize }
        }
        Step::Agreement(a) => {
            let supplier = supplier_of(ctx, p, &a.agreement, &at("agreement"))?;
            let change = AgreementChange {
                credentials: a.credentials.clone(),
                enabled: a.enabled,
                timeout: a.timeout.as_deref().map(|t| ctx.duration(t, &at("timeout"))).transpose()?,
                transport: a.transport.as_deref().map(|t| transport(ctx, t, &at("transport"))).transpose()?,
            };
            if change == AgreementChange::default() {
                return Err(shape(
                    ctx,
                    &path!["steps", i],
                    "an agreement step changes credentials, enabled, timeout or transport".into(),
                ));
            }
            Action389::Agreement { supplier, agreement: a.agreement.clone(), change }
        }
        Step::Init(a) => Action389::Init {
            supplier: supplier_of(ctx, p, &a.agreement, &at("agreement"))?,
            agreement: a.agreement.clone(),
        },
        Step::Poke(a) => Action389::Poke {
            supplier: supplier_of(ctx, p, &a.agreement, &at("agreement"))?,
            agreement: a.agreement.clone(),
        },
        Step::Replica(r) => {
            Action389::Replica { server: ctx.server(&r.server, &at("server"))?, change: replica_change(ctx, i, r)? }
        }
        Step::Generation(_) => {
            return Err(shape(
                ctx,
                &at("action"),
                "generation steps are DS's: a 389 consumer re-imported is `action = \"replica\"` with `import = true`"
                    .into(),
            ))
        }
        _ => return Ok(None),
    }))
}

/// A 389 step in a scenario of another flavor.
pub(super) fn misplaced(ctx: &Ctx<'_>, i: usize, step: &Step) -> Option<Error> {
    matches!(step, Step::Write(_) | Step::Agreement(_) | Step::Init(_) | Step::Poke(_) | Step::Replica(_)).then(|| {
        shape(
            ctx,
            &path!["steps", i, "action"],
            format!("action {:?} takes a 389 topology ([topology] flavor = \"389\")", step.action()),
        )
    })
}

/// A 389 `wait` (`until = { status = …, agreement = … }` or `{ line = …, server = …, count = … }`).
pub(super) fn until(
    ctx: &Ctx<'_>,
    p: Option<&Plan389>,
    i: usize,
    u: &crate::format::Until,
) -> Result<Option<Until389>, Error> {
    let at = |f: &'static str| path!["steps", i, "until", f];
    let Some(p) = p else {
        if u.status.is_some() || u.line.is_some() || u.agreement.is_some() || u.in_sync.is_some() {
            return Err(shape(
                ctx,
                &path!["steps", i, "until"],
                "status, line, agreement and in_sync are waits of 389 topologies".into(),
            ));
        }
        return Ok(None);
    };
    let ds_keys = u.logged.is_some() || u.link_up.is_some() || u.link_down.is_some();
    match (&u.status, &u.line) {
        _ if ds_keys => Err(shape(
            ctx,
            &path!["steps", i, "until"],
            "logged, link_up and link_down are waits of DS topologies; a 389 wait takes status, line or in_sync".into(),
        )),
        (None, None) if u.in_sync == Some(true) => Ok(Some(Until389::InSync)),
        (Some(text), None) => {
            if let Some(a) = &u.agreement {
                supplier_of(ctx, p, a, &at("agreement"))?;
            }
            Ok(Some(Until389::Status { agreement: u.agreement.clone(), text: text.clone() }))
        }
        (None, Some(text)) => {
            let name = u
                .server
                .as_deref()
                .ok_or_else(|| shape(ctx, &path!["steps", i, "until"], "until.line needs until.server".into()))?;
            let count = usize::try_from(u.count.unwrap_or(1)).unwrap_or(usize::MAX);
            Ok(Some(Until389::Line { server: ctx.server(name, &at("server"))?, text: text.clone(), count }))
        }
        _ => Err(shape(
            ctx,
            &path!["steps", i, "until"],
            "a 389 wait takes status (and agreement) or line (and server, count)".into(),
        )),
    }
}
