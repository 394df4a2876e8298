//! journald input: the Postfix sample day rewritten as `journalctl -o json` and as
//! `journalctl -o short-iso` output, read from stdin and from a file, must give the same
//! posture as the syslog file itself.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use assert_cmd::Command;
use chrono::{NaiveDate, NaiveTime};
use serde_json::{Value, json};

fn mail_log() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-logs/postfix/mail.log")
}

/// `Nov 27 06:30:10 mx2 postfix/smtpd[2101]: text` → (time, host, program, pid, text).
fn split(line: &str) -> (chrono::NaiveDateTime, String, String, Option<u32>, String) {
    let mut it = line.splitn(5, ' ');
    let (_mon, day, time, host, rest) = (
        it.next().unwrap(),
        it.next().unwrap(),
        it.next().unwrap(),
        it.next().unwrap(),
        it.next().unwrap(),
    );
    let (tag, text) = rest.split_once(": ").unwrap();
    let (program, pid) = match tag.split_once('[') {
        Some((p, pid)) => (p, pid.trim_end_matches(']').parse().ok()),
        None => (tag, None),
    };
    let date = NaiveDate::from_ymd_opt(2026, 11, day.parse().unwrap()).unwrap();
    let t = NaiveTime::parse_from_str(time, "%H:%M:%S").unwrap();
    (
        date.and_time(t),
        host.into(),
        program.into(),
        pid,
        text.into(),
    )
}

fn scan(args: &[&str], stdin: Option<String>) -> Value {
    let mut cmd = Command::cargo_bin("mailtls").unwrap();
    cmd.env("TZ", "UTC")
        .arg("scan")
        .args(args)
        .args(["--format", "json", "--year", "2026"]);
    if let Some(s) = stdin {
        cmd.write_stdin(s);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn journal_json_and_short_iso_read_like_the_syslog_file() {
    let text = std::fs::read_to_string(mail_log()).unwrap();
    let mut json_lines = String::new();
    let mut iso_lines = String::new();
    for line in text.lines() {
        let (t, host, program, pid, msg) = split(line);
        let us = t.and_utc().timestamp_micros();
        let mut o = json!({
            "__CURSOR": format!("s=0;i={us:x}"),
            "__REALTIME_TIMESTAMP": us.to_string(),
            "__MONOTONIC_TIMESTAMP": "1",
            "PRIORITY": "6",
            "SYSLOG_FACILITY": "2",
            "SYSLOG_IDENTIFIER": program,
            "_COMM": program.rsplit('/').next().unwrap(),
            "_HOSTNAME": host,
            "MESSAGE": msg,
        });
        if let Some(p) = pid {
            o["SYSLOG_PID"] = json!(p.to_string());
            o["_PID"] = json!(p.to_string());
        }
        json_lines.push_str(&o.to_string());
        json_lines.push('\n');
        let pid = pid.map(|p| format!("[{p}]")).unwrap_or_default();
        iso_lines.push_str(&format!(
            "{}+0000 {host} {program}{pid}: {msg}\n",
            t.format("%Y-%m-%dT%H:%M:%S")
        ));
    }
    let direct = scan(&[mail_log().to_str().unwrap()], None);
    let from_json = scan(&["-"], Some(json_lines.clone()));
    let from_iso = scan(&["-"], Some(iso_lines));
    assert!(!direct["peers"].as_array().unwrap().is_empty());
    assert_eq!(from_json["peers"], direct["peers"]);
    assert_eq!(from_iso["peers"], direct["peers"]);
    assert_eq!(
        from_json["summary"]["lines_recognized"],
        direct["summary"]["lines_recognized"]
    );

    // The same JSON from a file (journalctl -o json > journal.json).
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("journal.json");
    std::fs::write(&f, json_lines).unwrap();
    let from_file = scan(&[f.to_str().unwrap()], None);
    assert_eq!(from_file["peers"], direct["peers"]);
}
