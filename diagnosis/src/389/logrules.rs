//! What a 389 server's errors log tells about each of its agreements: the
//! failure still current (the last one since the last success, unless the
//! server's "… auth resumed" line or a finished total update ended it), as
//! a verdict id and cause with the line that shows it.
//!
//! The status attribute is vaguer than the log for several faults: a
//! refused connect and one that got no answer both read `Error (-1) …
//! Can't contact LDAP server` (only `network error 110 (Connection timed
//! out …)` in the log tells the second); a purged or missing changelog
//! reads as the transient status (`Can't acquire replica (Incremental
//! update transient warning …)`); up to 1.3.5.13 every acquisition failure
//! reads `Unable to acquire replica`. [`ServerLog::finding`] is what the
//! agreement rule refines those with, and what a case with the log alone is
//! judged by.

use time::OffsetDateTime;

use super::errlog::{self, LogLine};
use super::messages::{classify, Kind, Message};
use crate::case::Case;
use crate::input::ReadStats;
use crate::model::Evidence;

/// One server's errors log, read and classified.
#[derive(Debug, Clone)]
pub struct ServerLog {
    pub rel: String,
    pub lines: Vec<(LogLine, Message)>,
}

/// What the log says about one agreement now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub id: &'static str,
    pub cause: Option<&'static str>,
    pub evidence: Evidence,
}

/// The verdict a failure line stands for, and its cause.
fn verdict_of(kind: &Kind) -> Option<(&'static str, Option<&'static str>)> {
    Some(match kind {
        Kind::BindFailed { rc: 49 } | Kind::BindRefused { rc: 49 } => ("389.bind-failed", None),
        Kind::BindFailed { rc: -5 } | Kind::BindTimeout => ("389.connection-error", Some("timeout")),
        Kind::BindFailed { .. } | Kind::BindRefused { .. } | Kind::BindReadFailed | Kind::SendOperationFailed => {
            ("389.connection-error", Some("refused"))
        }
        Kind::ConnectFailed { errno: 110, .. } => ("389.connection-error", Some("timeout")),
        Kind::ConnectFailed { .. } => ("389.connection-error", Some("refused")),
        Kind::NoStartResponse { text } if text.contains("Timed out") => ("389.connection-error", Some("timeout")),
        Kind::NoStartResponse { .. } => ("389.connection-error", Some("refused")),
        Kind::SslNotInitialized => ("389.ssl-not-enabled", None),
        Kind::PermissionDenied => ("389.permission-denied", None),
        Kind::NoReplicatedArea => ("389.no-replicated-area", None),
        Kind::RemoteInternalError => ("389.remote-internal-error", None),
        Kind::DecodeError => ("389.decode-error", None),
        Kind::DuplicateReplicaId => ("389.duplicate-replica-id", None),
        Kind::Backoff => ("389.backoff", None),
        Kind::LegacySupplier => ("389.legacy-supplier", None),
        Kind::NoCurrentCsn => ("389.csn-unavailable", None),
        Kind::ConsumerClockSkew | Kind::TimeSkew => ("389.time-skew", None),
        Kind::ReplicaDisabled => ("389.replica-disabled", None),
        Kind::NotInitialized => ("389.consumer-not-initialized", None),
        Kind::GenerationMismatch => ("389.generation-id-mismatch", None),
        Kind::NeedsReinit => ("389.needs-reinit", None),
        Kind::CsnGeneratorError => ("389.csn-generator-error", None),
        Kind::ChangelogError => ("389.changelog-error", None),
        Kind::ChangelogPurged => ("389.changelog-purged", None),
        Kind::ChangelogMissing => ("389.changelog-missing", None),
        Kind::SendFailed => ("389.send-failed", None),
        Kind::MissingSuffix => ("389.agreement-corrupted", None),
        Kind::ConnectionLost => ("389.connection-error", None),
        Kind::Timeout => ("389.timeout", None),
        Kind::ReplayFailed { .. } => ("389.transient-error", None),
        Kind::TotalUpdateFailed => ("389.acquire-failed", None),
        Kind::BindResumed | Kind::Fatal | Kind::TotalUpdateFinished | Kind::ConsumerRefused { .. } | Kind::Other => {
            return None
        }
    })
}

/// Reads a server's `errors` log when it is a 389 one (every well-formed
/// line read; the replication ones recognised).
pub fn read(case: &Case, server: &str, stats: &mut ReadStats) -> Option<ServerLog> {
    let rel = Case::rel(server, "errors");
    let lines = errlog::read(case, &rel, stats)?;
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        let m = classify(&l);
        if m.kind != Kind::Other || m.agreement.is_some() {
            stats.recognised(&rel);
        }
        out.push((l, m));
    }
    Some(ServerLog { rel, lines: out })
}

impl ServerLog {
    /// The agreements the log names, in order of first mention, with their tag's `HOST:PORT`.
    pub fn agreements(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (_, m) in &self.lines {
            if let (Some(a), Some(h)) = (&m.agreement, &m.tag_host) {
                if !out.iter().any(|(n, _)| n == a) {
                    out.push((a.clone(), h.clone()));
                }
            }
        }
        out
    }

    fn evidence(&self, l: &LogLine) -> Evidence {
        Evidence { file: self.rel.clone(), line: l.line, text: l.raw.clone() }
    }

    /// Is this line about agreement `name`? Tagged lines by their tag; the
    /// untagged bind lines by the `host "H:P"` they print (`consumer`), or
    /// when the server has one agreement only.
    fn about(&self, m: &Message, name: &str, consumer: Option<&str>, only_one: bool) -> bool {
        match (&m.agreement, &m.kind) {
            (Some(a), _) => a == name,
            (None, Kind::ConnectFailed { host, .. }) => consumer.map_or(only_one, |c| c.eq_ignore_ascii_case(host)),
            (None, Kind::Other | Kind::ConsumerRefused { .. }) => false,
            (None, _) => only_one,
        }
    }

    /// The failure still current for agreement `name` after `since` (the
    /// last successful session's end, when known): the last failure line,
    /// unless a later "… auth resumed" ended it (bind and connection
    /// failures) or a total update finished after it. `consumer` is the
    /// agreement's `host:port`.
    pub fn finding(&self, name: &str, consumer: Option<&str>, since: Option<OffsetDateTime>) -> Option<Finding> {
        let only_one = self.agreements().len() <= 1;
        let mut current: Option<(&LogLine, &'static str, Option<&'static str>, bool)> = None;
        for (l, m) in &self.lines {
            if since.is_some_and(|s| l.at < s) || !self.about(m, name, consumer, only_one) {
                continue;
            }
            match &m.kind {
                Kind::BindResumed => {
                    if current.is_some_and(|c| c.3) {
                        current = None;
                    }
                }
                Kind::TotalUpdateFinished => current = None,
                k => {
                    if let Some((id, cause)) = verdict_of(k) {
                        // A connect failure after an "Unable to receive" on the cached
                        // connection tells the cause better: the newest wins.
                        current = Some((l, id, cause, k.ended_by_resumed()));
                    }
                }
            }
        }
        let (l, id, cause, _) = current?;
        Some(Finding { id, cause, evidence: self.evidence(l) })
    }

    /// The last line showing the agreement works (a bind resumed, a total
    /// update finished), for a case with the log alone.
    pub fn last_success(&self, name: &str) -> Option<Evidence> {
        self.lines
            .iter()
            .rev()
            .find(|(_, m)| {
                m.agreement.as_deref() == Some(name) && matches!(m.kind, Kind::BindResumed | Kind::TotalUpdateFinished)
            })
            .map(|(l, _)| self.evidence(l))
    }

    /// The suffix the log names (the keep-alive entry's DN), if any.
    pub fn suffix(&self) -> Option<String> {
        self.lines.iter().find_map(|(l, _)| {
            let rest = l.text.strip_prefix("Need to create replication keep alive entry <cn=repl keep alive ")?;
            let (_, suffix) = rest.trim_end_matches('>').split_once(',')?;
            Some(suffix.to_owned())
        })
    }
}
