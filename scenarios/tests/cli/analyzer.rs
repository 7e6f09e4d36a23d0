//! `replharness run --analyzer`: external analyzers judged like the engine.

use crate::common::{crate_file, replharness};

#[test]
fn the_example_analyzer_is_caught_and_missed_as_the_report_shows() {
    let dir = tempfile::tempdir().expect("dir");
    let jsonl = dir.path().join("a.jsonl");
    let script = crate_file("../examples/analyzers/tiny_analyzer.py");
    let analyzer = format!("python3 '{}'", script.display());
    let out = replharness(&[
        "run",
        "--seed",
        "5",
        "--jobs",
        "4",
        "--analyzer",
        &analyzer,
        "--report-json",
        jsonl.to_str().expect("p"),
    ]);
    let t = out.text();
    assert_eq!(out.code(), Some(1), "some scenarios are missed: {t}");
    // Caught: the healthy mesh and the firewall drop.
    assert!(t.contains("PASS  healthy mesh"), "{t}");
    assert!(t.contains("PASS  firewall drops the replication port between two sites"), "{t}");
    // Missed: what the tiny analyzer knows nothing of.
    assert!(t.contains("FAIL  generation id changed after a restore"), "{t}");
    assert!(t.contains("expected ds.generation-id-mismatch"), "{t}");
    assert!(t.contains("FAIL  remote server killed"), "{t}");
    let report = std::fs::read_to_string(&jsonl).expect("report");
    let first: serde_json::Value = serde_json::from_str(report.lines().next().expect("line")).expect("json");
    assert_eq!(first["type"], "run");
    assert!(first["data"]["analyzer"].as_str().is_some_and(|a| a.contains("tiny_analyzer.py")));
}

#[test]
fn an_analyzer_that_fails_fails_the_scenario_with_the_reason() {
    let healthy = crate_file("library/healthy-mesh.toml");
    let h = healthy.to_str().expect("p");
    let out = replharness(&["run", h, "--analyzer", "sh -c 'echo broken >&2; exit 3' sh"]);
    assert_eq!(out.code(), Some(1));
    assert!(out.text().contains("analyzer exited with exit status: 3: broken"), "{}", out.text());
    let out = replharness(&["run", h, "--analyzer", "echo not-json"]);
    assert!(out.text().contains("analyzer printed invalid JSON"), "{}", out.text());
    let out = replharness(&["run", h, "--analyzer", "sh -c 'sleep 30' sh", "--analyzer-timeout", "300ms"]);
    assert!(out.text().contains("analyzer timed out after 0.3s"), "{}", out.text());
    let out = replharness(&["run", h, "--analyzer", "'unclosed"]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr.contains("--analyzer \"'unclosed\": missing closing quote"), "{}", out.stderr);
}

/// An analyzer's standard output was read whole, however large: it is now
/// capped at 64 MiB, and an analyzer that goes on printing is stopped at the
/// cap instead of running into the timeout.
#[test]
fn an_analyzer_printing_past_the_cap_fails_with_a_clear_reason() {
    let healthy = crate_file("library/healthy-mesh.toml");
    let out = replharness(&[
        "run",
        healthy.to_str().expect("p"),
        "--analyzer",
        "sh -c 'yes \"{}\"' sh",
        "--analyzer-timeout",
        "4m",
    ]);
    assert_eq!(out.code(), Some(1), "{}", out.text());
    assert!(
        out.stdout.contains("analyzer printed more than 64 MiB on its standard output (the limit)"),
        "{}",
        out.text()
    );
    assert!(!out.stdout.contains("timed out"), "{}", out.stdout);
}
