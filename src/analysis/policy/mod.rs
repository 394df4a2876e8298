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

use crate::analysis::downgrade::Outage;
use crate::analysis::host_tls::HostDir;
use crate::analysis::posture::{DirPosture, PeerPosture, Posture};
use crate::model::text::count;
use crate::model::{Direction, Hist, TlsVersion, Verify};

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
///
/// The version and the cipher families are read once, when the file is loaded
/// ([`Policy::from_toml`] refuses words it does not know): judging compares typed values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// Always a ranked protocol ([`version_rank`] is `Some`).
    pub min_version: TlsVersion,
    pub forbidden_ciphers: Vec<CipherFamily>,
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
            min_version: TlsVersion::Tls1_2,
            forbidden_ciphers: vec![
                CipherFamily::Rc4,
                CipherFamily::TripleDes,
                CipherFamily::Des,
                CipherFamily::Export,
                CipherFamily::Null,
                CipherFamily::Anonymous,
            ],
            must_verify: Vec::new(),
            max_plaintext_percent: 10.0,
            max_peer_plaintext_percent: 0.0,
            exceptions: Vec::new(),
        }
    }
}

/// Why a policy file was refused, naming the key at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML, or a key of the wrong type.
    #[error("{0}")]
    Toml(String),
    #[error("min_version '{0}': use SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3")]
    MinVersion(String),
    #[error("forbidden_ciphers: unknown family '{0}' (known: {families})", families = FAMILIES.join(", "))]
    CipherFamily(String),
    #[error("{key} = {value}: must be between 0 and 100")]
    Percent { key: &'static str, value: f64 },
}

impl Policy {
    /// Reads a policy file's text; keys it leaves out keep the built-in values. A version
    /// or cipher family it does not know is an error naming the key.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let p: PartialPolicy =
            toml::from_str(text).map_err(|e| PolicyError::Toml(e.to_string()))?;
        let d = Policy::default();
        let min_version = match p.min_version {
            None => d.min_version,
            Some(word) => {
                let v = TlsVersion::parse(&word);
                if version_rank(&v).is_none() {
                    return Err(PolicyError::MinVersion(word));
                }
                v
            }
        };
        let forbidden_ciphers = match p.forbidden_ciphers {
            None => d.forbidden_ciphers,
            Some(words) => words
                .iter()
                .map(|f| {
                    CipherFamily::ALL
                        .into_iter()
                        .find(|k| k.policy_name().eq_ignore_ascii_case(f))
                        .ok_or_else(|| PolicyError::CipherFamily(f.clone()))
                })
                .collect::<Result<_, _>>()?,
        };
        let policy = Policy {
            min_version,
            forbidden_ciphers,
            must_verify: p.must_verify.unwrap_or(d.must_verify),
            max_plaintext_percent: p.max_plaintext_percent.unwrap_or(d.max_plaintext_percent),
            max_peer_plaintext_percent: p
                .max_peer_plaintext_percent
                .unwrap_or(d.max_peer_plaintext_percent),
            exceptions: p.exceptions,
        };
        for (what, v) in [
            ("max_plaintext_percent", policy.max_plaintext_percent),
            (
                "max_peer_plaintext_percent",
                policy.max_peer_plaintext_percent,
            ),
        ] {
            if !(0.0..=100.0).contains(&v) {
                return Err(PolicyError::Percent {
                    key: what,
                    value: v,
                });
            }
        }
        Ok(policy)
    }
}

mod cipher;
pub use cipher::{CipherFamily, classify as classify_cipher, family_of};

/// Cipher families, as the policy names them and the charts group them.
pub const FAMILIES: [&str; 15] = {
    let mut out = [""; 15];
    let mut i = 0;
    while i < 15 {
        out[i] = CipherFamily::ALL[i].policy_name();
        i += 1;
    }
    out
};

/// The family of a cipher by its OpenSSL, IANA or GnuTLS name, as the policy names it
/// (see [`CipherFamily`], the one classifier).
pub fn cipher_family(name: &str) -> &'static str {
    classify_cipher(name).policy_name()
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

fn is_verified(v: &Verify) -> bool {
    matches!(v, Verify::Ok | Verify::Trusted)
}

/// The count of the words `pick` accepts and their `WORD:n` list.
fn words(m: &Hist<Verify>, pick: impl Fn(&Verify) -> bool) -> (u64, String) {
    let v: Vec<(&Verify, u64)> = m.iter().filter(|(k, _)| pick(k)).collect();
    let n = v.iter().map(|(_, n)| *n).sum();
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
    let not_offered = not_offered(d);
    // TLS failures (a required STARTTLS that was not offered is judged apart, the same on
    // every MTA): the verdicts and the error kinds.
    let (failed, flist) = words(&d.outcomes(), Verify::is_tls_failure);
    let failures = d
        .errors
        .iter()
        .filter(|(k, _)| !(not_offered > 0 && is_not_offered_kind(**k)));
    let errs: u64 = failures.clone().map(|(_, e)| e.count).sum();
    // Clear text.
    if d.plaintext_messages > 0 {
        let share = pct(d.plaintext_messages, msgs);
        let over = share > policy.max_peer_plaintext_percent;
        let never_tls = d.tls_sessions == 0 && d.tls_messages == 0;
        let grade = if never_tls { Grade::F } else { Grade::D };
        let text = if never_tls {
            // A failed handshake is a STARTTLS that was tried: the clear text came after
            // it (Sendmail and Exim retry without TLS), it is not a peer without STARTTLS.
            let how = if failed > 0 || errs > 0 {
                "STARTTLS tried and failed every time"
            } else {
                "never STARTTLS"
            };
            // "all 1 message" reads wrong: one message is just that.
            format!(
                "{}{} {} in clear text, {how}",
                if msgs == 1 { "" } else { "all " },
                count(msgs, "message", "messages"),
                dir_words(dir)
            )
        } else {
            format!(
                "{} of {} {} in clear text ({share:.0}%)",
                d.plaintext_messages,
                count(msgs, "message", "messages"),
                dir_words(dir)
            )
        };
        add(grade, over.then_some(Rule::PeerPlaintext), text);
    }
    // Protocols.
    let min = version_rank(&policy.min_version).unwrap_or(4);
    let mut low: Vec<(String, u64)> = Vec::new();
    let mut worst = Grade::C;
    let mut low_n = 0;
    for (v, n) in d.versions.iter() {
        if let Some(r) = version_rank(v)
            && r < min
        {
            low.push((v.to_string(), n));
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
                "{} in {low_n} of {} (minimum {})",
                // One version: its name; several: each with its count.
                match low.as_slice() {
                    [(v, _)] => v.clone(),
                    _ => low
                        .iter()
                        .map(|(v, n)| format!("{v} ×{n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                },
                count(d.tls_sessions, "session", "sessions"),
                policy.min_version
            ),
        );
    }
    let legacy = d.versions.get(&TlsVersion::Legacy);
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
    for (c, n) in d.ciphers.iter() {
        let fam = family_of(c);
        if policy.forbidden_ciphers.contains(&fam) {
            bad.push(format!("{c} ({}) ×{n}", fam.policy_name()));
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
    let (unverified, list) = words(&d.outcomes(), |v| {
        !is_verified(v) && !v.is_tls_failure() && *v != Verify::None
    });
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
                "no STARTTLS offered ({not_offered}×{}), {} held",
                // In the words of the log that counted it: Sendmail's verify word, or the
                // Postfix and Exim deferral (`TLS is required, but was not offered`).
                if words(&d.outcomes(), |v| *v == Verify::None).0 >= not_offered {
                    "NONE"
                } else {
                    "not_offered"
                },
                crate::model::text::count(d.deferred + d.bounced, "delivery", "deliveries")
            ),
        );
    }
    // Failures.
    if failed > 0 || errs > 0 {
        let kinds = failures
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

/// Sessions in which the peer did not offer STARTTLS while we required it. Sendmail says
/// so with a `tls_server` verdict `arg1=NONE` (a verify word), Postfix and Exim with the
/// deferral text `TLS is required, but was not offered` (a `not_offered` error): the same
/// situation, so it is counted the same, as whichever of the two the log shows more of.
pub fn not_offered(d: &DirPosture) -> u64 {
    let (none, _) = words(&d.outcomes(), |v| *v == Verify::None);
    let errs = d
        .errors
        .get(&crate::model::TlsErrorKind::NotOffered)
        .map_or(0, |e| e.count);
    none.max(errs)
}

/// Error kinds that record a required-but-not-offered STARTTLS: the `not_offered` error and
/// Sendmail's policy rejection that accompanies its `arg1=NONE` verdict.
fn is_not_offered_kind(k: crate::model::TlsErrorKind) -> bool {
    matches!(
        k,
        crate::model::TlsErrorKind::NotOffered | crate::model::TlsErrorKind::Policy
    )
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
            .max_by_key(|(_, n)| *n)
            .map(|(v, _)| v.label())
            .unwrap_or("TLS");
        let verified = dp.verify.keys().all(is_verified) && !dp.verify.is_empty();
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
    evaluate_with(policy, posture, &Outage::new(), &[], today)
}

/// The posture with the plaintext of our own outage taken off each peer: mail that went in
/// clear because *our* key or certificate was broken says nothing about the peer.
fn without_outage<'a>(posture: &'a Posture, outage: &Outage) -> std::borrow::Cow<'a, Posture> {
    if outage.is_empty() {
        return std::borrow::Cow::Borrowed(posture);
    }
    let mut p = posture.clone();
    for ((key, dir), n) in outage {
        if let Some(pp) = p.peers.get_mut(key) {
            let d = match dir {
                Direction::Inbound => &mut pp.inbound,
                Direction::Outbound => &mut pp.outbound,
            };
            d.plaintext_messages = d.plaintext_messages.saturating_sub(*n);
        }
    }
    std::borrow::Cow::Owned(p)
}

/// [`evaluate`], with the plaintext messages that went through our own downgrade windows
/// ([`crate::analysis::downgrade::outage`]) or through a host of ours that did no TLS at all
/// in that role (`no_tls`, [`crate::analysis::host_tls`]) counted as ours: no
/// `peer_plaintext` violation and no grade for them, only a finding that says what our
/// side cost with this peer. The overall `plaintext` share still counts them (the mail did
/// travel in clear).
pub fn evaluate_with(
    policy: &Policy,
    posture: &Posture,
    outage: &Outage,
    no_tls: &[&HostDir],
    today: NaiveDate,
) -> Evaluation {
    let mut ours = outage.clone();
    crate::analysis::host_tls::add_outage(no_tls, &mut ours);
    let judged = without_outage(posture, &ours);
    let mut grades = BTreeMap::new();
    let mut violations = Vec::new();
    for (key, p) in &judged.peers {
        let mut findings = Vec::new();
        for dir in [Direction::Inbound, Direction::Outbound] {
            let d = p.dir(dir);
            if let Some(n) = outage.get(&(key.clone(), dir)).filter(|n| **n > 0) {
                findings.push(Finding {
                    grade: Grade::A,
                    rule: None,
                    direction: dir,
                    text: format!(
                        "{} {} in clear text during our own TLS outage (our key or certificate, not the peer)",
                        count(*n, "message", "messages"),
                        dir_words(dir)
                    ),
                    excepted_until: None,
                });
            }
            let hosts: Vec<&HostDir> = no_tls
                .iter()
                .copied()
                .filter(|h| h.direction == dir && h.peers.contains_key(key))
                .collect();
            if !hosts.is_empty() {
                let n: u64 = hosts.iter().filter_map(|h| h.peers.get(key)).sum();
                let names: Vec<&str> = hosts.iter().map(|h| h.host.as_str()).collect();
                findings.push(Finding {
                    grade: Grade::A,
                    rule: None,
                    direction: dir,
                    text: format!(
                        "{} {} in clear text through {}, which did no TLS {} with any peer (ours to fix, not the peer)",
                        count(n, "message", "messages"),
                        dir_words(dir),
                        names.join(", "),
                        match dir {
                            Direction::Inbound => "inbound",
                            Direction::Outbound => "outbound",
                        }
                    ),
                    excepted_until: None,
                });
            }
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
    enforce_readiness_with(posture, &Outage::new())
}

/// [`enforce_readiness`] without the clear-text deliveries of our own client-side outage
/// (they would have failed because of our key, not the peer's TLS).
pub fn enforce_readiness_with(posture: &Posture, outage: &Outage) -> Vec<Readiness> {
    let posture = without_outage(posture, outage);
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
                "{} deliver{} went in clear text",
                d.plaintext_messages,
                if d.plaintext_messages == 1 {
                    "y"
                } else {
                    "ies"
                }
            ));
        }
        let none = not_offered(d);
        if none > 0 {
            tls.push(format!(
                "STARTTLS not offered {none}×, {} of {} not delivered",
                d.deferred + d.bounced,
                count(attempts, "attempt", "attempts")
            ));
        }
        let (failed, list) = words(&d.outcomes(), Verify::is_tls_failure);
        if failed > 0 {
            tls.push(format!("handshake failed ({list})"));
        }
        let mut verify = Vec::new();
        let (unverified, list) = words(&d.outcomes(), |v| {
            !is_verified(v) && !v.is_tls_failure() && *v != Verify::None
        });
        if unverified > 0 {
            verify.push(format!("certificate not verified ({list})"));
        }
        if d.tls_sessions == 0 && d.tls_messages == 0 && tls.is_empty() {
            // Nothing shows that TLS works with this peer: requiring it is a guess.
            tls.push(format!("no TLS session seen in {attempts} attempts"));
        } else if d.tls_sessions == 0 && tls.is_empty() {
            verify.push("no TLS session seen (certificate unknown)".into());
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

mod advice;
pub use advice::{Advice, advice, advice_on, depends_on_side, mta_name, no_tls};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Word;

    fn dir(f: impl FnOnce(&mut DirPosture)) -> DirPosture {
        let mut d = DirPosture::default();
        f(&mut d);
        d
    }

    fn hist<K: Word>(pairs: &[(&str, u64)]) -> Hist<K> {
        pairs.iter().map(|(k, n)| (K::from_word(k), *n)).collect()
    }

    fn posture(key: &str, direction: Direction, d: DirPosture) -> Posture {
        let mut p = PeerPosture {
            peer: key.into(),
            ..PeerPosture::default()
        };
        match direction {
            Direction::Inbound => p.inbound = d,
            Direction::Outbound => p.outbound = d,
        }
        let mut post = Posture::default();
        post.peers.insert(key.into(), p);
        post
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// One row: a peer's posture in one direction, and the grade, reason and violated
    /// rules the built-in policy (plus `must_verify` for `*.bank.example`) gives it.
    #[test]
    fn grades_reasons_and_violations() {
        use Direction::*;
        let tls13_ok = |n: u64| {
            dir(|d| {
                d.tls_sessions = n;
                d.tls_messages = n;
                d.versions = hist(&[("TLSv1.3", n)]);
                d.ciphers = hist(&[("TLS_AES_256_GCM_SHA384", n)]);
                d.verify = hist(&[("OK", n)]);
            })
        };
        type Row = (
            &'static str,
            Direction,
            DirPosture,
            Grade,
            &'static str,
            Vec<Rule>,
        );
        let rows: Vec<Row> = vec![
            (
                "mx.good.example",
                Outbound,
                tls13_ok(5),
                Grade::A,
                "all TLS: out TLSv1.3, verified",
                vec![],
            ),
            (
                "mx.plain.example",
                Outbound,
                dir(|d| d.plaintext_messages = 3),
                Grade::F,
                "all 3 messages delivered in clear text, never STARTTLS",
                vec![Rule::PeerPlaintext],
            ),
            (
                "relay.some.example",
                Inbound,
                dir(|d| {
                    d.tls_sessions = 3;
                    d.tls_messages = 3;
                    d.plaintext_messages = 1;
                    d.versions = hist(&[("TLSv1.3", 3)]);
                    d.verify = hist(&[("NO", 3)]);
                }),
                Grade::D,
                "1 of 4 messages received in clear text (25%)",
                vec![Rule::PeerPlaintext],
            ),
            (
                "fax.old.example",
                Inbound,
                dir(|d| {
                    d.tls_sessions = 2;
                    d.tls_messages = 2;
                    d.versions = hist(&[("TLSv1", 2)]);
                    d.ciphers = hist(&[("AES256-SHA", 2)]);
                    d.verify = hist(&[("NO", 2)]);
                }),
                Grade::C,
                "TLSv1 in 2 of 2 sessions (minimum TLSv1.2)",
                vec![Rule::MinVersion],
            ),
            (
                "mx.rc4.example",
                Outbound,
                dir(|d| {
                    d.tls_sessions = 1;
                    d.tls_messages = 1;
                    d.versions = hist(&[("TLSv1.2", 1)]);
                    d.ciphers = hist(&[("RC4-MD5", 1)]);
                    d.verify = hist(&[("OK", 1)]);
                }),
                Grade::D,
                "forbidden cipher RC4-MD5 (RC4) ×1",
                vec![Rule::ForbiddenCipher],
            ),
            (
                "mx.ssl3.example",
                Outbound,
                dir(|d| {
                    d.tls_sessions = 1;
                    d.tls_messages = 1;
                    d.versions = hist(&[("SSLv3", 1)]);
                    d.ciphers = hist(&[("AES128-SHA", 1)]);
                    d.verify = hist(&[("OK", 1)]);
                }),
                Grade::F,
                "SSLv3 in 1 of 1 session",
                vec![Rule::MinVersion],
            ),
            (
                "mx.mixed-old.example",
                Outbound,
                dir(|d| {
                    d.tls_sessions = 3;
                    d.tls_messages = 3;
                    d.versions = hist(&[("SSLv3", 1), ("TLSv1", 2)]);
                    d.ciphers = hist(&[("AES128-SHA", 3)]);
                    d.verify = hist(&[("OK", 3)]);
                }),
                Grade::F,
                "SSLv3 ×1, TLSv1 ×2 in 3 of 3 sessions (minimum TLSv1.2)",
                vec![Rule::MinVersion],
            ),
            (
                "mx1.bank.example",
                Outbound,
                dir(|d| {
                    d.tls_sessions = 2;
                    d.tls_messages = 2;
                    d.versions = hist(&[("TLSv1.3", 2)]);
                    d.verify = hist(&[("FAIL", 2)]);
                }),
                Grade::D,
                "must verify, but FAIL:2",
                vec![Rule::MustVerify],
            ),
            (
                "mx.unverified.example",
                Outbound,
                dir(|d| {
                    d.tls_sessions = 2;
                    d.tls_messages = 2;
                    d.versions = hist(&[("TLSv1.3", 2)]);
                    d.verify = hist(&[("FAIL", 2)]);
                }),
                Grade::B,
                "certificate not verified (FAIL:2)",
                vec![],
            ),
            (
                "mx.notls.example",
                Outbound,
                dir(|d| {
                    d.deferred = 4;
                    d.verify = hist(&[("NONE", 4)]);
                }),
                Grade::D,
                "no STARTTLS offered (4×NONE), 4 deliveries held",
                vec![],
            ),
            (
                // Sendmail's retry without STARTTLS after a failed handshake: tried, not
                // "never STARTTLS" (the e2e break `client_fallback`).
                "mx.fallback.example",
                Outbound,
                dir(|d| {
                    d.plaintext_messages = 1;
                    d.verify = hist(&[("SOFTWARE", 1)]);
                }),
                Grade::F,
                "1 message delivered in clear text, STARTTLS tried and failed every time",
                vec![Rule::PeerPlaintext],
            ),
            (
                // Postfix and Exim say it in a deferral, not with a verify word.
                "mx.required.example",
                Outbound,
                dir(|d| {
                    d.deferred = 1;
                    d.errors.insert(
                        crate::model::TlsErrorKind::NotOffered,
                        crate::analysis::posture::ErrorStat {
                            count: 1,
                            ..Default::default()
                        },
                    );
                }),
                Grade::D,
                "no STARTTLS offered (1×not_offered), 1 delivery held",
                vec![],
            ),
            (
                "mx.flaky.example",
                Outbound,
                dir(|d| {
                    d.tls_sessions = 2;
                    d.tls_messages = 2;
                    d.deferred = 1;
                    d.versions = hist(&[("TLSv1.3", 2)]);
                    d.verify = hist(&[("OK", 2), ("SOFTWARE", 1)]);
                }),
                Grade::C,
                "TLS failures (SOFTWARE:1)",
                vec![],
            ),
            (
                "old.relay.example",
                Outbound,
                dir(|d| {
                    d.tls_sessions = 2;
                    d.tls_messages = 2;
                    d.versions = hist(&[("TLSv1/SSLv3", 2)]);
                    d.ciphers = hist(&[("DHE-RSA-AES256-SHA", 2)]);
                    d.verify = hist(&[("OK", 2)]);
                }),
                Grade::B,
                "protocol not logged in 2 sessions",
                vec![],
            ),
        ];
        let policy = Policy::from_toml(
            "must_verify = [\"*.bank.example\"]\nmax_plaintext_percent = 100.0\n",
        )
        .unwrap();
        for (key, d_, post_dir, grade, reason, rules) in rows {
            let post = posture(key, d_, post_dir);
            let ev = evaluate(&policy, &post, day("2026-11-28"));
            let g = &ev.grades[key];
            assert_eq!(g.grade, grade, "{key}: {g:?}");
            assert!(
                g.reason.contains(reason),
                "{key}: reason {:?} lacks {reason:?}",
                g.reason
            );
            let got: Vec<Rule> = ev.violations.iter().map(|v| v.rule).collect();
            assert_eq!(got, rules, "{key}");
        }
    }

    #[test]
    fn exceptions_excuse_until_they_expire() {
        let d = dir(|d| {
            d.tls_sessions = 2;
            d.tls_messages = 2;
            d.versions = hist(&[("TLSv1", 2)]);
            d.ciphers = hist(&[("DES-CBC3-SHA", 2)]);
            d.verify = hist(&[("NO", 2)]);
        });
        let post = posture("fax.oldcorp.example", Direction::Inbound, d);
        let policy = Policy::from_toml(
            r#"
            [[exception]]
            peer = "*.oldcorp.example"
            rules = ["min_version", "forbidden_cipher"]
            expires = "2026-12-31"
            reason = "fax gateway replaced in January"
            "#,
        )
        .unwrap();
        let before = evaluate(&policy, &post, day("2026-12-31"));
        assert!(before.violations.is_empty(), "{:?}", before.violations);
        assert!(before.expired.is_empty());
        let g = &before.grades["fax.oldcorp.example"];
        assert_eq!(g.grade, Grade::B);
        assert!(
            g.reason.starts_with("excepted until 2026-12-31"),
            "{}",
            g.reason
        );
        let after = evaluate(&policy, &post, day("2027-01-01"));
        let rules: Vec<Rule> = after.violations.iter().map(|v| v.rule).collect();
        assert_eq!(rules, vec![Rule::MinVersion, Rule::ForbiddenCipher]);
        assert_eq!(after.expired.len(), 1);
        assert_eq!(after.grades["fax.oldcorp.example"].grade, Grade::D);
        // An exception for one rule leaves the other a violation.
        let one = Policy::from_toml(
            "[[exception]]\npeer = \"fax.oldcorp.example\"\nrules = [\"min_version\"]\nexpires = \"2030-01-01\"\n",
        )
        .unwrap();
        let ev = evaluate(&one, &post, day("2026-11-28"));
        assert_eq!(ev.violations.len(), 1);
        assert_eq!(ev.violations[0].rule, Rule::ForbiddenCipher);
    }

    #[test]
    fn overall_plaintext_share_and_bad_files() {
        let post = posture(
            "a.example",
            Direction::Inbound,
            dir(|d| {
                d.tls_messages = 8;
                d.tls_sessions = 8;
                d.versions = hist(&[("TLSv1.3", 8)]);
                d.plaintext_messages = 2;
            }),
        );
        let p = Policy::from_toml("max_peer_plaintext_percent = 50\nmax_plaintext_percent = 15")
            .unwrap();
        let ev = evaluate(&p, &post, day("2026-11-28"));
        assert_eq!(ev.violations.len(), 1);
        assert_eq!(ev.violations[0].rule, Rule::Plaintext);
        assert!(
            ev.violations[0]
                .text
                .contains("2 of 10 messages in clear text (20.0%")
        );
        let p = Policy::from_toml("max_plaintext_percent = 20").unwrap();
        assert!(
            evaluate(&p, &post, day("2026-11-28"))
                .violations
                .iter()
                .all(|v| v.rule != Rule::Plaintext)
        );
        for (bad, says) in [
            ("min_version = \"TLSv9\"", "min_version"),
            ("forbidden_ciphers = [\"ROT13\"]", "ROT13"),
            ("max_plaintext_percent = 120", "between 0 and 100"),
            ("min_versoin = \"TLSv1.2\"", "unknown field"),
            ("[[exception]]\npeer = \"x\"\nexpires = \"soon\"", "expires"),
        ] {
            let e = Policy::from_toml(bad).unwrap_err();
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
        assert_eq!(
            Policy::from_toml(DEFAULT_POLICY).unwrap(),
            Policy::default()
        );
        // Read once, typed, whatever the spelling: judging compares values.
        let p = Policy::from_toml(
            "min_version = \"TLS1_3\"\nforbidden_ciphers = [\"rc4\", \"Anonymous\"]",
        )
        .unwrap();
        assert_eq!(p.min_version, TlsVersion::Tls1_3);
        assert_eq!(
            p.forbidden_ciphers,
            vec![CipherFamily::Rc4, CipherFamily::Anonymous]
        );
        for legacy in ["TLSv1/SSLv3", "UNKNOWN"] {
            let e = Policy::from_toml(&format!("min_version = \"{legacy}\"")).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("min_version '{legacy}'")),
                "{e}"
            );
        }
    }

    #[test]
    fn cipher_families_and_globs() {
        for (name, fam) in [
            ("TLS_AES_256_GCM_SHA384", "AES-GCM"),
            ("ECDHE-RSA-AES256-GCM-SHA384", "AES-GCM"),
            ("TLS_CHACHA20_POLY1305_SHA256", "ChaCha20-Poly1305"),
            ("DHE-RSA-AES256-SHA", "AES-CBC"),
            ("DES-CBC3-SHA", "3DES"),
            ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "3DES"),
            ("EDH-RSA-DES-CBC-SHA", "DES"),
            ("RC4-MD5", "RC4"),
            ("EXP-RC4-MD5", "EXPORT"),
            ("ADH-AES256-GCM-SHA384", "anonymous"),
            ("TLS_DH_anon_WITH_AES_128_CBC_SHA", "anonymous"),
            ("NULL-SHA256", "NULL"),
            ("CAMELLIA256-SHA", "Camellia"),
        ] {
            assert_eq!(cipher_family(name), fam, "{name}");
        }
        assert!(glob_match("*.bank.example", "MX1.Bank.Example."));
        assert!(!glob_match("*.bank.example", "bank.example"));
        assert!(glob_match("mx?.partner.example", "mx1.partner.example"));
        assert!(!glob_match("mx.partner.example", "mx1.partner.example"));
    }

    #[test]
    fn readiness_says_what_enforcement_would_break() {
        let mut post = Posture::default();
        for (key, d) in [
            (
                "mx.good.example",
                dir(|d| {
                    d.tls_sessions = 3;
                    d.tls_messages = 3;
                    d.min_bits = Some(256);
                    d.verify = hist(&[("OK", 3)]);
                }),
            ),
            (
                "mx.fail.example",
                dir(|d| {
                    d.tls_sessions = 2;
                    d.tls_messages = 2;
                    d.min_bits = Some(112);
                    d.verify = hist(&[("FAIL", 2)]);
                }),
            ),
            (
                "mx.plain.example",
                dir(|d| {
                    d.plaintext_messages = 1;
                }),
            ),
        ] {
            post.merge(posture(key, Direction::Outbound, d));
        }
        post.merge(posture(
            "inbound.only.example",
            Direction::Inbound,
            dir(|d| d.tls_messages = 1),
        ));
        let r = enforce_readiness(&post);
        let keys: Vec<&str> = r.iter().map(|x| x.peer.as_str()).collect();
        assert_eq!(
            keys,
            ["mx.fail.example", "mx.good.example", "mx.plain.example"]
        );
        assert!(r[0].tls_safe() && !r[0].verify_safe());
        assert_eq!(
            r[0].entries,
            [
                "TLS_Srv:mx.fail.example\tENCR:112",
                "TLS_Rcpt:fail.example\tENCR:112",
                "fail.example\tencrypt"
            ]
        );
        assert!(r[1].verify_safe());
        assert_eq!(r[1].entries[0], "TLS_Srv:mx.good.example\tVERIFY:128");
        assert_eq!(
            r[1].entries[2],
            "good.example\tsecure match=mx.good.example"
        );
        assert!(!r[2].tls_safe() && r[2].entries.is_empty());
        assert_eq!(r[2].tls_blockers, ["1 delivery went in clear text"]);
    }
}
