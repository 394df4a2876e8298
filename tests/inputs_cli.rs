//! What was read is what is counted (issue 19), through the real binary: duplicate lines
//! across inputs count once, runs that read nothing usable do not look clean, loopback
//! peers are accounted for, directory walks skip what is no mail log, partial inputs and
//! a closed stdout give documented exit codes, undated mbox separators and unrelated JSON
//! are handled as a postmaster's folders hold them.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-logs")
}

fn mailtls(args: &[&str], paths: &[&Path]) -> Output {
    Command::cargo_bin("mailtls")
        .unwrap()
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .args(args)
        .args(paths)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_scan(paths: &[&Path], extra: &[&str]) -> (Value, String) {
    let mut args = vec!["scan", "--format", "json", "--year", "2026", "--utc"];
    args.extend_from_slice(extra);
    let o = mailtls(&args, paths);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (serde_json::from_slice(&o.stdout).unwrap(), stderr(&o))
}

fn postfix_log() -> String {
    std::fs::read_to_string(samples().join("postfix/mail.log")).unwrap()
}

/// The posture and the recognised-line count: what must not change when copies are added.
fn counted(v: &Value) -> (Value, Value, Value) {
    (
        v["peers"].clone(),
        v["local_errors"].clone(),
        v["summary"]["lines_recognized"].clone(),
    )
}

#[test]
fn debian_layout_counts_every_line_once_and_says_where_copies_were_first_read() {
    let log = postfix_log();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // rsyslog on Debian: mail.* to mail.log, *.* to syslog (with other daemons' lines),
    // mail.info / mail.warn / mail.err as subsets on older releases.
    std::fs::write(d.join("mail.log"), &log).unwrap();
    let syslog = format!(
        "Nov 27 05:00:00 mx2 kernel: [    0.000000] Linux version 6.1.0\n{log}Nov 27 23:59:00 mx2 CRON[77]: (root) CMD (true)\n"
    );
    std::fs::write(d.join("syslog"), syslog).unwrap();
    std::fs::write(d.join("mail.info"), &log).unwrap();
    let warn: String = log
        .lines()
        .filter(|l| l.contains("lost connection") || l.contains("warning") || l.contains("error"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!warn.is_empty());
    std::fs::write(d.join("mail.warn"), &warn).unwrap();

    let (alone, _) = json_scan(&[&samples().join("postfix/mail.log")], &[]);
    let (all, err) = json_scan(&[d], &[]);
    assert_eq!(counted(&all), counted(&alone));
    let recognised = alone["summary"]["lines_recognized"].as_u64().unwrap();
    let warn_recognised = json_scan(&[&d.join("mail.warn")], &[]).0["summary"]["lines_recognized"]
        .as_u64()
        .unwrap();
    assert_eq!(
        all["summary"]["lines_duplicate"].as_u64().unwrap(),
        2 * recognised + warn_recognised
    );
    // The most complete copy is read first; every other names it.
    let syslog = d.join("syslog").display().to_string();
    for f in ["mail.log", "mail.info"] {
        let want = format!(
            "{}: {recognised} lines already read from {syslog}",
            d.join(f).display()
        );
        assert!(err.contains(&want), "{want}\n{err}");
    }
    let notes = &all["input"]["duplicates"];
    assert_eq!(notes.as_array().unwrap().len(), 3, "{notes}");
}

/// `v` without its `first_seen`/`last_seen` members.
fn without_times(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.ends_with("_seen"))
                .map(|(k, v)| (k.clone(), without_times(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_times).collect()),
        _ => v.clone(),
    }
}

#[test]
fn one_log_in_two_stamp_formats_counts_once() {
    let log = postfix_log();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bsd.log"), &log).unwrap();
    // The same lines as rsyslog's RFC 3339 template writes them (microseconds, offset).
    let rfc: String = log
        .lines()
        .map(|l| {
            let (stamp, rest) = l.split_at(15);
            let time = stamp.strip_prefix("Nov 27 ").unwrap();
            format!("2026-11-27T{time}.123456+00:00{rest}\n")
        })
        .collect();
    std::fs::write(dir.path().join("rfc3339.log"), rfc).unwrap();
    let (alone, _) = json_scan(&[&samples().join("postfix/mail.log")], &[]);
    let (both, err) = json_scan(&[dir.path()], &[]);
    // The RFC 3339 copy (the larger file) is read first: its sub-second stamps stay.
    assert_eq!(
        without_times(&both["peers"]),
        without_times(&alone["peers"])
    );
    assert_eq!(
        both["summary"]["lines_duplicate"],
        alone["summary"]["lines_recognized"]
    );
    assert!(err.contains("lines already read from"), "{err}");
    // Within one file, equal lines are separate events and are not dropped.
    let twice = dir.path().join("twice.log");
    std::fs::write(&twice, format!("{log}{log}")).unwrap();
    let (v, _) = json_scan(&[&twice], &[]);
    assert_eq!(
        v["summary"]["lines_recognized"].as_u64(),
        alone["summary"]["lines_recognized"].as_u64().map(|n| 2 * n)
    );
}

#[test]
fn a_snapshot_merged_with_itself_counts_once_and_overlaps_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let o = mailtls(
        &["scan", "--format", "json", "--year", "2026"],
        &[&samples().join("postfix/mail.log")],
    );
    assert!(o.status.success());
    std::fs::write(&a, &o.stdout).unwrap();
    let snap: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        snap["identity"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(snap["identity"]["hosts"], serde_json::json!(["mx2"]));

    let m = mailtls(&["merge"], &[&a, &a]);
    assert_eq!(m.status.code(), Some(0));
    let merged: Value = serde_json::from_slice(&m.stdout).unwrap();
    assert_eq!(merged["peers"], snap["peers"]);
    assert_eq!(
        merged["summary"]["lines_recognized"],
        snap["summary"]["lines_recognized"]
    );
    assert!(stderr(&m).contains("counted once"), "{}", stderr(&m));
    // Merging the merge with the original again still counts it once.
    let ab = dir.path().join("ab.json");
    std::fs::write(&ab, &m.stdout).unwrap();
    let m2 = mailtls(&["merge"], &[&ab, &a]);
    let merged2: Value = serde_json::from_slice(&m2.stdout).unwrap();
    assert_eq!(merged2["peers"], snap["peers"]);

    // A wider snapshot of the same host over intersecting times: merged, with a warning.
    let wide = dir.path().join("wide.json");
    let o = mailtls(
        &["scan", "--format", "json", "--year", "2026"],
        &[&samples().join("postfix")],
    );
    std::fs::write(&wide, &o.stdout).unwrap();
    let m3 = mailtls(&["merge"], &[&a, &wide]);
    assert_eq!(m3.status.code(), Some(0));
    assert!(stderr(&m3).contains("overlaps"), "{}", stderr(&m3));
}

#[test]
fn nothing_recognised_exits_2_and_says_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "").unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = mailtls(&["scan", "--policy", policy.to_str().unwrap()], &[&empty]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to read"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());

    // A named file that holds no mail-log line is read, and said to hold none.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "shopping list\nmilk\n").unwrap();
    let o = mailtls(&["scan", "--policy", policy.to_str().unwrap()], &[&notes]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("nothing recognised") && e.contains("notes.txt") && e.contains("2 lines"),
        "{e}"
    );
}

#[test]
fn everything_filtered_out_is_nothing_to_judge_and_reports_say_empty() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "").unwrap();
    let out = dir.path().join("report");
    let log = samples().join("postfix");
    let args = [
        "scan",
        "--year",
        "2026",
        "--since",
        "2030-01-01",
        "--policy",
        policy.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    let o = mailtls(&args, &[&log]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to judge"), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("EMPTY INPUT") && md.contains("by time window"),
        "{md}"
    );
    assert!(!md.contains("None."), "{md}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("EMPTY INPUT") && !html.contains("every peer meets the policy"));
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("posture.json")).unwrap()).unwrap();
    assert_eq!(snap["input"]["empty"], true);

    let mut allow = args.to_vec();
    allow.push("--allow-empty");
    assert_eq!(mailtls(&allow, &[&log]).status.code(), Some(0));
    // Without a policy the run is not failed, but the table says it is empty.
    let o = mailtls(
        &["scan", "--year", "2026", "--since", "2030-01-01"],
        &[&log],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("EMPTY INPUT"));
}

#[test]
fn a_loopback_peer_named_explicitly_is_shown_and_reports_count_the_hidden_ones() {
    let maillog = samples().join("maillog");
    let o = mailtls(&["peer", "127.0.0.1", "--year", "2026"], &[&maillog]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Peer 127.0.0.1") && text.contains("plaintext"),
        "{text}"
    );
    // peer --help's own example: the logging host itself.
    let help = mailtls(&["peer", "--help"], &[]);
    let help = String::from_utf8_lossy(&help.stdout);
    let example = help
        .lines()
        .find(|l| l.contains("sample-logs/maillog"))
        .expect("an example on sample-logs/maillog");
    let words: Vec<&str> = example.split_whitespace().collect();
    let o = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TZ", "UTC")
        .args(&words[1..])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{example}: {}", stderr(&o));

    let o = mailtls(&["scan", "--year", "2026"], &[&maillog]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("loopback peers left out (--loopback)"),
        "{table}"
    );
    let (v, _) = json_scan(&[&maillog], &[]);
    assert!(v["input"]["loopback_peers"].as_u64().unwrap() >= 1);
    let (v, _) = json_scan(&[&maillog], &["--loopback"]);
    assert!(v["input"].get("loopback_peers").is_none_or(|n| n == 0));
}

#[test]
fn binary_sparse_and_unrelated_files_in_a_folder_are_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("mail.log"), postfix_log()).unwrap();
    let mut wtmp = vec![7u8, 0, 0, 0];
    wtmp.extend(b"pts/0\0\0\0ts/0root\0\0\0\0");
    std::fs::write(d.join("wtmp"), &wtmp).unwrap();
    // A 4 GiB sparse lastlog: skipped from its metadata, never read.
    let lastlog = std::fs::File::create(d.join("lastlog")).unwrap();
    lastlog.set_len(4 << 30).unwrap();
    std::fs::write(
        d.join("dpkg.log"),
        "2026-11-28 10:00:00 status installed exim4-base:amd64 4.96-15\n\
         2026-11-28 10:00:01 configure exim4-config:all 4.96-15 <none>\n",
    )
    .unwrap();
    let start = std::time::Instant::now();
    let (v, err) = json_scan(&[d], &[]);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(v["summary"]["files"], 1, "{err}");
    for (f, why) in [
        ("wtmp", "binary"),
        ("lastlog", "sparse"),
        ("dpkg.log", "no mail-log line"),
    ] {
        let note = err
            .lines()
            .filter(|l| l.contains(&format!("{f}: skipped")))
            .collect::<Vec<_>>();
        assert_eq!(note.len(), 1, "{f}: {err}");
        assert!(note[0].contains(why), "{}", note[0]);
    }
    assert!(v["summary"]["unparsed"].get("exim").is_none());
    // --no-skip reads them (the sparse file removed: reading 4 GiB of zeros proves nothing).
    std::fs::remove_file(d.join("lastlog")).unwrap();
    let (v, _) = json_scan(&[d], &["--no-skip"]);
    assert_eq!(v["summary"]["files"], 3);
}

#[test]
fn a_file_truncated_while_read_is_named_and_the_run_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("mail.log");
    let log = postfix_log();
    // Several blocks of 1 MiB, so the reader is held after the first with most unread.
    let copies = (6 << 20) / log.len() + 1;
    std::fs::write(&big, log.repeat(copies)).unwrap();
    let hold = dir.path().join("hold");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mailtls"))
        .env("TZ", "UTC")
        .env("MAILTLS_TEST_HOLD", &hold)
        .args(["scan", "--year", "2026", "--format", "json"])
        .arg(&big)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let reading = dir.path().join("hold.reading");
    let t0 = std::time::Instant::now();
    while !reading.exists() {
        assert!(t0.elapsed().as_secs() < 60, "the reader never started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // logrotate's copytruncate, seen from the reader.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(0)
        .unwrap();
    std::fs::write(dir.path().join("hold.go"), b"").unwrap();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("truncated while being read") && err.contains("mail.log"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["files_incomplete"], 1);
    let read = v["summary"]["lines_read"].as_u64().unwrap();
    assert!(read > 0 && read < (copies * log.lines().count()) as u64);
}

#[test]
fn a_missing_file_among_good_ones_exits_3_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("mail.log.1");
    let good = samples().join("postfix/mail.log");
    let o = mailtls(
        &["scan", "--year", "2026", "--format", "json"],
        &[&good, &missing],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let inc = v["input"]["incomplete"].as_array().unwrap();
    assert_eq!(inc.len(), 1);
    assert!(inc[0].as_str().unwrap().contains("mail.log.1"));
    assert!(stderr(&o).contains("incomplete input"), "{}", stderr(&o));
    // The table's summary says it too.
    let o = mailtls(&["scan", "--year", "2026"], &[&good, &missing]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).contains("INCOMPLETE: "));
}

#[test]
fn a_closed_stdout_is_an_error_and_dev_null_is_not() {
    let bin = assert_cmd::cargo::cargo_bin("mailtls");
    let log = samples().join("postfix/mail.log");
    let run = |redirect: &str| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" scan --year 2026 \"$1\" {redirect}"))
            .arg(&bin)
            .arg(&log)
            .output()
            .unwrap()
    };
    let o = run(">&-");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("standard output is closed"));
    assert_eq!(run(">/dev/null").status.code(), Some(0));
    // `| head`: the reader going away is quiet and not a failure.
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg("\"$0\" scan --year 2026 \"$1\" | head -c 10 >/dev/null; echo ${PIPESTATUS:-0}")
        .arg(&bin)
        .arg(&log)
        .output()
        .unwrap();
    assert!(!stderr(&o).contains("writing output"), "{}", stderr(&o));
}

#[test]
fn undated_mbox_separators_are_mailboxes() {
    let mbox = std::fs::read_to_string(samples().join("messages/bob.mbox")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let mut blank = true;
    let undated: String = mbox
        .lines()
        .map(|l| {
            let separator = blank && l.starts_with("From ");
            blank = l.is_empty();
            if separator {
                n += 1;
                // Netscape/Thunderbird, then Google Takeout.
                if n % 2 == 1 {
                    "From - \n".to_owned()
                } else {
                    "From 1844347792267117879@xxx\n".to_owned()
                }
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert!(n >= 2);
    let f = dir.path().join("Inbox");
    std::fs::write(&f, undated).unwrap();
    let (dated, _) = json_scan(&[&samples().join("messages/bob.mbox")], &[]);
    let (v, err) = json_scan(&[&f], &[]);
    assert_eq!(
        v["messages"]["messages"], dated["messages"]["messages"],
        "{err}"
    );
    assert_eq!(v["messages"]["messages"], n);
}

#[test]
fn a_folder_of_unrelated_json_is_skipped_quietly_and_broken_reports_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("mail.log"), postfix_log()).unwrap();
    for i in 0..30 {
        std::fs::write(
            d.join(format!("package{i}.json")),
            format!("{{\"name\": \"pkg{i}\", \"version\": \"1.0\"}}"),
        )
        .unwrap();
    }
    let (v, err) = json_scan(&[d], &[]);
    assert!(!err.contains("invalid TLS-RPT"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.contains(".json")).count(),
        1,
        "{err}"
    );
    assert_eq!(v["input"]["unrelated_json"], 30);
    // A file that claims to be a report and is broken is still named.
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tlsrpt/broken!example.net!1795132800!1795219199.json"),
        d.join("broken.json"),
    )
    .unwrap();
    let (_, err) = json_scan(&[d], &[]);
    assert!(err.contains("broken.json"), "{err}");
}
