//! Results as people and machines read them: a line per scenario as it
//! finishes and a summary table (here); JSON Lines with a `{"type","data"}`
//! envelope ([`jsonl`], `--report-json`, record types in `docs/scenarios.md`);
//! JUnit XML ([`junit`], `--junit`).

pub mod jsonl;
pub mod junit;

use std::fmt::Write as _;

use crate::runner::Outcome;

pub use jsonl::json_lines;
pub use junit::junit;

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
