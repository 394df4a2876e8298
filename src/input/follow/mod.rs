//! Following a log file by name through rotation, like `tail -F`.
//!
//! A [`Follower`] watches one *path*, not one open file: the file behind the name changes
//! when logrotate renames it away and creates a new one, or empties it in place
//! (`copytruncate`), and the name may be missing for a while. The follower keeps an open
//! descriptor on the file it is reading and the file's identity (device, inode), and on
//! every wake-up compares it with what the path names now:
//!
//! * **same identity, grown**: read the new whole lines;
//! * **same identity, shorter than what was read**: `copytruncate` emptied it; read the
//!   rest from logrotate's copy, then the emptied file from offset 0. A file truncated
//!   *and* refilled past the old offset, which a size check takes for growth, is told by
//!   the last bytes read: every read starts that far back and checks them in the same
//!   `pread`. (Lines written between logrotate's copy and its truncate are lost by
//!   logrotate itself.)
//! * **another identity**: the old file was renamed (or removed) and a new one created.
//!   The old file is *finished first*: syslog daemons keep writing to it until they reopen
//!   (after logrotate's HUP), so the follower keeps reading the old descriptor as long as
//!   the new file is empty, and switches only once the new file has data — by then the
//!   writer has reopened and the old file is final. Its last unterminated line, if any,
//!   is handed out then. The new file is read from offset 0.
//! * **behind**: when the file finished was rotated more than once before the follower
//!   looked (a stopped process, a slow reader of its output), the newer rotations
//!   (`maillog.1` after `maillog.2`, compressed ones decompressed) are read in order
//!   before the live file — found by identity, or by the fingerprint of their first bytes
//!   when compression gave them another inode. A copytruncate continues in the copy, at
//!   the first line not handed out.
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

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};
use serde::{Deserialize, Serialize};

use super::{Block, DEFAULT_MAX_LINE, rotation_key};

mod open;

pub use open::Fingerprint;
use open::{
    Drained, Open, TAIL, drain, end_of_last_line, finish, is_gz, open_at, open_rotated,
    starts_like, truncated,
};

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
///
/// The fingerprint of the file's first bytes is kept beside the identity because an
/// identity alone does not say whether the *content* is still the one the offset was
/// counted in: a copytruncate keeps the inode and refills it, a compressed rotation keeps
/// the content under a new inode. (State files written before it existed load with an
/// empty fingerprint, which trusts the identity as before.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub dev: u64,
    pub ino: u64,
    pub offset: u64,
    /// Lines of the file before `offset`.
    pub line: u64,
    #[serde(flatten, default)]
    pub fp: Fingerprint,
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
    /// How often to try inotify again when it could not be set up (its directory
    /// missing) or its directory was replaced.
    pub watch_retry: Duration,
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
            watch_retry: Duration::from_secs(5),
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
    /// Reading a rotated file that holds lines not read yet: the checkpointed file found
    /// under another name (rotated while we were down), a rotation newer than the file
    /// just finished (we fell more than one rotation behind), or the copy a copytruncate
    /// left (its tail beyond what was read).
    ResumedRotated { path: PathBuf },
    /// After a copytruncate: the unread rest is read from logrotate's copy at `path`
    /// (then the emptied file from its start). Not a rotation: counted as the truncation.
    Copy { path: PathBuf },
    /// Bytes that existed and can no longer be read: written to a copytruncated file
    /// after logrotate's copy and before its truncate (logrotate's own gap), or left in a
    /// truncated file of which no copy was found.
    Lost { bytes: u64 },
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
            Notice::Copy { path } => {
                write!(f, "reading the rest from the copy {}", path.display())
            }
            Notice::Lost { bytes } => write!(
                f,
                "{bytes} bytes were lost: written after logrotate copied the file and before it truncated it (or no copy of them exists)"
            ),
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

/// Follows one path; see the module documentation.
pub struct Follower {
    path: PathBuf,
    opts: FollowOptions,
    cur: Option<Open>,
    /// Fingerprints of the files read to their end (the last 64): never read twice.
    finished: Vec<Fingerprint>,
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
    /// The directory the inotify watch is on (a new directory under the same name needs
    /// a new watch).
    watched_dir: Option<Identity>,
}

impl Follower {
    /// Starts following `path`. Never fails: a missing file or an unusable inotify are
    /// reported as [`Notice`]s and dealt with as the module documentation says.
    pub fn new(path: impl Into<PathBuf>, opts: FollowOptions) -> Follower {
        let (tx, rx) = mpsc::sync_channel(1);
        let mut f = Follower {
            path: path.into(),
            opts,
            cur: None,
            finished: Vec::new(),
            first: true,
            missing_told: false,
            last_error: None,
            rx,
            tx,
            watcher: None,
            queued: Vec::new(),
            last_watch_try: Instant::now(),
            watched_dir: None,
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
            fp: o.fp,
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
        self.watched_dir = fs::metadata(&dir).ok().map(|m| Identity::of(&m));
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
        // A directory that did not exist is watched once it is there, and one that was
        // replaced (its watch died with it) is watched again; tried every few seconds:
        // each try costs an inotify instance and a thread.
        let dir_now = fs::metadata(self.dir()).ok().map(|m| Identity::of(&m));
        let replaced = self.watcher.is_some() && dir_now != self.watched_dir;
        if (self.watcher.is_none() || replaced)
            && !self.opts.force_poll
            && self.last_watch_try.elapsed() >= self.opts.watch_retry
            && dir_now.is_some()
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
        for _ in 0..64 {
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
                self.after_truncation(out)?;
                continue;
            }
            match drain(cur, self.opts.max_line, out)? {
                // More next time; the caller processes this much first.
                Drained::Full => return Ok(()),
                Drained::Changed => {
                    self.after_truncation(out)?;
                    continue;
                }
                Drained::Eof => {}
            }
            let live = match fs::metadata(&self.path) {
                Ok(m) if Identity::of(&m) == cur.id => {
                    // A truncation from now on is seen by the next look, before it reads.
                    self.missing_told = false;
                    return Ok(());
                }
                Ok(m) => Some(m),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            // The file being read is no longer the one the name points to. What comes
            // after it: a newer rotated file if it has one (we are more than one rotation
            // behind, or catching up after a restart or a copytruncate), else the live
            // file.
            let (id, fp) = (cur.id, cur.fp);
            let siblings = rotated_siblings(&self.path);
            let finished = &self.finished;
            let next = locate(&siblings, id, fp, true).and_then(|i| {
                siblings
                    .iter()
                    .skip(i + 1)
                    .find(|(p, _)| !finished.iter().any(|f| starts_like(p, *f)))
                    .map(|(p, _)| p.clone())
            });
            if let Some(p) = next {
                // A newer rotation exists: this file is final.
                while drain(cur, self.opts.max_line, out)? == Drained::Full {}
                finish(cur, out);
                self.done(fp);
                let (file, m) = open_rotated(&p)?;
                out.push(Chunk::Notice(Notice::ResumedRotated { path: p }));
                self.cur = Some(open_at(file, &m, 0, 0));
                continue;
            }
            match live {
                None => {
                    self.tell_missing(out);
                    return Ok(());
                }
                Some(m) if m.len() == 0 => {
                    // The writer has not reopened yet: it may still write to the old
                    // file. Keep reading that one until the new one gets data.
                    return Ok(());
                }
                Some(_) => {
                    while drain(cur, self.opts.max_line, out)? == Drained::Full {}
                    finish(cur, out);
                    let copy = cur.copy;
                    self.done(fp);
                    if !copy {
                        // From a copy back to the file it was copied from is no rotation.
                        out.push(Chunk::Notice(Notice::Rotated));
                    }
                    self.missing_told = false;
                    self.cur = match File::open(&self.path) {
                        Ok(file) => {
                            let m = file.metadata()?;
                            Some(open_at(file, &m, 0, 0))
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                        Err(e) => return Err(e),
                    };
                }
            }
        }
        Ok(())
    }

    /// The file being read got shorter, or its bytes before the read offset changed: a
    /// copytruncate. Its unread rest is in the copy logrotate made just before (found by
    /// the fingerprint of its first bytes, plain or compressed, however many rotations
    /// ago): continue there, at the first line not handed out, and come to the emptied
    /// file through the newer rotations. Without a copy, the emptied file is read from
    /// its start and what was seen in the old content and not read is reported lost.
    fn after_truncation(&mut self, out: &mut Vec<Chunk>) -> io::Result<()> {
        let Some(cur) = self.cur.take() else {
            return Ok(());
        };
        out.push(Chunk::Notice(Notice::Truncated));
        let siblings = self.rotated_siblings();
        if let Some((p, _)) = locate(&siblings, cur.id, cur.fp, false).and_then(|i| siblings.get(i))
        {
            let (mut file, m) = open_rotated(p)?;
            let copy_len = file.metadata()?.len();
            // What the original held beyond its copy and beyond what was read.
            let lost = cur.seen_len.saturating_sub(copy_len.max(cur.pos));
            if lost > 0 {
                out.push(Chunk::Notice(Notice::Lost { bytes: lost }));
            }
            let at = cur.line_start.min(copy_len);
            file.seek(SeekFrom::Start(at))?;
            out.push(Chunk::Notice(Notice::Copy { path: p.clone() }));
            let mut o = open_at(file, &m, at, cur.line);
            o.fp = cur.fp;
            o.copy = true;
            self.cur = Some(o);
            return Ok(());
        }
        let lost = cur.seen_len.saturating_sub(cur.line_start);
        if lost > 0 {
            out.push(Chunk::Notice(Notice::Lost { bytes: lost }));
        }
        let mut file = cur.file;
        file.seek(SeekFrom::Start(0))?;
        let m = file.metadata()?;
        self.cur = Some(open_at(file, &m, 0, 0));
        Ok(())
    }

    /// Remembers a file read to its end, so that a rotated file holding the same
    /// content (a copy of it) is not read again.
    fn done(&mut self, fp: Fingerprint) {
        if fp.len > 0 && !self.finished.contains(&fp) {
            if self.finished.len() >= 64 {
                self.finished.remove(0);
            }
            self.finished.push(fp);
        }
    }

    fn tell_missing(&mut self, out: &mut Vec<Chunk>) {
        if !self.missing_told {
            self.missing_told = true;
            out.push(Chunk::Notice(Notice::Missing));
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

    /// Resumes at a checkpoint: in the live file when it is still the checkpointed one
    /// (same identity *and* same first bytes), else in the rotated file that is (found by
    /// identity, or by fingerprint when it was copied or compressed); the newer rotations
    /// and the live file follow through [`Follower::look`].
    fn resume(&mut self, cp: Checkpoint, out: &mut Vec<Chunk>) -> io::Result<()> {
        let live = match File::open(&self.path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let mut truncated_live = None;
        if let Some(file) = live {
            let m = file.metadata()?;
            if Identity::of(&m) == cp.identity() {
                let same = cp.fp.len == 0 || starts_like(&self.path, cp.fp);
                if same && m.len() >= cp.offset {
                    return self.start_at(file, &m, cp.offset, cp.line, out);
                }
                // Copytruncated while we were down: the rest is in the copy.
                out.push(Chunk::Notice(Notice::Truncated));
                truncated_live = Some((file, m));
            }
        }
        let siblings = self.rotated_siblings();
        let found = locate(&siblings, cp.identity(), cp.fp, truncated_live.is_none())
            .and_then(|i| siblings.get(i));
        if let Some((p, _)) = found {
            let (file, m) = open_rotated(p)?;
            let len = file.metadata()?.len();
            let copy = truncated_live.is_some();
            out.push(Chunk::Notice(if copy {
                Notice::Copy { path: p.clone() }
            } else {
                Notice::ResumedRotated { path: p.clone() }
            }));
            let (offset, line) = if len < cp.offset {
                (0, 0)
            } else {
                (cp.offset, cp.line)
            };
            self.start_at(file, &m, offset, line, out)?;
            if let Some(o) = self.cur.as_mut() {
                o.copy = copy;
                if cp.fp.len > 0 {
                    o.fp = cp.fp;
                }
            }
            return Ok(());
        }
        out.push(Chunk::Notice(Notice::ResumeLost));
        if let Some((file, m)) = truncated_live {
            return self.start_at(file, &m, 0, 0, out);
        }
        match File::open(&self.path) {
            Ok(file) => {
                let m = file.metadata()?;
                self.start_at(file, &m, 0, 0, out)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Rotated files of the path, oldest first: `mail.log.2.gz`, `mail.log.1`,
    /// `maillog-20261127`. Compressed ones (`.gz`) count too: a rotation compressed while
    /// it still held unread lines is read decompressed.
    fn rotated_siblings(&self) -> Vec<(PathBuf, fs::Metadata)> {
        rotated_siblings(&self.path)
    }
}

/// See [`Follower::rotated_siblings`].
fn rotated_siblings(path: &Path) -> Vec<(PathBuf, fs::Metadata)> {
    {
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Only rotations of this log (`maillog.1`, `maillog-20261127`), not files that
        // merely share the prefix (`maillog.state`).
        let (_, live_base, _) = rotation_key(path);
        let Ok(entries) = fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut v: Vec<(PathBuf, fs::Metadata)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let rotated = name.len() > base.len()
                    && name.starts_with(&base)
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

/// Where the file with identity `id` and first bytes `fp` is among `siblings` (oldest
/// first): by identity when `by_identity` (a renamed file), else — or when no identity
/// matches — by fingerprint (a copy, or a compressed rotation). A plain file matched by
/// identity must also still start with the same bytes when its fingerprint is known, so
/// that a reused inode is not taken for it.
fn locate(
    siblings: &[(PathBuf, fs::Metadata)],
    id: Identity,
    fp: Fingerprint,
    by_identity: bool,
) -> Option<usize> {
    if by_identity
        && let Some(i) = siblings.iter().position(|(p, m)| {
            Identity::of(m) == id && (fp.len == 0 || is_gz(p) || starts_like(p, fp))
        })
    {
        return Some(i);
    }
    // Newest first: the most recent copy of these bytes is the most complete one.
    (0..siblings.len()).rev().find(|&i| {
        siblings
            .get(i)
            .is_some_and(|(p, m)| Identity::of(m) != id && starts_like(p, fp))
    })
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
mod tests;
