//! Correctness at speed: the sample generator's log (small size, every MTA) scanned by the
//! real binary gives, for every peer and direction, exactly the counts the generator says
//! it wrote. The same generator makes the benchmark inputs (benches/README.md).

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/gen/mod.rs"]
mod generator;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;

use assert_cmd::Command;
use serde_json::Value;

use generator::{Config, DirCounts, PeerCounts};

fn scan(path: &std::path::Path, extra: &[&str]) -> Value {
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .env("TZ", "UTC")
        .arg("scan")
        .arg(path)
        .args(["--format", "json", "--year", "2026"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn dir(v: &Value) -> DirCounts {
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    DirCounts {
        tls_sessions: n("tls_sessions"),
        tls_messages: n("tls_messages"),
        plaintext_messages: n("plaintext_messages"),
        deferred: n("deferred"),
    }
}

fn check_log(cfg: &Config) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mail.log");
    let expected = generator::write_log(cfg, BufWriter::new(File::create(&path).unwrap())).unwrap();
    assert!(expected.sessions > 200, "too small to mean anything");
    let got = scan(&path, &[]);
    let mut peers: BTreeMap<String, PeerCounts> = BTreeMap::new();
    for p in got["peers"].as_array().unwrap() {
        peers.insert(
            p["peer"].as_str().unwrap().to_owned(),
            PeerCounts {
                inbound: dir(&p["inbound"]),
                outbound: dir(&p["outbound"]),
            },
        );
    }
    assert_eq!(
        got["summary"]["lines_read"].as_u64(),
        Some(expected.lines),
        "every line read"
    );
    assert_eq!(got["summary"]["lines_malformed"].as_u64(), Some(0));
    let missing: Vec<&String> = expected
        .peers
        .keys()
        .filter(|k| !peers.contains_key(*k))
        .collect();
    let extra: Vec<&String> = peers
        .keys()
        .filter(|k| !expected.peers.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for (key, want) in &expected.peers {
        assert_eq!(&peers[key], want, "peer {key}");
    }
}

#[test]
fn generated_mixed_log_counts_match_per_peer() {
    check_log(&Config {
        seed: 11,
        bytes: 1 << 20,
        ..Config::default()
    });
}

#[test]
fn generated_logs_of_each_mta_alone_count_match() {
    for (seed, mix) in [(1, [1, 0, 0]), (2, [0, 1, 0]), (3, [0, 0, 1])] {
        check_log(&Config {
            seed,
            bytes: 300 << 10,
            mix,
            peers: 300,
            ..Config::default()
        });
    }
}

#[test]
fn generator_is_deterministic_and_about_sixty_percent_irrelevant() {
    let cfg = Config {
        seed: 5,
        bytes: 256 << 10,
        ..Config::default()
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let ea = generator::write_log(&cfg, &mut a).unwrap();
    generator::write_log(&cfg, &mut b).unwrap();
    assert_eq!(a, b);
    let other = Config {
        seed: 6,
        ..cfg.clone()
    };
    let mut c = Vec::new();
    generator::write_log(&other, &mut c).unwrap();
    assert_ne!(a, c);
    let share = (ea.lines - ea.tls_lines) as f64 / ea.lines as f64;
    assert!((0.5..0.95).contains(&share), "non-TLS share {share}");
    // Zipf: the most frequent peer carries far more sessions than the median one.
    let mut per: Vec<u64> = ea
        .peers
        .values()
        .map(|p| {
            p.inbound.tls_sessions
                + p.inbound.plaintext_messages
                + p.outbound.tls_sessions
                + p.outbound.plaintext_messages
        })
        .collect();
    per.sort_unstable();
    assert!(per[per.len() - 1] > 10 * per[per.len() / 2].max(1));
}

#[test]
fn generated_mbox_is_read_message_by_message() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.mbox");
    let cfg = Config {
        seed: 9,
        bytes: 512 << 10,
        ..Config::default()
    };
    let expected =
        generator::write_mbox(&cfg, BufWriter::new(File::create(&path).unwrap())).unwrap();
    let got = scan(
        &path,
        &["--messages-only", "--our-hosts", "mx-pf.example.net"],
    );
    let m = &got["messages"];
    assert_eq!(m["messages"].as_u64(), Some(expected.messages));
    assert_eq!(m["messages_malformed"].as_u64(), Some(0));
    assert_eq!(m["hops"].as_u64(), Some(expected.received_headers));
}
