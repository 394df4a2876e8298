//! What a person at a terminal meets (issue 22): the scan table fitted to the terminal in a
//! real pseudo-terminal (`script`), shell completions and the man page, and the examples
//! of every command's `--help`, run.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `mailtls ARGS` inside a pseudo-terminal of `cols` columns (util-linux `script`),
/// so the binary sees a real terminal and its size, as a user's shell gives it. Returns
/// the output with the pty's `\r` and the colour sequences removed.
fn in_pty(cols: u16, args: &str) -> String {
    let cmd = format!(
        "stty cols {cols} rows 60; TZ=UTC exec {} {args}",
        cargo_bin("mailtls").display()
    );
    let o = Std::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(root())
        .env_remove("COLUMNS")
        .output()
        .expect("script (util-linux/bsdutils) is needed for the pty tests");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    strip(&String::from_utf8_lossy(&o.stdout))
}

/// Without `\r` and ANSI SGR sequences.
fn strip(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\r' => {}
            '\x1b' => {
                for d in it.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn peers_json(paths: &[&str]) -> Vec<String> {
    let o = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .env("TZ", "UTC")
        .args(["scan", "--year", "2026", "--format", "json"])
        .args(paths)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["peer"].as_str().unwrap().to_owned())
        .collect()
}

/// Every sample: logs of the three MTAs, message stores and TLS-RPT reports (each section
/// of the table output).
const LOGS: &str = "sample-logs/";

fn check_table(cols: u16) -> String {
    let text = in_pty(cols, &format!("scan --year 2026 {LOGS}"));
    for l in text.lines() {
        assert!(
            l.chars().count() <= usize::from(cols),
            "line wider than {cols}: {l:?}\n{text}"
        );
    }
    // Every peer's name stands whole as a cell of some line.
    let paths: Vec<&str> = LOGS.split(' ').collect();
    let peers = peers_json(&paths);
    assert!(peers.len() > 20, "{peers:?}");
    for p in &peers {
        assert!(
            text.lines().any(|l| l.split_whitespace().any(|w| w == p)),
            "{p} not whole in\n{text}"
        );
    }
    text
}

#[test]
fn scan_table_fits_80_columns_with_whole_peer_names_and_totals_first() {
    let text = check_table(80);
    let first: Vec<&str> = text.lines().take(7).collect();
    assert_eq!(first[0], "Totals", "{text}");
    for what in [
        "messages",
        "of messages over TLS",
        "of TLS sessions verified",
        "peers with clear-text mail",
        "local TLS errors",
        "policy violations",
    ] {
        assert!(first.iter().any(|l| l.contains(what)), "{what}\n{text}");
    }
    let header = text.lines().find(|l| l.starts_with("G  PEER")).unwrap();
    for h in ["DIR", "TLS", "VERSIONS", "VERIFY"] {
        assert!(header.split_whitespace().any(|w| w == h), "{header}");
    }
    assert!(
        !header.contains("WHY"),
        "80 columns leave the reason out: {header}"
    );
}

#[test]
fn scan_table_at_200_columns_shows_more_and_keeps_the_html_order() {
    let text = check_table(200);
    let header = text.lines().find(|l| l.starts_with("G  PEER")).unwrap();
    for h in ["MSGS", "PLAIN", "ERRORS", "LAST SEEN"] {
        assert!(header.contains(h), "{header}");
    }
    // Worst grade first, as the HTML report lists peers: grades never improve upwards.
    let grades: Vec<char> = text
        .lines()
        .skip_while(|l| !l.starts_with("G  PEER"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.chars().next().filter(|c| "ABCDF".contains(*c)))
        .collect();
    assert!(grades.len() > 20);
    assert!(grades.windows(2).all(|w| w[0] >= w[1]), "{grades:?}");
    // --wide: every column whatever the width.
    let wide = in_pty(80, &format!("scan --year 2026 --wide {LOGS}"));
    assert!(
        wide.lines()
            .any(|l| l.starts_with("G  PEER") && l.contains("WHY"))
    );
}

#[test]
fn scan_compare_is_printed_in_table_mode() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.json");
    let o = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .env("TZ", "UTC")
        .args(["scan", "--year", "2026", "--json", "sample-logs/postfix"])
        .output()
        .unwrap();
    assert!(o.status.success());
    std::fs::write(&before, &o.stdout).unwrap();
    let o = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .env("TZ", "UTC")
        .args(["scan", "--year", "2026", "--color", "never"])
        .args(["sample-logs/postfix", "sample-logs/exim", "--compare"])
        .arg(&before)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("What changed since the previous report:"),
        "{text}"
    );
    assert!(text.contains("new peer mx1.club.example"), "{text}");
    assert!(!text.contains('\x1b'));
}

#[test]
fn scan_color_always_colours_a_pipe() {
    let o = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .env("TZ", "UTC")
        .args([
            "scan",
            "--year",
            "2026",
            "--color",
            "always",
            "sample-logs/postfix",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("\x1b[31m"));
    // merge's table too.
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("p.json");
    let o = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .env("TZ", "UTC")
        .args(["scan", "--year", "2026", "--json", "sample-logs/postfix"])
        .output()
        .unwrap();
    std::fs::write(&snap, &o.stdout).unwrap();
    for (when, coloured) in [("always", true), ("never", false)] {
        let o = Command::cargo_bin("mailtls")
            .unwrap()
            .args(["merge", "-f", "table", "--color", when])
            .arg(&snap)
            .output()
            .unwrap();
        assert!(o.status.success());
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).contains('\x1b'),
            coloured,
            "{when}"
        );
    }
}

fn mailtls_out(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("mailtls")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn completions_are_generated_and_bash_parses_them() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let o = mailtls_out(&["completions", shell]);
        assert!(o.status.success(), "{shell}");
        let text = String::from_utf8(o.stdout).unwrap();
        for sub in ["scan", "follow", "doctor", "completions"] {
            assert!(text.contains(sub), "{shell}: {sub}");
        }
        std::fs::write(dir.path().join(shell), &text).unwrap();
    }
    let st = Std::new("bash")
        .arg("-n")
        .arg(dir.path().join("bash"))
        .status()
        .unwrap();
    assert!(st.success(), "bash -n rejects the completion script");
    // And it defines the completion function bash calls.
    let st = Std::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p mailtls",
            dir.path().join("bash").display()
        ))
        .status()
        .unwrap();
    assert!(st.success());
}

/// A roff sanity check that does not need man-db: one `.TH` header, a NAME section for the
/// top page and one per subcommand, every flag of scan's table documented, and no
/// unbalanced bold on a line.
fn roff_sane(page: &str) {
    assert_eq!(
        page.lines().filter(|l| l.starts_with(".TH ")).count(),
        1,
        "one .TH"
    );
    assert!(
        page.contains("\n.TH mailtls 1 "),
        "{}",
        &page[..200.min(page.len())]
    );
    assert_eq!(
        page.lines().filter(|l| *l == ".SH NAME").count(),
        1 + COMMANDS.len(),
        "a NAME section per page"
    );
    for sub in COMMANDS {
        assert!(page.contains(&format!("mailtls\\-{sub}")), "{sub}");
    }
    for flag in ["wide", "color", "json", "format"] {
        assert!(page.contains(&format!("\\-\\-{flag}")), "--{flag}");
    }
    for l in page.lines() {
        assert!(
            l.matches("\\fB").count() <= l.matches("\\fR").count() + l.matches("\\fP").count(),
            "{l}"
        );
    }
}

#[test]
fn man_page_is_generated_and_man_reads_it() {
    let o = mailtls_out(&["man"]);
    assert!(o.status.success());
    let page = String::from_utf8(o.stdout).unwrap();
    roff_sane(&page);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mailtls.1");
    std::fs::write(&f, &page).unwrap();
    if Path::new("/usr/bin/man").exists() {
        let o = Std::new("man")
            .arg("-l")
            .arg(&f)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("STARTTLS"), "{text}");
    }
}

/// The commands a user meets in `mailtls --help`.
const COMMANDS: [&str; 11] = [
    "scan",
    "follow",
    "check",
    "config",
    "doctor",
    "events",
    "peer",
    "message",
    "merge",
    "completions",
    "man",
];

/// The lines of the `Examples:` section of `mailtls CMD --help`, comments removed.
fn examples(cmd: &str) -> Vec<String> {
    let o = mailtls_out(&[cmd, "--help"]);
    assert!(o.status.success(), "{cmd} --help");
    let help = String::from_utf8(o.stdout).unwrap();
    help.lines()
        .skip_while(|l| *l != "Examples:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            assert!(l.chars().count() <= 80, "{cmd}: example wider than 80: {l}");
            let l = l.split(" # ").next().unwrap();
            l.trim().to_owned()
        })
        .collect()
}

/// Shell words, with single and double quotes (what the examples use).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// An argument naming a file or folder.
fn is_path(w: &str) -> bool {
    !w.starts_with('-')
        && (w.contains('/')
            || w.starts_with('~')
            || [".json", ".toml", ".txt", ".log", ".pem"]
                .iter()
                .any(|e| w.ends_with(e)))
}

#[test]
fn every_command_has_help_examples_and_the_offline_ones_run() {
    let scratch = tempfile::tempdir().unwrap();
    for cmd in COMMANDS {
        let ex = examples(cmd);
        assert!(!ex.is_empty(), "mailtls {cmd} --help has no example");
        let mut ran = 0;
        for line in &ex {
            // A line of its own per example: a command, never the wrapped tail of one.
            let first = line.split(['|', '&']).next().unwrap().trim();
            let w = words(first);
            assert!(
                ["mailtls", "zcat"].contains(&w[0].as_str()),
                "{cmd}: not a command line: {line}"
            );
            if w[0] != "mailtls" {
                continue;
            }
            // The output redirection is the shell's; the command is what we run.
            let w: Vec<String> = w.into_iter().take_while(|x| x != ">").collect();
            // `check` talks to the network and `follow` never ends: their examples are
            // parsed above, not run.
            if ["check", "follow"].contains(&w[1].as_str()) {
                continue;
            }
            let offline = w[1..]
                .iter()
                .filter(|x| is_path(x))
                .all(|x| x.starts_with("sample-logs/") || x.starts_with("/tmp/demo/"));
            if !offline {
                continue;
            }
            let args: Vec<String> = w[1..]
                .iter()
                .map(|x| x.replace("/tmp/demo/", &format!("{}/", scratch.path().display())))
                .collect();
            let o = Command::cargo_bin("mailtls")
                .unwrap()
                .current_dir(root())
                .env("TZ", "UTC")
                .args(&args)
                .timeout(std::time::Duration::from_secs(120))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            // 0; for doctor 1 is its answer (the sample log's TLS errors are findings).
            // Never a usage error, never "not found" (message exits 1 for an unknown id).
            let ok = match o.status.code() {
                Some(0) => true,
                Some(1) => cmd == "doctor",
                _ => false,
            };
            assert!(ok, "{line}: exit {:?}\n{err}", o.status.code());
            assert!(!o.stdout.is_empty(), "{line}: no output");
            ran += 1;
        }
        if !["check", "follow", "merge"].contains(&cmd) {
            assert!(ran > 0, "mailtls {cmd}: no example runs offline: {ex:?}");
        }
    }
}

#[test]
fn help_points_to_nothing_only_a_source_checkout_has() {
    for cmd in COMMANDS {
        let o = mailtls_out(&[cmd, "--help"]);
        let help = String::from_utf8(o.stdout).unwrap();
        assert!(
            !help.contains("src/"),
            "mailtls {cmd} --help names a source file"
        );
    }
}

fn run_in_root(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .env("TZ", "UTC")
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn json_is_format_json_everywhere() {
    let log = "sample-logs/maillog";
    for (a, b) in [
        (
            vec!["scan", log, "--year", "2026", "--json"],
            vec!["scan", log, "--year", "2026", "--format", "json"],
        ),
        (
            vec!["peer", "127.0.0.1", log, "--year", "2026", "--json"],
            vec![
                "peer",
                "127.0.0.1",
                log,
                "--year",
                "2026",
                "--format",
                "json",
            ],
        ),
        (
            vec![
                "message",
                "6ARA01xK004242",
                "sample-logs/chain/",
                "--year",
                "2026",
                "--json",
            ],
            vec![
                "message",
                "6ARA01xK004242",
                "sample-logs/chain/",
                "--year",
                "2026",
                "--format",
                "json",
            ],
        ),
        (
            vec!["events", log, "--year", "2026", "--json"],
            vec!["events", log, "--year", "2026", "--format", "json"],
        ),
        (
            vec!["doctor", "--log", log, "--json"],
            vec!["doctor", "--log", log, "--format", "json"],
        ),
    ] {
        let (ca, oa, ea) = run_in_root(&a);
        let (cb, ob, _) = run_in_root(&b);
        assert_eq!(ca, cb, "{a:?}: {ea}");
        assert!(oa.trim_start().starts_with('{'), "{a:?}: {oa}");
        assert_eq!(oa, ob, "{a:?} and {b:?} differ");
    }
}

#[test]
fn impossible_arguments_are_usage_errors_in_plain_words() {
    // A two-digit year would be the year 99.
    let (c, _, e) = run_in_root(&["scan", "sample-logs/maillog", "--year", "99"]);
    assert_eq!(c, Some(2));
    assert!(e.contains("four-digit year"), "{e}");
    // --since after --until can match nothing.
    for cmd in [
        vec!["scan", "sample-logs/maillog"],
        vec!["events", "sample-logs/maillog"],
        vec!["peer", "127.0.0.1", "sample-logs/maillog"],
    ] {
        let mut a = cmd.clone();
        a.extend([
            "--year",
            "2026",
            "--since",
            "2026-11-28",
            "--until",
            "2026-11-27",
        ]);
        let (c, out, e) = run_in_root(&a);
        assert_eq!(c, Some(2), "{a:?}: {e}");
        assert!(out.is_empty());
        assert!(e.contains("is not before --until"), "{e}");
    }
    // Rust's error wording stays out of what users read.
    for a in [
        vec!["scan", "sample-logs/no-such.log"],
        vec![
            "scan",
            "sample-logs/maillog",
            "--policy",
            "sample-logs/no-such.toml",
        ],
        vec!["merge", "sample-logs/no-such.json"],
    ] {
        let (c, _, e) = run_in_root(&a);
        assert_eq!(c, Some(2), "{a:?}");
        assert!(e.contains("no such file or directory"), "{a:?}: {e}");
        assert!(!e.contains("os error"), "{a:?}: {e}");
        // Nothing was skipped: no hint about skipped files.
        assert!(!e.contains("--no-skip"), "{a:?}: {e}");
    }
    // Postfix and Exim have no MSP key setting nor RandFile.
    for a in [
        vec!["config", "postfix", "--msp"],
        vec!["config", "exim", "--rand-file", "egd:/dev/random"],
    ] {
        let (c, out, e) = run_in_root(&a);
        assert_eq!(c, Some(2), "{a:?}");
        assert!(
            out.is_empty() && e.contains("Sendmail setting"),
            "{a:?}: {e}"
        );
    }
    let (c, out, _) = run_in_root(&["config", "postfix", "--name", "mx1"]);
    assert_eq!(c, Some(0));
    assert!(out.contains("smtpd_tls"));
}

#[test]
fn singular_counts_read_singular() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("notes.txt");
    std::fs::write(&f, "just one line of notes\n").unwrap();
    let (c, _, e) = run_in_root(&["scan", f.to_str().unwrap()]);
    assert_eq!(c, Some(2));
    assert!(e.contains("in 1 file (1 line:"), "{e}");
    assert!(!e.contains("1 files") && !e.contains("1 lines"), "{e}");
}

#[test]
fn events_raw_keeps_the_timeline_in_a_pipe() {
    let (c, out, _) = run_in_root(&[
        "events",
        "sample-logs/maillog",
        "--year",
        "2026",
        "--peer",
        "mx1.partner.example",
        "--raw",
    ]);
    assert_eq!(c, Some(0));
    assert!(!out.starts_with('{'), "{out}");
    assert!(out.contains("sample-logs/maillog:157"), "{out}");
    let (c, _, e) = run_in_root(&["events", "sample-logs/maillog", "--format", "json", "--raw"]);
    assert_eq!(c, Some(2));
    assert!(e.contains("--raw"), "{e}");
}

#[test]
fn follow_on_a_missing_folder_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("no-such-dir/maillog");
    let (c, _, e) = run_in_root(&["follow", log.to_str().unwrap()]);
    assert_eq!(c, Some(2));
    assert!(e.contains("does not exist"), "{e}");
}
