//! What the exchange rules share: the case's connectors and schedules, the
//! bridgeheads whose logs are in the case, sites, intervals, and the seed's
//! messages-a-day figure. The rules themselves: [`super::backlog`]
//! (overloaded bridgeheads, missing replies), [`super::paging`],
//! [`super::quadrupled`].

use std::collections::{BTreeMap, BTreeSet};

use time::{Duration, OffsetDateTime};

use super::events::Rec;
use super::schedule::ConnectorSchedule;
use crate::case::Case;

/// Activations a day when nothing says otherwise (every 3 hours).
pub const DEFAULT_ACTIVATIONS: u64 = 8;

/// Messages a day across an Exchange 5.5 organization: N × ((N−1) × 2 × F × 2).
pub fn messages_a_day(sites: u64, activations: u64) -> u64 {
    sites * (sites.saturating_sub(1) * 2 * activations * 2)
}

/// Schedules an administrator can pick, most frequent first, with their names.
pub const SCHEDULES: &[(u64, &str)] = &[
    (96, "4 an hour"),
    (48, "every 30 minutes"),
    (24, "hourly"),
    (12, "every 2 hours"),
    (8, "every 3 hours"),
    (6, "every 4 hours"),
    (4, "every 6 hours"),
    (3, "every 8 hours"),
    (2, "every 12 hours"),
    (1, "once a day"),
];

/// `96 activations a day (4 an hour)`.
pub fn schedule_name(per_day: u64) -> String {
    match SCHEDULES.iter().find(|(n, _)| *n == per_day) {
        Some((_, name)) => format!("{per_day} activations a day ({name})"),
        None => format!("{per_day} activations a day"),
    }
}

#[derive(Debug)]
pub struct Ctx<'a> {
    pub case: &'a Case,
    pub now: OffsetDateTime,
    /// Connector schedules by bridgehead (lower case), grids read.
    pub schedules: BTreeMap<String, ConnectorSchedule>,
    /// Bridgeheads (lower case) whose event log is in the case.
    pub logged: BTreeSet<String>,
}

impl Ctx<'_> {
    pub fn new<'a>(case: &'a Case, now: OffsetDateTime, recs: &[Rec]) -> Ctx<'a> {
        Ctx {
            case,
            now,
            schedules: super::schedule::read(case),
            logged: recs.iter().map(|r| r.computer.to_ascii_lowercase()).collect(),
        }
    }

    /// True when `computer`'s own event log is in the case.
    pub fn has_log(&self, computer: &str) -> bool {
        self.logged.contains(&computer.to_ascii_lowercase())
    }

    pub fn site(&self, computer: &str) -> String {
        let t = self.case.topology.as_ref();
        t.and_then(|t| t.servers.iter().find(|s| s.name.eq_ignore_ascii_case(computer)).and_then(|s| s.site.clone()))
            .or_else(|| {
                t.and_then(|t| {
                    t.connectors
                        .iter()
                        .find(|c| c.bridgehead.as_deref().is_some_and(|b| b.eq_ignore_ascii_case(computer)))
                        .map(|c| c.site.clone())
                })
            })
            .unwrap_or_else(|| computer.trim_start_matches("BH-").to_owned())
    }

    /// The connector schedule of the site whose bridgehead is `computer`.
    pub fn schedule(&self, computer: &str) -> Option<&ConnectorSchedule> {
        self.schedules.get(&computer.to_ascii_lowercase())
    }

    /// Activations a day of `computer`'s connector, when the case says.
    pub fn activations(&self, computer: &str) -> Option<u64> {
        self.schedule(computer).map(|s| u64::from(s.per_day()))
    }

    /// The time between two activations of `computer`'s connector.
    pub fn interval(&self, computer: &str) -> Duration {
        Duration::minutes(24 * 60 / self.activations(computer).unwrap_or(DEFAULT_ACTIVATIONS).max(1) as i64)
    }

    /// The inbound sites of `computer`'s connector, when the case says.
    pub fn inbound(&self, computer: &str) -> Option<&[String]> {
        let t = self.case.topology.as_ref()?;
        t.connectors
            .iter()
            .find(|c| c.bridgehead.as_deref().is_some_and(|b| b.eq_ignore_ascii_case(computer)))
            .map(|c| c.inbound_sites.as_slice())
    }

    /// Sites of the organization: from the topology, else from the records.
    pub fn sites(&self, recs: &[Rec]) -> u64 {
        let mut sites = BTreeSet::new();
        if let Some(t) = &self.case.topology {
            sites.extend(t.servers.iter().filter_map(|s| s.site.clone()));
            sites.extend(t.connectors.iter().map(|c| c.site.clone()));
            for c in &t.connectors {
                sites.extend(c.inbound_sites.iter().cloned());
            }
        }
        if sites.is_empty() {
            sites.extend(recs.iter().map(|r| self.site(&r.computer)));
        }
        sites.len() as u64
    }
}

/// `03:15` of a record's time.
pub fn hhmm(at: OffsetDateTime) -> String {
    format!("{:02}:{:02}", at.hour(), at.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_a_day_table() {
        assert_eq!(messages_a_day(10, 8), 2880);
        assert_eq!(messages_a_day(20, 8), 12160);
        assert_eq!(messages_a_day(30, 8), 27840);
        assert_eq!(schedule_name(96), "96 activations a day (4 an hour)");
        assert_eq!(schedule_name(7), "7 activations a day");
    }
}
