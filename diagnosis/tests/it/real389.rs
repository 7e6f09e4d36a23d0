//! Family `389` on real servers: the case folders of `fixtures/389-real/`, taken from two real
//! 389-DS 2.3.1 servers (Debian 12) by `scripts/real389/run.sh`, one per fault and one per
//! recovery. Each must get its fault's verdict and cause, nothing of another family, and no
//! line of unknown shape. Where today's engine reads a real case wrong, [`MISREAD`] pins what it
//! says instead (each entry is a reported bug; docs/real389.md, "Differences").

use std::collections::BTreeSet;
use std::path::Path;

use diagnosis::{Options, Report};

use crate::support::fixture;

/// The supplier's and the agreement's names in every real case.
const SERVER: &str = "rh-supplier";
const AGREEMENT: &str = "supplier-to-consumer";
const SUFFIX: &str = "dc=example,dc=com";

/// Each real case and the verdict (and cause) its fault must get.
const CASES: &[(&str, &str, Option<&str>)] = &[
    ("healthy", "389.healthy", None),
    ("firewall-reject", "389.connection-error", Some("refused")),
    ("firewall-reject-recovered", "389.healthy", None),
    ("firewall-drop", "389.connection-error", Some("timeout")),
    ("firewall-drop-recovered", "389.healthy", None),
    ("stall", "389.stalled", None),
    ("stall-recovered", "389.healthy", None),
    ("consumer-stopped", "389.connection-error", Some("refused")),
    ("consumer-stopped-recovered", "389.healthy", None),
    ("wrong-password", "389.bind-failed", None),
    ("wrong-password-recovered", "389.healthy", None),
    ("no-rights", "389.permission-denied", None),
    ("no-rights-recovered", "389.healthy", None),
    ("generation-mismatch", "389.generation-id-mismatch", None),
    ("generation-mismatch-recovered", "389.healthy", None),
];

/// Real cases today's engine reads wrong, with what it says instead. The test fails when that
/// reading changes: a fix removes its entry here (and the case then must get its verdict).
/// Both earlier entries are fixed: `firewall-drop` takes its cause (`timeout`) from the errors
/// log's `network error 110 (Connection timed out …)`, and `stall` compares the supplier's newest
/// change with `nsds5replicaLastUpdateEnd` and the consumer's RUV rather than with
/// `nsds5AgmtMaxCSN`, which the real server moves at write time.
const MISREAD: &[(&str, &str, Option<&str>)] = &[];

/// Lag the stall case shows: its newest change is about 20 s after the last one sent; a
/// threshold of 10 s also shows that no healthy real case lags.
fn options() -> Options {
    let mut o = Options::default();
    o.r389.lag_threshold = time::Duration::seconds(10);
    o
}

fn diagnose(case: &str) -> Report {
    let dir = fixture(&format!("389-real/{case}"));
    diagnosis::diagnose(&dir, &options()).unwrap_or_else(|e| panic!("389-real/{case}: {e}"))
}

/// The one verdict about the real agreement: (id, cause).
fn reading(case: &str, r: &Report) -> (String, Option<String>) {
    let others: Vec<&str> = r.verdicts.iter().map(|v| v.id.as_str()).filter(|id| !id.starts_with("389.")).collect();
    assert!(others.is_empty(), "389-real/{case}: verdicts of another family: {others:?}");
    let hits: Vec<_> = r
        .verdicts
        .iter()
        .filter(|v| {
            let s = |k: &str| v.subject.get(k).map(String::as_str);
            s("server") == Some(SERVER) && s("agreement") == Some(AGREEMENT) && s("suffix") == Some(SUFFIX)
        })
        .collect();
    assert_eq!(hits.len(), 1, "389-real/{case}: one verdict for the agreement, got:\n{}", diagnosis::report::human(r));
    assert_eq!(r.verdicts.len(), 1, "389-real/{case}: one agreement, one verdict:\n{}", diagnosis::report::human(r));
    (hits[0].id.clone(), hits[0].cause.clone())
}

#[test]
fn every_capture_is_listed() {
    let dir = fixture("389-real");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("fixtures/389-real")
        .map(|e| e.expect("entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = CASES.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    assert_eq!(on_disk, listed, "every real case is asserted, and every asserted case exists");
    for (case, _, _) in MISREAD {
        assert!(listed.contains(*case), "MISREAD names an unknown case {case}");
    }
}

#[test]
fn each_real_case_gets_its_faults_verdict() {
    let mut wrong = Vec::new();
    for (case, id, cause) in CASES {
        let r = diagnose(case);
        let got = reading(case, &r);
        let expected = ((*id).to_owned(), cause.map(str::to_owned));
        match MISREAD.iter().find(|(c, _, _)| c == case) {
            Some((_, mid, mcause)) => {
                let pinned = ((*mid).to_owned(), mcause.map(str::to_owned));
                if got != pinned {
                    wrong.push(format!(
                        "{case}: the engine's reading changed from the pinned misread {pinned:?} to {got:?} \
                         (expected {expected:?}); if it is now right, remove {case} from MISREAD"
                    ));
                }
            }
            None if got != expected => wrong.push(format!("{case}: expected {expected:?}, got {got:?}")),
            None => {}
        }
        // Evidence names a file of the case, at a line that exists.
        for v in &r.verdicts {
            for e in &v.evidence {
                let p = fixture(&format!("389-real/{case}")).join(&e.file);
                let n = std::fs::read_to_string(&p).unwrap_or_else(|err| panic!("{case}: evidence {}: {err}", e.file));
                assert!(
                    e.line >= 1 && e.line as usize <= n.lines().count(),
                    "{case}: {}:{} is past the end",
                    e.file,
                    e.line
                );
            }
        }
    }
    assert!(wrong.is_empty(), "real cases read wrong:\n{}", wrong.join("\n"));
}

#[test]
fn real_files_have_no_line_of_unknown_shape() {
    for (case, _, _) in CASES {
        let r = diagnose(case);
        let i = &r.input;
        assert!(i.unknown_lines.is_empty(), "{case}: lines of unknown shape: {:?}", i.unknown_lines);
        assert!(i.non_utf8_lines.is_empty(), "{case}: non-UTF-8 lines: {:?}", i.non_utf8_lines);
        assert!(i.unreadable.is_empty(), "{case}: unreadable: {:?}", i.unreadable);
        assert!(i.not_read.is_empty(), "{case}: files no reader took: {:?}", i.not_read);
        // Every file of the case was read, the errors logs of both servers included.
        let dir = fixture(&format!("389-real/{case}"));
        for server in std::fs::read_dir(dir.join("servers")).expect("servers/") {
            let server = server.expect("entry").file_name().to_string_lossy().into_owned();
            for file in std::fs::read_dir(dir.join("servers").join(&server)).expect("server folder") {
                let rel = format!("servers/{server}/{}", file.expect("entry").file_name().to_string_lossy());
                let read = i.read.get(&rel).unwrap_or_else(|| panic!("{case}: {rel} was not read"));
                assert!(read.lines > 0, "{case}: {rel}: no line read");
            }
        }
    }
}

/// The facts a stalled-agreement rule has in the real stall case: a green status, the
/// supplier's newest change (its RUV max for its own replica id) well after the last session
/// ended, the consumer's RUV behind, and `nsds5AgmtMaxCSN` equal to the supplier's newest.
#[test]
fn the_real_stall_lags_behind_a_green_status() {
    let dir = fixture("389-real/stall");
    let agmt = unfolded(&dir.join(format!("servers/{SERVER}/agreements.ldif")));
    let supplier = unfolded(&dir.join(format!("servers/{SERVER}/replica.ldif")));
    let consumer = unfolded(&dir.join("servers/rh-consumer/replica.ldif"));
    let status = value(&agmt, "nsds5replicaLastUpdateStatus").expect("status");
    assert!(status.contains("Incremental update succeeded"), "green: {status}");
    assert!(value(&agmt, "nsds5replicaLastUpdateStatusJSON").expect("json").contains("\"state\": \"green\""));
    let newest = ruv_max(&supplier, 1).expect("supplier RUV for replica 1");
    let arrived = ruv_max(&consumer, 1).expect("consumer RUV for replica 1");
    let ended = gen_time(&value(&agmt, "nsds5replicaLastUpdateEnd").expect("LastUpdateEnd"));
    assert!(newest - ended >= 15, "the newest change is {} s after the last session ended", newest - ended);
    assert!(newest - arrived >= 15, "the consumer is {} s behind", newest - arrived);
    let maxcsn = value(&supplier, "nsds5AgmtMaxCSN").expect("nsds5AgmtMaxCSN on the replica entry");
    let sent = csn_secs(maxcsn.rsplit(';').next().expect("csn"));
    assert_eq!(sent, newest, "nsds5AgmtMaxCSN moves at write time: {maxcsn}");
    assert!(value(&agmt, "nsds5AgmtMaxCSN").is_none(), "the real agreement entry has no nsds5AgmtMaxCSN");
}

/// LDIF lines with folds undone (`\n ` removed), base64 values left as they are.
fn unfolded(p: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        match (line.strip_prefix(' '), out.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => out.push(line.to_owned()),
        }
    }
    out
}

fn values<'a>(lines: &'a [String], attr: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    lines.iter().filter_map(move |l| {
        let (a, v) = l.split_once(": ")?;
        a.eq_ignore_ascii_case(attr).then_some(v)
    })
}

fn value(lines: &[String], attr: &str) -> Option<String> {
    values(lines, attr).next().map(str::to_owned)
}

/// Seconds since 1970 of a CSN's time part.
fn csn_secs(csn: &str) -> i64 {
    i64::from_str_radix(&csn[..8], 16).expect("csn time")
}

/// The max CSN's time of replica `rid` in an entry's `nsds50ruv`.
fn ruv_max(lines: &[String], rid: u16) -> Option<i64> {
    let prefix = format!("{{replica {rid} ");
    values(lines, "nsds50ruv").find(|v| v.starts_with(&prefix)).and_then(|v| {
        let csns: Vec<&str> = v.split_once('}')?.1.split_whitespace().collect();
        csns.get(1).map(|c| csn_secs(c))
    })
}

/// `20261201100631Z` as seconds since 1970.
fn gen_time(s: &str) -> i64 {
    let n = |a: usize, b: usize| s[a..b].parse::<u32>().expect("digits");
    let date = time::Date::from_calendar_date(
        n(0, 4) as i32,
        time::Month::try_from(n(4, 6) as u8).expect("month"),
        n(6, 8) as u8,
    )
    .expect("date");
    date.with_hms(n(8, 10) as u8, n(10, 12) as u8, n(12, 14) as u8).expect("time").assume_utc().unix_timestamp()
}

/// docs/real389.md shows the `topology.toml` of the `healthy` capture, byte for byte, and the
/// engine's reader takes it: two 389 servers of version 2.3.1.
#[test]
fn the_docs_topology_example_is_the_real_one() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/real389.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/real389.md");
    let block = doc
        .split_once("<!-- topology:start -->\n```toml\n")
        .and_then(|(_, rest)| rest.split_once("```\n<!-- topology:end -->"))
        .map(|(toml, _)| toml)
        .expect("the topology block of docs/real389.md");
    let real = std::fs::read_to_string(fixture("389-real/healthy/topology.toml")).expect("fixture");
    assert_eq!(block, real, "docs/real389.md shows the healthy capture's topology.toml");
    let t = diagnosis::topology::Topology::parse(block).expect("the example parses");
    let names: Vec<&str> = t.servers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [SERVER, "rh-consumer"]);
    for s in &t.servers {
        assert_eq!((s.flavor.as_deref(), s.version.as_deref()), (Some("389"), Some("2.3.1")), "{}", s.name);
    }
}
