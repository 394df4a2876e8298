//! Wall-clock figures that used to sit in tests as assertions (issue 23): how long
//! `mailtls follow` takes from a write to the printed event, how much CPU an idle
//! follower uses, how long `check` takes to give up on each hostile server, and how long
//! refusing a `main.cf` of nested references takes. Times
//! depend on the machine and its load, so they are measured and printed here; the tests
//! (`cargo test --test it follow:: hostile_servers::`) keep only the behaviour: every
//! line printed, the verdict and what cut the check.
//!
//! `cargo bench --bench timing [follow_latency|follow_idle_cpu|hostile_check|main_cf_expansion]`
//! (no word: all; about 40 s). It uses the same follow harness and hostile servers as the
//! tests (tests/it/common), and the release build of the binary.

// Tests and benches fail loudly by design; Cargo.toml's [lints] deny these in the library
// and the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../tests/it/common/follow.rs"]
mod follow;
#[allow(dead_code)]
#[path = "../tests/it/common/hostile.rs"]
mod hostile;
#[path = "../tests/it/common/main_cf.rs"]
mod main_cf;

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use mailtls::probe::{self, Target};

use follow::{appender, follow_new_log, number_of, numbered, spawn};
use hostile::{MAX_TIME, OP_TIMEOUT, Script, serve};
use main_cf::{NESTED, nested_main_cf};

fn main() {
    // `cargo bench` passes `--bench`; other words select sections.
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| words.is_empty() || words.iter().any(|w| name.contains(w.as_str()));
    if wanted("follow_latency") {
        follow_latency();
    }
    if wanted("follow_idle_cpu") {
        follow_idle_cpu();
    }
    if wanted("hostile_check") {
        hostile_check();
    }
    if wanted("main_cf_expansion") {
        main_cf_expansion();
    }
}

/// How long refusing a `main.cf` whose references nest nine deep takes (the fuzz
/// regression of tests/it/fuzz_regressions.rs; it asserted < 2 s before).
fn main_cf_expansion() {
    for (fan_out, bottom) in NESTED {
        let text = nested_main_cf(fan_out, bottom);
        let settings = mailtls::setup::postfix::read_main_cf(&text);
        let t = Instant::now();
        let got = mailtls::setup::postfix::expand("$v0", &settings, "/etc/postfix");
        println!(
            "main_cf_expansion/fan_out_{fan_out}: {:.2?} ({})",
            t.elapsed(),
            if got.is_none() { "refused" } else { "expanded" }
        );
    }
}

/// From `write(2)` of a line to the follower's event for it on stdout, 20 lines 30 ms
/// apart, with inotify and with polling.
fn follow_latency() {
    for mode in [&[][..], &["--poll"][..]] {
        let (_dir, log, f) = follow_new_log(mode);
        let mut w = appender(&log);
        let mut lat = Vec::new();
        for i in 1..=20 {
            let t0 = Instant::now();
            w.write_all(numbered(i).as_bytes()).unwrap();
            let (t1, line) = f.lines(1).pop().unwrap();
            assert_eq!(number_of(&line), i);
            lat.push(t1.duration_since(t0));
            thread::sleep(Duration::from_millis(30));
        }
        lat.sort();
        let name = if mode.is_empty() { "inotify" } else { "poll" };
        println!(
            "follow_latency/{name} (20 lines): min {:?}, median {:?}, max {:?}",
            lat[0], lat[10], lat[19]
        );
        f.stop();
    }
}

/// CPU ticks (user + system) of a process, from /proc/PID/stat.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// CPU of a follower with `--metrics` and `--state` over 5 s with nothing to read (a
/// busy loop would be ~100 %; idle wake-ups cost nothing measurable).
fn follow_idle_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    fs::write(&log, numbered(1)).unwrap();
    let state = dir.path().join("state");
    let mut f = spawn(&[
        log.to_str().unwrap(),
        "--metrics",
        "127.0.0.1:0",
        "--state",
        state.to_str().unwrap(),
    ]);
    f.wait_err("reading from byte");
    thread::sleep(Duration::from_millis(300));
    let pid = f.child.id();
    let before = cpu_ticks(pid);
    let t = Instant::now();
    thread::sleep(Duration::from_secs(5));
    let ticks = cpu_ticks(pid) - before;
    let secs = t.elapsed().as_secs_f64();
    let hz = rustix::param::clock_ticks_per_second().max(1) as f64;
    let cpu = ticks as f64 / hz;
    println!(
        "follow_idle_cpu: {ticks} ticks = {cpu:.3} s CPU over {secs:.1} s idle ({:.3} %)",
        100.0 * cpu / secs
    );
    f.stop();
}

/// How long `check` (the library, per-read timeout OP_TIMEOUT, deadline MAX_TIME) takes
/// to end on each hostile server, with its verdict; the tests asserted these bounds
/// before (3 s, or the deadline + 1 s for the trickles; 10 s with `--protocols`).
fn hostile_check() {
    let scripts: [(&str, Script, bool); 9] = [
        ("endless_banner", hostile::endless_banner, false),
        (
            "ten_thousand_continuations",
            hostile::ten_thousand_continuations,
            false,
        ),
        ("endless_ehlo_reply", hostile::endless_ehlo_reply, false),
        ("trickled_ehlo_reply", hostile::trickled_ehlo_reply, false),
        ("trickled_handshake", hostile::trickled_handshake, false),
        (
            "sixteen_megabyte_record",
            hostile::sixteen_megabyte_record,
            false,
        ),
        (
            "sixteen_megabyte_record",
            hostile::sixteen_megabyte_record,
            true,
        ),
        ("reset_mid_handshake", hostile::reset_mid_handshake, false),
        (
            "plaintext_after_starttls",
            hostile::plaintext_after_starttls,
            false,
        ),
    ];
    println!("hostile_check: per-read timeout {OP_TIMEOUT:?}, deadline {MAX_TIME:?}");
    for (name, script, protocols) in scripts {
        let mut o = hostile::options();
        o.protocols = protocols;
        let addr: SocketAddr = serve(script);
        let target = Target {
            host: addr.ip().to_string(),
            port: addr.port(),
        };
        let t = Instant::now();
        let r = probe::check(&target, &o);
        let took = t.elapsed();
        let verdict = r.verify.map_or("-".to_owned(), |v| format!("{v:?}"));
        let flag = if protocols { " --protocols" } else { "" };
        println!("hostile_check/{name}{flag}: {took:.2?} ({verdict})");
    }
    // The binary on the floods (the test bounds its memory; it asserted < 12 s before).
    for (name, script, extra) in [
        ("endless_banner", hostile::endless_banner as Script, &[][..]),
        ("endless_ehlo_reply", hostile::endless_ehlo_reply, &[]),
        (
            "sixteen_megabyte_record",
            hostile::sixteen_megabyte_record,
            &[],
        ),
        (
            "sixteen_megabyte_record",
            hostile::sixteen_megabyte_record,
            &["--protocols"],
        ),
    ] {
        let addr = serve(script);
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_mailtls"))
            .args(["check", "--timeout", "2", "--max-time", "4", "--json"])
            .args(extra)
            .arg(addr.to_string())
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .unwrap();
        let took = t.elapsed();
        let flag = extra.join(" ");
        println!(
            "hostile_check/binary/{name} {flag}: {took:.2?} (exit {:?})",
            out.status.code()
        );
    }
}
