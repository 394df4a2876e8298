//! The TLS-RPT section: what other senders report about our MX hosts (RFC 8460), beside
//! what our logs show. Documented in `docs/tlsrpt.md`.
//!
//! The same [`TlsRptDoc`] (`mailtls.tlsrpt/1`) is the `tlsrpt` member of the posture
//! snapshot (`--format json`, `posture.json`), is written alone as `tlsrpt.json` into the
//! report folder, and is rendered as a terminal table ([`render_table`]) and an HTML
//! section ([`html_section`]).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset};
use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use crate::model::text::terminal;
use crate::tlsrpt::join::{JoinRow, Joined, Status};
use crate::tlsrpt::read::ReadSummary;
use crate::tlsrpt::{
    Entry, EntryKey, FailureKey, FailureStat, PolicyType, ResultType, TLSRPT_SCHEMA, TlsRpt,
};

/// One failure detail as written: the key's fields and the counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureOut {
    pub result_type: ResultType,
    pub sending_mta_ip: IpAddr,
    pub receiving_mx_hostname: String,
    pub receiving_ip: IpAddr,
    #[serde(flatten)]
    pub stat: FailureStat,
}

/// One organisation × policy × window, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryOut {
    pub organization: String,
    pub policy_type: PolicyType,
    pub policy_domain: String,
    /// The policy's MX patterns (MTA-STS), empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub mx_host: Vec<String>,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub total_successful_session_count: u64,
    pub total_failure_session_count: u64,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub policy_string: Vec<String>,
    pub contact_info: BTreeSet<String>,
    pub report_ids: BTreeSet<String>,
    pub failures: Vec<FailureOut>,
}

/// Problems kept in a merged document (as many as one read keeps).
const KEEP_PROBLEMS: usize = 20;

impl EntryOut {
    /// One line of the model as written.
    fn from_entry(k: EntryKey, e: Entry) -> EntryOut {
        EntryOut {
            organization: k.organization,
            policy_type: k.policy_type,
            policy_domain: k.policy_domain,
            mx_host: k
                .mx_host
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            start: k.start,
            end: k.end,
            total_successful_session_count: e.successful,
            total_failure_session_count: e.failed,
            policy_string: e.policy_strings,
            contact_info: e.contact,
            report_ids: e.report_ids,
            failures: e
                .failures
                .into_iter()
                .map(|(f, stat)| FailureOut {
                    result_type: f.result_type,
                    sending_mta_ip: f.sending_mta_ip,
                    receiving_mx_hostname: f.receiving_mx_hostname,
                    receiving_ip: f.receiving_ip,
                    stat,
                })
                .collect(),
        }
    }

    /// Back to the model's key and entry (the inverse of [`EntryOut::from_entry`]), for
    /// merging.
    fn into_entry(self) -> (EntryKey, Entry) {
        let key = EntryKey {
            organization: self.organization,
            policy_type: self.policy_type,
            policy_domain: self.policy_domain,
            mx_host: self.mx_host.join(","),
            start: self.start,
            end: self.end,
        };
        let mut failures: std::collections::BTreeMap<FailureKey, FailureStat> = Default::default();
        for f in self.failures {
            failures
                .entry(FailureKey {
                    result_type: f.result_type,
                    sending_mta_ip: f.sending_mta_ip,
                    receiving_mx_hostname: f.receiving_mx_hostname,
                    receiving_ip: f.receiving_ip,
                })
                .or_default()
                .merge(f.stat);
        }
        let entry = Entry {
            successful: self.total_successful_session_count,
            failed: self.total_failure_session_count,
            policy_strings: self.policy_string,
            contact: self.contact_info,
            report_ids: self.report_ids,
            failures,
        };
        (key, entry)
    }
}

/// Counts for the summary line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocSummary {
    #[serde(flatten)]
    pub read: ReadSummary,
    /// Distinct reports in the model.
    pub distinct_reports: u64,
    pub entries: u64,
    pub successful_sessions: u64,
    pub failed_sessions: u64,
    /// Rows of the joined view flagged as disagreeing with our logs.
    pub mismatches: u64,
}

/// The `mailtls.tlsrpt/1` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRptDoc {
    pub schema: String,
    pub summary: DocSummary,
    pub reports: Vec<EntryOut>,
    /// Our syslog hosts with inbound records (what the MX names were matched against).
    pub log_hosts: Vec<String>,
    /// The joined view, mismatches first.
    pub join: Vec<JoinRow>,
}

impl TlsRptDoc {
    /// Gathers the model, what reading it came to and the join into one document.
    pub fn new(model: &TlsRpt, read: ReadSummary, joined: Joined) -> TlsRptDoc {
        let reports: Vec<EntryOut> = model
            .entries()
            .into_iter()
            .map(|(k, e)| EntryOut::from_entry(k, e))
            .collect();
        let summary = DocSummary {
            distinct_reports: model.reports(),
            entries: reports.len() as u64,
            successful_sessions: reports
                .iter()
                .map(|r| r.total_successful_session_count)
                .sum(),
            failed_sessions: reports.iter().map(|r| r.total_failure_session_count).sum(),
            mismatches: joined.mismatches() as u64,
            read,
        };
        TlsRptDoc {
            schema: TLSRPT_SCHEMA.to_owned(),
            summary,
            reports,
            log_hosts: joined.log_hosts,
            join: joined.rows,
        }
    }

    /// The document of two runs' TLS-RPT reports (the `tlsrpt` section of merged
    /// snapshots). What each run read adds up; report lines of the same organisation,
    /// policy and window add as [`crate::tlsrpt::Entry::merge`] adds them; the joined
    /// views are put side by side (each run joined its reports with its own logs), in the
    /// order [`crate::tlsrpt::join::join`] gives, ties broken by the whole row, so that
    /// merging is associative and commutative. A report read by two runs counts twice:
    /// give each host's reports to one scan (docs/fleet.md).
    pub fn merge(&mut self, o: TlsRptDoc) {
        let r = &mut self.summary.read;
        r.files += o.summary.read.files;
        r.messages += o.summary.read.messages;
        r.reports += o.summary.read.reports;
        r.duplicates += o.summary.read.duplicates;
        r.invalid += o.summary.read.invalid;
        r.problems.extend(o.summary.read.problems);
        r.problems.sort();
        r.problems.truncate(KEEP_PROBLEMS);
        self.summary.distinct_reports += o.summary.distinct_reports;

        let mut entries: std::collections::BTreeMap<EntryKey, Entry> = Default::default();
        for e in self.reports.drain(..).chain(o.reports) {
            let (k, v) = e.into_entry();
            entries.entry(k).or_default().merge(v);
        }
        self.reports = entries
            .into_iter()
            .map(|(k, e)| EntryOut::from_entry(k, e))
            .collect();
        self.summary.entries = self.reports.len() as u64;
        self.summary.successful_sessions = self
            .reports
            .iter()
            .map(|r| r.total_successful_session_count)
            .sum();
        self.summary.failed_sessions = self
            .reports
            .iter()
            .map(|r| r.total_failure_session_count)
            .sum();

        self.join.extend(o.join);
        self.add_log_hosts(o.log_hosts);
        let whole = |r: &JoinRow| serde_json::to_string(r).unwrap_or_default();
        self.join.sort_by(|a, b| {
            (b.status.is_mismatch(), &a.start, &a.organization, &a.mx)
                .cmp(&(a.status.is_mismatch(), &b.start, &b.organization, &b.mx))
                .then_with(|| whole(a).cmp(&whole(b)))
        });
        self.summary.mismatches =
            self.join.iter().filter(|r| r.status.is_mismatch()).count() as u64;
    }

    /// Adds log hosts read beside the reports (another host's snapshot, merged): the
    /// list, and the rows that name it (`… is none of our log hosts (…)`), say every host
    /// whose logs the merged report holds. A row keeps the status its own run gave it.
    pub fn add_log_hosts(&mut self, hosts: impl IntoIterator<Item = String>) {
        let all: BTreeSet<String> = self.log_hosts.drain(..).chain(hosts).collect();
        self.log_hosts = all.into_iter().collect();
        let list = self.log_hosts.join(", ");
        const NONE_OF: &str = " is none of our log hosts (";
        for row in &mut self.join {
            if row.status == Status::UnknownMx
                && let Some(i) = row.text.rfind(NONE_OF)
            {
                row.text.truncate(i + NONE_OF.len());
                row.text.push_str(&list);
                row.text.push(')');
            }
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"serialisation failed: {e}\"}}"));
        s.push('\n');
        s
    }
}

/// A window as a day when it is one whole UTC day (ending at 23:59:59 or at the next
/// midnight, both usual), else as its two ends.
fn window(start: &DateTime<FixedOffset>, end: &DateTime<FixedOffset>) -> String {
    let (s, e) = (
        start.with_timezone(&chrono::Utc),
        end.with_timezone(&chrono::Utc),
    );
    let midnight = s.time() == chrono::NaiveTime::MIN;
    let span = (e - s).num_seconds();
    if midnight && (span == 86_399 || span == 86_400) {
        s.format("%Y-%m-%d").to_string()
    } else {
        format!(
            "{} → {}",
            s.format("%Y-%m-%d %H:%M"),
            e.format("%Y-%m-%d %H:%M")
        )
    }
}

fn log_cell(r: &JoinRow) -> String {
    let mut parts = Vec::new();
    if r.log.error_count() > 0 {
        let kinds: Vec<String> = r
            .log
            .errors
            .iter()
            .map(|(k, n)| format!("{k}:{n}"))
            .collect();
        parts.push(format!("errors {}", kinds.join(" ")));
    }
    if r.log.tls_sessions > 0 {
        parts.push(format!("tls {}", r.log.tls_sessions));
    }
    if r.log.plaintext_messages > 0 {
        parts.push(format!("plain {}", r.log.plaintext_messages));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The terminal section: the summary line, problems, one row per joined line, then the
/// sentences of the mismatches.
/// `width`: the terminal's columns to fit the table in (`None`: unlimited).
pub fn render_table(doc: &TlsRptDoc, colour: bool, width: Option<usize>) -> String {
    let s = &doc.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nTLS-RPT: {} report{} ({} from {} file{}, {} message{}; {} duplicate, {} invalid): {} successful and {} failed sessions reported; {} mismatch{} with our logs",
        s.distinct_reports,
        if s.distinct_reports == 1 { "" } else { "s" },
        s.read.reports,
        s.read.files,
        if s.read.files == 1 { "" } else { "s" },
        s.read.messages,
        if s.read.messages == 1 { "" } else { "s" },
        s.read.duplicates,
        s.read.invalid,
        s.successful_sessions,
        s.failed_sessions,
        s.mismatches,
        if s.mismatches == 1 { "" } else { "es" },
    );
    for p in &s.read.problems {
        // File names and parse errors come from whoever sent the report.
        let _ = writeln!(out, "  skipped: {}", terminal(p));
    }
    if doc.join.is_empty() {
        return out;
    }
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "REPORTER",
            "POLICY",
            "WINDOW (UTC)",
            "MX",
            "LOG HOST",
            "RESULT",
            "REPORTED",
            "SENDING IPS",
            "OUR LOG",
            "STATUS",
        ]);
    if colour {
        // --color always: styled even when stdout is a pipe.
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if let Some(w) = width {
        table.set_width(u16::try_from(w).unwrap_or(u16::MAX));
    }
    for r in &doc.join {
        let status = Cell::new(r.status.as_str());
        let status = match (colour, r.status) {
            (true, st) if st.is_mismatch() => status.fg(Color::Red),
            (true, Status::Confirmed) => status.fg(Color::Yellow),
            (true, Status::Consistent) => status.fg(Color::Green),
            _ => status,
        };
        let ips: Vec<String> = r.sending_ips.iter().map(ToString::to_string).collect();
        table.add_row(vec![
            Cell::new(terminal(&r.organization)),
            Cell::new(terminal(&format!("{} {}", r.policy_type, r.policy_domain))),
            Cell::new(window(&r.start, &r.end)),
            Cell::new(terminal(&r.mx)),
            Cell::new(terminal(r.log_host.as_deref().unwrap_or("-"))),
            Cell::new(
                r.result_type
                    .as_ref()
                    .map_or("(no failure)", |t| t.as_str()),
            ),
            Cell::new(match r.reported_successes {
                Some(ok) => format!("ok {ok}"),
                None => format!("fail {}", r.reported_failures),
            }),
            Cell::new(if ips.is_empty() {
                "-".to_owned()
            } else {
                ips.join(" ")
            }),
            Cell::new(log_cell(r)),
            status,
        ]);
    }
    let _ = writeln!(out, "{table}");
    let notable: Vec<&JoinRow> = doc
        .join
        .iter()
        .filter(|r| r.status.is_mismatch() || r.status == Status::Confirmed)
        .collect();
    for r in notable {
        let _ = writeln!(out, "  {}: {}", r.status.as_str(), terminal(&r.text));
    }
    out
}

/// The HTML section (`<section id="tlsrpt">`), present when reports were read.
pub fn html_section(doc: &TlsRptDoc) -> Markup {
    let s = &doc.summary;
    html! {
        section #tlsrpt {
            h2 { "TLS reports from other senders (TLS-RPT)" }
            p.meta {
                (crate::model::text::count(s.distinct_reports, "report", "reports")) " (" (crate::model::text::count(s.read.files, "file", "files")) ", "
                (crate::model::text::count(s.read.messages, "message", "messages")) "; "
                (crate::model::text::count(s.read.duplicates, "duplicate", "duplicates")) ", " (s.read.invalid) " invalid) · "
                (s.successful_sessions) " successful and " (s.failed_sessions) " failed "
                (if s.failed_sessions == 1 { "session" } else { "sessions" }) " reported · "
                "our log hosts: " (if doc.log_hosts.is_empty() { "none".to_owned() } else { doc.log_hosts.join(", ") })
            }
            div.cards {
                div.card.bad[s.mismatches > 0] { span.n #tlsrpt-mismatches { (s.mismatches) } span.l { "mismatches with our logs" } }
                div.card.bad[s.failed_sessions > 0] { span.n { (s.failed_sessions) } span.l { "failed sessions reported" } }
                div.card.bad[s.read.invalid > 0] { span.n { (s.read.invalid) } span.l { "reports skipped as invalid" } }
            }
            @if !s.read.problems.is_empty() {
                h3 { "Skipped reports" }
                ul.problems { @for p in &s.read.problems { li { code { (p) } } } }
            }
            h3 { "Reported beside our logs" }
            table #tlsrpt-join {
                thead { tr {
                    th { "status" } th { "reporter" } th { "policy" } th { "window (UTC)" } th { "MX" } th { "result" }
                    th.num { "reported" } th { "our log" } th { "what it means" }
                } }
                tbody {
                    @for r in &doc.join {
                        tr class={ "st-" (r.status.as_str()) } {
                            td { @if r.status.is_mismatch() { span.warn { (r.status.as_str()) } } @else if r.status == Status::Consistent || r.status == Status::Confirmed { span.ok { (r.status.as_str()) } } @else { (r.status.as_str()) } }
                            td { (r.organization) }
                            td { (r.policy_type.as_str()) " " (r.policy_domain) }
                            td { (window(&r.start, &r.end)) }
                            td { (r.mx) @if let Some(h) = &r.log_host { br; small { "log host " (h) } } }
                            td { @match &r.result_type { Some(t) => code { (t.as_str()) }, None => "no failure" } }
                            td.num { @match r.reported_successes { Some(ok) => { (ok) " ok" }, None => { (r.reported_failures) " failed" } } }
                            td { (log_cell(r)) }
                            td { (r.text) }
                        }
                    }
                }
            }
            h3 { "Reports" }
            table #tlsrpt-reports {
                thead { tr {
                    th { "reporter" } th { "policy" } th { "window (UTC)" } th.num { "successful" } th.num { "failed" } th { "failures" }
                } }
                tbody {
                    @for e in &doc.reports {
                        tr {
                            td { (e.organization) br; small { (e.contact_info.iter().cloned().collect::<Vec<_>>().join(", ")) } }
                            td { (e.policy_type.as_str()) " " (e.policy_domain) @if !e.mx_host.is_empty() { br; small { "mx " (e.mx_host.join(", ")) } } }
                            td { (window(&e.start, &e.end)) }
                            td.num { (e.total_successful_session_count) }
                            td.num { (e.total_failure_session_count) }
                            td {
                                @for f in &e.failures {
                                    code { (f.result_type.as_str()) } " ×" (f.stat.failed_session_count) " "
                                    (f.sending_mta_ip) " → " (f.receiving_mx_hostname) " [" (f.receiving_ip) "]"
                                    @for a in &f.stat.additional_information { " · " small { (a) } }
                                    @for c in &f.stat.failure_reason_code { " · " small { (c) } }
                                    br;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlsrpt::join::{InboundLog, join};
    use crate::tlsrpt::parse_report;

    /// Report text is attacker-controlled: it is escaped in HTML and stripped of control
    /// characters before it reaches a terminal.
    #[test]
    fn hostile_report_text_stays_text() {
        let json = r#"{"organization-name": "<script>alert(1)</script>\u001b[2J",
            "date-range": {"start-datetime": "2026-11-20T00:00:00Z", "end-datetime": "2026-11-20T23:59:59Z"},
            "contact-info": "mailto:x@evil.example", "report-id": "<b>1</b>",
            "policies": [{"policy": {"policy-type": "sts", "policy-domain": "example.net"},
              "summary": {"total-successful-session-count": 1, "total-failure-session-count": 1},
              "failure-details": [{"result-type": "<img src=x onerror=alert(2)>",
                "sending-mta-ip": "192.0.2.1", "receiving-mx-hostname": "mx1.example.net",
                "receiving-ip": "192.0.2.25", "failed-session-count": 1,
                "additional-information": "\u001b]0;owned\u0007"}]}]}"#;
        let r = parse_report(json.as_bytes()).unwrap();
        let mut m = TlsRpt::default();
        m.add(&r);
        let doc = TlsRptDoc::new(&m, ReadSummary::default(), join(&m, &InboundLog::default()));
        let html = html_section(&doc).into_string();
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let table = render_table(&doc, false, None);
        assert!(
            !table.contains('\u{1b}') && !table.contains('\u{7}'),
            "{table:?}"
        );
        assert!(table.contains("<script>alert(1)</script>"));
        let back: TlsRptDoc = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(back, doc);
    }

    fn inbound(host: &str) -> InboundLog {
        use crate::model::{
            Bits, Direction, Meta, Mta, Peer, Record, Source, TlsParams, TlsVersion, Verify,
        };
        let mut log = InboundLog::default();
        let time = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").ok();
        log.add(&Record::Session {
            meta: Meta {
                time,
                host: Some(host.into()),
                mta: Mta::Sendmail,
                source: Source {
                    file: "maillog".into(),
                    line: 1,
                },
            },
            direction: Direction::Inbound,
            peer: Peer::new(Some("mx.sender.example"), "192.0.2.1".parse().ok()),
            params: TlsParams::new(TlsVersion::Tls1_3, None, Bits::default(), Verify::Ok).into(),
        });
        log
    }

    fn doc(org: &str, id: &str, mx: &str, failed: u64, host: &str) -> TlsRptDoc {
        let json = format!(
            r#"{{"organization-name": "{org}",
            "date-range": {{"start-datetime": "2026-11-20T00:00:00Z", "end-datetime": "2026-11-20T23:59:59Z"}},
            "contact-info": "mailto:r@sender.example", "report-id": "{id}",
            "policies": [{{"policy": {{"policy-type": "tlsa", "policy-domain": "example.net"}},
              "summary": {{"total-successful-session-count": 5, "total-failure-session-count": {failed}}},
              "failure-details": [{{"result-type": "certificate-expired",
                "sending-mta-ip": "192.0.2.1", "receiving-mx-hostname": "{mx}",
                "receiving-ip": "192.0.2.25", "failed-session-count": {failed}}}]}}]}}"#
        );
        let mut m = TlsRpt::default();
        m.add(&parse_report(json.as_bytes()).unwrap());
        let read = ReadSummary {
            files: 1,
            reports: 1,
            ..ReadSummary::default()
        };
        TlsRptDoc::new(&m, read, join(&m, &inbound(host)))
    }

    /// Two hosts' documents merge in either order to one: what was read adds, report lines
    /// of one key add, the joined rows sit side by side, and a row that names our log hosts
    /// names both hosts' afterwards.
    #[test]
    fn documents_of_two_hosts_merge_in_either_order() {
        let a = doc("Sender", "r1", "mx3.example.net", 2, "mail");
        let b = doc("Sender", "r2", "mx3.example.net", 3, "relay2");
        assert!(
            a.join
                .iter()
                .any(|r| r.text.ends_with("none of our log hosts (mail)"))
        );
        let mut ab = a.clone();
        ab.merge(b.clone());
        let mut ba = b.clone();
        ba.merge(a.clone());
        assert_eq!(ab, ba);
        assert_eq!(ab.summary.read.files, 2);
        assert_eq!(ab.summary.distinct_reports, 2);
        assert_eq!(ab.reports.len(), 1, "one organisation, policy and window");
        assert_eq!(ab.reports[0].total_failure_session_count, 5);
        assert_eq!(ab.reports[0].failures[0].stat.failed_session_count, 5);
        assert_eq!(ab.summary.failed_sessions, 5);
        assert_eq!(ab.join.len(), a.join.len() + b.join.len());
        assert_eq!(ab.log_hosts, ["mail", "relay2"]);
        let unknown: Vec<&JoinRow> = ab
            .join
            .iter()
            .filter(|r| r.status == Status::UnknownMx)
            .collect();
        // Per host: the failure row and the clean row (the policy names no MX host).
        assert_eq!(unknown.len(), 4);
        assert_eq!(ab.summary.mismatches, 4);
        for r in unknown {
            assert!(
                r.text.ends_with("none of our log hosts (mail, relay2)"),
                "{}",
                r.text
            );
        }
    }
}
