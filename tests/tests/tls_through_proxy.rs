//! The fault proxy's byte-exact property, over a TLS session end to end: the
//! harness's PKI on both ends, the proxy in the middle moving opaque bytes,
//! with faults that do not destroy bytes. Case counts are pinned.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;
use std::time::Duration;

use fault_proxy::{Options, Proxy, ProxyServer, ProxySpec, Toxic};
use harness::pki::{self, CertDefect, Identity, Pki, TlsContexts};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

const WAIT: Duration = Duration::from_secs(20);

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt"))
}

struct Rig {
    _server: ProxyServer,
    proxy: Proxy,
    client: TlsContexts,
}

/// A TLS echo server (mutual TLS) behind a proxy carrying `fault`.
fn rig(fault: Option<serde_json::Value>) -> Rig {
    runtime().block_on(async {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let ids = [
            Identity {
                name: "srv".into(),
                host: "srv.example.com".into(),
                addresses: vec![lo],
                defect: CertDefect::None,
            },
            Identity {
                name: "cli".into(),
                host: "cli.example.com".into(),
                addresses: vec![lo],
                defect: CertDefect::None,
            },
        ];
        let pki = Pki::new(&ids).expect("pki");
        let (srv, client) = (pki.contexts("srv").expect("srv"), pki.contexts("cli").expect("cli"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = srv.acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if tls.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = tls.shutdown().await;
                });
            }
        });
        let server = ProxyServer::new(Options { seed: 3, ..Options::default() });
        let proxy = server.create(ProxySpec::new("tls", "127.0.0.1:0", &upstream.to_string())).await.expect("proxy");
        if let Some(f) = fault {
            proxy.add_fault(Toxic::from_json(&f).expect("toxic")).await.expect("fault");
        }
        Rig { _server: server, proxy, client }
    })
}

fn round_trip(rig: &Rig, payload: &[u8], cuts: &[usize]) -> Vec<u8> {
    runtime().block_on(async {
        let addr = rig.proxy.listen_addr().expect("listening");
        let tcp = tokio::time::timeout(WAIT, TcpStream::connect(addr)).await.expect("in time").expect("connect");
        let name = pki::server_name("srv.example.com").expect("name");
        let tls = tokio::time::timeout(WAIT, rig.client.connector.connect(name, tcp))
            .await
            .expect("in time")
            .expect("handshake through the proxy");
        let (mut r, mut w) = tokio::io::split(tls);
        let data = payload.to_vec();
        let pieces = cuts.to_vec();
        let writer = tokio::spawn(async move {
            let mut at = 0;
            let mut i = 0;
            while at < data.len() {
                let n = pieces.get(i).copied().unwrap_or(4096).clamp(1, data.len() - at);
                w.write_all(&data[at..at + n]).await.expect("write");
                at += n;
                i += 1;
            }
            w
        });
        let mut got = vec![0u8; payload.len()];
        tokio::time::timeout(WAIT, r.read_exact(&mut got)).await.expect("echo in time").expect("read");
        let w = tokio::time::timeout(WAIT, writer).await.expect("writer in time").expect("writer");
        drop((r, w));
        got
    })
}

macro_rules! tls_byte_exact {
    ($name:ident, $fault:expr) => {
        #[test]
        fn $name() {
            static RIG: OnceLock<Rig> = OnceLock::new();
            let rig = RIG.get_or_init(|| rig($fault));
            proptest!(ProptestConfig { cases: 8, failure_persistence: None, ..ProptestConfig::default() },
                |(p in prop::collection::vec(any::<u8>(), 1..32 * 1024), c in prop::collection::vec(1usize..6000, 0..16))| {
                    prop_assert_eq!(round_trip(rig, &p, &c), p);
                });
        }
    };
}

tls_byte_exact!(tls_with_no_fault, None);
tls_byte_exact!(
    tls_under_latency_and_jitter,
    Some(serde_json::json!({"type": "latency", "attributes": {"latency": 2, "jitter": 2}}))
);
tls_byte_exact!(
    tls_under_slicer,
    Some(
        serde_json::json!({"type": "slicer", "attributes": {"average_size": 200, "size_variation": 150, "delay": 10}})
    )
);
tls_byte_exact!(
    tls_under_bandwidth,
    Some(serde_json::json!({"type": "bandwidth", "stream": "upstream", "attributes": {"rate": 10000}}))
);
