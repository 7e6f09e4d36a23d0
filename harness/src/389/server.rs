//! One 389 instance: its LDAP port, its replica, its agreements; start,
//! clean stop, kill, restart; the operations a QA engineer runs on it
//! (writes, `dsconf` changes, knobs); its case files.
//!
//! Start writes the title block and the start-up lines a 2.3.1 server
//! writes (a supplier's first start also creates the keep-alive entry, a
//! change to send), then runs the consumer side and one protocol task per
//! enabled agreement. A clean stop writes the shutdown lines; a kill writes
//! nothing more and resets every connection. Data (entries, changelog, RUV,
//! the agreements' stored attributes) survives a restart; the computed
//! status starts over ("No replication sessions started since server startup").

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;

use super::catalog;
use super::config::{AgreementConfig, ConsumerKnobs, Role, ServerConfig389, SupplierFault, KEEPALIVE_FIRST};
use super::consumer;
use super::csn::Csn;
use super::entries;
use super::errlog::ErrorsLog;
use super::node::{long_name, AgmtData, Data, Events, Node389, NodeParts};
use super::protocol;
use super::replica::Replica;
use super::status::{gen_time, AgmtStatus};
use super::wire::UpdateKind;
use crate::casefile::{CaseFile, CaseServer, Ports, ServerEntry};
use crate::error::HarnessError;
use crate::node::NodeCore;
use crate::topology::{Env, Member};

/// What a topology's 389 servers share.
#[derive(Debug, Clone)]
pub struct Shared389 {
    pub env: Env,
    pub max_frame_len: usize,
}

/// What the outside can see of an agreement now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementView {
    pub supplier: String,
    pub name: String,
    pub consumer: String,
    /// `nsds5replicaLastUpdateStatus` as a search shows it.
    pub status: String,
    pub in_progress: bool,
    /// Between a successful acquire and the end of `release_replica`: the
    /// session's status is set, its end-replication not yet answered.
    pub holding: bool,
    pub enabled: bool,
    /// Updates replayed since startup.
    pub sent: u32,
}

#[derive(Debug)]
struct Running {
    node: Arc<Node389>,
}

/// One 389 server.
#[derive(Debug)]
pub struct Server389 {
    cfg: Mutex<ServerConfig389>,
    shared: Shared389,
    log: Arc<ErrorsLog>,
    data: Arc<Mutex<Data>>,
    run: tokio::sync::Mutex<Option<Running>>,
    /// Runs now (read by the case folder, which a search of a stopped server cannot fill).
    up: std::sync::atomic::AtomicBool,
    seed: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How `slapd_daemon` names a listening address (`netaddr2string`).
fn listen_name(ip: IpAddr) -> String {
    if ip.is_unspecified() {
        "All Interfaces".into()
    } else if ip == IpAddr::V4(std::net::Ipv4Addr::LOCALHOST) {
        "Loopback".into()
    } else if ip == IpAddr::V6(std::net::Ipv6Addr::LOCALHOST) {
        "IPv6 Loopback".into()
    } else {
        ip.to_string()
    }
}

impl Server389 {
    /// A server holding `generation` as its suffix's database generation
    /// (every initialized replica of a topology shares one).
    pub fn new(cfg: ServerConfig389, shared: Shared389, generation: &str, seed: u64) -> Result<Self, HarnessError> {
        cfg.validate()?;
        let log = Arc::new(ErrorsLog::new(cfg.version.clone(), shared.env.clock.clone(), cfg.utc_offset));
        let purl = format!("ldap://{}:{}", cfg.host, cfg.port);
        let replica = cfg.replica.clone().map(|r| Replica::new(r, purl, generation, cfg.entries));
        let data = Data {
            replica,
            agmts: Vec::new(),
            knobs: cfg.knobs,
            fault: cfg.fault,
            accounts: cfg.accounts.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect(),
            release_timeout: Duration::ZERO,
            flow_window: 1000,
            flow_pause: Duration::from_millis(2000),
            started_once: false,
        };
        Ok(Self {
            cfg: Mutex::new(cfg),
            shared,
            log,
            data: Arc::new(Mutex::new(data)),
            run: tokio::sync::Mutex::new(None),
            up: Default::default(),
            seed,
        })
    }

    pub fn config(&self) -> ServerConfig389 {
        lock(&self.cfg).clone()
    }

    pub fn name(&self) -> String {
        lock(&self.cfg).name.clone()
    }

    pub fn log(&self) -> &Arc<ErrorsLog> {
        &self.log
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        lock(&self.data)
    }

    /// The LDAP address (with the bound port once bound).
    pub fn ldap_addr(&self) -> SocketAddr {
        let c = self.config();
        SocketAddr::new(c.bind_ip(), c.port)
    }

    /// Binds the LDAP port (the one bound before, on a restart).
    pub async fn bind(&self) -> Result<TcpListener, HarnessError> {
        let c = self.config();
        let asked = SocketAddr::new(c.bind_ip(), c.port);
        let l = crate::transport::listen(asked).await.map_err(|source| HarnessError::Bind {
            server: c.name.clone(),
            what: "the LDAP port",
            addr: asked,
            source,
        })?;
        let port = l.local_addr().map(|a| a.port()).map_err(|source| HarnessError::Bind {
            server: c.name.clone(),
            what: "the LDAP port",
            addr: asked,
            source,
        })?;
        lock(&self.cfg).port = port;
        if let Some(r) = self.data().replica.as_mut() {
            r.purl = format!("ldap://{}:{port}", c.host);
            if let Some(ruv) = r.ruv.as_mut() {
                let rid = r.cfg.role.rid();
                if let Some(e) = ruv.elements.iter_mut().find(|e| e.rid == rid) {
                    e.purl = Some(r.purl.clone());
                }
            }
        }
        Ok(l)
    }

    /// Sets the agreements, each with the host and port it connects to and
    /// the consumer's replica id (learnt at the first session).
    pub fn set_agreements(&self, agmts: Vec<(AgreementConfig, String, u16, Option<u16>)>) {
        let mut data = self.data();
        data.agmts = agmts
            .into_iter()
            .map(|(cfg, host, port, rid)| AgmtData {
                long_name: long_name(&cfg.name, &host, port),
                host,
                port,
                status: AgmtStatus::default(),
                consumer_ruv: None,
                consumer_rid: None,
                consumer_rid_hint: rid,
                maxcsn: None,
                events: Arc::new(Events::default()),
                stop: tokio_util::sync::CancellationToken::new(),
                init_requested: false,
                running: false,
                holding: false,
                cfg,
            })
            .collect();
    }

    pub async fn is_running(&self) -> bool {
        self.run.lock().await.is_some()
    }

    pub async fn start(&self) -> Result<(), HarnessError> {
        let l = self.bind().await?;
        self.start_with(l).await
    }

    /// Starts on a listener from [`Server389::bind`].
    pub async fn start_with(&self, listener: TcpListener) -> Result<(), HarnessError> {
        let mut run = self.run.lock().await;
        if run.is_some() {
            return Err(HarnessError::AlreadyRunning(self.name()));
        }
        let c = self.config();
        let core = NodeCore::new(&c.name, &self.shared.env, self.seed);
        let node = Arc::new(Node389::new(
            core,
            NodeParts {
                name: c.name.clone(),
                bind_ip: c.bind_ip(),
                version: c.version.clone(),
                clock_offset: c.clock_offset,
                tls: c.tls,
                log: self.log.clone(),
                data: self.data.clone(),
                max_frame_len: self.shared.max_frame_len,
            },
        ));
        self.startup_lines(&c);
        let (first, supplier, names) = {
            let mut data = self.data();
            let first = !data.started_once;
            data.started_once = true;
            for a in data.agmts.iter_mut() {
                a.status = AgmtStatus::default();
                a.stop = node.core.cancel.child_token();
            }
            let supplier = data.replica.as_ref().filter(|r| r.is_supplier()).map(|r| (r.rid(), r.cfg.suffix.clone()));
            let names: Vec<String> =
                data.agmts.iter().filter(|a| a.cfg.is_enabled()).map(|a| a.cfg.name.clone()).collect();
            (first, supplier, names)
        };
        if let (true, Some((rid, suffix))) = (first, &supplier) {
            self.log.emit(&catalog::KEEPALIVE_NEEDED, &[rid, suffix]);
            self.log.emit(&catalog::KEEPALIVE_ADD, &[rid, suffix, rid]);
            let dn = format!("cn=repl keep alive {rid},{suffix}");
            local_change(
                &node,
                UpdateKind::Add,
                &dn,
                "objectclass: top\nobjectclass: ldapsubentry\nobjectclass: extensibleObject\nkeepalivetimestamp: 0",
            );
        }
        self.log.emit(&catalog::CONNTABLE_SIZE, &[&19_936]);
        self.log.emit(&catalog::SLAPD_STARTED, &[&listen_name(c.bind_ip()), &c.port]);
        if c.version.log_severities() {
            self.log.emit(&catalog::LDAPI_LISTENING, &[&format!("/run/{}.socket", c.instance_dir_name())]);
        }
        node.core.spawn(consumer::accept_loop(node.clone(), listener));
        if let (true, Some((rid, suffix))) = (c.version.periodic_keepalive(), supplier) {
            node.core.spawn(keepalive(node.clone(), rid, suffix));
        }
        for name in names {
            node.core.spawn(protocol::run(node.clone(), name));
        }
        *run = Some(Running { node });
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    fn startup_lines(&self, c: &ServerConfig389) {
        let v = &c.version;
        self.log.title(&c.host, c.port, &c.instance_dir_name());
        let bdb = v >= &super::version::Version389::parse("1.4.2").unwrap_or_default();
        if bdb {
            self.log.emit(&catalog::FIPS_OFF, &[]);
        }
        self.log.emit(&catalog::STARTING_UP, &[&v.product(), &v.build()]);
        self.log.emit(&catalog::FD_LIMIT, &[&20_000]);
        if bdb {
            self.log.emit(&catalog::PBKDF2_ROUNDS, &[&2048]);
            self.log.emit(&catalog::AUTOTUNE_PHYSICAL, &[&24_591_904u64]);
            self.log.emit(&catalog::AUTOTUNE_AVAILABLE, &[&22_784_536u64]);
            self.log.emit(&catalog::AUTOTUNE_DB_CACHE, &[&1_536_992u64]);
            self.log.emit(&catalog::AUTOTUNE_ENTRY_CACHE, &[&"userroot", &1, &4_194_304u64]);
            self.log.emit(&catalog::AUTOTUNE_DN_CACHE, &[&"userroot", &1, &524_288u64]);
            self.log.emit(&catalog::AUTOTUNE_TOTAL, &[&4_991_264_317u64]);
        }
    }

    /// Clean stop: the shutdown lines, every connection closed.
    pub async fn stop(&self) {
        let mut run = self.run.lock().await;
        let Some(r) = run.take() else { return };
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.log.emit(&catalog::SHUTDOWN_SIGNAL_OPS, &[&1, &1, &1]);
        self.log.emit(&catalog::SHUTDOWN_CT_THREADS, &[]);
        self.log.emit(&catalog::SHUTDOWN_WAIT_THREADS, &[&"1 thread"]);
        self.log.emit(&catalog::SHUTDOWN_PLUGINS, &[]);
        r.node.core.wind_down(false, Duration::from_secs(5)).await;
        self.log.emit(&catalog::BDB_WAITING, &[&5]);
        self.log.emit(&catalog::BDB_STOPPED, &[]);
        self.log.emit(&catalog::BACKENDS_DESTROYED, &[]);
        self.log.emit(&catalog::SHUTDOWN_FREED, &[&1, &2]);
        self.log.emit(&catalog::SLAPD_STOPPED, &[]);
        self.release_holder();
    }

    /// Kill: nothing more logged, every connection reset.
    pub async fn kill(&self) {
        let mut run = self.run.lock().await;
        let Some(r) = run.take() else { return };
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        r.node.core.wind_down(true, Duration::from_secs(5)).await;
        self.release_holder();
    }

    fn release_holder(&self) {
        let mut data = self.data();
        if let Some(r) = data.replica.as_mut() {
            r.holder = None;
        }
        for a in data.agmts.iter_mut() {
            a.running = false;
            a.status.in_progress = false;
        }
    }

    async fn node(&self) -> Result<Arc<Node389>, HarnessError> {
        self.run
            .lock()
            .await
            .as_ref()
            .map(|r| r.node.clone())
            .ok_or_else(|| HarnessError::Config(format!("server {} is not running", self.name())))
    }

    /// `count` LDAP modifies on the suffix's entries (each a change to send).
    pub async fn write(&self, count: usize) -> Result<Vec<Csn>, HarnessError> {
        let node = self.node().await?;
        let suffix = {
            let data = self.data();
            let r = data
                .replica
                .as_ref()
                .ok_or_else(|| HarnessError::Config(format!("server {} has no replica", self.name())))?;
            if !r.is_supplier() {
                return Err(HarnessError::Config(format!("server {} is a read-only consumer", self.name())));
            }
            r.cfg.suffix.clone()
        };
        let mut out = Vec::with_capacity(count.min(100_000));
        for i in 0..count {
            let dn = format!("uid=user{},ou=people,{suffix}", i % 10 + 1);
            let stamp = gen_time(node.now().unix_timestamp());
            out.push(local_change(
                &node,
                UpdateKind::Modify,
                &dn,
                &format!("replace: description\ndescription: changed {stamp}"),
            ));
        }
        Ok(out)
    }

    fn with_agmt<T>(&self, name: &str, f: impl FnOnce(&mut AgmtData) -> T) -> Result<T, HarnessError> {
        let mut data = self.data();
        let known: Vec<String> = data.agmts.iter().map(|a| a.cfg.name.clone()).collect();
        data.agmt_mut(name).map(f).ok_or_else(|| {
            HarnessError::Config(format!(
                "server {} has no agreement {name:?} (it has: {})",
                self.name(),
                known.join(", ")
            ))
        })
    }

    /// A change of the agreement entry (`dsconf repl-agmt set`): it takes
    /// effect at once, the session starts over.
    pub fn modify_agreement(&self, name: &str, f: impl FnOnce(&mut AgreementConfig)) -> Result<(), HarnessError> {
        let events = self.with_agmt(name, |a| {
            f(&mut a.cfg);
            a.events.clone()
        })?;
        events.raise(|e| e.agmt_changed = true);
        Ok(())
    }

    /// `dsconf repl-agmt poke`: replicate now.
    pub fn poke(&self, name: &str) -> Result<(), HarnessError> {
        let events = self.with_agmt(name, |a| a.events.clone())?;
        events.raise(|e| e.replicate_now = true);
        Ok(())
    }

    /// `dsconf repl-agmt init`: a total update of the consumer.
    pub async fn init(&self, name: &str) -> Result<(), HarnessError> {
        let node = self.node().await?;
        let (stop, running) = self.with_agmt(name, |a| {
            a.init_requested = true;
            (a.stop.clone(), a.running)
        })?;
        stop.cancel();
        if !running {
            node.core.spawn(protocol::run(node.clone(), name.to_owned()));
        }
        Ok(())
    }

    /// `dsconf repl-agmt enable|disable`. Disabling stops the protocol
    /// (waiting for it up to the protocol timeout, 120 s) and then sets
    /// "agreement disabled".
    pub async fn set_enabled(&self, name: &str, on: bool) -> Result<(), HarnessError> {
        let running_node = self.run.lock().await.as_ref().map(|r| r.node.clone());
        let (was, stop) = self.with_agmt(name, |a| {
            let was = a.cfg.is_enabled();
            a.cfg.enabled = Some(on);
            (was, a.stop.clone())
        })?;
        let Some(node) = running_node else { return Ok(()) };
        if on && !was {
            self.with_agmt(name, |a| a.stop = node.core.cancel.child_token())?;
            node.core.spawn(protocol::run(node.clone(), name.to_owned()));
        } else if !on && was {
            stop.cancel();
            let limit = node.real(super::config::DEFAULT_TIMEOUT);
            let data = self.data.clone();
            let n = name.to_owned();
            let _ = self
                .shared
                .env
                .changes
                .wait_until(limit, || {
                    let stopped = lock(&data).agmt(&n).is_none_or(|a| !a.running);
                    async move {
                        if stopped {
                            Ok(())
                        } else {
                            Err(())
                        }
                    }
                })
                .await;
            let now = node.now();
            let v = node.version.clone();
            self.with_agmt(name, |a| {
                let tag = a.long_name.clone();
                let r = &super::status::AGREEMENT_DISABLED;
                a.status.set(&v, now, &tag, 0, r.replrc(&v), r.msg);
            })?;
            node.core.notify();
        }
        Ok(())
    }

    pub fn set_knobs(&self, knobs: ConsumerKnobs) {
        self.data().knobs = knobs;
    }

    pub fn knobs(&self) -> ConsumerKnobs {
        self.data().knobs
    }

    pub fn set_fault(&self, fault: Option<SupplierFault>) {
        self.data().fault = fault;
    }

    /// `nsds5ReplicaReleaseTimeout`, and the agreements' flow-control window.
    pub fn set_release_timeout(&self, t: Duration) {
        self.data().release_timeout = t;
    }

    pub fn set_flow_control(&self, window: usize, pause: Duration) {
        let mut d = self.data();
        d.flow_window = window.max(1);
        d.flow_pause = pause;
    }

    /// `nsDS5ReplicaBindDN` of the replica (`dsconf replication set --repl-add-bind-dn/--repl-del-bind-dn`).
    pub fn set_bind_dns(&self, dns: Vec<String>) -> Result<(), HarnessError> {
        let mut d = self.data();
        let r =
            d.replica.as_mut().ok_or_else(|| HarnessError::Config(format!("server {} has no replica", self.name())))?;
        r.cfg.bind_dns = dns;
        Ok(())
    }

    /// The password of an account (the replication manager) on this server.
    pub fn set_password(&self, dn: &str, password: &str) {
        self.data().accounts.insert(dn.to_ascii_lowercase(), password.to_owned());
    }

    /// Replication enabled or disabled for the suffix on this server
    /// (disabled: the consumer has no replicated area).
    pub fn set_replica_enabled(&self, on: bool) -> Result<(), HarnessError> {
        let mut d = self.data();
        let r =
            d.replica.as_mut().ok_or_else(|| HarnessError::Config(format!("server {} has no replica", self.name())))?;
        r.enabled = on;
        Ok(())
    }

    /// `ldif2db` of an export without replication data: a new database generation.
    pub fn import_without_replication(&self) -> Result<(), HarnessError> {
        let now = (self.shared.env.clock.now() + self.config().clock_offset).unix_timestamp();
        let mut d = self.data();
        let r =
            d.replica.as_mut().ok_or_else(|| HarnessError::Config(format!("server {} has no replica", self.name())))?;
        r.import_without_replication(now);
        Ok(())
    }

    /// The changelog database is lost and recreated empty (the data and
    /// the RUV stay): the changes a consumer last saw are no longer in it.
    pub fn lose_changelog(&self) -> Result<(), HarnessError> {
        let mut d = self.data();
        let r =
            d.replica.as_mut().ok_or_else(|| HarnessError::Config(format!("server {} has no replica", self.name())))?;
        r.changelog.clear();
        r.purged.clear();
        Ok(())
    }

    /// How far this server's clock is off (takes effect for new CSNs).
    pub fn set_clock_offset(&self, offset: time::Duration) {
        lock(&self.cfg).clock_offset = offset;
    }

    /// Every agreement's state now.
    pub fn agreements(&self) -> Vec<AgreementView> {
        let name = self.name();
        let v = self.config().version;
        self.data()
            .agmts
            .iter()
            .map(|a| AgreementView {
                supplier: name.clone(),
                name: a.cfg.name.clone(),
                consumer: a.cfg.consumer.clone(),
                status: a.status.shown(&v),
                in_progress: a.status.in_progress,
                holding: a.holding,
                enabled: a.cfg.is_enabled(),
                sent: a.status.changes_sent.values().map(|(r, _)| r).sum(),
            })
            .collect()
    }

    /// The supplier's newest own CSN.
    pub fn max_csn(&self) -> Option<Csn> {
        self.data().replica.as_ref().and_then(Replica::own_max)
    }

    /// The consumer's RUV max CSN for replica id `rid`.
    pub fn ruv_max(&self, rid: u16) -> Option<Csn> {
        self.data().replica.as_ref().and_then(|r| r.ruv.as_ref()).and_then(|r| r.element(rid)).and_then(|e| e.max)
    }

    /// Its replica id (65535 for a consumer).
    pub fn rid(&self) -> Option<u16> {
        self.config().replica.map(|r| r.role.rid())
    }

    pub fn is_supplier(&self) -> bool {
        matches!(self.config().replica.map(|r| r.role), Some(Role::Supplier { .. }))
    }
}

/// A change made on the server: a CSN, the changelog, the RUV, each enabled
/// agreement's max CSN, and a wake-up for every agreement.
fn local_change(node: &Arc<Node389>, kind: UpdateKind, dn: &str, changes: &str) -> Csn {
    let now = node.local_secs();
    let (csn, events) = {
        let mut data = node.data();
        let Some(r) = data.replica.as_mut() else {
            return Csn { time: 0, seq: 0, rid: 0, subseq: 0 };
        };
        let csn = r.local_change(now, kind, dn, changes);
        let mut events = Vec::new();
        for a in data.agmts.iter_mut().filter(|a| a.cfg.is_enabled()) {
            a.maxcsn = Some(csn);
            events.push(a.events.clone());
        }
        (csn, events)
    };
    for e in events {
        e.raise(|f| f.changes = true);
    }
    csn
}

/// The keep-alive update (2.2.3 on): 30 s after start, then every interval.
async fn keepalive(node: Arc<Node389>, rid: u16, suffix: String) {
    let mut wait = KEEPALIVE_FIRST;
    loop {
        tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            _ = tokio::time::sleep(node.real(wait)) => {}
        }
        let stamp = gen_time(node.local_secs());
        let dn = format!("cn=repl keep alive {rid},{suffix}");
        local_change(
            &node,
            UpdateKind::Modify,
            &dn,
            &format!("replace: keepalivetimestamp\nkeepalivetimestamp: {stamp}"),
        );
        wait = node.data().replica.as_ref().map_or(super::config::KEEPALIVE_INTERVAL, |r| r.cfg.keepalive_interval);
    }
}

impl Member for Server389 {
    fn name(&self) -> String {
        Server389::name(self)
    }

    /// Its `errors` log, and while it runs (a search needs the server)
    /// `agreements.ldif` (with agreements) and `replica.ldif` (with a replica).
    fn case_server(&self, env: &Env) -> CaseServer {
        let c = self.config();
        let now = env.clock.now();
        let data = self.data();
        let mut files = vec![CaseFile::new("errors", self.log.text("errors"))];
        let up = self.up.load(std::sync::atomic::Ordering::SeqCst);
        if up && !data.agmts.is_empty() {
            files.push(CaseFile::new("agreements.ldif", entries::agreements_ldif(&data, &c.version, now)));
        }
        if let Some(r) = entries::replica_ldif(&data, &c.name).filter(|_| up) {
            files.push(CaseFile::new("replica.ldif", r));
        }
        let entry = ServerEntry {
            name: c.name.clone(),
            flavor: "389".into(),
            version: c.version.to_string(),
            host: c.host.clone(),
            addresses: c.addresses.iter().map(|a| a.to_string()).collect(),
            server_id: c.replica.as_ref().map(|r| r.role.rid().to_string()),
            domains: c.replica.iter().map(|r| r.suffix.clone()).collect(),
            site: None,
            ports: Ports { replication: None, admin: None, ldap: Some(c.port) },
        };
        CaseServer { entry, files }
    }

    async fn stop(&self) {
        Server389::stop(self).await;
    }
}
