//! One proxy's state: its settings, its toxics and their published
//! snapshot, its connections and counters, and starting and stopping its
//! listener ([`crate::listener`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::conn::ConnEnv;
use crate::error::ProxyError;
use crate::fault_set::{Entry, FaultSet, DEFAULT_BUFFER};
use crate::fds::Admission;
use crate::listener::{self, Listener};
use crate::pump::Pools;
use crate::stats::{lock, ByteCounters, ConnTable, ConnView, Counters, TaskCount};
use crate::toxic::Toxic;

/// How long `settled` waits for the listener to apply a change.
const SETTLE_WAIT: Duration = Duration::from_secs(2);
/// How long `stop` waits for the proxy's tasks.
const STOP_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub(crate) struct Settings {
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
}

/// What every proxy of a server shares.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub seed: u64,
    pub dial_timeout: Duration,
    pub allow_remote: bool,
    pub pools: Arc<Pools>,
    pub admission: Arc<Admission>,
}

#[derive(Debug)]
pub(crate) struct ProxyInner {
    pub name: String,
    pub settings: Mutex<Settings>,
    toxics: Mutex<Vec<Arc<Entry>>>,
    next_version: AtomicU64,
    /// `buffer_bytes`: the held-bytes budget of one direction.
    buffer: AtomicUsize,
    faults: watch::Sender<Arc<FaultSet>>,
    generation: AtomicU64,
    /// The last fault generation the listener has put in force.
    applied: Arc<watch::Sender<u64>>,
    conns: Arc<ConnTable>,
    pub bytes: Arc<ByteCounters>,
    tasks: Arc<TaskCount>,
    /// Cancels the running listener and its connections.
    run: Mutex<Option<CancellationToken>>,
    tracker: TaskTracker,
    seed: u64,
    dial_timeout: Duration,
    allow_remote: bool,
    pools: Arc<Pools>,
    admission: Arc<Admission>,
}

impl ProxyInner {
    pub fn new(name: &str, listen: &str, upstream: &str, shared: &Shared) -> Arc<Self> {
        Arc::new(ProxyInner {
            name: name.to_owned(),
            settings: Mutex::new(Settings { listen: listen.to_owned(), upstream: upstream.to_owned(), enabled: false }),
            toxics: Mutex::new(Vec::new()),
            next_version: AtomicU64::new(1),
            buffer: AtomicUsize::new(DEFAULT_BUFFER),
            faults: watch::channel(Arc::new(FaultSet {
                buffer: DEFAULT_BUFFER,
                generation: 0,
                enabled: true,
                seed: shared.seed,
                entries: Vec::new(),
            }))
            .0,
            generation: AtomicU64::new(0),
            applied: Arc::new(watch::channel(0).0),
            conns: Arc::default(),
            bytes: Arc::default(),
            tasks: Arc::default(),
            run: Mutex::new(None),
            tracker: TaskTracker::new(),
            seed: shared.seed,
            dial_timeout: shared.dial_timeout,
            allow_remote: shared.allow_remote,
            pools: shared.pools.clone(),
            admission: shared.admission.clone(),
        })
    }

    pub fn upstream(&self) -> String {
        lock(&self.settings).upstream.clone()
    }

    pub fn listen(&self) -> String {
        lock(&self.settings).listen.clone()
    }

    pub fn enabled(&self) -> bool {
        lock(&self.settings).enabled
    }

    pub fn connections(&self) -> Vec<ConnView> {
        self.conns.views()
    }

    pub fn counters(&self) -> Counters {
        Counters {
            live_connections: self.conns.len(),
            tasks: self.tasks.get(),
            refused_connections: self.conns.refused(),
        }
    }

    /// Publishes the current toxics to pumps and listener.
    fn publish(&self) {
        let entries = lock(&self.toxics).clone();
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let buffer = self.buffer.load(Ordering::SeqCst);
        self.faults.send_replace(Arc::new(FaultSet { generation, enabled: true, seed: self.seed, entries, buffer }));
    }

    pub fn buffer(&self) -> usize {
        self.buffer.load(Ordering::SeqCst)
    }

    /// Sets `buffer_bytes`; live connections follow at their next chunk.
    pub fn set_buffer(&self, bytes: usize) {
        if self.buffer.swap(bytes, Ordering::SeqCst) != bytes {
            self.publish();
        }
    }

    /// Waits (at most [`SETTLE_WAIT`]) until the listener has put the latest
    /// faults in force: after a reject returns, connect is refused; after a
    /// drop, SYNs go unanswered.
    pub async fn settled(&self) {
        if lock(&self.run).is_none() {
            return;
        }
        let target = self.generation.load(Ordering::SeqCst);
        let mut rx = self.applied.subscribe();
        if tokio::time::timeout(SETTLE_WAIT, rx.wait_for(|g| *g >= target)).await.is_err() {
            tracing::warn!(proxy = %self.name, "the listener has not applied fault generation {target} after {SETTLE_WAIT:?}");
        }
    }

    pub fn toxic_list(&self) -> Vec<Toxic> {
        lock(&self.toxics).iter().map(|e| e.toxic.clone()).collect()
    }

    /// Installs a toxic, once [`Toxic::validate`] passes.
    pub fn add_toxic(&self, toxic: Toxic) -> Result<Toxic, ProxyError> {
        {
            let mut toxics = lock(&self.toxics);
            if toxics.iter().any(|e| e.toxic.name == toxic.name) {
                return Err(ProxyError::ToxicExists);
            }
            let v = self.next_version.fetch_add(1, Ordering::SeqCst);
            toxics.push(Arc::new(Entry::new(toxic.clone(), v)?));
        }
        self.publish();
        Ok(toxic)
    }

    pub fn replace_toxic(&self, toxic: Toxic) -> Result<Toxic, ProxyError> {
        {
            let mut toxics = lock(&self.toxics);
            let slot = toxics.iter_mut().find(|e| e.toxic.name == toxic.name).ok_or(ProxyError::ToxicNotFound)?;
            let v = self.next_version.fetch_add(1, Ordering::SeqCst);
            *slot = Arc::new(Entry::new(toxic.clone(), v)?);
        }
        self.publish();
        Ok(toxic)
    }

    pub fn get_toxic(&self, name: &str) -> Result<Toxic, ProxyError> {
        lock(&self.toxics)
            .iter()
            .find(|e| e.toxic.name == name)
            .map(|e| e.toxic.clone())
            .ok_or(ProxyError::ToxicNotFound)
    }

    pub fn remove_toxic(&self, name: &str) -> Result<(), ProxyError> {
        {
            let mut toxics = lock(&self.toxics);
            let before = toxics.len();
            toxics.retain(|e| e.toxic.name != name);
            if toxics.len() == before {
                return Err(ProxyError::ToxicNotFound);
            }
        }
        self.publish();
        Ok(())
    }

    pub fn clear_toxics(&self) {
        lock(&self.toxics).clear();
        self.publish();
    }

    /// Binds the listen address and starts serving. The real address is kept
    /// as `listen` (port 0 becomes the port bound).
    pub async fn start(self: &Arc<Self>) -> Result<SocketAddr, ProxyError> {
        let listen = self.listen();
        let addr = listener::resolve(&listen).await?;
        if !addr.ip().is_loopback() && !self.allow_remote {
            return Err(ProxyError::NotLoopback { addr });
        }
        let socket = listener::bind(addr).map_err(|source| ProxyError::Listen { addr: listen.clone(), source })?;
        let bound = socket.local_addr().map_err(|source| ProxyError::Listen { addr: listen.clone(), source })?;
        let upstream = {
            let mut s = lock(&self.settings);
            s.listen = bound.to_string();
            s.enabled = true;
            s.upstream.clone()
        };
        let cancel = CancellationToken::new();
        *lock(&self.run) = Some(cancel.clone());
        let listener = Listener {
            env: ConnEnv {
                upstream,
                seed: self.seed,
                dial_timeout: self.dial_timeout,
                faults: self.faults.subscribe(),
                bytes: self.bytes.clone(),
                table: self.conns.clone(),
                pools: self.pools.clone(),
                admission: self.admission.clone(),
            },
            applied: self.applied.clone(),
            tracker: self.tracker.clone(),
            tasks: self.tasks.clone(),
        };
        let guard = self.tasks.guard();
        let span = tracing::info_span!("proxy", name = %self.name);
        self.tracker.spawn(listener.run(socket, bound, cancel, guard).instrument(span));
        Ok(bound)
    }

    /// Stops listening and closes every connection; waits for the tasks.
    pub async fn stop(&self) {
        let run = lock(&self.run).take();
        lock(&self.settings).enabled = false;
        if let Some(cancel) = run {
            cancel.cancel();
        }
        self.tracker.close();
        if tokio::time::timeout(STOP_WAIT, self.tracker.wait()).await.is_err() {
            tracing::warn!(proxy = %self.name, "tasks still running {STOP_WAIT:?} after stop");
        }
        self.tracker.reopen();
    }
}
