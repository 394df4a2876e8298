//! `mailtls scan` on the TLS-RPT sample folder (`sample-logs/tlsrpt/`: a Sendmail log of
//! `mx1` and `mx2` and the reports other senders mailed about them, as an mbox, a Maildir,
//! an `.eml`, a `.json` and a `.json.gz`) through the real binary: the joined view in the
//! table, in `--format json` and in the report folder, and the malformed reports of
//! `tests/fixtures/tlsrpt/` skipped with an error naming file and message.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scan(paths: &[&str], extra: &[&str]) -> (std::process::Output, String, String) {
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .env("NO_COLOR", "1")
        .arg("scan")
        .args(paths)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

fn json(paths: &[&str]) -> (Value, String) {
    let (out, stdout, stderr) = scan(paths, &["--format", "json"]);
    assert!(out.status.success(), "{stderr}");
    (serde_json::from_str(&stdout).unwrap(), stderr)
}

fn row<'a>(doc: &'a Value, org: &str, day: &str, mx: &str, rt: Option<&str>) -> &'a Value {
    doc["join"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["organization"] == org
                && r["start"].as_str().unwrap().starts_with(day)
                && r["mx"].as_str().unwrap().starts_with(mx)
                && r["result_type"].as_str() == rt
        })
        .unwrap_or_else(|| panic!("no row {org} {day} {mx} {rt:?} in {:#}", doc["join"]))
}

#[test]
fn the_folder_scans_into_one_joined_view() {
    let (v, stderr) = json(&["sample-logs/tlsrpt/"]);
    assert!(stderr.is_empty(), "the sample folder is clean: {stderr}");
    let doc = &v["tlsrpt"];
    assert_eq!(doc["schema"], "mailtls.tlsrpt/1");
    let s = &doc["summary"];
    // .json + .json.gz; 3 mbox messages (one a re-sent duplicate), the .eml, the Maildir one.
    assert_eq!(s["files"], 2);
    assert_eq!(s["messages"], 5);
    assert_eq!(s["reports"], 7);
    assert_eq!(s["duplicates"], 1);
    assert_eq!(s["distinct_reports"], 6);
    assert_eq!(s["invalid"], 0);
    // Google 118+131, Microsoft 57+0, Mailhost 9, Postbox 1, Relay 14.
    assert_eq!(s["successful_sessions"], 118 + 131 + 57 + 9 + 1 + 14);
    // Google 42, Microsoft 4+1, Mailhost 2, Postbox 3, Relay 1.
    assert_eq!(s["failed_sessions"], 42 + 5 + 2 + 3 + 1);
    assert_eq!(doc["log_hosts"], serde_json::json!(["mx1", "mx2"]));

    // The report files are not logs; the report messages give no hops.
    assert_eq!(v["summary"]["files"], 1);
    assert_eq!(v["messages"]["messages"], 0);
    assert_eq!(v["messages"]["report_messages"], 5);

    let g = row(
        doc,
        "Google LLC",
        "2026-11-20",
        "mx2",
        Some("certificate-expired"),
    );
    assert_eq!(g["status"], "confirmed");
    assert_eq!(g["reported_failures"], 42);
    assert_eq!(g["log_host"], "mx2");
    assert_eq!(g["log"]["errors"]["certificate_rejected"], 6);
    assert_eq!(
        g["log_ips"],
        serde_json::json!(["209.85.128.170", "209.85.167.41"])
    );
    assert!(
        g["text"]
            .as_str()
            .unwrap()
            .contains("reason=sslv3 alert certificate expired"),
        "{g}"
    );

    let cases = [
        ("Google LLC", "2026-11-20", "mx1", None, "consistent"),
        ("Google LLC", "2026-11-21", "mx1", None, "not_reported"),
        ("Google LLC", "2026-11-21", "mx2", None, "consistent"),
        (
            "Microsoft Corporation",
            "2026-11-20",
            "mx1",
            Some("certificate-host-mismatch"),
            "not_in_logs",
        ),
        (
            "Microsoft Corporation",
            "2026-11-20",
            "mx2",
            Some("dnssec-invalid"),
            "not_visible",
        ),
        (
            "Mailhost Example Ltd",
            "2026-11-20",
            "mx3",
            Some("validation-failure"),
            "unknown_mx",
        ),
        (
            "Postbox Example GmbH",
            "2026-11-20",
            "mx2",
            Some("starttls-not-supported"),
            "confirmed",
        ),
        (
            "Relay Example Inc",
            "2026-11-20",
            "mx1",
            Some("sts-policy-fetch-error"),
            "not_visible",
        ),
    ];
    for (org, day, mx, rt, status) in cases {
        assert_eq!(
            row(doc, org, day, mx, rt)["status"],
            status,
            "{org} {day} {mx}"
        );
    }
    assert_eq!(s["mismatches"], 3);
    assert_eq!(
        row(
            doc,
            "Postbox Example GmbH",
            "2026-11-20",
            "mx2",
            Some("starttls-not-supported")
        )["log"]["plaintext_messages"],
        3
    );
    assert_eq!(
        row(doc, "Google LLC", "2026-11-21", "mx1", None)["log"]["errors"]["handshake"],
        3
    );

    // The model, per organisation × policy × window.
    let reports = doc["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 7);
    let tlsa: Vec<&Value> = reports
        .iter()
        .filter(|r| r["policy_type"] == "tlsa")
        .collect();
    assert_eq!(tlsa.len(), 2);
    assert_eq!(
        tlsa[0]["failures"][0]["failure_reason_code"][0],
        "dane-ee-mismatch"
    );
}

#[test]
fn the_table_shows_the_joined_view() {
    let (out, stdout, stderr) = scan(&["sample-logs/tlsrpt/"], &[]);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("TLS-RPT: 6 reports (7 from 2 files, 5 messages; 1 duplicate, 0 invalid): 330 successful and 53 failed sessions reported; 3 mismatches with our logs"),
        "{stdout}"
    );
    for line in [
        "confirmed: Google LLC reports 42 certificate-expired failures on mx2.example.net on 2026-11-20 (sts policy for example.net); mx2's log shows TLS errors (6 certificate_rejected), 2 TLS sessions from 209.85.128.170, 209.85.167.41 in that window",
        "not_reported: Google LLC reports no failure on mx1.example.net on 2026-11-21",
        "not_in_logs: Microsoft Corporation reports 4 certificate-host-mismatch failures on mx1.example.net on 2026-11-20 (tlsa policy for mx1.example.net); mx1's log shows 4 TLS sessions from 40.107.22.53 in that window: MISMATCH",
        "unknown_mx: Mailhost Example Ltd reports 2 validation-failure failures on mx3.example.net on 2026-11-20 (sts policy for example.net); mx3.example.net is none of our log hosts (mx1, mx2)",
        "Messages: only TLS-RPT reports (5 in 3 stores, read as reports below)",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
    assert!(stdout.contains("REPORTER") && stdout.contains("STATUS"));
}

#[test]
fn malformed_reports_are_skipped_named_and_counted() {
    let (out, stdout, stderr) = scan(&["sample-logs/tlsrpt/", "tests/fixtures/tlsrpt/"], &[]);
    assert!(out.status.success(), "not fatal: {stderr}");
    for want in [
        "tests/fixtures/tlsrpt/broken!example.net!1795132800!1795219199.json: invalid TLS-RPT report: not JSON:",
        "tests/fixtures/tlsrpt/malformed.mbox: message 1 <0011223344556677.20261123T075957.tlsrpt@google.com>: invalid TLS-RPT report: date-range: required field missing",
        "tests/fixtures/tlsrpt/malformed.mbox: message 2 <8899aabbccddeeff.20261124T075956.tlsrpt@google.com>: announces a TLS-RPT report but has no application/tlsrpt+json or +gzip part",
    ] {
        assert!(
            stderr.contains(&format!("mailtls: warning: {want}")),
            "{stderr}"
        );
        assert!(stdout.contains(&format!("skipped: {want}")), "{stdout}");
    }
    assert!(stdout.contains("1 duplicate, 3 invalid"), "{stdout}");
    // The good reports are all still there.
    assert!(stdout.contains("TLS-RPT: 6 reports"), "{stdout}");

    // A report alone (no log) is enough to run, and says no log was read.
    let (v, _) = json(&[
        "tests/fixtures/tlsrpt/",
        "sample-logs/tlsrpt/reports/microsoft-tlsrpt.eml",
    ]);
    let doc = &v["tlsrpt"];
    assert_eq!(doc["summary"]["invalid"], 3);
    assert_eq!(doc["summary"]["distinct_reports"], 1);
    assert!(
        doc["join"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "no_logs" || r["status"] == "not_visible")
    );
    // Only broken reports: still exit 0 with the problems listed? No report could be read
    // and there is no log: nothing could be read.
    let (out, _, stderr) = scan(&["tests/fixtures/tlsrpt/"], &[]);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing could be read"), "{stderr}");
}

#[test]
fn the_report_folder_has_tlsrpt_json_and_the_section() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let (out, _, stderr) = scan(&["sample-logs/tlsrpt/", "-o", dir.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{stderr}");
    let alone: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tlsrpt.json")).unwrap()).unwrap();
    let posture: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("posture.json")).unwrap()).unwrap();
    assert_eq!(alone, posture["tlsrpt"]);
    assert_eq!(alone["schema"], "mailtls.tlsrpt/1");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("<section id=\"tlsrpt\">"));
    assert!(html.contains("Google LLC reports 42 certificate-expired failures on mx2.example.net"));

    // Without reports nothing of it appears.
    let plain = tmp.path().join("p");
    let (out, _, _) = scan(&["sample-logs/maillog", "-o", plain.to_str().unwrap()], &[]);
    assert!(out.status.success());
    assert!(!Path::new(&plain.join("tlsrpt.json")).exists());
    assert!(
        !std::fs::read_to_string(plain.join("index.html"))
            .unwrap()
            .contains("id=\"tlsrpt\"")
    );
}

#[test]
fn events_do_not_read_report_files_as_logs() {
    // Named alone, a report file leaves events nothing to read (it is no log).
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .args([
            "events",
            "sample-logs/tlsrpt/reports/postbox.example!example.net!1795132800!1795219199.json.gz",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to read"));
    // Beside the log, only the log's lines become events.
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .args(["events", "sample-logs/tlsrpt/", "--logs-only"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() > 50);
    assert!(
        text.lines()
            .all(|l| l.contains("\"file\":\"sample-logs/tlsrpt/maillog\"")),
        "{text}"
    );
}
