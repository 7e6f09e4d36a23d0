//! Results as people and machines read them: a line per scenario as it
//! finishes and a summary table; JSON Lines with a `{"type","data"}` envelope
//! (`--report-json`, record types in `docs/scenarios.md`); JUnit XML (`--junit`).

use std::fmt::Write as _;

use serde_json::json;

use crate::runner::Outcome;

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
    let w = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(8).max(8);
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

fn scenario_record(o: &Outcome) -> serde_json::Value {
    json!({"type": "scenario", "data": {
        "name": o.name,
        "file": o.file,
        "seed": o.seed,
        "passed": o.passed,
        "seconds": (o.seconds * 1000.0).round() / 1000.0,
        "failures": o.failures,
        "verdicts": o.verdicts,
        "case_dir": o.case_dir,
    }})
}

/// JSON Lines: a `run` record, one `scenario` record each, a `summary` record.
pub fn json_lines(outcomes: &[Outcome], seed: u64, analyzer: Option<&str>, seconds: f64) -> String {
    let mut out = String::new();
    let run = json!({"type": "run", "data": {"seed": seed, "analyzer": analyzer, "scenarios": outcomes.len(), "version": env!("CARGO_PKG_VERSION")}});
    out.push_str(&run.to_string());
    out.push('\n');
    for o in outcomes {
        out.push_str(&scenario_record(o).to_string());
        out.push('\n');
    }
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let sum = json!({"type": "summary", "data": {"passed": passed, "failed": outcomes.len() - passed, "seconds": (seconds * 1000.0).round() / 1000.0}});
    out.push_str(&sum.to_string());
    out.push('\n');
    out
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one testcase per scenario, failures with expected vs got.
pub fn junit(outcomes: &[Outcome], seconds: f64) -> String {
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"replharness\" tests=\"{}\" failures=\"{failed}\" time=\"{seconds:.3}\">",
        outcomes.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"scenarios\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" time=\"{seconds:.3}\">",
        outcomes.len()
    );
    for o in outcomes {
        let _ = write!(
            s,
            "    <testcase name=\"{}\" classname=\"replharness.scenarios\" file=\"{}\" time=\"{:.3}\"",
            xml(&o.name),
            xml(&o.file),
            o.seconds
        );
        if o.passed {
            s.push_str("/>\n");
        } else {
            let first = o.failures.first().map(|f| f.lines().next().unwrap_or_default()).unwrap_or_default();
            let _ = writeln!(
                s,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                xml(first),
                xml(&o.failures.join("\n"))
            );
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
