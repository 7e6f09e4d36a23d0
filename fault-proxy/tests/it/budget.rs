//! The held-bytes budget (`buffer_bytes`): what a connection holds while a
//! fault delays its bytes stays within it, a full budget holds the sender
//! back instead of dropping anything, and the stream arrives byte-exact.

use std::time::Duration;

use fault_proxy::{Options, ProxyServer, ProxySpec};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{addr, connect, toxic, Echo, WAIT};

/// Under a latency alone the bytes wait in pipes; under a bandwidth limit,
/// in blocks: either way within the budget.
#[tokio::test]
async fn a_delayed_stream_holds_at_most_its_budget_and_arrives_exact() {
    for fault in [
        json!({"type": "latency", "stream": "upstream", "attributes": {"latency": 20}}),
        json!({"type": "bandwidth", "stream": "upstream", "attributes": {"rate": 4000}}),
    ] {
        held_within_budget(fault).await;
    }
}

async fn held_within_budget(fault: serde_json::Value) {
    const BUDGET: usize = 64 * 1024;
    const TOTAL: usize = 1 << 20;
    let echo = Echo::start().await;
    let server = ProxyServer::new(Options::default());
    let spec = ProxySpec { buffer_bytes: BUDGET, ..ProxySpec::new("p", "127.0.0.1:0", &echo.addr.to_string()) };
    let proxy = server.create(spec).await.expect("proxy");
    assert_eq!(proxy.to_json()["buffer_bytes"], BUDGET);
    proxy
        .add_fault(toxic(json!({"type": "latency", "stream": "upstream", "attributes": {"latency": 20}})))
        .await
        .expect("add");
    let c = connect(addr(&proxy)).await;
    let (mut r, mut w) = c.into_split();
    let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let writer = tokio::spawn(async move { w.write_all(&sent).await.map(|_| w) });
    let reader = tokio::spawn(async move {
        let mut got = vec![0u8; TOTAL];
        r.read_exact(&mut got).await.map(|_| got)
    });
    let (mut most, mut seen) = (0, 0);
    while !reader.is_finished() {
        for c in proxy.connections() {
            most = most.max(c.held_upstream);
            seen += usize::from(c.held_upstream > 0);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let got = tokio::time::timeout(WAIT, reader).await.expect("in time").expect("task").expect("read");
    assert!(got == data, "the stream arrives byte-exact, in order, under {fault}");
    let _w = writer.await.expect("task").expect("write");
    assert!(seen > 0, "{fault} held bytes");
    assert!(most <= BUDGET as u64, "held {most} bytes with a budget of {BUDGET} under {fault}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_budget_defaults_to_1_mib_and_follows_a_patch() {
    let (server, proxy, _echo) = crate::support::proxied(Options::default()).await;
    assert_eq!(proxy.buffer_bytes(), 1 << 20);
    server.update("p", &json!({"buffer_bytes": 4096})).await.expect("patch");
    assert_eq!(proxy.buffer_bytes(), 4096);
    let e = server.update("p", &json!({"buffer_bytes": 0})).await.expect_err("0 holds nothing");
    assert_eq!(e.field(), Some("buffer_bytes"));
    assert_eq!(proxy.buffer_bytes(), 4096, "a refused patch changes nothing");
    let e = ProxySpec::from_json(&json!({"name": "x", "upstream": "127.0.0.1:1", "buffer_bytes": 2u64 << 30}))
        .expect_err("over 1 GiB");
    assert_eq!(e.to_string(), "buffer_bytes: 2147483648 is out of range: at most 1073741824 (1 GiB)");
    server.shutdown().await;
}

/// An upstream that reads nothing for a while, then everything, gets every
/// byte in order through the no-fault path, small writes and all (the
/// pipes wait for the destination, nothing is dropped or reordered).
#[tokio::test]
async fn small_writes_into_a_full_destination_arrive_exact() {
    use tokio::net::TcpListener;
    const TOTAL: usize = 4 << 20;
    let up = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let up_addr = up.local_addr().expect("addr");
    let sink = tokio::spawn(async move {
        let (mut s, _) = up.accept().await.expect("accept");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut got = vec![0u8; TOTAL];
        s.read_exact(&mut got).await.map(|_| got)
    });
    let server = ProxyServer::new(Options::default());
    let proxy = server.create(ProxySpec::new("p", "127.0.0.1:0", &up_addr.to_string())).await.expect("proxy");
    let mut c = connect(addr(&proxy)).await;
    let data: Vec<u8> = (0..TOTAL).map(|i| (i % 253) as u8).collect();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        for piece in sent.chunks(700) {
            c.write_all(piece).await?;
        }
        Ok::<_, std::io::Error>(c)
    });
    let got = tokio::time::timeout(WAIT, sink).await.expect("in time").expect("task").expect("read");
    assert!(got == data, "every byte, in order");
    let _c = writer.await.expect("task").expect("write");
    server.shutdown().await;
}
