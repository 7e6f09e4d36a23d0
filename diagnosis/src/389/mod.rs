//! Family `389` (389 Directory Server): one verdict per replication
//! agreement of a supplier, from its status value (or the JSON twin's
//! message), and `389.stalled` where the status still says success but the
//! agreement's last sent change lags the supplier's newest.
//!
//! Files, by job (the errors-log reader and its rules are files to add here,
//! called from [`run`]):
//! - [`status`]: status strings → verdict ids, most specific first.
//! - [`agreement`]: one agreement entry → its verdict; the stalled check.
//! - [`guidance`]: fix steps per verdict, `dsconf` commands.
//!
//! The entries come from `agreements.ldif` and `replica.ldif`, read by the
//! shared [`crate::ldif`] reader.

pub mod agreement;
pub mod guidance;
pub mod status;

use time::OffsetDateTime;

use crate::case::{Case, Flavor};
use crate::family::{Family, Input};
use crate::ldif::{self, Entry};
use crate::model::{Evidence, Verdict};
use crate::Options;

/// The `389` family for the engine.
pub const FAMILY: Family = Family { name: "389", present, diagnose: run };

/// The files of a 389 server folder this family reads.
pub const FILES: &[&str] = &["agreements.ldif", "replica.ldif"];

/// Thresholds of the `389` rules.
#[derive(Debug, Clone)]
pub struct Options389 {
    /// Lag past which a green agreement is stalled.
    pub lag_threshold: time::Duration,
}

impl Default for Options389 {
    fn default() -> Self {
        Self { lag_threshold: time::Duration::minutes(5) }
    }
}

/// A server folder of the 389 flavor (or of none) holds agreement or replica entries.
pub fn present(case: &Case) -> bool {
    case.any_file(Flavor::R389, FILES)
}

/// The time part of a CSN (20 hex digits: 8 of seconds since 1970, …).
pub fn csn_time(csn: &str) -> Option<OffsetDateTime> {
    let secs = i64::from_str_radix(csn.get(..8)?, 16).ok()?;
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// `20261122093000Z` (generalized time).
fn gen_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim().trim_end_matches('Z');
    if s.len() < 14 {
        return None;
    }
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<u32>().ok();
    let date =
        time::Date::from_calendar_date(n(0, 4)? as i32, time::Month::try_from(n(4, 6)? as u8).ok()?, n(6, 8)? as u8)
            .ok()?;
    let t = time::Time::from_hms(n(8, 10)? as u8, n(10, 12)? as u8, n(12, 14)? as u8).ok()?;
    Some(date.with_time(t).assume_utc())
}

/// The supplier's own newest change: the max CSN of its own replica id in its RUV.
fn supplier_max(replica: &[Entry]) -> Option<(OffsetDateTime, Evidence)> {
    for e in replica {
        let Some(rid) = e.get("nsds5replicaid").map(|v| v.value.trim().to_owned()) else { continue };
        for v in e.all("nsds50ruv") {
            let val = v.value.trim();
            let Some(rest) = val.strip_prefix("{replica ") else { continue };
            let Some((id, tail)) = rest.split_once(' ') else { continue };
            if id != rid {
                continue;
            }
            let csns: Vec<&str> = tail.split_once('}').map(|(_, c)| c.split_whitespace().collect()).unwrap_or_default();
            if let Some(max) = csns.get(1).and_then(|c| csn_time(c)) {
                let ev = Evidence { file: String::new(), line: v.line, text: format!("nsds50ruv: {val}") };
                return Some((max, ev));
            }
        }
    }
    None
}

fn run(case: &Case, input: &mut Input, opts: &Options) -> Vec<Verdict> {
    let stats = &mut input.stats;
    let mut out = Vec::new();
    for server in case.servers_of(Flavor::R389) {
        let rel = Case::rel(server, "agreements.ldif");
        let replica_rel = Case::rel(server, "replica.ldif");
        let supplier = ldif::read(case, &replica_rel, stats).and_then(|r| {
            supplier_max(&r).map(|(t, mut ev)| {
                ev.file = replica_rel.clone();
                (t, ev)
            })
        });
        if supplier.is_some() {
            stats.recognised(&replica_rel);
        }
        let Some(entries) = ldif::read(case, &rel, stats) else { continue };
        for e in entries.iter().filter(|e| e.get("nsds5replicahost").is_some()) {
            if let Some(v) = agreement::verdict(server, &rel, e, supplier.as_ref(), &opts.r389, stats) {
                out.push(v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csn_and_generalized_times() {
        assert_eq!(csn_time("6b025b4a000000010000").map(|t| t.unix_timestamp()), Some(0x6b025b4a));
        assert_eq!(gen_time("20261122093000Z"), Some(time::macros::datetime!(2026-11-22 09:30:00 UTC)));
        assert_eq!(gen_time("junk"), None);
    }
}
