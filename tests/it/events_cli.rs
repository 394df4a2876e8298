//! `mailtls events` through the real binary: every line validates against the documented
//! JSON Schema (`docs/mailtls.event-1.schema.json`), the counts match the hand count of
//! `sample-logs/EXPECTED-postfix-exim.md`, and the filters and `--ecs` do what they say.

use std::collections::BTreeMap;

use crate::common::{mailtls, ndjson, root, success};
use assert_cmd::Command;
use serde_json::Value;

fn events(extra: &[&str]) -> Vec<Value> {
    events_of(&["sample-logs/postfix", "sample-logs/exim"], extra)
}

/// The documented event schema (`docs/mailtls.event-1.schema.json`), compiled.
fn event_schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/mailtls.event-1.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn by_type(evs: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in evs {
        *m.entry(e["type"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    m
}

#[test]
fn every_line_validates_against_the_documented_schema() {
    let validator = event_schema();
    let evs = events(&[]);
    for e in &evs {
        let errors: Vec<String> = validator.iter_errors(e).map(|x| x.to_string()).collect();
        assert!(errors.is_empty(), "{e}: {errors:?}");
    }
    // The schema is not vacuous: a line without its type-specific fields fails it.
    let mut broken = evs[0].clone();
    broken.as_object_mut().unwrap().remove("tls");
    assert!(!validator.is_valid(&broken), "{broken}");

    // Hand count (EXPECTED-postfix-exim.md §2): 18 sessions; 17 TLS + 8 plaintext messages,
    // 6 deferred and 1 bounced attempts; 11 error incidents (15 error lines before issue
    // 18: a failed handshake's `SSL_accept|SSL_connect error` and its `TLS library
    // problem` line are one incident, and so are `server certificate verification failed`
    // and the deferral `Server certificate not verified` of the same attempt); no
    // verdicts; the two Postfix `daemon started` lines (mail.log.2.gz 1, mail.log 2).
    let want: BTreeMap<String, usize> = [
        ("session", 18),
        ("message", 32),
        ("error", 11),
        ("daemon_start", 2),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(by_type(&evs), want);
    let enc = |w: &str| {
        evs.iter()
            .filter(|e| e["type"] == "message" && e["encryption"] == w)
            .filter(|e| e["status"].is_null() || e["status"] == "sent")
            .count()
    };
    assert_eq!(enc("tls"), 17);
    assert_eq!(enc("plaintext"), 8);
    // Every event points at a real line of its file.
    for e in &evs {
        assert!(e["line"].as_u64().unwrap() >= 1);
        assert!(e["file"].as_str().unwrap().contains("sample-logs/"));
    }
}

#[test]
fn filters_errors_only_and_verify() {
    let errs = events(&["--errors-only"]);
    assert_eq!(errs.len(), 11);
    // The handshake incident keeps its library line as the reason.
    let accept = errs
        .iter()
        .find(|e| e["line"] == 34 && e["kind"] == "handshake")
        .unwrap();
    assert_eq!(
        accept["text"],
        "SSL_accept error from unknown[203.0.113.99]: -1"
    );
    assert_eq!(
        accept["reason"],
        "error:0A000102:SSL routines::unsupported protocol:ssl/statem/statem_srvr.c:1657:"
    );
    assert_eq!(accept["side"], "peer");
    assert!(errs.iter().all(|e| e["type"] == "error"));

    // FAIL: the two Untrusted sessions to mx.secure-partner.example and the two deferred
    // attempts that rode on them, the CV=no session to mx.retail.example and its message.
    let fail = events(&["--verify", "fail"]);
    let mut got: Vec<(String, String)> = fail
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["peer"]["key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("session", "mx.secure-partner.example"),
        ("session", "mx.secure-partner.example"),
        ("message", "mx.secure-partner.example"),
        ("message", "mx.secure-partner.example"),
        ("session", "mx.retail.example"),
        ("message", "mx.retail.example"),
    ]
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .to_vec();
    want.sort();
    assert_eq!(got, want);
    assert!(
        fail.iter()
            .filter(|e| e["peer"]["key"] == "mx.secure-partner.example" && e["type"] == "message")
            .all(|e| e["status"] == "deferred")
    );

    let oldbank = events(&["--peer", "oldbank.example", "--direction", "out"]);
    assert_eq!(by_type(&oldbank).get("message"), Some(&4));
    assert!(
        oldbank
            .iter()
            .all(|e| e["peer"]["key"] == "mx.oldbank.example")
    );
}

#[test]
fn ecs_names() {
    let evs = events(&["--ecs"]);
    // 18 sessions, 32 messages, 11 error incidents and the two daemon starts.
    assert_eq!(evs.len(), 63);
    let session = evs
        .iter()
        .find(|e| e["event"]["action"] == "tls-session" && e["source"]["ip"] == "198.51.100.20")
        .unwrap();
    assert_eq!(session["tls"]["version"], "1.3");
    assert_eq!(session["tls"]["version_protocol"], "tls");
    assert_eq!(session["tls"]["cipher"], "TLS_AES_256_GCM_SHA384");
    assert_eq!(session["source"]["ip"], "198.51.100.20");
    assert_eq!(session["client"]["domain"], "mail-out.shop.example");
    assert_eq!(session["host"]["name"], "mx2");
    assert!(
        session["@timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-25T08:10:01")
    );
    let out = evs
        .iter()
        .find(|e| e["event"]["action"] == "message" && e["network"]["direction"] == "outbound")
        .unwrap();
    assert!(out["server"]["address"].is_string());
    assert!(out["destination"]["ip"].is_string());
    assert!(out["email"]["local_id"].is_string());
    let sni = evs
        .iter()
        .find(|e| e["tls"]["client"]["server_name"].is_string())
        .unwrap();
    assert_eq!(sni["tls"]["client"]["server_name"], "mx2.example.org");
    let err = evs
        .iter()
        .find(|e| e["event"]["action"] == "tls-error")
        .unwrap();
    assert_eq!(err["event"]["outcome"], "failure");
    assert!(err["error"]["type"].is_string());
}

#[test]
fn the_whole_sample_directory_validates() {
    let validator = event_schema();
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .env("TZ", "UTC")
        .arg("events")
        .arg(root().join("sample-logs"))
        .args(["--year", "2026", "--loopback"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let evs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for e in &evs {
        let errors: Vec<String> = validator.iter_errors(e).map(|x| x.to_string()).collect();
        assert!(errors.is_empty(), "{e}: {errors:?}");
    }
    // Sendmail, Postfix and Exim events, and every record type (verdicts come from
    // Sendmail's ruleset=tls_server lines).
    let types = by_type(&evs);
    for t in ["session", "message", "verdict", "error", "hop"] {
        assert!(types.get(t).is_some_and(|n| *n > 0), "{t}: {types:?}");
    }
    for m in ["sendmail", "postfix", "exim"] {
        assert!(evs.iter().any(|e| e["mta"] == m), "{m}");
    }
}

/// Every line of `mailtls events` over `paths` (after `--year 2026`, then `extra`).
/// Every event of every real capture of the break matrix (tests/fixtures/real/) validates:
/// each error kind the parsers give on real MTA output is one the schema documents (the
/// `dh_params` kind was missing from it when it came).
#[test]
fn every_event_of_the_real_captures_validates_against_the_schema() {
    let validator = event_schema();
    let evs = events_of(
        &[
            "tests/fixtures/real/sendmail",
            "tests/fixtures/real/postfix",
            "tests/fixtures/real/exim",
        ],
        &["--loopback"],
    );
    let mut kinds = std::collections::BTreeSet::new();
    for e in &evs {
        let errors: Vec<String> = validator.iter_errors(e).map(|x| x.to_string()).collect();
        assert!(errors.is_empty(), "{e}: {errors:?}");
        if let Some(k) = e["kind"].as_str() {
            kinds.insert(k.to_owned());
        }
    }
    for k in [
        "dh_params",
        "cipher_ignored",
        "cipher_config",
        "cert_verify",
        "missing_file",
        "private_key",
        "handshake",
    ] {
        assert!(kinds.contains(k), "{k} not among {kinds:?}");
    }
}

fn events_of(paths: &[&str], extra: &[&str]) -> Vec<Value> {
    let out = mailtls()
        .arg("events")
        .args(paths.iter().map(|p| root().join(p)))
        .args(["--year", "2026"])
        .args(extra)
        .output()
        .unwrap();
    ndjson(&success(out).stdout)
}

#[test]
fn stored_messages_give_one_hop_event_per_network_hop() {
    let validator = event_schema();
    let evs = events_of(&["sample-logs/messages"], &[]);
    for e in &evs {
        let errors: Vec<String> = validator.iter_errors(e).map(|x| x.to_string()).collect();
        assert!(errors.is_empty(), "{e}: {errors:?}");
        assert_eq!(e["schema"], "mailtls.event/1");
        assert_eq!(e["type"], "hop");
        assert_eq!(e["local"], false);
    }
    // A hop without its trust is not a valid hop line.
    let mut broken = evs[0].clone();
    broken.as_object_mut().unwrap().remove("trust");
    assert!(!validator.is_valid(&broken), "{broken}");

    // Hand count (sample-logs/messages/EXPECTED.md §1): 9 witnessed + 6 claimed network
    // hops; the 7 local ones are left out without --loopback.
    let mut got: Vec<(String, String, String)> = evs
        .iter()
        .map(|e| {
            (
                e["trust"].as_str().unwrap().to_owned(),
                e["peer"]["key"].as_str().unwrap().to_owned(),
                e["tls"]["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String, String)> = [
        ("witnessed", "mail-out.partner.example", "tls"),
        ("witnessed", "198.51.100.7", "plaintext"),
        ("witnessed", "fax.oldcorp.example", "tls"),
        ("witnessed", "mail-out.partner.example", "plaintext"),
        ("witnessed", "relay.legacy-isp.example", "plaintext"),
        ("witnessed", "smtp.lists.example.org", "tls"),
        ("witnessed", "smtp.lists.example.org", "plaintext"),
        ("witnessed", "smtp.lists.example.org", "tls"),
        ("witnessed", "mx.v6only.example", "tls"),
        ("claimed", "erp01.partner.example", "tls"),
        ("claimed", "erp01.partner.example", "plaintext"),
        ("claimed", "webmail.legacy-isp.example", "plaintext"),
        ("claimed", "192.0.2.200", "tls"),
        ("claimed", "out.author2.example", "tls"),
        ("claimed", "mta.author3.example", "plaintext"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    .to_vec();
    want.sort();
    assert_eq!(got, want);
    // Every witnessed hop is stamped by our host and carries the log's queue id.
    for e in evs.iter().filter(|e| e["trust"] == "witnessed") {
        assert_eq!(e["by"], "mail.example.net", "{e}");
        assert!(
            e["id"].as_str().is_some_and(|id| id.starts_with("6AR")),
            "{e}"
        );
    }
    let v6 = evs
        .iter()
        .find(|e| e["peer"]["key"] == "mx.v6only.example")
        .unwrap();
    assert_eq!(v6["tls"]["version"], "TLSv1.3");
    assert_eq!(v6["tls"]["verify"], "FAIL");
    assert_eq!(v6["tls"]["bits"]["secret"], 128);
    assert_eq!(v6["position"], 1);
    assert!(v6["source"].as_str().unwrap().contains("admin-v6only.eml:"));

    // --loopback adds the loopback senders (not the local submissions), all schema-valid.
    let lo = events_of(&["sample-logs/messages"], &["--loopback"]);
    assert!(lo.len() > evs.len());
    assert!(lo.iter().all(|e| validator.is_valid(e)));
    assert!(lo.iter().any(|e| e["local"] == true));

    // Filters: --peer on the sending side, --since on the hop date, --errors-only.
    let partner = events_of(&["sample-logs/messages"], &["--peer", "partner.example"]);
    assert_eq!(partner.len(), 4);
    assert!(events_of(&["sample-logs/messages"], &["--errors-only"]).is_empty());
    assert!(events_of(&["sample-logs/messages"], &["--since", "2030-01-01"]).is_empty());
    assert_eq!(
        events_of(&["sample-logs/messages"], &["--direction", "out"]).len(),
        0
    );
}

#[test]
fn logs_only_and_messages_only_split_a_mixed_directory() {
    let all = events_of(&["sample-logs"], &[]);
    let logs = events_of(&["sample-logs"], &["--logs-only"]);
    let msgs = events_of(&["sample-logs"], &["--messages-only"]);
    assert!(logs.iter().all(|e| e["type"] != "hop"));
    assert!(!logs.is_empty());
    // The TLS-RPT report messages of sample-logs/tlsrpt/reports/ give no hop.
    assert_eq!(msgs.len(), 15);
    assert!(msgs.iter().all(|e| e["type"] == "hop"));
    assert_eq!(all.len(), logs.len() + msgs.len());
    // No message file was read as a log.
    assert!(
        logs.iter()
            .all(|e| !e["file"].as_str().unwrap().contains("messages/"))
    );
}

/// The pipeline's options of `events --year 2026 --utc`, for tests that run it in-process.
fn options_2026_utc() -> mailtls::pipeline::Options {
    use chrono::{FixedOffset, Offset, Utc};
    let utc: FixedOffset = Utc.fix();
    mailtls::pipeline::Options {
        year: Some(2026),
        zone: mailtls::parse::envelope::Zone::Fixed(utc),
        ..mailtls::pipeline::Options::default()
    }
}

#[test]
fn the_direct_writer_writes_the_bytes_of_the_value() {
    // `events` writes each record straight to its output (`write_event`); the bytes must
    // be those of the documented object (`event_json`), key order and escaping included,
    // for every record of every sample (sessions, messages, verdicts, errors, starts; the
    // samples have no `init=1`, whose record has no field of its own).
    use mailtls::pipeline;
    use mailtls::report::events::{event_json, write_event};
    let (sources, errors) = mailtls::input::discover(&[crate::common::samples()]);
    assert!(errors.is_empty(), "{errors:?}");
    let opts = options_2026_utc();
    let mut types = BTreeMap::new();
    pipeline::run(&sources, &opts, |r| {
        let mut direct = Vec::new();
        write_event(&mut direct, &r).unwrap();
        let value = event_json(&r);
        assert_eq!(String::from_utf8(direct).unwrap(), format!("{value}\n"));
        *types
            .entry(value["type"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    });
    for t in ["session", "message", "verdict", "error", "daemon_start"] {
        assert!(types.contains_key(t), "no {t} in the samples: {types:?}");
    }
}

#[test]
fn many_batches_come_out_whole_and_in_order() {
    // `events` hands its records to a writing thread in batches of a few thousand: over
    // several batches (and a last, partial one) every record the pipeline hands over comes
    // out once, in the order it was handed over, in both layouts.
    use mailtls::pipeline;
    use mailtls::report::events::{ecs_json, event_json};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let n = 4_500u64;
    let mut text = String::new();
    for i in 0..n {
        let t = format!(
            "Nov 20 {:02}:{:02}:{:02}",
            10 + i / 3600,
            i / 60 % 60,
            i % 60
        );
        let pid = 3000 + i;
        let peer = format!(
            "mail-out.p{i}.example[198.18.{}.{}]",
            i / 250 % 250,
            i % 250 + 1
        );
        text.push_str(&format!(
            "{t} mx postfix/smtpd[{pid}]: connect from {peer}\n"
        ));
        text.push_str(&format!(
            "{t} mx postfix/smtpd[{pid}]: Anonymous TLS connection established from {peer}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
        ));
        text.push_str(&format!(
            "{t} mx postfix/smtpd[{pid}]: {:010X}: client={peer}\n",
            i + 1
        ));
    }
    std::fs::write(&log, text).unwrap();
    let (sources, errors) = mailtls::input::discover(std::slice::from_ref(&log));
    assert!(errors.is_empty(), "{errors:?}");
    let opts = options_2026_utc();
    let (mut want_json, mut want_ecs) = (String::new(), String::new());
    pipeline::run(&sources, &opts, |r| {
        want_json.push_str(&format!("{}\n", event_json(&r)));
        want_ecs.push_str(&format!("{}\n", ecs_json(&r)));
    });
    // A session and a message per connection: more than two batches.
    assert_eq!(want_json.lines().count() as u64, 2 * n);
    let run = |layout: &str| {
        let out = mailtls()
            .args(["events", "--year", "2026", "--utc", layout])
            .arg(&log)
            .output()
            .unwrap();
        String::from_utf8(success(out).stdout).unwrap()
    };
    // Compared line by line first, so that a failure names the first line that differs.
    for (want, layout) in [(&want_json, "--json"), (&want_ecs, "--ecs")] {
        let got = run(layout);
        let first = got.lines().zip(want.lines()).position(|(g, w)| g != w);
        assert_eq!(first, None, "{layout}: first different line");
        assert_eq!(got.len(), want.len(), "{layout}");
    }
}
