//! SMTP TLS Reporting (RFC 8460): the reports other senders file about our MX hosts.
//!
//! Large senders mail a daily JSON report to the address in a domain's `_smtp._tls` TXT
//! record: how many of their sessions to our MX hosts succeeded, and which failed and why.
//! This module reads those reports ([`read`]: `.json`, `.json.gz`, and the same attached to
//! messages in mbox, Maildir or `.eml`), checks them against RFC 8460 §4 ([`parse_report`]),
//! folds them into a mergeable model ([`TlsRpt`]) and, in [`join`], holds them against our
//! own inbound log records for the same window and MX host.
//!
//! A report that is not valid JSON or lacks a required field is refused as a whole, with an
//! error naming the field ([`ReportError`]): half a report would make the join lie.

pub mod join;
pub mod read;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The schema name of the JSON document `scan` writes for TLS-RPT (`tlsrpt.json`).
pub const TLSRPT_SCHEMA: &str = "mailtls.tlsrpt/1";

/// The policy a sender applied to our domain (RFC 8460 §4.3 `policy-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyType {
    /// MTA-STS (RFC 8461).
    Sts,
    /// DANE TLSA records (RFC 7672).
    Tlsa,
    /// Neither was found: the sender tried opportunistic TLS.
    NoPolicyFound,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Sts => "sts",
            PolicyType::Tlsa => "tlsa",
            PolicyType::NoPolicyFound => "no-policy-found",
        }
    }

    fn parse(s: &str) -> Option<PolicyType> {
        match s {
            "sts" => Some(PolicyType::Sts),
            "tlsa" => Some(PolicyType::Tlsa),
            "no-policy-found" => Some(PolicyType::NoPolicyFound),
            _ => None,
        }
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a sender's session failed (the IANA "STARTTLS Validation Result Types" registry,
/// RFC 8460 §4.3). Unregistered words are kept, so a newer reporter is still read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResultType {
    StarttlsNotSupported,
    CertificateHostMismatch,
    CertificateExpired,
    CertificateNotTrusted,
    ValidationFailure,
    TlsaInvalid,
    DnssecInvalid,
    DaneRequired,
    StsPolicyFetchError,
    StsPolicyInvalid,
    StsWebpkiInvalid,
    /// A word not in the registry, as written.
    Other(String),
}

impl ResultType {
    /// Every registered result type, in the order RFC 8460 lists them.
    pub const REGISTERED: [ResultType; 11] = [
        ResultType::StarttlsNotSupported,
        ResultType::CertificateHostMismatch,
        ResultType::CertificateExpired,
        ResultType::CertificateNotTrusted,
        ResultType::ValidationFailure,
        ResultType::TlsaInvalid,
        ResultType::DnssecInvalid,
        ResultType::DaneRequired,
        ResultType::StsPolicyFetchError,
        ResultType::StsPolicyInvalid,
        ResultType::StsWebpkiInvalid,
    ];

    pub fn parse(s: &str) -> ResultType {
        ResultType::REGISTERED
            .into_iter()
            .find(|r| r.as_str() == s)
            .unwrap_or_else(|| ResultType::Other(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            ResultType::StarttlsNotSupported => "starttls-not-supported",
            ResultType::CertificateHostMismatch => "certificate-host-mismatch",
            ResultType::CertificateExpired => "certificate-expired",
            ResultType::CertificateNotTrusted => "certificate-not-trusted",
            ResultType::ValidationFailure => "validation-failure",
            ResultType::TlsaInvalid => "tlsa-invalid",
            ResultType::DnssecInvalid => "dnssec-invalid",
            ResultType::DaneRequired => "dane-required",
            ResultType::StsPolicyFetchError => "sts-policy-fetch-error",
            ResultType::StsPolicyInvalid => "sts-policy-invalid",
            ResultType::StsWebpkiInvalid => "sts-webpki-invalid",
            ResultType::Other(s) => s,
        }
    }

    /// True for failures of the TLS conversation itself with one of our MX hosts, which
    /// that host's log should show. Policy fetch and DNS failures happen before any
    /// connection to us, so our logs cannot show them.
    pub fn touches_mx(&self) -> bool {
        !matches!(
            self,
            ResultType::StsPolicyFetchError
                | ResultType::StsPolicyInvalid
                | ResultType::StsWebpkiInvalid
                | ResultType::DnssecInvalid
                | ResultType::TlsaInvalid
                | ResultType::DaneRequired
        )
    }
}

impl fmt::Display for ResultType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResultType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| ResultType::parse(&s))
    }
}

/// The policy part of one `policies[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    #[serde(rename = "type")]
    pub kind: PolicyType,
    /// The policy as the sender saw it (MTA-STS lines or TLSA records); may be empty.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub strings: Vec<String>,
    pub domain: String,
    /// The MX patterns of an MTA-STS policy (`mx-host`), possibly `*.`-wildcards.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub mx_hosts: Vec<String>,
}

/// One `failure-details[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureDetail {
    pub result_type: ResultType,
    pub sending_mta_ip: IpAddr,
    pub receiving_mx_hostname: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub receiving_mx_helo: Option<String>,
    pub receiving_ip: IpAddr,
    pub failed_session_count: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub additional_information: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub failure_reason_code: Option<String>,
}

/// One `policies[]` entry: a policy and what the sender's sessions under it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    pub policy: Policy,
    pub successful: u64,
    pub failed: u64,
    pub failures: Vec<FailureDetail>,
}

/// One validated report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsReport {
    pub organization: String,
    pub contact: String,
    pub report_id: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub policies: Vec<PolicyResult>,
}

/// Why a report was refused: the JSON path of the offending field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("{0}: required field missing")]
    Missing(String),
    #[error("{path}: {why}")]
    Invalid { path: String, why: String },
}

fn missing(path: &str) -> ReportError {
    ReportError::Missing(path.to_owned())
}

fn invalid(path: &str, why: impl Into<String>) -> ReportError {
    ReportError::Invalid {
        path: path.to_owned(),
        why: why.into(),
    }
}

fn field<'a>(obj: &'a Value, path: &str, name: &str) -> Result<&'a Value, ReportError> {
    match obj.get(name) {
        Some(Value::Null) | None => Err(missing(&join_path(path, name))),
        Some(v) => Ok(v),
    }
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Report text comes from anyone who can send us mail: control characters (terminal
/// escapes, newlines) and the invisible characters that reorder or hide text (bidi
/// overrides, zero-width characters: [`crate::model::text::is_unsafe`], the one
/// definition) become spaces before any of it is stored or shown.
fn clean(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| {
            if crate::model::text::is_unsafe(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn string(obj: &Value, path: &str, name: &str) -> Result<String, ReportError> {
    let p = join_path(path, name);
    match field(obj, path, name)? {
        Value::String(s) if !s.trim().is_empty() => Ok(clean(s)),
        Value::String(_) => Err(invalid(&p, "empty")),
        _ => Err(invalid(&p, "not a string")),
    }
}

fn opt_string(obj: &Value, path: &str, name: &str) -> Result<Option<String>, ReportError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(clean(s)).filter(|s| !s.is_empty())),
        Some(_) => Err(invalid(&join_path(path, name), "not a string")),
    }
}

/// A string, or an array of strings (`mx-host` and `policy-string` are arrays in RFC 8460
/// §4.4, but some reporters write a single string).
fn strings(obj: &Value, path: &str, name: &str) -> Result<Vec<String>, ReportError> {
    let p = join_path(path, name);
    match obj.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![clean(s)]),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(clean(s)),
                _ => Err(invalid(&format!("{p}[{i}]"), "not a string")),
            })
            .collect(),
        Some(_) => Err(invalid(&p, "neither a string nor an array of strings")),
    }
}

fn count(obj: &Value, path: &str, name: &str) -> Result<u64, ReportError> {
    let p = join_path(path, name);
    match field(obj, path, name)? {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| invalid(&p, format!("{n} is not a non-negative integer"))),
        _ => Err(invalid(&p, "not a number")),
    }
}

fn time(obj: &Value, path: &str, name: &str) -> Result<DateTime<FixedOffset>, ReportError> {
    let p = join_path(path, name);
    let s = string(obj, path, name)?;
    DateTime::parse_from_rfc3339(&s)
        .map_err(|e| invalid(&p, format!("'{s}' is not an RFC 3339 date-time ({e})")))
}

fn ip(obj: &Value, path: &str, name: &str) -> Result<IpAddr, ReportError> {
    let p = join_path(path, name);
    let s = string(obj, path, name)?;
    s.parse()
        .map_err(|_| invalid(&p, format!("'{s}' is not an IP address")))
}

fn array<'a>(obj: &'a Value, path: &str, name: &str) -> Result<&'a Vec<Value>, ReportError> {
    match field(obj, path, name)? {
        Value::Array(a) => Ok(a),
        _ => Err(invalid(&join_path(path, name), "not an array")),
    }
}

/// Parses and validates one report (RFC 8460 §4.4). Every required field must be present
/// and well-typed; unknown fields are ignored, unknown result types kept as written.
pub fn parse_report(bytes: &[u8]) -> Result<TlsReport, ReportError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| ReportError::Json(e.to_string()))?;
    if !v.is_object() {
        return Err(ReportError::Json("the top level is not an object".into()));
    }
    let organization = string(&v, "", "organization-name")?;
    let range = field(&v, "", "date-range")?;
    let start = time(range, "date-range", "start-datetime")?;
    let end = time(range, "date-range", "end-datetime")?;
    if end < start {
        return Err(invalid(
            "date-range",
            "end-datetime is before start-datetime",
        ));
    }
    let contact = string(&v, "", "contact-info")?;
    let report_id = string(&v, "", "report-id")?;
    let mut policies = Vec::new();
    for (i, p) in array(&v, "", "policies")?.iter().enumerate() {
        let path = format!("policies[{i}]");
        let pol = field(p, &path, "policy")?;
        let ppath = format!("{path}.policy");
        let kind_s = string(pol, &ppath, "policy-type")?;
        let kind = PolicyType::parse(&kind_s).ok_or_else(|| {
            invalid(
                &format!("{ppath}.policy-type"),
                format!("'{kind_s}' is not sts, tlsa or no-policy-found"),
            )
        })?;
        let policy = Policy {
            kind,
            strings: strings(pol, &ppath, "policy-string")?,
            domain: string(pol, &ppath, "policy-domain")?.to_ascii_lowercase(),
            mx_hosts: strings(pol, &ppath, "mx-host")?
                .into_iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .collect(),
        };
        let sum = field(p, &path, "summary")?;
        let spath = format!("{path}.summary");
        let successful = count(sum, &spath, "total-successful-session-count")?;
        let failed = count(sum, &spath, "total-failure-session-count")?;
        let mut failures = Vec::new();
        if let Some(list) = p.get("failure-details").filter(|v| !v.is_null()) {
            let Value::Array(list) = list else {
                return Err(invalid(&format!("{path}.failure-details"), "not an array"));
            };
            for (j, f) in list.iter().enumerate() {
                let fpath = format!("{path}.failure-details[{j}]");
                failures.push(FailureDetail {
                    result_type: ResultType::parse(&string(f, &fpath, "result-type")?),
                    sending_mta_ip: ip(f, &fpath, "sending-mta-ip")?,
                    receiving_mx_hostname: string(f, &fpath, "receiving-mx-hostname")?
                        .trim_end_matches('.')
                        .to_ascii_lowercase(),
                    receiving_mx_helo: opt_string(f, &fpath, "receiving-mx-helo")?,
                    receiving_ip: ip(f, &fpath, "receiving-ip")?,
                    failed_session_count: count(f, &fpath, "failed-session-count")?,
                    additional_information: opt_string(f, &fpath, "additional-information")?,
                    failure_reason_code: opt_string(f, &fpath, "failure-reason-code")?,
                });
            }
        }
        policies.push(PolicyResult {
            policy,
            successful,
            failed,
            failures,
        });
    }
    Ok(TlsReport {
        organization,
        contact,
        report_id,
        start,
        end,
        policies,
    })
}

/// What identifies one line of the model: who reported, under which policy, for which
/// window. Two reports with the same key (two report-ids for the same day) add up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryKey {
    pub organization: String,
    pub policy_type: PolicyType,
    pub policy_domain: String,
    /// The policy's MX patterns, comma-joined (empty for DANE and no-policy-found).
    pub mx_host: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

/// Failed sessions of one kind, from one sending IP to one MX host and address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FailureKey {
    pub result_type: ResultType,
    pub sending_mta_ip: IpAddr,
    pub receiving_mx_hostname: String,
    pub receiving_ip: IpAddr,
}

/// The counts of a [`FailureKey`], with the reporter's explanations (all distinct ones).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct FailureStat {
    pub failed_session_count: u64,
    #[serde(skip_serializing_if = "BTreeSet::is_empty", default)]
    pub receiving_mx_helo: BTreeSet<String>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty", default)]
    pub additional_information: BTreeSet<String>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty", default)]
    pub failure_reason_code: BTreeSet<String>,
}

impl FailureStat {
    /// Adds the counts and keeps every distinct explanation.
    pub fn merge(&mut self, o: FailureStat) {
        self.failed_session_count += o.failed_session_count;
        self.receiving_mx_helo.extend(o.receiving_mx_helo);
        self.additional_information.extend(o.additional_information);
        self.failure_reason_code.extend(o.failure_reason_code);
    }
}

/// One organisation × policy × window: totals and failure details.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct Entry {
    pub successful: u64,
    pub failed: u64,
    /// The policy text as last reported (identical across one key in practice).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub policy_strings: Vec<String>,
    pub contact: BTreeSet<String>,
    pub report_ids: BTreeSet<String>,
    pub failures: BTreeMap<FailureKey, FailureStat>,
}

impl Entry {
    /// Adds the counts and failure details of two readings of one key.
    pub fn merge(&mut self, o: Entry) {
        self.successful += o.successful;
        self.failed += o.failed;
        if self.policy_strings.is_empty() || o.policy_strings > self.policy_strings {
            self.policy_strings = o.policy_strings;
        }
        self.contact.extend(o.contact);
        self.report_ids.extend(o.report_ids);
        for (k, v) in o.failures {
            self.failures.entry(k).or_default().merge(v);
        }
    }
}

/// Every report read, kept per (organisation, report-id) so that folding is exact: like
/// [`crate::analysis::posture::Posture`] it is a commutative monoid ([`TlsRpt::default`] is the
/// identity, [`TlsRpt::merge`] a union), and a report seen twice (the same organisation and
/// report-id, say as a file and again in the mailbox) counts once. [`TlsRpt::entries`]
/// adds the reports up per organisation × policy × window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsRpt {
    reports: BTreeMap<(String, String), BTreeMap<EntryKey, Entry>>,
    /// Reports seen again and not counted twice.
    pub duplicates: u64,
}

/// One report's contribution to the model.
fn entries_of(r: &TlsReport) -> BTreeMap<EntryKey, Entry> {
    let mut out: BTreeMap<EntryKey, Entry> = BTreeMap::new();
    for p in &r.policies {
        let key = EntryKey {
            organization: r.organization.clone(),
            policy_type: p.policy.kind,
            policy_domain: p.policy.domain.clone(),
            mx_host: p.policy.mx_hosts.join(","),
            start: r.start,
            end: r.end,
        };
        let mut e = Entry {
            successful: p.successful,
            failed: p.failed,
            policy_strings: p.policy.strings.clone(),
            contact: BTreeSet::from([r.contact.clone()]),
            report_ids: BTreeSet::from([r.report_id.clone()]),
            failures: BTreeMap::new(),
        };
        for f in &p.failures {
            let k = FailureKey {
                result_type: f.result_type.clone(),
                sending_mta_ip: f.sending_mta_ip,
                receiving_mx_hostname: f.receiving_mx_hostname.clone(),
                receiving_ip: f.receiving_ip,
            };
            e.failures.entry(k).or_default().merge(FailureStat {
                failed_session_count: f.failed_session_count,
                receiving_mx_helo: f.receiving_mx_helo.iter().cloned().collect(),
                additional_information: f.additional_information.iter().cloned().collect(),
                failure_reason_code: f.failure_reason_code.iter().cloned().collect(),
            });
        }
        out.entry(key).or_default().merge(e);
    }
    out
}

impl TlsRpt {
    /// Folds one report in; returns false (and counts a duplicate) when the same
    /// organisation and report-id were folded before.
    pub fn add(&mut self, r: &TlsReport) -> bool {
        let mut one = TlsRpt::default();
        one.reports
            .insert((r.organization.clone(), r.report_id.clone()), entries_of(r));
        let before = self.duplicates;
        self.merge(one);
        self.duplicates == before
    }

    /// The union of two models. A report in both counts once (the greater of the two
    /// readings is kept when they differ, so the result does not depend on order).
    pub fn merge(&mut self, o: TlsRpt) {
        self.duplicates += o.duplicates;
        for (id, e) in o.reports {
            match self.reports.get_mut(&id) {
                None => {
                    self.reports.insert(id, e);
                }
                Some(mine) => {
                    self.duplicates += 1;
                    if e > *mine {
                        *mine = e;
                    }
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }

    /// Reports folded in (duplicates not included).
    pub fn reports(&self) -> u64 {
        self.reports.len() as u64
    }

    /// The model: every organisation × policy × window, summed over its reports.
    pub fn entries(&self) -> BTreeMap<EntryKey, Entry> {
        let mut out: BTreeMap<EntryKey, Entry> = BTreeMap::new();
        for e in self.reports.values() {
            for (k, v) in e {
                out.entry(k.clone()).or_default().merge(v.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
