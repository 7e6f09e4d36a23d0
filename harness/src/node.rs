//! What every running server instance shares between its tasks, whatever its
//! family: its name and `node{name}` span, the topology's clock, host map and
//! change notices, a seeded RNG, and the cancel token and task tracker that
//! end every task at a stop or a kill.
//!
//! A family's own node state (DS: domain locks, links, generation ids) holds
//! a [`NodeCore`] and spawns every task through it, so each task runs in the
//! node's span (connections in a `conn{id,peer}` span under it) and ends with
//! the node.

use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, Span};

use crate::clock::VirtualClock;
use crate::hostmap::HostMap;
use crate::topology::{Changes, Env};

/// Connection ids, unique in the process, for `conn{id}` spans.
static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// One running instance of a server: lives from a start to the matching stop or kill.
#[derive(Debug)]
pub(crate) struct NodeCore {
    pub name: String,
    pub clock: VirtualClock,
    pub hosts: std::sync::Arc<HostMap>,
    pub changes: Changes,
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
    killed: AtomicBool,
    rng: Mutex<StdRng>,
    span: Span,
}

impl NodeCore {
    pub fn new(name: &str, env: &Env, seed: u64) -> Self {
        Self {
            name: name.to_owned(),
            clock: env.clock.clone(),
            hosts: env.hosts.clone(),
            changes: env.changes.clone(),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            killed: AtomicBool::new(false),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            span: tracing::info_span!("node", name = %name),
        }
    }

    /// Runs `task` until it ends, in the node's span.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tracker.spawn(task.instrument(self.span.clone()));
    }

    /// Runs `task` in `span` (made with [`NodeCore::conn_span`] or under it).
    pub fn spawn_in(&self, span: Span, task: impl Future<Output = ()> + Send + 'static) {
        self.tracker.spawn(task.instrument(span));
    }

    /// A `conn{id,peer}` span under the node's span, for one connection.
    pub fn conn_span(&self, peer: &dyn Display) -> Span {
        let id = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
        tracing::info_span!(parent: &self.span, "conn", id, peer = %peer)
    }

    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Ends every task: abortively (RST) when `kill`, else cleanly.
    pub fn shut(&self, kill: bool) {
        self.killed.store(kill, Ordering::SeqCst);
        self.cancel.cancel();
    }

    /// Shuts the node and waits, at most `limit`, for its tasks to end.
    pub async fn wind_down(&self, kill: bool, limit: Duration) {
        self.shut(kill);
        self.tracker.close();
        if tokio::time::timeout(limit, self.tracker.wait()).await.is_err() {
            tracing::warn!(parent: &self.span, server = %self.name, "tasks still running {limit:?} after stop");
        }
        self.notify();
    }

    /// Real time standing for a product interval.
    pub fn real(&self, product: Duration) -> Duration {
        self.clock.real(product)
    }

    /// `base` plus up to 10 % jitter (product time), as real time: the real
    /// product adds 0..100 ms to its 1000 ms connect period.
    pub fn jittered(&self, base: Duration) -> Duration {
        let tenth = u64::try_from(base.as_millis() / 10).unwrap_or(u64::MAX);
        let extra = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            rng.random_range(0..=tenth)
        };
        self.real(base.saturating_add(Duration::from_millis(extra)))
    }

    /// Tells waiters that a link or session came up or went down.
    pub fn notify(&self) {
        self.changes.notify();
    }
}
