//! Bytes that are not what the protocol expects: each bad connection is
//! logged and closed, and the server goes on serving.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use harness::catalog;
use harness::codec::ReplCodec;
use harness::wire::ReplMsg;
use harness::Mesh;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::support::{bounded, probe_start, spec, wait_logged, WAIT};

/// Sends `bytes` on a fresh connection and returns how many bytes came back
/// before the server closed it (by FIN or by reset).
async fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> usize {
    let mut raw = TcpStream::connect(addr).await.expect("connect");
    raw.write_all(bytes).await.expect("write");
    let mut buf = [0u8; 64];
    match tokio::time::timeout(WAIT, raw.read(&mut buf)).await.expect("server closes the connection") {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
        Err(e) => panic!("reading the server's answer: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_close_that_connection_with_a_log_line_and_serving_goes_on() {
    bounded(async {
        let mesh = Mesh::start(spec(2, "7.1")).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("up");
        let s = mesh.server("ds-1").expect("ds-1");
        let addr = s.replication_addr();
        assert_eq!(raw_exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await, 0);
        assert!(wait_logged(s, &catalog::EXCEPTION_LISTENING, &[], 1).await);
        let line = s.log().errors_lines().into_iter().find(|l| l.contains("msgID=86 ")).expect("86 line");
        // Only the exception's message, as Java words it: no peer address.
        assert!(
            line.ends_with("msg=Replication server caught exception while listening for client connections For input string: \"GET / HT\""),
            "{line}"
        );
        // An oversized frame, and a stream that starts with the wrong message.
        assert_eq!(raw_exchange(addr, b"7fffffff").await, 0);
        assert!(wait_logged(s, &catalog::EXCEPTION_LISTENING, &["Packet too large, can't allocate 2147483647 bytes."], 1).await);
        let mut hb = TcpStream::connect(addr).await.expect("connect");
        let from = hb.local_addr().expect("local");
        hb.write_all(b"00000001\x09").await.expect("write");
        // 4.x: 300 with the HostPort address and the class's simple name; a StopMsg, then the close.
        assert!(wait_logged(s, &catalog::UNEXPECTED_MESSAGE, &[&from.to_string(), "HeartbeatMsg"], 1).await);
        let mut framed = Framed::new(hb, ReplCodec::default());
        assert!(matches!(tokio::time::timeout(WAIT, framed.next()).await, Ok(Some(Ok(ReplMsg::Stop)))));
        // Still serving: the mesh is intact and a new DS session handshakes.
        mesh.wait_all_up(WAIT).await.expect("still up");
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut framed = Framed::new(stream, ReplCodec::default());
        let start = probe_start(4, false);
        framed.send(ReplMsg::ServerStart(start)).await.expect("send");
        match tokio::time::timeout(WAIT, framed.next()).await.expect("reply in time") {
            Some(Ok(ReplMsg::ReplServerStartDs(r))) => {
                assert_eq!(r.header.protocol_version, 4, "the version is negotiated down");
                assert_eq!(r.server_id, "ds-1");
            }
            other => panic!("expected ReplServerStartDSMsg, got {other:?}"),
        }
        drop(framed);
        mesh.shutdown().await;
    })
    .await;
}

/// Worker threads of the junk test's own runtime, so its panic hook counts
/// panics of the server's tasks only.
const JUNK_WORKERS: &str = "junk-rt";

/// What a fuzzing client sends on one connection.
fn junk() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let msg_bytes = crate::codec_props::msg().prop_map(|m| {
        let mut buf = bytes::BytesMut::new();
        harness::wire::encode_frame(&m, &mut buf, harness::wire::DEFAULT_MAX_FRAME_LEN).expect("encode");
        buf.to_vec()
    });
    prop_oneof![
        // Raw bytes.
        prop::collection::vec(any::<u8>(), 0..512),
        // A well-formed length, then junk: the decoder reaches the payload.
        (0usize..600, prop::collection::vec(any::<u8>(), 0..512)).prop_map(|(len, rest)| {
            let mut v = format!("{len:08x}").into_bytes();
            v.extend(rest);
            v
        }),
        // A real message (any kind, any field values), then junk or nothing.
        (msg_bytes, prop::collection::vec(any::<u8>(), 0..16)).prop_map(|(mut m, tail)| {
            m.extend(tail);
            m
        }),
    ]
}

#[test]
fn junk_from_the_network_never_panics_nor_hangs_a_server_and_serving_goes_on() {
    use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let panics = Arc::new(AtomicUsize::new(0));
    let (p, previous) = (panics.clone(), std::panic::take_hook());
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(JUNK_WORKERS) {
            p.fetch_add(1, Ordering::SeqCst);
        }
        previous(info);
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(JUNK_WORKERS)
        .enable_all()
        .build()
        .expect("runtime");
    let mesh = rt.block_on(async { Mesh::start(spec(2, "7.1")).await.expect("mesh") });
    rt.block_on(mesh.wait_all_up(WAIT)).expect("up");
    let addr = mesh.server("ds-1").expect("ds-1").replication_addr();
    // Socket test: the case count is pinned; failures persist next to this file.
    let config = Config {
        cases: 48,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        source_file: Some(file!()),
        test_name: Some("junk_from_the_network_never_panics_nor_hangs_a_server_and_serving_goes_on"),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&junk(), |bytes| {
        let panicked_before = panics.load(Ordering::SeqCst);
        rt.block_on(async {
            let mut raw = TcpStream::connect(addr).await.map_err(|e| TestCaseError::fail(format!("connect: {e}")))?;
            // The server may close before reading everything: a failed write is fine.
            let _ = raw.write_all(&bytes).await;
            let _ = raw.shutdown().await;
            // It must close the connection in bounded time, whatever it got.
            let closed = tokio::time::timeout(WAIT, async {
                let mut buf = [0u8; 4096];
                loop {
                    match raw.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            })
            .await;
            if closed.is_err() {
                return Err(TestCaseError::fail("the server kept the connection open"));
            }
            // A task that panicked did so before its connection closed.
            if panics.load(Ordering::SeqCst) > panicked_before {
                return Err(TestCaseError::fail("a server task panicked on this input (message above)"));
            }
            mesh.wait_all_up(WAIT).await.map_err(|m| TestCaseError::fail(format!("links lost: {m:?}")))?;
            Ok(())
        })
    });
    // Still serving: a DS session handshakes.
    let served = rt.block_on(async {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut framed = Framed::new(stream, ReplCodec::default());
        framed.send(ReplMsg::ServerStart(probe_start(8, false))).await.expect("send");
        matches!(tokio::time::timeout(WAIT, framed.next()).await, Ok(Some(Ok(ReplMsg::ReplServerStartDs(_)))))
    });
    rt.block_on(mesh.shutdown());
    drop(rt);
    if let Err(e) = outcome {
        panic!("{e}");
    }
    assert!(served, "after the junk, a DS session still handshakes");
    assert_eq!(panics.load(Ordering::SeqCst), 0, "a server task panicked on junk (see its message above)");
}
