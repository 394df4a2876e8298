//! Faults at night (issue 20): `follow` behind rotations driven by the real `logrotate`,
//! a restart after a copytruncate, and what the binary does when interrupted or beaten
//! to a resource. Every test drives the real binary; none asserts a duration.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long any wait may take before the test is declared hung.
const HANG: Duration = Duration::from_secs(20);

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailtls"));
    c.env("NO_COLOR", "1").stdin(Stdio::null());
    c
}

struct Follow {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
    err_seen: Vec<String>,
}

fn spawn_follow(args: &[&str]) -> Follow {
    let mut child = bin()
        .arg("follow")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mailtls runs");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (otx, out) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if otx.send(line).is_err() {
                break;
            }
        }
    });
    let (etx, err) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if etx.send(line).is_err() {
                break;
            }
        }
    });
    Follow {
        child,
        out,
        err,
        err_seen: Vec::new(),
    }
}

impl Follow {
    fn signal(&self, sig: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid, which has not been reaped yet.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }

    /// The peer numbers of the next `n` session events.
    fn numbers(&self, n: usize) -> Vec<usize> {
        let deadline = Instant::now() + HANG;
        let mut v = Vec::with_capacity(n);
        while v.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(l) => v.push(number_of(&l)),
                Err(e) => panic!("got {} of {n} events ({e:?}): {v:?}", v.len()),
            }
        }
        v
    }

    /// Events arriving within `quiet` (to prove nothing more comes).
    fn extra(&self, quiet: Duration) -> Vec<usize> {
        let mut v = Vec::new();
        loop {
            match self.out.recv_timeout(quiet) {
                Ok(l) => v.push(number_of(&l)),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return v;
                }
            }
        }
    }

    /// All stderr seen so far plus what arrives within `quiet`.
    fn stderr(&mut self, quiet: Duration) -> String {
        while let Ok(l) = self.err.recv_timeout(quiet) {
            self.err_seen.push(l);
        }
        self.err_seen.join("\n")
    }

    fn stop(mut self) -> i32 {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + HANG;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "follow did not stop on SIGTERM");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A Sendmail `STARTTLS=server` line naming peer `n`.
fn numbered(n: usize) -> String {
    format!(
        "Nov 28 10:{:02}:{:02} mail sm-mta[{}]: STARTTLS=server, relay=h{n}.senders.example [198.51.100.{}], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n",
        (n / 60) % 60,
        n % 60,
        20_000 + n,
        n % 250 + 1
    )
}

fn number_of(json_line: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(json_line).expect("NDJSON");
    let name = v["peer"]["name"].as_str().expect("peer name");
    name.trim_start_matches('h')
        .split('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a numbered peer: {name}"))
}

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
    let mut f = spawn_follow(&[log.to_str().unwrap(), "--json", "--from-start", "--poll"]);
    assert_eq!(f.numbers(5), (1..=5).collect::<Vec<_>>());
    f.signal(libc::SIGSTOP);
    write_lines(&log, 6..=100);
    logrotate(dir.path(), &log, directives);
    write_lines(&log, 101..=200);
    logrotate(dir.path(), &log, directives);
    write_lines(&log, 201..=300);
    f.signal(libc::SIGCONT);
    let got = f.numbers(295);
    assert_eq!(
        got,
        (6..=300).collect::<Vec<_>>(),
        "{}",
        f.stderr(Duration::ZERO)
    );
    assert_eq!(f.extra(Duration::from_millis(500)), Vec::<usize>::new());
    assert_eq!(f.stop(), 0);
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
        let f = spawn_follow(&[log.to_str().unwrap(), "--json", "--from-start", "--poll"]);
        assert_eq!(f.numbers(5), (1..=5).collect::<Vec<_>>());
        f.signal(libc::SIGSTOP);
        write_lines(&log, 6..=100);
        logrotate(dir.path(), &log, directives);
        // More than was there: a size check alone would take it for growth.
        write_lines(&log, 101..=300);
        f.signal(libc::SIGCONT);
        assert_eq!(
            f.numbers(295),
            (6..=300).collect::<Vec<_>>(),
            "{directives}"
        );
        assert_eq!(f.extra(Duration::from_millis(500)), Vec::<usize>::new());
        assert_eq!(f.stop(), 0);
    }
}

#[test]
fn state_after_a_copytruncate_while_down_resumes_in_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    let state = dir.path().join("follow.state");
    write_lines(&log, 1..=10);
    let args = [
        log.to_str().unwrap(),
        "--json",
        "--from-start",
        "--poll",
        "--state",
        state.to_str().unwrap(),
    ];
    let f = spawn_follow(&args);
    assert_eq!(f.numbers(10), (1..=10).collect::<Vec<_>>());
    assert_eq!(f.stop(), 0);
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(saved["fp_len"], 256, "{saved}");
    // Down: more lines, a copytruncate, then more new content than the saved offset.
    write_lines(&log, 11..=50);
    logrotate(dir.path(), &log, "copytruncate");
    write_lines(&log, 51..=150);
    let f = spawn_follow(&args);
    assert_eq!(f.numbers(140), (11..=150).collect::<Vec<_>>());
    assert_eq!(f.extra(Duration::from_millis(500)), Vec::<usize>::new());
    assert_eq!(f.stop(), 0);
    // No temporary state file is left beside it.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("follow.state"))
        .collect();
    assert_eq!(names, vec!["follow.state"]);
    let _ = File::open(&state).unwrap();
}
