//! One direction of one connection: read chunks, apply the faults in force,
//! write them on.
//!
//! The faults are looked at again at every chunk, so changes reach live
//! connections at the next chunk. With no fault on the direction, bytes take
//! the zero-copy path ([`splice`]). Otherwise they are read into the
//! direction's [`held`] buffer, each chunk stamped with when it is due, and
//! written out of it when due, as the slicer and the bandwidth limit let
//! them ([`write::Pace`]).
//!
//! Reading and writing wait side by side: a chunk's latency counts from its
//! arrival, so reading goes on while earlier chunks wait, and a destination
//! that is slow to take bytes holds up neither reading nor the clock.
//! Memory is bounded: at most the proxy's `buffer_bytes` (1 MiB by default)
//! wait in a direction; past that the pump stops reading and backpressure
//! holds the sender. Nothing is ever dropped for want of room.
//!
//! A [`Pump`] is the direction's state; each turn of [`Pump::run`] looks at
//! the faults, settles the bookkeeping ([`state`]), then either takes a
//! zero-copy round or waits for the next event of the copying path
//! ([`Event`]) and handles it.

mod held;
mod piped;
mod splice;
mod state;
mod write;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::draw::Rng;
use crate::fault_set::{sleep_until_opt, until_change, Active, FaultSet};
use crate::io::PipePool;
use crate::stats::ConnCtx;
use crate::toxic::Direction;
use held::BlockPool;
use held::Held;
use piped::{Filled, Piped};
use splice::{Step, ZeroCopy};
use state::{Allowance, Timeout, TimeoutClock};
use write::{due_at, Ends, Pace};

/// How late a due chunk may be before writing goes ahead of reading.
const OVERDUE_SLACK: Duration = Duration::from_millis(1);
/// Bytes written in one turn at most before reading gets its look again.
const WRITE_TURN: usize = 1 << 20;
/// After no pipe could be had for held bytes, the blocks carry them this long.
const PIPE_RETRY: Duration = Duration::from_secs(1);
/// A `timeout` toxic's bytes are read into this much scratch and dropped.
const DISCARD: usize = 16 * 1024;

/// What a server's connections share: splice pipes for the zero-copy path,
/// blocks for the bytes faults hold.
#[derive(Debug, Default)]
pub(crate) struct Pools {
    pub pipes: PipePool,
    pub blocks: BlockPool,
}

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
    Readable(io::Result<()>),
    Writable(io::Result<()>),
    /// A chunk fell due, or the pace lets the next piece go.
    Due,
}

/// One direction of a connection and all it keeps between chunks.
pub(crate) struct Pump<'a> {
    ends: Ends<'a>,
    faults: watch::Receiver<Arc<FaultSet>>,
    held: Held<'a>,
    /// Bytes a latency alone holds, in pipes (not copied).
    piped: Piped<'a>,
    /// No pipe could be had for `piped`: the blocks carry bytes until then.
    pipe_retry_at: Option<Instant>,
    allowance: Allowance,
    timeout: TimeoutClock,
    /// `limit_data` reached: close once the held bytes are written.
    close_after_flush: bool,
    eof: bool,
    rng: Rng,
    pace: Pace,
    zero_copy: ZeroCopy<'a>,
}

impl<'a> Pump<'a> {
    pub fn new(
        ctx: &'a ConnCtx,
        dir: Direction,
        src: &'a TcpStream,
        dst: &'a TcpStream,
        faults: watch::Receiver<Arc<FaultSet>>,
        stop: &'a CancellationToken,
        pools: &'a Pools,
    ) -> Self {
        Pump {
            ends: Ends { ctx, dir, src, dst, stop },
            faults,
            held: Held::new(&pools.blocks),
            piped: Piped::new(&pools.pipes),
            pipe_retry_at: None,
            allowance: Allowance::default(),
            timeout: TimeoutClock::default(),
            close_after_flush: false,
            eof: false,
            rng: Rng::new(ctx.seed, ctx.stats.id, dir),
            pace: Pace::new(),
            zero_copy: ZeroCopy::new(&pools.pipes),
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
        if self.eof && self.is_empty() && !act.stop_writing {
            return Some(if self.ends.close(act.slow_close).await { End::Closed } else { End::Cancelled });
        }
        self.held.release_if_empty();
        // Nothing touches this direction: move bytes without copying them.
        if act.is_clear() && self.is_empty() && !self.eof && self.zero_copy.ready(now) {
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
        self.handle(event, &set, &act).await
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
        if self.is_empty() && self.close_after_flush {
            return Err(End::Close);
        }
        Ok(timeout_at)
    }

    /// Nothing held, in blocks or pipes.
    fn is_empty(&self) -> bool {
        self.held.is_empty() && self.piped.is_empty()
    }

    /// True when reads go to the pipes now: a latency alone, nothing in the
    /// blocks (so no byte overtakes another), and pipes to be had lately.
    fn reads_to_pipes(&self, act: &Active, now: Instant) -> bool {
        Piped::suits(act) && self.held.is_empty() && self.pipe_retry_at.is_none_or(|at| now >= at)
    }

    /// No more may be read now: the store reads go to is full, or the
    /// other one must drain first.
    fn is_full(&self, act: &Active, now: Instant, budget: usize) -> bool {
        if self.reads_to_pipes(act, now) {
            self.piped.is_full(budget)
        } else {
            !self.piped.is_empty() || self.held.is_full(budget)
        }
    }

    /// When the oldest held chunk is due.
    fn next_due(&self) -> Option<Instant> {
        self.piped.next_due().or(self.held.next_due())
    }

    /// When the next write may happen: `Ok(true)` now, `Ok(false)` never
    /// (nothing held, or writing stopped), `Err(at)` at `at`.
    fn write_at(&mut self, act: &Active, now: Instant) -> Result<bool, Instant> {
        if act.stop_writing {
            return Ok(false);
        }
        if let Some(due) = self.piped.next_due() {
            return if due > now { Err(due) } else { Ok(true) };
        }
        let Some(due) = self.held.next_due() else { return Ok(false) };
        if due > now {
            return Err(due);
        }
        self.pace.allow(now, act, &mut self.rng, self.held.at_chunk_start()).map(|_| true)
    }

    /// Waits for what the copying path acts on next.
    async fn next_event(&mut self, set: &FaultSet, act: &Active, now: Instant, timeout_at: Option<Instant>) -> Event {
        let budget = set.budget();
        let write = self.write_at(act, now);
        // Reading comes first (a chunk's delay counts from its arrival, so
        // it must be read as soon as it comes), unless the oldest chunk is
        // overdue by more than the slack: then writing comes first.
        let overdue = self
            .next_due()
            .is_some_and(|d| !act.stop_writing && d.checked_add(OVERDUE_SLACK).is_some_and(|d| now >= d));
        let can_write = write == Ok(true);
        let writing_first = overdue && can_write;
        let can_read = !self.eof
            && !act.stop_reading
            && !self.is_full(act, now, budget)
            && !self.close_after_flush
            && !writing_first;
        let wake = write.err();
        let ends = self.ends;
        tokio::select! {
            biased;
            _ = ends.stop.cancelled() => Event::Stopped,
            r = self.faults.changed() => if r.is_err() { Event::FaultsGone } else { Event::FaultsChanged },
            _ = until_change(set.next_change(now)) => Event::ScheduleTurned,
            _ = sleep_until_opt(timeout_at), if timeout_at.is_some() => Event::TimedOut,
            r = ends.src.readable(), if can_read => Event::Readable(r),
            r = ends.dst.writable(), if can_write => Event::Writable(r),
            _ = sleep_until_opt(wake), if wake.is_some() => Event::Due,
        }
    }

    async fn handle(&mut self, event: Event, set: &FaultSet, act: &Active) -> Option<End> {
        match event {
            Event::Stopped | Event::FaultsGone => Some(End::Cancelled),
            Event::FaultsChanged | Event::ScheduleTurned | Event::Due => None,
            Event::TimedOut => Some(End::Close),
            Event::Readable(Err(_)) | Event::Writable(Err(_)) => Some(End::Reset),
            Event::Readable(Ok(())) => {
                if let Some(end) = self.read(set, act).await {
                    return Some(end);
                }
                // A chunk that is due at once (no latency) goes straight on.
                self.write(act).err()
            }
            Event::Writable(Ok(())) => self.write(act).err(),
        }
    }

    /// Reads what the source has into the held buffer (or drops it, under
    /// `timeout`), as much as the budget and `limit_data` let in.
    async fn read(&mut self, set: &FaultSet, act: &Active) -> Option<End> {
        let src = self.ends.src;
        if act.timeout.is_some() {
            let mut scratch = [0u8; DISCARD];
            return match src.try_read(&mut scratch) {
                Ok(0) => {
                    self.eof = true;
                    None
                }
                Ok(n) => {
                    self.ends.ctx.received(self.ends.dir, n);
                    None
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
                Err(_) => Some(End::Reset),
            };
        }
        let now = Instant::now();
        if self.reads_to_pipes(act, now) {
            let due = match act.latency {
                Some((latency, jitter)) => due_at(now, latency, self.rng.spread(jitter)),
                None => now,
            };
            match self.piped.fill(src, due, set.budget()) {
                Ok(Filled::Moved(n)) => {
                    self.ends.ctx.received(self.ends.dir, n);
                    self.ends.ctx.held(self.ends.dir, self.piped.len());
                    return None;
                }
                Ok(Filled::Empty) => return None,
                Ok(Filled::Eof) => {
                    self.eof = true;
                    return None;
                }
                Ok(Filled::NoPipe) => {
                    self.pipe_retry_at = now.checked_add(PIPE_RETRY);
                    if !self.piped.is_empty() {
                        return None;
                    }
                }
                Err(_) => return Some(End::Reset),
            }
        }
        let left = self.allowance.left(act.limit_data.as_ref());
        if left == Some(0) {
            // limit_data reached (a limit of 0, say): nothing more is read.
            self.close_after_flush = true;
            return None;
        }
        let room = self.held.spare(set.budget());
        let most = left.map_or(room.len(), |l| room.len().min(usize::try_from(l).unwrap_or(usize::MAX)));
        let n = match src.try_read(&mut room[..most]) {
            Ok(0) if most > 0 => {
                self.eof = true;
                return None;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
            Err(_) => return Some(End::Reset),
        };
        self.ends.ctx.received(self.ends.dir, n);
        if let Some(wait) = act.reset_peer {
            return Some(match self.ends.pause(Duration::from_millis(wait)).await {
                Ok(()) => End::Abort,
                Err(_) => End::Cancelled,
            });
        }
        let (n, reached) = self.allowance.admit(n, act.limit_data.as_ref());
        self.close_after_flush |= reached;
        let now = Instant::now();
        let at = match act.latency {
            Some((latency, jitter)) => due_at(now, latency, self.rng.spread(jitter)),
            None => now,
        };
        self.held.push(n, at);
        self.ends.ctx.held(self.ends.dir, self.held.len());
        None
    }

    /// Writes what is due, as the pace lets it, until the destination is
    /// full, nothing more is due, or [`WRITE_TURN`] bytes went.
    fn write(&mut self, act: &Active) -> Result<(), End> {
        if !self.piped.is_empty() {
            if act.stop_writing {
                return Ok(());
            }
            let n = self.piped.write_due(self.ends.dst, Instant::now()).map_err(|_| End::Reset)?;
            if n > 0 {
                self.ends.ctx.sent(self.ends.dir, n);
                self.ends.ctx.held(self.ends.dir, self.piped.len());
            }
            return Ok(());
        }
        let mut written = 0;
        while written < WRITE_TURN {
            let now = Instant::now();
            if self.write_at(act, now) != Ok(true) {
                break;
            }
            let Ok(most) = self.pace.allow(now, act, &mut self.rng, self.held.at_chunk_start()) else { break };
            let front = self.held.front();
            let piece = &front[..front.len().min(most)];
            match self.ends.dst.try_write(piece) {
                Ok(0) => return Err(End::Reset),
                Ok(n) => {
                    let done = self.held.consume(n);
                    self.pace.spent(n, act, done);
                    self.ends.ctx.sent(self.ends.dir, n);
                    written += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return Err(End::Reset),
            }
        }
        if written > 0 {
            self.ends.ctx.held(self.ends.dir, self.held.len());
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
