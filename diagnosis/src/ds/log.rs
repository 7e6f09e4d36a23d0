//! The DS text log line, every dialect: 2.x composed msgIDs, 3.x+ ordinals,
//! the dotted `org.opends.messages.core.135` form of OpenDJ 3.0.x, keys in
//! any order; time stamps in any zone, folded to UTC.
//!
//! `[25/Aug/2017:10:27:23 +0000] category=SYNC severity=SEVERE_ERROR msgID=14942389 msg=…`

use time::format_description::FormatItem;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const STAMP: &[FormatItem<'static>] =
    time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second]");

/// Parses `[25/Aug/2017:10:27:23 +0000]` (fractions of a second allowed) to UTC.
pub fn parse_stamp(s: &str) -> Option<OffsetDateTime> {
    let (dt, zone) = s.rsplit_once(' ')?;
    let dt = dt.split('.').next()?;
    let local = PrimitiveDateTime::parse(dt, STAMP).ok()?;
    let (sign, digits) = zone.split_at_checked(1)?;
    let sign = match sign {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i8 = digits[..2].parse().ok()?;
    let m: i8 = digits[2..].parse().ok()?;
    let off = UtcOffset::from_hms(sign * h, sign * m, 0).ok()?;
    Some(local.assume_offset(off).to_offset(UtcOffset::UTC))
}

/// The parts of a DS log line.
#[derive(Debug, PartialEq, Eq)]
pub struct Line<'a> {
    pub at: OffsetDateTime,
    pub category: &'a str,
    pub severity: &'a str,
    pub msg_id: &'a str,
    pub msg: &'a str,
}

/// A whole line, or `None` when it is not in the format's shape.
pub fn parse_line(line: &str) -> Option<Line<'_>> {
    let (stamp, rest) = split_stamp(line)?;
    let at = parse_stamp(stamp)?;
    header(at, rest)
}

/// `[STAMP] REST` → (STAMP, REST), without parsing the stamp.
pub fn split_stamp(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find(']')?;
    Some((&rest[..close], rest[close + 1..].trim_start()))
}

/// The `category=… severity=… msgID=… msg=…` part, stamped `at`.
pub fn header(at: OffsetDateTime, rest: &str) -> Option<Line<'_>> {
    // The usual order, read without searching.
    let fast = (|| {
        let r = rest.strip_prefix("category=")?;
        let (category, r) = r.split_once(' ')?;
        let r = r.strip_prefix("severity=")?;
        let (severity, r) = r.split_once(' ')?;
        let r = r.strip_prefix("msgID=")?;
        let (msg_id, r) = r.split_once(' ')?;
        let msg = r.strip_prefix("msg=")?;
        Some(Line { at, category, severity, msg_id, msg })
    })();
    if fast.is_some() {
        return fast;
    }
    header_any_order(at, rest)
}

fn header_any_order(at: OffsetDateTime, rest: &str) -> Option<Line<'_>> {
    let (head, msg) = match rest.find(" msg=") {
        Some(i) => (&rest[..i], &rest[i + 5..]),
        None => (rest.strip_suffix(" msg=").unwrap_or(rest), ""),
    };
    let mut category = "";
    let mut severity = "";
    let mut msg_id = "";
    for kv in head.split_whitespace() {
        match kv.split_once('=') {
            Some(("category", v)) => category = v,
            Some(("severity", v)) => severity = v,
            Some(("msgID", v)) | Some(("msgId", v)) => msg_id = v,
            _ => {}
        }
    }
    if category.is_empty() {
        return None;
    }
    Some(Line { at, category, severity, msg_id, msg })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dialect_parses() {
        let l = parse_line("[25/Aug/2017:10:27:23 +0000] category=SYNC severity=SEVERE_ERROR msgID=14942389 msg=The connection from this replication server RS(1234) to replication server RS(5678) at for domain \"dc=example,dc=com\" has failed").expect("2.x");
        assert_eq!((l.category, l.severity, l.msg_id), ("SYNC", "SEVERE_ERROR", "14942389"));
        let l = parse_line("[21/Jun/2017:16:17:24 -0400] category=PLUGGABLE severity=NOTICE msgID=org.opends.messages.core.135 msg=The Directory Server has started successfully").expect("dotted");
        assert_eq!(l.msg_id, "org.opends.messages.core.135");
        assert_eq!(l.at, time::macros::datetime!(2017-06-21 20:17:24 UTC), "zones are folded to UTC");
        let l = parse_line("[21/Jun/2017:16:17:24.123 +0200] msgID=1 severity=NOTICE category=CORE msg=x")
            .expect("any order");
        assert_eq!((l.category, l.msg, l.at.hour()), ("CORE", "x", 14));
        assert!(parse_line("garbage").is_none());
        assert!(parse_line("[32/Foo/2017:99:99:99 +0000] category=SYNC msg=x").is_none());
        assert!(parse_line("[25/Aug/2017:10:27:23 ] category=SYNC msg=x").is_none());
    }

    /// Found while moving this file (issue 9): `split_at(1)` and `digits[..2]`
    /// panicked on an empty zone and inside a character of one that is not ASCII.
    #[test]
    fn a_zone_that_is_not_ascii_is_refused_not_a_panic() {
        for zone in ["", "é000", "+0é0", "+é00", "-"] {
            assert_eq!(parse_stamp(&format!("25/Aug/2017:10:27:23 {zone}")), None, "{zone}");
        }
    }
}
