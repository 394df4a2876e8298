//! Visible gaps: lines of a mail program that no parser understood are counted per program
//! in the summary (JSON and table), and `--explain-unparsed N` shows the first N with file
//! and line. Counts from `sample-logs/EXPECTED-postfix-exim.md` §1.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::{Value, json};

fn samples() -> [PathBuf; 2] {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    [d.join("postfix"), d.join("exim")]
}

fn scan(extra: &[&str]) -> (std::process::Output, String) {
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .arg("scan")
        .args(samples())
        .args(["--year", "2026"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

#[test]
fn unparsed_lines_are_counted_per_program() {
    let (out, stderr) = scan(&["--format", "json"]);
    assert!(stderr.is_empty(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Postfix: 29 lines not recognised (the two master `daemon started` lines are daemon
    // starts), of which CRON's is no mail program; Exim: 15.
    assert_eq!(
        v["summary"]["unparsed"],
        json!({"exim": 15, "postfix/anvil": 1, "postfix/cleanup": 13, "postfix/master": 1,
               "postfix/pickup": 3, "postfix/qmgr": 10})
    );

    let (out, _) = scan(&[]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains(
            "not understood: exim 15, postfix/cleanup 13, postfix/qmgr 10, postfix/pickup 3, postfix/anvil 1, \
             postfix/master 1 (--explain-unparsed N shows them)"
        ),
        "{table}"
    );
}

#[test]
fn explain_unparsed_shows_the_first_lines() {
    let (_, stderr) = scan(&["--format", "json", "--explain-unparsed", "2"]);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    for l in &lines[..2] {
        assert!(l.starts_with("mailtls: unparsed: "), "{l}");
        assert!(l.contains(":1: ") || l.contains(":2: "), "file:line in {l}");
    }
    assert_eq!(lines[2], "mailtls: unparsed: … and 41 more");
}
