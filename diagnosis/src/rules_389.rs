//! Family `389`: one verdict per replication agreement, from its status value
//! (or the JSON twin's message), and `389.stalled` where the status still says
//! success but the agreement's last sent change lags the supplier's newest.

use time::OffsetDateTime;

use crate::case::Case;
use crate::catalog;
use crate::guidance::{connectivity, reinit_389};
use crate::ldif::{self, Entry};
use crate::model::{Evidence, ReadStats, Verdict};
use crate::status389::{self, Status};

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

pub fn diagnose(case: &Case, stats: &mut ReadStats, opts: &Options389) -> Vec<Verdict> {
    let mut out = Vec::new();
    for server in &case.servers {
        let rel = Case::rel(server, "agreements.ldif");
        let Some(entries) = ldif::read(case, &rel, stats) else { continue };
        let replica_rel = Case::rel(server, "replica.ldif");
        let supplier = ldif::read(case, &replica_rel, stats).and_then(|r| {
            supplier_max(&r).map(|(t, mut ev)| {
                ev.file = replica_rel.clone();
                (t, ev)
            })
        });
        for e in entries.iter().filter(|e| e.get("nsds5replicahost").is_some()) {
            if let Some(v) = agreement(server, &rel, e, supplier.as_ref(), opts, stats) {
                out.push(v);
            }
        }
    }
    out
}

fn agreement(
    server: &str,
    rel: &str,
    e: &Entry,
    supplier: Option<&(OffsetDateTime, Evidence)>,
    opts: &Options389,
    stats: &mut ReadStats,
) -> Option<Verdict> {
    let get = |a: &str| e.get(a).map(|v| v.value.trim().to_owned());
    let name = get("cn").unwrap_or_else(|| "<agreement>".into());
    let host = get("nsds5replicahost").unwrap_or_default();
    let port = get("nsds5replicaport").unwrap_or_else(|| "389".into());
    let suffix = get("nsds5replicaroot").unwrap_or_else(|| "<suffix>".into());
    let consumer = format!("{host}:{port}");
    // The status, or the JSON twin's message.
    let (status_value, line) = match (e.get("nsds5replicalastupdatestatus"), e.get("nsds5replicalastupdatestatusjson"))
    {
        (Some(v), _) => (v.value.clone(), (v.line, format!("nsds5replicaLastUpdateStatus: {}", v.value))),
        (None, Some(j)) => match status389::json_message(&j.value) {
            Some((m, _)) => (m, (j.line, format!("nsds5replicaLastUpdateStatusJSON: {}", j.value))),
            None => {
                stats.unknown(rel);
                return None;
            }
        },
        (None, None) => return None,
    };
    let Some(status) = status389::classify(&status_value) else {
        stats.unknown(rel);
        return None;
    };
    let subject = [
        ("server", server),
        ("agreement", name.as_str()),
        ("consumer", consumer.as_str()),
        ("suffix", suffix.as_str()),
    ];
    let evidence = Evidence { file: rel.to_owned(), line: line.0, text: line.1 };
    if status.id == "389.healthy" {
        if let Some(v) = stalled(e, supplier, opts, &subject, rel) {
            return Some(v);
        }
    }
    let mut v = Verdict::new(status.id, catalog::severity(status.id)).with_subject(&subject);
    v.cause = status.cause.map(str::to_owned);
    v.evidence.push(evidence);
    v.guidance = guidance(&status, server, &name, &host, &port, &suffix, get("nsds5replicabinddn").as_deref());
    Some(v)
}

fn stalled(
    e: &Entry,
    supplier: Option<&(OffsetDateTime, Evidence)>,
    opts: &Options389,
    subject: &[(&str, &str)],
    rel: &str,
) -> Option<Verdict> {
    let (newest, ruv_ev) = supplier?;
    let agmt = e.get("nsds5agmtmaxcsn")?;
    let sent = csn_time(agmt.value.trim().rsplit(';').next()?)?;
    let lag = *newest - sent;
    if lag <= opts.lag_threshold {
        return None;
    }
    // A session that ended after the newest change would have sent it.
    let ended = e.get("nsds5replicalastupdateend").and_then(|v| gen_time(&v.value));
    if ended.is_some_and(|t| t >= *newest) {
        return None;
    }
    let host_port = subject.iter().find(|(k, _)| *k == "consumer").map(|(_, v)| *v).unwrap_or_default();
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "389"));
    let mut v = Verdict::new("389.stalled", catalog::severity("389.stalled")).with_subject(subject);
    v.evidence.push(Evidence {
        file: rel.to_owned(),
        line: agmt.line,
        text: format!("nsds5AgmtMaxCSN: {}", agmt.value.trim()),
    });
    v.evidence.push(ruv_ev.clone());
    if let Some(s) = e.get("nsds5replicalastupdatestatus") {
        v.evidence.push(Evidence {
            file: rel.to_owned(),
            line: s.line,
            text: format!("nsds5replicaLastUpdateStatus: {}", s.value),
        });
    }
    v.guidance = vec![
        format!(
            "The status still says success, but this agreement's last sent change is {} minutes behind the supplier's newest and no session has ended since: something on the path silently drops the established connection (a firewall dropping mid-session) or the consumer {host_port} hangs",
            lag.whole_minutes()
        ),
        connectivity(host, port),
        format!(
            "Restart the agreement: dsconf <instance> repl-agmt disable --suffix <suffix> {0}, then dsconf <instance> repl-agmt enable --suffix <suffix> {0}",
            subject.iter().find(|(k, _)| *k == "agreement").map(|(_, v)| *v).unwrap_or_default()
        ),
        "Look for stateful firewalls between the supplier and the consumer that drop idle or long-lived connections".to_owned(),
    ];
    Some(v)
}

fn guidance(
    s: &Status,
    server: &str,
    agmt: &str,
    host: &str,
    port: &str,
    suffix: &str,
    bind_dn: Option<&str>,
) -> Vec<String> {
    let reinit = reinit_389(server, suffix, agmt);
    let test = connectivity(host, port);
    let bind = bind_dn.unwrap_or("<bind DN>");
    match s.id {
        "389.healthy" | "389.protocol-stopped" => Vec::new(),
        "389.agreement-disabled" => vec![format!("Enable the agreement if replication is wanted: dsconf {server} repl-agmt enable --suffix {suffix} {agmt}")],
        "389.connection-error" => {
            let how = match s.cause {
                Some("refused") => format!("the connection to {host}:{port} is refused: the consumer is down or a firewall rejects"),
                Some("timeout") => format!("the connection to {host}:{port} gets no answer: a firewall drops it, or the consumer is overloaded"),
                _ => format!("the supplier cannot reach {host}:{port}"),
            };
            vec![
                format!("Check that the consumer runs and that its port is reachable from {server} (firewall, DNS): {how}"),
                test,
                "Retries continue by themselves; once connected the agreement catches up".to_owned(),
            ]
        }
        "389.bind-failed" => vec![
            format!(
                "Not a network problem: the consumer refuses the agreement's password (LDAP error 49). Set the agreement's nsDS5ReplicaCredentials to the password of {bind} on the consumer {host}:{port}: dsconf {server} repl-agmt set --suffix {suffix} --bind-passwd <password> {agmt}, or reset that password on the consumer"
            ),
            format!("Check it: ldapsearch -H ldap://{host}:{port} -D \"{bind}\" -W -b \"\" -s base"),
        ],
        "389.ssl-not-enabled" => vec![format!(
            "Enable TLS on the consumer {host}:{port}, or change the agreement's transport (nsDS5ReplicaTransportInfo) to match it"
        )],
        "389.timeout" => vec![format!("Check latency and load between {server} and {host}:{port}"), test],
        "389.transient-error" => vec!["None if it clears; investigate if it repeats".to_owned()],
        "389.remote-internal-error" => vec![format!("Read the consumer's errors log on {host}")],
        "389.permission-denied" => vec![format!(
            "Give the agreement's bind DN {bind} replication rights on the consumer {host}:{port} (the replica's bind DN or bind group for {suffix})"
        )],
        "389.no-replicated-area" => vec![format!("Enable replication for {suffix} on the consumer {host}:{port}")],
        "389.decode-error" => vec![format!("Check that {server} and {host} run compatible versions")],
        "389.replica-busy" | "389.backoff" => vec!["None: the supplier retries later".to_owned()],
        "389.legacy-supplier" => vec![format!("Remove the legacy supplier configuration on {host}")],
        "389.duplicate-replica-id" => vec![format!(
            "Give every supplier a unique replica id: {server} and {host} share one (nsDS5ReplicaId)"
        )],
        "389.acquire-failed" => vec![format!("Read both errors logs: {server}'s and {host}'s")],
        "389.csn-unavailable" => vec![format!("Restart the supplier {server}; check its changelog")],
        "389.consumer-not-initialized" => vec![format!("Initialize the consumer from the supplier: {reinit}")],
        "389.generation-id-mismatch" => vec![format!(
            "A data problem, not a network one: the consumer's data has another generation id. Reinitialize the consumer (or the supplier) so both share a generation: {reinit}"
        )],
        "389.needs-reinit" => vec![format!("Reinitialize the consumer: {reinit}")],
        "389.time-skew" => vec![format!("Synchronize the clocks (NTP) of {server} and {host}")],
        "389.csn-generator-error" => vec![format!("Restart {server}; check the clocks of both servers")],
        "389.changelog-error" => vec![format!("Check the changelog database of {server}; recreate it if it is corrupt")],
        "389.changelog-purged" => vec![
            format!("Reinitialize the consumer: {reinit}"),
            format!("Consider a longer changelog max age on {server} (nsslapd-changelogmaxage)"),
        ],
        "389.changelog-missing" => vec![format!("Reinitialize the consumer: {reinit}")],
        "389.send-failed" => vec![format!("Restart the supplier {server}; check its resources (threads, memory, disk)")],
        "389.agreement-corrupted" => vec![format!("Recreate the agreement {agmt} for {suffix}")],
        _ => Vec::new(),
    }
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
