//! `replharness run` end to end: the bundled suite, failures, bad files,
//! reports, and the same verdicts for any `--jobs`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn replharness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_replharness")).args(args).output().expect("run replharness")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name).display().to_string()
}

/// The verdict ids per scenario, from a JSON Lines report.
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
                .map(|x| {
                    let subject = x["subject"].to_string();
                    format!("{} {subject} {}", x["id"].as_str().unwrap_or_default(), x["cause"])
                })
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
    assert_eq!(one.status.code(), Some(0), "{}", text(&one));
    assert!(text(&one).contains("14 passed, 0 failed"), "{}", text(&one));
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
    assert_eq!(four.status.code(), Some(0), "{}", text(&four));
    let (a, b) = (std::fs::read_to_string(&j1).expect("j1"), std::fs::read_to_string(&j4).expect("j4"));
    let (mut va, mut vb) = (verdicts(&a), verdicts(&b));
    va.sort();
    vb.sort();
    assert_eq!(va.len(), 14);
    assert_eq!(va, vb, "--jobs 1 and --jobs 4 give the same verdicts");
    let x = std::fs::read_to_string(&junit).expect("junit");
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_eq!(x.matches("<testcase ").count(), 14, "{x}");
    assert_eq!(x.matches("<testsuites ").count(), 1);
    assert!(x.contains("failures=\"0\""));
}

#[test]
fn a_wrong_expectation_fails_with_expected_and_got() {
    let dir = tempfile::tempdir().expect("dir");
    let junit = dir.path().join("junit.xml");
    let out =
        replharness(&["run", &data("wrong-expectation.toml"), "--seed", "3", "--junit", junit.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("FAIL  a deliberately wrong expectation"), "{t}");
    assert!(t.contains("expected ds.rs-peer-unreachable cause=firewall-drop"), "{t}");
    assert!(t.contains("got:      ds.healthy"), "{t}");
    let x = std::fs::read_to_string(&junit).expect("junit");
    assert!(x.contains("<failure message=\"expected ds.rs-peer-unreachable cause=firewall-drop\">"), "{x}");
}

#[test]
fn invalid_files_exit_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().expect("dir");
    let base = "name = \"bad\"\n[topology]\n[[topology.servers]]\nname = \"ds-1\"\n";
    let cases = [
        ("unknown-key.toml", format!("{base}colour = \"red\"\n"), ":5:1: unknown field `colour`"),
        (
            "bad-duration.toml",
            format!("{base}[[steps]]\nat = \"whenever\"\naction = \"kill\"\nserver = \"ds-1\"\n"),
            ":6:6: \"whenever\" is not a duration",
        ),
        (
            "unknown-id.toml",
            format!("{base}[[expect]]\nid = \"ds.all-good\"\n"),
            ":6:6: unknown verdict id \"ds.all-good\"",
        ),
        (
            "dangling.toml",
            format!("{base}[[steps]]\naction = \"stop\"\nserver = \"ds-7\"\n"),
            ":7:10: no server named \"ds-7\"",
        ),
    ];
    for (file, body, want) in cases {
        let p = dir.path().join(file);
        std::fs::write(&p, body).expect("write");
        let out = replharness(&["run", p.to_str().expect("p")]);
        assert_eq!(out.status.code(), Some(2), "{file}: {}", text(&out));
        let t = text(&out);
        assert!(t.contains(&format!("{file}{want}")), "{file}: {t}");
    }
    let out = replharness(&["run", "/no/such/scenario.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = replharness(&["run", "--filter", "no scenario is called this"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_example_analyzer_is_caught_and_missed_as_the_report_shows() {
    let dir = tempfile::tempdir().expect("dir");
    let jsonl = dir.path().join("a.jsonl");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/analyzers/tiny_analyzer.py");
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
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "some scenarios are missed: {t}");
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
    let healthy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("library/healthy-mesh.toml");
    let h = healthy.to_str().expect("p");
    let out = replharness(&["run", h, "--analyzer", "sh -c 'echo broken >&2; exit 3' sh"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("analyzer exited with exit status: 3: broken"), "{}", text(&out));
    let out = replharness(&["run", h, "--analyzer", "echo not-json"]);
    assert!(text(&out).contains("analyzer printed invalid JSON"), "{}", text(&out));
    let out = replharness(&["run", h, "--analyzer", "sh -c 'sleep 30' sh", "--analyzer-timeout", "300ms"]);
    assert!(text(&out).contains("analyzer timed out after 0.3s"), "{}", text(&out));
    let out = replharness(&["run", h, "--analyzer", "'unclosed"]);
    assert_eq!(out.status.code(), Some(2));
}

/// docs/scenarios.md: the complete example parses and runs; the report
/// records shown are the shapes a run writes.
#[test]
fn the_documented_example_parses_and_runs() {
    let md =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios.md")).expect("docs");
    let start = md.find("```toml\n").expect("example") + "```toml\n".len();
    let body = &md[start..start + md[start..].find("```").expect("end")];
    let sc = scenarios::format::parse("docs/scenarios.md", body).expect("the example is valid");
    assert_eq!(sc.topology.servers.len(), 2);
    assert_eq!(sc.steps.len(), 6);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("example.toml");
    std::fs::write(&file, body).expect("write");
    let out = replharness(&["run", file.to_str().expect("p")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
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

#[test]
fn a_scenario_past_its_deadline_fails_saying_where_it_was() {
    let out = replharness(&["run", &data("deadline.toml")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("deadline passed during step wait at 60s"), "{}", text(&out));
}
