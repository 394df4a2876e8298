//! Where bytes come from, and nothing about mail.
//!
//! [`discover`] expands the command line's paths (files, directories, `-` for stdin) into
//! an ordered list of [`SourceFile`]s, oldest rotation first; [`open`] gives a reader that
//! inflates `.gz` transparently (detected by magic bytes, not by name); [`BlockReader`] cuts
//! the stream into large blocks at line boundaries so that blocks can be parsed in
//! parallel while memory stays bounded by the block size, whatever the file size;
//! [`follow::Follower`] follows a growing file by name through rotation (`tail -F`).

// Everything here reads bytes from strangers (log writers, peers, servers): no panics on
// input. Unwrap, expect and panic are denied crate-wide (Cargo.toml's [lints]); indexing
// and slicing, which the rest of the crate uses on its own data, are denied here. Tests
// may index freely.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod blocks;
mod discover;
pub mod follow;
pub mod sniff;

use std::fs::File;
#[cfg(test)]
use std::io::Write as _;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

pub use blocks::{Block, BlockPool, BlockReader, DEFAULT_BLOCK_SIZE, DEFAULT_MAX_LINE, Pool};
pub use discover::{DiscoverError, discover, rotation_key};

/// One input to read: a file on disk or standard input.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    /// The name used in messages and `Source`s (the path as given, or `-`).
    pub display: Arc<str>,
    /// Modification time, used to infer the year of syslog stamps that have none.
    pub mtime: Option<SystemTime>,
    /// Found by walking a directory rather than named on the command line: such a file is
    /// looked at before it is read ([`sniff`]) and skipped when it is no mail log.
    pub walked: bool,
}

impl SourceFile {
    /// Standard input, named `-`.
    pub fn stdin() -> SourceFile {
        SourceFile {
            path: None,
            display: Arc::from("-"),
            mtime: None,
            walked: false,
        }
    }

    /// A file named on the command line (or by a caller that knows what it holds).
    pub fn named(path: &std::path::Path) -> SourceFile {
        SourceFile {
            path: Some(path.to_path_buf()),
            display: Arc::from(path.display().to_string()),
            mtime: None,
            walked: false,
        }
    }
}

/// Opens a source for reading, inflating gzip (including multi-member files as written by
/// `logrotate` + `cat`) when the first two bytes are the gzip magic.
pub fn open(src: &SourceFile) -> io::Result<Box<dyn Read + Send>> {
    open_counted(src, None)
}

/// [`open`], adding every byte read from the file (before inflating) to `counter`: what a
/// progress bar compares with the file sizes.
pub fn open_counted(
    src: &SourceFile,
    counter: Option<Arc<AtomicU64>>,
) -> io::Result<Box<dyn Read + Send>> {
    let raw: Box<dyn Read + Send> = match &src.path {
        None => Box::new(io::stdin()),
        Some(p) => Box::new(File::open(p)?),
    };
    let raw: Box<dyn Read + Send> = match counter {
        Some(c) => Box::new(Counting {
            inner: raw,
            counter: c,
        }),
        None => raw,
    };
    inflating(raw)
}

/// Buffers `raw`, inflating it when it starts with the gzip magic.
fn inflating(raw: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    let mut reader = BufReader::with_capacity(256 * 1024, raw);
    let is_gzip = {
        let head = io::BufRead::fill_buf(&mut reader)?;
        head.starts_with(&[0x1f, 0x8b])
    };
    if is_gzip {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// [`open_counted`] for a whole read: also returns a [`Watch`] that says afterwards
/// whether the file was truncated or replaced while it was read.
pub fn open_watched(
    src: &SourceFile,
    progress: Option<Arc<AtomicU64>>,
) -> io::Result<(Box<dyn Read + Send>, Watch)> {
    let read = Arc::new(AtomicU64::new(0));
    let (raw, start): (Box<dyn Read + Send>, Option<FileId>) = match &src.path {
        None => (Box::new(io::stdin()), None),
        Some(p) => {
            let f = File::open(p)?;
            let id = f.metadata().ok().map(|m| FileId::of(&m));
            (Box::new(f), id)
        }
    };
    let raw: Box<dyn Read + Send> = Box::new(Counting {
        inner: raw,
        counter: Arc::clone(&read),
    });
    let raw: Box<dyn Read + Send> = match progress {
        Some(c) => Box::new(Counting {
            inner: raw,
            counter: c,
        }),
        None => raw,
    };
    let watch = Watch {
        path: src.path.clone(),
        start,
        read,
    };
    Ok((inflating(raw)?, watch))
}

/// What identifies a file's content at one moment: device, inode and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
}

impl FileId {
    #[cfg(unix)]
    fn of(m: &std::fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
        }
    }

    #[cfg(not(unix))]
    fn of(m: &std::fs::Metadata) -> FileId {
        FileId {
            dev: 0,
            ino: 0,
            len: m.len(),
        }
    }
}

/// Watches one file being read: its identity when opened and the bytes read since.
#[derive(Debug)]
pub struct Watch {
    path: Option<PathBuf>,
    start: Option<FileId>,
    read: Arc<AtomicU64>,
}

impl Watch {
    /// After the read: how the file changed under the reader so that part of what it held
    /// when opened was never read, or `None`. A file that grew (a live log) or was read to
    /// the length it had when opened is complete.
    pub fn changed(&self) -> Option<&'static str> {
        let start = self.start?;
        let read = self.read.load(Ordering::Relaxed);
        if read >= start.len {
            return None;
        }
        let now = self
            .path
            .as_deref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| FileId::of(&m));
        Some(match now {
            Some(n) if (n.dev, n.ino) != (start.dev, start.ino) => "replaced",
            None => "removed",
            Some(_) => "truncated",
        })
    }

    /// `"X of Y bytes"` read of what the file held when opened.
    pub fn progress(&self) -> String {
        let read = self.read.load(Ordering::Relaxed);
        match self.start {
            Some(s) => format!("{read} of {} bytes", s.len),
            None => format!("{read} bytes"),
        }
    }
}

/// A reader that counts the bytes it hands out.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(r: &mut dyn Read, n: usize) {
        let mut buf = vec![0u8; n];
        r.read_exact(&mut buf).unwrap();
    }

    #[test]
    fn a_file_cut_or_replaced_under_the_reader_is_told_apart_from_one_that_grew() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mail.log");
        std::fs::write(&p, vec![b'x'; 1 << 20]).unwrap();
        let src = SourceFile::named(&p);

        let (mut r, w) = open_watched(&src, None).unwrap();
        drain(&mut r, 1 << 20);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"more\n")
            .unwrap();
        assert_eq!(w.changed(), None, "read to its opened length, then grew");

        let (mut r, w) = open_watched(&src, None).unwrap();
        drain(&mut r, 1000);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert_eq!(w.changed(), Some("truncated"));
        assert!(
            w.progress()
                .ends_with(&format!("of {} bytes", (1 << 20) + 5))
        );

        std::fs::write(&p, vec![b'y'; 1 << 20]).unwrap();
        let (mut r, w) = open_watched(&src, None).unwrap();
        drain(&mut r, 10);
        let new = dir.path().join("mail.log.new");
        std::fs::write(&new, b"fresh\n").unwrap();
        std::fs::rename(&new, &p).unwrap();
        assert_eq!(w.changed(), Some("replaced"));
    }
}
