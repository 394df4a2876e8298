//! `follow --tlsrpt-dir DIR`: TLS-RPT reports arriving in a directory, counted for
//! Prometheus.
//!
//! The directory is where reports land: `.json`/`.json.gz` files saved by a script, or a
//! Maildir (or any folder of `.eml` files) that receives the report mails. It is scanned
//! every few seconds ([`SCAN_EVERY`]); each file is read once. A file younger than
//! [`SETTLE`] is left for the next scan, so a report still being written is not read half.
//! Reports present at start are counted too (a restart is an ordinary counter reset), and a
//! report seen again (same organisation and report-id) is counted once.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::live::metrics::{family, sample};
use crate::stores::messages::is_report_header;
use crate::stores::messages::{Kind, detect_bytes, is_maildir};
use crate::tlsrpt::read::{MAX_REPORT, inflate, looks_like_report, reports_in_message};
use crate::tlsrpt::{ReportError, TlsReport, parse_report};

/// How often the directory is looked at.
pub const SCAN_EVERY: Duration = Duration::from_secs(5);
/// How old a file must be before it is read.
pub const SETTLE: Duration = Duration::from_secs(1);

/// The files of one watched directory already read.
#[derive(Debug)]
pub struct DirWatch {
    dir: PathBuf,
    seen: HashSet<PathBuf>,
}

impl DirWatch {
    pub fn new(dir: PathBuf) -> DirWatch {
        DirWatch {
            dir,
            seen: HashSet::new(),
        }
    }

    /// Reads the files that appeared since the last scan: each report found, or why a
    /// file that claimed to be one was refused (naming the file).
    pub fn scan(&mut self) -> Vec<Result<TlsReport, Refused>> {
        let mut files = Vec::new();
        walk(&self.dir, &mut files, 0);
        files.sort();
        let now = SystemTime::now();
        let mut out = Vec::new();
        for f in files {
            if self.seen.contains(&f) {
                continue;
            }
            let young = fs::metadata(&f)
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).unwrap_or_default() < SETTLE);
            if young {
                continue;
            }
            self.seen.insert(f.clone());
            out.extend(read_one(&f));
        }
        out
    }
}

/// Why a file of the watched folder that claimed to hold a report gave none.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("{}: {}", .file.display(), crate::model::text::plain_error(.source))]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: invalid TLS-RPT report: {source}", .file.display())]
    Invalid {
        file: PathBuf,
        #[source]
        source: ReportError,
    },
    #[error("{}: announces a TLS-RPT report but has no report part", .0.display())]
    NoReportPart(PathBuf),
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 8 {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let maildir = is_maildir(dir);
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        // Hidden files, and a Maildir's tmp/ (deliveries still being written).
        if name.starts_with('.') || (maildir && name == "tmp") {
            continue;
        }
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out, depth + 1),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

/// The reports of one file: a report file, or a message carrying reports; nothing for any
/// other file.
fn read_one(p: &Path) -> Vec<Result<TlsReport, Refused>> {
    let unreadable = |source| Refused::Read {
        file: p.to_path_buf(),
        source,
    };
    let mut raw = Vec::new();
    let read = fs::File::open(p).and_then(|f| f.take(MAX_REPORT).read_to_end(&mut raw));
    if let Err(e) = read {
        return vec![Err(unreadable(e))];
    }
    let bytes = match inflate(&raw) {
        Ok(b) => b,
        Err(e) => return vec![Err(unreadable(e))],
    };
    let fname = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let json_named = fname.ends_with(".json") || fname.ends_with(".json.gz");
    let why = |source: ReportError| Refused::Invalid {
        file: p.to_path_buf(),
        source,
    };
    if looks_like_report(&bytes) || json_named {
        return vec![parse_report(&bytes).map_err(why)];
    }
    if detect_bytes(&bytes) == Kind::Eml {
        let end = memchr::memmem::find(&bytes, b"\n\n")
            .or_else(|| memchr::memmem::find(&bytes, b"\r\n\r\n"))
            .unwrap_or(bytes.len());
        let header = bytes.get(..end).unwrap_or_default();
        if is_report_header(header) {
            let reports = reports_in_message(&bytes);
            if reports.is_empty() {
                return vec![Err(Refused::NoReportPart(p.to_path_buf()))];
            }
            return reports.into_iter().map(|r| r.map_err(why)).collect();
        }
    }
    Vec::new()
}

/// The TLS-RPT counters of `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    reports: BTreeMap<(String, &'static str), u64>,
    sessions: BTreeMap<(String, &'static str), u64>,
    failures: BTreeMap<(String, String), u64>,
    invalid: u64,
    ids: HashSet<(String, String)>,
}

impl Counters {
    /// Counts one report (once per organisation and report-id).
    pub fn add(&mut self, r: &TlsReport) {
        if !self
            .ids
            .insert((r.organization.clone(), r.report_id.clone()))
        {
            return;
        }
        let org = r.organization.clone();
        for p in &r.policies {
            *self
                .reports
                .entry((org.clone(), p.policy.kind.as_str()))
                .or_default() += 1;
            *self
                .sessions
                .entry((org.clone(), "successful"))
                .or_default() += p.successful;
            *self.sessions.entry((org.clone(), "failed")).or_default() += p.failed;
            for f in &p.failures {
                *self
                    .failures
                    .entry((org.clone(), f.result_type.as_str().to_owned()))
                    .or_default() += f.failed_session_count;
            }
        }
    }

    pub fn invalid(&mut self) {
        self.invalid += 1;
    }

    /// Appends the families to a Prometheus exposition.
    pub fn render(&self, s: &mut String) {
        family(
            s,
            "mailtls_tlsrpt_reports_total",
            "counter",
            "TLS-RPT (RFC 8460) report policies read from --tlsrpt-dir, by reporting organization and policy type (sts, tlsa, no-policy-found).",
        );
        for ((org, kind), n) in &self.reports {
            sample(
                s,
                "mailtls_tlsrpt_reports_total",
                &[("organization", org), ("policy_type", kind)],
                *n as f64,
            );
        }
        family(
            s,
            "mailtls_tlsrpt_sessions_total",
            "counter",
            "Sessions to our MX hosts that TLS-RPT reporters counted, by organization and result (successful, failed).",
        );
        for ((org, result), n) in &self.sessions {
            sample(
                s,
                "mailtls_tlsrpt_sessions_total",
                &[("organization", org), ("result", result)],
                *n as f64,
            );
        }
        family(
            s,
            "mailtls_tlsrpt_failed_sessions_total",
            "counter",
            "Failed sessions in TLS-RPT failure details, by organization and result type (certificate-expired, starttls-not-supported, ...).",
        );
        for ((org, rt), n) in &self.failures {
            sample(
                s,
                "mailtls_tlsrpt_failed_sessions_total",
                &[("organization", org), ("result_type", rt)],
                *n as f64,
            );
        }
        family(
            s,
            "mailtls_tlsrpt_invalid_reports_total",
            "counter",
            "Files or report parts in --tlsrpt-dir refused as invalid or partial TLS-RPT reports.",
        );
        sample(
            s,
            "mailtls_tlsrpt_invalid_reports_total",
            &[],
            self.invalid as f64,
        );
    }
}
