//! `mailtls events [PATH…]`: every normalized event as NDJSON (`mailtls.event/1`).
//!
//! ```text
//! mailtls events /var/log/mail.log                 one JSON object per line
//! mailtls events logs/ --errors-only --since 2026-11-27
//! mailtls events logs/ --verify FAIL --direction out
//! mailtls events logs/ --ecs | vector …           Elastic Common Schema field names
//! ```
//!
//! The events are the correlated records: TLS negotiations, messages with their TLS
//! verdict, policy verdicts and TLS errors, each with its source file and line. The
//! schema is documented in `docs/events.md`. Exit codes as for `scan`.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use chrono::{FixedOffset, Offset, Utc};

use super::exit;
use super::scan::DirArg;
use crate::correlate::{Encryption, Record};
use crate::event::{Direction, Verify};
use crate::filter::{RecordFilter, parse_time};
use crate::input;
use crate::parse::envelope::Zone;
use crate::pipeline::{self, Options};
use crate::report::events::{ecs_json, event_json};

/// Flags of `mailtls events`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls events /var/log/mail.log > events.ndjson
  mailtls events logs/ --errors-only
  mailtls events logs/ --verify FAIL --direction out
  mailtls events logs/ --ecs

Each line is one JSON object of schema mailtls.event/1 (docs/events.md): a TLS session, a
message with its TLS verdict, a policy verdict or a TLS error, with its file and line.")]
pub struct Args {
    /// Log files, rotated .gz logs, directories (read recursively), or - for stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Only this peer: a host name, a domain (matches its hosts) or an IP address.
    #[arg(long, value_name = "NAME|DOMAIN|IP")]
    pub peer: Option<String>,

    /// Only events at or after this time (YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]' or RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Only inbound (in) or outbound (out) events.
    #[arg(long, value_enum)]
    pub direction: Option<DirArg>,

    /// Only sessions, messages and verdicts with this verify word (OK, NO, NOT, FAIL,
    /// NONE, SOFTWARE, …; case-insensitive). Errors and plaintext messages have none.
    #[arg(long, value_name = "WORD")]
    pub verify: Option<String>,

    /// Only TLS errors.
    #[arg(long)]
    pub errors_only: bool,

    /// Elastic Common Schema field names (`@timestamp`, `tls.version`, `source.ip`,
    /// `server.address`, …) instead of the mailtls.event/1 layout.
    #[arg(long)]
    pub ecs: bool,

    /// Year of the first entry of each log (the oldest file of a rotated set; the later
    /// files continue from it), for syslog stamps without a year.
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i32>,

    /// Read stamps without a time zone as UTC instead of local time.
    #[arg(long)]
    pub utc: bool,

    /// Include peers on this machine (127.0.0.0/8, ::1, localhost).
    #[arg(long)]
    pub loopback: bool,

    /// Do not print warnings about unreadable files and malformed lines.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The verify word a record carries, if any.
fn verify_of(r: &Record) -> Option<&Verify> {
    match r {
        Record::Session { params, .. } => Some(&params.verify),
        Record::Message {
            encryption: Encryption::Tls(p),
            ..
        } => Some(&p.verify),
        Record::Verdict { verify, .. } => Some(verify),
        _ => None,
    }
}

/// `--verify` and `--errors-only` on top of the shared filters.
pub fn keep_extra(r: &Record, verify: Option<&str>, errors_only: bool) -> bool {
    if errors_only && !matches!(r, Record::Error { .. }) {
        return false;
    }
    match verify {
        Some(w) => verify_of(r).is_some_and(|v| v.as_str().eq_ignore_ascii_case(w.trim())),
        None => true,
    }
}

/// Runs `events` and streams the lines to stdout.
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
                    eprintln!("mailtls events: {flag}: {e}");
                    return exit::ERROR;
                }
            }
        }
    }
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        if std::io::stdin().is_terminal() {
            eprintln!("mailtls events: no input: give log files or directories, or - for stdin");
            return exit::ERROR;
        }
        paths.push(PathBuf::from("-"));
    }
    let (sources, errors) = input::discover(&paths);
    for e in &errors {
        eprintln!("mailtls: {e}");
    }
    if sources.is_empty() {
        eprintln!("mailtls events: nothing to read");
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
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut write_error: Option<std::io::Error> = None;
    let report = pipeline::run(&sources, &opts, |r| {
        if write_error.is_some()
            || !filter.keep(&r)
            || !keep_extra(&r, args.verify.as_deref(), args.errors_only)
        {
            return;
        }
        let v = if args.ecs {
            ecs_json(&r)
        } else {
            event_json(&r)
        };
        if let Err(e) = writeln!(out, "{v}") {
            write_error = Some(e);
        }
    });
    if let Err(e) = out.flush() {
        write_error.get_or_insert(e);
    }
    if let Some(e) = write_error
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("mailtls events: writing output: {e}");
        return exit::ERROR;
    }
    if !args.quiet {
        for w in &report.warnings {
            eprintln!("mailtls: warning: {w}");
        }
        for (src, why) in &report.malformed {
            eprintln!("mailtls: warning: {src}: malformed line skipped: {why}");
        }
    }
    let s = &report.summary;
    if s.files == s.files_unreadable {
        eprintln!("mailtls events: nothing could be read");
        return exit::ERROR;
    }
    exit::OK
}
