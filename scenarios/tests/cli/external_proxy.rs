//! Link proxies on an external proxy API: a `fault-proxy` process started
//! here (`--api 127.0.0.1:0`) and killed at the end, and a Toxiproxy
//! emulation (fault-proxy's API behind Toxiproxy's refusals and its plain
//! `/version`) for what a real Toxiproxy takes and refuses.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::common::replharness;

/// How long starting the proxy (or building it) may take.
const START_LIMIT: Duration = Duration::from_secs(30);
const BUILD_LIMIT: Duration = Duration::from_secs(1200);

fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

fn newest_source(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for e in std::fs::read_dir(dir).expect("sources").flatten() {
        let path = e.path();
        let t = if path.is_dir() {
            newest_source(&path)
        } else {
            e.metadata().and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
        };
        newest = newest.max(t);
    }
    newest
}

/// The `fault-proxy` binary beside this test's (`target/debug`), built
/// first when it is missing or older than its sources (a `cargo test -p
/// scenarios` does not build other packages' binaries).
fn fault_proxy_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary");
    let dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let bin = dir.join(format!("fault-proxy{}", std::env::consts::EXE_SUFFIX));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_owned();
    let sources = newest_source(&root.join("fault-proxy/src"));
    let fresh = std::fs::metadata(&bin).and_then(|m| m.modified()).is_ok_and(|t| t >= sources);
    if !fresh {
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "-p", "fault-proxy", "--bin", "fault-proxy"]).current_dir(&root).stdin(Stdio::null());
        let mut child = build.spawn().expect("cargo build");
        let until = Instant::now() + BUILD_LIMIT;
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            assert!(Instant::now() < until, "building fault-proxy took over {BUILD_LIMIT:?}");
            std::thread::sleep(Duration::from_millis(200));
        };
        assert!(status.success(), "cargo build -p fault-proxy failed");
    }
    bin
}

/// A `fault-proxy` process on a port of its choosing, killed when dropped.
struct FaultProxy {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
}

impl FaultProxy {
    fn start() -> FaultProxy {
        let mut child = Command::new(fault_proxy_binary())
            .args(["--api", "127.0.0.1:0", "--seed", "11"])
            .env("RUST_LOG", "fault_proxy=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start fault-proxy");
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let log = Arc::new(Mutex::new(String::new()));
        let (err, sink) = (child.stderr.take().expect("stderr"), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
            }
        });
        let mut proxy = FaultProxy { child, url: String::new(), log };
        // `fault-proxy 0.1.0 API on http://127.0.0.1:PORT seed 11`
        let first = rx.recv_timeout(START_LIMIT).expect("fault-proxy prints its API address");
        let url = first.split_whitespace().find(|w| w.starts_with("http://")).expect("the URL").to_owned();
        proxy.url = url;
        proxy
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET URL PATH` with a plain socket (not the client under test): the body.
fn get(url: &str, path: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect to the API");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("request");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("answer");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text.split_once("\r\n\r\n").map(|(_, b)| b.trim().to_owned()).unwrap_or_default()
}

fn scenario_records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("report")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .filter(|r| r["type"] == "scenario")
        .collect()
}

/// The bundled DS scenarios tagged `firewall`, by name (`list --json`).
fn ds_firewall_scenarios() -> Vec<String> {
    let out = replharness(&["list", "--json", "--filter", "firewall"]);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    v.as_array()
        .expect("array")
        .iter()
        .filter(|e| e["family"] == "ds" && e["tags"].as_array().is_some_and(|t| t.iter().any(|x| x == "firewall")))
        .map(|e| e["name"].as_str().expect("name").to_owned())
        .collect()
}

/// The issue's "done when": the bundled DS firewall scenarios pass with
/// their link proxies on a separately started fault-proxy, which has none
/// left at the end.
#[test]
fn the_bundled_firewall_scenarios_pass_on_a_separate_fault_proxy() {
    let fp = FaultProxy::start();
    let dir = tempfile::tempdir().expect("dir");
    let json = dir.path().join("r.jsonl");
    let names = ds_firewall_scenarios();
    assert!(names.len() >= 4, "drop, reject, admin port, TLS drop: {names:?}");
    let mut args = vec!["run", "--proxy-api", &fp.url, "--seed", "5", "--jobs", "2", "--report-json", p(&json)];
    for n in &names {
        args.extend(["--filter", n.as_str()]);
    }
    let out = replharness(&args);
    assert_eq!(out.code(), Some(0), "{}\n--- fault-proxy:\n{}", out.text(), fp.log());
    assert!(out.stdout.contains(&format!("link proxies on fault-proxy 0.1.0 at {}", fp.url)), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("{} passed, 0 failed", names.len())), "{}", out.stdout);
    let recs = scenario_records(&json);
    assert_eq!(recs.len(), names.len());
    assert!(recs.iter().all(|r| r["data"]["proxy_api"] == fp.url.as_str()), "{recs:?}");
    // The faults ran in that process, on proxies this run named.
    let log = fp.log();
    assert!(log.contains("proxy{name=rh-"), "{log}");
    assert!(log.contains("drop: ") && log.contains("answers no SYN"), "the drop scenarios: {log}");
    assert!(log.contains("reject: ") && log.contains("closed"), "the reject scenarios: {log}");
    assert_eq!(get(&fp.url, "/proxies"), "{}", "every link proxy removed");
}

/// A scenario that fails while it runs still removes its proxies.
#[test]
fn a_failing_scenario_removes_its_proxies_too() {
    let fp = FaultProxy::start();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("fails.toml");
    std::fs::write(
        &file,
        "name = \"a wait that times out on an external proxy\"\ntime_scale = 100\n\n[topology]\n\
         [[topology.servers]]\nname = \"ds-1\"\n[[topology.servers]]\nname = \"ds-2\"\n\n\
         [[steps]]\nat = \"10s\"\naction = \"fault\"\nlink = \"ds-1 <-> ds-2\"\n\
         fault = { type = \"latency\", attributes = { latency = 5 } }\n\n\
         [[steps]]\nat = \"10s\"\naction = \"wait\"\nuntil = { logged = 999, server = \"ds-1\" }\ntimeout = \"200ms\"\n\n\
         [[expect]]\nid = \"ds.healthy\"\n",
    )
    .expect("write");
    let out = replharness(&["run", p(&file), "--proxy-api", &fp.url]);
    assert_eq!(out.code(), Some(1), "{}", out.text());
    assert!(out.stdout.contains("fails.toml:16:1: step wait: waited 0.2s for message 999"), "{}", out.stdout);
    assert!(fp.log().contains("proxy{name=rh-"), "the proxies were made there: {}", fp.log());
    assert_eq!(get(&fp.url, "/proxies"), "{}", "removed after the failure");
}

/// `[topology.proxy] api` names the API in the file; `--proxy-api` wins
/// over it; an address off loopback is refused before anything is dialed.
#[test]
fn the_scenario_key_names_the_api_and_the_command_line_wins() {
    let fp = FaultProxy::start();
    let dir = tempfile::tempdir().expect("dir");
    let md = std::fs::read_to_string(crate::common::crate_file("../docs/ci-matrix.md")).expect("docs");
    let start = md.find("```toml\n").expect("the example") + "```toml\n".len();
    let example = &md[start..start + md[start..].find("```").expect("its end")];
    assert!(example.contains("api = \"http://127.0.0.1:8474\""), "{example}");
    let file = dir.path().join("key.toml");
    std::fs::write(&file, example.replace("http://127.0.0.1:8474", &fp.url)).expect("write");
    let json = dir.path().join("r.jsonl");
    let out = replharness(&["run", p(&file), "--report-json", p(&json)]);
    assert_eq!(out.code(), Some(0), "{}\n--- fault-proxy:\n{}", out.text(), fp.log());
    assert!(out.stdout.contains(&format!("link proxies on fault-proxy 0.1.0 at {}", fp.url)), "{}", out.stdout);
    assert_eq!(scenario_records(&json)[0]["data"]["proxy_api"], fp.url.as_str());
    assert_eq!(get(&fp.url, "/proxies"), "{}");

    // A closed port in the file, the live proxy on the command line: the command line wins.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    std::fs::write(&file, example.replace("http://127.0.0.1:8474", &closed_url)).expect("write");
    let out = replharness(&["run", p(&file), "--proxy-api", &fp.url]);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    let out = replharness(&["run", p(&file)]);
    assert_eq!(out.code(), Some(2), "{}", out.text());
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);

    std::fs::write(&file, example.replace("http://127.0.0.1:8474", "http://192.0.2.10:8474")).expect("write");
    let out = replharness(&["run", p(&file)]);
    assert_eq!(out.code(), Some(2), "{}", out.text());
    assert!(out.stderr.contains("key.toml:") && out.stderr.contains("is not on loopback"), "{}", out.stderr);
    assert!(out.stderr.contains("--allow-remote-proxy-api"), "{}", out.stderr);
    std::fs::write(&file, example.replace("http://127.0.0.1:8474", "https://127.0.0.1:8474")).expect("write");
    let out = replharness(&["run", p(&file)]);
    assert_eq!(out.code(), Some(2), "{}", out.text());
    assert!(out.stderr.contains("key.toml:") && out.stderr.contains("only http://"), "{}", out.stderr);
}

/// The exchange flavor's runner keeps its links in-process: refused by
/// name rather than run on the wrong proxy. The 389 runner makes its
/// agreements' links on the API, faults and all.
#[test]
fn flavors_with_their_own_proxy_are_refused_naming_them() {
    let fp = FaultProxy::start();
    let out =
        replharness(&["run", "--filter", "389-firewall-reject", "--filter", "389-stalled", "--proxy-api", &fp.url]);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    assert!(out.stdout.contains("3 passed, 0 failed"), "{}", out.stdout);
    let out = replharness(&["run", "--filter", "exchange", "--proxy-api", &fp.url]);
    assert_eq!(out.code(), Some(2), "{}", out.text());
    assert!(out.stderr.contains("the exchange flavor's links run on the in-process proxy only"), "{}", out.stderr);
    assert!(out.stderr.contains("--filter ds"), "{}", out.stderr);
    assert!(!out.stdout.contains("PASS"), "nothing ran: {}", out.stdout);
}

#[test]
fn bad_or_unreachable_apis_exit_2_before_anything_runs() {
    for (url, says) in [
        ("http://192.0.2.10:8474", "is not on loopback"),
        ("https://127.0.0.1:8474", "only http://"),
        ("http://127.0.0.1", "no port"),
    ] {
        let out = replharness(&["run", "--filter", "healthy", "--proxy-api", url]);
        assert_eq!(out.code(), Some(2), "{url}: {}", out.text());
        assert!(out.stderr.contains(says), "{url}: {}", out.stderr);
        assert!(!out.stdout.contains("PASS") && !out.stdout.contains("FAIL"), "nothing ran: {}", out.stdout);
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let out = replharness(&["run", "--filter", "healthy", "--proxy-api", &url]);
    assert_eq!(out.code(), Some(2), "{}", out.text());
    assert!(out.stderr.contains(&format!("proxy API {url}: cannot connect")), "{}", out.stderr);
}

mod toxiproxy {
    //! fault-proxy's API behind what Toxiproxy does differently: a plain
    //! text `/version` (as before 2.6), 400 `invalid toxic type` for the
    //! firewall faults, 400 for `stream: both`, and `schedule` and `target`
    //! ignored as unknown keys.

    use axum::body::{to_bytes, Body};
    use axum::extract::Request;
    use axum::http::{Method, StatusCode};
    use axum::middleware::{self, Next};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;
    use serde_json::{json, Value};

    fn refuse(error: &str) -> Response {
        (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error, "status": 400}))).into_response()
    }

    async fn as_toxiproxy(req: Request, next: Next) -> Response {
        if req.method() != Method::POST || !req.uri().path().ends_with("/toxics") {
            return next.run(req).await;
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, 1 << 20).await else { return refuse("bad request body") };
        let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if ["reject", "drop", "hold"].contains(&v["type"].as_str().unwrap_or("")) {
            return refuse("invalid toxic type");
        }
        if v["stream"] == "both" {
            return refuse("stream was invalid, can be either upstream or downstream");
        }
        if let Some(o) = v.as_object_mut() {
            o.remove("schedule");
            o.remove("target");
        }
        next.run(Request::from_parts(parts, Body::from(v.to_string()))).await
    }

    /// Serves the emulation on 127.0.0.1:0 in `rt`; its URL.
    pub fn start(rt: &tokio::runtime::Runtime) -> String {
        rt.block_on(async {
            let server = fault_proxy::ProxyServer::new(fault_proxy::Options {
                seed: 3,
                dial_timeout: std::time::Duration::from_secs(5),
                allow_remote: false,
            });
            let app = Router::new()
                .route("/version", get(|| async { "2.1.4" }))
                .fallback_service(fault_proxy::api::app(server))
                .layer(middleware::from_fn(as_toxiproxy));
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let url = format!("http://{}", l.local_addr().expect("addr"));
            tokio::spawn(async move {
                let _ = axum::serve(l, app).await;
            });
            url
        })
    }
}

/// On a Toxiproxy, a `reject` before any server starts runs as a disabled
/// proxy, and what it has no equivalent for is refused before anything
/// runs, each step named.
#[test]
fn a_toxiproxy_takes_an_early_reject_as_a_disabled_proxy_and_refuses_the_rest_naming_it() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let url = toxiproxy::start(&rt);
    // Both DNS scenarios keep the peer from calling in with a reject at 0.
    let out = replharness(&["run", "--filter", "dns", "--proxy-api", &url, "--seed", "3"]);
    assert_eq!(out.code(), Some(0), "{}", out.text());
    assert!(out.stdout.contains(&format!("link proxies on Toxiproxy 2.1.4 at {url}")), "{}", out.stdout);
    assert!(out.stdout.contains("a reject before any server starts as enabled: false"), "{}", out.stdout);
    assert!(out.stdout.contains("2 passed, 0 failed"), "{}", out.stdout);

    let out = replharness(&["run", "--filter", "firewall", "--proxy-api", &url]);
    assert_eq!(out.code(), Some(2), "{}", out.text());
    let e = &out.stderr;
    assert!(e.contains("cannot run on the proxy API ("), "{e}");
    assert!(e.contains("library/firewall-drop.toml:") && e.contains("cannot go unanswered"), "{e}");
    assert!(e.contains("library/tls-firewall-drop.toml:"), "{e}");
    assert!(e.contains("library/admin-port-blocked.toml:") && e.contains("must spare"), "{e}");
    assert!(e.contains("library/firewall-reject.toml:") && e.contains("with a FIN where this reject resets"), "{e}");
    assert!(!out.stdout.contains("PASS"), "nothing ran: {}", out.stdout);
    drop(rt);
}
