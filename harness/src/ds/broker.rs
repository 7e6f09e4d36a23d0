//! The directory server's replication domain: one session to a replication
//! server per domain, as `ReplicationBroker` keeps it.
//!
//! The DS tries its replication servers in order. When none answers it logs
//! 208 once, until it connects again (the real product's `connectionError`
//! flag); single failed attempts go to the debug log only. Connected, it logs
//! 62 (or 96 when the generation ids differ), sends change-time heartbeats,
//! and watches the RS's heartbeats: two consecutive checks that find nothing
//! received for a heartbeat interval log 97 and close. A StopMsg from the RS
//! logs 63; a broken or reset session logs 180. Either way it reconnects.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;

use super::catalog;
use super::node::Node;
use super::session::{self, readable_address, Conn};
use crate::hostmap::split_host_port;
use crate::transport;
use crate::wire::{self, ReplMsg, ServerStart, StartHeader, StartSession, Update};

/// What the harness asks of a running DS domain.
#[derive(Debug)]
pub enum DsCommand {
    /// Write a change to an entry (sent to the RS as an update).
    Write { dn: String },
    /// Close the session cleanly and connect again (after an import or restore).
    Reconnect,
}

/// How a session ended.
#[derive(Debug, PartialEq, Eq)]
enum SessionEnd {
    Stopping,
    Reconnect,
    Lost,
}

pub(crate) async fn run_domain(node: Arc<Node>, base_dn: String, mut cmds: mpsc::Receiver<DsCommand>) {
    let mut connection_error = false;
    loop {
        let mut session = None;
        for url in &node.cfg.ds_replication_servers {
            let span = node.core.conn_span(url);
            match connect(&node, &base_dn, url).instrument(span.clone()).await {
                Ok(s) => {
                    session = Some((s, span));
                    break;
                }
                Err(why) => {
                    tracing::debug!(parent: &span, domain = %base_dn, "DS connect failed: {why}")
                }
            }
            if node.core.cancel.is_cancelled() {
                return;
            }
        }
        match session {
            Some(((conn, rs_id, remote), span)) => {
                connection_error = false;
                node.ds_session(&base_dn, Some(&rs_id));
                let link = tracing::info_span!(parent: &span, "link", domain = %base_dn, peer = %rs_id);
                let end = run_session(&node, &base_dn, conn, &rs_id, &remote, &mut cmds).instrument(link).await;
                node.ds_session(&base_dn, None);
                if end == SessionEnd::Stopping {
                    return;
                }
                continue;
            }
            None if !connection_error => {
                node.log.emit(&catalog::NO_AVAILABLE_CHANGELOGS, &[&node.id(), &base_dn]);
                connection_error = true;
            }
            None => {}
        }
        tokio::select! {
            _ = node.core.cancel.cancelled() => return,
            _ = tokio::time::sleep(node.connect_retry_jittered()) => {}
        }
    }
}

async fn connect(node: &Node, base_dn: &str, url: &str) -> Result<(Conn, String, String), String> {
    let (host, port) = split_host_port(url).ok_or_else(|| format!("bad replication server {url:?}"))?;
    let to = node.core.hosts.resolve(&node.cfg.name, host, port).map_err(|e| e.to_string())?;
    let timeout = node.handshake_timeout();
    let stream = tokio::select! {
        _ = node.core.cancel.cancelled() => return Err("stopping".into()),
        r = transport::dial(node.cfg.bind_ip(), to, timeout) => r.map_err(|e| e.to_string())?,
    };
    let remote = readable_address(Some(host), stream.peer_addr().unwrap_or(to));
    let secured = tokio::select! {
        _ = node.core.cancel.cancelled() => return Err("stopping".into()),
        r = transport::secure_client(node.tls.as_ref(), host, stream, timeout) => r.map_err(|e| format!("TLS: {}", crate::pki::describe(&e)))?,
    };
    let mut conn = session::framed(secured, node.max_frame_len);
    let ds_gen = node.ds_generation(base_dn);
    let start = ReplMsg::ServerStart(ServerStart {
        header: StartHeader { protocol_version: wire::PROTOCOL_VERSION, generation_id: ds_gen, group_id: 1 },
        base_dn: base_dn.to_owned(),
        server_id: node.id().to_owned(),
        server_url: format!("{}:{}", node.cfg.host, node.cfg.admin_port),
        max_receive_delay: 0,
        max_receive_queue: 0,
        max_send_delay: 0,
        max_send_queue: 0,
        window_size: 100_000,
        heartbeat_interval_ms: u64::try_from(node.timings.heartbeat_interval.as_millis()).unwrap_or(u64::MAX),
        ssl_encryption: node.tls.is_some() && node.cfg.ssl_encryption,
        server_state: Vec::new(),
    });
    let handshake = async {
        session::send(&mut conn, start, timeout).await.map_err(|e| e.to_string())?;
        let reply = match session::recv(&mut conn, timeout).await {
            Ok(ReplMsg::ReplServerStartDs(r)) => r,
            Ok(other) => return Err(format!("unexpected {}", other.name())),
            Err(e) => return Err(e.to_string()),
        };
        if node.tls.is_some() && !node.cfg.ssl_encryption {
            session::stop_encryption(&mut conn);
        }
        let session_msg = ReplMsg::StartSession(StartSession {
            status: 1,
            assured_flag: 0,
            assured_mode: 1,
            safe_data_level: 1,
            referral_urls: Vec::new(),
        });
        session::send(&mut conn, session_msg, timeout).await.map_err(|e| e.to_string())?;
        match session::recv(&mut conn, timeout).await {
            Ok(ReplMsg::Topology(_)) => Ok(reply),
            Ok(other) => Err(format!("unexpected {}", other.name())),
            Err(e) => Err(e.to_string()),
        }
    };
    let reply = tokio::select! {
        _ = node.core.cancel.cancelled() => return Err("stopping".into()),
        r = handshake => r?,
    };
    let rs_gen = reply.header.generation_id;
    if rs_gen == ds_gen || rs_gen < 0 {
        node.log.emit(&catalog::NOW_FOUND_SAME_GENERATION, &[&node.id(), &reply.server_id, &base_dn, &remote, &ds_gen]);
    } else {
        node.log.emit(
            &catalog::NOW_FOUND_BAD_GENERATION,
            &[&node.id(), &reply.server_id, &base_dn, &remote, &ds_gen, &rs_gen],
        );
    }
    Ok((conn, reply.server_id, remote))
}

/// The DS's watch on its RS (the real product's `HeartbeatMonitor`): two
/// consecutive checks, an interval apart, that find nothing received for an
/// interval mean the RS is gone.
#[derive(Debug)]
struct HeartbeatMonitor {
    interval: Duration,
    last_rx: Instant,
    missed_once: bool,
}

impl HeartbeatMonitor {
    fn new(interval: Duration, now: Instant) -> Self {
        Self { interval, last_rx: now, missed_once: false }
    }

    /// Anything from the RS counts as a heartbeat.
    fn received(&mut self, now: Instant) {
        self.last_rx = now;
    }

    /// One periodic check; true when the RS counts as gone.
    fn rs_gone(&mut self, now: Instant) -> bool {
        let stale = now.saturating_duration_since(self.last_rx) > self.interval;
        let gone = stale && self.missed_once;
        self.missed_once = stale;
        gone
    }
}

async fn run_session(
    node: &Node,
    base_dn: &str,
    mut conn: Conn,
    rs_id: &str,
    remote: &str,
    cmds: &mut mpsc::Receiver<DsCommand>,
) -> SessionEnd {
    let interval = node.real(node.timings.heartbeat_interval);
    let write_timeout = node.real(node.timings.link_timeout);
    let mut checks = tokio::time::interval_at(Instant::now() + interval, interval);
    let mut monitor = HeartbeatMonitor::new(interval, Instant::now());
    let mut ct = tokio::time::interval(node.real(node.timings.changetime_heartbeat_interval));
    let mut seq: u32 = 0;
    let lost = |node: &Node| {
        node.log.emit(&catalog::REPLICATION_SERVER_BADLY_DISCONNECTED, &[&node.id(), &base_dn, &rs_id, &remote]);
    };
    loop {
        tokio::select! {
            biased;
            _ = node.core.cancel.cancelled() => {
                session::end(conn, node.core.killed(), node.handshake_timeout()).await;
                return SessionEnd::Stopping;
            }
            cmd = cmds.recv() => match cmd {
                Some(DsCommand::Reconnect) | None => {
                    session::close_cleanly(conn, node.handshake_timeout()).await;
                    return SessionEnd::Reconnect;
                }
                Some(DsCommand::Write { dn }) => {
                    seq = seq.wrapping_add(1);
                    let update = Update { csn: node.csn(seq), dn, entry_uuid: format!("{seq:08x}-0000-0000-0000-000000000000"), changes: "replace: description".into() };
                    if session::send(&mut conn, ReplMsg::Update(update), write_timeout).await.is_err() {
                        lost(node);
                        return SessionEnd::Lost;
                    }
                }
            },
            frame = conn.next() => {
                monitor.received(Instant::now());
                match frame {
                    Some(Ok(ReplMsg::Stop)) => {
                        if !node.core.cancel.is_cancelled() {
                            node.log.emit(&catalog::REPLICATION_SERVER_PROPERLY_DISCONNECTED, &[&rs_id, &remote, &node.id(), &base_dn]);
                        }
                        return SessionEnd::Lost;
                    }
                    Some(Ok(ReplMsg::Heartbeat | ReplMsg::Update(_))) => {
                        if session::send(&mut conn, ReplMsg::Window { num_ack: 1 }, write_timeout).await.is_err() {
                            lost(node);
                            return SessionEnd::Lost;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        if node.core.cancel.is_cancelled() {
                            return SessionEnd::Stopping;
                        }
                        lost(node);
                        session::reset(conn);
                        return SessionEnd::Lost;
                    }
                }
            }
            _ = ct.tick() => {
                seq = seq.wrapping_add(1);
                if session::send(&mut conn, ReplMsg::CtHeartbeat { csn: node.csn(seq) }, write_timeout).await.is_err() {
                    lost(node);
                    return SessionEnd::Lost;
                }
            }
            _ = checks.tick() => {
                if monitor.rs_gone(Instant::now()) {
                    node.log.emit(&catalog::HEARTBEAT_FAILURE, &[&node.id(), &rs_id, &remote, &base_dn]);
                    drop(conn);
                    return SessionEnd::Lost;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_stale_checks_in_a_row_mean_the_rs_is_gone() {
        let i = Duration::from_secs(10);
        let t0 = Instant::now();
        let mut m = HeartbeatMonitor::new(i, t0);
        assert!(!m.rs_gone(t0 + i), "exactly one interval is not stale");
        assert!(!m.rs_gone(t0 + i * 2), "first stale check");
        assert!(m.rs_gone(t0 + i * 3), "second stale check in a row");
    }

    #[test]
    fn a_message_between_stale_checks_starts_over() {
        let i = Duration::from_secs(10);
        let t0 = Instant::now();
        let mut m = HeartbeatMonitor::new(i, t0);
        assert!(!m.rs_gone(t0 + i * 2));
        m.received(t0 + i * 2);
        assert!(!m.rs_gone(t0 + i * 3), "fresh again");
        assert!(!m.rs_gone(t0 + i * 4), "stale once more, but only once");
        assert!(m.rs_gone(t0 + i * 5));
    }
}
