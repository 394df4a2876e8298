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
//! any order: a fleet is summarized without moving raw logs. The output has the same schema
//! (`mailtls.posture/1`) and can be merged again. The `messages` section of snapshots made
//! from message stores is not merged (it is a report of one run, with example lists); it is
//! dropped with a warning.

use std::io::{Read, Write};
use std::path::PathBuf;

use super::exit;
use super::scan::Format;
use crate::pipeline::Summary;
use crate::posture::Posture;
use crate::report::{self, POSTURE_SCHEMA, Snapshot};

/// Flags of `mailtls merge`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  mailtls merge mx1.json mx2.json mx3.json > fleet.json
  mailtls merge fleet.json - --format table

Inputs are mailtls.posture/1 snapshots (mailtls scan --format json); - reads one from stdin.")]
pub struct Args {
    /// Snapshot files (`mailtls scan --format json` output), or - for stdin.
    #[arg(value_name = "SNAPSHOT", required = true)]
    pub snapshots: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// Why a snapshot could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}: not a mailtls snapshot: {1}")]
    Json(String, serde_json::Error),
    #[error("{0}: schema {1:?} is not {POSTURE_SCHEMA}")]
    Schema(String, String),
}

/// Reads one snapshot, checking its schema.
pub fn read_snapshot(path: &PathBuf) -> Result<Snapshot, MergeError> {
    let name = path.display().to_string();
    let mut text = String::new();
    let res = if name == "-" {
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text))
    };
    res.map_err(|e| MergeError::Read(name.clone(), e))?;
    let snap: Snapshot =
        serde_json::from_str(&text).map_err(|e| MergeError::Json(name.clone(), e))?;
    if snap.schema != POSTURE_SCHEMA {
        return Err(MergeError::Schema(name, snap.schema));
    }
    Ok(snap)
}

/// The merge of any number of snapshots (the empty merge is the empty snapshot).
pub fn merge_snapshots(snaps: impl IntoIterator<Item = Snapshot>) -> Snapshot {
    let mut summary = Summary::default();
    let mut posture = Posture::default();
    for s in snaps {
        summary.merge(s.summary.counts);
        posture.merge(s.posture);
    }
    Snapshot::new(summary, posture)
}

/// Runs `merge`.
pub fn run(args: &Args) -> u8 {
    let mut snaps = Vec::with_capacity(args.snapshots.len());
    let mut dropped_messages = 0;
    for p in &args.snapshots {
        match read_snapshot(p) {
            Ok(s) => {
                if s.messages.is_some() {
                    dropped_messages += 1;
                }
                snaps.push(s);
            }
            Err(e) => {
                eprintln!("mailtls merge: {e}");
                return exit::ERROR;
            }
        }
    }
    if dropped_messages > 0 {
        eprintln!(
            "mailtls merge: warning: the `messages` section of {dropped_messages} snapshot(s) is not merged"
        );
    }
    let merged = merge_snapshots(snaps);
    let text = match args.format {
        Format::Json => merged.to_json(),
        Format::Table => report::table::render(&merged, report::use_colour()),
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("mailtls merge: writing output: {e}");
        return exit::ERROR;
    }
    exit::OK
}
