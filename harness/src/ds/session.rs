//! One framed replication connection: dial, receive with a timeout, close
//! cleanly (StopMsg, then FIN) or abortively (RST), and the address text the
//! product writes in its log lines.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::codec::Framed;

use crate::codec::ReplCodec;
use crate::error::WireError;
use crate::pki::{self, TlsContexts};
use crate::wire::ReplMsg;

/// A connection's byte stream: clear TCP, or TLS over TCP (either side).
#[derive(Debug)]
pub(crate) enum Transport {
    Plain(TcpStream),
    TlsServer(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    TlsClient(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Only while the stream is being swapped (see [`stop_encryption`]).
    Swapping,
}

impl Transport {
    /// The TCP socket underneath (for resets).
    pub fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Transport::Plain(s) => Some(s),
            Transport::TlsServer(s) => Some(s.get_ref().0),
            Transport::TlsClient(s) => Some(s.get_ref().0),
            Transport::Swapping => None,
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Transport::Plain($s) => {
                let $s = std::pin::Pin::new($s);
                $e
            }
            Transport::TlsServer($s) => {
                let $s = std::pin::Pin::new(&mut **$s);
                $e
            }
            Transport::TlsClient($s) => {
                let $s = std::pin::Pin::new(&mut **$s);
                $e
            }
            Transport::Swapping => {
                std::task::Poll::Ready(Err(io::Error::new(io::ErrorKind::NotConnected, "transport being swapped")))
            }
        }
    };
}

impl tokio::io::AsyncRead for Transport {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl tokio::io::AsyncWrite for Transport {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
}

pub(crate) type Conn = Framed<Transport, ReplCodec>;

/// `Socket.getRemoteSocketAddress().toString()`: `host/1.2.3.4:8989` when the
/// socket was opened by name, `/1.2.3.4:40123` for an accepted one.
pub fn readable_address(host: Option<&str>, addr: SocketAddr) -> String {
    match host {
        Some(h) => format!("{h}/{addr}"),
        None => format!("/{addr}"),
    }
}

/// Dials `to` from `local_ip` (so the peer sees the server's own address).
///
/// The harness only ever dials loopback: anything else is refused here, so a
/// case or scenario that names a documentation address (192.0.2.x) can never
/// make it send a packet off the machine.
pub(crate) async fn dial(local_ip: IpAddr, to: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    if !to.ip().is_loopback() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("the harness dials loopback addresses only, not {to}"),
        ));
    }
    let socket = if to.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if local_ip.is_ipv4() == to.is_ipv4() && local_ip.is_loopback() {
        socket.bind(SocketAddr::new(local_ip, 0))?;
    }
    let stream = tokio::time::timeout(timeout, socket.connect(to))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("connect to {to} timed out")))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

pub(crate) fn framed(stream: Transport, max_frame_len: usize) -> Conn {
    Framed::new(stream, ReplCodec::new(max_frame_len))
}

/// Drops TLS and goes on in clear text on the same TCP connection, as the
/// real product's `Session.stopEncryption()` does after the start messages
/// when the initiator asked for no encryption. A clear connection is kept as is.
pub(crate) fn stop_encryption(conn: &mut Conn) {
    let io = std::mem::replace(conn.get_mut(), Transport::Swapping);
    *conn.get_mut() = match io {
        Transport::TlsServer(s) => Transport::Plain((*s).into_inner().0),
        Transport::TlsClient(s) => Transport::Plain((*s).into_inner().0),
        other => other,
    };
}

/// True when the connection runs TLS.
pub(crate) fn is_tls(conn: &Conn) -> bool {
    !matches!(conn.get_ref(), Transport::Plain(_))
}

/// The client side of a connection: TLS first when the server runs it.
pub(crate) async fn secure_client(
    tls: Option<&TlsContexts>,
    host: &str,
    tcp: TcpStream,
    timeout: Duration,
) -> io::Result<Transport> {
    let Some(t) = tls else { return Ok(Transport::Plain(tcp)) };
    let name = pki::server_name(host).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    match tokio::time::timeout(timeout, t.connector.connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(Transport::TlsClient(Box::new(s))),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out")),
    }
}

/// The accepting side: TLS first when the server runs it.
pub(crate) async fn secure_server(
    tls: Option<&TlsContexts>,
    tcp: TcpStream,
    timeout: Duration,
) -> io::Result<Transport> {
    let Some(t) = tls else { return Ok(Transport::Plain(tcp)) };
    match tokio::time::timeout(timeout, t.acceptor.accept(tcp)).await {
        Ok(Ok(s)) => Ok(Transport::TlsServer(Box::new(s))),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "Read timed out")),
    }
}

/// Why a handshake read gave nothing.
#[derive(Debug)]
pub(crate) enum RecvError {
    Timeout,
    Closed,
    Wire(WireError),
}

impl std::fmt::Display for RecvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecvError::Timeout => f.write_str("Read timed out"),
            RecvError::Closed => f.write_str("no more data"),
            RecvError::Wire(e) => write!(f, "{e}"),
        }
    }
}

/// Reads one message within `timeout`.
pub(crate) async fn recv(conn: &mut Conn, timeout: Duration) -> Result<ReplMsg, RecvError> {
    match tokio::time::timeout(timeout, conn.next()).await {
        Err(_) => Err(RecvError::Timeout),
        Ok(None) => Err(RecvError::Closed),
        Ok(Some(Err(e))) => Err(RecvError::Wire(e)),
        Ok(Some(Ok(m))) => Ok(m),
    }
}

/// Sends one message within `timeout`.
pub(crate) async fn send(conn: &mut Conn, msg: ReplMsg, timeout: Duration) -> Result<(), WireError> {
    match tokio::time::timeout(timeout, conn.send(msg)).await {
        Ok(r) => r,
        Err(_) => Err(WireError::Io(io::Error::new(io::ErrorKind::TimedOut, "write timed out"))),
    }
}

/// Abortive close: the peer sees a reset, as when a process is killed.
pub(crate) fn reset(conn: Conn) {
    if let Some(tcp) = conn.get_ref().tcp() {
        let _ = tcp.set_zero_linger();
    }
    drop(conn);
}

/// Clean close: StopMsg, then FIN, then read until the peer's FIN, so that
/// unread bytes never turn the close into a reset.
pub(crate) async fn close_cleanly(mut conn: Conn, timeout: Duration) {
    let _ = send(&mut conn, ReplMsg::Stop, timeout).await;
    let mut stream = conn.into_inner();
    let drain = async {
        tokio::io::AsyncWriteExt::shutdown(&mut stream).await?;
        let mut sink = [0u8; 4096];
        while tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    };
    let _ = tokio::time::timeout(timeout, drain).await;
}

/// Ends a connection as a stopping server does: reset if it was killed, Stop otherwise.
pub(crate) async fn end(conn: Conn, killed: bool, timeout: Duration) {
    if killed {
        reset(conn);
    } else {
        close_cleanly(conn, timeout).await;
    }
}
