//! What one running server instance shares between its tasks.
//!
//! A [`Node`] lives from a start to the matching stop or kill; a restart makes
//! a new one. What outlives it (logs, bound ports, generation ids, which are
//! on disk in the real product) belongs to [`super::server::Server`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::{ServerConfig, Timings};
use crate::clock::VirtualClock;
use crate::hostmap::HostMap;
use crate::logbook::LogBook;
use crate::wire::ReplMsg;

/// Generation ids, per domain: the DS's (of its data) and the RS's (of its changelog).
#[derive(Debug, Default, Clone)]
pub struct Generations {
    pub ds: BTreeMap<String, i64>,
    pub rs: BTreeMap<String, i64>,
}

/// A link slot in a domain, keyed by the peer's server URL.
#[derive(Debug)]
pub(crate) struct PeerSlot {
    pub token: u64,
    pub state: SlotState,
}

#[derive(Debug)]
pub(crate) enum SlotState {
    /// An outbound attempt is under way.
    Connecting,
    Connected(LinkInfo),
}

/// An established RS↔RS or RS↔DS link.
#[derive(Debug, Clone)]
pub(crate) struct LinkInfo {
    pub peer_id: String,
    pub initiator: bool,
    pub remote: String,
    pub tx: mpsc::Sender<ReplMsg>,
}

/// The replication server's state for one domain: the domain lock of the real product.
#[derive(Debug, Default)]
pub(crate) struct DomainLinks {
    pub peers: BTreeMap<String, PeerSlot>,
    /// Connected directory servers, by DS id.
    pub dss: BTreeMap<String, (u64, LinkInfo)>,
    pub next_token: u64,
}

impl DomainLinks {
    pub fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }
}

/// What the outside can see of one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkView {
    pub domain: String,
    /// The peer's server URL (`host:port`) for RS links, its DS id for DS links.
    pub peer: String,
    pub peer_id: String,
    /// This side opened the connection.
    pub initiator: bool,
    /// The remote address as the log lines print it.
    pub remote: String,
}

#[derive(Debug)]
pub(crate) struct Node {
    pub cfg: ServerConfig,
    pub log: Arc<LogBook>,
    pub clock: VirtualClock,
    pub hosts: Arc<HostMap>,
    pub timings: Timings,
    pub max_frame_len: usize,
    pub cancel: CancellationToken,
    killed: AtomicBool,
    pub tracker: TaskTracker,
    pub changed: Arc<Notify>,
    rng: Mutex<StdRng>,
    pub gens: Arc<Mutex<Generations>>,
    /// RS state per domain (empty when the server runs no RS).
    pub domains: BTreeMap<String, Mutex<DomainLinks>>,
    /// This server's RS URL, `host:port`.
    pub url: String,
    /// Its TLS contexts when it runs TLS.
    pub tls: Option<crate::pki::TlsContexts>,
    /// The DS's sessions: domain → id of the RS it is connected to.
    ds_sessions: Mutex<BTreeMap<String, String>>,
}

impl Node {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: ServerConfig,
        log: Arc<LogBook>,
        clock: VirtualClock,
        hosts: Arc<HostMap>,
        timings: Timings,
        max_frame_len: usize,
        changed: Arc<Notify>,
        gens: Arc<Mutex<Generations>>,
        seed: u64,
        replication_port: u16,
        tls: Option<crate::pki::TlsContexts>,
    ) -> Self {
        let domains = if cfg.rs {
            cfg.domains.iter().map(|d| (d.base_dn.clone(), Mutex::new(DomainLinks::default()))).collect()
        } else {
            BTreeMap::new()
        };
        let url = format!("{}:{}", cfg.host, replication_port);
        Self {
            cfg,
            log,
            clock,
            hosts,
            timings,
            max_frame_len,
            cancel: CancellationToken::new(),
            killed: AtomicBool::new(false),
            tracker: TaskTracker::new(),
            changed,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            gens,
            domains,
            url,
            tls,
            ds_sessions: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn id(&self) -> &str {
        &self.cfg.server_id
    }

    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Ends every task: abortively (RST) when `kill`, else with StopMsg.
    pub fn shut(&self, kill: bool) {
        self.killed.store(kill, Ordering::SeqCst);
        self.cancel.cancel();
    }

    /// Real time standing for a product interval.
    pub fn real(&self, product: Duration) -> Duration {
        self.clock.real(product)
    }

    pub fn handshake_timeout(&self) -> Duration {
        self.real(self.timings.handshake_timeout)
    }

    /// The connect loop's next wait: the period plus up to 10 % jitter, as the
    /// real product adds 0..100 ms to its 1000 ms.
    pub fn connect_retry_jittered(&self) -> Duration {
        let base = self.timings.connect_retry;
        let extra = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            rng.random_range(0..=base.as_millis().max(1) as u64 / 10)
        };
        self.real(base + Duration::from_millis(extra))
    }

    pub fn domain(&self, base_dn: &str) -> Option<&Mutex<DomainLinks>> {
        self.domains.get(base_dn)
    }

    pub fn lock_domain<'a>(&'a self, m: &'a Mutex<DomainLinks>) -> std::sync::MutexGuard<'a, DomainLinks> {
        let _ = self;
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn rs_generation(&self, base_dn: &str) -> i64 {
        self.gens_lock().rs.get(base_dn).copied().unwrap_or(-1)
    }

    pub fn ds_generation(&self, base_dn: &str) -> i64 {
        self.gens_lock().ds.get(base_dn).copied().unwrap_or(-1)
    }

    pub fn gens_lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.gens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A CSN as the product writes it: 16 hex digits of ms, 4 of replica, 8 of sequence.
    pub fn csn(&self, seq: u32) -> String {
        let ms = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as u64;
        let replica = self.cfg.server_id.parse::<u16>().unwrap_or_else(|_| {
            self.cfg.server_id.bytes().fold(0u16, |h, b| h.wrapping_mul(31).wrapping_add(u16::from(b)))
        });
        format!("{ms:016x}{replica:04x}{seq:08x}")
    }

    /// Records the DS's session for a domain (`None`: not connected).
    pub fn ds_session(&self, base_dn: &str, rs_id: Option<&str>) {
        {
            let mut s = self.ds_sessions.lock().unwrap_or_else(|e| e.into_inner());
            match rs_id {
                Some(id) => s.insert(base_dn.to_owned(), id.to_owned()),
                None => s.remove(base_dn),
            };
        }
        self.notify();
    }

    /// The DS's sessions: domain → RS id.
    pub fn ds_sessions(&self) -> BTreeMap<String, String> {
        self.ds_sessions.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Tells waiters that a link came up or went down.
    pub fn notify(&self) {
        self.changed.notify_waiters();
    }
}
