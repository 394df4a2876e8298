//! Which files found by a directory walk are worth reading as logs.
//!
//! `mailtls scan /var/log/` is what the README suggests, and `/var/log` holds much that is
//! no mail log: a sparse `lastlog` of several GB, binary `wtmp`/`btmp`, journal files,
//! `dpkg.log` (whose `2026-11-28 10:00:00 status installed exim4:amd64` lines look like an
//! Exim main log to a parser that is only shown one line). Reading them costs seconds and
//! fills the summary with nonsense. A walked file is therefore looked at before it is read:
//!
//! * a sparse file (far fewer blocks on disk than its length) is skipped without reading;
//! * a file with a NUL byte in its first 8 KiB (after inflating gzip) is binary, as
//!   ripgrep decides it, and skipped;
//! * a file none of whose first [`SNIFF_BYTES`] holds a mail-log line (a line some MTA
//!   parser recognises, or a syslog line of a mail program naming its host) is skipped.
//!
//! Each skipped file gets one note. Files named on the command line are always read, and
//! `--no-skip` reads every walked file too.

use std::io::Read;

use super::SourceFile;
use crate::parse::{self, LineOutcome};

/// How much of a walked file's start (inflated) is looked at for a mail-log line.
pub const SNIFF_BYTES: usize = 256 * 1024;
/// The first block in which a NUL byte makes a file binary (ripgrep looks at its first
/// buffer the same way).
const BINARY_BYTES: usize = 8 * 1024;

/// Why a walked file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Far fewer bytes on disk than its length: `lastlog` and friends.
    Sparse { len: u64, allocated: u64 },
    /// A NUL byte in the first block.
    Binary,
    /// Nothing like a mail-log line in the first [`SNIFF_BYTES`].
    NoMailLines { lines: u64 },
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::Sparse { len, allocated } => write!(
                f,
                "sparse file ({len} bytes long, {allocated} on disk), not a log"
            ),
            Skip::Binary => write!(f, "binary file (NUL byte in its first 8 KiB)"),
            Skip::NoMailLines { lines } => {
                write!(f, "no mail-log line in its first {lines} lines")
            }
        }
    }
}

/// Looks at `src` and says why it should not be read, or `None` to read it. Errors while
/// looking are left to the reader, which names them.
pub fn judge(src: &SourceFile) -> Option<Skip> {
    let path = src.path.as_deref()?;
    let meta = std::fs::metadata(path).ok()?;
    if let Some(allocated) = allocated(&meta) {
        let len = meta.len();
        // A log is written sequentially and never has holes; a file with less than half
        // its length on disk (and more than a few blocks long) is a database of slots.
        if len > 1 << 20 && allocated < len / 2 {
            return Some(Skip::Sparse { len, allocated });
        }
    }
    let mut head = Vec::with_capacity(BINARY_BYTES);
    let reader = super::open(src).ok()?;
    let mut reader = reader.take(SNIFF_BYTES as u64);
    // The binary test first, on a small read, so a binary file costs 8 KiB.
    (&mut reader)
        .take(BINARY_BYTES as u64)
        .read_to_end(&mut head)
        .ok()?;
    if memchr::memchr(0, &head).is_some() {
        return Some(Skip::Binary);
    }
    reader.read_to_end(&mut head).ok()?;
    // JSON (a TLS-RPT report as `.json.gz`, a journald export) is left to the readers
    // that know it.
    if head.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    judge_text(&head)
}

/// The text test of [`judge`] on a file's first bytes.
pub fn judge_text(head: &[u8]) -> Option<Skip> {
    let file: std::sync::Arc<str> = std::sync::Arc::from("");
    let mut lines = 0u64;
    // The last piece may be a cut line: it is still looked at (a cut line that parses is a
    // mail line all the same).
    for line in head.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        lines += 1;
        if is_mail_line(line, &file) {
            return None;
        }
    }
    Some(Skip::NoMailLines { lines })
}

/// A line some parser recognises (or finds malformed, i.e. in its own shape), or a syslog
/// line of a mail program that names its host (not a bare `date time word` line, which is
/// what `dpkg.log` writes and what an Exim main log looks like to the envelope alone).
fn is_mail_line(line: &[u8], file: &std::sync::Arc<str>) -> bool {
    match parse::parse_line(line, file, 0) {
        LineOutcome::Event(_) | LineOutcome::Malformed(_) => true,
        LineOutcome::Irrelevant => {
            let text = String::from_utf8_lossy(line);
            if text.starts_with('{') {
                return parse::mail_program(line).is_some();
            }
            let env = parse::envelope::parse(&text);
            env.host.is_some() && env.program.is_some_and(parse::is_mail_program)
        }
    }
}

#[cfg(unix)]
fn allocated(meta: &std::fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.blocks().saturating_mul(512))
}

#[cfg(not(unix))]
fn allocated(_: &std::fs::Metadata) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_lines_keep_a_file_and_dpkg_lines_do_not() {
        let mail = b"Nov 28 10:00:00 mx postfix/smtpd[12]: connect from a.example[192.0.2.1]\n";
        assert_eq!(judge_text(mail), None);
        let unparsed_postfix =
            b"Nov 28 10:00:00 mx postfix/anvil[12]: statistics: max connection rate 1/60s\n";
        assert_eq!(judge_text(unparsed_postfix), None);
        let dpkg = b"2026-11-28 10:00:00 status installed exim4-base:amd64 4.96-15\n\
2026-11-28 10:00:01 configure exim4-config:all 4.96-15 <none>\n";
        assert_eq!(judge_text(dpkg), Some(Skip::NoMailLines { lines: 2 }));
        let cron = b"Nov 28 10:00:00 mx CRON[5]: (root) CMD (run-parts)\n";
        assert_eq!(judge_text(cron), Some(Skip::NoMailLines { lines: 1 }));
    }

    #[test]
    fn binary_and_sparse_files_are_skipped_without_reading_them_whole() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("wtmp");
        let mut bytes =
            b"Nov 28 10:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]\n".to_vec();
        bytes.extend([0u8; 64]);
        std::fs::write(&bin, &bytes).unwrap();
        let src = |p: &std::path::Path| SourceFile {
            path: Some(p.to_path_buf()),
            display: std::sync::Arc::from(p.display().to_string()),
            mtime: None,
            walked: true,
        };
        assert_eq!(judge(&src(&bin)), Some(Skip::Binary));
        let sparse = dir.path().join("lastlog");
        let f = std::fs::File::create(&sparse).unwrap();
        f.set_len(1 << 30).unwrap();
        assert!(matches!(judge(&src(&sparse)), Some(Skip::Sparse { .. })));
    }
}
