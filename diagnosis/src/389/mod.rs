//! Family `389` (389 Directory Server): one verdict per replication
//! agreement of a supplier, from its status value (or the JSON twin's
//! message) refined by the supplier's errors log, `389.stalled` where the
//! status still says success but the agreement's last sent change lags the
//! supplier's newest, and verdicts from the errors log alone when the
//! agreement entries are not in the case.
//!
//! Files, by job:
//! - [`status`]: status strings → verdict ids, most specific first.
//! - [`errlog`]: the errors log's line shapes (every version), multi-line and glued lines.
//! - [`messages`]: errors-log texts → [`messages::Kind`], and the agreement each names.
//! - [`logrules`]: what a server's log says about each agreement now.
//! - [`agreement`]: one agreement entry → its verdict; refinements; the stalled check; log-only verdicts.
//! - [`guidance`]: fix steps per verdict, `dsconf` commands.
//!
//! The entries come from `agreements.ldif` and `replica.ldif`, read by the
//! shared [`crate::ldif`] reader.

pub mod agreement;
pub mod errlog;
pub mod guidance;
pub mod logrules;
pub mod messages;
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
pub const FILES: &[&str] = &["agreements.ldif", "replica.ldif", "errors"];

/// Thresholds of the `389` rules.
#[derive(Debug, Clone)]
pub struct Options389 {
    /// Lag past which a green agreement is stalled (`replharness diagnose --389-stall-lag`).
    pub lag_threshold: time::Duration,
}

impl Default for Options389 {
    fn default() -> Self {
        Self { lag_threshold: time::Duration::minutes(5) }
    }
}

/// A server folder is the 389 flavor's (by `topology.toml`, its LDIF
/// files, or an `errors` log in 389's format).
fn is_389(case: &Case, server: &str) -> bool {
    case.flavor(server) == Some(Flavor::R389)
}

/// The case holds a 389 server folder.
pub fn present(case: &Case) -> bool {
    case.servers.iter().any(|s| is_389(case, s))
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

/// The replica id of a replica entry.
fn rid_of(replica: &[Entry]) -> Option<String> {
    replica.iter().find_map(|e| e.get("nsds5replicaid").map(|v| v.value.trim().to_owned()))
}

/// The max CSN time of replica id `rid` in the RUV of `replica`, with the value showing it.
fn ruv_max(replica: &[Entry], rid: &str) -> Option<(OffsetDateTime, Evidence)> {
    for e in replica {
        for v in e.all("nsds50ruv") {
            let val = v.value.trim();
            let Some(rest) = val.strip_prefix("{replica ") else { continue };
            let Some((id, tail)) = rest.split_once([' ', '}']) else { continue };
            if id != rid {
                continue;
            }
            let tail = tail.split_once('}').map_or(tail, |(_, c)| c);
            let csns: Vec<&str> = tail.split_whitespace().collect();
            if let Some(max) = csns.get(1).and_then(|c| csn_time(c)) {
                return Some((max, Evidence { file: String::new(), line: v.line, text: format!("nsds50ruv: {val}") }));
            }
        }
    }
    None
}

fn run(case: &Case, input: &mut Input, opts: &Options) -> Vec<Verdict> {
    let stats = &mut input.stats;
    let servers: Vec<String> = case.servers.iter().filter(|s| is_389(case, s)).cloned().collect();
    // Every server's replica entry, for the consumers' RUVs.
    let mut replicas: Vec<(String, Vec<Entry>)> = Vec::new();
    for s in &servers {
        let rel = Case::rel(s, "replica.ldif");
        if let Some(r) = ldif::read(case, &rel, stats) {
            if r.iter().any(|e| e.get("nsds5replicaid").is_some() || e.get("nsds50ruv").is_some()) {
                stats.recognised(&rel);
            }
            replicas.push((s.clone(), r));
        }
    }
    let mut out = Vec::new();
    for server in &servers {
        let log = logrules::read(case, server, stats);
        let own = replicas.iter().find(|(s, _)| s == server).map(|(_, r)| r.as_slice());
        let rid = own.and_then(rid_of);
        let replica_rel = Case::rel(server, "replica.ldif");
        let supplier = own.zip(rid.as_deref()).and_then(|(r, rid)| {
            ruv_max(r, rid).map(|(t, mut ev)| {
                ev.file = replica_rel.clone();
                (t, ev)
            })
        });
        // The consumer's RUV, when exactly one other server holds a replica entry.
        let others: Vec<&(String, Vec<Entry>)> = replicas.iter().filter(|(s, _)| s != server).collect();
        let consumer_has = match (others.as_slice(), rid.as_deref()) {
            ([(name, r)], Some(rid)) => ruv_max(r, rid).map(|(t, mut ev)| {
                ev.file = Case::rel(name, "replica.ldif");
                (t, ev)
            }),
            _ => None,
        };
        let rel = Case::rel(server, "agreements.ldif");
        match ldif::read(case, &rel, stats) {
            Some(entries) => {
                let ctx = agreement::Context { supplier_max: supplier.as_ref(), log: log.as_ref(), consumer_has };
                for e in entries.iter().filter(|e| e.get("nsds5replicahost").is_some()) {
                    if let Some(v) = agreement::verdict(server, &rel, e, &ctx, &opts.r389, stats) {
                        out.push(v);
                    }
                }
            }
            None => {
                if let Some(log) = &log {
                    let suffix = case.topo_server(server).and_then(|t| t.domains.first().cloned());
                    out.extend(agreement::from_log(server, log, suffix.as_deref()));
                }
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
