//! `--report-json`: JSON Lines, each record `{"type": …, "data": …}` (one
//! serde enum, adjacently tagged): a `run` record, one `scenario` record per
//! scenario, a `summary` record.

use std::path::Path;

use serde::Serialize;

use crate::runner::Outcome;

/// One line of the report.
#[derive(Debug, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "lowercase")]
pub enum Record<'a> {
    Run { seed: u64, analyzer: Option<&'a str>, scenarios: usize, version: &'static str },
    Scenario(ScenarioRecord<'a>),
    Summary { passed: usize, failed: usize, seconds: f64 },
}

/// A `scenario` record's data.
#[derive(Debug, Serialize)]
pub struct ScenarioRecord<'a> {
    pub name: &'a str,
    pub file: &'a str,
    pub tags: &'a [String],
    pub seed: u64,
    pub passed: bool,
    pub seconds: f64,
    pub failures: &'a [String],
    pub verdicts: &'a [diagnosis::Verdict],
    pub case_dir: Option<&'a Path>,
}

fn millis(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// The whole report.
pub fn json_lines(outcomes: &[Outcome], seed: u64, analyzer: Option<&str>, seconds: f64) -> String {
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let mut records =
        vec![Record::Run { seed, analyzer, scenarios: outcomes.len(), version: env!("CARGO_PKG_VERSION") }];
    records.extend(outcomes.iter().map(|o| {
        Record::Scenario(ScenarioRecord {
            name: &o.name,
            file: &o.file,
            tags: &o.tags,
            seed: o.seed,
            passed: o.passed,
            seconds: millis(o.seconds),
            failures: &o.failures,
            verdicts: &o.verdicts,
            case_dir: o.case_dir.as_deref(),
        })
    }));
    records.push(Record::Summary { passed, failed: outcomes.len() - passed, seconds: millis(seconds) });
    let mut out = String::new();
    for r in &records {
        // Strings, numbers and verdicts: serializing cannot fail.
        if let Ok(line) = serde_json::to_string(r) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
