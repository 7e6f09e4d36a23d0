//! An established RS↔RS link: forwards changes, answers credits, and notices
//! failures the way the real reader and writer threads do.
//!
//! | what happens                       | logged                                  |
//! |------------------------------------|-----------------------------------------|
//! | peer sends StopMsg (clean close)   | nothing                                 |
//! | read or write fails (RST)          | 181 "…has failed"                       |
//! | FIN without StopMsg, or junk       | 53 "Exception when reading messages…"   |
//! | data unacknowledged > link_timeout | 181 (TCP gave up), then RST             |
//! | this server stops or is killed     | nothing here (StopMsg, or RST if killed)|

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::catalog;
use super::node::{Node, SlotState};
use super::rs;
use super::session::{self, Conn};
use super::unacked::Unacked;
use crate::error::WireError;
use crate::wire::{ReplMsg, Update};

/// How a link ended.
#[derive(Debug)]
pub(crate) enum End {
    /// This server is stopping or was killed.
    Stopping,
    /// The peer sent StopMsg.
    PeerStopped,
    /// A socket error, or TCP "gave up" (`link_timeout`).
    Failed,
    /// EOF without StopMsg, or bytes that are not a message.
    Reader(String),
}

/// What a received frame means: a message to handle, or how the link ended
/// (the same reading for RS↔RS links and the RS side of DS links).
pub(crate) fn received(frame: Option<Result<ReplMsg, WireError>>) -> Result<ReplMsg, End> {
    match frame {
        None => Err(End::Reader("no more data".into())),
        Some(Err(e)) if e.is_io() => Err(End::Failed),
        Some(Err(e)) => Err(End::Reader(e.to_string())),
        Some(Ok(ReplMsg::Stop)) => Err(End::PeerStopped),
        Some(Ok(m)) => Ok(m),
    }
}

/// How often a link checks its oldest unacknowledged message.
pub(crate) fn watchdog_period(link_timeout: Duration) -> Duration {
    (link_timeout / 4).clamp(Duration::from_millis(5), Duration::from_secs(1))
}

/// Sends a change to every directory server connected for the domain.
pub(crate) fn forward_to_dss(node: &Node, base_dn: &str, update: &Update) {
    if let Some(domain) = node.domain(base_dn) {
        let links = node.lock_domain(domain);
        for (_, info) in links.dss.values() {
            let _ = info.tx.try_send(ReplMsg::Update(update.clone()));
        }
    }
}

/// Sends a message to every peer RS linked for the domain (a full queue drops it:
/// these are periodic heartbeats or changes the peer also gets from its own DS).
pub(crate) fn forward_to_peers(node: &Node, base_dn: &str, msg: &ReplMsg) {
    if let Some(domain) = node.domain(base_dn) {
        let links = node.lock_domain(domain);
        for slot in links.peers.values() {
            if let SlotState::Connected(info) = &slot.state {
                let _ = info.tx.try_send(msg.clone());
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_rs_link(
    node: Arc<Node>,
    mut conn: Conn,
    base_dn: String,
    peer_url: String,
    token: u64,
    peer_id: String,
    remote: String,
    mut rx: mpsc::Receiver<ReplMsg>,
) {
    let link_timeout = node.real(node.timings.link_timeout);
    let mut unacked = Unacked::default();
    let mut watchdog = tokio::time::interval(watchdog_period(link_timeout));
    let end = loop {
        tokio::select! {
            biased;
            _ = node.cancel.cancelled() => break End::Stopping,
            frame = conn.next() => match received(frame) {
                Err(end) => break end,
                Ok(ReplMsg::Window { num_ack }) => unacked.acked(num_ack),
                Ok(msg @ (ReplMsg::CtHeartbeat { .. } | ReplMsg::Update(_))) => {
                    if let ReplMsg::Update(u) = &msg {
                        forward_to_dss(&node, &base_dn, u);
                    }
                    if session::send(&mut conn, ReplMsg::Window { num_ack: 1 }, link_timeout).await.is_err() {
                        break End::Failed;
                    }
                }
                Ok(_) => {}
            },
            Some(msg) = rx.recv() => {
                if unacked.sent(Instant::now())
                    && session::send(&mut conn, msg, link_timeout).await.is_err()
                {
                    break End::Failed;
                }
            }
            _ = watchdog.tick() => {
                if unacked.overdue(Instant::now(), link_timeout) {
                    break End::Failed;
                }
            }
        }
    };
    rs::release(&node, &base_dn, &peer_url, token);
    finish(&node, conn, end, |node, end| match end {
        End::Failed => node.log.emit(&catalog::RS_BADLY_DISCONNECTED, &[&node.id(), &peer_id, &remote, &base_dn]),
        End::Reader(why) => {
            let who = format!("Replication server RS({peer_id}) for domain \"{base_dn}\" at {remote}");
            node.log.emit(&catalog::READER_EXCEPTION, &[&who, &why]);
        }
        End::Stopping | End::PeerStopped => {}
    })
    .await;
}

/// Closes a link as its end calls for, logging through `log` unless the
/// server itself is stopping (then the peer's reaction is not ours to log).
pub(crate) async fn finish(node: &Node, conn: Conn, end: End, log: impl FnOnce(&Node, &End)) {
    if node.cancel.is_cancelled() {
        return session::end(conn, node.killed(), node.handshake_timeout()).await;
    }
    log(node, &end);
    match end {
        End::Failed => session::reset(conn),
        End::Stopping => session::end(conn, node.killed(), node.handshake_timeout()).await,
        End::PeerStopped | End::Reader(_) => drop(conn),
    }
}
