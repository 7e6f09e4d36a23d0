//! The zero-copy path of a direction that no fault touches: bytes move
//! socket → pipe → socket with `splice(2)`, until a fault changes.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::Instant;

use super::write::Ends;
use super::{reset_for, End};
use crate::fault_set::{until_change, FaultSet};
use crate::io::{Pipe, Spliced};

/// Zero-copy steps taken in a row before looking at the select again.
const SPLICE_BURST: usize = 8;

/// A direction's pipe, made when first needed.
#[derive(Debug, Default)]
pub(crate) struct ZeroCopy {
    pipe: Option<Pipe>,
    /// No pipe could be made (out of descriptors, say): the copying path carries the bytes.
    unavailable: bool,
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

impl ZeroCopy {
    /// True when the zero-copy path can run (a pipe exists or can be made).
    pub fn ready(&mut self) -> bool {
        if self.pipe.is_some() {
            return true;
        }
        if self.unavailable {
            return false;
        }
        match Pipe::new() {
            Ok(p) => {
                self.pipe = Some(p);
                true
            }
            Err(e) => {
                tracing::debug!("no pipe for the zero-copy path: {e}");
                self.unavailable = true;
                false
            }
        }
    }

    /// Writes out what is still in the pipe, before faults apply to the bytes.
    pub async fn drain(&mut self, ends: Ends<'_>) -> Result<(), End> {
        match &mut self.pipe {
            Some(p) if !p.is_empty() => p.flush(ends.dst).await.map_err(reset_for),
            _ => Ok(()),
        }
    }

    /// Moves bytes until a fault changes, the schedule turns, or the source ends.
    pub async fn round(
        &mut self,
        ends: Ends<'_>,
        faults: &mut watch::Receiver<Arc<FaultSet>>,
        set: &FaultSet,
        now: Instant,
    ) -> Step {
        let Some(p) = &mut self.pipe else { return Step::Again };
        tokio::select! {
            biased;
            _ = ends.stop.cancelled() => Step::End(End::Cancelled),
            r = faults.changed() => {
                if r.is_err() {
                    return Step::End(End::Cancelled);
                }
                // Finish what is in the pipe before faults apply.
                match p.flush(ends.dst).await {
                    Ok(()) => Step::Again,
                    Err(e) => Step::End(reset_for(e)),
                }
            }
            _ = until_change(set.next_change(now)) => Step::Again,
            r = p.step(ends.src, ends.dst) => match r {
                Ok(Spliced::Moved(n)) => {
                    ends.ctx.count(ends.dir, n, n);
                    // Keep moving while data flows and no fault changed,
                    // without going round the select for every step.
                    for _ in 0..SPLICE_BURST {
                        if faults.has_changed().unwrap_or(true) || ends.stop.is_cancelled() {
                            break;
                        }
                        match p.try_step(ends.src, ends.dst).await {
                            Ok(Some(Spliced::Moved(n))) => ends.ctx.count(ends.dir, n, n),
                            Ok(Some(Spliced::Eof)) => return Step::Eof,
                            Ok(None) => break,
                            Err(e) => return Step::End(reset_for(e)),
                        }
                    }
                    Step::Again
                }
                Ok(Spliced::Eof) => Step::Eof,
                Err(e) => Step::End(reset_for(e)),
            },
        }
    }
}
