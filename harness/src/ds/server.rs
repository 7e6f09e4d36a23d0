//! One mock server instance: its RS, its DS domains and its admin port, with
//! start, clean stop, kill and restart.
//!
//! Start binds the ports (a restart binds the same ones), logs 204 when the RS
//! listens (6 when it cannot bind) and CORE 135 once everything runs. A clean
//! stop logs the CORE shutdown lines and closes every session with StopMsg; a
//! kill writes nothing more and resets every connection.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

use super::broker::{self, DsCommand};
use super::catalog;
use super::config::{ServerConfig, Timings};
use super::node::{Generations, LinkView, Node, SlotState};
use super::rs;
use crate::clock::VirtualClock;
use crate::error::HarnessError;
use crate::hostmap::HostMap;
use crate::logbook::LogBook;

/// Why the real product's shutdown hook says it stops.
const SHUTDOWN_CLASS: &str = "org.opends.server.core.DirectoryServer$DirectoryServerShutdownHook";
const SHUTDOWN_REASON: &str = "The Directory Server shutdown hook detected that the JVM is shutting down.  This generally indicates that JVM received an external request to stop (e.g., through a kill signal)";

/// Listeners bound ahead of a start.
#[derive(Debug)]
pub struct Bound {
    replication: Option<Result<TcpListener, std::io::Error>>,
    admin: TcpListener,
}

#[derive(Debug)]
struct Running {
    node: Arc<Node>,
    ds_cmds: BTreeMap<String, mpsc::Sender<DsCommand>>,
}

/// Shared by every server of a topology.
#[derive(Debug, Clone)]
pub struct Shared {
    pub clock: VirtualClock,
    pub hosts: Arc<HostMap>,
    pub timings: Timings,
    pub max_frame_len: usize,
    /// Woken whenever any link comes up or goes down.
    pub changed: Arc<Notify>,
    /// The topology's test PKI, when some server runs TLS.
    pub pki: Option<Arc<crate::pki::Pki>>,
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
    tls: Option<crate::pki::TlsContexts>,
}

impl Server {
    pub fn new(cfg: ServerConfig, shared: Shared, seed: u64) -> Result<Self, HarnessError> {
        cfg.validate()?;
        let tls = match (&shared.pki, cfg.tls) {
            (Some(pki), true) => Some(pki.contexts(&cfg.name)?),
            (None, true) => {
                return Err(HarnessError::Config(format!("server {} runs TLS but the topology has no PKI", cfg.name)))
            }
            _ => None,
        };
        let log = Arc::new(LogBook::new(cfg.version.dialect(), shared.clock.clone(), cfg.utc_offset));
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
        })
    }

    /// The configuration (with the ports actually bound once started).
    pub fn config(&self) -> ServerConfig {
        let mut cfg = self.cfg.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (r, a) = *self.ports.lock().unwrap_or_else(|e| e.into_inner());
        cfg.replication_port = r;
        cfg.admin_port = a;
        cfg
    }

    pub fn name(&self) -> String {
        self.cfg.lock().unwrap_or_else(|e| e.into_inner()).name.clone()
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
        self.cfg.lock().unwrap_or_else(|e| e.into_inner()).peers = peers;
    }

    /// Sets the RSs this server's DS tries, in order.
    pub fn set_ds_replication_servers(&self, servers: Vec<String>) {
        self.cfg.lock().unwrap_or_else(|e| e.into_inner()).ds_replication_servers = servers;
    }

    /// Binds the replication and admin ports (the remembered ones after a first start).
    pub async fn bind(&self) -> Result<Bound, HarnessError> {
        let cfg = self.config();
        let ip = cfg.bind_ip();
        let replication =
            if cfg.rs { Some(TcpListener::bind(SocketAddr::new(ip, cfg.replication_port)).await) } else { None };
        let admin_addr = SocketAddr::new(ip, cfg.admin_port);
        let admin = TcpListener::bind(admin_addr).await.map_err(|source| HarnessError::Bind {
            server: cfg.name.clone(),
            what: "the admin port",
            addr: admin_addr,
            source,
        })?;
        let mut ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Ok(l)) = &replication {
            ports.0 = l.local_addr().map(|a| a.port()).unwrap_or(ports.0);
        }
        ports.1 = admin.local_addr().map(|a| a.port()).unwrap_or(ports.1);
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
        let node = Arc::new(Node::new(
            cfg.clone(),
            self.log.clone(),
            self.shared.clock.clone(),
            self.shared.hosts.clone(),
            self.shared.timings.clone(),
            self.shared.max_frame_len,
            self.shared.changed.clone(),
            self.gens.clone(),
            self.seed,
            cfg.replication_port,
            self.tls.clone(),
        ));
        match bound.replication {
            Some(Ok(listener)) => {
                self.log.emit(
                    &catalog::REPLICATION_SERVER_LISTENING,
                    &[&cfg.server_id, &cfg.bind_ip(), &cfg.replication_port],
                );
                node.tracker.spawn(rs::accept_loop(node.clone(), listener));
                node.tracker.spawn(rs::connect_loop(node.clone()));
            }
            Some(Err(e)) => {
                tracing::warn!(server = %cfg.name, "replication port {} cannot be bound: {e}", cfg.replication_port);
                self.log.emit(&catalog::COULD_NOT_BIND_CHANGELOG, &[&cfg.replication_port, &e]);
            }
            None => {}
        }
        node.tracker.spawn(admin_loop(node.clone(), bound.admin));
        let mut ds_cmds = BTreeMap::new();
        if cfg.ds {
            for d in &cfg.domains {
                let (tx, rx) = mpsc::channel(64);
                ds_cmds.insert(d.base_dn.clone(), tx);
                node.tracker.spawn(broker::run_domain(node.clone(), d.base_dn.clone(), rx));
            }
        }
        self.log.emit(&catalog::DIRECTORY_SERVER_STARTED, &[]);
        *run = Some(Running { node, ds_cmds });
        Ok(())
    }

    /// Clean stop: CORE 141, StopMsg on every session, CORE 203.
    pub async fn stop(&self) {
        let mut run = self.run.lock().await;
        let Some(running) = run.take() else { return };
        self.log.emit(&catalog::SERVER_SHUTDOWN, &[&SHUTDOWN_CLASS, &SHUTDOWN_REASON]);
        Self::wind_down(&running.node, false).await;
        self.log.emit(&catalog::SERVER_STOPPED, &[]);
    }

    /// Kill: no more log lines, every connection reset.
    pub async fn kill(&self) {
        let mut run = self.run.lock().await;
        let Some(running) = run.take() else { return };
        Self::wind_down(&running.node, true).await;
    }

    async fn wind_down(node: &Arc<Node>, kill: bool) {
        node.shut(kill);
        node.tracker.close();
        let limit = node.handshake_timeout() * 2 + std::time::Duration::from_secs(2);
        if tokio::time::timeout(limit, node.tracker.wait()).await.is_err() {
            tracing::warn!(server = %node.cfg.name, "tasks still running {limit:?} after stop");
        }
        node.notify();
    }

    /// The data's generation id changed (a restore or an import): the DS's
    /// session for the domain reconnects with it.
    pub async fn set_generation_id(&self, base_dn: &str, generation_id: i64) -> Result<(), HarnessError> {
        {
            let mut gens = self.gens.lock().unwrap_or_else(|e| e.into_inner());
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
        match tx {
            Some(tx) => {
                let _ = tx.send(cmd).await;
                Ok(())
            }
            None => Err(HarnessError::Config(format!("server {} has no DS for {base_dn:?}", self.name()))),
        }
    }

    /// Established RS↔RS links, both directions.
    pub async fn rs_links(&self) -> Vec<LinkView> {
        let run = self.run.lock().await;
        let Some(running) = run.as_ref() else {
            return Vec::new();
        };
        let node = &running.node;
        let mut out = Vec::new();
        for (base_dn, m) in &node.domains {
            let links = node.lock_domain(m);
            for (url, slot) in &links.peers {
                if let SlotState::Connected(info) = &slot.state {
                    out.push(LinkView {
                        domain: base_dn.clone(),
                        peer: url.clone(),
                        peer_id: info.peer_id.clone(),
                        initiator: info.initiator,
                        remote: info.remote.clone(),
                    });
                }
            }
        }
        out
    }

    /// Directory servers connected to this RS.
    pub async fn ds_links(&self) -> Vec<LinkView> {
        let run = self.run.lock().await;
        let Some(running) = run.as_ref() else {
            return Vec::new();
        };
        let node = &running.node;
        let mut out = Vec::new();
        for (base_dn, m) in &node.domains {
            let links = node.lock_domain(m);
            for (id, (_, info)) in &links.dss {
                out.push(LinkView {
                    domain: base_dn.clone(),
                    peer: id.clone(),
                    peer_id: id.clone(),
                    initiator: false,
                    remote: info.remote.clone(),
                });
            }
        }
        out
    }

    /// This server's DS sessions: domain → id of the RS it is connected to.
    pub async fn ds_sessions(&self) -> BTreeMap<String, String> {
        let run = self.run.lock().await;
        run.as_ref().map(|r| r.node.ds_sessions()).unwrap_or_default()
    }
}

/// The admin port: accepts and closes politely (enough for probes and faults).
async fn admin_loop(node: Arc<Node>, listener: TcpListener) {
    loop {
        tokio::select! {
            _ = node.cancel.cancelled() => break,
            accepted = listener.accept() => if let Ok((mut stream, _)) = accepted {
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
            }
        }
    }
}
