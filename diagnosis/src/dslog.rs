//! DS `errors` and `replication` logs, every dialect: 2.x composed msgIDs,
//! 3.x+ ordinals, the dotted `org.opends.messages.core.135` form. Lines are
//! classified by category and message text, never by msgID alone; an event
//! logged in both files counts once.
//!
//! `[25/Aug/2017:10:27:23 +0000] category=SYNC severity=SEVERE_ERROR msgID=14942389 msg=…`

use std::collections::HashSet;

use time::format_description::FormatItem;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::case::{for_each_line, Case};
use crate::model::{Evidence, ReadStats};
use crate::textmatch::{captures, captures_loose};

/// What a line says, with the values the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// 204: the RS listens.
    Listening { rs: String, port: String },
    /// 205: this RS connected to `peer`.
    ConnectedToRs { rs: String, peer: String, domain: String, addr: String },
    /// 206: this RS accepted `peer`.
    AcceptedRs { rs: String, peer: String, domain: String, addr: String },
    /// 207: this RS accepted DS `ds`.
    AcceptedDs { rs: String, ds: String, domain: String },
    /// 62: the DS connected; 96 when `mismatch`.
    DsConnected { ds: String, rs: String, domain: String, mismatch: bool },
    /// 208, 17, 212, 119, 23: the DS could not connect.
    DsNoRs { ds: String, domain: String },
    /// 181 or 53 about an RS peer.
    RsLinkLost { rs: String, peer: String, domain: String, addr: String },
    /// 211, 180, 97, 63: a DS link ended.
    DsLinkLost { domain: String },
    /// 77, 146, 80, 81, 135, 136: generation ids differ.
    GenerationMismatch { reporter: String, other: String, domain: String, from_ds: bool },
    /// 6: the RS could not bind its port.
    CannotBind { port: String },
    /// 105: a TLS handshake from `from` (an address) failed; `error` says why.
    TlsFailed { from: String, error: String },
    /// CORE 135.
    Started,
    /// CORE 141 or 203.
    Stopping,
}

/// One classified line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// UTC.
    pub at: OffsetDateTime,
    pub kind: Kind,
    pub evidence: Evidence,
}

const STAMP: &[FormatItem<'static>] =
    time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second]");

/// Parses `[25/Aug/2017:10:27:23 +0000]` (fractions of a second allowed) to UTC.
pub fn parse_stamp(s: &str) -> Option<OffsetDateTime> {
    let (dt, zone) = s.rsplit_once(' ')?;
    let dt = dt.split('.').next()?;
    let local = PrimitiveDateTime::parse(dt, STAMP).ok()?;
    let (sign, digits) = zone.split_at(1);
    let sign = match sign {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    if digits.len() != 4 {
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

pub fn parse_line(line: &str) -> Option<Line<'_>> {
    let (stamp, rest) = split_stamp(line)?;
    let at = parse_stamp(stamp)?;
    header(at, rest)
}

/// `[STAMP] REST` → (STAMP, REST), without parsing the stamp.
fn split_stamp(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find(']')?;
    Some((&rest[..close], rest[close + 1..].trim_start()))
}

fn header(at: OffsetDateTime, rest: &str) -> Option<Line<'_>> {
    // The usual order, read without searching: category=… severity=… msgID=… msg=…
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

/// What a message text says (category SYNC, or CORE start and stop).
pub fn classify(category: &str, msg: &str) -> Option<Kind> {
    // Every message of interest starts with one of these: most lines of a
    // busy log are dismissed here, before any template is tried.
    const STARTS: &[&str] = &["Replication ", "The ", "Directory ", "Exception when reading"];
    if !STARTS.iter().any(|p| msg.starts_with(p)) {
        return None;
    }
    if msg.starts_with("The ")
        && !msg.starts_with("The connection from this replication server")
        && !msg.starts_with("The Directory Server ")
    {
        return None;
    }
    // "Replication server RS(x) …" and "Directory server DS(x) …": the words
    // after the id tell whether any template can match.
    if msg.starts_with("Replication server RS(") || msg.starts_with("Directory server DS(") {
        const NEXT: &[&str] = &[
            "started listening",
            "has connected",
            "has accepted",
            "was unable",
            "timed out",
            "encountered",
            "is closing",
            "at ",
            "ignoring update",
            "not sending update",
        ];
        // (105 starts "Replication server accepted", with no id: it passes below.)
        let after = msg.find(") ").map_or("", |i| &msg[i + 2..]);
        if !NEXT.iter().any(|n| after.starts_with(n)) {
            return None;
        }
    }
    let c = |t: &str| captures_loose(t, msg);
    if category == "CORE" || category.eq_ignore_ascii_case("PLUGGABLE") || msg.starts_with("The Directory Server ") {
        if msg.starts_with("The Directory Server has started successfully") {
            return Some(Kind::Started);
        }
        if msg.starts_with("The Directory Server has started the shutdown process")
            || msg.starts_with("The Directory Server is now stopped")
        {
            return Some(Kind::Stopping);
        }
    }
    // No replication template starts like a CORE message.
    if msg.starts_with("The Directory Server ") {
        return None;
    }
    let id = |s: &str| s.trim().to_owned();
    if let Some(v) = c("Replication server RS(%s) started listening for new connections on address %s port %s") {
        return Some(Kind::Listening { rs: id(v[0]), port: id(v[2]) });
    }
    if let Some(v) = c("Replication server RS(%s) has connected to replication server RS(%s) for domain \"%s\" at %s") {
        return Some(Kind::ConnectedToRs { rs: id(v[0]), peer: id(v[1]), domain: v[2].to_owned(), addr: id(v[3]) });
    }
    if let Some(v) =
        c("Replication server RS(%s) has accepted a connection from replication server RS(%s) for domain \"%s\" at %s")
    {
        return Some(Kind::AcceptedRs { rs: id(v[0]), peer: id(v[1]), domain: v[2].to_owned(), addr: id(v[3]) });
    }
    if let Some(v) =
        c("Replication server RS(%s) has accepted a connection from directory server DS(%s) for domain \"%s\" at %s")
    {
        return Some(Kind::AcceptedDs { rs: id(v[0]), ds: id(v[1]), domain: v[2].to_owned() });
    }
    if let Some(v) = c("Directory server DS(%s) has connected to replication server RS(%s) for domain \"%s\" at %s, but the generation IDs do not match%s") {
        return Some(Kind::DsConnected { ds: id(v[0]), rs: id(v[1]), domain: v[2].to_owned(), mismatch: true });
    }
    if let Some(v) = c("Directory server DS(%s) has connected to replication server RS(%s) for domain \"%s\" at %s with generation ID %s") {
        return Some(Kind::DsConnected { ds: id(v[0]), rs: id(v[1]), domain: v[2].to_owned(), mismatch: false });
    }
    for t in [
        "Directory server DS(%s) was unable to connect to any replication servers for domain \"%s\"",
        "Directory server DS(%s) was unable to connect to any of the following replication servers for domain \"%s\"%s",
    ] {
        if let Some(v) = c(t) {
            return Some(Kind::DsNoRs { ds: id(v[0]), domain: v[1].to_owned() });
        }
    }
    for t in [
        "Directory server DS(%s) was unable to connect to replication server %s for domain \"%s\"%s",
        "Directory server DS(%s) timed out while connecting to replication server %s for domain \"%s\"",
        "Directory server DS(%s) encountered an unexpected error while connecting to replication server %s for domain \"%s\"%s",
    ] {
        if let Some(v) = c(t) {
            return Some(Kind::DsNoRs { ds: id(v[0]), domain: v[2].to_owned() });
        }
    }
    if let Some(v) = c("The connection from this replication server RS(%s) to replication server RS(%s) at %s for domain \"%s\" has failed") {
        return Some(Kind::RsLinkLost { rs: id(v[0]), peer: id(v[1]), domain: v[3].to_owned(), addr: id(v[2]) });
    }
    if let Some(v) = c("The connection from this replication server RS(%s) to directory server DS(%s) at %s for domain \"%s\" has failed") {
        return Some(Kind::DsLinkLost { domain: v[3].to_owned() });
    }
    if let Some(rest) = msg.strip_prefix("Exception when reading messages from ") {
        // 53 names the handler: "Replication server RS(x) for domain "d" …".
        if let Some(at) = rest.find("RS(") {
            let peer = crate::textmatch::server_id(&rest[at..]).unwrap_or_default().to_owned();
            let domain = rest.split('"').nth(1).unwrap_or_default().to_owned();
            return Some(Kind::RsLinkLost { rs: String::new(), peer, domain, addr: String::new() });
        }
        return None;
    }
    for t in [
        "Directory server DS(%s) encountered an error while receiving changes for domain \"%s\" from replication server RS(%s) at %s%s",
        "Directory server DS(%s) is closing its connection to replication server RS(%s) at %s for domain \"%s\" because it could not detect a heart beat",
        "Replication server RS(%s) at %s has closed the connection to this directory server DS(%s). This directory server will now try to connect to another replication server in order to receive changes for the domain \"%s\"",
    ] {
        if let Some(v) = captures(t, msg) {
            let domain = if t.contains("receiving changes") { v[1] } else { v[3] };
            return Some(Kind::DsLinkLost { domain: domain.to_owned() });
        }
    }
    for (t, from_ds) in [
        ("Replication server RS(%s) at %s presented generation ID %s for domain \"%s\", but the generation ID of this replication server RS(%s) is %s. This usually%s", false),
        ("Directory server DS(%s) at %s presented generation ID %s for domain \"%s\", but the generation ID of this replication server RS(%s) is %s. This usually%s", true),
    ] {
        if let Some(v) = captures(t, msg) {
            return Some(Kind::GenerationMismatch { reporter: id(v[4]), other: id(v[0]), domain: v[3].to_owned(), from_ds });
        }
    }
    for (t, from_ds) in [
        ("Replication server RS(%s) ignoring update %s for domain \"%s\" from directory server DS(%s) at %s because its generation ID %s", true),
        ("Replication server RS(%s) not sending update %s for domain \"%s\" to directory server DS(%s) at %s because its generation ID %s", true),
        ("Replication server RS(%s) ignoring update %s for domain \"%s\" from replication server RS(%s) at %s because its generation ID %s", false),
        ("Replication server RS(%s) not sending update %s for domain \"%s\" to replication server RS(%s) at %s because its generation ID %s", false),
    ] {
        if let Some(v) = captures(t, msg) {
            return Some(Kind::GenerationMismatch { reporter: id(v[0]), other: id(v[3]), domain: v[2].to_owned(), from_ds });
        }
    }
    if let Some(v) = captures(
        "Replication server accepted a connection from %s to local address %s but the SSL handshake failed. %sThe error was: %s",
        msg,
    ) {
        return Some(Kind::TlsFailed { from: id(v[0]), error: v[3].trim().to_owned() });
    }
    if let Some(v) =
        captures("Replication Server failed to start : could not bind to the listen port : %s. Error : %s", msg)
    {
        return Some(Kind::CannotBind { port: id(v[0]) });
    }
    None
}

/// The events of one server's `errors` and `replication` logs, in time order,
/// each counted once.
pub fn read_server(case: &Case, server: &str, stats: &mut ReadStats) -> ServerLog {
    let mut events: Vec<Event> = Vec::new();
    let mut seen: HashSet<(i128, String)> = HashSet::new();
    let mut files = Vec::new();
    for file in ["errors", "replication"] {
        let rel = Case::rel(server, file);
        let present = for_each_line(case, &rel, stats, |n, line, stats| {
            if line.trim().is_empty() {
                return;
            }
            // The stamp is parsed only for lines whose text matters.
            let Some((stamp, rest)) = split_stamp(line) else {
                stats.unknown(&rel);
                return;
            };
            let Some(l) = header(OffsetDateTime::UNIX_EPOCH, rest) else {
                stats.unknown(&rel);
                return;
            };
            let Some(kind) = classify(l.category, l.msg) else { return };
            let Some(at) = parse_stamp(stamp) else {
                stats.unknown(&rel);
                return;
            };
            let l = Line { at, ..l };
            // SYNC errors and warnings land in both files: count the event once.
            if !seen.insert((l.at.unix_timestamp_nanos(), l.msg.to_owned())) {
                return;
            }
            events.push(Event {
                at: l.at,
                kind,
                evidence: Evidence { file: rel.clone(), line: n, text: line.to_owned() },
            });
        });
        if present {
            files.push(file);
        }
    }
    events.sort_by_key(|e| e.at);
    ServerLog {
        name: server.to_owned(),
        events,
        has_errors: files.contains(&"errors"),
        has_replication: files.contains(&"replication"),
    }
}

/// What one server's logs say.
#[derive(Debug, Clone)]
pub struct ServerLog {
    pub name: String,
    pub events: Vec<Event>,
    pub has_errors: bool,
    pub has_replication: bool,
}

impl ServerLog {
    pub fn has_logs(&self) -> bool {
        self.has_errors || self.has_replication
    }

    /// The RS id this server writes as its own, from its lines.
    pub fn own_rs_id(&self) -> Option<String> {
        self.events.iter().find_map(|e| match &e.kind {
            Kind::Listening { rs, .. }
            | Kind::ConnectedToRs { rs, .. }
            | Kind::AcceptedRs { rs, .. }
            | Kind::AcceptedDs { rs, .. } => Some(rs.clone()),
            Kind::RsLinkLost { rs, .. } if !rs.is_empty() => Some(rs.clone()),
            _ => None,
        })
    }

    /// The DS id this server writes as its own.
    pub fn own_ds_id(&self) -> Option<String> {
        self.events.iter().find_map(|e| match &e.kind {
            Kind::DsConnected { ds, .. } | Kind::DsNoRs { ds, .. } => Some(ds.clone()),
            _ => None,
        })
    }

    /// Stopped at the end: its last start or stop line is a stop.
    pub fn stopped_at_end(&self) -> bool {
        self.events
            .iter()
            .rev()
            .find_map(|e| match e.kind {
                Kind::Stopping => Some(true),
                Kind::Started | Kind::Listening { .. } => Some(false),
                _ => None,
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dialect_parses() {
        let l = parse_line("[25/Aug/2017:10:27:23 +0000] category=SYNC severity=SEVERE_ERROR msgID=14942389 msg=The connection from this replication server RS(1234) to replication server RS(5678) at for domain \"dc=example,dc=com\" has failed").expect("2.x");
        assert_eq!((l.category, l.severity, l.msg_id), ("SYNC", "SEVERE_ERROR", "14942389"));
        assert_eq!(
            classify(l.category, l.msg),
            Some(Kind::RsLinkLost {
                rs: "1234".into(),
                peer: "5678".into(),
                domain: "dc=example,dc=com".into(),
                addr: String::new()
            })
        );
        let l = parse_line("[21/Jun/2017:16:17:24 -0400] category=PLUGGABLE severity=NOTICE msgID=org.opends.messages.core.135 msg=The Directory Server has started successfully").expect("dotted");
        assert_eq!(l.msg_id, "org.opends.messages.core.135");
        assert_eq!(classify(l.category, l.msg), Some(Kind::Started));
        assert_eq!(l.at, time::macros::datetime!(2017-06-21 20:17:24 UTC), "zones are folded to UTC");
        assert!(parse_line("garbage").is_none());
        assert!(parse_line("[32/Foo/2017:99:99:99 +0000] category=SYNC msg=x").is_none());
    }

    #[test]
    fn seed_accept_lines_with_their_odd_msgids_classify_by_text() {
        let l = parse_line("[21/Jun/2017:16:17:56 -0400] category=SYNC severity=INFORMATION msgID=116 msg=Replication server RS(9012) has accepted a connection from replication server RS(1234) for domain \"dc=example,dc=com\" at").expect("line");
        assert_eq!(
            classify(l.category, l.msg),
            Some(Kind::AcceptedRs {
                rs: "9012".into(),
                peer: "1234".into(),
                domain: "dc=example,dc=com".into(),
                addr: String::new()
            })
        );
    }
}

#[cfg(test)]
mod tls_tests {
    use super::*;

    #[test]
    fn a_failed_tls_handshake_is_read() {
        let msg = "Replication server accepted a connection from /127.0.0.2:39134 to local address /127.0.0.1:35027 but the SSL handshake failed. This is probably benign, but may indicate a transient network outage or a misconfigured client application connecting to this replication server. The error was: certificate expired on 2026-10-18";
        assert_eq!(
            classify("SYNC", msg),
            Some(Kind::TlsFailed {
                from: "/127.0.0.2:39134".into(),
                error: "certificate expired on 2026-10-18".into()
            })
        );
    }
}
