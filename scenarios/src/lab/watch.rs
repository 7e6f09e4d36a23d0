//! The lab's background tasks, each ended by the lab's cancel token:
//! - a log tail per server: every new record is a `log` event;
//! - the link watcher: on the harness's change notices, a `links` event
//!   whenever a link comes up or goes down;
//! - the engine: a fresh snapshot of the case folder (every server's files,
//!   and the probes along the servers' own paths, run again after each
//!   action) diagnosed by the built-in engine, on every change (after a
//!   short settle) and every `--refresh` when nothing changes; a `verdicts`
//!   event when they differ;
//! - the scenario's later steps, on the virtual clock, as `run` plays them;
//! - 389 labs of `--flavor 389`: a change written on every running supplier
//!   now and then ([`super::args::LabSettings::writes_every`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::faults::{describe, link_text};
use super::net::Script;
use super::state::Lab;
use crate::exchange::plan::ExAction;
use crate::format::Port;
use crate::plan::{Action, LinkRef};

/// How long a wait on logs or links lasts before it is simply started again.
const IDLE: Duration = Duration::from_secs(3600);

/// A burst of changes (a link going down writes several lines) settles
/// this long before the engine runs.
const SETTLE: Duration = Duration::from_millis(250);

/// The engine runs at most once per this.
const MIN_GAP: Duration = Duration::from_millis(500);

/// How long the topology may take to come up before a scenario's first timed step.
const SETTLE_UP: Duration = Duration::from_secs(30);

impl Lab {
    pub(super) fn spawn_tasks(self: &Arc<Self>, later: Script, wait_up: bool) {
        for name in self.net.names() {
            self.spawn(self.clone().tail(name));
        }
        self.spawn(self.clone().watch_links());
        self.spawn(self.clone().engine());
        if !later.is_empty() {
            self.spawn(self.clone().play(later, wait_up));
        }
        if let Some(every) = self.settings.writes_every.filter(|_| self.net.r389_world().is_some()) {
            self.spawn(self.clone().write_changes(every));
        }
    }

    /// At every multiple of `every` on the virtual clock, one change on
    /// each running 389 supplier: its agreements then open a session, and a
    /// fault on their path shows in their status. Not on the timeline (it
    /// is traffic, not an action).
    async fn write_changes(self: Arc<Self>, every: Duration) {
        let Some(w) = self.net.r389_world() else { return };
        for k in 1u32.. {
            let when = w.lab.clock().instant_at(every.saturating_mul(k));
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep_until(when.into()) => {}
            }
            for s in w.lab.servers().iter().filter(|s| s.is_supplier()) {
                if s.is_running().await {
                    // A supplier stopping meanwhile refuses it: nothing to write then.
                    if let Err(e) = s.write(1).await {
                        tracing::debug!("lab: a change on {}: {e}", s.name());
                    }
                }
            }
        }
    }

    async fn tail(self: Arc<Self>, name: String) {
        let Some(log) = self.net.log(&name) else { return };
        let mut seen = 0;
        loop {
            let grew = tokio::select! {
                _ = self.cancel.cancelled() => return,
                grew = log.wait_for(IDLE, |rs| rs.len() > seen) => grew,
            };
            if !grew {
                continue;
            }
            let records = log.records();
            for (i, r) in records.iter().enumerate().skip(seen) {
                self.emit("log", &json!({"server": name, "n": i + 1, "files": r.files, "line": r.line}));
            }
            seen = records.len();
            self.dirty.notify_one();
        }
    }

    async fn watch_links(self: Arc<Self>) {
        let net = &self.net;
        let changes = net.env().changes.clone();
        let mut last = net.links().await;
        loop {
            let seen = &last;
            let changed = tokio::select! {
                _ = self.cancel.cancelled() => return,
                r = changes.wait_until(IDLE, || async move {
                    if net.links().await != *seen { Ok(()) } else { Err(()) }
                }) => r.is_ok(),
            };
            if !changed {
                continue;
            }
            last = net.links().await;
            let faults = self.faults_on();
            let links = self.link_views(&faults).await;
            self.emit("links", &json!({ "links": links }));
            self.dirty.notify_one();
        }
    }

    async fn engine(self: Arc<Self>) {
        let mut last_run: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep(self.settings.refresh) => {}
                _ = self.dirty.notified() => {}
            }
            let gap = last_run.map_or(Duration::ZERO, |t| MIN_GAP.saturating_sub(t.elapsed()));
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep(gap.max(SETTLE)) => {}
            }
            last_run = Some(tokio::time::Instant::now());
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = self.snapshot() => {}
            }
        }
    }

    /// One fresh snapshot diagnosed: probes, the case folder rewritten, the
    /// engine run on it; the verdicts replace the last ones.
    pub async fn snapshot(&self) {
        if let Some(wait) = self.settings.plan.probe_timeout {
            if self.probe_due.swap(false, Ordering::SeqCst) {
                let fresh = self.net.probes(wait).await;
                *self.probes.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
            }
        }
        let probes = self.probes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let at = self.now_text();
        if let Err(e) = self.net.write_case(&self.case, &probes).await {
            self.engine_failed(format!("writing the case folder: {e}"));
            return;
        }
        let path = self.case.path().to_owned();
        let report = tokio::task::spawn_blocking(move || diagnosis::diagnose(&path, &diagnosis::Options::default()));
        match report.await {
            Ok(Ok(report)) => self.take_verdicts(report.verdicts, at),
            Ok(Err(e)) => self.engine_failed(e.to_string()),
            Err(e) => self.engine_failed(format!("the engine stopped: {e}")),
        }
    }

    fn engine_failed(&self, why: String) {
        tracing::warn!("lab: snapshot not diagnosed: {why}");
        let mut inner = self.inner();
        inner.engine.snapshots += 1;
        inner.engine.error = Some(why);
    }

    fn take_verdicts(&self, verdicts: Vec<diagnosis::Verdict>, at: String) {
        // A cause that settles (unknown, then remote-down) is a change worth telling.
        let key = |v: &diagnosis::Verdict| (v.id.clone(), v.subject.clone(), v.cause.clone());
        let change = {
            let mut inner = self.inner();
            inner.engine.snapshots += 1;
            inner.engine.at = Some(at.clone());
            inner.engine.error = None;
            if inner.verdicts == verdicts {
                None
            } else {
                let before: Vec<_> = inner.verdicts.iter().map(key).collect();
                let after: Vec<_> = verdicts.iter().map(key).collect();
                let came: Vec<&diagnosis::Verdict> = verdicts.iter().filter(|v| !before.contains(&key(v))).collect();
                let went: Vec<&diagnosis::Verdict> =
                    inner.verdicts.iter().filter(|v| !after.contains(&key(v))).collect();
                let text = summary(&came, &went);
                inner.verdicts = verdicts.clone();
                Some(text)
            }
        };
        if let Some(text) = change {
            if let Some(text) = text {
                self.note("engine", text);
            }
            self.emit("verdicts", &json!({ "verdicts": verdicts, "at": at }));
        }
    }

    async fn play(self: Arc<Self>, later: Script, wait_up: bool) {
        if wait_up {
            let up = tokio::select! {
                _ = self.cancel.cancelled() => return,
                up = self.net.wait_all_up(SETTLE_UP) => up,
            };
            if let Err(missing) = up {
                self.note("scenario", format!("not up after {SETTLE_UP:?}: {}", missing.join(", ")));
            }
        }
        for at in later.times() {
            let when = self.net.env().clock.instant_at(at.1);
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep_until(when.into()) => {}
            }
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = self.play_one(&later, at.0) => {}
            }
        }
        self.note("scenario", "every step of the scenario has run".into());
    }

    /// Every step of `script`, one after the other (the steps at 0, before anything starts).
    pub(super) async fn play_all(&self, script: &Script) {
        for (i, _) in script.times() {
            self.play_one(script, i).await;
        }
    }

    /// Step `i` of the scenario file, as `run` plays it; its faults are
    /// registered (so the page shows them and can heal them) and what it
    /// did goes on the timeline. A failed step is noted, not fatal.
    async fn play_one(&self, script: &Script, i: usize) {
        let (fault, result, server) = match script {
            Script::Ds(steps) | Script::R389(steps) => {
                let s = &steps[i];
                match &s.action {
                    Action::Fault { links, toxic } => {
                        (Some((links.clone(), toxic.clone(), s.place.to_string())), Ok(None), None)
                    }
                    other => {
                        let r = match (self.net.ds_world(), self.net.r389_world()) {
                            (Some(w), _) => crate::runner::act::step(s, w).await.map_err(|e| e.to_string()),
                            (None, Some(w)) => crate::runner::r389::step(s, w).await.map_err(|e| e.to_string()),
                            (None, None) => Err("not a DS mesh or a 389 topology".to_owned()),
                        };
                        (None, r.map(|()| Some(said(other))), ds_server(other))
                    }
                }
            }
            Script::Exchange(steps) => {
                let s = &steps[i];
                match &s.action {
                    ExAction::Fault { links, toxic } => {
                        let links = links
                            .iter()
                            .map(|(from, to)| LinkRef { from: from.clone(), to: to.clone(), port: Port::Replication })
                            .collect();
                        (Some((links, toxic.clone(), s.place.to_string())), Ok(None), None)
                    }
                    other => {
                        let r = match self.net.exchange_world() {
                            Some(w) => crate::exchange::runner::step(s, w).await.map_err(|e| e.to_string()),
                            None => Err("not an Exchange organization".to_owned()),
                        };
                        (None, r.map(|()| Some(ex_said(other))), ex_server(other))
                    }
                }
            }
        };
        let result = match fault {
            Some((links, toxic, place)) => {
                let id = self.next_fault_id();
                let said = format!("{} ({place})", describe(&toxic.to_json()));
                self.install(id, links, toxic, "scenario", said).await.map(|_| None).map_err(|e| e.to_string())
            }
            None => result,
        };
        if let (Some((server, killed)), Ok(_)) = (server, &result) {
            if killed {
                self.inner().killed.insert(server);
            } else {
                self.inner().killed.remove(&server);
            }
        }
        match result {
            Ok(Some(what)) => self.note("scenario", what),
            Ok(None) => {}
            // The step's error names its place and action already.
            Err(e) => self.note("scenario", format!("failed: {e}")),
        }
        self.acted();
    }
}

/// A server a step stopped (false), started (false) or killed (true).
fn ds_server(a: &Action) -> Option<(String, bool)> {
    match a {
        Action::Kill { server } => Some((server.clone(), true)),
        Action::Stop { server } | Action::Start { server } => Some((server.clone(), false)),
        _ => None,
    }
}

fn ex_server(a: &ExAction) -> Option<(String, bool)> {
    match a {
        ExAction::Kill { server } => Some((server.clone(), true)),
        ExAction::Stop { server } | ExAction::Start { server } => Some((server.clone(), false)),
        _ => None,
    }
}

/// An Exchange step in a few words, for the timeline.
fn ex_said(a: &ExAction) -> String {
    match a {
        ExAction::Clear { name, .. } => format!("cleared the fault {name:?}"),
        ExAction::Stop { server } => format!("stopped {server} (a clean stop)"),
        ExAction::Kill { server } => format!("killed {server}"),
        ExAction::Start { server } => format!("started {server}"),
        ExAction::Schedule { servers, .. } => format!("a new schedule on {}", servers.join(", ")),
        ExAction::RequestNow { server, site, .. } => format!("Request Now on {server} for {site}"),
        ExAction::Import { server, objects, .. } => format!("{objects} objects imported on {server}"),
        other => format!("{} step", other.verb()),
    }
}

/// A DS step in a few words, for the timeline.
fn said(a: &Action) -> String {
    match a {
        Action::Clear { links, name } => format!("cleared the fault {name:?} on {}", link_text(links)),
        Action::Stop { server } => format!("stopped {server} (a clean stop)"),
        Action::Kill { server } => format!("killed {server}"),
        Action::Start { server } => format!("started {server}"),
        Action::Dns { host, from, entry } => {
            let what = match entry {
                harness::hostmap::HostEntry::Unresolvable => "does not resolve".to_owned(),
                harness::hostmap::HostEntry::Addresses(a) => {
                    format!("resolves to {}", a.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", "))
                }
            };
            match from {
                Some(f) => format!("{host} {what} for {f}"),
                None => format!("{host} {what}"),
            }
        }
        Action::Generation { server, domain, generation_id } => {
            format!("the generation id of {domain} on {server} is now {generation_id}")
        }
        Action::Wait { until, .. } => format!("waited for {until}"),
        Action::R389(a) => r389_said(a),
        // Proxy faults are installed (and noted) by the lab itself.
        other => format!("{} step", other.verb()),
    }
}

/// A 389 step in a few words, for the timeline.
fn r389_said(a: &crate::plan::Action389) -> String {
    use crate::plan::Action389 as A;
    match a {
        A::Write { server, count } => format!("{count} change(s) written on {server}"),
        A::Agreement { supplier, agreement, change } => match change.enabled {
            Some(true) => format!("enabled the agreement {agreement} on {supplier}"),
            Some(false) => format!("disabled the agreement {agreement} on {supplier}"),
            None => format!("changed the agreement {agreement} on {supplier}"),
        },
        A::Init { supplier, agreement } => format!("initialized the consumer of {agreement} from {supplier}"),
        A::Poke { supplier, agreement } => format!("poked the agreement {agreement} on {supplier}"),
        A::Replica { server, .. } => format!("changed the replica of {server}"),
    }
}

/// `+ ds.rs-peer-unreachable ×2 (firewall-drop); − ds.healthy`, or nothing when only evidence changed.
fn summary(came: &[&diagnosis::Verdict], went: &[&diagnosis::Verdict]) -> Option<String> {
    fn group(vs: &[&diagnosis::Verdict]) -> Vec<String> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for v in vs {
            let label = match &v.cause {
                Some(c) => format!("{} ({c})", v.id),
                None => v.id.clone(),
            };
            match out.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => out.push((label, 1)),
            }
        }
        out.into_iter().map(|(l, n)| if n > 1 { format!("{l} ×{n}") } else { l }).collect()
    }
    let mut parts: Vec<String> = group(came).into_iter().map(|l| format!("+ {l}")).collect();
    parts.extend(group(went).into_iter().map(|l| format!("− {l}")));
    (!parts.is_empty()).then(|| format!("verdicts: {}", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engines_changes_read_in_one_line() {
        let v = |id: &str, cause: Option<&str>| {
            let mut v = diagnosis::Verdict::new(id, diagnosis::Severity::Error);
            v.cause = cause.map(str::to_owned);
            v
        };
        let (a, b, h) = (
            v("ds.rs-peer-unreachable", Some("firewall-drop")),
            v("ds.rs-peer-unreachable", Some("firewall-drop")),
            v("ds.healthy", None),
        );
        assert_eq!(
            summary(&[&a, &b], &[&h]).as_deref(),
            Some("verdicts: + ds.rs-peer-unreachable (firewall-drop) ×2; − ds.healthy")
        );
        assert_eq!(summary(&[], &[]), None);
    }
}
