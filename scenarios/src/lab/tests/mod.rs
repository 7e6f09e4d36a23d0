//! The API driven with `oneshot` (no port), over a real lab on loopback:
//! faults and their verdicts, servers, bad requests, the event stream, the
//! page, the families. Every wait is bounded and waits for behaviour.
//!
//! - [`faults`]: links broken and healed (DS, a scenario's script, Exchange), probes per action.
//! - [`requests`]: servers, bad requests, other origins, logs, the page.
//! - [`events`]: the event stream.
//! - [`r389`]: 389 suppliers: agreements as links, a dropped path, a bundled scenario.

mod events;
mod faults;
mod r389;
mod requests;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

use super::args::LabSettings;
use super::topology::{self, Flavor, FlavorSpec};
use super::Lab;

/// How long a verdict may take to follow a change (the issue allows 30 s
/// to appear and 60 s to go; a loaded test machine gets the larger).
pub(super) const VERDICT_WAIT: Duration = Duration::from_secs(60);

pub(super) fn settings(servers: usize) -> LabSettings {
    let spec = FlavorSpec {
        flavor: Flavor::Ds,
        servers,
        consumers: 0,
        version: "7.1".into(),
        backends: vec!["dc=example,dc=com".into()],
        tls: false,
        time_scale: 100.0,
    };
    LabSettings {
        plan: topology::flavor(&spec).expect("plan"),
        source: format!("{servers} ds servers"),
        seed: 7,
        listen: "127.0.0.1:0".parse().expect("addr"),
        case_out: None,
        refresh: Duration::from_millis(500),
        writes_every: None,
    }
}

pub(super) async fn lab(servers: usize) -> Arc<Lab> {
    tokio::time::timeout(Duration::from_secs(30), Lab::start(settings(servers)))
        .await
        .expect("the lab starts in time")
        .expect("the lab starts")
}

pub(super) async fn call(app: &Router, method: &str, path: &str, body: Option<&str>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1:1")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(30), app.clone().oneshot(req))
        .await
        .expect("answered in time")
        .expect("infallible");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let v = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("a JSON answer") };
    (status, v)
}

/// Polls the state until `pred` holds; the state it last saw when it did not in time.
pub(super) async fn state_until(app: &Router, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let until = tokio::time::Instant::now() + VERDICT_WAIT;
    loop {
        let (status, s) = call(app, "GET", "/api/state", None).await;
        assert_eq!(status, StatusCode::OK);
        if pred(&s) {
            return s;
        }
        assert!(tokio::time::Instant::now() < until, "{what}: not within {VERDICT_WAIT:?}; last state:\n{s:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(super) fn has_verdict(s: &Value, id: &str) -> bool {
    s["verdicts"].as_array().is_some_and(|vs| vs.iter().any(|v| v["id"] == id))
}

pub(super) fn link<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["links"].as_array().and_then(|ls| ls.iter().find(|l| l["name"] == name)).unwrap_or(&Value::Null)
}
