//! Faults on a timeline, asserted from the client's side: an offset and a
//! duration, and a flap whose every on-period must act.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use fault_proxy::Options;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::semantics::next_read;
use crate::support::{addr, connect, proxied, read_n, toxic, WAIT};

#[tokio::test]
async fn scheduled_faults_switch_on_and_off_at_their_times() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let t0 = Instant::now();
    proxy
        .add_fault(toxic(json!({"type": "reject", "schedule": {"start_after_ms": 300, "duration_ms": 400}})))
        .await
        .expect("add");
    drop(connect(addr(&proxy)).await);
    let refused_at = loop {
        match TcpStream::connect(addr(&proxy)).await {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => break t0.elapsed(),
            _ => {}
        }
        assert!(t0.elapsed() < WAIT, "never refused");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(refused_at >= Duration::from_millis(300), "on at {refused_at:?}");
    let open_at = loop {
        if TcpStream::connect(addr(&proxy)).await.is_ok() {
            break t0.elapsed();
        }
        assert!(t0.elapsed() < WAIT, "never reopened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(open_at >= Duration::from_millis(700), "off at {open_at:?}");
    server.shutdown().await;
}

/// Connects until a round trip works (the listener may be refusing).
async fn connect_when_open(to: std::net::SocketAddr) -> TcpStream {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "never open");
        match TcpStream::connect(to).await {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(e) => panic!("connect: {e}"),
            Ok(mut c) => {
                c.write_all(b"up").await.expect("write");
                let mut buf = [0u8; 2];
                match tokio::time::timeout(WAIT, c.read_exact(&mut buf)).await.expect("answer in time") {
                    Ok(_) => return c,
                    // Accepted just before an on-period began: try again.
                    Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
                    Err(e) => panic!("read: {e}"),
                }
            }
        }
    }
}

/// Each of the three on-periods resets the connection opened before it and
/// refuses new ones; each off-period lets a connection through; after the
/// third, the proxy stays open.
#[tokio::test]
async fn flapping_resets_and_refuses_in_each_on_period() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut live = connect(addr(&proxy)).await;
    live.write_all(b"0").await.expect("write");
    assert_eq!(read_n(&mut live, 1).await, b"0");
    let flap = json!({"on_ms": 400, "off_ms": 400, "count": 3});
    let body = json!({"type": "reject", "attributes": {"reset_existing": true}, "schedule": {"flap": flap}});
    proxy.add_fault(toxic(body)).await.expect("add");
    for period in 1..=3 {
        let r = next_read(&mut live, WAIT).await.expect("answer in time");
        assert_eq!(r.map_err(|e| e.kind()), Err(ErrorKind::ConnectionReset), "on-period {period} resets");
        // The reset comes at the start of the 400 ms on-period: connect is refused now.
        let refused = TcpStream::connect(addr(&proxy)).await.expect_err("refused while on");
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "on-period {period} refuses");
        live = connect_when_open(addr(&proxy)).await;
    }
    // Opened in the last off-period, it outlives the schedule: no fourth reset.
    assert!(next_read(&mut live, Duration::from_millis(1200)).await.is_err(), "no reset nor close after the flap");
    live.write_all(b"calm").await.expect("write");
    assert_eq!(read_n(&mut live, 4).await, b"calm");
    server.shutdown().await;
}
