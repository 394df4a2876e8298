//! Following a log file by name through rotation, like `tail -F`.
//!
//! A [`Follower`] watches one *path*, not one open file: the file behind the name changes
//! when logrotate renames it away and creates a new one, or empties it in place
//! (`copytruncate`), and the name may be missing for a while. The follower keeps an open
//! descriptor on the file it is reading and the file's identity (device, inode), and on
//! every wake-up compares it with what the path names now:
//!
//! * **same identity, grown**: read the new whole lines;
//! * **same identity, shorter than what was read**: `copytruncate` emptied it; start again
//!   at offset 0. (A file truncated *and* refilled past the old offset between two looks
//!   cannot be told from growth — the limit every `tail -F` has; lines written between
//!   logrotate's copy and its truncate are lost by logrotate itself.)
//! * **another identity**: the old file was renamed (or removed) and a new one created.
//!   The old file is *finished first*: syslog daemons keep writing to it until they reopen
//!   (after logrotate's HUP), so the follower keeps reading the old descriptor as long as
//!   the new file is empty, and switches only once the new file has data — by then the
//!   writer has reopened and the old file is final. Its last unterminated line, if any,
//!   is handed out then. The new file is read from offset 0.
//! * **missing**: the old descriptor is still read (a renamed file may still be written);
//!   the first file to appear under the name is read from offset 0.
//!
//! Wake-ups come from inotify through the `notify` crate, watching the *directory* (so
//! that renames and creations are seen even while the name is missing). When inotify is
//! not available (too many watches, a file system without it, `--poll`), or the directory
//! itself is missing, the follower looks every poll interval instead. There is no busy
//! loop: between events the thread sleeps in a channel receive.
//!
//! Only whole lines are handed out, as [`Block`]s with their line numbers, so the parse
//! stage sees exactly what it sees for a file at rest. A [`Checkpoint`] (identity, offset
//! of the next unread line, its number) lets a restarted follower resume exactly there,
//! even when the file was rotated meanwhile: the checkpointed file is looked up by
//! identity among its rotated siblings, finished, and the newer ones are read in rotation
//! order before the live file.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};
use serde::{Deserialize, Serialize};

use super::{Block, DEFAULT_MAX_LINE, rotation_key};

/// Which file a descriptor is on: device and inode, the only identity that survives a
/// rename and tells a re-created file from the old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
}

impl Identity {
    pub fn of(m: &fs::Metadata) -> Identity {
        Identity {
            dev: m.dev(),
            ino: m.ino(),
        }
    }
}

/// Where a follower stopped: the file's identity, the byte offset of the first line not
/// yet handed out, and that line's number minus one. Written by `--state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub dev: u64,
    pub ino: u64,
    pub offset: u64,
    /// Lines of the file before `offset`.
    pub line: u64,
}

impl Checkpoint {
    pub fn identity(&self) -> Identity {
        Identity {
            dev: self.dev,
            ino: self.ino,
        }
    }
}

/// Where to begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At the end of the file as it is now (after its last whole line), like `tail -F`.
    End,
    /// At the first line (`--from-start`).
    Beginning,
    /// Where a previous run stopped.
    Resume(Checkpoint),
}

/// How to follow.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    pub start: Start,
    /// Never use inotify; look every `poll_interval`.
    pub force_poll: bool,
    /// How often to look when polling.
    pub poll_interval: Duration,
    /// With inotify: how often to look anyway, for changes no event reports (the
    /// directory replaced, a file renamed into another directory and still written).
    pub safety_interval: Duration,
    /// Lines longer than this are skipped and counted.
    pub max_line: usize,
    /// Bytes before the starting point handed out as [`Chunk::Warmup`], so that sessions
    /// that began just before the start are known to the correlation.
    pub warmup_bytes: u64,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            start: Start::End,
            force_poll: false,
            poll_interval: Duration::from_millis(250),
            safety_interval: Duration::from_secs(2),
            max_line: DEFAULT_MAX_LINE,
            warmup_bytes: 1 << 20,
        }
    }
}

/// Something the user may want to know about the followed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Reading `path` from `offset` (line `line + 1`).
    Reading { offset: u64, line: u64 },
    /// The name now points to a new file; the old one was read to its end.
    Rotated,
    /// The file got shorter than what was read (copytruncate); reading again from 0.
    Truncated,
    /// The name is missing; still reading the old file if one is open.
    Missing,
    /// A file appeared under the name; reading it from the beginning.
    Appeared,
    /// Resuming a checkpointed file found under another name (rotated while we were down).
    ResumedRotated { path: PathBuf },
    /// The checkpointed file is gone (compressed or deleted): its unread rest is lost.
    ResumeLost,
    /// inotify could not be used; polling instead.
    Polling { reason: String },
    /// An I/O error (reported once until it changes); the follower keeps trying.
    Error(String),
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Reading { offset, line } => {
                write!(f, "reading from byte {offset} (line {})", line + 1)
            }
            Notice::Rotated => write!(f, "rotated: old file finished, reading the new one"),
            Notice::Truncated => write!(f, "truncated (copytruncate): reading from the start"),
            Notice::Missing => write!(f, "missing; waiting for it to appear"),
            Notice::Appeared => write!(f, "appeared; reading from the start"),
            Notice::ResumedRotated { path } => {
                write!(f, "resuming in rotated file {}", path.display())
            }
            Notice::ResumeLost => write!(
                f,
                "the checkpointed file is gone (compressed or deleted); lines after the checkpoint in it are lost, reading the current file from the start"
            ),
            Notice::Polling { reason } => write!(f, "polling for changes ({reason})"),
            Notice::Error(e) => write!(f, "{e}"),
        }
    }
}

/// One piece of what a look at the file found, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Lines before the starting point, for context only (not to be reported).
    Warmup(Block),
    /// New whole lines.
    Lines(Block),
    Notice(Notice),
}

/// Wakes a follower waiting for changes (used by signal handlers to stop promptly).
#[derive(Debug, Clone)]
pub struct Waker(SyncSender<()>);

impl Waker {
    pub fn wake(&self) {
        match self.0.try_send(()) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// The file being read.
struct Open {
    file: File,
    id: Identity,
    /// Bytes read from the file.
    pos: u64,
    /// Offset of the first byte after the last newline (where the next line starts).
    line_start: u64,
    /// Lines completed so far.
    line: u64,
    carry: Vec<u8>,
    /// Inside an over-long line: drop bytes up to the next newline.
    skipping: bool,
    /// A rotated file read from a restart's backlog: finished at its end.
    backlog: bool,
    /// The last bytes read (ending at `pos`), to recognise a file truncated and refilled
    /// past `pos` between two looks.
    tail: Vec<u8>,
}

/// Bytes kept in [`Open::tail`]: enough that refilled log lines (other stamps, pids,
/// queue ids) never match by chance.
const TAIL: usize = 64;

/// True when the open file no longer holds what was read from it: it is shorter than the
/// offset read (copytruncate), or the bytes before the offset changed (truncated and
/// written past the old offset before this look — the case a size check alone misses,
/// typically with polling).
fn truncated(o: &Open) -> io::Result<bool> {
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

/// Follows one path; see the module documentation.
pub struct Follower {
    path: PathBuf,
    opts: FollowOptions,
    cur: Option<Open>,
    /// Rotated files still to read before the live name (after a resume).
    backlog: VecDeque<PathBuf>,
    /// Whether the first open is still to come (it obeys `opts.start`).
    first: bool,
    missing_told: bool,
    last_error: Option<String>,
    rx: Receiver<()>,
    tx: SyncSender<()>,
    watcher: Option<notify::RecommendedWatcher>,
    /// Notices produced outside a look (watcher set-up), handed out with the next one.
    queued: Vec<Chunk>,
    last_watch_try: Instant,
}

/// How often to try inotify again while polling because it could not be set up.
const WATCH_RETRY: Duration = Duration::from_secs(5);

/// Bytes read per `read` call.
const READ_SIZE: usize = 64 * 1024;
/// Bytes handed out per look at most, so that a huge backlog streams in pieces.
const MAX_BATCH: usize = 4 << 20;

impl Follower {
    /// Starts following `path`. Never fails: a missing file or an unusable inotify are
    /// reported as [`Notice`]s and dealt with as the module documentation says.
    pub fn new(path: impl Into<PathBuf>, opts: FollowOptions) -> Follower {
        let (tx, rx) = mpsc::sync_channel(1);
        let mut f = Follower {
            path: path.into(),
            opts,
            cur: None,
            backlog: VecDeque::new(),
            first: true,
            missing_told: false,
            last_error: None,
            rx,
            tx,
            watcher: None,
            queued: Vec::new(),
            last_watch_try: Instant::now(),
        };
        if f.opts.force_poll {
            f.queued.push(Chunk::Notice(Notice::Polling {
                reason: "--poll".into(),
            }));
        } else {
            f.try_watch();
        }
        f
    }

    /// A handle that interrupts [`Follower::wait`] from another thread.
    pub fn waker(&self) -> Waker {
        Waker(self.tx.clone())
    }

    /// True while inotify events wake the follower (false: polling).
    pub fn is_watching(&self) -> bool {
        self.watcher.is_some()
    }

    /// The position to save so that a restart resumes after the last line handed out.
    /// `None` before a file was opened.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.cur.as_ref().map(|o| Checkpoint {
            dev: o.id.dev,
            ino: o.id.ino,
            offset: o.line_start,
            line: o.line,
        })
    }

    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn base_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Watches the directory of the path with inotify; on failure the follower polls.
    fn try_watch(&mut self) {
        let tx = self.tx.clone();
        let base = self.base_name();
        let handler = move |res: notify::Result<notify::Event>| {
            // Only changes to our file or its rotated siblings wake us; a busy /var/log
            // should not.
            let relevant = match &res {
                Ok(ev) => {
                    ev.paths.is_empty()
                        || ev.paths.iter().any(|p| {
                            p.file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with(&base))
                        })
                }
                Err(_) => true,
            };
            if relevant {
                let _ = tx.try_send(());
            }
        };
        let dir = self.dir();
        self.last_watch_try = Instant::now();
        let result = notify::recommended_watcher(handler).and_then(|mut w| {
            w.watch(&dir, RecursiveMode::NonRecursive)?;
            Ok(w)
        });
        match result {
            Ok(w) => self.watcher = Some(w),
            Err(e) => {
                self.watcher = None;
                self.queued.push(Chunk::Notice(Notice::Polling {
                    reason: format!("cannot watch {}: {e}", dir.display()),
                }));
            }
        }
    }

    /// Sleeps until something may have changed (an inotify event, a [`Waker`]) or
    /// `timeout` passes, whichever comes first. Polling shortens the wait to the poll
    /// interval.
    pub fn wait(&mut self, timeout: Duration) {
        let interval = if self.watcher.is_some() {
            self.opts.safety_interval
        } else {
            self.opts.poll_interval
        };
        match self.rx.recv_timeout(timeout.min(interval)) {
            Ok(()) => while self.rx.try_recv().is_ok() {},
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
        }
        // A directory that did not exist is watched once it is there (tried every few
        // seconds: each try costs an inotify instance and a thread).
        if self.watcher.is_none()
            && !self.opts.force_poll
            && self.last_watch_try.elapsed() >= WATCH_RETRY
            && self.dir().is_dir()
        {
            let told = self.queued.len();
            self.try_watch();
            self.queued.truncate(told); // already said we poll; no repeat
        }
    }

    /// Looks at the file now and returns what changed: new lines and notices, in order.
    /// Empty when nothing happened. Call [`Follower::wait`] between looks.
    pub fn poll(&mut self) -> Vec<Chunk> {
        let mut out = std::mem::take(&mut self.queued);
        match self.look(&mut out) {
            Ok(()) => self.last_error = None,
            Err(e) => {
                let msg = format!("{}: {e}", self.path.display());
                if self.last_error.as_deref() != Some(&msg) {
                    out.push(Chunk::Notice(Notice::Error(msg.clone())));
                    self.last_error = Some(msg);
                }
            }
        }
        out
    }

    fn look(&mut self, out: &mut Vec<Chunk>) -> io::Result<()> {
        if self.first {
            // Retried on the next look if it fails (a permission fixed later still
            // starts where `opts.start` says).
            self.open_first(out)?;
            self.first = false;
        }
        // Bounded: each pass either returns or moves to another file or offset.
        for _ in 0..16 {
            let Some(cur) = self.cur.as_mut() else {
                match File::open(&self.path) {
                    Ok(file) => {
                        let m = file.metadata()?;
                        self.missing_told = false;
                        out.push(Chunk::Notice(Notice::Appeared));
                        self.cur = Some(open_at(file, &m, 0, 0));
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        self.tell_missing(out);
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
            };
            if truncated(cur)? {
                out.push(Chunk::Notice(Notice::Truncated));
                cur.file.seek(SeekFrom::Start(0))?;
                let m = cur.file.metadata()?;
                let backlog = cur.backlog;
                *cur = open_at(cur.file.try_clone()?, &m, 0, 0);
                cur.backlog = backlog;
            }
            let full = drain(cur, self.opts.max_line, out)?;
            if full {
                return Ok(()); // more next time; the caller processes this much first
            }
            if cur.backlog {
                finish(cur, out);
                self.cur = None;
                self.next_from_backlog(out)?;
                continue;
            }
            match fs::metadata(&self.path) {
                Ok(m) if Identity::of(&m) == cur.id => {
                    // A truncation from now on is seen by the next look, before it reads.
                    self.missing_told = false;
                    return Ok(());
                }
                Ok(m) => {
                    if m.len() == 0 {
                        // The writer has not reopened yet: it may still write to the old
                        // file. Keep reading that one until the new one gets data.
                        return Ok(());
                    }
                    while drain(cur, self.opts.max_line, out)? {}
                    finish(cur, out);
                    out.push(Chunk::Notice(Notice::Rotated));
                    self.missing_told = false;
                    self.cur = match File::open(&self.path) {
                        Ok(file) => {
                            let m = file.metadata()?;
                            Some(open_at(file, &m, 0, 0))
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                        Err(e) => return Err(e),
                    };
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.tell_missing(out);
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn tell_missing(&mut self, out: &mut Vec<Chunk>) {
        if !self.missing_told {
            self.missing_told = true;
            out.push(Chunk::Notice(Notice::Missing));
        }
    }

    fn next_from_backlog(&mut self, out: &mut Vec<Chunk>) -> io::Result<()> {
        while let Some(p) = self.backlog.pop_front() {
            match File::open(&p) {
                Ok(file) => {
                    let m = file.metadata()?;
                    let mut o = open_at(file, &m, 0, 0);
                    o.backlog = true;
                    out.push(Chunk::Notice(Notice::ResumedRotated { path: p }));
                    self.cur = Some(o);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
        // Then the live name, from its start: it was created after the checkpoint.
        match File::open(&self.path) {
            Ok(file) => {
                let m = file.metadata()?;
                out.push(Chunk::Notice(Notice::Rotated));
                self.cur = Some(open_at(file, &m, 0, 0));
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The first open, as `opts.start` says.
    fn open_first(&mut self, out: &mut Vec<Chunk>) -> io::Result<()> {
        if let Start::Resume(cp) = self.opts.start {
            return self.resume(cp, out);
        }
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let m = file.metadata()?;
        let (offset, line) = match self.opts.start {
            Start::End => {
                let (start, lines) = end_of_last_line(&file, m.len())?;
                (start, lines)
            }
            _ => (0, 0),
        };
        self.start_at(file, &m, offset, line, out)
    }

    /// Opens `file` at (`offset`, `line`), handing out up to `warmup_bytes` of the lines
    /// before it as warm-up.
    fn start_at(
        &mut self,
        mut file: File,
        m: &fs::Metadata,
        offset: u64,
        line: u64,
        out: &mut Vec<Chunk>,
    ) -> io::Result<()> {
        let mut tail = Vec::new();
        if offset > 0 && self.opts.warmup_bytes > 0 {
            let from = offset.saturating_sub(self.opts.warmup_bytes);
            let mut buf = vec![0u8; usize::try_from(offset - from).unwrap_or(0)];
            file.seek(SeekFrom::Start(from))?;
            file.read_exact(&mut buf)?;
            // Start at a line boundary: drop the partial first line unless at 0.
            let skip = if from == 0 {
                0
            } else {
                memchr::memchr(b'\n', &buf).map_or(buf.len(), |i| i + 1)
            };
            tail = buf
                .get(buf.len().saturating_sub(TAIL)..)
                .unwrap_or_default()
                .to_vec();
            let data = buf.split_off(skip);
            let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
            if !data.is_empty() {
                out.push(Chunk::Warmup(Block {
                    first_line: line.saturating_sub(lines) + 1,
                    data,
                    skipped_long_lines: 0,
                }));
            }
        }
        file.seek(SeekFrom::Start(offset))?;
        out.push(Chunk::Notice(Notice::Reading { offset, line }));
        let mut o = open_at(file, m, offset, line);
        o.tail = tail;
        self.cur = Some(o);
        Ok(())
    }

    fn resume(&mut self, cp: Checkpoint, out: &mut Vec<Chunk>) -> io::Result<()> {
        let live = match File::open(&self.path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if let Some(file) = live {
            let m = file.metadata()?;
            if Identity::of(&m) == cp.identity() {
                if m.len() < cp.offset {
                    out.push(Chunk::Notice(Notice::Truncated));
                    return self.start_at(file, &m, 0, 0, out);
                }
                return self.start_at(file, &m, cp.offset, cp.line, out);
            }
        }
        // Rotated while we were down: find the file by identity among its siblings.
        let siblings = self.rotated_siblings();
        let found = siblings
            .iter()
            .position(|(_, m)| Identity::of(m) == cp.identity());
        match found {
            Some(i) => {
                let (p, m) = &siblings[i];
                let file = File::open(p)?;
                out.push(Chunk::Notice(Notice::ResumedRotated { path: p.clone() }));
                let (offset, line) = if m.len() < cp.offset {
                    (0, 0)
                } else {
                    (cp.offset, cp.line)
                };
                self.start_at(file, m, offset, line, out)?;
                if let Some(o) = self.cur.as_mut() {
                    o.backlog = true;
                }
                self.backlog = siblings[i + 1..].iter().map(|(p, _)| p.clone()).collect();
                Ok(())
            }
            None => {
                out.push(Chunk::Notice(Notice::ResumeLost));
                match File::open(&self.path) {
                    Ok(file) => {
                        let m = file.metadata()?;
                        self.start_at(file, &m, 0, 0, out)
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Plain (not compressed) rotated files of the path, oldest first: `mail.log.2`,
    /// `mail.log.1`, `maillog-20261127`. Compressed ones have new inodes and cannot be the
    /// checkpointed file.
    fn rotated_siblings(&self) -> Vec<(PathBuf, fs::Metadata)> {
        let base = self.base_name();
        // Only rotations of this log (`maillog.1`, `maillog-20261127`), not files that
        // merely share the prefix (`maillog.state`).
        let (_, live_base, _) = rotation_key(&self.path);
        let Ok(entries) = fs::read_dir(self.dir()) else {
            return Vec::new();
        };
        let mut v: Vec<(PathBuf, fs::Metadata)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let rotated = name.len() > base.len()
                    && name.starts_with(&base)
                    && !name.ends_with(".gz")
                    && !name.ends_with(".bz2")
                    && !name.ends_with(".xz")
                    && !name.ends_with(".zst");
                let p = e.path();
                let (_, b, (rank, _)) = rotation_key(&p);
                if !rotated || b != live_base || rank != 0 {
                    return None;
                }
                let m = fs::metadata(&p).ok().filter(fs::Metadata::is_file)?;
                Some((p, m))
            })
            .collect();
        v.sort_by_cached_key(|(p, _)| rotation_key(p));
        v
    }
}

fn open_at(file: File, m: &fs::Metadata, offset: u64, line: u64) -> Open {
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
fn end_of_last_line(file: &File, len: u64) -> io::Result<(u64, u64)> {
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
fn drain(o: &mut Open, max_line: usize, out: &mut Vec<Chunk>) -> io::Result<bool> {
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
fn finish(o: &mut Open, out: &mut Vec<Chunk>) {
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

/// Whole lines of a chunk list, for tests and simple consumers: `(line number, text)`.
pub fn lines_of(chunks: &[Chunk]) -> Vec<(u64, String)> {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::Lines(b) => Some(b),
            _ => None,
        })
        .flat_map(|b| {
            b.lines()
                .map(|(n, l)| (n, String::from_utf8_lossy(l).into_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::Path;

    fn append(p: &Path, text: &str) {
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn texts(chunks: &[Chunk]) -> Vec<String> {
        lines_of(chunks).into_iter().map(|(_, t)| t).collect()
    }

    fn notices(chunks: &[Chunk]) -> Vec<Notice> {
        chunks
            .iter()
            .filter_map(|c| match c {
                Chunk::Notice(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    fn opts(start: Start) -> FollowOptions {
        FollowOptions {
            start,
            force_poll: true,
            ..FollowOptions::default()
        }
    }

    #[test]
    fn starts_at_the_end_and_waits_for_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("maillog");
        append(&p, "old 1\nold 2\npart");
        let mut f = Follower::new(&p, opts(Start::End));
        let first = f.poll();
        assert_eq!(texts(&first), Vec::<String>::new());
        // The lines before the end are warm-up only.
        assert!(
            matches!(&first[1], Chunk::Warmup(b) if b.first_line == 1 && b.data == b"old 1\nold 2\n")
        );
        assert_eq!(
            notices(&first)[1],
            Notice::Reading {
                offset: 12,
                line: 2
            }
        );
        append(&p, "ial\nnew 4");
        let got = lines_of(&f.poll());
        assert_eq!(got, vec![(3, "partial".to_owned())]);
        append(&p, "\n");
        assert_eq!(lines_of(&f.poll()), vec![(4, "new 4".to_owned())]);
        assert_eq!(f.checkpoint().map(|c| (c.offset, c.line)), Some((26, 4)));
    }

    #[test]
    fn rotations_of_both_kinds_lose_and_repeat_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mail.log");
        let old = dir.path().join("mail.log.1");
        append(&p, "1\n");
        let mut f = Follower::new(&p, opts(Start::Beginning));
        let mut seen = texts(&f.poll());
        // rename-and-create, with the writer still writing to the renamed file until it
        // reopens: the follower stays on the old file while the new one is empty.
        append(&p, "2\n");
        fs::rename(&p, &old).unwrap();
        File::create(&p).unwrap();
        seen.extend(texts(&f.poll()));
        append(&old, "3\n");
        seen.extend(texts(&f.poll()));
        append(&old, "4 unterminated");
        append(&p, "5\n");
        let chunks = f.poll();
        assert!(notices(&chunks).contains(&Notice::Rotated));
        seen.extend(texts(&chunks));
        // copytruncate
        append(&p, "6\n");
        seen.extend(texts(&f.poll()));
        fs::copy(&p, dir.path().join("mail.log.2")).unwrap();
        fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&p, "7\n");
        let chunks = f.poll();
        assert!(notices(&chunks).contains(&Notice::Truncated));
        seen.extend(texts(&chunks));
        // missing for a while, then a new file
        append(&p, "8\n");
        fs::rename(&p, &old).unwrap();
        let chunks = f.poll();
        assert!(notices(&chunks).contains(&Notice::Missing));
        seen.extend(texts(&chunks));
        assert!(f.poll().is_empty(), "missing is told once");
        append(&p, "9\n");
        let chunks = f.poll();
        assert!(notices(&chunks).contains(&Notice::Rotated));
        seen.extend(texts(&chunks));
        assert_eq!(
            seen,
            vec!["1", "2", "3", "4 unterminated", "5", "6", "7", "8", "9"]
        );
    }

    #[test]
    fn a_file_truncated_and_refilled_past_the_offset_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("maillog");
        append(&p, "Nov 28 10:00:01 mail sm-mta[101]: one\n");
        let mut f = Follower::new(&p, opts(Start::Beginning));
        assert_eq!(texts(&f.poll()).len(), 1);
        // Emptied and written past the old offset before the next look (polling).
        fs::write(
            &p,
            "Nov 28 10:00:02 mail sm-mta[202]: two\nNov 28 10:00:03 mail sm-mta[203]: three\n",
        )
        .unwrap();
        let chunks = f.poll();
        assert!(notices(&chunks).contains(&Notice::Truncated));
        assert_eq!(
            texts(&chunks),
            vec![
                "Nov 28 10:00:02 mail sm-mta[202]: two",
                "Nov 28 10:00:03 mail sm-mta[203]: three"
            ]
        );
    }

    #[test]
    fn a_missing_file_is_read_from_its_start_when_it_appears() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("maillog");
        let mut f = Follower::new(&p, opts(Start::End));
        assert_eq!(
            notices(&f.poll()),
            vec![
                Notice::Polling {
                    reason: "--poll".into()
                },
                Notice::Missing
            ]
        );
        append(&p, "a\nb\n");
        let chunks = f.poll();
        assert_eq!(notices(&chunks), vec![Notice::Appeared]);
        assert_eq!(texts(&chunks), vec!["a", "b"]);
    }

    #[test]
    fn resume_finds_the_rotated_file_and_reads_the_newer_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mail.log");
        append(&p, "1\n2\n");
        let mut f = Follower::new(&p, opts(Start::Beginning));
        assert_eq!(texts(&f.poll()), vec!["1", "2"]);
        let cp = f.checkpoint().unwrap();
        drop(f);
        // While down: more lines, two rotations.
        append(&p, "3\n");
        fs::rename(&p, dir.path().join("mail.log.1")).unwrap();
        append(&p, "4\n");
        fs::rename(dir.path().join("mail.log.1"), dir.path().join("mail.log.2")).unwrap();
        fs::rename(&p, dir.path().join("mail.log.1")).unwrap();
        append(&p, "5\n");
        fs::write(dir.path().join("mail.log.state"), "not a rotation\n").unwrap();
        let mut f = Follower::new(&p, opts(Start::Resume(cp)));
        let mut chunks = f.poll();
        while let Some(more) = Some(f.poll()).filter(|c| !c.is_empty()) {
            chunks.extend(more);
        }
        assert_eq!(texts(&chunks), vec!["3", "4", "5"]);
        // Warm-up carried the lines before the checkpoint.
        assert!(
            chunks
                .iter()
                .any(|c| matches!(c, Chunk::Warmup(b) if b.data == b"1\n2\n"))
        );
        // Same identity, no change: nothing repeats.
        let cp = f.checkpoint().unwrap();
        let mut f = Follower::new(&p, opts(Start::Resume(cp)));
        assert_eq!(texts(&f.poll()), Vec::<String>::new());
        append(&p, "6\n");
        assert_eq!(lines_of(&f.poll()), vec![(2, "6".to_owned())]);
    }

    #[test]
    fn long_lines_are_skipped_and_numbering_holds() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("maillog");
        let mut o = opts(Start::Beginning);
        o.max_line = 10;
        append(
            &p,
            &format!("a\n{}\nb\n{}", "x".repeat(100), "y".repeat(50)),
        );
        let mut f = Follower::new(&p, o);
        let chunks = f.poll();
        assert_eq!(
            lines_of(&chunks),
            vec![(1, "a".to_owned()), (3, "b".to_owned())]
        );
        append(&p, "\nc\n");
        let chunks = f.poll();
        let skipped: u64 = chunks
            .iter()
            .map(|c| match c {
                Chunk::Lines(b) => b.skipped_long_lines,
                _ => 0,
            })
            .sum();
        assert_eq!(skipped, 1);
        assert_eq!(lines_of(&chunks), vec![(5, "c".to_owned())]);
    }

    #[test]
    fn a_missing_directory_means_polling_until_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("log");
        let p = sub.join("maillog");
        let mut f = Follower::new(&p, FollowOptions::default());
        assert!(!f.is_watching());
        let n = notices(&f.poll());
        assert!(matches!(&n[0], Notice::Polling { reason } if reason.contains("cannot watch")));
        assert_eq!(n[1], Notice::Missing);
        let t = std::time::Instant::now();
        f.wait(Duration::from_secs(30));
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "polls, does not sleep 30 s"
        );
        fs::create_dir(&sub).unwrap();
        append(&p, "a\n");
        let chunks = f.poll();
        assert_eq!(notices(&chunks), vec![Notice::Appeared]);
        assert_eq!(texts(&chunks), vec!["a"]);
    }

    #[test]
    fn inotify_wakes_the_waiting_follower() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("maillog");
        append(&p, "");
        let mut f = Follower::new(
            &p,
            FollowOptions {
                safety_interval: Duration::from_secs(30),
                ..FollowOptions::default()
            },
        );
        assert!(f.is_watching());
        f.poll();
        let writer = {
            let p = p.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                append(&p, "line\n");
            })
        };
        let t = std::time::Instant::now();
        f.wait(Duration::from_secs(20));
        let waited = t.elapsed();
        writer.join().unwrap();
        assert_eq!(texts(&f.poll()), vec!["line"]);
        // Woken by the event, not by the 20 s timeout.
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }
}
