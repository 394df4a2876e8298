//! Rendering only: a report never parses and never decides; it shows a [`Snapshot`] and
//! what [`crate::analysis::policy`] concluded about it.
//!
//! `scan -o DIR` writes, through [`write_dir`]:
//!
//! ```text
//! DIR/index.html      one self-contained page (inline CSS, charts as embedded SVG, no script)
//! DIR/posture.json    the mailtls.posture/2 snapshot (the input of the next --compare, merge, report)
//! DIR/posture.csv     one row per peer and direction, with grade and reason
//! DIR/summary.md      headline, violations, what broke, what changed (for mail)
//! DIR/charts/*.svg    the charts, and the same as PNG
//! DIR/tlsrpt.json     mailtls.tlsrpt/1, only when TLS-RPT reports were read (docs/tlsrpt.md)
//! DIR/trend.csv       one row per night, only for `report --history` (docs/reports.md)
//! ```
//!
//! Nothing in these files depends on the clock but the generation stamp of `index.html`
//! and `summary.md` ([`Report::generated`]; `scan --generated-at` pins it), so the same
//! logs and the same stamp give the same bytes.

pub mod charts;
pub mod csv;
pub mod events;
pub mod html;
pub mod json;
pub mod markdown;
pub mod messages;
pub mod table;
pub mod tlsrpt;
pub mod trend;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use json::{POSTURE_SCHEMA, Snapshot};

use crate::analysis::compare::Comparison;
use crate::analysis::downgrade::Window;
use crate::analysis::host_tls::HostDir;
use crate::analysis::policy::{Evaluation, Policy, Readiness};
use crate::analysis::posture::{ErrorStat, PeerPosture};
use crate::analysis::timeline::Timeline;
use crate::model::text::count;
use crate::model::{Direction, Mta, TlsErrorKind};

/// Everything a report shows, gathered by the command.
pub struct Report<'a> {
    pub snap: &'a Snapshot,
    pub timeline: &'a Timeline,
    /// Silent-downgrade windows (local configuration errors and their consequence).
    pub windows: &'a [Window],
    pub policy: &'a Policy,
    /// Where the policy came from: a file name, or "built-in".
    pub policy_source: String,
    pub evaluation: &'a Evaluation,
    pub comparison: Option<&'a Comparison>,
    /// Present with `--enforce-readiness`.
    pub readiness: Option<&'a [Readiness]>,
    /// The generation stamp to print (`scan` gives the time of the run, or
    /// `--generated-at`), so a reader knows how old the page is.
    pub generated: Option<String>,
    /// True when the policy is enforced (`--policy FILE`, `--fail-on-violations`): its
    /// violations make the exit code 1. Reports then headline "policy violations"; when it
    /// is false they say "findings (not enforced)", so that the page never announces
    /// violations of a run that exits 0.
    pub enforced: bool,
    /// The inputs as given on the command line (paths, `-` for stdin), for the header.
    pub inputs: Vec<String>,
    /// The nightly trend (`report --history DIR`): a trend section in the page and in
    /// `summary.md`, and `trend.csv`.
    pub trend: Option<&'a crate::analysis::history::Trend>,
}

impl Report<'_> {
    /// Headline numbers: messages, TLS messages, verified sessions, sessions, errors.
    pub fn headline(&self) -> Headline {
        let mut h = Headline::default();
        for p in self.snap.posture.peers.values() {
            for d in [&p.inbound, &p.outbound] {
                h.messages += d.messages();
                h.tls_messages += d.tls_messages;
                h.plaintext_messages += d.plaintext_messages;
                h.sessions += d.tls_sessions;
                h.verified += d.verify.count_where(|v| {
                    matches!(v, crate::model::Verify::Ok | crate::model::Verify::Trusted)
                });
                h.errors += d.error_count();
            }
        }
        for errs in self.snap.posture.local_errors.values() {
            h.errors += errs.values().map(|e| e.count).sum::<u64>();
        }
        h.peers = self.snap.posture.peers.len() as u64;
        h
    }
}

impl Report<'_> {
    /// What the policy's results are called: "policy violation(s)" when it is enforced,
    /// "finding(s)" when it only grades; with the count.
    pub fn violations_label(&self) -> String {
        let n = self.evaluation.violations.len() as u64;
        if self.enforced {
            count(n, "policy violation", "policy violations")
        } else {
            count(n, "finding", "findings")
        }
    }

    /// The one sentence that says whether the policy decides the exit code.
    pub fn enforcement_note(&self) -> String {
        let policy = if self.policy_source == "built-in" {
            "The built-in policy".to_owned()
        } else {
            format!("Policy {}", self.policy_source)
        };
        if self.enforced {
            format!("{policy} is enforced: any violation makes the run exit 1.")
        } else {
            format!(
                "{policy} grades peers but is not enforced: the run exits 0 whatever it finds \
                 (--fail-on-violations or --policy FILE make a violation exit 1)."
            )
        }
    }
}

/// One kind of error across every peer and host: the "what broke" section.
#[derive(Debug, Clone)]
pub struct Broken {
    pub kind: TlsErrorKind,
    pub stat: ErrorStat,
    /// `peer direction` or `local HOST`, each with its count.
    pub scopes: Vec<(String, u64)>,
    /// The MTAs that logged it: the advice is given in each one's own terms.
    pub mtas: BTreeSet<Mta>,
    /// Each MTA with the side of its peers' incidents (our server side = inbound, our
    /// client side = outbound); none for local ones. A failed handshake is advised on per
    /// side.
    pub sides: BTreeSet<(Mta, Direction)>,
}

impl Broken {
    /// The example line of this kind with the reason the MTA logged next to it (Postfix's
    /// `TLS library problem: … no shared cipher` after `SSL_accept error from …: -1`):
    /// the line alone says that it failed, the reason says why.
    pub fn example(&self) -> String {
        crate::model::text::with_reason(&self.stat.last_text, self.stat.last_reason.as_deref())
    }

    /// The cause and fix per MTA that logged this kind, and per side where the advice
    /// depends on it (labelled `Postfix, inbound` when both sides are there).
    pub fn advice(&self) -> Vec<(String, crate::analysis::policy::Advice)> {
        use crate::analysis::policy::{advice_on, depends_on_side, mta_name};
        let by_side = depends_on_side(self.kind);
        let both = by_side && {
            let mut d = self.sides.iter().map(|(_, d)| *d);
            d.next().is_some_and(|first| d.any(|x| x != first))
        };
        let mut out = Vec::new();
        for &m in &self.mtas {
            let sides: Vec<Direction> = self
                .sides
                .iter()
                .filter(|(n, _)| by_side && *n == m)
                .map(|(_, d)| *d)
                .collect();
            if sides.is_empty() {
                out.push((mta_name(m).to_owned(), advice_on(self.kind, m, None)));
            }
            for side in sides {
                let label = if both {
                    let word = match side {
                        Direction::Inbound => "inbound",
                        Direction::Outbound => "outbound",
                    };
                    format!("{}, {word}", mta_name(m))
                } else {
                    mta_name(m).to_owned()
                };
                out.push((label, advice_on(self.kind, m, Some(side))));
            }
        }
        out
    }
}

impl Report<'_> {
    /// Every error kind seen, most frequent first.
    /// Our hosts that did no TLS at all in a role while their peers sent or took mail in
    /// clear ([`crate::analysis::host_tls`]): ours to fix, listed under "What broke".
    pub fn without_tls(&self) -> Vec<&HostDir> {
        self.snap
            .host_tls
            .without_tls(self.windows, &self.snap.posture)
            .collect()
    }

    pub fn broken(&self) -> Vec<Broken> {
        let mut m: BTreeMap<TlsErrorKind, Broken> = BTreeMap::new();
        let mut add = |kind: TlsErrorKind,
                       e: &ErrorStat,
                       scope: String,
                       mtas: &BTreeSet<Mta>,
                       side: Option<Direction>| {
            let b = m.entry(kind).or_insert_with(|| Broken {
                kind,
                stat: ErrorStat::default(),
                scopes: Vec::new(),
                mtas: BTreeSet::new(),
                sides: BTreeSet::new(),
            });
            // The MTAs that logged the incidents; the fallbacks are for snapshots written
            // before errors recorded them.
            let mtas = if e.mtas.is_empty() { mtas } else { &e.mtas };
            b.stat.merge(e.clone());
            b.scopes.push((scope, e.count));
            b.mtas.extend(mtas);
            if let Some(d) = side {
                b.sides.extend(mtas.iter().map(|m| (*m, d)));
            }
        };
        // A local error's MTA: the one whose window it opened on that host; failing that,
        // every MTA seen (a site runs one MTA per host as a rule); failing that, Sendmail.
        let mut seen: BTreeSet<Mta> = self
            .snap
            .posture
            .peers
            .values()
            .flat_map(|p| p.mtas.iter().copied())
            .collect();
        if seen.is_empty() {
            seen.insert(Mta::Sendmail);
        }
        for (host, errs) in &self.snap.posture.local_errors {
            for (k, e) in errs {
                let mut mtas: BTreeSet<Mta> = self
                    .windows
                    .iter()
                    .filter(|w| &w.host == host && w.errors.contains_key(k))
                    .map(|w| w.mta)
                    .collect();
                if mtas.is_empty() {
                    mtas = seen.clone();
                }
                add(*k, e, format!("local {host}"), &mtas, None);
            }
        }
        for (key, p) in &self.snap.posture.peers {
            let mut mtas = p.mtas.clone();
            if mtas.is_empty() {
                mtas = seen.clone();
            }
            for (side, d) in [
                (Direction::Inbound, &p.inbound),
                (Direction::Outbound, &p.outbound),
            ] {
                for (k, e) in &d.errors {
                    add(*k, e, format!("{key} {}", side.as_str()), &mtas, Some(side));
                }
            }
        }
        let mut v: Vec<Broken> = m.into_values().collect();
        // Our own configuration first (it is ours to fix, and it silently downgrades mail),
        // then by count.
        v.sort_by(|a, b| {
            b.kind
                .is_local()
                .cmp(&a.kind.is_local())
                .then(b.stat.count.cmp(&a.stat.count))
                .then(a.kind.cmp(&b.kind))
        });
        v
    }

    /// Peer keys, worst grade first, then the posture's worst-first order.
    pub fn peers_by_grade(&self) -> Vec<&PeerPosture> {
        let mut v = self.snap.posture.worst_first();
        v.sort_by_key(|p| std::cmp::Reverse(self.evaluation.grades.get(&p.peer).map(|g| g.grade)));
        v
    }
}

/// The numbers at the top of every report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Headline {
    pub messages: u64,
    pub tls_messages: u64,
    pub plaintext_messages: u64,
    pub sessions: u64,
    pub verified: u64,
    pub peers: u64,
    pub errors: u64,
}

/// `part/whole` as a percentage with one decimal, `–` when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".to_owned()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

/// Writes the whole report into `dir`; returns the files written (under their final
/// names).
///
/// Never file by file in place: the report is written into a temporary sibling directory
/// (`.DIR.mailtls-tmp.PID.N`), every file fsynced, and only then put in place by one
/// rename (an atomic exchange with the previous report when there is one). A full disk,
/// an I/O error or a kill leaves the previous complete report as it was, never a cut
/// `index.html` beside an older `posture.json`; temporary directories of dead runs are
/// removed by the next. An existing `DIR` that holds anything but a report is refused
/// rather than replaced.
pub fn write_dir(r: &Report, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut charts = charts::render_all(r).map_err(io::Error::other)?;
    if let Some(t) = r.trend {
        charts.extend(trend::charts(t).map_err(io::Error::other)?);
    }
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for c in &charts {
        files.push((
            PathBuf::from("charts").join(format!("{}.svg", c.name)),
            c.svg.clone().into_bytes(),
        ));
        files.push((
            PathBuf::from("charts").join(format!("{}.png", c.name)),
            c.png.clone(),
        ));
    }
    files.push(("index.html".into(), html::render(r, &charts).into_bytes()));
    files.push(("posture.json".into(), r.snap.to_json().into_bytes()));
    files.push((
        "posture.csv".into(),
        csv::render(r).map_err(io::Error::other)?.into_bytes(),
    ));
    files.push(("summary.md".into(), markdown::render(r).into_bytes()));
    if let Some(t) = &r.snap.tlsrpt {
        files.push(("tlsrpt.json".into(), t.to_json().into_bytes()));
    }
    if let Some(t) = r.trend {
        files.push(("trend.csv".into(), trend::csv(t)?.into_bytes()));
    }
    atomic_dir(dir, &files)?;
    Ok(files.into_iter().map(|(p, _)| dir.join(p)).collect())
}

/// What a report directory may hold; anything else means `DIR` is not ours to replace.
fn is_report_entry(name: &str) -> bool {
    matches!(
        name,
        "index.html"
            | "posture.json"
            | "posture.csv"
            | "summary.md"
            | "charts"
            | "tlsrpt.json"
            | "trend.csv"
    )
}

/// Writes `files` (relative paths) as the whole content of `dir`, atomically; see
/// [`write_dir`].
pub fn atomic_dir(dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> io::Result<()> {
    use std::io::Write;
    let name = dir
        .file_name()
        .filter(|n| *n != "." && *n != "..")
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "give a directory name for the report (not . or ..)",
            )
        })?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let exists = match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {
            if let Some(other) = fs::read_dir(dir)?
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| !is_report_entry(n))
            {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} holds {other}, which is not part of a report: not replacing it (give a new or report directory)",
                        dir.display()
                    ),
                ));
            }
            true
        }
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a directory", dir.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    let prefix = format!(".{name}.mailtls-tmp.");
    remove_stale_dirs(&parent, &prefix);
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = parent.join(format!(
        "{prefix}{}.{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    fs::create_dir(&tmp)?;
    let written = (|| -> io::Result<()> {
        for (rel, bytes) in files {
            let p = tmp.join(rel);
            if let Some(d) = p.parent() {
                fs::create_dir_all(d)?;
            }
            let mut f = fs::File::create(&p)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        for d in [tmp.join("charts"), tmp.clone()] {
            if let Ok(f) = fs::File::open(&d) {
                f.sync_all()?;
            }
        }
        if exists {
            exchange(&tmp, dir)?;
        } else {
            fs::rename(&tmp, dir)?;
        }
        if let Ok(f) = fs::File::open(&parent) {
            let _ = f.sync_all();
        }
        Ok(())
    })();
    // After an exchange `tmp` holds the previous report; after a failure, the partial
    // new one. Either way it goes.
    let _ = fs::remove_dir_all(&tmp);
    written.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{e} (the previous report, if any, is kept as it was)"),
        )
    })
}

/// Swaps two directories in one step (`renameat2(RENAME_EXCHANGE)`); where the file
/// system cannot, the old one is renamed aside first (a crash between the two renames
/// leaves it aside, under the temporary name, never cut).
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => return Ok(()),
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
        Err(e) => return Err(e.into()),
    }
    let mut aside = a.as_os_str().to_owned();
    aside.push(".old");
    let aside = PathBuf::from(aside);
    fs::rename(b, &aside)?;
    fs::rename(a, b)?;
    fs::rename(&aside, a)
}

/// Removes temporary report directories (`prefix` + `PID.N`) left by runs that no longer
/// run (killed while writing).
fn remove_stale_dirs(parent: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let n = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = n.strip_prefix(prefix) else {
            continue;
        };
        let pid: Option<i32> = rest.split('.').next().and_then(|p| p.parse().ok());
        // Signal 0 only asks whether the process exists.
        let alive = pid
            .and_then(rustix::process::Pid::from_raw)
            .is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
        if !alive {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// True when stdout is a terminal and `NO_COLOR` is unset: the only case where we colour.
pub fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// `--color auto|always|never`: when the terminal output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// When stdout is a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    pub fn enabled(self) -> bool {
        match self {
            ColorWhen::Auto => use_colour(),
            ColorWhen::Always => true,
            ColorWhen::Never => false,
        }
    }
}

#[cfg(test)]
mod plain_error_tests {
    use crate::model::text::plain_error;

    #[test]
    fn os_error_suffixes_go_wherever_they_are() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(plain_error(&e), "no such file or directory");
        let wrapped = format!("/etc/x.pem: {e}");
        assert_eq!(
            plain_error(&wrapped),
            "/etc/x.pem: no such file or directory"
        );
        let twice = format!("a: {e}; b: {}", std::io::Error::from_raw_os_error(13));
        assert_eq!(
            plain_error(&twice),
            "a: no such file or directory; b: permission denied"
        );
        // Capitalised words that are names stay as they are.
        assert_eq!(plain_error(&"TLS handshake failed"), "TLS handshake failed");
    }
}
