//! The machine-readable posture snapshot, `mailtls.posture/1`.
//!
//! ```text
//! {
//!   "schema": "mailtls.posture/1",
//!   "generator": "mailtls 0.1.0",
//!   "summary": { "files", "files_unreadable", "lines_read", "lines_recognized",
//!                "lines_malformed", "lines_too_long", "lines_duplicate"?, "files_incomplete"?,
//!                "peers", "first_seen"?, "last_seen"? },
//!   "peers": [ { "peer": key, "names": [..], "ips": [..], "mtas": ["sendmail",..],
//!                "inbound": DIR, "outbound": DIR } ],            // sorted by key
//!   "local_errors": { host: { kind: ERR } },
//!   "messages"?: { "stores", "messages", "report_messages"?, "messages_unreadable", "messages_malformed",
//!                  "hops", "hops_malformed", "hops_local", "hops_witnessed", "hops_claimed",
//!                  "hops_also_in_logs", "hops_filtered", "our_hosts": [..],
//!                  "our_hosts_inferred", "verdicts": V, "chain_verdicts": V,
//!                  "plaintext_examples": [ { "source", "hop", "peer", "by"?, "with"? } ],
//!                  "problems": [..], "claimed": { "peers": [..], "local_errors": {} } },
//!   "tlsrpt"?: { "schema": "mailtls.tlsrpt/1", … },
//!   "identity"?: ID & { "parts"?: [ID] },
//!   "input"?: { "empty", "records", "left_out"?: {filter: n}, "loopback_peers",
//!               "duplicates"?: [ { "file", "first_read_in", "lines" } ],
//!               "incomplete"?: [text], "skipped"?: [text], "unrelated_json"? }
//! }
//! ID = { "digest": "sha256:…", "hosts": [..], "first_seen"?, "last_seen"? }
//! DIR = { "tls_sessions", "tls_messages", "plaintext_messages", "deferred", "bounced",
//!         "versions": {label: n}, "ciphers": {name: n}, "verify": {WORD: n},
//!         "min_bits"?, "errors": {kind: ERR}, "first_seen"?, "last_seen"? }
//! ERR = { "count", "first_seen"?, "last_seen"?, "last_text" }
//! V = { "all_tls", "plaintext", "unknown", "no_hops" }   // per-message verdicts
//! ```
//!
//! `tlsrpt` is present when TLS-RPT reports (RFC 8460) were among the inputs: the
//! `mailtls.tlsrpt/1` document described in `docs/tlsrpt.md`, also written alone as
//! `tlsrpt.json` by `scan -o`.
//!
//! `messages` is present when message stores (mbox, Maildir, `.eml`) were read. The
//! witnessed hops of those messages are already inside `peers`; `claimed` holds what
//! foreign `Received:` stamps say and is never merged into `peers` (see [`crate::stores::hops`]).
//!
//! `lines_duplicate` counts recognised lines skipped because an earlier input held the same
//! line (not in `lines_recognized`); `files_incomplete` the inputs not read to their end.
//! `identity` says what was counted (see [`Identity`]): `mailtls merge` uses it to count a
//! snapshot given twice once; a merged snapshot lists the scans it was made of in `parts`
//! (absent when any input lacked an identity). `input` is the run's account of its inputs
//! (see [`InputNotes`]); it is a report of one run, absent when there is nothing to say, and
//! not merged. All three were added within `mailtls.posture/1` (older readers ignore them).
//!
//! Times are RFC 3339 with offset. Keys marked `?` are absent when unknown. Within one
//! schema version fields are only ever added, never renamed or removed; a consumer should
//! ignore fields it does not know. A snapshot is also the input of `mailtls merge`.

use serde::{Deserialize, Serialize};

use super::tlsrpt::TlsRptDoc;
use crate::analysis::posture::Posture;
use crate::model::Summary;
use crate::stores::hops::MessagesSummary;

/// The schema name and version written into every snapshot.
pub const POSTURE_SCHEMA: &str = "mailtls.posture/1";

/// Summary as written: the run's counts plus the number of peers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryOut {
    #[serde(flatten)]
    pub counts: Summary,
    #[serde(default)]
    pub peers: u64,
}

/// A whole posture report as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema: String,
    #[serde(default)]
    pub generator: String,
    pub summary: SummaryOut,
    #[serde(flatten)]
    pub posture: Posture,
    /// What the message stores showed, when any were read.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub messages: Option<MessagesSummary>,
    /// The TLS-RPT reports read and their join with our logs, when any were found
    /// (a whole `mailtls.tlsrpt/1` document, see `docs/tlsrpt.md`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tlsrpt: Option<TlsRptDoc>,
    /// What was read, so that two snapshots of the same logs are known to be one
    /// (`mailtls merge` counts them once). Absent in snapshots of older versions.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub identity: Option<Identity>,
    /// How the run's input came to be what was counted: duplicates skipped, files skipped,
    /// inputs not read to the end, records left out by each filter, and whether anything was
    /// left to judge. A report of one run: not merged.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub input: Option<InputNotes>,
}

/// A snapshot's identity: the logging hosts, the first and last stamp, and a digest of what
/// was counted (SHA-256 over the posture, the recognised-line count, the time range and
/// the hosts), the same for the same logs however they were named or split into files. A
/// merged snapshot lists the identities it was made of in `parts`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Identity {
    pub digest: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_seen: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_seen: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub parts: Vec<Identity>,
}

impl Identity {
    /// The identity of a scan's snapshot (call before `identity` and `input` are set).
    pub fn of(snap: &Snapshot, hosts: Vec<String>) -> Identity {
        let s = &snap.summary.counts;
        let content = serde_json::to_string(&(
            &snap.posture,
            s.lines_recognized,
            s.first_seen,
            s.last_seen,
            &hosts,
        ))
        .unwrap_or_default();
        Identity {
            digest: sha256(content.as_bytes()),
            hosts,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            parts: Vec::new(),
        }
    }

    /// The single-scan identities this one stands for: itself, or its parts.
    pub fn flat(&self) -> Vec<Identity> {
        if self.parts.is_empty() {
            vec![self.clone()]
        } else {
            self.parts.clone()
        }
    }

    /// The identity of a merge of `parts` (single-scan identities).
    pub fn merged(mut parts: Vec<Identity>) -> Identity {
        parts.sort_by(|a, b| a.digest.cmp(&b.digest));
        let mut hosts: Vec<String> = parts.iter().flat_map(|p| p.hosts.clone()).collect();
        hosts.sort();
        hosts.dedup();
        let joined: Vec<&str> = parts.iter().map(|p| p.digest.as_str()).collect();
        Identity {
            digest: sha256(joined.join(",").as_bytes()),
            hosts,
            first_seen: parts.iter().filter_map(|p| p.first_seen).min(),
            last_seen: parts.iter().filter_map(|p| p.last_seen).max(),
            parts,
        }
    }

    /// True when both cover one logging host over intersecting times: their logs overlap.
    pub fn overlaps(&self, o: &Identity) -> bool {
        let host = self.hosts.iter().any(|h| o.hosts.contains(h));
        let time = match (self.first_seen, self.last_seen, o.first_seen, o.last_seen) {
            (Some(a), Some(b), Some(c), Some(d)) => a <= d && c <= b,
            _ => false,
        };
        host && time
    }
}

fn sha256(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Inputs of a run that were not counted as given, and why (the `input` member).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InputNotes {
    /// Nothing was left to judge: no record recognised, or every one left out by the
    /// selection. Reports then show an "empty input" banner instead of a verdict.
    #[serde(default)]
    pub empty: bool,
    /// Records correlated from the logs, before the selection.
    #[serde(default)]
    pub records: u64,
    /// Records left out, by filter (`loopback (--loopback)`, `--peer`, `--direction`,
    /// `time window (--since/--until/--around)`).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty", default)]
    pub left_out: std::collections::BTreeMap<String, u64>,
    /// Distinct peers on this machine left out (without `--loopback`).
    #[serde(default)]
    pub loopback_peers: u64,
    /// Per input, the recognised lines an earlier input already held.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub duplicates: Vec<DuplicateNote>,
    /// Inputs not read to their end (missing, unreadable, truncated, replaced), each
    /// naming the file and what was read.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub incomplete: Vec<String>,
    /// Files found by a directory walk and not read (`file: why`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub skipped: Vec<String>,
    /// `.json` files found by a walk that are no TLS-RPT report, skipped quietly.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub unrelated_json: u64,
    /// Correlation entries (open sessions, parked messages) that the memory bound dropped
    /// before their time window closed (`Correlator::evicted`): a log whose clock stands
    /// still, or more state in flight than the bound. Said, so that a verdict that may
    /// have lost its TLS session is not silently wrong.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub state_evicted: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `file: N lines already read from first_read_in`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateNote {
    pub file: String,
    pub first_read_in: String,
    pub lines: u64,
}

impl InputNotes {
    /// The banner shown instead of a verdict when nothing was judged.
    pub fn banner(&self) -> Option<String> {
        if !self.empty {
            return None;
        }
        if self.records == 0 {
            return Some(
                "EMPTY INPUT: no mail-log record was recognised in what was read: nothing was judged"
                    .to_owned(),
            );
        }
        let by: Vec<String> = self
            .left_out
            .iter()
            .map(|(f, n)| format!("{n} by {f}"))
            .collect();
        Some(format!(
            "EMPTY INPUT: all {} records were left out ({}): nothing was judged",
            self.records,
            by.join(", ")
        ))
    }

    /// One line per note, for the table, Markdown and HTML summaries.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for d in &self.duplicates {
            out.push(format!(
                "{}: {} already read from {} (counted once)",
                d.file,
                crate::model::text::count(d.lines, "line", "lines"),
                d.first_read_in
            ));
        }
        if self.loopback_peers > 0 {
            out.push(format!(
                "{} loopback peer{} left out (--loopback)",
                self.loopback_peers,
                if self.loopback_peers == 1 { "" } else { "s" }
            ));
        }
        if !self.empty {
            let by: Vec<String> = self
                .left_out
                .iter()
                .filter(|(f, _)| !f.starts_with("loopback"))
                .map(|(f, n)| format!("{n} by {f}"))
                .collect();
            if !by.is_empty() {
                out.push(format!(
                    "of {} records, left out: {}",
                    self.records,
                    by.join(", ")
                ));
            }
        }
        for i in &self.incomplete {
            out.push(format!("INCOMPLETE: {i}"));
        }
        for s in &self.skipped {
            out.push(format!("skipped {s}"));
        }
        if self.state_evicted > 0 {
            out.push(format!(
                "{} dropped by the memory bound before their time window closed (the log's clock stood still, or more was in flight than {} entries): a message may have lost its TLS session",
                crate::model::text::count(
                    self.state_evicted,
                    "correlation entry",
                    "correlation entries"
                ),
                crate::correlate::MAX_ENTRIES
            ));
        }
        if self.unrelated_json > 0 {
            out.push(format!(
                "{} .json file{} not TLS-RPT reports (no report-id or policies), skipped",
                self.unrelated_json,
                if self.unrelated_json == 1 {
                    " is"
                } else {
                    "s are"
                }
            ));
        }
        out
    }
}

impl Snapshot {
    pub fn new(summary: Summary, posture: Posture) -> Snapshot {
        Snapshot {
            schema: POSTURE_SCHEMA.to_owned(),
            generator: concat!("mailtls ", env!("CARGO_PKG_VERSION")).to_owned(),
            summary: SummaryOut {
                counts: summary,
                peers: posture.peers.len() as u64,
            },
            posture,
            messages: None,
            tlsrpt: None,
            identity: None,
            input: None,
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            // Serialising plain data cannot fail; say so loudly if it ever does.
            format!("{{\"error\": \"serialisation failed: {e}\"}}")
        });
        s.push('\n');
        s
    }
}
