//! The directory server's replication domain: one session to a replication
//! server per domain, as `ReplicationBroker` keeps it.
//!
//! Finding an RS is [`super::ds_connect`]'s job (phase-1 probes, the
//! elected RS, phase 2; 17, 212, 119, 23, 208 once per outage); when none
//! is found the DS tries again every 500 ms (`reStart`). Connected, it
//! sends change-time heartbeats and watches the RS's heartbeats: two
//! consecutive checks that find nothing received for a heartbeat interval
//! log 97 and close. A StopMsg from the RS logs 63; a broken or reset
//! session logs 180. Either way it reconnects at once.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::Instrument;

use super::catalog;
use super::ds_connect::{Connected, Selector};
use super::node::Node;
use super::session;
use crate::wire::{ReplMsg, Update};

/// The product's pause between two connection rounds (`reStart`'s 500 ms).
const RETRY: Duration = Duration::from_millis(500);

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

/// Runs one domain until the node stops; `first` is told once the first
/// connection round is over (the server logs "started" after it, as the
/// product's start-up connects each domain before it does).
pub(crate) async fn run_domain(
    node: Arc<Node>,
    base_dn: String,
    mut cmds: mpsc::Receiver<DsCommand>,
    first: oneshot::Sender<()>,
) {
    let mut selector = Selector::default();
    let mut first = Some(first);
    loop {
        let span = node.core.conn_span(&base_dn);
        let connected = selector.connect(&node, &base_dn).instrument(span.clone()).await;
        if let Some(tx) = first.take() {
            let _ = tx.send(());
        }
        if node.core.cancel.is_cancelled() {
            return;
        }
        if let Some(c) = connected {
            node.ds_session(&base_dn, Some(&c.rs_id));
            let link = tracing::info_span!(parent: &span, "link", domain = %base_dn, peer = %c.rs_id);
            let end = run_session(&node, &base_dn, c, &mut cmds).instrument(link).await;
            node.ds_session(&base_dn, None);
            if end == SessionEnd::Stopping {
                return;
            }
            continue;
        }
        tokio::select! {
            _ = node.core.cancel.cancelled() => return,
            _ = tokio::time::sleep(node.real(RETRY)) => {}
        }
    }
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

async fn run_session(node: &Node, base_dn: &str, c: Connected, cmds: &mut mpsc::Receiver<DsCommand>) -> SessionEnd {
    let Connected { mut conn, rs_id, readable, shown } = c;
    let (rs_id, shown) = (rs_id.as_str(), shown.as_str());
    let interval = node.real(node.timings.heartbeat_interval);
    let write_timeout = node.real(node.timings.link_timeout);
    let mut checks = tokio::time::interval_at(Instant::now() + interval, interval);
    let mut monitor = HeartbeatMonitor::new(interval, Instant::now());
    let mut ct = tokio::time::interval(node.real(node.timings.changetime_heartbeat_interval));
    let mut seq: u32 = 0;
    let lost = |node: &Node| {
        node.log.emit(&catalog::REPLICATION_SERVER_BADLY_DISCONNECTED, &[&node.id(), &base_dn, &rs_id, &shown]);
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
                            node.log.emit(&catalog::REPLICATION_SERVER_PROPERLY_DISCONNECTED, &[&rs_id, &shown, &node.id(), &base_dn]);
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
                    // HeartbeatMonitor prints the readable address in every version.
                    node.log.emit(&catalog::HEARTBEAT_FAILURE, &[&node.id(), &rs_id, &readable, &base_dn]);
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
