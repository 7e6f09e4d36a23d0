//! The agreement's backoff timer (`repl5_backoff.c`): fixed (after a busy
//! consumer or a yield) or exponential (after an error), 3, 6, 12, … s up
//! to the maximum with the defaults. Times are virtual (offsets on the
//! scenario's clock).
//!
//! The next fire time is the last *scheduled* fire time plus the interval,
//! not now plus the interval: an attempt that takes longer than the
//! interval (a 10 s bind timeout against a 6 s interval) makes the next one
//! fire at once, as measured on the real server ("t+13 s, then every 10 s").

use std::time::Duration;

/// The default `nsds5ReplicaBackoffMin` (`PROTOCOL_BACKOFF_MINIMUM`).
pub const DEFAULT_MIN: Duration = Duration::from_secs(3);
/// The default `nsds5ReplicaBackoffMax` (`PROTOCOL_BACKOFF_MAXIMUM`, 5 minutes).
pub const DEFAULT_MAX: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fixed,
    Exponential,
}

/// A running backoff timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    kind: Kind,
    max: Duration,
    next: Duration,
    last_fire: Duration,
}

impl Backoff {
    /// `backoff_new` + `backoff_reset` at virtual time `now`.
    pub fn start(kind: Kind, initial: Duration, max: Duration, now: Duration) -> Self {
        Self { kind, max: max.max(initial), next: initial, last_fire: now }
    }

    /// When it fires next (virtual time).
    pub fn fire_at(&self) -> Duration {
        self.last_fire + self.next
    }

    /// The interval now in use.
    pub fn interval(&self) -> Duration {
        self.next
    }

    /// `backoff_step`: the interval doubles (exponential) up to the
    /// maximum; the next fire time counts from the last scheduled one.
    pub fn step(&mut self) -> Duration {
        let previous = self.next;
        if self.kind == Kind::Exponential && self.next < self.max {
            self.next = (self.next * 2).min(self.max);
        }
        self.last_fire += previous;
        self.fire_at()
    }

    /// `backoff_expired(bt, margin)`.
    pub fn expired(&self, now: Duration, margin: Duration) -> bool {
        now >= self.fire_at() + margin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn exponential_doubles_up_to_the_maximum() {
        let mut b = Backoff::start(Kind::Exponential, DEFAULT_MIN, DEFAULT_MAX, secs(100));
        let mut fires = vec![b.fire_at()];
        for _ in 0..9 {
            fires.push(b.step());
        }
        let gaps: Vec<u64> = fires.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
        assert_eq!(fires[0], secs(103));
        assert_eq!(gaps, [6, 12, 24, 48, 96, 192, 300, 300, 300]);
    }

    #[test]
    fn fixed_stays_and_a_slow_attempt_fires_the_next_at_once() {
        let mut b = Backoff::start(Kind::Fixed, secs(6), secs(6), secs(0));
        assert_eq!(b.step(), secs(12));
        // An attempt that ran until 20 s: the next fire time (18 s) has passed.
        assert_eq!(b.step(), secs(18));
        assert!(b.expired(secs(20), Duration::ZERO));
        assert!(!b.expired(secs(20), secs(60)));
    }
}
