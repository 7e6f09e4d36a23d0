//! Every server task runs in `node{name}`, every connection in
//! `conn{id,peer}` under it, every established link in `link{domain,peer}`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use harness::catalog;
use harness::Mesh;

use crate::support::{spec, wait_logged, TEST_LIMIT, WAIT};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn log_lines_are_traced_in_node_conn_and_link_spans() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    // One thread: every task of the mesh runs where this subscriber is the default.
    let _default = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        tokio::time::timeout(TEST_LIMIT, async {
            let mesh = Mesh::start(spec(2, "7.1")).await.expect("mesh");
            mesh.wait_all_up(WAIT).await.expect("up");
            mesh.server("ds-2").expect("ds-2").kill().await;
            let s1 = mesh.server("ds-1").expect("ds-1");
            // A killed 7.x peer's FIN: 53 on the reader (3.0 on).
            assert!(wait_logged(s1, &catalog::READER_EXCEPTION, &[], 1).await);
            mesh.shutdown().await;
        })
        .await
        .expect("bounded");
    });
    let text = String::from_utf8_lossy(&captured.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    let line = |what: &str, parts: &[&str]| {
        text.lines().find(|l| parts.iter().all(|p| l.contains(p))).unwrap_or_else(|| {
            panic!("no traced line for {what} with {parts:?}; traced:\n{text}");
        })
    };
    // 53 is logged by the link that failed: node, then connection, then link.
    let l = line("53", &["msgID=53 ", "node{name=ds-1}"]);
    let (node, conn, link) = (
        l.find("node{name=ds-1}").expect("node"),
        l.find(":conn{id=").expect("conn span"),
        l.find(":link{domain=").expect("link span"),
    );
    assert!(node < conn && conn < link, "nested node > conn > link: {l}");
    assert!(l[link..].contains(" peer=ds-2}:"), "the link names its peer: {l}");
    // 207 (the RS accepting its DS) in the accepted connection's span.
    let l = line("207", &["msgID=207", "node{name=ds-2}"]);
    assert!(l.contains(":conn{id=") && l.contains(" peer=127.0.0.2:"), "{l}");
}
