//! One mock server instance: its RS, its DS domains and its admin port, with
//! start, clean stop, kill and restart.
//!
//! Start binds the ports (a restart binds the same ones) and logs CORE 134,
//! 204 when the RS listens (6 when it cannot bind), then, once each DS
//! domain's first connection round is over, CORE 135 and the alert notice
//! 139 ([`super::lifecycle`]). A clean stop logs 139 carrying 141, closes
//! every session with StopMsg, then logs 203; a kill writes nothing more and
//! its connections end as a dead process's do (FIN, no StopMsg).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::broker::{self, DsCommand};
use super::catalog;
use super::config::{ServerConfig, Timings};
use super::lifecycle;
use super::log::LogBook;
use super::node::{Generations, LinkView, Node, NodeParts};
use super::{connect_loop, listener};
use crate::casefile::{CaseFile, CaseServer, Ports, ServerEntry};
use crate::error::HarnessError;
use crate::node::NodeCore;
use crate::pki::TlsContexts;
use crate::topology::{Env, Member};

/// Listeners bound ahead of a start.
#[derive(Debug)]
pub struct Bound {
    replication: Option<Result<(TcpListener, SocketAddr), std::io::Error>>,
    admin: TcpListener,
}

#[derive(Debug)]
struct Running {
    node: Arc<Node>,
    ds_cmds: BTreeMap<String, mpsc::Sender<DsCommand>>,
}

/// Shared by every DS server of a topology: the family-neutral [`Env`] and
/// the DS's product timings and frame limit.
#[derive(Debug, Clone)]
pub struct Shared {
    pub env: Env,
    pub timings: Timings,
    pub max_frame_len: usize,
}

#[derive(Debug)]
pub struct Server {
    cfg: Mutex<ServerConfig>,
    shared: Shared,
    log: Arc<LogBook>,
    gens: Arc<Mutex<Generations>>,
    ports: Mutex<(u16, u16)>,
    run: tokio::sync::Mutex<Option<Running>>,
    seed: u64,
    tls: Option<TlsContexts>,
    /// Reverse names of the topology's addresses (what a PTR lookup gives).
    ptr: Mutex<BTreeMap<IpAddr, String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The port a listener really bound (0 asks the system for one).
fn bound_port(server: &str, what: &'static str, l: &TcpListener, asked: SocketAddr) -> Result<u16, HarnessError> {
    l.local_addr().map(|a| a.port()).map_err(|source| HarnessError::Bind {
        server: server.to_owned(),
        what,
        addr: asked,
        source,
    })
}

impl Server {
    pub fn new(cfg: ServerConfig, shared: Shared, seed: u64) -> Result<Self, HarnessError> {
        cfg.validate()?;
        let tls = match (&shared.env.pki, cfg.tls) {
            (Some(pki), true) => Some(super::jsse::java_like(pki.contexts(&cfg.name)?, pki)?),
            (None, true) => {
                return Err(HarnessError::Config(format!("server {} runs TLS but the topology has no PKI", cfg.name)))
            }
            _ => None,
        };
        let log = Arc::new(LogBook::new(cfg.version.dialect(), shared.env.clock.clone(), cfg.utc_offset));
        let gens = Generations {
            ds: cfg.domains.iter().map(|d| (d.base_dn.clone(), d.generation_id)).collect(),
            rs: cfg.domains.iter().map(|d| (d.base_dn.clone(), d.generation_id)).collect(),
        };
        let ports = (cfg.replication_port, cfg.admin_port);
        Ok(Self {
            cfg: Mutex::new(cfg),
            shared,
            log,
            gens: Arc::new(Mutex::new(gens)),
            ports: Mutex::new(ports),
            run: tokio::sync::Mutex::new(None),
            seed,
            tls,
            ptr: Mutex::new(BTreeMap::new()),
        })
    }

    /// The configuration (with the ports actually bound once started).
    pub fn config(&self) -> ServerConfig {
        let mut cfg = lock(&self.cfg).clone();
        let (r, a) = *lock(&self.ports);
        cfg.replication_port = r;
        cfg.admin_port = a;
        cfg
    }

    pub fn name(&self) -> String {
        lock(&self.cfg).name.clone()
    }

    pub fn log(&self) -> &Arc<LogBook> {
        &self.log
    }

    /// `host:port` of the RS, as peers configure it.
    pub fn url(&self) -> String {
        let cfg = self.config();
        format!("{}:{}", cfg.host, cfg.replication_port)
    }

    pub fn replication_addr(&self) -> SocketAddr {
        let cfg = self.config();
        SocketAddr::new(cfg.bind_ip(), cfg.replication_port)
    }

    pub fn admin_addr(&self) -> SocketAddr {
        let cfg = self.config();
        SocketAddr::new(cfg.bind_ip(), cfg.admin_port)
    }

    /// Sets the peer RSs (`host:port`) this server's RS connects to.
    pub fn set_peers(&self, peers: Vec<String>) {
        lock(&self.cfg).peers = peers;
    }

    /// Sets the names a reverse lookup gives for addresses (an accepted
    /// connection's remote address is printed with it).
    pub fn set_reverse_names(&self, names: BTreeMap<IpAddr, String>) {
        *lock(&self.ptr) = names;
    }

    /// Sets the RSs this server's DS tries, in order.
    pub fn set_ds_replication_servers(&self, servers: Vec<String>) {
        lock(&self.cfg).ds_replication_servers = servers;
    }

    /// Binds the replication and admin ports (the remembered ones after a first start).
    ///
    /// A replication port that cannot be bound is not an error here: the
    /// server starts without its RS and logs 6, as the real product does.
    pub async fn bind(&self) -> Result<Bound, HarnessError> {
        let cfg = self.config();
        let ip = cfg.bind_ip();
        let replication = if cfg.rs {
            let asked = SocketAddr::new(ip, cfg.replication_port);
            Some(match crate::transport::listen(asked).await {
                Ok(l) => {
                    let port = bound_port(&cfg.name, "the replication port", &l, asked)?;
                    Ok((l, SocketAddr::new(ip, port)))
                }
                Err(e) => Err(e),
            })
        } else {
            None
        };
        let admin_addr = SocketAddr::new(ip, cfg.admin_port);
        let admin = crate::transport::listen(admin_addr).await.map_err(|source| HarnessError::Bind {
            server: cfg.name.clone(),
            what: "the admin port",
            addr: admin_addr,
            source,
        })?;
        let admin_port = bound_port(&cfg.name, "the admin port", &admin, admin_addr)?;
        let mut ports = lock(&self.ports);
        if let Some(Ok((_, addr))) = &replication {
            ports.0 = addr.port();
        }
        ports.1 = admin_port;
        Ok(Bound { replication, admin })
    }

    pub async fn is_running(&self) -> bool {
        self.run.lock().await.is_some()
    }

    /// Binds and starts.
    pub async fn start(&self) -> Result<(), HarnessError> {
        let bound = self.bind().await?;
        self.start_with(bound).await
    }

    /// Starts on listeners from [`Server::bind`].
    pub async fn start_with(&self, bound: Bound) -> Result<(), HarnessError> {
        let mut run = self.run.lock().await;
        if run.is_some() {
            return Err(HarnessError::AlreadyRunning(self.name()));
        }
        let cfg = self.config();
        let core = NodeCore::new(&cfg.name, &self.shared.env, self.seed);
        let node = Arc::new(Node::new(
            core,
            NodeParts {
                cfg: cfg.clone(),
                log: self.log.clone(),
                timings: self.shared.timings.clone(),
                max_frame_len: self.shared.max_frame_len,
                gens: self.gens.clone(),
                replication_port: cfg.replication_port,
                tls: self.tls.clone(),
                ptr: lock(&self.ptr).clone(),
                seed: self.seed,
            },
        ));
        lifecycle::starting(&self.log, &cfg.version);
        match bound.replication {
            Some(Ok((listener, listening))) => {
                self.log.emit(
                    &catalog::REPLICATION_SERVER_LISTENING,
                    &[&cfg.server_id, &cfg.bind_ip(), &cfg.replication_port],
                );
                node.core.spawn(listener::accept_loop(node.clone(), listener, listening));
                node.core.spawn(connect_loop::run(node.clone()));
            }
            Some(Err(e)) => {
                tracing::warn!(server = %cfg.name, "replication port {} cannot be bound: {e}", cfg.replication_port);
                self.log.emit(&catalog::COULD_NOT_BIND_CHANGELOG, &[&cfg.replication_port, &e]);
            }
            None => {}
        }
        node.core.spawn(admin_loop(node.clone(), bound.admin));
        let mut ds_cmds = BTreeMap::new();
        let mut first_rounds = Vec::new();
        if cfg.ds {
            for d in &cfg.domains {
                let (tx, rx) = mpsc::channel(64);
                let (done, round) = oneshot::channel();
                ds_cmds.insert(d.base_dn.clone(), tx);
                first_rounds.push(round);
                node.core.spawn(broker::run_domain(node.clone(), d.base_dn.clone(), rx, done));
            }
        }
        // The product's start-up connects each domain (or gives up on it)
        // before it says it started; a round takes at most a few handshake
        // timeouts per configured RS.
        let rounds = futures_util::future::join_all(first_rounds);
        let limit = node.handshake_timeout() * (4 * cfg.ds_replication_servers.len().max(1) as u32 + 2);
        if tokio::time::timeout(limit, rounds).await.is_err() {
            tracing::warn!(server = %cfg.name, "a DS domain's first connection round took over {limit:?}");
        }
        lifecycle::started(&self.log);
        *run = Some(Running { node, ds_cmds });
        Ok(())
    }

    /// Clean stop: CORE 139 carrying 141, StopMsg on every session, CORE 203.
    pub async fn stop(&self) {
        let mut run = self.run.lock().await;
        let Some(running) = run.take() else { return };
        lifecycle::stopping(&self.log);
        Self::wind_down(&running.node, false).await;
        lifecycle::stopped(&self.log);
    }

    /// Kill: no more log lines, every connection reset.
    pub async fn kill(&self) {
        let mut run = self.run.lock().await;
        let Some(running) = run.take() else { return };
        Self::wind_down(&running.node, true).await;
    }

    async fn wind_down(node: &Node, kill: bool) {
        let limit = node.handshake_timeout() * 2 + std::time::Duration::from_secs(2);
        node.core.wind_down(kill, limit).await;
    }

    /// The data's generation id changed (a restore or an import): the DS's
    /// session for the domain reconnects with it.
    pub async fn set_generation_id(&self, base_dn: &str, generation_id: i64) -> Result<(), HarnessError> {
        {
            let mut gens = lock(&self.gens);
            let g = gens.ds.get_mut(base_dn).ok_or_else(|| HarnessError::Config(format!("no domain {base_dn:?}")))?;
            *g = generation_id;
        }
        self.command(base_dn, DsCommand::Reconnect).await
    }

    /// Has the DS write a change to `dn` in a domain.
    pub async fn write_entry(&self, base_dn: &str, dn: &str) -> Result<(), HarnessError> {
        self.command(base_dn, DsCommand::Write { dn: dn.to_owned() }).await
    }

    async fn command(&self, base_dn: &str, cmd: DsCommand) -> Result<(), HarnessError> {
        let tx = {
            let run = self.run.lock().await;
            let running =
                run.as_ref().ok_or_else(|| HarnessError::Config(format!("server {} is not running", self.name())))?;
            running.ds_cmds.get(base_dn).cloned()
        };
        let Some(tx) = tx else {
            return Err(HarnessError::Config(format!("server {} has no DS for {base_dn:?}", self.name())));
        };
        tx.send(cmd).await.map_err(|_| {
            HarnessError::Config(format!("server {}: the DS of {base_dn:?} has stopped taking commands", self.name()))
        })
    }

    /// Established RS↔RS links, both directions (none while it is not running).
    pub async fn rs_links(&self) -> Vec<LinkView> {
        self.run.lock().await.as_ref().map(|r| r.node.rs_links()).unwrap_or_default()
    }

    /// Directory servers connected to this RS (none while it is not running).
    pub async fn ds_links(&self) -> Vec<LinkView> {
        self.run.lock().await.as_ref().map(|r| r.node.ds_links()).unwrap_or_default()
    }

    /// This server's DS sessions: domain → id of the RS it is connected to
    /// (none while it is not running).
    pub async fn ds_sessions(&self) -> BTreeMap<String, String> {
        self.run.lock().await.as_ref().map(|r| r.node.ds_sessions()).unwrap_or_default()
    }
}

impl Member for Server {
    fn name(&self) -> String {
        Server::name(self)
    }

    /// Its `errors` and `replication` logs, and with TLS its public
    /// certificate and the CA's (never a private key).
    fn case_server(&self, env: &Env) -> CaseServer {
        let cfg = self.config();
        let mut files: Vec<CaseFile> = self.log.files().iter().map(|f| CaseFile::new(*f, self.log.text(f))).collect();
        if let (true, Some(pki)) = (cfg.tls, env.pki.as_ref()) {
            if let Some(pem) = pki.cert_pem(&cfg.name) {
                files.push(CaseFile::new("certs/server.pem", pem));
            }
            files.push(CaseFile::new("certs/ca.pem", pki.ca_pem()));
        }
        let entry = ServerEntry {
            name: cfg.name.clone(),
            flavor: "ds".into(),
            version: cfg.version.to_string(),
            host: cfg.host.clone(),
            addresses: cfg.addresses.iter().map(|a| a.to_string()).collect(),
            server_id: Some(cfg.server_id.clone()),
            domains: cfg.domains.iter().map(|d| d.base_dn.clone()).collect(),
            site: None,
            ports: Ports {
                replication: cfg.rs.then_some(cfg.replication_port),
                admin: Some(cfg.admin_port),
                ldap: None,
            },
        };
        CaseServer { entry, files }
    }

    async fn stop(&self) {
        Server::stop(self).await;
    }
}

/// The admin port: accepts and closes politely (enough for probes and faults).
async fn admin_loop(node: Arc<Node>, listener: TcpListener) {
    loop {
        tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((mut stream, _)) => {
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
                }
                Err(e) => {
                    tracing::warn!("admin port: accept failed: {e}");
                    tokio::time::sleep(node.real(node.timings.connect_retry) / 10).await;
                }
            }
        }
    }
}
