//! `probes.jsonl`: connectivity probes gathered by the harness or a person,
//! one JSON object a line, read once for every family. Unknown keys are
//! ignored; bad lines are counted.

use serde::Deserialize;

use crate::case::{for_each_line, Case};
use crate::model::{Evidence, ReadStats};

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Probe {
    pub from: String,
    pub target: String,
    #[serde(default)]
    pub port: Option<u16>,
    pub kind: String,
    pub outcome: String,
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
        (self.kind == "tcp" || self.kind == "tls") && self.outcome == "ok"
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
