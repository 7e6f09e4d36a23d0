//! An established RS↔RS link: forwards changes, answers credits, and notices
//! failures the way the real reader and writer threads do.
//!
//! | what happens                       | logged (see [`super::link_end`])        |
//! |------------------------------------|-----------------------------------------|
//! | peer sends StopMsg (clean close)   | nothing                                 |
//! | read or write fails (RST)          | 181 "…has failed"                       |
//! | FIN without StopMsg (a kill too)   | 2.x: 181; 3.0 on: 53 with the trace     |
//! | bytes that are not a message       | 53 (2.x: without the trace)             |
//! | data unacknowledged > link_timeout | 181 (TCP gave up), then RST             |
//! | a change from a peer whose generation id differs | 80, the change dropped    |
//! | this server stops or is killed     | nothing here (StopMsg, or FIN if killed)|

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::catalog;
use super::link_end::{self, End, Handler};
use super::node::Node;
use super::session::{self, Conn};
use super::unacked::Unacked;
use crate::wire::ReplMsg;

/// Which link this is: its domain, its slot, and the peer as logs name it.
#[derive(Debug)]
pub(crate) struct RsPeer {
    pub base_dn: String,
    /// The slot's key: the peer's server URL.
    pub url: String,
    pub token: u64,
    pub id: String,
    pub remote: String,
    /// The peer RS's generation id for the domain.
    pub generation_id: i64,
}

/// Runs an established link until it ends (in a `link{domain,peer}` span);
/// `peer_error` is the text of the ErrorMsg the peer's domain sends first
/// when the generation ids differ (79).
pub(crate) async fn run(
    node: Arc<Node>,
    mut conn: Conn,
    peer: RsPeer,
    mut rx: mpsc::Receiver<ReplMsg>,
    peer_error: Option<String>,
) {
    if let Some(text) = peer_error {
        node.log.emit(&catalog::ERROR_MSG_RECEIVED, &[&text]);
    }
    let link_timeout = node.real(node.timings.link_timeout);
    let mut unacked = Unacked::default();
    let mut watchdog = tokio::time::interval(link_end::watchdog_period(link_timeout));
    let base_dn = &peer.base_dn;
    let end = loop {
        tokio::select! {
            biased;
            _ = node.core.cancel.cancelled() => break End::Stopping,
            frame = conn.next() => match link_end::received(frame, &node) {
                Err(end) => break end,
                Ok(ReplMsg::Window { num_ack }) => unacked.acked(num_ack),
                Ok(msg @ (ReplMsg::CtHeartbeat { .. } | ReplMsg::Update(_))) => {
                    if let ReplMsg::Update(u) = &msg {
                        let ours = node.rs_generation(base_dn);
                        if ours > 0 && ours != peer.generation_id {
                            node.log.emit(
                                &catalog::IGNORING_UPDATE_FROM_RS,
                                &[&node.id(), &u.csn, base_dn, &peer.id, &peer.remote, &peer.generation_id, &ours],
                            );
                        } else {
                            node.forward_to_dss(base_dn, u);
                        }
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
    node.release(base_dn, &peer.url, peer.token);
    let handler = Handler::Rs { id: &peer.id, domain: base_dn };
    link_end::finish(&node, conn, end, |node, end| {
        link_end::log_end(node, end, &handler, || {
            node.log.emit(&catalog::RS_BADLY_DISCONNECTED, &[&node.id(), &peer.id, &peer.remote, base_dn])
        })
    })
    .await;
}
