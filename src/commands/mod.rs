//! One file per subcommand: thin glue from parsed arguments to the library stages.
//!
//! Every `run` returns the process exit code ([`exit`]) of a run that did its job: 0 fine,
//! 1 findings (policy violations, failed checks, doctor problems), 3 some inputs not read
//! to their end, 4 nothing to judge under `--policy`; or an [`Error`] when it could not
//! (exit 2), which `main` prints, once, as `mailtls COMMAND: …`.

pub mod check;
pub mod check_domain;
pub mod cli;
pub mod config;
pub mod docs;
pub mod doctor;
pub mod events;
pub mod follow;
pub mod history;
pub mod merge;
pub mod message;
pub mod peer;
pub mod progress;
pub mod report;
pub mod scan;
pub mod settings;

/// Exit codes shared by all commands (README "Exit codes", `mailtls --help`).
pub mod exit {
    /// Everything fine.
    pub const OK: u8 = 0;
    /// The command worked and found problems (violations, failed checks).
    pub const FINDINGS: u8 = 1;
    /// Usage or I/O error, nothing recognised in the inputs, or the output could not be
    /// written (stdout closed, disk full): nothing useful was done.
    pub const ERROR: u8 = 2;
    /// The report was made, but some inputs were missing, unreadable, or truncated or
    /// replaced while read: the summary names them. Wins over 1 (the violations are still
    /// printed and in the report) so that a job never takes a partial run for a whole one.
    pub const INCOMPLETE: u8 = 3;
    /// `scan --policy`: records were read but the selection (time window, `--peer`,
    /// loopback) left none to judge; `--allow-empty` makes it 0.
    pub const NOTHING_TO_JUDGE: u8 = 4;
}

/// Why a command could not do its job. Commands return it instead of printing it, so one
/// place (`main`) words every failure the same way and gives the documented exit code.
/// Failures of the library layers keep their own types ([`crate::setup::SetupError`],
/// [`crate::input::DiscoverError`], …) and are wrapped here with the context a user needs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The arguments cannot work: a bad value, flags that contradict each other, no input.
    #[error("{0}")]
    Usage(String),
    /// Something failed while running: an input that held nothing usable, a file or
    /// stdout that could not be written, a server socket that could not be opened.
    #[error("{0}")]
    Failed(String),
    /// A setup step (keys, certificates, configuration edits) refused or failed.
    #[error(transparent)]
    Setup(#[from] crate::setup::SetupError),
}

impl Error {
    /// The exit code of every failure: usage, I/O, nothing usable read ([`exit::ERROR`]).
    pub fn exit_code(&self) -> u8 {
        exit::ERROR
    }
}

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Called first thing by `main`: was the process started with stdout closed
/// (`mailtls scan … >&-`)? Rust's runtime fills a closed descriptor 1 with `/dev/null`
/// opened read-write before `main`, so every write would vanish and the run exit 0. A
/// shell's `> /dev/null` opens it write-only; descriptor 1 on `/dev/null` opened read-write
/// is therefore taken for a closed stdout, and a command that has output to write fails
/// with exit 2 (`write_stdout`).
pub fn guard_stdout() {
    #[cfg(unix)]
    {
        use rustix::fs::{FileType, OFlags, fcntl_getfl, fstat};
        use std::os::fd::AsFd;
        let out = std::io::stdout();
        let fd = out.as_fd();
        let closed = match fcntl_getfl(fd) {
            Err(_) => true,
            Ok(flags) => {
                flags & OFlags::RWMODE == OFlags::RDWR
                    && fstat(fd).is_ok_and(|st| {
                        FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
                            && is_dev_null(st.st_rdev)
                    })
            }
        };
        STDOUT_CLOSED.store(closed, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(unix)]
fn is_dev_null(rdev: u64) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/dev/null").is_ok_and(|m| m.rdev() == rdev)
}

/// True when stdout was closed at start ([`guard_stdout`]).
pub(crate) fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
}

/// `doc` as pretty JSON on stdout. A document that cannot be serialised is an error the
/// user must see (exit 2), never an empty or partial output.
pub(crate) fn print_json(doc: &impl serde::Serialize) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(doc).map_err(|e| Error::Failed(e.to_string()))?;
    write_stdout(&(text + "\n"))
}

/// `text` to stdout; a reader that went away (`| head`: EPIPE) is not an error and stays
/// quiet, any other write failure is (exit 2), and so is a stdout closed at start.
pub(crate) fn write_stdout(text: &str) -> Result<(), Error> {
    use std::io::Write as _;
    if stdout_closed() && !text.is_empty() {
        return Err(Error::Failed(
            "writing output: standard output is closed".to_owned(),
        ));
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Failed(format!(
            "writing output: {}",
            crate::model::text::plain_error(&e)
        ))),
        _ => Ok(()),
    }
}

/// `doc` as pretty JSON on stdout, written while it is serialised: a busy peer's answer or
/// a mailbox's snapshot is ~14-16 MB, which held as one string was as much again of the
/// command's peak memory. Our documents cannot fail to serialise on their values: no
/// `Serialize` of ours returns an error, and every map key is a string, an integer or a
/// unit enum (serde_json refuses other keys by their type, which every test that writes a
/// snapshot would show). So the dry run into nothing that used to come first (a third of
/// the end of a scan, issue 21) bought nothing: a failure here is a write error (a full
/// disk), reported; a closed pipe is the reader's choice.
pub(crate) fn stream_json(doc: &impl serde::Serialize) -> Result<(), Error> {
    use std::io::Write as _;
    if stdout_closed() {
        return Err(Error::Failed(
            "writing output: standard output is closed".to_owned(),
        ));
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, doc)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Failed(format!(
            "writing output: {}",
            crate::model::text::plain_error(&e)
        ))),
        _ => Ok(()),
    }
}

/// `--format text|json` of the commands whose text is for people and whose JSON is for
/// programs (`peer`, `message`, `follow`); `--json` is the same as `--format json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TextFormat {
    Text,
    Json,
}

/// `--year YYYY`: four digits, 1970–2999. A two-digit `99` is refused rather than read as
/// the year 99 (every record would fall before any `--since` and nothing would match).
pub fn year_arg(s: &str) -> Result<i32, String> {
    let bad = || format!("'{s}' is not a four-digit year such as 2026");
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let y: i32 = s.parse().map_err(|_| bad())?;
    if (1970..=2999).contains(&y) {
        Ok(y)
    } else {
        Err(format!(
            "{y} is outside the years mail logs can come from (1970–2999)"
        ))
    }
}

/// The selection flags `scan` and `events` share, defined once so both commands select
/// the same records with the same words.
#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// Only this peer: a host name, a domain (matches its hosts) or an IP address.
    #[arg(long, value_name = "NAME|DOMAIN|IP")]
    pub peer: Option<String>,

    // The text is --help's (clap shows it verbatim): rustdoc must not read it as links/HTML.
    #[allow(rustdoc::broken_intra_doc_links)]
    /// Only records at or after this time (YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]', RFC 3339,
    /// or a duration back from now such as 24h or 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only records before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Only records within DURATION of TIME ('2026-11-20 10:00±30m', or +- for ±; ±15m
    /// when no duration is given). Replaces --since and --until.
    #[arg(long, value_name = "TIME[±DUR]", conflicts_with_all = ["since", "until"])]
    pub around: Option<String>,

    /// Only inbound (in) or outbound (out) mail.
    #[arg(long, value_enum)]
    pub direction: Option<scan::DirArg>,

    /// Year of the first entry of each log, for syslog stamps without a year; in a rotated
    /// set (mail.log.2.gz, mail.log.1, mail.log) the later files continue from the oldest
    /// (default: inferred from each file's modification time; Dec → Jan is followed).
    #[arg(long, value_name = "YYYY", value_parser = year_arg)]
    pub year: Option<i32>,

    /// Read stamps without a time zone as UTC instead of local time.
    #[arg(long)]
    pub utc: bool,

    /// Include peers on this machine (127.0.0.0/8, ::1, localhost): the MSP handing mail to
    /// the MTA, content filters, test tools; in message stores, `Received:` hops from a
    /// loopback sender. Left out by default.
    #[arg(long)]
    pub loopback: bool,

    /// Read every file found in a directory. By default a walked file is skipped (with a
    /// note) when it is sparse, binary (a NUL byte in its first 8 KiB) or shows no mail-log
    /// line in its first 256 KiB: lastlog, wtmp, journal files, dpkg.log. Files named on the
    /// command line are always read.
    #[arg(long)]
    pub no_skip: bool,
}

impl Selection {
    /// The zone for stamps without an offset (`--utc`), `None` for local time.
    pub fn zone_offset(&self) -> Option<chrono::FixedOffset> {
        use chrono::Offset;
        self.utc.then(|| chrono::Utc.fix())
    }

    /// The shared [`crate::analysis::filter::RecordFilter`]; a bad time is reported naming the
    /// command and flag, and gives the usage exit code.
    pub fn record_filter(&self) -> Result<crate::analysis::filter::RecordFilter, Error> {
        use crate::model::Direction;
        let mut filter = crate::analysis::filter::RecordFilter {
            peer: self.peer.clone(),
            direction: self.direction.map(|d| match d {
                scan::DirArg::In => Direction::Inbound,
                scan::DirArg::Out => Direction::Outbound,
            }),
            loopback: self.loopback,
            ..crate::analysis::filter::RecordFilter::default()
        };
        let zone = self.zone_offset();
        for (flag, value, slot) in [
            ("--since", &self.since, &mut filter.since),
            ("--until", &self.until, &mut filter.until),
        ] {
            if let Some(v) = value {
                match crate::analysis::filter::parse_time(v, zone) {
                    Ok(t) => *slot = Some(t),
                    Err(e) => return Err(Error::Usage(format!("{flag}: {e}"))),
                }
            }
        }
        if let (Some(s), Some(u)) = (filter.since, filter.until)
            && s >= u
        {
            return Err(Error::Usage(format!(
                "--since ({}) is not before --until ({}): no record can match",
                s.format("%Y-%m-%d %H:%M:%S %:z"),
                u.format("%Y-%m-%d %H:%M:%S %:z")
            )));
        }
        if let Some(a) = &self.around {
            match crate::analysis::filter::parse_around(a, zone) {
                Ok((since, until)) => {
                    filter.since = Some(since);
                    filter.until = Some(until);
                }
                Err(e) => return Err(Error::Usage(format!("--around: {e}"))),
            }
        }
        Ok(filter)
    }
}
