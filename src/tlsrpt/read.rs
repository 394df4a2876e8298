//! Finding and reading TLS-RPT reports: `.json` and `.json.gz` files, and the same attached
//! to stored messages (`multipart/report; report-type=tlsrpt` with an
//! `application/tlsrpt+json` or `application/tlsrpt+gzip` part, RFC 8460 §5.3).
//!
//! Files are recognised by content (a JSON object naming `organization-name` or
//! `report-id` near its top, after inflating gzip), so a journald JSON export or our own
//! `posture.json` is never taken for a report. Messages are recognised by their header
//! (the report content type, or the `TLS-Report-Domain:` field RFC 8460 §5.3 requires), so
//! only their bodies are copied out of a mailbox; MIME is decoded by `mail-parser`.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mail_parser::{MessageParser, MimeHeaders};
use serde::{Deserialize, Serialize};

use super::{ReportError, TlsReport, TlsRpt, parse_report};
use crate::input::{self, SourceFile};
use crate::stores::hops::ReportItem;
use crate::stores::messages::{self, MAX_BODY, RawMessage, Store};

/// Report files larger than this are refused: real ones are kilobytes.
pub const MAX_REPORT: u64 = 32 * 1024 * 1024;
/// Problems kept word for word in the summary; the rest are only counted.
const KEEP: usize = 50;

/// Where one report was found: a file, or a part of a message in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    /// The message's 1-based index in its store and its Message-ID, when in a store.
    pub message: Option<(u64, Option<String>)>,
    /// The MIME part (1-based among the report parts), when in a message.
    pub part: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((i, id)) = &self.message {
            write!(f, ": message {i}")?;
            if let Some(id) = id {
                write!(f, " <{id}>")?;
            }
        }
        if let Some(p) = self.part {
            write!(f, ", report part {p}")?;
        }
        Ok(())
    }
}

/// What reading the reports came to, for the summary line and `mailtls.tlsrpt/1`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReadSummary {
    /// Report files read (`.json`, `.json.gz`).
    pub files: u64,
    /// Stored messages that carried (or claimed to carry) a report.
    pub messages: u64,
    /// Valid reports folded into the model (duplicates included).
    pub reports: u64,
    /// Reports seen a second time (same organisation and report-id), counted once.
    pub duplicates: u64,
    /// Reports refused as invalid or partial, or unreadable.
    pub invalid: u64,
    /// The first problems, each naming the file (and message).
    pub problems: Vec<String>,
}

impl ReadSummary {
    fn problem(&mut self, text: String) {
        self.invalid += 1;
        if self.problems.len() < KEEP {
            self.problems.push(text);
        }
    }
}

/// The bytes inflated when they are gzip, as they are otherwise.
pub fn inflate(bytes: &[u8]) -> io::Result<Vec<u8>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_REPORT)
            .read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

/// True when the (inflated) first bytes of a file are a TLS-RPT report: a JSON object that
/// names one of the report's own top-level fields.
pub fn looks_like_report(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('{')
        && (t.contains("\"organization-name\"") || t.contains("\"report-id\""))
        && !t.contains("\"__CURSOR\"")
}

/// The files among `logs` (the log sources found on the command line) and below `paths`
/// (`.json` files, which directory walks leave out of the logs) that hold reports. Files of
/// message stores are never candidates.
pub fn find_files(paths: &[PathBuf], logs: &[SourceFile], stores: &[Store]) -> Vec<PathBuf> {
    find_files_counted(paths, logs, stores).0
}

/// [`find_files`], also counting the `.json` files found by walking `paths` that are not
/// reports at all (no `report-id`, `organization-name` or `policies`): a folder of
/// unrelated JSON is skipped quietly, with one note for the lot, never one warning each.
pub fn find_files_counted(
    paths: &[PathBuf],
    logs: &[SourceFile],
    stores: &[Store],
) -> (Vec<PathBuf>, u64) {
    let mut cand: Vec<PathBuf> = logs.iter().filter_map(|s| s.path.clone()).collect();
    let mut walked = Vec::new();
    for p in paths {
        walk_json(p, &mut walked, 0);
    }
    walked.sort();
    walked.dedup();
    walked.retain(|p| !messages::belongs_to_store(p, stores));
    cand.sort();
    cand.dedup();
    cand.retain(|p| !messages::belongs_to_store(p, stores) && is_report_file(p));
    let mut unrelated = 0;
    for p in walked {
        if cand.contains(&p) {
            continue;
        }
        if is_report_file(&p) {
            cand.push(p);
        } else {
            unrelated += 1;
        }
    }
    cand.sort();
    (cand, unrelated)
}

fn walk_json(p: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 32 || !p.is_dir() || messages::is_maildir(p) {
        return;
    }
    let Ok(entries) = fs::read_dir(p) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk_json(&path, out, depth + 1);
        } else if name.ends_with(".json") {
            out.push(path);
        }
    }
}

/// True when the file's first 64 KiB (inflated) look like a report. Named `.json` or
/// `.json.gz`, a file is also taken when it is a JSON object that names `policies` (the
/// other member every report has) without being a journald export or a mailtls document,
/// so a truncated report is reported as broken rather than ignored. JSON that claims
/// nothing of a report is not one.
/// RFC 8460 §5.3's file name, `sender!policy-domain!begin-timestamp!end-timestamp[!unique-id]`
/// with `.json` or `.json.gz`: the two timestamps are seconds since the epoch.
fn has_report_name(name: &str) -> bool {
    let Some(stem) = name
        .strip_suffix(".json.gz")
        .or_else(|| name.strip_suffix(".json"))
    else {
        return false;
    };
    let parts: Vec<&str> = stem.split('!').collect();
    (4..=5).contains(&parts.len())
        && !parts[0].is_empty()
        && !parts[1].is_empty()
        && parts[2..4]
            .iter()
            .all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
}

fn is_report_file(p: &Path) -> bool {
    let src = SourceFile::named(p);
    let mut head = Vec::new();
    let read = input::open(&src).and_then(|r| r.take(64 * 1024).read_to_end(&mut head));
    if read.is_err() {
        return false;
    }
    if looks_like_report(&head) {
        return true;
    }
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if has_report_name(&name) {
        // Named as RFC 8460 names reports: it claims to be one, so a broken one is
        // warned about rather than skipped as unrelated JSON.
        return true;
    }
    let text = String::from_utf8_lossy(&head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    (name.ends_with(".json") || name.ends_with(".json.gz"))
        && t.starts_with('{')
        && t.contains("\"policies\"")
        && !t.contains("\"__CURSOR\"")
        && !t.contains("\"schema\"")
}

/// The reports carried by one message (header and body as stored): every part whose type
/// is `application/tlsrpt+json` or `application/tlsrpt+gzip` (or a `.json`/`.json.gz`
/// attachment of a `report-type=tlsrpt` message), decoded and parsed. An empty list means
/// the message announced a report and carried none.
pub fn reports_in_message(raw: &[u8]) -> Vec<Result<TlsReport, ReportError>> {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return vec![Err(ReportError::Json("not a MIME message".into()))];
    };
    let mut out = Vec::new();
    for part in &msg.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let ctype = ct.ctype().to_ascii_lowercase();
        let sub = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        let name = part
            .attachment_name()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let is_report = ctype == "application"
            && (sub == "tlsrpt+json"
                || sub == "tlsrpt+gzip"
                || ((sub == "json" || sub == "gzip" || sub == "octet-stream")
                    && (name.ends_with(".json") || name.ends_with(".json.gz"))));
        if !is_report {
            continue;
        }
        out.push(
            inflate(part.contents())
                .map_err(|e| ReportError::Json(format!("cannot inflate the gzip part: {e}")))
                .and_then(|b| parse_report(&b)),
        );
    }
    out
}

/// Reads reports into one model as they come: the report files first, then the report
/// messages that the one read of the stores hands over ([`crate::stores::hops::scan`]),
/// so a mailbox is read once for its hops and its reports.
#[derive(Debug, Default)]
pub struct Reader {
    model: TlsRpt,
    sum: ReadSummary,
}

impl Reader {
    /// A reader that has read every report file of `files`.
    pub fn with_files(files: &[PathBuf]) -> Reader {
        let mut r = Reader::default();
        for f in files {
            r.sum.files += 1;
            let origin = f.display();
            let src = SourceFile {
                path: Some(f.clone()),
                display: Arc::from(origin.to_string()),
                mtime: None,
                walked: false,
            };
            let mut bytes = Vec::new();
            let read = input::open(&src).and_then(|rd| rd.take(MAX_REPORT).read_to_end(&mut bytes));
            match read {
                Err(e) => r.sum.problem(format!("{origin}: {e}")),
                Ok(_) => match parse_report(&bytes) {
                    Ok(rep) => r.fold(&rep),
                    Err(e) => r
                        .sum
                        .problem(format!("{origin}: invalid TLS-RPT report: {e}")),
                },
            }
        }
        r
    }

    /// Takes what the read of the stores hands over: a report message, or a problem.
    pub fn take(&mut self, item: ReportItem) {
        match item {
            ReportItem::Message(m) => self.message(&m),
            ReportItem::Problem(p) => self.sum.problem(p),
        }
    }

    /// The model and what reading came to.
    pub fn finish(self) -> (TlsRpt, ReadSummary) {
        (self.model, self.sum)
    }

    fn fold(&mut self, r: &TlsReport) {
        self.sum.reports += 1;
        if !self.model.add(r) {
            self.sum.duplicates += 1;
        }
    }

    /// The reports of one message whose header announced one.
    fn message(&mut self, m: &RawMessage) {
        let Some(body) = &m.body else {
            return;
        };
        self.sum.messages += 1;
        let mut raw = Vec::with_capacity(m.header.len() + body.len() + 2);
        raw.extend_from_slice(&m.header);
        raw.extend_from_slice(b"\n");
        raw.extend_from_slice(body);
        let id = MessageParser::default()
            .parse_headers(&m.header)
            .and_then(|h| h.message_id().map(str::to_owned));
        let origin = |part: Option<usize>| Origin {
            file: Arc::clone(&m.source.file),
            message: Some((m.index, id.clone())),
            part,
        };
        if body.len() >= MAX_BODY {
            self.sum.problem(format!(
                "{}: message body cut at {MAX_BODY} bytes; report skipped",
                origin(None)
            ));
            return;
        }
        let reports = reports_in_message(&raw);
        if reports.is_empty() {
            self.sum.problem(format!(
                "{}: announces a TLS-RPT report but has no application/tlsrpt+json or +gzip part",
                origin(None)
            ));
        }
        let many = reports.len() > 1;
        for (i, r) in reports.into_iter().enumerate() {
            match r {
                Ok(r) => self.fold(&r),
                Err(e) => self.sum.problem(format!(
                    "{}: invalid TLS-RPT report: {e}",
                    origin(many.then_some(i + 1))
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_report_name;

    #[test]
    fn rfc8460_file_names_claim_to_be_reports() {
        for yes in [
            "google.com!example.net!1795132800!1795219199.json",
            "relay.example!example.net!1795132800!1795219199!001.json.gz",
        ] {
            assert!(has_report_name(yes), "{yes}");
        }
        for no in [
            "package.json",
            "a!b!c!d.json",
            "a!b!1795132800.json",
            "google.com!example.net!1795132800!1795219199.txt",
        ] {
            assert!(!has_report_name(no), "{no}");
        }
    }
}
