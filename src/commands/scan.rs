//! `mailtls scan [PATH…]`: per-peer TLS posture from mail logs and stored messages.
//!
//! ```text
//! mailtls scan sample-logs/                       table, worst peers first
//! mailtls scan /var/log/mail.log* --format json   mailtls.posture/2 snapshot
//! zcat maillog.2.gz | mailtls scan -              stdin
//! mailtls scan logs/ --peer example.org --since 2026-11-27 --direction out
//! mailtls scan /var/mail/ ~/Maildir --messages-only --our-hosts mx1.example.net
//! mailtls scan /var/log/mail.log* --since 24h -o reports/$(date +%F) \
//!     --compare reports/yesterday/posture.json --policy /etc/mailtls/policy.toml
//! ```
//!
//! Message stores among the paths (mbox, `.gz` mbox, Maildir, `.eml`, found by content) are
//! read for their `Received:` headers ([`crate::stores::hops`]): hops stamped by our own hosts join
//! the posture (once: a hop whose queue id the logs already showed is not counted again),
//! the rest is reported apart as claimed.
//!
//! TLS-RPT reports (RFC 8460) among the paths, as `.json`/`.json.gz` files or attached to
//! stored messages, are read ([`crate::tlsrpt`]) and joined with the inbound log records
//! of the same window and MX host: a table section, the snapshot's `tlsrpt` member, and
//! `tlsrpt.json` plus an HTML section in the report folder.
//!
//! `-o DIR` writes the report folder ([`crate::report::write_dir`]); `--policy` judges
//! ([`crate::analysis::policy`]). The charts' time series and the silent-downgrade windows come from
//! the log records only.
//!
//! Exit codes ([`super::exit`], README "Exit codes"): 0 read and reported; 1 when a policy
//! is enforced and the posture violates it; 2 when nothing useful was done (no input, every
//! path missing or unreadable, nothing recognised in what was read, an unusable argument,
//! output that could not be written); 3 when the report was made but some inputs were
//! missing, unreadable, or truncated or replaced while read (wins over 1); 4 when a policy
//! is enforced and the selection left nothing to judge (0 with `--allow-empty`). Malformed
//! lines are warned about on stderr, naming file and line, and do not change the exit code.
//!
//! A policy is enforced when one is asked for: `--policy FILE`, or `--fail-on-violations`
//! for the built-in one. Without either the built-in policy only grades, and every report
//! calls what it finds "findings (not enforced)", never "violations", so that the page
//! and the exit code say the same thing to a cron job ([`Report::enforced`]).

use super::Error;
use crate::model::text::terminal;
use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::path::PathBuf;

use chrono::{Local, NaiveDate, Offset, Utc};
use clap::ValueEnum;

use super::{exit, progress};
use crate::analysis::compare::compare;
use crate::analysis::downgrade::Downgrades;
use crate::analysis::filter::Left;
use crate::analysis::policy::{self, Policy};
use crate::analysis::posture_fold::PostureFold;
use crate::analysis::timeline::Timeline;
use crate::model::Direction;
use crate::model::Record;
use crate::parse::envelope::Zone;
use crate::pipeline::{self, Options};
use crate::report::json::{DuplicateNote, Identity, InputNotes};
use crate::report::tlsrpt::TlsRptDoc;
use crate::report::{self, Report, Snapshot};
use crate::stores::hops::{self, OurHosts};
use crate::stores::messages;
use crate::tlsrpt::{self, join::InboundLog};

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people (default).
    Table,
    /// The `mailtls.posture/2` snapshot (stable, documented in docs/json.md).
    Json,
    /// One row per peer and direction, with grade and reason (formula cells neutralised).
    Csv,
    /// The Markdown summary (what a nightly job mails).
    Md,
    /// The self-contained HTML page (charts embedded).
    Html,
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
  mailtls scan /var/log/mail.log* --since 24h -o reports/nightly --policy p.toml
  mailtls scan /var/log/mail.log* --compare reports/previous/posture.json
  mailtls scan sample-logs/maillog --year 2026 --wide --color never

Logs are read oldest rotation first; .gz files are inflated transparently. Syslog stamps
without a year take it from the file's modification time (or --year), and are read in the
local time zone (or UTC with --utc).

Message stores (mbox, .gz mbox, Maildir with cur/ and new/, single .eml files) are found
among the paths by their content. Only Received: headers stamped by our own hosts
(--our-hosts, else the most frequent `by` of the top header; a stamp just below a hop from
a loopback or private address is an internal relay's, hence ours too) count as witnessed
and join the posture; hops below the first foreign stamp are only claims, reported apart.

TLS-RPT reports (RFC 8460) among the paths, as .json/.json.gz files or attached to messages
in those stores, are read and joined with the inbound log records of the same window and MX
host (the syslog host): what each reporter says beside what our log shows, mismatches
flagged both ways (format mailtls.tlsrpt/1, see docs/tlsrpt.md). Invalid reports are named
and skipped; .json files that are no report (no report-id or policies) are skipped with one
note.

A line met again in a later input (same host, second, program, pid, text; any stamp format:
Debian's syslog + mail.log + mail.info) is counted once, and the summary says per file what
was already read where. Walked files that are sparse, binary, or show no mail-log line in
their first 256 KiB are skipped with a note (--no-skip reads them).

A policy is enforced only when asked for: --policy FILE, or --fail-on-violations for the
built-in one. Then its violations are listed on stderr, headlined in every report, and make
exit 1. Without either the built-in policy only grades peers: reports list its findings as
not enforced, and the exit code stays 0.

Exit codes: 0 done (and no violation of an enforced policy); 1 violations of an enforced
policy; 2 nothing done (no input, nothing recognised, bad argument, output not written); 3
report made but some inputs missing or cut short; 4 policy enforced but nothing left to
judge (--allow-empty: 0).")]
pub struct Args {
    /// Log files, rotated .gz logs, message stores (mbox, Maildir, .eml), directories (read
    /// recursively), or - for stdin. Without a path, stdin is read when it is not a terminal.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub select: super::Selection,

    /// Output format on stdout (default: table; with -o, nothing unless given).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,

    /// The same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Show every column of the table, whatever the terminal's width.
    #[arg(long)]
    pub wide: bool,

    /// Colour the table: auto (when stdout is a terminal and NO_COLOR is unset), always,
    /// never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = report::ColorWhen::Auto)]
    pub color: report::ColorWhen,

    /// Write a report folder: index.html, posture.json, posture.csv, summary.md,
    /// charts/*.svg, charts/*.png, and tlsrpt.json when TLS-RPT reports were read.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub judge: Judging,

    #[command(flatten)]
    pub stores: StoreFlags,

    /// Do not print warnings about unreadable files and malformed lines, nor the progress
    /// bar (shown on a terminal for inputs over 64 MiB).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// With an enforced policy (--policy, --fail-on-violations): a run that kept no record
    /// to judge (nothing in the time window, only loopback peers) exits 0 instead of 4.
    #[arg(long)]
    pub allow_empty: bool,

    /// Print (on stderr, with file and line) the first N lines of the mail programs that
    /// no parser understood. They are counted per program in the summary either way.
    #[arg(long, value_name = "N")]
    pub explain_unparsed: Option<usize>,
}

/// Which of the inputs are read and whose `Received:` stamps are trusted, shared by `scan`
/// and `events` (both read logs and message stores from the same paths).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StoreFlags {
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
}

impl StoreFlags {
    /// Drops the logs (`--messages-only`) or the stores (`--logs-only`) that were found.
    pub fn pick(
        &self,
        logs: &mut Vec<crate::input::SourceFile>,
        stores: Vec<messages::Store>,
    ) -> Vec<messages::Store> {
        if self.messages_only {
            logs.clear();
        }
        if self.logs_only { Vec::new() } else { stores }
    }

    /// `--our-hosts` when given; otherwise the stores' own guess decides.
    pub fn ours(&self) -> Option<OurHosts> {
        (!self.our_hosts.is_empty()).then(|| OurHosts::given(&self.our_hosts))
    }
}

/// How a report is judged and stamped, shared by `scan` and `report` (a fleet's report is
/// judged exactly as one scan of all its logs would be).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Judging {
    /// Judge against this TOML policy (see docs/reports.md) and enforce it: list violations on
    /// stderr and exit 1 when there are any. Without it the built-in policy grades peers
    /// and never fails (unless --fail-on-violations).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Enforce the built-in policy as --policy FILE enforces a file's: list its violations
    /// on stderr and exit 1 when there are any (implied by --policy).
    #[arg(long)]
    pub fail_on_violations: bool,

    /// Compare with a previous posture.json: new peers, downgrades, new error kinds,
    /// clear-text growth.
    #[arg(long, value_name = "posture.json")]
    pub compare: Option<PathBuf>,

    /// For every peer we delivered to, say whether requiring TLS (or verified TLS) would
    /// have failed a delivery, with access-map and Postfix entries for the safe ones.
    #[arg(long)]
    pub enforce_readiness: bool,

    /// The day policy exceptions are judged against (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,

    /// The generation stamp printed in index.html and summary.md (default: now, in UTC
    /// with --utc, else local time). Give one to make two runs on the same logs give the
    /// same files.
    #[arg(long, value_name = "TEXT")]
    pub generated_at: Option<String>,
}

/// What [`Judging`] loads before anything is read: a bad policy or `--compare` file stops
/// the run early.
pub struct Loaded {
    pub policy: Policy,
    /// A file name, or "built-in".
    pub policy_source: String,
    pub previous: Option<Snapshot>,
}

/// The conclusions a [`Report`] shows beside its snapshot.
pub struct Judged {
    pub loaded: Loaded,
    pub evaluation: policy::Evaluation,
    pub comparison: Option<crate::analysis::compare::Comparison>,
    pub readiness: Option<Vec<policy::Readiness>>,
    pub generated: String,
    pub enforced: bool,
}

impl Judging {
    /// Loads the policy and the previous snapshot.
    pub fn load(&self) -> Result<Loaded, Error> {
        let (policy, policy_source) = load_policy(self)?;
        let previous = load_previous(self)?;
        Ok(Loaded {
            policy,
            policy_source,
            previous,
        })
    }

    /// Judges a finished snapshot: the policy's grades and violations (plaintext inside our
    /// own downgrade windows is not held against the peers), the comparison, the readiness,
    /// the generation stamp (UTC when `utc`).
    pub fn judge(&self, loaded: Loaded, snap: &Snapshot, utc: bool) -> Judged {
        let today = self.as_of.unwrap_or_else(|| Local::now().date_naive());
        let outage = crate::analysis::downgrade::outage(&snap.windows);
        let no_tls: Vec<_> = snap
            .host_tls
            .without_tls(&snap.windows, &snap.posture)
            .collect();
        let evaluation =
            policy::evaluate_with(&loaded.policy, &snap.posture, &outage, &no_tls, today);
        let mut outage = outage;
        crate::analysis::host_tls::add_outage(&no_tls, &mut outage);
        let comparison = loaded
            .previous
            .as_ref()
            .map(|p| compare(&p.posture, &snap.posture));
        let readiness = self
            .enforce_readiness
            .then(|| policy::enforce_readiness_with(&snap.posture, &outage));
        let generated = self.generated_at.clone().unwrap_or_else(|| {
            if utc {
                Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
            } else {
                Local::now().format("%Y-%m-%d %H:%M %:z").to_string()
            }
        });
        Judged {
            loaded,
            evaluation,
            comparison,
            readiness,
            generated,
            // A policy is enforced only when asked for (the page and the exit code agree).
            enforced: self.policy.is_some() || self.fail_on_violations,
        }
    }
}

impl Judged {
    /// The report of `snap` with these conclusions; `inputs` as given on the command line.
    pub fn report<'a>(&'a self, snap: &'a Snapshot, inputs: Vec<String>) -> Report<'a> {
        Report {
            snap,
            timeline: &snap.timeline,
            windows: &snap.windows,
            policy: &self.loaded.policy,
            policy_source: self.loaded.policy_source.clone(),
            evaluation: &self.evaluation,
            comparison: self.comparison.as_ref(),
            readiness: self.readiness.as_deref(),
            generated: Some(self.generated.clone()),
            enforced: self.enforced,
            inputs,
            trend: None,
        }
    }
}

/// Runs the scan and prints the report: find the inputs, load what judges them, read and
/// fold, build the snapshot, render, and give the exit code the findings call for.
pub fn run(args: &Args) -> Result<u8, Error> {
    let filter = args.select.record_filter()?;
    let mut found = find_inputs(args)?;
    let mut notes = std::mem::take(&mut found.notes);
    let (sources, stores) = (&found.sources, &found.stores);
    let progress = progress::Progress::start(sources, args.quiet);
    let opts = Options {
        progress: progress.as_ref().map(progress::Progress::counter),
        year: args.select.year,
        zone: if args.select.utc {
            Zone::Fixed(Utc.fix())
        } else {
            Zone::Local
        },
        keep_unparsed: args.explain_unparsed.unwrap_or(0),
        // Only records are folded: no envelope addresses or status texts are built.
        detail: crate::parse::Detail::Records,
        ..Options::default()
    };
    let loaded = args.judge.load()?;

    // Report files are read first; report messages come with the one read of the stores,
    // after the logs (whose queue ids the stores' hops are checked against). The logs keep
    // what a report is joined with whenever a report may turn up.
    let mut rpt = tlsrpt::read::Reader::with_files(&found.report_files);
    let may_report = !found.report_files.is_empty() || !stores.is_empty();
    let folded = read_logs(sources, &opts, &filter, !stores.is_empty(), may_report);
    folded.note(&mut notes);
    if let Some(p) = progress {
        p.finish();
    }
    let report = folded.report;
    let mut posture = folded.posture.into_posture();
    let msgs = (!stores.is_empty()).then(|| {
        let (witnessed, summary) = hops::scan(
            stores,
            args.stores.ours(),
            &filter,
            &folded.log_ids,
            Some(&mut |item| rpt.take(item)),
        );
        posture.merge(witnessed);
        summary
    });
    let (rpt_model, rpt_read) = rpt.finish();
    let want_rpt = rpt_read.files + rpt_read.messages > 0;
    warn_about_reading(args, &report, msgs.as_ref(), &rpt_read);
    let messages_read = msgs.as_ref().map_or(0, |m| m.messages);
    something_was_read(&report, messages_read, rpt_read.reports, &found)?;
    if !args.quiet {
        for d in &notes.duplicates {
            eprintln!(
                "mailtls: note: {}: {} already read from {} (counted once)",
                terminal(&d.file),
                crate::model::text::count(d.lines, "line", "lines"),
                terminal(&d.first_read_in)
            );
        }
    }

    let hosts: Vec<String> = report.hosts.iter().cloned().collect();
    let mut snap = Snapshot::new(report.summary, posture);
    snap.messages = msgs;
    if want_rpt {
        let joined = tlsrpt::join::join(&rpt_model, &folded.inbound);
        snap.tlsrpt = Some(TlsRptDoc::new(&rpt_model, rpt_read, joined));
    }
    snap.identity = Some(Identity::of(&snap, hosts));
    let reports_read = snap.tlsrpt.as_ref().is_some_and(|t| !t.reports.is_empty());
    notes.empty =
        snap.posture.peers.is_empty() && snap.posture.local_errors.is_empty() && !reports_read;
    if let Some(b) = notes.banner()
        && !args.quiet
    {
        eprintln!("mailtls scan: {b}");
    }
    let incomplete = !notes.incomplete.is_empty();
    let empty = notes.empty;
    if notes != InputNotes::default() {
        snap.input = Some(notes);
    }
    snap.windows = folded.downgrades.finish();
    snap.host_tls = folded.host_tls.finish();
    snap.timeline = folded.timeline;
    let judged = args.judge.judge(loaded, &snap, args.select.utc);
    let rep = judged.report(
        &snap,
        found
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    );
    write_report_dir(args.output.as_deref(), args.quiet, &rep)?;
    let format = match (args.format, &args.output) {
        (_, _) if args.json => Some(Format::Json),
        (Some(f), _) => Some(f),
        (None, None) => Some(Format::Table),
        (None, Some(_)) => None,
    };
    print(format, args.wide, args.color, &rep)?;
    Ok(exit_code("scan", args.allow_empty, &rep, empty, incomplete))
}

/// What the command line's paths held, sorted once: logs, message stores, TLS-RPT report
/// files, what was skipped and why, and the notes that go into the snapshot.
struct Found {
    paths: Vec<PathBuf>,
    sources: Vec<crate::input::SourceFile>,
    stores: Vec<messages::Store>,
    report_files: Vec<PathBuf>,
    skipped: Vec<(std::sync::Arc<str>, crate::input::sniff::Skip)>,
    unrelated_json: u64,
    notes: InputNotes,
}

/// Finds the inputs; no input at all (or nothing readable in them) is an error.
fn find_inputs(args: &Args) -> Result<Found, Error> {
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(Error::Usage("no input: give log files or directories (e.g. mailtls scan /var/log/mail.log), or - for stdin".to_owned()));
        }
        paths.push(PathBuf::from("-"));
    }
    // Message stores are found first so that their files never reach the log parser.
    let messages::Inputs {
        logs: mut sources,
        stores,
        errors,
        skipped,
    } = messages::split_inputs_with(&paths, !args.select.no_skip);
    let mut notes = InputNotes::default();
    for e in &errors {
        eprintln!("mailtls: {}", crate::model::text::plain_error(&e));
        // A path that is not there (or not readable) is an input the run lacks; an empty
        // directory is not.
        if !matches!(e, crate::input::DiscoverError::EmptyDir { .. }) {
            notes.incomplete.push(format!("{e}"));
        }
    }
    if !args.quiet {
        messages::note_skipped(&skipped);
    }
    notes.skipped = skipped
        .iter()
        .map(|(f, why)| format!("{f}: {why}"))
        .collect();
    // TLS-RPT report files (.json, .json.gz) are found by content and never reach the log
    // parser; reports inside message stores are read from the stores below. JSON that
    // claims nothing of a report is skipped with one note for all.
    let (report_files, unrelated_json) =
        tlsrpt::read::find_files_counted(&paths, &sources, &stores);
    notes.unrelated_json = unrelated_json;
    if unrelated_json > 0 && !args.quiet {
        eprintln!(
            "mailtls: note: {unrelated_json} .json file(s) found are not TLS-RPT reports (no report-id or policies): skipped"
        );
    }
    sources.retain(|s| s.path.as_ref().is_none_or(|p| !report_files.contains(p)));
    let stores = args.stores.pick(&mut sources, stores);
    if sources.is_empty() && stores.is_empty() && report_files.is_empty() {
        return Err(Error::Failed(format!(
            "nothing to read: {}",
            what_was_found(&paths, &errors, &skipped, unrelated_json)
        )));
    }

    Ok(Found {
        paths,
        sources,
        stores,
        report_files,
        skipped,
        unrelated_json,
        notes,
    })
}

/// The policy that judges the run: `--policy FILE`, or the built-in one.
fn load_policy(args: &Judging) -> Result<(Policy, String), Error> {
    let Some(path) = &args.policy else {
        return Ok((Policy::default(), "built-in".to_owned()));
    };
    let refused = |e: &dyn std::fmt::Display| {
        Error::Usage(format!(
            "--policy {}: {}",
            path.display(),
            crate::model::text::plain_error(e)
        ))
    };
    let text = std::fs::read_to_string(path).map_err(|e| refused(&e))?;
    let policy = Policy::from_toml(&text).map_err(|e| refused(&e))?;
    let policy_source = path.display().to_string();
    Ok((policy, policy_source))
}

/// The snapshot `--compare` names, if any.
fn load_previous(args: &Judging) -> Result<Option<Snapshot>, Error> {
    let previous = match &args.compare {
        None => None,
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                Snapshot::parse(&path.display().to_string(), &t).map_err(|e| e.to_string())
            }) {
            Ok(s) => Some(s),
            Err(e) => {
                return Err(Error::Usage(format!(
                    "--compare {}: {}",
                    path.display(),
                    crate::model::text::plain_error(&e)
                )));
            }
        },
    };

    Ok(previous)
}

/// Everything one pass over the logs folds: posture, timeline, downgrade windows, the
/// inbound log TLS-RPT reports are joined with, and what the selection left out.
#[derive(Default)]
struct Folded {
    report: pipeline::RunReport,
    /// Interned and typed while folding; a [`crate::analysis::posture::Posture`] once
    /// the read is done.
    posture: PostureFold,
    timeline: Timeline,
    downgrades: Downgrades,
    host_tls: crate::analysis::host_tls::HostTlsFold,
    inbound: InboundLog,
    /// Queue ids of inbound messages seen in the logs: a stored message stamped with one
    /// of them is the same message, already counted.
    log_ids: HashSet<crate::model::QueueId>,
    left_out: BTreeMap<Left, u64>,
    loopback_peers: HashSet<String>,
    /// The last loopback peer left out, already in `loopback_peers`: its key is not built
    /// again for each of its records (a local submitter sends most of the mail).
    last_loopback: Option<crate::model::Peer>,
    records: u64,
}

/// Reads the logs once and folds every record the filter keeps; with `keep_inbound`, also
/// what a TLS-RPT report is joined with.
fn read_logs(
    sources: &[crate::input::SourceFile],
    opts: &Options,
    filter: &crate::analysis::filter::RecordFilter,
    want_ids: bool,
    keep_inbound: bool,
) -> Folded {
    let mut f = Folded::default();
    let mut clock = crate::correlate::DayClock::default();
    f.report = pipeline::run(sources, opts, |r| {
        f.records += 1;
        if want_ids
            && let Record::Message {
                direction: Direction::Inbound,
                queue_id,
                ..
            } = &r
        {
            f.log_ids.insert(queue_id.clone());
        }
        match filter.reject(&r) {
            None => {
                f.host_tls.add(&r);
                // A client's hang-up after our own 454 is our outage, not the peer's
                // failure: the window counts it, the peer's posture does not.
                if f.downgrades.add(&r) {
                    return;
                }
                if keep_inbound {
                    f.inbound.add(&r);
                }
                f.posture.add(&r);
                f.timeline.add_with(&r, &mut clock);
            }
            Some(why) => {
                *f.left_out.entry(why).or_default() += 1;
                if why == Left::Loopback
                    && let Some(p) = r.peer()
                    && f.last_loopback.as_ref() != Some(p)
                {
                    if let Some(k) = p.key()
                        && !f.loopback_peers.contains(&k)
                    {
                        f.loopback_peers.insert(k);
                    }
                    f.last_loopback = Some(p.clone());
                }
            }
        }
    });
    f
}

impl Folded {
    /// What the read adds to the input notes: records, left out, incomplete, duplicates.
    fn note(&self, notes: &mut InputNotes) {
        notes.records = self.records;
        notes.left_out = self
            .left_out
            .iter()
            .map(|(k, n)| (k.as_str().to_owned(), *n))
            .collect();
        notes.loopback_peers = self.loopback_peers.len() as u64;
        let mut keys: Vec<String> = self.loopback_peers.iter().cloned().collect();
        keys.sort();
        notes.loopback_keys = keys;
        notes.state_evicted = self.report.state_evicted;
        notes
            .incomplete
            .extend(self.report.incomplete.iter().cloned());
        notes.duplicates = self
            .report
            .duplicates
            .iter()
            .map(|(f, first, n)| DuplicateNote {
                file: f.to_string(),
                first_read_in: first.to_string(),
                lines: *n,
            })
            .collect();
    }
}

/// The warnings of the read (malformed lines, messages and reports; `--explain-unparsed`).
fn warn_about_reading(
    args: &Args,
    report: &pipeline::RunReport,
    msgs: Option<&hops::MessagesSummary>,
    rpt_read: &tlsrpt::read::ReadSummary,
) {
    if !args.quiet {
        for w in &report.warnings {
            eprintln!("mailtls: warning: {}", terminal(&w.to_string()));
        }
        for (src, why) in &report.malformed {
            eprintln!(
                "mailtls: warning: {}: malformed line skipped: {}",
                terminal(&src.to_string()),
                terminal(why)
            );
        }
        let more = report
            .summary
            .lines_malformed
            .saturating_sub(report.malformed.len() as u64);
        if more > 0 {
            eprintln!("mailtls: warning: … and {more} more malformed lines");
        }
        if let Some(m) = msgs {
            for p in &m.problems {
                eprintln!("mailtls: warning: {}", terminal(&p.to_string()));
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
            eprintln!(
                "mailtls: unparsed: {}: {}",
                terminal(&src.to_string()),
                terminal(line)
            );
        }
        let total: u64 = report.summary.unparsed.values().sum();
        let more = total.saturating_sub(report.unparsed.len() as u64);
        if more > 0 {
            eprintln!("mailtls: unparsed: … and {more} more");
        }
    }
    if !args.quiet {
        for p in &rpt_read.problems {
            eprintln!("mailtls: warning: {}", terminal(&p.to_string()));
        }
        let more = rpt_read
            .invalid
            .saturating_sub(rpt_read.problems.len() as u64);
        if more > 0 {
            eprintln!("mailtls: warning: … and {more} more invalid TLS-RPT reports");
        }
    }
}

/// A run that read nothing, or recognised nothing, is an error (exit 2), never a clean
/// report.
fn something_was_read(
    report: &pipeline::RunReport,
    messages_read: u64,
    reports_read: u64,
    found: &Found,
) -> Result<(), Error> {
    let s = &report.summary;
    let (sources, skipped) = (&found.sources, &found.skipped);
    if s.files == s.files_unreadable && messages_read == 0 && reports_read == 0 {
        return Err(Error::Failed("nothing could be read".to_owned()));
    }
    if s.lines_recognized == 0 && messages_read == 0 && reports_read == 0 {
        let names: Vec<String> = sources
            .iter()
            .take(10)
            .map(|f| terminal(&f.display).into_owned())
            .collect();
        return Err(Error::Failed(format!(
            "nothing recognised: no mail-log line in {} ({}: {}{}){}",
            crate::model::text::count(s.files, "file", "files"),
            crate::model::text::count(s.lines_read, "line", "lines"),
            names.join(", "),
            if sources.len() > names.len() {
                ", …"
            } else {
                ""
            },
            if skipped.is_empty() && found.unrelated_json == 0 {
                String::new()
            } else {
                format!(
                    "; {}",
                    what_was_found(&found.paths, &[], skipped, found.unrelated_json)
                )
            }
        )));
    }
    Ok(())
}

/// `-o DIR`: the whole report, written atomically.
pub fn write_report_dir(
    output: Option<&std::path::Path>,
    quiet: bool,
    rep: &Report,
) -> Result<(), Error> {
    if let Some(dir) = output {
        match report::write_dir(rep, dir) {
            Ok(files) => {
                if !quiet {
                    eprintln!(
                        "mailtls: wrote {} ({})",
                        dir.join("index.html").display(),
                        crate::model::text::count(files.len() as u64, "file", "files")
                    );
                }
            }
            Err(e) => {
                return Err(Error::Failed(format!(
                    "-o {}: {}",
                    dir.display(),
                    crate::model::text::plain_error(&e)
                )));
            }
        }
    }
    Ok(())
}

/// [`render`] onto stdout; the JSON snapshot is streamed (a large input's is megabytes,
/// held whole it was as much again of the peak memory).
pub fn print(
    format: Option<Format>,
    wide: bool,
    color: report::ColorWhen,
    rep: &Report,
) -> Result<(), Error> {
    match format {
        Some(Format::Json) => super::stream_json(rep.snap),
        _ => super::write_stdout(&render(format, wide, color, rep)?),
    }
}

/// The report in `format` for stdout (nothing for `None`, as with only `-o`); `wide` and
/// `color` shape the table.
pub fn render(
    format: Option<Format>,
    wide: bool,
    color: report::ColorWhen,
    rep: &Report,
) -> Result<String, Error> {
    let snap = rep.snap;
    let readiness = rep.readiness;
    let text = match format {
        None => String::new(),
        Some(Format::Json) => snap.to_json(),
        Some(Format::Csv) => match report::csv::render(rep) {
            Ok(t) => t,
            Err(e) => {
                return Err(Error::Failed(format!("csv: {e}")));
            }
        },
        Some(Format::Md) => report::markdown::render(rep),
        Some(Format::Html) => match report::charts::render_all(rep) {
            Ok(c) => report::html::render(rep, &c),
            Err(e) => {
                return Err(Error::Failed(format!("charts: {e}")));
            }
        },
        Some(Format::Table) => {
            let colour = color.enabled();
            let (cols, tty) = report::table::terminal_width();
            let width = (!wide).then_some(cols);
            let wrap_to = width.filter(|_| tty);
            let mut t = report::table::render_report(rep, colour, width, wrap_to);
            if let Some(m) = &snap.messages {
                t.push_str(&report::table::fit(
                    &report::messages::render(m, colour, wrap_to),
                    wrap_to,
                ));
            }
            if let Some(doc) = &snap.tlsrpt {
                t.push_str(&report::table::fit(
                    &report::tlsrpt::render_table(doc, colour, wrap_to),
                    wrap_to,
                ));
            }
            if let Some(rd) = readiness {
                t.push_str(&report::table::readiness(rd));
            }
            t
        }
    };
    Ok(text)
}

/// The exit code: 1 for violations of an enforced policy (`--policy`, `--fail-on-violations`),
/// 4 for nothing to judge under it, 3
/// for inputs not read to their end (wins: a partial run is never taken for a whole one).
/// `command` names the command in the messages.
pub fn exit_code(
    command: &str,
    allow_empty: bool,
    rep: &Report,
    empty: bool,
    incomplete: bool,
) -> u8 {
    let evaluation = rep.evaluation;
    let snap = rep.snap;
    let mut code = exit::OK;
    if rep.enforced {
        for v in &evaluation.violations {
            // Peer names and the violation text come from logs and policy files:
            // through the one terminal escaper (SECURITY.md).
            eprintln!(
                "mailtls: violation: {} {}{}: {}",
                terminal(&v.rule.to_string()),
                terminal(v.peer.as_deref().unwrap_or("overall")),
                v.direction
                    .map(|d| format!(" ({})", d.as_str()))
                    .unwrap_or_default(),
                terminal(&v.text)
            );
        }
        for e in &evaluation.expired {
            eprintln!(
                "mailtls: warning: policy exception for {} expired on {}",
                terminal(&e.peer.to_string()),
                terminal(&e.expires.to_string())
            );
        }
        if !evaluation.violations.is_empty() {
            code = exit::FINDINGS;
        }
        if empty && !allow_empty {
            eprintln!(
                "mailtls {command}: nothing to judge under the enforced policy (--allow-empty accepts it): exit {}",
                exit::NOTHING_TO_JUDGE
            );
            code = exit::NOTHING_TO_JUDGE;
        }
    }
    if incomplete {
        eprintln!(
            "mailtls {command}: incomplete input: {} input(s) not read to the end (see above): exit {}",
            snap.input.as_ref().map_or(0, |n| n.incomplete.len()),
            exit::INCOMPLETE
        );
        code = exit::INCOMPLETE;
    }
    code
}

/// What the paths held that was not read, for the "nothing to read" message.
fn what_was_found(
    paths: &[PathBuf],
    errors: &[crate::input::DiscoverError],
    skipped: &[(std::sync::Arc<str>, crate::input::sniff::Skip)],
    unrelated_json: u64,
) -> String {
    let mut parts = Vec::new();
    let given: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    parts.push(format!("given {}", terminal(&given.join(" "))));
    for e in errors {
        parts.push(terminal(&e.to_string()).into_owned());
    }
    for (f, why) in skipped.iter().take(10) {
        parts.push(format!("{} skipped: {why}", terminal(f)));
    }
    if skipped.len() > 10 {
        parts.push(format!("{} more skipped", skipped.len() - 10));
    }
    if unrelated_json > 0 {
        parts.push(format!(
            "{} that {} no TLS-RPT report",
            crate::model::text::count(unrelated_json, ".json file", ".json files"),
            if unrelated_json == 1 { "is" } else { "are" }
        ));
    }
    // The hint only when something was skipped: after "no such file" it misleads.
    if !skipped.is_empty() {
        parts.push("--no-skip reads skipped files".to_owned());
    }
    parts.join("; ")
}
