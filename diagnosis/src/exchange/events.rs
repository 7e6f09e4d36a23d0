//! The directory-service event records of `events.log`, as Event Viewer
//! saves them: tab-delimited Date, Time, Source, Type, Category, Event,
//! User, Computer, Description; keyed on the event id, the computer, and the
//! partner and naming context the description names.

use time::{Date, Month, OffsetDateTime, Time};

use crate::case::{for_each_line, Case, Flavor};
use crate::input::ReadStats;
use crate::model::Evidence;
use crate::textmatch::captures;

/// The file of an exchange server folder.
pub const FILE: &str = "events.log";

/// What a record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    /// 1068 at the requester.
    Ask { nc: String, partner: String },
    /// 1100 at the requester.
    Submitted { partner: String, nc: String },
    /// 1058 at the requester.
    Completed { nc: String, partner: String },
    /// 1099 back at the requester.
    ReplyBack { partner: String, nc: String },
    /// 1099 at the responder.
    Request { requester: String, nc: String },
    /// 1070 at the responder.
    Context { nc: String, usn: String },
    /// 1071 at the responder.
    Retrieved { objects: u64, usn: String, more: bool },
    /// 1101 at the responder.
    Answered { requester: String },
}

#[derive(Debug, Clone)]
pub struct Rec {
    pub at: OffsetDateTime,
    pub computer: String,
    pub ev: Ev,
    pub evidence: Evidence,
}

fn parse_when(date: &str, time_of_day: &str) -> Option<OffsetDateTime> {
    let mut d = date.split('/');
    let (m, day, y) = (d.next()?.parse::<u8>().ok()?, d.next()?.parse::<u8>().ok()?, d.next()?.parse::<i32>().ok()?);
    let mut t = time_of_day.split(':');
    let (h, mi, s) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?, t.next().unwrap_or("0").parse().ok()?);
    Some(
        Date::from_calendar_date(y, Month::try_from(m).ok()?, day)
            .ok()?
            .with_time(Time::from_hms(h, mi, s).ok()?)
            .assume_utc(),
    )
}

/// What an event record's id and description say; `None` for any other event.
pub fn classify(id: &str, text: &str) -> Option<Ev> {
    let t = text.trim();
    let c = |tpl: &str| captures(tpl, t);
    match id {
        "1068" => c("Ask for updates for naming context %s from %s (options %s).")
            .map(|v| Ev::Ask { nc: v[0].into(), partner: v[1].into() }),
        "1100" => c("-> Message submitted to %s requesting updates for %s.")
            .map(|v| Ev::Submitted { partner: v[0].into(), nc: v[1].into() }),
        "1058" => c("Completed successfully: updates for %s from %s applied.")
            .map(|v| Ev::Completed { nc: v[0].into(), partner: v[1].into() }),
        "1099" => c("<- Message received back from the remote directory %s for %s.")
            .map(|v| Ev::ReplyBack { partner: v[0].into(), nc: v[1].into() })
            .or_else(|| {
                c("<- Message received from requesting directory %s for %s.")
                    .map(|v| Ev::Request { requester: v[0].into(), nc: v[1].into() })
            }),
        "1070" => c("The context to get is %s, from starting USN %s.")
            .map(|v| Ev::Context { nc: v[0].into(), usn: v[1].into() }),
        "1071" => {
            let more = t.ends_with(" More objects remain.");
            let body = t.strip_suffix(" More objects remain.").unwrap_or(t);
            c_retrieved(body).map(|(objects, usn)| Ev::Retrieved { objects, usn, more })
        }
        "1101" => c("-> Message submitted back to the requesting connector %s.")
            .map(|v| Ev::Answered { requester: v[0].into() }),
        _ => None,
    }
}

/// `Retrieved N objects, entries up to USN N.`
fn c_retrieved(text: &str) -> Option<(u64, String)> {
    let v = captures("Retrieved %s objects, entries up to USN %s.", text)?;
    Some((v[0].trim().parse().ok()?, v[1].to_owned()))
}

/// Every record of every exchange server, in time order.
pub fn read(case: &Case, stats: &mut ReadStats) -> Vec<Rec> {
    let mut out = Vec::new();
    for server in case.servers_of(Flavor::Exchange) {
        let rel = Case::rel(server, FILE);
        for_each_line(case, &rel, stats, |n, line, stats| {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 9 {
                if !line.trim().is_empty() {
                    stats.unknown(&rel);
                }
                return;
            }
            let Some(at) = parse_when(f[0], f[1]) else {
                if f[0] != "Date" {
                    stats.unknown(&rel);
                }
                return;
            };
            if let Some(ev) = classify(f[5].trim(), f[8]) {
                stats.recognised(&rel);
                out.push(Rec {
                    at,
                    computer: f[7].trim().to_owned(),
                    ev,
                    evidence: Evidence { file: rel.clone(), line: n, text: line.to_owned() },
                });
            }
        });
    }
    out.sort_by_key(|r| r.at);
    out
}
