//! `GET /api/events`: every change announced, the end at shutdown.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

use super::*;
use crate::lab::app;

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
