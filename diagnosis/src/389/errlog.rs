//! A 389-DS `errors` log, read line by line (`slapd/log.c`):
//!
//! - the title block written whenever the log is opened: `\t389-Directory/2.3.1 B…`,
//!   `\tHOST:PORT (/etc/dirsrv/slapd-NAME)`, an empty line;
//! - `[22/Nov/2026:03:02:51.563286875 +0000] - LEVEL - SUBSYSTEM - TEXT` (1.3.6.1 on;
//!   LEVEL one of EMERG ALERT CRIT ERR WARN NOTICE INFO DEBUG; SUBSYSTEM may itself hold
//!   ` - `: `NSMMReplicationPlugin - changelog program`), or before 1.3.6.1
//!   `[…] SUBSYSTEM - TEXT` or `[…] TEXT`; TEXT usually starts with `function - `;
//! - lines that do not start with `[` continue the line before (multi-line messages);
//! - a message written without its newline has the next line glued on after it
//!   (`… not found.[22/Nov/2026:…] - ERR - …`): read as two.
//!
//! Every line in one of these shapes is read; only others are counted as unknown. The
//! timestamp's zone may carry the 2.3.1 bug (`+051800` for +05:30: seconds after the hours).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::case::{for_each_line, Case};
use crate::input::ReadStats;

/// One message of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// 1-based line number of its first line.
    pub line: u64,
    pub at: OffsetDateTime,
    /// `None` before 1.3.6.1.
    pub level: Option<String>,
    /// `NSMMReplicationPlugin`, `slapi_ldap_bind`, `main` …; empty when none.
    pub subsystem: String,
    /// The `function - ` prefix of the text, when there is one.
    pub function: Option<String>,
    /// The text after the function (continuation lines joined with `\n`).
    pub text: String,
    /// The line as written (its first physical line).
    pub raw: String,
}

const LEVELS: &[&str] = &["EMERG", "ALERT", "CRIT", "ERR", "WARN", "NOTICE", "INFO", "DEBUG"];
/// Subsystems that contain ` - ` (`repl_globals.c`).
const COMPOUND: &[&str] = &["NSMMReplicationPlugin - changelog program", "NSMMReplicationPlugin - windows sync"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `22/Nov/2026:03:02:51.563286875 +0000` (fraction optional; the zone as `±HHMM`, or
/// `±HHSSSS` as 2.3.1 prints a zone with minutes).
pub fn parse_stamp(s: &str) -> Option<OffsetDateTime> {
    let (dt, zone) = s.split_once(' ')?;
    let (date, clock) = dt.split_once(':')?;
    let mut d = date.split('/');
    let day: u8 = d.next()?.parse().ok()?;
    let mon = d.next()?;
    let year: i32 = d.next()?.parse().ok()?;
    let month = Month::try_from(u8::try_from(MONTHS.iter().position(|m| *m == mon)? + 1).ok()?).ok()?;
    let (hms, frac) = match clock.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (clock, None),
    };
    let mut t = hms.split(':');
    let h: u8 = t.next()?.parse().ok()?;
    let m: u8 = t.next()?.parse().ok()?;
    let sec: u8 = t.next()?.parse().ok()?;
    if t.next().is_some() {
        return None;
    }
    let nanos = match frac {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    let sign = match zone.as_bytes().first()? {
        b'+' => 1i32,
        b'-' => -1,
        _ => return None,
    };
    let digits = &zone[1..];
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs = match digits.len() {
        4 => digits[..2].parse::<i32>().ok()? * 3600 + digits[2..].parse::<i32>().ok()? * 60,
        6 => digits[..2].parse::<i32>().ok()? * 3600 + digits[2..].parse::<i32>().ok()?,
        _ => return None,
    };
    let offset = UtcOffset::from_whole_seconds(sign * secs).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms_nano(h, m, sec, nanos).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset).to_offset(UtcOffset::UTC))
}

/// A `function - ` prefix: an identifier, then ` - ` (or `  - `, as one function's lines have).
fn split_function(text: &str) -> (Option<String>, &str) {
    let end = text.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    if end == 0 {
        return (None, text);
    }
    let rest = &text[end..];
    for sep in [" - ", "  - "] {
        if let Some(r) = rest.strip_prefix(sep) {
            return (Some(text[..end].to_owned()), r);
        }
    }
    (None, text)
}

/// Where a glued-on line starts inside `text` (`…[22/Nov/2026:…] - LEVEL - `), if any.
fn glued_at(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find('[') {
        let at = from + i;
        if let Some(close) = text[at..].find("] ") {
            let stamp = &text[at + 1..at + close];
            if parse_stamp(stamp).is_some() && text[at + close + 2..].starts_with("- ") {
                return Some(at);
            }
        }
        from = at + 1;
    }
    None
}

/// Parses one physical line that starts with `[` (without glue); `None`: not a log line.
fn parse(line: u64, raw: &str) -> Option<LogLine> {
    let body = raw.strip_prefix('[')?;
    let close = body.find("] ").or_else(|| body.strip_suffix(']').map(|b| b.len()))?;
    let at = parse_stamp(&body[..close])?;
    let rest = body.get(close + 2..).unwrap_or("");
    let (level, rest) = match rest.strip_prefix("- ") {
        Some(r) => {
            let (lvl, after) = r.split_once(" - ").map_or((r, ""), |(a, b)| (a, b));
            if !LEVELS.contains(&lvl) {
                return None;
            }
            (Some(lvl.to_owned()), after)
        }
        None => (None, rest),
    };
    let (subsystem, msg) = match COMPOUND.iter().find(|c| rest.starts_with(&format!("{c} - "))) {
        Some(c) => (c.to_string(), &rest[c.len() + 3..]),
        None => match rest.split_once(" - ") {
            // Before 1.3.6.1 a line may be bare text (no subsystem): keep it whole.
            Some((s, m)) if level.is_some() || !s.contains(' ') => (s.to_owned(), m),
            _ => (String::new(), rest),
        },
    };
    let (function, text) = split_function(msg);
    Some(LogLine { line, at, level, subsystem, function, text: text.to_owned(), raw: raw.to_owned() })
}

/// Reads one line (with any glued-on lines) into `out`; false when it is not a log line.
fn push(line: u64, raw: &str, out: &mut Vec<LogLine>) -> bool {
    let first = match glued_at(raw.get(1..).unwrap_or("")) {
        Some(i) => {
            let split = i + 1;
            let Some(l) = parse(line, &raw[..split]) else { return false };
            out.push(l);
            return push(line, &raw[split..], out);
        }
        None => parse(line, raw),
    };
    match first {
        Some(l) => {
            out.push(l);
            true
        }
        None => false,
    }
}

/// The messages of one physical line (two or more when lines are glued); `None`
/// when it is not a log line.
pub fn parse_line(line: u64, raw: &str) -> Option<Vec<LogLine>> {
    let mut out = Vec::new();
    push(line, raw, &mut out).then_some(out)
}

/// Does the text look like a 389 errors log? (The title block, or a 389-shaped line.)
pub fn looks_like(first_lines: &[&str]) -> bool {
    first_lines.iter().any(|l| {
        l.starts_with("\t389-Directory/")
            || (l.starts_with('[')
                && parse(1, l).is_some_and(|p| p.level.is_some() || p.subsystem == "NSMMReplicationPlugin")
                && !l.contains("category="))
    })
}

/// Reads the first lines of a file to tell whether it is a 389 errors log.
pub fn sniff(path: &std::path::Path) -> bool {
    use std::io::{BufRead, Read};
    let Ok(f) = std::fs::File::open(path) else { return false };
    let mut head = String::new();
    let mut r = std::io::BufReader::new(f.take(8192));
    let mut lines = Vec::new();
    while lines.len() < 16 {
        head.clear();
        match r.read_line(&mut head) {
            Ok(0) | Err(_) => break,
            Ok(_) => lines.push(head.trim_end_matches(['\n', '\r']).to_owned()),
        }
    }
    looks_like(&lines.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Every message of `rel`; lines of no known shape are counted in `stats`.
pub fn read(case: &Case, rel: &str, stats: &mut ReadStats) -> Option<Vec<LogLine>> {
    let mut out: Vec<LogLine> = Vec::new();
    let mut in_title = false;
    let present = for_each_line(case, rel, stats, |n, line, stats| {
        if line.starts_with('[') && push(n, line, &mut out) {
            in_title = false;
            return;
        }
        if line.starts_with("\t389-Directory/") {
            in_title = true;
            return;
        }
        if in_title && (line.starts_with('\t') || line.is_empty()) {
            return;
        }
        if line.is_empty() {
            return;
        }
        match out.last_mut() {
            // A continuation of a multi-line message.
            Some(last) if !line.starts_with('[') => {
                last.text.push('\n');
                last.text.push_str(line);
            }
            _ => stats.unknown(rel),
        }
    });
    present.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_in_every_shape() {
        let t = parse_stamp("22/Nov/2026:03:02:51.563286875 +0000").expect("hr");
        assert_eq!((t.hour(), t.nanosecond()), (3, 563_286_875));
        assert_eq!(parse_stamp("22/Nov/2026:08:32:51.5 +051800").expect("2.3.1 zone bug").hour(), 3);
        assert_eq!(parse_stamp("22/Nov/2026:08:32:51 +0530").expect("minutes").hour(), 3);
        assert!(parse_stamp("22/Nov/2026:03:02:51 0000").is_none());
        assert!(parse_stamp("32/Nov/2026:03:02:51 +0000").is_none());
        assert!(parse_stamp("22/Foo/2026:03:02:51 +0000").is_none());
    }

    #[test]
    fn lines_split_into_level_subsystem_function_and_text() {
        let l = parse(1, "[22/Nov/2026:03:02:51.563286875 +0000] - WARN - NSMMReplicationPlugin - acquire_replica - agmt=\"cn=a-to-b\" (127:3892): Unable to receive").expect("2.x");
        assert_eq!(
            (l.level.as_deref(), l.subsystem.as_str(), l.function.as_deref()),
            (Some("WARN"), "NSMMReplicationPlugin", Some("acquire_replica"))
        );
        assert!(l.text.starts_with("agmt=\"cn=a-to-b\""));
        let b =
            parse(2, "[22/Nov/2026:03:02:54.567506061 +0000] - ERR - slapi_ldap_bind - Could not send bind request")
                .expect("bind");
        assert_eq!(
            (b.subsystem.as_str(), b.function, b.text.as_str()),
            ("slapi_ldap_bind", None, "Could not send bind request")
        );
        let c = parse(3, "[x] - NOTICE - NSMMReplicationPlugin - changelog program - _cl5ConstructRUV - Rebuilding");
        assert!(c.is_none(), "a bad stamp is no log line");
        let c = parse(3, "[01/Dec/2026:10:05:57.785747409 +0000] - NOTICE - NSMMReplicationPlugin - changelog program - _cl5ConstructRUV - Rebuilding").expect("compound");
        assert_eq!(
            (c.subsystem.as_str(), c.function.as_deref()),
            ("NSMMReplicationPlugin - changelog program", Some("_cl5ConstructRUV"))
        );
        let old = parse(4, "[22/Nov/2016:03:02:51 +0000] NSMMReplicationPlugin - agmt=\"cn=a-to-b\" (b:389): Unable to acquire replica").expect("1.3.5");
        assert_eq!((old.level, old.subsystem.as_str()), (None, "NSMMReplicationPlugin"));
        let bare = parse(5, "[22/Nov/2016:03:02:51 +0000] 389-Directory/1.3.5.19 B2017.1 starting up").expect("bare");
        assert_eq!(bare.subsystem, "");
        let w = parse(6, "[01/Dec/2026:10:05:54.591729552 +0000] - ERR - NSMMReplicationPlugin - repl5_inc_waitfor_async_results  - Timed out waiting for responses: 3 5").expect("two spaces");
        assert_eq!(w.function.as_deref(), Some("repl5_inc_waitfor_async_results"));
        assert!(parse(7, "[22/Nov/2026:03:02:51 +0000] - SEVERE - x - y").is_none(), "not a 389 level");
    }

    #[test]
    fn glued_lines_read_as_two() {
        let raw = "[22/Nov/2021:03:02:51.1 +0000] - ERR - NSMMReplicationPlugin - send_updates - Unknown replication area due to agreement not found.[22/Nov/2021:03:02:51.2 +0000] - ERR - NSMMReplicationPlugin - repl5_inc_run - agmt=\"cn=a\" (b:389): Incremental update failed and requires administrator action";
        let mut out = Vec::new();
        assert!(push(9, raw, &mut out));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].text, "Unknown replication area due to agreement not found.");
        assert_eq!(out[1].function.as_deref(), Some("repl5_inc_run"));
        assert_eq!(out[1].line, 9);
    }

    #[test]
    fn the_sniff_tells_389_from_ds() {
        assert!(looks_like(&["\t389-Directory/2.3.1 B2025.016.1616"]));
        assert!(looks_like(&["[22/Nov/2026:03:02:51.563286875 +0000] - INFO - main - starting up"]));
        assert!(!looks_like(&[
            "[25/Aug/2017:10:27:23 +0000] category=SYNC severity=SEVERE_ERROR msgID=14942389 msg=x"
        ]));
    }
}
