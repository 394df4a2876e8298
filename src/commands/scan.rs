//! `mailtls scan [PATH…]`: per-peer TLS posture from mail logs.
//!
//! ```text
//! mailtls scan sample-logs/                       table, worst peers first
//! mailtls scan /var/log/mail.log* --format json   mailtls.posture/1 snapshot
//! zcat maillog.2.gz | mailtls scan -              stdin
//! mailtls scan logs/ --peer example.org --since 2026-11-27 --direction out
//! ```
//!
//! Exit codes: 0 read and reported; 2 when nothing at all could be read (no input, every
//! path missing or unreadable). Malformed lines and partly unreadable files are warned
//! about on stderr, naming the file and line, and do not change the exit code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::{FixedOffset, Offset, Utc};
use clap::ValueEnum;

use super::exit;
use crate::event::Direction;
use crate::filter::{RecordFilter, parse_time};
use crate::input;
use crate::parse::envelope::Zone;
use crate::pipeline::{self, Options};
use crate::posture::Posture;
use crate::report::{self, Snapshot};

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people (default).
    Table,
    /// The `mailtls.posture/1` snapshot (stable, documented in the README).
    Json,
}

/// `--direction` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirArg {
    /// Peers that connected to us (Sendmail `STARTTLS=server`).
    In,
    /// Peers we delivered to (Sendmail `STARTTLS=client`).
    Out,
}

/// Flags of `mailtls scan`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls scan sample-logs/
  mailtls scan /var/log/mail.log* --format json > posture.json
  zcat /var/log/mail.log.2.gz | mailtls scan -
  mailtls scan /var/log/ --peer example.org --since 2026-11-27 --direction out

Logs are read oldest rotation first; .gz files are inflated transparently. Syslog stamps
without a year take it from the file's modification time (or --year), and are read in the
local time zone (or UTC with --utc).")]
pub struct Args {
    /// Log files, rotated .gz logs, directories (read recursively), or - for stdin.
    /// Without a path, stdin is read when it is not a terminal.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Only this peer: a host name, a domain (matches its hosts) or an IP address.
    #[arg(long, value_name = "NAME|DOMAIN|IP")]
    pub peer: Option<String>,

    /// Only records at or after this time (YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]' or RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only records before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Only inbound (in) or outbound (out) mail.
    #[arg(long, value_enum)]
    pub direction: Option<DirArg>,

    /// Year of each file's first entry, for syslog stamps without a year (default: inferred
    /// from the file's modification time; a Dec → Jan change inside a file is followed).
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i32>,

    /// Read stamps without a time zone as UTC instead of local time.
    #[arg(long)]
    pub utc: bool,

    /// Include peers on this machine (127.0.0.0/8, ::1, localhost): the MSP handing mail to
    /// the MTA, content filters, test tools. Left out by default.
    #[arg(long)]
    pub loopback: bool,

    /// Do not print warnings about unreadable files and malformed lines.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Runs the scan and prints the report.
pub fn run(args: &Args) -> u8 {
    let utc: FixedOffset = Utc.fix();
    let zone_offset = args.utc.then_some(utc);
    let mut filter = RecordFilter {
        peer: args.peer.clone(),
        direction: args.direction.map(|d| match d {
            DirArg::In => Direction::Inbound,
            DirArg::Out => Direction::Outbound,
        }),
        loopback: args.loopback,
        ..RecordFilter::default()
    };
    for (flag, value, slot) in [
        ("--since", &args.since, &mut filter.since),
        ("--until", &args.until, &mut filter.until),
    ] {
        if let Some(v) = value {
            match parse_time(v, zone_offset) {
                Ok(t) => *slot = Some(t),
                Err(e) => {
                    eprintln!("mailtls scan: {flag}: {e}");
                    return exit::ERROR;
                }
            }
        }
    }

    let mut paths = args.paths.clone();
    if paths.is_empty() {
        if std::io::stdin().is_terminal() {
            eprintln!(
                "mailtls scan: no input: give log files or directories (e.g. mailtls scan /var/log/mail.log), or - for stdin"
            );
            return exit::ERROR;
        }
        paths.push(PathBuf::from("-"));
    }
    let (sources, errors) = input::discover(&paths);
    for e in &errors {
        eprintln!("mailtls: {e}");
    }
    if sources.is_empty() {
        eprintln!("mailtls scan: nothing to read");
        return exit::ERROR;
    }

    let opts = Options {
        year: args.year,
        zone: if args.utc {
            Zone::Fixed(utc)
        } else {
            Zone::Local
        },
        ..Options::default()
    };
    let mut posture = Posture::default();
    let report = pipeline::run(&sources, &opts, |r| {
        if filter.keep(&r) {
            posture.add(&r);
        }
    });
    if !args.quiet {
        for w in &report.warnings {
            eprintln!("mailtls: warning: {w}");
        }
        for (src, why) in &report.malformed {
            eprintln!("mailtls: warning: {src}: malformed line skipped: {why}");
        }
        let more = report
            .summary
            .lines_malformed
            .saturating_sub(report.malformed.len() as u64);
        if more > 0 {
            eprintln!("mailtls: warning: … and {more} more malformed lines");
        }
    }
    let s = &report.summary;
    if s.files == s.files_unreadable {
        eprintln!("mailtls scan: nothing could be read");
        return exit::ERROR;
    }

    let snap = Snapshot::new(report.summary, posture);
    let text = match args.format {
        Format::Json => snap.to_json(),
        Format::Table => report::table::render(&snap, report::use_colour()),
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("mailtls scan: writing output: {e}");
        return exit::ERROR;
    }
    exit::OK
}
