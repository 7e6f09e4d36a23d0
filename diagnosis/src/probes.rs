//! `probes.jsonl`: connectivity probes gathered by the harness or a person,
//! one JSON object a line, read once for every family. Unknown keys are
//! ignored; bad lines are counted.

use serde::Deserialize;

use crate::case::{for_each_line, Case};
use crate::model::{Evidence, ReadStats};

/// What was tried (`spec/cli.md`); a kind another tool adds is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    Dns,
    Tcp,
    Tls,
    #[serde(other)]
    Other,
}

/// What came of it; an outcome another tool adds is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    Refused,
    Timeout,
    Nxdomain,
    /// With `address`.
    Resolved,
    /// With `detail`.
    TlsError,
    #[serde(other)]
    Other,
}

impl Outcome {
    /// As the probe line writes it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Timeout => "timeout",
            Outcome::Nxdomain => "nxdomain",
            Outcome::Resolved => "resolved",
            Outcome::TlsError => "tls-error",
            Outcome::Other => "another outcome",
        }
    }
}

/// One probe line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Probe {
    pub from: String,
    pub target: String,
    #[serde(default)]
    pub port: Option<u16>,
    pub kind: ProbeKind,
    pub outcome: Outcome,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(skip)]
    pub evidence: Option<Evidence>,
}

impl Probe {
    /// A TCP or TLS probe that got through: something listens there.
    pub fn reached(&self) -> bool {
        matches!(self.kind, ProbeKind::Tcp | ProbeKind::Tls) && self.outcome == Outcome::Ok
    }
}

pub fn read(case: &Case, stats: &mut ReadStats) -> Vec<Probe> {
    let mut out = Vec::new();
    for_each_line(case, "probes.jsonl", stats, |n, line, stats| {
        if line.trim().is_empty() {
            return;
        }
        match serde_json::from_str::<Probe>(line) {
            Ok(mut p) => {
                stats.recognised("probes.jsonl");
                p.evidence = Some(Evidence { file: "probes.jsonl".into(), line: n, text: line.to_owned() });
                out.push(p);
            }
            Err(_) => stats.unknown("probes.jsonl"),
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_outcomes_another_tool_adds_are_read_as_other() {
        let p: Probe = serde_json::from_str(
            r#"{"from":"a","target":"b","port":8989,"kind":"icmp","outcome":"unreachable","ttl":3}"#,
        )
        .expect("tolerant");
        assert_eq!((p.kind, p.outcome), (ProbeKind::Other, Outcome::Other));
        let p: Probe =
            serde_json::from_str(r#"{"from":"a","target":"b","kind":"tls","outcome":"tls-error","detail":"x"}"#)
                .expect("spec line");
        assert_eq!((p.kind, p.outcome, p.detail.as_deref()), (ProbeKind::Tls, Outcome::TlsError, Some("x")));
        assert!(serde_json::from_str::<Probe>(r#"{"from":"a","kind":"tcp","outcome":"ok"}"#).is_err(), "no target");
    }
}
