//! The writing side of a direction: a chunk through the slicer and the
//! bandwidth limit, the delayed close, and the arithmetic of delays.

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
    /// Writes one chunk through the slicer and the bandwidth limit.
    pub async fn write_chunk(self, data: &[u8], act: &Active, bucket: &mut Bucket, rng: &mut Rng) -> io::Result<()> {
        let mut rest = data;
        let mut first = true;
        while !rest.is_empty() {
            let mut take = rest.len();
            if let Some((avg, var, delay_us)) = act.slicer {
                if !first && delay_us > 0 {
                    self.pause(Duration::from_micros(delay_us)).await?;
                }
                let size = usize::try_from(offset(avg, rng.spread(var)).max(1)).unwrap_or(usize::MAX);
                take = take.min(size);
            }
            if let Some(rate) = act.bandwidth.filter(|r| *r > 0) {
                let rate_bps = rate as f64 * 1000.0;
                take = take.min((rate_bps / 10.0).max(1.0) as usize);
                let wait = bucket.take(take, rate_bps);
                if !wait.is_zero() {
                    self.pause(wait).await?;
                }
            }
            let (piece, tail) = rest.split_at(take);
            tokio::select! {
                _ = self.stop.cancelled() => return Err(io::ErrorKind::Interrupted.into()),
                r = sio::write_all(self.dst, piece) => r?,
            }
            self.ctx.sent(self.dir, piece.len());
            rest = tail;
            first = false;
        }
        Ok(())
    }

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

/// Token bucket for `bandwidth`: `rate` KB/s, 100 ms of burst.
#[derive(Debug)]
pub(crate) struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new() -> Self {
        Bucket { tokens: 0.0, last: Instant::now() }
    }

    /// How long to wait before `n` bytes may go at `rate_bps`.
    fn take(&mut self, n: usize, rate_bps: f64) -> Duration {
        let now = Instant::now();
        let burst = (rate_bps / 10.0).max(1.0);
        self.tokens = (self.tokens + now.saturating_duration_since(self.last).as_secs_f64() * rate_bps).min(burst);
        self.last = now;
        self.tokens -= n as f64;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(-self.tokens / rate_bps).unwrap_or(Duration::MAX)
        }
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
    fn the_bucket_spends_its_burst_then_waits() {
        let mut b = Bucket::new();
        let rate = 10_000.0;
        let wait = b.take(1000, rate);
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO, "{wait:?}");
        assert_eq!(b.take(0, 1.0e-300), Duration::MAX, "no panic on a wait too long to hold");
    }
}
