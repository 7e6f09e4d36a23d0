//! What one running DS/OpenDJ server instance shares between its tasks: the
//! [`NodeCore`] every family has, and the replication state behind the
//! product's domain locks (links per peer and domain, connected DSs, the DS's
//! own sessions), with the operations on it.
//!
//! A [`Node`] lives from a start to the matching stop or kill; a restart makes
//! a new one. What outlives it (logs, bound ports, generation ids, which are
//! on disk in the real product) belongs to [`super::server::Server`]. This
//! module is the leaf the connection tasks share: it imports none of them.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::catalog::Dialect;
use super::config::{ServerConfig, Timings};
use super::java::Jdk;
use super::log::LogBook;
use crate::node::NodeCore;
use crate::pki::TlsContexts;
use crate::wire::{ReplMsg, Update};

/// `ServerStatus.NORMAL_STATUS` on the wire.
pub(crate) const NORMAL_STATUS: u8 = 1;
/// `ServerStatus.BAD_GEN_ID_STATUS` on the wire: the DS connected with
/// another generation id than its RS's.
pub(crate) const BAD_GEN_ID_STATUS: u8 = 4;

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
    /// The peer's generation id for the domain (an RS's, or a DS's data).
    pub generation_id: i64,
    /// A DS in "Bad generation id" status (it connected with another
    /// generation id than the RS's): the RS forwards it nothing.
    pub bad_generation: bool,
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

/// What a server instance starts with, besides its [`NodeCore`].
#[derive(Debug)]
pub(crate) struct NodeParts {
    pub cfg: ServerConfig,
    pub log: Arc<LogBook>,
    pub timings: Timings,
    pub max_frame_len: usize,
    pub gens: Arc<Mutex<Generations>>,
    pub replication_port: u16,
    pub tls: Option<TlsContexts>,
    /// Reverse name service: the host name each known address has.
    pub ptr: BTreeMap<IpAddr, String>,
    /// Seeds the node's own draws (the domain lock's wait).
    pub seed: u64,
}

#[derive(Debug)]
pub(crate) struct Node {
    pub core: NodeCore,
    pub cfg: ServerConfig,
    pub log: Arc<LogBook>,
    pub timings: Timings,
    pub max_frame_len: usize,
    gens: Arc<Mutex<Generations>>,
    /// RS state per domain (empty when the server runs no RS).
    pub domains: BTreeMap<String, Mutex<DomainLinks>>,
    /// This server's RS URL, `host:port`.
    pub url: String,
    /// Its TLS contexts when it runs TLS.
    pub tls: Option<TlsContexts>,
    /// The DS's sessions: domain → id of the RS it is connected to.
    ds_sessions: Mutex<BTreeMap<String, String>>,
    /// The replication server domain locks (`ReplicationServerDomain.lock`):
    /// held by a handshake from its start to its end.
    locks: BTreeMap<String, Arc<tokio::sync::Mutex<()>>>,
    /// Cancelled when the listener thread has ended (2.x and 3.0, after an
    /// unexpected first message): the port stays bound, nothing is accepted.
    pub listener_gone: CancellationToken,
    ptr: BTreeMap<IpAddr, String>,
    rng: Mutex<StdRng>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Node {
    pub fn new(core: NodeCore, p: NodeParts) -> Self {
        let domains = if p.cfg.rs {
            p.cfg.domains.iter().map(|d| (d.base_dn.clone(), Mutex::new(DomainLinks::default()))).collect()
        } else {
            BTreeMap::new()
        };
        let url = format!("{}:{}", p.cfg.host, p.replication_port);
        let locks = if p.cfg.rs {
            p.cfg.domains.iter().map(|d| (d.base_dn.clone(), Arc::new(tokio::sync::Mutex::new(())))).collect()
        } else {
            BTreeMap::new()
        };
        Self {
            core,
            cfg: p.cfg,
            log: p.log,
            timings: p.timings,
            max_frame_len: p.max_frame_len,
            gens: p.gens,
            domains,
            url,
            tls: p.tls,
            ds_sessions: Mutex::new(BTreeMap::new()),
            locks,
            listener_gone: CancellationToken::new(),
            ptr: p.ptr,
            rng: Mutex::new(StdRng::seed_from_u64(p.seed ^ 0x0d5_10c4)),
        }
    }

    /// How this server's version writes and behaves.
    pub fn dialect(&self) -> Dialect {
        self.log.dialect()
    }

    /// The Java its version runs on.
    pub fn jdk(&self) -> Jdk {
        self.cfg.version.java()
    }

    /// An accepted socket's remote address as the product prints it: the
    /// JDK caches the reverse lookup that `ReplSessionSecurity` does
    /// (`getInetAddress().getHostName()`), so `host/1.2.3.4:40123`, or
    /// `1.2.3.4/1.2.3.4:40123` for an address without a name.
    pub fn accepted_address(&self, peer: SocketAddr) -> String {
        let name = self.ptr.get(&peer.ip()).cloned().unwrap_or_else(|| peer.ip().to_string());
        format!("{name}/{peer}")
    }

    /// A number in `0..n`, from the node's seeded RNG.
    pub fn draw(&self, n: u64) -> u64 {
        lock(&self.rng).random_range(0..n.max(1))
    }

    /// The domain lock for `base_dn`, if the RS replicates it.
    pub fn domain_lock(&self, base_dn: &str) -> Option<Arc<tokio::sync::Mutex<()>>> {
        self.locks.get(base_dn).cloned()
    }

    pub fn id(&self) -> &str {
        &self.cfg.server_id
    }

    /// Real time standing for a product interval.
    pub fn real(&self, product: Duration) -> Duration {
        self.core.real(product)
    }

    pub fn handshake_timeout(&self) -> Duration {
        self.real(self.timings.handshake_timeout)
    }

    /// The connect loop's next wait: the period plus up to 10 % jitter.
    pub fn connect_retry_jittered(&self) -> Duration {
        self.core.jittered(self.timings.connect_retry)
    }

    pub fn domain(&self, base_dn: &str) -> Option<MutexGuard<'_, DomainLinks>> {
        self.domains.get(base_dn).map(lock)
    }

    pub fn rs_generation(&self, base_dn: &str) -> i64 {
        self.gens_lock().rs.get(base_dn).copied().unwrap_or(-1)
    }

    pub fn ds_generation(&self, base_dn: &str) -> i64 {
        self.gens_lock().ds.get(base_dn).copied().unwrap_or(-1)
    }

    pub fn gens_lock(&self) -> MutexGuard<'_, Generations> {
        lock(&self.gens)
    }

    /// A CSN as the product writes it: 16 hex digits of ms, 4 of replica, 8 of sequence.
    pub fn csn(&self, seq: u32) -> String {
        let ms = u64::try_from(self.core.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let replica = self.cfg.server_id.parse::<u16>().unwrap_or_else(|_| {
            self.cfg.server_id.bytes().fold(0u16, |h, b| h.wrapping_mul(31).wrapping_add(u16::from(b)))
        });
        format!("{ms:016x}{replica:04x}{seq:08x}")
    }

    // ------------------------------------------------------------ RS↔RS slots

    /// Takes the slot for `url` and returns its token, unless a link is up
    /// there, or an attempt is under way and `keep_connecting` says it stays.
    pub fn claim_peer(&self, base_dn: &str, url: &str, keep_connecting: bool) -> Option<u64> {
        let mut links = self.domain(base_dn)?;
        let keep_ours = match links.peers.get(url).map(|s| &s.state) {
            Some(SlotState::Connected(_)) => true,
            Some(SlotState::Connecting) => keep_connecting,
            None => false,
        };
        if keep_ours {
            return None;
        }
        let token = links.token();
        links.peers.insert(url.to_owned(), PeerSlot { token, state: SlotState::Connecting });
        Some(token)
    }

    /// Marks a slot connected if it is still ours.
    pub fn promote(&self, base_dn: &str, url: &str, token: u64, info: LinkInfo) -> bool {
        let ok = match self.domain(base_dn) {
            Some(mut links) => match links.peers.get_mut(url) {
                Some(slot) if slot.token == token => {
                    slot.state = SlotState::Connected(info);
                    true
                }
                _ => false,
            },
            None => false,
        };
        self.core.notify();
        ok
    }

    /// Frees a slot if it is still ours.
    pub fn release(&self, base_dn: &str, url: &str, token: u64) {
        if let Some(mut links) = self.domain(base_dn) {
            if links.peers.get(url).is_some_and(|s| s.token == token) {
                links.peers.remove(url);
            }
        }
        self.core.notify();
    }

    /// Sends a message to every peer RS linked for the domain (a full queue drops it:
    /// these are periodic heartbeats or changes the peer also gets from its own DS).
    ///
    /// A change is not sent to a peer whose generation id differs from this
    /// RS's (set) one: `ReplicationServerDomain.put` skips it with a trace
    /// only, so no 81 is logged for it.
    pub fn forward_to_peers(&self, base_dn: &str, msg: &ReplMsg) {
        let ours = self.rs_generation(base_dn);
        if let Some(links) = self.domain(base_dn) {
            for slot in links.peers.values() {
                if let SlotState::Connected(info) = &slot.state {
                    if matches!(msg, ReplMsg::Update(_)) && ours > 0 && info.generation_id != ours {
                        tracing::trace!(peer = %info.peer_id, "change not sent: generation id {} is not {ours}", info.generation_id);
                        continue;
                    }
                    let _ = info.tx.try_send(msg.clone());
                }
            }
        }
    }

    // ------------------------------------------------------------ DS sessions

    /// Registers a connected DS; returns its token.
    pub fn add_ds(&self, base_dn: &str, info: LinkInfo) -> Option<u64> {
        let token = {
            let mut links = self.domain(base_dn)?;
            let token = links.token();
            links.dss.insert(info.peer_id.clone(), (token, info));
            token
        };
        self.core.notify();
        Some(token)
    }

    /// Unregisters a DS if the registration is still ours.
    pub fn remove_ds(&self, base_dn: &str, ds_id: &str, token: u64) {
        if let Some(mut links) = self.domain(base_dn) {
            if links.dss.get(ds_id).is_some_and(|(t, _)| *t == token) {
                links.dss.remove(ds_id);
            }
        }
        self.core.notify();
    }

    /// How many DSs are connected for the domain.
    pub fn ds_count(&self, base_dn: &str) -> usize {
        self.domain(base_dn).map_or(0, |l| l.dss.len())
    }

    /// Sends a change to every directory server connected for the domain,
    /// but one in "Bad generation id" status (skipped with a trace only, as
    /// `ReplicationServerDomain.put` does: 136 is for a status that changed
    /// while the change was queued).
    pub fn forward_to_dss(&self, base_dn: &str, update: &Update) {
        if let Some(links) = self.domain(base_dn) {
            for (_, info) in links.dss.values() {
                if info.bad_generation {
                    tracing::trace!(ds = %info.peer_id, "change not sent: the DS is in bad generation id status");
                    continue;
                }
                let _ = info.tx.try_send(ReplMsg::Update(update.clone()));
            }
        }
    }

    // ------------------------------------------------------------ views

    /// Established RS↔RS links, both directions.
    pub fn rs_links(&self) -> Vec<LinkView> {
        let mut out = Vec::new();
        for (base_dn, m) in &self.domains {
            for (url, slot) in &lock(m).peers {
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
    pub fn ds_links(&self) -> Vec<LinkView> {
        let mut out = Vec::new();
        for (base_dn, m) in &self.domains {
            for (id, (_, info)) in &lock(m).dss {
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

    /// Records the DS's session for a domain (`None`: not connected).
    pub fn ds_session(&self, base_dn: &str, rs_id: Option<&str>) {
        {
            let mut s = lock(&self.ds_sessions);
            match rs_id {
                Some(id) => s.insert(base_dn.to_owned(), id.to_owned()),
                None => s.remove(base_dn),
            };
        }
        self.core.notify();
    }

    /// The DS's sessions: domain → RS id.
    pub fn ds_sessions(&self) -> BTreeMap<String, String> {
        lock(&self.ds_sessions).clone()
    }
}
