//! `mailtls check` through the binary: output shapes and exit codes.

use crate::common::smtp_server;

use std::process::Command;

use crate::common::bin;
use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use smtp_server::{Pki, Spec, Validity};

fn good(pki: &Pki) -> String {
    let id = pki.server(&["mx.example.test"], Validity::Current);
    let cfg = smtp_server::tls_config(
        &id,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        None,
    );
    smtp_server::spawn(Spec::new(Some(cfg))).to_string()
}

fn plain() -> String {
    smtp_server::spawn(Spec::new(None)).to_string()
}

fn mailtls(pki: &Pki, args: &[&str]) -> (String, String, i32) {
    let out = bin()
        .arg("check")
        .arg("--ca-file")
        .arg(&pki.ca_file)
        .args(["--servername", "mx.example.test", "--timeout", "5"])
        .args(args)
        .output()
        .expect("run");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn json_document_for_a_batch_in_target_order() {
    let pki = Pki::new();
    let (a, b) = (good(&pki), plain());
    let (out, _, code) = mailtls(&pki, &["--json", "-j", "2", &a, &b]);
    assert_eq!(code, 1, "one target has no STARTTLS");
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["schema"], "mailtls.check/1");
    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let ok = &results[0];
    assert_eq!(ok["target"], a.as_str());
    assert_eq!(ok["status"], "pass");
    assert_eq!(ok["verify"], "OK");
    assert_eq!(ok["mode"], "starttls");
    assert_eq!(ok["ip"], "127.0.0.1");
    assert_eq!(ok["tls"]["version"], "TLSv1.3");
    assert!(
        ok["tls"]["bits"]["secret"]
            .as_u64()
            .is_some_and(|b| b >= 128)
    );
    assert_eq!(ok["chain"][0]["sans"][0], "mx.example.test");
    let steps: Vec<&str> = ok["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "connect",
            "banner",
            "ehlo",
            "starttls",
            "handshake",
            "ehlo_tls",
            "quit"
        ]
    );
    assert!(ok["steps"][0]["ms"].is_f64());
    let none = &results[1];
    assert_eq!(none["target"], b.as_str());
    assert_eq!(none["verify"], "NONE");
    assert_eq!(none["status"], "fail");
    assert_eq!(none["findings"][0]["code"], "no_starttls");
    assert!(none["tls"].is_null());
}

#[test]
fn ndjson_one_whole_record_per_line_in_order() {
    let pki = Pki::new();
    let targets = [good(&pki), good(&pki), good(&pki), good(&pki)];
    let mut args = vec!["--ndjson", "-j", "4"];
    args.extend(targets.iter().map(String::as_str));
    let (out, _, code) = mailtls(&pki, &args);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (line, t) in lines.iter().zip(&targets) {
        let v: Value = serde_json::from_str(line).expect("a whole record");
        assert_eq!(v["schema"], "mailtls.check/1");
        assert_eq!(v["target"], t.as_str());
        assert_eq!(v["verify"], "OK");
    }
}

#[test]
fn text_report_and_exit_codes() {
    let pki = Pki::new();
    let a = good(&pki);
    let (out, _, code) = mailtls(&pki, &[&a]);
    assert_eq!(code, 0, "{out}");
    for want in [
        "(STARTTLS): PASS",
        "STARTTLS",
        "TLS handshake",
        "verify=OK",
        "version=TLSv1.3",
        "cert 0: CN=mx.example.test",
        "days left",
        "sha256",
    ] {
        assert!(out.contains(want), "{want:?} in\n{out}");
    }

    // Targets from a file, comments skipped.
    let file = pki.dir.path().join("targets.txt");
    std::fs::write(&file, format!("# MX hosts\n{a}\n\n{}  # no TLS\n", plain())).expect("write");
    let (out, _, code) = mailtls(
        &pki,
        &["--targets", file.to_str().expect("utf-8"), "--ndjson"],
    );
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 2);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let pki = Pki::new();
    let (_, err, code) = mailtls(&pki, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no target"), "{err}");
    let (_, err, code) = mailtls(&pki, &["mx:notaport"]);
    assert_eq!(code, 2, "{err}");
    let out = Command::cargo_bin("mailtls")
        .expect("binary")
        .args(["check", "--ca-file", "/nonexistent/ca.pem", "127.0.0.1:25"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/ca.pem"));
    let (_, _, code) = mailtls(&pki, &["--min-protocol", "TLSv9", "127.0.0.1:25"]);
    assert_eq!(code, 2);
}

#[test]
fn from_report_checks_outbound_peers_beside_their_log_posture() {
    use mailtls::analysis::posture::{DirPosture, PeerPosture, Posture};
    use mailtls::model::Summary;
    use mailtls::report::json::Snapshot;

    let pki = Pki::new();
    let addr: std::net::SocketAddr = good(&pki).parse().expect("addr");
    let mut posture = Posture::default();
    // An outbound peer the logs saw on TLS 1.2 with verify=FAIL, and an inbound-only
    // peer that must not be checked.
    let mut out = DirPosture {
        tls_sessions: 3,
        tls_messages: 3,
        ..DirPosture::default()
    };
    out.versions.add_n(&mailtls::model::TlsVersion::Tls1_2, 3);
    out.verify.add_n(&mailtls::model::Verify::Fail, 3);
    let mx = PeerPosture {
        peer: "127.0.0.1".into(),
        outbound: out,
        ..PeerPosture::default()
    };
    let inbound = DirPosture {
        plaintext_messages: 1,
        ..DirPosture::default()
    };
    let client = PeerPosture {
        peer: "192.0.2.9".into(),
        inbound,
        ..PeerPosture::default()
    };
    posture.peers.insert(mx.peer.clone(), mx);
    posture.peers.insert(client.peer.clone(), client);
    let file = pki.dir.path().join("posture.json");
    std::fs::write(&file, Snapshot::new(Summary::default(), posture).to_json()).expect("write");

    let port = addr.port().to_string();
    let (text, _, code) = mailtls(
        &pki,
        &[
            "--from-report",
            file.to_str().expect("utf-8"),
            "--port",
            &port,
            "--ndjson",
        ],
    );
    assert_eq!(code, 0, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "only the outbound peer: {text}");
    let v: Value = serde_json::from_str(lines[0]).expect("record");
    assert_eq!(v["target"], format!("127.0.0.1:{port}"));
    assert_eq!(v["verify"], "OK");
    assert_eq!(v["log"]["peer"], "127.0.0.1");
    assert_eq!(v["log"]["verify"]["FAIL"], 3);
    assert_eq!(v["log"]["versions"]["TLSv1.2"], 3);

    let (text, _, _) = mailtls(
        &pki,
        &[
            "--from-report",
            file.to_str().expect("utf-8"),
            "--port",
            &port,
        ],
    );
    assert!(text.contains("logs (127.0.0.1): 3 TLS sessions"), "{text}");
    assert!(text.contains("live: TLSv1.3 verify=OK"), "{text}");
}

#[test]
fn all_ips_gives_one_record_per_address() {
    use std::net::ToSocketAddrs;
    let pki = Pki::new();
    let addr: std::net::SocketAddr = good(&pki).parse().expect("addr");
    let target = format!("localhost:{}", addr.port());
    let mut want: Vec<String> = target
        .to_socket_addrs()
        .expect("localhost resolves")
        .map(|a| a.ip().to_string())
        .collect();
    want.dedup();
    let (text, _, _) = mailtls(&pki, &["--all-ips", "--ndjson", &target]);
    let recs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect();
    let got: Vec<String> = recs
        .iter()
        .map(|r| r["ip"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(got, want);
    let v4 = recs
        .iter()
        .find(|r| r["ip"] == "127.0.0.1")
        .expect("127.0.0.1 checked");
    assert_eq!(v4["verify"], "OK");
    assert!(recs.iter().all(|r| r["target"] == target.as_str()));
}

#[test]
fn our_own_server_without_starttls_gets_likely_causes_and_the_doctor() {
    // The test server is on 127.0.0.1 (ours by address) and its banner names Sendmail.
    let pki = Pki::new();
    let b = plain();
    let (out, _, code) = mailtls(&pki, &[&b]);
    assert_eq!(code, 1, "{out}");
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "verify=NONE",
        "this server of ours offers no STARTTLS",
        "could not load its TLS key or certificate",
        "STARTTLS is disabled in its configuration",
        "`mailtls doctor --cf /etc/mail/sendmail.cf --log /var/log/mail.log`",
    ] {
        assert!(flat.contains(want), "{want:?} in\n{out}");
    }
    // Wrapped for the terminal, the command whole on one line.
    let advice: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.contains("of ours"))
        .take_while(|l| !l.contains("total"))
        .collect();
    assert!(advice.len() >= 3, "{out}");
    assert!(advice.iter().all(|l| l.chars().count() <= 100), "{out}");
    assert!(
        advice
            .iter()
            .any(|l| l
                .contains("`mailtls doctor --cf /etc/mail/sendmail.cf --log /var/log/mail.log`")),
        "{out}"
    );
    // The same advice in JSON, as an info finding beside no_starttls (which still fails).
    let (out, _, code) = mailtls(&pki, &["--format", "json", &b]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    let codes: Vec<&str> = doc["results"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["no_starttls", "ours_no_tls"]);
    assert_eq!(doc["results"][0]["status"], "fail");
    // 454 to STARTTLS (Postfix and Exim when their key does not load): the same advice.
    let id = pki.server(&["mx.example.test"], Validity::Current);
    let mut spec = Spec::new(Some(smtp_server::tls_config(
        &id,
        &[&rustls::version::TLS13],
        None,
    )));
    spec.starttls = smtp_server::StartTls::Temp;
    let temp = smtp_server::spawn(spec).to_string();
    let (out, _, code) = mailtls(&pki, &[&temp]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("verify=TEMP"), "{out}");
    assert!(out.contains("refuses STARTTLS for now"), "{out}");
    // A server that offers STARTTLS gets no such advice.
    let (out, _, _) = mailtls(&pki, &["--ours", &good(&pki)]);
    assert!(!out.contains("of ours"), "{out}");
}

#[test]
fn format_is_the_long_form_of_json_and_ndjson() {
    let pki = Pki::new();
    let a = good(&pki);
    let (json, _, code) = mailtls(&pki, &["--format", "json", &a]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&json).expect("one document");
    assert_eq!(doc["schema"], "mailtls.check/1");
    assert_eq!(doc["results"][0]["verify"], "OK");
    let (nd, _, _) = mailtls(&pki, &["--format", "ndjson", &a, &a]);
    assert_eq!(nd.lines().count(), 2, "{nd}");
    for line in nd.lines() {
        let v: Value = serde_json::from_str(line).expect("a record");
        assert_eq!(v["verify"], "OK");
    }
    let (text, _, _) = mailtls(&pki, &["--format", "text", &a]);
    assert!(text.contains("(STARTTLS): PASS"), "{text}");
    let (_, err, code) = mailtls(&pki, &["--format", "json", "--ndjson", &a]);
    assert_eq!(code, 2, "{err}");
    // --color always colours even into a pipe; the default does not.
    let (coloured, _, _) = mailtls(&pki, &["--color", "always", &a]);
    assert!(coloured.contains("\x1b[32mPASS\x1b[0m"), "{coloured}");
    assert!(!text.contains('\x1b'), "{text}");
}

#[test]
fn verify_failure_in_plain_words_not_rust_names() {
    // The server's CA is not the one trusted: unknown issuer, said in words.
    let pki = Pki::new();
    let a = good(&pki);
    let run = |extra: &[&str]| {
        let out = Command::cargo_bin("mailtls")
            .expect("binary")
            .args(["check", "--servername", "mx.example.test", "--timeout", "5"])
            .args(extra)
            .arg(&a)
            .output()
            .expect("run");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code(),
        )
    };
    // Checked against the system roots, which do not hold the test CA.
    let (out, code) = run(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("certificate issued by an unknown CA"), "{out}");
    let (json, _) = run(&["--json"]);
    for out in [&out, &json] {
        assert!(!out.contains("UnknownIssuer"), "{out}");
        assert!(!out.contains("InvalidCertificate"), "{out}");
    }
    let doc: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        doc["results"][0]["verify_failure"]["reason"],
        "unknown_issuer"
    );
}
