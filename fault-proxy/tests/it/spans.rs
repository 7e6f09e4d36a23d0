//! What a connection logs carries its spans: `proxy{name}` from the
//! listener task, `conn{id,peer}` from the connection's own task.

use std::io::Write;
use std::sync::{Arc, Mutex};

use fault_proxy::Options;
use tokio::io::AsyncWriteExt;
use tracing_subscriber::fmt::MakeWriter;

use crate::support::{addr, connect, eventually, proxied, read_n};

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn connection_logs_carry_the_proxy_and_conn_spans() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_env_filter("fault_proxy=debug")
        .with_ansi(false)
        .finish();
    // This test's runtime has one thread: every task of the proxy logs here.
    let _default = tracing::subscriber::set_default(subscriber);
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut c = connect(addr(&proxy)).await;
    let me = c.local_addr().expect("addr");
    c.write_all(b"hi").await.expect("write");
    assert_eq!(read_n(&mut c, 2).await, b"hi");
    drop(c);
    eventually("the connection closed", || proxy.counters().live_connections == 0).await;
    server.shutdown().await;
    let text = logs.text();
    let spans = format!("proxy{{name=p}}:conn{{id=1 peer={me}}}");
    for what in ["accepted", "closed"] {
        let line = text.lines().find(|l| l.ends_with(what) || l.contains(&format!(": {what}")));
        let line = line.unwrap_or_else(|| panic!("no {what:?} line in:\n{text}"));
        assert!(line.contains(&spans), "{line}");
    }
}
