//! Bad input through the real binary: no panic, a clear message naming the file, the rest
//! still read, and exit 2 only when nothing at all could be read.

use std::fs;
use std::io::Write;

use crate::common::{bin, mailtls, peak_rss};
use predicates::prelude::*;
use serde_json::Value;

const GOOD: &str = "Nov 27 10:00:01 mail sm-mta[4242]: STARTTLS=server, relay=mx.peer.example [192.0.2.10], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n";

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
    let (_, stderr, code) = scan_json(&[bin.to_str().unwrap()]);
    // Issue 19: a run that recognised nothing is no clean run (exit 2, naming what was read).
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("wtmp") && stderr.contains("nothing recognised"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
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

/// Runs `mailtls scan FILES --format json`; also returns its peak RSS (bytes).
fn scan_json_peak_rss(files: &[&std::path::Path]) -> (Value, String, i32, u64) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let mut cmd = bin();
    cmd.arg("scan")
        .args(files)
        .args(["--format", "json", "--year", "2026"]);
    let (status, peak) = peak_rss::run(&cmd, &out_path, Some(&err_path));
    let stderr = fs::read_to_string(&err_path).unwrap();
    let json = serde_json::from_slice(&fs::read(&out_path).unwrap()).unwrap_or(Value::Null);
    (json, stderr, status.code().unwrap_or(-1), peak)
}

/// Extra peak memory allowed for 200 MB of over-long lines over a scan of one line: the
/// block reader skips them instead of buffering, so they cost nothing but time (one
/// buffered line alone would be 100 MB).
const LONG_LINE_EXTRA_RSS: u64 = 16 * 1024 * 1024;

/// Writes `mib` MiB of `x` without holding them in memory (see common/peak_rss.rs: the test
/// process's own peak would show in the child's).
fn write_junk(file: &mut fs::File, mib: usize) {
    let chunk = vec![b'x'; 1024 * 1024];
    for _ in 0..mib {
        file.write_all(&chunk).unwrap();
    }
}

#[test]
fn hundred_megabyte_lines_are_skipped_counted_and_cost_no_memory() {
    if !peak_rss::in_own_process(
        "bad_input::hundred_megabyte_lines_are_skipped_counted_and_cost_no_memory",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // One over-long line ended by a newline in the middle of the file, one without a
    // newline at the end of it, then a second file: everything around them is read.
    let first = dir.path().join("maillog.1");
    let second = dir.path().join("maillog");
    let mut file = fs::File::create(&first).unwrap();
    file.write_all(GOOD.as_bytes()).unwrap();
    write_junk(&mut file, 100);
    file.write_all(b"\n").unwrap();
    file.write_all(GOOD.replace("10:00:01", "10:00:02").as_bytes())
        .unwrap();
    write_junk(&mut file, 100);
    drop(file);
    fs::write(&second, GOOD.replace("10:00:01", "10:00:03")).unwrap();
    let (_, _, _, baseline) = scan_json_peak_rss(&[&second]);
    let (json, stderr, code, peak) = scan_json_peak_rss(&[&first, &second]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(json["summary"]["lines_read"], 5, "{json}");
    assert_eq!(json["summary"]["lines_too_long"], 2, "{json}");
    assert_eq!(json["summary"]["lines_recognized"], 3, "{json}");
    assert_eq!(json["peers"][0]["inbound"]["tls_sessions"], 3, "{json}");
    assert!(
        peak < baseline + LONG_LINE_EXTRA_RSS,
        "peak RSS {} MiB, {} MiB for one line: over the {} MiB allowance",
        peak >> 20,
        baseline >> 20,
        LONG_LINE_EXTRA_RSS >> 20
    );
}

/// A small deterministic generator (xorshift64*), so a failure reproduces.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

#[test]
fn random_bytes_between_good_lines_hide_none_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("maillog");
    let mut data = Vec::new();
    for seed in 1..=50u64 {
        // Random chunks of every size, some with newlines and NULs inside, one good line
        // after each (with the newline the random chunk may lack).
        data.extend_from_slice(&noise((seed as usize * 997) % 5000, seed));
        data.push(b'\n');
        data.extend_from_slice(GOOD.as_bytes());
    }
    fs::write(&f, &data).unwrap();
    let (json, stderr, code) = scan_json(&[f.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(json["summary"]["lines_recognized"], 50, "{json}");
    assert_eq!(json["peers"][0]["inbound"]["tls_sessions"], 50, "{json}");
    // The same bytes through `events` (another consumer of every line).
    let out = mailtls()
        .args(["events", f.to_str().unwrap(), "--year", "2026"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("mx.peer.example"))
        .count();
    assert_eq!(events, 50);
}

#[test]
fn a_crlf_log_reads_exactly_like_its_lf_original() {
    let dir = tempfile::tempdir().unwrap();
    let lf = fs::read("sample-logs/maillog").unwrap();
    let mut crlf = Vec::with_capacity(lf.len() * 2);
    for &b in &lf {
        if b == b'\n' {
            crlf.push(b'\r');
        }
        crlf.push(b);
    }
    let a = dir.path().join("lf.log");
    let b = dir.path().join("crlf.log");
    fs::write(&a, &lf).unwrap();
    fs::write(&b, &crlf).unwrap();
    let (json_lf, _, code_lf) = scan_json(&[a.to_str().unwrap()]);
    let (json_crlf, stderr, code_crlf) = scan_json(&[b.to_str().unwrap()]);
    assert_eq!((code_lf, code_crlf), (0, 0), "{stderr}");
    assert!(json_lf["summary"]["lines_recognized"].as_u64().unwrap() > 100);
    assert_eq!(json_lf["summary"], json_crlf["summary"]);
    assert_eq!(json_lf["peers"], json_crlf["peers"]);
}

#[test]
fn a_latin1_peer_name_is_kept_readable_and_its_session_counted() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("maillog");
    let line = GOOD.replace("mx.peer.example", "m\u{fffd}ller.example");
    // The same line with a raw Latin-1 byte (0xFC, ü) in the peer name.
    let raw = line.replace('\u{fffd}', "\u{1}").into_bytes();
    let raw: Vec<u8> = raw.iter().map(|&c| if c == 1 { 0xfc } else { c }).collect();
    fs::write(&f, raw).unwrap();
    let (json, stderr, code) = scan_json(&[f.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["summary"]["lines_recognized"], 1, "{json}");
    assert_eq!(json["peers"][0]["peer"], "m\u{fffd}ller.example", "{json}");
    assert_eq!(json["peers"][0]["inbound"]["tls_sessions"], 1);
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
    // Issue 19: an input not read to its end gives exit 3 (the report is still made).
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("maillog.1.gz") && stderr.contains("read error"),
        "{stderr}"
    );
    assert_eq!(json["summary"]["lines_recognized"], 2000);
}

#[test]
fn an_empty_file_is_reported_and_nothing_recognised_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("maillog");
    fs::write(&f, b"").unwrap();
    let (_, stderr, code) = scan_json(&[f.to_str().unwrap()]);
    // Issue 19: nothing recognised is exit 2, not a clean report of 0 peers.
    assert_eq!(code, 2);
    assert!(stderr.contains("maillog: empty"), "{stderr}");
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
    // Issue 19: the others are read, and the run says it lacked an input (exit 3).
    assert_eq!(code, 3);
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
