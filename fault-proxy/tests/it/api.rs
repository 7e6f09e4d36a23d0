//! The control API through `axum` without a port: Toxiproxy's statuses,
//! bodies and partial updates.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use fault_proxy::{api, Options, ProxyServer};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::support::{connect, Echo};

pub async fn call(server: &ProxyServer, method: Method, path: &str, body: Option<&str>) -> (StatusCode, Value) {
    call_as(server, method, path, body, "toxiproxy-cli").await
}

async fn call_as(
    server: &ProxyServer,
    method: Method,
    path: &str,
    body: Option<&str>,
    agent: &str,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("user-agent", agent)
        .body(body.map(|b| Body::from(b.to_owned())).unwrap_or_else(Body::empty))
        .expect("request");
    let resp = api::app(server.clone()).oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, v)
}

fn err(msg: &str, status: u16) -> Value {
    json!({"error": msg, "status": status})
}

#[tokio::test]
async fn proxies_are_created_shown_and_refused_as_toxiproxy_does() {
    let echo = Echo::start().await;
    let s = ProxyServer::new(Options::default());
    let up = echo.addr.to_string();
    assert_eq!(
        call(&s, Method::POST, "/proxies", Some(r#"{"upstream":"x:1"}"#)).await,
        (StatusCode::BAD_REQUEST, err("missing required field: name", 400))
    );
    assert_eq!(
        call(&s, Method::POST, "/proxies", Some(r#"{"name":"a"}"#)).await,
        (StatusCode::BAD_REQUEST, err("missing required field: upstream", 400))
    );
    let (st, v) = call(&s, Method::POST, "/proxies", Some("{not json")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().expect("error").starts_with("bad request body: "), "{v}");
    let body = json!({"name": "a", "listen": "127.0.0.1:0", "upstream": up, "some_future_key": 1}).to_string();
    let (st, v) = call(&s, Method::POST, "/proxies", Some(&body)).await;
    assert_eq!(st, StatusCode::CREATED);
    let listen = v["listen"].as_str().expect("listen");
    assert!(!listen.ends_with(":0"), "port 0 is echoed as the real port: {listen}");
    assert_eq!((v["enabled"].clone(), v["toxics"].clone()), (json!(true), json!([])));
    assert_eq!(
        call(&s, Method::POST, "/proxies", Some(&body)).await,
        (StatusCode::CONFLICT, err("proxy already exists", 409))
    );
    let (st, all) = call(&s, Method::GET, "/proxies", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(all["a"]["listen"], listen);
    assert_eq!(
        call(&s, Method::GET, "/proxies/nope", None).await,
        (StatusCode::NOT_FOUND, err("proxy not found", 404))
    );
    let (st, v) = call(&s, Method::GET, "/version", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["version"].is_string());
    assert_eq!(
        call_as(&s, Method::GET, "/proxies", None, "Mozilla/5.0 (X11)").await,
        (StatusCode::FORBIDDEN, err("User agent not allowed", 403))
    );
    assert_eq!(call(&s, Method::DELETE, "/proxies/a", None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&s, Method::DELETE, "/proxies/a", None).await,
        (StatusCode::NOT_FOUND, err("proxy not found", 404))
    );
    s.shutdown().await;
}

#[tokio::test]
async fn toxics_follow_toxiproxys_codes_and_partial_updates() {
    let echo = Echo::start().await;
    let s = ProxyServer::new(Options::default());
    let body = json!({"name": "a", "upstream": echo.addr.to_string()}).to_string();
    assert_eq!(call(&s, Method::POST, "/proxies", Some(&body)).await.0, StatusCode::CREATED);
    let lat = r#"{"type":"latency","attributes":{"latency":100,"jitter":10},"extra":"ignored"}"#;
    let (st, v) = call(&s, Method::POST, "/proxies/a/toxics", Some(lat)).await;
    assert_eq!(st, StatusCode::OK, "Toxiproxy answers 200, not 201, for a new toxic");
    assert_eq!(
        v,
        json!({"name": "latency_downstream", "type": "latency", "stream": "downstream", "toxicity": 1.0, "attributes": {"latency": 100, "jitter": 10}})
    );
    assert_eq!(
        call(&s, Method::POST, "/proxies/a/toxics", Some(lat)).await,
        (StatusCode::CONFLICT, err("toxic already exists", 409))
    );
    assert_eq!(
        call(&s, Method::POST, "/proxies/a/toxics", Some(r#"{"type":"lag"}"#)).await,
        (StatusCode::BAD_REQUEST, err("invalid toxic type", 400))
    );
    assert_eq!(
        call(&s, Method::POST, "/proxies/a/toxics", Some(r#"{"type":"latency","stream":"sideways"}"#)).await,
        (StatusCode::BAD_REQUEST, err("stream was invalid, can be either upstream or downstream", 400))
    );
    assert_eq!(
        call(&s, Method::POST, "/proxies/nope/toxics", Some(lat)).await,
        (StatusCode::NOT_FOUND, err("proxy not found", 404))
    );
    // PATCH merges attributes; the older POST does the same.
    let (st, v) =
        call(&s, Method::PATCH, "/proxies/a/toxics/latency_downstream", Some(r#"{"attributes":{"latency":300}}"#))
            .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["attributes"], json!({"latency": 300, "jitter": 10}));
    let (_, v) = call(&s, Method::POST, "/proxies/a/toxics/latency_downstream", Some(r#"{"toxicity":0.5}"#)).await;
    assert_eq!((v["toxicity"].clone(), v["attributes"]["latency"].clone()), (json!(0.5), json!(300)));
    let (st, list) = call(&s, Method::GET, "/proxies/a/toxics", None).await;
    assert_eq!((st, list.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    assert_eq!(
        call(&s, Method::GET, "/proxies/a/toxics/nope", None).await,
        (StatusCode::NOT_FOUND, err("toxic not found", 404))
    );
    // Our additions ride along in the same shape.
    let drop = r#"{"type":"drop","name":"cut","schedule":{"start_after_ms":1000,"duration_ms":500},"target":{"client":"127.0.0.2"}}"#;
    let (st, v) = call(&s, Method::POST, "/proxies/a/toxics", Some(drop)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["stream"], "both");
    assert_eq!(v["schedule"], json!({"start_after_ms": 1000, "duration_ms": 500}));
    assert_eq!(v["target"], json!({"client": "127.0.0.2"}));
    assert_eq!(call(&s, Method::DELETE, "/proxies/a/toxics/cut", None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&s, Method::DELETE, "/proxies/a/toxics/cut", None).await,
        (StatusCode::NOT_FOUND, err("toxic not found", 404))
    );
    s.shutdown().await;
}

#[tokio::test]
async fn disable_enable_and_reset() {
    let echo = Echo::start().await;
    let s = ProxyServer::new(Options::default());
    let body = json!({"name": "a", "upstream": echo.addr.to_string()}).to_string();
    let (_, v) = call(&s, Method::POST, "/proxies", Some(&body)).await;
    let listen: std::net::SocketAddr = v["listen"].as_str().expect("listen").parse().expect("addr");
    call(&s, Method::POST, "/proxies/a/toxics", Some(r#"{"type":"latency"}"#)).await;
    let (st, v) = call(&s, Method::POST, "/proxies/a", Some(r#"{"enabled":false}"#)).await;
    assert_eq!(
        (st, v["enabled"].clone(), v["upstream"].clone()),
        (StatusCode::OK, json!(false), json!(echo.addr.to_string()))
    );
    let refused = tokio::net::TcpStream::connect(listen).await.expect_err("disabled: nothing listens");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    // POST /reset with no body at all (as clients send it): 204, re-enabled, no toxics.
    let (st, v) = call(&s, Method::POST, "/reset", None).await;
    assert_eq!((st, v), (StatusCode::NO_CONTENT, Value::Null));
    let (_, v) = call(&s, Method::GET, "/proxies/a", None).await;
    assert_eq!(
        (v["enabled"].clone(), v["toxics"].clone(), v["listen"].clone()),
        (json!(true), json!([]), json!(listen.to_string()))
    );
    drop(connect(listen).await);
    s.shutdown().await;
}

#[tokio::test]
async fn populate_keeps_unchanged_proxies_and_their_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let echo = Echo::start().await;
    let s = ProxyServer::new(Options::default());
    let up = echo.addr.to_string();
    let list = json!([{"name": "a", "listen": "127.0.0.1:0", "upstream": up}, {"name": "b", "upstream": up, "toxics": [{"type": "latency", "attributes": {"latency": 5}}]}]);
    let (st, v) = call(&s, Method::POST, "/populate", Some(&list.to_string())).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(v["proxies"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["proxies"][1]["toxics"][0]["attributes"]["latency"], 5, "toxics in populate are installed");
    let a_listen = v["proxies"][0]["listen"].as_str().expect("listen").to_owned();
    let mut live = connect(a_listen.parse().expect("addr")).await;
    // The same list again: nothing restarts, the open connection still works.
    let again = json!([{"name": "a", "listen": a_listen, "upstream": up}]);
    assert_eq!(call(&s, Method::POST, "/populate", Some(&again.to_string())).await.0, StatusCode::CREATED);
    live.write_all(b"still here").await.expect("write");
    let mut buf = [0u8; 10];
    tokio::time::timeout(crate::support::WAIT, live.read_exact(&mut buf)).await.expect("in time").expect("read");
    assert_eq!(&buf, b"still here");
    let (st, v) = call(&s, Method::POST, "/populate", Some(r#"[{"name":"c"}]"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!((v["error"].clone(), v["status"].clone()), (json!("missing required field: upstream"), json!(400)));
    s.shutdown().await;
}

#[tokio::test]
async fn metrics_count_bytes_per_direction() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let echo = Echo::start().await;
    let s = ProxyServer::new(Options::default());
    let (_, v) =
        call(&s, Method::POST, "/proxies", Some(&json!({"name": "m", "upstream": echo.addr.to_string()}).to_string()))
            .await;
    let mut c = connect(v["listen"].as_str().expect("l").parse().expect("a")).await;
    c.write_all(&[7u8; 1000]).await.expect("write");
    let mut buf = vec![0u8; 1000];
    tokio::time::timeout(crate::support::WAIT, c.read_exact(&mut buf)).await.expect("in time").expect("read");
    let (st, text) = call(&s, Method::GET, "/metrics", None).await;
    assert_eq!(st, StatusCode::OK);
    let text = text.as_str().expect("text").to_owned();
    assert!(text.contains("# TYPE toxiproxy_proxy_sent_bytes_total counter"));
    let line =
        text.lines().find(|l| l.starts_with("toxiproxy_proxy_sent_bytes_total{direction=\"upstream\"")).expect("line");
    assert!(line.ends_with(" 1000"), "{line}");
    assert!(text.contains("fault_proxy_connections{proxy=\"m\"} 1"), "{text}");
    s.shutdown().await;
}

#[tokio::test]
async fn proxies_off_loopback_need_allow_remote() {
    let s = ProxyServer::new(Options::default());
    let (st, v) =
        call(&s, Method::POST, "/proxies", Some(r#"{"name":"wide","listen":"0.0.0.0:0","upstream":"127.0.0.1:1"}"#))
            .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(v["error"].as_str().expect("error").contains("not a loopback address"), "{v}");
}
