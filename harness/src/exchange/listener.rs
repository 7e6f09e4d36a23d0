//! The bridgehead's listener (its message transfer agent's inbound side):
//! every accepted connection is read frame by frame into the inbox, which
//! the directory service works through one message at a time
//! ([`super::inbox`]). A full inbox stops the reading, so the backlog pushes
//! back through TCP to the sender's queue. A malformed frame closes that
//! connection (logged on stderr); the listener goes on.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::FramedRead;

use super::codec::MessageCodec;
use super::counts::Counted;
use super::node::ExNode;
use crate::transport::Transport;

pub(super) async fn accept_loop(node: Arc<ExNode>, listener: TcpListener) {
    loop {
        tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let span = node.core.conn_span(&peer);
                    node.core.spawn_in(span, read_loop(node.clone(), stream));
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

async fn read_loop(node: Arc<ExNode>, stream: TcpStream) {
    let mut framed = FramedRead::new(Transport::Plain(stream), MessageCodec::new(node.org.max_frame_len));
    loop {
        let frame = tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            f = framed.next() => f,
        };
        let msg = match frame {
            None => return,
            Some(Ok(msg)) => msg,
            Some(Err(e)) if e.is_io() => {
                tracing::debug!("connection ended: {e}");
                return;
            }
            Some(Err(e)) => {
                tracing::warn!(server = node.me(), "malformed message: {e}; connection closed");
                return;
            }
        };
        if msg.to() != node.me() {
            tracing::warn!(
                server = node.me(),
                "a message for {} from {} reached this bridgehead: dropped",
                msg.to(),
                msg.from()
            );
            continue;
        }
        node.counters.count(Counted::Received { request: matches!(msg, super::wire::Message::Request(_)) });
        tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            sent = node.inbox.send(msg) => if sent.is_err() { break },
        }
    }
    if node.core.killed() {
        framed.get_ref().reset_on_close();
    }
}
