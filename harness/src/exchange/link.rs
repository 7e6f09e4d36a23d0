//! One outbound link: the connection a bridgehead keeps to a partner
//! bridgehead and the queue of messages waiting for it (the MTA's queue for
//! that site). It dials through the host map (so a scenario's route leads it
//! through a fault-proxy listener), retries every `connect_retry` while the
//! partner cannot be reached, and writes queued messages in batches. It
//! never reads: replies come back on the partner's own link.
//!
//! A message written into a connection that then fails is lost, as a mail
//! lost in transit; the requester asks again at its next activation.

use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio_util::codec::FramedWrite;

use super::codec::MessageCodec;
use super::counts::Counted;
use super::node::{ExNode, LinkState};
use super::wire::Message;
use crate::error::WireError;
use crate::transport::{self, Transport};

/// Messages written before one flush.
const BATCH: usize = 64;

enum Ended {
    Cancelled,
    QueueClosed,
    Broken(WireError),
    /// The partner closed or reset the connection.
    Closed(&'static str),
}

type Writer = FramedWrite<WriteHalf<Transport>, MessageCodec>;

/// Runs the link to `peer` until the node stops.
pub(super) async fn run(node: Arc<ExNode>, peer: String, mut rx: mpsc::Receiver<Message>, state: Arc<LinkState>) {
    let retry = node.real(node.org.timings.connect_retry);
    let timeout = node.real(node.org.timings.connect_timeout).max(Duration::from_millis(50));
    loop {
        let stream = tokio::select! {
            _ = node.core.cancel.cancelled() => return,
            s = connect(&node, &peer, timeout) => s,
        };
        let stream = match stream {
            Ok(s) => s,
            Err(why) => {
                tracing::debug!(peer, "cannot reach the partner: {why}");
                tokio::select! {
                    _ = node.core.cancel.cancelled() => return,
                    _ = tokio::time::sleep(retry) => continue,
                }
            }
        };
        state.set_up(true);
        node.core.notify();
        let (mut read, write) = tokio::io::split(Transport::Plain(stream));
        let mut framed = FramedWrite::new(write, MessageCodec::new(node.org.max_frame_len));
        let ended = pump(&node, &mut rx, &mut framed, &mut read, &state).await;
        state.set_up(false);
        node.core.notify();
        match ended {
            Ended::Cancelled | Ended::QueueClosed => {
                if node.core.killed() {
                    read.unsplit(framed.into_inner()).reset_on_close();
                } else {
                    let _ = tokio::time::timeout(timeout, framed.get_mut().shutdown()).await;
                }
                return;
            }
            Ended::Broken(_) | Ended::Closed(_) => {
                let why = match ended {
                    Ended::Broken(e) => e.to_string(),
                    Ended::Closed(why) => why.to_owned(),
                    _ => String::new(),
                };
                tracing::debug!(peer, "link ended: {why}; reconnecting");
                tokio::select! {
                    _ = node.core.cancel.cancelled() => return,
                    _ = tokio::time::sleep(retry) => {}
                }
            }
        }
    }
}

async fn connect(node: &ExNode, peer: &str, timeout: Duration) -> Result<tokio::net::TcpStream, String> {
    let p = node.org.peer_named(peer).ok_or_else(|| format!("{peer} is not a bridgehead of the organization"))?;
    let to = node.core.hosts.resolve(node.me(), &p.host, p.port).map_err(|e| e.to_string())?;
    transport::dial(node.address, to, timeout).await.map_err(|e| format!("{to}: {e}"))
}

/// Resolves when the partner closes or resets the connection (it never
/// writes on this one; a byte from it is taken as a close too).
async fn closed(read: &mut ReadHalf<Transport>) -> &'static str {
    let mut byte = [0u8; 1];
    match read.read(&mut byte).await {
        Ok(0) => "closed by the partner",
        Ok(_) => "the partner wrote on a send-only link",
        Err(_) => "reset by the partner",
    }
}

async fn pump(
    node: &ExNode,
    rx: &mut mpsc::Receiver<Message>,
    framed: &mut Writer,
    read: &mut ReadHalf<Transport>,
    state: &LinkState,
) -> Ended {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let first = tokio::select! {
            biased;
            _ = node.core.cancel.cancelled() => return Ended::Cancelled,
            why = closed(read) => return Ended::Closed(why),
            m = rx.recv() => match m {
                Some(m) => m,
                None => return Ended::QueueClosed,
            },
        };
        batch.push(first);
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let mut written = Vec::with_capacity(batch.len());
        for m in batch.drain(..) {
            match framed.feed(&m).await {
                Ok(()) => written.push(m),
                Err(e) if e.is_io() => return broken(node, e, written.len() + 1),
                Err(e) => {
                    tracing::warn!("message to {} not encodable: {e}", m.to());
                    node.counters.count(Counted::Discarded);
                }
            }
        }
        // Counted before the flush, so a receiver never counts a message its
        // sender has not; a failed flush loses the batch (counted discarded too).
        state.count_sent(written.len() as u64);
        for m in &written {
            let request = matches!(m, Message::Request(_));
            node.counters.count(Counted::Sent { request, objects: m.objects() });
        }
        let flushed = tokio::select! {
            _ = node.core.cancel.cancelled() => return Ended::Cancelled,
            r = framed.flush() => r,
        };
        if let Err(e) = flushed {
            return broken(node, e, written.len());
        }
    }
}

fn broken(node: &ExNode, e: WireError, lost: usize) -> Ended {
    for _ in 0..lost {
        node.counters.count(Counted::Discarded);
    }
    tracing::debug!("{lost} message(s) lost with the connection");
    Ended::Broken(e)
}
