//! `mailtls check` through the binary: output shapes and exit codes.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod smtp_server;

use std::process::Command;

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
    let out = Command::cargo_bin("mailtls")
        .expect("binary")
        .arg("check")
        .arg("--ca-file")
        .arg(&pki.ca_file)
        .args(["--servername", "mx.example.test", "--timeout", "5"])
        .args(args)
        .env("NO_COLOR", "1")
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
