//! How an established link ends, shared by RS↔RS links ([`super::rs_link`])
//! and the RS side of DS sessions ([`super::ds_handler`]): reading a received
//! frame as "go on" or an end, the watchdog's period, the line each end
//! writes per version, and the close each end calls for.
//!
//! `ServerReader.run` decides the line from the exception it caught:
//!
//! | version | caught                           | line                          |
//! |---------|----------------------------------|-------------------------------|
//! | 2.x     | any `IOException` (EOF included) | 181 / 211                     |
//! | 2.x     | anything else (a bad message)    | 53 `…from HANDLER`            |
//! | 3.0 on  | a `SocketException` (a reset)    | 181 / 211                     |
//! | 3.0 on  | anything else (EOF, bad message) | 53 `…from HANDLER: TRACE`     |
//!
//! A StopMsg ends the link without a line; the writer's `SocketException`
//! (TCP gave up: `link_timeout`) is 181 / 211 in every version.

use std::time::Duration;

use super::catalog::{self, Dialect};
use super::java::{JavaException, Site};
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
    /// A write failed, or TCP "gave up" (`link_timeout`): a `SocketException`.
    Failed,
    /// The reader caught this exception.
    Reader(JavaException),
}

/// What a received frame means: a message to handle, or how the link ended.
pub(crate) fn received(frame: Option<Result<ReplMsg, WireError>>, node: &Node) -> Result<ReplMsg, End> {
    match frame {
        None => Err(End::Reader(JavaException::no_more_data(false))),
        Some(Err(WireError::Io(e))) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(End::Reader(JavaException::no_more_data(true)))
        }
        Some(Err(e)) => Err(End::Reader(JavaException::from_wire(&e, node.jdk()))),
        Some(Ok(ReplMsg::Stop)) => Err(End::PeerStopped),
        Some(Ok(m)) => Ok(m),
    }
}

/// How often a link checks its oldest unacknowledged message.
pub(crate) fn watchdog_period(link_timeout: Duration) -> Duration {
    (link_timeout / 4).clamp(Duration::from_millis(5), Duration::from_secs(1))
}

/// The far end as the product's handler names itself (`toString()`).
pub(crate) enum Handler<'a> {
    /// `Replication server RS(x) for domain "d"`.
    Rs { id: &'a str, domain: &'a str },
    /// `Replica DS(x) for domain "d"`.
    Ds { id: &'a str, domain: &'a str },
}

impl std::fmt::Display for Handler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handler::Rs { id, domain } => write!(f, "Replication server RS({id}) for domain \"{domain}\""),
            Handler::Ds { id, domain } => write!(f, "Replica DS({id}) for domain \"{domain}\""),
        }
    }
}

/// The line the reader or writer writes for `end`: `failed` (181 or 211)
/// or 53 naming the handler.
pub(crate) fn log_end(node: &Node, end: &End, handler: &Handler<'_>, failed: impl FnOnce()) {
    let dialect = node.dialect();
    match end {
        End::Failed => failed(),
        End::Reader(e) if dialect == Dialect::Legacy && e.is_io() => failed(),
        End::Reader(e) if dialect != Dialect::Legacy && e.is_socket() => failed(),
        End::Reader(e) => {
            let trace = e.single_line(dialect, Site::Reader, node.jdk());
            node.log.emit(&catalog::READER_EXCEPTION, &[handler, &trace]);
        }
        End::Stopping | End::PeerStopped => {}
    }
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
