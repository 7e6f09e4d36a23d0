//! `replharness exchange-day --sites N [--schedule SPEC] [--json]`: an
//! organization of N sites, every site inbound to every other, runs one day
//! on the virtual clock; the messages that crossed the sockets are counted
//! and shown beside the seed's formula N × ((N−1) × 2 × F × 2).

use std::fmt::Write as _;
use std::path::PathBuf;

use harness::exchange::day::{self, DayReport, DaySpec, SITES};
use harness::exchange::{Capacity, DetailView, Logging, Schedule};
use harness::HarnessError;

use crate::error::BadInput;

/// `replharness exchange-day`.
#[derive(Debug, clap::Args)]
pub struct ExchangeDayArgs {
    /// Sites of the organization, 2 to 50 (every site inbound to every other).
    #[arg(long, value_parser = parse_sites)]
    pub sites: usize,
    /// Activations a day (8 = every 3 hours, the default; up to 96 = 4 an hour),
    /// or every-3h, every-30m, hourly, 4-per-hour, always.
    #[arg(long, default_value = "8")]
    pub schedule: String,
    /// The detail view the schedule was set in: 15m (as written) or 1h (each
    /// of the N a day is an hour block, which activates 4 times).
    #[arg(long, default_value = "15m")]
    pub detail_view: String,
    /// Every bridgehead's capacity: unlimited, N/h (messages an hour) or N objects/h.
    #[arg(long, default_value = "unlimited")]
    pub capacity: String,
    /// Virtual seconds per real second (default 36000, the day in 2.4 s, or
    /// less for a day of more than 40000 messages a real second).
    #[arg(long)]
    pub time_scale: Option<f64>,
    /// Write the organization's case folder here after the day (the
    /// bridgeheads then log at diagnostic logging Maximum; without it they
    /// only count, at None).
    #[arg(long)]
    pub case_out: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `--sites`: clap prints the value; this says the range.
fn parse_sites(s: &str) -> Result<usize, String> {
    let range = format!("an organization has {} to {} sites", SITES.start(), SITES.end());
    match s.trim().parse::<usize>() {
        Ok(n) if SITES.contains(&n) => Ok(n),
        _ => Err(range),
    }
}

/// A flag's refusal in the harness's words, without its generic prefix.
fn flag(name: &str, e: HarnessError) -> BadInput {
    let text = match e {
        HarnessError::Config(m) => m,
        other => other.to_string(),
    };
    let text = text.strip_prefix("schedule: ").unwrap_or(&text).to_owned();
    BadInput(format!("{name}: {text}"))
}

/// The largest `--time-scale`: a day in under 0.3 s of real time.
pub const MAX_TIME_SCALE: f64 = 300_000.0;

/// Validated settings.
#[derive(Debug, Clone)]
pub struct DaySettings {
    pub spec: DaySpec,
    pub case_out: Option<PathBuf>,
    pub json: bool,
}

impl TryFrom<ExchangeDayArgs> for DaySettings {
    type Error = BadInput;

    fn try_from(a: ExchangeDayArgs) -> Result<Self, BadInput> {
        if !SITES.contains(&a.sites) {
            return Err(BadInput(format!("--sites {}: an organization has 2 to 50 sites", a.sites)));
        }
        let view = DetailView::parse(&a.detail_view)
            .ok_or_else(|| BadInput(format!("--detail-view {:?}: expected 1h or 15m", a.detail_view)))?;
        let schedule = Schedule::parse_spec(&a.schedule, view).map_err(|e| flag("--schedule", e))?;
        let capacity = Capacity::parse(&a.capacity).map_err(|e| flag("--capacity", e))?;
        if let Some(t) = a.time_scale.filter(|t| !(t.is_finite() && (1.0..=MAX_TIME_SCALE).contains(t))) {
            return Err(BadInput(format!(
                "--time-scale must be a number from 1 to {MAX_TIME_SCALE}, not {}",
                crate::error::show_number(t)
            )));
        }
        let mut spec = DaySpec::new(a.sites, schedule);
        spec.capacity = capacity;
        spec.time_scale = a.time_scale;
        // The events are written only when someone will read them.
        spec.logging = if a.case_out.is_some() { Logging::Maximum } else { Logging::None };
        Ok(Self { spec, case_out: a.case_out, json: a.json })
    }
}

/// Runs the day, writes the case folder if asked, stops the organization.
pub async fn run(settings: &DaySettings) -> anyhow::Result<DayReport> {
    let (report, org) = day::run(&settings.spec).await?;
    let written = match &settings.case_out {
        Some(dir) => harness::casefile::write_case(&org, dir),
        None => Ok(()),
    };
    org.shutdown().await;
    written?;
    Ok(report)
}

/// The human table: per bridgehead, then the totals beside the formula.
pub fn render(settings: &DaySettings, r: &DayReport) -> String {
    let mut out = String::new();
    let s = &settings.spec;
    let _ = writeln!(
        out,
        "an organization of {} sites, every site inbound to every other; schedule {}: {} activations on the day; capacity {}",
        r.sites, s.schedule, r.activations_per_day, s.capacity
    );
    let _ = writeln!(out);
    let w = r.per_bridgehead.keys().map(String::len).max().unwrap_or(10).max(10);
    let _ = writeln!(
        out,
        "{:w$}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}",
        "bridgehead", "sent", "received", "asked", "got back", "answered", "backlog"
    );
    for (name, b) in &r.per_bridgehead {
        let _ = writeln!(
            out,
            "{name:w$}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}",
            b.sent, b.received, b.requests_sent, b.replies_received, b.replies_sent, b.backlog
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "messages counted (they crossed the sockets): {} ({} requests, {} replies)",
        r.messages_counted, r.requests, r.replies
    );
    let n = r.sites;
    let _ = writeln!(
        out,
        "the seed's formula N x ((N-1) x 2 x F x 2): {n} x ({} x 2 x {} x 2) = {}",
        n.saturating_sub(1),
        r.activations_per_day,
        r.messages_formula
    );
    let verdict = match r.messages_counted.cmp(&r.messages_formula) {
        std::cmp::Ordering::Equal => "counted = formula".to_owned(),
        std::cmp::Ordering::Greater => {
            format!(
                "{} more than the formula: replies that paged at 512 objects",
                r.messages_counted - r.messages_formula
            )
        }
        std::cmp::Ordering::Less => format!(
            "{} fewer than the formula: {} messages still waiting in inboxes at midnight",
            r.messages_formula - r.messages_counted,
            r.backlog
        ),
    };
    let _ = writeln!(out, "{verdict}");
    let _ = writeln!(out, "the day took {:.1}s of real time (time scale {:.0})", r.seconds, r.time_scale);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(sites: usize) -> ExchangeDayArgs {
        ExchangeDayArgs {
            sites,
            schedule: "8".into(),
            detail_view: "15m".into(),
            capacity: "unlimited".into(),
            time_scale: None,
            case_out: None,
            json: false,
        }
    }

    #[test]
    fn settings_refuse_what_a_day_cannot_run() {
        assert!(DaySettings::try_from(args(10)).is_ok());
        assert!(DaySettings::try_from(args(1)).expect_err("1").0.contains("2 to 50"));
        let mut a = args(10);
        a.schedule = "sometimes".into();
        assert!(DaySettings::try_from(a).expect_err("schedule").0.contains("--schedule"));
        let mut a = args(10);
        a.detail_view = "5m".into();
        assert!(DaySettings::try_from(a).expect_err("view").0.contains("1h or 15m"));
        let mut a = args(10);
        a.time_scale = Some(0.5);
        assert!(DaySettings::try_from(a).expect_err("scale").0.contains("--time-scale"));
        assert_eq!(parse_sites("51"), Err("an organization has 2 to 50 sites".into()));
        assert_eq!(parse_sites("30"), Ok(30));
    }
}
