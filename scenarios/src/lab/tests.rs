//! The API driven with `oneshot` (no port), over a real two-server lab on
//! loopback: faults and their verdicts, servers, bad requests, the event
//! stream, the page. Every wait is bounded and waits for behaviour.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

use super::args::LabSettings;
use super::topology::{self, Flavor, FlavorSpec};
use super::{app, Lab};

/// How long a verdict may take to follow a change (the issue allows 30 s
/// to appear and 60 s to go; a loaded test machine gets the larger).
const VERDICT_WAIT: Duration = Duration::from_secs(60);

fn settings(servers: usize) -> LabSettings {
    let spec = FlavorSpec {
        flavor: Flavor::Ds,
        servers,
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
    }
}

async fn lab(servers: usize) -> Arc<Lab> {
    tokio::time::timeout(Duration::from_secs(30), Lab::start(settings(servers)))
        .await
        .expect("the lab starts in time")
        .expect("the lab starts")
}

async fn call(app: &Router, method: &str, path: &str, body: Option<&str>) -> (StatusCode, Value) {
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
async fn state_until(app: &Router, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
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

fn has_verdict(s: &Value, id: &str) -> bool {
    s["verdicts"].as_array().is_some_and(|vs| vs.iter().any(|v| v["id"] == id))
}

fn link<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["links"].as_array().and_then(|ls| ls.iter().find(|l| l["name"] == name)).unwrap_or(&Value::Null)
}

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

/// An event stream being read: events not asked for yet are kept, so a
/// test waits for each without caring in which order different kinds come.
struct Events {
    body: Body,
    buf: String,
    unread: Vec<(String, Value)>,
}

impl Events {
    /// The first event of `kind` whose data satisfies `pred` (taken out);
    /// fails with what it read when none comes in time.
    async fn next(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let until = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            // Complete events end with a blank line.
            while let Some(end) = self.buf.find("\n\n") {
                let event: String = self.buf.drain(..end + 2).collect();
                let name = event.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("message");
                let data = event.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("null");
                let v: Value = serde_json::from_str(data).expect("an event's data is JSON");
                self.unread.push((name.to_owned(), v));
            }
            if let Some(i) = self.unread.iter().position(|(k, v)| k == kind && pred(v)) {
                return self.unread.remove(i).1;
            }
            match tokio::time::timeout_at(until, self.body.frame()).await {
                Ok(Some(Ok(f))) => {
                    if let Some(d) = f.data_ref() {
                        self.buf.push_str(&String::from_utf8_lossy(d));
                    }
                }
                other => {
                    let kinds: Vec<&str> = self.unread.iter().map(|(k, _)| k.as_str()).collect();
                    panic!("no such {kind:?} event in the stream ({other:?}); unread: {kinds:?}")
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_announces_every_change_and_ends_at_shutdown() {
    let lab = lab(2).await;
    let app = app(lab.clone());
    let req = Request::builder().uri("/api/events").body(Body::empty()).expect("request");
    let resp = app.clone().oneshot(req).await.expect("answer");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut events = Events { body: resp.into_body(), buf: String::new(), unread: Vec::new() };
    let ready = events.next("ready", |_| true).await;
    assert_eq!(ready, json!({"time_scale": 100.0}));

    let (status, _) = call(
        &app,
        "POST",
        "/api/faults",
        Some(r#"{"link": "ds-1 -> ds-2", "fault": {"type": "latency", "attributes": {"latency": 5}}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let v = events.next("fault-added", |_| true).await;
    assert_eq!(
        (v["id"].as_u64(), v["link"].as_str(), v["on"].clone()),
        (Some(1), Some("ds-1 -> ds-2"), json!(["ds-1->ds-2"]))
    );
    let t = events.next("timeline", |t| t["by"] == "trainer").await;
    assert_eq!(t["what"], "latency latency=5 on ds-1 -> ds-2 (fault 1)", "said as it was asked");

    call(&app, "POST", "/api/servers/ds-2/stop", None).await;
    events.next("server", |v| v["name"] == "ds-2" && v["state"] == "stopped").await;
    // The clean stop's lines, as they are written.
    let line = events
        .next("log", |v| v["line"].as_str().is_some_and(|l| l.contains("The Directory Server is now stopped")))
        .await;
    assert_eq!(line["server"], "ds-2");
    assert!(line["n"].as_u64().is_some_and(|n| n > 1), "{line}");
    events.next("links", |v| v["links"][0]["up"] == false).await;

    lab.shutdown().await;
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.body.frame().await {
                None => return true,
                Some(Ok(_)) => continue,
                Some(Err(_)) => return false,
            }
        }
    })
    .await;
    assert_eq!(end.ok(), Some(true), "the stream ends when the lab shuts down");
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
