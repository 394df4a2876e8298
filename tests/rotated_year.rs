//! `--year` names the year of a rotated set's first entry; the later files of the set
//! continue from it across Dec → Jan, while an unrelated log starts again at `--year`.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use serde_json::Value;

fn times(dir: &std::path::Path) -> Vec<(String, String)> {
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .env("TZ", "UTC")
        .arg("events")
        .arg(dir)
        .args(["--year", "2025"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let file = v["file"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned();
            (file, v["time"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn the_year_carries_across_a_rotated_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let line = |stamp: &str, pid: u32, ip: u8| {
        format!(
            "{stamp} mx2 postfix/smtpd[{pid}]: Anonymous TLS connection established from \
             c{ip}.peer.example[192.0.2.{ip}]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 \
             (256/256 bits)\n"
        )
    };
    std::fs::write(
        d.join("mail.log.1"),
        line("Dec 30 23:00:00", 11, 1) + &line("Dec 31 23:59:59", 12, 2),
    )
    .unwrap();
    std::fs::write(
        d.join("mail.log"),
        line("Jan  1 00:00:01", 13, 3) + &line("Jan  2 08:00:00", 14, 4),
    )
    .unwrap();
    // Another log in the same directory, not of the set: it starts at --year again.
    std::fs::write(d.join("other.log"), line("Jan  5 10:00:00", 15, 5)).unwrap();
    let got = times(d);
    let want = [
        ("mail.log.1", "2025-12-30T23:00:00+00:00"),
        ("mail.log.1", "2025-12-31T23:59:59+00:00"),
        ("mail.log", "2026-01-01T00:00:01+00:00"),
        ("mail.log", "2026-01-02T08:00:00+00:00"),
        ("other.log", "2025-01-05T10:00:00+00:00"),
    ]
    .map(|(f, t)| (f.to_owned(), t.to_owned()));
    assert_eq!(got, want);
}
