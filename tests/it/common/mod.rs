//! Helpers shared by the test modules: the binary under test, the package's sample logs,
//! the checks on its output that several subjects make, and (in the submodules) the
//! servers and harnesses the tests run it against.

pub mod dns_server;
pub mod follow;
/// The sample generator of the benchmarks (benches/README.md), shared so the tests scan
/// exactly what the benchmarks measure.
#[path = "../../../benches/gen/mod.rs"]
pub mod generator;
pub mod hostile;
pub mod main_cf;
pub mod peak_rss;
pub mod setup;
pub mod smtp_server;
pub mod tls_server;

pub use follow::line_channel;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use serde_json::Value;

/// The package root: the binary runs from here, so tests name inputs the way the README
/// does (`sample-logs/maillog`, `tests/fixtures/…`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed sample logs (`sample-logs/`), whose hand counts the tests assert.
pub fn samples() -> PathBuf {
    root().join("sample-logs")
}

/// `mailtls` as assert_cmd runs it, from the package root, with `TZ=UTC` (syslog stamps
/// carry no zone: without it the times would depend on the machine) and `NO_COLOR=1`.
/// A test of colour removes `NO_COLOR` again.
pub fn mailtls() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("mailtls").expect("the mailtls binary");
    c.current_dir(root()).env("TZ", "UTC").env("NO_COLOR", "1");
    c
}

/// The same as a plain `std::process::Command`, for tests that spawn the binary and talk
/// to it while it runs (follow, signals, pipes); stdin is empty.
pub fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_mailtls"));
    c.current_dir(root())
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    c
}

/// A run's stderr as text (lossy), for assertion messages.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the run exited 0, showing its stderr when it did not; returns it.
pub fn success(o: Output) -> Output {
    assert!(o.status.success(), "{:?}: {}", o.status, stderr(&o));
    o
}

/// `mailtls scan PATHS --format json --year 2026 EXTRA`, which must exit 0.
pub fn scan<P: AsRef<std::ffi::OsStr>>(
    paths: impl IntoIterator<Item = P>,
    extra: &[&str],
) -> Output {
    success(
        mailtls()
            .arg("scan")
            .args(paths)
            .args(["--format", "json", "--year", "2026"])
            .args(extra)
            .output()
            .expect("mailtls runs"),
    )
}

/// The JSON document of [`scan`].
pub fn scan_json<P: AsRef<std::ffi::OsStr>>(
    paths: impl IntoIterator<Item = P>,
    extra: &[&str],
) -> Value {
    serde_json::from_slice(&scan(paths, extra).stdout).expect("scan --format json prints JSON")
}

/// Each line of NDJSON output (`events`, `follow --json`) as a JSON value.
pub fn ndjson(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// `s` without ANSI escape sequences (colour), as a reader sees the text.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Fails when `text` (from `what`) holds anything that acts on a terminal: log data is
/// attacker-chosen and must reach the screen escaped.
pub fn assert_inert(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c != '\n' && mailtls::model::text::is_unsafe(c))
        .collect();
    assert!(bad.is_empty(), "{what}: raw {bad:?} in\n{text}");
}

/// A histogram written the way the hand counts write it, `"TLSv1.3:4 TLSv1/SSLv3:3"`, as
/// a map (the label is everything before the last `:`).
pub fn hist(s: &str) -> BTreeMap<String, u64> {
    s.split_whitespace()
        .map(|p| {
            let (k, v) = p.rsplit_once(':').expect("label:count");
            (k.to_owned(), v.parse().expect("a count"))
        })
        .collect()
}

/// A histogram of the scan JSON (`{"TLSv1.3": 4}`) as a map; absent (null) is empty.
pub fn json_hist(v: &Value) -> BTreeMap<String, u64> {
    if v.is_null() {
        return BTreeMap::new();
    }
    v.as_object()
        .unwrap_or_else(|| panic!("a histogram object: {v}"))
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().expect("a count")))
        .collect()
}

/// A JSON time (`2026-11-27T14:02:11.691190Z`) as the hand counts write it
/// (`2026-11-27 14:02:11.691190`).
pub fn when(v: &Value) -> String {
    v.as_str()
        .unwrap_or("")
        .trim_end_matches('Z')
        .replacen('T', " ", 1)
}
