//! `replharness report merge A.jsonl B.jsonl … [--junit F] [--report-json F]`:
//! the shard reports of a run checked and merged ([`crate::report::merge`]):
//! the failed scenarios with expected and got, one summary table, the merged
//! reports, and the exit code the whole run would have had (0 all passed,
//! 1 one failed, 2 a report missing, cut short or from another run).

use crate::cli::MergeArgs;
use crate::report::{self, merge};
use crate::run_cmd::write_reports;

/// Runs `report merge`; the exit code of the whole run.
pub fn run(args: &MergeArgs) -> anyhow::Result<u8> {
    let merged = merge::merge_files(&args.reports)?;
    let r = &merged.report;
    let shards: Vec<String> = r
        .shards
        .iter()
        .map(|s| match s.partition {
            Some(p) => format!("{p} {} ({} scenarios)", s.file, s.scenarios),
            None => format!("{} ({} scenarios)", s.file, s.scenarios),
        })
        .collect();
    let mut text = format!("merged {} reports, {} scenarios: {}\n", r.shards.len(), r.total, shards.join(", "));
    for note in &merged.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    let outcomes = r.outcomes();
    for o in outcomes.iter().filter(|o| !o.passed) {
        text.push_str(&report::progress(o));
    }
    text.push_str(&report::summary(&outcomes, r.seconds));
    // Reports first: a closed standard output must not lose them.
    write_reports(r, args.report_json.as_deref(), args.junit.as_deref())?;
    crate::out::print(&text)?;
    Ok(r.exit_code())
}
