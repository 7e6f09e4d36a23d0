//! Shared test pieces: an echo upstream, a proxy in front of it, bounded waits.

use std::net::SocketAddr;
use std::time::Duration;

use fault_proxy::{Options, Proxy, ProxyServer, ProxySpec, Toxic};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;

/// Bound on any single wait for something that should happen.
pub const WAIT: Duration = Duration::from_secs(10);

/// An upstream that echoes every byte and, on EOF, echoes what is left then
/// closes its side (so a half-closed client still gets its reply).
pub struct Echo {
    pub addr: SocketAddr,
    cancel: CancellationToken,
}

impl Echo {
    pub async fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
        let addr = listener.local_addr().expect("addr");
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = tokio::select! {
                    _ = c.cancelled() => break,
                    r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
                };
                let c = c.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = tokio::select! {
                            _ = c.cancelled() => return,
                            r = s.read(&mut buf) => match r { Ok(n) => n, Err(_) => return },
                        };
                        if n == 0 {
                            let _ = s.shutdown().await;
                            return;
                        }
                        if s.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Echo { addr, cancel }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

pub fn toxic(v: serde_json::Value) -> Toxic {
    Toxic::from_json(&v).expect("valid toxic")
}

/// A server with one proxy `p` in front of a fresh echo upstream.
pub async fn proxied(options: Options) -> (ProxyServer, Proxy, Echo) {
    let echo = Echo::start().await;
    let server = ProxyServer::new(options);
    let proxy = server.create(ProxySpec::new("p", "127.0.0.1:0", &echo.addr.to_string())).await.expect("proxy");
    (server, proxy, echo)
}

pub fn addr(p: &Proxy) -> SocketAddr {
    p.listen_addr().expect("listening")
}

pub async fn connect(to: SocketAddr) -> TcpStream {
    tokio::time::timeout(WAIT, TcpStream::connect(to)).await.expect("connect in time").expect("connect")
}

/// Connects from a given loopback address.
pub async fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(format!("{from}:0").parse().expect("addr"))?;
    tokio::time::timeout(WAIT, s.connect(to)).await.map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}

/// Reads exactly `n` bytes within WAIT.
pub async fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(WAIT, s.read_exact(&mut buf)).await.expect("read in time").expect("read");
    buf
}

/// Waits until `cond` holds, polling; panics after WAIT.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
