//! Messages counted where they really go: handed to the messaging system
//! (the 1100 and 1101 records), written to a socket, decoded from a socket,
//! taken from the inbox. The seed's formula sits beside them.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Messages a day across an organization, seed 002:
/// N sites × ((N − 1) × 2 contexts × F activations × 2, a reply for every request).
pub fn messages_a_day(sites: u64, activations_per_day: u64) -> u64 {
    sites * (sites.saturating_sub(1) * 2 * activations_per_day * 2)
}

/// One bridgehead's counters, shared by its tasks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests_submitted: AtomicU64,
    replies_submitted: AtomicU64,
    requests_sent: AtomicU64,
    replies_sent: AtomicU64,
    requests_received: AtomicU64,
    replies_received: AtomicU64,
    processed: AtomicU64,
    discarded: AtomicU64,
    objects_sent: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::SeqCst);
}

/// What [`Counters`] is told.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counted {
    Submitted {
        request: bool,
    },
    /// Written to a socket (a reply with its objects).
    Sent {
        request: bool,
        objects: usize,
    },
    Received {
        request: bool,
    },
    Processed,
    /// Its outbound queue was full or it had no route: not sent.
    Discarded,
}

impl Counters {
    pub fn count(&self, what: Counted) {
        match what {
            Counted::Submitted { request: true } => bump(&self.requests_submitted),
            Counted::Submitted { request: false } => bump(&self.replies_submitted),
            Counted::Sent { request: true, .. } => bump(&self.requests_sent),
            Counted::Sent { request: false, objects } => {
                bump(&self.replies_sent);
                self.objects_sent.fetch_add(objects as u64, Ordering::SeqCst);
            }
            Counted::Received { request: true } => bump(&self.requests_received),
            Counted::Received { request: false } => bump(&self.replies_received),
            Counted::Processed => bump(&self.processed),
            Counted::Discarded => bump(&self.discarded),
        }
    }

    pub fn snapshot(&self) -> Count {
        let g = |c: &AtomicU64| c.load(Ordering::SeqCst);
        Count {
            requests_submitted: g(&self.requests_submitted),
            replies_submitted: g(&self.replies_submitted),
            requests_sent: g(&self.requests_sent),
            replies_sent: g(&self.replies_sent),
            requests_received: g(&self.requests_received),
            replies_received: g(&self.replies_received),
            processed: g(&self.processed),
            discarded: g(&self.discarded),
            objects_sent: g(&self.objects_sent),
        }
    }
}

/// A bridgehead's counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Requests handed to the messaging system (1100).
    pub requests_submitted: u64,
    /// Replies handed to the messaging system (1101).
    pub replies_submitted: u64,
    /// Written to a socket.
    pub requests_sent: u64,
    pub replies_sent: u64,
    /// Decoded from a socket.
    pub requests_received: u64,
    pub replies_received: u64,
    /// Taken from the inbox and handled.
    pub processed: u64,
    /// Never sent (a full outbound queue).
    pub discarded: u64,
    /// Objects in the replies it sent.
    pub objects_sent: u64,
}

impl Count {
    pub fn sent(&self) -> u64 {
        self.requests_sent + self.replies_sent
    }

    pub fn received(&self) -> u64 {
        self.requests_received + self.replies_received
    }

    /// Received and not handled yet: the inbox backlog.
    pub fn backlog(&self) -> u64 {
        self.received().saturating_sub(self.processed)
    }

    /// The sum of several bridgeheads' counts.
    pub fn total<'a>(counts: impl IntoIterator<Item = &'a Count>) -> Count {
        counts.into_iter().fold(Count::default(), |a, c| Count {
            requests_submitted: a.requests_submitted + c.requests_submitted,
            replies_submitted: a.replies_submitted + c.replies_submitted,
            requests_sent: a.requests_sent + c.requests_sent,
            replies_sent: a.replies_sent + c.replies_sent,
            requests_received: a.requests_received + c.requests_received,
            replies_received: a.replies_received + c.replies_received,
            processed: a.processed + c.processed,
            discarded: a.discarded + c.discarded,
            objects_sent: a.objects_sent + c.objects_sent,
        })
    }

    /// For a whole organization: every message handed over was received and
    /// handled, and every request got its reply.
    pub fn is_quiet(&self) -> bool {
        self.requests_submitted == self.requests_received
            && self.replies_submitted == self.replies_received
            && self.requests_received == self.replies_submitted
            && self.backlog() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_table() {
        assert_eq!(messages_a_day(10, 8), 2880);
        assert_eq!(messages_a_day(20, 8), 12160);
        assert_eq!(messages_a_day(30, 8), 27840);
        assert_eq!(messages_a_day(10, 96), 12 * 2880);
    }

    #[test]
    fn quiet_means_everything_handed_over_arrived_and_was_answered() {
        let c = Counters::default();
        c.count(Counted::Submitted { request: true });
        assert!(!c.snapshot().is_quiet());
        c.count(Counted::Received { request: true });
        c.count(Counted::Submitted { request: false });
        c.count(Counted::Processed);
        assert!(!c.snapshot().is_quiet(), "the reply has not arrived");
        c.count(Counted::Received { request: false });
        c.count(Counted::Processed);
        assert!(c.snapshot().is_quiet());
    }
}
