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
use crate::wire::ReplMsg;

pub(crate) type Conn = Framed<TcpStream, ReplCodec>;

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

pub(crate) fn framed(stream: TcpStream, max_frame_len: usize) -> Conn {
    Framed::new(stream, ReplCodec::new(max_frame_len))
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
    let _ = conn.get_ref().set_zero_linger();
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
