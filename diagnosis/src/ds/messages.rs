//! What a DS log message says: its text against the OpenDJ catalog's
//! templates (`replication.properties`, `core.properties`, verbatim), never
//! its numeric msgID (the seed article's accept lines carry msgIDs no catalog
//! has). One table, [`MESSAGES`]: a message the engine learns is one row.
//!
//! Every row's kind is read by a rule (`ds/`); a template must not hold two
//! placeholders side by side (`%s%s`: no text tells where one ends), which a
//! unit test checks, and the `tests` crate renders every message of the
//! harness catalog in every dialect through this table (`tests/roundtrip.rs`).

use crate::textmatch::{captures_loose, server_id};

/// What a line says, with the values the rules need. Ids are as the line
/// writes them (`1234`, `ds-1`).
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
    /// 208, 23, 17, 212, 119: the DS could not connect; `rs` names the
    /// replication servers the line names (URLs for 17, 212 and 119, the
    /// server ids of those that answered its first handshake for 23).
    DsNoRs { ds: String, domain: String, rs: Vec<String>, why: NoRs },
    /// 181 or 53 about an RS peer (`rs` empty when the line does not say).
    RsLinkLost { rs: String, peer: String, domain: String, addr: String },
    /// A DS-RS link ended: 211 and 53 on the RS, 180, 97 and 63 on the DS
    /// (`on_ds`); `rs` is empty when the line does not say.
    DsLinkLost { ds: String, rs: String, domain: String, on_ds: bool },
    /// 178 (a DS), 179 (an RS): a connection from `initiator` broke during
    /// its handshake. Logged by the accepting RS (`by_initiator` false: both
    /// are server ids) or, for 179, by the initiating RS itself
    /// (`by_initiator`: `initiator` is its own id, `acceptor` the address it
    /// dialled).
    HandshakeAborted { initiator: String, acceptor: String, from_ds: bool, by_initiator: bool },
    /// 300, 86: a connection to the replication port closed before it spoke
    /// replication; `from` is its address where the line names one (300).
    BadConnection { from: String },
    /// 145: the accepting RS could not take its domain lock for `peer`'s
    /// connection (a simultaneous cross connection).
    CrossConnectTimeout { rs: String, peer: String, domain: String, addr: String },
    /// 157: a message of the wrong type in a handshake.
    BadMessageType { received: String, required: String },
    /// 54: two DSs with the same server id connected to one RS (`rs` is its
    /// monitor name, `Replication Server PORT ID`).
    DuplicateServerId { rs: String, id: String, domain: String },
    /// 131: the RS saw a DS change its status (`Bad generation id`, `Full update` …).
    DsStatus { ds: String, domain: String, status: String },
    /// 77, 79, 146, 135, 136, 80, 81: generation ids differ.
    GenerationMismatch { reporter: String, other: String, domain: String, from_ds: bool },
    /// 6: the RS could not bind its port.
    CannotBind { port: String },
    /// 105: a TLS handshake from `from` (an address) failed; `error` is JSSE's text.
    TlsFailed { from: String, error: String },
    /// CORE 134, 135, and the alert notice 139 that carries 135.
    Started,
    /// CORE 141, 203, and the alert notice 139 that carries 141.
    Stopping,
}

/// Why a DS had no RS, as its line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRs {
    /// 208: no RS answered its first handshake.
    NoneAnswered,
    /// 23: the RSs named answered, the final connection failed.
    FinalFailed,
    /// 17: connection refused (`ConnectException`).
    Refused,
    /// 212: the connection timed out.
    TimedOut,
    /// 119: another exception, as the line prints it.
    Error(String),
}

/// Makes a [`Kind`] of a template's captures (`None`: not this message after all).
type Read = fn(&[&str]) -> Option<Kind>;

fn id(s: &str) -> String {
    s.trim().to_owned()
}

/// Every message read, by template, most specific first where two share a
/// beginning. `%s` stands for any placeholder (`%d` included).
pub const MESSAGES: &[(&str, Read)] = &[
    ("Replication server RS(%s) started listening for new connections on address %s port %s", |v| {
        Some(Kind::Listening { rs: id(v[0]), port: id(v[2]) })
    }),
    ("Replication server RS(%s) has connected to replication server RS(%s) for domain \"%s\" at %s", |v| {
        Some(Kind::ConnectedToRs { rs: id(v[0]), peer: id(v[1]), domain: v[2].to_owned(), addr: id(v[3]) })
    }),
    ("Replication server RS(%s) has accepted a connection from replication server RS(%s) for domain \"%s\" at %s", |v| {
        Some(Kind::AcceptedRs { rs: id(v[0]), peer: id(v[1]), domain: v[2].to_owned(), addr: id(v[3]) })
    }),
    ("Replication server RS(%s) has accepted a connection from directory server DS(%s) for domain \"%s\" at %s", |v| {
        Some(Kind::AcceptedDs { rs: id(v[0]), ds: id(v[1]), domain: v[2].to_owned() })
    }),
    ("Directory server DS(%s) has connected to replication server RS(%s) for domain \"%s\" at %s, but the generation IDs do not match%s", |v| {
        Some(Kind::DsConnected { ds: id(v[0]), rs: id(v[1]), domain: v[2].to_owned(), mismatch: true })
    }),
    ("Directory server DS(%s) has connected to replication server RS(%s) for domain \"%s\" at %s with generation ID %s", |v| {
        Some(Kind::DsConnected { ds: id(v[0]), rs: id(v[1]), domain: v[2].to_owned(), mismatch: false })
    }),
    ("Directory server DS(%s) was unable to connect to any replication servers for domain \"%s\"", |v| {
        Some(Kind::DsNoRs { ds: id(v[0]), domain: v[1].to_owned(), rs: Vec::new(), why: NoRs::NoneAnswered })
    }),
    ("Directory server DS(%s) was unable to connect to any of the following replication servers for domain \"%s\": %s", |v| {
        let rs = v[2].split(',').map(id).filter(|x| !x.is_empty()).collect();
        Some(Kind::DsNoRs { ds: id(v[0]), domain: v[1].to_owned(), rs, why: NoRs::FinalFailed })
    }),
    ("Directory server DS(%s) was unable to connect to replication server %s for domain \"%s\". Please check that there is a replication server listening at this address", |v| {
        Some(Kind::DsNoRs { ds: id(v[0]), domain: v[2].to_owned(), rs: vec![id(v[1])], why: NoRs::Refused })
    }),
    ("Directory server DS(%s) timed out while connecting to replication server %s for domain \"%s\"", |v| {
        Some(Kind::DsNoRs { ds: id(v[0]), domain: v[2].to_owned(), rs: vec![id(v[1])], why: NoRs::TimedOut })
    }),
    ("Directory server DS(%s) encountered an unexpected error while connecting to replication server %s for domain \"%s\": %s", |v| {
        let why = NoRs::Error(v[3].trim().to_owned());
        Some(Kind::DsNoRs { ds: id(v[0]), domain: v[2].to_owned(), rs: vec![id(v[1])], why })
    }),
    ("The connection from this replication server RS(%s) to replication server RS(%s) at %s for domain \"%s\" has failed", |v| {
        Some(Kind::RsLinkLost { rs: id(v[0]), peer: id(v[1]), domain: v[3].to_owned(), addr: id(v[2]) })
    }),
    ("The connection from this replication server RS(%s) to directory server DS(%s) at %s for domain \"%s\" has failed", |v| {
        Some(Kind::DsLinkLost { ds: id(v[1]), rs: id(v[0]), domain: v[3].to_owned(), on_ds: false })
    }),
    // 53: 3.0 on, with the exception's one-line trace; 2.x names the handler only.
    ("Exception when reading messages from %s: %s", |v| reader_exception(v[0])),
    ("Exception when reading messages from %s", |v| reader_exception(v[0])),
    // 180: the template ends in prose; until issue 9 it ended in "%s%s" and never matched.
    ("Directory server DS(%s) encountered an error while receiving changes for domain \"%s\" from replication server RS(%s) at %s. The connection will be closed, and this directory server will now try to connect to another replication server", |v| {
        Some(Kind::DsLinkLost { ds: id(v[0]), rs: id(v[2]), domain: v[1].to_owned(), on_ds: true })
    }),
    ("Directory server DS(%s) is closing its connection to replication server RS(%s) at %s for domain \"%s\" because it could not detect a heart beat", |v| {
        Some(Kind::DsLinkLost { ds: id(v[0]), rs: id(v[1]), domain: v[3].to_owned(), on_ds: true })
    }),
    ("Replication server RS(%s) at %s has closed the connection to this directory server DS(%s). This directory server will now try to connect to another replication server in order to receive changes for the domain \"%s\"", |v| {
        Some(Kind::DsLinkLost { ds: id(v[2]), rs: id(v[0]), domain: v[3].to_owned(), on_ds: true })
    }),
    ("Directory server %s was attempting to connect to replication server %s but has disconnected in handshake phase", |v| {
        Some(Kind::HandshakeAborted { initiator: bare_id(v[0]), acceptor: bare_id(v[1]), from_ds: true, by_initiator: false })
    }),
    // The initiator writes (its own id, the peer's address); the acceptor (the peer's id, its own).
    ("Replication server %s was attempting to connect to replication server %s but has disconnected in handshake phase", |v| {
        let by_initiator = is_address(v[1]);
        let acceptor = if by_initiator { id(v[1]) } else { bare_id(v[1]) };
        Some(Kind::HandshakeAborted { initiator: bare_id(v[0]), acceptor, from_ds: false, by_initiator })
    }),
    ("Timed out while trying to acquire the domain lock for domain \"%s\". The connection attempt from replication server RS(%s) at %s to this replication server RS(%s) will be aborted. %s", |v| {
        Some(Kind::CrossConnectTimeout { rs: id(v[3]), peer: id(v[1]), domain: v[0].to_owned(), addr: id(v[2]) })
    }),
    ("Replication protocol error. Bad message type. %s received, %s required", |v| {
        Some(Kind::BadMessageType { received: id(v[0]), required: id(v[1]) })
    }),
    ("In Replication server %s: servers %s and %s have the same ServerId : %s", |v| {
        let domain = v[2].split('"').nth(1).unwrap_or_default().to_owned();
        Some(Kind::DuplicateServerId { rs: id(v[0]), id: id(v[3]), domain })
    }),
    ("Directory server DS(%s) for domain \"%s\" has changed its status to %s", |v| {
        Some(Kind::DsStatus { ds: id(v[0]), domain: v[1].to_owned(), status: id(v[2]) })
    }),
    ("New replication connection from %s started with unexpected message %s and is being closed", |v| {
        Some(Kind::BadConnection { from: id(v[0]) })
    }),
    ("Replication server caught exception while listening for client connections %s", |v| {
        // The exception's text names the peer only where the writer put it ("… from ADDR").
        let from = v[0].rsplit_once("from ").map_or("", |(_, a)| a.trim_end_matches(')'));
        Some(Kind::BadConnection { from: id(from) })
    }),
    ("Replication server RS(%s) at %s presented generation ID %s for domain \"%s\", but the generation ID of this replication server RS(%s) is %s. This usually%s", |v| {
        Some(Kind::GenerationMismatch { reporter: id(v[4]), other: id(v[0]), domain: v[3].to_owned(), from_ds: false })
    }),
    ("Directory server DS(%s) at %s presented generation ID %s for domain \"%s\", but the generation ID of this replication server RS(%s) is %s. This usually%s", |v| {
        Some(Kind::GenerationMismatch { reporter: id(v[4]), other: id(v[0]), domain: v[3].to_owned(), from_ds: true })
    }),
    ("Replication server RS(%s) ignoring update %s for domain \"%s\" from directory server DS(%s) at %s because its generation ID %s", |v| {
        Some(Kind::GenerationMismatch { reporter: id(v[0]), other: id(v[3]), domain: v[2].to_owned(), from_ds: true })
    }),
    ("Replication server RS(%s) not sending update %s for domain \"%s\" to directory server DS(%s) at %s because its generation ID %s", |v| {
        Some(Kind::GenerationMismatch { reporter: id(v[0]), other: id(v[3]), domain: v[2].to_owned(), from_ds: true })
    }),
    ("Replication server RS(%s) ignoring update %s for domain \"%s\" from replication server RS(%s) at %s because its generation ID %s", |v| {
        Some(Kind::GenerationMismatch { reporter: id(v[0]), other: id(v[3]), domain: v[2].to_owned(), from_ds: false })
    }),
    ("Replication server RS(%s) not sending update %s for domain \"%s\" to replication server RS(%s) at %s because its generation ID %s", |v| {
        Some(Kind::GenerationMismatch { reporter: id(v[0]), other: id(v[3]), domain: v[2].to_owned(), from_ds: false })
    }),
    // 79: the peer's ErrorMsg, whose text is its own 77.
    ("The following error has been received : %s", |v| match classify(v[0]) {
        Some(k @ Kind::GenerationMismatch { .. }) => Some(k),
        _ => None,
    }),
    ("Replication server accepted a connection from %s to local address %s but the SSL handshake failed. %sThe error was: %s", |v| {
        Some(Kind::TlsFailed { from: id(v[0]), error: v[3].trim().to_owned() })
    }),
    ("Replication Server failed to start : could not bind to the listen port : %s. Error : %s", |v| {
        Some(Kind::CannotBind { port: id(v[0]) })
    }),
    ("%s (build %s, revision number %s) starting up", |_| Some(Kind::Started)),
    ("%s (build %s, R%s) starting up", |_| Some(Kind::Started)),
    ("The Directory Server has started successfully", |_| Some(Kind::Started)),
    // 139 carrying 135 or 141 (2.x puts two spaces before the carried text).
    ("The Directory Server has sent an alert notification generated by class %s (alert type %s, alert ID %s): %s", |v| {
        match v[1].trim() {
            "org.opends.server.DirectoryServerStarted" => Some(Kind::Started),
            "org.opends.server.DirectoryServerShutdown" => Some(Kind::Stopping),
            _ => None,
        }
    }),
    ("The Directory Server has started the shutdown process. %s", |_| Some(Kind::Stopping)),
    ("The Directory Server is now stopped", |_| Some(Kind::Stopping)),
];

/// 53 names the handler by its `toString()`: `Replication server RS(x) for
/// domain "d"` or `Replica DS(x) for domain "d"` (the harness before issue 12
/// added ` at ADDR` and wrote `Directory server DS(x)`: still read).
fn reader_exception(who: &str) -> Option<Kind> {
    let domain = who.split('"').nth(1).unwrap_or_default().to_owned();
    let addr = who.rsplit_once("\" at ").map_or("", |(_, a)| a.trim());
    if let Some(at) = who.find("RS(") {
        let peer = server_id(&who[at..]).unwrap_or_default().to_owned();
        return Some(Kind::RsLinkLost { rs: String::new(), peer, domain, addr: addr.to_owned() });
    }
    let at = who.find("DS(")?;
    let ds = server_id(&who[at..]).unwrap_or_default().to_owned();
    Some(Kind::DsLinkLost { ds, rs: String::new(), domain, on_ds: false })
}

/// `host/1.2.3.4:8989`, `1.2.3.4:8989`, `[::1]:8989`: an address, not a server id.
fn is_address(s: &str) -> bool {
    let s = s.trim();
    s.contains('/')
        || s.rsplit_once(':').is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

/// `1234`, or `RS(1234)` / `DS(ds-1)` where a writer wrapped the id.
fn bare_id(s: &str) -> String {
    let s = s.trim();
    match s.find('(') {
        Some(_) if s.ends_with(')') => server_id(s).unwrap_or(s).to_owned(),
        _ => s.to_owned(),
    }
}

/// Every message of interest starts with one of these: most lines of a busy
/// log are dismissed here, before any template is tried.
const STARTS: &[&str] = &[
    "Replication ",
    "The ",
    "Directory ",
    "Exception when reading",
    "New replication connection",
    "Timed out while trying to acquire the domain lock",
    "In Replication server ",
];

/// After `Replication server RS(x) ` or `Directory server DS(x) `, what a
/// template can go on with (the status and monitoring notices of a busy log
/// go on otherwise).
const AFTER_ID: &[&str] = &[
    "started listening",
    "has connected",
    "has accepted",
    "was unable",
    "was attempting",
    "timed out",
    "encountered",
    "is closing",
    "at ",
    "ignoring update",
    "not sending update",
    "for domain",
];

/// Worth trying the templates at all? (A unit test checks every template passes.)
fn may_match(msg: &str) -> bool {
    if !STARTS.iter().any(|p| msg.starts_with(p)) {
        // 134 begins with the product's name.
        return msg.ends_with(") starting up") && msg.contains(" (build ");
    }
    if let Some(core) = msg.strip_prefix("The Directory Server ") {
        // Alert notices (139) are frequent: only the start and shutdown ones are read.
        return ["has started successfully", "has started the shutdown process", "is now stopped"]
            .iter()
            .any(|p| core.starts_with(p))
            || core.starts_with(
                "has sent an alert notification generated by class org.opends.server.core.DirectoryServer (alert type org.opends.server.DirectoryServerS",
            );
    }
    if msg.starts_with("The ")
        && !msg.starts_with("The connection from this replication server")
        && !msg.starts_with("The following error has been received : ")
    {
        return false;
    }
    if msg.starts_with("Replication server RS(") || msg.starts_with("Directory server DS(") {
        let after = msg.find(") ").map_or("", |i| &msg[i + 2..]);
        return AFTER_ID.iter().any(|n| after.starts_with(n));
    }
    true
}

/// What a message text says (SYNC, or CORE start and stop), or `None`.
pub fn classify(msg: &str) -> Option<Kind> {
    if !may_match(msg) {
        return None;
    }
    MESSAGES.iter().find_map(|(template, read)| captures_loose(template, msg).and_then(|v| read(&v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template with every placeholder filled (53's first one names a handler).
    /// The template with every placeholder filled (53's first one names a
    /// handler, 79 carries a 77, 139 a start).
    fn filled(template: &str) -> String {
        let t77 = MESSAGES
            .iter()
            .map(|(t, _)| *t)
            .find(|t| t.starts_with("Replication server RS(%s) at %s presented"))
            .expect("77");
        template
            .replacen("from %s", "from Replication server RS(x1) for domain \"x1\"", 1)
            .replacen("received : %s", &format!("received : {t77}"), 1)
            .replacen("(alert type %s", "(alert type org.opends.server.DirectoryServerStarted", 1)
            .replacen("generated by class %s", "generated by class org.opends.server.core.DirectoryServer", 1)
            .replace("%s", "x1")
    }

    #[test]
    fn no_template_holds_two_placeholders_side_by_side() {
        for (t, _) in MESSAGES {
            assert!(!t.contains("%s%s"), "{t}: no text tells where one capture ends");
        }
    }

    #[test]
    fn every_template_passes_the_quick_check_and_reads_back() {
        for (t, _) in MESSAGES {
            let text = filled(t);
            assert!(may_match(&text), "the quick check dismisses {t}");
            assert!(classify(&text).is_some(), "{t} does not read its own text");
        }
    }

    /// Regression (issue 9, dead pattern): 180's template ended in `%s%s`
    /// and never matched, so a DS that lost its RS went unseen.
    #[test]
    fn dead_pattern_180_is_read() {
        let msg = "Directory server DS(ds-1) encountered an error while receiving changes for domain \"dc=example,dc=com\" from replication server RS(ds-1) at ds-1.example.com/127.0.0.1:8989. The connection will be closed, and this directory server will now try to connect to another replication server";
        assert_eq!(
            classify(msg),
            Some(Kind::DsLinkLost {
                ds: "ds-1".into(),
                rs: "ds-1".into(),
                domain: "dc=example,dc=com".into(),
                on_ds: true
            })
        );
    }

    #[test]
    fn a_readers_exception_names_an_rs_or_a_ds() {
        let rs = "Exception when reading messages from Replication server RS(ds-2) for domain \"dc=x\" at ds-2.example.com/127.0.0.2:8989: connection reset";
        assert_eq!(
            classify(rs),
            Some(Kind::RsLinkLost {
                rs: String::new(),
                peer: "ds-2".into(),
                domain: "dc=x".into(),
                addr: "ds-2.example.com/127.0.0.2:8989".into()
            })
        );
        let ds = "Exception when reading messages from Directory server DS(7) for domain \"dc=x\" at /127.0.0.1:4242: closed";
        assert_eq!(
            classify(ds),
            Some(Kind::DsLinkLost { ds: "7".into(), rs: String::new(), domain: "dc=x".into(), on_ds: false })
        );
        assert_eq!(classify("Exception when reading messages from somewhere: closed"), None);
    }

    #[test]
    fn the_seed_articles_lines_with_redacted_addresses() {
        let lost = "The connection from this replication server RS(1234) to replication server RS(5678) at for domain \"dc=example,dc=com\" has failed";
        assert_eq!(
            classify(lost),
            Some(Kind::RsLinkLost {
                rs: "1234".into(),
                peer: "5678".into(),
                domain: "dc=example,dc=com".into(),
                addr: String::new()
            })
        );
        let accept = "Replication server RS(9012) has accepted a connection from replication server RS(1234) for domain \"dc=example,dc=com\" at";
        assert_eq!(
            classify(accept),
            Some(Kind::AcceptedRs {
                rs: "9012".into(),
                peer: "1234".into(),
                domain: "dc=example,dc=com".into(),
                addr: String::new()
            })
        );
    }

    #[test]
    fn a_failed_tls_handshake_is_read() {
        let msg = "Replication server accepted a connection from /127.0.0.2:39134 to local address /127.0.0.1:35027 but the SSL handshake failed. This is probably benign, but may indicate a transient network outage or a misconfigured client application connecting to this replication server. The error was: certificate expired on 2026-10-18";
        assert_eq!(
            classify(msg),
            Some(Kind::TlsFailed {
                from: "/127.0.0.2:39134".into(),
                error: "certificate expired on 2026-10-18".into()
            })
        );
    }

    #[test]
    fn a_status_change_is_read() {
        let msg =
            "Directory server DS(ds-1) for domain \"dc=example,dc=com\" has changed its status to Bad generation id";
        assert_eq!(
            classify(msg),
            Some(Kind::DsStatus {
                ds: "ds-1".into(),
                domain: "dc=example,dc=com".into(),
                status: "Bad generation id".into()
            })
        );
    }

    #[test]
    fn busy_log_notices_are_dismissed() {
        for msg in [
            "The database backend userRoot containing 200002 entries has started",
            "The Directory Server has sent an alert notification generated by class org.opends.server.replication.plugin.LDAPReplicationDomain (alert type org.opends.server.replication.UnresolvedConflict, alert ID org.opends.messages.replication-1): x",
            "Replication server RS(1) is monitoring",
        ] {
            assert_eq!(classify(msg), None, "{msg}");
        }
    }
}
