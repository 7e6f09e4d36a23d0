//! Written-but-unacknowledged bookkeeping: how a mock link notices a silent drop.
//!
//! The real product has no heartbeat on RS↔RS links: a black-holed link is
//! noticed only when TCP gives up on data it cannot deliver. The mock stands
//! for TCP's acknowledgements with the protocol's own `WindowMsg` credits: the
//! receiver of each change or change-time heartbeat answers `WindowMsg(1)`.
//! When the oldest unacknowledged message is older than `link_timeout`, the
//! link has failed, and the writer logs it as the real writer logs a
//! `SocketException`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// At most this many messages wait for their credit; beyond it the sender's
/// window is exhausted and periodic messages are skipped (never buffered).
pub(crate) const WINDOW: usize = 1024;

#[derive(Debug, Default)]
pub(crate) struct Unacked {
    sent: VecDeque<Instant>,
}

impl Unacked {
    /// Records a message that needs a credit; false when the window is full.
    pub fn sent(&mut self, at: Instant) -> bool {
        if self.sent.len() >= WINDOW {
            return false;
        }
        self.sent.push_back(at);
        true
    }

    pub fn window_full(&self) -> bool {
        self.sent.len() >= WINDOW
    }

    /// Applies a `WindowMsg(n)` credit.
    pub fn acked(&mut self, n: u64) {
        for _ in 0..n {
            if self.sent.pop_front().is_none() {
                break;
            }
        }
    }

    /// True when the oldest message has waited longer than `limit`.
    pub fn overdue(&self, now: Instant, limit: Duration) -> bool {
        self.sent.front().is_some_and(|&t| now.saturating_duration_since(t) > limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_clear_the_oldest_first() {
        let t0 = Instant::now();
        let mut u = Unacked::default();
        assert!(u.sent(t0));
        assert!(u.sent(t0 + Duration::from_secs(5)));
        assert!(u.overdue(t0 + Duration::from_secs(11), Duration::from_secs(10)));
        u.acked(1);
        assert!(!u.overdue(t0 + Duration::from_secs(11), Duration::from_secs(10)));
        u.acked(5);
        assert!(!u.overdue(t0 + Duration::from_secs(100), Duration::from_secs(10)));
    }

    #[test]
    fn the_window_is_bounded() {
        let mut u = Unacked::default();
        let t = Instant::now();
        for _ in 0..WINDOW {
            assert!(u.sent(t));
        }
        assert!(u.window_full());
        assert!(!u.sent(t));
    }
}
