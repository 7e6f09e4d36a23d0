//! A topology of mock servers brought up together on loopback.
//!
//! Every server binds first (so each port is known), then learns its peers'
//! `host:port`, then starts. Server *i* (from 1) owns `127.0.0.i` and the host
//! name `ds-i.example.com` unless its configuration says otherwise.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::config::{domains_for, ServerConfig, Timings, Version};
use super::server::{Bound, Server, Shared};
use crate::casefile::{Case, CaseSource};
use crate::clock::VirtualClock;
use crate::error::HarnessError;
use crate::hostmap::{HostEntry, HostMap};
use crate::pki::{Identity, Pki};
pub use crate::topology::loopback_for;
use crate::topology::{Env, Topology};
use crate::wire;

/// What to bring up.
#[derive(Debug, Clone)]
pub struct MeshSpec {
    pub servers: Vec<ServerConfig>,
    pub timings: Timings,
    pub time_scale: f64,
    /// Virtual start time; default: now.
    pub start: Option<OffsetDateTime>,
    /// Also append each server's logs live under `DIR/NAME/`.
    pub log_dir: Option<PathBuf>,
    pub max_frame_len: usize,
    pub seed: u64,
}

impl MeshSpec {
    /// `n` DS+RS servers of one version, fully meshed, replicating `backends`.
    pub fn full_mesh(n: usize, version: &Version, backends: &[&str]) -> Self {
        let servers = (1..=n)
            .map(|i| {
                let name = format!("ds-{i}");
                let id = if version.string_server_ids() { name.clone() } else { i.to_string() };
                let mut c =
                    ServerConfig::new(&name, &format!("{name}.example.com"), loopback_for(i), version.clone(), &id);
                c.domains = domains_for(version, backends);
                c
            })
            .collect();
        Self {
            servers,
            timings: Timings::default(),
            time_scale: 1.0,
            start: None,
            log_dir: None,
            max_frame_len: wire::DEFAULT_MAX_FRAME_LEN,
            seed: 0,
        }
    }
}

/// One expected RS↔RS link and whether it is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub a: String,
    pub b: String,
    pub domain: String,
    pub up: bool,
    /// The server that opened the connection, when up.
    pub initiator: Option<String>,
}

/// One DS domain session and whether it is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsRow {
    pub server: String,
    pub domain: String,
    /// The RS server it is connected to.
    pub rs: Option<String>,
}

#[derive(Debug)]
pub struct Mesh {
    topo: Topology<Server>,
    timings: Timings,
    /// Listeners bound by [`Mesh::bind`] and not started yet.
    pending: tokio::sync::Mutex<Vec<Bound>>,
}

impl Mesh {
    /// Brings the topology up.
    pub async fn start(spec: MeshSpec) -> Result<Mesh, HarnessError> {
        let mesh = Self::bind(spec).await?;
        mesh.start_all().await?;
        Ok(mesh)
    }

    /// Binds every server's ports and configures peers, without starting
    /// anything: routes can then be set in [`Mesh::hosts`] before the first
    /// connection is made.
    pub async fn bind(spec: MeshSpec) -> Result<Mesh, HarnessError> {
        let clock = VirtualClock::new(spec.start.unwrap_or_else(OffsetDateTime::now_utc), spec.time_scale);
        let pki = if spec.servers.iter().any(|s| s.tls) {
            let ids: Vec<Identity> = spec
                .servers
                .iter()
                .map(|s| Identity {
                    name: s.name.clone(),
                    host: s.host.clone(),
                    addresses: s.addresses.clone(),
                    defect: s.cert_defect,
                })
                .collect();
            Some(Arc::new(Pki::new(&ids)?))
        } else {
            None
        };
        let env = Env::new(clock, pki);
        let shared = Shared { env: env.clone(), timings: spec.timings.clone(), max_frame_len: spec.max_frame_len };
        let mut servers = Vec::with_capacity(spec.servers.len());
        for (i, cfg) in spec.servers.into_iter().enumerate() {
            env.hosts.set(&cfg.host, HostEntry::Addresses(cfg.addresses.clone()));
            servers.push(Arc::new(Server::new(cfg, shared.clone(), spec.seed.wrapping_add(i as u64))?));
        }
        let topo = Topology::new(env, servers)?;
        if let Some(dir) = &spec.log_dir {
            for server in topo.servers() {
                let dir = dir.join(server.name());
                server.log().tee_to(&dir).map_err(|source| HarnessError::Write { path: dir, source })?;
            }
        }
        let servers = topo.servers();
        let mut bound = Vec::with_capacity(servers.len());
        for s in servers {
            bound.push(s.bind().await?);
        }
        let urls: Vec<String> = servers.iter().filter(|s| s.config().rs).map(|s| s.url()).collect();
        // What a reverse lookup of each server's addresses gives.
        let names: std::collections::BTreeMap<std::net::IpAddr, String> = servers
            .iter()
            .flat_map(|s| {
                let c = s.config();
                c.addresses.into_iter().map(move |a| (a, c.host.clone()))
            })
            .collect();
        for s in servers {
            s.set_reverse_names(names.clone());
            let cfg = s.config();
            let own = s.url();
            if cfg.rs {
                s.set_peers(urls.iter().filter(|u| **u != own).cloned().collect());
            }
            let ds_rs = if cfg.ds_replication_servers.is_empty() {
                if cfg.rs {
                    vec![own]
                } else {
                    urls.clone()
                }
            } else {
                // Entries without a port name a server of the mesh.
                let mut out = Vec::new();
                for entry in &cfg.ds_replication_servers {
                    if entry.contains(':') {
                        out.push(entry.clone());
                    } else {
                        let url = topo.server(entry).map(|x| x.url()).map_err(|_| {
                            HarnessError::Config(format!(
                                "server {}: no server named {entry:?} to replicate with",
                                cfg.name
                            ))
                        })?;
                        out.push(url);
                    }
                }
                out
            };
            s.set_ds_replication_servers(ds_rs);
        }
        Ok(Mesh { topo, timings: spec.timings, pending: tokio::sync::Mutex::new(bound) })
    }

    /// Starts every server bound by [`Mesh::bind`], side by side (each
    /// waits for its DS domains' first connection round before it logs that
    /// it started, and those connect to each other's RSs).
    pub async fn start_all(&self) -> Result<(), HarnessError> {
        let bound = std::mem::take(&mut *self.pending.lock().await);
        let starts = self.servers().iter().zip(bound).map(|(s, b)| s.start_with(b));
        futures_util::future::join_all(starts).await.into_iter().collect()
    }

    /// The family-neutral topology underneath.
    pub fn topology(&self) -> &Topology<Server> {
        &self.topo
    }

    pub fn servers(&self) -> &[Arc<Server>] {
        self.topo.servers()
    }

    pub fn server(&self, name: &str) -> Result<&Arc<Server>, HarnessError> {
        self.topo.server(name)
    }

    pub fn hosts(&self) -> &Arc<HostMap> {
        &self.topo.env().hosts
    }

    pub fn clock(&self) -> &VirtualClock {
        &self.topo.env().clock
    }

    pub fn timings(&self) -> &Timings {
        &self.timings
    }

    /// The test PKI, when some server runs TLS.
    pub fn pki(&self) -> Option<&Arc<Pki>> {
        self.topo.env().pki.as_ref()
    }

    /// Every expected RS↔RS link (one per unordered pair and shared domain) and its state.
    pub async fn link_table(&self) -> Vec<LinkRow> {
        let mut views = Vec::with_capacity(self.servers().len());
        for s in self.servers() {
            views.push((s.config(), s.url(), s.rs_links().await));
        }
        let mut rows = Vec::new();
        for (i, (a, a_url, a_links)) in views.iter().enumerate() {
            for (b, b_url, b_links) in views.iter().skip(i + 1) {
                if !a.rs || !b.rs {
                    continue;
                }
                for d in a.domains.iter().filter(|d| b.domains.iter().any(|x| x.base_dn == d.base_dn)) {
                    let from_a = a_links.iter().find(|l| l.domain == d.base_dn && l.peer == *b_url);
                    let from_b = b_links.iter().find(|l| l.domain == d.base_dn && l.peer == *a_url);
                    let up = from_a.is_some() && from_b.is_some();
                    let initiator = match (from_a, up) {
                        (Some(l), true) if l.initiator => Some(a.name.clone()),
                        (Some(_), true) => Some(b.name.clone()),
                        _ => None,
                    };
                    rows.push(LinkRow {
                        a: a.name.clone(),
                        b: b.name.clone(),
                        domain: d.base_dn.clone(),
                        up,
                        initiator,
                    });
                }
            }
        }
        rows
    }

    /// Every DS domain session and the RS server it is connected to.
    pub async fn ds_table(&self) -> Vec<DsRow> {
        let mut rows = Vec::new();
        for s in self.servers() {
            let cfg = s.config();
            if !cfg.ds {
                continue;
            }
            let sessions = s.ds_sessions().await;
            for d in &cfg.domains {
                let rs = sessions.get(&d.base_dn).map(|id| {
                    self.servers()
                        .iter()
                        .map(|x| x.config())
                        .find(|x| x.server_id == *id)
                        .map(|x| x.name)
                        .unwrap_or_else(|| id.clone())
                });
                rows.push(DsRow { server: cfg.name.clone(), domain: d.base_dn.clone(), rs });
            }
        }
        rows
    }

    /// What is not up yet, one line each.
    pub async fn missing(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .link_table()
            .await
            .into_iter()
            .filter(|r| !r.up)
            .map(|r| format!("{} <-> {} for \"{}\"", r.a, r.b, r.domain))
            .collect();
        out.extend(
            self.ds_table()
                .await
                .into_iter()
                .filter(|r| r.rs.is_none())
                .map(|r| format!("DS of {} for \"{}\"", r.server, r.domain)),
        );
        out
    }

    /// Waits until every expected link and DS session is up; on timeout,
    /// what is still missing.
    pub async fn wait_all_up(&self, timeout: Duration) -> Result<(), Vec<String>> {
        self.topo
            .env()
            .changes
            .wait_until(timeout, || async {
                let missing = self.missing().await;
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(missing)
                }
            })
            .await
    }

    /// Waits, on change notices, until `pred` holds for the link table; on
    /// timeout, the table as it was last.
    pub async fn wait_links(&self, timeout: Duration, pred: impl Fn(&[LinkRow]) -> bool) -> Result<(), Vec<LinkRow>> {
        self.topo
            .env()
            .changes
            .wait_until(timeout, || async {
                let rows = self.link_table().await;
                if pred(&rows) {
                    Ok(())
                } else {
                    Err(rows)
                }
            })
            .await
    }

    /// Stops every server cleanly.
    pub async fn shutdown(&self) {
        self.topo.shutdown().await;
    }
}

impl CaseSource for Mesh {
    fn case(&self) -> Case {
        self.topo.case()
    }
}
