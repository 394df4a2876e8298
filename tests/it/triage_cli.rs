//! `mailtls events` (terminal timeline), `mailtls peer` and `mailtls message` through the
//! real binary, on sample-logs/ (hand counts in sample-logs/EXPECTED-chain.md and
//! EXPECTED.md).

use crate::common::{mailtls, strip_ansi};
use serde_json::Value;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = mailtls()
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Sessions of the timeline: (header, item lines) — the structure, not the bytes.
fn sessions(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(item) = line.strip_prefix("    ") {
            out.last_mut()
                .expect("an item before any session")
                .1
                .push(item.to_owned());
        } else {
            out.push((line.to_owned(), Vec::new()));
        }
    }
    out
}

const CHAIN: &[&str] = &["sample-logs/chain", "--year", "2026", "--utc"];

#[test]
fn timeline_groups_sessions_then_messages_then_errors() {
    let mut args = vec!["events", "--timeline", "--color", "never"];
    args.extend(CHAIN);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains('\x1b'));
    let s = sessions(&out);
    // Hand count (EXPECTED-chain.md): relay: 3 inbound TLS sessions, 3 outbound deliveries
    // to mx (two TLS sessions, one plaintext); mx: 3 inbound sessions from relay, and its
    // private-key error, which belongs to no peer.
    assert_eq!(s.len(), 10, "{out}");
    let with = |needle: &str| s.iter().filter(|(h, _)| h.contains(needle)).count();
    assert_eq!(with("← from mail-out.partner.example [192.0.2.25]"), 2);
    assert_eq!(with("← from app1.example.net [203.0.113.30]"), 1);
    assert_eq!(with("→ to mx.example.com"), 3);
    assert_eq!(with("← from relay.example.net [203.0.113.10]"), 3);
    assert_eq!(with("local (no peer)"), 1);
    for (header, items) in &s {
        assert!(header.starts_with("2026-11-27 "), "{header}");
        let kinds: Vec<&str> = items
            .iter()
            .filter(|i| !i.starts_with("    "))
            .map(|i| {
                if i.contains("STARTTLS  ") {
                    "tls"
                } else if i.contains(" message ") {
                    "message"
                } else if i.contains("TLS error") {
                    "error"
                } else if i.starts_with("no STARTTLS") {
                    "none"
                } else {
                    "other"
                }
            })
            .collect();
        // A session opens with its negotiation or says there was none; messages follow.
        assert!(
            matches!(kinds.first(), Some(&"tls") | Some(&"none") | Some(&"error")),
            "{header}: {kinds:?}"
        );
        if header.contains("local (no peer)") {
            assert_eq!(kinds, ["error"]);
            assert!(items[0].contains("private_key"), "{items:?}");
        } else {
            assert!(kinds.contains(&"message"), "{header}: {kinds:?}");
            let plain = items.iter().any(|i| i.contains("plaintext"));
            assert_eq!(kinds[0] == "none", plain, "{header}: {items:?}");
        }
    }
    // The plaintext delivery of 10:20 is the one without STARTTLS.
    let (h, items) = s
        .iter()
        .find(|(h, _)| h.contains("10:20:11") && h.contains("→ to"))
        .unwrap();
    assert!(h.contains("relay [4390]"), "{h}");
    assert!(
        items[1].contains("message 6ARAK9xK004388")
            && items[1].contains("to=<carol@example.com>")
            && items[1].contains("sent dsn=2.0.0"),
        "{items:?}"
    );
}

#[test]
fn timeline_colour_raw_and_json_when_piped() {
    let mut args = vec!["events", "--color", "always"];
    args.extend(CHAIN);
    let (_, coloured, _) = run(&args);
    assert!(coloured.contains('\x1b'));
    let mut plain_args = vec!["events", "--timeline", "--color", "never"];
    plain_args.extend(CHAIN);
    let (_, plain, _) = run(&plain_args);
    assert_eq!(strip_ansi(&coloured), plain);

    // --raw: every item is followed by its file:line and the line itself.
    let mut raw_args = plain_args.clone();
    raw_args.push("--raw");
    let (_, raw, _) = run(&raw_args);
    let lines: Vec<&str> = raw.lines().collect();
    let mut items = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("    ") && !l.starts_with("        ") && !l.contains("no STARTTLS") {
            items += 1;
            let src = lines[i + 1].trim_start();
            assert!(src.starts_with("sample-logs/chain/"), "{l} / {src}");
            assert!(src.contains(" relay ") || src.contains(" mx "), "{src}");
        }
    }
    // Hand count: relay 3 inbound sessions + 3 receptions + 2 outbound sessions + 3
    // deliveries; mx 2 sessions + 3 receptions + 1 local error.
    assert_eq!(items, 17, "{raw}");

    // Piped without flags: NDJSON (mailtls.event/1), one object per line.
    let mut json_args = vec!["events"];
    json_args.extend(CHAIN);
    let (code, json, _) = run(&json_args);
    assert_eq!(code, 0);
    assert!(
        json.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );
    assert_eq!(json.lines().count(), items);
}

#[test]
fn attacker_chosen_names_cannot_drive_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("maillog");
    std::fs::write(
        &log,
        "Nov 27 10:00:01 relay sm-mta[4242]: STARTTLS=server, relay=evil\x1b]0;owned\x07\x1b[2J.example [192.0.2.66], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n\
Nov 27 10:00:02 relay sm-mta[4242]: 6ARA01xK004242: from=<x\x1b[31m@evil.example>, size=5120, class=0, nrcpts=1, msgid=<a@b>, proto=ESMTPS, daemon=MTA, relay=evil\x1b]0;owned\x07\x1b[2J.example [192.0.2.66]\n",
    )
    .unwrap();
    let l = log.to_str().unwrap();
    for args in [
        vec!["events", l, "--year", "2026", "--color", "always", "--raw"],
        vec![
            "peer",
            "192.0.2.66",
            l,
            "--year",
            "2026",
            "--color",
            "always",
        ],
        vec![
            "message",
            "6ARA01xK004242",
            l,
            "--year",
            "2026",
            "--color",
            "always",
        ],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        // Only our own SGR colour sequences: ESC followed by '[' and digits/';' and 'm'.
        for (i, _) in out.match_indices('\x1b') {
            let rest = &out[i + 1..];
            let end = rest.find('m').expect("an SGR sequence");
            assert!(
                rest.starts_with('[')
                    && rest[1..end].chars().all(|c| c.is_ascii_digit() || c == ';'),
                "{args:?}: foreign escape in {out:?}"
            );
        }
        assert!(!out.contains('\x07'), "{args:?}");
        assert!(out.contains("\\x1b"), "{args:?}: {out}");
    }
}

#[test]
fn peer_posture_changes_inside_the_window() {
    // partner.example: TLS until the midday key trouble, plaintext during it, TLS after
    // (EXPECTED.md); --around 12:00±90m sees the change and the local errors that caused it.
    let (code, out, err) = run(&[
        "peer",
        "partner.example",
        "sample-logs/maillog",
        "--year",
        "2026",
        "--around",
        "2026-11-27 12:00±90m",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "mailtls.peer/1");
    let spans: Vec<(String, String, bool)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["direction"].as_str().unwrap().to_owned(),
                s["state"].as_str().unwrap().to_owned(),
                s["tls"].as_bool().unwrap(),
            )
        })
        .collect();
    for dir in ["inbound", "outbound"] {
        let d: Vec<&(String, String, bool)> = spans.iter().filter(|s| s.0 == dir).collect();
        let tls: Vec<bool> = d.iter().map(|s| s.2).collect();
        assert!(
            tls.windows(2).any(|w| w[0] && !w[1]),
            "{dir}: no TLS → plaintext change in {d:?}"
        );
    }
    for s in v["changes"].as_array().unwrap() {
        for k in ["first", "last"] {
            let t = s[k].as_str().unwrap();
            assert!(
                ("2026-11-27T10:30".."2026-11-27T13:30").contains(&t),
                "{t} outside the window"
            );
        }
    }
    let kinds: Vec<String> = v["local_windows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| {
            w["errors"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(kinds.iter().any(|k| k == "private_key"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "unsafe_file"), "{kinds:?}");

    // The terminal text says it in one sentence per direction.
    let (_, text, _) = run(&[
        "peer",
        "partner.example",
        "sample-logs/maillog",
        "--year",
        "2026",
        "--around",
        "2026-11-27 12:00+-90m",
        "--color",
        "never",
    ]);
    // Broken between changes to fit the terminal, one sentence all the same.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("in: TLSv1.3 verify=NO until 2026-11-27 11:20:18, then plaintext"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    assert!(text.contains("error on mail at 2026-11-27 12:02"), "{text}");
}

#[test]
fn peer_tls_deferrals_have_a_likely_cause() {
    let (code, out, err) = run(&[
        "peer",
        "legacy.example",
        "sample-logs/maillog",
        "--year",
        "2026",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let t = v["troubles"].as_array().unwrap();
    // EXPECTED.md: deferred three times with 454 4.7.0 TLS handshake failed.
    assert_eq!(t.len(), 3, "{t:?}");
    for x in t {
        assert_eq!(x["status"], "deferred");
        assert_eq!(x["reason"], "TLS handshake failed");
        assert!(x["likely_cause"].as_str().unwrap().contains("protocol"));
    }
    let errors: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(errors.contains(&"handshake"), "{errors:?}");
    let hs = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "handshake")
        .unwrap();
    assert!(hs["first"]["time"].as_str() < hs["last"]["time"].as_str());
}

#[test]
fn message_traced_across_two_mtas() {
    let mut args = vec!["message", "6ARAK9xK004388", "--json"];
    args.extend(CHAIN);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let hops = v["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 2, "{out}");
    assert_eq!(
        (hops[0]["host"].as_str(), hops[0]["queue_id"].as_str()),
        (Some("relay"), Some("6ARAK9xK004388"))
    );
    assert_eq!(
        (hops[1]["host"].as_str(), hops[1]["queue_id"].as_str()),
        (Some("mx"), Some("8C1D2E3F4A"))
    );
    let e0 = hops[0]["entries"].as_array().unwrap();
    assert_eq!(e0[0]["what"], "received");
    assert!(
        e0[0]["tls"]
            .as_str()
            .unwrap()
            .starts_with("TLSv1.3 TLS_AES_128_GCM_SHA256")
    );
    assert_eq!(e0[1]["what"], "delivered");
    assert_eq!(e0[1]["tls"], "plaintext");
    assert_eq!(e0[1]["next_hops"][0], "8C1D2E3F4A");
    let e1 = hops[1]["entries"].as_array().unwrap();
    assert_eq!(e1[0]["what"], "received");
    assert_eq!(e1[0]["peer"], "relay.example.net [203.0.113.10]");
    assert_eq!(e1[0]["tls"], "plaintext");
    assert!(
        e1.iter()
            .any(|e| e["what"] == "delivered locally" && e["status"] == "sent")
    );

    // By Message-ID, the TLS one: both hops over TLS, verify=OK to the MX.
    let mut args = vec![
        "message",
        "<20261127104529.CD34EF@partner.example>",
        "--json",
    ];
    args.extend(CHAIN);
    let (code, out, _) = run(&args);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["queue_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["6ARAjUxK004501", "9D2E3F4A5B"]);
    assert!(
        v["hops"][0]["entries"][1]["tls"]
            .as_str()
            .unwrap()
            .ends_with("verify=OK")
    );

    // The same answer without the prefilter.
    let mut args2 = vec![
        "message",
        "<20261127104529.CD34EF@partner.example>",
        "--json",
        "--no-prefilter",
    ];
    args2.extend(CHAIN);
    let (_, out2, _) = run(&args2);
    assert_eq!(out, out2);
}

#[test]
fn unknown_peer_or_message_is_exit_1_with_a_clear_message() {
    let (code, out, err) = run(&["peer", "nowhere.example", "sample-logs", "--year", "2026"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    // A narrowed read parses few lines: no "nothing recognised" warning about the files.
    assert!(!err.contains("no mail log lines recognised"), "{err}");
    assert!(
        err.contains("nothing in the inputs names 'nowhere.example'"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "message",
        "7ZZZ99xK000001",
        "sample-logs/chain",
        "--year",
        "2026",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no queue id or Message-ID '7ZZZ99xK000001'"),
        "{err}"
    );
    // Known peer, but not inside the window.
    let (code, _, err) = run(&[
        "peer",
        "mx.example.com",
        "sample-logs/chain",
        "--year",
        "2026",
        "--utc",
        "--around",
        "2026-11-27 12:00",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("inside the time window"), "{err}");
    // A bad --around is a usage error.
    let (code, _, err) = run(&["peer", "x", "sample-logs/chain", "--around", "noon±1h"]);
    assert_eq!(code, 2);
    assert!(err.contains("--around"), "{err}");
}

#[test]
fn around_selects_both_sides_of_a_moment() {
    let mut args = vec!["events", "--json", "--around", "2026-11-27 10:20±2m"];
    args.extend(CHAIN);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let times: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["time"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // relay's session, reception and delivery (10:20:09 … 10:20:11) and mx's reception
    // (10:20:11), EXPECTED-chain.md; nothing of 10:15 or 10:00.
    assert_eq!(times.len(), 4, "{out}");
    assert!(
        times.iter().all(|t| t.starts_with("2026-11-27T10:20:")),
        "{times:?}"
    );
}

#[test]
fn events_for_one_peer_are_the_same_with_and_without_the_prefilter() {
    for (peer, set) in [
        ("partner.example", "sample-logs/maillog"),
        ("192.0.2.25", "sample-logs"),
        ("mx.example.com", "sample-logs/chain"),
        ("mx.legacy.example", "sample-logs/oldrelay"),
    ] {
        let base = ["events", set, "--year", "2026", "--json", "--peer", peer];
        let (code, fast, err) = run(&base);
        assert_eq!(code, 0, "{err}");
        let mut slow_args = base.to_vec();
        slow_args.push("--no-prefilter");
        let (_, slow, _) = run(&slow_args);
        assert!(!fast.is_empty(), "{peer}");
        assert_eq!(fast, slow, "{peer} in {set}");
    }
}

#[test]
fn peer_adds_stored_hops_and_live_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let check = tmp.path().join("check.json");
    // The shape `mailtls check --json` writes (mailtls.check/1), trimmed to what peer reads.
    std::fs::write(
        &check,
        r#"{"schema": "mailtls.check/1", "results": [
  {"target": "mail-out.partner.example:25", "host": "mail-out.partner.example", "port": 25,
   "ip": "192.0.2.25", "mode": "starttls", "status": "warn", "verify": "FAIL",
   "trust": "webpki-roots", "extensions": ["PIPELINING", "STARTTLS"], "extensions_tls": [],
   "tls": {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
           "cipher_iana": "TLS_AES_256_GCM_SHA384", "bits": {"secret": 256, "alg": 256}},
   "client_certificate": false, "chain": [], "steps": [],
   "findings": [{"severity": "warn", "text": "certificate not trusted"}], "elapsed_ms": 41.0},
  {"target": "mx.other.example:25", "host": "mx.other.example", "port": 25, "status": "pass"}
]}"#,
    )
    .unwrap();
    let c = check.to_str().unwrap();
    let (code, out, err) = run(&[
        "peer",
        "mail-out.partner.example",
        "sample-logs/maillog",
        "sample-logs/messages/bob.mbox",
        c,
        "--year",
        "2026",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["checks"].as_array().unwrap().len(), 1);
    assert_eq!(v["checks"][0]["verify"], "FAIL");
    let hops = &v["received_hops"];
    assert!(hops["tls"].as_u64().unwrap() >= 1, "{hops}");
    assert!(
        hops["examples"][0]
            .as_str()
            .unwrap()
            .starts_with("sample-logs/messages/bob.mbox:")
    );

    let (_, text, _) = run(&[
        "peer",
        "mail-out.partner.example",
        "sample-logs/maillog",
        c,
        "--year",
        "2026",
        "--color",
        "never",
    ]);
    assert!(
        text.contains("mail-out.partner.example:25  warn  TLSv1.3 TLS_AES_256_GCM_SHA384 256 bits  verify=FAIL  1 finding"),
        "{text}"
    );
    // Only a check result names the peer: still found.
    let (code, _, err) = run(&["peer", "mx.other.example", c]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn message_with_its_stored_copy_shows_every_received_hop() {
    let (code, out, err) = run(&[
        "message",
        "<20261127001240.4F2A1C0019@partner.example>",
        "sample-logs/maillog",
        "sample-logs/messages/bob.mbox",
        "--year",
        "2026",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hops"][0]["queue_id"], "6AR1CheR011422");
    let stored = v["stored"].as_array().unwrap();
    assert_eq!(stored.len(), 1, "{out}");
    let hops = stored[0][1].as_array().unwrap();
    // bob.mbox message 1 (messages/EXPECTED.md): our stamp (witnessed, TLSv1.3, verify=NO)
    // over the partner's internal hop (claimed, verify=NOT).
    assert_eq!(hops.len(), 2);
    assert_eq!(hops[0]["trust"], "witnessed");
    assert_eq!(hops[0]["id"], "6AR1CheR011422");
    assert_eq!(hops[0]["tls"], "TLSv1.3 TLS_AES_256_GCM_SHA384 verify=NO");
    assert_eq!(hops[1]["trust"], "claimed");
    assert_eq!(hops[1]["from"], "erp01.partner.example [10.20.0.5]");
}

/// A busy peer: 900 inbound sessions three minutes apart over two days, verify=OK mostly
/// with a failed or absent client certificate every eleventh session, and our private key
/// failing to load 70 times (each time one message arrives in clear, then TLS works
/// again). Returns the log and how many sessions had each verify word.
fn busy_peer_log() -> (String, std::collections::BTreeMap<&'static str, u64>) {
    use std::fmt::Write as _;
    let mut log = String::new();
    let mut counts = std::collections::BTreeMap::new();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let (mut t, mut pid, mut key_errors) = (start, 1000u32, 0);
    for i in 0..900u32 {
        t += chrono::Duration::minutes(3);
        pid += 7;
        let stamp = |t: chrono::NaiveDateTime| t.format("%b %d %H:%M:%S").to_string();
        let qid = format!("6AK{i:05}{pid:06}");
        let (proto, line) = if i % 12 == 5 && key_errors < 70 {
            key_errors += 1;
            (
                "ESMTP",
                format!(
                    "{} mx1 sm-mta[{pid}]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/key.pem) failed",
                    stamp(t)
                ),
            )
        } else {
            let v = match (i * 7 % 11, i % 2) {
                (0, 1) => "FAIL",
                (0, _) => "NO",
                _ => "OK",
            };
            *counts.entry(v).or_default() += 1;
            (
                "ESMTPS",
                format!(
                    "{} mx1 sm-mta[{pid}]: STARTTLS=server, relay=mail-out.busy.example [192.0.2.77], version=TLSv1.3, verify={v}, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
                    stamp(t)
                ),
            )
        };
        let _ = writeln!(log, "{line}");
        let _ = writeln!(
            log,
            "{} mx1 sm-mta[{pid}]: {qid}: from=<a{i}@busy.example>, size=100, class=0, nrcpts=1, msgid=<m{i}@busy.example>, proto={proto}, daemon=MTA, relay=mail-out.busy.example [192.0.2.77]",
            stamp(t + chrono::Duration::seconds(3))
        );
    }
    assert_eq!(key_errors, 70);
    (log, counts)
}

#[test]
fn busy_peer_story_counts_repetition_instead_of_repeating_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maillog");
    let (log, counts) = busy_peer_log();
    std::fs::write(&path, log).unwrap();
    let p = path.to_str().unwrap();
    let (code, text, err) = run(&[
        "peer",
        "busy.example",
        p,
        "--year",
        "2026",
        "--color",
        "never",
    ]);
    assert_eq!(code, 0, "{err}");
    // No line runs past a terminal (the one before this change was ~8,000 characters).
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "a line of {widest} characters:\n{text}");
    assert!(
        text.lines().count() <= 40,
        "{} lines:\n{text}",
        text.lines().count()
    );
    // The 70 key errors: once, counted, with the first and last.
    let key_lines: Vec<&str> = text.lines().filter(|l| l.contains("private_key")).collect();
    assert_eq!(key_lines.len(), 2, "{key_lines:?}");
    assert!(
        key_lines[0].contains("private_key error on mx1 ×70, first 2026-11-20 00:18, last "),
        "{key_lines:?}"
    );
    assert!(
        key_lines[1].contains("private_key×70 on mx1 in: 70 windows, first 2026-11-20 00:18:00"),
        "{key_lines:?}"
    );
    // The verify words are a distribution, and the only state changes are TLS ↔ plaintext.
    let want = format!(
        "verify: OK {}, NO {}, FAIL {}",
        counts["OK"], counts["NO"], counts["FAIL"]
    );
    assert!(text.contains(&want), "{want}\n{text}");
    assert!(
        text.contains("in: 140 changes between TLSv1.3 verify=OK and plaintext"),
        "{text}"
    );
    assert!(text.contains("plaintext  70 times, 70 records"), "{text}");
    assert!(!text.contains("verify=FAIL"), "{text}");

    // The JSON: the same folded spans, with their variation counted.
    let (code, out, _) = run(&["peer", "busy.example", p, "--year", "2026", "--json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 141);
    let mut fails = 0;
    for w in changes.windows(2) {
        assert_ne!(w[0]["tls"], w[1]["tls"], "{} then {}", w[0], w[1]);
    }
    for c in changes {
        fails += c["verify"]["FAIL"].as_u64().unwrap_or(0);
    }
    assert_eq!(fails, counts["FAIL"]);
    assert_eq!(v["local_windows"].as_array().unwrap().len(), 70);
}

/// Two of our MTAs' logs read together (real Exim mainlogs, no host field: each input is
/// its own host): the peer's TLS at one and plaintext at the other are two postures, each
/// under its host with its own local error, not a change from TLS to plaintext.
#[test]
fn peer_story_is_per_log_host() {
    let logs = [
        "tests/fixtures/real/exim/starttls.log",
        "tests/fixtures/real/exim/key_missing.log",
    ];
    let (code, out, err) = run(&["peer", "127.0.0.1", logs[0], logs[1], "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let spans: Vec<(&str, &str)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["host"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        spans,
        [(logs[0], "TLSv1.3 verify=NO"), (logs[1], "plaintext")],
        "{out}"
    );
    let heads: Vec<(&str, &str)> = v["headlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["host"].as_str().unwrap(), h["text"].as_str().unwrap()))
        .collect();
    assert_eq!(heads.len(), 2, "{out}");
    assert!(
        heads.contains(&(logs[0], "TLSv1.3 verify=NO")),
        "the TLS host's sentence has no other host's error: {heads:?}"
    );
    assert!(
        heads
            .iter()
            .any(|(h, t)| *h == logs[1] && t.starts_with("plaintext; private_key error on")),
        "{heads:?}"
    );
    let (_, text, _) = run(&["peer", "127.0.0.1", logs[0], logs[1], "--color", "never"]);
    assert!(
        text.contains(&format!("127.0.0.1 in at {}: plaintext", logs[1])),
        "{text}"
    );
    assert!(!text.contains("then plaintext"), "{text}");
}

/// A peer on this machine asked for by name (`peer 127.0.0.1`, no `--loopback`) during our
/// own outage: its clear text is counted in the window, as with `--loopback`, for each MTA
/// (real lines of the e2e suite: the server's key file missing, one message in clear).
/// Before, Sendmail's window was not shown at all and Exim's said "0 plaintext messages".
#[test]
fn a_named_loopback_peer_is_counted_in_our_outage() {
    for mta in ["sendmail", "postfix", "exim"] {
        let log = format!("tests/fixtures/real/{mta}/key_missing.log");
        let windows = |extra: &[&str]| {
            let mut a = vec!["peer", "127.0.0.1", log.as_str(), "--json"];
            a.extend_from_slice(extra);
            let (code, out, err) = run(&a);
            assert_eq!(code, 0, "{mta}: {err}");
            let v: Value = serde_json::from_str(&out).unwrap();
            v["local_windows"].clone()
        };
        let named = windows(&[]);
        let w = named.as_array().unwrap();
        assert_eq!(w.len(), 1, "{mta}: {named}");
        assert_eq!(w[0]["plaintext_messages"], 1, "{mta}: {named}");
        assert_eq!(
            w[0]["peers"]
                .as_object()
                .unwrap()
                .values()
                .map(|n| n.as_u64().unwrap())
                .sum::<u64>(),
            1,
            "{mta}: {named}"
        );
        assert_eq!(named, windows(&["--loopback"]), "{mta}");
        let (_, text, _) = run(&["peer", "127.0.0.1", &log, "--color", "never"]);
        assert!(
            text.contains("this peer: 1 plaintext message meanwhile"),
            "{mta}: {text}"
        );
    }
}

/// Clear text after a failed handshake reads as such in the peer's headline (Sendmail
/// and Exim retry without STARTTLS; real lines of the e2e break `client_fallback`); a
/// peer that only ever sent in clear text, without a failed attempt, does not get it.
#[test]
fn a_fallback_headline_says_starttls_failed() {
    for mta in ["sendmail", "exim"] {
        let log = format!("tests/fixtures/real/{mta}/client_fallback.log");
        let (code, out, err) = run(&["peer", "127.0.0.1", &log, "--json"]);
        assert_eq!(code, 0, "{mta}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let out_head: Vec<&str> = v["headlines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["direction"] == "outbound")
            .map(|h| h["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            out_head,
            ["plaintext; STARTTLS tried and failed (handshake ×1)"],
            "{mta}: {out}"
        );
    }
    let (_, out, _) = run(&[
        "peer",
        "127.0.0.1",
        "tests/fixtures/real/exim/plaintext.log",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let texts: Vec<&str> = v["headlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap())
        .collect();
    assert!(!texts.is_empty(), "{out}");
    assert!(texts.iter().all(|t| !t.contains("STARTTLS tried")), "{out}");
}

/// A headline names a local outage only when it is a cause of that sentence: the peer's
/// clear text went through the window, or its spans overlap it (sample-logs: mx's key
/// error of 10:15 on Nov 27 did not touch `fax.oldcorp.example`, whose every session was
/// TLS; `smtp.lists.example.org`'s clear text at 12:33 went through mail's window).
#[test]
fn a_headline_names_only_the_outages_that_touched_the_peer() {
    let heads = |peer: &str| -> Vec<String> {
        let (code, out, err) = run(&["peer", peer, "sample-logs", "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        v["headlines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let fax = heads("fax.oldcorp.example");
    assert!(!fax.is_empty());
    assert!(fax.iter().all(|t| !t.contains("error on")), "{fax:?}");
    let lists = heads("smtp.lists.example.org");
    assert!(
        lists
            .iter()
            .any(|t| t.ends_with("; private_key/unsafe_file error on mail at 2026-11-27 12:02")),
        "{lists:?}"
    );
    assert!(
        lists.iter().all(|t| !t.contains("error on mx ")),
        "{lists:?}"
    );
}

/// docs/json.md documents every field `peer --json` and `message --json` write, on the
/// real Postfix lines of an outage and a scanner's failed handshakes (and Sendmail's
/// delivery to Postfix, so that a message crosses two MTAs).
#[test]
fn the_peer_and_message_json_fields_are_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/json.md")).unwrap();
    let real = root.join("tests/fixtures/real/postfix");
    let (key_missing, burst) = (
        real.join("key_missing.log").display().to_string(),
        real.join("scanner_burst.log").display().to_string(),
    );
    let json = |args: &[&str]| -> Value {
        let (code, out, err) = run(args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    // Object keys at the documented levels (maps keyed by data, such as `verify`, are not
    // field names).
    fn keys(v: &Value, path: &[&str], out: &mut std::collections::BTreeSet<String>) {
        match (v, path.split_first()) {
            (Value::Array(items), _) => items.iter().for_each(|i| keys(i, path, out)),
            (Value::Object(o), None) => out.extend(o.keys().cloned()),
            (Value::Object(o), Some((k, rest))) => {
                if let Some(x) = o.get(*k) {
                    keys(x, rest, out);
                }
            }
            _ => {}
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let peer = json(&[
        "peer",
        "vm.example.test",
        "--json",
        "--loopback",
        "--year",
        "2026",
        &key_missing,
        &burst,
    ]);
    assert_eq!(peer["schema"], "mailtls.peer/1");
    for path in [
        &[][..],
        &["changes"],
        &["errors"],
        &["errors", "first"],
        &["errors", "last"],
        &["headlines"],
        &["troubles"],
    ] {
        keys(&peer, path, &mut seen);
    }
    let message = json(&[
        "message",
        "925A31325CD",
        "--json",
        "--loopback",
        "--year",
        "2026",
        &key_missing,
    ]);
    assert_eq!(message["schema"], "mailtls.message/1");
    for path in [&[][..], &["hops"], &["hops", "entries"]] {
        keys(&message, path, &mut seen);
    }
    assert!(
        seen.contains("local_windows") && seen.contains("what"),
        "{seen:?}"
    );
    let missing: Vec<&String> = seen
        .iter()
        .filter(|k| !doc.contains(&format!("\"{k}\"")))
        .collect();
    assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
}
