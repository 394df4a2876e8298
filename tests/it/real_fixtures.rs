//! The break matrix on real MTA output (issue 18): every file of `tests/fixtures/real/`
//! (lines that Sendmail 8.17, Postfix 3.7 and Exim 4.96 really wrote, captured by
//! `tests/e2e/run.sh`; see its README) goes through the built binary, and what mailtls
//! concludes must be exactly the row of `tests/fixtures/real/expected.tsv` for that
//! scenario: our incidents by kind, the inbound/outbound counts, the incidents blamed on
//! peers, the downgrade windows, the grades, the `follow` alerts and the advice in that
//! MTA's own terms. The table is the one place to adapt; `tests/e2e/run.sh` asserts the
//! same table on freshly captured lines through `tests/e2e/conclusions.sh`, which
//! computes every field the same way as [`Conclusions::of`] here.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::bin;
use serde_json::Value;

const TABLE: &str = include_str!("../fixtures/real/expected.tsv");

fn real() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real")
}

/// One row of the table, as written there.
#[derive(Debug, Clone)]
struct Row {
    mta: String,
    scenario: String,
    local: String,
    inbound: String,
    outbound: String,
    perr: String,
    windows: String,
    grades: String,
    alerts: String,
    has: String,
    not: String,
}

/// The rows and, per MTA, the words its advice must never use (other MTAs' terms).
fn table() -> (Vec<Row>, BTreeMap<String, Vec<String>>) {
    let mut rows = Vec::new();
    let mut forbid = BTreeMap::new();
    for line in TABLE.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f[0] == "#forbid" {
            forbid.insert(f[1].to_owned(), split_items(f[2]));
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        assert_eq!(f.len(), 11, "expected.tsv: 11 columns in {line:?}");
        rows.push(Row {
            mta: f[0].into(),
            scenario: f[1].into(),
            local: f[2].into(),
            inbound: f[3].into(),
            outbound: f[4].into(),
            perr: f[5].into(),
            windows: f[6].into(),
            grades: f[7].into(),
            alerts: f[8].into(),
            has: f[9].into(),
            not: f[10].into(),
        });
    }
    (rows, forbid)
}

fn split_items(s: &str) -> Vec<String> {
    if s == "-" {
        return Vec::new();
    }
    s.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

fn dash(v: Vec<String>, sep: &str) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(sep)
    }
}

/// `mailtls ARGS… FILE` (scan flags that make the result independent of the machine).
fn scan(format: &str, file: &Path) -> String {
    let out = bin()
        .args(["scan", "--format", format, "--loopback", "--utc"])
        .args(["--year", "2026"])
        .arg(file)
        .output()
        .expect("mailtls runs");
    // scan exits 1 on policy violations: that is a conclusion, not a failure to run.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "mailtls scan --format {format} {}: {:?} {}",
        file.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// What mailtls concludes on one file, each field in the table's notation.
#[derive(Debug, Default)]
struct Conclusions {
    local: String,
    inbound: String,
    outbound: String,
    perr: String,
    windows: String,
    grades: String,
    alerts: String,
    advice: String,
}

impl Conclusions {
    /// The scan-derived fields (the alerts come from the followers, see [`follow_all`]).
    fn of(file: &Path) -> Conclusions {
        let json: Value = serde_json::from_str(&scan("json", file)).expect("posture JSON");
        let csv = scan("csv", file);
        let md = scan("md", file);

        // Our own incidents: local_errors summed over hosts, per kind.
        let mut local: BTreeMap<String, u64> = BTreeMap::new();
        if let Some(hosts) = json["local_errors"].as_object() {
            for kinds in hosts.values() {
                for (k, e) in kinds.as_object().into_iter().flatten() {
                    *local.entry(k.clone()).or_default() += e["count"].as_u64().unwrap_or(0);
                }
            }
        }
        let peers = json["peers"].as_array().cloned().unwrap_or_default();
        let counts = |dir: &str| {
            let n =
                |k: &str| -> u64 { peers.iter().map(|p| p[dir][k].as_u64().unwrap_or(0)).sum() };
            format!(
                "{}/{}/{}/{}",
                n("tls_sessions"),
                n("tls_messages"),
                n("plaintext_messages"),
                n("deferred")
            )
        };
        // Incidents blamed on peers, per direction and kind.
        let mut perr: BTreeMap<String, u64> = BTreeMap::new();
        for p in &peers {
            for (d, key) in [("in", "inbound"), ("out", "outbound")] {
                for (k, e) in p[key]["errors"].as_object().into_iter().flatten() {
                    *perr.entry(format!("{d}:{k}")).or_default() +=
                        e["count"].as_u64().unwrap_or(0);
                }
            }
        }
        // Grades: one per peer (the CSV repeats it per direction).
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).expect("CSV column");
        let (pc, gc) = (col("peer"), col("grade"));
        let mut grades: Vec<String> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                format!("{}={}", f[pc], f[gc])
            })
            .collect();
        grades.sort();
        grades.dedup();

        Conclusions {
            local: dash(local.iter().map(|(k, n)| format!("{k}={n}")).collect(), ","),
            inbound: counts("inbound"),
            outbound: counts("outbound"),
            perr: dash(perr.iter().map(|(k, n)| format!("{k}={n}")).collect(), ","),
            windows: dash(md_windows(&md), ";"),
            grades: dash(grades, ","),
            alerts: String::new(),
            advice: dash(
                md.lines()
                    .filter_map(|l| l.strip_prefix("* cause: ").or(l.strip_prefix("* fix: ")))
                    .map(String::from)
                    .collect(),
                " | ",
            ),
        }
    }
}

/// The "Silent downgrade windows" of the Markdown report as `dir@HH:MM:SS-HH:MM:SS|end`.
fn md_windows(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut on = false;
    for l in md.lines() {
        if l.starts_with("## ") {
            on = l.starts_with("## Silent downgrade windows");
            continue;
        }
        let Some(item) = l.strip_prefix("* ").filter(|_| on) else {
            continue;
        };
        let dir = if item.contains(" in: from ") {
            "in"
        } else if item.contains(" out: from ") {
            "out"
        } else {
            continue;
        };
        let time_after = |word: &str| -> Option<String> {
            let rest = &item[item.find(word)? + word.len()..];
            let t = rest.split_whitespace().nth(1)?;
            Some(t.chars().take(8).collect())
        };
        let start = time_after("from ").unwrap_or_default();
        let end = if item.contains("until the end") {
            "end".to_owned()
        } else {
            time_after("until ").unwrap_or_default()
        };
        out.push(format!("{dir}@{start}-{end}"));
    }
    out
}

/// The first `HH:MM:SS` of the first line of `text` containing `needle` (a log stamp).
fn stamp_of(text: &str, needle: &str) -> String {
    let Some(line) = text.lines().find(|l| l.contains(needle)) else {
        return format!("<no line with {needle:?}>");
    };
    let b = line.as_bytes();
    let d = |i: usize| b[i].is_ascii_digit();
    (0..b.len().saturating_sub(7))
        .find(|&i| {
            d(i) && d(i + 1)
                && b[i + 2] == b':'
                && d(i + 3)
                && d(i + 4)
                && b[i + 5] == b':'
                && d(i + 6)
                && d(i + 7)
        })
        .map(|i| line[i..i + 8].to_owned())
        .unwrap_or_else(|| format!("<no stamp in {line:?}>"))
}

/// The table's window spec (`in@TEXT..end ; out@TEXT..TEXT`) with each TEXT replaced by
/// the stamp of the first line of the file containing it.
fn expected_windows(spec: &str, text: &str) -> String {
    if spec == "-" {
        return "-".into();
    }
    spec.split(';')
        .map(|w| {
            let w = w.trim();
            let (dir, rest) = w.split_once('@').expect("dir@FIRST..LAST");
            let (a, b) = rest.split_once("..").expect("FIRST..LAST");
            let end = if b == "end" {
                "end".into()
            } else {
                stamp_of(text, b)
            };
            format!("{dir}@{}-{end}", stamp_of(text, a))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A follower of one copied file, stopped once its `--state` says it read everything.
struct Follower {
    child: Child,
    state: PathBuf,
    size: u64,
}

/// `mailtls follow --from-start --json` on a copy of each file, all at once; returns the
/// alert records (`alert` names, in order) of each.
fn follow_all(files: &[PathBuf]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut followers: Vec<Follower> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let copy = dir.path().join(format!("{i}.log"));
        fs::copy(f, &copy).unwrap();
        let state = dir.path().join(format!("{i}.state"));
        let child = Command::new(env!("CARGO_BIN_EXE_mailtls"))
            .env("TZ", "UTC")
            .env("NO_COLOR", "1")
            .args([
                "follow",
                "--from-start",
                "--json",
                "--loopback",
                "--utc",
                "--state",
            ])
            .arg(&state)
            .arg(&copy)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mailtls follow runs");
        followers.push(Follower {
            child,
            state,
            size: fs::metadata(&copy).unwrap().len(),
        });
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = Vec::new();
    for f in followers {
        loop {
            let off = fs::read_to_string(&f.state)
                .ok()
                .and_then(|s| serde_json::from_str::<Value>(&s).ok())
                .and_then(|v| v["offset"].as_u64())
                .unwrap_or(0);
            if off >= f.size {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "follow did not read its file within 60 s"
            );
            thread::sleep(Duration::from_millis(50));
        }
        crate::common::follow::signal_child(&f.child, rustix::process::Signal::TERM);
        let o = f.child.wait_with_output().unwrap();
        let alerts: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "alert")
            .map(|v| v["alert"].as_str().unwrap_or("?").to_owned())
            .collect();
        out.push(dash(alerts, ","));
    }
    out
}

/// Checks every row of `mta` on each of its files (both syslog formats when captured);
/// all mismatches are reported together.
fn check_mta(mta: &str) {
    let (rows, forbid) = table();
    let no = forbid.get(mta).cloned().unwrap_or_default();
    let mut cases: Vec<(Row, PathBuf)> = Vec::new();
    for r in rows.iter().filter(|r| r.mta == mta) {
        for suffix in ["log", "trad.log"] {
            let f = real().join(mta).join(format!("{}.{suffix}", r.scenario));
            if f.exists() {
                cases.push((r.clone(), f));
            } else {
                assert!(suffix != "log", "{} has no fixture", f.display());
            }
        }
    }
    assert!(!cases.is_empty(), "no rows for {mta}");
    let files: Vec<PathBuf> = cases.iter().map(|(_, f)| f.clone()).collect();
    let alerts = follow_all(&files);

    let mut report = String::new();
    for ((r, f), alerts) in cases.iter().zip(alerts) {
        let text = fs::read_to_string(f).unwrap();
        let mut c = Conclusions::of(f);
        c.alerts = alerts;
        let name = format!("{mta}/{}", f.file_name().unwrap().to_string_lossy());
        let want_windows = expected_windows(&r.windows, &text);
        for (field, got, want) in [
            ("local", &c.local, &r.local),
            ("in", &c.inbound, &r.inbound),
            ("out", &c.outbound, &r.outbound),
            ("perr", &c.perr, &r.perr),
            ("windows", &c.windows, &want_windows),
            ("grades", &c.grades, &r.grades),
            ("alerts", &c.alerts, &r.alerts),
        ] {
            if got != want {
                let _ = writeln!(report, "{name}: {field}: expected {want}, got {got}");
            }
        }
        let advice = c.advice.to_lowercase();
        for item in split_items(&r.has) {
            if !item
                .split('|')
                .any(|alt| advice.contains(&alt.to_lowercase()))
            {
                let _ = writeln!(report, "{name}: advice lacks {item:?}: {}", c.advice);
            }
        }
        for item in no.iter().chain(split_items(&r.not).iter()) {
            if advice.contains(&item.to_lowercase()) {
                let _ = writeln!(
                    report,
                    "{name}: advice says {item:?} (wrong here, or not {mta}'s terms): {}",
                    c.advice
                );
            }
        }
    }
    assert!(report.is_empty(), "break matrix, {mta}:\n{report}");
}

#[test]
fn sendmail_break_matrix() {
    check_mta("sendmail");
}

#[test]
fn postfix_break_matrix() {
    check_mta("postfix");
}

#[test]
fn exim_break_matrix() {
    check_mta("exim");
}

/// Every captured file has its row and every row its file: a new capture cannot slip in
/// unchecked, a row cannot check nothing.
#[test]
fn every_fixture_has_a_row() {
    let (rows, _) = table();
    let mut seen = Vec::new();
    for mta in ["sendmail", "postfix", "exim"] {
        for e in fs::read_dir(real().join(mta)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let Some(sc) = name.strip_suffix(".log") else {
                continue;
            };
            let sc = sc.strip_suffix(".trad").unwrap_or(sc);
            assert!(
                rows.iter().any(|r| r.mta == mta && r.scenario == sc),
                "{mta}/{name} has no row in expected.tsv"
            );
            seen.push(format!("{mta}/{sc}"));
        }
    }
    for r in &rows {
        assert!(
            seen.contains(&format!("{}/{}", r.mta, r.scenario)),
            "row {}/{} has no fixture",
            r.mta,
            r.scenario
        );
    }
}

/// The window stamps the table resolves from the lines themselves, in the three stamp
/// forms of the fixtures.
#[test]
fn stamps_are_read_from_every_stamp_form() {
    let rfc = "2026-12-06T12:35:10.763834+00:00 vm sm-mta-mx[1]: STARTTLS=server, error: x\n";
    let trad = "Dec  6 12:35:10 vm sm-mta-mx[1]: STARTTLS=server, error: x @00:10:00\n";
    let exim =
        "2026-12-06 12:45:29 TLS error on connection from (a) [127.0.0.1] (cert/key setup: y)\n";
    assert_eq!(stamp_of(rfc, "error: x"), "12:35:10");
    assert_eq!(stamp_of(trad, "error: x"), "12:35:10");
    assert_eq!(stamp_of(exim, "cert/key setup"), "12:45:29");
    assert_eq!(expected_windows("in@error..end", rfc), "in@12:35:10-end");
    assert_eq!(
        md_windows(
            "## Silent downgrade windows\n\n* vm in: from 2026-12-06 12:35:30 until 2026-12-06 12:35:31: 0 messages\n* vm out: from 2026-12-06 12:35:30 until the end of the logs (TLS never resumed): 1\n\n## Peers\n* x in: from a until b\n"
        ),
        vec!["in@12:35:30-12:35:31", "out@12:35:30-end"]
    );
}
