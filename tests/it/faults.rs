//! Faults at night (issue 20): `follow` behind rotations driven by the real `logrotate`,
//! a restart after a copytruncate, and what the binary does when interrupted or beaten
//! to a resource. Every test drives the real binary; none asserts a duration.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::follow::{HANG, http_get, numbered, spawn};
use crate::common::tls_server::{self, SServer, rsa_cert, starttls_front};
use crate::common::{assert_inert, bin, line_channel};

fn write_lines(log: &Path, range: std::ops::RangeInclusive<usize>) {
    let mut w = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    for i in range {
        w.write_all(numbered(i).as_bytes()).unwrap();
    }
}

/// Runs the real `logrotate -f` on `log` with `directives` (one per line).
fn logrotate(dir: &Path, log: &Path, directives: &str) {
    let conf = dir.join("logrotate.conf");
    fs::write(
        &conf,
        format!(
            "{} {{\n{directives}\nrotate 9\nmissingok\n}}\n",
            log.display()
        ),
    )
    .unwrap();
    let st = Command::new("logrotate")
        .arg("-f")
        .arg("-s")
        .arg(dir.join("logrotate.status"))
        .arg(&conf)
        .status()
        .expect("logrotate is installed (Debian package logrotate)");
    assert!(st.success(), "logrotate failed");
}

/// The follower is stopped (SIGSTOP: a slow consumer, a suspended process) while the
/// log is rotated twice by logrotate; once it goes on, every line is printed once.
fn behind_two_rotations(directives: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    write_lines(&log, 1..=5);
    let mut f = spawn(&[log.to_str().unwrap(), "--json", "--from-start", "--poll"]);
    assert_eq!(f.numbers(5), (1..=5).collect::<Vec<_>>());
    f.signal(rustix::process::Signal::STOP);
    write_lines(&log, 6..=100);
    logrotate(dir.path(), &log, directives);
    write_lines(&log, 101..=200);
    logrotate(dir.path(), &log, directives);
    write_lines(&log, 201..=300);
    f.signal(rustix::process::Signal::CONT);
    let got = f.numbers(295);
    assert_eq!(
        got,
        (6..=300).collect::<Vec<_>>(),
        "{}",
        f.stderr(Duration::ZERO)
    );
    assert_eq!(
        f.extra_numbers(Duration::from_millis(500)),
        Vec::<usize>::new()
    );
    assert_eq!(f.stop().0, 0);
}

#[test]
fn follow_two_create_rotations_behind_reads_each_rotated_file() {
    behind_two_rotations("create\ncompress\ndelaycompress");
}

#[test]
fn follow_two_compressed_rotations_behind_reads_the_gz_files() {
    behind_two_rotations("create\ncompress");
}

#[test]
fn follow_copytruncate_while_behind_reads_the_rest_from_the_copy() {
    for directives in ["copytruncate", "copytruncate\ncompress"] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("maillog");
        write_lines(&log, 1..=5);
        let f = spawn(&[log.to_str().unwrap(), "--json", "--from-start", "--poll"]);
        assert_eq!(f.numbers(5), (1..=5).collect::<Vec<_>>());
        f.signal(rustix::process::Signal::STOP);
        write_lines(&log, 6..=100);
        logrotate(dir.path(), &log, directives);
        // More than was there: a size check alone would take it for growth.
        write_lines(&log, 101..=300);
        f.signal(rustix::process::Signal::CONT);
        assert_eq!(
            f.numbers(295),
            (6..=300).collect::<Vec<_>>(),
            "{directives}"
        );
        assert_eq!(
            f.extra_numbers(Duration::from_millis(500)),
            Vec::<usize>::new()
        );
        let (code, summary) = f.stop();
        assert_eq!(code, 0);
        // Everything was in the copy: no loss is announced.
        assert!(!summary.contains("LOST"), "{summary}");
    }
}

/// `follow LOG --json --from-start --poll --state STATE` and `extra`.
fn state_args<'a>(log: &'a Path, state: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        log.to_str().unwrap(),
        "--json",
        "--from-start",
        "--poll",
        "--state",
        state.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args
}

/// Down while the log is rotated and the rotated file deleted: the lines
/// after the checkpoint are gone. The follower says so, counts it in the closing summary
/// and in `mailtls_follow_losses_total`, and reads the new file from its start.
#[test]
fn a_checkpointed_file_deleted_while_down_is_counted_as_lost() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    let state = dir.path().join("follow.state");
    write_lines(&log, 1..=10);
    let args = state_args(&log, &state, &["--metrics", "127.0.0.1:0"]);
    let f = spawn(&args);
    assert_eq!(f.numbers(10), (1..=10).collect::<Vec<_>>());
    let (code, summary) = f.stop();
    assert_eq!(code, 0);
    assert!(!summary.contains("LOST"), "{summary}");
    // Down: lines 11..=50 are written, logrotate renames the file, and the rotated file
    // is deleted (a cleanup job, or a `rotate 0` set-up); the new file gets 51..=60.
    write_lines(&log, 11..=50);
    logrotate(dir.path(), &log, "create");
    fs::remove_file(dir.path().join("maillog.1")).unwrap();
    write_lines(&log, 51..=60);
    let mut f = spawn(&args);
    assert_eq!(f.numbers(10), (51..=60).collect::<Vec<_>>());
    let addr = f.metrics_addr();
    let (_, metrics) = http_get(&addr, "/metrics");
    assert!(
        metrics.contains("\nmailtls_follow_losses_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nmailtls_follow_lost_bytes_total 0\n"),
        "{metrics}"
    );
    let err = f.stderr(Duration::from_millis(200));
    assert!(err.contains("gone (compressed or deleted)"), "{err}");
    let (code, summary) = f.stop();
    assert_eq!(code, 0);
    assert!(
        summary.contains("LOG DATA LOST 1 time (0 bytes known)"),
        "{summary}"
    );
}

#[test]
fn state_after_a_copytruncate_while_down_resumes_in_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    let state = dir.path().join("follow.state");
    write_lines(&log, 1..=10);
    let args = state_args(&log, &state, &[]);
    let f = spawn(&args);
    assert_eq!(f.numbers(10), (1..=10).collect::<Vec<_>>());
    assert_eq!(f.stop().0, 0);
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(saved["fp_len"], 256, "{saved}");
    // Down: more lines, a copytruncate, then more new content than the saved offset.
    write_lines(&log, 11..=50);
    logrotate(dir.path(), &log, "copytruncate");
    write_lines(&log, 51..=150);
    let f = spawn(&args);
    assert_eq!(f.numbers(140), (11..=150).collect::<Vec<_>>());
    assert_eq!(
        f.extra_numbers(Duration::from_millis(500)),
        Vec::<usize>::new()
    );
    assert_eq!(f.stop().0, 0);
    // No temporary state file is left beside it.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("follow.state"))
        .collect();
    assert_eq!(names, vec!["follow.state"]);
    let _ = File::open(&state).unwrap();
}

// ---------------------------------------------------------------------------------------
// config certs --force and config --apply: locks, staging, kills.

/// A spawned `mailtls` whose stderr lines arrive on a channel.
struct Run {
    child: Child,
    err: Receiver<String>,
}

fn spawn_run(args: &[&str]) -> Run {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mailtls runs");
    let err = line_channel(child.stderr.take().unwrap());
    Run { child, err }
}

impl Run {
    fn wait_err(&self, needle: &str) -> String {
        let deadline = Instant::now() + HANG;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.err.recv_timeout(left) {
                Ok(l) if l.contains(needle) => return l,
                Ok(_) => {}
                Err(e) => panic!("no stderr line with {needle:?} ({e:?})"),
            }
        }
    }

    fn finish(mut self) -> (i32, String) {
        let out = self.child.wait().unwrap();
        let mut stdout = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            std::io::Read::read_to_string(&mut o, &mut stdout).unwrap();
        }
        (out.code().unwrap_or(-1), stdout)
    }

    fn kill_after(mut self, delay: Duration) {
        thread::sleep(delay);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An exclusive flock held by the test itself, as another run would hold it.
fn hold_lock(p: &Path) -> File {
    let f = File::open(p).unwrap();
    f.lock().unwrap();
    f
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// What Sendmail needs of the set, checked with the real openssl: the server key belongs
/// to the server certificate, the CA key to the CA certificate, and the server
/// certificate verifies against the CA.
fn set_is_consistent(d: &Path, c: &Path) -> Result<(), String> {
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let (cert, key) = (d.join("mx-cert.pem"), d.join("mx-key.pem"));
    let (ca, ca_key) = (d.join("cacert.pem"), c.join("cakey.pem"));
    for (k, crt) in [(&key, &cert), (&ca_key, &ca)] {
        let from_cert = openssl(&["x509", "-in", &s(crt), "-noout", "-pubkey"]).1;
        let from_key = openssl(&["pkey", "-in", &s(k), "-pubout"]).1;
        if from_cert.is_empty() || from_cert != from_key {
            return Err(format!(
                "{} does not belong to {}",
                k.display(),
                crt.display()
            ));
        }
    }
    let (ok, _) = openssl(&["verify", "-CAfile", &s(&ca), &s(&cert)]);
    if !ok {
        return Err("the server certificate does not verify against cacert.pem".into());
    }
    Ok(())
}

fn certs_args<'a>(d: &'a str, c: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "config",
        "certs",
        "--dir",
        d,
        "--ca-dir",
        c,
        "--name",
        "mx",
        "--key-type",
        "ecdsa-p256",
    ];
    v.extend_from_slice(extra);
    v
}

fn leftovers(dirs: &[&Path]) -> Vec<String> {
    dirs.iter()
        .flat_map(|d| fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("mailtls-tmp") || n.contains("staging"))
        .collect()
}

#[test]
fn certs_force_runs_at_once_wait_for_each_other_and_leave_a_matching_set() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, c) = (tmp.path().join("certs"), tmp.path().join("ca"));
    let (ds, cs) = (d.to_str().unwrap(), c.to_str().unwrap());
    let (code, _) = spawn_run(&certs_args(ds, cs, &[])).finish();
    assert_eq!(code, 0);
    // Another run holds the directory: both new runs say they wait, then go one by one.
    let held = hold_lock(&d);
    let a = spawn_run(&certs_args(ds, cs, &["--force", "--new-ca"]));
    let b = spawn_run(&certs_args(ds, cs, &["--force", "--new-ca"]));
    a.wait_err("waiting for it to finish");
    b.wait_err("waiting for it to finish");
    drop(held);
    assert_eq!(a.finish().0, 0);
    assert_eq!(b.finish().0, 0);
    set_is_consistent(&d, &c).unwrap();
    // And without a holder, two at once, a few times.
    for _ in 0..3 {
        let a = spawn_run(&certs_args(ds, cs, &["--force", "--new-ca"]));
        let b = spawn_run(&certs_args(ds, cs, &["--force", "--new-ca"]));
        assert_eq!(a.finish().0, 0);
        assert_eq!(b.finish().0, 0);
        set_is_consistent(&d, &c).unwrap();
    }
    assert_eq!(leftovers(&[&d, &c]), Vec::<String>::new());
    // A new CA under another name: one hash link, under the current CA's hash (the old
    // CA's link would name the new certificate under the old subject hash).
    let (code, _) = spawn_run(&certs_args(
        ds,
        cs,
        &["--force", "--new-ca", "--org", "Other Org"],
    ))
    .finish();
    assert_eq!(code, 0);
    set_is_consistent(&d, &c).unwrap();
    let links: Vec<String> = fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| fs::read_link(p).is_ok())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let hash = openssl(&[
        "x509",
        "-in",
        d.join("cacert.pem").to_str().unwrap(),
        "-noout",
        "-subject_hash",
    ])
    .1;
    assert_eq!(links, vec![format!("{}.0", hash.trim())]);
}

/// A tiny deterministic generator for the kill delays (no wall-clock assertions: the
/// delays only spread the kills over the run).
fn delays(n: usize, max_ms: u64) -> Vec<Duration> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_micros(x % (max_ms * 1000))
        })
        .collect()
}

#[test]
fn certs_force_killed_at_random_points_never_leaves_a_mismatched_set() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, c) = (tmp.path().join("certs"), tmp.path().join("ca"));
    let (ds, cs) = (d.to_str().unwrap(), c.to_str().unwrap());
    assert_eq!(spawn_run(&certs_args(ds, cs, &[])).finish().0, 0);
    for (i, delay) in delays(30, 120).into_iter().enumerate() {
        spawn_run(&certs_args(ds, cs, &["--force", "--new-ca"])).kill_after(delay);
        // Either the old set or the new one is in place; a set committed but not yet
        // swapped in (the kill hit between the renames) is finished by the next run.
        let committed = d.join(".mailtls-staging").join("MANIFEST").exists();
        if !committed {
            set_is_consistent(&d, &c).unwrap_or_else(|e| panic!("kill {i} after {delay:?}: {e}"));
        }
    }
    let (code, _) = spawn_run(&certs_args(ds, cs, &["--force"])).finish();
    assert_eq!(code, 0);
    set_is_consistent(&d, &c).unwrap();
    assert_eq!(leftovers(&[&d, &c]), Vec::<String>::new());
}

const MAIN_CF: &str = "smtpd_banner = $myhostname ESMTP $mail_name\nbiff = no\nsmtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\nsmtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key\nsmtpd_tls_security_level=may\n";

fn postfix_apply<'a>(cf: &'a str, name: &'a str) -> Vec<&'a str> {
    vec![
        "config",
        "postfix",
        "--dir",
        "/etc/mail/certs",
        "--name",
        name,
        "--apply",
        cf,
    ]
}

#[test]
fn config_apply_runs_at_once_serialise_and_no_edit_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let cf = tmp.path().join("main.cf");
    fs::write(&cf, MAIN_CF).unwrap();
    let cfs = cf.to_str().unwrap();
    let held = hold_lock(&cf);
    let a = spawn_run(&postfix_apply(cfs, "mxa"));
    let b = spawn_run(&postfix_apply(cfs, "mxb"));
    a.wait_err("waiting for it to finish");
    b.wait_err("waiting for it to finish");
    drop(held);
    let (ca, outa) = a.finish();
    let (cb, outb) = b.finish();
    assert_eq!((ca, cb), (0, 0));
    assert!(
        outa.contains("updated") && outb.contains("updated"),
        "{outa}{outb}"
    );
    // The first backup is the original; the second is what the first run wrote, so the
    // second run edited the first one's result.
    let first = fs::read_to_string(tmp.path().join("main.cf.BACKUP")).unwrap();
    let second = fs::read_to_string(tmp.path().join("main.cf.BACKUP.1")).unwrap();
    assert_eq!(first, MAIN_CF);
    assert_ne!(
        second, MAIN_CF,
        "the second run read the file before the first wrote it"
    );
    let last = fs::read_to_string(&cf).unwrap();
    assert!(
        (second.contains("/mxa-cert.pem") && last.contains("/mxb-cert.pem"))
            || (second.contains("/mxb-cert.pem") && last.contains("/mxa-cert.pem")),
        "{second}\n---\n{last}"
    );
    assert_eq!(leftovers(&[tmp.path()]), Vec::<String>::new());
}

#[test]
fn config_apply_killed_at_random_points_leaves_whole_backups_and_no_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cf = tmp.path().join("main.cf");
    // Big enough that the copies and fsyncs take a while: kills land inside them.
    let mut original = String::from(MAIN_CF);
    while original.len() < 256 << 10 {
        original.push_str("# a long comment kept by every edit, to make the file big\n");
    }
    let cfs = cf.to_str().unwrap();
    for (i, delay) in delays(40, 90).into_iter().enumerate() {
        for e in fs::read_dir(tmp.path()).unwrap() {
            fs::remove_file(e.unwrap().path()).unwrap();
        }
        fs::write(&cf, &original).unwrap();
        spawn_run(&postfix_apply(cfs, "mx")).kill_after(delay);
        // A backup under the documented name is whole, never empty or cut.
        if let Ok(b) = fs::read_to_string(tmp.path().join("main.cf.BACKUP")) {
            assert!(b == original, "kill {i} after {delay:?}: cut backup");
        }
        let now = fs::read_to_string(&cf).unwrap();
        assert!(
            now == original || now.contains("/mx-cert.pem"),
            "kill {i}: cut file"
        );
        // The next run finishes the job and leaves no temporary file.
        let (code, out) = spawn_run(&postfix_apply(cfs, "mx")).finish();
        assert_eq!(code, 0, "{out}");
        assert!(fs::read_to_string(&cf).unwrap().contains("/mx-cert.pem"));
        assert_eq!(
            fs::read_to_string(tmp.path().join("main.cf.BACKUP")).unwrap(),
            original,
            "kill {i}: the original is not under main.cf.BACKUP"
        );
        assert_eq!(leftovers(&[tmp.path()]), Vec::<String>::new(), "kill {i}");
    }
}

// ---------------------------------------------------------------------------------------
// scan -o DIR: the previous complete report survives a full disk.

fn sample(p: &str) -> String {
    format!("{}/sample-logs/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn report_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("charts")] {
        for e in fs::read_dir(&sub).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                v.push((rel, fs::read(e.path()).unwrap()));
            }
        }
    }
    v.sort();
    v
}

#[test]
fn scan_report_on_a_full_disk_keeps_the_previous_report_and_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let rep = tmp.path().join("report");
    let out = bin()
        .args(["scan", "-q", "-o"])
        .arg(&rep)
        .arg(sample("maillog"))
        .output()
        .unwrap();
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1));
    let before = report_files(&rep);
    assert!(before.iter().any(|(n, _)| n == "index.html"));
    // Another log, on a "disk" that takes 64 KiB per file at most (RLIMIT_FSIZE; SIGXFSZ
    // ignored so that the write fails with EFBIG as on a full disk, instead of killing).
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 128; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_mailtls"))
        .args(["scan", "-q", "-o"])
        .arg(&rep)
        .arg(sample("postfix"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("-o") && err.contains("too large"), "{err}");
    assert!(err.contains("previous report"), "{err}");
    assert!(
        report_files(&rep) == before,
        "the previous report was changed"
    );
    let names: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["report"], "temporary directories left");
    // A directory that holds anything else is refused, not replaced.
    fs::write(rep.join("notes.txt"), "mine").unwrap();
    let out = bin()
        .args(["scan", "-q", "-o"])
        .arg(&rep)
        .arg(sample("maillog"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(fs::read_to_string(rep.join("notes.txt")).unwrap(), "mine");
}

// ---------------------------------------------------------------------------------------
// Hostile text on the terminal: policy violations and TLS-RPT warnings.

#[test]
fn policy_violations_and_tlsrpt_warnings_reach_the_terminal_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("maillog");
    fs::write(
        &log,
        "Nov 27 10:00:01 mail sm-mta[4242]: STARTTLS=server, relay=\x1b]0;pwned\x07evil\u{202e}.example [192.0.2.10], version=TLSv1, verify=NO, cipher=AES256-SHA, bits=256/256\n",
    )
    .unwrap();
    let policy = tmp.path().join("policy.toml");
    fs::write(&policy, "min_version = \"TLSv1.2\"\n").unwrap();
    let reports = tmp.path().join("reports");
    fs::create_dir(&reports).unwrap();
    // A report whose organisation name carries an OSC title write and a bidi override,
    // and a broken one whose very file name does.
    let good = fs::read_to_string(sample(
        "tlsrpt/reports/relay.example!example.net!1795132800!1795219199.json",
    ))
    .unwrap()
    .replace(
        "Relay Example Inc",
        "Relay \\u001b]0;pwned\\u0007 Inc \\u202eevil",
    );
    fs::write(
        reports.join("relay.example!example.net!1795132800!1795219199.json"),
        good,
    )
    .unwrap();
    fs::write(
        reports.join("x\x1b]0;pwned\x07\u{202e}!example.net!1795132800!1795219199.json"),
        "{ not json",
    )
    .unwrap();
    let out = bin()
        .args(["scan", "--year", "2026", "--utc", "--policy"])
        .arg(&policy)
        .arg(&log)
        .arg(&reports)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let violation = stderr
        .lines()
        .find(|l| l.starts_with("mailtls: violation: min_version"))
        .unwrap_or_else(|| panic!("no violation in\n{stderr}"));
    assert!(
        violation.contains("\\x1b]0;pwned\\x07evil\\u{202e}.example"),
        "{violation}"
    );
    assert!(
        stderr.contains("x\\x1b]0;pwned\\x07\\u{202e}!example.net"),
        "{stderr}"
    );
    assert_inert("scan stderr", &stderr);
    assert_inert("scan stdout", &stdout);
    assert!(stdout.contains("Relay"), "{stdout}");
}

// ---------------------------------------------------------------------------------------
// The metrics endpoint: bounded threads whatever connects.

fn threads_of(pid: u32) -> usize {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

#[test]
fn metrics_endpoint_keeps_a_fixed_pool_under_200_idle_connections() {
    use std::io::Read;
    use std::net::TcpStream;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    write_lines(&log, 1..=3);
    let f = spawn(&[
        log.to_str().unwrap(),
        "--json",
        "--from-start",
        "--metrics",
        "127.0.0.1:0",
    ]);
    assert_eq!(f.numbers(3), vec![1, 2, 3]);
    let line = loop {
        let l = f.err.recv_timeout(HANG).expect("metrics address on stderr");
        if l.contains("metrics at http://") {
            break l;
        }
    };
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.strip_suffix("/metrics"))
        .unwrap()
        .to_owned();
    let pid = f.child.id();
    let before = threads_of(pid);
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    // Give the server every chance to start a thread per connection.
    let mut most = before;
    for _ in 0..20 {
        thread::sleep(Duration::from_millis(50));
        most = most.max(threads_of(pid));
    }
    assert!(
        most <= before + 1,
        "{most} threads with 200 idle connections (before: {before})"
    );
    drop(idle);
    // A scrape after the flood is answered in full.
    let deadline = Instant::now() + HANG;
    let body = loop {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut resp = String::new();
        let _ = s.read_to_string(&mut resp);
        if resp.starts_with("HTTP/1.1 200") {
            break resp;
        }
        assert!(Instant::now() < deadline, "no 200 answer: {resp:?}");
        thread::sleep(Duration::from_millis(100));
    };
    assert!(body.contains("\r\n\r\n# HELP"), "{body}");
    assert!(body.contains("mailtls_"), "{body}");
    assert_eq!(f.stop().0, 0);
}

// ---------------------------------------------------------------------------------------
// check --protocols --ciphers against a server that answers some connections with 421.

/// `openssl s_server` (TLS 1.2 and 1.3 with OpenSSL's defaults) on 127.0.0.1, with its
/// certificate in a directory that lives as long as the server.
fn s_server() -> (SServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    rsa_cert(dir.path());
    (tls_server::s_server(dir.path(), &[]), dir)
}

/// The STARTTLS front of `tls_server`, refusing connection `n` with 421 when `refuse(n)`.
fn front_421(tls_port: u16, refuse: fn(usize) -> bool) -> u16 {
    starttls_front(tls_port, refuse)
}

fn check_json(port: u16, extra: &[&str]) -> (serde_json::Value, i32) {
    let out = bin()
        .args([
            "check",
            "--protocols",
            "--ciphers",
            "--json",
            "--timeout",
            "2",
        ])
        .args(["--servername", "mx.example.test"])
        .args(extra)
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let rec = v["results"][0].clone();
    (rec, out.status.code().unwrap_or(-1))
}

fn protocol_words(rec: &serde_json::Value) -> Vec<String> {
    rec["protocols"]
        .as_array()
        .expect("protocols")
        .iter()
        .map(|p| format!("{} {}", p["version"].as_str().unwrap(), p["accepted"]))
        .collect()
}

fn cipher_list(rec: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = rec["ciphers"]
        .as_array()
        .expect("ciphers")
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["version"].as_str().unwrap(),
                c["cipher"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

fn step_ok(rec: &serde_json::Value, name: &str) -> bool {
    rec["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no {name} step in {rec}"))["ok"]
        .as_bool()
        .unwrap()
}

#[test]
fn check_retries_after_421_and_finds_what_a_clean_run_finds() {
    let (tls, _dir) = s_server();
    let clean = front_421(tls.port, |_| false);
    let (truth, truth_code) = check_json(clean, &[]);
    assert!(step_ok(&truth, "ciphers"), "{truth}");
    assert!(cipher_list(&truth).len() >= 3, "{truth}");
    // The connection limit bites while the protocol versions are probed, twice in a row
    // (the same probe retried), as Exim's smtp_accept_max does under a burst.
    let limited = front_421(tls.port, |n| n == 4 || n == 5);
    let (rec, code) = check_json(limited, &[]);
    assert_eq!(protocol_words(&rec), protocol_words(&truth), "{rec}");
    assert_eq!(cipher_list(&rec), cipher_list(&truth), "{rec}");
    assert!(
        step_ok(&rec, "protocols") && step_ok(&rec, "ciphers"),
        "{rec}"
    );
    assert_eq!(rec["findings"], truth["findings"], "{rec}");
    assert_eq!(code, truth_code, "{rec}");
}

#[test]
fn check_never_reports_refused_what_a_421_kept_it_from_testing() {
    let (tls, _dir) = s_server();
    // The main check gets through (connection 1); every probe after it meets 421.
    let limited = front_421(tls.port, |n| n > 1);
    let (rec, code) = check_json(limited, &["--min-protocol", "TLSv1.2", "--max-time", "8"]);
    let protocols = rec["protocols"].as_array().unwrap();
    for p in protocols {
        assert!(p["accepted"].is_null(), "{p}");
        assert!(
            p["detail"].as_str().unwrap().starts_with("not tested"),
            "{p}"
        );
    }
    // The first says why: the server's own words.
    assert!(
        protocols[0]["detail"]
            .as_str()
            .unwrap()
            .contains("421 4.7.0 mx.example.test Too many concurrent SMTP connections"),
        "{}",
        protocols[0]
    );
    assert!(!step_ok(&rec, "protocols"), "{rec}");
    assert!(!step_ok(&rec, "ciphers"), "{rec}");
    let findings = rec["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["code"] == "min_protocol" && f["severity"] == "error"),
        "--min-protocol passed with TLS 1.0/1.1 untested: {rec}"
    );
    assert_eq!(rec["status"], "error", "{rec}");
    assert_ne!(code, 0);
    // The deadline cut the retries short, and it is said.
    let text = rec.to_string();
    assert!(text.contains("check deadline reached"), "{text}");
}
