//! What is counted and listed of a proxy's connections: byte counters, the
//! connection listing, running tasks, and the context a pump writes its
//! counts to. A leaf: it knows no other module of the proxy.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::toxic::Direction;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes counted per direction (upstream, downstream), as Toxiproxy's metrics count them.
#[derive(Debug, Default)]
pub struct ByteCounters {
    pub received: [AtomicU64; 2],
    pub sent: [AtomicU64; 2],
}

impl ByteCounters {
    pub fn received(&self, dir: Direction) -> u64 {
        self.received[dir as usize].load(Ordering::Relaxed)
    }

    pub fn sent(&self, dir: Direction) -> u64 {
        self.sent[dir as usize].load(Ordering::Relaxed)
    }
}

/// Live connections and running tasks of a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub live_connections: usize,
    pub tasks: usize,
    /// Clients closed at once because descriptors ran out (since start).
    pub refused_connections: u64,
}

/// What the connection listing shows of one connection.
#[derive(Debug)]
pub struct ConnStats {
    pub id: u64,
    pub client: SocketAddr,
    pub upstream: Option<SocketAddr>,
    pub started: std::time::Instant,
    /// Bytes written on, per direction (upstream, downstream).
    pub bytes: [AtomicU64; 2],
    /// Bytes held now while faults delay them, per direction.
    pub held: [AtomicU64; 2],
    pub faults_hit: Mutex<BTreeSet<String>>,
}

/// One row of `GET /proxies/{p}/connections`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConnView {
    pub id: u64,
    pub client: String,
    pub upstream: Option<String>,
    pub age_ms: u64,
    pub bytes_upstream: u64,
    pub bytes_downstream: u64,
    /// Bytes held now while faults delay them (at most the proxy's `buffer_bytes` each).
    pub held_upstream: u64,
    pub held_downstream: u64,
    pub faults_hit: Vec<String>,
}

impl ConnStats {
    pub fn new(id: u64, client: SocketAddr, upstream: Option<SocketAddr>) -> Self {
        ConnStats {
            id,
            client,
            upstream,
            started: std::time::Instant::now(),
            bytes: [AtomicU64::new(0), AtomicU64::new(0)],
            held: [AtomicU64::new(0), AtomicU64::new(0)],
            faults_hit: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn view(&self) -> ConnView {
        ConnView {
            id: self.id,
            client: self.client.to_string(),
            upstream: self.upstream.map(|a| a.to_string()),
            age_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            bytes_upstream: self.bytes[0].load(Ordering::Relaxed),
            bytes_downstream: self.bytes[1].load(Ordering::Relaxed),
            held_upstream: self.held[0].load(Ordering::Relaxed),
            held_downstream: self.held[1].load(Ordering::Relaxed),
            faults_hit: lock(&self.faults_hit).iter().cloned().collect(),
        }
    }
}

/// A proxy's live connections, by id, and the next id to give.
#[derive(Debug, Default)]
pub(crate) struct ConnTable {
    conns: Mutex<BTreeMap<u64, Arc<ConnStats>>>,
    next: AtomicU64,
    /// Clients refused for want of descriptors.
    refused: AtomicU64,
    /// Descriptors are out now (logged once until they are free again).
    exhausted: AtomicBool,
}

impl ConnTable {
    /// A fresh connection id (1, 2, …).
    pub fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Lists a connection until the returned guard is dropped.
    pub fn list(self: &Arc<Self>, stats: Arc<ConnStats>) -> Listed {
        let id = stats.id;
        lock(&self.conns).insert(id, stats);
        Listed { table: self.clone(), id }
    }

    pub fn views(&self) -> Vec<ConnView> {
        lock(&self.conns).values().map(|c| c.view()).collect()
    }

    pub fn len(&self) -> usize {
        lock(&self.conns).len()
    }

    /// A client closed at once because descriptors ran out (`why`); the
    /// first of an episode is logged.
    pub fn refuse(&self, client: SocketAddr, why: &str) {
        let n = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.exhausted.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "out of descriptors ({why}): refusing new clients (closed at once, {client} first; \
                 counted in fault_proxy_refused_connections_total, {n} so far); established connections go on"
            );
        }
    }

    /// A client was accepted: if descriptors had run out, say they are free again.
    pub fn recovered(&self) {
        if self.exhausted.load(Ordering::Relaxed) && self.exhausted.swap(false, Ordering::Relaxed) {
            tracing::info!(
                "descriptors free again: accepting new clients ({} refused so far)",
                self.refused.load(Ordering::Relaxed)
            );
        }
    }

    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// Removes a connection from the listing when its task ends.
#[derive(Debug)]
pub(crate) struct Listed {
    table: Arc<ConnTable>,
    id: u64,
}

impl Drop for Listed {
    fn drop(&mut self) {
        lock(&self.table.conns).remove(&self.id);
    }
}

/// The number of a proxy's running tasks.
#[derive(Debug, Default)]
pub(crate) struct TaskCount(AtomicUsize);

impl TaskCount {
    /// Counts one task while the guard lives.
    pub fn guard(self: &Arc<Self>) -> TaskGuard {
        self.0.fetch_add(1, Ordering::SeqCst);
        TaskGuard(self.clone())
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug)]
pub(crate) struct TaskGuard(Arc<TaskCount>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a pump writes its counts to: its connection's row and its proxy's totals.
#[derive(Debug)]
pub(crate) struct ConnCtx {
    pub stats: Arc<ConnStats>,
    pub seed: u64,
    pub proxy_bytes: Arc<ByteCounters>,
}

impl ConnCtx {
    pub fn note_faults(&self, names: &[String]) {
        if names.is_empty() {
            return;
        }
        let mut hit = lock(&self.stats.faults_hit);
        for n in names {
            if !hit.contains(n) {
                hit.insert(n.clone());
            }
        }
    }

    /// Bytes read and written at once (the zero-copy path).
    pub fn count(&self, dir: Direction, received: usize, sent: usize) {
        self.received(dir, received);
        self.sent(dir, sent);
    }

    /// The bytes a direction holds now.
    pub fn held(&self, dir: Direction, n: usize) {
        self.stats.held[dir as usize].store(n as u64, Ordering::Relaxed);
    }

    pub fn received(&self, dir: Direction, n: usize) {
        self.proxy_bytes.received[dir as usize].fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn sent(&self, dir: Direction, n: usize) {
        self.stats.bytes[dir as usize].fetch_add(n as u64, Ordering::Relaxed);
        self.proxy_bytes.sent[dir as usize].fetch_add(n as u64, Ordering::Relaxed);
    }
}
