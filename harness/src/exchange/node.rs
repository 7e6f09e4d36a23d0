//! What a running bridgehead's tasks share: the family-neutral
//! [`NodeCore`], its event log, directory and counters, its inbox, and one
//! outbound queue per partner bridgehead. Also what every bridgehead of an
//! organization shares ([`OrgShared`]): the organization's name, the
//! environment, timings, and where each site's bridgehead listens.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use time::UtcOffset;
use tokio::sync::mpsc;

use super::config::{Capacity, Timings};
use super::counts::{Counted, Counters};
use super::directory::Directory;
use super::events::EventLog;
use super::wire::Message;
use crate::node::NodeCore;
use crate::topology::Env;

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a site's bridgehead accepts messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub site: String,
    pub bridgehead: String,
    pub host: String,
    pub port: u16,
}

/// Shared by every bridgehead of an organization.
#[derive(Debug)]
pub(crate) struct OrgShared {
    pub org: String,
    pub env: Env,
    pub timings: Timings,
    pub max_frame_len: usize,
    pub inbox_limit: usize,
    pub activations_until: Option<Duration>,
    /// Site → its bridgehead, filled in once every port is bound.
    pub peers: RwLock<BTreeMap<String, Peer>>,
}

impl OrgShared {
    pub fn peer_of_site(&self, site: &str) -> Option<Peer> {
        self.peers.read().unwrap_or_else(|e| e.into_inner()).get(site).cloned()
    }

    pub fn peer_named(&self, bridgehead: &str) -> Option<Peer> {
        self.peers.read().unwrap_or_else(|e| e.into_inner()).values().find(|p| p.bridgehead == bridgehead).cloned()
    }

    /// Virtual time since the organization started.
    pub fn elapsed(&self) -> Duration {
        let clock = &self.env.clock;
        let d = clock.now() - clock.start();
        Duration::try_from(d).unwrap_or_default()
    }
}

/// One directed link's state: connected or not, messages written.
#[derive(Debug, Default)]
pub struct LinkState {
    up: AtomicBool,
    sent: AtomicU64,
}

impl LinkState {
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    pub(super) fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    pub(super) fn count_sent(&self, n: u64) {
        self.sent.fetch_add(n, Ordering::SeqCst);
    }
}

/// Messages an outbound queue holds while its link is down.
pub(super) const OUTBOUND_QUEUE: usize = 65_536;

/// One running instance of a bridgehead.
#[derive(Debug)]
pub(super) struct ExNode {
    pub core: NodeCore,
    pub org: Arc<OrgShared>,
    pub log: Arc<EventLog>,
    pub dir: Arc<Mutex<Directory>>,
    pub counters: Arc<Counters>,
    pub capacity: Capacity,
    /// Its own loopback address (connections are dialled from it).
    pub address: IpAddr,
    /// The connector's inbound sites, as at the start.
    pub inbound: Vec<String>,
    /// Its zone: schedules are local time.
    pub utc_offset: UtcOffset,
    /// Partner bridgehead → the queue of messages waiting for its link.
    pub outbound: BTreeMap<String, mpsc::Sender<Message>>,
    pub inbox: mpsc::Sender<Message>,
}

impl ExNode {
    pub fn me(&self) -> &str {
        &self.core.name
    }

    pub fn real(&self, product: Duration) -> Duration {
        self.core.real(product)
    }

    /// Hands `msg` to the messaging system for `to` (queued on its link).
    pub fn submit(&self, to: &str, msg: Message) {
        let request = matches!(msg, Message::Request(_));
        self.counters.count(Counted::Submitted { request });
        let Some(out) = self.outbound.get(to) else {
            tracing::warn!(to, "no link to this bridgehead: message not sent");
            self.counters.count(Counted::Discarded);
            return;
        };
        if let Err(e) = out.try_send(msg) {
            tracing::warn!(to, "outbound queue full or closed ({e}): message not sent");
            self.counters.count(Counted::Discarded);
        }
    }
}
