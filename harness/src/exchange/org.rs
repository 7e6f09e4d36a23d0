//! An organization of bridgeheads brought up together on loopback.
//!
//! Every bridgehead binds first (so each port is known), learns where every
//! site's bridgehead listens and which bridgeheads it sends to, starts with
//! its replicas of its inbound sites' contexts up to date (an organization in
//! sync), then replicates on its schedule. The case folder adds the
//! `[[connectors]]` of `spec/cli.md` to `topology.toml`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;

use super::bridgehead::Bridgehead;
use super::config::OrgSpec;
use super::counts::Count;
use super::directory::Context;
use super::node::{OrgShared, Peer};
use super::schedule::Written;
use crate::casefile::{Case, CaseSource};
use crate::clock::VirtualClock;
use crate::error::HarnessError;
use crate::hostmap::{HostEntry, HostMap};
use crate::topology::{Env, Topology};

/// One directed link of the organization and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub from: String,
    pub to: String,
    pub up: bool,
    pub sent: u64,
}

#[derive(Debug)]
pub struct Organization {
    topo: Topology<Bridgehead>,
    shared: Arc<OrgShared>,
    /// Listeners bound by [`Organization::bind`] and not started yet.
    pending: tokio::sync::Mutex<Vec<TcpListener>>,
}

impl Organization {
    /// Brings the organization up.
    pub async fn start(spec: OrgSpec) -> Result<Organization, HarnessError> {
        let org = Self::bind(spec).await?;
        org.start_all().await?;
        Ok(org)
    }

    /// Binds every bridgehead's port and tells each its partners, without
    /// starting anything: routes can then be set in [`Organization::hosts`]
    /// before the first connection is made.
    pub async fn bind(spec: OrgSpec) -> Result<Organization, HarnessError> {
        spec.validate()?;
        let env = Env::new(VirtualClock::new(spec.start, spec.time_scale), None);
        let shared = Arc::new(OrgShared {
            org: spec.organization.clone(),
            env: env.clone(),
            timings: spec.timings.clone(),
            max_frame_len: spec.max_frame_len,
            inbox_limit: spec.inbox_limit,
            activations_until: spec.activations_until,
            peers: RwLock::new(Default::default()),
        });
        let mut servers = Vec::with_capacity(spec.sites.len());
        for (i, site) in spec.sites.iter().enumerate() {
            env.hosts.set(&site.host, HostEntry::Addresses(vec![site.address]));
            servers.push(Arc::new(Bridgehead::new(site.clone(), shared.clone(), spec.seed.wrapping_add(i as u64))));
        }
        let topo = Topology::new(env, servers)?;
        if let Some(dir) = &spec.log_dir {
            for b in topo.servers() {
                let dir = dir.join(b.name());
                b.log().tee_to(&dir).map_err(|source| HarnessError::Write { path: dir, source })?;
            }
        }
        let mut bound = Vec::with_capacity(topo.servers().len());
        for b in topo.servers() {
            bound.push(b.bind().await?);
        }
        {
            let mut peers = shared.peers.write().unwrap_or_else(|e| e.into_inner());
            for b in topo.servers() {
                let cfg = b.config();
                let peer = Peer { site: cfg.site.clone(), bridgehead: cfg.bridgehead, host: cfg.host, port: cfg.port };
                peers.insert(cfg.site, peer);
            }
        }
        let org = Organization { topo, shared, pending: tokio::sync::Mutex::new(bound) };
        org.wire();
        Ok(org)
    }

    /// Partners and replicas: a site sends requests to its inbound sites'
    /// bridgeheads and replies to every bridgehead whose connector has it inbound.
    fn wire(&self) {
        let configs: Vec<_> = self.servers().iter().map(|b| b.config()).collect();
        for (b, cfg) in self.servers().iter().zip(&configs) {
            let mut partners: Vec<String> = Vec::new();
            for other in &configs {
                let asks = cfg.inbound_sites.contains(&other.site);
                let asked = other.inbound_sites.contains(&cfg.site);
                if (asks || asked) && !partners.contains(&other.bridgehead) {
                    partners.push(other.bridgehead.clone());
                }
            }
            b.set_partners(partners);
            for inbound in &cfg.inbound_sites {
                if let Some(source) = self.servers().iter().find(|x| x.site() == *inbound) {
                    for ctx in Context::BOTH {
                        b.seed_replica(&ctx.dn(&self.shared.org, inbound), source.usn(ctx));
                    }
                }
            }
        }
    }

    /// Starts every bridgehead bound by [`Organization::bind`].
    pub async fn start_all(&self) -> Result<(), HarnessError> {
        let bound = std::mem::take(&mut *self.pending.lock().await);
        for (b, l) in self.servers().iter().zip(bound) {
            b.start_with(l).await?;
        }
        Ok(())
    }

    pub fn topology(&self) -> &Topology<Bridgehead> {
        &self.topo
    }

    pub fn servers(&self) -> &[Arc<Bridgehead>] {
        self.topo.servers()
    }

    pub fn server(&self, name: &str) -> Result<&Arc<Bridgehead>, HarnessError> {
        self.topo.server(name)
    }

    /// The bridgehead of a site.
    pub fn of_site(&self, site: &str) -> Result<&Arc<Bridgehead>, HarnessError> {
        self.servers()
            .iter()
            .find(|b| b.site() == site)
            .ok_or_else(|| HarnessError::Config(format!("no site named {site:?}")))
    }

    /// The organization's name (`Contoso`).
    pub fn name(&self) -> &str {
        &self.shared.org
    }

    pub fn hosts(&self) -> &Arc<HostMap> {
        &self.topo.env().hosts
    }

    pub fn clock(&self) -> &VirtualClock {
        &self.topo.env().clock
    }

    pub fn env(&self) -> &Env {
        self.topo.env()
    }

    /// Every bridgehead's counts, by name.
    pub fn counts(&self) -> Vec<(String, Count)> {
        self.servers().iter().map(|b| (b.name(), b.counts())).collect()
    }

    /// The organization's total.
    pub fn total(&self) -> Count {
        let counts = self.counts();
        Count::total(counts.iter().map(|(_, c)| c))
    }

    /// Every directed link and its state.
    pub fn link_table(&self) -> Vec<LinkRow> {
        let mut rows = Vec::new();
        for b in self.servers() {
            let from = b.name();
            for l in b.links() {
                rows.push(LinkRow { from: from.clone(), to: l.peer, up: l.up, sent: l.sent });
            }
        }
        rows
    }

    /// Waits until every directed link is connected; on timeout, those that are not.
    pub async fn wait_links_up(&self, timeout: Duration) -> Result<(), Vec<String>> {
        self.env()
            .changes
            .wait_until(timeout, || async {
                let down: Vec<String> = self
                    .link_table()
                    .into_iter()
                    .filter(|r| !r.up)
                    .map(|r| format!("{} -> {}", r.from, r.to))
                    .collect();
                if down.is_empty() {
                    Ok(())
                } else {
                    Err(down)
                }
            })
            .await
    }

    /// Waits until every message handed over has arrived and been handled
    /// and every request has its reply; on timeout, what is outstanding.
    pub async fn wait_quiet(&self, timeout: Duration) -> Result<(), String> {
        self.env()
            .changes
            .wait_until(timeout, || async {
                let t = self.total();
                if t.is_quiet() {
                    Ok(())
                } else {
                    Err(format!(
                        "{} requests and {} replies handed over, {} and {} received, {} waiting in inboxes",
                        t.requests_submitted,
                        t.replies_submitted,
                        t.requests_received,
                        t.replies_received,
                        t.backlog()
                    ))
                }
            })
            .await
    }

    /// The `[[connectors]]` of `topology.toml`, one per site.
    pub fn connectors(&self) -> toml::Value {
        let rows = self
            .servers()
            .iter()
            .map(|b| {
                let cfg = b.config();
                let mut t = toml::Table::new();
                t.insert("site".into(), cfg.site.clone().into());
                t.insert("bridgehead".into(), cfg.bridgehead.clone().into());
                t.insert(
                    "inbound_sites".into(),
                    toml::Value::Array(cfg.inbound_sites.iter().cloned().map(toml::Value::from).collect()),
                );
                let schedule = match cfg.schedule.written() {
                    Written::PerDay(n) => toml::Value::Integer(i64::from(*n)),
                    Written::Grid(g) => toml::Value::Array(g.iter().cloned().map(toml::Value::from).collect()),
                };
                t.insert("schedule".into(), schedule);
                t.insert("detail_view".into(), cfg.schedule.view().as_str().into());
                toml::Value::Table(t)
            })
            .collect();
        toml::Value::Array(rows)
    }

    /// Stops every bridgehead cleanly.
    pub async fn shutdown(&self) {
        self.topo.shutdown().await;
    }
}

impl CaseSource for Organization {
    fn case(&self) -> Case {
        let mut case = self.topo.case();
        case.extra.insert("connectors".into(), self.connectors());
        case
    }
}
