//! The replication server's listener (`ReplicationServer.runListen`):
//! accepts connections, runs the TLS handshake when the server runs TLS
//! (105 when JSSE would throw an `SSLException`, nothing for a reset or a
//! timeout), and hands each connection to what its first message asks for:
//! a directory server's session ([`super::ds_handler`]) or an RS↔RS link
//! ([`super::rs_handshake`]).
//!
//! A first frame that cannot be read (EOF, 5 s of silence, bytes that are
//! not a message) logs 86 with the exception's message only, in every
//! version. A first message of a known but unexpected type logs 300 from
//! 4.0 on (OPENDJ-3309) and that connection is closed; before (2.x, 3.0)
//! the session is closed silently and the listener thread returns: the port
//! stays bound, new peers connect and then hear nothing, until a restart.
//!
//! The real listener reads each first message in its own thread, one
//! connection after the other; the mock serves them side by side.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};

use super::catalog::{self, Dialect};
use super::node::Node;
use super::session::{self, host_port, readable_address};
use super::{ds_handler, jsse, rs_handshake};
use crate::transport;
use crate::wire::ReplMsg;

/// Accepts replication connections on `listener` (bound to `listening`) until
/// the node stops; each runs in its own `conn{id,peer}` span.
pub(crate) async fn accept_loop(node: Arc<Node>, listener: TcpListener, listening: SocketAddr) {
    loop {
        tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            _ = node.listener_gone.cancelled() => {
                // The thread is gone, the socket is not: the kernel still
                // completes connections into the backlog, nobody reads them.
                tracing::debug!("listener thread ended; {listening} stays bound until the server stops");
                node.core.cancel.cancelled().await;
                break;
            }
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
    let remote = node.accepted_address(peer);
    let local = match stream.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!("local address of an accepted connection unknown ({e}); naming the listener's");
            listening
        }
    };
    // The real product runs the TLS handshake before any replication frame.
    let secured = tokio::select! {
        _ = node.core.cancel.cancelled() => return,
        r = transport::secure_server(node.tls.as_ref(), stream, node.handshake_timeout()) => r,
    };
    let transport = match secured {
        Ok(t) => t,
        Err(e) => {
            match jsse::server_side(&e, node.cfg.cert_defect, node.jdk()) {
                Some(text) => node
                    .log
                    .emit(&catalog::SSL_SERVER_CON_ATTEMPT_ERROR, &[&remote, &readable_address(None, local), &text]),
                None => tracing::debug!("TLS handshake from {remote} ended without an SSLException: {e}"),
            }
            return;
        }
    };
    let mut conn = session::framed(transport, node.max_frame_len);
    let first = tokio::select! {
        _ = node.core.cancel.cancelled() => return session::end(conn, node.core.killed(), node.handshake_timeout()).await,
        r = session::recv(&mut conn, node.handshake_timeout()) => r,
    };
    match first {
        Ok(ReplMsg::ServerStart(start)) => ds_handler::accept(node, conn, remote, start).await,
        Ok(ReplMsg::ReplServerStart(start)) => rs_handshake::accept(node, conn, remote, start).await,
        Ok(other) => {
            if node.dialect() == Dialect::Modern {
                node.log.emit(&catalog::UNEXPECTED_MESSAGE, &[&host_port(peer), &other.name()]);
            } else {
                tracing::debug!("first message {} from {remote}: the listener thread returns", other.name());
                node.listener_gone.cancel();
            }
            session::close_cleanly(conn, node.handshake_timeout()).await;
        }
        Err(e) => {
            node.log.emit(&catalog::EXCEPTION_LISTENING, &[&e.java(node.jdk()).message()]);
            drop(conn);
        }
    }
}
