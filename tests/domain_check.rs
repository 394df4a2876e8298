//! `mailtls check --domain` against a lab on 127.0.0.1: an in-process authoritative DNS
//! server with a DNSSEC-signed zone, an unsigned delegated child and corrupted
//! signatures (tests/dns_server), the in-process SMTP server of the check tests, and a
//! small rustls HTTPS server for MTA-STS policies. One scenario per test.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod dns_server;
mod smtp_server;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::Command;
use dns_server::{Lab, Zone};
use hickory_server::proto::rr::RecordType;
use mailtls::domain::dns::{Dns, DnsOptions, Dnssec};
use mailtls::domain::{self, DomainOptions, DomainReport};
use mailtls::model::Verify;
use mailtls::probe::tls;
use mailtls::probe::{CheckResult, Mode, Options, Status};
use ring::digest;
use rustls::pki_types::CertificateDer;
use rustls::{ServerConnection, StreamOwned};
use smtp_server::{Identity, Pki, Spec, Validity};
use x509_parser::prelude::*;

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

fn sha256(b: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, b).as_ref().to_vec()
}

fn spki(der: &[u8]) -> Vec<u8> {
    let (_, c) = X509Certificate::from_der(der).expect("cert");
    c.tbs_certificate.subject_pki.raw.to_vec()
}

/// An SMTP server for `mx` with a certificate from `pki`; with `with_ca` the chain
/// sent includes the CA (as DANE-TA needs).
fn smtp(pki: &Pki, mx: &str, with_ca: bool) -> (SocketAddr, Identity) {
    let mut id = pki.server(&[mx], Validity::Current);
    if with_ca {
        id.chain.push(pki.ca_der.clone());
    }
    let config = smtp_server::tls_config(
        &id,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        None,
    );
    (smtp_server::spawn(Spec::new(Some(config))), id)
}

/// An HTTPS server answering every request with `status`, `content_type` and `body`,
/// with a certificate for `name` from `pki`.
fn policy_server(pki: &Pki, name: &str, status: &str, content_type: &str, body: &str) -> u16 {
    let id = pki.server(&[name], Validity::Current);
    let config = smtp_server::tls_config(
        &id,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        None,
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(tcp) = conn else { continue };
            let config = Arc::clone(&config);
            let response = response.clone();
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let Ok(conn) = ServerConnection::new(config) else {
                    return;
                };
                let mut tls = StreamOwned::new(conn, tcp);
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls.write_all(response.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

fn options(pki: &Pki) -> Options {
    Options {
        mode: Mode::Starttls,
        ehlo: "client.example.test".into(),
        timeout: Duration::from_secs(5),
        max_time: Duration::from_secs(30),
        trust: tls::load_trust(Some(&pki.ca_file), None).expect("ca file"),
        client_auth: None,
        servername: None,
        versions: tls::versions(false, false),
        protocols: false,
        ciphers: false,
        expiry_warn_days: 30,
        min_protocol: None,
        require_verify: false,
        limiter: None,
    }
}

fn check(
    lab: &Lab,
    pki: &Pki,
    domain: &str,
    smtp_port: u16,
    sts_port: u16,
) -> (DomainReport, Vec<CheckResult>) {
    let dns = Dns::new(&DnsOptions {
        server: Some(lab.addr),
        trust_anchor: Some(lab.anchor.clone()),
        timeout: Some(Duration::from_secs(5)),
    })
    .expect("resolver");
    let dopts = DomainOptions {
        smtp_port,
        mta_sts_port: sts_port,
        jobs: 2,
    };
    domain::check_domain(domain, &dns, &dopts, &options(pki))
}

fn codes(r: &DomainReport) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

/// The DANE word of the first address of the first MX.
fn dane_word(r: &DomainReport) -> Option<String> {
    r.mx.first()
        .and_then(|m| m.addresses.first())
        .and_then(|a| a.dane.as_ref())
        .map(|d| d.verify.clone())
}

/// A domain with one MX `mx.DOMAIN` at 127.0.0.1 and a TLS-RPT record.
fn mail_domain(zone: Zone, domain: &str) -> Zone {
    let mx = format!("mx.{domain}");
    zone.mx(domain, 10, &mx).a(&mx, LOCAL).txt(
        &format!("_smtp._tls.{domain}"),
        &format!(
            "v=TLSRPTv1; rua=mailto:tlsrpt@{}",
            domain.trim_end_matches('.')
        ),
    )
}

#[test]
fn dane_ee_matches_the_server_key() {
    let pki = Pki::new();
    let (addr, id) = smtp(&pki, "mx.ee.test", false);
    let tlsa = format!("_{}._tcp.mx.ee.test.", addr.port());
    let zone =
        mail_domain(Zone::default(), "ee.test.").tlsa(&tlsa, 3, 1, 1, sha256(&spki(&id.chain[0])));
    let lab = dns_server::serve(zone, vec![], &[]);
    let (r, results) = check(&lab, &pki, "ee.test", addr.port(), 443);
    assert_eq!(r.mx_dnssec, Some(Dnssec::Secure), "{r:#?}");
    let mx = &r.mx[0];
    assert_eq!((mx.host.as_str(), mx.preference), ("mx.ee.test", 10));
    assert_eq!(mx.ips, vec![LOCAL]);
    assert_eq!(mx.addresses_dnssec, Some(Dnssec::Secure));
    assert_eq!(mx.tlsa.dnssec, Some(Dnssec::Secure));
    assert!(mx.tlsa.dane, "{mx:#?}");
    assert_eq!(dane_word(&r).as_deref(), Some("TRUSTED"), "{r:#?}");
    let d = mx.addresses[0].dane.as_ref().expect("dane");
    assert_eq!(d.matched_cert, Some(0));
    assert!(
        d.matched
            .as_deref()
            .is_some_and(|m| m.starts_with("3 1 1 ")),
        "{d:?}"
    );
    assert_eq!(r.policy, "dane");
    assert!(r.tls_rpt.valid, "{:?}", r.tls_rpt);
    assert_eq!(r.tls_rpt.rua, vec!["mailto:tlsrpt@ee.test"]);
    assert_eq!(r.status, Status::Pass, "{:#?}", r.findings);
    assert!(codes(&r).contains(&"dane_trusted"));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].verify, Some(Verify::Ok));
    assert_eq!(results[0].host, "mx.ee.test");
}

#[test]
fn dane_ta_matches_the_issuer_in_the_chain() {
    let pki = Pki::new();
    let (addr, _) = smtp(&pki, "mx.ta.test", true);
    let tlsa = format!("_{}._tcp.mx.ta.test.", addr.port());
    let ca: &CertificateDer<'_> = &pki.ca_der;
    let zone = mail_domain(Zone::default(), "ta.test.").tlsa(&tlsa, 2, 0, 1, sha256(ca.as_ref()));
    let lab = dns_server::serve(zone, vec![], &[]);
    let (r, _) = check(&lab, &pki, "ta.test", addr.port(), 443);
    assert_eq!(dane_word(&r).as_deref(), Some("TRUSTED"), "{r:#?}");
    let d = r.mx[0].addresses[0].dane.as_ref().expect("dane");
    assert_eq!(d.matched_cert, Some(1), "{d:?}");
    assert!(
        d.detail
            .iter()
            .any(|l| l.contains("DANE-TA matches chain certificate 1")),
        "{d:?}"
    );
    assert_eq!(r.status, Status::Pass, "{:#?}", r.findings);
}

#[test]
fn tlsa_mismatch_is_dane_fail() {
    let pki = Pki::new();
    let (addr, _) = smtp(&pki, "mx.mismatch.test", false);
    let other = pki.server(&["mx.mismatch.test"], Validity::Current);
    let tlsa = format!("_{}._tcp.mx.mismatch.test.", addr.port());
    let zone = mail_domain(Zone::default(), "mismatch.test.").tlsa(
        &tlsa,
        3,
        1,
        1,
        sha256(&spki(&other.chain[0])),
    );
    let lab = dns_server::serve(zone, vec![], &[]);
    let (r, results) = check(&lab, &pki, "mismatch.test", addr.port(), 443);
    assert_eq!(dane_word(&r).as_deref(), Some("DANE_FAIL"), "{r:#?}");
    let d = r.mx[0].addresses[0].dane.as_ref().expect("dane");
    assert!(
        d.detail
            .iter()
            .any(|l| l.contains("does not match the server certificate")),
        "{d:?}"
    );
    assert_eq!(r.status, Status::Fail);
    assert!(codes(&r).contains(&"dane_fail"), "{:?}", codes(&r));
    // The Web PKI is fine: only DANE fails.
    assert_eq!(results[0].verify, Some(Verify::Ok));
}

#[test]
fn insecure_zone_does_not_use_dane() {
    let pki = Pki::new();
    let (addr, _) = smtp(&pki, "mx.plain.test", false);
    // TLSA records that would not match: in an unsigned zone they must not be used.
    let tlsa = format!("_{}._tcp.mx.plain.test.", addr.port());
    let child = mail_domain(Zone::default(), "plain.test.").tlsa(&tlsa, 3, 1, 1, vec![0; 32]);
    let lab = dns_server::serve(
        Zone::default().delegate("plain.test."),
        vec![("plain.test.", child)],
        &[],
    );
    let (r, results) = check(&lab, &pki, "plain.test", addr.port(), 443);
    assert_eq!(r.mx_dnssec, Some(Dnssec::Insecure), "{r:#?}");
    assert_eq!(r.mx[0].addresses_dnssec, Some(Dnssec::Insecure));
    assert!(!r.mx[0].tlsa.dane);
    assert!(
        r.mx[0]
            .tlsa
            .note
            .as_deref()
            .is_some_and(|n| n.contains("DANE does not apply")),
        "{:?}",
        r.mx[0].tlsa
    );
    assert_eq!(dane_word(&r), None);
    assert_eq!(r.policy, "opportunistic");
    assert!(codes(&r).contains(&"mx_insecure"));
    assert_eq!(r.status, Status::Pass, "{:#?}", r.findings);
    assert_eq!(results[0].verify, Some(Verify::Ok));
}

#[test]
fn bogus_signatures() {
    let pki = Pki::new();
    let (addr, id) = smtp(&pki, "mx.bogus.test", false);
    let tlsa = format!("_{}._tcp.mx.bogus.test.", addr.port());
    let zone = mail_domain(Zone::default(), "bogus.test.")
        .tlsa(&tlsa, 3, 1, 1, sha256(&spki(&id.chain[0])))
        .mx("bogusmx.test.", 10, "mx.bogus.test.");
    let lab = dns_server::serve(
        zone,
        vec![],
        &[
            (tlsa.as_str(), RecordType::TLSA),
            ("bogusmx.test.", RecordType::MX),
        ],
    );
    // A bogus TLSA RRset: the matching record must not be believed; a DANE sender defers.
    let (r, _) = check(&lab, &pki, "bogus.test", addr.port(), 443);
    assert_eq!(r.mx[0].tlsa.dnssec, Some(Dnssec::Bogus), "{r:#?}");
    assert_eq!(dane_word(&r).as_deref(), Some("DANE_TEMP"));
    assert!(codes(&r).contains(&"dane_temp"), "{:?}", codes(&r));
    assert_eq!(r.status, Status::Fail);
    // A bogus MX RRset: nothing to deliver to.
    let (r, results) = check(&lab, &pki, "bogusmx.test", addr.port(), 443);
    assert_eq!(r.mx_dnssec, Some(Dnssec::Bogus), "{r:#?}");
    assert!(r.mx.is_empty() && results.is_empty());
    assert!(codes(&r).contains(&"dnssec_bogus"));
    assert_eq!(r.status, Status::Fail);
}

/// A domain with an MTA-STS record, `mta-sts.DOMAIN` at 127.0.0.1, and no TLSA.
fn sts_domain(domain: &str) -> Zone {
    mail_domain(Zone::default(), domain)
        .txt(&format!("_mta-sts.{domain}"), "v=STSv1; id=20261128T0900")
        .a(&format!("mta-sts.{domain}"), LOCAL)
}

const PLAIN: &str = "text/plain; charset=utf-8";

#[test]
fn mta_sts_enforce_with_matching_mx() {
    let pki = Pki::new();
    let (addr, _) = smtp(&pki, "mx.sts.test", false);
    let sts = policy_server(
        &pki,
        "mta-sts.sts.test",
        "200 OK",
        PLAIN,
        "version: STSv1\r\nmode: enforce\r\nmx: *.sts.test\r\nmax_age: 604800\r\n",
    );
    let lab = dns_server::serve(sts_domain("sts.test."), vec![], &[]);
    let (r, _) = check(&lab, &pki, "sts.test", addr.port(), sts);
    let p = r.mta_sts.policy.as_ref().expect("policy");
    assert_eq!(p.mode, domain::mtasts::Mode::Enforce, "{r:#?}");
    assert_eq!(p.mx, vec!["*.sts.test"]);
    assert_eq!(p.max_age, 604_800);
    assert_eq!(r.mta_sts.id.as_deref(), Some("20261128T0900"));
    assert_eq!(
        r.mta_sts.url.as_deref(),
        Some(format!("https://mta-sts.sts.test:{sts}/.well-known/mta-sts.txt").as_str())
    );
    assert_eq!(r.mx[0].sts_pattern.as_deref(), Some("*.sts.test"));
    assert_eq!(r.mx[0].addresses[0].mta_sts.as_deref(), Some("pass"));
    assert_eq!(r.mta_sts.would_deliver, Some(true));
    assert_eq!(r.policy, "mta-sts");
    assert_eq!(r.status, Status::Pass, "{:#?}", r.findings);
}

#[test]
fn mta_sts_enforce_with_non_matching_mx_exits_1() {
    let pki = Pki::new();
    let (addr, _) = smtp(&pki, "mx.stsbad.test", false);
    let sts = policy_server(
        &pki,
        "mta-sts.stsbad.test",
        "200 OK",
        PLAIN,
        "version: STSv1\nmode: enforce\nmx: mail.stsbad.test\nmax_age: 86400\n",
    );
    let lab = dns_server::serve(sts_domain("stsbad.test."), vec![], &[]);
    let (r, _) = check(&lab, &pki, "stsbad.test", addr.port(), sts);
    assert_eq!(r.mx[0].sts_pattern, None, "{r:#?}");
    assert_eq!(r.mx[0].addresses[0].mta_sts.as_deref(), Some("fail"));
    assert_eq!(r.mta_sts.would_deliver, Some(false));
    assert!(codes(&r).contains(&"sts_enforce_failed"), "{:?}", codes(&r));
    assert!(codes(&r).contains(&"sts_undeliverable"));
    assert_eq!(r.status, Status::Fail);

    // Through the binary: exit 1, and the JSON carries the domain object.
    let out = Command::cargo_bin("mailtls")
        .expect("binary")
        .args([
            "check",
            "--domain",
            "stsbad.test",
            "--json",
            "--timeout",
            "5",
        ])
        .arg("--resolver")
        .arg(lab.addr.to_string())
        .arg("--trust-anchor")
        .arg(&lab.anchor)
        .args([
            "--smtp-port",
            &addr.port().to_string(),
            "--mta-sts-port",
            &sts.to_string(),
        ])
        .arg("--ca-file")
        .arg(&pki.ca_file)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["schema"], "mailtls.check/1");
    assert_eq!(doc["results"][0]["host"], "mx.stsbad.test");
    assert_eq!(doc["results"][0]["verify"], "OK");
    let d = &doc["domains"][0];
    assert_eq!(d["domain"], "stsbad.test");
    assert_eq!(d["status"], "fail");
    assert_eq!(d["mx_dnssec"], "secure");
    assert_eq!(d["mta_sts"]["policy"]["mode"], "enforce");
    assert_eq!(d["mta_sts"]["would_deliver"], false);
    assert_eq!(d["mx"][0]["addresses"][0]["mta_sts"], "fail");
    assert_eq!(d["tls_rpt"]["valid"], true);
}

#[test]
fn mta_sts_policy_fetch_failures() {
    let pki = Pki::new();
    let (addr, _) = smtp(&pki, "mx.stsgone.test", false);
    let lab = dns_server::serve(sts_domain("stsgone.test."), vec![], &[]);
    let not_found = policy_server(
        &pki,
        "mta-sts.stsgone.test",
        "404 Not Found",
        "text/html",
        "<h1>404</h1>",
    );
    let html = policy_server(
        &pki,
        "mta-sts.stsgone.test",
        "200 OK",
        "text/html",
        "version: STSv1\n",
    );
    let wrong_name = policy_server(
        &pki,
        "www.stsgone.test",
        "200 OK",
        PLAIN,
        "version: STSv1\n",
    );
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let rows = [
        (not_found, "http", "HTTP 404"),
        (html, "content_type", "text/html"),
        (wrong_name, "tls", "certificate"),
        (closed, "connect", "127.0.0.1"),
    ];
    for (port, stage, part) in rows {
        let (r, _) = check(&lab, &pki, "stsgone.test", addr.port(), port);
        let e = r
            .mta_sts
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("{stage}: {r:#?}"));
        assert_eq!(e.stage, stage, "{e:?}");
        assert!(e.detail.contains(part), "{stage}: {e:?}");
        assert!(r.mta_sts.policy.is_none());
        assert!(codes(&r).contains(&"sts_fetch_failed"));
        // Without a policy a sender delivers as if there were none: a warning, not a failure.
        assert_eq!(r.status, Status::Warn, "{stage}: {:#?}", r.findings);
    }
}

#[test]
fn missing_tls_rpt_record() {
    let pki = Pki::new();
    let (addr, id) = smtp(&pki, "mx.norpt.test", false);
    let tlsa = format!("_{}._tcp.mx.norpt.test.", addr.port());
    let zone = Zone::default()
        .mx("norpt.test.", 10, "mx.norpt.test.")
        .a("mx.norpt.test.", LOCAL)
        .tlsa(
            &tlsa,
            3,
            0,
            2,
            digest::digest(&digest::SHA512, &id.chain[0])
                .as_ref()
                .to_vec(),
        );
    let lab = dns_server::serve(zone, vec![], &[]);
    let (r, _) = check(&lab, &pki, "norpt.test", addr.port(), 443);
    assert_eq!(dane_word(&r).as_deref(), Some("TRUSTED"), "{r:#?}");
    assert!(!r.tls_rpt.present && !r.tls_rpt.valid);
    assert!(codes(&r).contains(&"tlsrpt_missing"), "{:?}", codes(&r));
    assert_eq!(r.status, Status::Warn);
}

/// The whole picture through the binary: DANE-EE and MTA-STS enforce on one domain,
/// read as the terminal report and as NDJSON.
#[test]
fn terminal_and_ndjson_reports() {
    let pki = Pki::new();
    let (addr, id) = smtp(&pki, "mx.example.test", false);
    let sts = policy_server(
        &pki,
        "mta-sts.example.test",
        "200 OK",
        PLAIN,
        "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 604800\r\n",
    );
    let tlsa = format!("_{}._tcp.mx.example.test.", addr.port());
    let zone = sts_domain("example.test.").tlsa(&tlsa, 3, 1, 1, sha256(&spki(&id.chain[0])));
    let lab = dns_server::serve(zone, vec![], &[]);
    let run = |format: Option<&str>| {
        let mut cmd = Command::cargo_bin("mailtls").expect("binary");
        cmd.args(["check", "--domain", "example.test", "--timeout", "5"])
            .arg("--resolver")
            .arg(lab.addr.to_string())
            .arg("--trust-anchor")
            .arg(&lab.anchor)
            .args([
                "--smtp-port",
                &addr.port().to_string(),
                "--mta-sts-port",
                &sts.to_string(),
            ])
            .arg("--ca-file")
            .arg(&pki.ca_file)
            .env("NO_COLOR", "1");
        if let Some(f) = format {
            cmd.arg(f);
        }
        let out = cmd.output().expect("run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let text = run(None);
    eprintln!("{text}");
    let port = addr.port();
    for want in [
        format!("mx.example.test:{port} [127.0.0.1] (STARTTLS): PASS"),
        "domain example.test: PASS  (policy: dane+mta-sts)".to_owned(),
        "MX RRset secure".to_owned(),
        "  MX  10 mx.example.test  [127.0.0.1] addresses secure".to_owned(),
        format!("TLSA _{port}._tcp.mx.example.test: 3 1 1 "),
        "127.0.0.1 verify=OK  DANE TRUSTED by 3 1 1 ".to_owned(),
        "MTA-STS pass".to_owned(),
        "  MTA-STS: id 20261128T0900 mode enforce mx mx.example.test max_age 604800; an enforcing sender delivers".to_owned(),
        "  TLS-RPT: mailto:tlsrpt@example.test\n".to_owned(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in\n{text}");
    }
    let json = run(Some("--json"));
    eprintln!("{json}");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(doc["results"].as_array().map(Vec::len), Some(1));
    let d = &doc["domains"][0];
    assert_eq!(d["status"], "pass");
    assert_eq!(d["mta_sts"]["policy"]["mx"][0], "mx.example.test");
    assert_eq!(d["mta_sts"]["would_deliver"], true);
    assert_eq!(d["mx"][0]["addresses"][0]["dane"]["matched_cert"], 0);
    let hex: String = sha256(&spki(&id.chain[0]))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let full = format!("3 1 1 {hex}");
    assert_eq!(d["mx"][0]["tlsa"]["records"][0], full.as_str());
    assert_eq!(d["mx"][0]["addresses"][0]["dane"]["matched"], full.as_str());
    assert_eq!(d["tls_rpt"]["rua"][0], "mailto:tlsrpt@example.test");
    let nd = run(Some("--ndjson"));
    let lines: Vec<serde_json::Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "{nd}");
    assert!(lines.iter().all(|l| l["schema"] == "mailtls.check/1"));
    assert_eq!(lines[0]["target"], format!("mx.example.test:{port}"));
    assert_eq!(lines[1]["domain"]["policy"], "dane+mta-sts");
    assert_eq!(
        lines[1]["domain"]["mx"][0]["addresses"][0]["dane"]["verify"],
        "TRUSTED"
    );
    assert_eq!(lines[1]["domain"]["mx"][0]["tlsa"]["dnssec"], "secure");
}

#[test]
fn usage_errors_and_help() {
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("mailtls")
            .expect("binary")
            .args(args)
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_anchor = dir.path().join("anchor.key");
    std::fs::write(&bad_anchor, "test. 3600 IN DNSKEY not a key\n").expect("write");
    let bad_anchor = bad_anchor.to_string_lossy().into_owned();
    // (arguments, exit code, text expected on stderr)
    let rows: &[(&[&str], i32, &str)] = &[
        (
            &["check", "--domain", "example.test", "127.0.0.1:25"],
            2,
            "cannot be used with",
        ),
        (
            &["check", "--resolver", "127.0.0.1", "mx.example.test"],
            2,
            "--domain",
        ),
        (
            &[
                "check",
                "--domain",
                "example.test",
                "--resolver",
                "dns.example",
            ],
            2,
            "want IP, IP:PORT",
        ),
        (
            &[
                "check",
                "--domain",
                "example.test",
                "--resolver",
                "127.0.0.1:9",
                "--trust-anchor",
                &bad_anchor,
            ],
            2,
            "not a DNSKEY trust anchor file",
        ),
    ];
    for (args, code, part) in rows {
        let (got, _, err) = run(args);
        assert_eq!(got, Some(*code), "{args:?}: {err}");
        assert!(err.contains(part), "{args:?}: {err}");
    }
    let (code, help, _) = run(&["check", "--help"]);
    assert_eq!(code, Some(0));
    for flag in [
        "--domain <DOMAIN>",
        "--resolver <IP[:PORT]>",
        "--trust-anchor <FILE>",
        "--smtp-port <PORT>",
        "--mta-sts-port <PORT>",
        "lab option",
        "DANE_TEMP",
    ] {
        assert!(help.contains(flag), "--help lacks {flag:?}");
    }
}

#[test]
fn unusable_tlsa_and_testing_mode_only_warn() {
    let pki = Pki::new();
    let (addr, id) = smtp(&pki, "mx.unusable.test", false);
    let port = addr.port();
    // PKIX-EE(1): matches the key, but RFC 7672 rules the usage out for SMTP.
    let zone = mail_domain(Zone::default(), "unusable.test.").tlsa(
        &format!("_{port}._tcp.mx.unusable.test."),
        1,
        1,
        1,
        sha256(&spki(&id.chain[0])),
    );
    let zone = mail_domain(zone, "ststest.test.")
        .txt("_mta-sts.ststest.test.", "v=STSv1; id=2026")
        .a("mta-sts.ststest.test.", LOCAL);
    let sts = policy_server(
        &pki,
        "mta-sts.ststest.test",
        "200 OK",
        PLAIN,
        "version: STSv1\nmode: testing\nmx: mx1.ststest.test\nmax_age: 86400\n",
    );
    let lab = dns_server::serve(zone, vec![], &[]);
    let (r, _) = check(&lab, &pki, "unusable.test", port, 443);
    assert_eq!(dane_word(&r).as_deref(), Some("UNUSABLE"), "{r:#?}");
    assert!(codes(&r).contains(&"dane_unusable"), "{:?}", codes(&r));
    assert_eq!(r.status, Status::Warn, "{:#?}", r.findings);
    // The certificate for mx.ststest.test comes from the unusable server: it names
    // mx.unusable.test, so it fails the Web PKI check too; testing mode only warns.
    let (r, results) = check(&lab, &pki, "ststest.test", port, sts);
    assert_eq!(
        r.mta_sts.policy.as_ref().map(|p| p.mode),
        Some(domain::mtasts::Mode::Testing)
    );
    assert_eq!(
        r.mx[0].addresses[0].mta_sts.as_deref(),
        Some("fail"),
        "{r:#?}"
    );
    assert_eq!(results[0].verify, Some(Verify::Fail));
    assert!(codes(&r).contains(&"sts_testing_failed"), "{:?}", codes(&r));
    assert_eq!(r.mta_sts.would_deliver, None);
    assert_eq!(r.policy, "mta-sts-testing");
    assert_eq!(r.status, Status::Warn, "{:#?}", r.findings);
}

/// Issue 18 point 12: a lookup our resolver does not answer is our failure, not the
/// domain's: no "no record", no "bogus", no "implicit MX".
fn assert_ours(r: &DomainReport, why: &str) {
    assert_eq!(codes(r), vec!["resolver_failed"], "{r:#?}");
    let err = r.resolver_error.as_deref().unwrap_or_default();
    assert!(err.contains(why), "{err}");
    assert_eq!(r.status, Status::Error);
    assert_eq!(r.mx_dnssec, None);
    assert!(r.mx.is_empty() && r.mx_note.is_none(), "{r:#?}");
}

#[test]
fn unanswered_lookups_are_dns_failures_not_bogus() {
    let pki = Pki::new();
    let lab = dns_server::serve(Zone::default(), vec![], &[]);
    // The lab server refuses names outside its zones: the server we asked will not
    // answer us, which is our resolver's failure (it said so in one reply), not a forged
    // answer and not the domain's fault. (Before issue 18 this was `dns_failed` beside
    // "no MTA-STS record"/"no TLS-RPT record" findings drawn from refused lookups.)
    let (r, results) = check(&lab, &pki, "outside.example", 25, 443);
    assert_ours(&r, "REFUSED");
    assert!(results.is_empty());
}

#[test]
fn nxdomain_says_the_domain_does_not_exist() {
    let pki = Pki::new();
    let lab = dns_server::serve(mail_domain(Zone::default(), "exists.test."), vec![], &[]);
    let (r, results) = check(&lab, &pki, "nosuch.test", 25, 443);
    assert!(codes(&r).contains(&"nxdomain"), "{:?}", codes(&r));
    assert!(!codes(&r).contains(&"no_mx"), "{:?}", codes(&r));
    assert!(
        r.mx_note
            .as_deref()
            .unwrap_or_default()
            .contains("does not exist"),
        "{r:#?}"
    );
    assert!(r.mx.is_empty() && results.is_empty(), "{r:#?}");
    assert_eq!(r.resolver_error, None);
    assert_eq!(r.status, Status::Fail);
}

#[test]
fn a_trust_anchor_that_does_not_validate_is_ours_not_bogus() {
    let pki = Pki::new();
    // Two labs, two keys: asking one with the other's key validates nothing, not even the
    // anchor's own zone. Every answer would be "bogus"; the fault is our configuration.
    let lab = dns_server::serve(mail_domain(Zone::default(), "fine.test."), vec![], &[]);
    let other = dns_server::serve(Zone::default(), vec![], &[]);
    let dns = Dns::new(&DnsOptions {
        server: Some(lab.addr),
        trust_anchor: Some(other.anchor.clone()),
        timeout: Some(Duration::from_secs(5)),
    })
    .expect("resolver");
    let dopts = DomainOptions {
        smtp_port: 25,
        mta_sts_port: 443,
        jobs: 1,
    };
    let (r, _) = domain::check_domain("fine.test", &dns, &dopts, &options(&pki));
    assert_ours(&r, "trust anchor's zone `test.`");
    assert!(!codes(&r).contains(&"dnssec_bogus"));
}

#[test]
fn a_silent_resolver_times_out_within_the_timeout() {
    // A UDP socket on 127.0.0.1 that never replies (nothing listens on its TCP twin).
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    let port = silent.local_addr().expect("addr").port();
    let resolver = format!("127.0.0.1:{port}");
    for json in [false, true] {
        let started = std::time::Instant::now();
        let mut cmd = Command::cargo_bin("mailtls").expect("binary");
        cmd.args(["check", "--domain", "example.test", "--resolver", &resolver]);
        cmd.args(["--timeout", "1"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().expect("run");
        let took = started.elapsed();
        // One lookup times out, then nothing else is asked (was: 90 s of silence).
        assert!(took < Duration::from_secs(6), "took {took:?}");
        assert_eq!(
            out.status.code(),
            Some(2),
            "resolver failure is an error of ours"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if json {
            let v: serde_json::Value = serde_json::from_str(&text).expect("json");
            let d = &v["domains"][0];
            let err = d["resolver_error"].as_str().unwrap_or_default();
            assert!(
                err.contains("timed out") && err.contains(&resolver),
                "{err}"
            );
            let codes: Vec<&str> = d["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter_map(|f| f["code"].as_str())
                .collect();
            assert_eq!(codes, vec!["resolver_failed"]);
            assert_eq!(d["status"], "error");
        } else {
            assert!(
                text.contains("did not answer within 1 s (timed out)"),
                "{text}"
            );
            assert!(text.contains("our DNS failed"), "{text}");
            assert!(!text.contains("no record"), "{text}");
            assert!(!text.contains("implicit MX"), "{text}");
        }
    }
    drop(silent);
}
