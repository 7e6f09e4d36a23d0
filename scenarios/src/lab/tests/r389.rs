//! 389 Directory Server in the lab: suppliers named as `mesh --flavor 389`
//! names them, a link per pair of servers with an agreement between them,
//! a dropped agreement path's verdict and its end once healed, a bundled
//! 389 scenario's steps played as a script.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::*;
use crate::lab::app;

fn settings_389(servers: usize, consumers: usize) -> LabSettings {
    let spec = FlavorSpec {
        flavor: Flavor::R389,
        servers,
        consumers,
        version: "7.1".into(),
        backends: vec!["dc=example,dc=com".into()],
        tls: false,
        time_scale: 100.0,
    };
    let mut s = settings(servers + consumers);
    s.plan = topology::flavor(&spec).expect("plan");
    s.source = format!("{servers} 389 suppliers, {consumers} consumers");
    s.writes_every = Some(topology::R389_WRITE_EVERY);
    s
}

async fn start(s: LabSettings) -> std::sync::Arc<Lab> {
    tokio::time::timeout(Duration::from_secs(30), Lab::start(s)).await.expect("in time").expect("starts")
}

fn verdict<'a>(s: &'a Value, id: &str, agreement: &str) -> Option<&'a Value> {
    s["verdicts"].as_array()?.iter().find(|v| v["id"] == id && v["subject"]["agreement"] == agreement)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_389_lab_shows_its_agreements_and_a_dropped_path_gets_its_verdict_until_healed() {
    let lab = start(settings_389(1, 2)).await;
    let app = app(lab.clone());
    let s = state_until(&app, "both agreements healthy", |s| {
        verdict(s, "389.healthy", "s1-to-c1").is_some() && verdict(s, "389.healthy", "s1-to-c2").is_some()
    })
    .await;
    let servers = s["servers"].as_array().expect("servers");
    let names: Vec<&str> = servers.iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(names, ["slapd-s1", "slapd-c1", "slapd-c2"]);
    let s1 = &servers[0];
    assert_eq!((s1["flavor"].as_str(), s1["version"].as_str()), (Some("389"), Some("2.3.1")), "{s1:#}");
    assert_eq!((s1["host"].as_str(), s1["address"].as_str()), (Some("s1.example.com"), Some("127.0.0.1")));
    assert!(s1["replication_port"].as_u64().is_some_and(|p| p > 0) && s1["admin_port"].is_null(), "{s1:#}");
    // A link per pair with an agreement between them: the consumers have none with each other.
    let links: Vec<&str> = s["links"].as_array().expect("links").iter().filter_map(|l| l["name"].as_str()).collect();
    assert_eq!(links, ["slapd-s1 <-> slapd-c1", "slapd-s1 <-> slapd-c2"]);
    let l = link(&s, "slapd-s1 <-> slapd-c1");
    assert_eq!((l["state"].as_str(), l["up"].as_bool()), (Some("up"), Some(true)), "{l:#}");
    assert_eq!(l["directions"], json!([{"link": "slapd-s1 -> slapd-c1", "up": true, "agreement": "s1-to-c1"}]));

    // The page's Drop on the pair (either order) is the one agreement's path.
    let body = r#"{"link": "slapd-c1 <-> slapd-s1", "fault": {"type": "drop"}}"#;
    let (status, f) = call(&app, "POST", "/api/faults", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    assert_eq!((f["link"].as_str(), f["on"].clone()), (Some("slapd-s1 -> slapd-c1"), json!(["slapd-s1->slapd-c1"])));
    // The first failed connect reads `refused` (its bind line is the newest); from the
    // first retry on, the log's `network error 110` is: a connect that gets no answer.
    let s = state_until(&app, "the dropped agreement's verdict", |s| {
        verdict(s, "389.connection-error", "s1-to-c1").is_some_and(|v| v["cause"] == "timeout")
    })
    .await;
    let v = verdict(&s, "389.connection-error", "s1-to-c1").expect("verdict");
    assert_eq!(v["subject"]["server"], "slapd-s1");
    let guidance = v["guidance"].as_array().expect("guidance");
    assert!(guidance.iter().any(|g| g.as_str().is_some_and(|t| t.contains("gets no answer"))), "{v:#}");
    assert!(verdict(&s, "389.healthy", "s1-to-c2").is_some(), "the other agreement runs on: {s:#}");
    let l = link(&s, "slapd-s1 <-> slapd-c1");
    assert_eq!((l["state"].as_str(), &l["faults"][0]["id"]), (Some("down"), &f["id"]), "{l:#}");

    let (status, body) = call(&app, "DELETE", &format!("/api/faults/{}", f["id"]), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let s = state_until(&app, "the verdict to go", |s| {
        verdict(s, "389.connection-error", "s1-to-c1").is_none()
            && verdict(s, "389.healthy", "s1-to-c1").is_some()
            && link(s, "slapd-s1 <-> slapd-c1")["state"] == "up"
    })
    .await;
    let timeline: Vec<&str> = s["timeline"].as_array().expect("t").iter().filter_map(|t| t["what"].as_str()).collect();
    assert!(timeline.contains(&"drop on slapd-s1 -> slapd-c1 (fault 1)"), "{timeline:#?}");
    assert!(timeline.iter().any(|t| t.contains("+ 389.connection-error (timeout)")), "{timeline:#?}");
    assert!(timeline.iter().any(|t| t.contains("− 389.connection-error")), "{timeline:#?}");
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_389_lab_kills_and_starts_its_servers() {
    let lab = start(settings_389(1, 1)).await;
    let app = app(lab.clone());
    state_until(&app, "in sync", |s| verdict(s, "389.healthy", "s1-to-c1").is_some()).await;
    let (status, v) = call(&app, "POST", "/api/servers/slapd-c1/kill", None).await;
    assert_eq!((status, v["state"].as_str()), (StatusCode::OK, Some("killed")), "{v}");
    let s = state_until(&app, "the agreement to the killed consumer fails", |s| {
        verdict(s, "389.connection-error", "s1-to-c1").is_some()
    })
    .await;
    assert_eq!(link(&s, "slapd-s1 <-> slapd-c1")["state"], "down", "{s:#}");
    let (status, v) = call(&app, "POST", "/api/servers/slapd-c1/start", None).await;
    assert_eq!((status, v["state"].as_str()), (StatusCode::OK, Some("running")), "{v}");
    state_until(&app, "healthy again", |s| {
        verdict(s, "389.healthy", "s1-to-c1").is_some() && link(s, "slapd-s1 <-> slapd-c1")["up"] == true
    })
    .await;
    lab.shutdown().await;
}

/// The bundled firewall drop plays as a script on the 389 world (its
/// fault on the agreement's path, its write and its wait), and the page
/// heals the scenario's fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundled_389_scenario_plays_as_a_script_and_its_fault_can_be_healed() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/library/389-firewall-drop.toml");
    let text = std::fs::read_to_string(file).expect("bundled scenario");
    let mut s = settings(2);
    s.plan = topology::scenario("389-firewall-drop.toml", &text, None).expect("plan");
    s.source = s.plan.name.clone();
    let lab = start(s).await;
    let app = app(lab.clone());
    let s = state_until(&app, "the scenario's fault", |s| s["faults"].as_array().is_some_and(|f| !f.is_empty())).await;
    let names: Vec<&str> =
        s["servers"].as_array().expect("servers").iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(names, ["slapd-a", "slapd-b"], "the 389 servers, not DS ones");
    assert!(s["servers"].as_array().expect("servers").iter().all(|v| v["flavor"] == "389"), "{s:#}");
    let f = s["faults"][0].clone();
    assert_eq!((f["by"].as_str(), f["link"].as_str()), (Some("scenario"), Some("slapd-a -> slapd-b")), "{f:#}");
    let s = state_until(&app, "the file's expected verdict", |s| {
        verdict(s, "389.connection-error", "a-to-b").is_some_and(|v| v["cause"] == "timeout")
    })
    .await;
    assert_eq!(link(&s, "slapd-a <-> slapd-b")["state"], "down", "{s:#}");
    let (status, _) = call(&app, "DELETE", &format!("/api/faults/{}", f["id"]), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let s = state_until(&app, "healed", |s| {
        verdict(s, "389.healthy", "a-to-b").is_some() && link(s, "slapd-a <-> slapd-b")["state"] == "up"
    })
    .await;
    let timeline: Vec<&str> = s["timeline"].as_array().expect("t").iter().filter_map(|t| t["what"].as_str()).collect();
    assert!(timeline.contains(&"1 change(s) written on slapd-a"), "{timeline:#?}");
    lab.shutdown().await;
}
