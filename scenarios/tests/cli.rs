//! The `replharness` binary as a user runs it.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn replharness(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_replharness")).args(args).output().expect("run replharness");
    (out, started.elapsed())
}

#[test]
fn mesh_writes_the_case_folder_and_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("case");
    let case_arg = case.to_str().expect("utf-8 path");
    let (out, took) = replharness(&["mesh", "--servers", "3", "--case-out", case_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(took < Duration::from_secs(15), "took {took:?}");
    // 3 pairs × 2 domains, all up.
    assert_eq!(stdout.lines().filter(|l| l.contains(" <-> ") && l.contains("  up  ")).count(), 6, "{stdout}");
    assert!(stdout.contains("all links up"));
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
    let (out, _) = replharness(&["mesh", "--version", "seven"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--version: invalid configuration: version \"seven\""));
    let (out, _) = replharness(&["mesh", "--settle-timeout", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"soon\" is not a duration"));
    let (out, _) = replharness(&["mesh", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `replharness diagnose --json` on every fixture of the diagnosis crate says
/// what the library says, and exits 0; an unreadable case exits 2 with its path.
#[test]
fn diagnose_prints_the_libraries_verdicts_for_every_fixture() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../diagnosis/tests/fixtures");
    let mut n = 0;
    for family in std::fs::read_dir(&root).expect("fixtures") {
        for case in std::fs::read_dir(family.expect("family").path()).expect("cases") {
            let case = case.expect("case").path();
            let arg = case.to_str().expect("utf-8");
            let (out, _) = replharness(&["diagnose", "--json", arg]);
            assert!(out.status.success(), "{arg}: {}", String::from_utf8_lossy(&out.stderr));
            let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
            let want = serde_json::to_value(diagnosis::diagnose(&case, &diagnosis::Options::default()).expect("lib"))
                .expect("json");
            assert_eq!(got, want, "{arg}");
            let (human, _) = replharness(&["diagnose", arg]);
            let first = want["verdicts"][0]["id"].as_str().expect("a verdict");
            assert!(String::from_utf8_lossy(&human.stdout).contains(first), "{arg}: human report lacks {first}");
            n += 1;
        }
    }
    assert!(n >= 50);
    let (out, _) = replharness(&["diagnose", "/no/such/case"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read case /no/such/case"));
    let (out, _) = replharness(&["verdicts", "--json"]);
    let cat: serde_json::Value = serde_json::from_slice(&out.stdout).expect("catalog JSON");
    assert_eq!(cat.as_array().map(Vec::len), Some(diagnosis::catalog::CATALOG.len()));
}

/// A real `openssl s_client` pointed at a mock server of a TLS mesh verifies
/// its certificate against the CA the case folder holds.
#[test]
fn openssl_s_client_verifies_a_mock_servers_certificate() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("dir");
    let case = dir.path().join("case");
    let mut child = Command::new(env!("CARGO_BIN_EXE_replharness"))
        .args(["mesh", "--tls", "--servers", "2", "--hold-for", "30s", "--case-out", case.to_str().expect("p")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the mesh");
    let mut addr = None;
    let out = BufReader::new(child.stdout.take().expect("stdout"));
    for line in out.lines().map_while(Result::ok) {
        if let Some(rest) = line.trim().strip_prefix("ds-2") {
            addr = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    let addr = addr.expect("the mesh printed ds-2's address");
    let ca = case.join("servers/ds-2/certs/ca.pem");
    let s = Command::new("openssl")
        .args(["s_client", "-connect", &addr, "-servername", "ds-2.example.com", "-showcerts", "-CAfile"])
        .arg(&ca)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl is installed (.ci/run installs it)");
    let _ = child.kill();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&s.stdout);
    assert!(text.contains("subject=CN = ds-2.example.com") || text.contains("subject=CN=ds-2.example.com"), "{text}");
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
}
