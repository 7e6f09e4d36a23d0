//! A connection's byte stream, for every family: clear TCP or TLS over TCP
//! on either side, dialled from the server's own address, and nothing but
//! loopback or the server's own test network ([`crate::testnet`]); and the
//! listeners, made where the server lives.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::pki::{self, TlsContexts};
use crate::testnet;

/// A connection's byte stream: clear TCP, or TLS over TCP (either side).
#[derive(Debug)]
pub(crate) enum Transport {
    Plain(TcpStream),
    TlsServer(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    TlsClient(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Only while the stream is being swapped (see [`Transport::drop_tls`]).
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

    /// True when the stream runs TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, Transport::Plain(_))
    }

    /// Goes on in clear text on the same TCP connection (the real product's
    /// `Session.stopEncryption()`). A clear stream is kept as is.
    pub fn drop_tls(&mut self) {
        *self = match std::mem::replace(self, Transport::Swapping) {
            Transport::TlsServer(s) => Transport::Plain((*s).into_inner().0),
            Transport::TlsClient(s) => Transport::Plain((*s).into_inner().0),
            other => other,
        };
    }

    /// Makes the coming close abortive: the peer sees a reset, as when a
    /// process is killed.
    pub fn reset_on_close(&self) {
        if let Some(tcp) = self.tcp() {
            if let Err(e) = tcp.set_zero_linger() {
                tracing::debug!("zero linger refused ({e}): the close sends FIN, not RST");
            }
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

/// Dials `to` from `local_ip` (so the peer sees the server's own address).
///
/// The harness only ever dials loopback, and, for a server on a test host
/// of the kernel network, the other test hosts of its own network
/// ([`testnet::may_dial`]): anything else is refused here, so a case or
/// scenario that names a documentation address (192.0.2.x) can never make
/// it send a packet off the machine. A test host's socket is made inside
/// its namespace ([`testnet::socket`]).
pub(crate) async fn dial(local_ip: IpAddr, to: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    if !testnet::may_dial(local_ip, to.ip()) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("the harness dials loopback addresses and its own test hosts only, not {to}"),
        ));
    }
    let socket = testnet::socket(local_ip, to.is_ipv4())?;
    if local_ip.is_ipv4() == to.is_ipv4() && testnet::bindable(local_ip) {
        socket.bind(SocketAddr::new(local_ip, 0))?;
    }
    let stream = tokio::time::timeout(timeout, socket.connect(to))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("connect to {to} timed out")))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A listener on `addr`: as `TcpListener::bind` makes it (address reuse, a
/// backlog of 1024), inside its test host when `addr` is one.
pub(crate) async fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    if testnet::network_of(addr.ip()).is_none() {
        return TcpListener::bind(addr).await;
    }
    let socket = testnet::socket(addr.ip(), addr.is_ipv4())?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
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
