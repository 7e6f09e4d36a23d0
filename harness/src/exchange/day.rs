//! One day of an organization in compressed time (`replharness
//! exchange-day`): N sites, every site inbound to every other, one schedule
//! for all, run from a Monday midnight to the next midnight on the virtual
//! clock; then the messages that crossed the sockets are counted, beside the
//! seed's formula N × ((N − 1) × 2 × F × 2).
//!
//! Connectors activate only during the day; after midnight the run waits
//! until every request of the day has its reply (with an unlimited capacity;
//! with a limited one the backlog at midnight is reported instead). Counting
//! and formula agree as long as no reply pages (no context changes by more
//! than 512 objects between two activations, true of the default change
//! rates); a page adds one request and one reply.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::config::{Capacity, Logging, OrgSpec, DEFAULT_START};
use super::counts::{messages_a_day, Count};
use super::org::Organization;
use super::schedule::Schedule;
use crate::error::HarnessError;

/// One day of virtual time.
pub const DAY: Duration = Duration::from_secs(24 * 3600);
/// The fewest and most sites `exchange-day` runs.
pub const SITES: std::ops::RangeInclusive<usize> = 2..=50;
/// A day in 2.4 s of real time: the fastest a day runs by default.
pub const DEFAULT_TIME_SCALE: f64 = 36_000.0;
/// The most messages a second of real time a day runs at by default: a
/// busier day takes longer rather than fall behind its own clock (which
/// would pile requests up and make every reply carry more objects).
pub const MESSAGES_PER_SECOND: f64 = 40_000.0;

/// The time scale for a day of `sites` at `activations` a day: 36000 (2.4 s)
/// unless the seed's formula gives more than [`MESSAGES_PER_SECOND`] at it.
pub fn auto_time_scale(sites: usize, activations: u32) -> f64 {
    let messages = messages_a_day(sites as u64, u64::from(activations)).max(1) as f64;
    (DAY.as_secs_f64() * MESSAGES_PER_SECOND / messages).clamp(1.0, DEFAULT_TIME_SCALE)
}

/// What to run.
#[derive(Debug, Clone)]
pub struct DaySpec {
    pub sites: usize,
    pub schedule: Schedule,
    pub capacity: Capacity,
    /// The bridgeheads' diagnostic logging (default None: only counting;
    /// Maximum writes every event, for a case folder).
    pub logging: Logging,
    /// `None`: [`auto_time_scale`].
    pub time_scale: Option<f64>,
    /// After midnight, how long (real time) the day's last messages may go
    /// without progress before the run gives up.
    pub settle_timeout: Duration,
    pub seed: u64,
    /// Also append each bridgehead's log live under `DIR/NAME/`.
    pub log_dir: Option<PathBuf>,
}

impl DaySpec {
    pub fn new(sites: usize, schedule: Schedule) -> Self {
        Self {
            sites,
            schedule,
            capacity: Capacity::Unlimited,
            logging: Logging::None,
            time_scale: None,
            settle_timeout: Duration::from_secs(30),
            seed: 0,
            log_dir: None,
        }
    }
}

/// One bridgehead's day.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BridgeheadDay {
    pub site: String,
    /// Messages it wrote to its sockets.
    pub sent: u64,
    /// Messages decoded from its sockets.
    pub received: u64,
    pub requests_sent: u64,
    pub replies_sent: u64,
    pub requests_received: u64,
    pub replies_received: u64,
    /// Received and not handled by midnight (a limited capacity).
    pub backlog: u64,
}

/// What the day counted.
#[derive(Debug, Clone, Serialize)]
pub struct DayReport {
    pub sites: u64,
    pub activations_per_day: u64,
    /// Every message that crossed a socket (decoded by its receiver).
    pub messages_counted: u64,
    /// N × ((N − 1) × 2 × F × 2).
    pub messages_formula: u64,
    pub requests: u64,
    pub replies: u64,
    /// Objects the replies carried.
    pub objects: u64,
    /// Received and not handled by midnight, all bridgeheads.
    pub backlog: u64,
    pub per_bridgehead: BTreeMap<String, BridgeheadDay>,
    pub time_scale: f64,
    /// Wall-clock seconds the day took.
    pub seconds: f64,
}

/// Runs the day; the organization is returned still running (its case can
/// be written), for the caller to shut down.
pub async fn run(spec: &DaySpec) -> Result<(DayReport, Organization), HarnessError> {
    if !SITES.contains(&spec.sites) {
        return Err(HarnessError::Config(format!(
            "--sites {}: an organization of {} to {} sites",
            spec.sites,
            SITES.start(),
            SITES.end()
        )));
    }
    let mut org_spec = OrgSpec::full(spec.sites, &spec.schedule);
    for s in &mut org_spec.sites {
        s.capacity = spec.capacity;
        s.logging = spec.logging;
    }
    let time_scale =
        spec.time_scale.unwrap_or_else(|| auto_time_scale(spec.sites, spec.schedule.on(DEFAULT_START.weekday())));
    org_spec.time_scale = time_scale;
    org_spec.start = DEFAULT_START;
    org_spec.activations_until = Some(DAY);
    org_spec.seed = spec.seed;
    org_spec.log_dir = spec.log_dir.clone();
    let started = Instant::now();
    let org = Organization::start(org_spec).await?;
    tokio::time::sleep_until(org.clock().instant_at(DAY).into()).await;
    if spec.capacity == Capacity::Unlimited {
        if let Err(outstanding) = settle(&org, spec.settle_timeout).await {
            org.shutdown().await;
            return Err(HarnessError::Timeout {
                what: format!("the day's last messages, with no progress ({outstanding})"),
                waited: spec.settle_timeout,
            });
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok((report(spec, &org, time_scale, seconds), org))
}

/// Waits until every message of the day is handled, as long as handling
/// goes on: a busy day (4 an hour on many sites) may end well after its
/// virtual midnight on a slow machine. Fails once nothing moved for `idle`.
async fn settle(org: &Organization, idle: Duration) -> Result<(), String> {
    let mut last = org.total().processed;
    let mut moved = Instant::now();
    loop {
        match org.wait_quiet(Duration::from_secs(1)).await {
            Ok(()) => return Ok(()),
            Err(outstanding) => {
                let now = org.total().processed;
                if now != last {
                    (last, moved) = (now, Instant::now());
                } else if moved.elapsed() >= idle {
                    return Err(outstanding);
                }
            }
        }
    }
}

fn report(spec: &DaySpec, org: &Organization, time_scale: f64, seconds: f64) -> DayReport {
    let counts = org.counts();
    let total = Count::total(counts.iter().map(|(_, c)| c));
    let per_bridgehead = org
        .servers()
        .iter()
        .zip(&counts)
        .map(|(b, (name, c))| {
            let day = BridgeheadDay {
                site: b.site(),
                sent: c.sent(),
                received: c.received(),
                requests_sent: c.requests_sent,
                replies_sent: c.replies_sent,
                requests_received: c.requests_received,
                replies_received: c.replies_received,
                backlog: c.backlog(),
            };
            (name.clone(), day)
        })
        .collect();
    let f = u64::from(spec.schedule.on(DEFAULT_START.weekday()));
    let n = spec.sites as u64;
    DayReport {
        sites: n,
        activations_per_day: f,
        messages_counted: total.received(),
        messages_formula: messages_a_day(n, f),
        requests: total.requests_received,
        replies: total.replies_received,
        objects: total.objects_sent,
        backlog: total.backlog(),
        per_bridgehead,
        time_scale,
        seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scale_holds_a_busy_day_to_its_message_rate() {
        assert_eq!(auto_time_scale(30, 8), DEFAULT_TIME_SCALE, "27840 messages: 2.4 s");
        let busy = auto_time_scale(30, 96);
        assert!((busy - 86400.0 * 40000.0 / 334_080.0).abs() < 1e-6, "{busy}");
        assert_eq!(auto_time_scale(2, 1), DEFAULT_TIME_SCALE);
    }
}
