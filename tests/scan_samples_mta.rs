//! `mailtls scan sample-logs/postfix sample-logs/exim` through the real binary, asserted
//! against the hand count in `sample-logs/EXPECTED-postfix-exim.md` (every peer, direction
//! and field), and the whole mixed directory (Sendmail + Postfix + Exim, rotated, `.gz`).

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-logs")
}

fn scan_json(paths: &[PathBuf]) -> Value {
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .env("TZ", "UTC")
        .arg("scan")
        .args(paths)
        .args(["--format", "json", "--year", "2026"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "no warnings expected: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One row of EXPECTED-postfix-exim.md §2, in the document's own notation.
type Row = (
    &'static str, // key
    &'static str, // dir
    [u64; 5],     // sess, tls, plain, def, bnc
    &'static str, // versions
    &'static str, // ciphers
    &'static str, // verify
    Option<u64>,  // min bits
    &'static str, // errors
    &'static str, // mtas
    &'static str, // first_seen
    &'static str, // last_seen
);

#[rustfmt::skip]
const ROWS: [Row; 17] = [
    ("203.0.113.130", "in", [0, 0, 1, 0, 0], "", "", "", None, "", "exim", "2026-11-27 10:05:12", "2026-11-27 10:05:12"),
    ("203.0.113.99", "in", [0, 0, 0, 0, 0], "", "", "", None, "handshake:2", "postfix", "2026-11-25 14:02:07", "2026-11-27 09:14:05"),
    ("laptop.home.example", "in", [3, 3, 0, 0, 0], "TLSv1.3:3", "TLS_AES_128_GCM_SHA256:3", "NO:3", Some(128), "", "postfix", "2026-11-25 09:30:11", "2026-11-27 10:05:32"),
    ("mail-out.shop.example", "in", [3, 2, 0, 0, 0], "TLSv1.3:3", "TLS_AES_256_GCM_SHA384:3", "NO:3", Some(256), "", "postfix", "2026-11-25 08:10:01", "2026-11-27 13:22:09"),
    ("mail.misconfigured.example", "in", [0, 0, 0, 0, 0], "", "", "", None, "handshake:1", "exim", "2026-11-27 16:45:03", "2026-11-27 16:45:03"),
    ("mta.retail.example", "in", [1, 1, 0, 0, 0], "TLSv1.2:1", "ECDHE-RSA-AES256-GCM-SHA384:1", "OK:1", Some(256), "", "exim", "2026-11-27 09:20:02", "2026-11-27 09:20:02"),
    ("mx.bigmail.example", "out", [2, 3, 0, 0, 0], "TLSv1.3:2", "TLS_AES_256_GCM_SHA384:2", "OK:2", Some(256), "", "postfix", "2026-11-25 09:30:13", "2026-11-27 10:05:33"),
    ("mx.nowhere-tls.example", "out", [0, 0, 0, 2, 0], "", "", "", None, "not_offered:2", "postfix", "2026-11-26 16:02:33", "2026-11-27 08:00:01"),
    ("mx.oldbank.example", "out", [0, 0, 1, 2, 1], "", "", "", None, "handshake:3", "postfix exim", "2026-11-26 07:40:03", "2026-11-27 15:32:37"),
    ("mx.plainonly.example", "out", [0, 0, 3, 0, 0], "", "", "", None, "", "postfix exim", "2026-11-26 10:20:18", "2026-11-27 15:48:20"),
    ("mx.retail.example", "out", [1, 1, 0, 0, 0], "TLSv1.3:1", "TLS_AES_128_GCM_SHA256:1", "FAIL:1", Some(128), "", "exim", "2026-11-27 09:41:56", "2026-11-27 09:41:56"),
    ("mx.secure-partner.example", "out", [2, 0, 0, 2, 0], "TLSv1.2:2", "ECDHE-RSA-AES128-GCM-SHA256:2", "FAIL:2", Some(128), "cert_verify:2", "postfix", "2026-11-26 10:20:17", "2026-11-26 11:20:17"),
    ("mx1.club.example", "out", [2, 3, 0, 0, 0], "TLSv1.3:2", "TLS_AES_256_GCM_SHA384:2", "OK:2", Some(256), "", "exim", "2026-11-27 08:03:16", "2026-11-27 14:01:28"),
    ("partner-relay.trusted.example", "in", [1, 1, 0, 0, 0], "TLSv1.2:1", "ECDHE-RSA-AES256-GCM-SHA384:1", "OK:1", Some(256), "", "postfix", "2026-11-26 09:12:40", "2026-11-26 09:12:41"),
    ("relay.oldisp.example", "in", [0, 0, 3, 0, 0], "", "", "", None, "", "postfix", "2026-11-25 11:45:21", "2026-11-27 11:40:51"),
    ("scanner.probe.example", "in", [0, 0, 0, 0, 0], "", "", "", None, "handshake:1", "exim", "2026-11-27 10:30:00", "2026-11-27 10:30:00"),
    ("smtp.club.example", "in", [3, 3, 0, 0, 0], "TLSv1.3:3", "TLS_AES_256_GCM_SHA384:3", "NO:3", Some(256), "", "exim", "2026-11-27 07:12:40", "2026-11-27 14:01:27"),
];

fn hist(s: &str) -> BTreeMap<String, u64> {
    s.split_whitespace()
        .map(|p| {
            let (k, v) = p.rsplit_once(':').unwrap();
            (k.to_owned(), v.parse().unwrap())
        })
        .collect()
}

fn json_hist(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

fn json_errors(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, e)| (k.clone(), e["count"].as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

fn when(v: &Value) -> String {
    v.as_str()
        .unwrap_or("")
        .trim_end_matches('Z')
        .replacen('T', " ", 1)
}

fn peers(v: &Value) -> BTreeMap<String, Value> {
    v["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["peer"].as_str().unwrap().to_owned(), p.clone()))
        .collect()
}

fn direction(dir: &str) -> &'static str {
    if dir == "in" { "inbound" } else { "outbound" }
}

#[test]
fn postfix_and_exim_match_the_hand_count() {
    let v = scan_json(&[samples().join("postfix"), samples().join("exim")]);
    let s = &v["summary"];
    assert_eq!(s["files"], 4);
    assert_eq!(s["lines_read"], 153);
    assert_eq!(s["lines_recognized"], 109);
    assert_eq!(s["lines_malformed"], 0);
    let got = peers(&v);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ROWS.iter().map(|r| r.0.to_owned()).collect::<Vec<_>>()
    );
    for (key, dir, counts, versions, ciphers, verify, min_bits, errors, mtas, first, last) in ROWS {
        let p = &got[key];
        let d = &p[direction(dir)];
        let other = &p[direction(if dir == "in" { "out" } else { "in" })];
        let ctx = format!("{key} {dir}");
        let fields = [
            "tls_sessions",
            "tls_messages",
            "plaintext_messages",
            "deferred",
            "bounced",
        ];
        for (f, want) in fields.iter().zip(counts) {
            assert_eq!(d[f].as_u64(), Some(want), "{ctx} {f}");
            assert_eq!(other[f].as_u64(), Some(0), "{ctx} other direction {f}");
        }
        assert_eq!(json_hist(&d["versions"]), hist(versions), "{ctx} versions");
        assert_eq!(json_hist(&d["ciphers"]), hist(ciphers), "{ctx} ciphers");
        assert_eq!(json_hist(&d["verify"]), hist(verify), "{ctx} verify");
        assert_eq!(d["min_bits"].as_u64(), min_bits, "{ctx} min_bits");
        assert_eq!(json_errors(&d["errors"]), hist(errors), "{ctx} errors");
        let m: Vec<&str> = p["mtas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        assert_eq!(m.join(" "), mtas, "{ctx} mtas");
        assert_eq!(when(&d["first_seen"]), first, "{ctx} first_seen");
        assert_eq!(when(&d["last_seen"]), last, "{ctx} last_seen");
    }
    let local = v["local_errors"].as_object().map_or(0, |o| o.len());
    assert_eq!(local, 0, "every error line is attributed");
}

#[test]
fn the_mixed_directory_is_one_posture() {
    let v = scan_json(&[samples()]);
    let s = &v["summary"];
    // 7 Sendmail/Postfix/Exim files (731 lines, 326 recognised: 322 plus the six daemon
    // starts, sendmail 3 + 1 (not the MSP's), postfix master 2, less the two `nrcpts=0`
    // rejected transactions of maillog, EXPECTED.md note 2), the TLS-RPT sample
    // log sample-logs/tlsrpt/maillog (103 Sendmail lines, every one recognised; the
    // TLS-RPT report files beside it are not logs) and sample-logs/chain/
    // (EXPECTED-chain.md §1: 2 files, 42 lines, 29 recognised, 3 new peers).
    assert_eq!(s["files"], 7 + 1 + 2);
    assert_eq!(s["lines_read"], 731 + 103 + 42);
    assert_eq!(s["lines_recognized"], 326 + 103 + 29);
    assert_eq!(s["lines_malformed"], 0);
    let got = peers(&v);
    let big = &got["mx.bigmail.example"];
    let out = &big["outbound"];
    assert_eq!(out["tls_sessions"], 7);
    assert_eq!(out["tls_messages"], 8);
    assert_eq!(json_hist(&out["verify"]), hist("OK:7"));
    assert_eq!(json_hist(&out["versions"]), hist("TLSv1.3:7"));
    assert_eq!(big["mtas"], serde_json::json!(["sendmail", "postfix"]));
    assert_eq!(when(&out["first_seen"]), "2026-11-25 09:30:13");
    assert_eq!(when(&out["last_seen"]), "2026-11-27 15:30:12");
    // The Postfix/Exim-only peers come through unchanged.
    for (key, dir, counts, ..) in ROWS {
        if key == "mx.bigmail.example" {
            continue;
        }
        let d = &got[key][direction(dir)];
        assert_eq!(d["tls_sessions"].as_u64(), Some(counts[0]), "{key}");
        assert_eq!(d["plaintext_messages"].as_u64(), Some(counts[2]), "{key}");
    }

    let table = Command::cargo_bin("mailtls")
        .unwrap()
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .arg("scan")
        .arg(samples())
        .args(["--year", "2026"])
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains(
            "read 10 files, 876 lines: 458 recognised, 0 malformed, 0 too long; 44 peers"
        ),
        "{text}"
    );
}
