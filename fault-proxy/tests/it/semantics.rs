//! Fault semantics, each asserted from the client's side.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use fault_proxy::{Options, ProxyServer, ProxySpec};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{addr, connect, connect_from, eventually, proxied, read_n, toxic, WAIT};

/// What the next read shows, within `wait`.
pub async fn next_read(s: &mut TcpStream, wait: Duration) -> Result<std::io::Result<usize>, ()> {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(wait, s.read(&mut buf)).await.map_err(|_| ())
}

#[tokio::test]
async fn half_close_is_forwarded_and_the_reply_still_arrives() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut c = connect(addr(&proxy)).await;
    c.write_all(b"ping").await.expect("write");
    c.shutdown().await.expect("shutdown write");
    // Toxiproxy and noxious lose this reply: they close both ways on the first EOF.
    assert_eq!(read_n(&mut c, 4).await, b"ping");
    assert!(matches!(next_read(&mut c, WAIT).await, Ok(Ok(0))), "then EOF");
    server.shutdown().await;
}

#[tokio::test]
async fn reject_refuses_new_connections_and_optionally_resets_live_ones() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut live = connect(addr(&proxy)).await;
    // Really live (accepted and proxied), not just queued in the backlog.
    live.write_all(b"0").await.expect("write");
    assert_eq!(read_n(&mut live, 1).await, b"0");
    proxy.add_fault(toxic(json!({"type": "reject", "name": "fw"}))).await.expect("add");
    let err = tokio::time::timeout(WAIT, TcpStream::connect(addr(&proxy)))
        .await
        .expect("answer in time")
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    // Without reset_existing, live connections go on.
    live.write_all(b"x").await.expect("write");
    assert_eq!(read_n(&mut live, 1).await, b"x");
    proxy.update_fault("fw", &json!({"attributes": {"reset_existing": true}})).await.expect("update");
    let r = next_read(&mut live, WAIT).await.expect("answer in time");
    assert_eq!(r.expect_err("reset").kind(), ErrorKind::ConnectionReset);
    proxy.remove_fault("fw").await.expect("remove");
    drop(connect(addr(&proxy)).await);
    server.shutdown().await;
}

#[tokio::test]
async fn drop_passes_no_byte_nor_fin_and_new_connects_get_no_answer() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut live = connect(addr(&proxy)).await;
    live.write_all(b"0").await.expect("write");
    assert_eq!(read_n(&mut live, 1).await, b"0");
    proxy.add_fault(toxic(json!({"type": "drop"}))).await.expect("add");
    live.write_all(b"lost?").await.expect("write");
    assert!(next_read(&mut live, Duration::from_millis(300)).await.is_err(), "no data and no EOF");
    // connect() itself does not complete: the backlog is full, SYNs go
    // unanswered (neither accepted nor refused) ...
    let mut pending = Box::pin(TcpStream::connect(addr(&proxy)));
    tokio::select! {
        r = &mut pending => panic!("connect answered during a drop: {r:?}"),
        _ = tokio::time::sleep(Duration::from_millis(700)) => {}
    }
    proxy.remove_fault("drop_both").await.expect("remove");
    // ... and the same attempt, still in SYN back-off, gets through once the
    // drop ends, as with a kernel DROP rule removed.
    let mut held = tokio::time::timeout(WAIT, pending).await.expect("connect after the drop").expect("connected");
    held.write_all(b"late").await.expect("write");
    assert_eq!(read_n(&mut held, 4).await, b"late");
    // Released: the held bytes arrive (as TCP retransmission would deliver them), and new connections work.
    assert_eq!(read_n(&mut live, 5).await, b"lost?");
    let mut fresh = connect(addr(&proxy)).await;
    fresh.write_all(b"ok").await.expect("write");
    assert_eq!(read_n(&mut fresh, 2).await, b"ok");
    server.shutdown().await;
}

#[tokio::test]
async fn a_one_way_drop_cuts_one_direction_only() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut c = connect(addr(&proxy)).await;
    proxy
        .add_fault(toxic(json!({"type": "drop", "stream": "downstream", "attributes": {"new_connections": false}})))
        .await
        .expect("add");
    c.write_all(b"up").await.expect("write");
    assert!(next_read(&mut c, Duration::from_millis(300)).await.is_err(), "the echo does not come back");
    let conns = proxy.connections();
    eventually("the upstream bytes passed", || proxy.connections().first().is_some_and(|v| v.bytes_upstream == 2))
        .await;
    assert_eq!(conns.len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn reset_peer_resets_even_connections_opened_before_it() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut before = connect(addr(&proxy)).await;
    proxy
        .add_fault(toxic(json!({"type": "reset_peer", "stream": "upstream", "attributes": {"timeout": 50}})))
        .await
        .expect("add");
    let t = Instant::now();
    before.write_all(b"boom").await.expect("write");
    let r = next_read(&mut before, WAIT).await.expect("answer in time");
    assert_eq!(r.expect_err("reset, not a FIN").kind(), ErrorKind::ConnectionReset);
    assert!(t.elapsed() >= Duration::from_millis(50));
    // toxicity 0: never fires (Toxiproxy's #603 resets anyway).
    proxy.update_fault("reset_peer_upstream", &json!({"toxicity": 0.0})).await.expect("update");
    let mut spared = connect(addr(&proxy)).await;
    spared.write_all(b"safe").await.expect("write");
    assert_eq!(read_n(&mut spared, 4).await, b"safe");
    server.shutdown().await;
}

#[tokio::test]
async fn limit_data_closes_after_exactly_n_bytes() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    proxy.add_fault(toxic(json!({"type": "limit_data", "attributes": {"bytes": 1000}}))).await.expect("add");
    let mut c = connect(addr(&proxy)).await;
    let _ = c.write_all(&[1u8; 3000]).await;
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, c.read_to_end(&mut got)).await.expect("closed in time").expect("clean close");
    assert_eq!(got.len(), 1000);
    server.shutdown().await;
}

/// Ten chunks under a 1.5 s latency: delays measured from each chunk's
/// arrival overlap, so all ten arrive within [`WAIT`] (10 s), which delays
/// added one after another (10 × 1.5 s = 15 s) cannot meet. No clock is
/// read for that: the bounded wait is the check.
#[tokio::test]
async fn latency_is_from_each_chunks_arrival_not_cumulative() {
    const LATENCY: Duration = Duration::from_millis(1500);
    assert!(LATENCY * 10 > WAIT && LATENCY * 2 < WAIT, "the test needs 2 delays to fit in WAIT and 10 not to");
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let body = json!({"type": "latency", "attributes": {"latency": LATENCY.as_millis() as u64}});
    proxy.add_fault(toxic(body)).await.expect("add");
    let mut c = connect(addr(&proxy)).await;
    let t = Instant::now();
    for i in 0..10u8 {
        c.write_all(&[i]).await.expect("write");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut got = vec![0u8; 10];
    tokio::time::timeout(WAIT, c.read_exact(&mut got)).await.expect("latencies added up").expect("read");
    assert_eq!(got, (0..10).collect::<Vec<u8>>(), "in order");
    assert!(t.elapsed() >= LATENCY, "each chunk waits its latency: {:?}", t.elapsed());
    server.shutdown().await;
}

#[tokio::test]
async fn targeted_reject_resets_only_the_targeted_client() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    proxy.add_fault(toxic(json!({"type": "reject", "target": {"client": "127.0.0.2"}}))).await.expect("add");
    // A shared listener cannot refuse one source's SYN: it accepts, then resets.
    let mut hit = connect_from("127.0.0.2", addr(&proxy)).await.expect("accepted by the kernel");
    let r = next_read(&mut hit, WAIT).await.expect("answer in time");
    assert!(matches!(r, Err(ref e) if e.kind() == ErrorKind::ConnectionReset) || matches!(r, Ok(0)), "{r:?}");
    let mut spared = connect_from("127.0.0.3", addr(&proxy)).await.expect("connect");
    spared.write_all(b"hi").await.expect("write");
    assert_eq!(read_n(&mut spared, 2).await, b"hi");
    server.shutdown().await;
}

#[tokio::test]
async fn hold_stops_reading_until_released() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut c = connect(addr(&proxy)).await;
    proxy.add_fault(toxic(json!({"type": "hold", "stream": "upstream", "name": "h"}))).await.expect("add");
    c.write_all(b"queued").await.expect("write");
    assert!(next_read(&mut c, Duration::from_millis(200)).await.is_err(), "nothing passes while held");
    assert_eq!(proxy.connections()[0].bytes_upstream, 0);
    proxy.remove_fault("h").await.expect("release");
    assert_eq!(read_n(&mut c, 6).await, b"queued");
    server.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_upstream_dial_times_out_into_a_reset() {
    // The upstream is another proxy whose listener drops every SYN.
    let hole = ProxyServer::new(Options::default());
    let h = hole.create(ProxySpec::new("hole", "127.0.0.1:0", "127.0.0.1:9")).await.expect("hole");
    h.add_fault(toxic(json!({"type": "drop"}))).await.expect("drop");
    let server = ProxyServer::new(Options { dial_timeout: Duration::from_millis(300), ..Options::default() });
    let p = server.create(ProxySpec::new("p", "127.0.0.1:0", &addr(&h).to_string())).await.expect("proxy");
    // `add_fault` returned once the hole's listener had filled its backlog.
    let t = Instant::now();
    let mut a = connect(addr(&p)).await;
    let mut b = connect(addr(&p)).await;
    for c in [&mut a, &mut b] {
        let r = next_read(c, WAIT).await.expect("answer in time");
        assert_eq!(r.expect_err("reset").kind(), ErrorKind::ConnectionReset);
    }
    assert!(t.elapsed() >= Duration::from_millis(300));
    server.shutdown().await;
    hole.shutdown().await;
}

#[tokio::test]
async fn counters_read_zero_after_faults_end_and_after_shutdown() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut conns = Vec::new();
    for _ in 0..5 {
        conns.push(connect(addr(&proxy)).await);
    }
    eventually("5 live connections", || proxy.counters().live_connections == 5).await;
    assert!(proxy.counters().tasks >= 6, "listener + one per connection: {:?}", proxy.counters());
    // A timeout toxic's removal closes the connections it touched.
    proxy.add_fault(toxic(json!({"type": "timeout", "name": "t", "attributes": {"timeout": 0}}))).await.expect("add");
    eventually("every connection under the timeout", || {
        proxy.connections().iter().all(|c| c.faults_hit.iter().any(|f| f == "t"))
    })
    .await;
    proxy.remove_fault("t").await.expect("remove");
    eventually("no live connection", || proxy.counters().live_connections == 0).await;
    eventually("only the listener task", || proxy.counters().tasks == 1).await;
    server.shutdown().await;
    assert_eq!(proxy.counters().tasks, 0);
    assert_eq!(proxy.counters().live_connections, 0);
    let err = TcpStream::connect(addr(&proxy)).await.expect_err("stopped");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn timeout_drops_bytes_then_closes_after_its_time() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    proxy.add_fault(toxic(json!({"type": "timeout", "attributes": {"timeout": 200}}))).await.expect("add");
    let mut c = connect(addr(&proxy)).await;
    let t = Instant::now();
    c.write_all(b"into the void").await.expect("write");
    let mut got = Vec::new();
    // The connection ends (a FIN after the timeout) and no byte came through.
    tokio::time::timeout(WAIT, c.read_to_end(&mut got)).await.expect("closed in time").expect("a clean close");
    assert!(got.is_empty(), "no byte passes: {got:?}");
    assert!(t.elapsed() >= Duration::from_millis(200), "not before its time: {:?}", t.elapsed());
    server.shutdown().await;
}

#[tokio::test]
async fn slow_close_delays_the_fin() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    proxy.add_fault(toxic(json!({"type": "slow_close", "attributes": {"delay": 250}}))).await.expect("add");
    let mut c = connect(addr(&proxy)).await;
    c.write_all(b"bye").await.expect("write");
    c.shutdown().await.expect("half-close");
    assert_eq!(read_n(&mut c, 3).await, b"bye", "data is not delayed");
    let t = Instant::now();
    assert!(matches!(next_read(&mut c, WAIT).await, Ok(Ok(0))), "then the FIN");
    assert!(t.elapsed() >= Duration::from_millis(200), "the FIN waited: {:?}", t.elapsed());
    server.shutdown().await;
}

#[tokio::test]
async fn bandwidth_holds_a_stream_to_its_rate() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    // 100 KB/s downstream: 50 000 bytes need at least ~0.4 s (100 ms of burst allowed).
    proxy.add_fault(toxic(json!({"type": "bandwidth", "attributes": {"rate": 100}}))).await.expect("add");
    let mut c = connect(addr(&proxy)).await;
    let t = Instant::now();
    c.write_all(&[9u8; 50_000]).await.expect("write");
    assert_eq!(read_n(&mut c, 50_000).await.len(), 50_000);
    assert!(t.elapsed() >= Duration::from_millis(350), "{:?}", t.elapsed());
    server.shutdown().await;
}

/// Which of 12 connections a toxicity-0.5 latency hits, by the connection listing.
async fn hit_pattern(seed: u64) -> Vec<bool> {
    let (server, proxy, _echo) = proxied(Options { seed, ..Options::default() }).await;
    proxy
        .add_fault(toxic(json!({"type": "latency", "toxicity": 0.5, "attributes": {"latency": 1}})))
        .await
        .expect("add");
    let mut hits = Vec::new();
    for _ in 0..12 {
        let mut c = connect(addr(&proxy)).await;
        c.write_all(b"x").await.expect("write");
        assert_eq!(read_n(&mut c, 1).await, b"x");
        let conns = proxy.connections();
        let newest = conns.iter().max_by_key(|v| v.id).expect("listed");
        hits.push(!newest.faults_hit.is_empty());
        drop(c);
        eventually("closed", || proxy.counters().live_connections == 0).await;
    }
    server.shutdown().await;
    hits
}

#[tokio::test]
async fn toxicity_draws_are_per_connection_and_follow_the_seed() {
    let a = hit_pattern(42).await;
    let b = hit_pattern(42).await;
    assert_eq!(a, b, "the same seed, the same connections hit");
    let hit = a.iter().filter(|h| **h).count();
    assert!((1..12).contains(&hit), "toxicity 0.5 hits some connections, not all or none: {a:?}");
    let mut any_other = false;
    for seed in [1, 2, 3, 4] {
        any_other |= hit_pattern(seed).await != a;
    }
    assert!(any_other, "other seeds draw other connections");
}

#[tokio::test]
async fn a_fault_can_target_one_listed_connection() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut first = connect(addr(&proxy)).await;
    first.write_all(b"1").await.expect("write");
    assert_eq!(read_n(&mut first, 1).await, b"1");
    let mut second = connect(addr(&proxy)).await;
    second.write_all(b"2").await.expect("write");
    assert_eq!(read_n(&mut second, 1).await, b"2");
    let id = proxy.connections().iter().map(|c| c.id).min().expect("listed");
    proxy
        .add_fault(toxic(
            json!({"type": "reject", "attributes": {"reset_existing": true}, "target": {"connection": id}}),
        ))
        .await
        .expect("add");
    let r = next_read(&mut first, WAIT).await.expect("answer in time");
    assert_eq!(r.expect_err("reset").kind(), ErrorKind::ConnectionReset);
    second.write_all(b"still").await.expect("write");
    assert_eq!(read_n(&mut second, 5).await, b"still", "the other connection is untouched");
    server.shutdown().await;
}
