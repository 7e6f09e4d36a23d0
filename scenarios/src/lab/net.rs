//! The topology a lab runs, whatever its family, over the runner's own world
//! for that family (so the lab brings up exactly what `run` brings up):
//! DS / OpenDJ meshes ([`crate::runner::world`]), 389 suppliers and
//! consumers ([`crate::runner::r389`]) and Exchange 5.5 organizations
//! ([`crate::exchange::runner`]). What the lab needs of
//! each: its servers and their facts, start, stop and kill, each server's
//! log store, its links as pairs, the proxy of each directed link, its case
//! folder, its probes, and its scenario steps ([`Script`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use fault_proxy::Proxy;
use harness::hostmap::HostMap;
use harness::logbook::LogStore;
use harness::topology::Env;

use super::view::{Direction, DomainLink};
use crate::error::Error;
use crate::exchange::plan::ExPlanned;
use crate::exchange::runner::World as ExWorld;
use crate::format::Port;
use crate::plan::{LinkRef, Plan, Plan389, PlannedStep};
use crate::probe::{self, ProbeLine};
use crate::runner::case::CaseDir;
use crate::runner::r389::World389;
use crate::runner::world::World as DsWorld;

/// The running topology of one family.
pub(super) enum Net {
    // Boxed: the worlds differ much in size.
    Ds(Box<DsWorld>),
    R389(Box<R389>),
    Exchange(Box<ExWorld>),
}

/// A 389 topology: the runner's world and the plan it was made of (its
/// agreements' paths, for the probes).
pub(super) struct R389 {
    pub world: World389,
    pub plan: Plan389,
}

/// What the page shows of a server.
#[derive(Debug, Clone)]
pub(super) struct Facts {
    pub flavor: &'static str,
    pub version: String,
    pub host: String,
    pub addresses: Vec<IpAddr>,
    pub address: IpAddr,
    pub replication_port: Option<u16>,
    pub admin_port: Option<u16>,
    /// Exchange bridgeheads: their site.
    pub site: Option<String>,
}

/// A pair of servers that replicate with each other, and how.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PairLink {
    pub a: String,
    pub b: String,
    /// DS: one per shared domain.
    pub domains: Vec<DomainLink>,
    /// Exchange: each direction's link (`A -> B`), up or not; 389: each
    /// agreement between the two (supplier -> consumer).
    pub directions: Vec<Direction>,
}

impl PairLink {
    pub fn up(&self) -> bool {
        let parts: Vec<bool> = self.domains.iter().map(|d| d.up).chain(self.directions.iter().map(|d| d.up)).collect();
        !parts.is_empty() && parts.iter().all(|u| *u)
    }
}

/// Directed links (from, to, what runs on it) grouped by pair, each pair
/// and its members in topology order (`order`).
fn by_pair(order: &[String], dirs: impl Iterator<Item = (String, String, Direction)>) -> Vec<PairLink> {
    let at = |n: &str| order.iter().position(|x| x == n);
    let mut out: Vec<PairLink> = Vec::new();
    for (from, to, dir) in dirs {
        let (a, b) = if at(&from) <= at(&to) { (from, to) } else { (to, from) };
        match out.iter_mut().find(|p| p.a == a && p.b == b) {
            Some(p) => p.directions.push(dir),
            None => out.push(PairLink { a, b, domains: Vec::new(), directions: vec![dir] }),
        }
    }
    out.sort_by_key(|p| (at(&p.a), at(&p.b)));
    out
}

/// A scenario's steps after those at 0, in its family's own types.
pub(super) enum Script {
    Ds(Vec<PlannedStep>),
    /// A 389 file's steps: the plan's steps, played by the 389 runner.
    R389(Vec<PlannedStep>),
    Exchange(Vec<ExPlanned>),
}

impl Script {
    pub fn is_empty(&self) -> bool {
        match self {
            Script::Ds(s) | Script::R389(s) => s.is_empty(),
            Script::Exchange(s) => s.is_empty(),
        }
    }

    /// Each step's index and virtual time, in order.
    pub fn times(&self) -> Vec<(usize, Duration)> {
        match self {
            Script::Ds(s) | Script::R389(s) => s.iter().map(|x| x.at).enumerate().collect(),
            Script::Exchange(s) => s.iter().map(|x| x.at).enumerate().collect(),
        }
    }
}

impl Net {
    /// The DS world (the runner's step functions take it).
    pub fn ds_world(&self) -> Option<&DsWorld> {
        match self {
            Net::Ds(w) => Some(w.as_ref()),
            Net::R389(_) | Net::Exchange(_) => None,
        }
    }

    pub fn r389_world(&self) -> Option<&World389> {
        match self {
            Net::R389(n) => Some(&n.world),
            Net::Ds(_) | Net::Exchange(_) => None,
        }
    }

    pub fn exchange_world(&self) -> Option<&ExWorld> {
        match self {
            Net::Exchange(w) => Some(w.as_ref()),
            Net::Ds(_) | Net::R389(_) => None,
        }
    }

    /// Binds every server and puts the proxies on the planned links.
    pub async fn up(plan: &Plan, seed: u64) -> Result<Net, Error> {
        Ok(match (&plan.exchange, &plan.r389) {
            (Some(ex), _) => Net::Exchange(Box::new(ExWorld::up(ex, seed).await?)),
            // The page drives the in-process proxies: no external API (the lab's plan has none).
            (None, Some(p)) => Net::R389(Box::new(R389 {
                world: World389::up(plan, p, seed, &crate::proxy_api::Settings::default()).await?,
                plan: p.clone(),
            })),
            (None, None) => Net::Ds(Box::new(DsWorld::up(plan, seed).await?)),
        })
    }

    /// Whether the topology should come up whole before a scenario's first
    /// timed step (as `run` waits for it): not when it starts broken on purpose.
    pub fn expects_up(plan: &Plan) -> bool {
        match &plan.r389 {
            Some(p) => p.expect_in_sync,
            None => plan.expect_all_up,
        }
    }

    /// The scenario's steps at 0 (played before anything starts) and the later ones.
    pub fn script(plan: &Plan) -> (Script, Script) {
        match &plan.exchange {
            Some(ex) => {
                let (early, later) = ex.steps.iter().cloned().partition(|s| s.at.is_zero());
                (Script::Exchange(early), Script::Exchange(later))
            }
            None => {
                let (early, later) = plan.steps.iter().cloned().partition(|s| s.at.is_zero());
                if plan.r389.is_some() {
                    (Script::R389(early), Script::R389(later))
                } else {
                    (Script::Ds(early), Script::Ds(later))
                }
            }
        }
    }

    pub async fn start_all(&self) -> Result<(), Error> {
        match self {
            Net::Ds(w) => w.mesh.start_all().await?,
            Net::R389(n) => n.world.lab.start_all().await?,
            Net::Exchange(w) => w.org.start_all().await?,
        }
        Ok(())
    }

    pub fn flavor(&self) -> &'static str {
        match self {
            Net::Ds(_) => "ds",
            Net::R389(_) => "389",
            Net::Exchange(_) => "exchange",
        }
    }

    pub fn env(&self) -> &Env {
        match self {
            Net::Ds(w) => w.mesh.topology().env(),
            Net::R389(n) => n.world.lab.topology().env(),
            Net::Exchange(w) => w.org.env(),
        }
    }

    pub fn hosts(&self) -> &Arc<HostMap> {
        &self.env().hosts
    }

    /// Every server's name, in topology order.
    pub fn names(&self) -> Vec<String> {
        match self {
            Net::Ds(w) => w.mesh.servers().iter().map(|s| s.name()).collect(),
            Net::R389(n) => n.world.lab.servers().iter().map(|s| s.name()).collect(),
            Net::Exchange(w) => w.org.servers().iter().map(|s| s.name()).collect(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        match self {
            Net::Ds(w) => w.mesh.server(name).is_ok(),
            Net::R389(n) => n.world.lab.server(name).is_ok(),
            Net::Exchange(w) => w.org.server(name).is_ok(),
        }
    }

    pub fn facts(&self, name: &str) -> Option<Facts> {
        match self {
            Net::Ds(w) => w.mesh.server(name).ok().map(|s| {
                let c = s.config();
                Facts {
                    flavor: "ds",
                    version: c.version.to_string(),
                    host: c.host.clone(),
                    address: c.bind_ip(),
                    addresses: c.addresses.clone(),
                    replication_port: c.rs.then_some(c.replication_port),
                    admin_port: Some(c.admin_port),
                    site: None,
                }
            }),
            Net::R389(n) => n.world.lab.server(name).ok().map(|s| {
                let c = s.config();
                Facts {
                    flavor: "389",
                    version: c.version.to_string(),
                    host: c.host.clone(),
                    address: c.bind_ip(),
                    addresses: c.addresses.clone(),
                    // Agreements connect to the LDAP port.
                    replication_port: Some(s.ldap_addr().port()),
                    admin_port: None,
                    site: None,
                }
            }),
            Net::Exchange(w) => w.org.server(name).ok().map(|b| {
                let c = b.config();
                Facts {
                    flavor: "exchange",
                    version: "5.5".into(),
                    host: c.host.clone(),
                    address: c.address,
                    addresses: vec![c.address],
                    replication_port: Some(b.listen_addr().port()),
                    admin_port: None,
                    site: Some(c.site.clone()),
                }
            }),
        }
    }

    /// A server's log store (its files and records).
    pub fn log(&self, name: &str) -> Option<&LogStore> {
        match self {
            Net::Ds(w) => w.mesh.server(name).ok().map(|s| &***s.log()),
            Net::R389(n) => n.world.lab.server(name).ok().map(|s| &***s.log()),
            Net::Exchange(w) => w.org.server(name).ok().map(|b| &***b.log()),
        }
    }

    pub async fn is_running(&self, name: &str) -> bool {
        match self {
            Net::Ds(w) => match w.mesh.server(name) {
                Ok(s) => s.is_running().await,
                Err(_) => false,
            },
            Net::R389(n) => match n.world.lab.server(name) {
                Ok(s) => s.is_running().await,
                Err(_) => false,
            },
            Net::Exchange(w) => match w.org.server(name) {
                Ok(b) => b.is_running().await,
                Err(_) => false,
            },
        }
    }

    pub async fn stop(&self, name: &str) {
        match self {
            Net::Ds(w) => {
                if let Ok(s) = w.mesh.server(name) {
                    s.stop().await;
                }
            }
            Net::R389(n) => {
                if let Ok(s) = n.world.lab.server(name) {
                    s.stop().await;
                }
            }
            Net::Exchange(w) => {
                if let Ok(b) = w.org.server(name) {
                    b.stop().await;
                }
            }
        }
    }

    pub async fn kill(&self, name: &str) {
        match self {
            Net::Ds(w) => {
                if let Ok(s) = w.mesh.server(name) {
                    s.kill().await;
                }
            }
            Net::R389(n) => {
                if let Ok(s) = n.world.lab.server(name) {
                    s.kill().await;
                }
            }
            Net::Exchange(w) => {
                if let Ok(b) = w.org.server(name) {
                    b.kill().await;
                }
            }
        }
    }

    pub async fn start(&self, name: &str) -> Result<(), harness::HarnessError> {
        match self {
            Net::Ds(w) => w.mesh.server(name)?.start().await,
            Net::R389(n) => n.world.lab.server(name)?.start().await,
            Net::Exchange(w) => w.org.server(name)?.start().await,
        }
    }

    /// The pairs that replicate with each other, in topology order, and the
    /// state of what runs between them.
    pub async fn links(&self) -> Vec<PairLink> {
        let mut out: Vec<PairLink> = Vec::new();
        match self {
            Net::Ds(w) => {
                for r in w.mesh.link_table().await {
                    let d = DomainLink { domain: r.domain, up: r.up, initiator: r.initiator };
                    match out.iter_mut().find(|p| p.a == r.a && p.b == r.b) {
                        Some(p) => p.domains.push(d),
                        None => out.push(PairLink { a: r.a, b: r.b, domains: vec![d], directions: Vec::new() }),
                    }
                }
            }
            Net::Exchange(w) => {
                let dirs = w.org.link_table().into_iter().map(|r| {
                    let link = format!("{} -> {}", r.from, r.to);
                    (r.from, r.to, Direction { link, up: r.up, agreement: None })
                });
                out = by_pair(&self.names(), dirs);
            }
            Net::R389(n) => {
                let dirs = n.world.lab.agreements().into_iter().map(|r| {
                    // Up: enabled, and its last session succeeded (the status moves only
                    // when a session is tried, so a fault shows once there is something to send).
                    let up = r.enabled && r.status.contains("Incremental update succeeded");
                    let link = format!("{} -> {}", r.supplier, r.consumer);
                    (r.supplier, r.consumer, Direction { link, up, agreement: Some(r.name) })
                });
                out = by_pair(&self.names(), dirs);
            }
        }
        out
    }

    /// Every directed link with its own proxy listener.
    pub fn proxied(&self, plan: &Plan) -> Vec<LinkRef> {
        match (self, &plan.exchange) {
            (Net::R389(n), _) => n.plan.links.clone(),
            (Net::Exchange(_), Some(ex)) => ex
                .proxied
                .iter()
                .map(|(from, to)| LinkRef { from: from.clone(), to: to.clone(), port: Port::Replication })
                .collect(),
            _ => plan.proxied.clone(),
        }
    }

    /// The proxy of a directed link.
    pub fn proxy(&self, l: &LinkRef) -> Result<&Proxy, Error> {
        match self {
            Net::Ds(w) => w.proxy(l),
            Net::R389(n) => n.world.proxy(l),
            Net::Exchange(w) if l.port == Port::Replication => w.proxy(&(l.from.clone(), l.to.clone())),
            Net::Exchange(_) => {
                Err(Error::Proxy { link: l.to_string(), source: fault_proxy::ProxyError::ProxyNotFound })
            }
        }
    }

    /// Probes along the servers' own paths (DS: DNS and TCP; 389: TCP along
    /// each agreement's path; none for Exchange).
    pub async fn probes(&self, wait: Duration) -> Vec<ProbeLine> {
        match self {
            Net::Ds(w) => probe::run(&w.mesh, wait).await,
            Net::R389(n) => crate::runner::r389::probes(&n.plan, &n.world, wait).await,
            Net::Exchange(_) => Vec::new(),
        }
    }

    /// The case folder, as the family's run writes it.
    pub async fn write_case(&self, case: &CaseDir, probes: &[ProbeLine]) -> Result<(), Error> {
        match self {
            Net::Ds(w) => case.write(&w.mesh, probes),
            Net::R389(n) => crate::runner::r389::write_case(case, &n.world, probes).await,
            Net::Exchange(w) => Ok(harness::casefile::write_case(&w.org, case.path())?),
        }
    }

    /// Waits until every link is up; on timeout, what is not.
    pub async fn wait_all_up(&self, timeout: Duration) -> Result<(), Vec<String>> {
        match self {
            Net::Ds(w) => w.mesh.wait_all_up(timeout).await,
            Net::R389(n) => crate::runner::r389::in_sync(&n.world, timeout).await,
            Net::Exchange(w) => w.org.wait_links_up(timeout).await,
        }
    }

    /// Stops every server cleanly, then every proxy.
    pub async fn shutdown(&self) {
        match self {
            Net::Ds(w) => w.shutdown().await,
            Net::R389(n) => n.world.shutdown().await,
            Net::Exchange(w) => w.shutdown().await,
        }
    }
}
