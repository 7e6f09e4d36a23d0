//! proptest on real loopback sockets: random payloads and write chunkings
//! pass byte-exact, in order, both ways, with no fault and under every fault
//! that does not destroy bytes. Case counts are pinned to keep CI fast;
//! failures are kept in `tests/proptest-regressions/bytes_exact.txt` and
//! replayed first.

use std::sync::OnceLock;

use fault_proxy::{Options, Proxy, ProxyServer};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

use crate::support::{addr, connect, eventually, proxied, toxic, Echo, WAIT};

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
    })
}

/// One proxy per fault, in front of one echo, for all cases.
struct Rig {
    _server: ProxyServer,
    proxy: Proxy,
    _echo: Echo,
}

fn rig(fault: Option<Value>) -> Rig {
    runtime().block_on(async {
        let (server, proxy, echo) = proxied(Options { seed: 11, ..Options::default() }).await;
        if let Some(f) = fault {
            proxy.add_fault(toxic(f)).await.expect("fault");
        }
        Rig { _server: server, proxy, _echo: echo }
    })
}

/// Writes `payload` in `cuts`-sized pieces while reading the echo; with
/// `hold`, a hold on the upstream is added before and released mid-way.
fn round_trip(rig: &Rig, payload: &[u8], cuts: &[usize], hold: bool) -> Vec<u8> {
    runtime().block_on(async {
        let c = connect(addr(&rig.proxy)).await;
        let (mut r, mut w) = c.into_split();
        if hold {
            rig.proxy.add_fault(toxic(json!({"type": "hold", "name": "h", "stream": "upstream"}))).await.expect("hold");
        }
        let data = payload.to_vec();
        let pieces: Vec<usize> = cuts.to_vec();
        let writer = tokio::spawn(async move {
            let mut at = 0;
            let mut i = 0;
            while at < data.len() {
                let n = pieces.get(i).copied().unwrap_or(4096).clamp(1, data.len() - at);
                w.write_all(&data[at..at + n]).await.expect("write");
                at += n;
                i += 1;
            }
            w.shutdown().await.expect("shutdown");
        });
        if hold {
            // Release once the hold is in force on this connection (its
            // upstream pump has seen it), so the bytes really were held.
            let port = r.local_addr().expect("addr").port();
            eventually("the hold in force", || {
                rig.proxy
                    .connections()
                    .iter()
                    .any(|c| c.client.ends_with(&format!(":{port}")) && c.faults_hit.iter().any(|f| f == "h"))
            })
            .await;
            rig.proxy.remove_fault("h").await.expect("release");
        }
        let mut got = Vec::new();
        tokio::time::timeout(WAIT * 3, r.read_to_end(&mut got)).await.expect("echo in time").expect("read");
        tokio::time::timeout(WAIT, writer).await.expect("writer in time").expect("writer");
        got
    })
}

/// 12 cases per fault, whatever PROPTEST_CASES says (real sockets); failures persisted.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 12,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..ProptestConfig::default()
    }
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..48 * 1024)
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..9000, 0..24)
}

macro_rules! byte_exact {
    ($name:ident, $fault:expr, $hold:expr) => {
        #[test]
        fn $name() {
            static RIG: OnceLock<Rig> = OnceLock::new();
            let rig = RIG.get_or_init(|| rig($fault));
            proptest!(config(), |(p in payload(), c in cuts())| {
                prop_assert_eq!(round_trip(rig, &p, &c, $hold), p);
            });
        }
    };
}

byte_exact!(no_fault, None, false);
byte_exact!(latency_with_jitter, Some(json!({"type": "latency", "attributes": {"latency": 3, "jitter": 3}})), false);
byte_exact!(
    latency_upstream,
    Some(json!({"type": "latency", "stream": "upstream", "attributes": {"latency": 2}})),
    false
);
byte_exact!(bandwidth, Some(json!({"type": "bandwidth", "attributes": {"rate": 8000}})), false);
byte_exact!(
    slicer,
    Some(json!({"type": "slicer", "attributes": {"average_size": 300, "size_variation": 200, "delay": 20}})),
    false
);
byte_exact!(hold_then_release, None, true);
