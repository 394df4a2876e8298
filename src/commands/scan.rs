//! `mailtls scan [PATH…]`: per-peer TLS posture from mail logs.

use std::path::PathBuf;

/// Flags of `mailtls scan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log files, rotated .gz logs, directories, or - for stdin.
    pub paths: Vec<PathBuf>,
}

/// Runs the scan (work in progress: the pipeline lands next).
pub fn run(_args: &Args) -> u8 {
    eprintln!("mailtls scan: not yet wired");
    super::exit::ERROR
}
