//! The history behind `mailtls report --history DIR`: a folder of nightly snapshots
//! (`mailtls scan --since 24h --format json > DIR/mx1-2026-12-06.json` from cron, one per
//! host per night) read into a [`Trend`] and the newest night's merged snapshot.
//!
//! Memory stays bounded whatever the folder holds: snapshots are read a few at a time
//! (in parallel, one per core), each folded into its night's counts and peer facts
//! ([`History::add`]) and dropped; only the newest night's snapshots are kept, merged into
//! one as they come (`merge_snapshots`). A year of 50 hosts is 18,250 snapshots; no more
//! than a chunk of them is ever parsed at once (benches/README.md has the figure).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Deserialize;

use super::merge::read_and_merge;
use super::scan::{self, Format};
use super::{Error, exit};
use crate::analysis::history::{DirCounts, History, Trend, host_of_name, night_of};
use crate::model::{Hist, TlsErrorKind, TlsVersion, Verify};
use crate::report;
use crate::report::json::POSTURE_SCHEMA_V1;
use crate::report::json::{Identity, SummaryOut};
use crate::report::{POSTURE_SCHEMA, Snapshot};

/// The part of a `mailtls.posture` snapshot the trend reads: summary, identity, and per
/// peer and direction the counts, verify words, protocols and error counts. Every other
/// field (ciphers, names, addresses, times, texts) is skipped unparsed, and keys are
/// borrowed from the file's bytes, which makes reading a year of a fleet several times
/// faster than whole [`Snapshot`]s; the newest night is then read whole.
#[derive(Deserialize)]
struct Lean<'a> {
    #[serde(borrow)]
    schema: Cow<'a, str>,
    summary: SummaryOut,
    #[serde(borrow, default)]
    peers: Vec<LeanPeer<'a>>,
    #[serde(borrow, default)]
    local_errors: BTreeMap<Cow<'a, str>, BTreeMap<TlsErrorKind, LeanError>>,
    #[serde(default)]
    identity: Option<Identity>,
}

#[derive(Deserialize)]
struct LeanPeer<'a> {
    #[serde(borrow)]
    peer: Cow<'a, str>,
    #[serde(borrow, default)]
    inbound: LeanDir<'a>,
    #[serde(borrow, default)]
    outbound: LeanDir<'a>,
}

#[derive(Deserialize, Default)]
struct LeanDir<'a> {
    #[serde(default)]
    tls_sessions: u64,
    #[serde(default)]
    tls_messages: u64,
    #[serde(default)]
    plaintext_messages: u64,
    #[serde(borrow, default)]
    versions: BTreeMap<Cow<'a, str>, u64>,
    #[serde(borrow, default)]
    verify: BTreeMap<Cow<'a, str>, u64>,
    #[serde(borrow, default)]
    errors: BTreeMap<Cow<'a, str>, LeanError>,
}

#[derive(Deserialize)]
struct LeanError {
    #[serde(default)]
    count: u64,
}

impl LeanDir<'_> {
    fn counts(&self) -> DirCounts {
        DirCounts {
            tls_sessions: self.tls_sessions,
            tls_messages: self.tls_messages,
            plaintext_messages: self.plaintext_messages,
            verified: self
                .verify
                .iter()
                .filter(|(w, _)| crate::analysis::history::verified(&Verify::parse(w)))
                .map(|(_, n)| n)
                .sum(),
            versions: self
                .versions
                .iter()
                .map(|(v, n)| (TlsVersion::parse(v), *n))
                .collect::<Hist<TlsVersion>>(),
            errors: self.errors.values().map(|e| e.count).sum(),
        }
    }
}

/// Reads one snapshot's lean part (the same checks as [`read_snapshot`]: readable, JSON,
/// the schema) and gives it to `f` while its bytes are alive.
fn read_lean<T>(path: &Path, f: impl FnOnce(Lean<'_>) -> T) -> Result<T, String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{name}: {}", crate::model::text::plain_error(&e)))?;
    let lean: Lean<'_> = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{name}: not a mailtls snapshot: {e}"))?;
    if lean.schema != POSTURE_SCHEMA && lean.schema != POSTURE_SCHEMA_V1 {
        return Err(format!(
            "{name}: schema {:?} is not {POSTURE_SCHEMA} (nor {POSTURE_SCHEMA_V1})",
            lean.schema
        ));
    }
    Ok(f(lean))
}

/// One snapshot, read: what the fold needs, owned (the file's bytes are gone).
struct Read {
    digests: Vec<String>,
    last: Option<chrono::DateTime<chrono::FixedOffset>>,
    hosts: Vec<String>,
    summary: crate::model::Summary,
    peers: Vec<(Box<str>, [DirCounts; 2])>,
    local: Vec<(TlsErrorKind, u64)>,
}

fn lean_read(path: &Path) -> Result<Read, String> {
    read_lean(path, |l| Read {
        digests: l
            .identity
            .as_ref()
            .map(|i| i.flat().into_iter().map(|p| p.digest).collect())
            .unwrap_or_default(),
        last: l
            .identity
            .as_ref()
            .and_then(|i| i.last_seen)
            .or(l.summary.counts.last_seen),
        hosts: l.identity.map(|i| i.hosts).unwrap_or_default(),
        summary: l.summary.counts,
        peers: l
            .peers
            .iter()
            .map(|p| {
                (
                    Box::from(p.peer.as_ref()),
                    [p.inbound.counts(), p.outbound.counts()],
                )
            })
            .collect(),
        local: l
            .local_errors
            .values()
            .flat_map(|m| m.iter().map(|(k, e)| (*k, e.count)))
            .collect(),
    })
}

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
    /// Snapshots used that may count something twice: two of one logging host on one
    /// night (a re-run over other files, or a snapshot whose last stamp fell on another
    /// date than its name says).
    pub warnings: Vec<String>,
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
/// usable snapshot. `quiet` keeps the notes of reading the newest night whole off stderr.
pub fn load(dir: &Path, quiet: bool) -> Result<Loaded, Error> {
    let files = snapshot_files(dir)?;
    if files.is_empty() {
        return Err(Error::Failed(format!(
            "--history {}: no .json snapshot in it (write them with mailtls scan --format json)",
            dir.display()
        )));
    }
    let mut history = History::new();
    // The newest night and its files, read whole at the end.
    let mut newest: Option<(NaiveDate, Vec<PathBuf>)> = None;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut skipped = Vec::new();
    let mut incomplete = false;
    let mut used = 0u64;
    let mut warnings = Vec::new();
    let mut host_nights: HashMap<(NaiveDate, String), String> = HashMap::new();
    for chunk in files.chunks(chunk_size()) {
        let read: Vec<_> = chunk.par_iter().map(|p| (p, lean_read(p))).collect();
        for (path, res) in read {
            let name = path.display().to_string();
            let r = match res {
                Ok(r) => r,
                Err(e) => {
                    skipped.push(e);
                    incomplete = true;
                    continue;
                }
            };
            let file_name = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            // The same logs twice (a copy, a re-run) count once.
            if !r.digests.is_empty() {
                if let Some(first) = r
                    .digests
                    .iter()
                    .map(|d| seen.get(d))
                    .collect::<Option<Vec<_>>>()
                    && let Some(first) = first.first()
                {
                    skipped.push(format!("{name}: the same logs as {first} (counted once)"));
                    continue;
                }
                for d in &r.digests {
                    seen.entry(d.clone()).or_insert_with(|| name.clone());
                }
            }
            let Some(night) = night_of(r.last, &file_name) else {
                skipped.push(format!(
                    "{name}: no night: no stamp in it and no YYYY-MM-DD in its name"
                ));
                continue;
            };
            let mut hosts = r.hosts;
            if hosts.is_empty() {
                hosts.extend(host_of_name(&file_name));
            }
            for h in &hosts {
                match host_nights.entry((night, h.clone())) {
                    std::collections::hash_map::Entry::Occupied(e) => warnings.push(format!(
                        "{name}: a second snapshot of host {h} on the night of {night} (the first: {}): both are counted",
                        e.get()
                    )),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(name.clone());
                    }
                }
            }
            history.add_counts(
                night,
                &hosts,
                &r.summary,
                r.peers.iter().map(|(k, d)| (&**k, d.clone())),
                r.local,
            );
            used += 1;
            match &mut newest {
                Some((d, paths)) if *d == night => paths.push(path.clone()),
                Some((d, _)) if *d > night => {}
                _ => newest = Some((night, vec![path.clone()])),
            }
        }
    }
    let Some((_, paths)) = newest else {
        return Err(Error::Failed(format!(
            "--history {}: no usable snapshot: {}",
            dir.display(),
            skipped.join("; ")
        )));
    };
    // The newest night whole (its hosts' snapshots merged), read as `report SNAPSHOT…`
    // reads them.
    let newest = read_and_merge(&paths, "report", quiet)?;
    Ok(Loaded {
        trend: history.finish(),
        newest,
        used,
        skipped,
        incomplete,
        warnings,
    })
}

/// Runs `report --history DIR`: the newest night judged and rendered as `report` does,
/// with the trend; exit codes as `report`'s, and 3 when some file of `DIR` was left out.
pub fn run(dir: &Path, args: &super::report::Args) -> Result<u8, Error> {
    let judging = args.judge.load()?;
    let loaded = load(dir, args.quiet)?;
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
    let mut snap = loaded.newest;
    snap.name_log_hosts();
    let judged = args.judge.judge(judging, &snap, args.utc);
    let mut rep = judged.report(
        &snap,
        vec![format!("{} ({} snapshots)", dir.display(), loaded.used)],
    );
    rep.trend = Some(&loaded.trend);
    scan::write_report_dir(args.output.as_deref(), args.quiet, &rep)?;
    if args.output.is_some() && !args.quiet {
        eprintln!(
            "mailtls report: {} over {}",
            crate::model::text::count(loaded.used, "snapshot", "snapshots"),
            crate::model::text::count(loaded.trend.nights.len() as u64, "night", "nights"),
        );
    }
    let format = match (args.format, &args.output) {
        (Some(f), _) => Some(f),
        (None, None) => Some(Format::Table),
        (None, Some(_)) => None,
    };
    let text = match format {
        Some(Format::Csv) => report::trend::csv(&loaded.trend)
            .map_err(|e| Error::Failed(format!("trend.csv: {e}")))?,
        f => scan::render(f, args.wide, args.color, &rep)?,
    };
    super::write_stdout(&text)?;
    let (empty, incomplete) = snap
        .input
        .as_ref()
        .map_or((false, false), |n| (n.empty, !n.incomplete.is_empty()));
    let code = scan::exit_code("report", args.allow_empty, &rep, empty, incomplete);
    Ok(if loaded.incomplete {
        exit::INCOMPLETE
    } else {
        code
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::posture::{DirPosture, ErrorStat, PeerPosture, Posture};
    use crate::model::Summary;

    /// The lean reading of a snapshot gives the counts the whole one gives.
    #[test]
    fn lean_counts_are_the_postures() {
        let mut d = DirPosture {
            tls_sessions: 7,
            tls_messages: 9,
            plaintext_messages: 2,
            ..DirPosture::default()
        };
        for (v, n) in [
            (Verify::Ok, 3),
            (Verify::Trusted, 1),
            (Verify::No, 2),
            (Verify::Fail, 1),
        ] {
            d.verify.add_n(&v, n);
        }
        for (v, n) in [
            (TlsVersion::Tls1_3, 4),
            (TlsVersion::Legacy, 1),
            (TlsVersion::Other("UNKNOWN".into()), 1),
            (TlsVersion::Tls1_0, 1),
        ] {
            d.versions.add_n(&v, n);
        }
        d.errors.insert(
            TlsErrorKind::Handshake,
            ErrorStat {
                count: 5,
                last_text: "SSL_accept error".into(),
                ..ErrorStat::default()
            },
        );
        let mut p = Posture::default();
        p.peers.insert(
            "Mx.Example".into(),
            PeerPosture {
                peer: "Mx.Example".into(),
                outbound: d.clone(),
                ..PeerPosture::default()
            },
        );
        let mut errs = BTreeMap::new();
        errs.insert(
            TlsErrorKind::PrivateKey,
            ErrorStat {
                count: 3,
                last_text: "x".into(),
                ..ErrorStat::default()
            },
        );
        p.local_errors.insert("mx1".into(), errs);
        let json = Snapshot::new(Summary::default(), p).to_json();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mx1-2026-12-06.json");
        std::fs::write(&path, json).unwrap();
        let r = lean_read(&path).unwrap();
        assert_eq!(r.peers.len(), 1);
        assert_eq!(&*r.peers[0].0, "Mx.Example");
        assert_eq!(r.peers[0].1[1], DirCounts::of(&d));
        assert_eq!(r.peers[0].1[1].verified, 4);
        assert_eq!(r.peers[0].1[0], DirCounts::default());
        assert_eq!(r.local, [(TlsErrorKind::PrivateKey, 3)]);
    }
}
