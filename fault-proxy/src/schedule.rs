//! Faults on a timeline, run by the proxy itself: start at an offset, last for
//! a duration, or flap (on for a, off for b, n times). Times count from when
//! the fault was added (or last updated).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ProxyError;

/// On for `on_ms`, off for `off_ms`, `count` times (forever when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flap {
    pub on_ms: u64,
    pub off_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// When a fault is on. The default is "always, from now".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    #[serde(default)]
    pub start_after_ms: u64,
    /// On for this long, then off for good (absent: until removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flap: Option<Flap>,
}

impl Schedule {
    pub fn validate(&self) -> Result<(), ProxyError> {
        if let Some(f) = &self.flap {
            if f.on_ms == 0 {
                return Err(ProxyError::BadRequest("bad request body: schedule.flap.on_ms must be above 0".into()));
            }
            if self.duration_ms.is_some() {
                return Err(ProxyError::BadRequest(
                    "bad request body: schedule takes duration_ms or flap, not both".into(),
                ));
            }
        }
        Ok(())
    }

    /// Is the fault on `elapsed` after it was added?
    pub fn active(&self, elapsed: Duration) -> bool {
        let start = Duration::from_millis(self.start_after_ms);
        let Some(t) = elapsed.checked_sub(start) else { return false };
        match (&self.flap, self.duration_ms) {
            (Some(f), _) => {
                let cycle = f.on_ms + f.off_ms;
                let t = t.as_millis() as u64;
                let k = t / cycle.max(1);
                if f.count.is_some_and(|n| k >= n) {
                    return false;
                }
                t % cycle.max(1) < f.on_ms
            }
            (None, Some(d)) => t < Duration::from_millis(d),
            (None, None) => true,
        }
    }

    /// The next moment, after `elapsed`, at which `active` changes (if ever).
    pub fn next_change(&self, elapsed: Duration) -> Option<Duration> {
        let start = Duration::from_millis(self.start_after_ms);
        if elapsed < start {
            return Some(start);
        }
        let t = (elapsed - start).as_millis() as u64;
        match (&self.flap, self.duration_ms) {
            (Some(f), _) => {
                let cycle = (f.on_ms + f.off_ms).max(1);
                let k = t / cycle;
                if f.count.is_some_and(|n| k >= n) {
                    return None;
                }
                let in_cycle = t % cycle;
                let next = if in_cycle < f.on_ms { k * cycle + f.on_ms } else { (k + 1) * cycle };
                Some(start + Duration::from_millis(next.max(t + 1)))
            }
            (None, Some(d)) if t < d => Some(start + Duration::from_millis(d)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn offset_and_duration() {
        let s = Schedule { start_after_ms: 100, duration_ms: Some(50), flap: None };
        assert!(!s.active(ms(99)));
        assert!(s.active(ms(100)));
        assert!(s.active(ms(149)));
        assert!(!s.active(ms(150)));
        assert_eq!(s.next_change(ms(0)), Some(ms(100)));
        assert_eq!(s.next_change(ms(120)), Some(ms(150)));
        assert_eq!(s.next_change(ms(151)), None);
    }

    #[test]
    fn flapping_n_times() {
        let s = Schedule {
            start_after_ms: 0,
            duration_ms: None,
            flap: Some(Flap { on_ms: 10, off_ms: 20, count: Some(2) }),
        };
        let on: Vec<bool> = [0, 9, 10, 29, 30, 39, 40, 60, 70].iter().map(|&t| s.active(ms(t))).collect();
        assert_eq!(on, [true, true, false, false, true, true, false, false, false]);
        assert_eq!(s.next_change(ms(5)), Some(ms(10)));
        assert_eq!(s.next_change(ms(15)), Some(ms(30)));
        assert_eq!(s.next_change(ms(61)), None);
    }

    #[test]
    fn always_by_default() {
        let s = Schedule::default();
        assert!(s.active(ms(0)) && s.active(ms(1_000_000)));
        assert_eq!(s.next_change(ms(0)), None);
    }
}
