//! `reports/example/` must be what the documented command produces today. Regenerating it
//! into a temporary folder and comparing file by file catches a stale example after any
//! change to parsing, judging or rendering. The report is deterministic (no generation
//! time unless `--generated-at` is given; `--utc`, `--year` and `--as-of` pin the rest), so
//! every file is compared byte for byte.
//!
//! Regenerate with the command in README.md ("Reports"):
//! `cargo run --release -- scan sample-logs/ --year 2026 --utc --as-of 2026-11-28 --enforce-readiness -o reports/example`

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

const ARGS: &[&str] = &[
    "scan",
    "sample-logs/",
    "--year",
    "2026",
    "--utc",
    "--as-of",
    "2026-11-28",
    "--enforce-readiness",
    "-o",
];

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn example_report_is_fresh() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let example = root.join("reports/example");
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let cmd = format!("cargo run --release -- {} reports/example", ARGS.join(" "));
    assert!(readme.contains(&cmd), "README.md must document: {cmd}");

    let tmp = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("mailtls")
        .unwrap()
        .current_dir(&root)
        .args(ARGS)
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = files(tmp.path());
    assert_eq!(
        files(&example),
        want,
        "reports/example has other files than a fresh report: regenerate it ({cmd})"
    );
    assert!(want.len() >= 14, "{want:?}");
    for f in &want {
        let fresh = fs::read(tmp.path().join(f)).unwrap();
        let kept = fs::read(example.join(f)).unwrap();
        assert!(
            fresh == kept,
            "reports/example/{} is stale: regenerate it with `{cmd}`",
            f.display()
        );
    }
}
