//! Wires the stages for the log side: sources → blocks → parallel parse and year
//! resolution per block (`years.rs`) → sequential correlation → records handed to the
//! caller.
//!
//! Memory is bounded by one batch of blocks per file plus the correlation state: a reader
//! thread cuts the file into blocks, the blocks of a batch are parsed in parallel (rayon)
//! with their order kept, and their events are correlated in log order.

mod needles;
#[cfg(test)]
mod tests;
mod years;

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;

use chrono::{DateTime, Local};
use rayon::prelude::*;

use crate::correlate::Correlator;

use crate::input::{self, Block, BlockPool, BlockReader, Pool, SourceFile};
use crate::model::Record;
use crate::model::Summary;
use crate::model::{Event, Source};
use crate::parse::envelope::{YearBase, YearState, Zone};
use crate::parse::{self, LineRead};
pub use needles::Needles;

/// Bytes per block of the pipeline (a quarter of [`input::DEFAULT_BLOCK_SIZE`]).
///
/// Peak memory of a run is mostly what is in flight (`in_flight`): blocks, and the
/// event vectors parsed from them (an `Event` is some 280 bytes, one per ~360 bytes of a
/// mixed log: a block's events take about as much room as its bytes). With 1 MiB blocks
/// that was some 30 MiB on 2 cores; 256 KiB blocks keep it near 8 MiB and are no slower
/// (a batch is still large enough that its hand-offs cost nothing measurable, and a
/// smaller one stays in cache; 1 GiB mixed log, paired runs: 5.3 s user CPU, 1 MiB blocks
/// 5.6 s).
pub const BLOCK_SIZE: usize = 256 << 10;

/// Event room reserved per byte of a block: about one event per 360 bytes in a mixed log,
/// room for one per 256 keeps the vector from growing (each growth copied every event so
/// far: 3% of the CPU).
const BYTES_PER_EVENT: usize = 256;

/// How many blocks and event vectors a run keeps in flight with `batch` blocks per batch:
/// `(blocks, event vectors)`, the bounds of its two [`Pool`]s.
///
/// Blocks: `batch` queued from the reader, `batch` being parsed, one being read (and
/// one spare). Event vectors: a batch being parsed, one parsed batch queued
/// (`sync_channel(1)`), one being correlated (each vector goes back as soon as its block's
/// events are correlated), and two spare. Nothing else holds either.
fn in_flight(batch: usize) -> (usize, usize) {
    (2 * batch + 2, 3 * batch + 2)
}

/// How the pipeline reads.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--year`: the year of each file's first entry, instead of inferring it.
    pub year: Option<i32>,
    /// Zone for stamps without an offset.
    pub zone: Zone,
    pub block_size: usize,
    pub max_line: usize,
    /// How many malformed lines to keep verbatim for the user.
    pub keep_malformed: usize,
    /// How many lines of mail programs that no parser understood to keep verbatim
    /// (`--explain-unparsed N`); they are counted per program whatever this is.
    pub keep_unparsed: usize,
    /// Bytes read from the sources so far (before inflating), for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
    /// Read only the lines holding one of these needles (a triage question about one peer
    /// or one message, widened by [`crate::triage::scope`] so the answer is unchanged).
    /// The other lines are counted, not parsed, and not counted as unparsed.
    pub needles: Option<Arc<Needles>>,
    /// Set by the caller to stop the read: the reader stops cutting blocks and the run
    /// returns without correlating further (`events | head`: once the pipe is closed,
    /// nothing more is read). The records of what was read up to then still go out.
    pub stop: Option<Arc<AtomicBool>>,
    /// How much of each line to build ([`parse::Detail`]): everything by default; `scan`,
    /// which only folds records, asks for [`parse::Detail::Records`].
    pub detail: parse::Detail,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            year: None,
            zone: Zone::Local,
            block_size: BLOCK_SIZE,
            max_line: input::DEFAULT_MAX_LINE,
            keep_malformed: 20,
            keep_unparsed: 0,
            progress: None,
            needles: None,
            stop: None,
            detail: parse::Detail::Full,
        }
    }
}

/// What a run read and what went wrong, for the summary line and stderr.
#[derive(Debug, Default)]
pub struct RunReport {
    pub summary: Summary,
    /// File-level problems (unreadable, truncated, nothing recognised), one line each,
    /// naming the file.
    pub warnings: Vec<String>,
    /// The first malformed lines, with file and line.
    pub malformed: Vec<(Source, String)>,
    /// The first lines of mail programs that no parser understood (`keep_unparsed`).
    pub unparsed: Vec<(Source, String)>,
    /// Inputs not read to their end, one line each naming the file and what was read.
    pub incomplete: Vec<String>,
    /// Per input, how many of its recognised lines an earlier input already held, and
    /// which: `(file, first read in, lines)`, in reading order.
    pub duplicates: Vec<(Arc<str>, Arc<str>, u64)>,
    /// The logging hosts of the recognised lines (a snapshot's identity).
    pub hosts: std::collections::BTreeSet<String>,
    /// Correlation entries the memory bound dropped early (`Correlator::evicted`).
    pub state_evicted: u64,
    /// The caller stopped the read ([`Options::stop`]): the inputs were not all read.
    pub stopped: bool,
}

#[derive(Debug, PartialEq)]
struct BlockOut {
    events: Vec<Event>,
    /// One [`line_key`] per event when duplicates are looked for, else empty.
    keys: Vec<u64>,
    lines: u64,
    recognized: u64,
    malformed: Vec<(u64, String)>,
    malformed_count: u64,
    too_long: u64,
    unparsed: BTreeMap<String, u64>,
    unparsed_lines: Vec<(u64, String)>,
}

/// Parses the lines of one block that may matter.
///
/// Each line's syslog head is read once ([`parse::envelope::head`]): a line whose tag names
/// a mail program ([`parse::prefilter::mta_program`], or [`parse::prefilter::mta_tag`] for
/// a line of another shape) is parsed at once, with that head as its envelope; a line of a
/// daemon that is no MTA is passed over. From any other line the prefilter
/// ([`parse::prefilter`]) searches the rest of the block for its needles, so irrelevant
/// lines are skipped in bulk: between two candidates only newlines are counted, over-long
/// lines are looked for only when the gap is long enough to hide one, and only
/// the lines that name a mail program (a second needle search) are read for their program,
/// to count them as unparsed. No other irrelevant line is split, decoded or parsed. Counts,
/// events and kept lines are exactly those of parsing every line (`reference_parse_block`
/// in the tests). The events go into `events` (empty; a recycled vector keeps its room).
// One call per block from one place; a struct for its settings would only rename them.
#[allow(clippy::too_many_arguments)]
fn parse_block(
    block: &Block,
    file: &Arc<str>,
    keep: usize,
    keep_unparsed: usize,
    max_line: usize,
    needles: Option<&Needles>,
    keyed: bool,
    detail: parse::Detail,
    mut events: Vec<Event>,
) -> BlockOut {
    events.reserve(block.data.len() / BYTES_PER_EVENT);
    let mut out = BlockOut {
        events,
        keys: Vec::new(),
        lines: block.skipped_long_lines,
        recognized: 0,
        malformed: Vec::new(),
        malformed_count: 0,
        too_long: block.skipped_long_lines,
        unparsed: BTreeMap::new(),
        unparsed_lines: Vec::new(),
    };
    let data = &block.data[..];
    let mut pos = 0usize;
    let mut no = block.first_line;
    let mut hosts = parse::HostNames::default();
    // The events of this block share their own copy of the file name: cloning one `Arc`
    // shared by the whole run made every event of every parsing thread (and every drop on
    // the correlating thread) hit the same reference count. Host names are per block
    // already ([`parse::HostNames`]).
    let file: Arc<str> = Arc::from(&**file);
    let file = &file;
    let mut words = needles::WordCursor::default();
    while pos < data.len() {
        // The candidate line's tag was read already (an MTA's, or not another daemon's):
        // it is not read a second time below, and what was read of it (`head`) goes to
        // the parser.
        let mut known = false;
        let mut head = None;
        // The end of the line at `pos`, when it was looked for.
        let mut end_at_pos = data.len();
        let cand = match needles {
            Some(n) => n.next_match_in(data, pos, &mut words),
            None => {
                let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
                end_at_pos = end;
                let line = trim_cr(&data[pos..end]);
                head = parse::envelope::head(line);
                match head.map(|h| h.program(line)) {
                    // A line of a daemon that is no MTA (dovecot, CRON, kernel, …: a third
                    // of a mixed log) is passed over at once, neither searched nor parsed.
                    Some(p) if parse::is_not_mail(p) => {
                        out.lines += 1;
                        if line.len() > max_line {
                            out.too_long += 1;
                        }
                        no += 1;
                        pos = end + 1;
                        continue;
                    }
                    // A line a mail program wrote is nearly always a candidate in a mail
                    // log: it is parsed without the needle search (a line without a needle
                    // comes out irrelevant anyway, and is counted as unparsed exactly as
                    // the gap would).
                    Some(p) if parse::prefilter::mta_program(p) => {
                        known = true;
                        Some(pos)
                    }
                    None if parse::prefilter::mta_tag(line) => {
                        known = true;
                        Some(pos)
                    }
                    _ => {
                        let cand = parse::prefilter::next_candidate(data, pos);
                        known = cand.is_some_and(|m| m < end);
                        cand
                    }
                }
            }
        };
        let line_start = cand.map_or(data.len(), |m| line_start(data, pos, m));
        no += match needles {
            // A narrowed read counts the lines it skips and looks no further at them.
            Some(_) => {
                let n = plain_lines(&data[pos..line_start], max_line, &mut out.too_long);
                out.lines += n;
                n
            }
            None => gap(
                &mut out,
                &data[pos..line_start],
                no,
                max_line,
                keep_unparsed,
            ),
        };
        let Some(m) = cand else { break };
        // A known candidate is the line at `pos`, whose end was found already.
        let line_end = if known {
            end_at_pos
        } else {
            memchr::memchr(b'\n', &data[m..]).map_or(data.len(), |i| m + i)
        };
        let line = trim_cr(&data[line_start..line_end]);
        out.lines += 1;
        if line.len() > max_line {
            out.too_long += 1;
        } else if !known && {
            head = parse::envelope::head(line);
            head.is_some_and(|h| parse::is_not_mail(h.program(line)))
        } {
            // Irrelevant, and no mail program's (see above); a line `mta_tag` picked may
            // still be one in theory, then the parser's own check says so.
        } else {
            // An irrelevant line of a mail program is counted under its program, which
            // the parser hands over (no second envelope read).
            let mut counted = false;
            let unparsed = &mut out.unparsed;
            let read = parse::parse_line_into(
                line,
                head,
                file,
                no,
                &mut hosts,
                detail,
                &mut out.events,
                |p| {
                    if let Some(p) = p.filter(|p| parse::is_mail_program(p)) {
                        match unparsed.get_mut(p) {
                            Some(c) => *c += 1,
                            None => {
                                unparsed.insert(p.to_owned(), 1);
                            }
                        }
                        counted = true;
                    }
                },
            );
            match read {
                LineRead::Event => {
                    out.recognized += 1;
                    if keyed {
                        out.keys.push(line_key(line));
                    }
                }
                LineRead::Irrelevant => {
                    if counted && out.unparsed_lines.len() < keep_unparsed {
                        out.unparsed_lines
                            .push((no, String::from_utf8_lossy(line).into_owned()));
                    }
                }
                LineRead::Malformed(why) => {
                    out.malformed_count += 1;
                    if out.malformed.len() < keep {
                        out.malformed.push((no, why));
                    }
                }
            }
        }
        no += 1;
        pos = line_end + 1;
    }
    out
}

/// A line's identity apart from its time: the bytes after the stamp (host, program, pid
/// and text, `mx postfix/smtpd[42]: connect from …`), so that
/// `Nov 28 17:54:54 mx prog[1]: text` and `2026-11-28T17:54:54.123456+00:00 mx prog[1]:
/// text` are the same line once the time (to the second, the precision of the traditional
/// stamp) is added by [`dup_key`]. Only the stamp's extent is found (no second envelope
/// parse: this runs on every recognised line of every input but the last). A journald JSON
/// entry, or a line of another shape, is taken whole. Seeded the same in every run.
fn line_key(line: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x6d61_696c_746c_7321).hash_one(after_stamp(line))
}

/// `line` without its leading stamp: a traditional `Mmm dd hh:mm:ss[.frac] ` or an ISO
/// `YYYY-MM-DDThh:mm:ss[.frac][zone] ` (a syslog `<PRI>` before either is dropped too).
/// Anything else is returned whole.
fn after_stamp(line: &[u8]) -> &[u8] {
    let body = match line {
        [b'<', rest @ ..] => match memchr::memchr(b'>', rest) {
            Some(i) if i <= 3 => &rest[i + 1..],
            _ => line,
        },
        _ => line,
    };
    let skip_token = |s: &[u8]| -> Option<usize> {
        let end = memchr::memchr(b' ', s)?;
        let mut i = end;
        while s.get(i) == Some(&b' ') {
            i += 1;
        }
        Some(i)
    };
    match body {
        // Nov 28 17:54:54 / Nov  8 17:54:54
        [m, o, n, b' ', ..]
            if m.is_ascii_uppercase() && o.is_ascii_lowercase() && n.is_ascii_lowercase() =>
        {
            let mut at = 4;
            while body.get(at) == Some(&b' ') {
                at += 1;
            }
            let Some(day) = skip_token(&body[at..]) else {
                return line;
            };
            at += day;
            match body.get(at..).and_then(skip_token) {
                Some(clock) if body.get(at + 2) == Some(&b':') => &body[at + clock..],
                _ => line,
            }
        }
        // 2026-11-28T17:54:54.123456+00:00
        [y, _, _, _, b'-', ..] if y.is_ascii_digit() => match memchr::memchr(b' ', body) {
            Some(i) if body.get(10) == Some(&b'T') => &body[i + 1..],
            _ => line,
        },
        _ => line,
    }
}

/// [`line_key`] with the resolved time truncated to the second (Unix seconds; `i64::MIN`
/// for a line without a time): the key under which
/// duplicates are looked for across inputs.
fn dup_key(line: u64, secs: i64) -> u64 {
    // SplitMix64's finaliser: the time and the line hash mix into every bit.
    let mut z = line ^ (secs as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The duplicate keys of one input already read, with the time range (Unix seconds) of its
/// keyed lines, so that a line is looked up only in inputs whose range holds its time (the
/// files of one rotated set never overlap: no lookup at all). The keys (uniform hashes)
/// are bucketed by their top 16 bits with one counting pass, each bucket sorted: no
/// comparison sort of millions of keys, and a lookup goes straight to its bucket. Eight
/// bytes per recognised line of every input but the last, plus 256 KiB of bucket offsets
/// for a large input.
#[derive(Debug, Default)]
struct ReadKeys {
    keys: Vec<u64>,
    /// `keys[offsets[b]..offsets[b + 1]]` hold the keys whose top 16 bits are `b`; empty
    /// for a small input (then `keys` is sorted whole).
    offsets: Vec<u32>,
    first: i64,
    last: i64,
}

const BUCKET_SHIFT: u32 = 48;
const BUCKETS: usize = 1 << (64 - BUCKET_SHIFT);

impl ReadKeys {
    fn new(keys: Vec<u64>, first: i64, last: i64) -> ReadKeys {
        let mut keys = keys;
        if keys.len() < BUCKETS || keys.len() >= u32::MAX as usize {
            keys.sort_unstable();
            return ReadKeys {
                keys,
                offsets: Vec::new(),
                first,
                last,
            };
        }
        let mut offsets = vec![0u32; BUCKETS + 1];
        for k in &keys {
            offsets[(k >> BUCKET_SHIFT) as usize + 1] += 1;
        }
        for b in 0..BUCKETS {
            offsets[b + 1] += offsets[b];
        }
        let mut at: Vec<u32> = offsets[..BUCKETS].to_vec();
        let mut out = vec![0u64; keys.len()];
        for k in keys {
            let b = (k >> BUCKET_SHIFT) as usize;
            out[at[b] as usize] = k;
            at[b] += 1;
        }
        for b in 0..BUCKETS {
            out[offsets[b] as usize..offsets[b + 1] as usize].sort_unstable();
        }
        ReadKeys {
            keys: out,
            offsets,
            first,
            last,
        }
    }

    fn holds(&self, secs: i64, key: u64) -> bool {
        if secs < self.first || secs > self.last {
            return false;
        }
        let slice = if self.offsets.is_empty() {
            &self.keys[..]
        } else {
            let b = (key >> BUCKET_SHIFT) as usize;
            &self.keys[self.offsets[b] as usize..self.offsets[b + 1] as usize]
        };
        slice.binary_search(&key).is_ok()
    }
}

/// Start of the line holding `m`, knowing a line starts at `from` (≤ `m`).
fn line_start(data: &[u8], from: usize, m: usize) -> usize {
    memchr::memrchr(b'\n', &data[from..m]).map_or(from, |i| from + i + 1)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

/// The lines the prefilter skipped (whole lines, the last one possibly without its
/// newline), first numbered `first_no`: counted, checked for length, and those of a mail
/// program counted as unparsed. Returns how many lines there were.
fn gap(
    out: &mut BlockOut,
    gap: &[u8],
    first_no: u64,
    max_line: usize,
    keep_unparsed: usize,
) -> u64 {
    let mut n = 0u64;
    let mut p = 0usize;
    while p < gap.len() {
        let hit = parse::prefilter::next_mail_program(gap, p);
        let ls = hit.map_or(gap.len(), |m| line_start(gap, p, m));
        n += plain_lines(&gap[p..ls], max_line, &mut out.too_long);
        let Some(m) = hit else { break };
        let le = memchr::memchr(b'\n', &gap[m..]).map_or(gap.len(), |i| m + i);
        let line = trim_cr(&gap[ls..le]);
        if line.len() > max_line {
            out.too_long += 1;
        } else {
            unparsed(out, line, first_no + n, keep_unparsed);
        }
        n += 1;
        p = le + 1;
    }
    out.lines += n;
    n
}

/// Lines in `gap` (whole lines, the last one possibly without its newline), counting those
/// over `max_line` into `too_long`. Only a gap longer than the limit can hide one.
fn plain_lines(gap: &[u8], max_line: usize, too_long: &mut u64) -> u64 {
    if gap.is_empty() {
        return 0;
    }
    let last = u64::from(gap.last() != Some(&b'\n'));
    if gap.len() <= max_line {
        return memchr::memchr_iter(b'\n', gap).count() as u64 + last;
    }
    // The lines' lengths from the newlines' positions (SIMD): a narrowed read skips most
    // of a file through here, and splitting it byte by byte cost more than the search.
    let mut n = 0;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', gap).chain((last == 1).then_some(gap.len())) {
        if end - start > max_line && trim_cr(&gap[start..end]).len() > max_line {
            *too_long += 1;
        }
        n += 1;
        start = end + 1;
    }
    n
}

/// Counts an irrelevant line under its program when that is a mail program, keeping the
/// first `keep_unparsed` verbatim. The common case (valid UTF-8, not JSON) borrows the
/// program name and allocates only the first time a program is seen.
fn unparsed(out: &mut BlockOut, line: &[u8], no: u64, keep_unparsed: usize) {
    let counted = match std::str::from_utf8(line) {
        Ok(text) if !text.starts_with('{') => {
            match parse::envelope::parse(text)
                .program
                .filter(|p| parse::is_mail_program(p))
            {
                Some(p) => {
                    match out.unparsed.get_mut(p) {
                        Some(c) => *c += 1,
                        None => {
                            out.unparsed.insert(p.to_owned(), 1);
                        }
                    }
                    true
                }
                None => false,
            }
        }
        _ => match parse::mail_program(line) {
            Some(p) => {
                *out.unparsed.entry(p).or_default() += 1;
                true
            }
            None => false,
        },
    };
    if counted && out.unparsed_lines.len() < keep_unparsed {
        out.unparsed_lines
            .push((no, String::from_utf8_lossy(line).into_owned()));
    }
}

/// A pause after the first block of every file, for the test that truncates a file while
/// it is read (`tests/it/inputs_cli.rs`): with `MAILTLS_TEST_HOLD=PATH` the reader creates
/// `PATH.reading` after handing out its first block and waits (at most a minute) for
/// `PATH.go`. Without the variable nothing happens; it is not a user interface.
struct TestHold(std::path::PathBuf);

fn test_hold() -> Option<TestHold> {
    std::env::var_os("MAILTLS_TEST_HOLD").map(|p| TestHold(p.into()))
}

impl TestHold {
    fn wait(&self) {
        let with = |ext: &str| {
            let mut p = self.0.clone().into_os_string();
            p.push(ext);
            std::path::PathBuf::from(p)
        };
        let _ = std::fs::write(with(".reading"), b"");
        let go = with(".go");
        for _ in 0..6000 {
            if go.exists() {
                return;
            }
            thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

fn year_base(src: &SourceFile, opts: &Options) -> YearBase {
    match opts.year {
        Some(y) => YearBase::FirstYear(y),
        None => {
            let t: DateTime<Local> = src.mtime.map(DateTime::from).unwrap_or_else(Local::now);
            YearBase::Mtime(t.date_naive())
        }
    }
}

/// Reads every source in order and hands each correlated record to `sink`.
pub fn run(sources: &[SourceFile], opts: &Options, sink: impl FnMut(Record)) -> RunReport {
    run_tapped(sources, opts, |_| {}, sink)
}

/// [`run`], also showing `tap` every event (year resolved) just before it is correlated:
/// triage needs what a record leaves out (process id, envelope sender, recipient, status
/// text) and joins it to the record by [`Source`].
pub fn run_tapped(
    sources: &[SourceFile],
    opts: &Options,
    mut tap: impl FnMut(&Event),
    mut sink: impl FnMut(Record),
) -> RunReport {
    let mut report = RunReport::default();
    let mut corr = Correlator::new();
    let mut records = Vec::new();
    let batch = (rayon::current_num_threads() * 2).max(2);
    let mut carried: Option<((std::path::PathBuf, String), (YearBase, YearState))> = None;
    // Duplicates are looked for across inputs only: within one file two equal lines in one
    // second are two events (a quick reconnect served by the same smtpd process).
    let keyed = sources.len() > 1;
    let mut earlier: Vec<ReadKeys> = Vec::new();
    let mut dup_from: BTreeMap<u32, u64> = BTreeMap::new();
    let mut last_host: Option<Arc<str>> = None;
    // Every block buffer that can be in flight (queued, parsed, being read) is recycled,
    // and so is every event vector (parsed, queued, being correlated): a fresh one per
    // block (1.4 MiB) was a large allocation that the allocator returned to the system
    // and faulted in again, zeroed by the kernel, for the next block.
    // The event vectors are the largest item in flight (see [`BLOCK_SIZE`]): one that a
    // block of unusually many events grew is shrunk back to twice the usual room when it
    // is handed in, so that the pool stays near `keep × block` whatever the input.
    let (blocks, vectors) = in_flight(batch);
    let pool = BlockPool::new(blocks);
    let event_pool: Pool<Event> =
        Pool::with_room(vectors, 2 * opts.block_size.max(1) / BYTES_PER_EVENT + 1);
    for (index, src) in sources.iter().enumerate() {
        let index = index as u32;
        // The last input's keys are looked up but not kept: nothing after it asks.
        let remember = keyed && (index as usize) + 1 < sources.len();
        dup_from.clear();
        let mut current = ReadKeys {
            first: i64::MAX,
            last: i64::MIN,
            ..ReadKeys::default()
        };
        report.summary.files += 1;
        let (reader, watch) = match input::open_watched(src, opts.progress.clone()) {
            Ok(r) => r,
            Err(e) => {
                report.summary.files_unreadable += 1;
                report.summary.files_incomplete += 1;
                let e = crate::model::text::plain_error(&e);
                report.warnings.push(format!("{}: {e}", src.display));
                report
                    .incomplete
                    .push(format!("{}: not read: {e}", src.display));
                earlier.push(ReadKeys::default());
                continue;
            }
        };
        // With --year, the year is that of the first entry of a log: the later files of the
        // same rotated set (same directory and base name, read oldest first) continue from
        // where the previous one ended, Dec → Jan included. Without it each file's mtime
        // anchors its own year.
        let group = src.path.as_deref().map(|p| {
            let (dir, base, _) = input::rotation_key(p);
            (dir, base)
        });
        let (base, mut year_state) = match (carried.take(), opts.year, &group) {
            (Some((g, c)), Some(_), Some(now)) if &g == now => c,
            _ => (year_base(src, opts), YearState::FRESH),
        };
        let file_years = years::FileYears::new(base, opts.zone, year_state);
        let before = report.summary.clone();
        let mut read_error: Option<io::Error> = None;
        thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel::<io::Result<Block>>(batch);
            let (bs, ml) = (opts.block_size, opts.max_line);
            let hold = test_hold();
            let stop = opts.stop.clone();
            let reader_pool = pool.clone();
            scope.spawn(move || {
                let mut br = BlockReader::with_sizes(reader, bs, ml).with_pool(reader_pool);
                let mut first = true;
                loop {
                    if stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed)) {
                        return;
                    }
                    match br.next_block() {
                        Ok(Some(b)) => {
                            if tx.send(Ok(b)).is_err() {
                                return;
                            }
                            if std::mem::take(&mut first)
                                && let Some(h) = &hold
                            {
                                h.wait();
                            }
                        }
                        Ok(None) => return,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
            });
            // Parsing runs on its own thread (fanning each batch out over the rayon pool)
            // while this thread correlates the previous batch: reading, parsing and
            // correlating overlap, and at most one parsed batch waits.
            let (ptx, prx) = mpsc::sync_channel::<Vec<(BlockOut, years::BlockYears)>>(1);
            let display = &src.display;
            let (keep, keep_unparsed, max_line) =
                (opts.keep_malformed, opts.keep_unparsed, opts.max_line);
            let needles = opts.needles.as_deref();
            let detail = opts.detail;
            let read_error = &mut read_error;
            let pool = &pool;
            let event_pool = &event_pool;
            let file_years = &file_years;
            scope.spawn(move || {
                let mut done = false;
                while !done {
                    let mut blocks = Vec::with_capacity(batch);
                    while blocks.len() < batch {
                        match rx.recv() {
                            Ok(Ok(b)) => blocks.push(b),
                            Ok(Err(e)) => {
                                *read_error = Some(e);
                                done = true;
                                break;
                            }
                            Err(_) => {
                                done = true;
                                break;
                            }
                        }
                    }
                    let outs: Vec<(BlockOut, years::BlockYears)> = blocks
                        .par_iter()
                        .map(|b| {
                            let mut events = event_pool.take().unwrap_or_default();
                            // The husks the correlator left (see below) are dropped here,
                            // on the pool, not on the correlating thread the run waits on.
                            events.clear();
                            let mut out = parse_block(
                                b,
                                display,
                                keep,
                                keep_unparsed,
                                max_line,
                                needles,
                                keyed,
                                detail,
                                events,
                            );
                            // Year resolution per block, here on the pool; the correlating
                            // thread only checks the guess it starts from (`years`).
                            let y = file_years.resolve_block(&mut out.events);
                            (out, y)
                        })
                        .collect();
                    for b in blocks {
                        pool.put(b.data);
                    }
                    if ptx.send(outs).is_err() {
                        return;
                    }
                }
            });
            'batches: for outs in prx {
                for (out, block_years) in outs {
                    if stopped(opts) {
                        break 'batches;
                    }
                    let s = &mut report.summary;
                    s.lines_read += out.lines;
                    s.lines_recognized += out.recognized;
                    s.lines_malformed += out.malformed_count;
                    s.lines_too_long += out.too_long;
                    for (program, n) in out.unparsed {
                        *s.unparsed.entry(program).or_default() += n;
                    }
                    for (line, text) in out.unparsed_lines {
                        if report.unparsed.len() < opts.keep_unparsed {
                            report.unparsed.push((
                                Source {
                                    file: Arc::clone(&src.display),
                                    line,
                                },
                                text,
                            ));
                        }
                    }
                    for (line, why) in out.malformed {
                        if report.malformed.len() < opts.keep_malformed {
                            report.malformed.push((
                                Source {
                                    file: Arc::clone(&src.display),
                                    line,
                                },
                                why,
                            ));
                        }
                    }
                    let mut keys = out.keys.into_iter();
                    let mut events = out.events;
                    file_years.settle(&mut year_state, &mut events, block_years);
                    // Each event is correlated where it lies: the correlator takes out what
                    // its records keep and the husks go back with their vector, to be
                    // dropped by the parsing thread that takes it next (moving an event out
                    // of the vector and into the call copied it twice; dropping the strings
                    // the records do not keep was the correlating thread's work).
                    for ev in events.iter_mut() {
                        if let Some(k) = keys.next() {
                            let secs = ev.time().map_or(i64::MIN, |t| t.timestamp());
                            let k = dup_key(k, secs);
                            if let Some(first) = earlier.iter().position(|e| e.holds(secs, k)) {
                                *dup_from.entry(first as u32).or_default() += 1;
                                report.summary.lines_duplicate += 1;
                                report.summary.lines_recognized -= 1;
                                continue;
                            }
                            if remember {
                                current.keys.push(k);
                                current.first = current.first.min(secs);
                                current.last = current.last.max(secs);
                            }
                        }
                        if let Some(h) = &ev.host
                            && last_host.as_ref().is_none_or(|l| !Arc::ptr_eq(l, h))
                        {
                            if !report.hosts.contains(&**h) {
                                report.hosts.insert(h.to_string());
                            }
                            last_host = Some(Arc::clone(h));
                        }
                        report.summary.seen(ev.time());
                        tap(ev);
                        corr.push_taking(ev, &mut records);
                        // Most events complete no record: no drain made and dropped.
                        if !records.is_empty() {
                            records.drain(..).for_each(&mut sink);
                        }
                        if stopped(opts) {
                            break 'batches;
                        }
                    }
                    event_pool.put(events);
                }
            }
        });
        if stopped(opts) {
            report.stopped = true;
            report.state_evicted = corr.evicted();
            return report;
        }
        let read_here = report.summary.lines_read - before.lines_read;
        let dups_here = report.summary.lines_duplicate - before.lines_duplicate;
        for (&first, &n) in &dup_from {
            if let Some(f) = sources.get(first as usize) {
                report
                    .duplicates
                    .push((Arc::clone(&src.display), Arc::clone(&f.display), n));
            }
        }
        if let Some(e) = read_error {
            report.summary.files_incomplete += 1;
            let text = format!(
                "{}: read error after line {read_here}: {e} (the lines before it were used)",
                src.display
            );
            report.incomplete.push(text.clone());
            report.warnings.push(text);
        } else if let Some(change) = watch.changed() {
            report.summary.files_incomplete += 1;
            let text = format!(
                "{}: {change} while being read: {} read ({}), the rest not",
                src.display,
                crate::model::text::count(read_here, "line", "lines"),
                watch.progress()
            );
            report.incomplete.push(text.clone());
            report.warnings.push(text);
        } else if dups_here > 0 && report.summary.lines_recognized == before.lines_recognized {
            // Every recognised line was a copy: the pair note says so.
        } else if read_here == 0 {
            report.warnings.push(format!("{}: empty", src.display));
        } else if report.summary.lines_recognized == before.lines_recognized {
            report.warnings.push(format!(
                "{}: no mail log lines recognised in {}",
                src.display,
                crate::model::text::count(read_here, "line", "lines")
            ));
        }
        // One entry per input (empty when not kept), so positions are input indexes.
        earlier.push(ReadKeys::new(current.keys, current.first, current.last));
        if let Some(g) = group {
            carried = Some((g, (base, year_state)));
        }
    }
    report.state_evicted = corr.evicted();
    corr.finish(&mut records);
    records.drain(..).for_each(&mut sink);
    report
}

/// True once the caller asked the run to stop ([`Options::stop`]).
fn stopped(opts: &Options) -> bool {
    opts.stop
        .as_ref()
        .is_some_and(|s| s.load(Ordering::Relaxed))
}
