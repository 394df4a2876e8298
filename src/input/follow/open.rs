//! The file being read: an open descriptor with its identity and position, and the
//! reading of whole lines from it. Kept apart from the follower's decisions (which file,
//! when), which live in the parent module.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::{Chunk, Identity};
use crate::input::Block;

/// Bytes at the start of a file that identify its content: a rotated copy (copytruncate)
/// or a compressed rotation has another inode but the same first bytes. Syslog lines start
/// with a timestamp, so two different logs never share them (the idea of Vector's
/// checksum fingerprint).
pub(super) const FP_LEN: u64 = 256;

/// A fingerprint of a file's first `len` bytes (`len` ≤ `FP_LEN`; fewer when the file
/// was shorter when it was taken). `len == 0`: nothing to compare, never matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Fingerprint {
    #[serde(rename = "fp_len")]
    pub len: u64,
    #[serde(rename = "fp_hash")]
    pub hash: u64,
}

impl Fingerprint {
    pub(super) fn of(bytes: &[u8]) -> Fingerprint {
        // FNV-1a: no collision resistance is needed, only telling logs apart.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Fingerprint {
            len: bytes.len() as u64,
            hash: h,
        }
    }
}

/// The fingerprint of the first `min(FP_LEN, len)` bytes of `file`.
pub(super) fn fingerprint(file: &File, len: u64) -> io::Result<Fingerprint> {
    let n = usize::try_from(len.min(FP_LEN)).unwrap_or(0);
    let mut buf = vec![0u8; n];
    match file.read_exact_at(&mut buf, 0) {
        Ok(()) => Ok(Fingerprint::of(&buf)),
        // Shorter than it was: whatever is there now.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            let now = file.metadata()?.len().min(FP_LEN);
            let mut v = vec![0u8; usize::try_from(now).unwrap_or(0)];
            let got = file.read_at(&mut v, 0)?;
            Ok(Fingerprint::of(v.get(..got).unwrap_or_default()))
        }
        Err(e) => Err(e),
    }
}

/// True for a rotated file stored gzip-compressed (`maillog.2.gz`).
pub(super) fn is_gz(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "gz")
}

/// Whether the content of `p` (decompressed for `.gz`) starts with the bytes `fp` was
/// taken of. Never true for an empty fingerprint.
pub(super) fn starts_like(p: &Path, fp: Fingerprint) -> bool {
    if fp.len == 0 {
        return false;
    }
    let Ok(file) = File::open(p) else {
        return false;
    };
    let mut head = Vec::new();
    let read = if is_gz(p) {
        flate2::read::MultiGzDecoder::new(file)
            .take(fp.len)
            .read_to_end(&mut head)
    } else {
        file.take(fp.len).read_to_end(&mut head)
    };
    read.is_ok() && Fingerprint::of(&head) == fp
}

/// Opens a rotated file for reading: a plain one as it is, a `.gz` one decompressed into
/// an unlinked temporary file (so that it reads, seeks and measures like a plain one and
/// nothing is left behind). The metadata is that of `p` itself: its identity is what
/// later looks find among the siblings.
pub(super) fn open_rotated(p: &Path) -> io::Result<(File, fs::Metadata)> {
    let file = File::open(p)?;
    let m = file.metadata()?;
    if !is_gz(p) {
        return Ok((file, m));
    }
    static N: AtomicU64 = AtomicU64::new(0);
    let tmp = std::env::temp_dir().join(format!(
        ".mailtls-follow-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut out = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    let _ = fs::remove_file(&tmp);
    io::copy(&mut flate2::read::MultiGzDecoder::new(file), &mut out)?;
    out.seek(SeekFrom::Start(0))?;
    Ok((out, m))
}

/// The file being read.
pub(super) struct Open {
    pub(super) file: File,
    pub(super) id: Identity,
    /// Bytes read from the file.
    pub(super) pos: u64,
    /// Offset of the first byte after the last newline (where the next line starts).
    pub(super) line_start: u64,
    /// Lines completed so far.
    pub(super) line: u64,
    pub(super) carry: Vec<u8>,
    /// Inside an over-long line: drop bytes up to the next newline.
    pub(super) skipping: bool,
    /// The content's first bytes (grows with the file up to [`FP_LEN`]).
    pub(super) fp: Fingerprint,
    /// The largest size the file was seen to have: after a copytruncate, what it held
    /// beyond its copy and beyond what was read is known to be lost.
    pub(super) seen_len: u64,
    /// The size the last look saw, not yet known to be this content's: a file truncated
    /// and refilled past the offset has the new content's size. It joins
    /// [`Open::seen_len`] only when the next read finds the bytes before the offset
    /// unchanged (else a refill larger than logrotate's copy was announced as lost).
    pub(super) looked_len: u64,
    /// A copytruncate's copy, read for the rest of the file it was copied from.
    pub(super) copy: bool,
    /// The last bytes read (ending at `pos`), to recognise a file truncated and refilled
    /// past `pos` between two looks.
    pub(super) tail: Vec<u8>,
}

/// Bytes kept in [`Open::tail`]: enough that refilled log lines (other stamps, pids,
/// queue ids) never match by chance.
pub(super) const TAIL: usize = 64;

/// True when the open file is shorter than the offset read (copytruncate). Also notes
/// the size seen, so that a truncation can tell how much it lost ([`Open::looked_len`]).
/// A file truncated and refilled past the offset is recognised by [`drain`] itself, in
/// the same read that would take the new bytes for a continuation.
pub(super) fn truncated(o: &mut Open) -> io::Result<bool> {
    let len = o.file.metadata()?.len();
    o.looked_len = len;
    Ok(len < o.pos)
}

/// What [`drain`] stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Drained {
    /// The end of the file: everything there was is handed out.
    Eof,
    /// [`MAX_BATCH`] handed out; more to read.
    Full,
    /// The bytes before the offset are no longer those read: the file was truncated (and
    /// perhaps refilled past the offset). Nothing of the new content was handed out.
    Changed,
}

/// Bytes read per `read` call.
pub(super) const READ_SIZE: usize = 64 * 1024;
/// Bytes handed out per look at most, so that a huge backlog streams in pieces.
pub(super) const MAX_BATCH: usize = 4 << 20;

pub(super) fn open_at(file: File, m: &fs::Metadata, offset: u64, line: u64) -> Open {
    let len = file.metadata().map_or(0, |m| m.len());
    let fp = fingerprint(&file, len).unwrap_or_default();
    Open {
        file,
        fp,
        seen_len: len,
        looked_len: len,
        copy: false,
        id: Identity::of(m),
        pos: offset,
        line_start: offset,
        line,
        carry: Vec::new(),
        skipping: false,
        tail: Vec::new(),
    }
}

/// The offset just after the last newline of the first `len` bytes, and the number of
/// lines before it: where `tail -F` starts, without a partial last line.
pub(super) fn end_of_last_line(file: &File, len: u64) -> io::Result<(u64, u64)> {
    let mut r = io::BufReader::with_capacity(READ_SIZE, file.take(len));
    let mut lines = 0u64;
    let mut pos = 0u64;
    let mut after_nl = 0u64;
    loop {
        let buf = io::BufRead::fill_buf(&mut r)?;
        if buf.is_empty() {
            break;
        }
        for i in memchr::memchr_iter(b'\n', buf) {
            lines += 1;
            after_nl = pos + i as u64 + 1;
        }
        let n = buf.len();
        pos += n as u64;
        io::BufRead::consume(&mut r, n);
    }
    Ok((after_nl, lines))
}

/// Reads what is available from `o` and appends its whole lines to `out`.
///
/// Every read starts [`TAIL`] bytes early and hands nothing out unless those bytes are
/// still the ones read last: the check and the read are one `pread`, so a copytruncate
/// that lands between a look's check and its read (a stopped or descheduled follower)
/// cannot make the refilled file's bytes pass for a continuation.
pub(super) fn drain(o: &mut Open, max_line: usize, out: &mut Vec<Chunk>) -> io::Result<Drained> {
    let mut buf = vec![0u8; TAIL + READ_SIZE];
    let mut block = Block {
        first_line: o.line + 1,
        data: Vec::new(),
        skipped_long_lines: 0,
    };
    let mut handed = 0usize;
    loop {
        let back = o.tail.len();
        let got = match read_at_most(
            &o.file,
            buf.get_mut(..back + READ_SIZE).unwrap_or_default(),
            o.pos - back as u64,
        ) {
            Ok(got) => got,
            Err(e) => {
                push_block(&mut block, out);
                return Err(e);
            }
        };
        if got < back || buf.get(..back) != Some(o.tail.as_slice()) {
            push_block(&mut block, out);
            o.seen_len = o.seen_len.max(o.pos);
            return Ok(Drained::Changed);
        }
        // The content goes on: the size the look saw was this content's.
        o.seen_len = o.seen_len.max(o.looked_len);
        let n = got - back;
        if n == 0 {
            break;
        }
        let bytes = buf.get(back..got).unwrap_or_default();
        let base = o.pos;
        o.pos += n as u64;
        let fresh = bytes.get(n.saturating_sub(TAIL)..).unwrap_or_default();
        let keep = TAIL.saturating_sub(fresh.len()).min(o.tail.len());
        o.tail.drain(..o.tail.len() - keep);
        o.tail.extend_from_slice(fresh);
        let mut at = 0usize;
        while at < n {
            let rest = bytes.get(at..).unwrap_or_default();
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    let end = at + i + 1;
                    o.line += 1;
                    o.line_start = base + end as u64;
                    let too_long = o.carry.len() + (end - at - 1) > max_line;
                    if o.skipping || too_long {
                        // The long line ends here: it counts, and the next block starts
                        // after it so that line numbers stay right.
                        o.skipping = false;
                        o.carry.clear();
                        if !block.data.is_empty() {
                            push_block(&mut block, out);
                        }
                        block.first_line = o.line + 1;
                        block.skipped_long_lines += 1;
                    } else {
                        block.data.append(&mut o.carry);
                        block
                            .data
                            .extend_from_slice(bytes.get(at..end).unwrap_or_default());
                    }
                    at = end;
                }
                None => {
                    if !o.skipping {
                        o.carry.extend_from_slice(rest);
                        if o.carry.len() > max_line {
                            o.carry.clear();
                            o.skipping = true;
                        }
                    }
                    at = n;
                }
            }
        }
        handed += n;
        if handed >= MAX_BATCH {
            push_block(&mut block, out);
            refresh_fp(o);
            return Ok(Drained::Full);
        }
    }
    push_block(&mut block, out);
    refresh_fp(o);
    Ok(Drained::Eof)
}

/// One `pread` of up to `buf.len()` bytes at `at`, retried when interrupted.
fn read_at_most(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    loop {
        match file.read_at(buf, at) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// Extends the fingerprint while the file is shorter than [`FP_LEN`] at its first looks.
fn refresh_fp(o: &mut Open) {
    o.seen_len = o.seen_len.max(o.pos);
    if o.fp.len < FP_LEN
        && o.pos > o.fp.len
        && let Ok(fp) = fingerprint(&o.file, o.pos)
    {
        o.fp = fp;
    }
}

fn push_block(block: &mut Block, out: &mut Vec<Chunk>) {
    if !block.data.is_empty() || block.skipped_long_lines > 0 {
        out.push(Chunk::Lines(std::mem::take(block)));
    }
}

/// The file is done: its unterminated last line is a line after all.
pub(super) fn finish(o: &mut Open, out: &mut Vec<Chunk>) {
    if o.skipping {
        o.skipping = false;
        o.line += 1;
        out.push(Chunk::Lines(Block {
            first_line: o.line + 1,
            data: Vec::new(),
            skipped_long_lines: 1,
        }));
    } else if !o.carry.is_empty() {
        o.line += 1;
        let mut data = std::mem::take(&mut o.carry);
        data.push(b'\n');
        out.push(Chunk::Lines(Block {
            first_line: o.line,
            data,
            skipped_long_lines: 0,
        }));
    }
    o.line_start = o.pos;
}
