//! An mbox read on the rayon pool: one thread cuts the file into large blocks at message
//! separators, and the pool splits each block into messages and hands each message's
//! header (and, when asked, body) to the caller's function as a slice of the block.
//!
//! Why: a mailbox is mostly bodies, and reading it one message at a time on one thread,
//! copying each header into its own buffer, made the reader the floor of a store scan
//! (issue 21). Here the reader only reads, counts lines and looks for the last separator
//! of each block; nothing is copied per message, and blocks are recycled.
//!
//! The messages, their headers, bodies, lines and indexes are exactly those of
//! [`MboxReader`] (`same_as_the_sequential_reader` in the tests): a block always starts at
//! a separator (a `From ` line after an empty line) or at the start of the file, where the
//! sequential reader is in the same state whatever came before. A message too large for
//! [`MAX_BLOCK`] (no separator in sight) hands the rest of the file to [`MboxReader`], so
//! memory stays bounded whatever the mailbox holds.

use std::io::{self, Cursor, Read};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use memchr::memmem;
use rayon::prelude::*;

use crate::input::{self, SourceFile};
use crate::model::Source;
use crate::stores::messages::{
    KeepBody, Kind, MAX_BODY, MAX_HEADER, MboxReader, MessageError, RawMessage, Store,
};

/// Bytes read per block before looking for its last separator.
pub const BLOCK: usize = 1 << 20;
/// A block grows up to this size looking for a separator; past it the rest of the file is
/// read message by message ([`MboxReader`]).
pub const MAX_BLOCK: usize = 64 << 20;

/// One message of a block, borrowed from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg<'a> {
    /// The file and the line of the message's first header line.
    pub source: Source,
    /// The header block, without the `From ` line and the empty line that ends it, cut at
    /// [`MAX_HEADER`] bytes.
    pub header: &'a [u8],
    /// The header was larger than [`MAX_HEADER`] and was cut.
    pub truncated: bool,
    /// The body (at most [`MAX_BODY`] bytes) when the `keep` test accepted the header.
    pub body: Option<&'a [u8]>,
}

impl<'a> Msg<'a> {
    /// The borrowed view of a message read whole (a Maildir or `.eml` file, or an mbox
    /// message too large for its block), so that it is mapped as a framed one is.
    fn of(m: &'a super::messages::RawMessage) -> Msg<'a> {
        Msg {
            source: m.source.clone(),
            header: &m.header,
            truncated: m.truncated,
            body: m.body.as_deref(),
        }
    }
}

/// What the reader thread hands on, in file order.
enum Cut {
    /// Whole messages; `line` is the 1-based number of the block's first line. With
    /// `cut_short` the read failed after `data`: its last message never reached its end
    /// and is left out, as the sequential reader leaves it out.
    Block {
        data: Vec<u8>,
        line: u64,
        cut_short: bool,
    },
    /// One message read by the sequential reader (after a block grew too large).
    Owned(RawMessage),
    /// The read failed at `line`: nothing more follows.
    Failed { error: io::Error, line: u64 },
}

/// Cuts a stream into blocks that start at separators.
struct Cutter<R> {
    inner: R,
    block: usize,
    max_block: usize,
    carry: Vec<u8>,
    eof: bool,
    /// 1-based number of the line at the start of `carry`.
    line: u64,
    spare: Vec<Vec<u8>>,
}

/// The position of the last separator in `data` after position 0: a `From ` line whose
/// previous line is empty (`\n` or `\r\n`).
fn last_separator(data: &[u8]) -> Option<usize> {
    memmem::rfind_iter(data, b"\nFrom ")
        .find(|&i| blank_line_ends_at(data, 0, i))
        .map(|i| i + 1)
}

/// True when the line ended by the newline at `nl` is empty (or only `\r`); `from` is a
/// line start at or before it.
fn blank_line_ends_at(data: &[u8], from: usize, nl: usize) -> bool {
    let start = data
        .get(from..nl)
        .and_then(|s| memchr::memrchr(b'\n', s))
        .map_or(from, |p| from + p + 1);
    nl == start || (nl == start + 1 && data.get(start) == Some(&b'\r'))
}

impl<R: Read> Cutter<R> {
    /// The next block of whole messages and the number of its first line, `Ok(None)` at
    /// the end, or why blocks end ([`Giant`]).
    fn next_block(&mut self) -> Result<Option<(Vec<u8>, u64)>, Giant> {
        // A recycled block keeps its bytes: `filled` says how many are this block's, and
        // only growth beyond what the buffer ever held is zeroed (zeroing 2 MiB before
        // every read was a tenth of the reader thread's time).
        let mut buf = self.spare.pop().unwrap_or_default();
        let mut filled = self.carry.len();
        if buf.len() < filled {
            buf.resize(filled, 0);
        }
        if let Some(head) = buf.get_mut(..filled) {
            head.copy_from_slice(&self.carry);
        }
        self.carry.clear();
        let mut want = self.block.max(filled + self.block / 2);
        loop {
            while filled < want && !self.eof {
                if buf.len() < want {
                    buf.resize(want, 0);
                }
                let got = loop {
                    match self
                        .inner
                        .read(buf.get_mut(filled..want).unwrap_or_default())
                    {
                        Ok(n) => break Ok(n),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                match got {
                    Ok(0) => self.eof = true,
                    Ok(n) => filled += n,
                    Err(error) => {
                        buf.truncate(filled);
                        return Err(Giant::Failed(buf, error));
                    }
                }
            }
            buf.truncate(filled);
            if self.eof {
                if buf.is_empty() {
                    return Ok(None);
                }
                let line = self.line;
                self.line += count_lines(&buf);
                return Ok(Some((buf, line)));
            }
            if let Some(cut) = last_separator(&buf) {
                self.carry
                    .extend_from_slice(buf.get(cut..).unwrap_or_default());
                buf.truncate(cut);
                let line = self.line;
                self.line += count_lines(&buf);
                return Ok(Some((buf, line)));
            }
            if want >= self.max_block {
                return Err(Giant::TooLarge(buf));
            }
            want *= 2;
        }
    }
}

/// Why the block reader stops cutting.
enum Giant {
    /// No separator within [`MAX_BLOCK`]: the bytes read so far (from a separator on).
    TooLarge(Vec<u8>),
    /// A read failed: the bytes read before it (from a separator on).
    Failed(Vec<u8>, io::Error),
}

fn count_lines(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64
}

/// The reader thread: blocks until the end, then the sequential reader for a giant
/// message, failures as the last item.
fn read_blocks<R: Read>(
    inner: R,
    file: Arc<str>,
    keep: Option<KeepBody>,
    (block, max_block): (usize, usize),
    tx: mpsc::SyncSender<Cut>,
    back: mpsc::Receiver<Vec<u8>>,
) {
    let mut c = Cutter {
        inner,
        block,
        max_block,
        carry: Vec::new(),
        eof: false,
        line: 1,
        spare: Vec::new(),
    };
    loop {
        c.spare.extend(back.try_iter());
        match c.next_block() {
            Ok(Some((data, line))) => {
                let block = Cut::Block {
                    data,
                    line,
                    cut_short: false,
                };
                if tx.send(block).is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(Giant::Failed(buf, error)) => {
                // What was read whole still counts, as it did for the sequential reader;
                // the message being read when it failed is lost.
                let line = c.line + count_lines(&buf);
                let block = Cut::Block {
                    data: buf,
                    line: c.line,
                    cut_short: true,
                };
                if tx.send(block).is_err() {
                    return;
                }
                let _ = tx.send(Cut::Failed { error, line });
                return;
            }
            Err(Giant::TooLarge(buf)) => {
                let rest = Cursor::new(buf).chain(c.inner);
                let mut r = MboxReader::new(rest, Arc::clone(&file)).resume_at(c.line);
                if let Some(k) = keep {
                    r = r.keeping(k);
                }
                loop {
                    match r.next_message() {
                        Ok(Some(m)) => {
                            if tx.send(Cut::Owned(m)).is_err() {
                                return;
                            }
                        }
                        Ok(None) => return,
                        Err(error) => {
                            let line = r.line();
                            let _ = tx.send(Cut::Failed { error, line });
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// The first occurrence at or after a position of one needle in a block, remembered: the
/// framing asks for the next `\nFrom ` (and `\r`) from every message's header and body,
/// and an occurrence found once serves every later question until it is passed.
///
/// Why: the framing walked every header line with a `memchr` call (~40 a message, each
/// ~70 instructions on short lines), which was about a tenth of a parse worker's time in
/// a mailbox scan (issue 21). A header now ends at the first of three events found by
/// whole-block searches: an empty line (`\n\n`, one search a message), a `From ` line
/// and a `\r` (both remembered across messages: a mailbox of LF lines is searched once a
/// block for `\r`).
struct NextAt<'a, F: Fn(&[u8]) -> Option<usize>> {
    data: &'a [u8],
    find: F,
    /// Where the remembered search started, and its answer (absolute).
    from: usize,
    hit: Option<usize>,
    searched: bool,
}

impl<'a, F: Fn(&[u8]) -> Option<usize>> NextAt<'a, F> {
    fn new(data: &'a [u8], find: F) -> Self {
        NextAt {
            data,
            find,
            from: 0,
            hit: None,
            searched: false,
        }
    }

    /// The first occurrence at or after `from`.
    fn at_or_after(&mut self, from: usize) -> Option<usize> {
        let valid = self.searched && self.from <= from && self.hit.is_none_or(|h| h >= from);
        if !valid {
            self.from = from;
            self.searched = true;
            self.hit = self
                .data
                .get(from..)
                .and_then(|r| (self.find)(r))
                .map(|i| from + i);
        }
        self.hit
    }
}

/// Splits one block (starting at a separator or at the file start, on line `line`) into
/// its messages, as [`MboxReader`] would.
pub fn frame<'a>(
    data: &'a [u8],
    line: u64,
    file: &Arc<str>,
    keep: Option<KeepBody>,
    mut f: impl FnMut(Msg<'a>),
) {
    let finder = memmem::Finder::new(b"\nFrom ");
    let blank = memmem::Finder::new(b"\n\n");
    let mut from_at = NextAt::new(data, |r: &[u8]| finder.find(r));
    let mut cr_at = NextAt::new(data, |r: &[u8]| memchr::memchr(b'\r', r));
    let at_from = |pos: usize| data.get(pos..).is_some_and(|r| r.starts_with(b"From "));
    // The next separator at or after the line start `pos`, or the end of the block.
    let next_sep = |pos: usize, prev_blank: bool, from_at: &mut NextAt<'_, _>| -> usize {
        if prev_blank && at_from(pos) {
            return pos;
        }
        let mut from = pos;
        while let Some(nl) = from_at.at_or_after(from) {
            if blank_line_ends_at(data, pos, nl) {
                return nl + 1;
            }
            from = nl + 1;
        }
        data.len()
    };
    let mut pos = next_sep(0, true, &mut from_at);
    let mut counted = 0usize;
    let mut lines = line;
    while pos < data.len() {
        // `pos` is a separator: the `From ` line.
        pos = match memchr::memchr(b'\n', data.get(pos..).unwrap_or_default()) {
            Some(n) => pos + n + 1,
            None => data.len(),
        };
        let start = pos;
        let (end, after, prev_blank) = header_end(data, start, &blank, &mut from_at, &mut cr_at);
        pos = after;
        let whole = data.get(start..end).unwrap_or_default();
        let truncated = whole.len() > MAX_HEADER;
        let header = whole.get(..MAX_HEADER.min(whole.len())).unwrap_or_default();
        lines += count_lines(data.get(counted..start).unwrap_or_default());
        counted = start;
        let next = next_sep(pos, prev_blank, &mut from_at);
        let body = keep.filter(|k| k(header)).map(|_| {
            let b = data.get(pos..next).unwrap_or_default();
            b.get(..MAX_BODY.min(b.len())).unwrap_or_default()
        });
        f(Msg {
            source: Source {
                file: Arc::clone(file),
                line: lines,
            },
            header,
            truncated,
            body,
        });
        pos = next;
    }
}

/// Where the header that starts on the line start `start` ends: its end, where the body
/// starts, and whether the line before that is empty (or a `From ` line follows): the
/// first line that is empty (or only `\r`) ends it before the body, a line starting with
/// `From ` ends it and the message, the end of the block ends both.
///
/// The line-by-line walk ([`header_end_by_lines`]) runs only when a `\r` lies before the
/// first `\n\n` or `\nFrom ` (a CRLF mailbox); otherwise no line but those two can end
/// the header. `header_end_is_the_line_walk` holds the two equal.
fn header_end<F: Fn(&[u8]) -> Option<usize>, G: Fn(&[u8]) -> Option<usize>>(
    data: &[u8],
    start: usize,
    blank: &memmem::Finder<'_>,
    from_at: &mut NextAt<'_, F>,
    cr_at: &mut NextAt<'_, G>,
) -> (usize, usize, bool) {
    // The first line on its own: no `\n` before it in the searches from `start`.
    let first = data.get(start..).unwrap_or_default();
    if first.is_empty() || first.starts_with(b"From ") || first.first() == Some(&b'\n') {
        return header_end_by_lines(data, start);
    }
    let len = data.len();
    let by_blank = blank.find(first).map(|i| start + i + 1);
    let by_from = from_at.at_or_after(start).map(|i| i + 1);
    let lim = match (by_blank, by_from) {
        (Some(b), Some(f)) => b.min(f),
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => len,
    };
    if cr_at.at_or_after(start).is_some_and(|c| c < lim) {
        return header_end_by_lines(data, start);
    }
    match (by_blank, by_from) {
        (_, Some(f)) if f == lim => (f, f, true),
        (Some(b), _) => (b, b + 1, true),
        _ => (len, len, false),
    }
}

/// [`header_end`] one line at a time (the framing's walk before the searches).
fn header_end_by_lines(data: &[u8], start: usize) -> (usize, usize, bool) {
    let at_from = |pos: usize| data.get(pos..).is_some_and(|r| r.starts_with(b"From "));
    let mut pos = start;
    loop {
        if at_from(pos) {
            return (pos, pos, true);
        }
        if pos >= data.len() {
            return (pos, pos, false);
        }
        let rest = data.get(pos..).unwrap_or_default();
        let (content, next) = match memchr::memchr(b'\n', rest) {
            Some(n) => (rest.get(..n).unwrap_or_default(), pos + n + 1),
            None => (rest, data.len()),
        };
        if content.is_empty() || content == b"\r" {
            return (pos, next, true);
        }
        pos = next;
    }
}

/// [`frame`] as it was, one `memchr` call per header line: the oracle of
/// `frame_is_the_line_walk`.
#[cfg(test)]
fn frame_by_lines<'a>(
    data: &'a [u8],
    line: u64,
    file: &Arc<str>,
    keep: Option<KeepBody>,
    mut f: impl FnMut(Msg<'a>),
) {
    let finder = memmem::Finder::new(b"\nFrom ");
    let at_from = |pos: usize| data.get(pos..).is_some_and(|r| r.starts_with(b"From "));
    // The next separator at or after the line start `pos`, or the end of the block.
    let next_sep = |pos: usize, prev_blank: bool| -> usize {
        if prev_blank && at_from(pos) {
            return pos;
        }
        let mut from = pos;
        while let Some(i) = data.get(from..).and_then(|r| finder.find(r)) {
            let nl = from + i;
            if blank_line_ends_at(data, pos, nl) {
                return nl + 1;
            }
            from = nl + 1;
        }
        data.len()
    };
    let mut pos = next_sep(0, true);
    let mut counted = 0usize;
    let mut lines = line;
    while pos < data.len() {
        // `pos` is a separator: the `From ` line.
        pos = match memchr::memchr(b'\n', data.get(pos..).unwrap_or_default()) {
            Some(n) => pos + n + 1,
            None => data.len(),
        };
        let start = pos;
        let mut prev_blank = false;
        let end = loop {
            if at_from(pos) {
                prev_blank = true;
                break pos;
            }
            if pos >= data.len() {
                break pos;
            }
            let rest = data.get(pos..).unwrap_or_default();
            let (content, next) = match memchr::memchr(b'\n', rest) {
                Some(n) => (rest.get(..n).unwrap_or_default(), pos + n + 1),
                None => (rest, data.len()),
            };
            if content.is_empty() || content == b"\r" {
                let end = pos;
                pos = next;
                prev_blank = true;
                break end;
            }
            pos = next;
        };
        let whole = data.get(start..end).unwrap_or_default();
        let truncated = whole.len() > MAX_HEADER;
        let header = whole.get(..MAX_HEADER.min(whole.len())).unwrap_or_default();
        lines += count_lines(data.get(counted..start).unwrap_or_default());
        counted = start;
        let next = next_sep(pos, prev_blank);
        let body = keep.filter(|k| k(header)).map(|_| {
            let b = data.get(pos..next).unwrap_or_default();
            b.get(..MAX_BODY.min(b.len())).unwrap_or_default()
        });
        f(Msg {
            source: Source {
                file: Arc::clone(file),
                line: lines,
            },
            header,
            truncated,
            body,
        });
        pos = next;
    }
}

/// Messages of Maildirs and `.eml` files mapped per parallel batch.
const FILE_BATCH: usize = 512;

/// Accumulators that the pool's tasks fold into, one per task running at a time (so about
/// one per worker thread), handed back whole at the end ([`Workers::into_inner`]).
///
/// Why: the messages of a store do not depend on one another, so a caller whose result is
/// a monoid (the store scan's posture and counts) can fold each message on the worker that
/// parsed it, while it is still in cache, and merge a few partial results once at the end,
/// instead of handing every parsed message to one thread that folds them all (issue 21:
/// that thread was as busy as a worker, and each message was freed across threads). A task
/// takes an accumulator for a whole block of messages, so the lock is taken twice a block.
#[derive(Debug)]
pub struct Workers<A> {
    free: Mutex<Vec<A>>,
}

impl<A> Default for Workers<A> {
    fn default() -> Self {
        Workers {
            free: Mutex::new(Vec::new()),
        }
    }
}

impl<A: Default> Workers<A> {
    /// Runs `f` with an accumulator no other task holds (a new one when all are taken).
    pub fn with<R>(&self, f: impl FnOnce(&mut A) -> R) -> R {
        let taken = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut acc = taken.unwrap_or_default();
        let out = f(&mut acc);
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(acc);
        out
    }

    /// Every accumulator made so far.
    pub fn into_inner(self) -> Vec<A> {
        self.free
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Reads every message of `store` and calls `sink` with `map` of each, in store order,
/// with its 1-based index; `map` runs on the rayon pool. `keep` picks the messages whose
/// body `map` sees ([`Store::messages_keeping`]). A message that cannot be read goes to
/// `sink` as an error (an mbox read error ends the store, as with [`Store::messages`]).
/// `Err` when the store cannot be opened at all.
pub fn each_store_message<T: Send>(
    store: &Store,
    keep: Option<KeepBody>,
    map: impl Fn(Msg<'_>) -> T + Sync,
    sink: impl FnMut(u64, Result<T, MessageError>),
) -> io::Result<()> {
    let none = Workers::<()>::default();
    each_store_message_folding(store, keep, &none, |_, m| map(m), sink)
}

/// [`each_store_message`] whose `map` also gets an accumulator of `workers` to fold into
/// (one task holds it at a time; the caller merges [`Workers::into_inner`] at the end).
pub fn each_store_message_folding<T: Send, A: Default + Send>(
    store: &Store,
    keep: Option<KeepBody>,
    workers: &Workers<A>,
    map: impl Fn(&mut A, Msg<'_>) -> T + Sync,
    mut sink: impl FnMut(u64, Result<T, MessageError>),
) -> io::Result<()> {
    if store.kind == Kind::Mbox {
        let src = SourceFile {
            path: Some(store.path.clone()),
            display: store.display(),
            mtime: None,
            walked: false,
        };
        let inner = input::open(&src)?;
        let sizes = (BLOCK, MAX_BLOCK);
        each_message_folding(inner, store.display(), keep, sizes, workers, map, sink);
        return Ok(());
    }
    let mut it = match keep {
        Some(k) => store.messages_keeping(k)?,
        None => store.messages()?,
    };
    loop {
        let batch: Vec<_> = it.by_ref().take(FILE_BATCH).collect();
        if batch.is_empty() {
            return Ok(());
        }
        let outs: Vec<Option<T>> = batch
            .par_iter()
            .map(|r| {
                r.as_ref()
                    .ok()
                    .map(|m| workers.with(|a| map(a, Msg::of(m))))
            })
            .collect();
        for (r, out) in batch.into_iter().zip(outs) {
            match (r, out) {
                (Ok(m), Some(t)) => sink(m.index, Ok(t)),
                (Err(e), _) => sink(0, Err(e)),
                (Ok(_), None) => {}
            }
        }
    }
}

/// Reads the mbox `inner` (named `file`) in blocks of `block` bytes (growing up to
/// `max_block` to find a separator) and calls `sink` with `map` of each message, in order,
/// with its 1-based index; `map` runs on the rayon pool. A read error is handed to `sink`
/// last, with the line where it happened.
pub fn each_message<T: Send>(
    inner: Box<dyn Read + Send>,
    file: Arc<str>,
    keep: Option<KeepBody>,
    block: usize,
    max_block: usize,
    map: impl Fn(Msg<'_>) -> T + Sync,
    sink: impl FnMut(u64, Result<T, MessageError>),
) {
    let none = Workers::<()>::default();
    let sizes = (block, max_block);
    each_message_folding(inner, file, keep, sizes, &none, |_, m| map(m), sink);
}

/// [`each_message`] whose `map` folds into an accumulator of `workers`, one per block.
fn each_message_folding<T: Send, A: Default + Send>(
    inner: Box<dyn Read + Send>,
    file: Arc<str>,
    keep: Option<KeepBody>,
    (block, max_block): (usize, usize),
    workers: &Workers<A>,
    map: impl Fn(&mut A, Msg<'_>) -> T + Sync,
    mut sink: impl FnMut(u64, Result<T, MessageError>),
) {
    // Blocks in memory at once: one batch being mapped (a block per core), one waiting for
    // `sink`, and half a batch read ahead (1 MiB each: ~5 MiB on two cores). Four blocks
    // per core and a full batch ahead ran ~10% faster on a 256 MiB mbox but raised peak RSS
    // from ~93 to ~120 MiB. 1 MiB blocks rather than 2 (1 GiB mbox, 6 pairs): wall 1.62 ->
    // 1.56 s, user 2.42 -> 2.35 s, peak RSS 70 -> 63 MiB (less in flight, more of it in
    // cache).
    let batch = rayon::current_num_threads().max(2);
    let (tx, rx) = mpsc::sync_channel::<Cut>(batch / 2);
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    let mut index = 0u64;
    std::thread::scope(|s| {
        let reader_file = Arc::clone(&file);
        let sizes = (block.max(16), max_block.max(block));
        s.spawn(move || read_blocks(inner, reader_file, keep, sizes, tx, back_rx));
        // While the caller's `sink` takes one batch on this thread, the pool maps the next.
        let mut pending: Option<(Vec<Cut>, Vec<Vec<T>>)> = None;
        loop {
            let mut cuts = Vec::with_capacity(batch);
            while cuts.len() < batch {
                match rx.recv() {
                    Ok(c) => cuts.push(c),
                    Err(_) => break,
                }
            }
            let mut mapped: Vec<Vec<T>> = Vec::new();
            rayon::in_place_scope(|sc| {
                if !cuts.is_empty() {
                    let (cuts, mapped, map, file) = (&cuts, &mut mapped, &map, &file);
                    sc.spawn(move |_| *mapped = map_cuts(cuts, file, keep, workers, map));
                }
                if let Some((done, outs)) = pending.take() {
                    for (c, out) in done.into_iter().zip(outs) {
                        for t in out {
                            index += 1;
                            sink(index, Ok(t));
                        }
                        match c {
                            Cut::Block { data, .. } => {
                                let _ = back_tx.send(data);
                            }
                            Cut::Failed { error, line } => {
                                let source = Source {
                                    file: Arc::clone(&file),
                                    line,
                                };
                                sink(index, Err(MessageError { source, error }));
                            }
                            Cut::Owned(_) => {}
                        }
                    }
                }
            });
            if cuts.is_empty() {
                break;
            }
            pending = Some((cuts, mapped));
        }
    });
}

/// `map` of every message of a batch of cuts, on the pool, one list per cut (each cut
/// folded into one accumulator of `workers`).
fn map_cuts<T: Send, A: Default + Send>(
    cuts: &[Cut],
    file: &Arc<str>,
    keep: Option<KeepBody>,
    workers: &Workers<A>,
    map: &(impl Fn(&mut A, Msg<'_>) -> T + Sync),
) -> Vec<Vec<T>> {
    cuts.par_iter()
        .map(|c| match c {
            Cut::Block {
                data,
                line,
                cut_short,
            } => {
                // Each message is mapped once the next one is framed: the last message of
                // a block cut short is never mapped (nor folded).
                let mut out = Vec::new();
                workers.with(|a| {
                    let mut held: Option<Msg<'_>> = None;
                    frame(data, *line, file, keep, |m| {
                        if let Some(p) = held.replace(m) {
                            out.push(map(a, p));
                        }
                    });
                    if let Some(p) = held.filter(|_| !*cut_short) {
                        out.push(map(a, p));
                    }
                });
                out
            }
            Cut::Owned(m) => vec![workers.with(|a| map(a, Msg::of(m)))],
            Cut::Failed { .. } => Vec::new(),
        })
        .collect()
}

#[cfg(test)]
#[path = "mbox_tests.rs"]
mod tests;
