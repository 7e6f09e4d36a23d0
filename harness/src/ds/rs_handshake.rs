//! The RS↔RS handshake, on both sides, as `ReplicationServerHandler`
//! runs it (reference §2.3).
//!
//! Initiator (`connect`): dial and TLS (a failure there is silent, traced
//! only), take its own domain lock (no timeout), send `ReplServerStartMsg`,
//! read the peer's (a StopMsg: the peer refused, silently); send its
//! `TopologyMsg`, read the peer's; 205. Acceptor (`startFromRemoteRS`):
//! take the domain lock within 3 s + 0–5 s (else 145), refuse with StopMsg
//! when already linked, send its start message, read the peer's
//! `TopologyMsg`, send its own; 206.
//!
//! What goes wrong, and the line:
//!
//! | where                                          | line                          |
//! |------------------------------------------------|-------------------------------|
//! | initiator: an `IOException` reading the reply or writing | 179 (own id, peer's address) |
//! | acceptor: an `IOException` writing             | 179 (peer's id, own id)       |
//! | either: anything while waiting for the TopologyMsg | a raw ERROR line (3.0 on; 2.x writes none) |
//! | either: a message of the wrong type            | 157                           |
//! | initiator: any other exception (bad bytes)     | a raw ERROR line              |
//! | acceptor: the domain lock not taken in time    | 145                           |
//!
//! Generation ids (`checkGenerationId`, then
//! `ReplicationServerDomain.receiveTopoInfoFromRS`): both set and different
//! log 77 twice on each side, and the ErrorMsg each side then sends makes
//! the other log 79; the link is kept. An RS without a generation id takes
//! the peer's.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::Instrument;

use super::catalog::{self, MsgDef};
use super::java::JavaException;
use super::node::{LinkInfo, Node};
use super::rs_link::{self, RsPeer};
use super::session::{self, readable_address, Conn, RecvError};
use crate::hostmap::split_host_port;
use crate::transport;
use crate::wire::{self, ReplMsg, ReplServerStart, StartHeader, Topology};

const LINK_QUEUE: usize = 256;

fn start_msg(node: &Node, base_dn: &str, version: u8) -> ReplMsg {
    ReplMsg::ReplServerStart(ReplServerStart {
        header: StartHeader { protocol_version: version, generation_id: node.rs_generation(base_dn), group_id: 1 },
        base_dn: base_dn.to_owned(),
        server_id: node.id().to_owned(),
        server_url: node.url.clone(),
        window_size: 100_000,
        ssl_encryption: node.tls.is_some() && node.cfg.ssl_encryption,
        degraded_status_threshold: 5000,
        server_state: Vec::new(),
    })
}

fn topology(node: &Node, base_dn: &str) -> ReplMsg {
    let mut t = Topology::default();
    t.rs.push(wire::RsInfo {
        rs_id: node.id().to_owned(),
        generation_id: node.rs_generation(base_dn),
        server_url: node.url.clone(),
    });
    ReplMsg::Topology(t)
}

/// `msg.getClass().getCanonicalName()`.
fn canonical(msg: &ReplMsg) -> String {
    format!("org.opends.server.replication.protocol.{}", msg.name())
}

/// Why a handshake stopped, and what it logs.
#[derive(Debug)]
enum Abort {
    /// Silently (the peer refused with StopMsg, a cross-connect, a stop).
    Quiet(String),
    /// With this catalog line and its arguments.
    Line(&'static MsgDef, Vec<String>),
}

impl Abort {
    fn line(def: &'static MsgDef, args: &[&dyn std::fmt::Display]) -> Abort {
        Abort::Line(def, args.iter().map(|a| a.to_string()).collect())
    }

    fn log(self, node: &Node, remote: &str) {
        match self {
            Abort::Quiet(why) => tracing::debug!("RS handshake with {remote} stopped: {why}"),
            Abort::Line(def, args) => {
                let args: Vec<&dyn std::fmt::Display> = args.iter().map(|a| a as &dyn std::fmt::Display).collect();
                node.log.emit(def, &args);
            }
        }
    }
}

/// The TopologyMsg wait (`waitAndProcessTopoFromRemoteRS`): any exception
/// becomes a raw message, a wrong type 157, a StopMsg a quiet end.
async fn topology_from_peer(node: &Node, conn: &mut Conn) -> Result<(), Abort> {
    match session::recv(conn, node.handshake_timeout()).await {
        Ok(ReplMsg::Topology(_)) => Ok(()),
        Ok(ReplMsg::Stop) => Err(Abort::Quiet("the peer sent StopMsg".into())),
        Ok(other) => {
            Err(Abort::line(&catalog::REPLICATION_PROTOCOL_MESSAGE_TYPE, &[&canonical(&other), &"TopologyMsg"]))
        }
        Err(e) => Err(Abort::line(&catalog::RAW_ERROR, &[&e.java(node.jdk()).message()])),
    }
}

/// Both ids set and different: 77 (`checkGenerationId`); an RS without one
/// takes the peer's.
fn check_generation(node: &Node, base_dn: &str, theirs: i64, peer_id: &str, remote: &str) {
    let ours = node.rs_generation(base_dn);
    if ours <= 0 {
        if theirs > 0 {
            node.gens_lock().rs.insert(base_dn.to_owned(), theirs);
        }
        return;
    }
    if theirs > 0 && theirs != ours {
        node.log.emit(&catalog::BAD_GENERATION_ID_FROM_RS, &[&peer_id, &remote, &theirs, &base_dn, &node.id(), &ours]);
    }
}

/// The domain lock's wait on the accepting side: 3 s plus 0 to 5 whole
/// seconds (product time), drawn from the node's seeded RNG.
fn lock_timeout(node: &Node) -> Duration {
    node.real(Duration::from_secs(3 + node.draw(6)))
}

/// The acceptor's side, after the peer's `ReplServerStartMsg`.
pub(crate) async fn accept(node: Arc<Node>, mut conn: Conn, remote: String, start: ReplServerStart) {
    let base_dn = start.base_dn.clone();
    let Some(lock) = node.domain_lock(&base_dn) else {
        tracing::debug!(domain = %base_dn, "not replicated here; refused");
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    };
    let guard = tokio::select! {
        _ = node.core.cancel.cancelled() => return session::end(conn, node.core.killed(), node.handshake_timeout()).await,
        g = tokio::time::timeout(lock_timeout(&node), lock.lock_owned()) => g,
    };
    let Ok(guard) = guard else {
        node.log.emit(&catalog::TIMEOUT_WHEN_CROSS_CONNECTION, &[&base_dn, &start.server_id, &remote, &node.id()]);
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    };
    // One link per peer and domain. On a cross-connect the link opened by
    // the server with the smaller URL wins on both sides.
    let Some(token) = node.claim_peer(&base_dn, &start.server_url, node.url < start.server_url) else {
        tracing::debug!(peer = %start.server_url, "already linked; refused");
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    };
    let version = wire::negotiate_version(wire::PROTOCOL_VERSION, start.header.protocol_version);
    let timeout = node.handshake_timeout();
    let broken = || Abort::line(&catalog::RS_DISCONNECTED_DURING_HANDSHAKE, &[&start.server_id, &node.id()]);
    let handshake = async {
        session::send(&mut conn, start_msg(&node, &base_dn, version), timeout).await.map_err(|_| broken())?;
        // The initiator decides: no encryption asked, both go on in clear.
        if !start.ssl_encryption && session::is_tls(&conn) {
            session::stop_encryption(&mut conn);
        }
        topology_from_peer(&node, &mut conn).await?;
        check_generation(&node, &base_dn, start.header.generation_id, &start.server_id, &remote);
        session::send(&mut conn, topology(&node, &base_dn), timeout).await.map_err(|_| broken())
    };
    let outcome = tokio::select! {
        _ = node.core.cancel.cancelled() => Err(Abort::Quiet("stopping".into())),
        r = handshake => r,
    };
    if let Err(why) = outcome {
        node.release(&base_dn, &start.server_url, token);
        if !node.core.cancel.is_cancelled() {
            why.log(&node, &remote);
        }
        return session::end(conn, node.core.killed(), node.handshake_timeout()).await;
    }
    let peer = RsPeer {
        base_dn,
        url: start.server_url.clone(),
        token,
        id: start.server_id.clone(),
        remote,
        generation_id: start.header.generation_id,
    };
    established(node, conn, peer, false, guard).await;
}

/// What the initiator reached before its handshake ended.
struct Dialled {
    conn: Conn,
    remote: String,
}

/// The initiator's side: resolve, dial, handshake, for a slot taken by the connect loop.
pub(crate) async fn connect(node: Arc<Node>, base_dn: String, peer_url: String, token: u64) {
    let dial = async {
        let (host, port) = split_host_port(&peer_url).ok_or_else(|| format!("bad peer URL {peer_url:?}"))?;
        let to = node.core.hosts.resolve(&node.cfg.name, host, port).map_err(|e| e.to_string())?;
        let stream =
            transport::dial(node.cfg.bind_ip(), to, node.handshake_timeout()).await.map_err(|e| e.to_string())?;
        let remote = readable_address(Some(host), stream.peer_addr().unwrap_or(to));
        // A failed handshake here is the acceptor's to log (105); this side traces it.
        let secured = transport::secure_client(node.tls.as_ref(), host, stream, node.handshake_timeout())
            .await
            .map_err(|e| format!("TLS: {}", crate::pki::describe(&e)))?;
        Ok::<_, String>(Dialled { conn: session::framed(secured, node.max_frame_len), remote })
    };
    let dialled = tokio::select! {
        _ = node.core.cancel.cancelled() => Err("stopping".to_owned()),
        r = dial => r,
    };
    let Dialled { mut conn, remote } = match dialled {
        Ok(d) => d,
        Err(why) => {
            tracing::debug!(domain = %base_dn, "connect failed: {why}");
            return node.release(&base_dn, &peer_url, token);
        }
    };
    let Some(lock) = node.domain_lock(&base_dn) else { return node.release(&base_dn, &peer_url, token) };
    let guard = tokio::select! {
        _ = node.core.cancel.cancelled() => {
            node.release(&base_dn, &peer_url, token);
            return session::end(conn, node.core.killed(), node.handshake_timeout()).await;
        }
        g = lock.lock_owned() => g,
    };
    let timeout = node.handshake_timeout();
    let broken = || Abort::line(&catalog::RS_DISCONNECTED_DURING_HANDSHAKE, &[&node.id(), &remote]);
    let handshake = async {
        session::send(&mut conn, start_msg(&node, &base_dn, wire::PROTOCOL_VERSION), timeout)
            .await
            .map_err(|_| broken())?;
        let reply = match session::recv(&mut conn, timeout).await {
            Ok(ReplMsg::ReplServerStart(r)) => r,
            Ok(ReplMsg::Stop) => return Err(Abort::Quiet("peer refused: already linked".into())),
            Ok(other) => {
                return Err(Abort::line(
                    &catalog::REPLICATION_PROTOCOL_MESSAGE_TYPE,
                    &[&canonical(&other), &"ReplServerStartMsg"],
                ))
            }
            Err(e) => {
                let java: JavaException = e.java(node.jdk());
                return Err(match e {
                    RecvError::Timeout | RecvError::Closed => broken(),
                    RecvError::Wire(w) if w.is_io() => broken(),
                    RecvError::Wire(_) => Abort::line(&catalog::RAW_ERROR, &[&java.message()]),
                });
            }
        };
        if node.tls.is_some() && !node.cfg.ssl_encryption {
            session::stop_encryption(&mut conn);
        }
        session::send(&mut conn, topology(&node, &base_dn), timeout).await.map_err(|_| broken())?;
        topology_from_peer(&node, &mut conn).await?;
        check_generation(&node, &base_dn, reply.header.generation_id, &reply.server_id, &remote);
        Ok(reply)
    };
    let outcome = tokio::select! {
        _ = node.core.cancel.cancelled() => Err(Abort::Quiet("stopping".into())),
        r = handshake => r,
    };
    let reply = match outcome {
        Ok(r) => r,
        Err(why) => {
            node.release(&base_dn, &peer_url, token);
            if !node.core.cancel.is_cancelled() {
                why.log(&node, &remote);
            }
            return session::end(conn, node.core.killed(), node.handshake_timeout()).await;
        }
    };
    let peer = RsPeer {
        base_dn,
        url: peer_url,
        token,
        id: reply.server_id.clone(),
        remote,
        generation_id: reply.header.generation_id,
    };
    established(node, conn, peer, true, guard).await;
}

/// Both sides once the handshake is done: the domain's check of the peer's
/// generation id (77 again), 205 or 206, the slot marked connected, the
/// domain lock released; then the link runs in its `link{domain,peer}` span.
async fn established(
    node: Arc<Node>,
    conn: Conn,
    peer: RsPeer,
    initiator: bool,
    guard: tokio::sync::OwnedMutexGuard<()>,
) {
    let ours = node.rs_generation(&peer.base_dn);
    if ours > 0 && ours != peer.generation_id {
        // receiveTopoInfoFromRS: 77, and an ErrorMsg to the peer (its 79).
        node.log.emit(
            &catalog::BAD_GENERATION_ID_FROM_RS,
            &[&peer.id, &peer.remote, &peer.generation_id, &peer.base_dn, &node.id(), &ours],
        );
    }
    let (tx, rx) = mpsc::channel(LINK_QUEUE);
    let info = LinkInfo {
        peer_id: peer.id.clone(),
        initiator,
        remote: peer.remote.clone(),
        tx,
        generation_id: peer.generation_id,
        bad_generation: false,
    };
    let line: &MsgDef = if initiator { &catalog::CONNECTION_TO_RS } else { &catalog::CONNECTION_FROM_RS };
    // Logged before the link counts as up, so a waiter that sees it up also sees the line.
    node.log.emit(line, &[&node.id(), &peer.id, &peer.base_dn, &peer.remote]);
    let promoted = node.promote(&peer.base_dn, &peer.url, peer.token, info);
    drop(guard);
    if !promoted {
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    }
    let peer_error = peer_error_text(&node, &conn, &peer, initiator);
    let span = tracing::info_span!("link", domain = %peer.base_dn, peer = %peer.id);
    rs_link::run(node, conn, peer, rx, peer_error).instrument(span).await;
}

/// The 77 text the peer's domain sends back in an ErrorMsg when its own
/// generation id is set and differs from ours (the reader then logs 79).
///
/// The mock's wire has no ErrorMsg: each side writes its 79 itself, with the
/// text the peer would have sent, worded from the peer's side (its
/// readable address of this server, its ids).
fn peer_error_text(node: &Node, conn: &Conn, peer: &RsPeer, initiator: bool) -> Option<String> {
    let ours = node.rs_generation(&peer.base_dn);
    if peer.generation_id <= 0 || peer.generation_id == ours {
        return None;
    }
    let local = conn.get_ref().tcp().and_then(|t| t.local_addr().ok())?;
    // How the peer names this server: the acceptor by reverse lookup, the
    // initiator by the host it dialled.
    let seen_as = if initiator { node.accepted_address(local) } else { readable_address(Some(&node.cfg.host), local) };
    Some(
        catalog::BAD_GENERATION_ID_FROM_RS
            .fill(node.dialect(), &[&node.id(), &seen_as, &ours, &peer.base_dn, &peer.id, &peer.generation_id]),
    )
}
