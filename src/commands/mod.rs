//! One file per subcommand: thin glue from parsed arguments to the library stages.
//!
//! Every `run` returns the process exit code: 0 fine, 1 findings (policy violations,
//! failed checks, doctor problems), 2 usage or I/O error.

pub mod check;
pub mod check_domain;
pub mod config;
pub mod doctor;
pub mod events;
pub mod follow;
pub mod merge;
pub mod message;
pub mod peer;
pub mod progress;
pub mod scan;

/// Exit codes shared by all commands.
pub mod exit {
    /// Everything fine.
    pub const OK: u8 = 0;
    /// The command worked and found problems (violations, failed checks).
    pub const FINDINGS: u8 = 1;
    /// Usage or I/O error: nothing useful could be done.
    pub const ERROR: u8 = 2;
}

/// `doc` as pretty JSON on stdout. A document that cannot be serialised is an error the
/// user must see (exit 2), never an empty or partial output.
pub(crate) fn print_json(cmd: &str, doc: &impl serde::Serialize) -> Result<(), u8> {
    let text = serde_json::to_string_pretty(doc).map_err(|e| {
        eprintln!("mailtls {cmd}: {e}");
        exit::ERROR
    })?;
    write_stdout(cmd, &(text + "\n"))
}

/// `text` to stdout; a reader that went away (`| head`) is not an error, any other write
/// failure is (exit 2).
pub(crate) fn write_stdout(cmd: &str, text: &str) -> Result<(), u8> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("mailtls {cmd}: writing output: {e}");
            Err(exit::ERROR)
        }
        _ => Ok(()),
    }
}

/// The selection flags `scan` and `events` share, defined once so both commands select
/// the same records with the same words.
#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// Only this peer: a host name, a domain (matches its hosts) or an IP address.
    #[arg(long, value_name = "NAME|DOMAIN|IP")]
    pub peer: Option<String>,

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
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i32>,

    /// Read stamps without a time zone as UTC instead of local time.
    #[arg(long)]
    pub utc: bool,

    /// Include peers on this machine (127.0.0.0/8, ::1, localhost): the MSP handing mail to
    /// the MTA, content filters, test tools; in message stores, `Received:` hops from a
    /// loopback sender. Left out by default.
    #[arg(long)]
    pub loopback: bool,
}

impl Selection {
    /// The zone for stamps without an offset (`--utc`), `None` for local time.
    pub fn zone_offset(&self) -> Option<chrono::FixedOffset> {
        use chrono::Offset;
        self.utc.then(|| chrono::Utc.fix())
    }

    /// The shared [`crate::filter::RecordFilter`]; a bad time is reported naming the
    /// command and flag, and gives the usage exit code.
    pub fn record_filter(&self, cmd: &str) -> Result<crate::filter::RecordFilter, u8> {
        use crate::event::Direction;
        let mut filter = crate::filter::RecordFilter {
            peer: self.peer.clone(),
            direction: self.direction.map(|d| match d {
                scan::DirArg::In => Direction::Inbound,
                scan::DirArg::Out => Direction::Outbound,
            }),
            loopback: self.loopback,
            ..crate::filter::RecordFilter::default()
        };
        let zone = self.zone_offset();
        for (flag, value, slot) in [
            ("--since", &self.since, &mut filter.since),
            ("--until", &self.until, &mut filter.until),
        ] {
            if let Some(v) = value {
                match crate::filter::parse_time(v, zone) {
                    Ok(t) => *slot = Some(t),
                    Err(e) => {
                        eprintln!("mailtls {cmd}: {flag}: {e}");
                        return Err(exit::ERROR);
                    }
                }
            }
        }
        if let Some(a) = &self.around {
            match crate::filter::parse_around(a, zone) {
                Ok((since, until)) => {
                    filter.since = Some(since);
                    filter.until = Some(until);
                }
                Err(e) => {
                    eprintln!("mailtls {cmd}: --around: {e}");
                    return Err(exit::ERROR);
                }
            }
        }
        Ok(filter)
    }
}
