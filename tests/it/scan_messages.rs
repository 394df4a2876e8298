//! `mailtls scan` over message stores through the real binary, asserted against the hand
//! count in `sample-logs/messages/EXPECTED.md`.

use std::io::Write;
use std::path::Path;

use crate::common::{self, samples, stderr};
use assert_cmd::Command;
use serde_json::Value;

fn run(paths: &[&Path], extra: &[&str]) -> (Value, String) {
    let out = common::scan(paths, extra);
    (serde_json::from_slice(&out.stdout).unwrap(), stderr(&out))
}

fn peer<'a>(json: &'a Value, key: &str) -> &'a Value {
    json["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer"] == key)
        .unwrap_or_else(|| panic!("peer {key} missing"))
}

fn hist(v: &Value) -> String {
    let mut parts: Vec<String> = v
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| format!("{k}:{n}"))
        .collect();
    parts.sort();
    parts.join(" ")
}

/// EXPECTED.md §2: (peer, tls sessions, tls msgs, plain msgs, versions, ciphers, verify, min bits).
type Row = (
    &'static str,
    u64,
    u64,
    u64,
    &'static str,
    &'static str,
    &'static str,
    Option<u64>,
);

const WITNESSED: [Row; 6] = [
    (
        "mail-out.partner.example",
        1,
        1,
        1,
        "TLSv1.3:1",
        "TLS_AES_256_GCM_SHA384:1",
        "NO:1",
        Some(256),
    ),
    ("198.51.100.7", 0, 0, 1, "", "", "", None),
    (
        "fax.oldcorp.example",
        1,
        1,
        0,
        "TLSv1:1",
        "DES-CBC3-SHA:1",
        "NO:1",
        Some(112),
    ),
    ("relay.legacy-isp.example", 0, 0, 1, "", "", "", None),
    (
        "smtp.lists.example.org",
        2,
        2,
        1,
        "TLSv1.2:2",
        "ECDHE-RSA-AES256-GCM-SHA384:2",
        "OK:2",
        Some(256),
    ),
    (
        "mx.v6only.example",
        1,
        1,
        0,
        "TLSv1.3:1",
        "TLS_AES_128_GCM_SHA256:1",
        "FAIL:1",
        Some(128),
    ),
];

/// `report_stores`: stores holding only TLS-RPT report messages (sample-logs/tlsrpt/),
/// which are read but give no message or hop here.
fn check_messages_summary(m: &Value, also_in_logs: u64, report_stores: u64) {
    let counts = [
        ("stores", 4 + report_stores),
        ("messages", 10),
        ("messages_unreadable", 0),
        ("messages_malformed", 0),
        ("hops", 22),
        ("hops_malformed", 0),
        ("hops_local", 7),
        ("hops_witnessed", 9),
        ("hops_claimed", 6),
        ("hops_also_in_logs", also_in_logs),
        ("hops_filtered", 0),
    ];
    for (k, n) in counts {
        assert_eq!(m[k], n, "{k}");
    }
    assert_eq!(m["our_hosts"], serde_json::json!(["mail.example.net"]));
    assert_eq!(m["our_hosts_inferred"], true);
    assert_eq!(
        m["verdicts"],
        serde_json::json!({"all_tls": 5, "plaintext": 4, "unknown": 0, "no_hops": 1})
    );
    assert_eq!(
        m["chain_verdicts"],
        serde_json::json!({"all_tls": 4, "plaintext": 5, "unknown": 0, "no_hops": 1})
    );
    let ex: Vec<String> = m["plaintext_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["peer"].as_str().unwrap(), e["hop"]))
        .collect();
    assert_eq!(
        ex,
        vec![
            "smtp.lists.example.org [203.0.113.45] 1",
            "[198.51.100.7] 1",
            "mail-out.partner.example [192.0.2.25] 1",
            "relay.legacy-isp.example [198.51.100.140] 1",
        ]
    );
    // Claimed peers: EXPECTED.md §2, second table.
    let claimed: Vec<String> = m["claimed"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let d = &p["inbound"];
            format!(
                "{} {} {} {}",
                p["peer"].as_str().unwrap(),
                d["tls_messages"],
                d["plaintext_messages"],
                hist(&d["versions"])
            )
        })
        .collect();
    assert_eq!(
        claimed,
        vec![
            "192.0.2.200 1 0 TLSv1.3:1",
            "erp01.partner.example 1 1 TLSv1.3:1",
            "mta.author3.example 0 1 ",
            "out.author2.example 1 0 TLSv1.3:1",
            "webmail.legacy-isp.example 0 1 ",
        ]
    );
}

#[test]
fn messages_alone_match_the_hand_count() {
    let (json, stderr) = run(&[&samples().join("messages")], &[]);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(json["summary"]["peers"], 6);
    assert_eq!(json["summary"]["files"], 0);
    for (key, sess, tls, plain, versions, ciphers, verify, bits) in WITNESSED {
        let p = peer(&json, key);
        let d = &p["inbound"];
        assert_eq!(d["tls_sessions"], sess, "{key}");
        assert_eq!(d["tls_messages"], tls, "{key}");
        assert_eq!(d["plaintext_messages"], plain, "{key}");
        assert_eq!(hist(&d["versions"]), versions, "{key}");
        assert_eq!(hist(&d["ciphers"]), ciphers, "{key}");
        assert_eq!(hist(&d["verify"]), verify, "{key}");
        assert_eq!(d["min_bits"].as_u64(), bits, "{key}");
        assert_eq!(p["outbound"]["tls_messages"], 0, "{key}");
    }
    check_messages_summary(&json["messages"], 0, 0);
}

#[test]
fn logs_and_messages_give_one_posture() {
    let (both, stderr) = run(&[&samples()], &[]);
    assert!(stderr.is_empty(), "{stderr}");
    let (logs, _) = run(&[&samples()], &["--logs-only"]);
    assert!(logs.get("messages").is_none());
    // The witnessed hops are the log's own messages: nothing is counted twice.
    assert_eq!(both["peers"], logs["peers"]);
    // 18 Sendmail peers (203.0.113.66 sent only rejected transactions, EXPECTED.md note
    // 2) + 17 Postfix/Exim peers − 1 shared (EXPECTED-postfix-exim.md §3)
    // + 7 peers of the TLS-RPT sample log (sample-logs/tlsrpt/maillog, no overlap)
    // + 3 of chain/ (EXPECTED-chain.md), from 3 Sendmail + 3 Postfix + 1 Exim log files +
    // sample-logs/tlsrpt/maillog + the 2 chain/ logs. The TLS-RPT report files there
    // (.json, .json.gz) are not logs and not counted as files.
    assert_eq!(both["summary"]["peers"], 44);
    assert_eq!(both["summary"]["files"], 10);
    check_messages_summary(&both["messages"], 9, 3);
    assert_eq!(both["messages"]["report_messages"], 5);

    let (only, _) = run(&[&samples()], &["--messages-only"]);
    let (alone, _) = run(&[&samples().join("messages")], &[]);
    assert_eq!(only["peers"], alone["peers"]);
    assert_eq!(only["summary"]["files"], 0);
}

#[test]
fn our_hosts_moves_the_trust_boundary() {
    let dir = samples().join("messages");
    let (json, _) = run(&[&dir], &["--our-hosts", "elsewhere.example"]);
    let m = &json["messages"];
    assert_eq!(m["hops_witnessed"], 0);
    assert_eq!(m["hops_claimed"], 15);
    assert_eq!(m["our_hosts_inferred"], false);
    assert_eq!(json["peers"].as_array().unwrap().len(), 0);
    // Trusting the list server too moves its stamps into the witnessed posture.
    let (json, _) = run(
        &[&dir],
        &["--our-hosts", "MAIL.example.net.,smtp.lists.example.org"],
    );
    assert_eq!(json["messages"]["hops_witnessed"], 12);
    assert_eq!(peer(&json, "192.0.2.200")["inbound"]["tls_messages"], 1);
    assert_eq!(
        peer(&json, "mta.author3.example")["inbound"]["plaintext_messages"],
        1
    );
}

#[test]
fn filters_apply_to_hops() {
    let dir = samples().join("messages");
    let (json, _) = run(&[&dir], &["--peer", "lists.example.org"]);
    let keys: Vec<&str> = json["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["peer"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["smtp.lists.example.org"]);
    let (json, _) = run(&[&dir], &["--direction", "out"]);
    assert_eq!(json["summary"]["peers"], 0);
    assert_eq!(json["messages"]["hops_filtered"], 9);
    let (json, _) = run(
        &[&dir],
        &["--since", "2026-11-27 12:00", "--until", "2026-11-27 15:00"],
    );
    let keys: Vec<&str> = json["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["peer"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        vec![
            "mail-out.partner.example",
            "relay.legacy-isp.example",
            "smtp.lists.example.org"
        ]
    );
}

#[test]
fn gz_mbox_broken_headers_and_table() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = std::fs::read(samples().join("messages/bob.mbox")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&mbox).unwrap();
    std::fs::write(dir.path().join("bob.mbox.1.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("broken.eml"),
        "Received: complete nonsense here\nReceived: from ok.example (ok.example [192.0.2.9]) by mail.example.net with ESMTPS id Z1; Fri, 27 Nov 2026 10:00:00 +0000\nSubject: broken\n\n",
    )
    .unwrap();
    let (json, stderr) = run(&[dir.path()], &["--our-hosts", "mail.example.net"]);
    let m = &json["messages"];
    assert_eq!(m["messages"], 6);
    assert_eq!(m["messages_malformed"], 1);
    assert_eq!(m["hops_malformed"], 1);
    assert!(
        stderr.contains("broken.eml:1: no from/by/with clause"),
        "{stderr}"
    );
    // The unreadable stamp is counted and named; the readable one is still used.
    assert_eq!(peer(&json, "ok.example")["inbound"]["tls_messages"], 1);
    assert_eq!(
        peer(&json, "fax.oldcorp.example")["inbound"]["min_bits"],
        112
    );
    assert!(
        m["plaintext_examples"][0]["source"]
            .as_str()
            .unwrap()
            .ends_with("bob.mbox.1.gz:32")
    );

    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .args(["scan"])
        .arg(samples().join("messages"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "Messages: 10 in 4 stores (0 malformed, 0 unreadable); 22 Received: hops: 9 witnessed, 6 claimed, 7 local, 0 malformed",
        "Our hosts (inferred",
        "Per message, witnessed hops: all TLS 5, plaintext 4, unknown 0, no network hop 1",
        "Claimed by foreign stamps",
        "erp01.partner.example",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn nothing_to_read_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("Maildir/cur")).unwrap();
    std::fs::create_dir_all(dir.path().join("Maildir/new")).unwrap();
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .args(["scan", "--logs-only"])
        .arg(dir.path().join("Maildir"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 21: stamps the first `Received:` parser misread (Exim 3's `(Cipher …)` as
/// plaintext; old GnuTLS Exim, Courier's `AUTH: …, TLS: …` without details; a template's
/// `(tls_cipher …)` and MessageLabs' `with CIPHER encrypted SMTP` as unknown), through the
/// binary: every one is a TLS message of its peer, with the version and cipher it names.
#[test]
fn real_world_stamps_name_their_tls() {
    let dir = tempfile::tempdir().unwrap();
    let stamps = [
        "Received: from mail.oldpeer.example ([192.0.2.31] helo=mail.oldpeer.example)\n\tby mx.our.example with esmtp (Cipher TLSv1:DES-CBC3-SHA:168)\n\t(Exim 3.36 #1 (Debian))\n\tid 19aBcD-0001xY-00\n\tfor alice@our.example; Tue, 08 Jul 2003 14:02:11 +0200\n",
        "Received: from smtp.gnupeer.example ([198.51.100.77])\n\tby mx.our.example with esmtps (TLS-1.0:DHE_RSA_3DES_EDE_CBC_SHA:24)\n\t(Exim 4.63)\n\t(envelope-from <news@gnupeer.example>)\n\tid 1HxQzR-0003Ab-Kk\n\tfor bob@our.example; Wed, 13 Jun 2007 09:41:27 +0100\n",
        "Received: from [192.0.2.140] (helo=laptop.our.example)\n\tby mx.our.example with local-esmtps (tls_cipher TLS-1.0:RSA_AES_256_CBC_SHA:32)\n\t(Exim 4.69)\n\tid 1Kp3Zs-0000Qh-9T\n\tfor dave@our.example; Sat, 11 Oct 2008 18:22:03 +0200\n",
        "Received: from mail.courier.example (mail.courier.example [192.0.2.61])\n  (AUTH: PLAIN erin@courier.example, TLS: TLS1.3, 128bits, ECDHE_RSA_AES_128_GCM_SHA256)\n  by mx.our.example with ESMTPSA; Mon, 01 Jul 2024 10:11:12 +0000\n  id 00000000000B1234.000000006682819F.00003F2A\n",
        "Received: from mail.symc.example (HELO mail.symc.example) (192.0.2.90)\n  by mx.our.example with AES256-GCM-SHA384 encrypted SMTP;\n  1 Jul 2024 10:20:30 -0000\n",
    ];
    let mut mbox = String::new();
    for (i, s) in stamps.iter().enumerate() {
        mbox.push_str(&format!(
            "From sender{i}@peer.example Mon Jul  1 10:00:00 2024\n{s}Subject: stamp {i}\n\nbody\n\n"
        ));
    }
    let path = dir.path().join("stamps.mbox");
    std::fs::write(&path, mbox).unwrap();
    let (json, stderr) = run(&[&path], &["--our-hosts", "mx.our.example"]);
    assert_eq!(json["messages"]["messages"], 5, "{stderr}");
    // (peer, versions, ciphers, min bits): the old GnuTLS key sizes are bytes (24, 32).
    let rows: [(&str, &str, &str, Option<u64>); 5] = [
        (
            "mail.oldpeer.example",
            "TLSv1:1",
            "DES-CBC3-SHA:1",
            Some(168),
        ),
        (
            "198.51.100.77",
            "TLSv1:1",
            "DHE_RSA_3DES_EDE_CBC_SHA:1",
            Some(192),
        ),
        ("192.0.2.140", "TLSv1:1", "RSA_AES_256_CBC_SHA:1", Some(256)),
        (
            "mail.courier.example",
            "TLSv1.3:1",
            "ECDHE_RSA_AES_128_GCM_SHA256:1",
            Some(128),
        ),
        ("mail.symc.example", "", "AES256-GCM-SHA384:1", None),
    ];
    for (key, versions, ciphers, bits) in rows {
        let d = &peer(&json, key)["inbound"];
        assert_eq!(d["tls_messages"], 1, "{key}: {d}");
        assert_eq!(d["plaintext_messages"], 0, "{key}: {d}");
        assert_eq!(hist(&d["versions"]), versions, "{key}");
        assert_eq!(hist(&d["ciphers"]), ciphers, "{key}");
        assert_eq!(d["min_bits"].as_u64(), bits, "{key}");
    }
    // The same hops as events: each says `tls`, none `plaintext` or `unknown`.
    let out = common::success(
        common::mailtls()
            .args(["events", "--json", "--our-hosts", "mx.our.example"])
            .arg(&path)
            .output()
            .unwrap(),
    );
    let hops: Vec<Value> = common::ndjson(&out.stdout)
        .into_iter()
        .filter(|e| e["type"] == "hop")
        .collect();
    assert_eq!(hops.len(), 5);
    for h in &hops {
        assert_eq!(h["tls"]["state"], "tls", "{h}");
    }
}
