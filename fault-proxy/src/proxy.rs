//! One proxy: its listener, its faults, its connections and counters.
//!
//! The listener follows the faults in force:
//! - accepting: every accepted client is served in its own task (the upstream
//!   dial never blocks the accept loop);
//! - `reject`: the listening socket is closed, so connect gets "connection
//!   refused"; it is bound again, same address, when the reject ends;
//! - `drop`: the socket stays open but nothing is accepted, and the proxy
//!   fills the listen backlog with connections of its own, so the kernel drops
//!   further SYNs unanswered and a client's `connect()` itself times out.
//!   When the drop ends the fillers go, and clients still in SYN back-off get
//!   through on their next retransmission (1, 3, 7 s … after their first SYN).

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::conn::{self, ConnStats, ConnView};
use crate::error::ProxyError;
use crate::faults::{until_change, Entry, FaultSet, ListenMode};
use crate::toxic::Toxic;

/// The listen backlog of proxy sockets (what a drop fills).
pub const BACKLOG: u32 = 64;
/// At most this many filler connections (a kernel with a larger backlog
/// than asked for is filled this far).
const MAX_FILLERS: usize = 1024;

/// Bytes counted per direction (upstream, downstream), as Toxiproxy's metrics count them.
#[derive(Debug, Default)]
pub struct ByteCounters {
    pub received: [AtomicU64; 2],
    pub sent: [AtomicU64; 2],
}

/// Live connections and running tasks of a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub live_connections: usize,
    pub tasks: usize,
}

#[derive(Debug)]
pub(crate) struct Settings {
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
}

#[derive(Debug)]
struct Run {
    cancel: CancellationToken,
}

#[derive(Debug)]
pub(crate) struct ProxyInner {
    pub name: String,
    pub settings: Mutex<Settings>,
    pub toxics: Mutex<Vec<Arc<Entry>>>,
    next_version: AtomicU64,
    pub faults: watch::Sender<Arc<FaultSet>>,
    generation: AtomicU64,
    /// The last fault generation the listener has put in force.
    applied: watch::Sender<u64>,
    conns: Mutex<BTreeMap<u64, Arc<ConnStats>>>,
    next_conn: AtomicU64,
    pub bytes: Arc<ByteCounters>,
    tasks: Arc<AtomicUsize>,
    run: Mutex<Option<Run>>,
    tracker: TaskTracker,
    pub seed: u64,
    pub dial_timeout: Duration,
    pub allow_remote: bool,
}

/// Removes a connection from the listing when its task ends.
pub(crate) struct Listed {
    proxy: Arc<ProxyInner>,
    id: u64,
}

impl Drop for Listed {
    fn drop(&mut self) {
        self.proxy.conns.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

/// Counts a running task while alive.
struct TaskGuard(Arc<AtomicUsize>);

impl TaskGuard {
    fn new(c: &Arc<AtomicUsize>) -> Self {
        c.fetch_add(1, Ordering::SeqCst);
        TaskGuard(c.clone())
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ProxyInner {
    pub fn new(
        name: &str,
        listen: &str,
        upstream: &str,
        seed: u64,
        dial_timeout: Duration,
        allow_remote: bool,
    ) -> Arc<Self> {
        Arc::new(ProxyInner {
            name: name.to_owned(),
            settings: Mutex::new(Settings { listen: listen.to_owned(), upstream: upstream.to_owned(), enabled: false }),
            toxics: Mutex::new(Vec::new()),
            next_version: AtomicU64::new(1),
            faults: watch::channel(Arc::new(FaultSet { generation: 0, enabled: true, seed, entries: Vec::new() })).0,
            generation: AtomicU64::new(0),
            applied: watch::channel(0).0,
            conns: Mutex::new(BTreeMap::new()),
            next_conn: AtomicU64::new(0),
            bytes: Arc::new(ByteCounters::default()),
            tasks: Arc::new(AtomicUsize::new(0)),
            run: Mutex::new(None),
            tracker: TaskTracker::new(),
            seed,
            dial_timeout,
            allow_remote,
        })
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::SeqCst) + 1
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

    pub fn list_conn(self: &Arc<Self>, stats: Arc<ConnStats>) -> Listed {
        let id = stats.id;
        lock(&self.conns).insert(id, stats);
        Listed { proxy: self.clone(), id }
    }

    pub fn connections(&self) -> Vec<ConnView> {
        lock(&self.conns).values().map(|c| c.view()).collect()
    }

    pub fn counters(&self) -> Counters {
        Counters { live_connections: lock(&self.conns).len(), tasks: self.tasks.load(Ordering::SeqCst) }
    }

    /// Publishes the current toxics to pumps and listener.
    fn publish(&self) {
        let entries = lock(&self.toxics).clone();
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.faults.send_replace(Arc::new(FaultSet { generation, enabled: true, seed: self.seed, entries }));
    }

    /// Waits (at most 2 s) until the listener has put the latest faults in
    /// force: after a reject returns, connect is refused; after a drop, SYNs
    /// go unanswered.
    pub async fn settled(&self) {
        if lock(&self.run).is_none() {
            return;
        }
        let target = self.generation.load(Ordering::SeqCst);
        let mut rx = self.applied.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(2), rx.wait_for(|g| *g >= target)).await;
    }

    pub fn toxic_list(&self) -> Vec<Toxic> {
        lock(&self.toxics).iter().map(|e| e.toxic.clone()).collect()
    }

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
        let addr = resolve_listen(&listen).await?;
        if !addr.ip().is_loopback() && !self.allow_remote {
            return Err(ProxyError::NotLoopback { addr });
        }
        let listener = bind(addr).map_err(|source| ProxyError::Listen { addr: listen.clone(), source })?;
        let bound = listener.local_addr().map_err(|source| ProxyError::Listen { addr: listen.clone(), source })?;
        {
            let mut s = lock(&self.settings);
            s.listen = bound.to_string();
            s.enabled = true;
        }
        let cancel = CancellationToken::new();
        *lock(&self.run) = Some(Run { cancel: cancel.clone() });
        let guard = TaskGuard::new(&self.tasks);
        self.tracker.spawn(listen_loop(self.clone(), Some(listener), bound, cancel, guard));
        Ok(bound)
    }

    /// Stops listening and closes every connection; waits for the tasks.
    pub async fn stop(&self) {
        let run = lock(&self.run).take();
        lock(&self.settings).enabled = false;
        if let Some(run) = run {
            run.cancel.cancel();
        }
        self.tracker.close();
        if tokio::time::timeout(Duration::from_secs(10), self.tracker.wait()).await.is_err() {
            tracing::warn!(proxy = %self.name, "tasks still running 10 s after stop");
        }
        self.tracker.reopen();
    }
}

async fn resolve_listen(listen: &str) -> Result<SocketAddr, ProxyError> {
    if let Ok(a) = listen.parse::<SocketAddr>() {
        return Ok(a);
    }
    let mut addrs = tokio::net::lookup_host(listen)
        .await
        .map_err(|source| ProxyError::Listen { addr: listen.to_owned(), source })?;
    addrs.next().ok_or_else(|| ProxyError::Listen {
        addr: listen.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
    })
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The proxy's own connections that keep a dropped listener's backlog full.
#[derive(Default)]
struct Fillers {
    open: Vec<TcpStream>,
    /// Their addresses, to discard them when they are accepted after the drop.
    addrs: HashSet<SocketAddr>,
    saturated: bool,
}

impl Fillers {
    async fn saturate(&mut self, addr: SocketAddr) {
        let target = if addr.ip().is_unspecified() {
            SocketAddr::new(
                if addr.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() },
                addr.port(),
            )
        } else {
            addr
        };
        while self.open.len() < MAX_FILLERS {
            match tokio::time::timeout(Duration::from_millis(100), TcpStream::connect(target)).await {
                Ok(Ok(s)) => {
                    if let Ok(a) = s.local_addr() {
                        self.addrs.insert(a);
                    }
                    self.open.push(s);
                }
                // No answer: the backlog is full, SYNs are being dropped.
                Err(_) => break,
                Ok(Err(e)) => {
                    tracing::warn!("cannot fill the backlog of {addr}: {e}");
                    break;
                }
            }
        }
        self.saturated = true;
    }

    fn release(&mut self) {
        self.open.clear();
        self.saturated = false;
    }

    /// True (once) for a filler coming out of the backlog.
    fn take(&mut self, peer: SocketAddr) -> bool {
        self.addrs.remove(&peer)
    }
}

async fn accept_opt(listener: &Option<TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn listen_loop(
    proxy: Arc<ProxyInner>,
    mut listener: Option<TcpListener>,
    addr: SocketAddr,
    cancel: CancellationToken,
    _guard: TaskGuard,
) {
    let mut faults = proxy.faults.subscribe();
    let mut fillers = Fillers::default();
    loop {
        let set = faults.borrow_and_update().clone();
        let now = Instant::now();
        let mode = set.listen_mode(now);
        match mode {
            ListenMode::Refuse => {
                if listener.take().is_some() {
                    tracing::info!(proxy = %proxy.name, "reject: {addr} closed");
                }
                fillers.release();
            }
            ListenMode::Accept | ListenMode::Blackhole if listener.is_none() => match bind(addr) {
                Ok(l) => listener = Some(l),
                Err(e) => {
                    tracing::warn!(proxy = %proxy.name, "cannot listen on {addr} again: {e}; retrying");
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
                    }
                }
            },
            _ => {}
        }
        if mode == ListenMode::Blackhole && !fillers.saturated {
            fillers.saturate(addr).await;
            tracing::info!(proxy = %proxy.name, fillers = fillers.open.len(), "drop: {addr} answers no SYN");
        }
        if mode != ListenMode::Blackhole && fillers.saturated {
            fillers.release();
        }
        proxy.applied.send_replace(set.generation);
        let accepting = mode == ListenMode::Accept;
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            r = faults.changed() => if r.is_err() { break },
            _ = until_change(set.next_change(now)) => {}
            r = accept_opt(&listener), if accepting => match r {
                Ok((stream, peer)) => {
                    if fillers.take(peer) {
                        continue;
                    }
                    let guard = TaskGuard::new(&proxy.tasks);
                    let (p, c) = (proxy.clone(), cancel.child_token());
                    proxy.tracker.spawn(async move {
                        let _guard = guard;
                        conn::run(p, stream, peer, c).await;
                    });
                }
                Err(e) => {
                    tracing::warn!(proxy = %proxy.name, "accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
}
