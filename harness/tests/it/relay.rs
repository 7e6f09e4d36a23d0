//! A minimal TCP relay for the harness's own tests, with one switch: drop
//! (read both ways and discard, so no byte and no FIN passes). The real fault
//! injector is the `fault-proxy` crate; the harness does not depend on it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub struct Relay {
    pub addr: SocketAddr,
    dropping: Arc<AtomicBool>,
    cancel: CancellationToken,
}

impl Relay {
    pub async fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let addr = listener.local_addr().expect("addr");
        let dropping = Arc::new(AtomicBool::new(false));
        let cancel = CancellationToken::new();
        let (d, c) = (dropping.clone(), cancel.clone());
        tokio::spawn(async move {
            loop {
                let (client, _) = tokio::select! {
                    _ = c.cancelled() => break,
                    r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
                };
                if d.load(Ordering::SeqCst) {
                    // New connections go nowhere while dropping: hold them open, silent.
                    let c = c.clone();
                    tokio::spawn(async move {
                        c.cancelled().await;
                        drop(client);
                    });
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, d.clone(), c.clone()));
                tokio::spawn(pump(sr, cw, d.clone(), c.clone()));
            }
        });
        Relay { addr, dropping, cancel }
    }

    pub fn drop_all(&self) {
        self.dropping.store(true, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    dropping: Arc<AtomicBool>,
    cancel: CancellationToken,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            _ = cancel.cancelled() => return,
            r = from.read(&mut buf) => match r {
                Ok(n) => n,
                // A reset must not reach the other side either while dropping.
                Err(_) if dropping.load(Ordering::SeqCst) => 0,
                Err(_) => return,
            },
        };
        if dropping.load(Ordering::SeqCst) {
            if n == 0 {
                // Swallow the FIN too: park until cancelled, keeping `to` open.
                cancel.cancelled().await;
                return;
            }
            continue;
        }
        if n == 0 {
            let _ = to.shutdown().await;
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
