//! The history behind `mailtls report --history DIR`: a folder of nightly snapshots
//! (`mailtls scan --since 24h --format json > DIR/mx1-2026-12-06.json` from cron, one per
//! host per night) read into a [`Trend`] and the newest night's merged snapshot.
//!
//! Memory stays bounded whatever the folder holds: snapshots are read a few at a time
//! (in parallel, one per core), each folded into its night's counts and peer facts
//! ([`History::add`]) and dropped; only the newest night's snapshots are kept, merged into
//! one as they come ([`merge_snapshots`]). A year of 50 hosts is 18,250 snapshots; no more
//! than a chunk of them is ever parsed at once (benches/README.md has the figure).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rayon::prelude::*;

use super::Error;
use super::merge::{merge_snapshots, read_snapshot};
use crate::analysis::history::{History, Trend, host_of_name, night_of};
use crate::report::Snapshot;

/// What a history folder held.
pub struct Loaded {
    pub trend: Trend,
    /// Every snapshot of the newest night, merged (all its hosts).
    pub newest: Snapshot,
    /// The snapshot files read into the trend.
    pub used: u64,
    /// Files that were not used, each with why (not a snapshot, no night, a repeat).
    pub skipped: Vec<String>,
    /// True when some file could not be read or was no snapshot: the trend lacks it.
    pub incomplete: bool,
}

/// The `.json` files under `dir` (recursively), sorted by path.
fn snapshot_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| {
            Error::Failed(format!(
                "--history {}: {}",
                d.display(),
                crate::model::text::plain_error(&e)
            ))
        })?;
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => todo.push(p),
                Ok(_) if p.extension().is_some_and(|x| x == "json") => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

/// How many snapshots are parsed at once: a few per core keeps every core busy while
/// memory holds only these.
fn chunk_size() -> usize {
    4 * rayon::current_num_threads().max(1)
}

/// Reads the folder into the trend and the newest night; an error when it holds no
/// usable snapshot.
pub fn load(dir: &Path) -> Result<Loaded, Error> {
    let files = snapshot_files(dir)?;
    if files.is_empty() {
        return Err(Error::Failed(format!(
            "--history {}: no .json snapshot in it (write them with mailtls scan --format json)",
            dir.display()
        )));
    }
    let mut history = History::new();
    let mut newest: Option<(NaiveDate, Snapshot)> = None;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut skipped = Vec::new();
    let mut incomplete = false;
    let mut used = 0u64;
    for chunk in files.chunks(chunk_size()) {
        let read: Vec<_> = chunk.par_iter().map(|p| (p, read_snapshot(p))).collect();
        for (path, res) in read {
            let name = path.display().to_string();
            let snap = match res {
                Ok(s) => s,
                Err(e) => {
                    skipped.push(e.to_string());
                    incomplete = true;
                    continue;
                }
            };
            let file_name = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            // The same logs twice (a copy, a re-run) count once.
            if let Some(id) = &snap.identity {
                let digests: Vec<String> = id.flat().into_iter().map(|i| i.digest).collect();
                if let Some(first) = digests
                    .iter()
                    .map(|d| seen.get(d))
                    .collect::<Option<Vec<_>>>()
                    && let Some(first) = first.first()
                {
                    skipped.push(format!("{name}: the same logs as {first} (counted once)"));
                    continue;
                }
                for d in digests {
                    seen.entry(d).or_insert_with(|| name.clone());
                }
            }
            let last = snap
                .identity
                .as_ref()
                .and_then(|i| i.last_seen)
                .or(snap.summary.counts.last_seen);
            let Some(night) = night_of(last, &file_name) else {
                skipped.push(format!(
                    "{name}: no night: no stamp in it and no YYYY-MM-DD in its name"
                ));
                continue;
            };
            let mut hosts = snap
                .identity
                .as_ref()
                .map(|i| i.hosts.clone())
                .unwrap_or_default();
            if hosts.is_empty() {
                hosts.extend(host_of_name(&file_name));
            }
            history.add(night, &hosts, &snap.summary.counts, &snap.posture);
            used += 1;
            newest = match newest.take() {
                Some((d, s)) if d > night => Some((d, s)),
                Some((d, s)) if d == night => Some((d, merge_snapshots([s, snap]))),
                _ => Some((night, merge_snapshots([snap]))),
            };
        }
    }
    let Some((_, newest)) = newest else {
        return Err(Error::Failed(format!(
            "--history {}: no usable snapshot: {}",
            dir.display(),
            skipped.join("; ")
        )));
    };
    Ok(Loaded {
        trend: history.finish(),
        newest,
        used,
        skipped,
        incomplete,
    })
}
