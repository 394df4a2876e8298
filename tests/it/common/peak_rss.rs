//! Runs a child process and reports its peak resident set size, for the tests that
//! bound mailtls' memory on hostile input.
//!
//! GNU time (`/usr/bin/time -f %M`, Debian package `time`) reads the child's own
//! `rusage` from wait4 and writes its `ru_maxrss`. Linux carries the forking parent's peak
//! into the child's `ru_maxrss` (it survives fork and exec), so a figure is only
//! meaningful against a baseline run made the same way from the same small test process:
//! the tests that measure run themselves in one ([`in_own_process`]).

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

/// Runs `program ARGS` (environment from `cmd`, whose stdio is replaced) under GNU time
/// with stdout and stderr into the given files, and returns its exit status and peak RSS
/// in bytes.
pub fn run(cmd: &Command, stdout: &Path, stderr: Option<&Path>) -> (ExitStatus, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rss = dir.path().join("maxrss");
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).expect("stdout file"))
        .stderr(match stderr {
            Some(p) => Stdio::from(std::fs::File::create(p).expect("stderr file")),
            None => Stdio::null(),
        });
    if let Some(d) = cmd.get_current_dir() {
        timed.current_dir(d);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let status = timed
        .status()
        .expect("/usr/bin/time runs (Debian package `time`)");
    // GNU time reports KiB; a child killed by a signal adds a "Command terminated" line.
    let text = std::fs::read_to_string(&rss).expect("time's output");
    let kib: u64 = text
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .next_back()
        .unwrap_or_else(|| panic!("no maxrss in {text:?}"));
    (status, kib * 1024)
}

/// Set in the fresh copy of the test binary that [`in_own_process`] starts.
const OWN_PROCESS: &str = "MAILTLS_TEST_OWN_PROCESS";

/// For a test that measures peak RSS: true in a fresh copy of this test binary that runs
/// only the test `name` (its path in the crate, as `cargo test` lists it), where the
/// caller then measures; elsewhere it runs that copy, asserts that its one test passed,
/// and returns false (the caller returns).
///
/// Why: a child's `ru_maxrss` starts from its parent's peak (see the module doc), and
/// all the integration tests share one process, whose peak grows with whatever the other
/// tests hold at the time. Measured from there, both the baseline and the figure could be
/// that process's peak instead of mailtls' own: a regression would hide under it, or a
/// neighbour's allocation between the two runs would fail the test. A fresh test binary
/// running one test is small and quiet, as each test file's own binary used to be.
pub fn in_own_process(name: &str) -> bool {
    if std::env::var_os(OWN_PROCESS).is_some() {
        return true;
    }
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(OWN_PROCESS, "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{name} in its own process: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    false
}
