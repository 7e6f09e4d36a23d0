//! The bookkeeping of one direction, each piece with its own rule: the
//! chunks waiting for their delivery time, the `limit_data` allowance and
//! the `timeout` clock.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

/// Bytes a direction may hold while chunks wait for their delivery time.
/// As much as Toxiproxy's 1024 chunks of 32 KiB: enough to keep a fast
/// stream flowing under a latency fault (bandwidth × delay).
pub const MAX_PENDING: usize = 32 << 20;

/// Chunks read and not yet written, each with the time it is due.
#[derive(Debug)]
pub(crate) struct Queue {
    chunks: VecDeque<(Bytes, Instant)>,
    bytes: usize,
    last_due: Instant,
}

impl Queue {
    pub fn new() -> Self {
        Queue { chunks: VecDeque::new(), bytes: 0, last_due: Instant::now() }
    }

    /// Queues a chunk due at `at`, or later: a chunk never overtakes an earlier one.
    pub fn push(&mut self, data: Bytes, at: Instant) {
        let due = at.max(self.last_due);
        self.last_due = due;
        self.bytes += data.len();
        self.chunks.push_back((data, due));
    }

    /// When the oldest chunk is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.chunks.front().map(|(_, due)| *due)
    }

    /// The oldest chunk, if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Bytes> {
        if self.next_due()? > now {
            return None;
        }
        let (data, _) = self.chunks.pop_front()?;
        self.bytes -= data.len();
        Some(data)
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Holding [`MAX_PENDING`] bytes or more: stop reading.
    pub fn is_full(&self) -> bool {
        self.bytes >= MAX_PENDING
    }
}

/// `limit_data`: bytes accepted in this direction, and how many had been
/// when the limit in force took effect (its count starts there).
#[derive(Debug, Default)]
pub(crate) struct Allowance {
    accepted: u64,
    base: Option<(String, u64)>,
}

impl Allowance {
    /// Follows the `limit_data` toxic in force (`(name, bytes)`).
    pub fn follow(&mut self, limit: Option<&(String, u64)>) {
        match limit {
            Some((name, _)) if self.base.as_ref().is_none_or(|(n, _)| n != name) => {
                self.base = Some((name.clone(), self.accepted));
            }
            None => self.base = None,
            _ => {}
        }
    }

    /// Accepts up to `n` new bytes under `limit`: how many pass, and whether
    /// the limit is reached with them (then the connection closes once they
    /// are written). Saturates: a limit near `u64::MAX` is simply never reached.
    pub fn admit(&mut self, n: usize, limit: Option<&(String, u64)>) -> (usize, bool) {
        let mut n = n;
        let mut reached = false;
        if let (Some((_, limit)), Some((_, base))) = (limit, &self.base) {
            let left = base.saturating_add(*limit).saturating_sub(self.accepted);
            let left = usize::try_from(left).unwrap_or(usize::MAX);
            if n >= left {
                n = left;
                reached = true;
            }
        }
        self.accepted = self.accepted.saturating_add(n as u64);
        (n, reached)
    }
}

/// `timeout`: since when the toxic in force has held this direction.
#[derive(Debug, Default)]
pub(crate) struct TimeoutClock(Option<(String, Instant)>);

/// What the timeout clock says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// No timeout toxic, nor was there one.
    Off,
    /// Bytes are dropped; the connection closes at the deadline (never if `None`).
    Dropping(Option<Instant>),
    /// Its time is up, or it was removed (bytes were lost: the stream cannot
    /// go on, as in Toxiproxy): close.
    Close,
}

impl TimeoutClock {
    /// Follows the `timeout` toxic in force (`(name, ms)`, 0 ms: never close).
    pub fn follow(&mut self, timeout: Option<&(String, u64)>, now: Instant) -> Timeout {
        let Some((name, ms)) = timeout else {
            return if self.0.is_some() { Timeout::Close } else { Timeout::Off };
        };
        let since = match &self.0 {
            Some((n, t)) if n == name => *t,
            _ => {
                self.0 = Some((name.clone(), now));
                now
            }
        };
        if *ms == 0 {
            return Timeout::Dropping(None);
        }
        match since.checked_add(Duration::from_millis(*ms)) {
            Some(at) if now >= at => Timeout::Close,
            at => Timeout::Dropping(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(bytes: u64) -> Option<(String, u64)> {
        Some(("limit_data_downstream".to_owned(), bytes))
    }

    #[test]
    fn the_allowance_counts_from_when_the_limit_took_effect() {
        let mut a = Allowance::default();
        a.follow(None);
        assert_eq!(a.admit(100, None), (100, false));
        let l = limit(150);
        a.follow(l.as_ref());
        assert_eq!(a.admit(100, l.as_ref()), (100, false));
        assert_eq!(a.admit(100, l.as_ref()), (50, true));
        assert_eq!(a.admit(1, l.as_ref()), (0, true));
    }

    /// `base + limit` overflowed once bytes had passed before a limit of
    /// u64::MAX took effect: a panic in debug, a wrap in release.
    #[test]
    fn regression_a_limit_of_u64_max_after_traffic_neither_panics_nor_wraps() {
        let mut a = Allowance::default();
        assert_eq!(a.admit(10, None), (10, false));
        let l = limit(u64::MAX);
        a.follow(l.as_ref());
        assert_eq!(a.admit(1 << 20, l.as_ref()), (1 << 20, false));
    }

    #[test]
    fn the_timeout_clock() {
        let t0 = Instant::now();
        let mut c = TimeoutClock::default();
        assert_eq!(c.follow(None, t0), Timeout::Off);
        let t = Some(("t".to_owned(), 100));
        assert_eq!(c.follow(t.as_ref(), t0), Timeout::Dropping(Some(t0 + Duration::from_millis(100))));
        assert_eq!(c.follow(t.as_ref(), t0 + Duration::from_millis(100)), Timeout::Close);
        let mut c = TimeoutClock::default();
        let never = Some(("t".to_owned(), 0));
        assert_eq!(c.follow(never.as_ref(), t0), Timeout::Dropping(None));
        assert_eq!(c.follow(None, t0), Timeout::Close, "removing it closes");
        let mut c = TimeoutClock::default();
        let huge = Some(("t".to_owned(), u64::MAX));
        assert!(matches!(c.follow(huge.as_ref(), t0), Timeout::Dropping(_)), "no overflow");
    }

    #[test]
    fn chunks_never_overtake() {
        let t0 = Instant::now();
        let mut q = Queue::new();
        q.push(Bytes::from_static(b"a"), t0 + Duration::from_millis(50));
        q.push(Bytes::from_static(b"b"), t0);
        assert_eq!(q.pop_due(t0 + Duration::from_millis(10)), None);
        assert_eq!(q.pop_due(t0 + Duration::from_millis(50)).as_deref(), Some(&b"a"[..]));
        assert_eq!(q.pop_due(t0 + Duration::from_millis(50)).as_deref(), Some(&b"b"[..]));
        assert!(q.is_empty() && !q.is_full());
    }
}
