//! Where bytes come from, and nothing about mail.
//!
//! [`discover`] expands the command line's paths (files, directories, `-` for stdin) into
//! an ordered list of [`SourceFile`]s, oldest rotation first; [`open`] gives a reader that
//! inflates `.gz` transparently (detected by magic bytes, not by name); [`BlockReader`] cuts
//! the stream into large blocks at line boundaries so that blocks can be parsed in
//! parallel while memory stays bounded by the block size, whatever the file size;
//! [`follow::Follower`] follows a growing file by name through rotation (`tail -F`).

// Everything here reads bytes from strangers (log writers, peers, servers): no panics on
// input. Tests may unwrap freely.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod blocks;
mod discover;
pub mod follow;
pub mod messages;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

pub use blocks::{Block, BlockReader, DEFAULT_BLOCK_SIZE, DEFAULT_MAX_LINE};
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
}

impl SourceFile {
    /// Standard input, named `-`.
    pub fn stdin() -> SourceFile {
        SourceFile {
            path: None,
            display: Arc::from("-"),
            mtime: None,
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
