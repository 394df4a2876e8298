//! Runs a child process and reports its peak resident set size, for the tests that
//! bound mailtls' memory on hostile input.
//!
//! `wait4` returns the child's own `rusage`. Linux carries the forking parent's peak into
//! the child's `ru_maxrss` (it survives fork and exec), so a figure is only meaningful
//! against a baseline run made the same way from the same small test process: the tests
//! that measure run themselves in one ([`in_own_process`]).

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus};

/// Spawns `cmd` (its stdio already set up: nothing may block on a pipe we do not read),
/// waits for it and returns its exit status and peak RSS in bytes.
// The child is reaped by wait4 below, which std's `Child::wait` cannot do with rusage.
#[allow(clippy::zombie_processes)]
pub fn run(cmd: &mut Command) -> (ExitStatus, u64) {
    let child = cmd.spawn().expect("spawn");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: `rusage` is plain data filled in by wait4; `pid` is our own child, reaped
    // here and never waited on through `Child`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(got, pid, "wait4: {}", std::io::Error::last_os_error());
    // Linux reports ru_maxrss in KiB.
    let peak = u64::try_from(usage.ru_maxrss).expect("maxrss") * 1024;
    (ExitStatus::from_raw(status), peak)
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
