//! `replharness report merge A.jsonl B.jsonl …`: the shard reports of one
//! run read back and checked, then merged into the report of the whole run,
//! written by the same writers as a single run's.
//!
//! A shard report must be whole: a `run` record on its first line, a
//! `summary` record on its last, and the scenario records in between as
//! many as both say. A missing file, an empty one, a line cut short, a
//! missing summary or counts that disagree is an error naming the file (and
//! line). Together the shards must make one run: the same partition kind and
//! shard count, every shard once, the same analyzer, no scenario twice, and
//! as many scenarios as the run takes. Seeds may differ (each scenario's own
//! seed is kept); the merge says so.

use std::path::Path;

use super::jsonl::{Record, RunRecord, ScenarioRecord, SummaryRecord};
use super::{RunReport, Scored, ShardInfo};
use crate::error::Error;
use crate::runner::Outcome;

/// One shard's report, read back whole.
#[derive(Debug, Clone)]
pub struct ShardReport {
    pub file: String,
    pub run: RunRecord,
    pub scenarios: Vec<ScenarioRecord>,
    pub summary: SummaryRecord,
}

fn report_err(file: &str, line: Option<usize>, problem: impl Into<String>) -> Error {
    Error::Report { file: file.to_owned(), line, problem: problem.into() }
}

/// Reads one report file.
pub fn read(path: &Path) -> Result<ShardReport, Error> {
    let file = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
    let text = String::from_utf8(text).map_err(|e| report_err(&file, None, format!("not UTF-8 text: {e}")))?;
    parse(&file, &text)
}

/// Reads one report's text (`file` names it in errors).
pub fn parse(file: &str, text: &str) -> Result<ShardReport, Error> {
    let lines: Vec<(usize, &str)> =
        text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty()).collect();
    let Some(&(last_no, _)) = lines.last() else {
        return Err(report_err(file, None, "empty: no run record (the run never wrote its report, or it was cut)"));
    };
    let mut run: Option<RunRecord> = None;
    let mut scenarios = Vec::new();
    let mut summary: Option<SummaryRecord> = None;
    for &(no, line) in &lines {
        let rec = super::jsonl::read_line(line).map_err(|e| {
            if no == last_no && (e.is_eof() || e.is_syntax()) {
                report_err(file, Some(no), "truncated: the last line is cut short (no summary record after it)")
            } else {
                report_err(file, Some(no), format!("not a report record: {e}"))
            }
        })?;
        if summary.is_some() {
            return Err(report_err(file, Some(no), "a record after the summary (two reports in one file?)"));
        }
        let Some(rec) = rec else { continue };
        match rec {
            Record::Run(r) if run.is_none() && no == lines[0].0 => run = Some(r),
            Record::Run(_) => return Err(report_err(file, Some(no), "a second run record (two reports in one file?)")),
            _ if run.is_none() => {
                return Err(report_err(
                    file,
                    Some(no),
                    "the first record is not a run record: not a replharness report",
                ))
            }
            Record::Scenario(s) => scenarios.push(*s),
            Record::Summary(s) => summary = Some(s),
        }
    }
    let (Some(run), Some(summary)) = (run, summary) else {
        return Err(report_err(
            file,
            Some(last_no),
            "truncated: no summary record at the end (the run was cut off, or the file is incomplete)",
        ));
    };
    let passed = scenarios.iter().filter(|s| s.passed).count();
    if scenarios.len() != run.scenarios || summary.passed + summary.failed != run.scenarios || summary.passed != passed
    {
        return Err(report_err(
            file,
            None,
            format!(
                "incomplete: the run record says {} scenarios, the summary {} passed and {} failed, but {} scenario \
                 records are there ({passed} passed)",
                run.scenarios,
                summary.passed,
                summary.failed,
                scenarios.len()
            ),
        ));
    }
    Ok(ShardReport { file: file.to_owned(), run, scenarios, summary })
}

/// What a merge gives: the whole run's report, and notes for the reader.
#[derive(Debug, Clone)]
pub struct Merged {
    pub report: RunReport,
    /// Things worth saying that are not errors (seeds that differ).
    pub notes: Vec<String>,
}

/// Reads every report and merges them.
pub fn merge_files(paths: &[impl AsRef<Path>]) -> Result<Merged, Error> {
    let shards = paths.iter().map(|p| read(p.as_ref())).collect::<Result<Vec<_>, _>>()?;
    merge(shards)
}

fn shard_name(s: &ShardReport) -> String {
    match s.run.partition {
        Some(p) => format!("{p} ({})", s.file),
        None => format!("the whole run in {}", s.file),
    }
}

/// Checks that the shards make one run, then merges them in shard order,
/// scenarios in the whole run's order where the reports record it.
pub fn merge(mut shards: Vec<ShardReport>) -> Result<Merged, Error> {
    let Some(first) = shards.first() else {
        return Err(Error::Shards("no report given".into()));
    };
    let (analyzer, first_file, first_api) =
        (first.run.analyzer.clone(), first.file.clone(), first.run.proxy_api.clone());
    if let Some(other) = shards.iter().find(|s| s.run.analyzer != analyzer) {
        let show = |a: &Option<String>| a.as_deref().map_or("the built-in engine".to_owned(), |c| format!("{c:?}"));
        return Err(Error::Shards(format!(
            "{} judged with {}, {} with {}",
            first_file,
            show(&analyzer),
            other.file,
            show(&other.run.analyzer)
        )));
    }
    check_partitions(&shards)?;
    shards.sort_by_key(|s| s.run.partition.map(|p| p.shard));
    let mut seen: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for s in &shards {
        for sc in &s.scenarios {
            if let Some(before) = seen.insert(&sc.name, &s.file) {
                return Err(Error::Shards(format!(
                    "scenario {:?} is in {before} and in {}: each scenario runs in one shard",
                    sc.name, s.file
                )));
            }
        }
    }
    let mut notes = Vec::new();
    let seeds: std::collections::BTreeSet<u64> = shards.iter().map(|s| s.run.seed).collect();
    if seeds.len() > 1 {
        let each: Vec<String> = shards.iter().map(|s| format!("{} seed {}", shard_name(s), s.run.seed)).collect();
        notes.push(format!(
            "the shards ran with different seeds ({}); each scenario's own seed is in its record. Pass the same \
             --seed to every shard to make the merged run one run that a single `replharness run --seed` repeats",
            each.join(", ")
        ));
    }
    // The run's --proxy-api, when every shard had the same one.
    let proxy_api = first_api.clone().filter(|_| shards.iter().all(|s| s.run.proxy_api == first_api));
    let infos: Vec<ShardInfo> = shards
        .iter()
        .map(|s| ShardInfo {
            partition: s.run.partition,
            file: s.file.clone(),
            seed: s.run.seed,
            scenarios: s.scenarios.len(),
            seconds: s.summary.seconds,
        })
        .collect();
    let seconds = shards.iter().map(|s| s.summary.seconds).sum();
    let seed = shards.first().map_or(0, |s| s.run.seed);
    let partitioned = shards.iter().any(|s| s.run.partition.is_some());
    let mut scenarios: Vec<Scored> = Vec::new();
    for s in shards {
        for sc in s.scenarios {
            let place = scenarios.len();
            scenarios.push(scored(sc, s.run.partition, place, partitioned));
        }
    }
    // Shards' records carry their place in the whole run: restore that order.
    scenarios.sort_by_key(|s| s.index);
    let total = scenarios.len();
    let report = RunReport { seed, analyzer, seconds, partition: None, total, proxy_api, shards: infos, scenarios };
    Ok(Merged { report, notes })
}

/// The same kind and count everywhere, each shard once, none missing, and as
/// many scenarios as the run takes.
fn check_partitions(shards: &[ShardReport]) -> Result<(), Error> {
    let parts: Vec<_> = shards.iter().map(|s| s.run.partition).collect();
    let Some(first) = parts.iter().flatten().next().copied() else {
        // Whole runs only (no partition): merged as separate runs.
        return Ok(());
    };
    if let Some(whole) = shards.iter().find(|s| s.run.partition.is_none()) {
        return Err(Error::Shards(format!("{} is a whole run, {} a shard", whole.file, shard_name(&shards[0]))));
    }
    for s in shards {
        let p = s.run.partition.unwrap_or(first);
        if (p.kind, p.total) != (first.kind, first.total) {
            return Err(Error::Shards(format!(
                "{} and {}: shards of different partitions",
                shard_name(&shards[0]),
                shard_name(s)
            )));
        }
    }
    let mut by_shard: std::collections::BTreeMap<u32, &ShardReport> = std::collections::BTreeMap::new();
    for s in shards {
        let p = s.run.partition.unwrap_or(first);
        if let Some(other) = by_shard.insert(p.shard, s) {
            return Err(Error::Shards(format!("{} and {} are both shard {p}", other.file, s.file)));
        }
    }
    let missing: Vec<String> = (1..=first.total)
        .filter(|k| !by_shard.contains_key(k))
        .map(|k| crate::partition::Partition { shard: k, ..first }.to_string())
        .collect();
    if !missing.is_empty() {
        let have: Vec<String> = by_shard.values().map(|s| shard_name(s)).collect();
        return Err(Error::Shards(format!(
            "shard{} {} missing: give {} report{} too (have {})",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "its" } else { "their" },
            if missing.len() == 1 { "" } else { "s" },
            have.join(", ")
        )));
    }
    let sum: usize = shards.iter().map(|s| s.scenarios.len()).sum();
    for s in shards {
        if let Some(total) = s.run.total_scenarios {
            if total != sum {
                return Err(Error::Shards(format!(
                    "{} says the run takes {total} scenarios, but the shards hold {sum} (reports of different runs, \
                     paths or --filter?)",
                    s.file
                )));
            }
        }
    }
    Ok(())
}

/// A record as an outcome; `place` is its place in the merged files, which
/// stands for the run's order when the record has none (older reports) or
/// when whole runs are merged (their places each count from 0).
fn scored(sc: ScenarioRecord, shard: Option<crate::partition::Partition>, place: usize, partitioned: bool) -> Scored {
    let index = if partitioned { sc.index.unwrap_or(place) } else { place };
    let shard = sc.shard.or(shard);
    let proxy_api = sc.proxy_api.clone();
    let outcome = Outcome {
        name: sc.name,
        file: sc.file,
        tags: sc.tags,
        seed: sc.seed,
        passed: sc.passed,
        failures: sc.failures,
        verdicts: sc.verdicts,
        seconds: sc.seconds,
        case_dir: sc.case_dir,
    };
    Scored { outcome, index, shard, proxy_api }
}

#[cfg(test)]
mod tests;
