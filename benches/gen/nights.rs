//! Nightly snapshots for `mailtls report --history`: `nights` × `hosts` files named
//! `HOST-YYYY-MM-DD.json`, each a `mailtls.posture` snapshot as `mailtls scan --since 24h
//! --format json` writes it at 02:00 (built through the library's own types, so the JSON is
//! the real serialisation), with a few hundred peers per host. Shared by the benchmark
//! (`benches/history.rs`) and `tests/it/history_cli.rs` through `#[path]`.
//!
//! Each host talks to a fixed slice of a pool of peers (slices overlap: partners are
//! shared across hosts) which turns by `rotate` peers a night (churn). Counts, verify words
//! and protocols come from a SplitMix64 stream; every snapshot's numbers are also returned
//! per night ([`Truth`]) so that a test can check what the trend says.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset as _};
use mailtls::analysis::posture::{DirPosture, ErrorStat, PeerPosture, Posture};
use mailtls::model::{Cipher, Summary, TlsErrorKind, TlsVersion, Verify};
use mailtls::report::Snapshot;
use mailtls::report::json::Identity;

// The test crate also includes gen/mod.rs, which loads the same file: one source, so a
// seed means the same stream in both generators.
#[allow(clippy::duplicate_mod)]
#[path = "rng.rs"]
mod rng;
pub use rng::Rng;

/// What to generate.
pub struct Plan {
    pub first: NaiveDate,
    pub nights: u32,
    pub hosts: u32,
    pub peers_per_host: u32,
    /// Peers leaving (and as many arriving) per host per night.
    pub rotate: u32,
    pub seed: u64,
}

/// One night's numbers over every host, as the generator wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Truth {
    pub date: Option<NaiveDate>,
    pub tls_messages: u64,
    pub plaintext_messages: u64,
    pub sessions: u64,
    pub verified: u64,
    pub local_errors: u64,
}

pub fn host_name(h: u32) -> String {
    format!("mx{h}")
}

pub fn file_name(h: u32, date: NaiveDate) -> String {
    format!("{}-{date}.json", host_name(h))
}

fn at(date: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<FixedOffset> {
    let t = date.and_hms_opt(h, m, s).unwrap_or_default();
    DateTime::from_naive_utc_and_offset(t, chrono::Utc.fix())
}

/// A realistic direction of one peer: sessions, messages, mostly verified modern TLS, now
/// and then some clear text.
fn random_dir(rng: &mut Rng, date: NaiveDate) -> DirPosture {
    let sessions = 1 + rng.below(20);
    let mut d = DirPosture {
        tls_sessions: sessions,
        tls_messages: sessions + rng.below(5),
        ..DirPosture::default()
    };
    if rng.below(10) == 0 {
        d.plaintext_messages = 1 + rng.below(5);
    }
    for _ in 0..sessions {
        d.verify.add(&match rng.below(10) {
            0..=5 => Verify::Ok,
            6..=8 => Verify::No,
            _ => Verify::Fail,
        });
        d.versions.add(&match rng.below(20) {
            0..=13 => TlsVersion::Tls1_3,
            14..=18 => TlsVersion::Tls1_2,
            _ => TlsVersion::Tls1_0,
        });
        d.ciphers.add(&Cipher::new(match rng.below(3) {
            0 => "TLS_AES_256_GCM_SHA384",
            1 => "ECDHE-RSA-AES256-GCM-SHA384",
            _ => "TLS_CHACHA20_POLY1305_SHA256",
        }));
    }
    d.min_bits = Some(256);
    d.first_seen = Some(at(date - Duration::days(1), 2, 0, 7));
    d.last_seen = Some(at(date, 1, 59, 50));
    d
}

/// A peer with `d` on one side.
pub fn peer(key: &str, d: DirPosture, inbound: bool) -> PeerPosture {
    let mut p = PeerPosture {
        peer: key.to_owned(),
        ..PeerPosture::default()
    };
    p.names.insert(key.to_owned());
    p.mtas.insert(mailtls::model::Mta::Sendmail);
    if inbound {
        p.inbound = d;
    } else {
        p.outbound = d;
    }
    p
}

/// A direction with `tls` verified TLS 1.3 sessions and `plain` clear-text messages.
pub fn simple_dir(tls: u64, plain: u64, verify: Verify) -> DirPosture {
    let mut d = DirPosture {
        tls_sessions: tls,
        tls_messages: tls,
        plaintext_messages: plain,
        ..DirPosture::default()
    };
    d.verify.add_n(&verify, tls);
    d.versions.add_n(&TlsVersion::Tls1_3, tls);
    d
}

/// Adds a posture's numbers to a night's truth.
pub fn count_into(t: &mut Truth, p: &Posture) {
    for pp in p.peers.values() {
        for d in [&pp.inbound, &pp.outbound] {
            t.tls_messages += d.tls_messages;
            t.plaintext_messages += d.plaintext_messages;
            t.sessions += d.tls_sessions;
            t.verified += d.verify.get(&Verify::Ok) + d.verify.get(&Verify::Trusted);
        }
    }
    for errs in p.local_errors.values() {
        t.local_errors += errs.values().map(|e| e.count).sum::<u64>();
    }
}

/// The snapshot of one host's night, as `scan --since 24h` at 02:00 would write it.
pub fn snapshot(host: &str, date: NaiveDate, posture: Posture, lines: u64) -> Snapshot {
    let mut s = Summary {
        files: 1,
        lines_read: lines,
        lines_recognized: lines * 9 / 10,
        ..Summary::default()
    };
    if !posture.peers.is_empty() || !posture.local_errors.is_empty() {
        s.first_seen = Some(at(date - Duration::days(1), 2, 0, 3));
        s.last_seen = Some(at(date, 1, 59, 58));
    }
    let mut snap = Snapshot::new(s, posture);
    snap.identity = Some(Identity::of(&snap, vec![host.to_owned()]));
    snap
}

/// Writes every snapshot of the plan into `dir`; `extra(night, host, posture)` may plant
/// peers before a snapshot is written. Returns the files and each night's truth.
pub fn write(
    dir: &Path,
    plan: &Plan,
    mut extra: impl FnMut(u32, u32, &mut Posture),
) -> (Vec<PathBuf>, Vec<Truth>) {
    let mut rng = Rng::new(plan.seed);
    let pool = u64::from(plan.peers_per_host) * 4 + u64::from(plan.rotate) * u64::from(plan.nights);
    let mut files = Vec::new();
    let mut truth = Vec::new();
    for n in 0..plan.nights {
        let date = plan.first + Duration::days(n.into());
        let mut t = Truth {
            date: Some(date),
            ..Truth::default()
        };
        for h in 0..plan.hosts {
            let mut p = Posture::default();
            // Host h's slice of the pool, turned by `rotate` a night.
            let start = u64::from(h) * u64::from(plan.peers_per_host) / 2
                + u64::from(n) * u64::from(plan.rotate);
            for j in 0..u64::from(plan.peers_per_host) {
                let i = (start + j) % pool;
                let key = format!("mx{}.partner{i}.example", i % 3);
                let d = random_dir(&mut rng, date);
                p.peers.insert(key.clone(), peer(&key, d, i % 2 == 0));
            }
            // Now and then our own key fails on one host.
            if rng.below(25) == 0 {
                let mut errs = std::collections::BTreeMap::new();
                errs.insert(
                    TlsErrorKind::PrivateKey,
                    ErrorStat {
                        count: 1 + rng.below(4),
                        first_seen: Some(at(date, 0, 10, 0)),
                        last_seen: Some(at(date, 0, 12, 0)),
                        last_text: "STARTTLS=server: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/key.pem) failed".into(),
                        ..ErrorStat::default()
                    },
                );
                p.local_errors.insert(host_name(h), errs);
            }
            extra(n, h, &mut p);
            count_into(&mut t, &p);
            let snap = snapshot(&host_name(h), date, p, 2000 + rng.below(50_000));
            let path = dir.join(file_name(h, date));
            std::fs::write(&path, snap.to_json()).expect("write a snapshot");
            files.push(path);
        }
        truth.push(t);
    }
    (files, truth)
}
