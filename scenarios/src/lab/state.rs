//! The running lab ([`Lab`]): the runner's world (servers, one proxy per
//! directed link, host routes), the live case folder, what the API and the
//! scenario have installed, the timeline, the latest verdicts, and the
//! event channel every change is announced on (`GET /api/events`).
//!
//! The proxies and the servers are the truth: a link's faults are the
//! toxics its proxies hold, a server's state is whether it runs. The lab
//! keeps only what they cannot say: the id of each fault it installed, and
//! whether a stopped server was killed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::args::LabSettings;
use super::error::LabError;
use super::net::Net;
use super::view::{EngineView, LinkView, StateView, TimelineEntry};
use crate::error::Error;
use crate::plan::LinkRef;
use crate::probe::ProbeLine;
use crate::runner::case::CaseDir;

/// How many timeline entries are kept (the oldest go first).
const TIMELINE_LEN: usize = 500;

/// How many events a slow subscriber may fall behind before it is told it
/// missed some (`lagged`).
const EVENT_BUFFER: usize = 1024;

/// How long background tasks get to end at shutdown.
const TASKS_WAIT: Duration = Duration::from_secs(10);

/// One change, as `GET /api/events` sends it: `event: KIND`, `data: JSON`.
#[derive(Debug, Clone)]
pub struct LabEvent {
    pub kind: &'static str,
    pub data: Value,
}

/// A fault the lab installed: where, under which toxic name, by whom.
#[derive(Debug, Clone)]
pub(super) struct Registered {
    pub link: String,
    pub on: Vec<LinkRef>,
    pub toxic: String,
    pub by: &'static str,
    /// The toxic as installed, for the view once it is gone.
    pub fault: Value,
    /// How the timeline told it (`drop`).
    pub said: String,
    /// Being installed: not on every proxy yet.
    pub pending: bool,
}

#[derive(Debug, Default)]
pub(super) struct Inner {
    pub next_id: u64,
    pub faults: BTreeMap<u64, Registered>,
    /// Stopped servers whose last stop was a kill.
    pub killed: BTreeSet<String>,
    pub timeline: VecDeque<TimelineEntry>,
    pub verdicts: Vec<diagnosis::Verdict>,
    pub engine: EngineView,
}

/// A running lab.
pub struct Lab {
    pub(super) settings: LabSettings,
    pub(super) net: Net,
    /// Every directed link with its own proxy listener.
    pub(super) proxied: Vec<LinkRef>,
    pub(super) case: CaseDir,
    pub(super) started: tokio::time::Instant,
    inner: Mutex<Inner>,
    events: broadcast::Sender<LabEvent>,
    /// Poked at every change; the engine takes a fresh snapshot soon after.
    pub(super) dirty: Notify,
    /// Set by every action (fault, server, scenario step): the next snapshot
    /// probes again. Probes are connections the servers log (a TCP connect
    /// that sends nothing is 86 on a DS), so they run once per action, not
    /// at every snapshot: what the engine needs from them (no answer,
    /// refused, no such name) changes only with an action.
    pub(super) probe_due: AtomicBool,
    pub(super) probes: Mutex<Vec<ProbeLine>>,
    pub(super) cancel: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("title", &self.settings.source)
            .field("flavor", &self.net.flavor())
            .field("servers", &self.net.names())
            .field("case", &self.case.path())
            .finish_non_exhaustive()
    }
}

impl Lab {
    /// Brings the topology up (the scenario's steps at 0 first, as `run`
    /// plays them), starts every server, and the background tasks: log
    /// tails, the link watcher, the engine, the scenario's later steps.
    pub async fn start(settings: LabSettings) -> Result<Arc<Lab>, Error> {
        let case = match &settings.case_out {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| Error::CaseFolder { path: dir.clone(), source })?;
                CaseDir::Kept(dir.clone())
            }
            None => CaseDir::new(None, "lab")?,
        };
        let net = Net::up(&settings.plan, settings.seed).await?;
        let (early, later) = Net::script(&settings.plan);
        let proxied = net.proxied(&settings.plan);
        let lab = Arc::new(Lab {
            settings,
            net,
            proxied,
            case,
            started: tokio::time::Instant::now(),
            inner: Mutex::new(Inner { next_id: 1, ..Inner::default() }),
            events: broadcast::channel(EVENT_BUFFER).0,
            dirty: Notify::new(),
            probe_due: AtomicBool::new(true),
            probes: Mutex::new(Vec::new()),
            cancel: CancellationToken::new(),
            tasks: TaskTracker::new(),
        });
        lab.play_all(&early).await;
        if let Err(e) = lab.net.start_all().await {
            lab.net.shutdown().await;
            return Err(e);
        }
        let wait_up = early.is_empty() && Net::expects_up(&lab.settings.plan) && !later.is_empty();
        lab.spawn_tasks(later, wait_up);
        Ok(lab)
    }

    /// Ends every background task and event stream, then stops every
    /// server cleanly and every proxy.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tasks.close();
        if tokio::time::timeout(TASKS_WAIT, self.tasks.wait()).await.is_err() {
            tracing::warn!("lab: background tasks still running after {TASKS_WAIT:?}; stopping the servers anyway");
        }
        self.net.shutdown().await;
    }

    /// Spawns a background task, ended at shutdown.
    pub(super) fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Cancelled at shutdown: event streams end on it.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LabEvent> {
        self.events.subscribe()
    }

    /// The live case folder the engine reads.
    pub fn case_folder(&self) -> &std::path::Path {
        self.case.path()
    }

    /// The title, seed and time scale it was started with.
    pub fn settings(&self) -> &LabSettings {
        &self.settings
    }

    pub(super) fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn emit(&self, kind: &'static str, data: &impl Serialize) {
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        // No subscriber is not an error.
        let _ = self.events.send(LabEvent { kind, data });
    }

    /// The virtual clock now, as the logs stamp it.
    pub(super) fn now_text(&self) -> String {
        self.net.env().clock.now().format(&Rfc3339).unwrap_or_default()
    }

    /// Something was done: a fresh snapshot soon, with fresh probes.
    pub(super) fn acted(&self) {
        self.probe_due.store(true, Ordering::SeqCst);
        self.dirty.notify_one();
    }

    /// Adds a timeline entry and announces it.
    pub(super) fn note(&self, by: &'static str, what: String) {
        tracing::info!(by, "{what}");
        let entry = TimelineEntry { at: self.now_text(), elapsed_s: self.elapsed_s(), by, what };
        {
            let mut inner = self.inner();
            if inner.timeline.len() >= TIMELINE_LEN {
                inner.timeline.pop_front();
            }
            inner.timeline.push_back(entry.clone());
        }
        self.emit("timeline", &entry);
    }

    fn elapsed_s(&self) -> f64 {
        (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
    }

    /// A server of the lab by name (404 otherwise).
    pub(super) fn server(&self, name: &str) -> Result<String, LabError> {
        if self.net.has(name) {
            Ok(name.to_owned())
        } else {
            Err(LabError::UnknownServer { name: name.to_owned(), known: self.net.names().join(", ") })
        }
    }

    /// `GET /api/state`.
    pub async fn state(&self) -> StateView {
        let faults = self.faults_on();
        let links = self.link_views(&faults).await;
        let servers = self.server_views().await;
        let inner = self.inner();
        StateView {
            title: self.settings.source.clone(),
            time_scale: self.settings.plan.time_scale,
            now: self.now_text(),
            elapsed_s: self.elapsed_s(),
            case_folder: self.case.path().display().to_string(),
            servers,
            links,
            faults: faults.into_iter().map(|(_, v)| v).collect(),
            verdicts: inner.verdicts.clone(),
            engine: inner.engine.clone(),
            timeline: inner.timeline.iter().cloned().collect(),
        }
    }

    /// Every pair of servers that replicate with each other, in topology
    /// order, with the faults installed between the two.
    pub(super) async fn link_views(&self, faults: &[(Vec<LinkRef>, super::view::FaultView)]) -> Vec<LinkView> {
        self.net
            .links()
            .await
            .into_iter()
            .map(|p| {
                let between = |l: &LinkRef| (l.from == p.a && l.to == p.b) || (l.from == p.b && l.to == p.a);
                let on_link: Vec<super::view::FaultView> =
                    faults.iter().filter(|(on, _)| on.iter().any(between)).map(|(_, v)| v.clone()).collect();
                let up = p.up();
                LinkView {
                    name: format!("{} <-> {}", p.a, p.b),
                    state: super::view::link_state(up, &on_link),
                    up,
                    directions: p.directions,
                    domains: p.domains,
                    faults: on_link,
                    a: p.a,
                    b: p.b,
                }
            })
            .collect()
    }
}
