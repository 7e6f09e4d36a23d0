//! Family `389`: every documented status string, bare and wrapped; one
//! fixture per verdict; LDIF shapes; the stalled agreement.

use diagnosis::r389::status::classify;

use crate::support::*;

/// Every string of spec/389-status.md, verbatim, with its verdict.
const DOCUMENTED: &[(&str, &str)] = &[
    // Without nsds5ReplicaEnabled to tell, an agreement with no session yet (the fixture
    // `agreement-disabled` has `off`: see `one_fixture_per_verdict`).
    ("Error (0) No replication sessions started since server startup", "389.no-session-yet"),
    ("Error (0) Replica acquired successfully: agreement disabled", "389.agreement-disabled"),
    ("Error (0) Replica acquired successfully: Protocol stopped", "389.protocol-stopped"),
    ("Error (0) Replica acquired successfully: Incremental update started", "389.healthy"),
    ("Error (0) Replica acquired successfully: Incremental update succeeded", "389.healthy"),
    ("Error (0) Replica acquired successfully: Incremental update succeeded and yielded", "389.healthy"),
    ("Problem connecting to replica", "389.connection-error"),
    ("Problem connecting to replica (SSL not enabled)", "389.ssl-not-enabled"),
    ("Error (extop_result) :Failed to acquire replica: Internal error occurred on the remote replica", "389.remote-internal-error"),
    ("Error (extop_result) :Unable to acquire replica: permission denied. The bind dn does not have permission to supply replication updates to the replica. Will retry later.", "389.permission-denied"),
    ("Error (extop_result) :Unable to acquire replica: there is no replicated area on the consumer server. Replication is aborting.", "389.no-replicated-area"),
    ("Error (extop_result) :Unable to acquire replica: the consumer was unable to decode the startReplicationRequest extended operation sent by the supplier. Replication is aborting.", "389.decode-error"),
    ("Error (extop_result) :Unable to acquire replica: the replica is currently being updated by another supplier.", "389.replica-busy"),
    ("Error (extop_result) :Unable to acquire replica: the replica is supplied by a legacy supplier.  Replication is aborting.", "389.legacy-supplier"),
    ("Error (extop_result) :Unable to aquire replica: the replica has the same Replica ID as this one. Replication is aborting.", "389.duplicate-replica-id"),
    ("Error (extop_result) :Unable to acquire replica: the replica instructed us to go into backoff mode. Will retry later.", "389.backoff"),
    ("Error (extop_result) :Unable to acquire replica", "389.acquire-failed"),
    ("Unable to parse the response to the startReplication extended operation. Replication is aborting.", "389.decode-error"),
    ("Unable to receive the response for a startReplication extended operation to consumer. Will retry later.", "389.connection-error"),
    ("Error (0) Unable to obtain current CSN.  Replication is aborting.", "389.csn-unavailable"),
    ("Error (19) : Replica is not initialized", "389.consumer-not-initialized"),
    ("Error (19) : Replica has different database generation ID, remote replica may need to be initialized", "389.generation-id-mismatch"),
    ("Error (19) : Replica needs to be reinitialized", "389.needs-reinit"),
    ("Error (2) : fatal error - too much time skew between replicas", "389.time-skew"),
    ("Error (2) : fatal internal error updating the CSN generator", "389.csn-generator-error"),
    ("Invalid parameter passed to cl5CreateReplayIterator", "389.changelog-error"),
    ("Unexpected format encountered in changelog database", "389.changelog-error"),
    ("Changelog database was in an incorrect state", "389.changelog-error"),
    ("Incorrect dbversion found in changelog database", "389.changelog-error"),
    ("Changelog database error was encountered", "389.changelog-error"),
    ("changelog memory allocation error occurred", "389.changelog-error"),
    ("Data required to update replica has been purged from the changelog.  The replica must be reinitialized.", "389.changelog-purged"),
    ("Changelog data is missing", "389.changelog-missing"),
    ("Failed to create result thread", "389.send-failed"),
    ("Invalid parameter passed to cl5GetNextOperationToReplay", "389.send-failed"),
    ("Database error occurred while getting the next operation to replay", "389.send-failed"),
    ("Memory allocation error occurred (cl5GetNextOperationToReplay)", "389.send-failed"),
    ("Agreement is corrupted: missing suffix", "389.agreement-corrupted"),
    ("Incremental update transient error.  Backing off, will retry update later.", "389.transient-error"),
    ("Incremental update connection error.  Backing off, will retry update later.", "389.connection-error"),
    ("Incremental update timeout error.  Backing off, will retry update later.", "389.timeout"),
];

#[test]
fn every_documented_string_maps_bare_and_wrapped() {
    for (s, id) in DOCUMENTED {
        assert_eq!(classify(s).map(|x| x.id), Some(*id), "bare: {s}");
        let bare = s.split_once(") :").map(|(_, r)| r).or_else(|| s.split_once(") : ").map(|(_, r)| r)).unwrap_or(s);
        let bare = bare.strip_prefix("Error (0) ").unwrap_or(bare);
        for wrapped in [
            format!("Error (1) {bare}"),
            format!("Error (-1) {bare} - LDAP error: Can't contact LDAP server (connection error)"),
            format!("Error (19) Replication error acquiring replica: {bare} (RUV error)"),
        ] {
            let got = classify(&wrapped).map(|x| x.id);
            // A wrapped "Problem connecting" with a reason keeps its most specific verdict.
            assert_eq!(got, Some(*id), "wrapped: {wrapped}");
        }
    }
    assert!(classify("Something no documentation knows").is_none());
}

#[test]
fn problem_connecting_is_told_apart_by_its_ldap_error() {
    let v = classify("Error (49) Problem connecting to replica - LDAP error: Invalid credentials (connection error)")
        .expect("known");
    assert_eq!(v.id, "389.bind-failed");
    let v =
        classify("Error (-1) Problem connecting to replica - LDAP error: Can't contact LDAP server (connection error)")
            .expect("known");
    assert_eq!((v.id, v.cause), ("389.connection-error", Some("refused")));
    let v =
        classify("Error (-5) Problem connecting to replica - LDAP error: Timed out (connection error)").expect("known");
    assert_eq!((v.id, v.cause), ("389.connection-error", Some("timeout")));
}

#[test]
fn one_fixture_per_verdict() {
    let all: Vec<&str> = diagnosis::catalog::CATALOG
        .iter()
        .filter(|d| d.family == "389" && d.id != "389.stalled")
        .map(|d| d.id)
        .collect();
    for id in all {
        let dir = format!("389/{}", id.trim_start_matches("389."));
        let r = run(&dir);
        let v = one(
            &r,
            id,
            &[
                ("server", "slapd-a"),
                ("agreement", "a-to-b"),
                ("consumer", "b.example.com:389"),
                ("suffix", "dc=example,dc=com"),
            ],
        );
        assert_eq!(r.verdicts.len(), 1, "{dir}");
        assert_eq!(v.evidence[0].file, "servers/slapd-a/agreements.ldif");
        assert!(v.evidence[0].text.starts_with("nsds5replicaLastUpdateStatus: "));
    }
}

#[test]
fn guidance_fits_the_cause() {
    let r = run("389/bind-failed");
    let v = one(&r, "389.bind-failed", &[]);
    guidance_has(v, "Not a network problem");
    guidance_has(v, "cn=replication manager,cn=config");
    guidance_lacks(v, "reinitialize");
    guidance_lacks(v, "repl-agmt init");
    assert!(!ids(&r).contains(&"389.connection-error"), "bind-failed only");
    let r = run("389/connection-error");
    let v = one(&r, "389.connection-error", &[]);
    assert_eq!(v.cause.as_deref(), Some("refused"));
    guidance_has(v, "openssl s_client -connect b.example.com:389");
    let r = run("389/needs-reinit");
    let v = one(&r, "389.needs-reinit", &[]);
    let step = step_with(v, &["dsconf slapd-a repl-agmt init"]);
    assert_eq!(flag(&command(v, "repl-agmt init"), "--suffix"), "dc=example,dc=com");
    assert!(step.ends_with(" a-to-b"), "the agreement is named: {step}");
    let r = run("389/generation-id-mismatch");
    let v = one(&r, "389.generation-id-mismatch", &[]);
    guidance_has(v, "repl-agmt init");
    guidance_lacks(v, "firewall");
}

#[test]
fn folded_lines_and_base64_values() {
    let r = run("389/folded-base64");
    let v = one(
        &r,
        "389.connection-error",
        &[("agreement", "a-to-b-with-a-very-long-agreement-name-that-folds"), ("consumer", "b.example.com:636")],
    );
    assert!(v.evidence[0].text.contains("Can't contact LDAP server"));
    assert!(r.input.is_clean(), "{:?}", r.input);
}

#[test]
fn the_json_twin_alone_is_enough() {
    let r = run("389/json-twin");
    one(&r, "389.bind-failed", &[("agreement", "a-to-b")]);
}

#[test]
fn a_green_agreement_that_lags_is_stalled() {
    let r = run("389/stalled");
    let v = one(&r, "389.stalled", &[("agreement", "a-to-b")]);
    assert_eq!(v.evidence.len(), 3, "agreement max CSN, supplier RUV, green status");
    guidance_has(v, "40 minutes behind");
    guidance_has(v, "silently drops");
    assert_eq!(ids(&run("389/not-stalled")), ["389.healthy"]);
}

#[test]
fn the_current_status_wins_over_an_old_error_in_the_log() {
    let r = run("389/healthy-now");
    one(&r, "389.healthy", &[("agreement", "a-to-b")]);
    one(&r, "389.timeout", &[("agreement", "a-to-c"), ("consumer", "c.example.com:389")]);
    assert_eq!(r.verdicts[0].id, "389.timeout", "worse first");
}
