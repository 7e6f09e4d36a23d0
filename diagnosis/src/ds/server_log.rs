//! One server's `errors` and `replication` logs as a time-ordered list of
//! events. An event logged in both files (3.x+ writes SYNC errors and
//! warnings to both) counts once; lines whose message no rule reads are
//! read (not unknown) and dropped.

use std::collections::HashSet;

use time::OffsetDateTime;

use super::log::{header, parse_stamp, split_stamp};
use super::messages::{classify, Kind};
use crate::case::{for_each_line, Case};
use crate::input::ReadStats;
use crate::model::Evidence;

/// The files of a DS server folder, in reading order.
pub const FILES: &[&str] = &["errors", "replication"];

/// One classified line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// UTC.
    pub at: OffsetDateTime,
    pub kind: Kind,
    pub evidence: Evidence,
}

/// What one server's logs say.
#[derive(Debug, Clone)]
pub struct ServerLog {
    pub name: String,
    pub events: Vec<Event>,
    pub has_errors: bool,
    pub has_replication: bool,
}

/// The events of one server's logs, in time order, each counted once.
pub fn read_server(case: &Case, server: &str, stats: &mut ReadStats) -> ServerLog {
    let mut events: Vec<Event> = Vec::new();
    let mut seen: HashSet<(i128, String)> = HashSet::new();
    let mut present = [false; 2];
    for (i, file) in FILES.iter().enumerate() {
        let rel = Case::rel(server, file);
        present[i] = for_each_line(case, &rel, stats, |n, line, stats| {
            if line.trim().is_empty() {
                return;
            }
            // The stamp is parsed only for lines whose text matters.
            let Some((stamp, rest)) = split_stamp(line) else {
                stats.unknown(&rel);
                return;
            };
            let Some(l) = header(OffsetDateTime::UNIX_EPOCH, rest) else {
                stats.unknown(&rel);
                return;
            };
            let Some(kind) = classify(l.msg) else { return };
            let Some(at) = parse_stamp(stamp) else {
                stats.unknown(&rel);
                return;
            };
            stats.recognised(&rel);
            if !seen.insert((at.unix_timestamp_nanos(), l.msg.to_owned())) {
                return;
            }
            events.push(Event { at, kind, evidence: Evidence { file: rel.clone(), line: n, text: line.to_owned() } });
        });
    }
    events.sort_by_key(|e| e.at);
    ServerLog { name: server.to_owned(), events, has_errors: present[0], has_replication: present[1] }
}

impl ServerLog {
    pub fn has_logs(&self) -> bool {
        self.has_errors || self.has_replication
    }

    /// The RS id this server writes as its own, from its lines.
    pub fn own_rs_id(&self) -> Option<String> {
        self.events.iter().find_map(|e| match &e.kind {
            Kind::Listening { rs, .. }
            | Kind::ConnectedToRs { rs, .. }
            | Kind::AcceptedRs { rs, .. }
            | Kind::AcceptedDs { rs, .. } => Some(rs.clone()),
            Kind::RsLinkLost { rs, .. } if !rs.is_empty() => Some(rs.clone()),
            _ => None,
        })
    }

    /// The DS id this server writes as its own.
    pub fn own_ds_id(&self) -> Option<String> {
        self.events.iter().find_map(|e| match &e.kind {
            Kind::DsConnected { ds, .. } | Kind::DsNoRs { ds, .. } | Kind::DsLinkLost { ds, on_ds: true, .. } => {
                Some(ds.clone())
            }
            _ => None,
        })
    }

    /// Its last stop line, when it is stopped at the end (139 carrying 141,
    /// or 203): a cleanly stopped server's peers write nothing, so this is
    /// the line that says its links ended.
    pub fn stop_event(&self) -> Option<&Event> {
        if !self.stopped_at_end() {
            return None;
        }
        // The first stop line after the last start: the shutdown notice, which says how.
        let after = self
            .events
            .iter()
            .rposition(|e| matches!(e.kind, Kind::Started | Kind::Listening { .. }))
            .map_or(0, |i| i + 1);
        self.events[after..].iter().find(|e| matches!(e.kind, Kind::Stopping))
    }

    /// Does it run a replication server, as far as its lines tell?
    pub fn has_rs_lines(&self) -> bool {
        self.events.iter().any(|e| {
            matches!(
                e.kind,
                Kind::Listening { .. }
                    | Kind::ConnectedToRs { .. }
                    | Kind::AcceptedRs { .. }
                    | Kind::AcceptedDs { .. }
                    | Kind::RsLinkLost { .. }
                    | Kind::CannotBind { .. }
            )
        })
    }

    /// Stopped at the end: its last start or stop line is a stop.
    pub fn stopped_at_end(&self) -> bool {
        self.events
            .iter()
            .rev()
            .find_map(|e| match e.kind {
                Kind::Stopping => Some(true),
                Kind::Started | Kind::Listening { .. } => Some(false),
                _ => None,
            })
            .unwrap_or(false)
    }
}
