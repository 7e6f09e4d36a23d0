//! One agreement entry → its verdict: the status value (or the JSON twin's
//! message) through [`super::status`], refined by the supplier's errors log
//! where the status is vaguer ([`super::logrules`]), or `389.stalled` where
//! a green status hides a lag.
//!
//! Refinements, from the log lines since the last successful session ended:
//! - `389.connection-error`: `refused` or `timeout` from the connect or bind
//!   line (`network error 110 (Connection timed out …)` is a timeout though
//!   the status says `Can't contact LDAP server`);
//! - the transient status (`Can't acquire replica (Incremental update transient
//!   warning …)`) becomes `389.changelog-purged` or `389.changelog-missing`
//!   when the log says so;
//! - the generic statuses of older versions (`Unable to acquire replica`,
//!   `Incremental update has failed and requires administrator action`) take
//!   the cause the log names.
//! - `No replication sessions started since server startup` is
//!   `389.agreement-disabled` with `nsds5ReplicaEnabled: off`, else `389.no-session-yet`.

use time::OffsetDateTime;

use super::guidance::steps;
use super::logrules::{Finding, ServerLog};
use super::status::{self, Status};
use super::{csn_time, gen_time, Options389};
use crate::catalog;
use crate::guidance::connectivity;
use crate::input::ReadStats;
use crate::ldif::Entry;
use crate::model::{Evidence, Verdict};

/// What the rules know of the agreement's surroundings.
#[derive(Debug, Default)]
pub struct Context<'a> {
    /// The supplier's newest own change (its RUV max CSN for its replica id) and the value showing it.
    pub supplier_max: Option<&'a (OffsetDateTime, Evidence)>,
    /// The supplier's errors log.
    pub log: Option<&'a ServerLog>,
    /// The consumer's RUV max for the supplier's replica id, from the
    /// consumer's own `replica.ldif`, when the case holds it.
    pub consumer_has: Option<(OffsetDateTime, Evidence)>,
}

/// The agreement's verdict, or `None` when its status is missing or unknown
/// (counted in `stats`).
pub fn verdict(
    server: &str,
    rel: &str,
    e: &Entry,
    ctx: &Context<'_>,
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
        (None, Some(j)) => match status::json_message(&j.value) {
            Some((m, _)) => (m, (j.line, format!("nsds5replicaLastUpdateStatusJSON: {}", j.value))),
            None => {
                stats.unknown(rel);
                return None;
            }
        },
        (None, None) => return None,
    };
    let Some(mut status) = status::classify(&status_value) else {
        stats.unknown(rel);
        return None;
    };
    stats.recognised(rel);
    let subject = [
        ("server", server),
        ("agreement", name.as_str()),
        ("consumer", consumer.as_str()),
        ("suffix", suffix.as_str()),
    ];
    let mut evidence = vec![Evidence { file: rel.to_owned(), line: line.0, text: line.1 }];
    let ended = e.get("nsds5replicalastupdateend").and_then(|v| gen_time(&v.value)).filter(|t| t.unix_timestamp() > 0);
    let disabled = get("nsds5replicaenabled").is_some_and(|v| v.eq_ignore_ascii_case("off"));
    if status.id == "389.no-session-yet" && disabled {
        status.id = "389.agreement-disabled";
    }
    if matches!(status.id, "389.healthy" | "389.no-session-yet") {
        if let Some(v) = stalled(e, ctx, opts, &subject, rel, ended) {
            return Some(v);
        }
    }
    // What the log says since the last successful session.
    let finding = ctx.log.and_then(|l| l.finding(&name, Some(&consumer), ended));
    if let Some(f) = &finding {
        refine(&mut status, f, &mut evidence);
    }
    let mut v = Verdict::new(status.id, catalog::severity(status.id)).with_subject(&subject);
    v.cause = status.cause.map(str::to_owned);
    v.evidence = evidence;
    v.guidance = steps(&status, server, &name, &host, &port, &suffix, get("nsds5replicabinddn").as_deref());
    Some(v)
}

/// Refines a vague status with the log's finding (and keeps the line as evidence).
fn refine(status: &mut Status, f: &Finding, evidence: &mut Vec<Evidence>) {
    let agrees = f.id == status.id;
    match (status.id, f.id) {
        ("389.connection-error", "389.connection-error") => {
            if f.cause.is_some() {
                status.cause = f.cause;
            }
        }
        ("389.transient-error", "389.changelog-purged" | "389.changelog-missing") => status.id = f.id,
        ("389.acquire-failed", id) if id != "389.acquire-failed" => {
            status.id = id;
            status.cause = f.cause;
        }
        _ if agrees => {}
        _ => return,
    }
    evidence.push(f.evidence.clone());
}

fn stalled(
    e: &Entry,
    ctx: &Context<'_>,
    opts: &Options389,
    subject: &[(&str, &str)],
    rel: &str,
    ended: Option<OffsetDateTime>,
) -> Option<Verdict> {
    let (newest, ruv_ev) = ctx.supplier_max?;
    // What is known to have reached the consumer: the agreement's own
    // `nsds5AgmtMaxCSN` where a tool put it on the agreement (the spec's
    // shape), else the end of the last successful session and the consumer's RUV.
    let on_agreement = e.get("nsds5agmtmaxcsn");
    let sent_ev;
    let sent = match on_agreement {
        Some(agmt) => {
            sent_ev = Some(Evidence {
                file: rel.to_owned(),
                line: agmt.line,
                text: format!("nsds5AgmtMaxCSN: {}", agmt.value.trim()),
            });
            csn_time(agmt.value.trim().rsplit(';').next()?)?
        }
        None => {
            let ended_ev = e.get("nsds5replicalastupdateend").map(|v| Evidence {
                file: rel.to_owned(),
                line: v.line,
                text: format!("nsds5replicaLastUpdateEnd: {}", v.value.trim()),
            });
            match (&ctx.consumer_has, ended) {
                (Some((c, ev)), Some(end)) if *c > end => {
                    sent_ev = Some(ev.clone());
                    *c
                }
                (_, Some(end)) => {
                    sent_ev = ended_ev;
                    end
                }
                (Some((c, ev)), None) => {
                    sent_ev = Some(ev.clone());
                    *c
                }
                (None, None) => return None,
            }
        }
    };
    let lag = *newest - sent;
    if lag <= opts.lag_threshold {
        return None;
    }
    // A session that ended after the newest change would have sent it.
    if ended.is_some_and(|t| t >= *newest) {
        return None;
    }
    let host_port = subject.iter().find(|(k, _)| *k == "consumer").map(|(_, v)| *v).unwrap_or_default();
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "389"));
    let mut v = Verdict::new("389.stalled", catalog::severity("389.stalled")).with_subject(subject);
    v.evidence.extend(sent_ev);
    v.evidence.push(ruv_ev.clone());
    if let Some(s) = e.get("nsds5replicalastupdatestatus") {
        v.evidence.push(Evidence {
            file: rel.to_owned(),
            line: s.line,
            text: format!("nsds5replicaLastUpdateStatus: {}", s.value),
        });
    }
    let agmt = subject.iter().find(|(k, _)| *k == "agreement").map(|(_, v)| *v).unwrap_or_default();
    let server = subject.iter().find(|(k, _)| *k == "server").map(|(_, v)| *v).unwrap_or_default();
    let suffix = subject.iter().find(|(k, _)| *k == "suffix").map(|(_, v)| *v).unwrap_or_default();
    let minutes = lag.whole_minutes();
    let behind = if minutes > 0 { format!("{minutes} minutes") } else { format!("{} seconds", lag.whole_seconds()) };
    v.guidance = vec![
        format!(
            "The status still says success, but this agreement's last sent change is {behind} behind the supplier's newest and no session has ended since: something on the path silently drops the established connection (a firewall dropping mid-session) or the consumer {host_port} hangs"
        ),
        connectivity(host, port),
        format!(
            "Restart the agreement: dsconf {server} repl-agmt disable --suffix {suffix} {agmt}, then dsconf {server} repl-agmt enable --suffix {suffix} {agmt}"
        ),
        "Look for stateful firewalls between the supplier and the consumer that drop idle or long-lived connections".to_owned(),
    ];
    Some(v)
}

/// Verdicts from the errors log alone, for a supplier whose agreements
/// entries are not in the case: per agreement the log names, the failure
/// still current, else `389.healthy` when the log shows the agreement working.
pub fn from_log(server: &str, log: &ServerLog, suffix: Option<&str>) -> Vec<Verdict> {
    let mut out = Vec::new();
    let suffix = suffix.map(str::to_owned).or_else(|| log.suffix()).unwrap_or_else(|| "<suffix>".into());
    for (name, tag_host) in log.agreements() {
        let subject = [
            ("server", server),
            ("agreement", name.as_str()),
            ("consumer", tag_host.as_str()),
            ("suffix", suffix.as_str()),
        ];
        let (host, port) = tag_host.rsplit_once(':').unwrap_or((tag_host.as_str(), "389"));
        let (status, ev) = match log.finding(&name, None, None) {
            Some(f) => (Status { id: f.id, cause: f.cause, rc: None, ldap_error: None }, f.evidence),
            None => match log.last_success(&name) {
                Some(ev) => (Status { id: "389.healthy", cause: None, rc: None, ldap_error: None }, ev),
                None => continue,
            },
        };
        let mut v = Verdict::new(status.id, catalog::severity(status.id)).with_subject(&subject);
        v.cause = status.cause.map(str::to_owned);
        v.evidence.push(ev);
        v.guidance = steps(&status, server, &name, host, port, &suffix, None);
        out.push(v);
    }
    out
}
