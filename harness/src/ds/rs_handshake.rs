//! The RS↔RS handshake, on both sides.
//!
//! Flow (reference §2.3): the initiator sends `ReplServerStartMsg`, the
//! acceptor answers with its own (or `StopMsg` when it already has, or is
//! about to have, a link for that peer and domain), then both exchange
//! `TopologyMsg`. The initiator logs 205, the acceptor 206 (77 first when the
//! generation ids differ; the link is kept). A failed outbound connect is
//! silent in the real product, and silent here (traced only).

use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::Instrument;

use super::catalog::{self, MsgDef};
use super::node::{LinkInfo, Node};
use super::rs_link::{self, RsPeer};
use super::session::{self, readable_address, Conn};
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

/// Logs 77 when both generation ids are set and differ (the link is kept).
fn check_generation(node: &Node, start: &ReplServerStart, remote: &str) {
    let ours = node.rs_generation(&start.base_dn);
    let theirs = start.header.generation_id;
    if ours > 0 && theirs > 0 && ours != theirs {
        node.log.emit(
            &catalog::BAD_GENERATION_ID_FROM_RS,
            &[&start.server_id, &remote, &theirs, &start.base_dn, &node.id(), &ours],
        );
    }
}

/// The acceptor's side, after the peer's `ReplServerStartMsg`.
pub(crate) async fn accept(node: Arc<Node>, mut conn: Conn, remote: String, start: ReplServerStart) {
    if node.domain(&start.base_dn).is_none() {
        tracing::debug!(domain = %start.base_dn, "not replicated here; refused");
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    }
    // The domain lock: one link per peer and domain. On a cross-connect the
    // link opened by the server with the smaller URL wins on both sides.
    let Some(token) = node.claim_peer(&start.base_dn, &start.server_url, node.url < start.server_url) else {
        tracing::debug!(peer = %start.server_url, "already linked; refused");
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    };
    let version = wire::negotiate_version(wire::PROTOCOL_VERSION, start.header.protocol_version);
    let timeout = node.handshake_timeout();
    let handshake = async {
        session::send(&mut conn, start_msg(&node, &start.base_dn, version), timeout)
            .await
            .map_err(|e| e.to_string())?;
        // The initiator decides: no encryption asked, both go on in clear.
        if !start.ssl_encryption && session::is_tls(&conn) {
            session::stop_encryption(&mut conn);
        }
        match session::recv(&mut conn, timeout).await {
            Ok(ReplMsg::Topology(_)) => {}
            Ok(other) => return Err(format!("unexpected {}", other.name())),
            Err(e) => return Err(e.to_string()),
        }
        session::send(&mut conn, topology(&node, &start.base_dn), timeout).await.map_err(|e| e.to_string())
    };
    let outcome = tokio::select! {
        _ = node.core.cancel.cancelled() => Err("stopping".to_owned()),
        r = handshake => r,
    };
    if let Err(why) = outcome {
        node.release(&start.base_dn, &start.server_url, token);
        if !node.core.cancel.is_cancelled() {
            tracing::debug!("RS handshake from {remote} failed: {why}");
            node.log.emit(&catalog::RS_DISCONNECTED_DURING_HANDSHAKE, &[&start.server_id, &node.id()]);
        }
        return session::reset(conn);
    }
    let peer = RsPeer {
        base_dn: start.base_dn.clone(),
        url: start.server_url.clone(),
        token,
        id: start.server_id.clone(),
        remote,
    };
    established(node, conn, &start, peer, false).await;
}

/// The initiator's side: resolve, dial, handshake, for a slot taken by the connect loop.
pub(crate) async fn connect(node: Arc<Node>, base_dn: String, peer_url: String, token: u64) {
    let attempt = async {
        let (host, port) = split_host_port(&peer_url).ok_or_else(|| format!("bad peer URL {peer_url:?}"))?;
        let to = node.core.hosts.resolve(&node.cfg.name, host, port).map_err(|e| e.to_string())?;
        let stream =
            transport::dial(node.cfg.bind_ip(), to, node.handshake_timeout()).await.map_err(|e| e.to_string())?;
        let remote = readable_address(Some(host), stream.peer_addr().unwrap_or(to));
        let secured = transport::secure_client(node.tls.as_ref(), host, stream, node.handshake_timeout())
            .await
            .map_err(|e| format!("TLS: {}", crate::pki::describe(&e)))?;
        let mut conn = session::framed(secured, node.max_frame_len);
        let timeout = node.handshake_timeout();
        session::send(&mut conn, start_msg(&node, &base_dn, wire::PROTOCOL_VERSION), timeout)
            .await
            .map_err(|e| e.to_string())?;
        let reply = match session::recv(&mut conn, timeout).await {
            Ok(ReplMsg::ReplServerStart(r)) => r,
            Ok(ReplMsg::Stop) => return Err("peer refused: already linked".to_owned()),
            Ok(other) => return Err(format!("unexpected {}", other.name())),
            Err(e) => return Err(e.to_string()),
        };
        if node.tls.is_some() && !node.cfg.ssl_encryption {
            session::stop_encryption(&mut conn);
        }
        session::send(&mut conn, topology(&node, &base_dn), timeout).await.map_err(|e| e.to_string())?;
        match session::recv(&mut conn, timeout).await {
            Ok(ReplMsg::Topology(_)) => Ok((conn, reply, remote)),
            Ok(other) => Err(format!("unexpected {}", other.name())),
            Err(e) => Err(e.to_string()),
        }
    };
    let outcome = tokio::select! {
        _ = node.core.cancel.cancelled() => Err("stopping".to_owned()),
        r = attempt => r,
    };
    let (conn, reply, remote) = match outcome {
        Ok(x) => x,
        Err(why) => {
            tracing::debug!(domain = %base_dn, "connect failed: {why}");
            return node.release(&base_dn, &peer_url, token);
        }
    };
    let peer = RsPeer { base_dn, url: peer_url, token, id: reply.server_id.clone(), remote };
    established(node, conn, &reply, peer, true).await;
}

/// Both sides once the handshake is done: 77 if due, 205 or 206, the slot
/// marked connected, then the link runs in its `link{domain,peer}` span.
async fn established(node: Arc<Node>, conn: Conn, theirs: &ReplServerStart, peer: RsPeer, initiator: bool) {
    check_generation(&node, theirs, &peer.remote);
    let (tx, rx) = mpsc::channel(LINK_QUEUE);
    let info = LinkInfo { peer_id: peer.id.clone(), initiator, remote: peer.remote.clone(), tx };
    let line: &MsgDef = if initiator { &catalog::CONNECTION_TO_RS } else { &catalog::CONNECTION_FROM_RS };
    // Logged before the link counts as up, so a waiter that sees it up also sees the line.
    node.log.emit(line, &[&node.id(), &peer.id, &peer.base_dn, &peer.remote]);
    if !node.promote(&peer.base_dn, &peer.url, peer.token, info) {
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    }
    let span = tracing::info_span!("link", domain = %peer.base_dn, peer = %peer.id);
    rs_link::run(node, conn, peer, rx).instrument(span).await;
}
