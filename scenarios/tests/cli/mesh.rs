//! `replharness mesh`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::{command, replharness, wait_bounded};

#[test]
fn mesh_writes_the_case_folder_and_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("case");
    let out = replharness(&["mesh", "--servers", "3", "--case-out", case.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "exit {:?}\n{}", out.status, out.text());
    // 3 pairs × 2 domains, all up.
    assert_eq!(out.stdout.lines().filter(|l| l.contains(" <-> ") && l.contains("  up  ")).count(), 6, "{}", out.stdout);
    assert!(out.stdout.contains("all links up"));
    let topo: toml::Value =
        toml::from_str(&std::fs::read_to_string(case.join("topology.toml")).expect("topology.toml"))
            .expect("topology.toml parses");
    assert!(topo.get("collected_at").and_then(|v| v.as_str()).is_some_and(|s| s.contains('T')));
    let servers = topo.get("servers").and_then(|v| v.as_array()).expect("servers");
    assert_eq!(servers.len(), 3);
    for s in servers {
        let name = s.get("name").and_then(|v| v.as_str()).expect("name");
        let errors = std::fs::read_to_string(case.join("servers").join(name).join("errors")).expect("errors");
        let replication =
            std::fs::read_to_string(case.join("servers").join(name).join("replication")).expect("replication");
        assert!(errors.contains("msgID=135 msg=The Directory Server has started successfully"), "{errors}");
        assert!(replication.contains("msgID=204 msg=Replication server RS("), "{replication}");
        assert_eq!(replication.matches("msgID=207 ").count(), 2, "one DS accept per domain:\n{replication}");
    }
}

#[test]
fn bad_input_exits_2_naming_what_is_wrong() {
    let out = replharness(&["mesh", "--version", "seven"]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr.contains("--version: invalid configuration: version \"seven\""), "{}", out.stderr);
    let out = replharness(&["mesh", "--settle-timeout", "soon"]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr.contains("\"soon\" is not a duration"), "{}", out.stderr);
    let out = replharness(&["mesh", "--no-such-flag"]);
    assert_eq!(out.code(), Some(2));
}

/// The bounds of scenario files hold for the flags too: a duration past 24 h,
/// a time scale past 10000 (a mock server's clock would overflow).
#[test]
fn numbers_out_of_range_on_the_command_line_exit_2() {
    let out = replharness(&["mesh", "--hold-for", "25h"]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr.contains("\"25h\" is longer than 24h"), "{}", out.stderr);
    let out = replharness(&["mesh", "--time-scale", "1e300"]);
    assert_eq!(out.code(), Some(2), "{}", out.text());
    assert!(out.stderr.contains("--time-scale must be a number from 1 to 10000, not 1e300"), "{}", out.stderr);
}

/// A real `openssl s_client` pointed at a mock server of a TLS mesh verifies
/// its certificate against the CA the case folder holds.
#[test]
fn openssl_s_client_verifies_a_mock_servers_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let case = dir.path().join("case");
    let args = ["mesh", "--tls", "--servers", "2", "--hold-for", "30s", "--case-out", case.to_str().expect("p")];
    let mut child = command(&args).stdout(Stdio::piped()).spawn().expect("start the mesh");
    let mut addr = None;
    // The mesh ends by itself after --hold-for, so this read ends too.
    let out = BufReader::new(child.stdout.take().expect("stdout"));
    for line in out.lines().map_while(Result::ok) {
        if let Some(rest) = line.trim().strip_prefix("ds-2") {
            addr = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    let addr = addr.expect("the mesh printed ds-2's address");
    let ca = case.join("servers/ds-2/certs/ca.pem");
    let s = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &addr, "-servername", "ds-2.example.com", "-showcerts", "-CAfile"])
        .arg(&ca)
        .stdin(Stdio::null())
        .output()
        .expect("openssl is installed (.ci/run installs it)");
    let _ = child.kill();
    wait_bounded(&mut child, &args);
    let text = String::from_utf8_lossy(&s.stdout);
    assert!(text.contains("subject=CN = ds-2.example.com") || text.contains("subject=CN=ds-2.example.com"), "{text}");
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
}
