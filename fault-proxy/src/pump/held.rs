//! The bytes a direction holds while faults delay them, within the
//! proxy's budget (`buffer_bytes`, 1 MiB per direction by default).
//!
//! One ring buffer per direction, allocated when a fault first makes it
//! hold bytes, grown by doubling up to the budget and freed once it is
//! empty again: an idle connection holds nothing, a connection under a
//! latency fault holds what is in flight and never more than its budget.
//! A full buffer stops the reader (back-pressure on the sender through
//! TCP), it never drops a byte.
//!
//! Bytes are read straight into the ring and written straight out of it;
//! the ring keeps, beside the bytes, a queue of chunks (a length and when
//! it is due). A chunk that falls due within [`COALESCE`] of the one before
//! it joins that one (due at the later time), so a stream of small reads
//! costs one entry per [`COALESCE`], not one per read.
//!
//! ```text
//!  buf: [ ......|<------- len bytes ------->|...... ]
//!              head                  head + len (mod capacity)
//!  chunks: (len 1, due t1) (len 2, due t2) ...   sum of lens = len
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Chunks due this close to each other are written as one.
pub const COALESCE: Duration = Duration::from_micros(250);
/// The first allocation (or the whole budget, if smaller).
const FIRST: usize = 16 * 1024;
/// Chunks queued at most (bytes are bounded by the budget; this bounds
/// the queue beside them).
const MAX_CHUNKS: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Chunk {
    len: usize,
    due: Instant,
}

/// A direction's held bytes and their delivery times.
#[derive(Debug)]
pub(crate) struct Held {
    buf: Box<[u8]>,
    head: usize,
    len: usize,
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already written.
    front_written: usize,
    last_due: Option<Instant>,
}

impl Held {
    pub fn new() -> Self {
        Held { buf: Box::default(), head: 0, len: 0, chunks: VecDeque::new(), front_written: 0, last_due: None }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes allocated now (the memory the direction holds).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// No more may be read under `budget`.
    pub fn is_full(&self, budget: usize) -> bool {
        self.len >= budget || self.chunks.len() >= MAX_CHUNKS
    }

    /// Free room to read into, contiguous, at most `budget - len` bytes
    /// (growing the buffer up to `budget` first if it is full). Empty when
    /// [`Held::is_full`].
    pub fn spare(&mut self, budget: usize) -> &mut [u8] {
        if self.is_full(budget) {
            return &mut [];
        }
        if self.len == 0 {
            self.head = 0;
        }
        if self.len == self.buf.len() {
            let grown = (self.buf.len() * 2).max(FIRST).min(budget);
            self.grow(grown);
        }
        let cap = self.buf.len();
        let tail = (self.head + self.len) % cap.max(1);
        let contiguous = if tail >= self.head && self.len < cap { cap - tail } else { self.head - tail };
        let n = contiguous.min(budget - self.len);
        &mut self.buf[tail..tail + n]
    }

    /// `n` bytes were read into [`Held::spare`]: they are due at `at`, or
    /// after the chunk before them, whichever is later (no overtaking).
    pub fn push(&mut self, n: usize, at: Instant) {
        if n == 0 {
            return;
        }
        debug_assert!(self.len + n <= self.buf.len());
        self.len += n;
        let due = self.last_due.map_or(at, |d| d.max(at));
        self.last_due = Some(due);
        match self.chunks.back_mut() {
            Some(back) if due.saturating_duration_since(back.due) < COALESCE => {
                back.len += n;
                back.due = due;
            }
            _ => self.chunks.push_back(Chunk { len: n, due }),
        }
    }

    /// When the oldest chunk is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.chunks.front().map(|c| c.due)
    }

    /// True when nothing of the front chunk has been written yet.
    pub fn at_chunk_start(&self) -> bool {
        self.front_written == 0
    }

    /// The front chunk's bytes left to write, as far as they are contiguous.
    pub fn front(&self) -> &[u8] {
        let Some(c) = self.chunks.front() else { return &[] };
        let left = c.len - self.front_written;
        let n = left.min(self.buf.len() - self.head);
        &self.buf[self.head..self.head + n]
    }

    /// `n` bytes of [`Held::front`] were written; true when that finished the chunk.
    pub fn consume(&mut self, n: usize) -> bool {
        let Some(c) = self.chunks.front() else { return false };
        debug_assert!(n <= c.len - self.front_written);
        let chunk_len = c.len;
        self.head = (self.head + n) % self.buf.len().max(1);
        self.len -= n;
        self.front_written += n;
        if self.front_written < chunk_len {
            return false;
        }
        self.chunks.pop_front();
        self.front_written = 0;
        true
    }

    /// Frees the buffer once it is empty (a later fault allocates afresh).
    pub fn release_if_empty(&mut self) {
        if self.len == 0 && !self.buf.is_empty() {
            self.buf = Box::default();
            self.head = 0;
            self.chunks = VecDeque::new();
        }
    }

    /// Moves the bytes to a buffer of `cap` bytes, oldest first.
    fn grow(&mut self, cap: usize) {
        let mut buf = vec![0u8; cap].into_boxed_slice();
        let old = self.buf.len();
        let first = self.len.min(old - self.head);
        buf[..first].copy_from_slice(&self.buf[self.head..self.head + first]);
        buf[first..self.len].copy_from_slice(&self.buf[..self.len - first]);
        self.buf = buf;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads `data` in, as much as the budget lets each time.
    fn fill(h: &mut Held, data: &[u8], budget: usize, at: Instant) -> usize {
        let mut taken = 0;
        while taken < data.len() {
            let room = h.spare(budget);
            if room.is_empty() {
                break;
            }
            let n = room.len().min(data.len() - taken);
            room[..n].copy_from_slice(&data[taken..taken + n]);
            h.push(n, at);
            taken += n;
        }
        taken
    }

    fn drain(h: &mut Held, most: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < most {
            let f = h.front();
            if f.is_empty() {
                break;
            }
            let n = f.len().min(most - out.len());
            out.extend_from_slice(&f[..n]);
            h.consume(n);
        }
        out
    }

    #[test]
    fn never_holds_more_than_the_budget_and_frees_when_empty() {
        let mut h = Held::new();
        assert_eq!(h.capacity(), 0, "nothing allocated before a fault holds bytes");
        let t = Instant::now();
        let data = vec![7u8; 100_000];
        assert_eq!(fill(&mut h, &data, 40_000, t), 40_000, "stops at the budget");
        assert!(h.is_full(40_000) && h.spare(40_000).is_empty());
        assert!(h.capacity() <= 40_000);
        assert_eq!(drain(&mut h, usize::MAX).len(), 40_000);
        h.release_if_empty();
        assert_eq!(h.capacity(), 0);
    }

    #[test]
    fn close_chunks_coalesce_and_never_overtake() {
        let mut h = Held::new();
        let t = Instant::now();
        fill(&mut h, b"ab", 1024, t + Duration::from_millis(10));
        fill(&mut h, b"c", 1024, t + Duration::from_millis(10) + Duration::from_micros(100));
        fill(&mut h, b"d", 1024, t);
        assert_eq!(h.chunks.len(), 1, "due within COALESCE, and d may not overtake: one chunk");
        assert_eq!(h.next_due(), Some(t + Duration::from_millis(10) + Duration::from_micros(100)));
        fill(&mut h, b"e", 1024, t + Duration::from_millis(20));
        assert_eq!(h.chunks.len(), 2);
        assert_eq!(drain(&mut h, 4), b"abcd");
        assert_eq!(h.next_due(), Some(t + Duration::from_millis(20)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any pattern of reads and writes through the ring gives back the
        /// same bytes in the same order, within the budget.
        #[test]
        fn bytes_come_out_as_they_went_in(
            ops in proptest::collection::vec((1usize..5000, 0usize..5000), 1..60),
            budget in 1024usize..20_000,
        ) {
            let mut h = Held::new();
            let t = Instant::now();
            let (mut sent, mut got) = (Vec::new(), Vec::new());
            let mut next = 0u8;
            for (i, (write, read)) in ops.into_iter().enumerate() {
                let data: Vec<u8> = (0..write).map(|_| { next = next.wrapping_add(1); next }).collect();
                let n = fill(&mut h, &data, budget, t + Duration::from_millis(i as u64));
                sent.extend_from_slice(&data[..n]);
                next = next.wrapping_sub((write - n) as u8);
                prop_assert!(h.len() <= budget && h.capacity() <= budget);
                got.extend(drain(&mut h, read));
                if h.is_empty() { h.release_if_empty(); }
            }
            got.extend(drain(&mut h, usize::MAX));
            prop_assert_eq!(got, sent);
        }
    }
}
