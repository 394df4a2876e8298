//! The one place that judges: grades A–F per peer, policy violations, and whether a peer
//! is ready for enforced TLS. Reports only show what this module decided.
//!
//! A policy is a TOML file (every key optional; missing keys take the built-in default,
//! [`DEFAULT_POLICY`]):
//!
//! ```toml
//! # Lowest protocol a session may use (SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3).
//! min_version = "TLSv1.2"
//! # Cipher families no session may use: RC4 3DES DES EXPORT NULL anonymous MD5.
//! forbidden_ciphers = ["RC4", "3DES", "DES", "EXPORT", "NULL", "anonymous"]
//! # Peers whose certificate must verify (verify=OK or TRUSTED): names or globs.
//! must_verify = ["*.bank.example", "mx.bigmail.example"]
//! # Largest share of messages in clear text, over everything and per peer (percent).
//! max_plaintext_percent = 10.0
//! max_peer_plaintext_percent = 0.0
//!
//! # A known, accepted deviation, until a date (inclusive). `rules` empty = every rule.
//! [[exception]]
//! peer = "fax.oldcorp.example"
//! rules = ["min_version", "forbidden_cipher"]
//! expires = "2027-03-31"
//! reason = "fax gateway replaced in Q1"
//! ```
//!
//! Rules: `min_version`, `forbidden_cipher`, `must_verify`, `peer_plaintext` (per peer),
//! `plaintext` (overall). An expired exception no longer applies and is listed.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::event::{Direction, TlsVersion, Verify};
use crate::posture::{DirPosture, PeerPosture, Posture};

/// The built-in policy, as TOML (what `--policy` files override key by key).
pub const DEFAULT_POLICY: &str = r#"min_version = "TLSv1.2"
forbidden_ciphers = ["RC4", "3DES", "DES", "EXPORT", "NULL", "anonymous"]
must_verify = []
max_plaintext_percent = 10.0
max_peer_plaintext_percent = 0.0
"#;

/// A rule a policy can be violated on (and excepted from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    MinVersion,
    ForbiddenCipher,
    MustVerify,
    PeerPlaintext,
    Plaintext,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::MinVersion => "min_version",
            Rule::ForbiddenCipher => "forbidden_cipher",
            Rule::MustVerify => "must_verify",
            Rule::PeerPlaintext => "peer_plaintext",
            Rule::Plaintext => "plaintext",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An accepted deviation for some peers, until a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// A peer name or glob (`*.oldcorp.example`).
    pub peer: String,
    /// The rules excepted; empty means all.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Last day the exception applies.
    pub expires: NaiveDate,
    #[serde(default)]
    pub reason: String,
}

impl Exception {
    fn covers(&self, peer: &str, rule: Rule, today: NaiveDate) -> bool {
        today <= self.expires
            && glob_match(&self.peer, peer)
            && (self.rules.is_empty() || self.rules.contains(&rule))
    }
}

/// A compliance policy. See the module documentation for the file format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub min_version: String,
    pub forbidden_ciphers: Vec<String>,
    pub must_verify: Vec<String>,
    pub max_plaintext_percent: f64,
    pub max_peer_plaintext_percent: f64,
    #[serde(default, rename = "exception")]
    pub exceptions: Vec<Exception>,
}

/// The built-in values, for keys a file leaves out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialPolicy {
    min_version: Option<String>,
    forbidden_ciphers: Option<Vec<String>>,
    must_verify: Option<Vec<String>>,
    max_plaintext_percent: Option<f64>,
    max_peer_plaintext_percent: Option<f64>,
    #[serde(default, rename = "exception")]
    exceptions: Vec<Exception>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_version: "TLSv1.2".into(),
            forbidden_ciphers: ["RC4", "3DES", "DES", "EXPORT", "NULL", "anonymous"]
                .map(String::from)
                .to_vec(),
            must_verify: Vec::new(),
            max_plaintext_percent: 10.0,
            max_peer_plaintext_percent: 0.0,
            exceptions: Vec::new(),
        }
    }
}

impl Policy {
    /// Reads a policy file's text; keys it leaves out keep the built-in values.
    pub fn from_toml(text: &str) -> Result<Policy, String> {
        let p: PartialPolicy = toml::from_str(text).map_err(|e| e.to_string())?;
        let d = Policy::default();
        let policy = Policy {
            min_version: p.min_version.unwrap_or(d.min_version),
            forbidden_ciphers: p.forbidden_ciphers.unwrap_or(d.forbidden_ciphers),
            must_verify: p.must_verify.unwrap_or(d.must_verify),
            max_plaintext_percent: p.max_plaintext_percent.unwrap_or(d.max_plaintext_percent),
            max_peer_plaintext_percent: p
                .max_peer_plaintext_percent
                .unwrap_or(d.max_peer_plaintext_percent),
            exceptions: p.exceptions,
        };
        if version_rank(&TlsVersion::parse(&policy.min_version)).is_none() {
            return Err(format!(
                "min_version '{}': use SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3",
                policy.min_version
            ));
        }
        for f in &policy.forbidden_ciphers {
            if !FAMILIES.iter().any(|k| k.eq_ignore_ascii_case(f)) {
                return Err(format!(
                    "forbidden_ciphers: unknown family '{f}' (known: {})",
                    FAMILIES.join(", ")
                ));
            }
        }
        for (what, v) in [
            ("max_plaintext_percent", policy.max_plaintext_percent),
            (
                "max_peer_plaintext_percent",
                policy.max_peer_plaintext_percent,
            ),
        ] {
            if !(0.0..=100.0).contains(&v) {
                return Err(format!("{what} = {v}: must be between 0 and 100"));
            }
        }
        Ok(policy)
    }
}

/// Cipher families, as the policy names them and the charts group them.
pub const FAMILIES: &[&str] = &[
    "AES-GCM",
    "ChaCha20-Poly1305",
    "AES-CCM",
    "AES-CBC",
    "Camellia",
    "3DES",
    "DES",
    "RC4",
    "EXPORT",
    "NULL",
    "anonymous",
    "MD5",
    "other",
];

/// The family of a cipher by its OpenSSL or IANA name. The weakest trait wins: an export
/// RC4 suite is `EXPORT`, an anonymous AES suite is `anonymous`.
pub fn cipher_family(name: &str) -> &'static str {
    let n = name.to_ascii_uppercase();
    let has = |s: &str| n.contains(s);
    if has("NULL") {
        "NULL"
    } else if has("EXP") {
        "EXPORT"
    } else if n.starts_with("ADH") || n.starts_with("AECDH") || has("_ANON_") || has("ANON") {
        "anonymous"
    } else if has("RC4") {
        "RC4"
    } else if has("DES-CBC3") || has("3DES") || has("DES_EDE") || has("DES-EDE") {
        "3DES"
    } else if has("DES") {
        "DES"
    } else if has("CHACHA20") {
        "ChaCha20-Poly1305"
    } else if has("GCM") {
        "AES-GCM"
    } else if has("CCM") {
        "AES-CCM"
    } else if has("CAMELLIA") {
        "Camellia"
    } else if has("AES") {
        "AES-CBC"
    } else if n.ends_with("MD5") {
        "MD5"
    } else {
        "other"
    }
}

/// Protocol order for comparisons; `None` for the legacy label and unknown words.
pub fn version_rank(v: &TlsVersion) -> Option<u8> {
    Some(match v {
        TlsVersion::Ssl2 => 0,
        TlsVersion::Ssl3 => 1,
        TlsVersion::Tls1_0 => 2,
        TlsVersion::Tls1_1 => 3,
        TlsVersion::Tls1_2 => 4,
        TlsVersion::Tls1_3 => 5,
        TlsVersion::Legacy | TlsVersion::Other(_) => return None,
    })
}

/// `*` matches any run of characters, `?` one; case-insensitive, trailing dot ignored.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern
        .trim_end_matches('.')
        .to_lowercase()
        .chars()
        .collect();
    let n: Vec<char> = name.trim_end_matches('.').to_lowercase().chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A–F, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
    F,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::F => "F",
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One observation about a peer, with the grade it is worth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub grade: Grade,
    /// The policy rule it breaks, when it is a violation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Rule>,
    pub direction: Direction,
    pub text: String,
    /// The exception that covers it (its expiry date), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excepted_until: Option<NaiveDate>,
}

/// A peer's grade and the one line that explains it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerGrade {
    pub grade: Grade,
    pub reason: String,
    pub findings: Vec<Finding>,
}

/// A broken rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub rule: Rule,
    /// `None` for the overall plaintext share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    pub text: String,
}

/// Everything the policy decided about one posture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The day exceptions were judged against.
    pub as_of: NaiveDate,
    pub grades: BTreeMap<String, PeerGrade>,
    pub violations: Vec<Violation>,
    /// Exceptions past their date (they no longer excuse anything).
    pub expired: Vec<Exception>,
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn is_verified(word: &str) -> bool {
    matches!(Verify::parse(word), Verify::Ok | Verify::Trusted)
}

fn words(m: &BTreeMap<String, u64>, pick: impl Fn(&str) -> bool) -> (u64, String) {
    let v: Vec<(&String, &u64)> = m.iter().filter(|(k, _)| pick(k)).collect();
    let n = v.iter().map(|(_, n)| **n).sum();
    let s = v
        .iter()
        .map(|(k, n)| format!("{k}:{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    (n, s)
}

fn findings_for(
    policy: &Policy,
    peer: &PeerPosture,
    dir: Direction,
    d: &DirPosture,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |grade, rule, text: String| {
        out.push(Finding {
            grade,
            rule,
            direction: dir,
            text,
            excepted_until: None,
        })
    };
    let msgs = d.messages();
    // Clear text.
    if d.plaintext_messages > 0 {
        let share = pct(d.plaintext_messages, msgs);
        let over = share > policy.max_peer_plaintext_percent;
        let never_tls = d.tls_sessions == 0 && d.tls_messages == 0;
        let grade = if never_tls { Grade::F } else { Grade::D };
        let text = if never_tls {
            format!(
                "all {msgs} messages {} in clear text, never STARTTLS",
                dir_words(dir)
            )
        } else {
            format!(
                "{} of {msgs} messages {} in clear text ({share:.0}%)",
                d.plaintext_messages,
                dir_words(dir)
            )
        };
        add(grade, over.then_some(Rule::PeerPlaintext), text);
    }
    // Protocols.
    let min = version_rank(&TlsVersion::parse(&policy.min_version)).unwrap_or(4);
    let mut low: Vec<String> = Vec::new();
    let mut worst = Grade::C;
    let mut low_n = 0;
    for (label, n) in &d.versions {
        let v = TlsVersion::parse(label);
        if let Some(r) = version_rank(&v)
            && r < min
        {
            low.push(format!("{label}:{n}"));
            low_n += n;
            if r <= 1 {
                worst = Grade::F;
            }
        }
    }
    if !low.is_empty() {
        add(
            worst,
            Some(Rule::MinVersion),
            format!(
                "{} in {low_n} of {} sessions (minimum {})",
                low.join(" "),
                d.tls_sessions,
                policy.min_version
            ),
        );
    }
    let legacy = d
        .versions
        .get(TlsVersion::Legacy.label())
        .copied()
        .unwrap_or(0);
    if legacy > 0 {
        add(
            Grade::B,
            None,
            format!(
                "protocol not logged in {legacy} sessions (Sendmail ≤ 8.14 writes TLSv1/SSLv3)"
            ),
        );
    }
    // Ciphers.
    let mut bad: Vec<String> = Vec::new();
    for (c, n) in &d.ciphers {
        let fam = cipher_family(c);
        if policy
            .forbidden_ciphers
            .iter()
            .any(|f| f.eq_ignore_ascii_case(fam))
        {
            bad.push(format!("{c} ({fam}) ×{n}"));
        }
    }
    if !bad.is_empty() {
        add(
            Grade::D,
            Some(Rule::ForbiddenCipher),
            format!("forbidden cipher {}", bad.join(", ")),
        );
    }
    // Verification.
    let must = policy.must_verify.iter().any(|g| glob_match(g, &peer.peer));
    let (unverified, list) = words(&d.verify, |w| {
        let v = Verify::parse(w);
        !is_verified(w) && !v.is_tls_failure() && v != Verify::None
    });
    let (not_offered, _) = words(&d.verify, |w| Verify::parse(w) == Verify::None);
    if must && dir == Direction::Outbound && (unverified > 0 || d.plaintext_messages > 0) {
        add(
            Grade::D,
            Some(Rule::MustVerify),
            format!(
                "must verify, but {}",
                if unverified > 0 {
                    list.clone()
                } else {
                    "mail went in clear text".into()
                }
            ),
        );
    } else if unverified > 0 && (dir == Direction::Outbound || d.failed_verify() > 0) {
        add(Grade::B, None, format!("certificate not verified ({list})"));
    }
    if not_offered > 0 {
        add(
            Grade::D,
            None,
            format!(
                "no STARTTLS offered ({not_offered}×NONE), {} deliveries held",
                d.deferred + d.bounced
            ),
        );
    }
    // Failures.
    let (failed, flist) = words(&d.verify, |w| Verify::parse(w).is_tls_failure());
    let errs = d.error_count();
    if failed > 0 || errs > 0 {
        let kinds = d
            .errors
            .iter()
            .map(|(k, e)| format!("{k}:{}", e.count))
            .collect::<Vec<_>>()
            .join(" ");
        let what = [flist, kinds]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        add(Grade::C, None, format!("TLS failures ({what})"));
    }
    out
}

fn dir_words(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "received",
        Direction::Outbound => "delivered",
    }
}

fn good_reason(p: &PeerPosture) -> String {
    let mut parts = Vec::new();
    for d in [Direction::Inbound, Direction::Outbound] {
        let dp = p.dir(d);
        if dp.is_empty() {
            continue;
        }
        let best = dp
            .versions
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(v, _)| v.as_str())
            .unwrap_or("TLS");
        let verified = dp.verify.keys().all(|w| is_verified(w)) && !dp.verify.is_empty();
        parts.push(format!(
            "{} {best}{}",
            d.as_str(),
            if verified { ", verified" } else { "" }
        ));
    }
    if parts.is_empty() {
        "no activity".into()
    } else {
        format!("all TLS: {}", parts.join("; "))
    }
}

/// Grades every peer and lists violations, judging exceptions as of `today`.
pub fn evaluate(policy: &Policy, posture: &Posture, today: NaiveDate) -> Evaluation {
    let mut grades = BTreeMap::new();
    let mut violations = Vec::new();
    for (key, p) in &posture.peers {
        let mut findings = Vec::new();
        for dir in [Direction::Inbound, Direction::Outbound] {
            let d = p.dir(dir);
            if !d.is_empty() {
                findings.extend(findings_for(policy, p, dir, d));
            }
        }
        for f in &mut findings {
            if let Some(rule) = f.rule {
                f.excepted_until = policy
                    .exceptions
                    .iter()
                    .filter(|e| e.covers(key, rule, today))
                    .map(|e| e.expires)
                    .max();
                if f.excepted_until.is_none() {
                    violations.push(Violation {
                        rule,
                        peer: Some(key.clone()),
                        direction: Some(f.direction),
                        text: f.text.clone(),
                    });
                }
            }
        }
        let counted = findings.iter().filter(|f| f.excepted_until.is_none());
        let worst = counted.max_by_key(|f| f.grade);
        let (grade, reason) = match worst {
            Some(f) => (f.grade, format!("{}: {}", f.direction.as_str(), f.text)),
            None => {
                let excepted = findings.iter().find(|f| f.excepted_until.is_some());
                match excepted {
                    Some(f) => (
                        Grade::B,
                        format!(
                            "excepted until {}: {}",
                            f.excepted_until.map(|d| d.to_string()).unwrap_or_default(),
                            f.text
                        ),
                    ),
                    None => (Grade::A, good_reason(p)),
                }
            }
        };
        grades.insert(
            key.clone(),
            PeerGrade {
                grade,
                reason,
                findings,
            },
        );
    }
    let (mut plain, mut all) = (0, 0);
    for p in posture.peers.values() {
        for d in [&p.inbound, &p.outbound] {
            plain += d.plaintext_messages;
            all += d.messages();
        }
    }
    let share = pct(plain, all);
    if share > policy.max_plaintext_percent {
        violations.push(Violation {
            rule: Rule::Plaintext,
            peer: None,
            direction: None,
            text: format!(
                "{plain} of {all} messages in clear text ({share:.1}%, maximum {}%)",
                policy.max_plaintext_percent
            ),
        });
    }
    violations.sort_by(|a, b| (a.rule, &a.peer).cmp(&(b.rule, &b.peer)));
    let expired = policy
        .exceptions
        .iter()
        .filter(|e| e.expires < today)
        .cloned()
        .collect();
    Evaluation {
        as_of: today,
        grades,
        violations,
        expired,
    }
}

/// Would enforcing TLS towards an outbound peer have broken mail in the window read?
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readiness {
    pub peer: String,
    /// Delivery attempts seen (sent, deferred, bounced).
    pub attempts: u64,
    /// Why requiring TLS would have failed a delivery; empty when it would not.
    pub tls_blockers: Vec<String>,
    /// Why requiring a verified certificate would have failed; empty when it would not.
    pub verify_blockers: Vec<String>,
    /// Access-map and Postfix policy lines for the strongest safe requirement.
    pub entries: Vec<String>,
}

impl Readiness {
    pub fn tls_safe(&self) -> bool {
        self.tls_blockers.is_empty()
    }
    pub fn verify_safe(&self) -> bool {
        self.tls_safe() && self.verify_blockers.is_empty()
    }
}

/// The recipient domain behind an MX name, guessed by dropping the first label
/// (`mx1.partner.example` → `partner.example`); the name itself when it has two labels.
fn guess_domain(host: &str) -> &str {
    match host.split_once('.') {
        Some((_, rest)) if rest.contains('.') => rest,
        _ => host,
    }
}

/// For every peer we delivered to: would requiring TLS, or TLS with a verified
/// certificate, have failed any delivery; and for safe peers the entries that enforce it
/// (Sendmail access map `TLS_Srv:`/`TLS_Rcpt:`, Postfix `smtp_tls_policy_maps`).
pub fn enforce_readiness(posture: &Posture) -> Vec<Readiness> {
    let mut out = Vec::new();
    for (key, p) in &posture.peers {
        let d = &p.outbound;
        let attempts = d.messages() + d.deferred + d.bounced;
        if attempts == 0 && d.tls_sessions == 0 {
            continue;
        }
        let mut tls = Vec::new();
        if d.plaintext_messages > 0 {
            tls.push(format!(
                "{} deliveries went in clear text",
                d.plaintext_messages
            ));
        }
        let (none, _) = words(&d.verify, |w| Verify::parse(w) == Verify::None);
        if none > 0 {
            tls.push(format!("STARTTLS not offered {none}×"));
        }
        let (failed, list) = words(&d.verify, |w| Verify::parse(w).is_tls_failure());
        if failed > 0 {
            tls.push(format!("handshake failed ({list})"));
        }
        let mut verify = Vec::new();
        let (unverified, list) = words(&d.verify, |w| {
            let v = Verify::parse(w);
            !is_verified(w) && !v.is_tls_failure() && v != Verify::None
        });
        if unverified > 0 {
            verify.push(format!("certificate not verified ({list})"));
        }
        if d.tls_sessions == 0 {
            verify.push("no TLS session seen".into());
        }
        let bits = d.min_bits.unwrap_or(128).min(128);
        let dom = guess_domain(key);
        let mut entries = Vec::new();
        if tls.is_empty() && verify.is_empty() {
            entries.push(format!("TLS_Srv:{key}\tVERIFY:{bits}"));
            entries.push(format!("TLS_Rcpt:{dom}\tVERIFY:{bits}"));
            entries.push(format!("{dom}\tsecure match={key}"));
        } else if tls.is_empty() {
            entries.push(format!("TLS_Srv:{key}\tENCR:{bits}"));
            entries.push(format!("TLS_Rcpt:{dom}\tENCR:{bits}"));
            entries.push(format!("{dom}\tencrypt"));
        }
        out.push(Readiness {
            peer: key.clone(),
            attempts,
            tls_blockers: tls,
            verify_blockers: verify,
            entries,
        });
    }
    out
}

/// What an error kind usually means and what to do about it, for the "what broke" section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    pub cause: &'static str,
    pub fix: &'static str,
}

/// The usual cause and fix of each kind of TLS error, from the Sendmail STARTTLS set-up
/// procedure this tool follows.
pub fn advice(kind: crate::event::TlsErrorKind) -> Advice {
    use crate::event::TlsErrorKind as K;
    let (cause, fix) = match kind {
        K::PrivateKey => (
            "The MTA could not load its private key: usually the key is encrypted (made \
             without -nodes, so it needs a pass phrase nobody types), the path in \
             confSERVER_KEY/confCLIENT_KEY is wrong, or key and certificate do not match. \
             Sendmail keeps running without STARTTLS and accepts mail in clear text.",
            "Re-create the key without a pass phrase (openssl req -new -x509 -nodes … or \
             openssl rsa -in key.pem -out key.pem), check the paths, chmod 600 the key, and \
             restart sendmail; then check that EHLO shows 250-STARTTLS.",
        ),
        K::Certificate => (
            "The certificate file could not be loaded (missing, wrong path, not PEM, expired \
             chain order). STARTTLS is not offered until it loads.",
            "Check confSERVER_CERT/confCLIENT_CERT, that the file is PEM with the leaf first, \
             and restart the MTA.",
        ),
        K::CaLocations => (
            "The CA file or directory (confCACERT, confCACERT_PATH) could not be read, so \
             peer certificates cannot be verified.",
            "Point confCACERT_PATH at a directory with <hash>.0 links (c_rehash or openssl \
             rehash) and confCACERT at a readable PEM file.",
        ),
        K::UnsafeFile => (
            "Sendmail refuses key or certificate files that are group- or world-readable or \
             in unsafe directories, and then runs without STARTTLS.",
            "chmod 600 the key (640 with group smmsp only when the MSP needs it), chmod go-w \
             the directories, or relax with DontBlameSendmail only as a last resort.",
        ),
        K::CipherConfig => (
            "The cipher list, cipher suites or DH parameters were rejected by the TLS library.",
            "Fix CipherList / ServerSSLOptions in the .mc file (openssl ciphers -v 'LIST' \
             shows what a list means) and restart.",
        ),
        K::Init => (
            "The TLS library could not be initialised (random source, library mismatch).",
            "Check /dev/urandom inside any chroot, the OpenSSL version the MTA was built \
             against, and the MTA's start-up log.",
        ),
        K::Handshake => (
            "The handshake with a peer failed: no shared protocol or cipher (an old peer, or \
             our settings too strict), or the connection was reset mid-handshake.",
            "Check the peer with mailtls check HOST; allow its protocol only if policy \
             permits, or add a TLS_Srv/Try_TLS access entry so mail is not held.",
        ),
        K::Io => (
            "A read or write on an established TLS session failed or timed out.",
            "Usually the network or the peer; look for a pattern per peer and time.",
        ),
        K::CertVerify => (
            "A peer certificate failed verification (unknown CA, expired, name mismatch).",
            "Add the issuing CA to confCACERT_PATH if it is legitimate, or tell the peer.",
        ),
        K::Policy => (
            "Our TLS policy (access map TLS_Srv/TLS_Rcpt, tls_server ruleset) rejected the \
             session: the peer did not offer STARTTLS, or did not meet VERIFY/ENCR.",
            "Mail to this peer is held in the queue: ask the peer to fix TLS, or relax the \
             entry for it consciously (and record an exception).",
        ),
        K::Library => (
            "A raw TLS library error; the line before it usually names the operation.",
            "Read the OpenSSL reason in the text (e.g. unsupported protocol, no shared \
             cipher) and treat it like a handshake failure.",
        ),
        K::NotOffered => (
            "TLS was required but the peer did not offer STARTTLS.",
            "Ask the peer to enable STARTTLS, or remove the requirement for it.",
        ),
        K::Dane => (
            "DANE/TLSA verification failed or could not be done.",
            "Check the peer's TLSA records and our DNSSEC-validating resolver.",
        ),
        K::Shutdown => (
            "The TLS session did not close cleanly.",
            "Usually harmless; worth a look only when it comes with lost messages.",
        ),
        K::Other => (
            "A TLS problem the log did not classify further.",
            "Read the example line; mailtls check HOST reproduces most peer-side problems.",
        ),
    };
    Advice { cause, fix }
}
