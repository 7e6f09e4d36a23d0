//! The bytes a direction holds while faults delay them, within the
//! proxy's budget (`buffer_bytes`, 1 MiB per direction by default).
//!
//! The bytes wait in 64 KiB blocks ([`BLOCK`]) taken from the server's
//! [`BlockPool`] as they are needed and given back as soon as they are
//! written: an idle connection holds none, a connection under a latency
//! fault holds what is in flight, never more than its budget (rounded up to
//! whole blocks, plus the one being written out). Blocks go back to the pool rather than to the allocator, so a
//! block's pages are faulted in once and reused by the next stream: growing
//! a buffer copies nothing and touches no fresh memory. A full budget stops
//! the reader (back-pressure on the sender through TCP), it never drops a
//! byte.
//!
//! Bytes are read straight into the last block and written straight out of
//! the first; beside them is a queue of chunks (a length and when it is
//! due). A chunk that falls due within [`COALESCE`] of the one before it
//! joins that one (due at the later time), so a stream of small reads costs
//! one entry per [`COALESCE`], not one per read.
//!
//! ```text
//!  blocks: [ ..head|xxxxxxxx ] [ xxxxxxxxxxxxxxxx ] [ xxxx|tail.... ]
//!          written  <-------------- len bytes -------------->  free
//!  chunks: (len 1, due t1) (len 2, due t2) ...   sum of lens = len
//! ```

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Chunks due this close to each other are written as one.
pub const COALESCE: Duration = Duration::from_micros(250);
/// The size of a block.
pub const BLOCK: usize = 64 * 1024;
/// Chunks queued at most (bytes are bounded by the budget; this bounds
/// the queue beside them).
const MAX_CHUNKS: usize = 4096;

/// Idle blocks shared by every connection of a server, at most `keep` of
/// them (the rest go back to the allocator).
#[derive(Debug)]
pub struct BlockPool {
    idle: Mutex<Vec<Box<[u8]>>>,
    keep: usize,
}

impl BlockPool {
    /// Idle blocks a pool keeps by default: 16 MiB.
    pub const KEEP: usize = 256;

    pub fn new(keep: usize) -> Self {
        BlockPool { idle: Mutex::new(Vec::new()), keep }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Box<[u8]>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self, size: usize) -> Box<[u8]> {
        if size == BLOCK {
            if let Some(b) = self.idle().pop() {
                return b;
            }
        }
        vec![0u8; size].into_boxed_slice()
    }

    fn give(&self, block: Box<[u8]>) {
        if block.len() == BLOCK {
            let mut idle = self.idle();
            if idle.len() < self.keep {
                idle.push(block);
            }
        }
    }

    /// Idle blocks now.
    #[cfg(test)]
    pub fn idle_count(&self) -> usize {
        self.idle().len()
    }
}

impl Default for BlockPool {
    fn default() -> Self {
        BlockPool::new(BlockPool::KEEP)
    }
}

#[derive(Debug, Clone, Copy)]
struct Chunk {
    len: usize,
    due: Instant,
}

/// A direction's held bytes and their delivery times.
#[derive(Debug)]
pub(crate) struct Held<'a> {
    pool: &'a BlockPool,
    blocks: VecDeque<Box<[u8]>>,
    /// Where the unwritten bytes start in the first block.
    head: usize,
    /// Where the free room starts in the last block.
    tail: usize,
    len: usize,
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already written.
    front_written: usize,
    last_due: Option<Instant>,
}

impl<'a> Held<'a> {
    pub fn new(pool: &'a BlockPool) -> Self {
        Held {
            pool,
            blocks: VecDeque::new(),
            head: 0,
            tail: 0,
            len: 0,
            chunks: VecDeque::new(),
            front_written: 0,
            last_due: None,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes allocated now (the memory the direction holds).
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.blocks.iter().map(|b| b.len()).sum()
    }

    /// No more may be read under `budget`.
    pub fn is_full(&self, budget: usize) -> bool {
        self.len >= budget || self.chunks.len() >= MAX_CHUNKS
    }

    /// Free room to read into, contiguous, at most `budget - len` bytes (a
    /// block is taken first if the last one is full). Empty when
    /// [`Held::is_full`].
    pub fn spare(&mut self, budget: usize) -> &mut [u8] {
        if self.is_full(budget) {
            return &mut [];
        }
        if self.blocks.back().is_none_or(|b| self.tail == b.len()) {
            self.blocks.push_back(self.pool.take(BLOCK.min(budget)));
            self.tail = 0;
        }
        let tail = self.tail;
        let n = budget - self.len;
        match self.blocks.back_mut() {
            Some(b) => {
                let end = b.len().min(tail + n);
                &mut b[tail..end]
            }
            None => &mut [],
        }
    }

    /// `n` bytes were read into [`Held::spare`]: they are due at `at`, or
    /// after the chunk before them, whichever is later (no overtaking).
    pub fn push(&mut self, n: usize, at: Instant) {
        if n == 0 {
            return;
        }
        debug_assert!(self.blocks.back().is_some_and(|b| self.tail + n <= b.len()));
        self.tail += n;
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
        let (Some(c), Some(b)) = (self.chunks.front(), self.blocks.front()) else { return &[] };
        let end = if self.blocks.len() == 1 { self.tail } else { b.len() };
        let left = c.len - self.front_written;
        &b[self.head..end.min(self.head + left)]
    }

    /// `n` bytes of [`Held::front`] were written; true when that finished the chunk.
    pub fn consume(&mut self, n: usize) -> bool {
        let Some(c) = self.chunks.front() else { return false };
        debug_assert!(n <= c.len - self.front_written);
        let chunk_len = c.len;
        self.head += n;
        self.len -= n;
        self.front_written += n;
        let first_done = match self.blocks.front() {
            Some(b) => self.head == b.len() || (self.blocks.len() == 1 && self.head == self.tail),
            None => false,
        };
        if first_done {
            if let Some(b) = self.blocks.pop_front() {
                self.pool.give(b);
            }
            self.head = 0;
            if self.blocks.is_empty() {
                self.tail = 0;
            }
        }
        if self.front_written < chunk_len {
            return false;
        }
        self.chunks.pop_front();
        self.front_written = 0;
        true
    }

    /// Gives the blocks back once nothing is held.
    pub fn release_if_empty(&mut self) {
        if self.len == 0 {
            while let Some(b) = self.blocks.pop_front() {
                self.pool.give(b);
            }
            self.head = 0;
            self.tail = 0;
            if self.chunks.capacity() > 64 {
                self.chunks = VecDeque::new();
            }
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        while let Some(b) = self.blocks.pop_front() {
            self.pool.give(b);
        }
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
        let pool = BlockPool::default();
        let mut h = Held::new(&pool);
        assert_eq!(h.capacity(), 0, "nothing allocated before a fault holds bytes");
        let t = Instant::now();
        let data = vec![7u8; 100_000];
        assert_eq!(fill(&mut h, &data, 40_000, t), 40_000, "stops at the budget");
        assert!(h.is_full(40_000) && h.spare(40_000).is_empty());
        assert!(h.capacity() <= 40_000);
        assert_eq!(drain(&mut h, usize::MAX).len(), 40_000);
        h.release_if_empty();
        assert_eq!(h.capacity(), 0);
        let budget = 4 * BLOCK;
        assert_eq!(fill(&mut h, &vec![1u8; 5 * BLOCK], budget, t), budget);
        assert_eq!(h.capacity(), budget, "whole blocks up to the budget");
        drain(&mut h, usize::MAX);
        assert_eq!(h.capacity(), 0, "written blocks go back at once");
        assert_eq!(pool.idle_count(), 4, "to the pool, for the next stream");
        let mut again = Held::new(&pool);
        fill(&mut again, &[2u8; 10], budget, t);
        assert_eq!(pool.idle_count(), 3, "taken from the pool, not allocated");
    }

    #[test]
    fn close_chunks_coalesce_and_never_overtake() {
        let pool = BlockPool::default();
        let mut h = Held::new(&pool);
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
            ops in proptest::collection::vec((1usize..100_000, 0usize..100_000), 1..60),
            budget in 1024usize..200_000,
        ) {
            let pool = BlockPool::new(2);
            let mut h = Held::new(&pool);
            let t = Instant::now();
            let (mut sent, mut got) = (Vec::new(), Vec::new());
            let mut next = 0u8;
            for (i, (write, read)) in ops.into_iter().enumerate() {
                let data: Vec<u8> = (0..write).map(|_| { next = next.wrapping_add(1); next }).collect();
                let n = fill(&mut h, &data, budget, t + Duration::from_millis(i as u64));
                sent.extend_from_slice(&data[..n]);
                next = next.wrapping_sub((write - n) as u8);
                prop_assert!(h.len() <= budget && h.capacity() <= (budget.div_ceil(BLOCK) + 1) * BLOCK);
                got.extend(drain(&mut h, read));
                if h.is_empty() { h.release_if_empty(); }
            }
            got.extend(drain(&mut h, usize::MAX));
            prop_assert_eq!(got, sent);
        }
    }
}
