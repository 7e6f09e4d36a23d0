//! The replication server's listener: accepts connections, runs the TLS
//! handshake when the server runs TLS (105 when it fails), and hands each
//! connection to what its first message asks for: a directory server's
//! session ([`super::ds_handler`]) or an RS↔RS link ([`super::rs_handshake`]).
//! Anything else is logged (86, or 300 from 3.x on) and the connection reset.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};

use super::catalog::{self, Dialect};
use super::node::Node;
use super::session::{self, readable_address, RecvError};
use super::{ds_handler, rs_handshake};
use crate::transport;
use crate::wire::ReplMsg;

/// Accepts replication connections on `listener` (bound to `listening`) until
/// the node stops; each runs in its own `conn{id,peer}` span.
pub(crate) async fn accept_loop(node: Arc<Node>, listener: TcpListener, listening: SocketAddr) {
    loop {
        tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let n = node.clone();
                    node.core.spawn_in(node.core.conn_span(&peer), inbound(n, stream, peer, listening));
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(node.real(node.timings.connect_retry) / 10).await;
                }
            }
        }
    }
}

/// The first message decides what an accepted connection is.
async fn inbound(node: Arc<Node>, stream: TcpStream, peer: SocketAddr, listening: SocketAddr) {
    let remote = readable_address(None, peer);
    let local = match stream.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!("local address of an accepted connection unknown ({e}); naming the listener's");
            listening
        }
    };
    let local = readable_address(None, local);
    // The real product runs the TLS handshake before any replication frame.
    let secured = tokio::select! {
        _ = node.core.cancel.cancelled() => return,
        r = transport::secure_server(node.tls.as_ref(), stream, node.handshake_timeout()) => r,
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
        _ = node.core.cancel.cancelled() => return session::reset(conn),
        r = session::recv(&mut conn, node.handshake_timeout()) => r,
    };
    match first {
        Ok(ReplMsg::ServerStart(start)) => ds_handler::accept(node, conn, remote, start).await,
        Ok(ReplMsg::ReplServerStart(start)) => rs_handshake::accept(node, conn, remote, start).await,
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
