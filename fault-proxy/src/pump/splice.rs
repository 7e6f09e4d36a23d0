//! The zero-copy path of a direction that no fault touches: bytes move
//! socket → pipe → socket with `splice(2)`, until a fault changes.
//!
//! The pipe comes from the server's [`PipePool`] once the source is readable
//! and goes back as soon as it is empty again, so a connection waiting for
//! bytes holds no pipe: two descriptors per connection, its sockets, plus
//! one pipe per transfer in progress.
//!
//! A message that fits in [`SMALL`] bytes is copied instead: one `read`,
//! one `write`. A read shorter than asked drained the socket, so its
//! readiness is cleared there and then, as tokio's own reads do; a splice
//! can't tell (it also stops when the pipe's slots run out), so splicing a
//! small message costs a third call that finds nothing. Once a read fills
//! the buffer the stream is bulk and splices until the socket is empty.

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
/// Reads of up to this many bytes are copied (a per-thread buffer, never
/// held across a wait: what a full destination does not take is kept on the heap).
pub(crate) const SMALL: usize = 16 * 1024;
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
    /// The last copy filled its buffer: splice until the socket is empty.
    bulk: bool,
}

/// What one copying read did.
enum Copied {
    /// This many bytes read and written, `rest` of them still to write.
    Moved {
        n: usize,
        rest: Option<Vec<u8>>,
        full: bool,
    },
    /// Nothing to read (readiness cleared).
    Empty,
    Eof,
    Failed(std::io::Error),
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
        ZeroCopy { pool, retry_at: None, bulk: false }
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
            if !self.bulk {
                match copy_small(ends) {
                    Copied::Empty => continue,
                    Copied::Eof => return Step::Eof,
                    Copied::Failed(e) => return Step::End(reset_for(e)),
                    Copied::Moved { n, rest, full } => {
                        if let Some(rest) = rest {
                            if let Err(end) = write_rest(ends, &rest).await {
                                return Step::End(end);
                            }
                        }
                        ends.ctx.count(ends.dir, n, n);
                        if !full {
                            if faults.has_changed().unwrap_or(true) {
                                return Step::Again;
                            }
                            continue;
                        }
                        self.bulk = true;
                    }
                }
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
                Ok(None) => {
                    self.bulk = false;
                    break;
                }
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

/// Reads what the source has (up to [`SMALL`]) and writes it on at once;
/// what the destination does not take now comes back as `rest`.
fn copy_small(ends: Ends<'_>) -> Copied {
    thread_local! {
        // One per thread, reused: a fresh stack buffer would be zeroed on every hop.
        static SCRATCH: std::cell::RefCell<Box<[u8]>> = std::cell::RefCell::new(vec![0u8; SMALL].into_boxed_slice());
    }
    SCRATCH.with(|b| copy_through(ends, &mut b.borrow_mut()))
}

fn copy_through(ends: Ends<'_>, buf: &mut [u8]) -> Copied {
    use std::io::ErrorKind;
    let mut got = 0usize;
    // A short read drained the socket: saying WouldBlock after it clears the
    // readiness now (tokio clears only readiness it has not seen renewed, so
    // bytes arriving meanwhile still wake the next wait).
    let r = ends.src.try_io(tokio::io::Interest::READABLE, || {
        let n = rustix::io::read(ends.src, &mut *buf).map_err(std::io::Error::from)?;
        got = n;
        if n > 0 && n < SMALL {
            Err(ErrorKind::WouldBlock.into())
        } else {
            Ok(n)
        }
    });
    match r {
        Ok(0) => return Copied::Eof,
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::WouldBlock && got > 0 => {}
        Err(e) if e.kind() == ErrorKind::WouldBlock => return Copied::Empty,
        Err(e) => return Copied::Failed(e),
    }
    let data = &buf[..got];
    let mut done = 0;
    while done < got {
        match ends.dst.try_write(&data[done..]) {
            Ok(0) => return Copied::Failed(ErrorKind::WriteZero.into()),
            Ok(w) => done += w,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => return Copied::Failed(e),
        }
    }
    let rest = (done < got).then(|| data[done..].to_vec());
    Copied::Moved { n: got, rest, full: got == SMALL }
}

/// Writes `rest` once the destination takes it, unless the connection stops.
async fn write_rest(ends: Ends<'_>, rest: &[u8]) -> Result<(), End> {
    let mut done = 0;
    while done < rest.len() {
        let ready = tokio::select! {
            _ = ends.stop.cancelled() => return Err(End::Cancelled),
            r = ends.dst.writable() => r,
        };
        ready.map_err(reset_for)?;
        match ends.dst.try_write(&rest[done..]) {
            Ok(0) => return Err(reset_for(std::io::ErrorKind::WriteZero.into())),
            Ok(w) => done += w,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(reset_for(e)),
        }
    }
    Ok(())
}
