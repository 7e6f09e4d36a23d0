//! How an established link ends, shared by RS↔RS links ([`super::rs_link`])
//! and the RS side of DS sessions ([`super::ds_handler`]): reading a received
//! frame as "go on" or an end, the watchdog's period, and the close each end
//! calls for.

use std::time::Duration;

use super::node::Node;
use super::session::{self, Conn};
use crate::error::WireError;
use crate::wire::ReplMsg;

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

/// What a received frame means: a message to handle, or how the link ended.
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

/// Closes a link as its end calls for, logging through `log` unless the
/// server itself is stopping (then the peer's reaction is not ours to log).
pub(crate) async fn finish(node: &Node, conn: Conn, end: End, log: impl FnOnce(&Node, &End)) {
    if node.core.cancel.is_cancelled() {
        return session::end(conn, node.core.killed(), node.handshake_timeout()).await;
    }
    log(node, &end);
    match end {
        End::Failed => session::reset(conn),
        End::Stopping => session::end(conn, node.core.killed(), node.handshake_timeout()).await,
        End::PeerStopped | End::Reader(_) => drop(conn),
    }
}
