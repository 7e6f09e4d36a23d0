//! The directory service working through its inbox, one message at a time,
//! at the bridgehead's capacity: the flow of seed 002.
//!
//! - A request: 1099 and 1070 when it is taken from the inbox; the objects
//!   changed after its USN are read (at most 512); the work takes the
//!   capacity's time; the reply is submitted with 1071 and 1101. Every
//!   request gets a reply, an empty one too.
//! - A reply: 1099 when it is taken; applying it takes the capacity's time;
//!   when it announced more objects, the requester, now ready, asks for the
//!   next set from the reply's last USN (1068, 1100, 1058).
//!
//! The capacity is kept on average: while busy, each message's work starts
//! when the previous one's ended (not when the task woke up), so late
//! wake-ups do not add up; after idle time it starts now.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::counts::Counted;
use super::node::{lock, ExNode};
use super::wire::{Message, Reply, Request};

/// When the work in hand ends (real time).
struct Pacer {
    busy_until: Instant,
}

impl Pacer {
    async fn work(&mut self, node: &ExNode, product: Duration) {
        if product.is_zero() {
            return;
        }
        let (now, real) = (Instant::now(), node.real(product));
        // Still busy with the last message (it ended a moment ago): this one
        // starts when that one ended, so late wake-ups do not add up. Idle:
        // it starts now.
        let busy = now.saturating_duration_since(self.busy_until) <= real.max(Duration::from_millis(5));
        self.busy_until = if busy { self.busy_until } else { now } + real;
        tokio::time::sleep_until(self.busy_until).await;
    }
}

pub(super) async fn run(node: Arc<ExNode>, mut rx: mpsc::Receiver<Message>) {
    let mut pacer = Pacer { busy_until: Instant::now() };
    loop {
        let msg = tokio::select! {
            biased;
            _ = node.core.cancel.cancelled() => break,
            m = rx.recv() => match m {
                Some(m) => m,
                None => break,
            },
        };
        tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            _ = handle(&node, msg, &mut pacer) => {}
        }
        node.counters.count(Counted::Processed);
        if node.counters.snapshot().backlog() == 0 {
            node.core.notify();
        }
    }
}

async fn handle(node: &ExNode, msg: Message, pacer: &mut Pacer) {
    match msg {
        Message::Request(r) => {
            node.log.request_received(&r.from, &r.nc, r.from_usn);
            let got = lock(&node.dir).read(&r.nc, r.from_usn, node.org.elapsed());
            pacer.work(node, node.capacity.service(got.objects.len())).await;
            let (count, up_to_usn, more) = (got.objects.len(), got.up_to_usn, got.more);
            let reply = Reply {
                from: node.me().to_owned(),
                to: r.from.clone(),
                nc: r.nc,
                up_to_usn,
                more,
                objects: got.objects,
            };
            node.submit(&r.from, Message::Reply(reply));
            node.log.reply_sent(&r.from, count, up_to_usn, more);
        }
        Message::Reply(p) => {
            node.log.reply_received(&p.from, &p.nc);
            pacer.work(node, node.capacity.service(p.objects.len())).await;
            lock(&node.dir).apply(&p.nc, p.up_to_usn, p.objects.len());
            if p.more {
                request(node, &p.from, &p.nc);
            }
        }
    }
}

/// Asks `partner` for what changed in `nc` since the last USN held (1068,
/// then the request is submitted: 1100, 1058).
pub(super) fn request(node: &ExNode, partner: &str, nc: &str) {
    let from_usn = lock(&node.dir).last_usn(nc);
    node.log.asking(nc, partner);
    let req = Request { from: node.me().to_owned(), to: partner.to_owned(), nc: nc.to_owned(), from_usn };
    node.submit(partner, Message::Request(req));
    node.log.submitted(partner, nc);
}
