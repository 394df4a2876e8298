//! Runs a child process and reports its peak resident set size, for the tests that
//! bound mailtls' memory on hostile input.
//!
//! `wait4` returns the child's own `rusage`. Linux carries the forking parent's peak into
//! the child's `ru_maxrss` (it survives fork and exec), so a figure is only meaningful
//! against a baseline run made the same way from the same test process.

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
