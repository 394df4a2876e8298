//! Bad input through the real binary: no panic, a clear message naming the file, the rest
//! still read, and exit 2 only when nothing at all could be read.

use std::fs;
use std::io::Write;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const GOOD: &str = "Nov 27 10:00:01 mail sm-mta[4242]: STARTTLS=server, relay=mx.peer.example [192.0.2.10], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n";

fn mailtls() -> Command {
    let mut c = Command::cargo_bin("mailtls").unwrap();
    c.env("TZ", "UTC").env("NO_COLOR", "1");
    c
}

fn scan_json(args: &[&str]) -> (Value, String, i32) {
    let out = mailtls()
        .arg("scan")
        .args(args)
        .args(["--format", "json", "--year", "2026"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (json, stderr, code)
}

#[test]
fn a_binary_file_is_read_without_panic_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("wtmp");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    fs::write(&bin, bytes).unwrap();
    let (json, stderr, code) = scan_json(&[bin.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("wtmp"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(json["summary"]["lines_recognized"], 0);
}

#[test]
fn invalid_utf8_and_nul_bytes_do_not_hide_good_lines() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("maillog");
    let mut data = Vec::new();
    data.extend_from_slice(b"Nov 27 09:59:59 mail sm-mta[1]: caf\xe9 \xff\xfe latin-1 junk\n");
    data.extend_from_slice(b"\0\0\0\0\0\0\0\0\n");
    data.extend_from_slice(GOOD.as_bytes());
    data.extend_from_slice(b"Nov 27 10:00:02 mail sm-mta[1]: \xc3\x28 broken\r\n");
    fs::write(&f, data).unwrap();
    let (json, stderr, code) = scan_json(&[f.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["summary"]["lines_read"], 4);
    assert_eq!(json["summary"]["lines_recognized"], 1, "{json}");
    assert_eq!(json["peers"][0]["peer"], "mx.peer.example");
}

#[test]
fn a_ten_megabyte_line_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("maillog");
    let mut file = fs::File::create(&f).unwrap();
    file.write_all(GOOD.as_bytes()).unwrap();
    file.write_all(&vec![b'x'; 10 * 1024 * 1024]).unwrap();
    file.write_all(b"\n").unwrap();
    file.write_all(GOOD.as_bytes()).unwrap();
    drop(file);
    let (json, stderr, code) = scan_json(&[f.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["summary"]["lines_read"], 3);
    assert_eq!(json["summary"]["lines_too_long"], 1);
    assert_eq!(json["summary"]["lines_recognized"], 2);
}

#[test]
fn a_truncated_gz_keeps_what_was_read_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("maillog.1.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..2000 {
        enc.write_all(GOOD.as_bytes()).unwrap();
    }
    // Incompressible filler so the cut falls after many whole lines.
    for i in 0..20_000u32 {
        writeln!(
            enc,
            "Nov 27 10:00:03 mail cron[{i}]: {}",
            i.wrapping_mul(2_654_435_761)
        )
        .unwrap();
    }
    let full = enc.finish().unwrap();
    fs::write(&f, &full[..full.len() * 3 / 4]).unwrap();
    let (json, stderr, code) = scan_json(&[f.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("maillog.1.gz") && stderr.contains("read error"),
        "{stderr}"
    );
    assert_eq!(json["summary"]["lines_recognized"], 2000);
}

#[test]
fn an_empty_file_is_reported_but_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("maillog");
    fs::write(&f, b"").unwrap();
    let (json, stderr, code) = scan_json(&[f.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stderr.contains("maillog: empty"), "{stderr}");
    assert_eq!(json["summary"]["peers"], 0);
}

#[test]
fn nothing_readable_exits_2_and_names_the_paths() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-dir");
    fs::create_dir(&empty).unwrap();
    mailtls()
        .args(["scan", empty.to_str().unwrap(), "/nonexistent/mail.log"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("empty-dir")
                .and(predicate::str::contains("/nonexistent/mail.log")),
        );
}

#[test]
fn one_bad_path_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("maillog");
    fs::write(&f, GOOD).unwrap();
    let (json, stderr, code) = scan_json(&["/nonexistent/mail.log", f.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stderr.contains("/nonexistent/mail.log"), "{stderr}");
    assert_eq!(json["summary"]["peers"], 1);
}

#[test]
fn stdin_is_read_with_a_dash() {
    let out = mailtls()
        .args(["scan", "-", "--format", "json", "--year", "2026"])
        .write_stdin(GOOD)
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["peers"][0]["inbound"]["tls_sessions"], 1);
    assert_eq!(json["summary"]["first_seen"], "2026-11-27T10:00:01Z");
}

#[test]
fn bad_flags_are_usage_errors() {
    mailtls()
        .args(["scan", "-", "--since", "yesterday"])
        .write_stdin(GOOD)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--since"));
}
