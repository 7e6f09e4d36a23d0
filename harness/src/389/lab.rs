//! A 389 topology brought up together on loopback: suppliers, consumers
//! and their agreements. Every server binds first (so each port is known),
//! then every agreement learns where its consumer listens, then everything
//! starts. Server *i* (from 1) owns `127.0.0.i` unless its configuration
//! says otherwise; host names map to those addresses in the host map, where
//! scenarios route an agreement's connections through a fault proxy.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::net::TcpListener;

use super::config::{AgreementConfig, ReplicaConfig, Role, ServerConfig389};
use super::csn::Csn;
use super::server::{AgreementView, Server389, Shared389};
use super::wire;
use crate::casefile::{Case, CaseSource};
use crate::clock::VirtualClock;
use crate::error::HarnessError;
use crate::hostmap::{HostEntry, HostMap};
use crate::topology::{loopback_for, Env, Topology};

/// What to bring up.
#[derive(Debug, Clone)]
pub struct Lab389Spec {
    pub servers: Vec<ServerConfig389>,
    pub time_scale: f64,
    /// Virtual start time; default: now.
    pub start: Option<OffsetDateTime>,
    /// Also append each server's errors log live under `DIR/NAME/`.
    pub log_dir: Option<PathBuf>,
    pub max_frame_len: usize,
    pub seed: u64,
}

impl Lab389Spec {
    /// `suppliers` suppliers (`slapd-s1` …, replica ids 1 …) in a full mesh
    /// of agreements, each also sending to every one of `consumers`
    /// read-only consumers (`slapd-c1` …), replicating `suffix`.
    pub fn new(suppliers: usize, consumers: usize, suffix: &str) -> Self {
        let mut servers = Vec::new();
        let names: Vec<(String, Role)> = (1..=suppliers)
            .map(|i| (format!("slapd-s{i}"), Role::Supplier { rid: i as u16 }))
            .chain((1..=consumers).map(|i| (format!("slapd-c{i}"), Role::Consumer)))
            .collect();
        for (i, (name, role)) in names.iter().enumerate() {
            let host = format!("{}.example.com", name.trim_start_matches("slapd-"));
            let mut c = ServerConfig389::new(name, &host, loopback_for(i + 1), Some(ReplicaConfig::new(suffix, *role)));
            if matches!(role, Role::Supplier { .. }) {
                for (other, _) in names.iter().filter(|(n, _)| n != name) {
                    let short = |n: &str| n.trim_start_matches("slapd-").to_owned();
                    c.agreements.push(AgreementConfig::new(&format!("{}-to-{}", short(name), short(other)), other));
                }
            }
            servers.push(c);
        }
        Self {
            servers,
            time_scale: 1.0,
            start: None,
            log_dir: None,
            max_frame_len: wire::DEFAULT_MAX_FRAME_LEN,
            seed: 0,
        }
    }
}

/// A running (or bound) 389 topology.
#[derive(Debug)]
pub struct Lab389 {
    topo: Topology<Server389>,
    pending: tokio::sync::Mutex<Vec<TcpListener>>,
}

impl Lab389 {
    pub async fn start(spec: Lab389Spec) -> Result<Self, HarnessError> {
        let lab = Self::bind(spec).await?;
        lab.start_all().await?;
        Ok(lab)
    }

    /// Binds every server's port and points every agreement at its
    /// consumer, without starting: routes can then be set in [`Lab389::hosts`].
    pub async fn bind(spec: Lab389Spec) -> Result<Self, HarnessError> {
        let clock = VirtualClock::new(spec.start.unwrap_or_else(OffsetDateTime::now_utc), spec.time_scale);
        let env = Env::new(clock.clone(), None);
        let shared = Shared389 { env: env.clone(), max_frame_len: spec.max_frame_len };
        let first_rid = spec
            .servers
            .iter()
            .filter_map(|s| s.replica.as_ref())
            .find_map(|r| match r.role {
                Role::Supplier { rid } => Some(rid),
                Role::Consumer => None,
            })
            .unwrap_or(1);
        let t = u32::try_from(clock.start().unix_timestamp().max(0)).unwrap_or(u32::MAX);
        let generation = Csn { time: t, seq: 0, rid: first_rid, subseq: 0 }.to_string();
        let mut servers = Vec::with_capacity(spec.servers.len());
        for (i, cfg) in spec.servers.iter().enumerate() {
            env.hosts.set(&cfg.host, HostEntry::Addresses(cfg.addresses.clone()));
            servers.push(Arc::new(Server389::new(
                cfg.clone(),
                shared.clone(),
                &generation,
                spec.seed.wrapping_add(i as u64),
            )?));
        }
        let topo = Topology::new(env, servers)?;
        if let Some(dir) = &spec.log_dir {
            for s in topo.servers() {
                let dir = dir.join(s.name());
                s.log().tee_to(&dir).map_err(|source| HarnessError::Write { path: dir, source })?;
            }
        }
        let mut pending = Vec::with_capacity(topo.servers().len());
        for s in topo.servers() {
            pending.push(s.bind().await?);
        }
        for (s, cfg) in topo.servers().iter().zip(&spec.servers) {
            let mut agmts = Vec::with_capacity(cfg.agreements.len());
            for a in &cfg.agreements {
                let consumer = topo.server(&a.consumer).map_err(|_| {
                    HarnessError::Config(format!(
                        "server {}: agreement {} names no server {:?}",
                        cfg.name, a.name, a.consumer
                    ))
                })?;
                let cc = consumer.config();
                let host = a.host.clone().unwrap_or(cc.host.clone());
                let port = a.port.unwrap_or(cc.port);
                agmts.push((a.clone(), host, port, consumer.rid()));
            }
            s.set_agreements(agmts);
        }
        Ok(Self { topo, pending: tokio::sync::Mutex::new(pending) })
    }

    /// Starts every server bound by [`Lab389::bind`].
    pub async fn start_all(&self) -> Result<(), HarnessError> {
        let pending = std::mem::take(&mut *self.pending.lock().await);
        for (s, l) in self.servers().iter().zip(pending) {
            s.start_with(l).await?;
        }
        Ok(())
    }

    pub fn topology(&self) -> &Topology<Server389> {
        &self.topo
    }

    pub fn servers(&self) -> &[Arc<Server389>] {
        self.topo.servers()
    }

    pub fn server(&self, name: &str) -> Result<&Arc<Server389>, HarnessError> {
        self.topo.server(name)
    }

    pub fn hosts(&self) -> &Arc<HostMap> {
        &self.topo.env().hosts
    }

    pub fn clock(&self) -> &VirtualClock {
        &self.topo.env().clock
    }

    /// Every agreement of every server, as it is now.
    pub fn agreements(&self) -> Vec<AgreementView> {
        self.servers().iter().flat_map(|s| s.agreements()).collect()
    }

    /// Waits, on change notices, until `pred` holds for the agreements; on
    /// timeout, the agreements as they were last.
    pub async fn wait_agreements(
        &self,
        timeout: Duration,
        pred: impl Fn(&[AgreementView]) -> bool,
    ) -> Result<(), Vec<AgreementView>> {
        self.topo
            .env()
            .changes
            .wait_until(timeout, || async {
                let rows = self.agreements();
                if pred(&rows) {
                    Ok(())
                } else {
                    Err(rows)
                }
            })
            .await
    }

    /// Waits until every enabled agreement's last session succeeded and was
    /// released, and its consumer holds the supplier's newest change.
    pub async fn wait_in_sync(&self, timeout: Duration) -> Result<(), Vec<AgreementView>> {
        self.wait_agreements(timeout, |rows| self.in_sync(rows)).await
    }

    fn in_sync(&self, rows: &[AgreementView]) -> bool {
        rows.iter().filter(|a| a.enabled).all(|a| {
            let (Ok(s), Ok(c)) = (self.server(&a.supplier), self.server(&a.consumer)) else { return false };
            let caught_up = match (s.max_csn(), s.rid()) {
                (Some(max), Some(rid)) => c.ruv_max(rid).is_some_and(|m| m >= max),
                _ => true,
            };
            caught_up && !a.holding && a.status.contains("Incremental update succeeded")
        })
    }

    pub async fn shutdown(&self) {
        self.topo.shutdown().await;
    }
}

impl CaseSource for Lab389 {
    fn case(&self) -> Case {
        self.topo.case()
    }
}
