//! The human report of a diagnosis, and the message for a case in which
//! nothing was recognised.

use std::fmt::Write as _;

use crate::model::Report;

/// Verdicts, worst first, each with its evidence and numbered fix steps;
/// then what the readers could not use.
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
    if report.verdicts.is_empty() {
        let _ = writeln!(
            out,
            "no verdict: the case shows neither an accepted connection (health) nor a failure the catalog names\n"
        );
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
        for (f, n) in &s.long_lines {
            let _ = writeln!(out, "  {f}: {n} line(s) longer than 1 MiB, cut there");
        }
        for (f, why) in &s.unreadable {
            let _ = writeln!(out, "  {f}: unreadable: {why}");
        }
        for f in &s.not_read {
            let _ = writeln!(out, "  {f}: not read (no reader for this file)");
        }
    }
    out
}

/// For a report of which [`Report::recognised_nothing`] holds: every file of
/// the case and what became of it, one a line, ready to print after
/// "nothing recognised".
pub fn nothing_recognised(report: &Report) -> String {
    let s = &report.input;
    let mut out = String::new();
    for (f, r) in &s.read {
        let mut why = Vec::new();
        let count = |m: &std::collections::BTreeMap<String, u64>| m.get(f).copied().unwrap_or(0);
        for (n, what) in [
            (count(&s.unknown_lines), "of unknown shape"),
            (count(&s.non_utf8_lines), "not UTF-8"),
            (count(&s.long_lines), "longer than 1 MiB"),
        ] {
            if n > 0 {
                why.push(format!("{n} {what}"));
            }
        }
        let why = if why.is_empty() { String::new() } else { format!(" ({})", why.join(", ")) };
        let _ = writeln!(out, "  {f}: {} line(s), none recognised{why}", r.lines);
    }
    for (f, why) in &s.unreadable {
        let _ = writeln!(out, "  {f}: unreadable: {why}");
    }
    for f in &s.not_read {
        let _ = writeln!(out, "  {f}: not read (no reader for this file)");
    }
    if out.is_empty() {
        out.push_str("  (the case holds no file)\n");
    }
    out
}
