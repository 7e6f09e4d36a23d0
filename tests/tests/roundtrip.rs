//! Producer/reader round trip: every message of the harness's DS catalog,
//! in every dialect, written by the harness's own log book (the line format
//! and file placement a mock server writes), is read by the diagnosis as the
//! kind of event it is: never unknown, never dropped, captures intact.
//!
//! The test that would have caught the dead template of message 180 (it
//! ended in `%s%s` and never matched). A message added to the harness
//! catalog fails here until it gets plausible arguments and its expected
//! kind below; the 389 and Exchange families add their lines the same way.

use std::fmt::Display;

use diagnosis::ds::log::parse_line;
use diagnosis::ds::{classify, Kind};
use harness::catalog::{self, Dialect, MsgDef};
use harness::ds::log::LogBook;
use harness::VirtualClock;

const D: &str = "dc=example,dc=com";

/// How a version writes server ids: whole numbers to DS 6.x, strings from DS 7.
#[derive(Clone, Copy)]
struct Ids {
    /// This server's id.
    me: &'static str,
    /// The other server's.
    other: &'static str,
}

/// The dialects and id styles the harness writes: 2.x (numbers), 3.x to
/// 6.x (numbers), 7.x (strings).
const VARIANTS: &[(Dialect, Ids)] = &[
    (Dialect::Legacy, Ids { me: "1234", other: "5678" }),
    (Dialect::Modern, Ids { me: "1234", other: "5678" }),
    (Dialect::Modern, Ids { me: "ds-1", other: "ds-2" }),
];

fn s(x: &str) -> String {
    x.to_owned()
}

/// Plausible arguments for `def` (in the harness's own shapes) and the kind
/// the diagnosis must read from the line; more than one case where the
/// harness writes one message two ways.
fn cases(def: &MsgDef, ids: Ids) -> Vec<(Vec<String>, Kind)> {
    let (me, other) = (s(ids.me), s(ids.other));
    let peer_addr = s("ds-2.example.com/127.0.0.2:8989");
    let from_addr = s("/127.0.0.2:40123");
    match def.key {
        "NOTE_REPLICATION_SERVER_LISTENING" => {
            vec![(vec![me.clone(), s("127.0.0.1"), s("8989")], Kind::Listening { rs: me, port: s("8989") })]
        }
        "INFO_REPLICATION_SERVER_CONNECTION_TO_RS" => vec![(
            vec![me.clone(), other.clone(), s(D), peer_addr.clone()],
            Kind::ConnectedToRs { rs: me, peer: other, domain: s(D), addr: peer_addr },
        )],
        "INFO_REPLICATION_SERVER_CONNECTION_FROM_RS" => vec![(
            vec![me.clone(), other.clone(), s(D), from_addr.clone()],
            Kind::AcceptedRs { rs: me, peer: other, domain: s(D), addr: from_addr },
        )],
        "INFO_REPLICATION_SERVER_CONNECTION_FROM_DS" => vec![(
            vec![me.clone(), other.clone(), s(D), from_addr],
            Kind::AcceptedDs { rs: me, ds: other, domain: s(D) },
        )],
        "NOTE_NOW_FOUND_SAME_GENERATION_CHANGELOG" => vec![(
            vec![me.clone(), other.clone(), s(D), peer_addr, s("48217")],
            Kind::DsConnected { ds: me, rs: other, domain: s(D), mismatch: false },
        )],
        "WARN_NOW_FOUND_BAD_GENERATION_CHANGELOG" => vec![(
            vec![me.clone(), other.clone(), s(D), peer_addr, s("48217"), s("55555")],
            Kind::DsConnected { ds: me, rs: other, domain: s(D), mismatch: true },
        )],
        "WARN_NO_AVAILABLE_CHANGELOGS" => {
            vec![(vec![me.clone(), s(D)], Kind::DsNoRs { ds: me, domain: s(D) })]
        }
        "WARN_REPLICATION_SERVER_PROPERLY_DISCONNECTED" => vec![(
            vec![other.clone(), peer_addr, me.clone(), s(D)],
            Kind::DsLinkLost { ds: me, rs: other, domain: s(D), on_ds: true },
        )],
        "WARN_REPLICATION_SERVER_BADLY_DISCONNECTED" => vec![(
            vec![me.clone(), s(D), other.clone(), peer_addr],
            Kind::DsLinkLost { ds: me, rs: other, domain: s(D), on_ds: true },
        )],
        "WARN_HEARTBEAT_FAILURE" => vec![(
            vec![me.clone(), other.clone(), peer_addr, s(D)],
            Kind::DsLinkLost { ds: me, rs: other, domain: s(D), on_ds: true },
        )],
        "ERR_RS_BADLY_DISCONNECTED" => vec![
            (
                vec![me.clone(), other.clone(), peer_addr.clone(), s(D)],
                Kind::RsLinkLost { rs: me.clone(), peer: other.clone(), domain: s(D), addr: peer_addr },
            ),
            // The seed article's redacted address.
            (
                vec![me.clone(), other.clone(), s(""), s(D)],
                Kind::RsLinkLost { rs: me, peer: other, domain: s(D), addr: s("") },
            ),
        ],
        "ERR_DS_BADLY_DISCONNECTED" => vec![(
            vec![me.clone(), other.clone(), from_addr, s(D)],
            Kind::DsLinkLost { ds: other, rs: me, domain: s(D), on_ds: false },
        )],
        "ERR_DS_DISCONNECTED_DURING_HANDSHAKE" => vec![(
            vec![other.clone(), me.clone()],
            Kind::HandshakeAborted { initiator: other, acceptor: me, from_ds: true },
        )],
        "ERR_RS_DISCONNECTED_DURING_HANDSHAKE" => vec![(
            vec![other.clone(), me.clone()],
            Kind::HandshakeAborted { initiator: other, acceptor: me, from_ds: false },
        )],
        "WARN_BAD_GENERATION_ID_FROM_RS" => vec![(
            vec![other.clone(), from_addr, s("55555"), s(D), me.clone(), s("48217")],
            Kind::GenerationMismatch { reporter: me, other, domain: s(D), from_ds: false },
        )],
        "WARN_BAD_GENERATION_ID_FROM_DS" => vec![(
            vec![other.clone(), from_addr, s("55555"), s(D), me.clone(), s("48217")],
            Kind::GenerationMismatch { reporter: me, other, domain: s(D), from_ds: true },
        )],
        "WARN_IGNORING_UPDATE_FROM_DS_BADGENID" => vec![(
            vec![me.clone(), s("0000018f00000001000a"), s(D), other.clone(), from_addr, s("55555"), s("48217")],
            Kind::GenerationMismatch { reporter: me, other, domain: s(D), from_ds: true },
        )],
        "INFO_SSL_SERVER_CON_ATTEMPT_ERROR" => vec![(
            vec![from_addr.clone(), s("/127.0.0.1:8989"), s("certificate expired on 2026-10-18")],
            Kind::TlsFailed { from: from_addr, error: s("certificate expired on 2026-10-18") },
        )],
        "ERR_EXCEPTION_LISTENING" => vec![
            (
                vec![format!("(unexpected message Heartbeat from {from_addr})")],
                Kind::BadConnection { from: from_addr.clone() },
            ),
            (vec![format!("frame too long (from {from_addr})")], Kind::BadConnection { from: from_addr }),
        ],
        "NOTE_READER_EXCEPTION" => vec![
            (
                vec![format!("Replication server RS({other}) for domain \"{D}\" at {peer_addr}"), s("connection reset")],
                Kind::RsLinkLost { rs: s(""), peer: other.clone(), domain: s(D), addr: peer_addr },
            ),
            (
                vec![format!("Directory server DS({other}) for domain \"{D}\" at {from_addr}"), s("closed")],
                Kind::DsLinkLost { ds: other, rs: s(""), domain: s(D), on_ds: false },
            ),
        ],
        "ERR_REPLICATION_UNEXPECTED_MESSAGE" => {
            vec![(vec![from_addr.clone(), s("Heartbeat")], Kind::BadConnection { from: from_addr })]
        }
        "ERR_COULD_NOT_BIND_CHANGELOG" => {
            vec![(vec![s("8989"), s("Address already in use")], Kind::CannotBind { port: s("8989") })]
        }
        "NOTE_DIRECTORY_SERVER_STARTED" => vec![(vec![], Kind::Started)],
        "NOTE_SERVER_SHUTDOWN" => vec![(
            vec![s("org.opends.server.core.DirectoryServer"), s("The Directory Server is shutting down")],
            Kind::Stopping,
        )],
        "NOTE_SERVER_STOPPED" => vec![(vec![], Kind::Stopping)],
        other => panic!(
            "harness catalog message {other} ({}) has no round-trip case: give it plausible arguments and the kind the diagnosis must read",
            def.ordinal
        ),
    }
}

/// The lines the harness writes for one message, in whichever files it lands.
fn written(dialect: Dialect, def: &MsgDef, args: &[String]) -> Vec<String> {
    let clock = VirtualClock::starting_now(1.0);
    let utc = clock.now().offset();
    let log = LogBook::new(dialect, clock, utc);
    let args: Vec<&dyn Display> = args.iter().map(|a| a as &dyn Display).collect();
    log.emit(def, &args);
    let mut lines = log.errors_lines();
    lines.extend(log.replication_lines());
    lines
}

/// OpenDJ 3.0.x printed the dotted msgID (`org.opends.messages.replication.181`).
fn dotted(line: &str, def: &MsgDef) -> String {
    let family = if line.contains("category=CORE") { "core" } else { "replication" };
    line.replacen(
        &format!("msgID={} ", def.ordinal),
        &format!("msgID=org.opends.messages.{family}.{} ", def.ordinal),
        1,
    )
}

#[test]
fn every_harness_message_in_every_dialect_is_read_as_its_kind() {
    let mut failures = Vec::new();
    let mut read = 0;
    let mut covered = std::collections::BTreeSet::new();
    for &(dialect, ids) in VARIANTS {
        for def in catalog::ALL {
            for (args, want) in cases(def, ids) {
                let lines = written(dialect, def, &args);
                if def.render(dialect, &[]).is_none() {
                    assert!(lines.is_empty(), "{} is not in the {dialect:?} catalog but was written", def.key);
                    continue;
                }
                assert!(!lines.is_empty(), "{} ({dialect:?}) landed in no file", def.key);
                covered.insert(def.key);
                let mut forms: Vec<String> = lines.clone();
                if dialect == Dialect::Modern {
                    forms.extend(lines.iter().map(|l| dotted(l, def)));
                }
                for line in forms {
                    read += 1;
                    let got = parse_line(&line).map(|l| classify(l.msg));
                    match got {
                        Some(Some(kind)) if kind == want => {}
                        Some(got) => failures.push(format!(
                            "{} ({dialect:?}, ids {}):\n    line: {line}\n    want: {want:?}\n    got:  {got:?}",
                            def.key, ids.me
                        )),
                        None => failures.push(format!("{} ({dialect:?}): not in the log format: {line}", def.key)),
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {read} lines misread:\n{}", failures.len(), failures.join("\n"));
    let all: std::collections::BTreeSet<&str> = catalog::ALL.iter().map(|d| d.key).collect();
    assert_eq!(covered, all, "every catalog message was written in some dialect and read");
}

/// The same lines as files of a case folder: the case reader counts none of
/// them unknown, and every line of each file is recognised.
#[test]
fn a_case_folder_of_every_message_reads_without_an_unknown_line() {
    for (i, &(dialect, ids)) in VARIANTS.iter().enumerate() {
        let clock = VirtualClock::starting_now(1.0);
        let utc = clock.now().offset();
        let log = LogBook::new(dialect, clock, utc);
        for def in catalog::ALL {
            for (args, _) in cases(def, ids) {
                let args: Vec<&dyn Display> = args.iter().map(|a| a as &dyn Display).collect();
                log.emit(def, &args);
            }
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let server = dir.path().join("servers/ds-1");
        std::fs::create_dir_all(&server).expect("mkdir");
        for (file, lines) in [("errors", log.errors_lines()), ("replication", log.replication_lines())] {
            std::fs::write(server.join(file), lines.join("\n") + "\n").expect("write");
        }
        let r = diagnosis::diagnose(dir.path(), &diagnosis::Options::default()).expect("diagnose");
        assert!(r.input.is_clean(), "variant {i} ({dialect:?}): {:?}", r.input);
        for file in ["servers/ds-1/errors", "servers/ds-1/replication"] {
            let f = r.input.read.get(file).copied().unwrap_or_default();
            assert!(f.lines > 0, "variant {i}: {file} is empty");
            assert_eq!(f.recognised, f.lines, "variant {i} ({dialect:?}): {file} has lines no rule reads");
        }
    }
}
