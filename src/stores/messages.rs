//! Stored messages: mbox (plain or `.gz`), Maildir and single `.eml` files, read for their
//! header blocks only.
//!
//! A mailbox can be many gigabytes of bodies around a few kilobytes of headers. The mbox
//! reader owns its buffer (ripgrep style): it copies header lines out, then skips the body
//! with `memmem` to the next `\nFrom ` and only inspects the line before a candidate, so
//! memory is bounded by the buffer plus one header block, whatever the mailbox size.
//! Store scans read an mbox through [`crate::stores::mbox`] instead (blocks split into
//! messages on the rayon pool), which gives the same messages; this reader is its
//! reference in the tests and takes over for a message too large for a block.
//!
//! Separators follow mboxo/mboxrd: a line starting with `From ` separates messages, and
//! body lines that started with `From ` were written as `>From ` and so never split. A
//! `From ` line only separates when the line before it is empty (or it starts the file),
//! as mutt and most readers require, so an unescaped `From ` inside a paragraph of a
//! broken mailbox does not cut a message in two.

use std::collections::VecDeque;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memchr::memmem;

use crate::input::{self, SourceFile};
use crate::model::Source;
use crate::parse::headers;

/// Header blocks larger than this are cut (and flagged): real ones are a few KiB; a
/// larger one is a broken file whose "header" runs into its body.
pub const MAX_HEADER: usize = 1024 * 1024;
/// Bodies kept on request ([`Store::messages_keeping`]) are cut at this size: a TLS-RPT
/// report message is a few KiB, rarely a MiB.
pub const MAX_BODY: usize = 32 * 1024 * 1024;
const BUF_SIZE: usize = 256 * 1024;

/// What a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An mbox (possibly gzip-compressed): first line starts with `From `.
    Mbox,
    /// A single message: first line is a header field and a common field follows.
    Eml,
    /// A Maildir: a directory with at least two of `cur/`, `new/`, `tmp/`.
    Maildir,
    /// Anything else (a log, a directory of logs).
    Other,
}

/// Header fields whose presence near the top makes a header-looking file a message rather
/// than a `key: value` configuration or log file.
const MESSAGE_FIELDS: &[&str] = &[
    "received",
    "return-path",
    "delivered-to",
    "from",
    "date",
    "message-id",
    "subject",
    "to",
    "x-original-to",
];

/// Decides what `path` holds by its first bytes (inflating gzip) or, for a directory, by
/// its subdirectories. Never reads more than the first 64 KiB.
pub fn detect(path: &Path) -> io::Result<Kind> {
    let meta = fs::metadata(path)?;
    if meta.is_dir() {
        return Ok(if is_maildir(path) {
            Kind::Maildir
        } else {
            Kind::Other
        });
    }
    let src = SourceFile {
        path: Some(path.to_path_buf()),
        display: Arc::from(path.display().to_string()),
        mtime: None,
        walked: false,
    };
    let mut head = Vec::with_capacity(8192);
    input::open(&src)?.take(64 * 1024).read_to_end(&mut head)?;
    Ok(detect_bytes(&head))
}

/// [`detect`] on the first bytes of a file.
pub fn detect_bytes(head: &[u8]) -> Kind {
    let first = head.split(|&b| b == b'\n').next().unwrap_or_default();
    if first.starts_with(b"From ") {
        // A From_ line usually carries a ctime-style date (`Fri Nov 27 01:12:44 2026`), but
        // Netscape/Thunderbird write `From - Sat Nov 28 …` or plain `From - `, and Google
        // Takeout `From 1844347792267117879@xxx Sat Nov 28 …` or no date at all: what makes
        // it a mailbox is a header block right after it. A text file that merely starts
        // with the word "From" has neither.
        let after = head.get(first.len() + 1..).unwrap_or_default();
        return if has_clock(first) || is_header_block(after) {
            Kind::Mbox
        } else {
            Kind::Other
        };
    }
    if is_header_block(head) {
        Kind::Eml
    } else {
        Kind::Other
    }
}

/// True when `head` starts with a header field and a common message field (Received:,
/// From:, Subject:, …) follows in the same block.
fn is_header_block(head: &[u8]) -> bool {
    let first = head.split(|&b| b == b'\n').next().unwrap_or_default();
    if !headers::is_field_start(first) {
        return false;
    }
    head.split(|&b| b == b'\n')
        .take(60)
        .take_while(|l| !l.is_empty() && *l != b"\r")
        .filter(|l| headers::is_field_start(l))
        .any(|l| {
            let name = l.split(|&b| b == b':').next().unwrap_or_default();
            let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
            MESSAGE_FIELDS.contains(&name.as_str())
        })
}

/// True when `line` holds an `HH:MM` time (the date of an mbox `From ` line).
fn has_clock(line: &[u8]) -> bool {
    line.windows(5).any(|w| {
        matches!(w, [a, b, b':', c, d] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() && d.is_ascii_digit())
    })
}

/// A Maildir has (at least two of) `cur/`, `new/` and `tmp/`.
pub fn is_maildir(dir: &Path) -> bool {
    ["cur", "new", "tmp"]
        .iter()
        .filter(|d| dir.join(d).is_dir())
        .count()
        >= 2
}

/// One message's header block and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The file and the line of the message's first header line (mbox), or line 1 of its
    /// own file (Maildir, `.eml`).
    pub source: Source,
    /// 1-based position of the message in its store.
    pub index: u64,
    /// The header block, without the mbox `From ` line and without the empty line that
    /// ends it.
    pub header: Vec<u8>,
    /// The header was larger than [`MAX_HEADER`] and was cut.
    pub truncated: bool,
    /// The body (after the empty line), only for messages whose header the store's
    /// `keep` test accepted ([`Store::messages_keeping`]); at most [`MAX_BODY`] bytes.
    pub body: Option<Vec<u8>>,
}

/// Decides from a header block whether a message's body is wanted.
pub type KeepBody = fn(&[u8]) -> bool;

/// Splits an mbox stream into messages, keeping only header blocks.
pub struct MboxReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// 1-based number of the line that starts at `start` (when not `mid_line`).
    line: u64,
    /// The line that ended just before `start` was empty (or `start` is the file start).
    prev_blank: bool,
    /// `start` is inside a line longer than the buffer.
    mid_line: bool,
    file: Arc<str>,
    index: u64,
    finder: memmem::Finder<'static>,
    keep: Option<KeepBody>,
}

impl<R: Read> MboxReader<R> {
    /// Reads the mbox `inner`, naming messages after `file`.
    pub fn new(inner: R, file: Arc<str>) -> MboxReader<R> {
        MboxReader::with_buffer(inner, file, BUF_SIZE)
    }

    /// Like [`MboxReader::new`] with a chosen buffer size (at least 16 bytes); tests use
    /// tiny buffers to put separators across buffer boundaries.
    pub fn with_buffer(inner: R, file: Arc<str>, size: usize) -> MboxReader<R> {
        MboxReader {
            inner,
            buf: vec![0; size.max(16)],
            start: 0,
            end: 0,
            eof: false,
            line: 1,
            prev_blank: true,
            mid_line: false,
            file,
            index: 0,
            finder: memmem::Finder::new(b"\nFrom "),
            keep: None,
        }
    }

    /// Keeps the body of the messages whose header `keep` accepts (others are still
    /// skipped without copying).
    pub fn keeping(mut self, keep: KeepBody) -> MboxReader<R> {
        self.keep = Some(keep);
        self
    }

    /// Starts the line count at `line` instead of 1: the stream starts at a separator on
    /// that line of the file ([`crate::stores::mbox`] hands the rest of a file here when a
    /// message is too large for its blocks).
    pub fn resume_at(mut self, line: u64) -> MboxReader<R> {
        self.line = line;
        self
    }

    /// The 1-based number of the line being read (where a read error happened).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Copies the body up to the next separator, at most [`MAX_BODY`] bytes.
    fn take_body(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            if self.prev_blank && self.at_from()? {
                break;
            }
            if self.take_line(Some(&mut body), MAX_BODY)?.is_none() {
                break;
            }
        }
        Ok(body)
    }

    /// Makes at least `n` bytes available unless the stream ends first; returns how many
    /// are available.
    fn fill(&mut self, n: usize) -> io::Result<usize> {
        while self.end - self.start < n && !self.eof {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                // Only reached when `n` exceeds the buffer; callers ask for a few bytes.
                let len = self.buf.len();
                self.buf.resize(len * 2, 0);
            }
            let dst = self.buf.get_mut(self.end..).unwrap_or_default();
            match self.inner.read(dst) {
                Ok(0) => self.eof = true,
                Ok(got) => self.end += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start)
    }

    fn window(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// True when the line at `start` begins with `From `.
    fn at_from(&mut self) -> io::Result<bool> {
        Ok(self.fill(5)? >= 5 && self.window().starts_with(b"From "))
    }

    /// Consumes one line, appending it (with its newline) to `out` up to `cap` bytes.
    /// Returns `None` at end of input, else whether the line was empty and whether it was
    /// cut by `cap`.
    fn take_line(
        &mut self,
        mut out: Option<&mut Vec<u8>>,
        cap: usize,
    ) -> io::Result<Option<(bool, bool)>> {
        let mut len = 0usize;
        let mut only_cr = true;
        let mut cut = false;
        loop {
            if self.start == self.end && self.fill(1)? == 0 {
                self.prev_blank = len == 0 || only_cr && len == 1;
                return Ok((len > 0).then_some((self.prev_blank, cut)));
            }
            let hay = self.window();
            let (piece, done) = match memchr::memchr(b'\n', hay) {
                Some(i) => (hay.get(..=i).unwrap_or_default(), true),
                None => (hay, false),
            };
            let content = if done {
                piece
                    .get(..piece.len().saturating_sub(1))
                    .unwrap_or_default()
            } else {
                piece
            };
            if content.iter().any(|&b| b != b'\r') {
                only_cr = false;
            }
            len += content.len();
            if let Some(o) = out.as_deref_mut() {
                let room = cap.saturating_sub(o.len());
                if piece.len() > room {
                    cut = true;
                }
                o.extend_from_slice(piece.get(..piece.len().min(room)).unwrap_or_default());
            }
            let n = piece.len();
            self.start += n;
            if done {
                self.line += 1;
                self.prev_blank = len == 0 || (only_cr && len == 1);
                return Ok(Some((self.prev_blank, cut)));
            }
        }
    }

    /// Skips to the next separator (a `From ` line after an empty line) or the end,
    /// counting lines, without copying.
    fn skip_body(&mut self) -> io::Result<()> {
        loop {
            let avail = self.fill(6)?;
            if avail == 0 {
                return Ok(());
            }
            if self.mid_line {
                let hay = self.window();
                match memchr::memchr(b'\n', hay) {
                    Some(i) => {
                        self.start += i + 1;
                        self.line += 1;
                        self.mid_line = false;
                        self.prev_blank = false;
                    }
                    None => self.start = self.end,
                }
                continue;
            }
            if self.prev_blank && self.at_from()? {
                return Ok(());
            }
            let hay = self.window();
            let cut = match self.finder.find(hay) {
                Some(i) => Some(i),
                None => memchr::memrchr(b'\n', hay),
            };
            match cut {
                Some(i) => {
                    let before = hay.get(..i).unwrap_or_default();
                    let line_start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
                    let last = before.get(line_start..).unwrap_or_default();
                    // `start` is always a line start here, so `last` is a whole line.
                    let blank = last.is_empty() || last == b"\r";
                    let lines =
                        memchr::memchr_iter(b'\n', hay.get(..=i).unwrap_or_default()).count();
                    self.start += i + 1;
                    self.line += lines as u64;
                    self.prev_blank = blank;
                }
                None => {
                    // A line longer than the window: drop what we have of it.
                    self.start = self.end;
                    self.mid_line = true;
                    self.prev_blank = false;
                }
            }
        }
    }

    /// The next message's header block, or `None` at the end of the mailbox.
    pub fn next_message(&mut self) -> io::Result<Option<RawMessage>> {
        // Find a separator: normally right here; junk before the first one is skipped.
        loop {
            if self.fill(1)? == 0 {
                return Ok(None);
            }
            if !self.mid_line && self.prev_blank && self.at_from()? {
                self.take_line(None, 0)?;
                break;
            }
            self.skip_body()?;
        }
        self.index += 1;
        let first_line = self.line;
        let mut header = Vec::new();
        let mut truncated = false;
        loop {
            // A message without body and without its empty line: the next separator ends it.
            if self.at_from()? {
                self.prev_blank = true;
                break;
            }
            let before = header.len();
            match self.take_line(Some(&mut header), MAX_HEADER)? {
                None => break,
                Some((true, _)) => {
                    // The empty line ends the block and is not part of it.
                    header.truncate(before);
                    break;
                }
                Some((false, cut)) => truncated |= cut,
            }
        }
        let body = match self.keep {
            Some(keep) if keep(&header) => Some(self.take_body()?),
            _ => {
                self.skip_body()?;
                None
            }
        };
        Ok(Some(RawMessage {
            source: Source {
                file: Arc::clone(&self.file),
                line: first_line,
            },
            index: self.index,
            header,
            truncated,
            body,
        }))
    }
}

/// Reads the header block of one message file (Maildir entry, `.eml`), up to the empty
/// line, at most [`MAX_HEADER`] bytes.
pub fn read_header(r: impl Read) -> io::Result<(Vec<u8>, bool)> {
    header_of(&mut BufReader::new(r))
}

/// Reads one message file: its header block, and its body (at most [`MAX_BODY`] bytes)
/// when `keep` accepts the header.
pub fn read_file_message(
    r: impl Read,
    keep: Option<KeepBody>,
) -> io::Result<(Vec<u8>, bool, Option<Vec<u8>>)> {
    let mut r = BufReader::new(r);
    let (header, truncated) = header_of(&mut r)?;
    let body = match keep {
        Some(k) if !truncated && k(&header) => {
            let mut b = Vec::new();
            r.take(MAX_BODY as u64).read_to_end(&mut b)?;
            Some(b)
        }
        _ => None,
    };
    Ok((header, truncated, body))
}

fn header_of(r: &mut impl BufRead) -> io::Result<(Vec<u8>, bool)> {
    let mut header = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r
            .by_ref()
            .take((MAX_HEADER + 1 - header.len().min(MAX_HEADER)) as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok((header, false));
        }
        if line == b"\n" || line == b"\r\n" {
            return Ok((header, false));
        }
        if header.len() + line.len() > MAX_HEADER {
            let room = MAX_HEADER - header.len();
            header.extend_from_slice(line.get(..room).unwrap_or_default());
            return Ok((header, true));
        }
        header.extend_from_slice(&line);
    }
}

/// A place messages are stored, found next to logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub path: PathBuf,
    pub kind: Kind,
}

impl Store {
    /// The name used in `Source`s.
    pub fn display(&self) -> Arc<str> {
        Arc::from(self.path.display().to_string())
    }

    /// Iterates the store's messages in order (header blocks only).
    pub fn messages(&self) -> io::Result<Messages> {
        self.messages_with(None)
    }

    /// Like [`Store::messages`], also keeping the body of the messages whose header
    /// `keep` accepts (TLS-RPT reports, whose content is in the body).
    pub fn messages_keeping(&self, keep: KeepBody) -> io::Result<Messages> {
        self.messages_with(Some(keep))
    }

    fn messages_with(&self, keep: Option<KeepBody>) -> io::Result<Messages> {
        let inner = match self.kind {
            Kind::Mbox => {
                let src = SourceFile {
                    path: Some(self.path.clone()),
                    display: self.display(),
                    mtime: None,
                    walked: false,
                };
                let mut r = MboxReader::new(input::open(&src)?, self.display());
                r.keep = keep;
                Inner::Mbox(Box::new(r))
            }
            Kind::Eml => Inner::Files(VecDeque::from([self.path.clone()]), 0),
            Kind::Maildir => Inner::Files(maildir_files(&self.path)?.into(), 0),
            Kind::Other => Inner::Files(VecDeque::new(), 0),
        };
        Ok(Messages { inner, keep })
    }
}

/// The message files of one Maildir: `cur/` then `new/`, each sorted by name (Maildir
/// names start with the delivery time). `tmp/` is left out on purpose: it holds deliveries
/// still being written, which are neither complete nor delivered.
pub fn maildir_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for sub in ["cur", "new"] {
        let d = dir.join(sub);
        if !d.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = fs::read_dir(&d)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

enum Inner {
    Mbox(Box<MboxReader<Box<dyn Read + Send>>>),
    Files(VecDeque<PathBuf>, u64),
}

/// The messages of a [`Store`]. An I/O error on one Maildir file is returned as an item
/// and iteration goes on; an mbox read error ends the iteration after reporting it.
pub struct Messages {
    inner: Inner,
    keep: Option<KeepBody>,
}

/// A message that could not be read, with where it was.
#[derive(Debug)]
pub struct MessageError {
    pub source: Source,
    pub error: io::Error,
}

impl std::fmt::Display for MessageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.error)
    }
}

impl Iterator for Messages {
    type Item = Result<RawMessage, MessageError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Mbox(r) => match r.next_message() {
                Ok(m) => m.map(Ok),
                Err(error) => {
                    let source = Source {
                        file: Arc::clone(&r.file),
                        line: r.line,
                    };
                    self.inner = Inner::Files(VecDeque::new(), 0);
                    Some(Err(MessageError { source, error }))
                }
            },
            Inner::Files(files, index) => {
                let path = files.pop_front()?;
                *index += 1;
                let source = Source {
                    file: Arc::from(path.display().to_string()),
                    line: 1,
                };
                let src = SourceFile {
                    path: Some(path.clone()),
                    display: Arc::clone(&source.file),
                    mtime: None,
                    walked: false,
                };
                let keep = self.keep;
                let read = input::open(&src).and_then(|r| read_file_message(r, keep));
                Some(match read {
                    Ok((header, truncated, body)) => Ok(RawMessage {
                        source,
                        index: *index,
                        header,
                        truncated,
                        body,
                    }),
                    Err(error) => Err(MessageError { source, error }),
                })
            }
        }
    }
}

/// Sorts command-line inputs into message stores and everything else: directories are
/// walked (hidden Maildir++ folders such as `.Sent` included), Maildirs become one store
/// each, files are detected by content. Paths under a Maildir never count as logs.
pub fn find_stores(paths: &[PathBuf]) -> Vec<Store> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            continue;
        }
        walk(p, &mut out, 0);
    }
    // The same store named twice (or inside a directory also given) is read once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|s| seen.insert(fs::canonicalize(&s.path).unwrap_or_else(|_| s.path.clone())));
    out
}

fn walk(p: &Path, out: &mut Vec<Store>, depth: usize) {
    if depth > 32 {
        return;
    }
    match detect(p) {
        Ok(Kind::Maildir) => {
            out.push(Store {
                path: p.to_path_buf(),
                kind: Kind::Maildir,
            });
            // Maildir++ subfolders live inside the root as `.Name/`.
            walk_children(p, out, depth, true);
        }
        Ok(Kind::Other) if p.is_dir() => walk_children(p, out, depth, false),
        Ok(kind @ (Kind::Mbox | Kind::Eml)) => out.push(Store {
            path: p.to_path_buf(),
            kind,
        }),
        _ => {}
    }
}

fn walk_children(dir: &Path, out: &mut Vec<Store>, depth: usize, maildir_root: bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for c in paths {
        let name = c
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if maildir_root {
            if name.starts_with('.') && c.is_dir() && is_maildir(&c) {
                walk(&c, out, depth + 1);
            }
            continue;
        }
        if name.starts_with('.') && !(c.is_dir() && is_maildir(&c)) {
            continue;
        }
        walk(&c, out, depth + 1);
    }
}

/// The command line's inputs split into logs and message stores, as `scan` and `events`
/// both read them: stores are found first ([`find_stores`]) so that their files never
/// reach the log parser, and an empty directory inside a store (a Maildir's `tmp/`) is not
/// an error worth reporting.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Log files (and stdin), without any file of a store.
    pub logs: Vec<crate::input::SourceFile>,
    pub stores: Vec<Store>,
    /// What could not be listed or read, for the user.
    pub errors: Vec<crate::input::DiscoverError>,
    /// Files found by a directory walk and not read, with why ([`crate::input::sniff`]): one
    /// note each for the summary.
    pub skipped: Vec<(Arc<str>, crate::input::sniff::Skip)>,
}

/// Splits `paths` into [`Inputs`], skipping walked files that are no mail log.
pub fn split_inputs(paths: &[PathBuf]) -> Inputs {
    split_inputs_with(paths, true)
}

/// [`split_inputs`]; with `skip` false (`--no-skip`) every walked file is read.
pub fn split_inputs_with(paths: &[PathBuf], skip: bool) -> Inputs {
    let stores = find_stores(paths);
    let (mut logs, mut errors) = crate::input::discover(paths);
    errors.retain(|e| {
        !matches!(e, crate::input::DiscoverError::EmptyDir { path } if belongs_to_store(path, &stores))
    });
    logs.retain(|s| {
        s.path
            .as_deref()
            .is_none_or(|p| !belongs_to_store(p, &stores))
    });
    let mut skipped = Vec::new();
    if skip {
        logs.retain(|s| {
            if !s.walked {
                return true;
            }
            match crate::input::sniff::judge(s) {
                Some(why) => {
                    skipped.push((Arc::clone(&s.display), why));
                    false
                }
                None => true,
            }
        });
    }
    Inputs {
        logs,
        stores,
        errors,
        skipped,
    }
}

/// One note per walked file left unread (stderr), naming the flag that reads it.
pub fn note_skipped(skipped: &[(Arc<str>, crate::input::sniff::Skip)]) {
    for (file, why) in skipped {
        eprintln!(
            "mailtls: note: {}: skipped: {why} (read when named, or with --no-skip)",
            crate::model::text::terminal(file)
        );
    }
}

/// True when `file` is one of the stores or lies inside a Maildir store.
pub fn belongs_to_store(file: &Path, stores: &[Store]) -> bool {
    stores.iter().any(|s| match s.kind {
        Kind::Maildir => file.starts_with(&s.path),
        _ => file == s.path,
    })
}

/// True when a message header announces a TLS-RPT report (RFC 8460 §5.3): the
/// `report-type=tlsrpt` content type, a `TLS-Report-Domain:` field, or a report media type
/// sent as a single part.
///
/// Every header of an mbox passes here, so it is one lower-cased byte copy and two SIMD
/// substring searches: every needle holds `tlsrpt` or is `tls-report-domain:`. The
/// needles are ASCII, so no UTF-8 decoding is needed.
pub fn is_report_header(header: &[u8]) -> bool {
    use memchr::memmem;
    static TLS: std::sync::LazyLock<memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memmem::Finder::new("tls"));
    // The lower-cased copy goes to a buffer kept per thread: this runs for every message
    // of a store on the pool, and a fresh allocation each time showed in profiles.
    thread_local! {
        static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    LOWER.with(|buf| match buf.try_borrow_mut() {
        Ok(mut h) => {
            h.clear();
            h.extend(header.iter().map(u8::to_ascii_lowercase));
            report_at_tls(&h, &TLS)
        }
        Err(_) => report_at_tls(&header.to_ascii_lowercase(), &TLS),
    })
}

/// [`is_report_header`] on an already lower-cased header, by one search: both marks
/// start with `tls`, so each `tls` found is tested for either (the word cannot overlap
/// itself, so the search meets every occurrence of both).
///
/// Why: the two searches it replaces ([`report_in_lowered`], the oracle of
/// `one_search_is_two`) each walked the whole header of every message of a store scan
/// (issue 21); a header holds a few `tls` (its stamps' TLS words) and is walked once.
fn report_at_tls(h: &[u8], tls: &memmem::Finder<'_>) -> bool {
    tls.find_iter(h).any(|at| {
        let before = h.get(..at).unwrap_or_default();
        let from = h.get(at..).unwrap_or_default();
        if let Some(after) = from.strip_prefix(b"tlsrpt") {
            before.ends_with(b"report-type=")
                || (before.ends_with(b"report-type=\"") && after.starts_with(b"\""))
                || (before.ends_with(b"application/") && after.starts_with(b"+"))
        } else {
            // `TLS-Report-Domain:` counts only as a field name: at the start or after a
            // newline.
            from.starts_with(b"tls-report-domain:") && (at == 0 || before.ends_with(b"\n"))
        }
    })
}

/// [`is_report_header`] on an already lower-cased header, one search for each mark (the
/// oracle of [`report_at_tls`]).
#[cfg(test)]
fn report_in_lowered(h: &[u8], tlsrpt: &memmem::Finder<'_>, domain: &memmem::Finder<'_>) -> bool {
    let named = tlsrpt.find_iter(h).any(|at| {
        let before = h.get(..at).unwrap_or_default();
        let after = h.get(at + "tlsrpt".len()..).unwrap_or_default();
        before.ends_with(b"report-type=")
            || (before.ends_with(b"report-type=\"") && after.starts_with(b"\""))
            || (before.ends_with(b"application/") && after.starts_with(b"+"))
    });
    // `TLS-Report-Domain:` counts only as a field name: at the start or after a newline.
    named
        || domain
            .find_iter(h)
            .any(|at| at == 0 || h.get(at - 1) == Some(&b'\n'))
}

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
