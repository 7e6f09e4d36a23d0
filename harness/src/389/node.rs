//! What one 389 server's tasks share: the family-neutral [`NodeCore`], the
//! server's identity, its errors log, and its data (replica, agreements,
//! knobs) behind one lock that is never held across an await. The leaf of
//! the family: it imports no task module.
//!
//! [`Data`] is what outlives a running instance (on disk in the real
//! server: the database, the changelog, the agreements' stored
//! attributes); a restart keeps it and resets only the computed status.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::config::{AgreementConfig, ConsumerKnobs, SupplierFault};
use super::csn::{Csn, Ruv};
use super::errlog::ErrorsLog;
use super::replica::Replica;
use super::status::AgmtStatus;
use super::version::Version389;
use crate::node::NodeCore;

/// What wakes an agreement's protocol.
#[derive(Debug, Default)]
pub(crate) struct Events {
    flags: Mutex<Flags>,
    notify: Notify,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flags {
    /// `EVENT_TRIGGERING_CRITERIA_MET`: a change to send.
    pub changes: bool,
    /// `EVENT_AGMT_CHANGED`: the agreement entry was modified.
    pub agmt_changed: bool,
    /// `EVENT_REPLICATE_NOW` (`dsconf repl-agmt poke`).
    pub replicate_now: bool,
}

impl Events {
    pub fn raise(&self, f: impl FnOnce(&mut Flags)) {
        f(&mut self.flags.lock().unwrap_or_else(|e| e.into_inner()));
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Takes the flags set so far.
    pub fn take(&self) -> Flags {
        std::mem::take(&mut *self.flags.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn peek(&self) -> Flags {
        *self.flags.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until a flag is set, `until` passes or `cancel` fires.
    pub async fn wait(&self, until: Option<tokio::time::Instant>, cancel: &CancellationToken) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.peek() != Flags::default() {
            return;
        }
        match until {
            Some(t) => {
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep_until(t) => {}
                    _ = cancel.cancelled() => {}
                }
            }
            None => {
                tokio::select! {
                    _ = notified => {}
                    _ = cancel.cancelled() => {}
                }
            }
        }
    }
}

/// One agreement's state.
#[derive(Debug)]
pub(crate) struct AgmtData {
    pub cfg: AgreementConfig,
    /// `agmt="cn=NAME" (HOST:PORT)`, built when the agreement is loaded
    /// (host cut at its first dot, the port of that moment).
    pub long_name: String,
    /// Where it connects (`nsDS5ReplicaHost`, `nsDS5ReplicaPort`).
    pub host: String,
    pub port: u16,
    pub status: AgmtStatus,
    /// The consumer's RUV as the last acquire returned it (`nsds50ruv` of the agreement).
    pub consumer_ruv: Option<Ruv>,
    /// The consumer's replica id once known (after the first session).
    pub consumer_rid: Option<u16>,
    /// The consumer's replica id, learnt at the first session.
    pub consumer_rid_hint: Option<u16>,
    /// `nsds5AgmtMaxCSN`'s CSN: the newest local change for this agreement.
    pub maxcsn: Option<Csn>,
    pub events: Arc<Events>,
    /// Cancelled to stop the running protocol (disable, total update, stop).
    pub stop: CancellationToken,
    /// A total update was asked for (`dsconf repl-agmt init`).
    pub init_requested: bool,
    /// The protocol task runs.
    pub running: bool,
    /// The supplier holds the consumer's replica: from a successful acquire
    /// to the end of `release_replica`.
    pub holding: bool,
}

/// `agmt="cn=NAME" (HOST:PORT)` with the host cut at its first dot (`repl5_agmt.c:474`).
pub fn long_name(name: &str, host: &str, port: u16) -> String {
    let short: String = host.chars().take(127).collect();
    let short = short.split('.').next().unwrap_or_default();
    format!("agmt=\"cn={name}\" ({short}:{port})")
}

/// A server's data (the real server's disk).
#[derive(Debug, Default)]
pub(crate) struct Data {
    pub replica: Option<Replica>,
    pub agmts: Vec<AgmtData>,
    pub knobs: ConsumerKnobs,
    pub fault: Option<SupplierFault>,
    /// Bind DN → password.
    pub accounts: BTreeMap<String, String>,
    /// `nsds5ReplicaReleaseTimeout` of the supplier's replica (zero: never yield).
    pub release_timeout: Duration,
    /// `nsds5ReplicaFlowControlWindow`: updates sent ahead of their results.
    pub flow_window: usize,
    /// `nsds5ReplicaFlowControlPause`.
    pub flow_pause: Duration,
    /// The server has started before (first start: the keep-alive entry is created).
    pub started_once: bool,
}

impl Data {
    pub fn agmt(&self, name: &str) -> Option<&AgmtData> {
        self.agmts.iter().find(|a| a.cfg.name == name)
    }

    pub fn agmt_mut(&mut self, name: &str) -> Option<&mut AgmtData> {
        self.agmts.iter_mut().find(|a| a.cfg.name == name)
    }
}

/// A running 389 server, shared by its tasks.
#[derive(Debug)]
pub(crate) struct Node389 {
    pub core: NodeCore,
    pub name: String,
    pub bind_ip: IpAddr,
    pub version: Version389,
    /// Its clock's error (CSNs carry it).
    pub clock_offset: time::Duration,
    /// NSS is initialized (TLS configured).
    pub tls: bool,
    pub log: Arc<ErrorsLog>,
    pub data: Arc<Mutex<Data>>,
    pub max_frame_len: usize,
    conn_ids: AtomicU64,
}

/// The fields a node starts with besides its core.
#[derive(Debug)]
pub(crate) struct NodeParts {
    pub name: String,
    pub bind_ip: IpAddr,
    pub version: Version389,
    pub clock_offset: time::Duration,
    pub tls: bool,
    pub log: Arc<ErrorsLog>,
    pub data: Arc<Mutex<Data>>,
    pub max_frame_len: usize,
}

impl Node389 {
    pub fn new(core: NodeCore, p: NodeParts) -> Self {
        Self {
            core,
            name: p.name,
            bind_ip: p.bind_ip,
            version: p.version,
            clock_offset: p.clock_offset,
            tls: p.tls,
            log: p.log,
            data: p.data,
            max_frame_len: p.max_frame_len,
            conn_ids: AtomicU64::new(1),
        }
    }

    pub fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Virtual time now.
    pub fn now(&self) -> OffsetDateTime {
        self.core.clock.now()
    }

    /// This server's own clock in seconds since 1970 (virtual time plus its error).
    pub fn local_secs(&self) -> i64 {
        (self.now() + self.clock_offset).unix_timestamp()
    }

    /// Virtual time since the clock's start (for backoff timers).
    pub fn elapsed(&self) -> Duration {
        let d = self.now() - self.core.clock.start();
        d.try_into().unwrap_or_default()
    }

    /// The real instant at which virtual offset `at` comes.
    pub fn instant_at(&self, at: Duration) -> tokio::time::Instant {
        self.core.clock.instant_at(at).into()
    }

    pub fn real(&self, product: Duration) -> Duration {
        self.core.real(product)
    }

    /// The next connection number (`conn=N` of the consumer's lines).
    pub fn next_conn_id(&self) -> u64 {
        self.conn_ids.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_cuts_the_host_at_its_first_dot() {
        assert_eq!(long_name("a-to-b", "127.0.0.1", 3892), "agmt=\"cn=a-to-b\" (127:3892)");
        assert_eq!(long_name("a-to-b", "b.example.com", 389), "agmt=\"cn=a-to-b\" (b:389)");
        assert_eq!(long_name("x", "localhost", 1), "agmt=\"cn=x\" (localhost:1)");
    }

    #[tokio::test]
    async fn a_raised_flag_wakes_a_waiter() {
        let ev = Arc::new(Events::default());
        let cancel = CancellationToken::new();
        let e2 = ev.clone();
        let waiter = tokio::spawn(async move {
            e2.wait(None, &CancellationToken::new()).await;
            e2.take()
        });
        tokio::task::yield_now().await;
        ev.raise(|f| f.changes = true);
        let got = tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("woken").expect("task");
        assert!(got.changes);
        // Already set: returns at once.
        ev.raise(|f| f.replicate_now = true);
        tokio::time::timeout(Duration::from_secs(5), ev.wait(None, &cancel)).await.expect("at once");
    }
}
