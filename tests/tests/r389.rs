//! 389 Directory Server, producer and reader together (issue 10):
//!
//! - every errors-log message of the harness's 389 catalog, written by its own
//!   errors log in the 2.x shape and in the shape before 1.3.6.1, is read by
//!   the diagnosis as the message it is (kind, agreement), never unknown;
//! - every status report the mock makes ([`status::REPORTS`]), in every
//!   status shape (2.3.1 with its JSON twin, 1.4.0, 1.3.5.14, 1.3.5.10), with
//!   each LDAP result it is made with, maps to its verdict;
//! - case folders made of the strings two real 2.3.1 servers wrote
//!   (`/work/shared/reference/real-389ds.md`, copied verbatim) give their
//!   verdicts, with the errors log alone too, no other family's verdict and
//!   no unknown line;
//! - a case folder the running mock wrote has no unknown line either.

use std::path::Path;
use std::time::Duration;

use diagnosis::r389::errlog::{self, LogLine};
use diagnosis::r389::messages::{classify, Kind};
use diagnosis::{Options, Report};
use harness::ds389::catalog::{self, LogMsg};
use harness::ds389::errlog::ErrorsLog;
use harness::ds389::extop::code;
use harness::ds389::status::{self, AgmtStatus, Report as StatusReport};
use harness::ds389::{Lab389, Lab389Spec, Version389};
use harness::VirtualClock;

const TAG: &str = "agmt=\"cn=a-to-b\" (b:389)";
const ROOT: &str = "dc=example,dc=com";
const BIND: &str = "cn=replication manager,cn=config";

fn v(text: &str) -> Version389 {
    Version389::parse(text).expect("a version")
}

fn s(x: &str) -> String {
    x.to_owned()
}

/// Arguments for `m` as the mock passes them, and what the diagnosis must
/// read: the kind, and whether the line names the agreement.
fn case(m: &LogMsg) -> (Vec<String>, Kind, bool) {
    let t = s(TAG);
    let other = |args: Vec<String>| (args, Kind::Other, false);
    let tagged = |args: Vec<String>, k: Kind| (args, k, true);
    match m.key {
        "FIPS_OFF"
        | "SHUTDOWN_CT_THREADS"
        | "SHUTDOWN_PLUGINS"
        | "BDB_STOPPED"
        | "BACKENDS_DESTROYED"
        | "SLAPD_STOPPED"
        | "DISABLED_ENABLE_IT" => other(vec![]),
        "STARTING_UP" => other(vec![s("389-Directory/2.3.1"), s("B2025.016.1616")]),
        "FD_LIMIT" => other(vec![s("20000")]),
        "PBKDF2_ROUNDS" => other(vec![s("2048")]),
        "AUTOTUNE_PHYSICAL" | "AUTOTUNE_AVAILABLE" | "AUTOTUNE_DB_CACHE" => other(vec![s("24576000")]),
        "AUTOTUNE_ENTRY_CACHE" | "AUTOTUNE_DN_CACHE" => other(vec![s("1"), s("1"), s("4096000")]),
        "AUTOTUNE_TOTAL" => other(vec![s("5767168000")]),
        "CONNTABLE_SIZE" => other(vec![s("19936")]),
        "SLAPD_STARTED" => other(vec![s("All Interfaces"), s("3891")]),
        "LDAPI_LISTENING" => other(vec![s("/run/slapd-a.socket")]),
        "SHUTDOWN_SIGNAL_OPS" => other(vec![s("1"), s("1"), s("1")]),
        "SHUTDOWN_WAIT_THREADS" => other(vec![s("1 thread")]),
        "BDB_WAITING" => other(vec![s("4")]),
        "SHUTDOWN_FREED" => other(vec![s("1"), s("1")]),
        "KEEPALIVE_NEEDED" => other(vec![s("1"), s(ROOT)]),
        "KEEPALIVE_ADD" => other(vec![s("1"), s(ROOT), s("1")]),
        "ACQ_SEND_FAILED" | "ACQ_NO_RESPONSE" => tagged(
            vec![t, s("Can't contact LDAP server")],
            Kind::NoStartResponse { text: s("Can't contact LDAP server") },
        ),
        "ACQ_INTERNAL_ERROR" => tagged(vec![t], Kind::RemoteInternalError),
        "ACQ_PERMISSION_DENIED" => tagged(vec![t, s(BIND)], Kind::PermissionDenied),
        "ACQ_NO_SUCH_REPLICA" => tagged(vec![t, s(ROOT)], Kind::NoReplicatedArea),
        "ACQ_CLOCK_SKEW" => tagged(vec![t], Kind::ConsumerClockSkew),
        "ACQ_DECODING_ERROR" | "ACQ_PARSE_FAILED" => tagged(vec![t], Kind::DecodeError),
        // A total update's busy consumer: the incremental protocol's busy status says it.
        "ACQ_BUSY_TOTAL" => tagged(vec![t], Kind::Other),
        "ACQ_DUPLICATE_RID" => tagged(vec![t], Kind::DuplicateReplicaId),
        "ACQ_BACKOFF" => tagged(vec![t], Kind::Backoff),
        "ACQ_LEGACY" => tagged(vec![t], Kind::LegacySupplier),
        "ACQ_NO_CSN" => tagged(vec![t], Kind::NoCurrentCsn),
        "DISABLED_ABORTED" => tagged(vec![t], Kind::ReplicaDisabled),
        "BIND_RESUMED" => tagged(vec![t, s("SIMPLE")], Kind::BindResumed),
        "BIND_FAILED" => {
            tagged(vec![t, s("SIMPLE"), s("49"), s("Invalid credentials"), s("")], Kind::BindFailed { rc: 49 })
        }
        "LDAP_BIND_SEND_FAILED" => (
            vec![
                s(BIND),
                s("SIMPLE"),
                s("-1"),
                s("Can't contact LDAP server"),
                s("-5950"),
                s("File not found."),
                s("107"),
                s("Transport endpoint is not connected"),
                s("127.0.0.1:4892"),
            ],
            Kind::ConnectFailed { errno: 107, host: s("127.0.0.1:4892") },
            false,
        ),
        "LDAP_BIND_TIMEOUT" => (vec![s("10"), s("0"), s(BIND), s("SIMPLE")], Kind::BindTimeout, false),
        "LDAP_BIND_READ_FAILED" => {
            (vec![s(BIND), s("SIMPLE"), s("-1"), s("Can't contact LDAP server")], Kind::BindReadFailed, false)
        }
        "LDAP_BIND_REFUSED" => {
            (vec![s(BIND), s("SIMPLE"), s("49"), s("Invalid credentials")], Kind::BindRefused { rc: 49 }, false)
        }
        "PERFORM_OP_FAILED" => {
            tagged(vec![t, s("extended"), s("-1"), s("Can't contact LDAP server")], Kind::SendOperationFailed)
        }
        "CONN_SSL_NOT_INITIALIZED" => tagged(vec![t], Kind::SslNotInitialized),
        "INC_NO_RUV" => tagged(vec![t], Kind::NotInitialized),
        "INC_GENERATION_MISMATCH" => tagged(vec![t], Kind::GenerationMismatch),
        "INC_RUV_TOO_OLD" => tagged(vec![t], Kind::NeedsReinit),
        "INC_TIME_SKEW" => tagged(vec![t], Kind::TimeSkew),
        "INC_CSNGEN_FAILED" => tagged(vec![t], Kind::CsnGeneratorError),
        "INC_FATAL" => tagged(vec![t], Kind::Fatal),
        "CSNGEN_LIMIT" => (vec![s("172800"), s("86400")], Kind::TimeSkew, false),
        "SEND_CL_BAD_DATA"
        | "SEND_CL_BAD_FORMAT"
        | "SEND_CL_BAD_STATE"
        | "SEND_CL_BAD_DBVERSION"
        | "SEND_CL_DB_ERROR"
        | "SEND_CL_MEMORY" => tagged(vec![t], Kind::ChangelogError),
        "SEND_PURGED" => tagged(vec![t], Kind::ChangelogPurged),
        "SEND_MISSING" => tagged(vec![t], Kind::ChangelogMissing),
        "RESULT_THREAD_NSPR" => other(vec![s("-5972"), s("Out of memory")]),
        "SEND_RESULT_THREAD" => tagged(vec![t, s("-1")], Kind::SendFailed),
        "SEND_NEXT_BAD_DATA" | "SEND_NEXT_DB_ERROR" | "SEND_NEXT_MEMORY" => tagged(vec![t], Kind::SendFailed),
        "SEND_MISSING_SUFFIX" => (vec![], Kind::MissingSuffix, false),
        "SEND_FAILED" => tagged(
            vec![
                t,
                s("6b025b4e-c79811f0-8f7cd0f4-5ad55e74"),
                s("6b025b5e000000010000"),
                s("Can't contact LDAP server"),
            ],
            Kind::ConnectionLost,
        ),
        "SEND_TIMED_OUT" | "REPLAY_TIMED_OUT" => tagged(
            vec![t, s("6b025b4e-c79811f0-8f7cd0f4-5ad55e74"), s("6b025b5e000000010000"), s("Timed out")],
            Kind::Timeout,
        ),
        "REPLAY_FAILED" => tagged(
            vec![t, s("6b025b4e-c79811f0-8f7cd0f4-5ad55e74"), s("6b025b5e000000010000"), s("Server is busy"), s("51")],
            Kind::ReplayFailed { text: s("Server is busy") },
        ),
        "REPLAY_CONNECTION_LOST" => tagged(
            vec![
                t,
                s("6b025b4e-c79811f0-8f7cd0f4-5ad55e74"),
                s("6b025b5e000000010000"),
                s("Can't contact LDAP server"),
                s("-1"),
            ],
            Kind::ConnectionLost,
        ),
        "RELEASE_SEND_FAILED" => tagged(vec![t, s("Can't contact LDAP server")], Kind::Other),
        "RELEASE_NO_RESPONSE" => tagged(vec![t, s("-1"), s("Can't contact LDAP server")], Kind::Other),
        "RELEASE_REFUSED" => tagged(vec![t, s("8")], Kind::Other),
        "WAITFOR_TIMED_OUT" => other(vec![s("3"), s("5")]),
        "TOTAL_BEGIN" => other(vec![t]),
        "TOTAL_FINISHED" => tagged(vec![t, s("3")], Kind::TotalUpdateFinished),
        "TOTAL_FAILED" => tagged(vec![t, s("-1")], Kind::TotalUpdateFailed),
        "EXTOP_REFUSED" => (
            vec![s("8"), s("5"), s(ROOT), s("permission denied"), s("")],
            Kind::ConsumerRefused { error: s("permission denied") },
            false,
        ),
        "EXTOP_CLOCK_SKEW" => other(vec![s("8"), s("5"), s(ROOT)]),
        "BE_OFFLINE" | "BE_ONLINE" => other(vec![s(ROOT)]),
        other => panic!("{other}: a new message in the harness's 389 catalog needs its expected reading here"),
    }
}

/// The messages of an errors log's text, as the diagnosis's reader joins
/// them (a line not starting with `[` continues the one before).
fn messages(text: &str) -> Vec<LogLine> {
    let mut out: Vec<LogLine> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('[') {
            out.extend(errlog::parse_line(i as u64 + 1, line).unwrap_or_else(|| panic!("not a log line: {line}")));
        } else if let Some(last) = out.last_mut() {
            last.text.push('\n');
            last.text.push_str(line);
        } else {
            panic!("a continuation before any line: {line:?}");
        }
    }
    out
}

#[test]
fn every_errors_log_line_the_mock_writes_is_read_as_what_it_says() {
    let clock = VirtualClock::starting_now(1.0);
    // 2.x (multisupplier_ names from 2.0.5), 1.4 (multimaster_), before 1.3.6.1.
    for version in ["2.3.1", "1.4.4.20", "1.3.5.10"] {
        // The log starts with its title block, as every errors log does.
        let title = ErrorsLog::new(v(version), clock.clone(), time::UtcOffset::UTC);
        title.title("a.example.com", 389, "slapd-a");
        let mut all = title.text("errors");
        for m in catalog::ALL {
            let (args, want, names_agreement) = case(m);
            assert_eq!(args.len(), m.arity(), "{}: its arguments", m.key);
            let log = ErrorsLog::new(v(version), clock.clone(), time::UtcOffset::UTC);
            let refs: Vec<&dyn std::fmt::Display> = args.iter().map(|a| a as &dyn std::fmt::Display).collect();
            log.emit(m, &refs);
            let text = log.text("errors");
            let got = messages(&text);
            assert_eq!(got.len(), 1, "{version} {}: one message in {text:?}", m.key);
            let read = classify(&got[0]);
            assert_eq!(read.kind, want, "{version} {}: {text}", m.key);
            if names_agreement {
                assert_eq!(read.agreement.as_deref(), Some("a-to-b"), "{version} {}: {text}", m.key);
            }
            assert_eq!(got[0].level.is_some(), version != "1.3.5.10", "{version} {}: the line's shape", m.key);
            if m.func.starts_with("multisupplier_") && version == "1.4.4.20" {
                assert!(got[0].function.as_deref().is_some_and(|f| f.starts_with("multimaster_")), "{text}");
            }
            all.push_str(&text);
        }
        // The whole log, read by the engine: every line read, none unknown.
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "servers/slapd-a/errors", &all);
        let report = diagnose(dir.path());
        assert_clean(&report, version);
    }
}

/// What a report must read to: the verdict id, and the cause where it has one.
fn want_for(r: &StatusReport, ldaprc: i32, shown: &str) -> (&'static str, Option<&'static str>) {
    match r.key {
        // A legacy consumer's answer, where the version names its code (2.x does not).
        "ACQ_OTHER" if shown.contains("legacy consumer") => ("389.legacy-supplier", None),
        "ACQ_CONNECT" | "ACQ_NO_RESPONSE" | "ACQ_GENERIC_LEGACY" => match ldaprc {
            -1 => ("389.connection-error", Some("refused")),
            -5 => ("389.connection-error", Some("timeout")),
            49 => ("389.bind-failed", None),
            other => panic!("{}: no LDAP result {other}", r.key),
        },
        "ACQ_SSL_NOT_ENABLED" => ("389.ssl-not-enabled", None),
        "ACQ_NO_CSN" => ("389.csn-unavailable", None),
        "ACQ_PARSE_FAILED" | "ACQ_DECODING_ERROR" => ("389.decode-error", None),
        "ACQ_INTERNAL_ERROR" => ("389.remote-internal-error", None),
        "ACQ_PERMISSION_DENIED" => ("389.permission-denied", None),
        "ACQ_NO_SUCH_REPLICA" => ("389.no-replicated-area", None),
        "ACQ_BUSY" => ("389.replica-busy", None),
        "ACQ_DUPLICATE_RID" => ("389.duplicate-replica-id", None),
        "ACQ_BACKOFF" => ("389.backoff", None),
        "ACQ_LEGACY" => ("389.legacy-supplier", None),
        "ACQ_DISABLED" => ("389.replica-disabled", None),
        "ACQ_OTHER" | "FATAL_LEGACY" => ("389.acquire-failed", None),
        "PROTOCOL_STOPPED" => ("389.protocol-stopped", None),
        "STARTED" | "SUCCEEDED" | "YIELDED" => ("389.healthy", None),
        "AGREEMENT_DISABLED" => ("389.agreement-disabled", None),
        "NOT_INITIALIZED" => ("389.consumer-not-initialized", None),
        "GENERATION_MISMATCH" => ("389.generation-id-mismatch", None),
        "NEEDS_REINIT" => ("389.needs-reinit", None),
        "CSN_GENERATOR" => ("389.csn-generator-error", None),
        "TIME_SKEW" => ("389.time-skew", None),
        "TRANSIENT_ERROR" | "TRANSIENT_WARNING" => ("389.transient-error", None),
        "CONNECTION_LOST" => ("389.connection-error", None),
        "TIMEOUT" => ("389.timeout", None),
        "CL_BAD_DATA" | "CL_BAD_FORMAT" | "CL_BAD_STATE" | "CL_BAD_DBVERSION" | "CL_DB_ERROR" | "CL_MEMORY" => {
            ("389.changelog-error", None)
        }
        "MISSING_SUFFIX" => ("389.agreement-corrupted", None),
        "PURGED" | "PURGED_LEGACY" => ("389.changelog-purged", None),
        "MISSING" | "MISSING_LEGACY" => ("389.changelog-missing", None),
        "RESULT_THREAD" | "NEXT_BAD_DATA" | "NEXT_DB_ERROR" | "NEXT_MEMORY" => ("389.send-failed", None),
        other => panic!("{other}: a new status report of the mock needs its expected verdict here"),
    }
}

/// The (LDAP result, replication code) pairs a report is made with.
fn made_with(r: &StatusReport, v: &Version389) -> Vec<(i32, i32)> {
    let replrc = r.replrc(v);
    match r.key {
        "ACQ_CONNECT" => vec![(-1, replrc), (-5, replrc), (49, replrc)],
        "ACQ_NO_RESPONSE" => vec![(-1, replrc), (-5, replrc)],
        "ACQ_SSL_NOT_ENABLED" => vec![(48, replrc)],
        // The consumer's code: an unknown protocol, below the purge point, a legacy answer.
        "ACQ_OTHER" => {
            vec![(0, code::UNKNOWN_UPDATE_PROTOCOL), (0, code::BELOW_PURGEPOINT), (0, code::LEGACY_CONSUMER)]
        }
        // Before 1.3.5.14 the last connection error with the code acquisition left.
        "ACQ_GENERIC_LEGACY" => vec![(-1, code::CONN_ERROR), (-5, code::CONN_ERROR), (49, code::CONN_ERROR)],
        "FATAL_LEGACY" => vec![(-1, 0)],
        _ => vec![(0, replrc)],
    }
}

#[test]
fn every_status_the_mock_sets_maps_to_its_verdict() {
    let now = time::OffsetDateTime::now_utc();
    let long = TAG;
    let mut checked = 0;
    for version in ["2.3.1", "1.4.0.20", "1.3.5.14", "1.3.5.10"] {
        let ver = v(version);
        for r in status::REPORTS {
            let legacy_only = matches!(r.key, "ACQ_GENERIC_LEGACY" | "FATAL_LEGACY");
            if legacy_only && ver.error_shape() {
                continue;
            }
            for (ldaprc, replrc) in made_with(r, &ver) {
                let mut st = AgmtStatus::default();
                st.set(&ver, now, long, ldaprc, replrc, r.msg);
                let shown = st.shown(&ver);
                let (id, cause) = want_for(r, ldaprc, &shown);
                let got = diagnosis::r389::status::classify(&shown)
                    .unwrap_or_else(|| panic!("{version} {}: {shown:?} is no known status", r.key));
                assert_eq!((got.id, got.cause), (id, cause), "{version} {} ({ldaprc}, {replrc}): {shown}", r.key);
                // The JSON twin (1.4.1.4 on) says the same; the disabled replica's
                // two raw newlines make it invalid JSON, as on the real server.
                if let Some(json) = st.shown_json(&ver, now) {
                    match diagnosis::r389::status::json_message(&json) {
                        Some((message, _)) => {
                            let twin = diagnosis::r389::status::classify(&message).map(|s| s.id);
                            assert_eq!(twin, Some(id), "{version} {}: the JSON twin {json}", r.key);
                        }
                        None => assert_eq!(r.key, "ACQ_DISABLED", "{version}: {json} is not read"),
                    }
                }
                checked += 1;
            }
        }
        // No status yet (a restart, a finished total update).
        let shown = AgmtStatus::default().shown(&ver);
        let got = diagnosis::r389::status::classify(&shown).map(|s| s.id);
        assert_eq!(got, Some("389.no-session-yet"), "{version}: {shown}");
    }
    assert!(checked > 150, "{checked} statuses");
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("a folder")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn diagnose(root: &Path) -> Report {
    diagnosis::diagnose(root, &Options::default()).expect("diagnosed")
}

/// Only 389 verdicts; every file read, no line unknown, something recognised.
fn assert_clean(report: &Report, what: &str) {
    for v in &report.verdicts {
        assert!(v.id.starts_with("389."), "{what}: another family's verdict {}", v.id);
    }
    let input = &report.input;
    assert!(input.unknown_lines.is_empty(), "{what}: unknown lines {:?}", input.unknown_lines);
    assert!(input.not_read.is_empty(), "{what}: files not read {:?}", input.not_read);
    assert!(input.unreadable.is_empty(), "{what}: {:?}", input.unreadable);
    assert!(!input.read.is_empty() && !input.recognised_nothing(), "{what}: nothing recognised");
}

fn ids(report: &Report) -> Vec<&str> {
    report.verdicts.iter().map(|v| v.id.as_str()).collect()
}

fn verdict<'r>(report: &'r Report, id: &str, what: &str) -> &'r diagnosis::Verdict {
    report.verdicts.iter().find(|v| v.id == id).unwrap_or_else(|| panic!("{what}: no {id} in {:?}", ids(report)))
}

const AGMT_DN: &str = "cn=a-to-b,cn=replica,cn=dc\\3Dexample\\2Cdc\\3Dcom,cn=mapping tree,cn=config";

/// The supplier's agreement entry as `ldapsearch -LLL -o ldif-wrap=no` prints it.
fn agreement(status: &str, json: &str, extra: &str) -> String {
    format!(
        "dn: {AGMT_DN}\nobjectClass: top\nobjectClass: nsds5replicationAgreement\ncn: a-to-b\nnsDS5ReplicaHost: 127.0.0.1\nnsDS5ReplicaPort: 4892\nnsDS5ReplicaTransportInfo: LDAP\nnsDS5ReplicaBindDN: {BIND}\nnsDS5ReplicaBindMethod: SIMPLE\nnsDS5ReplicaRoot: {ROOT}\n{extra}nsds5replicaLastUpdateStatus: {status}\nnsds5replicaLastUpdateStatusJSON: {json}\n\n"
    )
}

/// The JSON twin from the fields the real server wrote.
fn json(state: &str, ldap_rc: &str, ldap_text: &str, repl_rc: &str, repl_text: &str, message: &str) -> String {
    format!(
        "{{\"state\": \"{state}\", \"ldap_rc\": \"{ldap_rc}\", \"ldap_rc_text\": \"{ldap_text}\", \"repl_rc\": \"{repl_rc}\", \"repl_rc_text\": \"{repl_text}\", \"date\": \"2026-11-22T03:02:54Z\", \"message\": \"{message}\"}}"
    )
}

const GREEN: &str = "Error (0) Replica acquired successfully: Incremental update succeeded";
const GREEN_JSON: &str = "{\"state\": \"green\", \"ldap_rc\": \"0\", \"ldap_rc_text\": \"Success\", \"repl_rc\": \"0\", \"repl_rc_text\": \"replica acquired\", \"date\": \"2026-11-22T03:02:33Z\", \"message\": \"Error (0) Replica acquired successfully: Incremental update succeeded\"}";
const NO_RESPONSE: &str = "Error (-1) Unable to receive the response for a startReplication extended operation to consumer. Will retry later. - LDAP error: Can't contact LDAP server (connection error)";
const REFUSED: &str =
    "Error (-1) Problem connecting to replica - LDAP error: Can't contact LDAP server (connection error)";
const LOG_NO_RESPONSE: &str = "[22/Nov/2026:03:02:51.563286875 +0000] - WARN - NSMMReplicationPlugin - acquire_replica - agmt=\"cn=a-to-b\" (127:3892): Unable to receive the response for a startReplication extended operation to consumer (Can't contact LDAP server). Will retry later.";
const LOG_107: &str = "[22/Nov/2026:03:02:54.567506061 +0000] - ERR - slapi_ldap_bind - Could not send bind request for id [cn=replication manager,cn=config] authentication mechanism [SIMPLE]: error -1 (Can't contact LDAP server), system error -5950 (File not found.), network error 107 (Transport endpoint is not connected, host \"127.0.0.1:3892\")";

/// One experiment of real-389ds.md: its name, the supplier's status and
/// JSON twin (none: the log alone), the supplier's and the consumer's errors
/// logs, and the verdict (with its cause) it must give.
struct Real {
    name: &'static str,
    status: Option<(String, String)>,
    supplier_log: Vec<String>,
    consumer_log: Vec<String>,
    want: (&'static str, Option<&'static str>),
    /// Verdicts that must not be there.
    not: &'static [&'static str],
}

/// A line the document quotes without its timestamp, stamped at `at`.
fn stamped(at: &str, rest: &str) -> String {
    format!("[22/Nov/2026:{at} +0000] - {rest}")
}

fn real_cases() -> Vec<Real> {
    let red = |ldap_rc: &str, ldap_text: &str, repl_rc: &str, repl_text: &str, message: &str| {
        Some((message.to_owned(), json("red", ldap_rc, ldap_text, repl_rc, repl_text, message)))
    };
    let timeout_status = "Error (-5) Problem connecting to replica - LDAP error: Timed out (connection error)";
    let password = "Error (49) Problem connecting to replica - LDAP error: Invalid credentials (connection error)";
    let generation = "Error (19) Replication error acquiring replica: Replica has different database generation ID, remote replica may need to be initialized (RUV error)";
    let permission = "Error (3) Replication error acquiring replica: Unable to acquire replica: permission denied. The bind dn does not have permission to supply replication updates to the replica. Will retry later. (permission denied)";
    vec![
        Real {
            name: "(a) consumer stopped, first attempt on the cached connection",
            status: red("-1", "Can't contact LDAP server", "16", "connection error", NO_RESPONSE),
            supplier_log: vec![s(LOG_NO_RESPONSE)],
            consumer_log: vec![],
            want: ("389.connection-error", Some("refused")),
            not: &["389.healthy"],
        },
        Real {
            name: "(a) consumer stopped, then on connect",
            status: red("-1", "Can't contact LDAP server", "16", "connection error", REFUSED),
            supplier_log: vec![s(LOG_NO_RESPONSE), s(LOG_107)],
            consumer_log: vec![],
            want: ("389.connection-error", Some("refused")),
            not: &["389.healthy"],
        },
        Real {
            name: "(b) consumer restarted: recovered",
            status: Some((s(GREEN), s(GREEN_JSON))),
            supplier_log: vec![
                s(LOG_NO_RESPONSE),
                s(LOG_107),
                stamped("03:06:00.128460521", "INFO - NSMMReplicationPlugin - bind_and_check_pwp - agmt=\"cn=a-to-b\" (127:3892): Replication bind with SIMPLE auth resumed"),
            ],
            consumer_log: vec![],
            want: ("389.healthy", None),
            not: &["389.connection-error"],
        },
        Real {
            name: "(c3) new connections blackholed, timeout 10",
            status: red("-5", "Timed out", "16", "connection error", timeout_status),
            supplier_log: vec![
                s(LOG_NO_RESPONSE),
                stamped("03:03:04.571234567", "ERR - slapi_ldap_bind - Error: timeout after [10.0] seconds reading bind response for [cn=replication manager,cn=config] authentication mechanism [SIMPLE]"),
                stamped("03:03:04.571298765", "ERR - NSMMReplicationPlugin - bind_and_check_pwp - agmt=\"cn=a-to-b\" (127:3892) - Replication bind with SIMPLE auth failed: LDAP error -5 (Timed out) ()"),
            ],
            consumer_log: vec![],
            want: ("389.connection-error", Some("timeout")),
            not: &["389.healthy", "389.bind-failed"],
        },
        Real {
            name: "(c3) after the backlog filled: SYNs unanswered",
            status: red("-1", "Can't contact LDAP server", "16", "connection error", REFUSED),
            supplier_log: vec![s(LOG_NO_RESPONSE), stamped(
                "03:04:14.602214841",
                "ERR - slapi_ldap_bind - Could not send bind request for id [cn=replication manager,cn=config] authentication mechanism [SIMPLE]: error -1 (Can't contact LDAP server), system error -5950 (File not found.), network error 110 (Connection timed out, host \"127.0.0.1:4892\")",
            )],
            consumer_log: vec![],
            want: ("389.connection-error", Some("timeout")),
            not: &["389.healthy"],
        },
        Real {
            name: "(d) wrong password on the agreement",
            status: red("49", "Invalid credentials", "16", "connection error", password),
            supplier_log: vec![
                stamped("03:08:12.110022334", "ERR - slapi_ldap_bind - Error: could not bind id [cn=replication manager,cn=config] authentication mechanism [SIMPLE]: error 49 (Invalid credentials)"),
                stamped("03:08:12.110087766", "ERR - NSMMReplicationPlugin - bind_and_check_pwp - agmt=\"cn=a-to-b\" (127:3892) - Replication bind with SIMPLE auth failed: LDAP error 49 (Invalid credentials) ()"),
            ],
            consumer_log: vec![],
            want: ("389.bind-failed", None),
            not: &["389.connection-error", "389.healthy"],
        },
        Real {
            name: "(e) consumer re-imported: another generation",
            status: red("0", "Success", "19", "RUV error", generation),
            supplier_log: vec![stamped(
                "03:12:40.220011223",
                "WARN - NSMMReplicationPlugin - repl5_inc_run - agmt=\"cn=a-to-b\" (127:3892): The remote replica has a different database generation ID than the local database.  You may have to reinitialize the remote replica, or the local replica.",
            )],
            consumer_log: vec![],
            want: ("389.generation-id-mismatch", None),
            not: &["389.healthy", "389.connection-error"],
        },
        Real {
            name: "(f) replication manager removed from the consumer's bind DNs",
            status: red("0", "Success", "3", "permission denied", permission),
            supplier_log: vec![stamped(
                "03:15:02.330099887",
                "ERR - NSMMReplicationPlugin - acquire_replica - agmt=\"cn=a-to-b\" (127:3892): Unable to acquire replica: permission denied. The bind dn \"cn=replication manager,cn=config\" does not have permission to supply replication updates to the replica. Will retry later.",
            )],
            consumer_log: vec![stamped(
                "03:15:02.329900112",
                "ERR - NSMMReplicationPlugin - multisupplier_extop_StartNSDS50ReplicationRequest - conn=8 op=5 replica=\"dc=example,dc=com\": Unable to acquire replica: error: permission denied",
            )],
            want: ("389.permission-denied", None),
            not: &["389.healthy", "389.connection-error"],
        },
    ]
}

fn title(port: u16) -> String {
    format!("\t389-Directory/2.3.1 B2025.016.1616\n\tlocalhost:{port} (/etc/dirsrv/slapd-a)\n\n")
}

#[test]
fn cases_of_the_real_servers_strings_give_their_verdicts() {
    for c in real_cases() {
        for log_only in [false, true] {
            let what = format!("{}{}", c.name, if log_only { ", errors log alone" } else { "" });
            let dir = tempfile::tempdir().expect("tempdir");
            let mut supplier = title(3891);
            for l in &c.supplier_log {
                supplier.push_str(l);
                supplier.push('\n');
            }
            write(dir.path(), "servers/slapd-a/errors", &supplier);
            if !c.consumer_log.is_empty() {
                let mut consumer = title(3892);
                for l in &c.consumer_log {
                    consumer.push_str(l);
                    consumer.push('\n');
                }
                write(dir.path(), "servers/slapd-b/errors", &consumer);
            }
            match (&c.status, log_only) {
                (Some((status, json)), false) => {
                    write(dir.path(), "servers/slapd-a/agreements.ldif", &agreement(status, json, ""));
                }
                (None, false) => continue,
                _ => {}
            }
            let report = diagnose(dir.path());
            assert_clean(&report, &what);
            let got = verdict(&report, c.want.0, &what);
            if !log_only || c.want.1.is_some() {
                assert_eq!(got.cause.as_deref(), c.want.1, "{what}: the cause");
            }
            assert_eq!(got.subject.get("agreement").map(String::as_str), Some("a-to-b"), "{what}: {:?}", got.subject);
            for id in c.not {
                assert!(!ids(&report).contains(id), "{what}: {id} in {:?}", ids(&report));
            }
        }
    }
}

/// (c2): packets dropped mid-session. The status stays green and nothing is
/// logged; the supplier's newest change (its RUV) is 14 minutes past the
/// last session's end, the consumer's RUV behind it: 389.stalled, not healthy.
#[test]
fn the_real_silent_stall_is_stalled() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 6b025b5e = 03:02:54 Nov 22 2026; the supplier's newest change 14 minutes later.
    let end = "20261122030254Z";
    let extra = format!(
        "nsds5replicaLastUpdateStart: {end}\nnsds5replicaLastUpdateEnd: {end}\nnsds5replicaUpdateInProgress: FALSE\n"
    );
    write(dir.path(), "servers/slapd-a/agreements.ldif", &agreement(GREEN, GREEN_JSON, &extra));
    let newest = 0x6b02_5b5e_u32 + 14 * 60;
    let ruv = |max: u32, rid_line: &str| {
        format!(
            "dn: cn=replica,cn=dc\\3Dexample\\2Cdc\\3Dcom,cn=mapping tree,cn=config\nobjectClass: nsds5Replica\n{rid_line}nsds50ruv: {{replicageneration}} 6b025b4a000000010000\nnsds50ruv: {{replica 1 ldap://localhost:3891}} 6b025b4c000000010000 {max:08x}000000010000\n\n"
        )
    };
    write(dir.path(), "servers/slapd-a/replica.ldif", &ruv(newest, "nsds5ReplicaId: 1\n"));
    write(dir.path(), "servers/slapd-b/replica.ldif", &ruv(0x6b02_5b5e, "nsds5ReplicaId: 65535\n"));
    write(dir.path(), "servers/slapd-a/errors", &title(3891));
    let report = diagnose(dir.path());
    verdict(&report, "389.stalled", "the stall");
    assert!(!ids(&report).contains(&"389.healthy"), "{:?}", ids(&report));
    for v in &report.verdicts {
        assert!(v.id.starts_with("389."), "another family's verdict {}", v.id);
    }
    // A lag under the threshold given is no stall.
    let mut o = Options::default();
    o.r389.lag_threshold = time::Duration::minutes(20);
    let report = diagnosis::diagnose(dir.path(), &o).expect("diagnosed");
    assert!(!ids(&report).contains(&"389.stalled"), "20 minutes allowed: {:?}", ids(&report));
}

/// The mock's own case folder, through a stop of the consumer and its
/// recovery: every file read, nothing unknown, healthy at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_the_mock_wrote_has_no_unknown_line() {
    let mut spec = Lab389Spec::new(1, 1, ROOT);
    spec.time_scale = 200.0;
    for sv in &mut spec.servers {
        if let Some(r) = sv.replica.as_mut() {
            r.backoff_max = Duration::from_secs(10);
        }
    }
    let lab = Lab389::start(spec).await.expect("the lab");
    let result = async {
        let wait = Duration::from_secs(20);
        let supplier = lab.server("slapd-s1")?.clone();
        let consumer = lab.server("slapd-c1")?.clone();
        supplier.write(2).await?;
        lab.wait_in_sync(wait).await.map_err(|r| harness::HarnessError::Config(format!("not in sync: {r:?}")))?;
        consumer.stop().await;
        supplier.write(1).await?;
        lab.wait_agreements(wait, |rows| rows.iter().any(|r| r.status.contains("Problem connecting")))
            .await
            .map_err(|r| harness::HarnessError::Config(format!("no connection error: {r:?}")))?;
        consumer.start().await?;
        lab.wait_in_sync(wait).await.map_err(|r| harness::HarnessError::Config(format!("not back: {r:?}")))?;
        let dir = tempfile::tempdir().expect("tempdir");
        harness::casefile::write_case(&lab, dir.path())?;
        Ok::<_, harness::HarnessError>(dir)
    }
    .await;
    lab.shutdown().await;
    let dir = result.expect("the run");
    let report = diagnose(dir.path());
    assert_clean(&report, "the mock's case");
    assert_eq!(ids(&report), ["389.healthy"], "{:#?}", report.verdicts);
}
