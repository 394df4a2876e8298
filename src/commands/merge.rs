//! `mailtls merge SNAPSHOT…`: one posture from the `posture.json` snapshots of many hosts.
//!
//! ```text
//! mailtls merge mx1/posture.json mx2/posture.json > fleet.json
//! ssh mx3 mailtls scan /var/log/mail.log -f json | mailtls merge fleet.json - -f table
//! ```
//!
//! Every posture record is a commutative monoid (counts add, histograms add, minimum bits
//! take the minimum, first/last seen the earliest/latest, errors keep the latest text), so
//! the merge of snapshots is the snapshot of the union of their logs, in any grouping and
//! any order: a fleet is summarized without moving raw logs. Every section merges
//! ([`Snapshot::merge`]): posture, summary, timeline, downgrade windows, local errors per
//! host, the `messages` and `tlsrpt` sections and the input notes, so `mailtls report`
//! renders the merged snapshot as one scan of all the logs (docs/fleet.md). The output is
//! `mailtls.posture/2` and can be merged again; `/1` snapshots are still read, with a
//! warning naming what they lack.
//!
//! Each snapshot carries an identity (logging hosts, first and last stamp, a digest of what
//! was counted): a snapshot given twice, or already inside a merged one, is counted once
//! with a warning; snapshots of one host over intersecting times are merged with a warning
//! that the overlap is counted twice.

use super::Error;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::exit;
use crate::analysis::posture::Posture;
use crate::model::Summary;
use crate::report::json::{Identity, SnapshotError};
use crate::report::{self, POSTURE_SCHEMA, Snapshot};

/// Flags of `mailtls merge`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls merge mx1.json mx2.json mx3.json > fleet.json
  mailtls merge fleet.json - --format table

Inputs are mailtls.posture/2 snapshots (mailtls scan --format json, or posture.json of
scan -o); - reads one from stdin. Older mailtls.posture/1 snapshots are read too, with a
warning: they have no timeline and no downgrade windows. `mailtls report` renders the
merged report directly (docs/fleet.md).")]
pub struct Args {
    /// Snapshot files (`mailtls scan --format json` output), or - for stdin.
    #[arg(value_name = "SNAPSHOT", required = true)]
    pub snapshots: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Json)]
    pub format: Format,

    /// The same as --format json (the default).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Colour the table: auto (when stdout is a terminal and NO_COLOR is unset), always,
    /// never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = crate::report::ColorWhen::Auto)]
    pub color: crate::report::ColorWhen,
}

/// Output formats of `merge`: the merged snapshot, or the table for a quick look. (Charts
/// and HTML need the time series that only `scan` has.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// The merged `mailtls.posture/2` snapshot (default).
    Json,
}

/// Why a snapshot could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}: {why}", why = crate::model::text::plain_error(.1))]
    Read(String, std::io::Error),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// Reads one snapshot (`mailtls.posture/2`, or `/1`), checking its schema.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, MergeError> {
    let name = path.display().to_string();
    let mut text = String::new();
    let res = if name == "-" {
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text))
    };
    res.map_err(|e| MergeError::Read(name.clone(), e))?;
    Ok(Snapshot::parse(&name, &text)?)
}

/// The merge of any number of snapshots (the empty merge is the empty snapshot). Counts
/// add: callers drop repeated snapshots first ([`drop_repeats`]).
pub fn merge_snapshots(snaps: impl IntoIterator<Item = Snapshot>) -> Snapshot {
    let mut out: Option<Snapshot> = None;
    for s in snaps {
        match &mut out {
            Some(o) => o.merge(s),
            None => {
                let mut first = s;
                // Even one snapshot comes out as a merge: current schema, identity of parts.
                first.schema = POSTURE_SCHEMA.to_owned();
                first.identity = first.identity.map(|i| Identity::merged(i.flat()));
                out = Some(first);
            }
        }
    }
    out.unwrap_or_else(|| Snapshot::new(Summary::default(), Posture::default()))
}

/// Reads every snapshot named (a failure stops everything: a fleet report without one of
/// its hosts would look whole), warns about `/1` snapshots and repeats, and merges them.
/// `command` names the command in the warnings.
pub fn read_and_merge(paths: &[PathBuf], command: &str, quiet: bool) -> Result<Snapshot, Error> {
    let mut snaps = Vec::with_capacity(paths.len());
    for p in paths {
        let s = read_snapshot(p).map_err(|e| Error::Failed(e.to_string()))?;
        let name = p.display().to_string();
        if let Some(why) = s.lacks()
            && !quiet
        {
            eprintln!(
                "mailtls {command}: warning: {} {why}",
                crate::model::text::terminal(&name)
            );
        }
        snaps.push((name, s));
    }
    let (snaps, warnings) = drop_repeats(snaps);
    if !quiet {
        for w in &warnings {
            eprintln!(
                "mailtls {command}: warning: {}",
                crate::model::text::terminal(w)
            );
        }
    }
    Ok(merge_snapshots(snaps))
}

/// Keeps each snapshot once: one whose logs (every part of its identity) were already in
/// an earlier one is dropped with a warning, so `merge a.json a.json` is `a.json`. What
/// cannot be undone is said: a snapshot that holds part of an earlier one, or covers the
/// same logging host over intersecting times with different content, is merged (its
/// counts add) with a warning naming both.
pub fn drop_repeats(snaps: Vec<(String, Snapshot)>) -> (Vec<Snapshot>, Vec<String>) {
    let mut kept = Vec::new();
    let mut warnings = Vec::new();
    let mut seen: Vec<(String, Identity)> = Vec::new();
    for (name, s) in snaps {
        let Some(id) = &s.identity else {
            kept.push(s);
            continue;
        };
        let parts = id.flat();
        let known: Vec<&(String, Identity)> = parts
            .iter()
            .filter_map(|p| seen.iter().find(|(_, q)| q.digest == p.digest))
            .collect();
        if known.len() == parts.len() {
            warnings.push(format!(
                "{name}: the same logs as {} (identity {}): counted once",
                known
                    .first()
                    .map_or("an earlier snapshot", |k| k.0.as_str()),
                short(&id.digest)
            ));
            continue;
        }
        if let Some((other, _)) = known.first() {
            warnings.push(format!(
                "{name}: holds logs already merged from {other}: they are counted twice (merge the per-host snapshots instead)"
            ));
        }
        for p in &parts {
            if known.iter().any(|(_, q)| q.digest == p.digest) {
                continue;
            }
            if let Some((other, q)) = seen.iter().find(|(_, q)| q.overlaps(p)) {
                warnings.push(format!(
                    "{name}: overlaps {other} (host {}, {} → {}): records read by both are counted twice",
                    p.hosts
                        .iter()
                        .find(|h| q.hosts.contains(h))
                        .map_or("?", String::as_str),
                    p.first_seen.map_or("?".into(), |t| t.to_rfc3339()),
                    q.last_seen.map_or("?".into(), |t| t.to_rfc3339()),
                ));
            }
        }
        for p in parts {
            seen.push((name.clone(), p));
        }
        kept.push(s);
    }
    (kept, warnings)
}

fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// Runs `merge`.
pub fn run(args: &Args) -> Result<u8, Error> {
    let merged = read_and_merge(&args.snapshots, "merge", false)?;
    let text = match args.format {
        Format::Json => merged.to_json(),
        Format::Table => report::table::render(&merged, args.color.enabled()),
    };
    super::write_stdout(&text)?;
    Ok(exit::OK)
}
