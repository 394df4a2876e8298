//! The layout is the architecture (src/lib.rs draws it): every top-level module may import
//! only the modules this table allows, which keeps the data flowing one way. The test reads
//! the code's `crate::…` paths (comments and doc links left out), so a new import that
//! points back up the flow fails here, with the file that makes it.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each stage and what it may import: the lib.rs diagram as data.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("parse", &["model"]),
    ("input", &["model", "parse"]),
    ("correlate", &["model"]),
    ("analysis", &["model", "correlate"]),
    ("stores", &["model", "input", "parse", "analysis"]),
    ("tlsrpt", &["model", "input", "stores", "analysis"]),
    (
        "pipeline",
        &[
            "model",
            "input",
            "parse",
            "correlate",
            "analysis",
            "stores",
            "tlsrpt",
        ],
    ),
    (
        "report",
        &["model", "correlate", "analysis", "stores", "tlsrpt"],
    ),
    (
        "live",
        &[
            "model",
            "input",
            "parse",
            "correlate",
            "analysis",
            "stores",
            "tlsrpt",
            "pipeline",
            "report",
        ],
    ),
    (
        "triage",
        &[
            "model",
            "input",
            "parse",
            "correlate",
            "analysis",
            "stores",
            "tlsrpt",
            "pipeline",
            "report",
        ],
    ),
    ("probe", &["model"]),
    ("domain", &["model", "probe"]),
    ("setup", &["model", "parse"]),
    (
        "commands",
        &[
            "model",
            "parse",
            "input",
            "correlate",
            "analysis",
            "stores",
            "tlsrpt",
            "pipeline",
            "report",
            "live",
            "triage",
            "probe",
            "domain",
            "setup",
        ],
    ),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its comments (line comments, doc comments, block comments),
/// string contents kept: `crate::` never appears inside our strings.
fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_block = 0usize;
    for line in text.lines() {
        let mut rest = line;
        loop {
            if in_block > 0 {
                match rest.find("*/") {
                    Some(i) => {
                        in_block -= 1;
                        rest = &rest[i + 2..];
                    }
                    None => break,
                }
            } else if let Some(i) = rest.find("/*") {
                let (before, after) = rest.split_at(i);
                if let Some(j) = before.find("//") {
                    out.push_str(&before[..j]);
                    break;
                }
                out.push_str(before);
                in_block += 1;
                rest = &after[2..];
            } else {
                out.push_str(rest.split("//").next().unwrap_or(""));
                break;
            }
        }
        out.push('\n');
    }
    out
}

/// The top-level modules a piece of code names: `crate::x::…`, and each first segment of
/// a grouped `use crate::{x::…, y, z::{…}}`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    let first = item
                        .trim()
                        .split("::")
                        .next()
                        .unwrap_or("")
                        .trim_matches('{');
                    if !first.is_empty() {
                        found.insert(first.to_owned());
                    }
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else if depth == 1 {
                    item.push(c);
                } else {
                    item.push(' ');
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

/// Which top-level module each file belongs to, and what it imports from the others.
fn graph() -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut g: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = fs::read_to_string(&f).unwrap();
        for m in imports(&code(&text)) {
            if m != module && m != "self" {
                g.entry(module.clone())
                    .or_default()
                    .entry(m)
                    .or_default()
                    .push(rel.display().to_string());
            }
        }
        g.entry(module).or_default();
    }
    g
}

#[test]
fn every_import_follows_the_flow() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, uses) in graph() {
        let Some(ok) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "src/{module}: not a stage of the layout (add it to lib.rs and ALLOWED)"
            ));
            continue;
        };
        for (target, files) in uses {
            if !ok.contains(&target.as_str()) {
                wrong.push(format!("{module} → {target} (in {})", files.join(", ")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the flow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_allowed_imports_form_a_dag_in_the_order_lib_rs_lists() {
    // Each stage may only import stages listed before it, so no cycle is possible.
    let order: Vec<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    for (i, (m, uses)) in ALLOWED.iter().enumerate() {
        for u in *uses {
            let j = order.iter().position(|x| x == u).unwrap_or(usize::MAX);
            assert!(j < i, "{m} may import {u}, which is not listed before it");
        }
    }
    // lib.rs declares the same stages in the same order, and nothing else lies loose in src/.
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    assert_eq!(declared, order);
    let mut loose: Vec<String> = fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rs"))
        .collect();
    loose.sort();
    assert_eq!(loose, ["lib.rs", "main.rs"]);
}

#[test]
fn the_reader_sees_grouped_imports_and_skips_comments() {
    let text = "//! see [`crate::report`]\nuse crate::{model::{A, B}, parse, input::x};\n/* crate::live */ fn f() { crate::analysis::g(); } // crate::triage\n";
    let got: Vec<String> = imports(&code(text)).into_iter().collect();
    assert_eq!(got, ["analysis", "input", "model", "parse"]);
}
