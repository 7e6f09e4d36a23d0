//! The virtual clock: product intervals shrink, log timestamps stretch.
//!
//! A `time_scale` of 100 runs a 10 s heartbeat every 100 ms of real time, and
//! stamps log lines with `start + real elapsed × 100`, so a run of seconds
//! writes logs that read like the real product's minutes.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct VirtualClock {
    start: OffsetDateTime,
    origin: Instant,
    scale: f64,
}

impl VirtualClock {
    /// A clock reading `start` now, running `scale` times faster than real time.
    ///
    /// A scale below 1 is taken as 1: the harness shrinks intervals, it never
    /// stretches them.
    pub fn new(start: OffsetDateTime, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale >= 1.0 { scale } else { 1.0 };
        Self { start, origin: Instant::now(), scale }
    }

    /// A clock starting at the current wall time.
    pub fn starting_now(scale: f64) -> Self {
        Self::new(OffsetDateTime::now_utc(), scale)
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    pub fn start(&self) -> OffsetDateTime {
        self.start
    }

    /// Virtual time now: `start + real elapsed × scale`.
    pub fn now(&self) -> OffsetDateTime {
        self.at(Instant::now())
    }

    /// Virtual time at a given real instant.
    pub fn at(&self, instant: Instant) -> OffsetDateTime {
        let real = instant.saturating_duration_since(self.origin);
        self.start + real.mul_f64(self.scale)
    }

    /// The real instant at which virtual time reads `start + offset`.
    pub fn instant_at(&self, offset: Duration) -> Instant {
        self.origin + self.real(offset)
    }

    /// Real duration that stands for a product interval.
    pub fn real(&self, product: Duration) -> Duration {
        product.div_f64(self.scale)
    }

    /// Product (virtual) duration that a real duration stands for.
    pub fn virtual_of(&self, real: Duration) -> Duration {
        real.mul_f64(self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_shrink_by_the_scale() {
        let c = VirtualClock::starting_now(100.0);
        assert_eq!(c.real(Duration::from_secs(10)), Duration::from_millis(100));
        assert_eq!(c.virtual_of(Duration::from_millis(100)), Duration::from_secs(10));
    }

    #[test]
    fn virtual_time_is_start_plus_scaled_elapsed() {
        let start = time::macros::datetime!(2026-11-22 03:00:00 UTC);
        let c = VirtualClock::new(start, 60.0);
        let later = c.origin + Duration::from_secs(2);
        assert_eq!(c.at(later), time::macros::datetime!(2026-11-22 03:02:00 UTC));
    }

    #[test]
    fn scale_below_one_is_one() {
        assert_eq!(VirtualClock::starting_now(0.0).scale(), 1.0);
        assert_eq!(VirtualClock::starting_now(f64::NAN).scale(), 1.0);
    }
}
