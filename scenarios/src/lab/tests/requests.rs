//! Servers stopped, killed, started and their DNS; bad requests; another
//! origin; logs; the page.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use serde_json::json;
use tower::ServiceExt as _;

use super::*;
use crate::lab::app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_stop_kill_start_and_lose_their_dns_record() {
    let lab = lab(2).await;
    let app = app(lab.clone());
    let (status, v) = call(&app, "POST", "/api/servers/ds-2/kill", None).await;
    assert_eq!((status, v["state"].as_str()), (StatusCode::OK, Some("killed")), "{v}");
    let (status, v) = call(&app, "POST", "/api/servers/ds-2/kill", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "ds-2 is not running");
    state_until(&app, "the link down", |s| link(s, "ds-1 <-> ds-2")["up"] == false).await;
    let (status, v) = call(&app, "POST", "/api/servers/ds-2/start", None).await;
    assert_eq!((status, v["state"].as_str()), (StatusCode::OK, Some("running")), "{v}");
    let (status, v) = call(&app, "POST", "/api/servers/ds-2/start", None).await;
    assert_eq!((status, v["error"].as_str()), (StatusCode::CONFLICT, Some("ds-2 is already running")));
    state_until(&app, "the link up again", |s| link(s, "ds-1 <-> ds-2")["up"] == true).await;
    let (status, v) = call(&app, "POST", "/api/servers/ds-1/stop", None).await;
    assert_eq!((status, v["state"].as_str()), (StatusCode::OK, Some("stopped")));

    let (status, v) = call(&app, "POST", "/api/servers/ds-2/break-dns", None).await;
    assert_eq!((status, v["dns"].as_str()), (StatusCode::OK, Some("broken")), "{v}");
    assert_eq!(v["dns_detail"], "ds-2.example.com does not resolve");
    let (status, v) = call(&app, "POST", "/api/servers/ds-2/restore-dns", None).await;
    assert_eq!((status, v["dns"].as_str(), v.get("dns_detail")), (StatusCode::OK, Some("ok"), None));

    let (_, s) = call(&app, "GET", "/api/state", None).await;
    let said: Vec<&str> = s["timeline"].as_array().expect("t").iter().filter_map(|t| t["what"].as_str()).collect();
    assert_eq!(
        said.iter().filter(|t| !t.starts_with("verdicts")).copied().collect::<Vec<_>>(),
        [
            "killed ds-2",
            "started ds-2",
            "stopped ds-1 (a clean stop)",
            "broke the DNS record of ds-2.example.com (ds-2)",
            "restored the DNS record of ds-2.example.com (ds-2)"
        ]
    );
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_400_unknown_names_404_with_a_message() {
    let lab = lab(2).await;
    let app = app(lab.clone());
    let cases: &[(&str, &str, Option<&str>, StatusCode, &str)] = &[
        ("POST", "/api/faults", Some("{not json"), StatusCode::BAD_REQUEST, "bad request body: key must be a string"),
        ("POST", "/api/faults", Some(r#"{"lnk": "a <-> b"}"#), StatusCode::BAD_REQUEST, "unknown field `lnk`"),
        (
            "POST",
            "/api/faults",
            Some(r#"{"link": "ds-1", "fault": {"type": "drop"}}"#),
            StatusCode::BAD_REQUEST,
            "link \"ds-1\" is not \"A <-> B\" or \"A -> B\"",
        ),
        (
            "POST",
            "/api/faults",
            Some(r#"{"link": "ds-1 <-> ds-9", "fault": {"type": "drop"}}"#),
            StatusCode::NOT_FOUND,
            "no server named \"ds-9\" (servers: ds-1, ds-2)",
        ),
        (
            "POST",
            "/api/faults",
            Some(r#"{"link": "ds-1 -> ds-1", "fault": {"type": "drop"}}"#),
            StatusCode::NOT_FOUND,
            "no link ds-1->ds-1 goes through the fault proxy (proxied links: ds-1->ds-2, ds-2->ds-1)",
        ),
        (
            "POST",
            "/api/faults",
            Some(r#"{"link": "ds-1 <-> ds-2", "fault": {"type": "lag"}}"#),
            StatusCode::BAD_REQUEST,
            "fault.type: invalid toxic type (expected one of latency, bandwidth",
        ),
        (
            "POST",
            "/api/faults",
            Some(r#"{"link": "ds-1 <-> ds-2", "fault": {"type": "latency", "attributes": {"latency": "slow"}}}"#),
            StatusCode::BAD_REQUEST,
            "fault: attributes.latency: expected a whole number, got \"slow\"",
        ),
        (
            "POST",
            "/api/faults",
            Some(r#"{"link": "ds-1 <-> ds-2", "fault": {"type": "latency", "attributes": {"latency": -5}}}"#),
            StatusCode::BAD_REQUEST,
            "attributes.latency",
        ),
        (
            "POST",
            "/api/faults",
            Some(r#"{"link": "ds-1 <-> ds-2", "fault": "drop"}"#),
            StatusCode::BAD_REQUEST,
            "fault must be an object such as {\"type\": \"drop\"}",
        ),
        (
            "POST",
            "/api/faults",
            Some(r#"{"link": "ds-1 <-> ds-2", "port": "ldap", "fault": {"type": "drop"}}"#),
            StatusCode::BAD_REQUEST,
            "unknown variant `ldap`",
        ),
        ("DELETE", "/api/faults/99", None, StatusCode::NOT_FOUND, "no fault with id 99"),
        ("DELETE", "/api/faults/abc", None, StatusCode::NOT_FOUND, "no fault with id abc"),
        ("POST", "/api/servers/ds-9/stop", None, StatusCode::NOT_FOUND, "no server named \"ds-9\""),
        ("POST", "/api/servers/ds-9/explode", None, StatusCode::NOT_FOUND, "no server named \"ds-9\""),
        ("POST", "/api/servers/ds-1/explode", None, StatusCode::NOT_FOUND, "unknown action \"explode\""),
        ("GET", "/api/servers/ds-9/logs", None, StatusCode::NOT_FOUND, "no server named \"ds-9\""),
        ("GET", "/api/servers/ds-1/logs?lines=lots", None, StatusCode::BAD_REQUEST, "lines must be a whole number"),
        ("GET", "/api/servers/ds-1/logs?lines=99999999", None, StatusCode::BAD_REQUEST, "lines must be at most 5000"),
        ("GET", "/api/nothing", None, StatusCode::NOT_FOUND, "no such route: GET /api/nothing"),
    ];
    for (method, path, body, want, message) in cases {
        let (status, v) = call(&app, method, path, *body).await;
        assert_eq!(status, *want, "{method} {path} {body:?}: {v}");
        let error = v["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{method} {path} {body:?}:\n  want {message:?}\n  got  {error:?}");
        assert_eq!(v["status"], want.as_u16());
    }
    // Nothing was installed by the refused requests.
    let (_, s) = call(&app, "GET", "/api/state", None).await;
    assert_eq!(s["faults"], json!([]), "{s:#}");
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_another_origin_cannot_change_anything() {
    let lab = lab(2).await;
    let app = app(lab.clone());
    let req = |origin: &str| {
        Request::builder()
            .method("POST")
            .uri("/api/servers/ds-1/kill")
            .header(header::HOST, "127.0.0.1:4000")
            .header(header::ORIGIN, origin)
            .body(Body::empty())
            .expect("request")
    };
    let resp = app.clone().oneshot(req("http://evil.example")).await.expect("answer");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(lab.net.is_running("ds-1").await, "the kill was refused");
    let resp = app.clone().oneshot(req("http://127.0.0.1:4000")).await.expect("answer");
    assert_eq!(resp.status(), StatusCode::OK, "the page's own origin may");
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_tailed_by_record_number() {
    let lab = lab(1).await;
    let app = app(lab.clone());
    let (status, v) = call(&app, "GET", "/api/servers/ds-1/logs?lines=2", None).await;
    assert_eq!(status, StatusCode::OK);
    let total = v["total"].as_u64().expect("total");
    let lines = v["lines"].as_array().expect("lines");
    assert!(total >= 2, "{v}");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["n"].as_u64(), Some(total), "the newest last");
    assert_eq!(lines[0]["n"].as_u64(), Some(total - 1));
    assert!(lines.iter().all(|l| l["line"].as_str().is_some_and(|t| t.contains(" category="))), "{v}");
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_from_the_binary_and_fetches_nothing_elsewhere() {
    let lab = lab(1).await;
    let app = app(lab.clone());
    for (path, kind) in [("/", "text/html"), ("/app.js", "text/javascript"), ("/style.css", "text/css")] {
        let req = Request::builder().uri(path).body(Body::empty()).expect("request");
        let resp = app.clone().oneshot(req).await.expect("answer");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let h = resp.headers();
        assert!(h[header::CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with(kind)), "{path}: {h:?}");
        assert!(h[header::CONTENT_SECURITY_POLICY].to_str().is_ok_and(|p| p.starts_with("default-src 'self'")));
        let text =
            String::from_utf8(resp.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("utf-8");
        // The one absolute URL is SVG's namespace name, which nothing fetches.
        let outside = text.replace("http://www.w3.org/2000/svg", "");
        assert!(!outside.contains("http://") && !outside.contains("https://") && !outside.contains("//cdn"), "{path}");
    }
    let (_, page) = call_text(&app, "/").await;
    for needle in ["src=\"/app.js\"", "href=\"/style.css\"", "id=\"verdicts\"", "id=\"timeline\"", "id=\"graph\""] {
        assert!(page.contains(needle), "{needle}");
    }
    lab.shutdown().await;
}

async fn call_text(app: &Router, path: &str) -> (StatusCode, String) {
    let req = Request::builder().uri(path).body(Body::empty()).expect("request");
    let resp = app.clone().oneshot(req).await.expect("answer");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
