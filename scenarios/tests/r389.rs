//! The 389 flavor on the command line: `mesh --flavor 389` brings suppliers
//! and consumers in sync and writes a case the diagnosis calls healthy;
//! `diagnose --389-stall-lag` moves the stall threshold; bad input exits 2.

#[allow(dead_code)]
#[path = "cli/common.rs"]
mod common;

use common::replharness;

/// A green agreement whose last session ended 10 minutes before the
/// supplier's newest change (6c61a960: 2027-08-15 14:21:20), which the
/// consumer lacks.
fn lagging_case(dir: &std::path::Path) {
    let a = dir.join("servers/slapd-a");
    std::fs::create_dir_all(&a).expect("mkdir");
    std::fs::write(
        a.join("agreements.ldif"),
        "dn: cn=a-to-b,cn=replica,cn=dc\\3Dexample\\2Cdc\\3Dcom,cn=mapping tree,cn=config\n\
         objectClass: top\nobjectClass: nsds5replicationAgreement\ncn: a-to-b\n\
         nsDS5ReplicaHost: b.example.com\nnsDS5ReplicaPort: 389\nnsDS5ReplicaRoot: dc=example,dc=com\n\
         nsds5replicaLastUpdateStart: 20270815141119Z\nnsds5replicaLastUpdateEnd: 20270815141120Z\n\
         nsds5replicaUpdateInProgress: FALSE\n\
         nsds5replicaLastUpdateStatus: Error (0) Replica acquired successfully: Incremental update succeeded\n\n",
    )
    .expect("write");
    std::fs::write(
        a.join("replica.ldif"),
        "dn: cn=replica,cn=dc\\3Dexample\\2Cdc\\3Dcom,cn=mapping tree,cn=config\nobjectClass: nsds5Replica\n\
         nsds5ReplicaId: 1\nnsds50ruv: {replicageneration} 6b025b4a000000010000\n\
         nsds50ruv: {replica 1 ldap://a.example.com:389} 6b025b4c000000010000 6c61a960000000010000\n\n",
    )
    .expect("write");
}

fn verdict_ids(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["verdicts"].as_array().expect("verdicts").iter().map(|x| x["id"].as_str().expect("id").to_owned()).collect()
}

#[test]
fn mesh_flavor_389_comes_in_sync_and_its_case_is_healthy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("case");
    let case_arg = case.to_str().expect("utf-8");
    let run = replharness(&[
        "mesh",
        "--flavor",
        "389",
        "--servers",
        "2",
        "--consumers",
        "1",
        "--time-scale",
        "200",
        "--seed",
        "7",
        "--case-out",
        case_arg,
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.text());
    for want in [
        "slapd-s1",
        "slapd-s2",
        "slapd-c1",
        "supplier, replica id 2",
        "consumer",
        "s1-to-c1",
        "s2-to-s1",
        "every agreement in sync",
    ] {
        assert!(run.stdout.contains(want), "{want} in {}", run.stdout);
    }
    for f in [
        "servers/slapd-s1/errors",
        "servers/slapd-s1/agreements.ldif",
        "servers/slapd-s1/replica.ldif",
        "servers/slapd-c1/replica.ldif",
        "topology.toml",
    ] {
        assert!(case.join(f).is_file(), "{f}");
    }
    let d = replharness(&["diagnose", "--json", case_arg]);
    assert_eq!(d.code(), Some(0), "{}", d.text());
    let ids = verdict_ids(&d.stdout);
    assert_eq!(ids.len(), 4, "one per agreement: {ids:?}");
    assert!(ids.iter().all(|i| i == "389.healthy"), "{ids:?}");
}

#[test]
fn mesh_flavor_389_refuses_what_it_cannot_run() {
    let run = replharness(&["mesh", "--flavor", "389", "--tls"]);
    assert_eq!(run.code(), Some(2), "{}", run.text());
    assert!(run.stderr.contains("--tls"), "{}", run.stderr);
    let run = replharness(&["mesh", "--flavor", "389", "--version", "2.x"]);
    assert_eq!(run.code(), Some(2), "{}", run.text());
    assert!(run.stderr.contains("--version"), "{}", run.stderr);
}

#[test]
fn diagnose_389_stall_lag_moves_the_threshold() {
    let dir = tempfile::tempdir().expect("tempdir");
    lagging_case(dir.path());
    let case = dir.path().to_str().expect("utf-8");
    let stalled = |args: &[&str]| {
        let mut all = vec!["diagnose", "--json"];
        all.extend_from_slice(args);
        all.push(case);
        let d = replharness(&all);
        assert_eq!(d.code(), Some(0), "{}", d.text());
        verdict_ids(&d.stdout).contains(&"389.stalled".to_owned())
    };
    assert!(stalled(&[]), "10 minutes past the default 5m");
    assert!(stalled(&["--389-stall-lag", "9m"]));
    assert!(!stalled(&["--389-stall-lag", "15m"]));
    let bad = replharness(&["diagnose", "--389-stall-lag", "soon", case]);
    assert_eq!(bad.code(), Some(2), "{}", bad.text());
    assert!(bad.stderr.contains("--389-stall-lag"), "{}", bad.stderr);
}
