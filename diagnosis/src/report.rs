//! The human report of a diagnosis.

use std::fmt::Write as _;

use crate::model::Report;

/// Verdicts, worst first, each with its evidence and numbered fix steps.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    for v in &report.verdicts {
        let subject: Vec<String> = v.subject.iter().map(|(k, val)| format!("{k}={val}")).collect();
        let _ = write!(out, "{} {}", v.severity.name().to_uppercase(), v.id);
        if !subject.is_empty() {
            let _ = write!(out, "  [{}]", subject.join(" "));
        }
        if let Some(c) = &v.cause {
            let _ = write!(out, "  cause: {c}");
        }
        out.push('\n');
        if let Some(def) = crate::catalog::def(&v.id) {
            let _ = writeln!(out, "  {}", def.when);
        }
        if !v.evidence.is_empty() {
            let _ = writeln!(out, "  evidence:");
            for e in &v.evidence {
                let _ = writeln!(out, "    {}:{}: {}", e.file, e.line, e.text);
            }
        }
        if !v.guidance.is_empty() {
            let _ = writeln!(out, "  what to do:");
            for (i, g) in v.guidance.iter().enumerate() {
                let _ = writeln!(out, "    {}. {g}", i + 1);
            }
        }
        out.push('\n');
    }
    let s = &report.input;
    if !s.is_clean() {
        let _ = writeln!(out, "input not understood:");
        for (f, n) in &s.unknown_lines {
            let _ = writeln!(out, "  {f}: {n} line(s) of unknown shape");
        }
        for (f, n) in &s.non_utf8_lines {
            let _ = writeln!(out, "  {f}: {n} line(s) with bytes that are not UTF-8");
        }
        for (f, why) in &s.unreadable {
            let _ = writeln!(out, "  {f}: unreadable: {why}");
        }
    }
    out
}
