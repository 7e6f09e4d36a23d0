//! The faults installed on a proxy, as one immutable snapshot (a
//! [`FaultSet`] of toxics, each an [`Entry`]), and what they mean for a
//! listener ([`ListenMode`]), a new connection ([`NewConn`]) and one
//! direction of a live connection ([`Active`]).
//!
//! Pumps hold the snapshot from a `watch` channel and look at it again at
//! every chunk, so a fault added, changed or removed reaches live connections
//! at the next chunk. Whether a toxic touches a connection is a seeded draw
//! ([`crate::draw`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::draw::draw;
use crate::error::FieldError;
use crate::target::Cidr;
use crate::toxic::{Direction, Kind, Toxic};

/// One toxic as installed on a proxy.
#[derive(Debug)]
pub struct Entry {
    pub toxic: Toxic,
    /// When it was added or last updated: schedules count from here.
    pub since: Instant,
    /// Bumped on every update, so toxicity is drawn again (as Toxiproxy does).
    pub version: u64,
    pub cidr: Option<Cidr>,
}

impl Entry {
    /// Checks the toxic ([`Toxic::validate`]) and compiles its target: a
    /// toxic whose target does not parse is refused, never installed as one
    /// that touches every connection.
    pub fn new(toxic: Toxic, version: u64) -> Result<Self, FieldError> {
        toxic.validate()?;
        let cidr = toxic.target.compile()?;
        Ok(Self { toxic, since: Instant::now(), version, cidr })
    }

    /// Is the schedule on now?
    pub fn on(&self, now: Instant) -> bool {
        match &self.toxic.schedule {
            None => true,
            Some(s) => s.active(now.saturating_duration_since(self.since)),
        }
    }

    fn targets(&self, seed: u64, id: u64, client: SocketAddr) -> bool {
        self.toxic.target.matches(self.cidr.as_ref(), client, id)
            && draw(seed, id, &self.toxic.name, self.version) < self.toxic.toxicity
    }

    /// Applies to every connection alike, so the listener itself can act on it.
    fn untargeted(&self) -> bool {
        self.toxic.target.is_empty() && self.toxic.toxicity >= 1.0
    }
}

/// What the listener does with new connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenMode {
    Accept,
    /// Nothing listens: connect gets "connection refused".
    Refuse,
    /// The listener stays, nothing is accepted, its backlog is kept full:
    /// further SYNs go unanswered.
    Blackhole,
}

/// What happens to one new connection once accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewConn {
    Pass,
    /// Targeted reject: accept, then RST.
    Reset,
    /// Targeted drop: accept, then say nothing until the drop ends.
    Silence,
}

/// The faults in force for one direction of one connection, now.
#[derive(Debug, Default, Clone)]
pub struct Active {
    /// Total delay and jitter in ms (several latency toxics add up, as they chain in Toxiproxy).
    pub latency: Option<(u64, u64)>,
    /// The tightest rate, KB/s.
    pub bandwidth: Option<u64>,
    pub slicer: Option<(u64, u64, u64)>,
    pub slow_close: Option<u64>,
    /// (name, ms): drop bytes, close after ms (0: never).
    pub timeout: Option<(String, u64)>,
    pub reset_peer: Option<u64>,
    /// (name, bytes).
    pub limit_data: Option<(String, u64)>,
    /// Stop reading (hold, drop).
    pub stop_reading: bool,
    /// Stop writing what was already read (drop only: no byte passes).
    pub stop_writing: bool,
    /// A reject with `reset_existing`.
    pub reset_now: bool,
    /// Names of the faults in force, for the connection listing.
    pub names: Vec<String>,
}

impl Active {
    /// Nothing touches the bytes: the zero-copy path may run.
    pub fn is_clear(&self) -> bool {
        self.names.is_empty()
    }
}

/// Everything a proxy's pumps and listener need to know, as one snapshot.
#[derive(Debug, Default)]
pub struct FaultSet {
    /// Bumped at every change, so the listener can say which one it applied.
    pub generation: u64,
    pub enabled: bool,
    pub seed: u64,
    pub entries: Vec<Arc<Entry>>,
    /// The most bytes one direction of a connection holds while faults
    /// delay them (the proxy's `buffer_bytes`; 0: [`DEFAULT_BUFFER`]).
    pub buffer: usize,
}

/// `buffer_bytes` when a proxy does not say: 1 MiB per direction.
pub const DEFAULT_BUFFER: usize = 1 << 20;

impl FaultSet {
    /// The held-bytes budget of one direction.
    pub fn budget(&self) -> usize {
        if self.buffer == 0 {
            DEFAULT_BUFFER
        } else {
            self.buffer
        }
    }

    pub fn listen_mode(&self, now: Instant) -> ListenMode {
        if !self.enabled {
            return ListenMode::Refuse;
        }
        let on = |f: fn(&Kind) -> bool| self.entries.iter().any(|e| e.untargeted() && e.on(now) && f(&e.toxic.kind));
        if on(|k| matches!(k, Kind::Reject { .. })) {
            ListenMode::Refuse
        } else if on(|k| matches!(k, Kind::Drop { new_connections: true })) {
            ListenMode::Blackhole
        } else {
            ListenMode::Accept
        }
    }

    /// For a connection accepted while a targeted firewall fault is on.
    pub fn new_conn(&self, id: u64, client: SocketAddr, now: Instant) -> NewConn {
        let mut action = NewConn::Pass;
        for e in self.entries.iter().filter(|e| e.on(now) && e.targets(self.seed, id, client)) {
            match e.toxic.kind {
                Kind::Reject { .. } => return NewConn::Reset,
                Kind::Drop { new_connections: true } => action = NewConn::Silence,
                _ => {}
            }
        }
        action
    }

    /// The faults in force for `dir` of connection `id` from `client`.
    pub fn active(&self, id: u64, client: SocketAddr, dir: Direction, now: Instant) -> Active {
        let mut a = Active::default();
        for e in &self.entries {
            if !(e.toxic.stream.covers(dir) && e.on(now) && e.targets(self.seed, id, client)) {
                continue;
            }
            match &e.toxic.kind {
                Kind::Noop {} => continue,
                Kind::Latency { latency, jitter } => {
                    let (l, j) = a.latency.unwrap_or((0, 0));
                    a.latency = Some((l.saturating_add(*latency), j.saturating_add(*jitter)));
                }
                Kind::Bandwidth { rate } => a.bandwidth = Some(a.bandwidth.map_or(*rate, |r| r.min(*rate))),
                Kind::SlowClose { delay } => a.slow_close = Some(a.slow_close.unwrap_or(0).saturating_add(*delay)),
                Kind::Timeout { timeout } => a.timeout = Some((e.toxic.name.clone(), *timeout)),
                Kind::ResetPeer { timeout } => a.reset_peer = Some(*timeout),
                Kind::Slicer { average_size, size_variation, delay } => {
                    a.slicer = Some((*average_size, *size_variation, *delay))
                }
                Kind::LimitData { bytes } => a.limit_data = Some((e.toxic.name.clone(), *bytes)),
                Kind::Reject { reset_existing } => {
                    if *reset_existing {
                        a.reset_now = true;
                    } else {
                        continue;
                    }
                }
                Kind::Drop { .. } => {
                    a.stop_reading = true;
                    a.stop_writing = true;
                }
                Kind::Hold {} => a.stop_reading = true,
            }
            a.names.push(e.toxic.name.clone());
        }
        a
    }

    /// When the next schedule change falls, if any.
    pub fn next_change(&self, now: Instant) -> Option<Instant> {
        self.entries
            .iter()
            .filter_map(|e| {
                let s = e.toxic.schedule.as_ref()?;
                let elapsed = now.saturating_duration_since(e.since);
                s.next_change(elapsed).and_then(|d| e.since.checked_add(d))
            })
            .min()
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
pub async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sleeps until just past a schedule change at `at` (so the change is seen
/// as made), or forever.
pub async fn until_change(at: Option<Instant>) {
    sleep_until_opt(at.and_then(|a| a.checked_add(Duration::from_millis(1)))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(toxics: &[serde_json::Value]) -> FaultSet {
        FaultSet {
            generation: 1,
            enabled: true,
            seed: 7,
            buffer: 0,
            entries: toxics
                .iter()
                .map(|t| Arc::new(Entry::new(Toxic::from_json(t).expect("toxic"), 1).expect("valid")))
                .collect(),
        }
    }

    #[test]
    fn untargeted_firewall_faults_act_on_the_listener() {
        let now = Instant::now();
        assert_eq!(set(&[]).listen_mode(now), ListenMode::Accept);
        assert_eq!(set(&[json!({"type": "reject"})]).listen_mode(now), ListenMode::Refuse);
        assert_eq!(set(&[json!({"type": "drop"})]).listen_mode(now), ListenMode::Blackhole);
        assert_eq!(
            set(&[json!({"type": "drop", "attributes": {"new_connections": false}})]).listen_mode(now),
            ListenMode::Accept
        );
        let targeted = set(&[json!({"type": "reject", "target": {"client": "127.0.0.2"}})]);
        assert_eq!(targeted.listen_mode(now), ListenMode::Accept);
        assert_eq!(targeted.new_conn(1, "127.0.0.2:4000".parse().expect("a"), now), NewConn::Reset);
        assert_eq!(targeted.new_conn(1, "127.0.0.3:4000".parse().expect("a"), now), NewConn::Pass);
    }

    #[test]
    fn latencies_add_and_streams_filter() {
        let s = set(&[
            json!({"type": "latency", "name": "a", "attributes": {"latency": 10, "jitter": 1}}),
            json!({"type": "latency", "name": "b", "attributes": {"latency": 5}}),
            json!({"type": "bandwidth", "stream": "upstream", "attributes": {"rate": 100}}),
        ]);
        let c: SocketAddr = "127.0.0.1:1".parse().expect("a");
        let down = s.active(1, c, Direction::Downstream, Instant::now());
        assert_eq!(down.latency, Some((15, 1)));
        assert_eq!(down.bandwidth, None);
        let up = s.active(1, c, Direction::Upstream, Instant::now());
        assert_eq!(up.bandwidth, Some(100));
        assert!(up.latency.is_none());
    }

    /// Entries built past the parser's bounds (as a library caller could
    /// before `validate`): sums saturate instead of panicking in debug and
    /// wrapping in release, and a change beyond any instant never comes.
    #[test]
    fn regression_two_latencies_whose_sum_overflows_saturate() {
        let mut s = set(&[]);
        for (name, latency) in [("a", u64::MAX / 2 + 1), ("b", u64::MAX / 2 + 1)] {
            let t = Toxic::from_json(&json!({"type": "latency", "name": name})).expect("toxic");
            let t = Toxic { kind: Kind::Latency { latency, jitter: u64::MAX }, ..t };
            s.entries.push(Arc::new(Entry { toxic: t, since: Instant::now(), version: 1, cidr: None }));
        }
        let c: SocketAddr = "127.0.0.1:1".parse().expect("a");
        let a = s.active(1, c, Direction::Downstream, Instant::now());
        assert_eq!(a.latency, Some((u64::MAX, u64::MAX)));
        let mut flap = Toxic::from_json(&json!({"type": "drop"})).expect("toxic");
        flap.schedule = Some(crate::schedule::Schedule {
            start_after_ms: 0,
            duration_ms: None,
            flap: Some(crate::schedule::Flap { on_ms: u64::MAX, off_ms: u64::MAX, count: None }),
        });
        s.entries.push(Arc::new(Entry { toxic: flap, since: Instant::now(), version: 1, cidr: None }));
        let now = Instant::now();
        assert_eq!(s.listen_mode(now), ListenMode::Blackhole);
        assert!(s.next_change(now).is_none_or(|at| at > now), "no panic, nothing in the past");
    }

    #[test]
    fn regression_bad_target_is_refused_not_dropped() {
        let mut t = Toxic::from_json(&json!({"type": "reject"})).expect("toxic");
        t.target.client = Some("127.0.0.300".into());
        let e = Entry::new(t, 1).expect_err("a bad CIDR would have matched every client");
        assert_eq!(e.field(), "target.client");
    }
}
