//! `mailtls scan [PATH…]`: per-peer TLS posture from mail logs and stored messages.
//!
//! ```text
//! mailtls scan sample-logs/                       table, worst peers first
//! mailtls scan /var/log/mail.log* --format json   mailtls.posture/1 snapshot
//! zcat maillog.2.gz | mailtls scan -              stdin
//! mailtls scan logs/ --peer example.org --since 2026-11-27 --direction out
//! mailtls scan /var/mail/ ~/Maildir --messages-only --our-hosts mx1.example.net
//! ```
//!
//! Message stores among the paths (mbox, `.gz` mbox, Maildir, `.eml`, found by content) are
//! read for their `Received:` headers ([`crate::hops`]): hops stamped by our own hosts join
//! the posture (once: a hop whose queue id the logs already showed is not counted again),
//! the rest is reported apart as claimed.
//!
//! Exit codes: 0 read and reported; 2 when nothing at all could be read (no input, every
//! path missing or unreadable). Malformed lines and partly unreadable files are warned
//! about on stderr, naming the file and line, and do not change the exit code.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::{FixedOffset, Offset, Utc};
use clap::ValueEnum;

use super::{exit, progress};
use crate::correlate::Record;
use crate::event::Direction;
use crate::filter::{RecordFilter, parse_time};
use crate::hops::{self, OurHosts};
use crate::input::{self, messages};
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
  mailtls scan /var/log/maillog /var/mail/ ~/Maildir --our-hosts mx1.example.net

Logs are read oldest rotation first; .gz files are inflated transparently. Syslog stamps
without a year take it from the file's modification time (or --year), and are read in the
local time zone (or UTC with --utc).

Message stores (mbox, .gz mbox, Maildir with cur/ and new/, single .eml files) are found
among the paths by their content. Only Received: headers stamped by our own hosts
(--our-hosts, else the most frequent `by` of the top header; a stamp just below a hop from
a loopback or private address is an internal relay's, hence ours too) count as witnessed
and join the posture; hops below the first foreign stamp are only claims, reported apart.")]
pub struct Args {
    /// Log files, rotated .gz logs, message stores (mbox, Maildir, .eml), directories (read
    /// recursively), or - for stdin. Without a path, stdin is read when it is not a terminal.
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

    /// Year of the first entry of each log, for syslog stamps without a year; in a rotated
    /// set (mail.log.2.gz, mail.log.1, mail.log) the later files continue from the oldest
    /// (default: inferred from each file's modification time; Dec → Jan is followed).
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i32>,

    /// Read stamps without a time zone as UTC instead of local time.
    #[arg(long)]
    pub utc: bool,

    /// Include peers on this machine (127.0.0.0/8, ::1, localhost): the MSP handing mail to
    /// the MTA, content filters, test tools. Left out by default.
    #[arg(long)]
    pub loopback: bool,

    /// Read only the message stores (mbox, .gz mbox, Maildir, .eml) among the paths.
    #[arg(long, conflicts_with = "logs_only")]
    pub messages_only: bool,

    /// Read only the logs; message stores among the paths are skipped.
    #[arg(long)]
    pub logs_only: bool,

    /// Our own hosts, whose Received: stamps count as witnessed (comma-separated names as
    /// they appear after `by`). Default: the most frequent `by` of the topmost Received:.
    /// Hops below the first foreign stamp are reported as claimed, apart from the posture.
    #[arg(long, value_delimiter = ',', value_name = "HOST,…")]
    pub our_hosts: Vec<String>,

    /// Do not print warnings about unreadable files and malformed lines, nor the progress
    /// bar (shown on a terminal for inputs over 64 MiB).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Print (on stderr, with file and line) the first N lines of the mail programs that
    /// no parser understood. They are counted per program in the summary either way.
    #[arg(long, value_name = "N")]
    pub explain_unparsed: Option<usize>,
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
    // Message stores are found first so that their files never reach the log parser.
    let stores = messages::find_stores(&paths);
    let (mut sources, errors) = input::discover(&paths);
    for e in &errors {
        if let input::DiscoverError::EmptyDir { path } = e
            && messages::belongs_to_store(path, &stores)
        {
            continue;
        }
        eprintln!("mailtls: {e}");
    }
    sources.retain(|s| {
        s.path
            .as_deref()
            .is_none_or(|p| !messages::belongs_to_store(p, &stores))
    });
    if args.messages_only {
        sources.clear();
    }
    let stores = if args.logs_only { Vec::new() } else { stores };
    if sources.is_empty() && stores.is_empty() {
        eprintln!("mailtls scan: nothing to read");
        return exit::ERROR;
    }

    let progress = progress::Progress::start(&sources, args.quiet);
    let opts = Options {
        progress: progress.as_ref().map(progress::Progress::counter),
        year: args.year,
        zone: if args.utc {
            Zone::Fixed(utc)
        } else {
            Zone::Local
        },
        keep_unparsed: args.explain_unparsed.unwrap_or(0),
        ..Options::default()
    };
    let mut posture = Posture::default();
    // Queue ids of inbound messages seen in the logs: a stored message stamped with one of
    // them is the same message, already counted.
    let mut log_ids: HashSet<String> = HashSet::new();
    let want_ids = !stores.is_empty();
    let report = pipeline::run(&sources, &opts, |r| {
        if want_ids
            && let Record::Message {
                direction: Direction::Inbound,
                queue_id,
                ..
            } = &r
        {
            log_ids.insert(queue_id.clone());
        }
        if filter.keep(&r) {
            posture.add(&r);
        }
    });
    if let Some(p) = progress {
        p.finish();
    }
    let msgs = (!stores.is_empty()).then(|| {
        let ours = (!args.our_hosts.is_empty()).then(|| OurHosts::given(&args.our_hosts));
        let (witnessed, summary) = hops::scan(&stores, ours, &filter, &log_ids);
        posture.merge(witnessed);
        summary
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
        if let Some(m) = &msgs {
            for p in &m.problems {
                eprintln!("mailtls: warning: {p}");
            }
            let shown = m.problems.len() as u64;
            let more = (m.messages_malformed + m.messages_unreadable).saturating_sub(shown);
            if more > 0 {
                eprintln!("mailtls: warning: … and {more} more malformed or unreadable messages");
            }
        }
    }
    if args.explain_unparsed.is_some() {
        for (src, line) in &report.unparsed {
            eprintln!("mailtls: unparsed: {src}: {line}");
        }
        let total: u64 = report.summary.unparsed.values().sum();
        let more = total.saturating_sub(report.unparsed.len() as u64);
        if more > 0 {
            eprintln!("mailtls: unparsed: … and {more} more");
        }
    }
    let s = &report.summary;
    let messages_read = msgs.as_ref().map_or(0, |m| m.messages);
    if s.files == s.files_unreadable && messages_read == 0 {
        eprintln!("mailtls scan: nothing could be read");
        return exit::ERROR;
    }

    let mut snap = Snapshot::new(report.summary, posture);
    snap.messages = msgs;
    let text = match args.format {
        Format::Json => snap.to_json(),
        Format::Table => {
            let colour = report::use_colour();
            let mut t = report::table::render(&snap, colour);
            if let Some(m) = &snap.messages {
                t.push_str(&report::messages::render(m, colour));
            }
            t
        }
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
