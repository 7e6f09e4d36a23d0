//! File descriptors: the process's limit, and what a listener does when
//! they run out.
//!
//! A proxied connection costs two descriptors in steady state (its two
//! sockets; splice pipes are pooled, [`crate::io::PipePool`]). At start the
//! binary raises its soft limit to the hard one ([`raise_limit`]).
//!
//! A server admits at most `(soft limit - HEADROOM - soft limit / 8) / 2`
//! connections at once ([`Admission`]): past that a new client is accepted
//! and closed at once, so the descriptors left keep the control API and the
//! listeners working, and an eighth of the limit is kept for splice pipes
//! ([`pipe_share`]). Should descriptors run out all the same (the embedding program
//! uses its own), `accept` fails with `EMFILE` and the client would wait in
//! the backlog, retried in a tight loop: instead each listener keeps one
//! descriptor in reserve ([`Reserve`]); it lets it go, accepts the waiting
//! client, closes it at once, and takes the reserve again. Either way the
//! client sees its connection closed, the refusal is counted
//! (`fault_proxy_refused_connections_total`) and logged once per episode,
//! and every established connection goes on untouched.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// The descriptor limit before and after [`raise_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub before: Option<u64>,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; `None` stands for
/// unlimited. Fails only if the kernel refuses.
pub fn raise_limit() -> io::Result<Limit> {
    let now = getrlimit(Resource::Nofile);
    let before = now.current;
    if now.current != now.maximum {
        setrlimit(Resource::Nofile, Rlimit { current: now.maximum, maximum: now.maximum })?;
    }
    let after = getrlimit(Resource::Nofile);
    Ok(Limit { before, soft: after.current, hard: after.maximum })
}

/// True for "out of descriptors", the process's (`EMFILE`) or the system's (`ENFILE`).
pub fn exhausted(e: &io::Error) -> bool {
    let code = e.raw_os_error();
    code == Some(rustix::io::Errno::MFILE.raw_os_error()) || code == Some(rustix::io::Errno::NFILE.raw_os_error())
}

/// Descriptors kept free of connections and pipes: the API's, the
/// listeners', log files.
pub const HEADROOM: u64 = 64;
/// One descriptor in this many is kept for splice pipes (a latency fault
/// holds bytes in pipes: [`crate::io::PipePool`]).
pub const PIPE_SHARE: u64 = 8;

/// The connections a soft limit of `soft` descriptors admits.
pub fn max_connections(soft: u64) -> usize {
    usize::try_from(soft.saturating_sub(HEADROOM + soft / PIPE_SHARE) / 2).unwrap_or(usize::MAX)
}

fn soft_limit() -> Option<u64> {
    getrlimit(Resource::Nofile).current
}

/// The descriptors kept for pipes: an eighth of the soft limit (unlimited: 65 536).
pub fn pipe_share() -> usize {
    usize::try_from(soft_limit().map_or(1 << 16, |s| s / PIPE_SHARE)).unwrap_or(usize::MAX)
}

/// How many connections a server admits at once (counted over all its
/// proxies), from the descriptor limit in force when it is made.
#[derive(Debug)]
pub struct Admission {
    live: AtomicUsize,
    max: usize,
}

impl Admission {
    /// From the process's soft limit: `(soft - HEADROOM - soft / 8) / 2`.
    pub fn from_limit() -> Self {
        Admission::with_max(soft_limit().map_or(usize::MAX, max_connections))
    }

    pub fn with_max(max: usize) -> Self {
        Admission { live: AtomicUsize::new(0), max }
    }

    /// Admits one more connection while the guard lives, unless `max` are in.
    pub fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let mut n = self.live.load(Ordering::Relaxed);
        loop {
            if n >= self.max {
                return None;
            }
            match self.live.compare_exchange_weak(n, n + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(Admitted(self.clone())),
                Err(now) => n = now,
            }
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct Admitted(Arc<Admission>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One descriptor held back so a listener can still accept (and close) a
/// client when the process has no other left.
#[derive(Debug)]
pub(crate) struct Reserve(Option<File>);

impl Reserve {
    pub fn new() -> Self {
        Reserve(open())
    }

    /// Lets the reserve go, so one descriptor is free.
    pub fn release(&mut self) {
        self.0 = None;
    }

    /// Takes a descriptor back into reserve (if one is free again).
    pub fn refill(&mut self) {
        if self.0.is_none() {
            self.0 = open();
        }
    }
}

fn open() -> Option<File> {
    File::open("/dev/null").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_raised_to_the_hard_one() {
        let l = raise_limit().expect("raise");
        assert_eq!(l.soft, l.hard);
        assert!(l.before <= l.soft || l.soft.is_none());
    }

    #[test]
    fn admission_stops_at_its_max_and_frees_places() {
        let a = Arc::new(Admission::with_max(2));
        let one = a.admit().expect("1");
        let two = a.admit().expect("2");
        assert!(a.admit().is_none(), "a third is refused");
        drop(one);
        let three = a.admit().expect("a freed place is taken again");
        drop((two, three));
        assert_eq!(a.live.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn out_of_descriptors_is_told_apart() {
        assert!(exhausted(&io::Error::from_raw_os_error(rustix::io::Errno::MFILE.raw_os_error())));
        assert!(exhausted(&io::Error::from_raw_os_error(rustix::io::Errno::NFILE.raw_os_error())));
        assert!(!exhausted(&io::Error::from(io::ErrorKind::ConnectionReset)));
    }

    #[test]
    fn the_reserve_holds_one_descriptor_and_gives_it_back() {
        let mut r = Reserve::new();
        assert!(r.0.is_some());
        r.release();
        assert!(r.0.is_none());
        r.refill();
        assert!(r.0.is_some());
    }
}
