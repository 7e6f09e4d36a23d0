//! One direction of one connection: read chunks, apply the faults in force,
//! write them on.
//!
//! The faults are looked at again at every chunk, so changes reach live
//! connections at the next chunk. With no fault on the direction, bytes take
//! the zero-copy path (`splice`). Latency is measured from each chunk's
//! arrival: reading goes on while earlier chunks wait, so pipelined chunks are
//! not delayed one after another. Memory is bounded: at most
//! [`MAX_PENDING`] bytes wait in a direction; past that the pump stops reading
//! and backpressure holds the sender.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::conn::ConnCtx;
use crate::faults::{sleep_until_opt, until_change, Active, FaultSet, Rng};
use crate::io::{self as sio, Pipe, Spliced};
use crate::toxic::Direction;

/// Bytes a direction may hold while chunks wait for their delivery time.
/// As much as Toxiproxy's 1024 chunks of 32 KiB: enough to keep a fast
/// stream flowing under a latency fault (bandwidth × delay).
pub const MAX_PENDING: usize = 32 << 20;
const CHUNK: usize = 256 * 1024;
const ARENA: usize = 4 << 20;
/// How late a due chunk may be before writing goes ahead of reading.
const OVERDUE_SLACK: Duration = Duration::from_millis(1);
/// Zero-copy steps taken in a row before looking at the select again.
const SPLICE_BURST: usize = 8;

/// How a direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// EOF read and passed on as a FIN; the other direction goes on.
    Closed,
    /// A socket was reset or broke: reset the whole connection.
    Reset,
    /// A fault resets the connection (reset_peer, reject with reset_existing).
    Abort,
    /// A fault closes the connection (limit_data, timeout).
    Close,
    /// The proxy or the other direction ended it.
    Cancelled,
}

struct Chunk {
    data: Bytes,
    due: Instant,
}

/// Token bucket for `bandwidth`: `rate` KB/s, 100 ms of burst.
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new() -> Self {
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
            Duration::from_secs_f64(-self.tokens / rate_bps)
        }
    }
}

pub(crate) struct Pump<'a> {
    pub ctx: &'a ConnCtx,
    pub dir: Direction,
    pub src: &'a TcpStream,
    pub dst: &'a TcpStream,
    pub faults: watch::Receiver<Arc<FaultSet>>,
    pub stop: &'a CancellationToken,
}

impl Pump<'_> {
    pub async fn run(mut self) -> End {
        let mut rng = Rng::new(self.ctx.seed, self.ctx.stats.id, self.dir);
        let mut pending: VecDeque<Chunk> = VecDeque::new();
        let mut pending_bytes = 0usize;
        let mut last_due = Instant::now();
        let mut eof = false;
        let mut accepted: u64 = 0;
        let mut limit_base: Option<(String, u64)> = None;
        let mut close_after_flush = false;
        let mut timeout_since: Option<(String, Instant)> = None;
        let mut bucket = Bucket::new();
        let mut pipe: Option<Pipe> = None;
        let mut no_pipe = false;
        // Chunks are split off one arena: one allocation per ARENA bytes read,
        // reused once every chunk cut from it has been written.
        let mut arena = BytesMut::with_capacity(ARENA);
        loop {
            let now = Instant::now();
            let set = self.faults.borrow_and_update().clone();
            let act = set.active(self.ctx.stats.id, self.ctx.stats.client, self.dir, now);
            self.ctx.note_faults(&act.names);
            if act.reset_now {
                return End::Abort;
            }
            // timeout: drop bytes, close after its time; removing it closes too
            // (bytes were lost: the stream cannot go on), as in Toxiproxy.
            match &act.timeout {
                Some((name, ms)) => {
                    let since = match &timeout_since {
                        Some((n, t)) if n == name => *t,
                        _ => {
                            timeout_since = Some((name.clone(), now));
                            now
                        }
                    };
                    if *ms > 0 && now.saturating_duration_since(since) >= Duration::from_millis(*ms) {
                        return End::Close;
                    }
                }
                None if timeout_since.is_some() => return End::Close,
                None => {}
            }
            match &act.limit_data {
                Some((name, _)) if limit_base.as_ref().is_none_or(|(n, _)| n != name) => {
                    limit_base = Some((name.clone(), accepted));
                }
                None => limit_base = None,
                _ => {}
            }
            if pending.is_empty() && close_after_flush {
                return End::Close;
            }
            if eof && pending.is_empty() && !act.stop_writing {
                if let Some(delay) = act.slow_close.filter(|d| *d > 0) {
                    tokio::select! {
                        _ = self.stop.cancelled() => return End::Cancelled,
                        _ = tokio::time::sleep(Duration::from_millis(delay)) => {}
                    }
                }
                sio::shutdown_write(self.dst);
                return End::Closed;
            }
            // Nothing touches this direction: move bytes without copying them.
            if act.is_clear() && pending.is_empty() && !eof && !no_pipe {
                let p = match &mut pipe {
                    Some(p) => p,
                    None => match Pipe::new() {
                        Ok(p) => pipe.insert(p),
                        Err(e) => {
                            // Out of descriptors, say: the copying path below carries the bytes.
                            tracing::debug!("no pipe for the zero-copy path: {e}");
                            no_pipe = true;
                            continue;
                        }
                    },
                };
                tokio::select! {
                    biased;
                    _ = self.stop.cancelled() => return End::Cancelled,
                    r = self.faults.changed() => {
                        if r.is_err() { return End::Cancelled; }
                        // Finish what is in the pipe before faults apply.
                        if let Err(e) = p.flush(self.dst).await {
                            return reset_for(e);
                        }
                    }
                    _ = until_change(set.next_change(now)) => {}
                    r = p.step(self.src, self.dst) => match r {
                        Ok(Spliced::Moved(n)) => {
                            self.ctx.count(self.dir, n, n);
                            // Keep moving while data flows and no fault changed,
                            // without going round the select for every step.
                            for _ in 0..SPLICE_BURST {
                                if self.faults.has_changed().unwrap_or(true) || self.stop.is_cancelled() {
                                    break;
                                }
                                match p.try_step(self.src, self.dst).await {
                                    Ok(Some(Spliced::Moved(n))) => self.ctx.count(self.dir, n, n),
                                    Ok(Some(Spliced::Eof)) => { eof = true; break; }
                                    Ok(None) => break,
                                    Err(e) => return reset_for(e),
                                }
                            }
                        }
                        Ok(Spliced::Eof) => eof = true,
                        Err(e) => return reset_for(e),
                    },
                }
                continue;
            }
            if let Some(p) = &mut pipe {
                if !p.is_empty() {
                    if let Err(e) = p.flush(self.dst).await {
                        return reset_for(e);
                    }
                }
            }
            let due = if act.stop_writing { None } else { pending.front().map(|c| c.due) };
            // Reading comes first (a chunk's delay counts from its arrival, so
            // it must be read as soon as it comes), unless the oldest chunk is
            // overdue by more than the slack: then writing comes first.
            let overdue = due.is_some_and(|d| now >= d + OVERDUE_SLACK);
            let can_read = !eof && !act.stop_reading && pending_bytes < MAX_PENDING && !close_after_flush && !overdue;
            // A timeout toxic closes at its deadline, traffic or not.
            let timeout_at = match (&act.timeout, &timeout_since) {
                (Some((_, ms)), Some((_, since))) if *ms > 0 => since.checked_add(Duration::from_millis(*ms)),
                _ => None,
            };
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => return End::Cancelled,
                r = self.faults.changed() => if r.is_err() { return End::Cancelled },
                _ = until_change(set.next_change(now)) => {}
                _ = sleep_until_opt(timeout_at), if timeout_at.is_some() => return End::Close,
                r = sio::read_buf_some(self.src, &mut arena, CHUNK), if can_read => match r {
                    Ok(None) => {}
                    Ok(Some(0)) => eof = true,
                    Ok(Some(n)) => {
                        self.ctx.received(self.dir, n);
                        let data = arena.split().freeze();
                        if act.timeout.is_some() {
                            continue;
                        }
                        if let Some(wait) = act.reset_peer {
                            tokio::select! {
                                _ = self.stop.cancelled() => return End::Cancelled,
                                _ = tokio::time::sleep(Duration::from_millis(wait)) => return End::Abort,
                            }
                        }
                        let mut n = n;
                        if let (Some((_, limit)), Some((_, base))) = (&act.limit_data, &limit_base) {
                            let allowed = usize::try_from(base.saturating_add(*limit).saturating_sub(accepted)).unwrap_or(usize::MAX);
                            if n >= allowed {
                                n = allowed;
                                close_after_flush = true;
                            }
                        }
                        if n > 0 {
                            accepted = accepted.saturating_add(n as u64);
                            let now = Instant::now();
                            let at = match act.latency {
                                Some((latency, jitter)) => delay_from(now, latency, rng.spread(jitter)),
                                None => now,
                            };
                            // Never overtake an earlier chunk.
                            let due = at.max(last_due);
                            last_due = due;
                            pending_bytes += n;
                            pending.push_back(Chunk { data: data.slice(..n), due });
                        }
                    }
                    Err(_) => return End::Reset,
                },
                _ = sleep_until_opt(due) => {
                    // Every chunk that is due goes now, in order.
                    let now = Instant::now();
                    while pending.front().is_some_and(|c| c.due <= now) {
                        let Some(chunk) = pending.pop_front() else { break };
                        pending_bytes -= chunk.data.len();
                        if let Err(e) = self.write_chunk(&chunk.data, &act, &mut bucket, &mut rng).await {
                            return reset_for(e);
                        }
                    }
                }
            }
        }
    }

    /// Writes one chunk through the slicer and the bandwidth limit.
    async fn write_chunk(&self, data: &[u8], act: &Active, bucket: &mut Bucket, rng: &mut Rng) -> io::Result<()> {
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

    async fn pause(&self, d: Duration) -> io::Result<()> {
        tokio::select! {
            _ = self.stop.cancelled() => Err(io::ErrorKind::Interrupted.into()),
            _ = tokio::time::sleep(d) => Ok(()),
        }
    }
}

/// `base` moved by a signed `spread`, not below 0 and without overflow.
fn offset(base: u64, spread: i64) -> u64 {
    if spread >= 0 {
        base.saturating_add(spread.unsigned_abs())
    } else {
        base.saturating_sub(spread.unsigned_abs())
    }
}

/// When a chunk that arrived at `now` is due under `latency` ± jitter ms.
fn delay_from(now: Instant, latency: u64, spread: i64) -> Instant {
    now.checked_add(Duration::from_millis(offset(latency, spread))).unwrap_or(now + Duration::from_secs(86_400 * 365))
}

fn reset_for(e: io::Error) -> End {
    if e.kind() == io::ErrorKind::Interrupted {
        End::Cancelled
    } else {
        End::Reset
    }
}

/// Marks bytes as forwarded on the counters (used by the zero-copy path).
impl ConnCtx {
    pub(crate) fn count(&self, dir: Direction, received: usize, sent: usize) {
        self.received(dir, received);
        self.sent(dir, sent);
    }

    pub(crate) fn received(&self, dir: Direction, n: usize) {
        self.proxy_bytes.received[dir as usize].fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn sent(&self, dir: Direction, n: usize) {
        self.stats.bytes[dir as usize].fetch_add(n as u64, Ordering::Relaxed);
        self.proxy_bytes.sent[dir as usize].fetch_add(n as u64, Ordering::Relaxed);
    }
}
