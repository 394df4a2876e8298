//! `mailtls report --history DIR -o OUT`: the newest night's report, every host merged,
//! with a trend section over every night of a folder of nightly snapshots, and
//! `trend.csv`. The reading and folding is [`super::history`]; this is the glue.

use std::path::PathBuf;

use chrono::{Local, Utc};

use super::{Error, exit, history};
use crate::analysis::policy::{self, Policy};
use crate::analysis::timeline::Timeline;
use crate::report::{self, Report};

/// Flags of `mailtls report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls report --history /var/lib/mailtls -o /var/www/mailtls/trend
  mailtls report --history /var/lib/mailtls --format csv > trend.csv
  mailtls report --history /var/lib/mailtls --format md

DIR holds one snapshot per host and night, e.g. from cron on each host:
  mailtls scan /var/log/mail.log --since 24h --format json \\
    > /var/lib/mailtls/mx1-$(date +%F).json
A snapshot's night is the date of its last stamp, else a YYYY-MM-DD in its file
name; its host is the logging host it names, else what its file name has before
the date. The snapshots of a night are merged (all hosts); the same logs twice
count once. The report is the newest night's, with a trend section (new and gone
peers and regressions since yesterday, 7 and 30 nights ago; charts per night)
and trend.csv (docs/reports.md lists its columns).

Exit 0, or 3 when some file in DIR was no readable snapshot (named on stderr,
left out); 2 when there is no usable snapshot.")]
pub struct Args {
    /// A folder of nightly snapshots (`mailtls scan --format json`, any names ending in
    /// .json; subfolders are read too).
    #[arg(long, value_name = "DIR", required = true)]
    pub history: PathBuf,

    /// Write the report folder (index.html with the trend section, trend.csv, posture.json
    /// of the newest night, posture.csv, summary.md, charts/).
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// Also print to stdout: the trend as CSV, the newest night's snapshot as JSON, or
    /// the Markdown summary with the trend.
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,

    /// The date the policy judges exceptions' expiry against (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<chrono::NaiveDate>,

    /// The generation stamp printed on the page (default: now), for reproducible reports.
    #[arg(long, value_name = "TEXT")]
    pub generated_at: Option<String>,

    /// No progress or notes on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// What `report --format` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// trend.csv: one row per night.
    Csv,
    /// The newest night's merged mailtls.posture snapshot.
    Json,
    /// summary.md with the trend section.
    Md,
}

/// Runs `report --history`.
pub fn run(args: &Args) -> Result<u8, Error> {
    if args.output.is_none() && args.format.is_none() {
        return Err(Error::Usage(
            "give -o OUT for the report folder, or --format csv|json|md for stdout".to_owned(),
        ));
    }
    let loaded = history::load(&args.history)?;
    for w in &loaded.warnings {
        eprintln!(
            "mailtls report: warning: {}",
            crate::model::text::terminal(w)
        );
    }
    if !args.quiet {
        for s in &loaded.skipped {
            eprintln!(
                "mailtls report: skipped {}",
                crate::model::text::terminal(s)
            );
        }
    }
    let snap = &loaded.newest;
    let policy = Policy::default();
    let today = args.as_of.unwrap_or_else(|| Local::now().date_naive());
    let evaluation = policy::evaluate(&policy, &snap.posture, today);
    let timeline = Timeline::default();
    let rep = Report {
        snap,
        timeline: &timeline,
        windows: &[],
        policy: &policy,
        policy_source: "built-in".to_owned(),
        evaluation: &evaluation,
        comparison: None,
        readiness: None,
        generated: Some(
            args.generated_at
                .clone()
                .unwrap_or_else(|| Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()),
        ),
        enforced: false,
        inputs: vec![format!(
            "{} ({} snapshots)",
            args.history.display(),
            loaded.used
        )],
        trend: Some(&loaded.trend),
    };
    if let Some(dir) = &args.output {
        let files = report::write_dir(&rep, dir).map_err(|e| {
            Error::Failed(format!(
                "-o {}: {}",
                dir.display(),
                crate::model::text::plain_error(&e)
            ))
        })?;
        if !args.quiet {
            eprintln!(
                "mailtls: wrote {} ({}, {} over {})",
                dir.join("index.html").display(),
                crate::model::text::count(files.len() as u64, "file", "files"),
                crate::model::text::count(loaded.used, "snapshot", "snapshots"),
                crate::model::text::count(loaded.trend.nights.len() as u64, "night", "nights"),
            );
        }
    }
    let text = match args.format {
        None => None,
        Some(Format::Csv) => Some(
            report::trend::csv(&loaded.trend)
                .map_err(|e| Error::Failed(format!("trend.csv: {e}")))?,
        ),
        Some(Format::Json) => Some(snap.to_json()),
        Some(Format::Md) => Some(report::markdown::render(&rep)),
    };
    if let Some(t) = text {
        super::write_stdout(&t)?;
    }
    Ok(if loaded.incomplete {
        exit::INCOMPLETE
    } else {
        exit::OK
    })
}
