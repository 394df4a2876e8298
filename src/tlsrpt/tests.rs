//! Reports written for these tests from the RFC 8460 §4.4 schema: one row = one report
//! and everything it must yield (or the error it must give).

use std::net::IpAddr;

use serde_json::{Value, json};

use super::read::{inflate, looks_like_report, reports_in_message};
use super::*;
use crate::stores::messages::is_report_header;

fn base() -> Value {
    json!({
        "organization-name": "Mailhost Example Ltd",
        "date-range": {
            "start-datetime": "2026-11-20T00:00:00Z",
            "end-datetime": "2026-11-20T23:59:59Z"
        },
        "contact-info": "mailto:tlsrpt@mailhost.example",
        "report-id": "mh-20261120-1",
        "policies": [{
            "policy": {
                "policy-type": "sts",
                "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.example.net", "max_age: 86400"],
                "policy-domain": "Example.NET",
                "mx-host": ["MX1.example.net."]
            },
            "summary": {"total-successful-session-count": 40, "total-failure-session-count": 3},
            "failure-details": [{
                "result-type": "certificate-expired",
                "sending-mta-ip": "198.51.100.20",
                "receiving-mx-hostname": "mx1.example.net.",
                "receiving-mx-helo": "mx1.example.net",
                "receiving-ip": "192.0.2.25",
                "failed-session-count": 3,
                "additional-information": "notAfter 2026-11-19T23:59:59Z",
                "failure-reason-code": "X509_V_ERR_CERT_HAS_EXPIRED"
            }]
        }]
    })
}

/// Sets the member at `path` (dotted, `[i]` for array items); `None` removes it.
fn with(mut v: Value, path: &str, to: Option<Value>) -> Value {
    let mut cur = &mut v;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let (name, idx) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (*part, None),
        };
        let last = i + 1 == parts.len();
        if last && idx.is_none() {
            let obj = cur.as_object_mut().unwrap();
            match &to {
                Some(t) => {
                    obj.insert(name.to_owned(), t.clone());
                }
                None => {
                    obj.remove(name);
                }
            }
            return v;
        }
        cur = &mut cur[name];
        if let Some(j) = idx {
            cur = &mut cur[j];
        }
    }
    v
}

fn parse(v: &Value) -> Result<TlsReport, ReportError> {
    parse_report(v.to_string().as_bytes())
}

#[test]
fn a_full_sts_report_yields_every_field() {
    let r = parse(&base()).unwrap();
    assert_eq!(r.organization, "Mailhost Example Ltd");
    assert_eq!(r.contact, "mailto:tlsrpt@mailhost.example");
    assert_eq!(r.report_id, "mh-20261120-1");
    assert_eq!(r.start.to_rfc3339(), "2026-11-20T00:00:00+00:00");
    assert_eq!(r.end.to_rfc3339(), "2026-11-20T23:59:59+00:00");
    let p = &r.policies[0];
    assert_eq!(p.policy.kind, PolicyType::Sts);
    assert_eq!(p.policy.domain, "example.net");
    assert_eq!(p.policy.mx_hosts, vec!["mx1.example.net"]);
    assert_eq!(p.policy.strings.len(), 4);
    assert_eq!((p.successful, p.failed), (40, 3));
    let f = &p.failures[0];
    assert_eq!(f.result_type, ResultType::CertificateExpired);
    assert_eq!(f.sending_mta_ip, "198.51.100.20".parse::<IpAddr>().unwrap());
    assert_eq!(f.receiving_mx_hostname, "mx1.example.net");
    assert_eq!(f.receiving_mx_helo.as_deref(), Some("mx1.example.net"));
    assert_eq!(f.receiving_ip, "192.0.2.25".parse::<IpAddr>().unwrap());
    assert_eq!(f.failed_session_count, 3);
    assert_eq!(
        f.additional_information.as_deref(),
        Some("notAfter 2026-11-19T23:59:59Z")
    );
    assert_eq!(
        f.failure_reason_code.as_deref(),
        Some("X509_V_ERR_CERT_HAS_EXPIRED")
    );
}

/// (what is changed, the change, policy type, result type, failures, ipv6 sender)
#[test]
fn variants_parse() {
    let cases: Vec<(&str, Value, PolicyType, Option<&str>, usize)> = vec![
        (
            "tlsa policy, MX as policy domain, no mx-host",
            with(
                with(
                    base(),
                    "policies[0].policy",
                    Some(
                        json!({"policy-type": "tlsa", "policy-string": ["3 1 1 0A1B"], "policy-domain": "mx1.example.net"}),
                    ),
                ),
                "policies[0].failure-details[0].result-type",
                Some(json!("tlsa-invalid")),
            ),
            PolicyType::Tlsa,
            Some("tlsa-invalid"),
            1,
        ),
        (
            "no-policy-found, failure-details absent",
            with(
                with(
                    base(),
                    "policies[0].policy",
                    Some(json!({"policy-type": "no-policy-found", "policy-domain": "example.net"})),
                ),
                "policies[0].failure-details",
                None,
            ),
            PolicyType::NoPolicyFound,
            None,
            0,
        ),
        (
            "mx-host as a single string, IPv6 sender, starttls-not-supported",
            with(
                with(
                    with(
                        base(),
                        "policies[0].policy.mx-host",
                        Some(json!("*.example.net")),
                    ),
                    "policies[0].failure-details[0].sending-mta-ip",
                    Some(json!("2001:db8:5e1a::9")),
                ),
                "policies[0].failure-details[0].result-type",
                Some(json!("starttls-not-supported")),
            ),
            PolicyType::Sts,
            Some("starttls-not-supported"),
            1,
        ),
        (
            "unregistered result type kept as written, optional fields null",
            with(
                with(
                    base(),
                    "policies[0].failure-details[0].result-type",
                    Some(json!("quantum-decoherence")),
                ),
                "policies[0].failure-details[0].receiving-mx-helo",
                Some(Value::Null),
            ),
            PolicyType::Sts,
            Some("quantum-decoherence"),
            1,
        ),
        (
            "sts-policy-fetch-error",
            with(
                base(),
                "policies[0].failure-details[0].result-type",
                Some(json!("sts-policy-fetch-error")),
            ),
            PolicyType::Sts,
            Some("sts-policy-fetch-error"),
            1,
        ),
        (
            "control characters in text become spaces",
            with(
                base(),
                "policies[0].failure-details[0].additional-information",
                Some(json!("bad\u{1b}[31mred\nline")),
            ),
            PolicyType::Sts,
            Some("certificate-expired"),
            1,
        ),
        (
            "date-times with an offset",
            with(
                base(),
                "date-range",
                Some(
                    json!({"start-datetime": "2026-11-20T01:00:00+01:00", "end-datetime": "2026-11-21T00:59:59+01:00"}),
                ),
            ),
            PolicyType::Sts,
            Some("certificate-expired"),
            1,
        ),
    ];
    for (what, v, kind, rt, n) in cases {
        let r = parse(&v).unwrap_or_else(|e| panic!("{what}: {e}"));
        let p = &r.policies[0];
        for f in &p.failures {
            let info = f.additional_information.as_deref().unwrap_or_default();
            assert!(!info.chars().any(char::is_control), "{what}: {info:?}");
        }
        assert_eq!(p.policy.kind, kind, "{what}");
        assert_eq!(p.failures.len(), n, "{what}");
        assert_eq!(
            p.failures
                .first()
                .map(|f| f.result_type.as_str().to_owned()),
            rt.map(str::to_owned),
            "{what}"
        );
    }
}

#[test]
fn the_registered_result_types_round_trip_and_say_whether_an_mx_log_can_show_them() {
    let mx: Vec<&str> = ResultType::REGISTERED
        .iter()
        .filter(|r| r.touches_mx())
        .map(|r| r.as_str())
        .collect();
    assert_eq!(
        mx,
        [
            "starttls-not-supported",
            "certificate-host-mismatch",
            "certificate-expired",
            "certificate-not-trusted",
            "validation-failure"
        ]
    );
    for r in ResultType::REGISTERED {
        assert_eq!(ResultType::parse(r.as_str()), r);
    }
}

#[test]
fn invalid_reports_name_the_field() {
    let cases: Vec<(Value, &str)> = vec![
        (
            with(base(), "organization-name", None),
            "organization-name: required field missing",
        ),
        (
            with(base(), "date-range", None),
            "date-range: required field missing",
        ),
        (
            with(base(), "date-range.end-datetime", None),
            "date-range.end-datetime: required field missing",
        ),
        (
            with(
                base(),
                "date-range.start-datetime",
                Some(json!("20 Nov 2026")),
            ),
            "date-range.start-datetime: '20 Nov 2026' is not an RFC 3339 date-time",
        ),
        (
            with(
                base(),
                "date-range.start-datetime",
                Some(json!("2026-11-22T00:00:00Z")),
            ),
            "date-range: end-datetime is before start-datetime",
        ),
        (
            with(base(), "contact-info", None),
            "contact-info: required field missing",
        ),
        (
            with(base(), "report-id", Some(json!(""))),
            "report-id: empty",
        ),
        (
            with(base(), "policies", Some(json!({}))),
            "policies: not an array",
        ),
        (
            with(
                base(),
                "policies[0].policy.policy-type",
                Some(json!("dane")),
            ),
            "policies[0].policy.policy-type: 'dane' is not sts, tlsa or no-policy-found",
        ),
        (
            with(base(), "policies[0].policy.policy-domain", None),
            "policies[0].policy.policy-domain: required field missing",
        ),
        (
            with(base(), "policies[0].summary", None),
            "policies[0].summary: required field missing",
        ),
        (
            with(
                base(),
                "policies[0].summary.total-failure-session-count",
                Some(json!(-1)),
            ),
            "policies[0].summary.total-failure-session-count: -1 is not a non-negative integer",
        ),
        (
            with(
                base(),
                "policies[0].summary.total-successful-session-count",
                Some(json!("40")),
            ),
            "policies[0].summary.total-successful-session-count: not a number",
        ),
        (
            with(
                base(),
                "policies[0].failure-details[0].sending-mta-ip",
                Some(json!("mail.example")),
            ),
            "policies[0].failure-details[0].sending-mta-ip: 'mail.example' is not an IP address",
        ),
        (
            with(base(), "policies[0].failure-details[0].receiving-ip", None),
            "policies[0].failure-details[0].receiving-ip: required field missing",
        ),
        (
            with(
                base(),
                "policies[0].failure-details[0].receiving-mx-hostname",
                None,
            ),
            "policies[0].failure-details[0].receiving-mx-hostname: required field missing",
        ),
        (
            with(base(), "policies[0].failure-details[0].result-type", None),
            "policies[0].failure-details[0].result-type: required field missing",
        ),
        (
            with(
                base(),
                "policies[0].failure-details[0].failed-session-count",
                None,
            ),
            "policies[0].failure-details[0].failed-session-count: required field missing",
        ),
        (
            with(base(), "policies[0].policy.mx-host", Some(json!([1]))),
            "policies[0].policy.mx-host[0]: not a string",
        ),
    ];
    for (v, want) in cases {
        let e = parse(&v).unwrap_err().to_string();
        assert!(e.starts_with(want), "got {e:?}, want {want:?}");
    }
    assert!(matches!(
        parse_report(b"{\"organization-name\": \"x\","),
        Err(ReportError::Json(_))
    ));
    assert!(matches!(parse_report(b"[1, 2]"), Err(ReportError::Json(_))));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_is_inflated_and_plain_json_passed_through() {
    let json = base().to_string();
    let gz = gzip(json.as_bytes());
    assert_eq!(inflate(&gz).unwrap(), json.as_bytes());
    assert_eq!(inflate(json.as_bytes()).unwrap(), json.as_bytes());
    assert!(inflate(&gz[..gz.len() / 2]).is_err());
    assert!(looks_like_report(json.as_bytes()));
    assert!(!looks_like_report(
        b"{\"__CURSOR\": \"s=1\", \"MESSAGE\": \"report-id\", \"organization-name\": 1}"
    ));
    assert!(!looks_like_report(
        b"Nov 20 08:00:00 mx1 sm-mta[1]: \"report-id\""
    ));
}

fn b64_lines(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let s = base64::engine::general_purpose::STANDARD.encode(bytes);
    s.as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// A MIME part: content type, attachment file name, base64 body.
type Part<'a> = (&'a str, Option<&'a str>, String);

fn mime(parts: &[Part]) -> String {
    let mut m = String::from(
        "From: reports@mailhost.example\r\nTo: tlsrpt@example.net\r\nMessage-ID: <r1@mailhost.example>\r\nTLS-Report-Domain: example.net\r\nTLS-Report-Submitter: mailhost.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"=_b1\"\r\n\r\n--=_b1\r\nContent-Type: text/plain\r\n\r\nThis is an aggregate TLS report.\r\n",
    );
    for (ctype, name, body) in parts {
        m.push_str(&format!("--=_b1\r\nContent-Type: {ctype}\r\n"));
        if let Some(n) = name {
            m.push_str(&format!(
                "Content-Disposition: attachment; filename=\"{n}\"\r\n"
            ));
        }
        m.push_str(&format!(
            "Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
        ));
    }
    m.push_str("--=_b1--\r\n");
    m
}

#[test]
fn reports_are_taken_from_mime_parts() {
    let json = base().to_string();
    let gz = b64_lines(&gzip(json.as_bytes()));
    let plain = b64_lines(json.as_bytes());
    let broken = b64_lines(with(base(), "report-id", None).to_string().as_bytes());
    // (parts, reports found, errors)
    let cases: Vec<(Vec<Part>, usize, usize)> = vec![
        (
            vec![("application/tlsrpt+gzip", Some("a.json.gz"), gz.clone())],
            1,
            0,
        ),
        (vec![("application/tlsrpt+json", None, plain.clone())], 1, 0),
        (
            vec![(
                "application/octet-stream",
                Some("mailhost.example!example.net!1!2.json.gz"),
                gz.clone(),
            )],
            1,
            0,
        ),
        (
            vec![
                ("application/tlsrpt+gzip", Some("a.json.gz"), gz.clone()),
                ("application/tlsrpt+json", Some("b.json"), broken),
            ],
            1,
            1,
        ),
        (
            vec![("application/pdf", Some("x.pdf"), plain.clone())],
            0,
            0,
        ),
        (
            vec![(
                "application/tlsrpt+gzip",
                None,
                b64_lines(b"\x1f\x8bnot gzip"),
            )],
            0,
            1,
        ),
    ];
    for (parts, ok, bad) in cases {
        let m = mime(&parts);
        assert!(is_report_header(
            m.split("\r\n\r\n").next().unwrap().as_bytes()
        ));
        let got = reports_in_message(m.as_bytes());
        assert_eq!(got.iter().filter(|r| r.is_ok()).count(), ok, "{m}");
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), bad, "{m}");
        if let Some(Ok(r)) = got.first() {
            assert_eq!(r.report_id, "mh-20261120-1");
        }
    }
}

#[test]
fn report_headers_are_recognised() {
    for (h, yes) in [
        (
            "Content-Type: multipart/report; report-type=tlsrpt; boundary=x\n",
            true,
        ),
        (
            "Content-Type: multipart/report;\n\treport-type=\"tlsrpt\"; boundary=x\n",
            true,
        ),
        ("Subject: hi\nTLS-Report-Domain: example.net\n", true),
        ("Content-Type: application/tlsrpt+gzip\n", true),
        (
            "Content-Type: multipart/report; report-type=delivery-status\n",
            false,
        ),
        ("Subject: about tlsrpt\n", false),
        // Case is ignored; the domain field counts only as a field; bytes that are not
        // UTF-8 change nothing; a quoted type needs its closing quote.
        ("CONTENT-TYPE: Multipart/Report; REPORT-TYPE=TLSRPT\n", true),
        ("tls-report-domain: example.net\n", true),
        ("Subject: X-TLS-Report-Domain: no\n", false),
        (
            "Subject: \u{fffd}\nContent-Type: application/TLSRPT+json\n",
            true,
        ),
        (
            "Content-Type: multipart/report; report-type=\"tlsrpt\n",
            false,
        ),
        (
            "Content-Type: text/plain; name=\"application/tlsrpt\"\n",
            false,
        ),
    ] {
        assert_eq!(is_report_header(h.as_bytes()), yes, "{h}");
    }
}

#[test]
fn the_model_adds_per_key_and_counts_a_report_once() {
    let a = parse(&base()).unwrap();
    let b = parse(&with(base(), "report-id", Some(json!("mh-20261120-2")))).unwrap();
    let mut m = TlsRpt::default();
    assert!(m.add(&a));
    assert!(!m.add(&a), "same organisation and report-id");
    assert!(m.add(&b));
    assert_eq!((m.reports(), m.duplicates), (2, 1));
    let entries = m.entries();
    assert_eq!(entries.len(), 1, "same organisation, policy and window");
    let e = entries.values().next().unwrap();
    assert_eq!((e.successful, e.failed), (80, 6));
    assert_eq!(e.report_ids.len(), 2);
    let f = e.failures.values().next().unwrap();
    assert_eq!(f.failed_session_count, 6);

    // Merging is a commutative union.
    let mut x = TlsRpt::default();
    x.add(&a);
    let mut y = TlsRpt::default();
    y.add(&a);
    y.add(&b);
    let mut xy = x.clone();
    xy.merge(y.clone());
    let mut yx = y.clone();
    yx.merge(x.clone());
    assert_eq!(xy.entries(), yx.entries());
    assert_eq!(xy.entries(), y.entries());
    assert_eq!(xy.reports(), 2);
}

mod join_tests {
    use std::sync::Arc;

    use chrono::DateTime;

    use super::super::join::{InboundLog, Status, contact_domain, join, log_host_for, network};
    use super::*;
    use crate::model::{Direction, Mta, Peer, Source, TlsErrorKind};
    use crate::model::{Encryption, Meta, Record};

    fn meta(host: &str, time: &str) -> Meta {
        Meta {
            time: Some(DateTime::parse_from_rfc3339(time).unwrap()),
            host: Some(Arc::from(host)),
            mta: Mta::Sendmail,
            source: Source {
                file: Arc::from("maillog"),
                line: 1,
            },
        }
    }

    fn peer(name: &str, ip: &str) -> Peer {
        Peer::new(Some(name), Some(ip.parse().unwrap()))
    }

    fn error(host: &str, time: &str, name: &str, ip: &str) -> Record {
        Record::Error {
            meta: meta(host, time),
            direction: Some(Direction::Inbound),
            peer: Some(peer(name, ip)),
            kind: TlsErrorKind::Handshake,
            text: format!(
                "accept failed=-1, reason=sslv3 alert certificate expired, relay={name} [{ip}]"
            ),
            reason: None,
        }
    }

    fn message(host: &str, time: &str, name: &str, ip: &str, tls: bool) -> Record {
        Record::Message {
            meta: meta(host, time),
            direction: Direction::Inbound,
            peer: peer(name, ip),
            queue_id: "6AK8E2aa012345".into(),
            encryption: if tls {
                Encryption::TlsUnknown
            } else {
                Encryption::Plaintext
            },
            status: None,
        }
    }

    fn report(org: &str, contact: &str, id: &str, day: &str, failures: Value) -> TlsReport {
        let v = json!({
            "organization-name": org,
            "date-range": {"start-datetime": format!("{day}T00:00:00Z"), "end-datetime": format!("{day}T23:59:59Z")},
            "contact-info": contact,
            "report-id": id,
            "policies": [{
                "policy": {"policy-type": "sts", "policy-domain": "example.net", "mx-host": ["mx1.example.net", "mx2.example.net"]},
                "summary": {"total-successful-session-count": 100, "total-failure-session-count": failures.as_array().map_or(0, |a| a.len())},
                "failure-details": failures
            }]
        });
        parse_report(v.to_string().as_bytes()).unwrap()
    }

    fn fail(rt: &str, ip: &str, mx: &str, n: u64) -> Value {
        json!({"result-type": rt, "sending-mta-ip": ip, "receiving-mx-hostname": mx, "receiving-ip": "192.0.2.26", "failed-session-count": n})
    }

    #[test]
    fn helpers() {
        assert_eq!(
            contact_domain("smtp-tls-reporting@google.com").as_deref(),
            Some("google.com")
        );
        assert_eq!(
            contact_domain("mailto:tlsrpt@reports.mailhost.example").as_deref(),
            Some("mailhost.example")
        );
        assert_eq!(
            contact_domain("https://tlsrpt.postbox.example/contact").as_deref(),
            Some("postbox.example")
        );
        assert_eq!(contact_domain("nobody"), None);
        assert_eq!(
            network(&"209.85.128.170".parse().unwrap()),
            "209.85.128.0".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            network(&"2a00:1450:4864:20::52".parse().unwrap()),
            "2a00:1450:4864::".parse::<IpAddr>().unwrap()
        );
        let mut log = InboundLog::default();
        log.add(&message(
            "mx2",
            "2026-11-20T01:00:00Z",
            "a.example",
            "192.0.2.9",
            true,
        ));
        log.add(&message(
            "relay1.example.net",
            "2026-11-20T01:00:00Z",
            "a.example",
            "192.0.2.9",
            true,
        ));
        assert_eq!(log_host_for(&log, "mx2.example.net"), Some("mx2"));
        assert_eq!(log_host_for(&log, "MX2.example.net."), Some("mx2"));
        assert_eq!(
            log_host_for(&log, "relay1.example.net"),
            Some("relay1.example.net")
        );
        assert_eq!(
            log_host_for(&log, "relay1.other.example"),
            Some("relay1.example.net")
        );
        assert_eq!(log_host_for(&log, "mx3.example.net"), None);
    }

    #[test]
    fn every_status() {
        let mut log = InboundLog::default();
        // mx2 on the 20th: certificate errors from the reported IP; one at 00:00 the next
        // day (outside the window) must not count.
        for t in [
            "2026-11-20T00:12:14Z",
            "2026-11-20T09:58:00Z",
            "2026-11-20T23:59:30Z",
            "2026-11-21T00:00:05Z",
        ] {
            log.add(&error(
                "mx2",
                t,
                "mail-yw1-f170.google.com",
                "209.85.128.170",
            ));
        }
        // mx1 on the 20th: only good sessions from Microsoft, which reports failures there.
        log.add(&message(
            "mx1",
            "2026-11-20T06:22:00Z",
            "mail.outlook.com",
            "40.107.22.53",
            true,
        ));
        // mx1 on the 21st: errors from a Google host the report of the 21st does not mention,
        // matched by its name under the contact's domain.
        log.add(&error(
            "mx1",
            "2026-11-21T06:40:00Z",
            "mail-yw1-f171.google.com",
            "209.85.129.171",
        ));
        // plaintext from a no-STARTTLS reporter on mx2.
        log.add(&message(
            "mx2",
            "2026-11-20T14:09:02Z",
            "smtp.postbox.example",
            "203.0.113.77",
            false,
        ));
        // A log line outside every window: mx1 covers the 22nd but nothing there.
        log.add(&message(
            "mx1",
            "2026-11-23T10:00:00Z",
            "x.example",
            "192.0.2.77",
            true,
        ));

        let mut m = TlsRpt::default();
        m.add(&report(
            "Google LLC",
            "smtp-tls-reporting@google.com",
            "g20",
            "2026-11-20",
            json!([fail(
                "certificate-expired",
                "209.85.128.170",
                "mx2.example.net",
                42
            )]),
        ));
        m.add(&report(
            "Google LLC",
            "smtp-tls-reporting@google.com",
            "g21",
            "2026-11-21",
            json!([]),
        ));
        m.add(&report(
            "Microsoft Corporation",
            "tlsrpt-noreply@microsoft.com",
            "m20",
            "2026-11-20",
            json!([fail(
                "certificate-host-mismatch",
                "40.107.22.53",
                "mx1.example.net",
                4
            )]),
        ));
        m.add(&report(
            "Postbox Example GmbH",
            "https://tlsrpt.postbox.example/",
            "p20",
            "2026-11-20",
            json!([fail(
                "starttls-not-supported",
                "203.0.113.77",
                "mx2.example.net",
                3
            )]),
        ));
        m.add(&report(
            "Mailhost Example Ltd",
            "mailto:t@mailhost.example",
            "h20",
            "2026-11-20",
            json!([
                fail("validation-failure", "198.51.100.20", "mx3.example.net", 2),
                fail(
                    "sts-policy-fetch-error",
                    "198.51.100.20",
                    "mx1.example.net",
                    1
                )
            ]),
        ));
        m.add(&report(
            "Relay Example Inc",
            "mailto:t@relay.example",
            "r25",
            "2026-11-25",
            json!([fail(
                "certificate-expired",
                "2001:db8::9",
                "mx1.example.net",
                1
            )]),
        ));

        let j = join(&m, &log);
        let find = |org: &str, mx: &str, rt: Option<&str>| {
            j.rows
                .iter()
                .find(|r| {
                    r.organization == org
                        && r.mx.starts_with(mx)
                        && r.result_type.as_ref().map(|t| t.as_str()) == rt
                })
                .unwrap_or_else(|| panic!("no row {org} {mx} {rt:?}: {:#?}", j.rows))
        };
        let g = find("Google LLC", "mx2", Some("certificate-expired"));
        assert_eq!(g.status, Status::Confirmed);
        assert_eq!(g.log.errors.get("handshake"), Some(&3), "{g:?}");
        assert_eq!(g.reported_failures, 42);
        assert!(g.text.contains("Google LLC reports 42 certificate-expired failures on mx2.example.net on 2026-11-20"), "{}", g.text);
        assert!(
            g.text
                .contains("mx2's log shows TLS errors (3 handshake) from 209.85.128.170"),
            "{}",
            g.text
        );

        let clean20 = j
            .rows
            .iter()
            .find(|r| {
                r.organization == "Google LLC"
                    && r.start.to_rfc3339().starts_with("2026-11-20")
                    && r.mx.starts_with("mx1")
            })
            .unwrap();
        assert_eq!(clean20.status, Status::Consistent);
        let nr = j
            .rows
            .iter()
            .find(|r| {
                r.organization == "Google LLC"
                    && r.start.to_rfc3339().starts_with("2026-11-21")
                    && r.mx.starts_with("mx1")
            })
            .unwrap();
        assert_eq!(nr.status, Status::NotReported);
        assert_eq!(nr.log.error_count(), 1);

        let ms = find(
            "Microsoft Corporation",
            "mx1",
            Some("certificate-host-mismatch"),
        );
        assert_eq!(ms.status, Status::NotInLogs);
        assert_eq!(ms.log.tls_messages, 1);

        assert_eq!(
            find(
                "Postbox Example GmbH",
                "mx2",
                Some("starttls-not-supported")
            )
            .status,
            Status::Confirmed
        );
        assert_eq!(
            find("Mailhost Example Ltd", "mx3", Some("validation-failure")).status,
            Status::UnknownMx
        );
        assert_eq!(
            find(
                "Mailhost Example Ltd",
                "mx1",
                Some("sts-policy-fetch-error")
            )
            .status,
            Status::NotVisible
        );
        assert_eq!(
            find("Relay Example Inc", "mx1", Some("certificate-expired")).status,
            Status::NoCoverage
        );
        // The error at 00:00:05 on the 21st falls in the window of Google's clean 21st.
        let nr2 = j
            .rows
            .iter()
            .find(|r| {
                r.organization == "Google LLC"
                    && r.start.to_rfc3339().starts_with("2026-11-21")
                    && r.mx.starts_with("mx2")
            })
            .unwrap();
        assert_eq!(
            (nr2.status, nr2.log.error_count()),
            (Status::NotReported, 1)
        );
        assert_eq!(j.mismatches(), 4, "{:#?}", j.rows);
        assert!(
            j.rows.first().is_some_and(|r| r.status.is_mismatch()),
            "mismatches first"
        );

        // Without any log every row says so.
        let none = join(&m, &InboundLog::default());
        assert!(
            none.rows
                .iter()
                .all(|r| matches!(r.status, Status::NoLogs | Status::NotVisible))
        );
    }
}
