//! The file being read: an open descriptor with its identity and position, and the
//! reading of whole lines from it. Kept apart from the follower's decisions (which file,
//! when), which live in the parent module.

use std::fs::{self, File};
use std::io::{self, Read};

use super::{Chunk, Identity};
use crate::input::Block;

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
    /// A rotated file read from a restart's backlog: finished at its end.
    pub(super) backlog: bool,
    /// The last bytes read (ending at `pos`), to recognise a file truncated and refilled
    /// past `pos` between two looks.
    pub(super) tail: Vec<u8>,
}

/// Bytes kept in [`Open::tail`]: enough that refilled log lines (other stamps, pids,
/// queue ids) never match by chance.
pub(super) const TAIL: usize = 64;

/// True when the open file no longer holds what was read from it: it is shorter than the
/// offset read (copytruncate), or the bytes before the offset changed (truncated and
/// written past the old offset before this look — the case a size check alone misses,
/// typically with polling).
pub(super) fn truncated(o: &Open) -> io::Result<bool> {
    use std::os::unix::fs::FileExt;
    let len = o.file.metadata()?.len();
    if len < o.pos {
        return Ok(true);
    }
    if len == o.pos || o.tail.is_empty() {
        return Ok(false);
    }
    let mut now = vec![0u8; o.tail.len()];
    let at = o.pos - o.tail.len() as u64;
    match o.file.read_exact_at(&mut now, at) {
        Ok(()) => Ok(now != o.tail),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(true),
        Err(e) => Err(e),
    }
}

/// Bytes read per `read` call.
pub(super) const READ_SIZE: usize = 64 * 1024;
/// Bytes handed out per look at most, so that a huge backlog streams in pieces.
pub(super) const MAX_BATCH: usize = 4 << 20;

pub(super) fn open_at(file: File, m: &fs::Metadata, offset: u64, line: u64) -> Open {
    Open {
        file,
        id: Identity::of(m),
        pos: offset,
        line_start: offset,
        line,
        carry: Vec::new(),
        skipping: false,
        backlog: false,
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

/// Reads what is available from `o` and appends its whole lines to `out`. Returns true
/// when it stopped at [`MAX_BATCH`] with more to read.
pub(super) fn drain(o: &mut Open, max_line: usize, out: &mut Vec<Chunk>) -> io::Result<bool> {
    let mut buf = vec![0u8; READ_SIZE];
    let mut block = Block {
        first_line: o.line + 1,
        data: Vec::new(),
        skipped_long_lines: 0,
    };
    let mut handed = 0usize;
    loop {
        let n = match o.file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                push_block(&mut block, out);
                return Err(e);
            }
        };
        let base = o.pos;
        o.pos += n as u64;
        let fresh = buf.get(n.saturating_sub(TAIL)..n).unwrap_or_default();
        let keep = TAIL.saturating_sub(fresh.len()).min(o.tail.len());
        o.tail.drain(..o.tail.len() - keep);
        o.tail.extend_from_slice(fresh);
        let mut at = 0usize;
        let bytes = buf.get(..n).unwrap_or_default();
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
            return Ok(true);
        }
    }
    push_block(&mut block, out);
    Ok(false)
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
