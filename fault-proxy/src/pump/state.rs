//! The bookkeeping of one direction, each piece with its own rule: the
//! `limit_data` allowance and the `timeout` clock. (The bytes held while
//! faults delay them are in [`super::held`].)

use std::time::Duration;

use tokio::time::Instant;

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

    /// How many more bytes `limit` lets in (`None`: no limit), so no more is read.
    pub fn left(&self, limit: Option<&(String, u64)>) -> Option<u64> {
        match (limit, &self.base) {
            (Some((_, limit)), Some((_, base))) => Some(base.saturating_add(*limit).saturating_sub(self.accepted)),
            _ => None,
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
}
