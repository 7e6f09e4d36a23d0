//! Plays a 389 plan: the suppliers and consumers of a [`Lab389`] on
//! loopback, one fault-proxy listener on each agreement's path (the
//! supplier's connections to its consumer routed through it; in-process, or
//! on the external API of `--proxy-api` / `[topology.proxy] api`), or on the
//! netns network one test host per server and the faults as kernel rules, the timeline
//! on the virtual clock, TCP probes along each agreement's path, the case
//! folder, verdicts against the expectations.
//!
//! Before the first timed step the runner waits until every agreement is in
//! sync, unless the topology starts broken on purpose (a knob, a supplier
//! fault, a never-initialized consumer, other credentials) or steps at 0
//! shape it first.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fault_proxy::{Proxy, ProxyServer, ProxySpec};
use harness::ds389::{Lab389, Lab389Spec, Server389};

use super::case::CaseDir;
use super::{Judged, Stage};
use crate::error::Error;
use crate::network::fault::KernelFault;
use crate::network::kernel::{KernelNet, Link};
use crate::network::{Network, NetworkError};
use crate::plan::{Action, Action389, LinkRef, Plan, Plan389, PlannedStep, Until, Until389};
use crate::probe::ProbeLine;
use crate::proxy_api::{self, ExternalLinks};
use crate::{analyzer, expect};

/// How long the topology may take to come in sync before the first timed step.
const SETTLE: Duration = Duration::from_secs(30);

/// A 389 topology as `run` plays it; the lab (`crate::lab`) shows the same world.
pub(crate) struct World389 {
    pub(crate) lab: Lab389,
    proxies: ProxyServer,
    links: BTreeMap<LinkRef, Proxy>,
    /// The link proxies on an external API, when the run or the file names one.
    external: Option<ExternalLinks>,
    /// One test host per server, on the netns network (then no proxy runs).
    kernel: Option<Box<KernelNet>>,
}

impl World389 {
    pub(crate) async fn up(plan: &Plan, p: &Plan389, seed: u64, api: &proxy_api::Settings) -> Result<World389, Error> {
        let mut servers = p.servers.clone();
        let kernel = match plan.network {
            Network::Proxy => None,
            Network::Netns => {
                let names: Vec<String> = servers.iter().map(|s| s.name.clone()).collect();
                let k = KernelNet::create(&names).await?;
                for s in &mut servers {
                    let a =
                        k.address(&s.name).ok_or_else(|| NetworkError::Lab(format!("no test host for {}", s.name)))?;
                    s.addresses = vec![std::net::IpAddr::V4(a)];
                }
                Some(Box::new(k))
            }
        };
        let spec = Lab389Spec {
            servers,
            time_scale: plan.time_scale,
            start: None,
            log_dir: None,
            max_frame_len: harness::ds389::wire::DEFAULT_MAX_FRAME_LEN,
            seed,
        };
        let lab = match Lab389::bind(spec).await {
            Ok(l) => l,
            Err(e) => {
                if let Some(k) = &kernel {
                    let _ = k.shutdown().await;
                }
                return Err(e.into());
            }
        };
        for (name, t) in &p.release_timeouts {
            lab.server(name)?.set_release_timeout(*t);
        }
        for (name, w) in &p.flow_windows {
            lab.server(name)?.set_flow_control(*w, Duration::from_millis(2000));
        }
        let proxies = ProxyServer::new(fault_proxy::Options {
            seed,
            dial_timeout: lab.clock().real(Duration::from_secs(5)),
            allow_remote: false,
        });
        let mut w = World389 { lab, proxies, links: BTreeMap::new(), external: None, kernel };
        if let Some(url) = api.url.as_ref().or(plan.proxy_api.as_ref().map(|(u, _)| u)) {
            match external(plan, url, api).await {
                Ok(x) => w.external = Some(x),
                Err(e) => {
                    w.shutdown().await;
                    return Err(e);
                }
            }
        }
        if let Err(e) = w.wire(p).await {
            w.shutdown().await;
            return Err(e);
        }
        Ok(w)
    }

    async fn wire(&mut self, p: &Plan389) -> Result<(), Error> {
        if self.kernel.is_some() {
            // No proxy: every supplier dials its consumers' test hosts directly.
            return Ok(());
        }
        for link in &p.links {
            let to = self.lab.server(&link.to)?.config();
            let name = link.proxy_name();
            let upstream = SocketAddr::new(to.bind_ip(), to.port);
            if let Some(x) = &self.external {
                let at = x.create(&name, upstream).await?;
                self.lab.hosts().route(&link.from, &to.host, to.port, at);
                continue;
            }
            let proxy = self
                .proxies
                .create(ProxySpec::new(&name, "127.0.0.1:0", &upstream.to_string()))
                .await
                .map_err(|source| Error::Proxy { link: name.clone(), source })?;
            let at = proxy.listen_addr().ok_or_else(|| Error::Proxy {
                link: name.clone(),
                source: fault_proxy::ProxyError::BadRequest("the listener has no address".into()),
            })?;
            self.lab.hosts().route(&link.from, &to.host, to.port, at);
            self.links.insert(link.clone(), proxy);
        }
        Ok(())
    }

    /// The in-process proxy on an agreement's path.
    pub(crate) fn proxy(&self, link: &LinkRef) -> Result<&Proxy, Error> {
        self.links
            .get(link)
            .ok_or_else(|| Error::Proxy { link: link.proxy_name(), source: fault_proxy::ProxyError::ProxyNotFound })
    }

    /// An agreement's path as the kernel network sees it.
    fn kernel_link(&self, link: &LinkRef) -> Result<Link, Error> {
        let port = self.lab.server(&link.to)?.config().port;
        Ok(Link { from: link.from.clone(), to: link.to.clone(), port })
    }

    async fn add_fault(&self, link: &LinkRef, toxic: &fault_proxy::Toxic, before_start: bool) -> Result<(), Error> {
        if let Some(k) = &self.kernel {
            let fault =
                KernelFault::from_toxic(toxic).map_err(|why| NetworkError::Rule(format!("link {link}: {why}")))?;
            return Ok(k.add(&self.kernel_link(link)?, &fault).await?);
        }
        if let Some(x) = &self.external {
            return Ok(x.add_fault(&link.proxy_name(), toxic, before_start).await?);
        }
        self.proxy(link)?
            .add_fault(toxic.clone())
            .await
            .map(drop)
            .map_err(|source| Error::Proxy { link: link.proxy_name(), source })
    }

    async fn remove_fault(&self, link: &LinkRef, name: &str) -> Result<(), Error> {
        if let Some(k) = &self.kernel {
            return Ok(k.remove(&self.kernel_link(link)?, name).await?);
        }
        if let Some(x) = &self.external {
            return Ok(x.remove_fault(&link.proxy_name(), name).await?);
        }
        self.proxy(link)?.remove_fault(name).await.map_err(|source| Error::Proxy { link: link.proxy_name(), source })
    }

    fn server(&self, name: &str) -> Result<&std::sync::Arc<Server389>, Error> {
        Ok(self.lab.server(name)?)
    }

    /// Stops every server cleanly, then the proxies (and the test hosts, the external proxies).
    pub(crate) async fn shutdown(&self) {
        self.lab.shutdown().await;
        self.proxies.shutdown().await;
        if let Some(k) = &self.kernel {
            if let Err(e) = k.shutdown().await {
                tracing::warn!("removing the test hosts: {e}");
            }
        }
        if let Some(x) = &self.external {
            for e in x.remove_all().await {
                tracing::warn!("removing the link proxies: {e}");
            }
        }
    }
}

/// The external API's server, checked for every fault of the timeline (a
/// refusal names the step) before any proxy is made there.
async fn external(plan: &Plan, url: &proxy_api::ApiUrl, api: &proxy_api::Settings) -> Result<ExternalLinks, Error> {
    let x = ExternalLinks::connect(url, api).await?;
    for s in &plan.steps {
        if let Action::Fault { toxic, .. } = &s.action {
            x.check(toxic, s.at.is_zero()).map_err(|e| Error::Step {
                place: s.place.clone(),
                action: s.action.verb(),
                source: Box::new(e.into()),
            })?;
        }
    }
    Ok(x)
}

async fn apply(w: &World389, a: &Action389) -> Result<(), Error> {
    match a {
        Action389::Write { server, count } => {
            w.server(server)?.write(*count).await?;
        }
        Action389::Agreement { supplier, agreement, change } => {
            let s = w.server(supplier)?;
            if change.credentials.is_some() || change.timeout.is_some() || change.transport.is_some() {
                s.modify_agreement(agreement, |c| {
                    if let Some(p) = &change.credentials {
                        c.credentials = p.clone();
                    }
                    if let Some(t) = change.timeout {
                        c.timeout = t;
                    }
                    if let Some(t) = change.transport {
                        c.transport = t;
                    }
                })?;
            }
            if let Some(on) = change.enabled {
                s.set_enabled(agreement, on).await?;
            }
        }
        Action389::Init { supplier, agreement } => w.server(supplier)?.init(agreement).await?,
        Action389::Poke { supplier, agreement } => w.server(supplier)?.poke(agreement)?,
        Action389::Replica { server, change } => {
            let s = w.server(server)?;
            if let Some(b) = &change.bind_dns {
                s.set_bind_dns(b.clone())?;
            }
            if let Some(p) = &change.password {
                s.set_password(harness::ds389::config::REPLICATION_MANAGER, p);
            }
            if let Some(on) = change.enabled {
                s.set_replica_enabled(on)?;
            }
            if change.import {
                s.import_without_replication()?;
            }
            if change.lose_changelog {
                s.lose_changelog()?;
            }
            if let Some(o) = change.clock_offset {
                s.set_clock_offset(o);
            }
            let mut k = s.knobs();
            if let Some(a) = change.answer {
                k.answer = a;
            }
            if let Some(g) = change.garble_response {
                k.garble_response = g;
            }
            if let Some(r) = change.replay_error {
                k.replay_error = r;
            }
            if let Some(x) = change.abort_session {
                k.abort_session = x;
            }
            s.set_knobs(k);
            if let Some(f) = change.fault {
                s.set_fault(f);
            }
        }
    }
    Ok(())
}

async fn wait(w: &World389, u: &Until389, limit: Duration) -> Result<bool, Error> {
    Ok(match u {
        Until389::Status { agreement, text } => w
            .lab
            .wait_agreements(limit, |rows| {
                rows.iter().any(|r| agreement.as_ref().is_none_or(|a| *a == r.name) && r.status.contains(text.as_str()))
            })
            .await
            .is_ok(),
        Until389::InSync => w.lab.wait_in_sync(limit).await.is_ok(),
        Until389::Line { server, text, count } => {
            let s = w.server(server)?;
            let t = text.clone();
            s.log().wait_for(limit, |rs| rs.iter().filter(|r| r.line.contains(t.as_str())).count() >= *count).await
        }
    })
}

/// One step of a 389 timeline (the lab plays a file's steps with it too).
pub(crate) async fn step(s: &PlannedStep, w: &World389) -> Result<(), Error> {
    let fail = |e: Error| Error::Step { place: s.place.clone(), action: s.action.verb(), source: Box::new(e) };
    let run = async {
        match &s.action {
            Action::Fault { links, toxic } => {
                for link in links {
                    w.add_fault(link, toxic, s.at.is_zero()).await?;
                }
            }
            Action::Clear { links, name } => {
                for link in links {
                    w.remove_fault(link, name).await?;
                }
            }
            Action::Stop { server } => w.server(server)?.stop().await,
            Action::Kill { server } => w.server(server)?.kill().await,
            Action::Start { server } => w.server(server)?.start().await?,
            Action::Dns { host, from, entry } => {
                let from: Vec<String> = match from {
                    Some(f) => vec![f.clone()],
                    None => w.lab.servers().iter().map(|x| x.name()).collect(),
                };
                for f in from {
                    w.lab.hosts().set_for(&f, host, entry.clone());
                }
            }
            Action::R389(a) => apply(w, a).await?,
            Action::Wait { until: Until::R389(u), timeout } => {
                if !wait(w, u, *timeout).await? {
                    return Err(Error::WaitTimedOut { waited: *timeout, what: u.to_string() });
                }
            }
            other => {
                return Err(Error::Invalid(Box::new(crate::error::Invalid {
                    place: s.place.clone(),
                    problem: crate::error::Problem::Shape(format!(
                        "action {:?} does not apply to a 389 topology",
                        other.verb()
                    )),
                })))
            }
        }
        Ok(())
    };
    run.await.map_err(fail)
}

async fn timeline(plan: &Plan, p: &Plan389, w: &World389, stage: &Stage) -> Result<(), Error> {
    let (early, later): (Vec<&PlannedStep>, Vec<&PlannedStep>) = plan.steps.iter().partition(|s| s.at.is_zero());
    for s in &early {
        stage.set(format!("step {} at 0s", s.action.verb()));
        step(s, w).await?;
    }
    stage.set("start");
    w.lab.start_all().await?;
    if early.is_empty() && p.expect_in_sync {
        stage.set("waiting for every agreement to be in sync");
        in_sync(w, SETTLE).await.map_err(Error::NotUp)?;
    }
    for s in &later {
        stage.set(format!("step {} at {}s", s.action.verb(), s.at.as_secs()));
        tokio::time::sleep_until(w.lab.clock().instant_at(s.at).into()).await;
        step(s, w).await?;
    }
    Ok(())
}

/// Waits until every agreement is in sync; on timeout, each agreement as it was (`NAME (SUPPLIER: STATUS)`).
pub(crate) async fn in_sync(w: &World389, timeout: Duration) -> Result<(), Vec<String>> {
    w.lab
        .wait_in_sync(timeout)
        .await
        .map_err(|rows| rows.into_iter().map(|r| format!("{} ({}: {})", r.name, r.supplier, r.status)).collect())
}

/// TCP probes along each agreement's path (through its proxy).
pub(crate) async fn probes(p: &Plan389, w: &World389, wait: Duration) -> Vec<ProbeLine> {
    let mut out = Vec::new();
    for link in &p.links {
        let (Ok(from), Ok(to)) = (w.server(&link.from), w.server(&link.to)) else { continue };
        let (fc, tc) = (from.config(), to.config());
        let Ok(target) = w.lab.hosts().resolve(&link.from, &tc.host, tc.port) else { continue };
        let started = Instant::now();
        let outcome = tcp(fc.bind_ip(), target, wait).await;
        out.push(ProbeLine {
            from: link.from.clone(),
            target: tc.host.clone(),
            port: Some(tc.port),
            kind: "tcp",
            outcome,
            address: None,
            detail: None,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }
    out
}

async fn tcp(from: std::net::IpAddr, to: SocketAddr, wait: Duration) -> &'static str {
    use tokio::io::AsyncReadExt;
    // Made on the prober's test host on the netns network; loopback or the run's own hosts only.
    if !harness::testnet::may_dial(from, to.ip()) {
        return "timeout";
    }
    let Ok(socket) = harness::testnet::socket(from, to.is_ipv4()) else {
        return "refused";
    };
    if harness::testnet::bindable(from) && from.is_ipv4() == to.is_ipv4() {
        let _ = socket.bind(SocketAddr::new(from, 0));
    }
    let mut stream = match tokio::time::timeout(wait, socket.connect(to)).await {
        Err(_) => return "timeout",
        Ok(Err(_)) => return "refused",
        Ok(Ok(s)) => s,
    };
    let mut b = [0u8; 1];
    match tokio::time::timeout(wait.min(Duration::from_millis(30)), stream.read(&mut b)).await {
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => "refused",
        _ => "ok",
    }
}

/// The case folder of a 389 world: every server's files, the probes, the network it ran on.
pub(crate) async fn write_case(case: &CaseDir, w: &World389, probes: &[ProbeLine]) -> Result<(), Error> {
    harness::casefile::write_case(&w.lab, case.path())?;
    let mut lines = String::new();
    for p in probes {
        if let Ok(l) = serde_json::to_string(p) {
            lines.push_str(&l);
            lines.push('\n');
        }
    }
    let file = case.path().join("probes.jsonl");
    std::fs::write(&file, lines).map_err(|source| Error::CaseFolder { path: file, source })?;
    let note = match &w.kernel {
        Some(k) => k.note().await,
        None => {
            let mut t = toml::Table::new();
            t.insert("kind".into(), "proxy".into());
            t.insert("proxied_links".into(), toml::Value::Integer(w.links.len() as i64));
            t
        }
    };
    case.note_network(&note)
}

pub(super) async fn play(
    plan: &Plan,
    p: &Plan389,
    seed: u64,
    opts: &super::RunOptions,
    stage: &Stage,
    until: tokio::time::Instant,
) -> Result<Judged, Error> {
    let w = World389::up(plan, p, seed, &opts.proxy_api).await?;
    let body = async {
        timeline(plan, p, &w, stage).await?;
        stage.set("probes");
        let probes = match plan.probe_timeout {
            Some(wait) => probes(p, &w, wait).await,
            None => Vec::new(),
        };
        stage.set("writing the case folder");
        let case = CaseDir::new(opts.keep.as_deref(), &plan.name)?;
        write_case(&case, &w, &probes).await?;
        stage.set("diagnosis");
        let verdicts = match &opts.analyzer {
            None => diagnosis::diagnose(case.path(), &diagnosis::Options::default())?.verdicts,
            Some(words) => analyzer::run(words, case.path(), opts.analyzer_timeout).await?,
        };
        let failures = expect::check(&plan.expect, &verdicts);
        Ok(Judged { verdicts, failures, kept: case.kept() })
    };
    let result = match tokio::time::timeout_at(until, body).await {
        Ok(r) => r,
        Err(_) => Err(Error::Deadline(stage.get())),
    };
    stage.set("shutdown");
    w.shutdown().await;
    result
}
