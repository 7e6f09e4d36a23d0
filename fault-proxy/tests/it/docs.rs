//! Every example in docs/fault-proxy.md and examples/proxies.json parses, and
//! the binary starts the example file's proxies with their faults.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use fault_proxy::{config, ProxySpec, Toxic};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (info string, body) of every fenced block.
fn blocks(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in md.lines() {
        if let Some(rest) = line.strip_prefix("```") {
            match cur.take() {
                Some(b) => out.push(b),
                None => cur = Some((rest.trim().to_owned(), String::new())),
            }
        } else if let Some((_, body)) = cur.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

#[test]
fn every_documented_example_parses() {
    let md = std::fs::read_to_string(root().join("docs/fault-proxy.md")).expect("docs/fault-proxy.md");
    let mut seen = std::collections::BTreeMap::new();
    let mut refusals = Vec::new();
    for (info, body) in blocks(&md) {
        let kind = match info.strip_prefix("json ") {
            Some(k) => k.to_owned(),
            None => {
                if info == "http refusals" {
                    refusals.push(body);
                }
                continue;
            }
        };
        let v: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{info} block is not JSON: {e}\n{body}"));
        match kind.as_str() {
            "toxic" => {
                let t = Toxic::from_json(&v).unwrap_or_else(|e| panic!("toxic example: {e}\n{body}"));
                assert_eq!(Toxic::from_json(&t.to_json()).expect("round trip"), t);
            }
            "proxy" => {
                let spec = ProxySpec::from_json(&v).unwrap_or_else(|e| panic!("proxy example: {e}\n{body}"));
                if let Some(b) = v.get("buffer_bytes") {
                    assert_eq!(Some(spec.buffer_bytes as u64), b.as_u64(), "buffer_bytes as written");
                }
            }
            "config" => {
                let specs = config::parse(&body).unwrap_or_else(|e| panic!("config example: {e}"));
                assert!(specs.iter().all(|s| s.toxics.as_ref().is_some_and(|t| !t.is_empty())));
            }
            "connections" => {
                let rows = v.as_array().expect("array");
                for key in [
                    "id",
                    "client",
                    "upstream",
                    "age_ms",
                    "bytes_upstream",
                    "bytes_downstream",
                    "held_upstream",
                    "held_downstream",
                    "faults_hit",
                ] {
                    assert!(rows[0].get(key).is_some(), "listing example lacks {key}");
                }
            }
            other => panic!("unknown example kind {other:?}"),
        }
        *seen.entry(kind).or_insert(0) += 1;
    }
    assert!(seen.get("toxic").copied().unwrap_or(0) >= 6, "{seen:?}");
    for k in ["proxy", "config", "connections"] {
        assert!(seen.contains_key(k), "no {k} example: {seen:?}");
    }
    assert!(!refusals.is_empty(), "no refusal example");
    refusals_answer_as_documented(&refusals);
}

/// Each `METHOD PATH BODY` line, followed by `STATUS BODY`, is what the API
/// answers (a proxy `ldap` exists).
fn refusals_answer_as_documented(blocks: &[String]) {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let server = fault_proxy::ProxyServer::new(fault_proxy::Options::default());
        server.create(ProxySpec::new("ldap", "127.0.0.1:0", "127.0.0.1:9")).await.expect("proxy");
        let lines: Vec<&str> = blocks.iter().flat_map(|b| b.lines()).filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len() % 2, 0, "request and answer lines pair up: {lines:?}");
        for pair in lines.chunks(2) {
            let mut req = pair[0].splitn(3, ' ');
            let (method, path, body) =
                (req.next().expect("method"), req.next().expect("path"), req.next().unwrap_or(""));
            let (status, want) = pair[1].split_once(' ').expect("STATUS BODY");
            let request = axum::http::Request::builder()
                .method(method)
                .uri(path)
                .body(Body::from(body.to_owned()))
                .expect("request");
            let resp = fault_proxy::api::app(server.clone()).oneshot(request).await.expect("response");
            assert_eq!(resp.status().as_str(), status, "{}", pair[0]);
            let got: serde_json::Value =
                serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes()).expect("json");
            let want: serde_json::Value = serde_json::from_str(want).expect("documented answer is JSON");
            assert_eq!(got, want, "{}", pair[0]);
        }
        server.shutdown().await;
    });
}

fn http(api: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(api).expect("api");
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nConnection: close\r\n\r\n").expect("send");
    let mut r = String::new();
    s.read_to_string(&mut r).expect("read");
    r
}

#[test]
fn the_binary_starts_the_example_files_proxies_with_their_faults() {
    let path = root().join("examples/proxies.json");
    let specs = config::load(&path).expect("examples/proxies.json");
    assert_eq!(specs.len(), 2);
    let api = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fault-proxy"))
        .args(["--api", &api, "--seed", "3", "--config"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut banner = String::new();
    for _ in 0..3 {
        let mut line = String::new();
        out.read_line(&mut line).expect("line");
        banner.push_str(&line);
    }
    assert!(banner.contains("proxy ldap: 127.0.0.1:") && banner.contains("(1 faults)"), "{banner}");
    assert!(banner.contains("proxy replication:") && banner.contains("(2 faults)"), "{banner}");
    assert!(banner.contains("seed 3"), "the seed is printed: {banner}");
    let resp = http(&api, "/proxies/replication/toxics");
    let _ = child.kill();
    let _ = child.wait();
    assert!(resp.contains("\"firewall_window\"") && resp.contains("\"start_after_ms\":30000"), "{resp}");
}

#[test]
fn a_broken_config_file_exits_2_naming_the_file_and_entry() {
    let dir = tempfile::tempdir().expect("dir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"[{"name":"x","upstream":"127.0.0.1:1","toxics":[{"type":"warp"}]}]"#).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_fault-proxy"))
        .args(["--api", "127.0.0.1:0", "--config"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json") && err.contains("proxy #1 (x): invalid toxic type"), "{err}");
}

#[test]
fn a_non_loopback_api_needs_allow_remote() {
    let out = Command::new(env!("CARGO_BIN_EXE_fault-proxy")).args(["--api", "0.0.0.0:0"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--api 0.0.0.0:0 is not a loopback address: pass --allow-remote")
    );
}
