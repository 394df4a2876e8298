//! The machine-readable posture snapshot, `mailtls.posture/1`.
//!
//! ```text
//! {
//!   "schema": "mailtls.posture/1",
//!   "generator": "mailtls 0.1.0",
//!   "summary": { "files", "files_unreadable", "lines_read", "lines_recognized",
//!                "lines_malformed", "lines_too_long", "peers", "first_seen"?, "last_seen"? },
//!   "peers": [ { "peer": key, "names": [..], "ips": [..], "mtas": ["sendmail",..],
//!                "inbound": DIR, "outbound": DIR } ],            // sorted by key
//!   "local_errors": { host: { kind: ERR } },
//!   "messages"?: { "stores", "messages", "report_messages"?, "messages_unreadable", "messages_malformed",
//!                  "hops", "hops_malformed", "hops_local", "hops_witnessed", "hops_claimed",
//!                  "hops_also_in_logs", "hops_filtered", "our_hosts": [..],
//!                  "our_hosts_inferred", "verdicts": V, "chain_verdicts": V,
//!                  "plaintext_examples": [ { "source", "hop", "peer", "by"?, "with"? } ],
//!                  "problems": [..], "claimed": { "peers": [..], "local_errors": {} } },
//!   "tlsrpt"?: { "schema": "mailtls.tlsrpt/1", … }
//! }
//! DIR = { "tls_sessions", "tls_messages", "plaintext_messages", "deferred", "bounced",
//!         "versions": {label: n}, "ciphers": {name: n}, "verify": {WORD: n},
//!         "min_bits"?, "errors": {kind: ERR}, "first_seen"?, "last_seen"? }
//! ERR = { "count", "first_seen"?, "last_seen"?, "last_text" }
//! V = { "all_tls", "plaintext", "unknown", "no_hops" }   // per-message verdicts
//! ```
//!
//! `tlsrpt` is present when TLS-RPT reports (RFC 8460) were among the inputs: the
//! `mailtls.tlsrpt/1` document described in `src/report/tlsrpt.md`, also written alone as
//! `tlsrpt.json` by `scan -o`.
//!
//! `messages` is present when message stores (mbox, Maildir, `.eml`) were read. The
//! witnessed hops of those messages are already inside `peers`; `claimed` holds what
//! foreign `Received:` stamps say and is never merged into `peers` (see [`crate::hops`]).
//!
//! Times are RFC 3339 with offset. Keys marked `?` are absent when unknown. Within one
//! schema version fields are only ever added, never renamed or removed; a consumer should
//! ignore fields it does not know. A snapshot is also the input of `mailtls merge`.

use serde::{Deserialize, Serialize};

use super::tlsrpt::TlsRptDoc;
use crate::hops::MessagesSummary;
use crate::pipeline::Summary;
use crate::posture::Posture;

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
    /// (a whole `mailtls.tlsrpt/1` document, see `src/report/tlsrpt.md`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tlsrpt: Option<TlsRptDoc>,
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
