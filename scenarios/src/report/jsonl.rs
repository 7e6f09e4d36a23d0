//! `--report-json`: JSON Lines, each record `{"type": …, "data": …}` (one
//! serde enum, adjacently tagged): a `run` record first, one `scenario`
//! record per scenario, a `summary` record last. The same types read a
//! report back ([`merge`](super::merge)): a report is whole when its first
//! line is a `run` record, its last a `summary`, and the counts agree, so a
//! file cut short anywhere is told from a finished one. Readers ignore keys
//! and record types they do not know; fields added since the first version
//! (`partition`, `total_scenarios`, `shard`, `proxy_api`, `shards`) default.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{RunReport, ShardInfo};
use crate::partition::Partition;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "lowercase")]
pub enum Record {
    Run(RunRecord),
    Scenario(Box<ScenarioRecord>),
    Summary(SummaryRecord),
}

/// The record types this version reads.
const KNOWN: &[&str] = &["run", "scenario", "summary"];

/// Reads one line: `Ok(None)` for a record type of a later version (skipped).
pub fn read_line(line: &str) -> Result<Option<Record>, serde_json::Error> {
    let v: serde_json::Value = serde_json::from_str(line)?;
    match v.get("type").and_then(serde_json::Value::as_str) {
        Some(t) if !KNOWN.contains(&t) => Ok(None),
        _ => serde_json::from_value(v).map(Some),
    }
}

/// The `run` record: what ran, and which part of the whole run it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub seed: u64,
    pub analyzer: Option<String>,
    /// Scenario records in this report.
    pub scenarios: usize,
    pub version: String,
    /// The shard (`"hash:2/3"`), or null for a whole run or a merged report.
    #[serde(default)]
    pub partition: Option<Partition>,
    /// Scenarios of the whole run, every shard together (older reports: absent).
    #[serde(default)]
    pub total_scenarios: Option<usize>,
    /// `--proxy-api`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_api: Option<String>,
    /// A merged report's shards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardInfo>,
}

/// A `scenario` record's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRecord {
    pub name: String,
    pub file: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub seed: u64,
    pub passed: bool,
    pub seconds: f64,
    #[serde(default)]
    pub failures: Vec<String>,
    #[serde(default)]
    pub verdicts: Vec<diagnosis::Verdict>,
    #[serde(default)]
    pub case_dir: Option<PathBuf>,
    /// Its place (from 0) in the whole run's order, every shard together.
    #[serde(default)]
    pub index: Option<usize>,
    /// The shard that ran it (null when the run was not partitioned).
    #[serde(default)]
    pub shard: Option<Partition>,
    /// The external proxy API of its link proxies (absent: in-process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_api: Option<String>,
}

/// The `summary` record, always the last line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRecord {
    pub passed: usize,
    pub failed: usize,
    pub seconds: f64,
}

fn millis(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// The records of a run, in order.
pub fn records(r: &RunReport) -> Vec<Record> {
    let mut out = vec![Record::Run(RunRecord {
        seed: r.seed,
        analyzer: r.analyzer.clone(),
        scenarios: r.scenarios.len(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        partition: r.partition,
        total_scenarios: Some(r.total),
        proxy_api: r.proxy_api.clone(),
        shards: r.shards.clone(),
    })];
    out.extend(r.scenarios.iter().map(|s| {
        let o = &s.outcome;
        Record::Scenario(Box::new(ScenarioRecord {
            name: o.name.clone(),
            file: o.file.clone(),
            tags: o.tags.clone(),
            seed: o.seed,
            passed: o.passed,
            seconds: millis(o.seconds),
            failures: o.failures.clone(),
            verdicts: o.verdicts.clone(),
            case_dir: o.case_dir.clone(),
            index: Some(s.index),
            shard: s.shard,
            proxy_api: s.proxy_api.clone(),
        }))
    }));
    out.push(Record::Summary(SummaryRecord { passed: r.passed(), failed: r.failed(), seconds: millis(r.seconds) }));
    out
}

/// The whole report, one record a line.
pub fn json_lines(r: &RunReport) -> String {
    let mut out = String::new();
    for rec in records(r) {
        // Strings, numbers and verdicts: serializing cannot fail.
        if let Ok(line) = serde_json::to_string(&rec) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{fixture::outcome, Scored};

    fn report(partition: Option<Partition>) -> RunReport {
        RunReport {
            seed: 7,
            analyzer: None,
            seconds: 1.23456,
            partition,
            total: 5,
            proxy_api: None,
            shards: vec![],
            scenarios: vec![
                Scored { outcome: outcome("healthy mesh", &[]), index: 1, shard: partition, proxy_api: None },
                Scored { outcome: outcome("broken", &["expected x"]), index: 4, shard: partition, proxy_api: None },
            ],
        }
    }

    #[test]
    fn records_read_back_as_written() {
        let part = "hash:2/3".parse().ok();
        let text = json_lines(&report(part));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].starts_with(r#"{"type":"run","data":{"seed":7,"analyzer":null,"scenarios":2,"#),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains(r#""partition":"hash:2/3","total_scenarios":5"#), "{}", lines[0]);
        assert!(lines[1].contains(r#""case_dir":null,"index":1,"shard":"hash:2/3""#), "{}", lines[1]);
        assert_eq!(lines[3], r#"{"type":"summary","data":{"passed":1,"failed":1,"seconds":1.235}}"#);
        let back: Vec<Record> = lines.iter().map(|l| serde_json::from_str(l).expect(l)).collect();
        assert_eq!(back, records(&report(part)).into_iter().map(|r| round(&r)).collect::<Vec<_>>());
    }

    /// Seconds are written to the millisecond: compare what a reader gets.
    fn round(r: &Record) -> Record {
        serde_json::from_str(&serde_json::to_string(r).expect("json")).expect("reads")
    }

    #[test]
    fn an_unpartitioned_run_writes_null_and_the_first_versions_records_still_read() {
        let text = json_lines(&report(None));
        assert!(text.contains(r#""partition":null,"total_scenarios":5"#), "{text}");
        assert!(text.contains(r#""shard":null"#), "{text}");
        assert!(!text.contains("proxy_api") && !text.contains("shards"), "{text}");
        let old = r#"{"type": "run", "data": {"seed": 7, "analyzer": null, "scenarios": 14, "version": "0.1.0"}}"#;
        let Record::Run(run) = serde_json::from_str(old).expect("an old run record") else { panic!("run") };
        assert_eq!((run.partition, run.total_scenarios), (None, None));
        let later = r#"{"type": "progress", "data": {"percent": 50}, "extra": 1}"#;
        assert_eq!(read_line(later).expect("tolerated"), None);
        assert!(read_line(r#"{"data": {}}"#).is_err(), "no type: not a record");
        assert!(read_line(r#"{"type": "run", "data": {"seed": "x"}}"#).is_err());
    }
}
