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

/// A kernel pipe for the zero-copy path. A direction holds one only while
/// bytes move through it; between transfers it goes back to a [`PipePool`],
/// so an idle connection holds its two sockets and nothing else.
#[derive(Debug)]
pub struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Bytes in the pipe, not yet written to the destination.
    held: usize,
    /// The open count of the pool that made it.
    count: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
}

/// How much one splice call moves at most (the pipe's size, when granted).
const SPLICE_LEN: usize = 1 << 20;

impl Pipe {
    pub fn new() -> io::Result<Pipe> {
        let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        // A large pipe moves more per call; the default (64 KiB) still works
        // if the kernel refuses (fs.pipe-max-size).
        let _ = rustix::pipe::fcntl_setpipe_size(&write, SPLICE_LEN);
        Ok(Pipe { read, write, held: 0, count: None })
    }

    /// Moves what `src` has right now into the (empty) pipe, without
    /// waiting: `Ok(None)` when it has nothing (its readiness is cleared),
    /// `Ok(Some(0))` at EOF.
    pub fn fill(&mut self, src: &TcpStream) -> io::Result<Option<usize>> {
        debug_assert_eq!(self.held, 0);
        let r = src.try_io(Interest::READABLE, || {
            rustix::pipe::splice(src, None, &self.write, None, SPLICE_LEN, SpliceFlags::NONBLOCK | SpliceFlags::MOVE)
                .map_err(io::Error::from)
        });
        match r {
            Ok(n) => {
                self.held = n;
                Ok(Some(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
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

    /// Bytes in the pipe.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Moves up to `most` bytes of what `src` has now into the pipe, on top
    /// of what it holds, without waiting. `Ok(Some(0))`: EOF;
    /// `Ok(None)`: `src` has nothing (its readiness is cleared);
    /// `Err(PipeFull)`: the pipe takes no more, `src` still has bytes
    /// (its readiness is kept).
    pub fn top_up(&mut self, src: &TcpStream, most: usize) -> Result<Option<usize>, TopUp> {
        let r = src.try_io(Interest::READABLE, || {
            match rustix::pipe::splice(src, None, &self.write, None, most, SpliceFlags::NONBLOCK | SpliceFlags::MOVE) {
                Ok(n) => Ok(Ok(n)),
                // A full pipe and an empty socket both say EAGAIN: the
                // socket's queue tells them apart.
                Err(rustix::io::Errno::AGAIN) if self.held > 0 && rustix::io::ioctl_fionread(src).unwrap_or(0) > 0 => {
                    Ok(Err(TopUp::PipeFull))
                }
                Err(e) => Err(io::Error::from(e)),
            }
        });
        match r {
            Ok(Ok(n)) => {
                self.held += n;
                Ok(Some(n))
            }
            Ok(Err(full)) => Err(full),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(TopUp::Io(e)),
        }
    }

    /// Writes what the pipe holds to `dst` as far as it takes it now:
    /// `Ok(None)` when it takes nothing (its readiness is cleared).
    pub fn drain_some(&mut self, dst: &TcpStream) -> io::Result<Option<usize>> {
        let r = dst.try_io(Interest::WRITABLE, || {
            rustix::pipe::splice(&self.read, None, dst, None, self.held, SpliceFlags::NONBLOCK | SpliceFlags::MOVE)
                .map_err(io::Error::from)
        });
        match r {
            Ok(0) => Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                self.held -= n;
                Ok(Some(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Why [`Pipe::top_up`] moved nothing.
#[derive(Debug)]
pub enum TopUp {
    /// The pipe is full; the source still has bytes.
    PipeFull,
    Io(io::Error),
}

/// Idle pipes shared by every connection of a server: a direction takes one
/// when its source has bytes and gives it back once they are written, so
/// the pipes open at once are the transfers in progress, not the
/// connections. At most `keep` idle pipes are kept (2 descriptors each);
/// more are closed when given back.
///
/// Pipes open at once (idle or in use) are capped at `max_open`, the
/// descriptors kept for them out of the process's limit
/// ([`crate::fds::pipe_share`]): past that `take` fails and the caller
/// copies instead, so pipes never take the descriptors connections and the
/// API need.
#[derive(Debug)]
pub struct PipePool {
    idle: std::sync::Mutex<Vec<Pipe>>,
    keep: usize,
    open: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    max_open: usize,
}

impl PipePool {
    /// Idle pipes a pool keeps by default.
    pub const KEEP: usize = 8;

    pub fn new(keep: usize, max_open: usize) -> Self {
        PipePool { idle: std::sync::Mutex::new(Vec::new()), keep, open: Default::default(), max_open }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Pipe>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An idle pipe, or a new one (which fails when descriptors run out,
    /// or `max_open` pipes are open).
    pub fn take(&self) -> io::Result<Pipe> {
        if let Some(p) = self.idle().pop() {
            return Ok(p);
        }
        use std::sync::atomic::Ordering;
        if self.open.fetch_add(1, Ordering::AcqRel) >= self.max_open {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(io::Error::other(format!("{} pipes open, the most kept for them", self.max_open)));
        }
        match Pipe::new() {
            Ok(mut p) => {
                p.count = Some(self.open.clone());
                Ok(p)
            }
            Err(e) => {
                self.open.fetch_sub(1, Ordering::AcqRel);
                Err(e)
            }
        }
    }

    /// Takes a pipe back; one that still holds bytes is closed, never reused.
    pub fn give(&self, pipe: Pipe) {
        if pipe.is_empty() {
            let mut idle = self.idle();
            if idle.len() < self.keep {
                idle.push(pipe);
            }
        }
    }

    /// Idle pipes now (each two descriptors).
    pub fn idle_count(&self) -> usize {
        self.idle().len()
    }
}

impl Default for PipePool {
    /// Keeps [`PipePool::KEEP`] idle, opens at most the process's pipe share.
    fn default() -> Self {
        PipePool::new(PipePool::KEEP, crate::fds::pipe_share() / 2)
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        if let Some(open) = &self.count {
            open.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
    }
}
