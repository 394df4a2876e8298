//! Rendering only: a report never parses and never decides; it shows a [`Snapshot`] and
//! what [`crate::policy`] concluded about it.
//!
//! `scan -o DIR` writes, through [`write_dir`]:
//!
//! ```text
//! DIR/index.html      one self-contained page (inline CSS, charts as embedded SVG, no script)
//! DIR/posture.json    the mailtls.posture/1 snapshot (the input of the next --compare)
//! DIR/posture.csv     one row per peer and direction, with grade and reason
//! DIR/summary.md      headline, violations, what broke, what changed (for mail)
//! DIR/charts/*.svg    the charts, and the same as PNG
//! DIR/tlsrpt.json     mailtls.tlsrpt/1, only when TLS-RPT reports were read (tlsrpt.md)
//! ```
//!
//! Nothing in these files depends on the clock unless the caller puts a time in
//! [`Report::generated`], so the same logs give the same bytes.

pub mod charts;
pub mod csv;
pub mod events;
pub mod html;
pub mod json;
pub mod live;
pub mod markdown;
pub mod messages;
pub mod safe;
pub mod table;
pub mod tlsrpt;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use json::{POSTURE_SCHEMA, Snapshot};

use crate::compare::Comparison;
use crate::downgrade::Window;
use crate::event::{Mta, TlsErrorKind};
use crate::policy::{Evaluation, Policy, Readiness};
use crate::posture::{ErrorStat, PeerPosture};
use crate::timeline::Timeline;

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
    /// A generation stamp to print, when the caller wants one (`--generated-at`).
    pub generated: Option<String>,
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
                h.verified += d
                    .verify
                    .iter()
                    .filter(|(w, _)| matches!(w.as_str(), "OK" | "TRUSTED"))
                    .map(|(_, n)| n)
                    .sum::<u64>();
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

/// One kind of error across every peer and host: the "what broke" section.
#[derive(Debug, Clone)]
pub struct Broken {
    pub kind: TlsErrorKind,
    pub stat: ErrorStat,
    /// `peer direction` or `local HOST`, each with its count.
    pub scopes: Vec<(String, u64)>,
    /// The MTAs that logged it: the advice is given in each one's own terms.
    pub mtas: BTreeSet<Mta>,
}

impl Broken {
    /// The cause and fix per MTA that logged this kind.
    pub fn advice(&self) -> Vec<(&'static str, crate::policy::Advice)> {
        self.mtas
            .iter()
            .map(|m| {
                (
                    crate::policy::mta_name(*m),
                    crate::policy::advice(self.kind, *m),
                )
            })
            .collect()
    }
}

impl Report<'_> {
    /// Every error kind seen, most frequent first.
    pub fn broken(&self) -> Vec<Broken> {
        let mut m: BTreeMap<TlsErrorKind, Broken> = BTreeMap::new();
        let mut add = |kind: TlsErrorKind, e: &ErrorStat, scope: String, mtas: &BTreeSet<Mta>| {
            let b = m.entry(kind).or_insert_with(|| Broken {
                kind,
                stat: ErrorStat::default(),
                scopes: Vec::new(),
                mtas: BTreeSet::new(),
            });
            b.stat.merge(e.clone());
            b.scopes.push((scope, e.count));
            b.mtas.extend(mtas);
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
                add(*k, e, format!("local {host}"), &mtas);
            }
        }
        for (key, p) in &self.snap.posture.peers {
            let mut mtas = p.mtas.clone();
            if mtas.is_empty() {
                mtas = seen.clone();
            }
            for (dir, d) in [("in", &p.inbound), ("out", &p.outbound)] {
                for (k, e) in &d.errors {
                    add(*k, e, format!("{key} {dir}"), &mtas);
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

/// An error as a sentence for an administrator: Rust's `(os error 2)` suffix dropped and the
/// first letter lower-cased, so `No such file or directory (os error 2)` reads
/// `no such file or directory` after `path: `.
pub fn plain_error(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    let s = match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_owned(),
        _ => s,
    };
    let mut c = s.chars();
    match (c.next(), c.clone().next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            a.to_lowercase().chain(c).collect()
        }
        _ => s,
    }
}

/// `n` and its noun, singular for one: "1 file", "2 files", "0 lines".
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `part/whole` as a percentage with one decimal, `–` when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".to_owned()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

/// Writes the whole report into `dir` (created if needed); returns the files written.
pub fn write_dir(r: &Report, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let charts = charts::render_all(r).map_err(io::Error::other)?;
    let chart_dir = dir.join("charts");
    fs::create_dir_all(&chart_dir)?;
    let mut written = Vec::new();
    let mut put = |path: PathBuf, bytes: &[u8]| -> io::Result<()> {
        fs::write(&path, bytes)?;
        written.push(path);
        Ok(())
    };
    for c in &charts {
        put(chart_dir.join(format!("{}.svg", c.name)), c.svg.as_bytes())?;
        put(chart_dir.join(format!("{}.png", c.name)), &c.png)?;
    }
    put(dir.join("index.html"), html::render(r, &charts).as_bytes())?;
    put(dir.join("posture.json"), r.snap.to_json().as_bytes())?;
    put(
        dir.join("posture.csv"),
        csv::render(r).map_err(io::Error::other)?.as_bytes(),
    )?;
    put(dir.join("summary.md"), markdown::render(r).as_bytes())?;
    if let Some(t) = &r.snap.tlsrpt {
        put(dir.join("tlsrpt.json"), t.to_json().as_bytes())?;
    }
    Ok(written)
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
