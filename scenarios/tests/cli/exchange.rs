//! The Exchange flavor through the binary: `exchange-day` counts the seed's
//! table on the sockets and refuses what it cannot run, `mesh --flavor
//! exchange` settles and writes a healthy case, `run --filter exchange`
//! proves every `exchange.*` verdict, and docs/exchange.md's example and
//! JSON are what the tool runs and prints.

use crate::common::{crate_file, replharness};

fn day_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["exchange-day"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = replharness(&all);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn a_day_counts_the_seeds_table_on_the_sockets() {
    for (sites, seed_figure) in [("10", 2880), ("20", 12160), ("30", 27840)] {
        let d = day_json(&["--sites", sites]);
        assert_eq!(d["activations_per_day"], 8);
        assert_eq!(d["messages_formula"], seed_figure);
        assert_eq!(d["messages_counted"], seed_figure, "{sites} sites: {d}");
        let n: u64 = sites.parse().expect("n");
        let per = d["per_bridgehead"].as_object().expect("per bridgehead");
        assert_eq!(per.len() as u64, n);
        let sent: u64 = per.values().map(|b| b["sent"].as_u64().expect("sent")).sum();
        let received: u64 = per.values().map(|b| b["received"].as_u64().expect("received")).sum();
        assert_eq!((sent, received), (seed_figure, seed_figure), "every message written was read");
    }
}

#[test]
fn four_an_hour_is_twelve_times_and_the_one_hour_views_hourly_is_four_an_hour() {
    let default = day_json(&["--sites", "4"]);
    let busy = day_json(&["--sites", "4", "--schedule", "4-per-hour"]);
    let trap = day_json(&["--sites", "4", "--schedule", "hourly", "--detail-view", "1h"]);
    let meant = day_json(&["--sites", "4", "--schedule", "hourly"]);
    let counted = |d: &serde_json::Value| d["messages_counted"].as_u64().expect("counted");
    assert_eq!(counted(&busy), 12 * counted(&default));
    assert_eq!(counted(&trap), counted(&busy), "every hour block of the 1-hour view is 4 activations");
    assert_eq!(counted(&trap), 4 * counted(&meant));
    assert_eq!(trap["activations_per_day"], 96);
}

#[test]
fn bad_input_exits_2_naming_what_is_wrong() {
    for (args, needle) in [
        (vec!["--sites", "1"], "2 to 50 sites"),
        (vec!["--sites", "51"], "2 to 50 sites"),
        (vec!["--sites", "many"], "2 to 50 sites"),
        (vec!["--sites", "5", "--schedule", "sometimes"], "--schedule: \"sometimes\" is not a schedule"),
        (vec!["--sites", "5", "--schedule", "97"], "1 to 96"),
        (vec!["--sites", "5", "--schedule", "48", "--detail-view", "1h"], "1 to 24"),
        (vec!["--sites", "5", "--detail-view", "2h"], "1h or 15m"),
        (vec!["--sites", "5", "--capacity", "fast"], "--capacity"),
        (vec!["--sites", "5", "--time-scale", "0"], "--time-scale"),
    ] {
        let mut all = vec!["exchange-day"];
        all.extend_from_slice(&args);
        let out = replharness(&all);
        assert_eq!(out.code(), Some(2), "{args:?}: {}", out.text());
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn a_day_with_a_case_folder_logs_every_activation_and_diagnoses_healthy() {
    let dir = tempfile::tempdir().expect("dir");
    let case = dir.path().join("day");
    let out = replharness(&["exchange-day", "--sites", "3", "--case-out", case.to_str().expect("p")]);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    assert!(out.stdout.contains("counted = formula"), "{}", out.stdout);
    let log = std::fs::read_to_string(case.join("servers/BH-LONDON/events.log")).expect("events.log");
    // 8 activations × 2 inbound sites × 2 contexts, 3 records each; 1099s back too.
    assert_eq!(log.lines().filter(|l| l.contains("\t1068\t")).count(), 32, "{log}");
    let d = replharness(&["diagnose", case.to_str().expect("p"), "--json"]);
    assert_eq!(d.code(), Some(0), "{}", d.text());
    let v: serde_json::Value = serde_json::from_str(&d.stdout).expect("json");
    assert_eq!(v["verdicts"][0]["id"], "exchange.healthy", "{v}");
}

#[test]
fn mesh_flavor_exchange_settles_and_writes_a_healthy_case() {
    let dir = tempfile::tempdir().expect("dir");
    let case = dir.path().join("case");
    let out = replharness(&[
        "mesh",
        "--flavor",
        "exchange",
        "--servers",
        "3",
        "--time-scale",
        "60",
        "--case-out",
        case.to_str().expect("p"),
    ]);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    assert!(out.stdout.contains("all links up; every request of the first activation answered"), "{}", out.stdout);
    assert!(out.stdout.contains("BH-LONDON -> BH-PARIS"), "{}", out.stdout);
    let topo = std::fs::read_to_string(case.join("topology.toml")).expect("topology.toml");
    assert!(topo.contains("[[connectors]]") && topo.contains("flavor = \"exchange\""), "{topo}");
    let d = replharness(&["diagnose", case.to_str().expect("p")]);
    assert_eq!(d.code(), Some(0), "{}", d.text());
    assert!(d.stdout.contains("exchange.healthy"), "{}", d.stdout);
    let refused = replharness(&["mesh", "--flavor", "exchange", "--servers", "1"]);
    assert_eq!(refused.code(), Some(2), "{}", refused.text());
    assert!(refused.stderr.contains("2 sites or more"), "{}", refused.stderr);
}

/// `run --filter exchange` passes, and its scenarios prove every
/// `exchange.*` verdict of the catalog.
#[test]
fn the_exchange_scenarios_prove_every_exchange_verdict() {
    let dir = tempfile::tempdir().expect("dir");
    let report = dir.path().join("r.jsonl");
    let out = replharness(&["run", "--filter", "exchange", "--report-json", report.to_str().expect("p")]);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    assert!(out.stdout.contains("5 passed, 0 failed"), "{}", out.stdout);
    let mut seen = std::collections::BTreeSet::new();
    for line in std::fs::read_to_string(&report).expect("report").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        if v["type"] == "scenario" {
            assert!(v["data"]["tags"].as_array().is_some_and(|t| t.iter().any(|x| x == "exchange")), "{v}");
            for verdict in v["data"]["verdicts"].as_array().expect("verdicts") {
                seen.insert(verdict["id"].as_str().expect("id").to_owned());
            }
        }
    }
    let catalog: std::collections::BTreeSet<String> =
        diagnosis::catalog::CATALOG.iter().filter(|d| d.id.starts_with("exchange.")).map(|d| d.id.to_owned()).collect();
    assert_eq!(seen, catalog);
}

/// docs/exchange.md: the complete example runs and passes; the JSON shown
/// has the keys `exchange-day --json` prints.
#[test]
fn the_documented_example_runs_and_the_documented_json_is_what_the_day_prints() {
    let md = std::fs::read_to_string(crate_file("../docs/exchange.md")).expect("docs");
    let at = md.find("A complete example").expect("the example");
    let start = at + md[at..].find("```toml\n").expect("toml") + "```toml\n".len();
    let body = &md[start..start + md[start..].find("```").expect("end")];
    let plan = scenarios::plan::load("docs/exchange.md", body).expect("the example is valid");
    assert!(plan.exchange.is_some(), "an exchange plan");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("example.toml");
    std::fs::write(&file, body).expect("write");
    let out = replharness(&["run", file.to_str().expect("p")]);
    assert_eq!(out.code(), Some(0), "{}", out.text());

    let start = md.find("```json\n").expect("json") + "```json\n".len();
    let shown: serde_json::Value =
        serde_json::from_str(&md[start..start + md[start..].find("```").expect("end")]).expect("the docs' JSON");
    let real = day_json(&["--sites", "10"]);
    let keys = |v: &serde_json::Value| v.as_object().expect("object").keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&shown), keys(&real));
    assert_eq!(keys(&shown["per_bridgehead"]["BH-LONDON"]), keys(&real["per_bridgehead"]["BH-LONDON"]));
    assert_eq!(shown["messages_counted"], real["messages_counted"]);
}
