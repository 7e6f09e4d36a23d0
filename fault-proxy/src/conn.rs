//! One client connection: the upstream dial, the two pumps, and how the
//! connection ends (half-close passed on, resets passed on as resets).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::faults::{until_change, NewConn};
use crate::io as sio;
use crate::proxy::{ByteCounters, ProxyInner};
use crate::pump::{End, Pump};
use crate::toxic::Direction;

/// What the connection listing shows of one connection.
#[derive(Debug)]
pub struct ConnStats {
    pub id: u64,
    pub client: SocketAddr,
    pub upstream: Mutex<Option<SocketAddr>>,
    pub started: std::time::Instant,
    /// Bytes written on, per direction (upstream, downstream).
    pub bytes: [AtomicU64; 2],
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
    pub faults_hit: Vec<String>,
}

impl ConnStats {
    pub fn view(&self) -> ConnView {
        ConnView {
            id: self.id,
            client: self.client.to_string(),
            upstream: self.upstream.lock().unwrap_or_else(|e| e.into_inner()).map(|a| a.to_string()),
            age_ms: self.started.elapsed().as_millis() as u64,
            bytes_upstream: self.bytes[0].load(Ordering::Relaxed),
            bytes_downstream: self.bytes[1].load(Ordering::Relaxed),
            faults_hit: self.faults_hit.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect(),
        }
    }
}

/// What a pump needs to know about its connection.
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
        let mut hit = self.stats.faults_hit.lock().unwrap_or_else(|e| e.into_inner());
        for n in names {
            if !hit.contains(n) {
                hit.insert(n.clone());
            }
        }
    }
}

/// Dials the upstream. A loopback client's connection leaves from the
/// client's own address, so the server sees who really connected (as through
/// a firewall, which keeps source addresses), not the proxy.
async fn dial_from(client: SocketAddr, upstream: &str) -> std::io::Result<TcpStream> {
    let to = tokio::net::lookup_host(upstream)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, format!("{upstream}: no address")))?;
    let socket = if to.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    if client.ip().is_loopback() && client.is_ipv4() == to.is_ipv4() && to.ip().is_loopback() {
        let _ = socket.bind(SocketAddr::new(client.ip(), 0));
    }
    socket.connect(to).await
}

/// Serves one accepted client connection to its end.
pub(crate) async fn run(proxy: Arc<ProxyInner>, client: TcpStream, peer: SocketAddr, cancel: CancellationToken) {
    let id = proxy.next_conn_id();
    let _ = client.set_nodelay(true);
    // A targeted firewall fault decides before anything is dialled.
    let mut faults = proxy.faults.subscribe();
    loop {
        let set = faults.borrow_and_update().clone();
        let now = Instant::now();
        match set.new_conn(id, peer, now) {
            NewConn::Pass => break,
            NewConn::Reset => {
                sio::arm_reset(&client);
                return;
            }
            NewConn::Silence => {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = faults.changed() => if r.is_err() { return },
                    _ = until_change(set.next_change(now)) => {}
                }
            }
        }
    }
    let upstream_addr = proxy.upstream();
    let dial = tokio::time::timeout(proxy.dial_timeout, dial_from(peer, &upstream_addr));
    let server = tokio::select! {
        _ = cancel.cancelled() => return,
        r = dial => match r {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(proxy = %proxy.name, %peer, "upstream {upstream_addr}: {e}; client reset");
                sio::arm_reset(&client);
                return;
            }
            Err(_) => {
                tracing::debug!(proxy = %proxy.name, %peer, "upstream {upstream_addr}: no answer within {:?}; client reset", proxy.dial_timeout);
                sio::arm_reset(&client);
                return;
            }
        },
    };
    let _ = server.set_nodelay(true);
    let stats = Arc::new(ConnStats {
        id,
        client: peer,
        upstream: Mutex::new(server.peer_addr().ok()),
        started: std::time::Instant::now(),
        bytes: [AtomicU64::new(0), AtomicU64::new(0)],
        faults_hit: Mutex::new(BTreeSet::new()),
    });
    let _listed = proxy.list_conn(stats.clone());
    let ctx = ConnCtx { stats, seed: proxy.seed, proxy_bytes: proxy.bytes.clone() };
    let stop = cancel.child_token();
    let up = Pump {
        ctx: &ctx,
        dir: Direction::Upstream,
        src: &client,
        dst: &server,
        faults: proxy.faults.subscribe(),
        stop: &stop,
    };
    let down = Pump {
        ctx: &ctx,
        dir: Direction::Downstream,
        src: &server,
        dst: &client,
        faults: proxy.faults.subscribe(),
        stop: &stop,
    };
    // Either direction ending the whole connection stops the other.
    let ends = |end: End| {
        if !matches!(end, End::Closed) {
            stop.cancel();
        }
        end
    };
    let (a, b) = tokio::join!(async { ends(up.run().await) }, async { ends(down.run().await) });
    match (a, b) {
        (End::Reset | End::Abort, _) | (_, End::Reset | End::Abort) => {
            sio::arm_reset(&client);
            sio::arm_reset(&server);
        }
        (End::Close, _) | (_, End::Close) => {
            sio::shutdown_write(&client);
            sio::shutdown_write(&server);
        }
        // Both half-closed, or the proxy stopped: a plain close.
        _ => {}
    }
}
