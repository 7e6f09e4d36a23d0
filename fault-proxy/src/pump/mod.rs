//! One direction of one connection: read chunks, apply the faults in force,
//! write them on.
//!
//! The faults are looked at again at every chunk, so changes reach live
//! connections at the next chunk. With no fault on the direction, bytes take
//! the zero-copy path ([`splice`]). Latency is measured from each chunk's
//! arrival: reading goes on while earlier chunks wait, so pipelined chunks are
//! not delayed one after another. Memory is bounded: at most
//! [`state::MAX_PENDING`] bytes wait in a direction; past that the pump stops reading
//! and backpressure holds the sender.
//!
//! A [`Pump`] is the direction's state; each turn of [`Pump::run`] looks at
//! the faults, settles the bookkeeping ([`state`]), then either takes a
//! zero-copy round or waits for the next event of the copying path
//! ([`Event`]) and handles it.

mod splice;
mod state;
mod write;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::draw::Rng;
use crate::fault_set::{sleep_until_opt, until_change, Active, FaultSet};
use crate::io::{self as sio, PipePool};
use crate::stats::ConnCtx;
use crate::toxic::Direction;
use splice::{Step, ZeroCopy};
use state::{Allowance, Queue, Timeout, TimeoutClock};
use write::{due_at, Bucket, Ends};

const CHUNK: usize = 256 * 1024;
/// How late a due chunk may be before writing goes ahead of reading.
const OVERDUE_SLACK: Duration = Duration::from_millis(1);

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

/// What woke the copying path up.
enum Event {
    Stopped,
    FaultsChanged,
    FaultsGone,
    ScheduleTurned,
    TimedOut,
    Read(io::Result<Option<usize>>),
    Due,
}

/// One direction of a connection and all it keeps between chunks.
pub(crate) struct Pump<'a> {
    ends: Ends<'a>,
    faults: watch::Receiver<Arc<FaultSet>>,
    queue: Queue,
    allowance: Allowance,
    timeout: TimeoutClock,
    /// `limit_data` reached: close once the queue is written.
    close_after_flush: bool,
    eof: bool,
    rng: Rng,
    bucket: Bucket,
    zero_copy: ZeroCopy<'a>,
    /// Chunks are split off one arena (allocated when first read into),
    /// reused once every chunk cut from it has been written.
    arena: BytesMut,
}

impl<'a> Pump<'a> {
    pub fn new(
        ctx: &'a ConnCtx,
        dir: Direction,
        src: &'a TcpStream,
        dst: &'a TcpStream,
        faults: watch::Receiver<Arc<FaultSet>>,
        stop: &'a CancellationToken,
        pipes: &'a PipePool,
    ) -> Self {
        Pump {
            ends: Ends { ctx, dir, src, dst, stop },
            faults,
            queue: Queue::new(),
            allowance: Allowance::default(),
            timeout: TimeoutClock::default(),
            close_after_flush: false,
            eof: false,
            rng: Rng::new(ctx.seed, ctx.stats.id, dir),
            bucket: Bucket::new(),
            zero_copy: ZeroCopy::new(pipes),
            arena: BytesMut::new(),
        }
    }

    /// Moves bytes until the direction ends.
    pub async fn run(mut self) -> End {
        loop {
            if let Some(end) = self.turn().await {
                return end;
            }
        }
    }

    /// One turn: the faults now, then a zero-copy round or one event.
    async fn turn(&mut self) -> Option<End> {
        let now = Instant::now();
        let set = self.faults.borrow_and_update().clone();
        let ctx = self.ends.ctx;
        let act = set.active(ctx.stats.id, ctx.stats.client, self.ends.dir, now);
        ctx.note_faults(&act.names);
        let timeout_at = match self.settle(&act, now) {
            Ok(at) => at,
            Err(end) => return Some(end),
        };
        if self.eof && self.queue.is_empty() && !act.stop_writing {
            return Some(if self.ends.close(act.slow_close).await { End::Closed } else { End::Cancelled });
        }
        // Nothing touches this direction: move bytes without copying them.
        if act.is_clear() && self.queue.is_empty() && !self.eof && self.zero_copy.ready(now) {
            return match self.zero_copy.round(self.ends, &mut self.faults, &set, now).await {
                Step::Again => None,
                Step::Eof => {
                    self.eof = true;
                    None
                }
                Step::End(end) => Some(end),
            };
        }
        let event = self.next_event(&set, &act, now, timeout_at).await;
        self.handle(event, &act).await
    }

    /// Settles the bookkeeping with the faults in force: `Err` when the
    /// direction ends now, else when a `timeout` closes it (if it does).
    fn settle(&mut self, act: &Active, now: Instant) -> Result<Option<Instant>, End> {
        if act.reset_now {
            return Err(End::Abort);
        }
        let timeout_at = match self.timeout.follow(act.timeout.as_ref(), now) {
            Timeout::Close => return Err(End::Close),
            Timeout::Dropping(at) => at,
            Timeout::Off => None,
        };
        self.allowance.follow(act.limit_data.as_ref());
        if self.queue.is_empty() && self.close_after_flush {
            return Err(End::Close);
        }
        Ok(timeout_at)
    }

    /// Waits for what the copying path acts on next.
    async fn next_event(&mut self, set: &FaultSet, act: &Active, now: Instant, timeout_at: Option<Instant>) -> Event {
        let due = if act.stop_writing { None } else { self.queue.next_due() };
        // Reading comes first (a chunk's delay counts from its arrival, so
        // it must be read as soon as it comes), unless the oldest chunk is
        // overdue by more than the slack: then writing comes first.
        let overdue = due.is_some_and(|d| d.checked_add(OVERDUE_SLACK).is_some_and(|d| now >= d));
        let can_read = !self.eof && !act.stop_reading && !self.queue.is_full() && !self.close_after_flush && !overdue;
        let ends = self.ends;
        tokio::select! {
            biased;
            _ = ends.stop.cancelled() => Event::Stopped,
            r = self.faults.changed() => if r.is_err() { Event::FaultsGone } else { Event::FaultsChanged },
            _ = until_change(set.next_change(now)) => Event::ScheduleTurned,
            _ = sleep_until_opt(timeout_at), if timeout_at.is_some() => Event::TimedOut,
            r = sio::read_buf_some(ends.src, &mut self.arena, CHUNK), if can_read => Event::Read(r),
            _ = sleep_until_opt(due) => Event::Due,
        }
    }

    async fn handle(&mut self, event: Event, act: &Active) -> Option<End> {
        match event {
            Event::Stopped | Event::FaultsGone => Some(End::Cancelled),
            Event::FaultsChanged | Event::ScheduleTurned => None,
            Event::TimedOut => Some(End::Close),
            Event::Read(Err(_)) => Some(End::Reset),
            Event::Read(Ok(None)) => None,
            Event::Read(Ok(Some(0))) => {
                self.eof = true;
                None
            }
            Event::Read(Ok(Some(n))) => self.take_chunk(n, act).await,
            Event::Due => self.write_due(act).await.err(),
        }
    }

    /// A chunk of `n` bytes was read: drop it, reset, or queue what the
    /// allowance lets through, due after the latency.
    async fn take_chunk(&mut self, n: usize, act: &Active) -> Option<End> {
        self.ends.ctx.received(self.ends.dir, n);
        let data = self.arena.split().freeze();
        if act.timeout.is_some() {
            return None;
        }
        if let Some(wait) = act.reset_peer {
            return Some(match self.ends.pause(Duration::from_millis(wait)).await {
                Ok(()) => End::Abort,
                Err(_) => End::Cancelled,
            });
        }
        let (n, reached) = self.allowance.admit(n, act.limit_data.as_ref());
        self.close_after_flush |= reached;
        if n > 0 {
            let now = Instant::now();
            let at = match act.latency {
                Some((latency, jitter)) => due_at(now, latency, self.rng.spread(jitter)),
                None => now,
            };
            self.queue.push(data.slice(..n), at);
        }
        None
    }

    /// Writes every chunk that is due, in order.
    async fn write_due(&mut self, act: &Active) -> Result<(), End> {
        let now = Instant::now();
        while let Some(chunk) = self.queue.pop_due(now) {
            self.ends.write_chunk(&chunk, act, &mut self.bucket, &mut self.rng).await.map_err(reset_for)?;
        }
        Ok(())
    }
}

fn reset_for(e: io::Error) -> End {
    if e.kind() == io::ErrorKind::Interrupted {
        End::Cancelled
    } else {
        End::Reset
    }
}
