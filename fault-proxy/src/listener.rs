//! A proxy's listener, following the faults in force:
//! - accepting: every accepted client is served in its own task (the upstream
//!   dial never blocks the accept loop), under a `conn{id,peer}` span;
//! - `reject`: the listening socket is closed, so connect gets "connection
//!   refused"; it is bound again, same address, when the reject ends;
//! - `drop`: the socket stays open but nothing is accepted; its backlog is
//!   shrunk to the least the kernel allows and the proxy fills it with
//!   connections of its own ([`Fillers`]), so
//!   the kernel drops further SYNs unanswered and a client's `connect()`
//!   itself times out. When the drop ends the fillers go, and clients still
//!   in SYN back-off get through on their next retransmission (1, 3, 7 s …
//!   after their first SYN).
//! - out of descriptors: a client is accepted with the descriptor kept in
//!   reserve and closed at once ([`crate::fds`]), counted and logged once.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::conn::{self, ConnEnv};
use crate::error::ProxyError;
use crate::fault_set::{until_change, ListenMode};
use crate::fds::{self, Admitted, Reserve};
use crate::stats::{TaskCount, TaskGuard};

/// The listen backlog of proxy sockets (the kernel caps it at
/// `net.core.somaxconn`): a client pool opening thousands of connections at
/// once must not overflow it, or its SYNs are dropped and retried a second
/// later.
pub const BACKLOG: u32 = 4096;
/// The backlog while a drop is in force: the least the kernel takes, so a
/// handful of fillers keeps it full.
const DROP_BACKLOG: i32 = 0;
/// At most this many filler connections (a kernel with a larger backlog
/// than asked for is filled this far).
const MAX_FILLERS: usize = 1024;
/// How long a filler's connect may take before the backlog counts as full.
const FILL_WAIT: Duration = Duration::from_millis(100);
/// Pause before binding a rejected address again, when another took it.
const REBIND_RETRY: Duration = Duration::from_millis(50);
/// Pause after a failed accept (out of descriptors, say).
const ACCEPT_RETRY: Duration = Duration::from_millis(10);

/// What a listener needs of its proxy.
#[derive(Debug)]
pub(crate) struct Listener {
    pub env: ConnEnv,
    /// Where the listener reports the fault generation it has put in force.
    pub applied: Arc<watch::Sender<u64>>,
    pub tracker: TaskTracker,
    pub tasks: Arc<TaskCount>,
}

pub(crate) async fn resolve(listen: &str) -> Result<SocketAddr, ProxyError> {
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

pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The proxy's own connections that keep a dropped listener's backlog full.
#[derive(Debug, Default)]
struct Fillers {
    open: Vec<TcpStream>,
    /// Their addresses, to discard them when they are accepted after the drop.
    addrs: HashSet<SocketAddr>,
    saturated: bool,
}

impl Fillers {
    async fn saturate(&mut self, listener: Option<&TcpListener>, addr: SocketAddr) {
        // Listening again on a listening socket only sets its backlog.
        if let Some(l) = listener {
            if let Err(e) = rustix::net::listen(l, DROP_BACKLOG) {
                tracing::warn!("cannot shrink the backlog of {addr}: {e}");
            }
        }
        let target = if addr.ip().is_unspecified() {
            SocketAddr::new(
                if addr.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() },
                addr.port(),
            )
        } else {
            addr
        };
        while self.open.len() < MAX_FILLERS {
            match tokio::time::timeout(FILL_WAIT, TcpStream::connect(target)).await {
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

    fn release(&mut self, listener: Option<&TcpListener>) {
        if self.saturated {
            if let Some(l) = listener {
                if let Err(e) = rustix::net::listen(l, BACKLOG as i32) {
                    tracing::warn!("cannot restore the backlog: {e}");
                }
            }
        }
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

impl Listener {
    /// Serves `listener` (bound to `addr`) until `cancel`; runs under the
    /// caller's `proxy{name}` span.
    pub async fn run(self, listener: TcpListener, addr: SocketAddr, cancel: CancellationToken, _guard: TaskGuard) {
        let mut listener = Some(listener);
        let mut faults = self.env.faults.clone();
        let mut fillers = Fillers::default();
        let mut reserve = Reserve::new();
        loop {
            let set = faults.borrow_and_update().clone();
            let now = Instant::now();
            let mode = set.listen_mode(now);
            match mode {
                ListenMode::Refuse => {
                    if listener.take().is_some() {
                        tracing::info!("reject: {addr} closed");
                    }
                    fillers.release(None);
                }
                ListenMode::Accept | ListenMode::Blackhole if listener.is_none() => match bind(addr) {
                    Ok(l) => listener = Some(l),
                    Err(e) => {
                        tracing::warn!("cannot listen on {addr} again: {e}; retrying");
                        tokio::select! {
                            _ = cancel.cancelled() => break,
                            _ = tokio::time::sleep(REBIND_RETRY) => continue,
                        }
                    }
                },
                _ => {}
            }
            if mode == ListenMode::Blackhole && !fillers.saturated {
                fillers.saturate(listener.as_ref(), addr).await;
                tracing::info!(fillers = fillers.open.len(), "drop: {addr} answers no SYN");
            }
            if mode != ListenMode::Blackhole && fillers.saturated {
                fillers.release(listener.as_ref());
            }
            self.applied.send_replace(set.generation);
            let accepting = mode == ListenMode::Accept;
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                r = faults.changed() => if r.is_err() { break },
                _ = until_change(set.next_change(now)) => {}
                r = accept_opt(&listener), if accepting => match r {
                    Ok((stream, peer)) => {
                        if !fillers.take(peer) {
                            match self.env.admission.admit() {
                                Some(place) => {
                                    self.env.table.recovered();
                                    self.serve(stream, peer, place, &cancel);
                                }
                                None => {
                                    drop(stream);
                                    let why = format!("{} connections, the most the descriptor limit allows", self.env.admission.max());
                                    self.env.table.refuse(peer, &why);
                                }
                            }
                        }
                    }
                    Err(e) if fds::exhausted(&e) => self.refuse_one(listener.as_ref(), &mut reserve, &e).await,
                    Err(e) => {
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(ACCEPT_RETRY).await;
                    }
                },
            }
        }
    }

    /// Out of descriptors: accepts the waiting client with the reserve
    /// descriptor and closes it at once, so it is told rather than left
    /// waiting in the backlog; established connections go on.
    async fn refuse_one(&self, listener: Option<&TcpListener>, reserve: &mut Reserve, e: &std::io::Error) {
        reserve.release();
        let accepted = match listener {
            Some(l) => tokio::time::timeout(ACCEPT_RETRY, l.accept()).await.ok().and_then(Result::ok),
            None => None,
        };
        match accepted {
            Some((stream, peer)) => {
                drop(stream);
                self.env.table.refuse(peer, &e.to_string());
            }
            // Someone else took the free descriptor: wait a little.
            None => tokio::time::sleep(ACCEPT_RETRY).await,
        }
        reserve.refill();
    }

    /// Serves one accepted connection in its own task, under `conn{id,peer}`.
    fn serve(&self, stream: TcpStream, peer: SocketAddr, place: Admitted, cancel: &CancellationToken) {
        let id = self.env.table.next_id();
        let guard = self.tasks.guard();
        let span = tracing::info_span!("conn", id, %peer);
        let (env, cancel) = (self.env.clone(), cancel.child_token());
        self.tracker.spawn(
            async move {
                let _guard = (guard, place);
                tracing::debug!("accepted");
                conn::run(env, id, stream, peer, cancel).await;
            }
            .instrument(span),
        );
    }
}
