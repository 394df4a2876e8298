//! `mailtls report SNAPSHOT… -o DIR`: the report of a fleet, from its hosts' snapshots.
//!
//! ```text
//! mailtls report mx1/posture.json mx2/posture.json mx3/posture.json -o reports/fleet
//! mailtls report fleet.json --policy /etc/mailtls/policy.toml -f md
//! ```
//!
//! A `mailtls.posture/2` snapshot carries everything a report shows (per-peer posture,
//! timeline, downgrade windows, local errors per host, messages, TLS-RPT, what was read),
//! so the snapshots of several hosts, merged ([`crate::report::Snapshot::merge`]), render
//! the same report one `scan` of all their logs would: same numbers, same charts. The
//! policy is judged here, on the merged posture, with `scan`'s own flags
//! ([`super::scan::Judging`]), so one policy file governs the whole fleet. The snapshots
//! are read and checked as `merge` reads them ([`super::merge::read_and_merge`]): a
//! snapshot given twice counts once, `/1` snapshots are read with a warning (they have no
//! charts' series and no windows). The flow, with a cron + rsync example, is in
//! docs/fleet.md.
//!
//! `mailtls report --history DIR` is the newest night of a folder of nightly snapshots,
//! reported the same way, with a trend section over every night and `trend.csv`
//! ([`super::history`]).
//!
//! Exit codes are `scan`'s: 0 reported; 1 violations of an enforced policy; 2 nothing done
//! (a snapshot unreadable or not a snapshot, output not written); 3 some snapshot says
//! its inputs were not read to their end; 4 an enforced policy with nothing to judge.

use std::path::PathBuf;

use super::Error;
use super::scan::{self, Format, Judging};
use crate::report;

/// Flags of `mailtls report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls report mx1.json mx2.json mx3.json -o reports/fleet
  mailtls report incoming/*.json -o fleet/$(date +%F) --policy policy.toml
  mailtls report fleet.json --compare fleet/yesterday/posture.json -f md
  mailtls report --history /var/lib/mailtls -o /var/www/mailtls/trend
  mailtls report --history /var/lib/mailtls -f csv > trend.csv

Each host runs `mailtls scan LOGS -o DIR` (or --format json) and ships DIR/posture.json; the
report of all those snapshots is the report one scan of all the hosts' logs gives (same
numbers, same charts). The policy is judged on the merged posture, with the same flags as
scan. Snapshots of mailtls.posture/1 are read with a warning: they lack the time series and
the downgrade windows. docs/fleet.md has the whole flow with a cron + rsync example.

--history DIR reads every .json snapshot under DIR, one per host and night (e.g. from
cron: mailtls scan LOG --since 24h -f json > DIR/mx1-$(date +%F).json). A snapshot's night
is the date of its last stamp, else a YYYY-MM-DD in its file name. The report is the newest
night's (its hosts merged) with a trend section: new and gone peers and regressions since
yesterday, 7 and 30 nights ago, and charts per night; trend.csv has one row per night
(-f csv prints it). A file in DIR that is no readable snapshot is left out: exit 3.

Exit codes: as scan's: 0 done; 1 violations of an enforced policy; 2 nothing done (a
snapshot unreadable, output not written); 3 some snapshot's inputs were cut short; 4 policy
enforced but nothing to judge (--allow-empty: 0).")]
pub struct Args {
    /// Posture snapshots (`posture.json` of `scan -o`, `scan --format json`, `merge`), or -
    /// for stdin.
    #[arg(value_name = "SNAPSHOT", required_unless_present = "history")]
    pub snapshots: Vec<PathBuf>,

    /// Write the report folder: index.html, posture.json (the merged snapshot),
    /// posture.csv, summary.md, charts/, and tlsrpt.json when TLS-RPT reports were read.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Output format on stdout (default: table; with -o, nothing unless given).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,

    #[command(flatten)]
    pub judge: Judging,

    /// Print the generation stamp in UTC (the default stamp is local time).
    #[arg(long)]
    pub utc: bool,

    /// With an enforced policy: snapshots with nothing to judge exit 0 instead of 4.
    #[arg(long)]
    pub allow_empty: bool,

    /// Show every column of the table, whatever the terminal's width.
    #[arg(long)]
    pub wide: bool,

    /// Colour the table: auto (when stdout is a terminal and NO_COLOR is unset), always,
    /// never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = report::ColorWhen::Auto)]
    pub color: report::ColorWhen,

    /// Do not print warnings (older snapshots, repeats) nor the files written.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// A folder of nightly snapshots (one per host and night, any names ending in .json,
    /// subfolders too): the newest night's report with a trend section over every night,
    /// and trend.csv (which `-f csv` prints).
    #[arg(long, value_name = "DIR", conflicts_with = "snapshots")]
    pub history: Option<PathBuf>,
}

/// Runs `report`: read and merge the snapshots, judge the merged posture, render.
pub fn run(args: &Args) -> Result<u8, Error> {
    if let Some(dir) = &args.history {
        return super::history::run(dir, args);
    }
    let loaded = args.judge.load()?;
    let mut snap = super::merge::read_and_merge(&args.snapshots, "report", args.quiet)?;
    snap.name_log_hosts();
    let judged = args.judge.judge(loaded, &snap, args.utc);
    let inputs = args
        .snapshots
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let rep = judged.report(&snap, inputs);
    let (empty, incomplete) = snap
        .input
        .as_ref()
        .map_or((false, false), |n| (n.empty, !n.incomplete.is_empty()));
    scan::write_report_dir(args.output.as_deref(), args.quiet, &rep)?;
    let format = match (args.format, &args.output) {
        (Some(f), _) => Some(f),
        (None, None) => Some(Format::Table),
        (None, Some(_)) => None,
    };
    scan::print(format, args.wide, args.color, &rep)?;
    Ok(scan::exit_code(
        "report",
        args.allow_empty,
        &rep,
        empty,
        incomplete,
    ))
}
