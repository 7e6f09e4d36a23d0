//! One agreement entry → its verdict: the status value (or the JSON twin's
//! message) through [`super::status`], or `389.stalled` where a green
//! status hides a lag.

use time::OffsetDateTime;

use super::guidance::steps;
use super::status;
use super::{csn_time, gen_time, Options389};
use crate::catalog;
use crate::guidance::connectivity;
use crate::input::ReadStats;
use crate::ldif::Entry;
use crate::model::{Evidence, Verdict};

/// The agreement's verdict, or `None` when its status is missing or unknown
/// (counted in `stats`).
pub fn verdict(
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
        (None, Some(j)) => match status::json_message(&j.value) {
            Some((m, _)) => (m, (j.line, format!("nsds5replicaLastUpdateStatusJSON: {}", j.value))),
            None => {
                stats.unknown(rel);
                return None;
            }
        },
        (None, None) => return None,
    };
    let Some(status) = status::classify(&status_value) else {
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
    let evidence = Evidence { file: rel.to_owned(), line: line.0, text: line.1 };
    if status.id == "389.healthy" {
        if let Some(v) = stalled(e, supplier, opts, &subject, rel) {
            return Some(v);
        }
    }
    let mut v = Verdict::new(status.id, catalog::severity(status.id)).with_subject(&subject);
    v.cause = status.cause.map(str::to_owned);
    v.evidence.push(evidence);
    v.guidance = steps(&status, server, &name, &host, &port, &suffix, get("nsds5replicabinddn").as_deref());
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
