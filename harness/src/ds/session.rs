//! One framed replication connection over a [`Transport`]: receive and send
//! with a timeout; close cleanly (StopMsg, then FIN), as a killed process's
//! kernel does (FIN, nothing sent before it) or abortively (RST); and the
//! address texts the product writes in its log lines.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_util::codec::Framed;

use crate::codec::ReplCodec;
use crate::error::WireError;
use crate::transport::Transport;
use crate::wire::ReplMsg;

pub(crate) type Conn = Framed<Transport, ReplCodec>;

/// `Socket.getRemoteSocketAddress().toString()`: `host/1.2.3.4:8989` when the
/// socket was opened by name, `/1.2.3.4:40123` for an address whose name was
/// never looked up (an accepted socket's local address; the remote address
/// of an accepted one carries its reverse-looked-up name: see
/// `Node::accepted_address`).
pub fn readable_address(host: Option<&str>, addr: SocketAddr) -> String {
    match host {
        Some(h) => format!("{h}/{addr}"),
        None => format!("/{addr}"),
    }
}

/// `HostPort.toString()`: `1.2.3.4:8989`, `[::1]:8989`.
pub(crate) fn host_port(addr: SocketAddr) -> String {
    addr.to_string()
}

pub(crate) fn framed(stream: Transport, max_frame_len: usize) -> Conn {
    Framed::new(stream, ReplCodec::new(max_frame_len))
}

/// Drops TLS and goes on in clear text on the same TCP connection, as the
/// real product's `Session.stopEncryption()` does after the start messages
/// when the initiator asked for no encryption. A clear connection is kept as is.
pub(crate) fn stop_encryption(conn: &mut Conn) {
    conn.get_mut().drop_tls();
}

/// True when the connection runs TLS.
pub(crate) fn is_tls(conn: &Conn) -> bool {
    conn.get_ref().is_tls()
}

/// Why a handshake read gave nothing.
#[derive(Debug)]
pub(crate) enum RecvError {
    Timeout,
    Closed,
    Wire(WireError),
}

impl RecvError {
    /// What `Session.receive` would have thrown.
    pub fn java(&self, jdk: super::java::Jdk) -> super::java::JavaException {
        use super::java::JavaException;
        match self {
            RecvError::Timeout => JavaException::read_timed_out(),
            RecvError::Closed => JavaException::no_more_data(false),
            // EOF inside a frame (the codec's "bytes remaining on stream").
            RecvError::Wire(WireError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                JavaException::no_more_data(true)
            }
            RecvError::Wire(WireError::Io(e)) => {
                super::jsse::read_failure(e).unwrap_or_else(|| JavaException::from_io(e))
            }
            RecvError::Wire(e) => JavaException::from_wire(e, jdk),
        }
    }
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
    conn.get_ref().reset_on_close();
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

/// A killed process's connection: its kernel closes the socket with a FIN
/// (no StopMsg, no TLS close_notify: the process is gone). Bytes the
/// process never read would turn that close into a reset; the FIN is sent
/// first, so the peer reads the end of the stream.
pub(crate) async fn close_killed(conn: Conn, timeout: Duration) {
    let mut stream = conn.into_inner();
    stream.drop_tls();
    let _ = tokio::time::timeout(timeout, tokio::io::AsyncWriteExt::shutdown(&mut stream)).await;
}

/// Ends a connection as a stopping server does: as a killed process's
/// kernel does if it was killed, StopMsg otherwise.
pub(crate) async fn end(conn: Conn, killed: bool, timeout: Duration) {
    if killed {
        close_killed(conn, timeout).await;
    } else {
        close_cleanly(conn, timeout).await;
    }
}
