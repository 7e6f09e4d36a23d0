//! Bytes a latency fault holds, kept in splice pipes: read from the source
//! into a pipe and written from it to the destination when due, never
//! copied through user space (copying them cost the proxy five times the CPU
//! of the zero-copy path).
//!
//! Each segment is a pipe from the server's pool, its bytes due at one time;
//! reads due within [`COALESCE`] of the last segment's time join it (due at
//! the later time), so a stream under a latency needs a pipe per
//! millisecond in flight, given back once written. The bytes count against
//! the same budget as [`super::held`]'s. Only a direction whose faults are
//! latencies alone (with or without `hold`/`drop`) uses pipes; when the pool
//! has none to give (its share of descriptors is spent) the blocks carry
//! the bytes instead.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::fault_set::Active;
use crate::io::{Pipe, PipePool, TopUp};

/// Reads due this close to the last segment's time join it.
pub const COALESCE: Duration = Duration::from_millis(1);
/// Segments per direction at most.
const MAX_SEGMENTS: usize = 64;
/// Bytes one splice asks for at most (a pipe's size).
const PIPE_LEN: usize = 1 << 20;

#[derive(Debug)]
struct Segment {
    pipe: Pipe,
    due: Instant,
    /// The pipe took no more: a new segment follows.
    sealed: bool,
}

/// What a read into the pipes did.
#[derive(Debug)]
pub(crate) enum Filled {
    /// Moved this many bytes.
    Moved(usize),
    /// The source had nothing (its readiness is cleared).
    Empty,
    /// The source reached EOF.
    Eof,
    /// No pipe to be had: copy instead.
    NoPipe,
}

/// A direction's segments.
#[derive(Debug)]
pub(crate) struct Piped<'a> {
    pool: &'a PipePool,
    segments: VecDeque<Segment>,
    len: usize,
}

impl<'a> Piped<'a> {
    pub fn new(pool: &'a PipePool) -> Self {
        Piped { pool, segments: VecDeque::new(), len: 0 }
    }

    /// True when the faults in force let bytes wait in pipes: latency only.
    pub fn suits(act: &Active) -> bool {
        act.latency.is_some()
            && act.bandwidth.is_none()
            && act.slicer.is_none()
            && act.timeout.is_none()
            && act.reset_peer.is_none()
            && act.limit_data.is_none()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self, budget: usize) -> bool {
        self.len >= budget || self.segments.len() >= MAX_SEGMENTS
    }

    pub fn next_due(&self) -> Option<Instant> {
        self.segments.front().map(|s| s.due)
    }

    /// Moves what `src` has now into the pipes, due at `due` (or with the
    /// segment before, whichever is later), within `budget`.
    pub fn fill(&mut self, src: &TcpStream, due: Instant, budget: usize) -> io::Result<Filled> {
        let room = budget.saturating_sub(self.len);
        let last = self.segments.back().map(|s| s.due);
        let due = last.map_or(due, |l| l.max(due));
        let joins = self.segments.back().is_some_and(|s| !s.sealed && due.saturating_duration_since(s.due) < COALESCE);
        if !joins {
            let Ok(pipe) = self.pool.take() else { return Ok(Filled::NoPipe) };
            self.segments.push_back(Segment { pipe, due, sealed: false });
        }
        let Some(seg) = self.segments.back_mut() else { return Ok(Filled::NoPipe) };
        let most = room.min(PIPE_LEN.saturating_sub(seg.pipe.held()));
        let r = if most == 0 { Err(TopUp::PipeFull) } else { seg.pipe.top_up(src, most) };
        let filled = match r {
            Ok(Some(0)) => Filled::Eof,
            Ok(Some(n)) => {
                seg.due = due;
                self.len += n;
                Filled::Moved(n)
            }
            Ok(None) => Filled::Empty,
            Err(TopUp::PipeFull) => {
                // The next read takes a new pipe.
                seg.sealed = true;
                Filled::Moved(0)
            }
            Err(TopUp::Io(e)) => return Err(e),
        };
        // A segment just made that took nothing goes back at once.
        if self.segments.back().is_some_and(|s| s.pipe.is_empty()) {
            if let Some(s) = self.segments.pop_back() {
                self.pool.give(s.pipe);
            }
        }
        Ok(filled)
    }

    /// Writes the segments due at `now`, in order, as far as `dst` takes
    /// them; the bytes written.
    pub fn write_due(&mut self, dst: &TcpStream, now: Instant) -> io::Result<usize> {
        let mut written = 0;
        while let Some(seg) = self.segments.front_mut() {
            if seg.due > now {
                break;
            }
            match seg.pipe.drain_some(dst)? {
                None => break,
                Some(n) => {
                    written += n;
                    self.len -= n;
                }
            }
            if seg.pipe.is_empty() {
                if let Some(s) = self.segments.pop_front() {
                    self.pool.give(s.pipe);
                }
            }
        }
        Ok(written)
    }
}
