//! What the reporters say beside what our own MX hosts logged.
//!
//! A reporter's failure on `mx2.example.net` should be visible in the log of `mx2` (the
//! syslog host of the line) as inbound TLS errors from the reporter's sending IP, in the
//! report's window. [`InboundLog`] keeps, per receiving host, sending IP and UTC hour, the
//! inbound TLS sessions, TLS messages, plaintext messages and TLS errors of the logs;
//! [`join`] puts each reported failure beside those counts and flags disagreement both
//! ways:
//!
//! * the reporter says failures, the host's log covers the window and shows no TLS error
//!   (and, for `starttls-not-supported`, no plaintext message) from those IPs;
//! * the host's log shows TLS errors from the reporter's sending hosts (IPs the reporter
//!   listed in any of its failures, by /24 or /48, or peer names under the domain of its
//!   `contact-info`) in a window the reporter calls clean;
//! * the reporter names an MX host that is none of our log hosts.
//!
//! Counts are kept per hour, so a window is resolved to whole hours (reports cover whole
//! UTC days in practice): memory grows with hosts × peers × hours, never with the log.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::{Entry, EntryKey, ResultType, TlsRpt};
use crate::model::Direction;
use crate::model::Record;

type Time = DateTime<FixedOffset>;

/// Inbound counts of one host, sending IP and hour.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LogCounts {
    pub tls_sessions: u64,
    pub tls_messages: u64,
    pub plaintext_messages: u64,
    /// TLS errors by kind (`handshake`, `cert_verify`, …).
    pub errors: BTreeMap<String, u64>,
    /// The last error text seen (for the sentence in the report).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_example: Option<String>,
}

impl LogCounts {
    fn merge(&mut self, o: &LogCounts) {
        self.tls_sessions += o.tls_sessions;
        self.tls_messages += o.tls_messages;
        self.plaintext_messages += o.plaintext_messages;
        for (k, v) in &o.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        if o.error_example.is_some() {
            self.error_example.clone_from(&o.error_example);
        }
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn is_empty(&self) -> bool {
        self.tls_sessions + self.tls_messages + self.plaintext_messages + self.error_count() == 0
    }
}

#[derive(Debug, Clone, Default)]
struct Cell {
    counts: LogCounts,
    names: BTreeSet<String>,
}

/// Our inbound log records, reduced for the join.
#[derive(Debug, Clone, Default)]
pub struct InboundLog {
    /// (host, sending IP, UTC hour number) → counts.
    cells: BTreeMap<(String, IpAddr, i64), Cell>,
    /// Per host: first and last inbound record time (the log's coverage).
    hosts: BTreeMap<String, (Time, Time)>,
}

fn hour(t: &Time) -> i64 {
    t.timestamp().div_euclid(3600)
}

impl InboundLog {
    /// Folds one record: only inbound ones with a time and a syslog host count; those
    /// without a peer IP only widen the host's coverage.
    pub fn add(&mut self, r: &Record) {
        if r.direction() != Some(Direction::Inbound) {
            return;
        }
        let meta = r.meta();
        let (Some(host), Some(t)) = (&meta.host, meta.time) else {
            return;
        };
        let host = host.to_ascii_lowercase();
        let span = self.hosts.entry(host.clone()).or_insert((t, t));
        if t < span.0 {
            span.0 = t;
        }
        if t > span.1 {
            span.1 = t;
        }
        let Some(peer) = r.peer() else {
            return;
        };
        let Some(ip) = peer.ip else {
            return;
        };
        let cell = self.cells.entry((host, ip, hour(&t))).or_default();
        if let Some(n) = &peer.name {
            cell.names.insert(n.as_str().to_ascii_lowercase());
        }
        let c = &mut cell.counts;
        match r {
            Record::Session { .. } => c.tls_sessions += 1,
            Record::Message { encryption, .. } => {
                if encryption.is_tls() {
                    c.tls_messages += 1;
                } else {
                    c.plaintext_messages += 1;
                }
            }
            Record::Error { kind, text, .. } => {
                *c.errors.entry(kind.as_str().to_owned()).or_default() += 1;
                c.error_example = Some(text.clone());
            }
            Record::Verdict { .. } | Record::Ready { .. } | Record::Start { .. } => {}
        }
    }

    /// The syslog hosts that logged inbound mail.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.hosts.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// True when `host`'s log has records inside `[start, end]`.
    fn covers(&self, host: &str, start: &Time, end: &Time) -> bool {
        self.hosts
            .get(host)
            .is_some_and(|(first, last)| first <= end && last >= start)
    }

    /// Counts on `host` in the window from senders `want` accepts.
    fn sum(
        &self,
        host: &str,
        start: &Time,
        end: &Time,
        want: impl Fn(&IpAddr, &BTreeSet<String>) -> bool,
    ) -> (LogCounts, BTreeSet<IpAddr>) {
        let (h0, h1) = window_hours(start, end);
        let mut out = LogCounts::default();
        let mut ips = BTreeSet::new();
        let lo = (host.to_owned(), IpAddr::from([0u8; 4]), i64::MIN);
        for ((h, ip, hr), cell) in self.cells.range(lo..) {
            if h != host {
                break;
            }
            if *hr < h0 || *hr >= h1 || !want(ip, &cell.names) {
                continue;
            }
            out.merge(&cell.counts);
            ips.insert(*ip);
        }
        (out, ips)
    }
}

/// The hours `[first, past_last)` a window covers: from the hour of its start to the hour
/// its end falls in, included (an end of `23:59:59Z` keeps the last hour; an end of
/// `00:00:00Z` the next day does not add that day).
fn window_hours(start: &Time, end: &Time) -> (i64, i64) {
    let s = hour(start);
    let e = end.timestamp();
    let last = if e.rem_euclid(3600) == 0 && e > start.timestamp() {
        e.div_euclid(3600)
    } else {
        e.div_euclid(3600) + 1
    };
    (s, last)
}

/// The /24 (IPv4) or /48 (IPv6) an address belongs to: large senders spread one day's
/// sessions over neighbouring addresses.
pub fn network(ip: &IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            IpAddr::from([o[0], o[1], o[2], 0])
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            IpAddr::from([s[0], s[1], s[2], 0, 0, 0, 0, 0])
        }
    }
}

fn network_text(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(_) => format!("{}/24", network(ip)),
        IpAddr::V6(_) => format!("{}/48", network(ip)),
    }
}

/// Which of our log hosts is the MX host a report names: the same name, or the syslog
/// short name of it (`mx2` for `mx2.example.net`).
pub fn log_host_for<'a>(log: &'a InboundLog, mx: &str) -> Option<&'a str> {
    let mx = mx.trim_end_matches('.').to_ascii_lowercase();
    let short = mx.split('.').next().unwrap_or_default();
    log.hosts()
        .find(|h| *h == mx)
        .or_else(|| log.hosts().find(|h| *h == short))
        .or_else(|| {
            log.hosts()
                .find(|h| h.split('.').next().is_some_and(|s| s == short))
        })
}

/// The domain of a reporter's `contact-info` (`mailto:` or plain address, or URL), cut to
/// its last two labels: the reporter's sending hosts are usually named under it.
pub fn contact_domain(contact: &str) -> Option<String> {
    let c = contact.trim().to_ascii_lowercase();
    let c = c.strip_prefix("mailto:").unwrap_or(&c);
    let host = if let Some((_, d)) = c.rsplit_once('@') {
        d.to_owned()
    } else {
        let rest = c.split("://").nth(1).unwrap_or(c);
        rest.split(['/', ':']).next().unwrap_or_default().to_owned()
    };
    let labels: Vec<&str> = host
        .trim_end_matches(['>', '.'])
        .split('.')
        .filter(|l| !l.is_empty())
        .collect();
    labels
        .get(labels.len().checked_sub(2)?..)
        .map(|l| l.join("."))
}

/// How a reported line and our logs compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Our log shows the reported failures (TLS errors, or plaintext for
    /// `starttls-not-supported`) from the sending IPs or their network.
    Confirmed,
    /// The reporter says failures; our log covers the window and shows none from them.
    NotInLogs,
    /// Our log shows TLS errors from the reporter's senders; the report says no failure.
    NotReported,
    /// The reporter names an MX host none of our logs comes from.
    UnknownMx,
    /// The failure happens before any connection (policy fetch, DNS): no log can show it.
    NotVisible,
    /// The reporter says no failure and our log agrees.
    Consistent,
    /// Our logs of that host do not reach into the window.
    NoCoverage,
    /// No inbound log was read at all.
    NoLogs,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::NotInLogs => "not_in_logs",
            Status::NotReported => "not_reported",
            Status::UnknownMx => "unknown_mx",
            Status::NotVisible => "not_visible",
            Status::Consistent => "consistent",
            Status::NoCoverage => "no_coverage",
            Status::NoLogs => "no_logs",
        }
    }

    /// True for the disagreements an administrator must look at.
    pub fn is_mismatch(self) -> bool {
        matches!(
            self,
            Status::NotInLogs | Status::NotReported | Status::UnknownMx
        )
    }
}

/// One line of the joined view: a reporter, policy and window, one MX host, one result
/// type (or `None` for what the reporter calls successful), and our log beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRow {
    pub organization: String,
    pub policy_type: super::PolicyType,
    pub policy_domain: String,
    pub start: Time,
    pub end: Time,
    /// The MX host as the reporter names it (`*` when the report names none).
    pub mx: String,
    /// Our syslog host for that MX, when one matched.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub log_host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub result_type: Option<ResultType>,
    /// Failed sessions the reporter counts (for `result_type`), or its total failures on
    /// a row without one.
    pub reported_failures: u64,
    /// The reporter's successful sessions (on rows without a result type).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reported_successes: Option<u64>,
    pub sending_ips: Vec<IpAddr>,
    /// Our inbound counts on `log_host` in the window from the matching senders.
    pub log: LogCounts,
    /// The sending IPs our log shows among those counts.
    pub log_ips: Vec<IpAddr>,
    pub status: Status,
    /// The row as a sentence.
    pub text: String,
}

/// The whole joined view.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Joined {
    pub rows: Vec<JoinRow>,
    /// Our syslog hosts with inbound records.
    pub log_hosts: Vec<String>,
}

impl Joined {
    pub fn mismatches(&self) -> usize {
        self.rows.iter().filter(|r| r.status.is_mismatch()).count()
    }
}

fn day(start: &Time, end: &Time) -> String {
    let s = start.format("%Y-%m-%d").to_string();
    let last = *end - chrono::Duration::seconds(1);
    let e = last.max(*start).format("%Y-%m-%d").to_string();
    if s == e { s } else { format!("{s}..{e}") }
}

fn counts_text(c: &LogCounts) -> String {
    let mut parts = Vec::new();
    if c.error_count() > 0 {
        let kinds: Vec<String> = c.errors.iter().map(|(k, n)| format!("{n} {k}")).collect();
        parts.push(format!("TLS errors ({})", kinds.join(", ")));
    }
    let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    if c.tls_sessions > 0 {
        parts.push(plural(c.tls_sessions, "TLS session"));
    }
    if c.plaintext_messages > 0 {
        parts.push(plural(c.plaintext_messages, "plaintext message"));
    }
    if parts.is_empty() {
        "nothing".to_owned()
    } else {
        parts.join(", ")
    }
}

/// What the reporter's sending hosts look like: networks it listed and its domain.
struct Senders {
    nets: BTreeSet<IpAddr>,
    domain: Option<String>,
}

impl Senders {
    fn matches(&self, ip: &IpAddr, names: &BTreeSet<String>) -> bool {
        self.nets.contains(&network(ip))
            || self.domain.as_ref().is_some_and(|d| {
                let suffix = format!(".{d}");
                names.iter().any(|n| n == d || n.ends_with(&suffix))
            })
    }
}

/// Joins the reports with our inbound logs.
pub fn join(rpt: &TlsRpt, log: &InboundLog) -> Joined {
    let entries = rpt.entries();
    // Each organisation's sending networks, from all its failure details.
    let mut nets: BTreeMap<&str, BTreeSet<IpAddr>> = BTreeMap::new();
    for (k, e) in &entries {
        let n = nets.entry(k.organization.as_str()).or_default();
        n.extend(e.failures.keys().map(|f| network(&f.sending_mta_ip)));
    }
    let mut rows = Vec::new();
    for (k, e) in &entries {
        let senders = Senders {
            nets: nets
                .get(k.organization.as_str())
                .cloned()
                .unwrap_or_default(),
            domain: e.contact.iter().find_map(|c| contact_domain(c)),
        };
        failure_rows(k, e, log, &mut rows);
        clean_rows(k, e, log, &senders, &mut rows);
    }
    rows.sort_by(|a, b| {
        (b.status.is_mismatch(), &a.start, &a.organization, &a.mx).cmp(&(
            a.status.is_mismatch(),
            &b.start,
            &b.organization,
            &b.mx,
        ))
    });
    Joined {
        rows,
        log_hosts: log.hosts().map(str::to_owned).collect(),
    }
}

/// One row per MX host and result type the reporter lists failures for.
fn failure_rows(k: &EntryKey, e: &Entry, log: &InboundLog, rows: &mut Vec<JoinRow>) {
    let mut groups: BTreeMap<(&str, &ResultType), (u64, BTreeSet<IpAddr>)> = BTreeMap::new();
    for (f, s) in &e.failures {
        let g = groups
            .entry((f.receiving_mx_hostname.as_str(), &f.result_type))
            .or_default();
        g.0 += s.failed_session_count;
        g.1.insert(f.sending_mta_ip);
    }
    for ((mx, rt), (n, ips)) in groups {
        let log_host = log_host_for(log, mx);
        let nets: BTreeSet<IpAddr> = ips.iter().map(network).collect();
        let (counts, log_ips) = match log_host {
            Some(h) => {
                let (exact, exact_ips) = log.sum(h, &k.start, &k.end, |ip, _| ips.contains(ip));
                if exact.is_empty() {
                    log.sum(h, &k.start, &k.end, |ip, _| nets.contains(&network(ip)))
                } else {
                    (exact, exact_ips)
                }
            }
            None => (LogCounts::default(), BTreeSet::new()),
        };
        let evidence = counts.error_count() > 0
            || (*rt == ResultType::StarttlsNotSupported && counts.plaintext_messages > 0);
        let status = if !rt.touches_mx() {
            Status::NotVisible
        } else if log.is_empty() {
            Status::NoLogs
        } else if let Some(h) = log_host {
            if evidence {
                Status::Confirmed
            } else if log.covers(h, &k.start, &k.end) {
                Status::NotInLogs
            } else {
                Status::NoCoverage
            }
        } else {
            Status::UnknownMx
        };
        let from: Vec<String> = if ips.len() <= 3 {
            ips.iter().map(ToString::to_string).collect()
        } else {
            nets.iter().map(network_text).collect()
        };
        let head = format!(
            "{} reports {n} {rt} failure{} on {mx} on {} ({} policy for {})",
            k.organization,
            if n == 1 { "" } else { "s" },
            day(&k.start, &k.end),
            k.policy_type,
            k.policy_domain
        );
        let host = log_host.unwrap_or(mx);
        let tail = match status {
            Status::NotVisible => {
                "a policy or DNS failure before any connection: no MX log can show it".to_owned()
            }
            Status::NoLogs => "no inbound log was read".to_owned(),
            Status::UnknownMx => format!(
                "{mx} is none of our log hosts ({})",
                log.hosts().collect::<Vec<_>>().join(", ")
            ),
            Status::NoCoverage => format!("{host}'s log does not reach into that window"),
            _ => {
                let shown: Vec<String> = log_ips.iter().map(ToString::to_string).collect();
                let mut t = format!(
                    "{host}'s log shows {} from {} in that window",
                    counts_text(&counts),
                    if shown.is_empty() {
                        from.join(", ")
                    } else {
                        shown.join(", ")
                    }
                );
                if let Some(ex) = counts.error_example.as_deref().filter(|_| evidence) {
                    t.push_str(&format!(" (e.g. \"{ex}\")"));
                }
                if status == Status::NotInLogs {
                    t.push_str(": MISMATCH");
                }
                t
            }
        };
        rows.push(JoinRow {
            organization: k.organization.clone(),
            policy_type: k.policy_type,
            policy_domain: k.policy_domain.clone(),
            start: k.start,
            end: k.end,
            mx: mx.to_owned(),
            log_host: log_host.map(str::to_owned),
            result_type: Some(rt.clone()),
            reported_failures: n,
            reported_successes: None,
            sending_ips: ips.into_iter().collect(),
            log: counts,
            log_ips: log_ips.into_iter().collect(),
            status,
            text: format!("{head}; {tail}"),
        });
    }
}

/// For every log host the policy covers and the reporter lists no failure on: do our logs
/// show TLS errors from the reporter's senders in the window?
fn clean_rows(
    k: &EntryKey,
    e: &Entry,
    log: &InboundLog,
    senders: &Senders,
    rows: &mut Vec<JoinRow>,
) {
    let failing: BTreeSet<&str> = e
        .failures
        .keys()
        .filter_map(|f| log_host_for(log, &f.receiving_mx_hostname))
        .collect();
    // The MX names the policy covers, when they are plain names (a DANE policy's domain
    // is the MX host itself); else every log host.
    let named: Vec<&str> = if k.policy_type == super::PolicyType::Tlsa {
        vec![k.policy_domain.as_str()]
    } else {
        k.mx_host
            .split(',')
            .filter(|m| !m.is_empty() && !m.contains('*'))
            .collect()
    };
    let mut hosts: Vec<(String, Option<&str>)> = Vec::new();
    if named.is_empty() {
        hosts.extend(log.hosts().map(|h| (h.to_owned(), Some(h))));
    } else {
        for m in named {
            hosts.push((m.to_owned(), log_host_for(log, m)));
        }
    }
    if hosts.is_empty() {
        hosts.push(("*".to_owned(), None));
    }
    for (mx, log_host) in hosts {
        let listed = e
            .failures
            .keys()
            .any(|f| f.receiving_mx_hostname == mx.to_ascii_lowercase());
        if listed || log_host.is_some_and(|h| failing.contains(h)) {
            continue;
        }
        let (counts, log_ips) = match log_host {
            Some(h) => log.sum(h, &k.start, &k.end, |ip, names| senders.matches(ip, names)),
            None => (LogCounts::default(), BTreeSet::new()),
        };
        let status = if log.is_empty() {
            Status::NoLogs
        } else if let Some(h) = log_host {
            if counts.error_count() > 0 {
                Status::NotReported
            } else if log.covers(h, &k.start, &k.end) {
                Status::Consistent
            } else {
                Status::NoCoverage
            }
        } else {
            Status::UnknownMx
        };
        let head = format!(
            "{} reports no failure on {mx} on {} ({} successful session{} in all, {} policy for {})",
            k.organization,
            day(&k.start, &k.end),
            e.successful,
            if e.successful == 1 { "" } else { "s" },
            k.policy_type,
            k.policy_domain
        );
        let host = log_host.unwrap_or(&mx);
        let tail = match status {
            Status::NoLogs => "no inbound log was read".to_owned(),
            Status::UnknownMx => format!(
                "{mx} is none of our log hosts ({})",
                log.hosts().collect::<Vec<_>>().join(", ")
            ),
            Status::NoCoverage => format!("{host}'s log does not reach into that window"),
            _ => {
                let shown: Vec<String> = log_ips.iter().map(ToString::to_string).collect();
                let mut t = format!(
                    "{host}'s log shows {} from the reporter's senders{} in that window",
                    counts_text(&counts),
                    if shown.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", shown.join(", "))
                    }
                );
                if status == Status::NotReported {
                    if let Some(ex) = &counts.error_example {
                        t.push_str(&format!(" (e.g. \"{ex}\")"));
                    }
                    t.push_str(": MISMATCH");
                }
                t
            }
        };
        rows.push(JoinRow {
            organization: k.organization.clone(),
            policy_type: k.policy_type,
            policy_domain: k.policy_domain.clone(),
            start: k.start,
            end: k.end,
            mx,
            log_host: log_host.map(str::to_owned),
            result_type: None,
            reported_failures: e.failed,
            reported_successes: Some(e.successful),
            sending_ips: Vec::new(),
            log: counts,
            log_ips: log_ips.into_iter().collect(),
            status,
            text: format!("{head}; {tail}"),
        });
    }
}
