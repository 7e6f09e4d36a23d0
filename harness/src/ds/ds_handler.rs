//! The replication server's side of a directory-server session.
//!
//! Handshake (reference §2.2, `DataServerHandler.startFromRemoteDS`):
//! `ServerStartMsg` in; the domain lock taken (no timeout); a DS with the
//! same server id already connected here logs 54 and the newcomer is closed
//! (StopMsg); `ReplServerStartDSMsg` out; `StartSessionMsg` in (a StopMsg
//! instead: the DS only probed, phase 1, and nothing is logged; an
//! `IOException`: 178); 146 if the generation ids differ (the connection is
//! kept); `TopologyMsg` out and 207. Afterwards the RS sends heartbeats
//! when it has been idle for a third of the DS's heartbeat interval,
//! forwards the DS's change-time heartbeats and changes to its peer RSs,
//! ignores changes from a DS in "Bad generation id" status (135) and
//! forwards it none (a trace only, as the domain does).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

use super::catalog;
use super::link_end::{self, End, Handler};
use super::node::{LinkInfo, Node, BAD_GEN_ID_STATUS};
use super::session::{self, Conn, RecvError};
use super::unacked::Unacked;
use crate::wire::{self, ReplMsg, ReplServerStartDs, ServerStart, StartHeader, Topology};

const DS_QUEUE: usize = 256;

/// `getMonitorInstanceName()` of a replication server: `Replication Server PORT ID`.
fn monitor_name(node: &Node) -> String {
    format!("Replication Server {} {}", node.url.rsplit(':').next().unwrap_or_default(), node.id())
}

/// How the handshake's second half ended.
enum Half {
    Session(wire::StartSession),
    /// The DS sent StopMsg: it only probed (phase 1).
    Probe,
    /// An `IOException`: 178.
    Broken(String),
    /// Something else: aborted without a line of its own.
    Refused(String),
}

/// The acceptor's side of a DS session, after its `ServerStartMsg`.
pub(crate) async fn accept(node: Arc<Node>, mut conn: Conn, remote: String, start: ServerStart) {
    let base_dn = start.base_dn.clone();
    let Some(lock) = node.domain_lock(&base_dn) else {
        tracing::debug!(domain = %base_dn, "DS for a domain not replicated here");
        return session::close_cleanly(conn, node.handshake_timeout()).await;
    };
    // The product's "let the reader see an old connection close" pause.
    if node.domain(&base_dn).is_some_and(|l| l.dss.contains_key(&start.server_id)) {
        tokio::time::sleep(node.real(Duration::from_millis(100))).await;
    }
    let guard = tokio::select! {
        _ = node.core.cancel.cancelled() => return session::end(conn, node.core.killed(), node.handshake_timeout()).await,
        g = lock.lock_owned() => g,
    };
    let existing = node.domain(&base_dn).and_then(|l| l.dss.get(&start.server_id).map(|(_, i)| i.peer_id.clone()));
    if let Some(id) = existing {
        let old = Handler::Ds { id: &id, domain: &base_dn };
        let new = Handler::Ds { id: &start.server_id, domain: &base_dn };
        node.log.emit(&catalog::DUPLICATE_SERVER_ID, &[&monitor_name(&node), &old, &new, &start.server_id]);
        drop(guard);
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
    let second_half = async {
        if let Err(e) = session::send(&mut conn, reply, timeout).await {
            return Half::Broken(e.to_string());
        }
        // The DS decides: no encryption asked, both go on in clear.
        if !start.ssl_encryption && session::is_tls(&conn) {
            session::stop_encryption(&mut conn);
        }
        match session::recv(&mut conn, timeout).await {
            Ok(ReplMsg::StartSession(s)) => Half::Session(s),
            Ok(ReplMsg::Stop) => Half::Probe,
            Ok(other) => Half::Refused(format!("StartSessionMsg required, {} received", other.name())),
            Err(e @ (RecvError::Timeout | RecvError::Closed)) => Half::Broken(e.to_string()),
            Err(RecvError::Wire(e)) if e.is_io() => Half::Broken(e.to_string()),
            Err(e) => Half::Refused(e.to_string()),
        }
    };
    let outcome = tokio::select! {
        _ = node.core.cancel.cancelled() => Half::Refused("stopping".to_owned()),
        r = second_half => r,
    };
    let session_msg = match outcome {
        Half::Session(s) => s,
        Half::Probe => {
            tracing::debug!("DS {} probed (phase 1 only)", start.server_id);
            return drop(conn);
        }
        Half::Broken(why) => {
            if !node.core.cancel.is_cancelled() {
                tracing::debug!("DS handshake from {remote} failed: {why}");
                node.log.emit(&catalog::DS_DISCONNECTED_DURING_HANDSHAKE, &[&start.server_id, &node.id()]);
            }
            return drop(conn);
        }
        Half::Refused(why) => {
            tracing::debug!("DS handshake from {remote} aborted: {why}");
            return drop(conn);
        }
    };
    if rs_gen > 0 && ds_gen != rs_gen {
        node.log.emit(
            &catalog::BAD_GENERATION_ID_FROM_DS,
            &[&start.server_id, &remote, &ds_gen, &base_dn, &node.id(), &rs_gen],
        );
    }
    // 207 and the registration come before the last handshake message, so a
    // DS that sees its session up also finds the RS's line logged.
    node.log.emit(&catalog::CONNECTION_FROM_DS, &[&node.id(), &start.server_id, &base_dn, &remote]);
    let (tx, rx) = mpsc::channel(DS_QUEUE);
    let bad_generation = session_msg.status == BAD_GEN_ID_STATUS;
    let info = LinkInfo {
        peer_id: start.server_id.clone(),
        initiator: false,
        remote: remote.clone(),
        tx,
        generation_id: ds_gen,
        bad_generation,
    };
    let Some(token) = node.add_ds(&base_dn, info) else {
        return session::reset(conn);
    };
    let mut t = Topology::default();
    t.ds.push(wire::DsInfo {
        ds_id: start.server_id.clone(),
        rs_id: node.id().to_owned(),
        generation_id: ds_gen,
        status: session_msg.status,
    });
    let sent = session::send(&mut conn, ReplMsg::Topology(t), timeout).await;
    drop(guard);
    let heartbeat = node.real(Duration::from_millis(start.heartbeat_interval_ms)) / 3;
    let span = tracing::info_span!("link", domain = %base_dn, peer = %start.server_id);
    let ds = DsPeer { id: start.server_id, generation: ds_gen, bad_generation, remote, heartbeat };
    run(node, conn, base_dn, token, ds, rx, sent.is_err()).instrument(span).await;
}

struct DsPeer {
    id: String,
    generation: i64,
    bad_generation: bool,
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
                frame = conn.next() => match link_end::received(frame, &node) {
                    Err(end) => break end,
                    Ok(ReplMsg::Window { num_ack }) => unacked.acked(num_ack),
                    Ok(msg @ ReplMsg::CtHeartbeat { .. }) => node.forward_to_peers(&base_dn, &msg),
                    Ok(ReplMsg::Update(u)) => {
                        let rs_gen = node.rs_generation(&base_dn);
                        if ds.bad_generation {
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
    let handler = Handler::Ds { id: &ds.id, domain: &base_dn };
    link_end::finish(&node, conn, end, |node, end| {
        link_end::log_end(node, end, &handler, || {
            node.log.emit(&catalog::DS_BADLY_DISCONNECTED, &[&node.id(), &ds.id, &ds.remote, &base_dn])
        })
    })
    .await;
}
