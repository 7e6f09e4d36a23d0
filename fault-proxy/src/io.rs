//! Socket primitives for the byte pumps.
//!
//! Both pumps of a connection share its two sockets (`&TcpStream`, readiness
//! based), so either can end the whole connection the way it must: a FIN on
//! one side becomes `shutdown(SHUT_WR)` on the other, a reset becomes a
//! zero-linger close of both. When no fault touches a direction, bytes move
//! socket → pipe → socket with `splice(2)`, never through user space.

use std::io;

use rustix::fd::OwnedFd;
use rustix::pipe::{PipeFlags, SpliceFlags};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Writes all of `data`, waiting for the socket to take it.
pub async fn write_all(dst: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        dst.writable().await?;
        match dst.try_write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads what is there into `buf`'s spare room (at least `want` bytes of it).
/// `Some(0)`: EOF; `None`: the readiness was spurious.
pub async fn read_buf_some(src: &TcpStream, buf: &mut bytes::BytesMut, want: usize) -> io::Result<Option<usize>> {
    src.readable().await?;
    buf.reserve(want);
    match src.try_read_buf(buf) {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// Passes a FIN on: no more writes to `dst`; reads go on.
pub fn shutdown_write(dst: &TcpStream) {
    let _ = rustix::net::shutdown(dst, rustix::net::Shutdown::Write);
}

/// Makes the close of this socket an RST (the peer sees "connection reset").
pub fn arm_reset(s: &TcpStream) {
    let _ = s.set_zero_linger();
}

/// A kernel pipe for one direction's zero-copy path.
#[derive(Debug)]
pub struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Bytes in the pipe, not yet written to the destination.
    held: usize,
}

/// How much one splice call moves at most (the pipe's size, when granted).
const SPLICE_LEN: usize = 1 << 20;

/// What one zero-copy step did.
#[derive(Debug, PartialEq, Eq)]
pub enum Spliced {
    /// Moved this many bytes from source to destination.
    Moved(usize),
    /// The source reached EOF (and the pipe is empty).
    Eof,
}

impl Pipe {
    pub fn new() -> io::Result<Pipe> {
        let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        // A large pipe moves more per call; the default (64 KiB) still works
        // if the kernel refuses (fs.pipe-max-size).
        let _ = rustix::pipe::fcntl_setpipe_size(&write, SPLICE_LEN);
        Ok(Pipe { read, write, held: 0 })
    }

    /// Moves bytes src → pipe → dst once; returns after the pipe is empty
    /// again. Cancel-safe: bytes taken into the pipe are counted in `held`
    /// and written by the next `step` or `flush`, so none is lost or reordered.
    pub async fn step(&mut self, src: &TcpStream, dst: &TcpStream) -> io::Result<Spliced> {
        if self.held == 0 {
            let n = loop {
                src.readable().await?;
                let r = src.try_io(Interest::READABLE, || {
                    rustix::pipe::splice(
                        src,
                        None,
                        &self.write,
                        None,
                        SPLICE_LEN,
                        SpliceFlags::NONBLOCK | SpliceFlags::MOVE,
                    )
                    .map_err(io::Error::from)
                });
                match r {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                return Ok(Spliced::Eof);
            }
            self.held = n;
        }
        let moved = self.held;
        self.flush(dst).await?;
        Ok(Spliced::Moved(moved))
    }

    /// One more step if the source has data right now (`None`: it has not).
    pub async fn try_step(&mut self, src: &TcpStream, dst: &TcpStream) -> io::Result<Option<Spliced>> {
        debug_assert_eq!(self.held, 0);
        let r = src.try_io(Interest::READABLE, || {
            rustix::pipe::splice(src, None, &self.write, None, SPLICE_LEN, SpliceFlags::NONBLOCK | SpliceFlags::MOVE)
                .map_err(io::Error::from)
        });
        let n = match r {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(Some(Spliced::Eof));
        }
        self.held = n;
        self.flush(dst).await?;
        Ok(Some(Spliced::Moved(n)))
    }

    /// Writes what waits in the pipe to `dst`. Cancel-safe: an interrupted
    /// flush leaves the count right for the next one.
    pub async fn flush(&mut self, dst: &TcpStream) -> io::Result<()> {
        while self.held > 0 {
            dst.writable().await?;
            let r = dst.try_io(Interest::WRITABLE, || {
                rustix::pipe::splice(&self.read, None, dst, None, self.held, SpliceFlags::NONBLOCK | SpliceFlags::MOVE)
                    .map_err(io::Error::from)
            });
            match r {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.held -= n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// True when nothing waits in the pipe.
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }
}
