//! `mailtls report --history DIR` through the real binary, on generated nightly snapshots
//! (`benches/gen/nights.rs`: one per host per night, the library's own serialisation):
//! `trend.csv` has one row per night whose numbers are the night's own (every host
//! merged), and the planted new, gone and regressed peers are found since yesterday and
//! since 7 nights ago, also when a regression only shows once the hosts are merged.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use mailtls::analysis::posture::Posture;
use mailtls::model::{TlsVersion, Verify};
use scraper::{Html, Selector};
use serde_json::Value;

use crate::common::{mailtls, stderr, success};

#[path = "../../benches/gen/nights.rs"]
pub mod nights;

use nights::{Plan, Truth, peer, simple_dir};

pub const NIGHTS: u32 = 12;

fn first() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
}

/// Per night, every peer's (TLS, verified, TLS ≥ 1.2) over all hosts: the oracle.
type Facts = BTreeMap<String, (bool, bool, bool)>;

/// Writes the nights with the planted peers; returns the truth and the oracle's facts.
pub fn plant(dir: &Path, nights: u32) -> (Vec<Truth>, Vec<Facts>) {
    let last = nights - 1;
    let mut facts: Vec<Facts> = vec![Facts::new(); nights as usize];
    let plan = Plan {
        first: first(),
        nights,
        hosts: 3,
        peers_per_host: 40,
        rotate: 0,
        seed: 11,
    };
    let (_, truth) = nights::write(dir, &plan, |n, h, p: &mut Posture| {
        let mut put = |key: &str, d| {
            p.peers.insert(key.into(), peer(key, d, false));
        };
        match h {
            0 => {
                // Verified TLS every night, clear text only on the last.
                put(
                    "regress.example",
                    if n == last {
                        simple_dir(0, 4, Verify::None)
                    } else {
                        simple_dir(5, 0, Verify::Ok)
                    },
                );
                // Verified until 4 nights before the last: lost since 7 nights ago only.
                put(
                    "unverify.example",
                    simple_dir(3, 0, if n + 4 < last { Verify::Ok } else { Verify::No }),
                );
                if n < last {
                    put("leaver.example", simple_dir(2, 0, Verify::Ok));
                } else {
                    put("newcomer.example", simple_dir(2, 1, Verify::No));
                }
            }
            // Unverified on mx1 every night, verified on mx2 until the last night: the
            // merged night loses verification only when mx2 no longer sees it.
            1 => put("shared.example", simple_dir(2, 0, Verify::No)),
            _ if n < last => put("shared.example", simple_dir(2, 0, Verify::Ok)),
            _ => {}
        }
        let f = &mut facts[n as usize];
        for (k, pp) in &p.peers {
            let e = f.entry(k.clone()).or_default();
            for d in [&pp.inbound, &pp.outbound] {
                e.0 |= d.tls_sessions > 0 || d.tls_messages > 0;
                e.1 |= d.verify.get(&Verify::Ok) + d.verify.get(&Verify::Trusted) > 0;
                e.2 |=
                    d.versions.get(&TlsVersion::Tls1_2) + d.versions.get(&TlsVersion::Tls1_3) > 0;
            }
        }
    });
    (truth, facts)
}

/// The oracle's new, gone and regressed peers from `a` to `b`.
fn changes(a: &Facts, b: &Facts) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let new = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
    let gone = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
    let lost = a
        .iter()
        .filter(|(k, x)| {
            b.get(*k)
                .is_some_and(|y| (x.0 && !y.0) || (x.1 && !y.1) || (x.2 && !y.2))
        })
        .map(|(k, _)| k.clone())
        .collect();
    (new, gone, lost)
}

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        String::new()
    } else {
        format!("{:.1}", 100.0 * part as f64 / whole as f64)
    }
}

/// The TLS share of a merged snapshot, summed from its peers here.
fn tls_share_of(snap: &Value) -> String {
    let (mut tls, mut plain) = (0, 0);
    for p in snap["peers"].as_array().unwrap() {
        for d in ["inbound", "outbound"] {
            tls += p[d]["tls_messages"].as_u64().unwrap();
            plain += p[d]["plaintext_messages"].as_u64().unwrap();
        }
    }
    share(tls, tls + plain)
}

#[test]
fn trend_csv_is_each_nights_own_numbers_and_changes_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nightly");
    std::fs::create_dir(&dir).unwrap();
    let (truth, facts) = plant(&dir, NIGHTS);
    let out = tmp.path().join("report");
    let o = success(
        mailtls()
            .args(["report", "--history"])
            .arg(&dir)
            .arg("-o")
            .arg(&out)
            .args(["--as-of", "2026-12-01", "--generated-at", "test"])
            .output()
            .unwrap(),
    );
    assert!(
        stderr(&o).contains("36 snapshots over 12 nights"),
        "{}",
        stderr(&o)
    );

    // trend.csv: one row per night with the night's own numbers.
    let csv = std::fs::read_to_string(out.join("trend.csv")).unwrap();
    let mut rows = csv.lines();
    let head: Vec<&str> = rows.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = rows.map(|r| r.split(',').collect()).collect();
    assert_eq!(rows.len(), NIGHTS as usize);
    for (i, (row, t)) in rows.iter().zip(&truth).enumerate() {
        assert_eq!(row[col("night")], t.date.unwrap().to_string());
        assert_eq!(row[col("snapshots")], "3");
        assert_eq!(row[col("hosts")], "3");
        assert_eq!(row[col("peers")], facts[i].len().to_string());
        assert_eq!(row[col("tls_messages")], t.tls_messages.to_string());
        assert_eq!(
            row[col("plaintext_messages")],
            t.plaintext_messages.to_string()
        );
        assert_eq!(
            row[col("tls_percent")],
            share(t.tls_messages, t.tls_messages + t.plaintext_messages)
        );
        assert_eq!(row[col("verified_percent")], share(t.verified, t.sessions));
        assert_eq!(row[col("local_errors")], t.local_errors.to_string());
        if i > 0 {
            let (new, gone, lost) = changes(&facts[i - 1], &facts[i]);
            assert_eq!(row[col("new_peers")], new.len().to_string(), "night {i}");
            assert_eq!(row[col("gone_peers")], gone.len().to_string(), "night {i}");
            assert_eq!(row[col("regressions")], lost.len().to_string(), "night {i}");
        } else {
            assert_eq!(row[col("new_peers")], "");
        }
    }

    // The share of a night equals that of its hosts merged by `mailtls merge`, and the
    // report's posture.json is the newest night merged.
    for night in [3, NIGHTS - 1] {
        let date = first() + chrono::Duration::days(night.into());
        let files: Vec<_> = (0..3)
            .map(|h| dir.join(nights::file_name(h, date)))
            .collect();
        let merged: Value = serde_json::from_slice(
            &success(mailtls().arg("merge").args(&files).output().unwrap()).stdout,
        )
        .unwrap();
        assert_eq!(
            rows[night as usize][col("tls_percent")],
            tls_share_of(&merged)
        );
        if night == NIGHTS - 1 {
            let posture: Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("posture.json")).unwrap())
                    .unwrap();
            assert_eq!(posture["peers"], merged["peers"]);
            assert_eq!(posture["local_errors"], merged["local_errors"]);
        }
    }

    // The changes of the newest night, on the page: since yesterday and 7 nights ago.
    let last = NIGHTS as usize - 1;
    let html = Html::parse_document(&std::fs::read_to_string(out.join("index.html")).unwrap());
    let text = |sel: &str| -> Vec<String> {
        html.select(&Selector::parse(sel).unwrap())
            .map(|e| e.text().collect::<String>())
            .collect()
    };
    // The trend comes before the run's own charts (which have no time series here).
    let order: Vec<&str> = html
        .select(&Selector::parse("main > section[id]").unwrap())
        .map(|e| e.value().id().unwrap())
        .collect();
    let at = |id: &str| order.iter().position(|x| *x == id).unwrap();
    assert!(
        at("broken") < at("trend") && at("trend") < at("charts"),
        "{order:?}"
    );
    let table = text("#trend-changes tbody tr");
    assert_eq!(table.len(), 2, "{table:?}");
    let items = |back: u32| text(&format!("#trend-since-{back} li"));
    for (back, against, row) in [(1, last - 1, &table[0]), (7, last - 7, &table[1])] {
        let (new, gone, lost) = changes(&facts[against], &facts[last]);
        let date = first() + chrono::Duration::days(against as i64);
        let want = format!(
            "since {} ({date}){}{}{}",
            if back == 1 {
                "yesterday".to_owned()
            } else {
                format!("{back} nights ago")
            },
            new.len(),
            gone.len(),
            lost.len()
        );
        assert_eq!(row, &want);
        let listed = items(back);
        for p in &lost {
            assert!(
                listed.iter().any(|i| i.starts_with(&format!("{p}: lost"))),
                "{p} in {listed:?}"
            );
        }
    }
    let (new, gone, lost) = changes(&facts[last - 1], &facts[last]);
    assert!(new.contains("newcomer.example") && gone.contains("leaver.example"));
    for p in ["regress.example", "shared.example"] {
        assert!(lost.contains(p), "{p} planted: {lost:?}");
    }
    // The planted kinds: TLS lost, and verification lost once the hosts are merged.
    let yesterday = items(1);
    for want in [
        "regress.example: lost TLS",
        "shared.example: lost verified TLS",
    ] {
        assert!(
            yesterday.iter().any(|i| i == want),
            "{want} in {yesterday:?}"
        );
    }
    // Still verified yesterday's night? No: unverified since 4 nights, so only the week.
    assert!(
        !yesterday.iter().any(|i| i.starts_with("unverify.example")),
        "{yesterday:?}"
    );
    let week = items(7);
    assert!(
        week.iter()
            .any(|i| i == "unverify.example: lost verified TLS"),
        "{week:?}"
    );
    let new_line = yesterday.iter().find(|i| i.starts_with("New: ")).unwrap();
    assert!(new_line.contains("newcomer.example"), "{new_line}");
    let gone_line = yesterday.iter().find(|i| i.starts_with("Gone: ")).unwrap();
    assert!(gone_line.contains("leaver.example"), "{gone_line}");
    // The Markdown names them too, and --format csv prints the same trend.csv.
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("## Trend: 12 nights, 2026-11-20 → 2026-12-01"),
        "{md}"
    );
    assert!(
        md.contains("- **regress.example** lost TLS (since yesterday (2026-11-30))"),
        "{md}"
    );
    let o = success(
        mailtls()
            .args(["report", "-q", "--format", "csv", "--history"])
            .arg(&dir)
            .output()
            .unwrap(),
    );
    assert_eq!(String::from_utf8(o.stdout).unwrap(), csv);
}

#[test]
fn repeats_count_once_nameless_empty_nights_come_from_the_file_name_and_junk_is_exit_3() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nightly");
    std::fs::create_dir(&dir).unwrap();
    let (truth, _) = plant(&dir, 3);
    // A copy of one snapshot under another name: counted once.
    let d0 = first();
    std::fs::copy(
        dir.join(nights::file_name(0, d0)),
        dir.join("copy-of-mx0.json"),
    )
    .unwrap();
    // A night with nothing logged: no stamp, its night from the name.
    let empty = nights::snapshot(
        "mx9",
        first() + chrono::Duration::days(5),
        Posture::default(),
        0,
    );
    std::fs::write(dir.join("mx9-2026-11-25.json"), empty.to_json()).unwrap();
    // mx1 scanned twice for one night, over other logs: both count, with a warning.
    let d1 = first() + chrono::Duration::days(1);
    let mut extra = Posture::default();
    extra.peers.insert(
        "late.example".into(),
        peer("late.example", simple_dir(1, 0, Verify::Ok), true),
    );
    let late = nights::snapshot("mx1", d1, extra, 10);
    std::fs::write(dir.join("mx1-rerun-2026-11-21.json"), late.to_json()).unwrap();
    let csv = |o: &std::process::Output| String::from_utf8(o.stdout.clone()).unwrap();
    let o = success(
        mailtls()
            .args(["report", "--format", "csv", "--history"])
            .arg(&dir)
            .output()
            .unwrap(),
    );
    let text = csv(&o);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{text}");
    assert!(
        rows[0].starts_with("2026-11-20,3,3,"),
        "the copy counted once: {text}"
    );
    assert!(
        rows[0].contains(&format!(",{},", truth[0].tls_messages)),
        "{text}"
    );
    assert!(rows[3].starts_with("2026-11-25,1,1,0,0,0,0,,"), "{text}");
    assert!(
        rows[1].starts_with(&format!(
            "2026-11-21,4,3,{},{},{},",
            // The peers of the night before (the same generated and planted ones) and late.example.
            text.lines()
                .nth(1)
                .unwrap()
                .split(',')
                .nth(3)
                .unwrap()
                .parse::<u64>()
                .unwrap()
                + 1,
            truth[1].tls_messages + truth[1].plaintext_messages + 1,
            truth[1].tls_messages + 1
        )),
        "{text}"
    );
    let twice = format!(
        "warning: {}: a second snapshot of host mx1 on the night of 2026-11-21 (the first: {}): both are counted",
        dir.join("mx1-rerun-2026-11-21.json").display(),
        dir.join(nights::file_name(1, d1)).display()
    );
    assert!(stderr(&o).contains(&twice), "{}", stderr(&o));
    // Files are read in name order: the copy comes first, the original is the repeat.
    let repeat = format!(
        "{}: the same logs as {} (counted once)",
        dir.join(nights::file_name(0, d0)).display(),
        dir.join("copy-of-mx0.json").display()
    );
    assert!(stderr(&o).contains(&repeat), "{}", stderr(&o));

    // A file that is no snapshot: named, left out, exit 3 (the trend lacks it).
    std::fs::write(dir.join("notes.json"), "{\"hello\": 1}").unwrap();
    let o = mailtls()
        .args(["report", "--format", "csv", "--history"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("notes.json: not a mailtls snapshot"),
        "{}",
        stderr(&o)
    );
    assert_eq!(csv(&o), text);

    // An empty folder, or snapshots given beside --history: exit 2.
    let none = tmp.path().join("none");
    std::fs::create_dir(&none).unwrap();
    let o = mailtls()
        .args(["report", "--format", "csv", "--history"])
        .arg(&none)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no .json snapshot"), "{}", stderr(&o));
    let o = mailtls()
        .args(["report", "--history"])
        .arg(&none)
        .arg(dir.join(nights::file_name(0, d0)))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
