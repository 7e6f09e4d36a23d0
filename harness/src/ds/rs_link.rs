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

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::catalog;
use super::link_end::{self, End};
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
}

/// Runs an established link until it ends (in a `link{domain,peer}` span).
pub(crate) async fn run(node: Arc<Node>, mut conn: Conn, peer: RsPeer, mut rx: mpsc::Receiver<ReplMsg>) {
    let link_timeout = node.real(node.timings.link_timeout);
    let mut unacked = Unacked::default();
    let mut watchdog = tokio::time::interval(link_end::watchdog_period(link_timeout));
    let base_dn = &peer.base_dn;
    let end = loop {
        tokio::select! {
            biased;
            _ = node.core.cancel.cancelled() => break End::Stopping,
            frame = conn.next() => match link_end::received(frame) {
                Err(end) => break end,
                Ok(ReplMsg::Window { num_ack }) => unacked.acked(num_ack),
                Ok(msg @ (ReplMsg::CtHeartbeat { .. } | ReplMsg::Update(_))) => {
                    if let ReplMsg::Update(u) = &msg {
                        node.forward_to_dss(base_dn, u);
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
    link_end::finish(&node, conn, end, |node, end| match end {
        End::Failed => node.log.emit(&catalog::RS_BADLY_DISCONNECTED, &[&node.id(), &peer.id, &peer.remote, base_dn]),
        End::Reader(why) => {
            let who = format!("Replication server RS({}) for domain \"{base_dn}\" at {}", peer.id, peer.remote);
            node.log.emit(&catalog::READER_EXCEPTION, &[&who, &why]);
        }
        End::Stopping | End::PeerStopped => {}
    })
    .await;
}
