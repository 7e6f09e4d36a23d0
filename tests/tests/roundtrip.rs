//! Producer/reader round trip: every message of the harness's DS catalog,
//! in every dialect (2.x, 3.0's dotted msgIDs, 4.x on), written by the
//! harness's own log book (the line format and file placement a mock server
//! writes), is read by the diagnosis as the kind of event it is: never
//! unknown, never dropped, captures intact.
//!
//! The test that would have caught the dead template of message 180 (it
//! ended in `%s%s` and never matched). A message added to the harness
//! catalog fails here until it gets plausible arguments and its expected
//! kind below; the 389 and Exchange families add their lines the same way.

use std::fmt::Display;

use diagnosis::ds::log::parse_line;
use diagnosis::ds::messages::NoRs;
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

/// The dialects and id styles the harness writes: 2.x, 3.0 and 4.x to 6.x
/// (numbers), 7.x (strings).
const VARIANTS: &[(Dialect, Ids)] = &[
    (Dialect::Legacy, Ids { me: "1234", other: "5678" }),
    (Dialect::Dotted, Ids { me: "1234", other: "5678" }),
    (Dialect::Modern, Ids { me: "1234", other: "5678" }),
    (Dialect::Modern, Ids { me: "ds-1", other: "ds-2" }),
];

fn s(x: &str) -> String {
    x.to_owned()
}

/// Plausible arguments for `def` (in the harness's own shapes) and the kind
/// the diagnosis must read from the line (`None`: a line of the format that
/// says nothing a rule reads, as a raw message's text); more than one case
/// where the harness writes one message two ways.
fn cases(def: &MsgDef, ids: Ids, dialect: Dialect) -> Vec<(Vec<String>, Option<Kind>)> {
    let (me, other) = (s(ids.me), s(ids.other));
    let peer_addr = s("ds-2.example.com/127.0.0.2:8989");
    let from_addr = s("ds-2.example.com/127.0.0.2:40123");
    let host_port = s("127.0.0.2:40123");
    let url = s("ds-2.example.com:8989");
    let rs_handler = format!("Replication server RS({other}) for domain \"{D}\"");
    let ds_handler = format!("Replica DS({other}) for domain \"{D}\"");
    let trace = s("IOException: no more data (Session.java:441 Session.java:403 ServerReader.java:86)");
    let some = |k: Kind| Some(k);
    match def.key {
        "NOTE_REPLICATION_SERVER_LISTENING" => {
            vec![(vec![me.clone(), s("127.0.0.1"), s("8989")], some(Kind::Listening { rs: me, port: s("8989") }))]
        }
        "INFO_REPLICATION_SERVER_CONNECTION_TO_RS" => vec![(
            vec![me.clone(), other.clone(), s(D), peer_addr.clone()],
            some(Kind::ConnectedToRs { rs: me, peer: other, domain: s(D), addr: peer_addr }),
        )],
        "INFO_REPLICATION_SERVER_CONNECTION_FROM_RS" => vec![(
            vec![me.clone(), other.clone(), s(D), from_addr.clone()],
            some(Kind::AcceptedRs { rs: me, peer: other, domain: s(D), addr: from_addr }),
        )],
        "INFO_REPLICATION_SERVER_CONNECTION_FROM_DS" => vec![(
            vec![me.clone(), other.clone(), s(D), from_addr],
            some(Kind::AcceptedDs { rs: me, ds: other, domain: s(D) }),
        )],
        "NOTE_NOW_FOUND_SAME_GENERATION_CHANGELOG" => vec![(
            vec![me.clone(), other.clone(), s(D), host_port, s("48217")],
            some(Kind::DsConnected { ds: me, rs: other, domain: s(D), mismatch: false }),
        )],
        "WARN_NOW_FOUND_BAD_GENERATION_CHANGELOG" => vec![(
            vec![me.clone(), other.clone(), s(D), peer_addr, s("48217"), s("55555")],
            some(Kind::DsConnected { ds: me, rs: other, domain: s(D), mismatch: true }),
        )],
        "WARN_NO_AVAILABLE_CHANGELOGS" => vec![(
            vec![me.clone(), s(D)],
            some(Kind::DsNoRs { ds: me, domain: s(D), rs: vec![], why: NoRs::NoneAnswered }),
        )],
        "WARN_COULD_NOT_FIND_CHANGELOG" => vec![(
            vec![me.clone(), s(D), format!("{other}, {me}")],
            some(Kind::DsNoRs { ds: me.clone(), domain: s(D), rs: vec![other, me], why: NoRs::FinalFailed }),
        )],
        "WARN_NO_CHANGELOG_SERVER_LISTENING" => vec![(
            vec![me.clone(), url.clone(), s(D)],
            some(Kind::DsNoRs { ds: me, domain: s(D), rs: vec![url], why: NoRs::Refused }),
        )],
        "WARN_TIMEOUT_CONNECTING_TO_RS" => vec![(
            vec![me.clone(), url.clone(), s(D)],
            some(Kind::DsNoRs { ds: me, domain: s(D), rs: vec![url], why: NoRs::TimedOut }),
        )],
        "WARN_EXCEPTION_STARTING_SESSION_PHASE" => {
            let ex = s("SSLHandshakeException: Received fatal alert: certificate_unknown (ReplSessionSecurity.java:185 ReplicationBroker.java:1083 ReplicationBroker.java:797)");
            vec![(
                vec![me.clone(), url.clone(), s(D), ex.clone()],
                some(Kind::DsNoRs { ds: me, domain: s(D), rs: vec![url], why: NoRs::Error(ex) }),
            )]
        }
        "WARN_REPLICATION_SERVER_PROPERLY_DISCONNECTED" => vec![(
            vec![other.clone(), peer_addr, me.clone(), s(D)],
            some(Kind::DsLinkLost { ds: me, rs: other, domain: s(D), on_ds: true }),
        )],
        "WARN_REPLICATION_SERVER_BADLY_DISCONNECTED" => vec![(
            vec![me.clone(), s(D), other.clone(), host_port],
            some(Kind::DsLinkLost { ds: me, rs: other, domain: s(D), on_ds: true }),
        )],
        "WARN_HEARTBEAT_FAILURE" => vec![(
            vec![me.clone(), other.clone(), peer_addr, s(D)],
            some(Kind::DsLinkLost { ds: me, rs: other, domain: s(D), on_ds: true }),
        )],
        "ERR_RS_BADLY_DISCONNECTED" => vec![
            (
                vec![me.clone(), other.clone(), peer_addr.clone(), s(D)],
                some(Kind::RsLinkLost { rs: me.clone(), peer: other.clone(), domain: s(D), addr: peer_addr }),
            ),
            // The seed article's redacted address.
            (
                vec![me.clone(), other.clone(), s(""), s(D)],
                some(Kind::RsLinkLost { rs: me, peer: other, domain: s(D), addr: s("") }),
            ),
        ],
        "ERR_DS_BADLY_DISCONNECTED" => vec![(
            vec![me.clone(), other.clone(), from_addr, s(D)],
            some(Kind::DsLinkLost { ds: other, rs: me, domain: s(D), on_ds: false }),
        )],
        "ERR_DS_DISCONNECTED_DURING_HANDSHAKE" => vec![(
            vec![other.clone(), me.clone()],
            some(Kind::HandshakeAborted { initiator: other, acceptor: me, from_ds: true, by_initiator: false }),
        )],
        "ERR_RS_DISCONNECTED_DURING_HANDSHAKE" => vec![
            // The acceptor's: (the initiator's id, its own).
            (
                vec![other.clone(), me.clone()],
                some(Kind::HandshakeAborted {
                    initiator: other,
                    acceptor: me.clone(),
                    from_ds: false,
                    by_initiator: false,
                }),
            ),
            // The initiator's: (its own id, the address it dialled).
            (
                vec![me.clone(), peer_addr.clone()],
                some(Kind::HandshakeAborted { initiator: me, acceptor: peer_addr, from_ds: false, by_initiator: true }),
            ),
        ],
        "ERR_REPLICATION_PROTOCOL_MESSAGE_TYPE" => {
            let got = s("org.opends.server.replication.protocol.HeartbeatMsg");
            vec![(
                vec![got.clone(), s("ReplServerStartMsg")],
                some(Kind::BadMessageType { received: got, required: s("ReplServerStartMsg") }),
            )]
        }
        "WARN_TIMEOUT_WHEN_CROSS_CONNECTION" => vec![(
            vec![s(D), other.clone(), from_addr.clone(), me.clone()],
            some(Kind::CrossConnectTimeout { rs: me, peer: other, domain: s(D), addr: from_addr }),
        )],
        "ERR_DUPLICATE_SERVER_ID" => {
            let rs = format!("Replication Server 8989 {me}");
            vec![(
                vec![rs.clone(), ds_handler.clone(), ds_handler, other.clone()],
                some(Kind::DuplicateServerId { rs, id: other, domain: s(D) }),
            )]
        }
        "WARN_BAD_GENERATION_ID_FROM_RS" => vec![(
            vec![other.clone(), from_addr, s("55555"), s(D), me.clone(), s("48217")],
            some(Kind::GenerationMismatch { reporter: me, other, domain: s(D), from_ds: false }),
        )],
        "ERR_ERROR_MSG_RECEIVED" => {
            // The peer's own 77, about this server.
            let text = catalog::BAD_GENERATION_ID_FROM_RS
                .fill(dialect, &[&me, &from_addr, &"48217", &D, &other, &"55555"]);
            vec![(vec![text], some(Kind::GenerationMismatch { reporter: other, other: me, domain: s(D), from_ds: false }))]
        }
        "WARN_BAD_GENERATION_ID_FROM_DS" => vec![(
            vec![other.clone(), from_addr, s("55555"), s(D), me.clone(), s("48217")],
            some(Kind::GenerationMismatch { reporter: me, other, domain: s(D), from_ds: true }),
        )],
        "WARN_IGNORING_UPDATE_FROM_DS_BADGENID" | "WARN_IGNORING_UPDATE_TO_DS_BADGENID" => vec![(
            vec![me.clone(), s("0000018f00000001000a"), s(D), other.clone(), from_addr, s("55555"), s("48217")],
            some(Kind::GenerationMismatch { reporter: me, other, domain: s(D), from_ds: true }),
        )],
        "WARN_IGNORING_UPDATE_FROM_RS" | "WARN_IGNORING_UPDATE_TO_RS" => vec![(
            vec![me.clone(), s("0000018f00000001000a"), s(D), other.clone(), peer_addr, s("55555"), s("48217")],
            some(Kind::GenerationMismatch { reporter: me, other, domain: s(D), from_ds: false }),
        )],
        "NOTE_DIRECTORY_SERVER_CHANGED_STATUS" => vec![(
            vec![other.clone(), s(D), s("Bad generation id")],
            some(Kind::DsStatus { ds: other, domain: s(D), status: s("Bad generation id") }),
        )],
        "INFO_SSL_SERVER_CON_ATTEMPT_ERROR" => {
            let jsse = s("PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed");
            vec![(
                vec![from_addr.clone(), s("/127.0.0.1:8989"), jsse.clone()],
                some(Kind::TlsFailed { from: from_addr, error: jsse }),
            )]
        }
        // 86 carries only the exception's message: no address.
        "ERR_EXCEPTION_LISTENING" => vec![
            (vec![s("no more data")], some(Kind::BadConnection { from: s("") })),
            (vec![s("For input string: \"GET / HT\"")], some(Kind::BadConnection { from: s("") })),
        ],
        "NOTE_READER_EXCEPTION" => vec![
            (
                vec![rs_handler, trace.clone()],
                some(Kind::RsLinkLost { rs: s(""), peer: other.clone(), domain: s(D), addr: s("") }),
            ),
            (vec![ds_handler, trace], some(Kind::DsLinkLost { ds: other, rs: s(""), domain: s(D), on_ds: false })),
        ],
        "ERR_REPLICATION_UNEXPECTED_MESSAGE" => {
            vec![(vec![host_port.clone(), s("HeartbeatMsg")], some(Kind::BadConnection { from: host_port }))]
        }
        // A raw message's text is whatever the exception said: nothing to key on.
        "RAW_ERROR" => vec![(vec![s("Connection reset")], None)],
        "ERR_COULD_NOT_BIND_CHANGELOG" => {
            vec![(vec![s("8989"), s("Address already in use")], some(Kind::CannotBind { port: s("8989") }))]
        }
        "NOTE_DIRECTORY_SERVER_STARTING" => {
            vec![(vec![s("OpenDJ 4.0.1"), s("20180216184824"), s("ae848be258db")], some(Kind::Started))]
        }
        "NOTE_DIRECTORY_SERVER_STARTED" => vec![(vec![], some(Kind::Started))],
        "NOTE_SENT_ALERT_NOTIFICATION" => {
            let class = s("org.opends.server.core.DirectoryServer");
            let started = catalog::DIRECTORY_SERVER_STARTED.fill(dialect, &[]);
            let stopping = catalog::SERVER_SHUTDOWN
                .fill(dialect, &[&"org.opends.server.core.DirectoryServerShutdownHook", &"the reason"]);
            vec![
                (
                    vec![class.clone(), s("org.opends.server.DirectoryServerStarted"), s("458887"), started],
                    some(Kind::Started),
                ),
                (
                    vec![class, s("org.opends.server.DirectoryServerShutdown"), s("org.opends.messages.core-141"), stopping],
                    some(Kind::Stopping),
                ),
            ]
        }
        "NOTE_SERVER_SHUTDOWN" => vec![(
            vec![s("org.opends.server.core.DirectoryServerShutdownHook"), s("The Directory Server is shutting down")],
            some(Kind::Stopping),
        )],
        "NOTE_SERVER_STOPPED" => vec![(vec![], some(Kind::Stopping))],
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

#[test]
fn every_harness_message_in_every_dialect_is_read_as_its_kind() {
    let mut failures = Vec::new();
    let mut read = 0;
    let mut covered = std::collections::BTreeSet::new();
    let mut dialects = std::collections::BTreeSet::new();
    for &(dialect, ids) in VARIANTS {
        for def in catalog::ALL {
            for (args, want) in cases(def, ids, dialect) {
                let lines = written(dialect, def, &args);
                if def.render(dialect, &[]).is_none() {
                    assert!(lines.is_empty(), "{} is not in the {dialect:?} catalog but was written", def.key);
                    continue;
                }
                assert!(!lines.is_empty(), "{} ({dialect:?}) landed in no file", def.key);
                covered.insert(def.key);
                dialects.insert(format!("{dialect:?}"));
                for line in lines {
                    read += 1;
                    let got = parse_line(&line).map(|l| classify(l.msg));
                    match got {
                        Some(got) if got == want => {}
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
    assert_eq!(dialects.len(), Dialect::ALL.len(), "every dialect was written");
}

/// The same lines as files of a case folder: the case reader counts none of
/// them unknown, and every line of each file is recognised.
#[test]
fn a_case_folder_of_every_message_reads_without_an_unknown_line() {
    for (i, &(dialect, ids)) in VARIANTS.iter().enumerate() {
        let clock = VirtualClock::starting_now(1.0);
        let utc = clock.now().offset();
        let log = LogBook::new(dialect, clock, utc);
        // Lines of the format that no rule reads (raw messages) are read, not recognised.
        let mut unread = std::collections::BTreeMap::<&str, u64>::new();
        for def in catalog::ALL {
            for (args, want) in cases(def, ids, dialect) {
                let args: Vec<&dyn Display> = args.iter().map(|a| a as &dyn Display).collect();
                let before = (log.errors_lines().len(), log.replication_lines().len());
                log.emit(def, &args);
                if want.is_none() {
                    *unread.entry("errors").or_default() += (log.errors_lines().len() - before.0) as u64;
                    *unread.entry("replication").or_default() += (log.replication_lines().len() - before.1) as u64;
                }
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
        for (name, file) in [("errors", "servers/ds-1/errors"), ("replication", "servers/ds-1/replication")] {
            let f = r.input.read.get(file).copied().unwrap_or_default();
            assert!(f.lines > 0, "variant {i}: {file} is empty");
            let expected = f.lines - unread.get(name).copied().unwrap_or(0);
            assert_eq!(f.recognised, expected, "variant {i} ({dialect:?}): {file} has lines no rule reads");
        }
    }
}
