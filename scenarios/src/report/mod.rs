//! Results as people and machines read them: a line per scenario as it
//! finishes and a summary table (here); JSON Lines with a `{"type","data"}`
//! envelope ([`jsonl`], `--report-json`, record types in `docs/scenarios.md`
//! and `docs/ci-matrix.md`); JUnit XML ([`junit`], `--junit`); shard reports
//! read back and merged into the report of the whole run ([`merge`],
//! `replharness report merge`).
//!
//! A [`RunReport`] is what every writer takes: a run's own outcomes, or the
//! outcomes of several shards read back, so a merged report is written by
//! the same code as a single run's.

pub mod jsonl;
pub mod junit;
pub mod merge;

use std::fmt::Write as _;

use crate::partition::Partition;
use crate::runner::Outcome;

pub use jsonl::json_lines;
pub use junit::junit;

/// One scenario's outcome, with the shard that ran it.
#[derive(Debug, Clone)]
pub struct Scored {
    pub outcome: Outcome,
    /// Its place (from 0) in the whole run's order, every shard together.
    pub index: usize,
    /// `None` when the run was not partitioned.
    pub shard: Option<Partition>,
    /// The external proxy API its link proxies were made on (`None`: in-process).
    pub proxy_api: Option<String>,
}

/// One shard a merged report was made from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShardInfo {
    /// `null` for a report of an unpartitioned run.
    pub partition: Option<Partition>,
    /// The report file, as given to `report merge`.
    pub file: String,
    pub seed: u64,
    pub scenarios: usize,
    pub seconds: f64,
}

/// A whole run, as the reports show it.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub seed: u64,
    pub analyzer: Option<String>,
    /// Wall clock of the run; for a merged report the shards' sum (the time
    /// one runner would have taken).
    pub seconds: f64,
    /// The shard this run was (`None`: the whole run, or a merged report).
    pub partition: Option<Partition>,
    /// How many scenarios the whole run takes, every shard together.
    pub total: usize,
    /// `--proxy-api`, when given.
    pub proxy_api: Option<String>,
    /// For a merged report: the shards, in shard order.
    pub shards: Vec<ShardInfo>,
    /// In the run's order (a merged report: shard by shard).
    pub scenarios: Vec<Scored>,
}

impl RunReport {
    pub fn passed(&self) -> usize {
        self.scenarios.iter().filter(|s| s.outcome.passed).count()
    }

    pub fn failed(&self) -> usize {
        self.scenarios.len() - self.passed()
    }

    /// The exit code of the run: 0 when every scenario passed, else 1.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.failed() > 0)
    }

    /// The outcomes alone.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.scenarios.iter().map(|s| s.outcome.clone()).collect()
    }
}

/// The progress line of one finished scenario (failures indented below).
pub fn progress(o: &Outcome) -> String {
    let mut s = format!("{}  {}  ({:.1}s)\n", if o.passed { "PASS" } else { "FAIL" }, o.name, o.seconds);
    for f in &o.failures {
        let _ = writeln!(s, "    - {f}");
    }
    s
}

/// The summary table.
pub fn summary(outcomes: &[Outcome], seconds: f64) -> String {
    let w = outcomes.iter().map(|o| o.name.chars().count()).max().unwrap_or(8).max(8);
    let mut s = format!("\n{:w$}  result  time    verdicts\n", "scenario");
    for o in outcomes {
        let ids: Vec<&str> = o.verdicts.iter().map(|v| v.id.as_str()).collect();
        let _ = writeln!(
            s,
            "{:w$}  {:6}  {:5.1}s  {}",
            o.name,
            if o.passed { "pass" } else { "FAIL" },
            o.seconds,
            ids.join(", ")
        );
    }
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let _ = writeln!(s, "\n{passed} passed, {} failed ({seconds:.1}s)", outcomes.len() - passed);
    s
}

#[cfg(test)]
pub(crate) mod fixture {
    use crate::runner::Outcome;

    /// An outcome as a run makes one.
    pub fn outcome(name: &str, failures: &[&str]) -> Outcome {
        Outcome {
            name: name.into(),
            file: format!("library/{}.toml", name.replace(' ', "-")),
            tags: vec!["ds".into()],
            seed: 1,
            passed: failures.is_empty(),
            failures: failures.iter().map(|f| (*f).to_owned()).collect(),
            verdicts: vec![diagnosis::Verdict::new("ds.healthy", diagnosis::Severity::Ok)],
            seconds: 0.5,
            case_dir: None,
        }
    }
}
