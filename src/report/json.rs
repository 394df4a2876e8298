//! The machine-readable posture snapshot, `mailtls.posture/2`: everything a report shows,
//! so that the snapshots of several hosts, merged ([`Snapshot::merge`]), render the report
//! one scan of all their logs would (`mailtls report`, docs/fleet.md).
//!
//! ```text
//! {
//!   "schema": "mailtls.posture/2",
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
//!               "loopback_keys"?: [key],
//!               "duplicates"?: [ { "file", "first_read_in", "lines" } ],
//!               "incomplete"?: [text], "skipped"?: [text], "unrelated_json"? },
//!   "timeline": { "buckets": { epoch_hour: BUCKET }, "untimed" },     // added in /2
//!   "windows": [ WINDOW ]                                              // added in /2
//! }
//! BUCKET = { "tls_messages", "plaintext_messages", "versions": {label: n}, "errors": {kind: n} }
//! WINDOW = { "host", "direction", "mta", "start", "resumed"?, "errors": {kind: n},
//!            "first_error", "first_source", "messages": [..], "plaintext_messages",
//!            "peers": {key: n}, "failed_handshakes" }
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
//! (see [`InputNotes`]), absent when there is nothing to say. All three were added within
//! `mailtls.posture/1` (older readers ignore them).
//!
//! What changed in `/2`: `timeline` (the charts' series, [`Timeline`]) and `windows` (the
//! silent-downgrade windows, [`Window`]) were added, and `input.loopback_keys`; every
//! section now merges, `messages`, `tlsrpt` and `input` included (`/1`'s `merge` dropped
//! them). Nothing was renamed or removed. `/1` snapshots are still read
//! ([`Snapshot::parse`]); what a report made from one lacks is [`Snapshot::lacks`].
//!
//! Times are RFC 3339 with offset. Keys marked `?` are absent when unknown. Within one
//! schema version fields are only ever added, never renamed or removed; a consumer should
//! ignore fields it does not know. A snapshot is also the input of `mailtls merge`.

use serde::{Deserialize, Serialize};

use super::tlsrpt::TlsRptDoc;
use crate::analysis::downgrade::{Window, merge_windows};
use crate::analysis::host_tls::HostTls;
use crate::analysis::posture::Posture;
use crate::analysis::timeline::Timeline;
use crate::model::Summary;
use crate::stores::hops::MessagesSummary;

/// The schema name and version written into every snapshot.
pub const POSTURE_SCHEMA: &str = "mailtls.posture/2";

/// The previous version, still read (by `merge`, `report`, `--compare`, `check --report`):
/// it lacks `timeline` and `windows`, so a report made from it has no charts of its own
/// and no silent-downgrade windows ([`Snapshot::lacks`]).
pub const POSTURE_SCHEMA_V1: &str = "mailtls.posture/1";

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
    /// The charts' time series: per-hour counts of the records judged (added in /2).
    #[serde(default)]
    pub timeline: Timeline,
    /// The silent-downgrade windows of the logs read (added in /2), ordered by host,
    /// start and direction.
    #[serde(default)]
    pub windows: Vec<Window>,
    /// Per log host and role: TLS seen at all, and the clear text while none was
    /// ([`crate::analysis::host_tls`]): a host that did no TLS with several peers is ours
    /// to fix, not theirs. Absent in snapshots of older versions.
    #[serde(default, skip_serializing_if = "HostTls::is_empty")]
    pub host_tls: HostTls,
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
        // Hashed as it is written: the posture's JSON of a large log is megabytes, and
        // holding it whole (a doubling string) was the largest allocation of a scan's end.
        let mut hash = HashWriter(ring::digest::Context::new(&ring::digest::SHA256));
        // serde_json writes token by token: buffered, the hash sees 64 KiB at a time.
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut hash);
        let _ = serde_json::to_writer(
            &mut buffered,
            &(
                &snap.posture,
                s.lines_recognized,
                s.first_seen,
                s.last_seen,
                &hosts,
            ),
        );
        let _ = std::io::Write::flush(&mut buffered);
        drop(buffered);
        Identity {
            digest: hex_digest(hash.0.finish()),
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
        parts.sort_by(|a, b| {
            a.digest.cmp(&b.digest).then_with(|| {
                let whole = |i: &Identity| serde_json::to_string(i).unwrap_or_default();
                whole(a).cmp(&whole(b))
            })
        });
        let mut hosts: Vec<String> = parts.iter().flat_map(|p| p.hosts.clone()).collect();
        hosts.sort();
        hosts.dedup();
        let joined: Vec<&str> = parts.iter().map(|p| p.digest.as_str()).collect();
        Identity {
            digest: sha256(joined.join(",").as_bytes()),
            hosts,
            first_seen: parts
                .iter()
                .fold(None, |t, p| crate::model::min_time(t, p.first_seen)),
            last_seen: parts
                .iter()
                .fold(None, |t, p| crate::model::max_time(t, p.last_seen)),
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
    hex_digest(ring::digest::digest(&ring::digest::SHA256, bytes))
}

fn hex_digest(d: ring::digest::Digest) -> String {
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Counts the bytes written into it (nothing is kept).
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes written into it go into a running SHA-256 (nothing is kept).
struct HashWriter(ring::digest::Context);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
    /// Their keys, sorted (added in /2): a merge counts a peer left out on two hosts once.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub loopback_keys: Vec<String>,
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
    /// The notes of two runs (the `input` section of merged snapshots): nothing was judged
    /// only when neither judged anything; counts add, per filter too; the lists are joined
    /// and sorted (each line names its file). Loopback peers are counted per run: one on
    /// two hosts counts twice.
    pub fn merge(&mut self, o: InputNotes) {
        // Distinct peers when both parts name theirs; a part that does not (/1) adds.
        let named = |n: &InputNotes| n.loopback_peers == n.loopback_keys.len() as u64;
        let both_named = named(self) && named(&o);
        self.empty &= o.empty;
        self.records += o.records;
        for (k, n) in o.left_out {
            *self.left_out.entry(k).or_default() += n;
        }
        let keys: std::collections::BTreeSet<String> = self
            .loopback_keys
            .drain(..)
            .chain(o.loopback_keys)
            .collect();
        self.loopback_keys = keys.into_iter().collect();
        self.loopback_peers = if both_named {
            self.loopback_keys.len() as u64
        } else {
            self.loopback_peers + o.loopback_peers
        };
        self.duplicates.extend(o.duplicates);
        self.duplicates.sort_by(|a, b| {
            (&a.file, &a.first_read_in, a.lines).cmp(&(&b.file, &b.first_read_in, b.lines))
        });
        self.incomplete.extend(o.incomplete);
        self.incomplete.sort();
        self.skipped.extend(o.skipped);
        self.skipped.sort();
        self.unrelated_json += o.unrelated_json;
        self.state_evicted += o.state_evicted;
    }

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
            timeline: Timeline::default(),
            windows: Vec::new(),
            host_tls: HostTls::default(),
        }
    }

    /// Reads a snapshot of either version (`/1` or `/2`); `name` is for the error.
    pub fn parse(name: &str, text: &str) -> Result<Snapshot, SnapshotError> {
        let snap: Snapshot =
            serde_json::from_str(text).map_err(|e| SnapshotError::Json(name.to_owned(), e))?;
        if snap.schema != POSTURE_SCHEMA && snap.schema != POSTURE_SCHEMA_V1 {
            return Err(SnapshotError::Schema(name.to_owned(), snap.schema));
        }
        Ok(snap)
    }

    /// What a report made from this snapshot misses because it was written by an older
    /// version (`None` for a `/2` snapshot): the warning `merge` and `report` print.
    pub fn lacks(&self) -> Option<&'static str> {
        (self.schema == POSTURE_SCHEMA_V1).then_some(
            "is mailtls.posture/1: it has no timeline and no downgrade windows, so its records are missing from the charts and its windows from the report (scan its logs again for a /2 snapshot)",
        )
    }

    /// Adds another snapshot's logs to this one: every section merges, so the merge of the
    /// snapshots of several hosts is the snapshot one run over all their logs would have
    /// written (numbers, time series, windows, messages, TLS-RPT, input notes). The merge
    /// is associative and commutative (tests/it/fleet.rs proves it over arbitrary
    /// snapshots); the result is always of the current schema. A snapshot given twice
    /// counts twice: `mailtls merge` and `mailtls report` drop repeats first by identity.
    pub fn merge(&mut self, o: Snapshot) {
        self.schema = POSTURE_SCHEMA.to_owned();
        // The newer generator of the two, so that the result does not depend on order.
        if o.generator > self.generator {
            self.generator = o.generator;
        }
        self.summary.counts.merge(o.summary.counts);
        self.posture.merge(o.posture);
        self.summary.peers = self.posture.peers.len() as u64;
        self.messages = merge_option(self.messages.take(), o.messages, |a, b| a.merge(b));
        self.tlsrpt = merge_option(self.tlsrpt.take(), o.tlsrpt, |a, b| a.merge(b));
        self.input = merge_option(self.input.take(), o.input, |a, b| a.merge(b));
        // A merge with a part of unknown identity (an older mailtls) has none either.
        self.identity = match (self.identity.take(), o.identity) {
            (Some(a), Some(b)) => Some(Identity::merged(
                a.flat().into_iter().chain(b.flat()).collect(),
            )),
            _ => None,
        };
        self.timeline.merge(o.timeline);
        merge_windows(&mut self.windows, o.windows);
        self.host_tls.merge(o.host_tls);
    }
}

impl Snapshot {
    /// Lets the TLS-RPT section name every logging host of the snapshot (its identity's
    /// hosts) as "our log hosts": in a fleet the reports were joined on the host that
    /// read them, but the report of the merged snapshot holds the other hosts' logs too.
    /// `mailtls report` calls it on the merged snapshot (not part of [`Snapshot::merge`],
    /// which must stay associative when a part has no identity).
    pub fn name_log_hosts(&mut self) {
        if let (Some(t), Some(i)) = (&mut self.tlsrpt, &self.identity) {
            t.add_log_hosts(i.hosts.iter().cloned());
        }
    }
}

/// `a` merged with `b` when both are there, else whichever is.
fn merge_option<T>(a: Option<T>, b: Option<T>, f: impl FnOnce(&mut T, T)) -> Option<T> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            f(&mut a, b);
            Some(a)
        }
        (a, b) => a.or(b),
    }
}

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0}: not a mailtls snapshot: {1}")]
    Json(String, serde_json::Error),
    #[error("{0}: schema {1:?} is neither {POSTURE_SCHEMA} nor {POSTURE_SCHEMA_V1}")]
    Schema(String, String),
}

impl Snapshot {
    /// Pretty JSON with a trailing newline.
    ///
    /// Written twice: once to count its bytes, once into a string of exactly that size.
    /// The JSON of a large log's snapshot is megabytes; grown by doubling, the string held
    /// up to twice its size plus the copy it outgrew, the peak memory of a whole `scan`.
    /// Counting costs a few milliseconds.
    pub fn to_json(&self) -> String {
        let mut count = ByteCount(0);
        let mut buf = Vec::new();
        let written = serde_json::to_writer_pretty(&mut count, self).and_then(|()| {
            buf.reserve_exact(count.0 + 1);
            serde_json::to_writer_pretty(&mut buf, self)
        });
        let mut s = match written.map(|()| String::from_utf8(buf)) {
            Ok(Ok(s)) => s,
            // Serialising plain data cannot fail (and serde_json writes UTF-8); say so
            // loudly if it ever does.
            Ok(Err(e)) => format!("{{\"error\": \"serialisation failed: {e}\"}}"),
            Err(e) => format!("{{\"error\": \"serialisation failed: {e}\"}}"),
        };
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `/1` snapshot reads (and says what it lacks); another schema is refused.
    #[test]
    fn version_1_reads_and_other_schemas_do_not() {
        let body = r#""summary": {"files": 1, "files_unreadable": 0, "lines_read": 3,
            "lines_recognized": 2, "lines_malformed": 0, "lines_too_long": 0},
            "peers": [], "local_errors": {}"#;
        let v1 = Snapshot::parse(
            "a.json",
            &format!(r#"{{"schema": "mailtls.posture/1", {body}}}"#),
        )
        .unwrap();
        assert!(v1.lacks().is_some_and(|w| w.contains("no timeline")));
        assert!(v1.timeline.buckets.is_empty() && v1.windows.is_empty());
        let mut merged = v1.clone();
        merged.merge(Snapshot::new(Summary::default(), Posture::default()));
        assert_eq!(merged.schema, POSTURE_SCHEMA);
        assert!(merged.lacks().is_none());
        let e = Snapshot::parse("b.json", &format!(r#"{{"schema": "other/2", {body}}}"#))
            .unwrap_err()
            .to_string();
        assert!(e.contains("b.json") && e.contains("neither"), "{e}");
    }

    /// A loopback peer left out on two hosts counts once; a part that does not name its
    /// peers (`/1`) adds its count.
    #[test]
    fn loopback_peers_count_once_across_hosts() {
        let notes = |keys: &[&str]| InputNotes {
            records: 10,
            loopback_peers: keys.len() as u64,
            loopback_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            ..InputNotes::default()
        };
        let mut a = notes(&["127.0.0.1", "localhost"]);
        a.merge(notes(&["localhost"]));
        assert_eq!((a.loopback_peers, a.records), (2, 20));
        let mut old = notes(&[]);
        old.loopback_peers = 3;
        a.merge(old);
        assert_eq!(a.loopback_peers, 5);
    }
}
