//! The replication server: its listener, the connect loop to peer RSs, and the
//! RS↔RS handshake on both sides.
//!
//! Flow (reference §2.3): the initiator sends `ReplServerStartMsg`, the
//! acceptor answers with its own (or `StopMsg` when it already has, or is
//! about to have, a link for that peer and domain), then both exchange
//! `TopologyMsg`. The initiator logs 205, the acceptor 206. A failed outbound
//! connect is silent in the real product, and silent here.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::catalog::{self, Dialect};
use super::node::{LinkInfo, Node, PeerSlot, SlotState};
use super::session::{self, readable_address, Conn, RecvError};
use super::{ds_handler, rs_link};
use crate::hostmap::split_host_port;
use crate::wire::{self, ReplMsg, ReplServerStart, StartHeader, Topology};

const LINK_QUEUE: usize = 256;

/// Accepts replication connections until the node stops.
pub(crate) async fn accept_loop(node: Arc<Node>, listener: TcpListener) {
    loop {
        tokio::select! {
            _ = node.cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let n = node.clone();
                    node.tracker.spawn(async move { inbound(n, stream, peer).await });
                }
                Err(e) => {
                    tracing::warn!(server = %node.cfg.name, "accept failed: {e}");
                    tokio::time::sleep(node.real(node.timings.connect_retry) / 10).await;
                }
            }
        }
    }
}

/// The first message decides what an accepted connection is.
async fn inbound(node: Arc<Node>, stream: TcpStream, peer: SocketAddr) {
    let remote = readable_address(None, peer);
    let local = stream.local_addr().map(|a| readable_address(None, a)).unwrap_or_default();
    // The real product runs the TLS handshake before any replication frame.
    let secured = tokio::select! {
        _ = node.cancel.cancelled() => return,
        r = session::secure_server(node.tls.as_ref(), stream, node.handshake_timeout()) => r,
    };
    let transport = match secured {
        Ok(t) => t,
        Err(e) => {
            node.log.emit(&catalog::SSL_SERVER_CON_ATTEMPT_ERROR, &[&remote, &local, &crate::pki::describe(&e)]);
            return;
        }
    };
    let mut conn = session::framed(transport, node.max_frame_len);
    let first = tokio::select! {
        _ = node.cancel.cancelled() => return session::reset(conn),
        r = session::recv(&mut conn, node.handshake_timeout()) => r,
    };
    match first {
        Ok(ReplMsg::ServerStart(start)) => ds_handler::accept(node, conn, remote, start).await,
        Ok(ReplMsg::ReplServerStart(start)) => accept_rs(node, conn, remote, start).await,
        Ok(other) => {
            if node.log.dialect() == Dialect::Modern {
                node.log.emit(&catalog::UNEXPECTED_MESSAGE, &[&remote, &other.name()]);
            } else {
                let what = format!("(unexpected message {} from {remote})", other.name());
                node.log.emit(&catalog::EXCEPTION_LISTENING, &[&what]);
            }
            session::reset(conn);
        }
        // A TCP probe that connects and hangs up says nothing.
        Err(RecvError::Closed) => {}
        Err(e) => {
            node.log.emit(&catalog::EXCEPTION_LISTENING, &[&format!("{e} (from {remote})")]);
            session::reset(conn);
        }
    }
}

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

/// The acceptor's side of the RS↔RS handshake.
async fn accept_rs(node: Arc<Node>, mut conn: Conn, remote: String, start: ReplServerStart) {
    let Some(domain) = node.domain(&start.base_dn) else {
        tracing::debug!(server = %node.cfg.name, domain = %start.base_dn, "not replicated here; refused");
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    };
    // The domain lock: one link per peer and domain. On a cross-connect the
    // link opened by the server with the smaller URL wins on both sides.
    let token = {
        let mut links = node.lock_domain(domain);
        let keep_ours = match links.peers.get(&start.server_url).map(|s| &s.state) {
            Some(SlotState::Connected(_)) => true,
            Some(SlotState::Connecting) => node.url < start.server_url,
            None => false,
        };
        if keep_ours {
            None
        } else {
            let token = links.token();
            links.peers.insert(start.server_url.clone(), PeerSlot { token, state: SlotState::Connecting });
            Some(token)
        }
    };
    let Some(token) = token else {
        tracing::debug!(server = %node.cfg.name, peer = %start.server_url, "already linked; refused");
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
        _ = node.cancel.cancelled() => Err("stopping".to_owned()),
        r = handshake => r,
    };
    if let Err(why) = outcome {
        release(&node, &start.base_dn, &start.server_url, token);
        if !node.cancel.is_cancelled() {
            tracing::debug!(server = %node.cfg.name, "RS handshake from {remote} failed: {why}");
            node.log.emit(&catalog::RS_DISCONNECTED_DURING_HANDSHAKE, &[&start.server_id, &node.id()]);
        }
        return session::reset(conn);
    }
    check_generation(&node, &start, &remote);
    let (tx, rx) = mpsc::channel(LINK_QUEUE);
    let info = LinkInfo { peer_id: start.server_id.clone(), initiator: false, remote: remote.clone(), tx };
    // Logged before the link counts as up, so a waiter that sees it up also sees the line.
    node.log.emit(&catalog::CONNECTION_FROM_RS, &[&node.id(), &start.server_id, &start.base_dn, &remote]);
    if !promote(&node, &start.base_dn, &start.server_url, token, info) {
        return session::close_cleanly(conn, timeout).await;
    }
    rs_link::run_rs_link(node, conn, start.base_dn, start.server_url, token, start.server_id, remote, rx).await;
}

/// Marks a slot connected if it is still ours.
fn promote(node: &Node, base_dn: &str, url: &str, token: u64, info: LinkInfo) -> bool {
    let Some(domain) = node.domain(base_dn) else {
        return false;
    };
    let ok = {
        let mut links = node.lock_domain(domain);
        match links.peers.get_mut(url) {
            Some(slot) if slot.token == token => {
                slot.state = SlotState::Connected(info);
                true
            }
            _ => false,
        }
    };
    node.notify();
    ok
}

/// Frees a slot if it is still ours.
pub(crate) fn release(node: &Node, base_dn: &str, url: &str, token: u64) {
    if let Some(domain) = node.domain(base_dn) {
        let mut links = node.lock_domain(domain);
        if links.peers.get(url).is_some_and(|s| s.token == token) {
            links.peers.remove(url);
        }
    }
    node.notify();
}

/// Connect periods a server waits, after a link to a peer with a smaller URL
/// is gone, before it dials that peer itself.
const DEFER_PERIODS: u32 = 3;

/// Every `connect_retry`, for each domain, dials every peer RS not linked yet.
///
/// Both sides of a pair dial, as in the real product, but not at once: the
/// server with the smaller URL dials first, the other only once no link has
/// formed for [`DEFER_PERIODS`] periods (a one-way block still lets it
/// through). The real product leaves this to a race; here which side logs 205
/// does not depend on thread timing, so a run is reproducible.
pub(crate) async fn connect_loop(node: Arc<Node>) {
    let mut missing: std::collections::HashMap<(String, String), u32> = std::collections::HashMap::new();
    loop {
        for base_dn in node.domains.keys() {
            for peer_url in &node.cfg.peers {
                if *peer_url == node.url {
                    continue;
                }
                let Some(domain) = node.domain(base_dn) else {
                    continue;
                };
                let key = (base_dn.clone(), peer_url.clone());
                let token = {
                    let mut links = node.lock_domain(domain);
                    if links.peers.contains_key(peer_url) {
                        missing.remove(&key);
                        continue;
                    }
                    let periods = missing.entry(key).or_insert(0);
                    *periods += 1;
                    if *peer_url < node.url && *periods <= DEFER_PERIODS {
                        continue;
                    }
                    let token = links.token();
                    links.peers.insert(peer_url.clone(), PeerSlot { token, state: SlotState::Connecting });
                    token
                };
                let (n, d, p) = (node.clone(), base_dn.clone(), peer_url.clone());
                node.tracker.spawn(async move { connect_rs(n, d, p, token).await });
            }
        }
        tokio::select! {
            _ = node.cancel.cancelled() => break,
            _ = tokio::time::sleep(node.connect_retry_jittered()) => {}
        }
    }
}

/// The initiator's side: resolve, dial, handshake. Failures are silent (traced only).
async fn connect_rs(node: Arc<Node>, base_dn: String, peer_url: String, token: u64) {
    let attempt = async {
        let (host, port) = split_host_port(&peer_url).ok_or_else(|| format!("bad peer URL {peer_url:?}"))?;
        let to = node.hosts.resolve(&node.cfg.name, host, port).map_err(|e| e.to_string())?;
        let stream =
            session::dial(node.cfg.bind_ip(), to, node.handshake_timeout()).await.map_err(|e| e.to_string())?;
        let remote = readable_address(Some(host), stream.peer_addr().unwrap_or(to));
        let transport = session::secure_client(node.tls.as_ref(), host, stream, node.handshake_timeout())
            .await
            .map_err(|e| format!("TLS: {}", crate::pki::describe(&e)))?;
        let mut conn = session::framed(transport, node.max_frame_len);
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
        _ = node.cancel.cancelled() => Err("stopping".to_owned()),
        r = attempt => r,
    };
    let (conn, reply, remote) = match outcome {
        Ok(x) => x,
        Err(why) => {
            tracing::debug!(server = %node.cfg.name, peer = %peer_url, domain = %base_dn, "connect failed: {why}");
            return release(&node, &base_dn, &peer_url, token);
        }
    };
    check_generation(&node, &reply, &remote);
    let (tx, rx) = mpsc::channel(LINK_QUEUE);
    let info = LinkInfo { peer_id: reply.server_id.clone(), initiator: true, remote: remote.clone(), tx };
    node.log.emit(&catalog::CONNECTION_TO_RS, &[&node.id(), &reply.server_id, &base_dn, &remote]);
    if !promote(&node, &base_dn, &peer_url, token, info) {
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    }
    rs_link::run_rs_link(node, conn, base_dn, peer_url, token, reply.server_id, remote, rx).await;
}
