//! What a person at a terminal meets (issue 22): the scan table fitted to the terminal in a
//! real pseudo-terminal (`script`), shell completions and the man page, and the examples
//! of every command's `--help`, run.

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use crate::common::{mailtls, root, strip_ansi};
use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

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
    strip_ansi(&s.replace('\r', ""))
}

fn peers_json(paths: &[&str]) -> Vec<String> {
    let o = crate::common::mailtls()
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
        "findings (built-in policy, not enforced)",
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
const COMMANDS: [&str; 12] = [
    "scan",
    "follow",
    "check",
    "config",
    "doctor",
    "events",
    "peer",
    "message",
    "merge",
    "report",
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
            let paths: Vec<&String> = w[1..].iter().filter(|x| is_path(x)).collect();
            let offline = paths
                .iter()
                .all(|x| x.starts_with("sample-logs/") || x.starts_with("/tmp/demo/"));
            // A bare `doctor` examines the MTA installed on this machine (/etc/mail,
            // /etc/postfix, /etc/exim4): what it says depends on the machine, and a fresh
            // CI machine has none until the e2e stage installs them.
            let reads_the_machine = cmd == "doctor" && paths.is_empty();
            if !offline || reads_the_machine {
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
        // merge and report read snapshots, which no example names offline.
        if !["check", "follow", "merge", "report"].contains(&cmd) {
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
        vec![
            "check",
            "--ca-file",
            "sample-logs/no-such.pem",
            "127.0.0.1:1",
        ],
        vec!["check", "--targets", "sample-logs/no-such.txt"],
        vec!["config", "sendmail", "--apply", "sample-logs/no-such.cf"],
    ] {
        let (c, _, e) = run_in_root(&a);
        assert_eq!(c, Some(2), "{a:?}");
        assert!(e.contains("no such file or directory"), "{a:?}: {e}");
        assert!(!e.contains("os error"), "{a:?}: {e}");
        // Nothing was skipped: no hint about skipped files.
        assert!(!e.contains("--no-skip"), "{a:?}: {e}");
    }
    // The doctor reports an unreadable file as a finding, in the same words.
    let (c, out, _) = run_in_root(&["doctor", "--log", "sample-logs/no-such.log"]);
    assert_eq!(c, Some(1));
    assert!(
        out.contains("cannot read the log: no such file or directory"),
        "{out}"
    );
    assert!(!out.contains("os error"), "{out}");
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
    // `logs/` names a folder even when its parent exists: not waited for either.
    let folder = format!("{}/logs/", dir.path().display());
    let (c, _, e) = run_in_root(&["follow", &folder]);
    assert_eq!(c, Some(2));
    assert!(
        e.contains("the folder") && e.contains("does not exist"),
        "{e}"
    );
}

/// The README is short and right: the install, the two quick-start commands CI runs, one
/// example per command that the binary accepts as written; reference material is in docs/,
/// every relative link of the README and docs/ leads to a file, and user docs carry no
/// internals (library names) or project history.
#[test]
fn readme_is_short_and_its_examples_and_links_hold() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.lines().count() <= 120, "README.md grew back");
    for want in [
        "cargo install --path .",
        "\ncargo run --release -- scan sample-logs/\ncargo test\n",
        "### Exit codes",
    ] {
        assert!(readme.contains(want), "README.md lacks {want:?}");
    }
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(ci.contains("cargo run --quiet --release -- scan sample-logs/"));
    assert!(ci.contains("\ncargo test\n"));
    // Each example line names a command and its flags as the binary parses them: with
    // --help appended, clap checks every flag before printing the help.
    let block = readme
        .split("## One example per command")
        .nth(1)
        .and_then(|s| s.split("```sh\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("the examples block");
    let mut commands = std::collections::BTreeSet::new();
    for line in block.lines() {
        let line = line.split(" #").next().unwrap();
        let line = line.split(['>', '|', '&']).next().unwrap();
        let w = words(line.trim());
        assert_eq!(w[0], "mailtls", "{line}");
        commands.insert(w[1].clone());
        let mut args: Vec<&str> = w[1..].iter().map(String::as_str).collect();
        args.push("--help");
        let (c, _, e) = run_in_root(&args);
        assert_eq!(c, Some(0), "README example {line:?}: {e}");
    }
    for cmd in [
        "scan",
        "events",
        "peer",
        "message",
        "follow",
        "check",
        "config",
        "doctor",
        "merge",
        "completions",
        "man",
    ] {
        assert!(commands.contains(cmd), "no README example of {cmd}");
    }
    // Links.
    let mut docs: Vec<PathBuf> = vec![root.join("README.md")];
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            docs.push(p);
        }
    }
    assert!(docs.len() >= 8, "{docs:?}");
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        for part in text.split("](").skip(1) {
            let target = part.split(')').next().unwrap();
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let file = target.split('#').next().unwrap();
            let path = doc.parent().unwrap().join(file);
            assert!(
                path.exists(),
                "{}: link to {target} leads nowhere",
                doc.display()
            );
        }
        if doc.ends_with("development.md") {
            continue;
        }
        for word in [
            "hickory",
            "tokio",
            "httparse",
            "the seed",
            "plotters",
            "src/report/",
        ] {
            assert!(
                !text.contains(word),
                "{}: {word:?} is for contributors, not users",
                doc.display()
            );
        }
    }
}

/// `scan sample-logs/ … -o DIR --format table` with `extra`: (exit code, stdout table,
/// stderr, index.html, summary.md).
fn scan_report(dir: &Path, extra: &[&str]) -> (Option<i32>, String, String, String, String) {
    let o = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .env("TZ", "UTC")
        .args(["scan", "sample-logs/", "--year", "2026", "--utc"])
        .args(["--as-of", "2026-11-28", "--format", "table", "-o"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        read("index.html"),
        read("summary.md"),
    )
}

fn html_text(html: &str, sel: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    doc.select(&scraper::Selector::parse(sel).unwrap())
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Issue 22 point 4: the page and the exit code agree. Without a policy asked for, the
/// built-in one only grades: exit 0, and the table, the page and the summary call its
/// results findings, not enforced. With `--fail-on-violations` (or `--policy FILE`) the
/// same results are violations everywhere, each one on stderr, and the exit code is 1.
#[test]
fn the_exit_code_and_every_report_agree_on_policy_violations() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, table, err, html, md) = scan_report(&tmp.path().join("default"), &[]);
    assert_eq!(code, Some(0), "{err}");
    let n = html_text(&html, "#violations tbody tr").len();
    assert!(n >= 5, "the sample logs have findings: {n}");
    assert!(!err.contains("mailtls: violation:"), "{err}");
    assert_eq!(
        html_text(&html, "#policy-card"),
        [format!("{n} findings of the built-in policy, not enforced")]
    );
    assert_eq!(
        html_text(&html, "#violations h2"),
        ["Findings of the built-in policy (not enforced)"]
    );
    assert!(html_text(&html, "header #policy")[0].contains("not enforced: the run exits 0"));
    assert!(
        table.contains(&format!("{n}  findings (built-in policy, not enforced)")),
        "{table}"
    );
    assert!(
        md.contains("## Findings of the built-in policy (not enforced)"),
        "{md}"
    );
    for (what, text) in [("table", &table), ("page", &html), ("summary", &md)] {
        assert!(
            !text.contains("policy violations"),
            "{what} announces violations"
        );
    }

    let (code, table, err, html, md) =
        scan_report(&tmp.path().join("enforced"), &["--fail-on-violations"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(err.matches("mailtls: violation:").count(), n, "{err}");
    assert_eq!(html_text(&html, "#violations tbody tr").len(), n);
    assert_eq!(
        html_text(&html, "#policy-card"),
        [format!("{n} policy violations (exit 1)")]
    );
    assert_eq!(html_text(&html, "#violations h2"), ["Policy violations"]);
    assert!(html_text(&html, "header #policy")[0].contains("is enforced"));
    assert!(
        table.contains(&format!(
            "{n}  policy violations (built-in policy, enforced: exit 1)"
        )),
        "{table}"
    );
    assert!(md.lines().any(|l| l == "## Policy violations"), "{md}");

    // A policy file is enforced as before: one that the sample meets gives exit 0 and says so.
    let lenient = tmp.path().join("lenient.toml");
    std::fs::write(
        &lenient,
        "min_version = \"SSLv3\"\nforbidden_ciphers = []\nmax_plaintext_percent = 100\nmax_peer_plaintext_percent = 100\n",
    )
    .unwrap();
    let (code, table, err, html, _) = scan_report(
        &tmp.path().join("file"),
        &["--policy", lenient.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(html_text(&html, "#policy-card"), ["0 policy violations"]);
    assert!(table.contains("0  policy violations ("), "{table}");
    assert!(table.contains("lenient.toml policy, enforced)"), "{table}");
}

/// Enforcing the built-in policy on a selection that leaves nothing to judge is exit 4, as
/// with `--policy`; `--allow-empty` accepts it. Without enforcement it stays 0.
#[test]
fn fail_on_violations_with_nothing_to_judge_is_exit_4() {
    let run = |extra: &[&str]| {
        Command::cargo_bin("mailtls")
            .unwrap()
            .current_dir(root())
            .args(["scan", "sample-logs/maillog", "--year", "2026", "--utc"])
            .args(["--since", "2027-01-01", "--format", "json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&["--fail-on-violations"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("nothing to judge under the enforced policy")
    );
    assert_eq!(
        run(&["--fail-on-violations", "--allow-empty"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(run(&[]).status.code(), Some(0));
}

/// The rule is written where a cron job's author looks: `scan --help` and the README's
/// exit-code table; the README's quick start command still exits 0.
#[test]
fn the_exit_code_rule_is_documented_in_help_and_readme() {
    let o = mailtls_out(&["scan", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("--fail-on-violations"), "{help}");
    assert!(
        help.contains(
            "A policy is enforced only when asked for: --policy FILE, or --fail-on-violations"
        ),
        "{help}"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("### Exit codes")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("README has an exit-code section");
    let table: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| 1 ") || l.starts_with("| 0 "))
        .collect();
    assert_eq!(table.len(), 2, "{table:?}");
    assert!(
        table.iter().all(|l| l.contains("--fail-on-violations")),
        "{table:?}"
    );
    assert!(readme.contains("cargo run --release -- scan sample-logs/\n"));
    let o = Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(root())
        .args(["scan", "sample-logs/"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "the quick start exits 0");
}

/// Issue 22 point 6: what an administrator sets once lives in a settings file
/// ($MAILTLS_CONFIG, else /etc/mailtls/mailtls.toml): the policy is enforced from it, the
/// report goes to its folder, loopback peers count; a flag on the command line wins, and
/// `--no-config` reads none.
#[test]
fn a_settings_file_sets_what_admins_set_once_and_flags_win() {
    let tmp = tempfile::tempdir().unwrap();
    let strict = tmp.path().join("policy.toml");
    std::fs::write(&strict, "min_version = \"TLSv1.3\"\n").unwrap();
    let reports = tmp.path().join("reports");
    let settings = tmp.path().join("mailtls.toml");
    std::fs::write(
        &settings,
        format!(
            "# /etc/mailtls/mailtls.toml\npolicy = \"{}\"\nreport_dir = \"{}\"\nloopback = true\nutc = true\n",
            strict.display(),
            reports.display()
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let o = mailtls()
            .env("MAILTLS_CONFIG", &settings)
            .args(["scan", "sample-logs/", "--year", "2026", "-q"])
            .args(extra)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // The file's policy is enforced (exit 1), its folder gets the report, and loopback
    // peers are counted (none is left out).
    let (code, _, err) = run(&[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("mailtls: violation:"), "{err}");
    let html = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(!html.contains("loopback peers left out"), "loopback kept");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("posture.json")).unwrap())
            .unwrap();
    assert!(
        json["peers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["peer"] == "127.0.0.1" || p["peer"] == "localhost"),
        "a loopback peer is in the posture"
    );
    // A flag wins: another policy file on the command line, and --format prints instead of
    // writing the folder.
    let lenient = tmp.path().join("lenient.toml");
    std::fs::write(
        &lenient,
        "min_version = \"SSLv3\"\nforbidden_ciphers = []\nmax_plaintext_percent = 100\nmax_peer_plaintext_percent = 100\nmust_verify = []\n",
    )
    .unwrap();
    let (code, out, err) = run(&["--policy", lenient.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with('{'), "{out}");
    // --no-config: the built-in policy, not enforced.
    let (code, _, err) = run(&["--no-config", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("mailtls: violation:"), "{err}");
}

#[test]
fn a_bad_settings_file_is_an_error_naming_the_file_and_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = tmp.path().join("mailtls.toml");
    std::fs::write(
        &settings,
        "utc = true\npolcy = \"/etc/mailtls/policy.toml\"\n",
    )
    .unwrap();
    let o = mailtls()
        .env("MAILTLS_CONFIG", &settings)
        .args(["scan", "sample-logs/postfix"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&settings.display().to_string())
            && err.contains("polcy")
            && err.contains("line 2"),
        "{err}"
    );
    // A file named but missing is an error too, never silently no settings.
    let o = mailtls()
        .args([
            "--config",
            "/nonexistent/mailtls.toml",
            "scan",
            "sample-logs/postfix",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/nonexistent/mailtls.toml: no such file or directory"),
        "{err}"
    );
}
