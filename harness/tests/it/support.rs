//! Pieces shared by the harness's integration tests: test timings, mesh
//! specs, a bound on every test body, and waits on log lines.

use std::time::Duration;

use harness::catalog::MsgDef;
use harness::logbook::LogRecord;
use harness::wire::{ServerStart, StartHeader};
use harness::{MeshSpec, Server, Timings, Version};

/// Every test body runs under this bound.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);
/// Generous bound for a condition that should hold within milliseconds.
pub const WAIT: Duration = Duration::from_secs(15);
pub const SCALE: f64 = 100.0;

/// Product timings for tests; at SCALE 100: retry 10 ms, handshake 1 s,
/// heartbeat 100 ms, change-time heartbeat 10 ms, link timeout 600 ms.
pub fn timings() -> Timings {
    Timings {
        connect_retry: Duration::from_secs(1),
        handshake_timeout: Duration::from_secs(100),
        heartbeat_interval: Duration::from_secs(10),
        changetime_heartbeat_interval: Duration::from_secs(1),
        link_timeout: Duration::from_secs(60),
    }
}

/// `n` servers of `version`, fully meshed, with the test timings.
pub fn spec(n: usize, version: &str) -> MeshSpec {
    let mut spec = MeshSpec::full_mesh(n, &Version::parse(version).expect("version"), &["dc=example,dc=com"]);
    spec.timings = timings();
    spec.time_scale = SCALE;
    spec
}

/// Runs a test body under [`TEST_LIMIT`], with `RUST_LOG` tracing.
pub async fn bounded<F: std::future::Future<Output = ()>>(body: F) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    tokio::time::timeout(TEST_LIMIT, body).await.expect("test exceeded its time bound");
}

/// How many of `server`'s records are `def` with these leading arguments.
pub fn count(server: &Server, def: &MsgDef, args: &[&str]) -> usize {
    server.log().count(|r| r.is(def, args))
}

/// Waits (at most [`WAIT`]) until `server` logged `def` with these leading
/// arguments `n` times; prints the server's log when it did not.
pub async fn wait_logged(server: &Server, def: &'static MsgDef, args: &[&str], n: usize) -> bool {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let ok = server
        .log()
        .wait_for(WAIT, move |rs: &[LogRecord]| {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            rs.iter().filter(|r| r.is(def, &a)).count() >= n
        })
        .await;
    if !ok {
        eprintln!(
            "--- {} log:\n{}",
            server.name(),
            server.log().records().iter().map(|r| r.line.as_str()).collect::<Vec<_>>().join("\n")
        );
    }
    ok
}

pub fn id(s: &Server) -> String {
    s.config().server_id
}

/// The start message of a DS of our own ("probe") for dc=example,dc=com.
pub fn probe_start(protocol_version: u8, ssl_encryption: bool) -> ServerStart {
    ServerStart {
        header: StartHeader { protocol_version, generation_id: -1, group_id: 1 },
        base_dn: "dc=example,dc=com".into(),
        server_id: "probe".into(),
        server_url: "probe.example.com:4444".into(),
        max_receive_delay: 0,
        max_receive_queue: 0,
        max_send_delay: 0,
        max_send_queue: 0,
        window_size: 100,
        heartbeat_interval_ms: 10_000,
        ssl_encryption,
        server_state: vec![],
    }
}
