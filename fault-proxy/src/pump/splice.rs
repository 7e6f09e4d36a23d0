//! The zero-copy path of a direction that no fault touches: bytes move
//! socket → pipe → socket with `splice(2)`, until a fault changes.
//!
//! The pipe comes from the server's [`PipePool`] once the source is readable
//! and goes back as soon as it is empty again, so a connection waiting for
//! bytes holds no pipe: two descriptors per connection, its sockets, plus
//! one pipe per transfer in progress.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::write::Ends;
use super::{reset_for, End};
use crate::fault_set::{until_change, FaultSet};
use crate::io::PipePool;

/// Zero-copy steps taken in a row before looking at the select again.
const SPLICE_BURST: usize = 8;
/// After no pipe could be made (out of descriptors), the copying path
/// carries the bytes this long before a pipe is tried again.
const PIPE_RETRY: Duration = Duration::from_secs(1);

/// A direction's access to the pool's pipes. A pipe is held only inside
/// [`ZeroCopy::transfer`], which writes all it takes in before it returns
/// (or ends the direction), so no byte is ever left in a pipe between turns.
#[derive(Debug)]
pub(crate) struct ZeroCopy<'a> {
    pool: &'a PipePool,
    /// No pipe could be made: not before then.
    retry_at: Option<Instant>,
}

/// What one zero-copy round did.
pub(crate) enum Step {
    /// Go round again.
    Again,
    /// The source reached EOF.
    Eof,
    /// The direction ends.
    End(End),
}

impl<'a> ZeroCopy<'a> {
    pub fn new(pool: &'a PipePool) -> Self {
        ZeroCopy { pool, retry_at: None }
    }

    /// True when the zero-copy path can run (pipes could be had lately).
    pub fn ready(&mut self, now: Instant) -> bool {
        match self.retry_at {
            Some(at) if now < at => false,
            _ => {
                self.retry_at = None;
                true
            }
        }
    }

    /// Waits for bytes (holding no pipe) and moves them, again and again,
    /// until a fault changes, the schedule turns, or the source ends. The
    /// waits on the stop token, the faults and the schedule are set up once
    /// per round, not once per transfer: a ping-pong of small messages
    /// costs a readiness wait and the splices, nothing more.
    pub async fn round(
        &mut self,
        ends: Ends<'_>,
        faults: &mut watch::Receiver<Arc<FaultSet>>,
        set: &FaultSet,
        now: Instant,
    ) -> Step {
        let mut watcher = faults.clone();
        let cancelled = ends.stop.cancelled();
        let changed = watcher.changed();
        let turned = until_change(set.next_change(now));
        tokio::pin!(cancelled, changed, turned);
        loop {
            let ready = tokio::select! {
                biased;
                _ = &mut cancelled => return Step::End(End::Cancelled),
                r = &mut changed => return if r.is_err() { Step::End(End::Cancelled) } else { Step::Again },
                _ = &mut turned => return Step::Again,
                r = ends.src.readable() => r,
            };
            if let Err(e) = ready {
                return Step::End(reset_for(e));
            }
            match self.transfer(ends, faults).await {
                Step::Again if self.retry_at.is_none() && !faults.has_changed().unwrap_or(true) => {}
                step => return step,
            }
        }
    }

    /// Moves what the source has, through a pipe from the pool, in up to
    /// [`SPLICE_BURST`] steps; gives the pipe back once it is empty.
    async fn transfer(&mut self, ends: Ends<'_>, faults: &watch::Receiver<Arc<FaultSet>>) -> Step {
        let mut pipe = match self.pool.take() {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!("no pipe for the zero-copy path ({e}): copying for {PIPE_RETRY:?}");
                self.retry_at = Instant::now().checked_add(PIPE_RETRY);
                return Step::Again;
            }
        };
        let mut step = Step::Again;
        for _ in 0..SPLICE_BURST {
            match pipe.fill(ends.src) {
                Ok(None) => break,
                Ok(Some(0)) => {
                    step = Step::Eof;
                    break;
                }
                Ok(Some(n)) => {
                    let flushed = tokio::select! {
                        _ = ends.stop.cancelled() => Err(End::Cancelled),
                        r = pipe.flush(ends.dst) => r.map_err(reset_for),
                    };
                    if let Err(end) = flushed {
                        // Bytes may still be in the pipe: it is closed, not pooled.
                        return Step::End(end);
                    }
                    ends.ctx.count(ends.dir, n, n);
                }
                Err(e) => return Step::End(reset_for(e)),
            }
            if faults.has_changed().unwrap_or(true) || ends.stop.is_cancelled() {
                break;
            }
        }
        self.pool.give(pipe);
        step
    }
}
