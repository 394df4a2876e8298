//! The fleet flow of docs/fleet.md through the real binary: each logging host's logs are
//! scanned to a snapshot on their own, `mailtls report` renders the snapshots, and the
//! result is the report of one `scan -o` of all the logs: the same numbers in
//! `posture.json`, the same `summary.md` and `posture.csv`, the same charts and headline in
//! `index.html`; also when the snapshots are merged first, in two different groupings.

use std::path::{Path, PathBuf};

use crate::common::{mailtls, stderr, success};
use scraper::{Html, Selector};
use serde_json::Value;

/// The flags that make two runs on the same logs give the same bytes.
const FIXED: &[&str] = &[
    "--year",
    "2026",
    "--utc",
    "--as-of",
    "2026-11-28",
    "--enforce-readiness",
    "--generated-at",
    "2026-11-28 06:00 UTC",
];

/// The judging flags `report` shares with `scan` (no `--year`: nothing is read).
const JUDGE: &[&str] = &[
    "--utc",
    "--as-of",
    "2026-11-28",
    "--enforce-readiness",
    "--generated-at",
    "2026-11-28 06:00 UTC",
];

/// `sample-logs/` split by logging host (sample-logs/README.md): each entry is what one
/// machine would scan. `mail`'s mailboxes go with its log (their hops are the log's own
/// messages); the TLS-RPT reports go with the log of the MX hosts they are about (`mx1`
/// and `mx2` share one file, so they are one snapshot: mailtls has no per-host narrowing).
const HOSTS: &[&[&str]] = &[
    &["sample-logs/maillog", "sample-logs/messages"],
    &["sample-logs/oldrelay"],
    &["sample-logs/relay2"],
    &["sample-logs/chain/relay.maillog"],
    &["sample-logs/chain/mx.mail.log"],
    &["sample-logs/postfix"],
    &["sample-logs/exim"],
    &["sample-logs/tlsrpt"],
];

/// `scan PATHS -o DIR` with [`FIXED`]; the report folder's posture.json.
fn scan_dir(paths: &[&str], dir: &Path) -> PathBuf {
    success(
        mailtls()
            .arg("scan")
            .args(paths)
            .args(FIXED)
            .arg("-o")
            .arg(dir)
            .arg("-q")
            .output()
            .unwrap(),
    );
    dir.join("posture.json")
}

/// `report SNAPSHOTS -o DIR` with [`JUDGE`].
fn report_dir(snapshots: &[PathBuf], dir: &Path) {
    let o = mailtls()
        .arg("report")
        .args(snapshots)
        .args(JUDGE)
        .arg("-o")
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains("warning"), "no warning expected: {err}");
}

fn merge(inputs: &[PathBuf], out: &Path) -> PathBuf {
    let o = success(mailtls().arg("merge").args(inputs).output().unwrap());
    std::fs::write(out, &o.stdout).unwrap();
    out.to_path_buf()
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// The text of every element `css` selects, whitespace collapsed.
fn texts(page: &str, css: &str) -> Vec<String> {
    let doc = Html::parse_document(page);
    doc.select(&Selector::parse(css).unwrap())
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Asserts the report in `fleet` is the report in `one` (a single scan of the same logs).
/// Only what names the inputs differs: the "Read:" line (snapshots vs log paths), the
/// identity (a merge lists its parts), and the TLS-RPT joined view, whose rows for hosts
/// that were scanned without the reports are absent (docs/fleet.md).
fn assert_same_report(one: &Path, fleet: &Path) {
    let (a, b) = (
        json(&one.join("posture.json")),
        json(&fleet.join("posture.json")),
    );
    assert_eq!(b["schema"], "mailtls.posture/2");
    for key in [
        "summary",
        "peers",
        "local_errors",
        "messages",
        "input",
        "timeline",
        "windows",
    ] {
        assert_eq!(a[key], b[key], "posture.json {key}");
    }
    assert_eq!(a["identity"]["hosts"], b["identity"]["hosts"]);
    assert_eq!(a["identity"]["first_seen"], b["identity"]["first_seen"]);
    assert_eq!(a["identity"]["last_seen"], b["identity"]["last_seen"]);
    if a["tlsrpt"].is_object() {
        for key in ["summary", "reports", "log_hosts"] {
            assert_eq!(a["tlsrpt"][key], b["tlsrpt"][key], "tlsrpt {key}");
        }
        let mismatches = |v: &Value| -> Vec<Value> {
            v["tlsrpt"]["join"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| {
                    ["not_in_logs", "not_reported", "unknown_mx"]
                        .contains(&r["status"].as_str().unwrap())
                })
                .cloned()
                .collect()
        };
        assert_eq!(mismatches(&a), mismatches(&b), "the TLS-RPT mismatches");
    } else {
        assert!(b["tlsrpt"].is_null());
    }
    assert_eq!(read(one, "summary.md"), read(fleet, "summary.md"));
    assert_eq!(read(one, "posture.csv"), read(fleet, "posture.csv"));
    let (pa, pb) = (read(one, "index.html"), read(fleet, "index.html"));
    let svgs = |p: &str| p.matches("<svg").count();
    assert!(svgs(&pa) >= 3, "the report has charts: {}", svgs(&pa));
    assert_eq!(svgs(&pa), svgs(&pb), "number of charts");
    for css in [
        "#headline",
        "#hosts",
        "#run",
        "#violations",
        "#input-notes",
        "#broken",
        "#peers",
        "#readiness",
    ] {
        let (ta, tb) = (texts(&pa, css), texts(&pb, css));
        assert!(!ta.is_empty() && !ta[0].is_empty(), "index.html has {css}");
        assert_eq!(ta, tb, "index.html {css}");
    }
    // The charts themselves, byte for byte.
    let mut charts: Vec<_> = std::fs::read_dir(one.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    charts.sort();
    assert!(!charts.is_empty());
    for c in &charts {
        assert_eq!(
            std::fs::read(one.join("charts").join(c)).unwrap(),
            std::fs::read(fleet.join("charts").join(c)).unwrap(),
            "charts/{}",
            c.to_string_lossy()
        );
    }
}

#[test]
fn per_host_snapshots_report_as_one_scan_of_all_the_sample_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all");
    scan_dir(&["sample-logs/"], &all);
    let snaps: Vec<PathBuf> = HOSTS
        .iter()
        .enumerate()
        .map(|(i, paths)| scan_dir(paths, &tmp.path().join(format!("host{i}"))))
        .collect();
    let fleet = tmp.path().join("fleet");
    report_dir(&snaps, &fleet);
    assert_same_report(&all, &fleet);
    // The sample logs' windows and charts are there to compare (sample-logs/EXPECTED.md:
    // the noon key incident of `mail`; tlsrpt/: mx2's group-readable key).
    let p = json(&fleet.join("posture.json"));
    assert!(
        p["windows"].as_array().unwrap().len() >= 2,
        "{}",
        p["windows"]
    );
    assert!(p["timeline"]["buckets"].as_object().unwrap().len() > 24);
    assert!(p["messages"]["messages"].as_u64().unwrap() > 0);
    assert!(p["tlsrpt"]["summary"]["mismatches"].as_u64().unwrap() > 0);
}

/// docs/fleet.md's three hosts: each scans its own logs to a snapshot, and one report is
/// made of them, directly or after `merge` in either grouping.
#[test]
fn three_hosts_three_snapshots_one_report_in_any_grouping() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    let hosts: [&[&str]; 3] = [
        &["sample-logs/maillog", "sample-logs/messages"],
        &["sample-logs/oldrelay"],
        &["sample-logs/relay2"],
    ];
    let all: Vec<&str> = hosts.iter().flat_map(|h| h.iter().copied()).collect();
    scan_dir(&all, &p("all"));
    let [a, b, c] = hosts.map(|h| {
        let name = h[0].rsplit('/').next().unwrap();
        scan_dir(h, &p(name))
    });

    report_dir(&[a.clone(), b.clone(), c.clone()], &p("direct"));
    assert_same_report(&p("all"), &p("direct"));

    let ab = merge(&[a.clone(), b.clone()], &p("ab.json"));
    let ab_c = merge(&[ab, c.clone()], &p("ab_c.json"));
    report_dir(std::slice::from_ref(&ab_c), &p("ab_c"));
    assert_same_report(&p("all"), &p("ab_c"));

    let cb = merge(&[c.clone(), b.clone()], &p("cb.json"));
    report_dir(&[cb, a.clone()], &p("a_cb"));
    assert_same_report(&p("all"), &p("a_cb"));

    // The merged snapshots themselves are one document whatever the grouping.
    let a_bc = merge(&[a, merge(&[b, c], &p("bc.json"))], &p("a_bc.json"));
    assert_eq!(json(&ab_c), json(&a_bc));

    // Three hosts: the merged report names them all, and its windows are `mail`'s.
    let page = read(&p("ab_c"), "index.html");
    assert_eq!(
        texts(&page, "#hosts"),
        vec!["Hosts: mail, oldrelay, relay2".to_owned()]
    );
}

/// A report of a snapshot given twice counts it once (as `merge` does), a policy judges
/// the merged posture as scan judges the logs (same exit code, same violations), and
/// `--history` is refused in this build.
#[test]
fn report_judges_like_scan_and_refuses_what_it_cannot_do() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("policy.toml");
    std::fs::write(&policy, "min_version = \"TLSv1.2\"\n").unwrap();
    let run_scan = mailtls()
        .args(["scan", "sample-logs/maillog", "--policy"])
        .arg(&policy)
        .args(FIXED)
        .args(["-f", "md"])
        .output()
        .unwrap();
    let snap = scan_dir(&["sample-logs/maillog"], &tmp.path().join("mail"));
    let run_report = mailtls()
        .arg("report")
        .arg(&snap)
        .arg(&snap)
        .arg("--policy")
        .arg(&policy)
        .args(JUDGE)
        .args(["-f", "md"])
        .output()
        .unwrap();
    assert_eq!(run_scan.status.code(), Some(1), "{}", stderr(&run_scan));
    assert_eq!(run_report.status.code(), run_scan.status.code());
    assert_eq!(
        String::from_utf8_lossy(&run_report.stdout),
        String::from_utf8_lossy(&run_scan.stdout)
    );
    let violations = |e: &str| e.lines().filter(|l| l.contains("violation:")).count();
    let (es, er) = (stderr(&run_scan), stderr(&run_report));
    assert!(violations(&es) > 0);
    assert_eq!(violations(&es), violations(&er));
    assert!(er.contains("counted once"), "{er}");

    // --history reads a folder (tests/it/history_cli.rs); snapshots beside it are refused.
    let h = mailtls()
        .args([
            "report",
            "--history",
            "reports/",
            "reports/example/posture.json",
        ])
        .output()
        .unwrap();
    assert_eq!(h.status.code(), Some(2));
    assert!(stderr(&h).contains("--history"), "{}", stderr(&h));
}

/// A `mailtls.posture/1` snapshot (as released versions wrote it) is still read: merged with
/// a /2 one it gives /2, and the warning says what it lacks.
#[test]
fn a_version_1_snapshot_merges_into_version_2_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let relay2 = scan_dir(&["sample-logs/relay2"], &tmp.path().join("relay2"));
    let mut old = json(&scan_dir(
        &["sample-logs/oldrelay"],
        &tmp.path().join("old"),
    ));
    let o = old.as_object_mut().unwrap();
    o.insert("schema".into(), "mailtls.posture/1".into());
    o.remove("timeline");
    o.remove("windows");
    let old_path = tmp.path().join("old.json");
    std::fs::write(&old_path, serde_json::to_string(&old).unwrap()).unwrap();
    let out = mailtls()
        .arg("merge")
        .arg(&old_path)
        .arg(&relay2)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let merged: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(merged["schema"], "mailtls.posture/2");
    let err = stderr(&out);
    assert!(
        err.contains("old.json") && err.contains("mailtls.posture/1"),
        "{err}"
    );
    assert!(err.contains("no timeline"), "{err}");
    // The /1 part's counts are there; the time series is relay2's alone.
    let r2 = json(&relay2);
    assert_eq!(
        merged["summary"]["lines_recognized"].as_u64().unwrap(),
        old["summary"]["lines_recognized"].as_u64().unwrap()
            + r2["summary"]["lines_recognized"].as_u64().unwrap()
    );
    assert_eq!(merged["timeline"], r2["timeline"]);
}
