//! `mailtls follow PATH`: decoded TLS events live, through log rotation, and Prometheus
//! metrics.
//!
//! ```text
//! mailtls follow /var/log/maillog                      like tail -F, one line per record
//! mailtls follow /var/log/maillog --json               mailtls.event/1 NDJSON
//! mailtls follow /var/log/maillog --errors-only        errors, failing verdicts, alerts
//! mailtls follow /var/log/maillog --verify FAIL --peer example.org
//! mailtls follow /var/log/maillog --metrics 127.0.0.1:9325 --state /var/lib/mailtls/follow.state
//! mailtls follow /var/log/maillog --metrics 127.0.0.1:9325 --tlsrpt-dir ~tlsrpt/Maildir
//! ```
//!
//! `--tlsrpt-dir` also counts TLS-RPT reports arriving in a directory
//! ([`crate::live::watch`]).
//!
//! Starts at the end of the file (`--from-start` reads it all), follows appends,
//! rename-and-create and copytruncate rotation and a missing file (see
//! [`crate::input::follow`]). Local key or certificate errors raise an alert at once, and
//! plaintext mail with peers that used TLS before is reported until TLS works again (see
//! [`crate::live`]). `--state FILE` saves the position (device, inode, fingerprint of
//! the first bytes, offset; fsync + rename) at most once a second and on exit, so that a restarted follower neither repeats nor skips a
//! line. SIGINT or SIGTERM stops it cleanly with a summary on stderr.
//!
//! Exit codes: 0 after a clean stop; 2 for a usage error (an unusable `--metrics`
//! address, an unreadable or foreign `--state` file).

use super::Error;
use std::fs;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{Offset, Utc};
use serde::{Deserialize, Serialize};

use super::exit;
use super::scan::DirArg;
use crate::analysis::filter::RecordFilter;
use crate::input::DEFAULT_MAX_LINE;
use crate::input::follow::{Checkpoint, Chunk, FollowOptions, Follower, Start};
use crate::live::metrics::{DEFAULT_TOP_PEERS, Metrics};
use crate::live::print::{alert_json, alert_line, record_json, record_line};
use crate::live::watch::{DirWatch, SCAN_EVERY};
use crate::live::{DisplayFilter, Live, Output};
use crate::model::{Direction, Verify};
use crate::model::{Encryption, Record};
use crate::parse::envelope::Zone;
use crate::report;

/// Flags of `mailtls follow`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls follow /var/log/maillog
  mailtls follow /var/log/mail.log --json | jq .
  mailtls follow /var/log/maillog --errors-only
  mailtls follow /var/log/maillog --metrics 127.0.0.1:9325 --state follow.state

Alerts about our own TLS (a local key or certificate error; TLS working again) are always
printed, whatever the filters; a downgrade alert (plaintext mail with a peer that used TLS
before, while our TLS is broken) obeys --peer and --direction.")]
pub struct Args {
    /// The log file to follow, by name: rotation and re-creation are followed.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// Read the whole file first instead of starting at its end.
    #[arg(long)]
    pub from_start: bool,

    /// Print mailtls.event/1 NDJSON (one record per line) instead of text.
    #[arg(long)]
    pub json: bool,

    /// text (default) or json (the same as --json).
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with = "json")]
    pub format: Option<super::TextFormat>,

    /// Colour the text: auto (when stdout is a terminal and NO_COLOR is unset), always,
    /// never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = report::ColorWhen::Auto)]
    pub color: report::ColorWhen,

    /// Only this peer: a host name, a domain (matches its hosts) or an IP address.
    #[arg(long, value_name = "NAME|DOMAIN|IP")]
    pub peer: Option<String>,

    /// Only records with this verify word (OK, NO, NOT, FAIL, NONE, TEMP, PROTOCOL,
    /// SOFTWARE, …).
    #[arg(long, value_name = "WORD")]
    pub verify: Option<String>,

    /// Only errors and failing policy verdicts (and alerts).
    #[arg(long)]
    pub errors_only: bool,

    /// Only inbound (in) or outbound (out) mail.
    #[arg(long, value_enum)]
    pub direction: Option<DirArg>,

    /// Include peers on this machine (127.0.0.0/8, ::1, localhost), also in the metrics.
    #[arg(long)]
    pub loopback: bool,

    /// Serve Prometheus metrics over HTTP at ADDR (e.g. 127.0.0.1:9325), path /metrics.
    /// Metrics count every record, whatever the display filters.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,

    /// Peers with their own metrics series (the busiest; the rest are peer="other").
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TOP_PEERS)]
    pub metrics_peers: usize,

    /// Save the position here and resume from it on the next start.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Look for changes every quarter second instead of using inotify.
    #[arg(long)]
    pub poll: bool,

    /// Read stamps without a time zone as UTC instead of local time.
    #[arg(long)]
    pub utc: bool,

    /// Also watch this directory for TLS-RPT reports (.json, .json.gz, or report mails in
    /// a Maildir or as .eml files): each new one is summarised on stderr and counted in
    /// the metrics (mailtls_tlsrpt_*). Scanned every 5 seconds.
    #[arg(long, value_name = "DIR")]
    pub tlsrpt_dir: Option<PathBuf>,

    /// Do not print notices (rotation, missing file) on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The `--state` file: where to resume, and for which path.
#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    schema: String,
    path: PathBuf,
    #[serde(flatten)]
    checkpoint: Checkpoint,
}

const STATE_SCHEMA: &str = "mailtls.follow-state/1";

fn load_state(file: &Path, followed: &Path) -> Result<Option<Checkpoint>, String> {
    let text = match fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", file.display())),
    };
    let st: StateFile = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a follow state file: {e}", file.display()))?;
    if st.schema != STATE_SCHEMA {
        return Err(format!(
            "{}: schema {} is not {STATE_SCHEMA}",
            file.display(),
            st.schema
        ));
    }
    if st.path != followed {
        return Err(format!(
            "{}: saved for {}, not {}",
            file.display(),
            st.path.display(),
            followed.display()
        ));
    }
    Ok(Some(st.checkpoint))
}

/// Writes the state atomically (temporary file, fsync, rename, fsync of the directory),
/// so that a crash leaves the old or the new state, never a torn one.
fn save_state(file: &Path, followed: &Path, cp: Checkpoint) -> io::Result<()> {
    let st = StateFile {
        schema: STATE_SCHEMA.to_owned(),
        path: followed.to_path_buf(),
        checkpoint: cp,
    };
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(".tmp");
    let text = serde_json::to_string(&st).map_err(io::Error::other)?;
    let mut f = fs::File::create(&tmp)?;
    io::Write::write_all(&mut f, (text + "\n").as_bytes())?;
    // On disk before the rename, and the rename itself on disk after it: a power cut
    // leaves the old state or the new one, never an empty file under the name.
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, file)?;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// What the closing summary reports.
#[derive(Debug, Default)]
struct Tally {
    sessions: u64,
    tls_messages: u64,
    plaintext_messages: u64,
    verdicts: u64,
    errors: u64,
    alerts: u64,
    shown: u64,
}

impl Tally {
    fn add(&mut self, o: &Output) {
        match o {
            Output::Record(Record::Session { .. }) => self.sessions += 1,
            Output::Record(Record::Message {
                encryption: Encryption::Plaintext,
                ..
            }) => self.plaintext_messages += 1,
            Output::Record(Record::Message { .. }) => self.tls_messages += 1,
            Output::Record(Record::Verdict { .. }) => self.verdicts += 1,
            Output::Record(Record::Error { .. }) => self.errors += 1,
            Output::Record(Record::Ready { .. } | Record::Start { .. }) => {}
            Output::Alert(_) => self.alerts += 1,
        }
    }
}

/// The metrics endpoint ([`crate::live::metrics::HttpServer`]: a fixed pool, bounded queue).
fn serve_metrics(
    addr: SocketAddr,
    metrics: Arc<Mutex<Metrics>>,
) -> Result<crate::live::metrics::HttpServer, String> {
    let server = crate::live::metrics::HttpServer::serve(addr, move || {
        metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .render()
    })
    .map_err(|e| format!("--metrics {addr}: {e}"))?;
    eprintln!(
        "mailtls follow: metrics at http://{}/metrics",
        server.local_addr()
    );
    Ok(server)
}

/// Follows the log until SIGINT/SIGTERM or a closed output: set up (path, filters, resume
/// point, metrics server, signals), then read → publish → save the checkpoint → wait, and
/// a summary line at the end.
pub fn run(args: &Args) -> Result<u8, Error> {
    check_path(args)?;
    let (filter, counted) = filters(args);
    let resume = resume_point(args)?;
    let start = match (resume, args.from_start) {
        (Some(cp), _) => Start::Resume(cp),
        (None, true) => Start::Beginning,
        (None, false) => Start::End,
    };
    let metrics = Arc::new(Mutex::new(Metrics::new(args.metrics_peers)));
    let server = match args.metrics {
        Some(addr) => Some(
            serve_metrics(addr, Arc::clone(&metrics)).map_err(|e| Error::Failed(e.to_string()))?,
        ),
        None => None,
    };
    let follower = Follower::new(
        &args.path,
        FollowOptions {
            start,
            force_poll: args.poll,
            ..FollowOptions::default()
        },
    );
    let stop = Arc::new(AtomicBool::new(false));
    let signals = Signals::install(&stop, &follower);
    let zone = if args.utc {
        Zone::Fixed(Utc.fix())
    } else {
        Zone::Local
    };
    let display: Arc<str> = Arc::from(args.path.display().to_string());
    let json = args.json || args.format == Some(super::TextFormat::Json);
    let tlsrpt_watch = args.tlsrpt_dir.clone().map(DirWatch::new);
    if tlsrpt_watch.is_some() {
        metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tlsrpt = Some(Default::default());
    }
    let mut f = Following {
        args,
        follower,
        live: Live::new(display, zone, DEFAULT_MAX_LINE),
        metrics,
        filter,
        counted,
        json,
        colour: !json && args.color.enabled(),
        tally: Tally::default(),
        outputs: Vec::new(),
        text: String::new(),
        stdout: io::stdout().lock(),
        saved: resume,
        last_save: Instant::now(),
        broken_pipe: false,
        tlsrpt_watch,
        last_tlsrpt_scan: None,
        stop,
    };
    loop {
        let idle = f.read();
        f.publish();
        let stopping = f.stop.load(Ordering::SeqCst);
        let cp = f.save(stopping);
        if stopping {
            break;
        }
        if idle {
            f.wait(cp);
        }
    }
    let sig = signals.close();
    if let Some(s) = server {
        s.stop();
    }
    let why = match sig {
        Some(signal_hook::consts::SIGINT) => "SIGINT",
        Some(signal_hook::consts::SIGTERM) => "SIGTERM",
        _ if f.broken_pipe => "output closed",
        _ => "stopped",
    };
    f.summary(why);
    Ok(exit::OK)
}

/// A log that does not exist yet is waited for (tail -F), but only in a folder that
/// exists: a mistyped folder would otherwise mean waiting forever for nothing. A directory
/// is not a log.
fn check_path(args: &Args) -> Result<(), Error> {
    if !args.path.exists() {
        // `logs/` names a folder: a folder is not waited for, whatever its parent.
        let folder = args.path.as_os_str().to_string_lossy().ends_with('/');
        let parent = match args.path.parent() {
            _ if folder => args.path.as_path(),
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(Error::Failed(format!(
                "{}: the folder {} does not exist (a missing log is waited for, a missing folder is not)",
                args.path.display(),
                parent.display()
            )));
        }
    }
    if args.path.is_dir() {
        return Err(Error::Usage(format!(
            "{} is a directory: give the log file to follow",
            args.path.display()
        )));
    }
    Ok(())
}

/// What is shown (`--peer`, `--direction`, `--verify`, `--errors-only`) and what the
/// metrics count (everything but loopback peers, as `scan` does).
fn filters(args: &Args) -> (DisplayFilter, RecordFilter) {
    let filter = DisplayFilter {
        records: RecordFilter {
            peer: args.peer.clone(),
            direction: args.direction.map(|d| match d {
                DirArg::In => Direction::Inbound,
                DirArg::Out => Direction::Outbound,
            }),
            loopback: args.loopback,
            ..RecordFilter::default()
        },
        verify: args
            .verify
            .as_deref()
            .map(|w| Verify::parse(&w.to_ascii_uppercase())),
        errors_only: args.errors_only,
    };
    let counted = RecordFilter {
        loopback: args.loopback,
        ..RecordFilter::default()
    };
    (filter, counted)
}

/// Where `--state` says the last run stopped, if it names this log.
fn resume_point(args: &Args) -> Result<Option<Checkpoint>, Error> {
    match &args.state {
        Some(f) => load_state(f, &args.path).map_err(|e| Error::Usage(format!("--state {e}"))),
        None => Ok(None),
    }
}

/// SIGINT and SIGTERM stop the loop after the batch being read (waking the follower).
struct Signals {
    handle: Option<signal_hook::iterator::Handle>,
    thread: Option<thread::JoinHandle<Option<i32>>>,
}

impl Signals {
    fn install(stop: &Arc<AtomicBool>, follower: &Follower) -> Signals {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!(
                    "mailtls follow: cannot handle signals: {}",
                    crate::model::text::plain_error(&e)
                );
                None
            }
        };
        let handle = signals.as_ref().map(|s| s.handle());
        let thread = signals.map(|mut s| {
            let stop = Arc::clone(stop);
            let waker = follower.waker();
            thread::spawn(move || {
                if let Some(sig) = s.forever().next() {
                    stop.store(true, Ordering::SeqCst);
                    waker.wake();
                    return Some(sig);
                }
                None
            })
        });
        Signals { handle, thread }
    }

    /// Stops listening; the signal that stopped the run, if one did.
    fn close(self) -> Option<i32> {
        if let Some(h) = self.handle {
            h.close();
        }
        self.thread.and_then(|t| t.join().ok().flatten())
    }
}

/// The state of one `follow` run between its steps.
struct Following<'a> {
    args: &'a Args,
    follower: Follower,
    live: Live,
    metrics: Arc<Mutex<Metrics>>,
    filter: DisplayFilter,
    counted: RecordFilter,
    json: bool,
    colour: bool,
    tally: Tally,
    outputs: Vec<Output>,
    text: String,
    stdout: io::StdoutLock<'static>,
    saved: Option<Checkpoint>,
    last_save: Instant,
    broken_pipe: bool,
    tlsrpt_watch: Option<DirWatch>,
    last_tlsrpt_scan: Option<Instant>,
    stop: Arc<AtomicBool>,
}

impl Following<'_> {
    /// Reads what was appended (and the TLS-RPT folder when due); true when nothing was.
    fn read(&mut self) -> bool {
        if let Some(w) = &mut self.tlsrpt_watch
            && self
                .last_tlsrpt_scan
                .is_none_or(|t| t.elapsed() >= SCAN_EVERY)
        {
            self.last_tlsrpt_scan = Some(Instant::now());
            tlsrpt_reports(w, &self.metrics, self.args.quiet);
        }
        let chunks = self.follower.poll();
        let idle = chunks.is_empty();
        for c in &chunks {
            match c {
                Chunk::Warmup(b) => self.live.warm(b),
                Chunk::Lines(b) => self.live.feed(b, &mut self.outputs),
                Chunk::Notice(n) => {
                    self.live.notice(n);
                    if !self.args.quiet {
                        eprintln!(
                            "mailtls follow: {}: {}",
                            self.args.path.display(),
                            crate::model::text::terminal(&n.to_string())
                        );
                    }
                }
            }
        }
        if idle {
            // Caught up: a daemon start with no key error after it shows TLS working again.
            self.live.idle(&mut self.outputs);
        }
        if self.stop.load(Ordering::SeqCst) {
            // The last batch was read; what it completes is flushed below with the rest.
            self.live.finish(&mut self.outputs);
        }
        idle
    }

    /// Counts what the batch completed and prints it; a closed output stops the run.
    fn publish(&mut self) {
        // Metrics first, so that a scrape after an event is printed already counts it.
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set_state(&self.live.counts, self.live.tls_broken());
        emit(
            &self.outputs,
            &self.filter,
            &self.counted,
            self.json,
            self.colour,
            &self.metrics,
            &mut self.tally,
            &mut self.text,
        );
        self.outputs.clear();
        if !self.text.is_empty() {
            if let Err(e) = self
                .stdout
                .write_all(self.text.as_bytes())
                .and_then(|_| self.stdout.flush())
            {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    eprintln!(
                        "mailtls follow: writing output: {}",
                        crate::model::text::plain_error(&e)
                    );
                }
                self.broken_pipe = true;
                self.stop.store(true, Ordering::SeqCst);
            }
            self.text.clear();
        }
    }

    /// Writes the `--state` checkpoint at most once a second (and when stopping); returns
    /// where the follower is.
    fn save(&mut self, stopping: bool) -> Option<Checkpoint> {
        let cp = self.follower.checkpoint();
        if let (Some(file), Some(cp)) = (&self.args.state, cp)
            && self.saved != Some(cp)
            && !self.broken_pipe
            && (stopping || self.last_save.elapsed() >= Duration::from_secs(1))
        {
            match save_state(file, &self.args.path, cp) {
                Ok(()) => self.saved = Some(cp),
                Err(e) => eprintln!(
                    "mailtls follow: --state {}: {}",
                    file.display(),
                    crate::model::text::plain_error(&e)
                ),
            }
            self.last_save = Instant::now();
        }
        cp
    }

    /// Waits for the log to grow; a pending checkpoint is written within a second even
    /// when the log is quiet.
    fn wait(&mut self, cp: Option<Checkpoint>) {
        let dirty = self.args.state.is_some() && cp.is_some() && self.saved != cp;
        self.follower.wait(if dirty {
            Duration::from_secs(1)
        } else if self.tlsrpt_watch.is_some() {
            SCAN_EVERY
        } else {
            Duration::from_secs(3600)
        });
    }

    /// The last line on stderr: what was read and shown, and whether TLS is still broken.
    fn summary(&self, why: &str) {
        use crate::model::text::count;
        let c = &self.live.counts;
        let tally = &self.tally;
        eprintln!(
            "mailtls follow: stopped ({why}). {} read ({} recognised, {} malformed, {} too long); \
             {}, {}, {}, {}, {}, {}; {} shown; {}, {}{}{}",
            count(c.lines, "line", "lines"),
            c.recognized,
            c.malformed,
            c.too_long,
            count(tally.sessions, "TLS session", "TLS sessions"),
            count(tally.tls_messages, "TLS message", "TLS messages"),
            count(
                tally.plaintext_messages,
                "plaintext message",
                "plaintext messages"
            ),
            count(tally.verdicts, "verdict", "verdicts"),
            count(tally.errors, "error", "errors"),
            count(tally.alerts, "alert", "alerts"),
            count(tally.shown, "record", "records"),
            count(c.rotations, "rotation", "rotations"),
            count(c.truncations, "truncation", "truncations"),
            if c.losses > 0 {
                format!(
                    "; LOG DATA LOST {} ({} known): those counts are short",
                    count(c.losses, "time", "times"),
                    count(c.lost_bytes, "byte", "bytes")
                )
            } else {
                String::new()
            },
            if self.live.tls_broken() {
                "; TLS IS STILL BROKEN (see the alerts above)"
            } else {
                ""
            }
        );
    }
}

/// Reads the reports that arrived in the watched directory into the metrics, and says on
/// stderr what each reporter says (and which file was refused).
fn tlsrpt_reports(w: &mut DirWatch, metrics: &Mutex<Metrics>, quiet: bool) {
    let found = w.scan();
    if found.is_empty() {
        return;
    }
    let mut m = metrics.lock().unwrap_or_else(PoisonError::into_inner);
    let counters = m.tlsrpt.get_or_insert_with(Default::default);
    for r in found {
        match r {
            Ok(r) => {
                counters.add(&r);
                if !quiet {
                    let ok: u64 = r.policies.iter().map(|p| p.successful).sum();
                    let failed: u64 = r.policies.iter().map(|p| p.failed).sum();
                    let mut kinds: Vec<String> = r
                        .policies
                        .iter()
                        .flat_map(|p| &p.failures)
                        .map(|f| {
                            format!(
                                "{} ×{} on {}",
                                f.result_type, f.failed_session_count, f.receiving_mx_hostname
                            )
                        })
                        .collect();
                    kinds.dedup();
                    // Report text is written by whoever sends the report: through the
                    // one terminal escaper, like every other foreign string.
                    eprintln!(
                        "mailtls follow: TLS-RPT: {} reports {ok} successful and {failed} failed sessions from {} to {}{}{}",
                        crate::model::text::terminal(&r.organization),
                        r.start.to_rfc3339(),
                        r.end.to_rfc3339(),
                        if kinds.is_empty() { "" } else { ": " },
                        crate::model::text::terminal(&kinds.join(", "))
                    );
                }
            }
            Err(e) => {
                counters.invalid();
                if !quiet {
                    eprintln!(
                        "mailtls follow: warning: {}",
                        crate::model::text::terminal(&e.to_string())
                    );
                }
            }
        }
    }
}

/// Counts `outputs` into the metrics and the tally, and appends what passes the display
/// filter to `text`.
#[allow(clippy::too_many_arguments)]
fn emit(
    outputs: &[Output],
    filter: &DisplayFilter,
    counted: &RecordFilter,
    json: bool,
    colour: bool,
    metrics: &Mutex<Metrics>,
    tally: &mut Tally,
    text: &mut String,
) {
    if outputs.is_empty() {
        return;
    }
    let mut m = metrics.lock().unwrap_or_else(PoisonError::into_inner);
    for o in outputs {
        match o {
            Output::Record(r) if counted.keep(r) => m.record(r),
            Output::Record(_) => {}
            Output::Alert(a) => m.alert(a),
        }
        if matches!(o, Output::Alert(_)) || matches!(o, Output::Record(r) if counted.keep(r)) {
            tally.add(o);
        }
        if !filter.keep(o) {
            continue;
        }
        tally.shown += 1;
        let line = match (o, json) {
            (Output::Record(r), true) => record_json(r),
            (Output::Record(r), false) => record_line(r, colour),
            (Output::Alert(a), true) => alert_json(a),
            (Output::Alert(a), false) => alert_line(a, colour),
        };
        text.push_str(&line);
        text.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_files_round_trip_and_refuse_other_paths() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("follow.state");
        let log = dir.path().join("maillog");
        assert_eq!(load_state(&f, &log), Ok(None));
        let cp = Checkpoint {
            dev: 2049,
            ino: 131_077,
            offset: 4096,
            line: 37,
            fp: crate::input::follow::Fingerprint {
                len: 256,
                hash: 0x0123_4567_89ab_cdef,
            },
        };
        save_state(&f, &log, cp).unwrap();
        assert_eq!(load_state(&f, &log), Ok(Some(cp)));
        // No temporary file stays beside it.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // A state file from before fingerprints loads with an empty one (trusts the
        // identity, as before).
        fs::write(
            &f,
            format!(
                r#"{{"schema":"{STATE_SCHEMA}","path":{:?},"dev":1,"ino":2,"offset":3,"line":4}}"#,
                log.display().to_string()
            ),
        )
        .unwrap();
        let old = load_state(&f, &log).unwrap().unwrap();
        assert_eq!((old.offset, old.fp.len), (3, 0));
        let err = load_state(&f, &dir.path().join("other.log")).unwrap_err();
        assert!(err.contains("saved for"), "{err}");
        fs::write(&f, "garbage").unwrap();
        assert!(
            load_state(&f, &log)
                .unwrap_err()
                .contains("not a follow state file")
        );
    }
}
