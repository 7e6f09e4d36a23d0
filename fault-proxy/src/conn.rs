//! One client connection: the upstream dial, the two pumps, and how the
//! connection ends (half-close passed on, resets passed on as resets).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::fault_set::{until_change, FaultSet, NewConn};
use crate::fds::{self, Admission};
use crate::io as sio;
use crate::pump::{End, Pools, Pump};
use crate::stats::{ByteCounters, ConnCtx, ConnStats, ConnTable};
use crate::toxic::Direction;

/// What a connection needs of its proxy, fixed for one run of its listener
/// (a new upstream restarts the listener).
#[derive(Debug, Clone)]
pub(crate) struct ConnEnv {
    pub upstream: String,
    pub seed: u64,
    pub dial_timeout: Duration,
    pub faults: watch::Receiver<Arc<FaultSet>>,
    pub bytes: Arc<ByteCounters>,
    pub table: Arc<ConnTable>,
    /// The server's pipes and blocks.
    pub pools: Arc<Pools>,
    /// The server's count of connections against its descriptor limit.
    pub admission: Arc<Admission>,
}

/// Dials the upstream. A loopback client's connection leaves from the
/// client's own address, so the server sees who really connected (as through
/// a firewall, which keeps source addresses), not the proxy.
///
/// The kernel's own choice of source for a loopback destination is
/// 127.0.0.1 (or ::1): for those clients nothing is bound. Binding to port 0
/// first would reserve a port for every address pair at once, a search
/// that grows with the ports in use (thousands of connections took seconds
/// to open) and shares no port between destinations; `connect` alone picks
/// one per destination.
async fn dial_from(client: SocketAddr, upstream: &str) -> std::io::Result<TcpStream> {
    let to = tokio::net::lookup_host(upstream)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, format!("{upstream}: no address")))?;
    let socket = if to.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    let default_source = client.ip() == std::net::Ipv4Addr::LOCALHOST || client.ip() == std::net::Ipv6Addr::LOCALHOST;
    if client.ip().is_loopback() && !default_source && client.is_ipv4() == to.is_ipv4() && to.ip().is_loopback() {
        let _ = socket.bind(SocketAddr::new(client.ip(), 0));
    }
    socket.connect(to).await
}

/// A targeted firewall fault decides before anything is dialled: `false`
/// when the connection ends here (reset, or stopped while silenced).
async fn admitted(env: &ConnEnv, id: u64, client: &TcpStream, peer: SocketAddr, cancel: &CancellationToken) -> bool {
    let mut faults = env.faults.clone();
    loop {
        let set = faults.borrow_and_update().clone();
        let now = Instant::now();
        match set.new_conn(id, peer, now) {
            NewConn::Pass => return true,
            NewConn::Reset => {
                sio::arm_reset(client);
                return false;
            }
            NewConn::Silence => {
                tokio::select! {
                    _ = cancel.cancelled() => return false,
                    r = faults.changed() => if r.is_err() { return false },
                    _ = until_change(set.next_change(now)) => {}
                }
            }
        }
    }
}

/// Serves one accepted client connection, with id `id`, to its end.
pub(crate) async fn run(env: ConnEnv, id: u64, client: TcpStream, peer: SocketAddr, cancel: CancellationToken) {
    let _ = client.set_nodelay(true);
    if !admitted(&env, id, &client, peer, &cancel).await {
        return;
    }
    let upstream = &env.upstream;
    let dial = tokio::time::timeout(env.dial_timeout, dial_from(peer, upstream));
    let server = tokio::select! {
        _ = cancel.cancelled() => return,
        r = dial => match r {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                if fds::exhausted(&e) {
                    env.table.refuse(peer, &e.to_string());
                } else {
                    tracing::debug!("upstream {upstream}: {e}; client reset");
                }
                sio::arm_reset(&client);
                return;
            }
            Err(_) => {
                tracing::debug!("upstream {upstream}: no answer within {:?}; client reset", env.dial_timeout);
                sio::arm_reset(&client);
                return;
            }
        },
    };
    let _ = server.set_nodelay(true);
    let stats = Arc::new(ConnStats::new(id, peer, server.peer_addr().ok()));
    let _listed = env.table.list(stats.clone());
    let ctx = ConnCtx { stats, seed: env.seed, proxy_bytes: env.bytes.clone() };
    let stop = cancel.child_token();
    let up = Pump::new(&ctx, Direction::Upstream, &client, &server, env.faults.clone(), &stop, &env.pools);
    let down = Pump::new(&ctx, Direction::Downstream, &server, &client, env.faults.clone(), &stop, &env.pools);
    // Either direction ending the whole connection stops the other.
    let ends = |end: End| {
        if !matches!(end, End::Closed) {
            stop.cancel();
        }
        end
    };
    let (a, b) = tokio::join!(async { ends(up.run().await) }, async { ends(down.run().await) });
    tracing::debug!(upstream = ?a, downstream = ?b, "closed");
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
