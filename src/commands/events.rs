//! `mailtls events [PATH…]`: every normalized event, as a readable timeline on a terminal
//! and as NDJSON (`mailtls.event/1`) in a pipe.
//!
//! ```text
//! mailtls events /var/log/mail.log                 timeline on a terminal, NDJSON in a pipe
//! mailtls events logs/ --peer example.org --raw    each item with its file:line and line
//! mailtls events logs/ --around '2026-11-27 10:00±30m' --json
//! mailtls events logs/ --errors-only --since 2026-11-27
//! mailtls events logs/ --verify FAIL --direction out
//! mailtls events logs/ --ecs | vector …           Elastic Common Schema field names
//! ```
//!
//! The events are the correlated records: TLS negotiations, messages with their TLS
//! verdict, policy verdicts and TLS errors, each with its source file and line. The
//! schema is documented in `docs/events.md`. Message stores among the paths (found
//! as `scan` finds them, [`messages::split_inputs`]) add one `hop` line per `Received:`
//! hop after the log events ([`crate::stores::hops::walk`]). On a terminal the records are grouped
//! by session instead ([`crate::triage::sessions`]); the NDJSON is unchanged. Exit codes as
//! for `scan`.

use super::Error;
use crate::model::text::terminal;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{FixedOffset, Offset, Utc};

use super::exit;
use crate::analysis::filter::RecordFilter;
use crate::model::Record;
use crate::parse::envelope::Zone;
use crate::parse::received::HopTls;
use crate::pipeline::{self, Options};
use crate::report::events::{EventWriter, ecs_json, hop_json};
use crate::stores::hops::{self, HopEvent, MessagesSummary};
use crate::stores::messages;
use crate::triage::collect;
use crate::triage::peer::by_time;
use crate::triage::sessions::{self, RawLines};
use crate::triage::term::{ColorWhen, Painter};

/// Flags of `mailtls events`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls events /var/log/mail.log              # timeline on a terminal
  mailtls events logs/ --peer example.org --raw # with each item's file:line
  mailtls events logs/ --around '2026-11-27 10:00±30m'
  mailtls events /var/log/mail.log > ev.ndjson  # NDJSON when piped (or --json)
  mailtls events sample-logs/maillog --year 2026 --peer mx1.partner.example
  mailtls events logs/ --errors-only
  mailtls events logs/ --verify FAIL --direction out
  mailtls events logs/ --ecs

On a terminal (or with --timeline or --color always) the records are grouped by session: the
connection, its STARTTLS negotiation (version, cipher, bits, verify) or none, the messages that
rode on it (queue id, from, to, status, dsn, the reply, TLS or plaintext), verdicts and TLS
errors, each with its time; control characters in log data are shown escaped, and NO_COLOR
is honoured. Otherwise (piped, or --json) each line is one JSON object of schema
mailtls.event/1 (documented in docs/events.md): a TLS session, a message with its TLS verdict, a
policy verdict or a TLS error, with its file and line. Message stores among the paths (mbox,
.gz mbox, Maildir, .eml) give one `hop` line per Received: header that crossed a network
(local hops only with --loopback), after the log events, with its trust: witnessed (stamped
by our hosts) or claimed. --ecs leaves hops out.")]
pub struct Args {
    /// Log files, rotated .gz logs, message stores (mbox, Maildir, .eml), directories (read
    /// recursively), or - for stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub select: super::Selection,

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

    /// timeline, json (mailtls.event/1 NDJSON, the same as --json) or ecs (the same as
    /// --ecs). Default: the timeline on a terminal, json in a pipe.
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with_all = ["json", "ecs", "timeline"])]
    pub format: Option<EventsFormat>,

    #[command(flatten)]
    pub stores: super::scan::StoreFlags,

    /// NDJSON even on a terminal (the default when stdout is a pipe or a file).
    #[arg(long, conflicts_with = "timeline")]
    pub json: bool,

    /// The readable timeline grouped by session even when stdout is not a terminal (the
    /// default on a terminal).
    #[arg(long)]
    pub timeline: bool,

    /// Colour the timeline: auto (a terminal without NO_COLOR), always, never. `always`
    /// also chooses the timeline over NDJSON.
    #[arg(long, value_enum, default_value_t, value_name = "WHEN")]
    pub color: ColorWhen,

    /// In the timeline, show each item's source line (file:line and the line) under it.
    /// Implies the timeline, also in a pipe (`--raw | less`); the NDJSON records carry
    /// their file and line already.
    #[arg(long, conflicts_with_all = ["json", "ecs"])]
    pub raw: bool,

    /// With --peer, parse every line instead of only those that can matter (slower; same
    /// events).
    #[arg(long)]
    pub no_prefilter: bool,

    /// Do not print warnings about unreadable files and malformed lines.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `events --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EventsFormat {
    Timeline,
    Json,
    Ecs,
}

impl Args {
    /// ECS field names (`--ecs` or `--format ecs`).
    pub fn is_ecs(&self) -> bool {
        self.ecs || self.format == Some(EventsFormat::Ecs)
    }

    /// The timeline on a terminal (or when asked: --timeline, --raw, --color always),
    /// NDJSON otherwise or with `--json`.
    pub fn wants_timeline(&self, stdout_is_tty: bool) -> bool {
        if let Some(f) = self.format {
            return f == EventsFormat::Timeline;
        }
        !self.json
            && !self.ecs
            && (self.timeline || self.raw || self.color == ColorWhen::Always || stdout_is_tty)
    }
}

/// `--verify` and `--errors-only` on top of the shared filters.
pub fn keep_extra(r: &Record, verify: Option<&str>, errors_only: bool) -> bool {
    if errors_only && !matches!(r, Record::Error { .. }) {
        return false;
    }
    match verify {
        Some(w) => r
            .verify()
            .is_some_and(|v| v.as_str().eq_ignore_ascii_case(w.trim())),
        None => true,
    }
}

/// The shared filters on one hop, as `scan` applies them to stored messages: local hops
/// (loopback sender or local submission) only with `--loopback`, which keeps loopback
/// senders but never local submissions; `--peer` on the sending side, `--since`/`--until`
/// on the hop's date; `--verify` on the verify word the stamp wrote, if any.
pub fn keep_hop(ev: &HopEvent, filter: &RecordFilter, verify: Option<&str>) -> bool {
    let local = if filter.loopback {
        ev.hop.is_local_submission()
    } else {
        ev.local
    };
    if local || !hops::hop_kept(ev.hop, filter) {
        return false;
    }
    match verify {
        Some(w) => match &ev.hop.tls {
            HopTls::Tls(d) => d
                .verify
                .as_ref()
                .is_some_and(|v| v.as_str().eq_ignore_ascii_case(w.trim())),
            _ => false,
        },
        None => true,
    }
}

/// The terminal view: records grouped by session, coloured, each with its source line
/// under it with `--raw`. Message stores are left to the NDJSON view (`--json`).
fn timeline(
    args: &Args,
    sources: &[crate::input::SourceFile],
    opts: &Options,
    filter: &RecordFilter,
    tty: bool,
) -> Result<u8, Error> {
    let mut c = collect::collect(
        sources,
        opts,
        |r| filter.keep(r) && keep_extra(r, args.verify.as_deref(), args.errors_only),
        |_| false,
    );
    by_time(&mut c.items);
    let groups = sessions::group(&c.items);
    let raw = if args.raw {
        let wanted: Vec<&crate::model::Source> =
            c.items.iter().map(|i| &i.record.meta().source).collect();
        match RawLines::read(sources, &wanted) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!(
                    "mailtls events: --raw: re-reading the logs: {}",
                    crate::model::text::plain_error(&e)
                );
                None
            }
        }
    } else {
        None
    };
    let painter = Painter::new(args.color.enabled(tty));
    let text = sessions::render(&groups, &painter, raw.as_ref());
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Error::Failed(format!(
            "writing output: {}",
            crate::model::text::plain_error(&e)
        )));
    }
    if !args.quiet {
        for w in &c.report.warnings {
            if opts.needles.is_some() && super::peer::is_nothing_recognised(w) {
                continue;
            }
            eprintln!("mailtls: warning: {w}");
        }
        for (src, why) in &c.report.malformed {
            eprintln!("mailtls: warning: {src}: malformed line skipped: {why}");
        }
    }
    let s = &c.report.summary;
    if s.files == s.files_unreadable {
        return Err(Error::Failed("nothing could be read".to_owned()));
    }
    Ok(exit::OK)
}

/// Records per batch handed to the writing thread: about 1.6 MB of NDJSON, few enough
/// that `events | head -1` stops the read after a few megabytes of log.
const BATCH: usize = 4096;

/// A batch not yet full is handed over anyway after this long, so a slow input (stdin
/// from a live log) still comes out as it is read.
const BATCH_AGE: Duration = Duration::from_millis(200);

/// Reads the logs and writes the kept records to stdout, in log order, as NDJSON
/// (`mailtls.event/1`, or ECS with `ecs`). The correlating thread only filters and
/// batches the records: formatting them ([`EventWriter`]) and writing them happen on a
/// thread of their own, one batch at a time, so the two overlap (formatting was a third
/// of `events`' time, all on the correlating thread). A failed write (a closed pipe) sets
/// `stop`, which ends the read; the error is returned with the run's report.
fn write_records(
    sources: &[crate::input::SourceFile],
    opts: &Options,
    stop: &AtomicBool,
    ecs: bool,
    keep: impl Fn(&Record) -> bool,
) -> (pipeline::RunReport, Option<std::io::Error>) {
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<Record>>(2);
    // Emptied batches come back, so their room is reused.
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<Record>>();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Option<std::io::Error> {
            let mut out = std::io::stdout().lock();
            let mut w = EventWriter::default();
            let mut buf: Vec<u8> = Vec::with_capacity(2 << 20);
            for mut batch in full_rx {
                buf.clear();
                for r in &batch {
                    if ecs {
                        // Writing into a Vec cannot fail.
                        let _ = serde_json::to_writer(&mut buf, &ecs_json(r));
                        buf.push(b'\n');
                    } else {
                        w.write(&mut buf, r);
                    }
                }
                // The records are dropped here, not on the correlating thread (measured:
                // less CPU in all, and none of it on the busiest thread).
                batch.clear();
                // The reading side may be gone already; the batch is then simply dropped.
                let _ = empty_tx.send(batch);
                if let Err(e) = out.write_all(&buf).and_then(|()| out.flush()) {
                    stop.store(true, Ordering::Relaxed);
                    return Some(e);
                }
            }
            None
        });
        let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
        let mut since = Instant::now();
        let hand_over = |batch: &mut Vec<Record>| {
            let next = empty_rx
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH));
            // The writer is gone only after a failed write, which set `stop` already.
            let _ = full_tx.send(std::mem::replace(batch, next));
        };
        let report = pipeline::run(sources, opts, |r| {
            if stop.load(Ordering::Relaxed) || !keep(&r) {
                return;
            }
            batch.push(r);
            let n = batch.len();
            // The clock is read on every record of a small batch (a slow input) and on
            // every 64th of a large one (a fast read, which fills its batch soon anyway).
            if n >= BATCH || ((n < 64 || n.is_multiple_of(64)) && since.elapsed() >= BATCH_AGE) {
                hand_over(&mut batch);
                since = Instant::now();
            }
        });
        if !batch.is_empty() {
            hand_over(&mut batch);
        }
        drop(full_tx);
        let error = writer
            .join()
            .unwrap_or_else(|_| Some(std::io::Error::other("the writing thread failed")));
        (report, error)
    })
}

/// Runs `events` and streams the lines to stdout.
pub fn run(args: &Args) -> Result<u8, Error> {
    let utc: FixedOffset = Utc.fix();
    let filter = args.select.record_filter()?;
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(Error::Usage(
                "no input: give log files or directories, or - for stdin".to_owned(),
            ));
        }
        paths.push(PathBuf::from("-"));
    }
    let messages::Inputs {
        logs: mut sources,
        stores,
        errors,
        skipped,
    } = messages::split_inputs_with(&paths, !args.select.no_skip);
    for e in &errors {
        eprintln!("mailtls: {}", crate::model::text::plain_error(&e));
    }
    messages::note_skipped(&skipped);
    // TLS-RPT report files are not logs (`scan` reads them; events has no line for them).
    let report_files = crate::tlsrpt::read::find_files(&paths, &sources, &stores);
    sources.retain(|s| s.path.as_ref().is_none_or(|p| !report_files.contains(p)));
    let stores = args.stores.pick(&mut sources, stores);
    if sources.is_empty() && stores.is_empty() {
        return Err(Error::Failed("nothing to read".to_owned()));
    }
    let mut opts = Options {
        year: args.select.year,
        zone: if args.select.utc {
            Zone::Fixed(utc)
        } else {
            Zone::Local
        },
        ..Options::default()
    };
    // With --peer only the lines that can matter to the peer are parsed (the records kept
    // are the same: tests/it/triage_scope.rs).
    if let Some(peer) = &args.select.peer {
        super::peer::narrow(
            &mut opts,
            &sources,
            &crate::triage::scope::Question::Peer(peer.clone()),
            args.no_prefilter,
        );
    }
    let tty = std::io::stdout().is_terminal();
    if args.raw && matches!(args.format, Some(EventsFormat::Json | EventsFormat::Ecs)) {
        return Err(Error::Usage("--raw shows source lines in the timeline; the JSON records carry their file and line already".to_owned()));
    }
    if args.wants_timeline(tty) {
        return timeline(args, &sources, &opts, &filter, tty);
    }
    // The records carry no envelope addresses, DSN or status text of a good delivery (the
    // timeline above shows them): the parsers need not build them (`parse::Detail`).
    opts.detail = crate::parse::Detail::Records;
    // A closed pipe (`events | head`) stops the read: nothing more can be written.
    let stop = Arc::new(AtomicBool::new(false));
    opts.stop = Some(Arc::clone(&stop));
    let stdout = std::io::stdout();
    let (report, mut write_error) = write_records(&sources, &opts, &stop, args.is_ecs(), |r| {
        filter.keep(r) && keep_extra(r, args.verify.as_deref(), args.errors_only)
    });
    let mut out = BufWriter::new(stdout.lock());
    // Hops are receptions with no verify word of a log's kind and no error: `--errors-only`
    // has none; `--ecs` has no mapping for them yet.
    let mut summary = MessagesSummary::default();
    let walked = !stores.is_empty() && !args.errors_only && !args.is_ecs();
    if walked {
        hops::walk(&stores, args.stores.ours(), &mut summary, |m, trust, _| {
            for ev in hops::hop_events(m, trust) {
                if write_error.is_some() || !keep_hop(&ev, &filter, args.verify.as_deref()) {
                    continue;
                }
                if let Err(e) = writeln!(out, "{}", hop_json(&ev)) {
                    write_error = Some(e);
                }
            }
        });
    }
    if let Err(e) = out.flush() {
        write_error.get_or_insert(e);
    }
    if let Some(e) = write_error
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Error::Failed(format!(
            "writing output: {}",
            crate::model::text::plain_error(&e)
        )));
    }
    if !args.quiet {
        for w in &report.warnings {
            if opts.needles.is_some() && super::peer::is_nothing_recognised(w) {
                continue;
            }
            eprintln!("mailtls: warning: {}", terminal(&w.to_string()));
        }
        for (src, why) in &report.malformed {
            eprintln!(
                "mailtls: warning: {}: malformed line skipped: {}",
                terminal(&src.to_string()),
                terminal(why)
            );
        }
        for p in &summary.problems {
            eprintln!("mailtls: warning: {}", terminal(&p.to_string()));
        }
    }
    let s = &report.summary;
    // Stores that were not read (`--errors-only`, `--ecs`) are not a failure to read.
    let stores_unread = stores.is_empty() || (walked && summary.messages == 0);
    if s.files == s.files_unreadable && stores_unread {
        return Err(Error::Failed("nothing could be read".to_owned()));
    }
    Ok(exit::OK)
}
