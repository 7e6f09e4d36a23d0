//! One bridgehead server: its listener, inbox, outbound links and connector
//! schedule, with start, clean stop, kill and restart (on the same port, its
//! directory kept). A clean stop closes its connections with FIN; a kill
//! resets them. Its case files: `events.log`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::activation;
use super::config::{SiteConfig, VERSION};
use super::counts::{Count, Counters};
use super::directory::{Context, Directory, NamingContext, Replica};
use super::events::{EventLog, FILE};
use super::inbox;
use super::link;
use super::listener;
use super::node::{lock, ExNode, LinkState, OrgShared, OUTBOUND_QUEUE};
use super::schedule::Schedule;
use crate::casefile::{CaseFile, CaseServer, ServerEntry};
use crate::error::HarnessError;
use crate::node::NodeCore;
use crate::topology::{Env, Member};

/// One directed link as a bridgehead sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkView {
    /// The partner bridgehead.
    pub peer: String,
    pub up: bool,
    /// Messages written to it since the start.
    pub sent: u64,
}

#[derive(Debug)]
pub struct Bridgehead {
    cfg: Mutex<SiteConfig>,
    shared: Arc<OrgShared>,
    log: Arc<EventLog>,
    dir: Arc<Mutex<Directory>>,
    counters: Arc<Counters>,
    /// The bridgeheads it sends to (its inbound sites' and those asking it).
    partners: Mutex<Vec<String>>,
    links: Mutex<BTreeMap<String, Arc<LinkState>>>,
    schedule: watch::Sender<Schedule>,
    run: tokio::sync::Mutex<Option<Arc<ExNode>>>,
    /// Started once already: a restart's schedule goes on from now.
    started: AtomicBool,
    seed: u64,
}

impl Bridgehead {
    pub(super) fn new(cfg: SiteConfig, shared: Arc<OrgShared>, seed: u64) -> Self {
        let log = Arc::new(EventLog::new(&cfg.bridgehead, shared.env.clock.clone(), cfg.utc_offset));
        log.set_logging(cfg.logging);
        let own = vec![
            NamingContext::new(&shared.org, &cfg.site, Context::Configuration, cfg.config_context),
            NamingContext::new(&shared.org, &cfg.site, Context::Site, cfg.site_context),
        ];
        let schedule = watch::channel(cfg.schedule.clone()).0;
        Self {
            cfg: Mutex::new(cfg),
            shared,
            log,
            dir: Arc::new(Mutex::new(Directory::new(own))),
            counters: Arc::new(Counters::default()),
            partners: Mutex::new(Vec::new()),
            links: Mutex::new(BTreeMap::new()),
            schedule,
            run: tokio::sync::Mutex::new(None),
            started: AtomicBool::new(false),
            seed,
        }
    }

    /// Its configuration (with the port actually bound once started, and the current schedule).
    pub fn config(&self) -> SiteConfig {
        let mut cfg = lock(&self.cfg).clone();
        cfg.schedule = self.schedule.borrow().clone();
        cfg
    }

    /// Its computer name, `BH-LONDON`.
    pub fn name(&self) -> String {
        lock(&self.cfg).bridgehead.clone()
    }

    pub fn site(&self) -> String {
        lock(&self.cfg).site.clone()
    }

    pub fn log(&self) -> &Arc<EventLog> {
        &self.log
    }

    /// Where its listener is (its own address and bound port).
    pub fn listen_addr(&self) -> SocketAddr {
        let cfg = lock(&self.cfg);
        SocketAddr::new(cfg.address, cfg.port)
    }

    pub fn counts(&self) -> Count {
        self.counters.snapshot()
    }

    /// Its outbound links and their state (none up while it is stopped).
    pub fn links(&self) -> Vec<LinkView> {
        lock(&self.links)
            .iter()
            .map(|(peer, s)| LinkView { peer: peer.clone(), up: s.is_up(), sent: s.sent() })
            .collect()
    }

    /// What it holds of another site's context.
    pub fn replica(&self, dn: &str) -> Option<Replica> {
        lock(&self.dir).replica(dn)
    }

    /// The highest USN of one of its own contexts.
    pub fn usn(&self, ctx: Context) -> u64 {
        let (org, site) = (&self.shared.org, self.site());
        lock(&self.dir).own(&ctx.dn(org, &site)).map_or(0, NamingContext::usn)
    }

    pub(super) fn seed_replica(&self, dn: &str, usn: u64) {
        lock(&self.dir).seed_replica(dn, usn);
    }

    pub(super) fn set_partners(&self, partners: Vec<String>) {
        *lock(&self.partners) = partners;
    }

    /// A new schedule for its connector, from the next cell on.
    pub fn set_schedule(&self, schedule: Schedule) {
        self.schedule.send_replace(schedule);
    }

    /// Creates `count` new objects in one of its own contexts (an import):
    /// the next requests for it page at 512.
    pub fn add_objects(&self, ctx: Context, count: u32) {
        let (org, site) = (self.shared.org.clone(), self.site());
        if let Some(nc) = lock(&self.dir).own_mut(&ctx.dn(&org, &site)) {
            nc.add(count);
        }
    }

    /// Administrator's "Request Now" on the Sites tab, for one inbound site
    /// (`refresh`: "Refresh all items in the directory").
    pub async fn request_now(&self, site: &str, refresh: bool) -> Result<(), HarnessError> {
        let cfg = self.config();
        if !cfg.inbound_sites.iter().any(|s| s == site) {
            return Err(HarnessError::Config(format!(
                "{}: {site:?} is not an inbound site of its connector ({})",
                cfg.bridgehead,
                cfg.inbound_sites.join(", ")
            )));
        }
        let run = self.run.lock().await;
        let node = run.as_ref().ok_or_else(|| HarnessError::Config(format!("{} is not running", cfg.bridgehead)))?;
        activation::request_now(node, site, refresh);
        Ok(())
    }

    /// Binds its listener (the remembered port after a first start).
    pub async fn bind(&self) -> Result<TcpListener, HarnessError> {
        let asked = self.listen_addr();
        let name = self.name();
        let listener = crate::transport::listen(asked).await.map_err(|source| HarnessError::Bind {
            server: name.clone(),
            what: "the message transfer port",
            addr: asked,
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| HarnessError::Bind {
                server: name,
                what: "the message transfer port",
                addr: asked,
                source,
            })?
            .port();
        lock(&self.cfg).port = port;
        Ok(listener)
    }

    pub async fn is_running(&self) -> bool {
        self.run.lock().await.is_some()
    }

    /// Binds and starts.
    pub async fn start(&self) -> Result<(), HarnessError> {
        let listener = self.bind().await?;
        self.start_with(listener).await
    }

    /// Starts on a listener from [`Bridgehead::bind`].
    pub async fn start_with(&self, listener: TcpListener) -> Result<(), HarnessError> {
        let mut run = self.run.lock().await;
        if run.is_some() {
            return Err(HarnessError::AlreadyRunning(self.name()));
        }
        let cfg = self.config();
        let core = NodeCore::new(&cfg.bridgehead, &self.shared.env, self.seed);
        let (inbox_tx, inbox_rx) = mpsc::channel(self.shared.inbox_limit);
        let mut outbound = BTreeMap::new();
        let mut queues = Vec::new();
        let mut states = BTreeMap::new();
        for peer in lock(&self.partners).iter() {
            let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
            let state = Arc::new(LinkState::default());
            states.insert(peer.clone(), state.clone());
            outbound.insert(peer.clone(), tx);
            queues.push((peer.clone(), rx, state));
        }
        *lock(&self.links) = states;
        let node = Arc::new(ExNode {
            core,
            org: self.shared.clone(),
            log: self.log.clone(),
            dir: self.dir.clone(),
            counters: self.counters.clone(),
            capacity: cfg.capacity,
            address: cfg.address,
            inbound: cfg.inbound_sites.clone(),
            utc_offset: cfg.utc_offset,
            outbound,
            inbox: inbox_tx,
        });
        node.core.spawn(listener::accept_loop(node.clone(), listener));
        node.core.spawn(inbox::run(node.clone(), inbox_rx));
        for (peer, rx, state) in queues {
            node.core.spawn(link::run(node.clone(), peer, rx, state));
        }
        let clock = &self.shared.env.clock;
        let from = if self.started.swap(true, Ordering::SeqCst) { clock.now() } else { clock.start() };
        node.core.spawn(activation::schedule_loop(node.clone(), self.schedule.subscribe(), from));
        *run = Some(node);
        Ok(())
    }

    /// Clean stop: connections closed with FIN; queued messages are lost.
    pub async fn stop(&self) {
        self.wind_down(false).await;
    }

    /// Kill: connections reset.
    pub async fn kill(&self) {
        self.wind_down(true).await;
    }

    async fn wind_down(&self, kill: bool) {
        let Some(node) = self.run.lock().await.take() else { return };
        let limit = node.real(self.shared.timings.connect_timeout) + std::time::Duration::from_secs(2);
        node.core.wind_down(kill, limit).await;
    }
}

impl Member for Bridgehead {
    fn name(&self) -> String {
        Bridgehead::name(self)
    }

    fn case_server(&self, _env: &Env) -> CaseServer {
        let cfg = self.config();
        let entry = ServerEntry {
            name: cfg.bridgehead.clone(),
            flavor: "exchange".into(),
            version: VERSION.into(),
            host: cfg.host.clone(),
            addresses: vec![cfg.address.to_string()],
            site: Some(cfg.site.clone()),
            ..ServerEntry::default()
        };
        CaseServer { entry, files: vec![CaseFile::new(FILE, self.log.text())] }
    }

    async fn stop(&self) {
        Bridgehead::stop(self).await;
    }
}
