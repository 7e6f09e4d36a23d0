//! The replication server's side of a directory-server session.
//!
//! Handshake (reference §2.2): `ServerStartMsg` in, `ReplServerStartDSMsg` out,
//! `StartSessionMsg` in, `TopologyMsg` out; then 146 if the generation ids
//! differ (the connection is kept) and 207. Afterwards the RS sends heartbeats
//! when it has been idle for a third of the DS's heartbeat interval, forwards
//! the DS's change-time heartbeats and changes to its peer RSs, and ignores
//! changes from a DS with another generation id (135).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

use super::catalog;
use super::link_end::{self, End};
use super::node::{LinkInfo, Node};
use super::session::{self, Conn};
use super::unacked::Unacked;
use crate::wire::{self, ReplMsg, ReplServerStartDs, ServerStart, StartHeader, Topology};

const DS_QUEUE: usize = 256;

/// The acceptor's side of a DS session, after its `ServerStartMsg`.
pub(crate) async fn accept(node: Arc<Node>, mut conn: Conn, remote: String, start: ServerStart) {
    let base_dn = start.base_dn.clone();
    if node.domain(&base_dn).is_none() {
        tracing::debug!(domain = %base_dn, "DS for a domain not replicated here");
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    }
    let ds_gen = start.header.generation_id;
    // An RS without a generation id for the domain takes the first DS's.
    let rs_gen = {
        let mut gens = node.gens_lock();
        let g = gens.rs.entry(base_dn.clone()).or_insert(-1);
        if *g <= 0 {
            *g = ds_gen;
        }
        *g
    };
    let version = wire::negotiate_version(wire::PROTOCOL_VERSION, start.header.protocol_version);
    let connected = node.ds_count(&base_dn) as u64;
    let reply = ReplMsg::ReplServerStartDs(ReplServerStartDs {
        header: StartHeader { protocol_version: version, generation_id: rs_gen, group_id: 1 },
        base_dn: base_dn.clone(),
        server_id: node.id().to_owned(),
        server_url: node.url.clone(),
        window_size: 100_000,
        ssl_encryption: start.ssl_encryption,
        degraded_status_threshold: 5000,
        weight: 1,
        connected_ds_number: connected,
        server_state: Vec::new(),
    });
    let timeout = node.handshake_timeout();
    let first_half = async {
        session::send(&mut conn, reply, timeout).await.map_err(|e| e.to_string())?;
        // The DS decides: no encryption asked, both go on in clear.
        if !start.ssl_encryption && session::is_tls(&conn) {
            session::stop_encryption(&mut conn);
        }
        match session::recv(&mut conn, timeout).await {
            Ok(ReplMsg::StartSession(_)) => Ok(()),
            Ok(other) => Err(format!("unexpected {}", other.name())),
            Err(e) => Err(e.to_string()),
        }
    };
    let outcome = tokio::select! {
        _ = node.core.cancel.cancelled() => Err("stopping".to_owned()),
        r = first_half => r,
    };
    if let Err(why) = outcome {
        if !node.core.cancel.is_cancelled() {
            tracing::debug!("DS handshake from {remote} failed: {why}");
            node.log.emit(&catalog::DS_DISCONNECTED_DURING_HANDSHAKE, &[&start.server_id, &node.id()]);
        }
        return session::reset(conn);
    }
    if rs_gen > 0 && ds_gen > 0 && rs_gen != ds_gen {
        node.log.emit(
            &catalog::BAD_GENERATION_ID_FROM_DS,
            &[&start.server_id, &remote, &ds_gen, &base_dn, &node.id(), &rs_gen],
        );
    }
    // 207 and the registration come before the last handshake message, so a
    // DS that sees its session up also finds the RS's line logged.
    node.log.emit(&catalog::CONNECTION_FROM_DS, &[&node.id(), &start.server_id, &base_dn, &remote]);
    let (tx, rx) = mpsc::channel(DS_QUEUE);
    let info = LinkInfo { peer_id: start.server_id.clone(), initiator: false, remote: remote.clone(), tx };
    let Some(token) = node.add_ds(&base_dn, info) else {
        return session::reset(conn);
    };
    let mut t = Topology::default();
    t.ds.push(wire::DsInfo {
        ds_id: start.server_id.clone(),
        rs_id: node.id().to_owned(),
        generation_id: ds_gen,
        status: 1,
    });
    let sent = session::send(&mut conn, ReplMsg::Topology(t), timeout).await;
    let heartbeat = node.real(Duration::from_millis(start.heartbeat_interval_ms)) / 3;
    let span = tracing::info_span!("link", domain = %base_dn, peer = %start.server_id);
    let ds = DsPeer { id: start.server_id, generation: ds_gen, remote, heartbeat };
    run(node, conn, base_dn, token, ds, rx, sent.is_err()).instrument(span).await;
}

struct DsPeer {
    id: String,
    generation: i64,
    remote: String,
    heartbeat: Duration,
}

async fn run(
    node: Arc<Node>,
    mut conn: Conn,
    base_dn: String,
    token: u64,
    ds: DsPeer,
    mut rx: mpsc::Receiver<ReplMsg>,
    already_failed: bool,
) {
    let link_timeout = node.real(node.timings.link_timeout);
    let mut unacked = Unacked::default();
    let mut watchdog = tokio::time::interval(link_end::watchdog_period(link_timeout));
    let heartbeats = !ds.heartbeat.is_zero();
    let mut beat = tokio::time::interval(if heartbeats { ds.heartbeat } else { Duration::from_secs(3600) });
    let mut last_sent = Instant::now();
    let end = if already_failed {
        End::Failed
    } else {
        loop {
            tokio::select! {
                biased;
                _ = node.core.cancel.cancelled() => break End::Stopping,
                frame = conn.next() => match link_end::received(frame) {
                    Err(end) => break end,
                    Ok(ReplMsg::Window { num_ack }) => unacked.acked(num_ack),
                    Ok(msg @ ReplMsg::CtHeartbeat { .. }) => node.forward_to_peers(&base_dn, &msg),
                    Ok(ReplMsg::Update(u)) => {
                        let rs_gen = node.rs_generation(&base_dn);
                        if rs_gen > 0 && ds.generation > 0 && rs_gen != ds.generation {
                            node.log.emit(
                                &catalog::IGNORING_UPDATE_FROM_DS_BADGENID,
                                &[&node.id(), &u.csn, &base_dn, &ds.id, &ds.remote, &ds.generation, &rs_gen],
                            );
                        } else {
                            node.forward_to_peers(&base_dn, &ReplMsg::Update(u));
                        }
                    }
                    Ok(_) => {}
                },
                Some(msg) = rx.recv() => {
                    last_sent = Instant::now();
                    if unacked.sent(last_sent) && session::send(&mut conn, msg, link_timeout).await.is_err() {
                        break End::Failed;
                    }
                }
                _ = beat.tick(), if heartbeats => {
                    let now = Instant::now();
                    if now.saturating_duration_since(last_sent) >= ds.heartbeat && !unacked.window_full() {
                        last_sent = now;
                        unacked.sent(now);
                        if session::send(&mut conn, ReplMsg::Heartbeat, link_timeout).await.is_err() {
                            break End::Failed;
                        }
                    }
                }
                _ = watchdog.tick() => {
                    if unacked.overdue(Instant::now(), link_timeout) {
                        break End::Failed;
                    }
                }
            }
        }
    };
    node.remove_ds(&base_dn, &ds.id, token);
    link_end::finish(&node, conn, end, |node, end| match end {
        End::Failed => node.log.emit(&catalog::DS_BADLY_DISCONNECTED, &[&node.id(), &ds.id, &ds.remote, &base_dn]),
        End::Reader(why) => {
            let who = format!("Directory server DS({}) for domain \"{base_dn}\" at {}", ds.id, ds.remote);
            node.log.emit(&catalog::READER_EXCEPTION, &[&who, &why]);
        }
        End::Stopping | End::PeerStopped => {}
    })
    .await;
}
