//! `replharness run` end to end: the bundled suite, failures, reports, the
//! same verdicts for any `--jobs`, `--filter`, the documented example.

use crate::common::{data, replharness};

/// The verdicts per scenario, from a JSON Lines report.
fn verdicts(jsonl: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for line in jsonl.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(v.get("type").is_some() && v.get("data").is_some(), "envelope: {line}");
        if v["type"] == "scenario" {
            let mut ids: Vec<String> = v["data"]["verdicts"]
                .as_array()
                .expect("verdicts")
                .iter()
                .map(|x| format!("{} {} {}", x["id"].as_str().unwrap_or_default(), subject_of(x), x["cause"]))
                .collect();
            ids.sort();
            out.push((v["data"]["name"].as_str().unwrap_or_default().to_owned(), ids));
        }
    }
    out
}

#[test]
fn the_bundled_suite_passes_and_jobs_do_not_change_verdicts() {
    let dir = tempfile::tempdir().expect("dir");
    let (j1, j4, junit) = (dir.path().join("j1.jsonl"), dir.path().join("j4.jsonl"), dir.path().join("junit.xml"));
    let one = replharness(&["run", "--seed", "7", "--jobs", "1", "--report-json", j1.to_str().expect("p")]);
    assert_eq!(one.code(), Some(0), "{}", one.text());
    let n = scenarios::suite::LIBRARY.len();
    assert!(one.stdout.contains(&format!("{n} passed, 0 failed")), "{}", one.text());
    let four = replharness(&[
        "run",
        "--seed",
        "7",
        "--jobs",
        "4",
        "--report-json",
        j4.to_str().expect("p"),
        "--junit",
        junit.to_str().expect("p"),
    ]);
    assert_eq!(four.code(), Some(0), "{}", four.text());
    let (a, b) = (std::fs::read_to_string(&j1).expect("j1"), std::fs::read_to_string(&j4).expect("j4"));
    let (mut va, mut vb) = (verdicts(&a), verdicts(&b));
    va.sort();
    vb.sort();
    assert_eq!(va.len(), n);
    assert_eq!(va, vb, "--jobs 1 and --jobs 4 give the same verdicts");
    let first: serde_json::Value =
        serde_json::from_str(a.lines().nth(1).expect("a scenario record")).expect("scenario record");
    assert!(first["data"]["tags"].as_array().is_some_and(|t| t.iter().any(|x| x == "ds")), "{first}");
    let x = std::fs::read_to_string(&junit).expect("junit");
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_eq!(x.matches("<testcase ").count(), n, "{x}");
    assert_eq!(x.matches("<testsuites ").count(), 1);
    assert!(x.contains("failures=\"0\""));
}

#[test]
fn a_wrong_expectation_fails_with_expected_and_got() {
    let dir = tempfile::tempdir().expect("dir");
    let junit = dir.path().join("junit.xml");
    let out =
        replharness(&["run", &data("wrong-expectation.toml"), "--seed", "3", "--junit", junit.to_str().expect("p")]);
    assert_eq!(out.code(), Some(1), "{}", out.text());
    let t = out.text();
    assert!(t.contains("FAIL  a deliberately wrong expectation"), "{t}");
    assert!(t.contains("expected ds.rs-peer-unreachable cause=firewall-drop"), "{t}");
    assert!(t.contains("got:      ds.healthy"), "{t}");
    let x = std::fs::read_to_string(&junit).expect("junit");
    assert!(x.contains("<failure message=\"expected ds.rs-peer-unreachable cause=firewall-drop\">"), "{x}");
}

#[test]
fn a_scenario_that_fails_while_it_runs_says_where() {
    let out = replharness(&["run", &data("deadline.toml")]);
    assert_eq!(out.code(), Some(1), "{}", out.text());
    assert!(out.text().contains("deadline passed during step wait at 60s"), "{}", out.text());
    let out = replharness(&["run", &data("wait-timeout.toml")]);
    assert_eq!(out.code(), Some(1), "{}", out.text());
    assert!(
        out.stdout.contains("wait-timeout.toml:8:1: step wait: waited 0.2s for message 999 ×1 on ds-1"),
        "{}",
        out.text()
    );
}

/// `--filter` matched only the name; it now matches the file name and tags
/// too, and may be repeated. The run carries its `scenario{name,seed}` span.
#[test]
fn filter_matches_a_tag_or_the_file_name_and_runs_in_a_scenario_span() {
    let folder = data("");
    let out = replharness(&["run", &folder, "--filter", "tagged-example"]);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    assert!(out.stdout.contains("(1 scenarios, 1 at a time)"), "{}", out.stdout);
    assert!(out.stdout.contains("PASS  a tagged healthy pair"), "{}", out.stdout);
    let out = replharness(&["run", &folder, "--filter", "tagged.toml", "--filter", "deadline", "--seed", "9"]);
    assert!(out.stdout.contains("(2 scenarios"), "{}", out.text());
    let out = replharness(&["run", &folder, "--filter", "healthy", "--filter", "nothing"]);
    assert!(out.stdout.contains("PASS  a tagged healthy pair"), "tag healthy: {}", out.text());
    let out = replharness(&["run", &folder, "--filter", "no such thing"]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr.contains("no scenario matches \"no such thing\""), "{}", out.stderr);

    let mut c = crate::common::command(&["run", &data("tagged.toml"), "--seed", "4"]);
    c.env("RUST_LOG", "scenarios=debug");
    let out = crate::common::run_bounded(c, &["run", "tagged.toml"]);
    let line = out.stderr.lines().find(|l| l.contains("scenario done")).unwrap_or_default();
    assert!(line.contains("scenario{name=a tagged healthy pair seed="), "{}", out.stderr);
}

/// docs/scenarios.md: the complete example parses and runs; the report
/// records shown are the shapes a run writes.
#[test]
fn the_documented_example_parses_and_runs() {
    let md = std::fs::read_to_string(crate::common::crate_file("../docs/scenarios.md")).expect("docs");
    let start = md.find("```toml\n").expect("example") + "```toml\n".len();
    let body = &md[start..start + md[start..].find("```").expect("end")];
    let plan = scenarios::plan::load("docs/scenarios.md", body).expect("the example is valid");
    assert_eq!(plan.servers.len(), 2);
    assert_eq!(plan.steps.len(), 6);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("example.toml");
    std::fs::write(&file, body).expect("write");
    let out = replharness(&["run", file.to_str().expect("p")]);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    let start = md.find("```json records\n").expect("records") + "```json records\n".len();
    let records = &md[start..start + md[start..].find("```").expect("end")];
    let types: Vec<String> = records
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("record is JSON")["type"]
                .as_str()
                .expect("type")
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["run", "scenario", "summary"]);
}

/// A verdict's subject with the port of a 389 `consumer` (`host:port`) left out: the system
/// picks the consumer's port anew for every run, so it cannot compare across runs.
fn subject_of(x: &serde_json::Value) -> serde_json::Value {
    let mut s = x["subject"].clone();
    if let Some(c) = s.get_mut("consumer") {
        if let Some(host) = c.as_str().and_then(|hp| hp.rsplit_once(':')).map(|(h, _)| h.to_owned()) {
            *c = serde_json::Value::String(host);
        }
    }
    s
}
