//! `mailtls check` against an in-process ESMTP server on 127.0.0.1, one scenario each.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod smtp_server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mailtls::model::{TlsVersion, Verify};
use mailtls::probe::tls::{self, VerifyReason};
use mailtls::probe::{self, CheckResult, Mode, Options, Status, StepKind, Target};
use smtp_server::{Banner, Pki, Spec, StartTls, Validity};

const NAME: &str = "mx.example.test";

fn options(pki: Option<&Pki>) -> Options {
    let trust = match pki {
        Some(p) => tls::load_trust(Some(&p.ca_file), None).expect("ca file"),
        None => tls::load_trust(None, None).expect("system roots"),
    };
    Options {
        mode: Mode::Starttls,
        ehlo: "client.example.test".into(),
        timeout: Duration::from_secs(5),
        max_time: Duration::from_secs(30),
        trust,
        client_auth: None,
        servername: Some(NAME.into()),
        versions: tls::versions(false, false),
        protocols: false,
        ciphers: false,
        expiry_warn_days: 30,
        min_protocol: None,
        require_verify: true,
        limiter: None,
    }
}

fn target(addr: SocketAddr) -> Target {
    Target {
        host: addr.ip().to_string(),
        port: addr.port(),
    }
}

fn codes(r: &CheckResult) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

fn steps(r: &CheckResult) -> Vec<(StepKind, bool)> {
    r.steps.iter().map(|s| (s.step, s.ok)).collect()
}

fn good_server(pki: &Pki) -> Spec {
    let id = pki.server(&[NAME], Validity::Current);
    Spec::new(Some(smtp_server::tls_config(
        &id,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        None,
    )))
}

#[test]
fn starttls_offered_and_verified_with_ca_file() {
    let pki = Pki::new();
    let addr = smtp_server::spawn(good_server(&pki));
    let r = probe::check(&target(addr), &options(Some(&pki)));
    assert_eq!(r.verify, Some(Verify::Ok), "{r:#?}");
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert_eq!(
        steps(&r),
        vec![
            (StepKind::Connect, true),
            (StepKind::Banner, true),
            (StepKind::Ehlo, true),
            (StepKind::Starttls, true),
            (StepKind::Handshake, true),
            (StepKind::EhloTls, true),
            (StepKind::Quit, true),
        ]
    );
    for ext in ["STARTTLS", "PIPELINING", "8BITMIME", "SIZE 10240000", "DSN"] {
        assert!(
            r.extensions.iter().any(|e| e == ext),
            "{ext} in {:?}",
            r.extensions
        );
    }
    assert!(r.extensions_tls.iter().any(|e| e == "AUTH PLAIN LOGIN"));
    assert!(!r.extensions_tls.iter().any(|e| e == "STARTTLS"));
    assert_eq!(
        r.starttls_reply.as_deref(),
        Some("220 2.0.0 Ready to start TLS")
    );
    let t = r.tls.as_ref().expect("tls");
    assert_eq!(t.version, TlsVersion::Tls1_3);
    assert_eq!(t.cipher.as_str(), t.cipher_iana, "TLS 1.3 names agree");
    assert!(t.bits.secret.is_some_and(|b| b >= 128));
    assert_eq!(t.group.as_deref(), Some("X25519"));
    assert_eq!(r.chain.len(), 1);
    let leaf = &r.chain[0];
    assert!(
        leaf.subject.contains("CN=mx.example.test"),
        "{}",
        leaf.subject
    );
    assert!(
        leaf.issuer.contains("CN=mailtls test CA"),
        "{}",
        leaf.issuer
    );
    assert_eq!(leaf.sans, vec![NAME.to_string()]);
    assert!((363..=365).contains(&leaf.days_left), "{}", leaf.days_left);
    assert_eq!((leaf.key_type.as_str(), leaf.key_bits), ("EC", 256));
    assert_eq!(leaf.signature, "ecdsa-with-SHA256");
    assert_eq!(leaf.sha256.len(), 32 * 3 - 1);
    assert!(!leaf.self_signed);
    assert_eq!(r.ip, Some(addr.ip()));
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn ca_path_directory_is_trusted_like_ca_file() {
    let pki = Pki::new();
    let addr = smtp_server::spawn(good_server(&pki));
    let dir = tempfile::tempdir().expect("dir");
    // Sendmail's CACertPath: a <hash>.0 file, and a stray non-certificate file.
    std::fs::copy(&pki.ca_file, dir.path().join("1a2b3c4d.0")).expect("copy");
    std::fs::write(dir.path().join("README"), "not a certificate").expect("write");
    let mut o = options(None);
    o.trust = tls::load_trust(None, Some(dir.path())).expect("ca path");
    assert!(o.trust.source.contains("--ca-path"), "{}", o.trust.source);
    let r = probe::check(&target(addr), &o);
    assert_eq!(r.verify, Some(Verify::Ok), "{r:#?}");
}

#[test]
fn unknown_issuer_is_fail_but_the_handshake_completes() {
    let pki = Pki::new();
    let addr = smtp_server::spawn(good_server(&pki));
    let r = probe::check(&target(addr), &options(None));
    assert_eq!(r.verify, Some(Verify::Fail));
    let f = r.verify_failure.as_ref().expect("failure");
    assert_eq!(f.reason, VerifyReason::UnknownIssuer, "{f:?}");
    assert!(r.tls.is_some(), "handshake reported");
    assert_eq!(r.chain.len(), 1);
    assert!(
        r.extensions_tls.iter().any(|e| e == "AUTH PLAIN LOGIN"),
        "EHLO over TLS ran"
    );
    assert_eq!(r.status, Status::Fail);
    assert_eq!(codes(&r), vec!["verify_failed"]);

    let mut o = options(None);
    o.require_verify = false;
    let r = probe::check(&target(addr), &o);
    assert_eq!((r.verify, r.status), (Some(Verify::Fail), Status::Warn));
}

#[test]
fn certificate_problems_give_fail_with_the_reason() {
    let pki = Pki::new();
    let tls13 = [&rustls::version::TLS13];
    // (certificate, verify reason)
    let rows = [
        (smtp_server::self_signed(&[NAME]), VerifyReason::SelfSigned),
        (
            pki.server(&[NAME], Validity::Expired),
            VerifyReason::Expired,
        ),
        (
            pki.server(&["other.example.test"], Validity::Current),
            VerifyReason::NameMismatch,
        ),
    ];
    for (id, reason) in rows {
        let addr = smtp_server::spawn(Spec::new(Some(smtp_server::tls_config(&id, &tls13, None))));
        let r = probe::check(&target(addr), &options(Some(&pki)));
        assert_eq!(r.verify, Some(Verify::Fail), "{reason:?}");
        assert_eq!(
            r.verify_failure.as_ref().map(|f| f.reason),
            Some(reason),
            "{r:#?}"
        );
        assert!(r.tls.is_some() && !r.chain.is_empty(), "{reason:?}");
        assert_eq!(r.status, Status::Fail, "{reason:?}");
        if reason == VerifyReason::Expired {
            assert!(r.chain[0].days_left < 0);
        }
        if reason == VerifyReason::SelfSigned {
            assert!(r.chain[0].self_signed);
        }
    }
}

#[test]
fn expiring_soon_warns() {
    let pki = Pki::new();
    let id = pki.server(&[NAME], Validity::EndsIn(10));
    let addr = smtp_server::spawn(Spec::new(Some(smtp_server::tls_config(
        &id,
        &[&rustls::version::TLS13],
        None,
    ))));
    let r = probe::check(&target(addr), &options(Some(&pki)));
    assert_eq!(r.verify, Some(Verify::Ok));
    assert_eq!(r.status, Status::Warn);
    assert_eq!(codes(&r), vec!["expiring"]);
    let mut o = options(Some(&pki));
    o.expiry_warn_days = 5;
    assert_eq!(probe::check(&target(addr), &o).status, Status::Pass);
}

#[test]
fn no_starttls_is_none() {
    let addr = smtp_server::spawn(Spec::new(None));
    let r = probe::check(&target(addr), &options(None));
    assert_eq!(r.verify, Some(Verify::None));
    assert_eq!(r.status, Status::Fail);
    assert_eq!(codes(&r), vec!["no_starttls"]);
    assert!(r.tls.is_none());
    assert_eq!(steps(&r).last(), Some(&(StepKind::Quit, true)));
}

#[test]
fn starttls_454_is_temp() {
    let pki = Pki::new();
    let mut spec = good_server(&pki);
    spec.starttls = StartTls::Temp;
    let addr = smtp_server::spawn(spec);
    let r = probe::check(&target(addr), &options(Some(&pki)));
    assert_eq!(r.verify, Some(Verify::Temp));
    assert_eq!(codes(&r), vec!["starttls_temp"]);
    assert_eq!(
        r.starttls_reply.as_deref(),
        Some("454 4.7.0 TLS not available due to local problem")
    );
}

#[test]
fn close_during_handshake_is_software() {
    let pki = Pki::new();
    let mut spec = good_server(&pki);
    spec.starttls = StartTls::CloseOnHello;
    let addr = smtp_server::spawn(spec);
    let r = probe::check(&target(addr), &options(Some(&pki)));
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert_eq!(codes(&r), vec!["handshake_failed"]);
    assert_eq!(steps(&r).last(), Some(&(StepKind::Handshake, false)));
}

#[test]
fn tls12_only_server() {
    let pki = Pki::new();
    let id = pki.server(&[NAME], Validity::Current);
    let addr = smtp_server::spawn(Spec::new(Some(smtp_server::tls_config(
        &id,
        &[&rustls::version::TLS12],
        None,
    ))));
    let r = probe::check(&target(addr), &options(Some(&pki)));
    let t = r.tls.as_ref().expect("tls");
    assert_eq!(t.version, TlsVersion::Tls1_2);
    assert!(
        t.cipher.as_str().starts_with("ECDHE-ECDSA-"),
        "{}",
        t.cipher
    );
    assert!(
        t.cipher_iana.starts_with("TLS_ECDHE_ECDSA_WITH_"),
        "{}",
        t.cipher_iana
    );
    assert_eq!(r.verify, Some(Verify::Ok));

    // Offering only TLS 1.3 to it fails the handshake: verify=SOFTWARE.
    let mut o = options(Some(&pki));
    o.versions = tls::versions(false, true);
    let r = probe::check(&target(addr), &o);
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");

    // --min-protocol TLSv1.3 fails a TLS 1.2 session.
    let mut o = options(Some(&pki));
    o.min_protocol = Some(TlsVersion::Tls1_3);
    let r = probe::check(&target(addr), &o);
    assert_eq!(codes(&r), vec!["min_protocol"]);
}

#[test]
fn smtps_implicit_tls() {
    let pki = Pki::new();
    let mut spec = good_server(&pki);
    spec.implicit = true;
    let addr = smtp_server::spawn(spec);
    let mut o = options(Some(&pki));
    o.mode = Mode::Smtps;
    let r = probe::check(&target(addr), &o);
    assert_eq!(r.verify, Some(Verify::Ok), "{r:#?}");
    assert_eq!(
        steps(&r),
        vec![
            (StepKind::Connect, true),
            (StepKind::Handshake, true),
            (StepKind::Banner, true),
            (StepKind::EhloTls, true),
            (StepKind::Quit, true),
        ]
    );
    assert!(r.extensions.is_empty());
    assert!(
        r.banner
            .as_deref()
            .is_some_and(|b| b.starts_with("220 mx.example.test ESMTP"))
    );
}

#[test]
fn client_certificate_required() {
    let pki = Pki::new();
    let id = pki.server(&[NAME], Validity::Current);
    let cfg = smtp_server::tls_config(
        &id,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        Some(&pki.ca_der),
    );
    let addr = smtp_server::spawn(Spec::new(Some(cfg)));

    let r = probe::check(&target(addr), &options(Some(&pki)));
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert!(codes(&r).contains(&"handshake_failed"));
    assert!(!r.client_certificate);

    let client = pki.client();
    let (c, k) = client.write(pki.dir.path(), "client");
    let mut o = options(Some(&pki));
    o.client_auth = Some(tls::load_client_auth(&c, &k).expect("client auth"));
    let r = probe::check(&target(addr), &o);
    assert_eq!(r.verify, Some(Verify::Ok), "{r:#?}");
    assert!(r.client_certificate);
    assert_eq!(r.status, Status::Pass);
}

#[test]
fn stall_mid_banner_ends_within_the_timeout() {
    let mut spec = Spec::new(None);
    spec.banner = Banner::Stall;
    let addr = smtp_server::spawn(spec);
    let mut o = options(None);
    o.timeout = Duration::from_millis(500);
    let t = Instant::now();
    let r = probe::check(&target(addr), &o);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(r.status, Status::Error);
    assert_eq!(codes(&r), vec!["timeout"]);
    assert_eq!(r.verify, None);
}

#[test]
fn silent_server_is_cut_by_the_whole_check_deadline() {
    let mut spec = Spec::new(None);
    spec.banner = Banner::Silent;
    let addr = smtp_server::spawn(spec);
    let mut o = options(None);
    o.timeout = Duration::from_secs(20);
    o.max_time = Duration::from_millis(700);
    let t = Instant::now();
    let r = probe::check(&target(addr), &o);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(codes(&r), vec!["timeout"]);
}

#[test]
fn garbage_is_protocol() {
    let mut spec = Spec::new(None);
    spec.banner = Banner::Garbage;
    let addr = smtp_server::spawn(spec);
    let r = probe::check(&target(addr), &options(None));
    assert_eq!(r.verify, Some(Verify::Protocol));
    assert_eq!(codes(&r), vec!["smtp_protocol"]);
    assert_eq!(r.status, Status::Fail);
}

#[test]
fn busy_421_is_reported_with_its_text_not_as_a_tls_failure() {
    let mut spec = Spec::new(None);
    spec.banner = Banner::Busy;
    let addr = smtp_server::spawn(spec);
    let r = probe::check(&target(addr), &options(None));
    assert_eq!(r.verify, None);
    assert_eq!(r.status, Status::Error);
    assert_eq!(codes(&r), vec!["service_unavailable"]);
    assert!(
        r.findings[0]
            .text
            .contains("421 4.3.2 mx.example.test too many connections")
    );
}

#[test]
fn multi_line_replies_split_across_segments() {
    let pki = Pki::new();
    let mut spec = good_server(&pki);
    spec.split = true;
    let addr = smtp_server::spawn(spec);
    let r = probe::check(&target(addr), &options(Some(&pki)));
    assert_eq!(r.verify, Some(Verify::Ok));
    assert_eq!(
        r.extensions,
        vec![
            "ENHANCEDSTATUSCODES",
            "PIPELINING",
            "8BITMIME",
            "SIZE 10240000",
            "DSN",
            "STARTTLS",
            "HELP"
        ]
    );
    assert_eq!(r.extensions_tls.len(), 7, "{:?}", r.extensions_tls);
}

#[test]
fn data_after_starttls_220_is_flagged() {
    let pki = Pki::new();
    let mut spec = good_server(&pki);
    spec.starttls = StartTls::Inject;
    let addr = smtp_server::spawn(spec);
    let r = probe::check(&target(addr), &options(Some(&pki)));
    assert!(codes(&r).contains(&"starttls_injection"), "{r:#?}");
    assert_eq!(r.status, Status::Fail);
}

#[test]
fn protocols_and_ciphers_of_a_rustls_server() {
    let pki = Pki::new();
    let addr = smtp_server::spawn(good_server(&pki));
    let mut o = options(Some(&pki));
    o.protocols = true;
    o.ciphers = true;
    let r = probe::check(&target(addr), &o);
    let accepted: Vec<(String, bool)> = r
        .protocols
        .as_ref()
        .expect("protocols")
        .iter()
        .map(|p| (p.version.label().to_owned(), p.accepted.expect("tested")))
        .collect();
    assert_eq!(
        accepted,
        vec![
            ("SSLv3".into(), false),
            ("TLSv1".into(), false),
            ("TLSv1.1".into(), false),
            ("TLSv1.2".into(), true),
            ("TLSv1.3".into(), true),
        ],
        "{:#?}",
        r.protocols
    );
    // Ground truth: the suites rustls' ring provider has for an ECDSA key.
    let mut want: Vec<u16> = rustls::crypto::ring::ALL_CIPHER_SUITES
        .iter()
        .map(|s| u16::from(s.suite()))
        .filter(|c| {
            c >> 8 == 0x13
                || mailtls::probe::suites::lookup(*c).is_some_and(|s| s.iana.contains("ECDSA"))
        })
        .collect();
    want.sort_unstable();
    let mut got: Vec<u16> = r
        .ciphers
        .as_ref()
        .expect("ciphers")
        .iter()
        .map(|c| u16::from_str_radix(c.code.trim_start_matches("0x"), 16).expect("hex"))
        .collect();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(r.status, Status::Pass, "{:?}", r.findings);
}

#[test]
fn directly_trusted_self_signed_ca_certificate_is_ok_like_openssl() {
    let id = smtp_server::self_signed_ca_style(&[NAME]);
    let cfg = smtp_server::tls_config(&id, &[&rustls::version::TLS13], None);
    let addr = smtp_server::spawn(Spec::new(Some(cfg)));
    // Not trusted: FAIL, self-signed.
    let r = probe::check(&target(addr), &options(None));
    assert_eq!(r.verify, Some(Verify::Fail));
    assert_eq!(
        r.verify_failure.map(|f| f.reason),
        Some(VerifyReason::SelfSigned)
    );
    // Trusted as itself (Sendmail's CACertFile holding the server's own certificate):
    // OpenSSL says OK, so must we, although WebPKI alone calls it "CA used as end entity".
    let dir = tempfile::tempdir().expect("dir");
    let (cert, _) = id.write(dir.path(), "self");
    let mut o = options(None);
    o.trust = tls::load_trust(Some(&cert), None).expect("ca file");
    let r = probe::check(&target(addr), &o);
    assert_eq!(r.verify, Some(Verify::Ok), "{r:#?}");
    // … but still for its own name only.
    o.servername = Some("other.example.test".into());
    let r = probe::check(&target(addr), &o);
    assert_eq!(
        r.verify_failure.map(|f| f.reason),
        Some(VerifyReason::NameMismatch)
    );
}

#[test]
fn waiting_for_a_per_address_slot_does_not_eat_the_deadline() {
    let mut spec = Spec::new(None);
    spec.banner = Banner::Slow(400);
    let addr = smtp_server::spawn(spec);
    let mut o = options(None);
    o.max_time = Duration::from_millis(1000);
    o.limiter = Some(probe::IpLimiter::new(1));
    // Three checks of one address, one at a time: the last waits ~800 ms for its slot,
    // then still gets its own full second.
    let results: Vec<CheckResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| probe::check(&target(addr), &o)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for r in &results {
        assert_eq!(r.verify, Some(Verify::None), "{r:#?}");
        assert!(r.elapsed_ms < 900.0, "{}", r.elapsed_ms);
    }
}

#[test]
fn ehlo_refused_falls_back_to_helo_and_is_none() {
    let mut spec = Spec::new(None);
    spec.no_ehlo = true;
    let addr = smtp_server::spawn(spec);
    let r = probe::check(&target(addr), &options(None));
    assert_eq!(r.verify, Some(Verify::None), "{r:#?}");
    assert_eq!(codes(&r), vec!["helo_only", "no_starttls"]);
    assert_eq!(
        steps(&r),
        vec![
            (StepKind::Connect, true),
            (StepKind::Banner, true),
            (StepKind::Ehlo, false),
            (StepKind::Helo, true),
            (StepKind::Quit, true),
        ]
    );
}
