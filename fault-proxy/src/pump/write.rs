//! The writing side of a direction: how much may be written now under the
//! slicer and the bandwidth limit ([`Pace`]), the delayed close, and the
//! arithmetic of delays.

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::draw::Rng;
use crate::fault_set::Active;
use crate::io as sio;
use crate::stats::ConnCtx;
use crate::toxic::Direction;

/// The two sockets of a direction and what it reports to: plain references,
/// so copies of it can be used while the pump's state is borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ends<'a> {
    pub ctx: &'a ConnCtx,
    pub dir: Direction,
    pub src: &'a TcpStream,
    pub dst: &'a TcpStream,
    pub stop: &'a CancellationToken,
}

impl Ends<'_> {
    /// Passes the EOF on as a FIN, after `slow_close`'s delay; `false` if
    /// the connection was stopped meanwhile.
    pub async fn close(self, slow_close: Option<u64>) -> bool {
        if let Some(delay) = slow_close.filter(|d| *d > 0) {
            if self.pause(Duration::from_millis(delay)).await.is_err() {
                return false;
            }
        }
        sio::shutdown_write(self.dst);
        true
    }

    /// Sleeps `d`, unless the connection stops first (`Interrupted`).
    pub async fn pause(self, d: Duration) -> io::Result<()> {
        tokio::select! {
            _ = self.stop.cancelled() => Err(io::ErrorKind::Interrupted.into()),
            _ = tokio::time::sleep(d) => Ok(()),
        }
    }
}

/// Token bucket for `bandwidth`: `rate` KB/s, 100 ms of burst. A piece
/// may go while the bucket is not in debt; what it costs is taken after.
#[derive(Debug)]
pub(crate) struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new() -> Self {
        Bucket { tokens: 0.0, last: Instant::now() }
    }

    /// The most one piece may carry at `rate_bps`: 100 ms worth.
    fn burst(rate_bps: f64) -> f64 {
        (rate_bps / 10.0).max(1.0)
    }

    /// How long until a piece may go (zero: now).
    fn wait(&mut self, now: Instant, rate_bps: f64) -> Duration {
        self.tokens = (self.tokens + now.saturating_duration_since(self.last).as_secs_f64() * rate_bps)
            .min(Bucket::burst(rate_bps));
        self.last = now;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(-self.tokens / rate_bps).unwrap_or(Duration::MAX)
        }
    }

    fn spend(&mut self, n: usize) {
        self.tokens -= n as f64;
    }
}

/// The slicer's and the bandwidth limit's say on the next write.
#[derive(Debug)]
pub(crate) struct Pace {
    bucket: Bucket,
    /// Bytes left of the slice being written.
    slice_left: usize,
    /// Nothing may be written before then.
    resume_at: Option<Instant>,
}

impl Pace {
    pub fn new() -> Self {
        Pace { bucket: Bucket::new(), slice_left: 0, resume_at: None }
    }

    /// How many bytes may be written now (`Ok`, at least 1), or when to
    /// ask again (`Err`). `chunk_start`: nothing of the chunk is written
    /// yet (the slicer waits between the slices of a chunk, not before it).
    pub fn allow(&mut self, now: Instant, act: &Active, rng: &mut Rng, chunk_start: bool) -> Result<usize, Instant> {
        if let Some(at) = self.resume_at {
            if now < at {
                return Err(at);
            }
            self.resume_at = None;
        }
        let mut n = usize::MAX;
        match act.slicer {
            Some((avg, var, delay_us)) => {
                if self.slice_left == 0 {
                    self.slice_left = usize::try_from(offset(avg, rng.spread(var)).max(1)).unwrap_or(usize::MAX);
                    if !chunk_start && delay_us > 0 {
                        return Err(self.wait_until(now, Duration::from_micros(delay_us)));
                    }
                }
                n = n.min(self.slice_left);
            }
            None => self.slice_left = 0,
        }
        if let Some(rate) = act.bandwidth.filter(|r| *r > 0) {
            let rate_bps = rate as f64 * 1000.0;
            let wait = self.bucket.wait(now, rate_bps);
            if !wait.is_zero() {
                return Err(self.wait_until(now, wait));
            }
            n = n.min(Bucket::burst(rate_bps) as usize);
        }
        Ok(n)
    }

    /// `n` bytes were written; `chunk_done`: they finished a chunk (a new
    /// chunk starts a new slice).
    pub fn spent(&mut self, n: usize, act: &Active, chunk_done: bool) {
        self.slice_left = if chunk_done { 0 } else { self.slice_left.saturating_sub(n) };
        if act.bandwidth.is_some_and(|r| r > 0) {
            self.bucket.spend(n);
        }
    }

    fn wait_until(&mut self, now: Instant, d: Duration) -> Instant {
        let year = Duration::from_secs(365 * 86_400);
        let at = now.checked_add(d).or_else(|| now.checked_add(year)).unwrap_or(now);
        self.resume_at = Some(at);
        at
    }
}

/// `base` moved by a signed `spread`, not below 0 and without overflow.
pub(crate) fn offset(base: u64, spread: i64) -> u64 {
    if spread >= 0 {
        base.saturating_add(spread.unsigned_abs())
    } else {
        base.saturating_sub(spread.unsigned_abs())
    }
}

/// When a chunk that arrived at `now` is due under `latency` ms moved by
/// `spread` ms of jitter; a delay past what an instant can hold is a year.
pub(crate) fn due_at(now: Instant, latency: u64, spread: i64) -> Instant {
    let year = Duration::from_secs(365 * 86_400);
    let delay = Duration::from_millis(offset(latency, spread));
    now.checked_add(delay).or_else(|| now.checked_add(year)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `latency as i64 + jitter` wrapped for latencies above i64::MAX (and
    /// overflowed in debug): a huge latency became a negative one, no delay.
    #[test]
    fn regression_latency_arithmetic_neither_panics_nor_wraps() {
        assert_eq!(offset(u64::MAX, i64::MAX), u64::MAX);
        assert_eq!(offset(5, -10), 0);
        assert_eq!(offset(100, -10), 90);
        let now = Instant::now();
        assert!(due_at(now, u64::MAX, 0) > now + Duration::from_secs(86_400), "huge stays huge");
        assert_eq!(due_at(now, 0, -5), now);
    }

    #[test]
    fn the_bucket_lets_a_piece_go_then_waits_its_cost() {
        let mut b = Bucket::new();
        let rate = 10_000.0;
        let now = b.last;
        assert_eq!(b.wait(now, rate), Duration::ZERO);
        assert_eq!(Bucket::burst(rate), 1000.0);
        b.spend(1000);
        let wait = b.wait(now, rate);
        assert_eq!(wait, Duration::from_millis(100), "1000 bytes at 10 000 B/s");
        assert_eq!(b.wait(now + wait, rate), Duration::ZERO);
        b.spend(1);
        assert_eq!(b.wait(now + wait, 1.0e-300), Duration::MAX, "no panic on a wait too long to hold");
    }

    #[test]
    fn the_slicer_waits_between_slices_of_a_chunk_not_before_it() {
        let act = Active { slicer: Some((10, 0, 500)), ..Active::default() };
        let mut rng = Rng::new(1, 1, crate::toxic::Direction::Upstream);
        let mut p = Pace::new();
        let now = Instant::now();
        assert_eq!(p.allow(now, &act, &mut rng, true), Ok(10));
        p.spent(10, &act, false);
        assert_eq!(p.allow(now, &act, &mut rng, false), Err(now + Duration::from_micros(500)));
        assert_eq!(p.allow(now + Duration::from_micros(500), &act, &mut rng, false), Ok(10));
        p.spent(4, &act, true);
        assert_eq!(p.allow(now + Duration::from_millis(1), &act, &mut rng, true), Ok(10), "a new chunk: no wait");
    }
}
