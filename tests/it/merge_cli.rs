//! `mailtls merge` through the real binary: merging per-host snapshots gives the posture of
//! scanning all their logs at once, in any grouping (associative) and any order
//! (commutative), and bad inputs are refused with exit code 2.

use std::path::{Path, PathBuf};

use crate::common::{mailtls, samples, success};
use assert_cmd::Command;
use serde_json::Value;

fn scan_to(paths: &[PathBuf], out: &Path) -> Value {
    let o = success(
        mailtls()
            .arg("scan")
            .args(paths)
            .args(["--format", "json", "--year", "2026"])
            .output()
            .unwrap(),
    );
    std::fs::write(out, &o.stdout).unwrap();
    serde_json::from_slice(&o.stdout).unwrap()
}

fn merge(inputs: &[&Path], out: &Path) -> Value {
    let o = success(mailtls().arg("merge").args(inputs).output().unwrap());
    std::fs::write(out, &o.stdout).unwrap();
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn merge_is_the_scan_of_the_union_associative_and_commutative() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let a = (samples().join("maillog"), p("a.json"));
    let b = (samples().join("postfix"), p("b.json"));
    let c = (samples().join("exim"), p("c.json"));
    for (src, out) in [&a, &b, &c] {
        scan_to(std::slice::from_ref(src), out);
    }
    let all = scan_to(&[a.0.clone(), b.0.clone(), c.0.clone()], &p("all.json"));

    let abc = merge(&[&a.1, &b.1, &c.1], &p("abc.json"));
    let ab = merge(&[&a.1, &b.1], &p("ab.json"));
    let bc = merge(&[&b.1, &c.1], &p("bc.json"));
    let ab_c = merge(&[&p("ab.json"), &c.1], &p("ab_c.json"));
    let a_bc = merge(&[&a.1, &p("bc.json")], &p("a_bc.json"));
    let cab = merge(&[&c.1, &a.1, &b.1], &p("cab.json"));

    assert_eq!(ab["summary"]["files"], 4, "maillog + 3 Postfix files");
    assert_eq!(
        bc["summary"]["files"], 4,
        "3 Postfix files + the Exim mainlog"
    );
    assert_eq!(ab_c, a_bc, "associative");
    assert_eq!(ab_c, abc, "grouping does not matter");
    assert_eq!(cab, abc, "commutative");
    assert_eq!(abc["schema"], "mailtls.posture/2");
    // The merge of the per-host snapshots is the scan of all the logs at once.
    assert_eq!(abc["peers"], all["peers"]);
    assert_eq!(abc["local_errors"], all["local_errors"]);
    assert_eq!(abc["summary"], all["summary"]);
    // A peer seen by two MTAs on two hosts keeps both.
    let bigmail = abc["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer"] == "mx.bigmail.example")
        .unwrap();
    assert_eq!(bigmail["mtas"], serde_json::json!(["sendmail", "postfix"]));
    // maillog 2 (EXPECTED.md §2, by file) + Postfix 2 (EXPECTED-postfix-exim.md).
    assert_eq!(bigmail["outbound"]["tls_sessions"], 4);

    // Identity: a single snapshot merges to itself, every section kept (the `input`
    // notes, the timeline, the windows); the identity of a merge lists its parts.
    let mut single: Value = serde_json::from_slice(&std::fs::read(&a.1).unwrap()).unwrap();
    let mut merged = merge(&[&a.1], &p("a2.json"));
    let id = single.as_object_mut().unwrap().remove("identity").unwrap();
    let mid = merged.as_object_mut().unwrap().remove("identity").unwrap();
    assert_eq!(mid["parts"], serde_json::json!([id]));
    assert_eq!(merged, single);
}

#[test]
fn bad_snapshots_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "not json").unwrap();
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        r#"{"schema":"someone.else/2","summary":{"files":0,"files_unreadable":0,"lines_read":0,"lines_recognized":0,"lines_malformed":0,"lines_too_long":0},"peers":[],"local_errors":{}}"#,
    )
    .unwrap();
    for (f, why) in [
        (&junk, "not a mailtls snapshot"),
        (&other, "is neither mailtls.posture/2 nor mailtls.posture/1"),
    ] {
        let o = Command::cargo_bin("mailtls")
            .unwrap()
            .arg("merge")
            .arg(f)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(why), "{err}");
        assert!(err.contains(&f.display().to_string()), "{err}");
    }
    let missing = Command::cargo_bin("mailtls")
        .unwrap()
        .arg("merge")
        .arg(dir.path().join("nope.json"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// `reports/example/posture.json` is a snapshot as released versions write it (the string
/// histograms of versions, ciphers and verify words; `TLSv1` and `TLSv1/SSLv3` among
/// them): `merge` reads it into typed counts and writes it back word for word, and a
/// second copy of other logs (no identity, so not deduplicated) doubles every count.
#[test]
fn a_released_snapshot_reads_back_word_for_word_and_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reports/example/posture.json");
    let text = std::fs::read_to_string(&example).unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    let once = merge(&[&example], &dir.path().join("once.json"));
    assert_eq!(once["peers"], original["peers"]);
    assert_eq!(once["local_errors"], original["local_errors"]);
    // Word for word, in the same order (a `Value` would not see the keys' order): the
    // pretty-printed peers array is the same text.
    let peers_text = |t: &str| {
        let start = t.find("\n  \"peers\": [").expect("a peers array");
        let end = start + t[start..].find("\n  ],").expect("its end");
        t[start..end].to_owned()
    };
    let written = std::fs::read_to_string(dir.path().join("once.json")).unwrap();
    assert!(peers_text(&text) == peers_text(&written), "peers differ");

    let mut copy = original.clone();
    copy.as_object_mut().unwrap().remove("identity");
    let copy_path = dir.path().join("copy.json");
    std::fs::write(&copy_path, serde_json::to_string(&copy).unwrap()).unwrap();
    let twice = merge(&[&example, &copy_path], &dir.path().join("twice.json"));
    let peers = original["peers"].as_array().unwrap();
    let twice_peers = twice["peers"].as_array().unwrap();
    assert_eq!(twice_peers.len(), peers.len());
    let mut counted = 0;
    for (p, t) in peers.iter().zip(twice_peers) {
        assert_eq!(p["peer"], t["peer"]);
        for dir in ["inbound", "outbound"] {
            for hist in ["versions", "ciphers", "verify"] {
                let (h, th) = (&p[dir][hist], &t[dir][hist]);
                let words: Vec<&String> = h.as_object().unwrap().keys().collect();
                let twice_words: Vec<&String> = th.as_object().unwrap().keys().collect();
                assert_eq!(words, twice_words, "{} {dir} {hist}", p["peer"]);
                for (w, n) in h.as_object().unwrap() {
                    assert_eq!(th[w].as_u64(), n.as_u64().map(|n| 2 * n), "{w}");
                    counted += 1;
                }
            }
        }
    }
    assert!(
        counted > 50,
        "the example has histograms to compare ({counted})"
    );
    for word in ["TLSv1/SSLv3", "TLSv1"] {
        assert!(
            text.contains(&format!("\"{word}\"")),
            "the example holds {word}"
        );
    }
}
