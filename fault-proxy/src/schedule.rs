//! Faults on a timeline, run by the proxy itself: start at an offset, last for
//! a duration, or flap (on for a, off for b, n times). Times count from when
//! the fault was added (or last updated).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

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
    /// The checks numbers alone cannot make (the bounds are
    /// [`crate::bounds::check_schedule`]'s).
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(f) = &self.flap {
            if f.on_ms == 0 {
                return Err(FieldError::invalid("schedule.flap.on_ms", "must be above 0"));
            }
            if self.duration_ms.is_some() {
                return Err(FieldError::invalid("schedule", "takes duration_ms or flap, not both"));
            }
        }
        Ok(())
    }

    /// Is the fault on `elapsed` after it was added?
    pub fn active(&self, elapsed: Duration) -> bool {
        let Some(t) = millis(elapsed).checked_sub(self.start_after_ms) else { return false };
        match (&self.flap, self.duration_ms) {
            (Some(f), _) => {
                let cycle = f.cycle();
                if f.count.is_some_and(|n| t / cycle >= n) {
                    return false;
                }
                t % cycle < f.on_ms
            }
            (None, Some(d)) => t < d,
            (None, None) => true,
        }
    }

    /// The next moment, after `elapsed`, at which `active` changes (if ever).
    /// Saturates rather than overflows: a change beyond `u64::MAX` ms never comes.
    pub fn next_change(&self, elapsed: Duration) -> Option<Duration> {
        let start = self.start_after_ms;
        let now = millis(elapsed);
        let Some(t) = now.checked_sub(start) else { return Some(Duration::from_millis(start)) };
        let next = match (&self.flap, self.duration_ms) {
            (Some(f), _) => {
                let cycle = f.cycle();
                let k = t / cycle;
                if f.count.is_some_and(|n| k >= n) {
                    return None;
                }
                let cycle_start = k.checked_mul(cycle)?;
                let next = if t % cycle < f.on_ms {
                    cycle_start.checked_add(f.on_ms)?
                } else {
                    cycle_start.checked_add(cycle)?
                };
                next.max(t.checked_add(1)?)
            }
            (None, Some(d)) if t < d => d,
            _ => return None,
        };
        start.checked_add(next).map(Duration::from_millis)
    }
}

impl Flap {
    /// One on-and-off cycle in ms (at least 1; saturating).
    fn cycle(&self) -> u64 {
        self.on_ms.saturating_add(self.off_ms).max(1)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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

    /// Built in code, past the bounds the parser enforces: no panic, no wrap
    /// (`on_ms + off_ms` overflowed and killed the listener task in debug).
    #[test]
    fn regression_flap_periods_that_overflow_do_not_panic() {
        let s = Schedule {
            start_after_ms: u64::MAX,
            duration_ms: None,
            flap: Some(Flap { on_ms: u64::MAX, off_ms: u64::MAX, count: None }),
        };
        assert!(!s.active(ms(0)) && s.active(Duration::MAX));
        assert_eq!(s.next_change(ms(0)), Some(ms(u64::MAX)));
        assert_eq!(s.next_change(Duration::MAX), None, "past u64::MAX ms nothing changes");
        let s = Schedule { start_after_ms: 0, ..s };
        assert!(s.active(ms(5)), "on for the first (saturated) half-cycle");
        assert_eq!(s.next_change(ms(5)), Some(ms(u64::MAX)));
        let d = Schedule { start_after_ms: u64::MAX - 1, duration_ms: Some(u64::MAX), flap: None };
        assert!(d.active(ms(u64::MAX)));
        assert_eq!(d.next_change(ms(u64::MAX)), None);
    }
}
