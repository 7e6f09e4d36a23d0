//! Regression tests of issue 9, each named after the defect it pins.

use diagnosis::case::Case;
use diagnosis::family::FAMILIES;

use crate::support::*;

const D: &str = "dc=example,dc=com";

fn line(t: &str, sev: &str, id: u32, msg: &str) -> String {
    format!("[22/Nov/2026:{t} +0000] category=SYNC severity={sev} msgID={id} msg={msg}\n")
}

/// A case whose only log holds nothing the engine recognises was
/// `OK ds.healthy`, "every expected connection was accepted".
#[test]
fn health_without_evidence_hello_world_gets_no_verdict() {
    let dir = case(&[("servers/ds-1/errors", "hello world\n")]);
    let r = run_dir(dir.path());
    assert!(r.verdicts.is_empty(), "{}", diagnosis::report::human(&r));
    assert!(r.recognised_nothing());
    let listing = diagnosis::report::nothing_recognised(&r);
    assert!(listing.contains("servers/ds-1/errors: 1 line(s), none recognised (1 of unknown shape)"), "{listing}");
}

#[test]
fn health_without_evidence_well_formed_lines_of_no_interest_are_not_health() {
    let noise = "[22/Nov/2026:10:00:00 +0000] category=BACKEND severity=NOTICE msgID=513 msg=The database backend userRoot containing 2 entries has started\n";
    let dir = case(&[("servers/ds-1/errors", noise), ("servers/ds-1/notes.txt", "copied by hand\n")]);
    let r = run_dir(dir.path());
    assert!(r.recognised_nothing(), "{r:#?}");
    assert!(r.input.unknown_lines.is_empty(), "a well-formed line is read, not unknown");
    let listing = diagnosis::report::nothing_recognised(&r);
    assert!(listing.contains("servers/ds-1/errors: 1 line(s), none recognised\n"), "{listing}");
    assert!(listing.contains("servers/ds-1/notes.txt: not read"), "{listing}");
}

#[test]
fn health_without_evidence_the_healthy_verdict_names_its_accepts() {
    let r = run("ds/healthy");
    let v = one(&r, "ds.healthy", &[]);
    assert!(!v.evidence.is_empty());
    for e in &v.evidence {
        assert!(e.text.contains("has accepted") || e.text.contains("has connected"), "not an accept: {}", e.text);
    }
    // One accept per link (pair and domain): both RS-RS domains and each DS's.
    let rs_links = v.evidence.iter().filter(|e| e.text.contains("from replication server")).count();
    assert!(rs_links >= 2, "{:#?}", v.evidence);
}

/// A case holding only 389 files got `ds.healthy` because the DS reader
/// took the 389 errors log for its own.
#[test]
fn health_without_evidence_a_family_without_its_files_gives_no_verdict() {
    let r = run("389/healthy-now");
    assert!(r.verdicts.iter().all(|v| v.id.starts_with("389.")), "{}", diagnosis::report::human(&r));
    assert!(r.input.not_read.is_empty(), "the 389 errors log is read: {:?}", r.input.not_read);
    assert!(r.input.unknown_lines.is_empty(), "{:?}", r.input.unknown_lines);
    // And over every fixture: a verdict only from a family whose files are there.
    let root = fixture("");
    for family in std::fs::read_dir(&root).expect("fixtures") {
        for dir in std::fs::read_dir(family.expect("family").path()).expect("cases") {
            let dir = dir.expect("case").path();
            if !dir.is_dir() {
                continue; // a README beside the cases
            }
            let r = run_dir(&dir);
            let case = Case::open(&dir, &mut Default::default()).expect("opens");
            for v in &r.verdicts {
                let f = FAMILIES.iter().find(|f| v.id.starts_with(&format!("{}.", f.name))).expect("a family");
                assert!((f.present)(&case), "{}: {} without {} files", dir.display(), v.id, f.name);
            }
        }
    }
}

#[test]
fn health_without_evidence_topology_and_probes_alone_give_no_ds_verdict() {
    let topo = "[[servers]]\nname = \"ds-1\"\nflavor = \"ds\"\nports = { replication = 8989, admin = 4444 }\n[[servers]]\nname = \"ds-2\"\nflavor = \"ds\"\nhost = \"ds-2.example.com\"\nports = { replication = 8989, admin = 4444 }\n";
    let probes =
        "{\"from\":\"ds-1\",\"target\":\"ds-2.example.com\",\"port\":4444,\"kind\":\"tcp\",\"outcome\":\"refused\"}\n";
    let dir = case(&[("topology.toml", topo), ("probes.jsonl", probes)]);
    let r = run_dir(dir.path());
    assert!(r.verdicts.is_empty(), "no log of any server: {r:#?}");
}

#[test]
fn health_without_evidence_an_exchange_log_without_replies_is_not_healthy() {
    let rec = "11/22/2026\t03:00:00\tMSExchangeDS\tInformation\tReplication\t1234\tN/A\tBH-LONDON\tSomething else\n";
    let r = run_dir(case(&[("servers/BH-LONDON/events.log", rec)]).path());
    assert!(r.verdicts.is_empty(), "{r:#?}");
    assert!(r.recognised_nothing());
}

/// `read_until` held a whole line however long; now a line is cut at 1 MiB,
/// counted, and the next line is read as usual.
#[test]
fn unbounded_reads_a_long_line_is_cut_and_counted() {
    let long =
        format!("[22/Nov/2026:09:00:00 +0000] category=SYNC severity=NOTICE msgID=1 msg={}\n", "x".repeat(3 << 20));
    let accept = line("09:00:01", "INFORMATION", 206, &format!("Replication server RS(ds-1) has accepted a connection from replication server RS(ds-2) for domain \"{D}\" at /127.0.0.2:40000"));
    let dir = case(&[("servers/ds-1/replication", &format!("{long}{accept}"))]);
    let r = run_dir(dir.path());
    assert_eq!(r.input.long_lines.get("servers/ds-1/replication"), Some(&1));
    assert!(r.input.unknown_lines.is_empty(), "the cut line still has its shape");
    let v = one(&r, "ds.healthy", &[]);
    assert_eq!(v.evidence[0].line, 2, "the line after the long one is read");
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["input"]["long_lines"]["servers/ds-1/replication"], 1);
    assert!(diagnosis::report::human(&r).contains("1 line(s) longer than 1 MiB"));
}

/// 180 never matched and `Kind::DsLinkLost` was read by no rule: a DS that
/// lost its RS and could not get back was not reported.
#[test]
fn dead_pattern_a_ds_that_lost_its_rs_is_unreachable_from_the_loss_on() {
    let connected = line("09:00:00", "NOTICE", 62, &format!("Directory server DS(ds-1) has connected to replication server RS(ds-1) for domain \"{D}\" at ds-1.example.com/127.0.0.1:8989 with generation ID 42"));
    let lost = line("09:10:00", "ERROR", 180, &format!("Directory server DS(ds-1) encountered an error while receiving changes for domain \"{D}\" from replication server RS(ds-1) at ds-1.example.com/127.0.0.1:8989. The connection will be closed, and this directory server will now try to connect to another replication server"));
    let no_rs = line(
        "09:10:01",
        "WARNING",
        208,
        &format!("Directory server DS(ds-1) was unable to connect to any replication servers for domain \"{D}\""),
    );
    let dir = case(&[("servers/ds-1/errors", &format!("{connected}{lost}{no_rs}"))]);
    let r = run_dir(dir.path());
    let v = one(&r, "ds.ds-to-rs-unreachable", &[("server", "ds-1"), ("domain", D)]);
    assert!(v.evidence[0].text.contains("msgID=180"), "the loss comes first: {:#?}", v.evidence);
    assert!(v.evidence[1].text.contains("msgID=208"));
    // A loss alone, not followed by a reconnect, is the same verdict.
    let r = run_dir(case(&[("servers/ds-1/errors", &format!("{connected}{lost}"))]).path());
    one(&r, "ds.ds-to-rs-unreachable", &[("server", "ds-1")]);
    // Reconnected since: healthy, the reconnect as evidence.
    let again = connected.replace("09:00:00", "09:11:00");
    let r = run_dir(case(&[("servers/ds-1/errors", &format!("{connected}{lost}{no_rs}{again}"))]).path());
    let v = one(&r, "ds.healthy", &[]);
    assert_eq!(v.evidence[0].line, 4);
}
