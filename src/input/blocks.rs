//! Large blocks cut at line boundaries.
//!
//! The reader owns all buffer management (as ripgrep's line searcher does), so parsers only
//! ever see whole lines. A line longer than the limit is not buffered: it is skipped up to
//! its newline and counted, so a 100 MB line without a newline costs no more memory than
//! a normal block.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// Bytes read per block: large enough that parallel parsing amortises its overhead, small
/// enough that a batch of blocks per core stays in a few tens of MiB.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// Longest line kept. Sendmail splits its own lines near 1 KiB and no MTA writes lines near
/// this size; anything longer is garbage (or a binary file) and is skipped.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// Whole lines from one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    /// 1-based number of the first line in `data`.
    pub first_line: u64,
    /// Whole lines, each ending in `\n` except possibly the last line of the input.
    pub data: Vec<u8>,
    /// Over-long lines skipped just before this block's data (they still count as lines:
    /// `first_line` is after them). A long line that happens to fit inside one block is
    /// left in `data`; consumers skip lines over their limit themselves.
    pub skipped_long_lines: u64,
}

impl Block {
    /// The lines of the block with their numbers, without `\n` or a trailing `\r`.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let data = &self.data[..];
        let mut start = 0usize;
        let mut no = self.first_line;
        std::iter::from_fn(move || {
            if start >= data.len() {
                return None;
            }
            let rest = data.get(start..)?;
            let end = memchr::memchr(b'\n', rest).map_or(data.len(), |i| start + i);
            let mut line = data.get(start..end)?;
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            let item = (no, line);
            start = end + 1;
            no += 1;
            Some(item)
        })
    }
}

/// Block buffers handed back once their block is parsed, for the reader to fill again.
pub type BlockPool = Pool<u8>;

/// Buffers handed back once used, to be filled again (block buffers: [`BlockPool`]; the
/// pipeline recycles the vectors of a block's events the same way).
///
/// A fresh 1 MiB buffer per block costs a zero-fill and, each time the allocator hands the
/// pages back to the system, page faults and the kernel's page clearing (together about 8%
/// of a scan's CPU). A recycled buffer is already initialised, so the reader only copies
/// the carried partial line to its front and reads over the rest. The pool keeps at most
/// `keep` buffers (as many as can be in flight: it adds no memory over fresh buffers);
/// more are dropped. Cloning shares the pool.
///
/// A pool may also cap the room of what it keeps ([`Pool::with_room`]): a buffer that one
/// unusual use grew (a block of very many short lines gives a long event vector) is shrunk
/// back when it is handed in, so the pool's memory stays `keep × room` elements whatever
/// the input did.
#[derive(Debug)]
pub struct Pool<T> {
    free: Arc<Mutex<Vec<Vec<T>>>>,
    keep: usize,
    room: usize,
}

impl<T> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Pool {
            free: Arc::clone(&self.free),
            keep: self.keep,
            room: self.room,
        }
    }
}

impl<T> Pool<T> {
    /// Keeps at most `keep` buffers, whatever their room.
    pub fn new(keep: usize) -> Self {
        Self::with_room(keep, usize::MAX)
    }

    /// Keeps at most `keep` buffers, none with room for more than `room` elements.
    pub fn with_room(keep: usize, room: usize) -> Self {
        Pool {
            free: Arc::new(Mutex::new(Vec::with_capacity(keep))),
            keep,
            room,
        }
    }

    /// Hands a buffer back (a block's when its parse is done), as it is: the taker
    /// decides what of its contents to keep. One that never allocated is not kept; one
    /// with more room than the pool's is shrunk to it (its contents past the room are
    /// dropped: only the room is recycled, never what a buffer held).
    pub fn put(&self, mut buf: Vec<T>) {
        if buf.capacity() == 0 {
            return;
        }
        if buf.capacity() > self.room {
            buf.truncate(self.room);
            buf.shrink_to(self.room);
        }
        if let Ok(mut free) = self.free.lock()
            && free.len() < self.keep
        {
            free.push(buf);
        }
    }

    /// How many buffers wait to be taken (at most `keep`).
    pub fn idle(&self) -> usize {
        self.free.lock().map_or(0, |f| f.len())
    }

    /// A buffer handed back earlier, if any.
    pub fn take(&self) -> Option<Vec<T>> {
        self.free.lock().ok()?.pop()
    }
}

/// Cuts a byte stream into [`Block`]s at line boundaries.
pub struct BlockReader<R> {
    inner: R,
    block_size: usize,
    max_line: usize,
    /// Bytes after the last newline of the previous block (a buffer kept for the reader's
    /// life: copied to the front of the next block).
    carry: Vec<u8>,
    /// Where block buffers come from when they are recycled ([`BlockReader::with_pool`]).
    pool: Option<BlockPool>,
    /// Next line number to hand out.
    next_line: u64,
    /// Inside an over-long line: drop bytes until the next newline.
    skipping: bool,
    skipped: u64,
    eof: bool,
    /// An error met after some bytes were read, returned once those bytes are out.
    pending_error: Option<io::Error>,
}

impl<R: Read> BlockReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_sizes(inner, DEFAULT_BLOCK_SIZE, DEFAULT_MAX_LINE)
    }

    /// A reader with explicit sizes (tests use tiny ones to exercise every boundary).
    pub fn with_sizes(inner: R, block_size: usize, max_line: usize) -> Self {
        BlockReader {
            inner,
            block_size: block_size.max(1),
            max_line: max_line.max(1),
            carry: Vec::new(),
            pool: None,
            next_line: 1,
            skipping: false,
            skipped: 0,
            eof: false,
            pending_error: None,
        }
    }

    /// Takes block buffers from `pool` (the consumer puts them back when done with a block)
    /// instead of allocating each one.
    pub fn with_pool(mut self, pool: BlockPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Reads the next block. `Ok(None)` at the end. An I/O error (a truncated `.gz`, a
    /// vanished file) ends the stream: every whole line before it is handed out first, the
    /// error comes next, and the reader is finished.
    pub fn next_block(&mut self) -> io::Result<Option<Block>> {
        if let Some(e) = self.pending_error.take() {
            return Err(e);
        }
        if self.eof && self.carry.is_empty() && !self.skipping && self.skipped == 0 {
            return Ok(None);
        }
        loop {
            if self.eof {
                if self.carry.is_empty() {
                    return Ok(self.take_skipped_only());
                }
                let data = std::mem::take(&mut self.carry);
                return Ok(Some(self.make_block(data, 1)));
            }
            let start = self.carry.len();
            let want = start + self.block_size;
            let mut buf = self
                .pool
                .as_ref()
                .and_then(BlockPool::take)
                // Room for a carried line too, so that a recycled buffer never grows.
                .unwrap_or_else(|| {
                    Vec::with_capacity(self.block_size + self.max_line.min(self.block_size))
                });
            // A recycled buffer is initialised up to its length: only what lies beyond it
            // (the size of the previous block's carry) is zero-filled.
            if buf.len() < want {
                buf.resize(want, 0);
            } else {
                buf.truncate(want);
            }
            if let Some(front) = buf.get_mut(..start) {
                front.copy_from_slice(&self.carry);
            }
            self.carry.clear();
            let (n, err) = read_full(&mut self.inner, buf.get_mut(start..).unwrap_or_default());
            buf.truncate(start + n);
            if let Some(e) = err {
                // Whole lines read before the failure are handed out first, then the error.
                // The partial line at the failure point is incomplete and dropped.
                self.eof = true;
                self.carry.clear();
                match memchr::memrchr(b'\n', &buf) {
                    Some(last) if !self.skipping => {
                        buf.truncate(last + 1);
                        self.pending_error = Some(e);
                        let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
                        return Ok(Some(self.make_block(buf, lines)));
                    }
                    _ => return Err(e),
                }
            }
            if n == 0 {
                self.eof = true;
                self.carry = buf;
                continue;
            }
            if self.skipping {
                match memchr::memchr(b'\n', &buf) {
                    None => continue, // still inside the long line: drop it all
                    Some(i) => {
                        self.skipping = false;
                        self.skipped += 1;
                        self.next_line += 1;
                        buf.drain(..=i);
                    }
                }
            }
            match memchr::memrchr(b'\n', &buf) {
                Some(last) => {
                    self.carry
                        .extend_from_slice(buf.get(last + 1..).unwrap_or_default());
                    buf.truncate(last + 1);
                    if self.carry.len() > self.max_line {
                        self.carry.clear();
                        self.skipping = true;
                    }
                    let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
                    return Ok(Some(self.make_block(buf, lines)));
                }
                None if buf.len() > self.max_line => {
                    self.skipping = true;
                    continue;
                }
                None => {
                    self.carry = buf;
                    continue;
                }
            }
        }
    }

    fn make_block(&mut self, data: Vec<u8>, lines: u64) -> Block {
        let block = Block {
            first_line: self.next_line,
            data,
            skipped_long_lines: std::mem::take(&mut self.skipped),
        };
        self.next_line += lines;
        block
    }

    /// At the end: report a long line that ran to EOF without a newline.
    fn take_skipped_only(&mut self) -> Option<Block> {
        if self.skipping {
            self.skipping = false;
            self.skipped += 1;
            self.next_line += 1;
        }
        if self.skipped == 0 {
            return None;
        }
        Some(self.make_block(Vec::new(), 0))
    }
}

/// Fills `buf` as far as the reader allows, retrying on `Interrupted`. Returns the bytes
/// read and the error that stopped it, if any (a reader is not asked again after an error:
/// decoders need not repeat it).
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_lines(data: &[u8], block: usize, max_line: usize) -> (Vec<(u64, Vec<u8>)>, u64) {
        read_lines(
            BlockReader::with_sizes(data, block, max_line),
            max_line,
            None,
        )
    }

    /// Every line `r` gives with its number, and how many were over `max_line`; each
    /// block's buffer goes back to `pool` (when given) as soon as its lines are taken.
    fn read_lines(
        mut r: BlockReader<&[u8]>,
        max_line: usize,
        pool: Option<&BlockPool>,
    ) -> (Vec<(u64, Vec<u8>)>, u64) {
        let mut out = Vec::new();
        let mut skipped = 0;
        while let Some(b) = r.next_block().unwrap() {
            skipped += b.skipped_long_lines;
            for (n, l) in b.lines() {
                // Long lines that fit inside one block are the consumer's to skip.
                if l.len() > max_line {
                    skipped += 1;
                } else {
                    out.push((n, l.to_vec()));
                }
            }
            if let Some(p) = pool {
                p.put(b.data);
            }
        }
        (out, skipped)
    }

    #[test]
    fn lines_are_numbered_across_blocks() {
        let data = b"one\ntwo\r\nthree\nfour";
        for bs in 1..12 {
            let (lines, skipped) = all_lines(data, bs, 100);
            assert_eq!(skipped, 0);
            assert_eq!(
                lines,
                vec![
                    (1, b"one".to_vec()),
                    (2, b"two".to_vec()),
                    (3, b"three".to_vec()),
                    (4, b"four".to_vec())
                ],
                "block size {bs}"
            );
        }
    }

    #[test]
    fn long_lines_are_skipped_and_counted() {
        let mut data = b"a\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 5000));
        data.extend(b"\nb\n");
        data.extend(std::iter::repeat_n(b'y', 5000)); // runs to EOF
        for bs in [7, 64, 1000, 10000] {
            let (lines, skipped) = all_lines(&data, bs, 100);
            assert_eq!(skipped, 2, "block size {bs}");
            assert_eq!(lines, vec![(1, b"a".to_vec()), (3, b"b".to_vec())]);
        }
    }

    /// [`all_lines`] through a pool primed with stale buffers (junk bytes, various
    /// lengths), every block's buffer handed back as soon as its lines are taken.
    fn pooled_lines(data: &[u8], block: usize, max_line: usize) -> (Vec<(u64, Vec<u8>)>, u64) {
        let pool = BlockPool::new(3);
        for len in [0usize, 1, block / 2, block + 7] {
            pool.put(vec![b'#'; len.max(1)]);
        }
        let r = BlockReader::with_sizes(data, block, max_line).with_pool(pool.clone());
        read_lines(r, max_line, Some(&pool))
    }

    #[test]
    fn recycled_buffers_are_reused_and_leak_nothing() {
        let data = b"alpha\nbeta\ngamma gamma\ndelta\n".repeat(50);
        let pool = BlockPool::new(2);
        let mut r = BlockReader::with_sizes(&data[..], 64, 1000).with_pool(pool.clone());
        let mut seen = std::collections::HashSet::new();
        let mut text = Vec::new();
        while let Some(b) = r.next_block().unwrap() {
            seen.insert(b.data.as_ptr() as usize);
            text.extend_from_slice(&b.data);
            pool.put(b.data);
        }
        assert_eq!(text, data, "every byte once, in order, nothing stale");
        // Each block's buffer went back before the next was cut: one buffer served all.
        assert_eq!(seen.len(), 1, "buffers: {seen:?}");
        assert_eq!(pooled_lines(&data, 64, 1000), all_lines(&data, 64, 1000));
    }

    #[test]
    fn recycled_buffers_stay_within_the_pools_bound() {
        // A pool of 3 vectors of room 100 at most: a grown vector comes back shrunk
        // (what it held up to its room is still there: only the room is recycled), one
        // over the count is dropped, an unallocated one is not kept.
        let pool: Pool<u64> = Pool::with_room(3, 100);
        for n in [10u64, 5000, 7, 1] {
            pool.put((0..n).collect());
        }
        pool.put(Vec::new());
        assert_eq!(pool.idle(), 3, "at most `keep` buffers wait");
        let mut taken = Vec::new();
        while let Some(v) = pool.take() {
            assert!(v.capacity() <= 100, "room {} kept", v.capacity());
            taken.push(v);
        }
        assert_eq!(
            taken,
            vec![
                (0..7).collect::<Vec<u64>>(),
                (0..100).collect(),
                (0..10).collect()
            ]
        );
        // Without a room, buffers come back as they were handed in.
        let pool: Pool<u8> = Pool::new(1);
        pool.put(vec![0; 1 << 16]);
        assert_eq!(pool.take().map(|v| v.capacity()), Some(1 << 16));
    }

    proptest! {
        #[test]
        fn recycled_buffers_give_the_same_lines(data in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'a'), Just(b'\r'), any::<u8>()], 0..400),
            bs in 1usize..64, max_line in 1usize..40) {
            prop_assert_eq!(pooled_lines(&data, bs, max_line), all_lines(&data, bs, max_line));
        }

        #[test]
        fn any_cut_gives_the_same_lines(data in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'a'), Just(b'\r'), any::<u8>()], 0..400),
            bs in 1usize..64) {
            let (small, s1) = all_lines(&data, bs, 10_000);
            let (big, s2) = all_lines(&data, 1 << 16, 10_000);
            prop_assert_eq!(small, big);
            prop_assert_eq!(s1, s2);
        }
    }
}
