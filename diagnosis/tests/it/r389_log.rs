//! Family `389` with its errors logs: a case with the log alone gets its
//! verdict, the log refines a vague status, a failure the server's "…
//! resumed" line follows is over, later versions' wordings and older
//! versions' shapes, and every well-formed line is read.

use crate::support::*;

const A: &[(&str, &str)] = &[("server", "slapd-a"), ("agreement", "a-to-b")];

fn clean(r: &diagnosis::Report, case: &str) {
    assert!(r.input.unknown_lines.is_empty(), "{case}: lines of unknown shape {:?}", r.input.unknown_lines);
    assert!(r.input.not_read.is_empty(), "{case}: not read {:?}", r.input.not_read);
    let others: Vec<&str> = ids(r).into_iter().filter(|i| !i.starts_with("389.")).collect();
    assert!(others.is_empty(), "{case}: verdicts of another family {others:?}");
}

#[test]
fn the_errors_log_alone_gives_the_verdict_of_its_current_failure() {
    for (case, id, cause) in [
        ("389/log-only-refused", "389.connection-error", Some("refused")),
        ("389/log-only-timeout", "389.connection-error", Some("timeout")),
        ("389/log-only-bind-failed", "389.bind-failed", None),
        ("389/log-only-generation", "389.generation-id-mismatch", None),
        ("389/log-only-permission", "389.permission-denied", None),
    ] {
        let r = run(case);
        clean(&r, case);
        let v = one(&r, id, A);
        assert_eq!(v.cause.as_deref(), cause, "{case}");
        assert_eq!(r.verdicts.len(), 1, "{case}: {}", diagnosis::report::human(&r));
        assert_eq!(v.evidence[0].file, "servers/slapd-a/errors", "{case}");
        assert_eq!(
            v.subject.get("suffix").map(String::as_str),
            Some("dc=example,dc=com"),
            "{case}: from the keep-alive line"
        );
    }
}

#[test]
fn a_failure_the_resumed_line_follows_is_over() {
    let r = run("389/log-only-recovered");
    clean(&r, "log-only-recovered");
    let v = one(&r, "389.healthy", A);
    assert!(v.evidence[0].text.ends_with("Replication bind with SIMPLE auth resumed"), "{:?}", v.evidence);
    // The timeout case holds the same recovery, then a new failure: the newest counts.
    let r = run("389/log-only-timeout");
    let v = one(&r, "389.connection-error", A);
    assert!(v.evidence[0].text.contains("network error 110 (Connection timed out"), "{:?}", v.evidence);
}

#[test]
fn the_log_refines_a_vague_status() {
    let r = run("389/refine-timeout");
    clean(&r, "refine-timeout");
    let v = one(&r, "389.connection-error", A);
    assert_eq!(v.cause.as_deref(), Some("timeout"), "the status says Can't contact; the log says 110");
    assert_eq!(v.evidence.len(), 2, "the status and the log line: {:?}", v.evidence);
    guidance_has(v, "gets no answer");
    let r = run("389/refine-purged");
    let v = one(&r, "389.changelog-purged", A);
    assert!(v.evidence[1].text.contains("has been purged from the changelog"));
    guidance_has(v, "dsconf slapd-a repl-agmt init --suffix dc=example,dc=com a-to-b");
}

#[test]
fn later_versions_wordings_and_older_versions_shapes() {
    let r = run("389/later-wordings");
    clean(&r, "later-wordings");
    one(&r, "389.transient-error", &[("agreement", "a-to-b")]);
    one(&r, "389.replica-busy", &[("agreement", "a-to-c")]);
    one(&r, "389.transient-error", &[("agreement", "a-to-d")]);
    one(&r, "389.healthy", &[("agreement", "a-to-e")]);
    let r = run("389/legacy-shapes");
    clean(&r, "legacy-shapes");
    let v = one(&r, "389.connection-error", &[("agreement", "a-to-b")]);
    assert_eq!(v.cause.as_deref(), Some("refused"));
    one(&r, "389.permission-denied", &[("agreement", "a-to-c")]);
    let v = one(&r, "389.time-skew", &[("agreement", "a-to-d")]);
    assert!(v.evidence.iter().any(|e| e.text.contains("Fatal error - too much time skew")), "{:?}", v.evidence);
}

#[test]
fn no_session_yet_and_a_disabled_replica() {
    let r = run("389/no-session-yet");
    one(&r, "389.no-session-yet", A);
    assert!(!ids(&r).contains(&"389.agreement-disabled"));
    let v = one(&r, "389.no-session-yet", A);
    guidance_has(v, "repl-agmt poke");
    let r = run("389/agreement-disabled");
    one(&r, "389.agreement-disabled", A);
    let r = run("389/replica-disabled");
    let v = one(&r, "389.replica-disabled", A);
    guidance_has(v, "Enable the consumer's replica for dc=example,dc=com");
}

/// A case of 389 files only: no verdict of another family, whatever the
/// folder names; the DS reader does not take the 389 errors log.
#[test]
fn a_389_errors_log_is_never_read_as_another_familys() {
    let dir = case(&[(
        "servers/a/errors",
        "[22/Nov/2026:03:02:51.563286875 +0000] - ERR - slapi_ldap_bind - Error: could not bind id [cn=replication manager,cn=config] authentication mechanism [SIMPLE]: error 49 (Invalid credentials)\n[22/Nov/2026:03:02:51.563386875 +0000] - ERR - NSMMReplicationPlugin - bind_and_check_pwp - agmt=\"cn=a-to-b\" (127:3892) - Replication bind with SIMPLE auth failed: LDAP error 49 (Invalid credentials) ()\n",
    )]);
    let r = run_dir(dir.path());
    clean(&r, "inline");
    assert_eq!(ids(&r), ["389.bind-failed"]);
}
