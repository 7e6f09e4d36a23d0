//! Links broken and healed: a DS drop, a scenario's own fault, an Exchange
//! organization; probes once per action.

use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use serde_json::{json, Value};

use super::*;
use crate::lab::app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_link_gets_its_verdict_and_loses_it_once_healed() {
    let lab = lab(2).await;
    let app = app(lab.clone());
    let s = state_until(&app, "healthy at first", |s| has_verdict(s, "ds.healthy")).await;
    let names: Vec<&str> =
        s["servers"].as_array().expect("servers").iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(names, ["ds-1", "ds-2"]);
    assert_eq!(link(&s, "ds-1 <-> ds-2")["state"], "up", "{s:#}");

    // The names in either order.
    let (status, f) =
        call(&app, "POST", "/api/faults", Some(r#"{"link": "ds-2 <-> ds-1", "fault": {"type": "drop"}}"#)).await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    assert_eq!(f["id"], 1);
    assert_eq!(f["link"], "ds-1 <-> ds-2");
    assert_eq!(f["on"], json!(["ds-1->ds-2", "ds-2->ds-1"]));
    assert_eq!(f["fault"]["type"], "drop");

    let s = state_until(&app, "the drop's verdict", |s| has_verdict(s, "ds.rs-peer-unreachable")).await;
    let l = link(&s, "ds-1 <-> ds-2");
    assert_eq!(l["state"], "down", "{l:#}");
    assert_eq!(l["faults"][0]["id"], 1);
    let v =
        s["verdicts"].as_array().expect("verdicts").iter().find(|v| v["id"] == "ds.rs-peer-unreachable").expect("v");
    assert_eq!(v["cause"], "firewall-drop", "the probes tell a drop: {v:#}");
    assert!(
        v["evidence"].as_array().is_some_and(|e| !e.is_empty())
            && v["guidance"].as_array().is_some_and(|g| !g.is_empty())
    );
    assert!(!has_verdict(&s, "ds.healthy"));

    let (status, body) = call(&app, "DELETE", "/api/faults/1", None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let s = state_until(&app, "the verdict to go", |s| {
        !has_verdict(s, "ds.rs-peer-unreachable") && link(s, "ds-1 <-> ds-2")["state"] == "up"
    })
    .await;
    let timeline: Vec<&str> = s["timeline"].as_array().expect("t").iter().filter_map(|t| t["what"].as_str()).collect();
    assert!(timeline.contains(&"drop on ds-1 <-> ds-2 (fault 1)"), "{timeline:#?}");
    assert!(timeline.contains(&"healed ds-1 <-> ds-2: removed drop (fault 1)"), "{timeline:#?}");
    assert!(timeline.iter().any(|t| t.contains("+ ds.rs-peer-unreachable (firewall-drop)")), "{timeline:#?}");
    assert!(timeline.iter().any(|t| t.contains("− ds.rs-peer-unreachable")), "{timeline:#?}");
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_files_steps_play_as_a_script_and_its_faults_can_be_healed() {
    let text = r#"
name = "scripted cut"
time_scale = 100
[topology]
[[topology.servers]]
name = "ds-1"
[[topology.servers]]
name = "ds-2"
[[steps]]
at = "10s"
action = "fault"
link = "ds-1 <-> ds-2"
name = "cut"
fault = { type = "reject", attributes = { reset_existing = true } }
"#;
    let mut s = settings(2);
    s.plan = topology::scenario("scripted.toml", text, None).expect("plan");
    let lab = tokio::time::timeout(Duration::from_secs(30), Lab::start(s)).await.expect("in time").expect("starts");
    let app = app(lab.clone());
    let s = state_until(&app, "the scenario's fault", |s| s["faults"].as_array().is_some_and(|f| !f.is_empty())).await;
    let f = &s["faults"][0];
    assert_eq!(
        (f["by"].as_str(), f["link"].as_str(), f["fault"]["name"].as_str()),
        (Some("scenario"), Some("ds-1 <-> ds-2"), Some("cut"))
    );
    state_until(&app, "the rejected link's verdict", |s| has_verdict(s, "ds.rs-peer-unreachable")).await;
    let id = f["id"].as_u64().expect("id");
    let (status, _) = call(&app, "DELETE", &format!("/api/faults/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    state_until(&app, "healed", |s| {
        link(s, "ds-1 <-> ds-2")["state"] == "up" && !has_verdict(s, "ds.rs-peer-unreachable")
    })
    .await;
    lab.shutdown().await;
}

/// Probes are connections the servers log (86 on a DS for a connect that
/// sends nothing): they run once per action, so the engine's snapshots do
/// not feed the logs they read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_run_once_per_action_not_at_every_snapshot() {
    let lab = lab(2).await;
    let app = app(lab.clone());
    let count_86 = |app: Router| async move {
        let (_, v) = call(&app, "GET", "/api/servers/ds-1/logs?lines=5000", None).await;
        v["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .filter(|l| l["line"].as_str().is_some_and(|t| t.contains(" msgID=86 ")))
            .count()
    };
    let s = state_until(&app, "healthy", |s| has_verdict(s, "ds.healthy")).await;
    let first = s["engine"]["snapshots"].as_u64().expect("snapshots");
    let before = count_86(app.clone()).await;
    state_until(&app, "three more snapshots", |s| s["engine"]["snapshots"].as_u64() >= Some(first + 3)).await;
    assert_eq!(count_86(app.clone()).await, before, "snapshots without an action probe nothing");

    let (status, _) = call(
        &app,
        "POST",
        "/api/faults",
        Some(r#"{"link": "ds-1 <-> ds-2", "fault": {"type": "latency", "attributes": {"latency": 1}}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let until = tokio::time::Instant::now() + VERDICT_WAIT;
    while count_86(app.clone()).await == before {
        assert!(tokio::time::Instant::now() < until, "an action probes again: ds-2's probe reaches ds-1");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    lab.shutdown().await;
}

/// An Exchange organization in the lab: bridgeheads named as `mesh
/// --flavor exchange` names them, a dropped link's no-reply verdict, gone
/// once healed. (At ×1000 an activation every 15 minutes is 0.9 s.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_organization_breaks_and_heals_too() {
    let spec = FlavorSpec {
        flavor: Flavor::Exchange,
        servers: 2,
        consumers: 0,
        version: String::new(),
        backends: Vec::new(),
        tls: false,
        time_scale: 1000.0,
    };
    let mut s = settings(2);
    s.plan = topology::flavor(&spec).expect("plan");
    let lab = tokio::time::timeout(Duration::from_secs(30), Lab::start(s)).await.expect("in time").expect("starts");
    let app = app(lab.clone());
    let s = state_until(&app, "healthy", |s| has_verdict(s, "exchange.healthy")).await;
    let names: Vec<&str> =
        s["servers"].as_array().expect("servers").iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(names, ["BH-LONDON", "BH-PARIS"]);
    assert_eq!(s["servers"][0]["flavor"], "exchange");
    let l = link(&s, "BH-LONDON <-> BH-PARIS");
    assert_eq!(l["directions"].as_array().map(Vec::len), Some(2), "{l:#}");

    let body = r#"{"link": "BH-PARIS <-> BH-LONDON", "fault": {"type": "drop"}}"#;
    let (status, f) = call(&app, "POST", "/api/faults", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    assert_eq!(f["on"], json!(["BH-LONDON->BH-PARIS", "BH-PARIS->BH-LONDON"]));
    let s = state_until(&app, "no reply", |s| has_verdict(s, "exchange.no-reply")).await;
    assert!(!has_verdict(&s, "exchange.healthy"), "{s:#}");
    let (status, _) = call(&app, "DELETE", &format!("/api/faults/{}", f["id"]), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    state_until(&app, "healthy again", |s| has_verdict(s, "exchange.healthy") && !has_verdict(s, "exchange.no-reply"))
        .await;
    let (status, v) = call(&app, "POST", "/api/servers/BH-PARIS/kill", None).await;
    assert_eq!((status, v["state"].as_str(), v["site"].as_str()), (StatusCode::OK, Some("killed"), Some("PARIS")));
    lab.shutdown().await;
}
