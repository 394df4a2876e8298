//! Downgrade windows through the real binary (issue 18, points 1, 4, 9, 10): per role,
//! closed by evidence that TLS works again, never negative, the same for `scan`, `peer`
//! and `follow`; plaintext in our own outage is ours; and the grade of "TLS required, not
//! offered" is the same on every MTA.
//!
//! The lines are the daemons' own forms (REAL-MTA-NOTES.md, tests/correlate_mta.rs, the
//! e2e captures): Debian rsyslog's RFC 3339 stamps, so no year is inferred.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as Std, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write(dir: &Path, name: &str, lines: &str) -> String {
    let p = dir.join(name);
    let text: String = lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

/// A window as (host, direction, start, end) with times as `YYYY-MM-DD HH:MM:SS` and
/// `open` for a window not resumed in the logs.
type W = (String, String, String, String);

/// The windows of `scan --format md` ("## Silent downgrade windows").
fn scan_windows(files: &[&str]) -> Vec<W> {
    let mut args = vec!["scan", "--format", "md"];
    args.extend(files);
    let (code, out, err) = run(&args);
    assert!(code == 0 || code == 1, "{err}");
    let mut v = Vec::new();
    let Some(sec) = out.split("## Silent downgrade windows").nth(1) else {
        return v;
    };
    for l in sec.lines().skip_while(|l| l.is_empty()) {
        let Some(rest) = l.strip_prefix("* ") else {
            break;
        };
        // "* mx inbound: from 2026-11-28 10:10:00 until 2026-11-28 10:40:00: …"
        let (head, tail) = rest.split_once(": from ").unwrap();
        let (host, dir) = head.split_once(' ').unwrap();
        let (start, tail) = tail.split_once(" until ").unwrap();
        let end = if tail.starts_with("the end of the logs") {
            "open".to_owned()
        } else {
            tail[..19].to_owned()
        };
        let dir = match dir {
            "in" => "inbound",
            "out" => "outbound",
            d => d,
        };
        v.push((host.replace('\\', ""), dir.into(), start.into(), end));
    }
    v
}

fn hms(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The windows `peer NAME --json` explains.
fn peer_windows(peer: &str, files: &[&str]) -> Vec<W> {
    // The real captures talk over 127.0.0.1.
    let mut args = vec!["peer", peer, "--json", "--loopback"];
    args.extend(files);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["local_windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["host"].as_str().unwrap().to_owned(),
                w["direction"].as_str().unwrap().to_owned(),
                hms(w["start"].as_str().unwrap()),
                w["resumed"].as_str().map_or("open".to_owned(), hms),
            )
        })
        .collect()
}

/// `follow FILE --from-start --json`: every NDJSON line it prints until it has been quiet
/// for a while; the follower is stopped by its own pid.
fn follow(file: &str) -> Vec<Value> {
    let mut child = Std::new(env!("CARGO_BIN_EXE_mailtls"))
        .args(["follow", file, "--from-start", "--json", "--utc"])
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(1500)) {
            Ok(l) => out.push(serde_json::from_str(&l).expect("NDJSON")),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    out
}

fn alerts(out: &[Value]) -> Vec<(String, String, String)> {
    out.iter()
        .filter(|v| v["type"] == "alert")
        .map(|v| {
            (
                v["alert"].as_str().unwrap().to_owned(),
                v["direction"].as_str().unwrap_or("-").to_owned(),
                hms(v["time"].as_str().unwrap()),
            )
        })
        .collect()
}

/// The windows `follow` alerted: a `tls_disabled` opens, a `tls_resumed` closes.
fn follow_windows(out: &[Value]) -> Vec<W> {
    let mut v: Vec<W> = Vec::new();
    for a in out.iter().filter(|v| v["type"] == "alert") {
        // A log without a host field (Exim's mainlog): the window is named by its file.
        let host = a["host"]
            .as_str()
            .or(a["file"].as_str())
            .unwrap()
            .to_owned();
        let dir = a["direction"].as_str().unwrap().to_owned();
        let t = hms(a["time"].as_str().unwrap());
        match a["alert"].as_str().unwrap() {
            "tls_disabled" => v.push((host, dir, t, "open".into())),
            "tls_resumed" => {
                let w = v
                    .iter_mut()
                    .rev()
                    .find(|w| w.0 == host && w.1 == dir && w.3 == "open")
                    .expect("a resumption closes an open window");
                w.3 = t;
            }
            _ => {}
        }
    }
    v.sort();
    v
}

/// Postfix: smtpd cannot load its key (inbound only: smtp still delivers over TLS), a
/// client hangs up after our 454 and comes back in clear text, the next inbound TLS
/// session closes the window.
const POSTFIX_SMTPD_KEY: &str = "
2026-11-28T10:00:00+00:00 mx postfix/smtpd[100]: connect from mail.partner.example[192.0.2.25]
2026-11-28T10:00:00+00:00 mx postfix/smtpd[100]: Anonymous TLS connection established from mail.partner.example[192.0.2.25]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256
2026-11-28T10:00:01+00:00 mx postfix/smtpd[100]: 1A2B3C4D5E: client=mail.partner.example[192.0.2.25]
2026-11-28T10:00:01+00:00 mx postfix/cleanup[101]: 1A2B3C4D5E: message-id=<1@partner.example>
2026-11-28T10:00:01+00:00 mx postfix/qmgr[102]: 1A2B3C4D5E: from=<a@partner.example>, size=900, nrcpt=1 (queue active)
2026-11-28T10:00:01+00:00 mx postfix/smtpd[100]: disconnect from mail.partner.example[192.0.2.25] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7
2026-11-28T10:10:00.100000+00:00 mx postfix/smtpd[110]: warning: cannot get RSA private key from file \"/etc/postfix/key.pem\": disabling TLS support
2026-11-28T10:10:00.100100+00:00 mx postfix/smtpd[110]: warning: TLS library problem: error:1C80009F:Provider routines::unable to get passphrase:../providers/implementations/encode_decode/decode_epki2pki.c:96:
2026-11-28T10:10:00.100200+00:00 mx postfix/smtpd[110]: warning: TLS library problem: error:0A080009:SSL routines::PEM lib:../ssl/ssl_rsa.c:385:
2026-11-28T10:10:00.200000+00:00 mx postfix/smtpd[110]: connect from mail.partner.example[192.0.2.25]
2026-11-28T10:10:00.300000+00:00 mx postfix/smtpd[110]: lost connection after STARTTLS from mail.partner.example[192.0.2.25]
2026-11-28T10:10:00.400000+00:00 mx postfix/smtpd[110]: disconnect from mail.partner.example[192.0.2.25] ehlo=1 starttls=0/1 commands=1/2
2026-11-28T10:10:30+00:00 mx postfix/smtpd[111]: warning: cannot get RSA private key from file \"/etc/postfix/key.pem\": disabling TLS support
2026-11-28T10:10:30+00:00 mx postfix/smtpd[111]: connect from mail.partner.example[192.0.2.25]
2026-11-28T10:10:31+00:00 mx postfix/smtpd[111]: 2B3C4D5E6F: client=mail.partner.example[192.0.2.25]
2026-11-28T10:10:31+00:00 mx postfix/cleanup[101]: 2B3C4D5E6F: message-id=<2@partner.example>
2026-11-28T10:10:31+00:00 mx postfix/qmgr[102]: 2B3C4D5E6F: from=<b@partner.example>, size=900, nrcpt=1 (queue active)
2026-11-28T10:10:31+00:00 mx postfix/smtpd[111]: disconnect from mail.partner.example[192.0.2.25] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
2026-11-28T10:20:00+00:00 mx postfix/smtp[120]: Verified TLS connection established to mx1.peer.example[192.0.2.30]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
2026-11-28T10:20:01+00:00 mx postfix/smtp[120]: 3C4D5E6F7A: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0.01/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)
2026-11-28T10:40:00+00:00 mx postfix/smtpd[130]: connect from mail-out.shop.example[198.51.100.20]
2026-11-28T10:40:00+00:00 mx postfix/smtpd[130]: Anonymous TLS connection established from mail-out.shop.example[198.51.100.20]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256
2026-11-28T10:40:01+00:00 mx postfix/smtpd[130]: disconnect from mail-out.shop.example[198.51.100.20] ehlo=2 starttls=1 quit=1 commands=4
";

#[test]
fn postfix_smtpd_key_opens_an_inbound_window_only_closed_by_the_next_inbound_tls() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "mail.log", POSTFIX_SMTPD_KEY);
    let w = scan_windows(&[&log]);
    assert_eq!(
        w,
        vec![(
            "mx".into(),
            "inbound".into(),
            "2026-11-28 10:10:00".into(),
            "2026-11-28 10:40:00".into()
        )],
        "one inbound window; smtp (outbound) kept TLS"
    );
    // The Postfix advice, not Sendmail's, and no "STARTTLS is not offered".
    let (_, md, _) = run(&["scan", "--format", "md", &log]);
    let broke = md.split("## What broke").nth(1).unwrap();
    let key = broke.split("### private_key").nth(1).expect("private_key");
    let key = key.split("###").next().unwrap();
    assert!(
        key.contains("smtpd_tls_chain_files") && key.contains("postfix reload"),
        "{key}"
    );
    assert!(
        !key.contains("confSERVER_KEY") && !key.contains("restart sendmail"),
        "{key}"
    );
    assert!(key.contains("454") && !key.contains("not offered"), "{key}");
}

#[test]
fn plaintext_in_our_window_is_ours_not_the_peer_s() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "mail.log", POSTFIX_SMTPD_KEY);
    let policy = write(
        dir.path(),
        "policy.toml",
        "max_peer_plaintext_percent = 0.0",
    );
    let (_, csv, err) = run(&["scan", "--format", "csv", "--policy", &policy, &log]);
    // No peer_plaintext violation for the partner whose mail came in clear during our
    // outage, no D grade; the hang-up after our 454 is no failure of the partner.
    assert!(
        !err.contains("violation: peer_plaintext mail.partner.example"),
        "{err}"
    );
    let row = csv
        .lines()
        .find(|l| l.starts_with("mail.partner.example,in,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(row.contains(",A,"), "{row}");
    assert!(row.contains("our own TLS outage"), "{row}");
    let (_, md, _) = run(&["scan", "--format", "md", &log]);
    let broke = md.split("## What broke").nth(1).unwrap();
    assert!(!broke.contains("mail.partner.example in"), "{broke}");
    // The peer story does not list the hang-up as the partner's error either.
    let (_, out, _) = run(&["peer", "mail.partner.example", "--json", &log]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "{out}");
    assert_eq!(v["local_windows"][0]["peers"]["mail.partner.example"], 1);
}

/// Sendmail at LogLevel 14: the daemon start, `CRLFile missing` (informational) and
/// `init=1` for both roles, then normal TLS traffic.
const SENDMAIL_LOGLEVEL_14: &str = "
2026-11-28T09:00:00.100000+00:00 mail sm-mta[500]: starting daemon (8.17.1.9): SMTP+queueing@00:10:00
2026-11-28T09:00:00.200000+00:00 mail sm-mta[500]: STARTTLS: CRLFile missing
2026-11-28T09:00:00.300000+00:00 mail sm-mta[500]: STARTTLS=server, init=1
2026-11-28T09:00:00.400000+00:00 mail sm-mta[500]: STARTTLS=client, init=1
2026-11-28T09:01:00+00:00 mail sm-mta[510]: STARTTLS: CRLFile missing
2026-11-28T09:01:00+00:00 mail sm-mta[510]: STARTTLS=server, init=1
2026-11-28T09:01:01+00:00 mail sm-mta[510]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
2026-11-28T09:01:02+00:00 mail sm-mta[510]: 2ASA1a2b000510: from=<a@partner.example>, size=912, class=0, nrcpts=1, msgid=<1@partner.example>, proto=ESMTPS, daemon=MTA, relay=mx.partner.example [192.0.2.25]
";

#[test]
fn sendmail_loglevel_14_start_opens_no_window_and_follow_stays_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "maillog", SENDMAIL_LOGLEVEL_14);
    assert_eq!(scan_windows(&[&log]), vec![]);
    let out = follow(&log);
    assert!(
        out.iter().any(|v| v["type"] == "session"),
        "follow read the log: {out:?}"
    );
    assert_eq!(alerts(&out), vec![], "no alert at a daemon start");
}

/// Sendmail: a start whose key fails in the same burst opens an inbound window; a
/// restart with the same error keeps it; a restart without the error closes it.
const SENDMAIL_RESTARTS: &str = "
2026-11-28T08:50:00+00:00 mail sm-mta[400]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
2026-11-28T08:50:01+00:00 mail sm-mta[400]: 2ASA0a2b000400: from=<a@partner.example>, size=912, class=0, nrcpts=1, msgid=<0@partner.example>, proto=ESMTPS, daemon=MTA, relay=mx.partner.example [192.0.2.25]
2026-11-28T09:00:00+00:00 mail sm-mta[500]: starting daemon (8.17.1.9): SMTP+queueing@00:10:00
2026-11-28T09:00:00+00:00 mail sm-mta[500]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/tls/key.pem) failed
2026-11-28T09:05:00+00:00 mail sm-mta[510]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/tls/key.pem) failed
2026-11-28T09:05:01+00:00 mail sm-mta[510]: 2ASA5a2b000510: from=<b@partner.example>, size=912, class=0, nrcpts=1, msgid=<1@partner.example>, proto=ESMTP, daemon=MTA, relay=mx.partner.example [192.0.2.25]
2026-11-28T09:06:00+00:00 mail sm-mta[520]: STARTTLS=client, relay=mx1.peer.example., version=TLSv1.3, verify=OK, cipher=TLS_AES_128_GCM_SHA256, bits=128/128
2026-11-28T09:20:00+00:00 mail sm-mta[600]: starting daemon (8.17.1.9): SMTP+queueing@00:10:00
2026-11-28T09:20:00+00:00 mail sm-mta[600]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/tls/key.pem) failed
2026-11-28T09:30:00+00:00 mail sm-mta[700]: starting daemon (8.17.1.9): SMTP+queueing@00:10:00
2026-11-28T09:31:00+00:00 mail sm-mta[710]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
";

#[test]
fn scan_peer_and_follow_give_the_same_windows() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, peer) in [
        ("sendmail.log", SENDMAIL_RESTARTS, "mx.partner.example"),
        ("postfix.log", POSTFIX_SMTPD_KEY, "mail.partner.example"),
    ] {
        let log = write(dir.path(), name, text);
        let scan = scan_windows(&[&log]);
        assert!(!scan.is_empty(), "{name}");
        assert_eq!(peer_windows(peer, &[&log]), scan, "{name}: peer");
        assert_eq!(follow_windows(&follow(&log)), scan, "{name}: follow");
    }
    // And what they are on Sendmail: one inbound window from the failed start to the
    // restart that held (the client side kept TLS throughout).
    let log = dir.path().join("sendmail.log");
    assert_eq!(
        scan_windows(&[log.to_str().unwrap()]),
        vec![(
            "mail".into(),
            "inbound".into(),
            "2026-11-28 09:00:00".into(),
            "2026-11-28 09:30:00".into()
        )]
    );
    let a = alerts(&follow(log.to_str().unwrap()));
    assert_eq!(
        a,
        vec![
            (
                "tls_disabled".into(),
                "inbound".into(),
                "2026-11-28 09:00:00".into()
            ),
            (
                "downgrade".into(),
                "inbound".into(),
                "2026-11-28 09:05:01".into()
            ),
            (
                "tls_resumed".into(),
                "inbound".into(),
                "2026-11-28 09:30:00".into()
            ),
        ]
    );
}

#[test]
fn two_inputs_with_the_same_host_give_no_negative_window() {
    let dir = tempfile::tempdir().unwrap();
    // The newer input is given first; the older one, same syslog host, second.
    let newer = write(
        dir.path(),
        "maillog.new",
        "
        2026-11-28T10:00:00+00:00 mail sm-mta[800]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/tls/key.pem) failed
        2026-11-28T10:05:00+00:00 mail sm-mta[810]: 2ASAaa2b000810: from=<b@partner.example>, size=912, class=0, nrcpts=1, msgid=<9@partner.example>, proto=ESMTP, daemon=MTA, relay=mx.partner.example [192.0.2.25]
        2026-11-28T10:20:00+00:00 mail sm-mta[820]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
        ",
    );
    let older = write(
        dir.path(),
        "maillog.old",
        "
        2026-11-28T09:49:00+00:00 mail sm-mta[700]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
        2026-11-28T10:12:00+00:00 mail sm-mta[710]: STARTTLS=server, relay=mx.shop.example [198.51.100.20], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
        ",
    );
    let w = scan_windows(&[&newer, &older]);
    // The older input's 09:49 session does not close the 10:00 window (that was "-11
    // min"); its 10:12 session, the first TLS after the error, does.
    assert_eq!(
        w,
        vec![(
            "mail".into(),
            "inbound".into(),
            "2026-11-28 10:00:00".into(),
            "2026-11-28 10:12:00".into()
        )]
    );
    for (_, _, start, end) in &w {
        assert!(end == "open" || end >= start, "{w:?}");
    }
    let (_, html, _) = run(&["scan", "--format", "html", &newer, &older]);
    // The window row shows its length: 12 min, never a negative one.
    assert!(
        html.contains("(12 min)") || html.contains("(12m"),
        "window length"
    );
    assert!(!html.contains("(-1"), "negative duration");
}

/// "TLS required, not offered" on each MTA, in its own words: two deferrals each.
const REQUIRED_NOT_OFFERED: [(&str, &str, &str); 3] = [
    (
        "sendmail",
        "mx.nowhere-tls.example",
        "
        2026-11-27T08:30:16+00:00 mail sm-mta[26013]: ruleset=tls_server, arg1=NONE, relay=mx.nowhere-tls.example., reject=403 4.7.0 other side does not support STARTTLS
        2026-11-27T08:30:17+00:00 mail sm-mta[26013]: 6AR8UFMd026010: to=<ops@nowhere-tls.example>, ctladdr=<alice@example.net> (1001/1001), delay=00:00:02, xdelay=00:00:01, mailer=esmtp, pri=33630, relay=mx.nowhere-tls.example. [203.0.113.210], dsn=4.0.0, stat=Deferred: 403 4.7.0 other side does not support STARTTLS
        2026-11-27T09:40:03+00:00 mail sm-mta[28339]: ruleset=tls_server, arg1=NONE, relay=mx.nowhere-tls.example., reject=403 4.7.0 other side does not support STARTTLS
        2026-11-27T09:40:04+00:00 mail sm-mta[28339]: 6AR8UFMd026010: to=<ops@nowhere-tls.example>, ctladdr=<alice@example.net> (1001/1001), delay=01:10:02, xdelay=00:00:01, mailer=esmtp, pri=123630, relay=mx.nowhere-tls.example. [203.0.113.210], dsn=4.0.0, stat=Deferred: 403 4.7.0 other side does not support STARTTLS
        ",
    ),
    (
        "postfix",
        "mx.nowhere-tls.example",
        "
        2026-11-26T16:02:33+00:00 mx2 postfix/smtp[1650]: B18B9CADBE: to=<ops@nowhere-tls.example>, relay=mx.nowhere-tls.example[203.0.113.210]:25, delay=0.9, delays=0.1/0.01/0.8/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.nowhere-tls.example[203.0.113.210])
        2026-11-27T08:00:01+00:00 mx2 postfix/smtp[2150]: B18B9CADBE: to=<ops@nowhere-tls.example>, relay=mx.nowhere-tls.example[203.0.113.210]:25, delay=57448, delays=57447/0.01/0.9/0, tls=!encrypt, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.nowhere-tls.example[203.0.113.210])
        ",
    ),
    (
        "exim",
        "mx.nowhere-tls.example",
        "
        2026-11-27 08:00:01 1sDcIh-000000004YY-3wAT == ops@nowhere-tls.example R=dnslookup T=remote_smtp defer (-38) H=mx.nowhere-tls.example [203.0.113.210]: a TLS session is required, but the server did not offer TLS support
        2026-11-27 09:00:01 1sDcIh-000000004YY-3wAT == ops@nowhere-tls.example R=dnslookup T=remote_smtp defer (-38) H=mx.nowhere-tls.example [203.0.113.210]: a TLS session is required, but the server did not offer TLS support
        ",
    ),
];

#[test]
fn tls_required_not_offered_grades_the_same_on_every_mta() {
    let dir = tempfile::tempdir().unwrap();
    let mut grades = Vec::new();
    for (mta, peer, text) in REQUIRED_NOT_OFFERED {
        let log = write(dir.path(), &format!("{mta}.log"), text);
        let (_, csv, err) = run(&["scan", "--format", "csv", "--utc", "--year", "2026", &log]);
        let row = csv
            .lines()
            .find(|l| l.starts_with(&format!("{peer},out,")))
            .unwrap_or_else(|| panic!("{mta}: {csv}{err}"));
        let cells: Vec<&str> = row.splitn(4, ',').collect();
        grades.push((
            mta,
            cells[2].to_owned(),
            row.contains("no STARTTLS offered"),
        ));
    }
    assert_eq!(
        grades,
        vec![
            ("sendmail", "D".to_owned(), true),
            ("postfix", "D".to_owned(), true),
            ("exim", "D".to_owned(), true),
        ]
    );
}

#[test]
fn enforce_readiness_is_not_safe_where_tls_was_required_and_not_offered() {
    let dir = tempfile::tempdir().unwrap();
    for (mta, peer, text) in REQUIRED_NOT_OFFERED {
        let log = write(dir.path(), &format!("{mta}.log"), text);
        let (_, out, _) = run(&[
            "scan",
            "--enforce-readiness",
            "--utc",
            "--year",
            "2026",
            &log,
        ]);
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(peer))
            .unwrap_or_else(|| panic!("{mta}: {out}"));
        assert!(
            line.contains(
                "require TLS: would fail (STARTTLS not offered 2×, 2 of 2 attempts not delivered)"
            ),
            "{mta}: {line}"
        );
        assert!(!line.contains("()"), "{mta}: empty reasons: {line}");
    }
}

#[test]
fn enforce_readiness_entries_keep_real_tabs_in_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "maillog",
        "
        2026-11-27T08:05:20+00:00 mail sm-mta[100]: STARTTLS=client, relay=mx.bigmail.example., version=TLSv1.3, verify=OK, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
        2026-11-27T08:05:21+00:00 mail sm-mta[100]: 6AR85Kx1000100: to=<bob@bigmail.example>, ctladdr=<alice@example.net> (1001/1001), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30312, relay=mx.bigmail.example. [203.0.113.10], dsn=2.0.0, stat=Sent (OK queued)
        2026-11-27T08:06:20+00:00 mail sm-mta[101]: STARTTLS=client, relay=mx.selfsigned.example., version=TLSv1.3, verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
        2026-11-27T08:06:21+00:00 mail sm-mta[101]: 6AR86Kx1000101: to=<carol@selfsigned.example>, ctladdr=<alice@example.net> (1001/1001), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30312, relay=mx.selfsigned.example. [203.0.113.11], dsn=2.0.0, stat=Sent (OK queued)
        ",
    );
    // stdout is a pipe here: the access-map lines are pasted into files as they are.
    let (_, out, _) = run(&["scan", "--enforce-readiness", &log]);
    assert!(
        out.contains("  TLS_Srv:mx.bigmail.example\tVERIFY:128\n"),
        "{out}"
    );
    assert!(
        out.contains("  TLS_Rcpt:selfsigned.example\tENCR:128\n"),
        "{out}"
    );
    assert!(!out.contains("\\x09"), "{out}");
    // Verification is not safe where TLS is: the reason is named, never "()".
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("mx.selfsigned.example"))
        .unwrap();
    assert!(
        line.contains(
            "require TLS: safe; require verified: would fail (certificate not verified (FAIL:1))"
        ),
        "{line}"
    );
}

#[test]
fn advice_is_in_the_logging_mta_s_own_terms() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        (
            "sendmail",
            "2026-11-27T12:20:04+00:00 mail sm-mta[1205]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/servername-key.pem) failed",
            &["confSERVER_KEY", "restart sendmail"][..],
            &["postfix", "exim4", "smtpd_tls"][..],
        ),
        (
            "exim",
            "2026-11-27 12:20:04 TLS error on connection from client.example (client.example) [192.0.2.9]:40000 (cert/key setup: cert=/etc/exim4/exim.crt key=/etc/exim4/exim.key): Decryption has failed.",
            &["tls_privatekey", "Debian-exim", "restart exim4", "454"][..],
            &[
                "confSERVER_KEY",
                "restart sendmail",
                "postfix reload",
                "not offered",
            ][..],
        ),
    ];
    for (mta, line, want, never) in rows {
        let log = write(dir.path(), &format!("{mta}.log"), line);
        let (_, md, err) = run(&["scan", "--format", "md", "--utc", &log]);
        let broke = md
            .split("## What broke")
            .nth(1)
            .unwrap_or_else(|| panic!("{mta}: {md}{err}"));
        let broke = broke.split("\n## ").next().unwrap();
        for w in want {
            assert!(broke.contains(w), "{mta}: no {w}: {broke}");
        }
        for n in never {
            assert!(!broke.contains(n), "{mta}: {n}: {broke}");
        }
    }
}

/// The real captures (tests/fixtures/real, written by the daemons on branch e2e): the
/// windows scan, peer and follow give agree, open at the key error of the server side
/// only, and LogLevel 14's start-up information opens none and alerts nothing.
#[test]
fn real_captures_give_one_window_per_broken_server_side_everywhere() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real");
    let rows: [(&str, &str, Option<&str>); 5] = [
        ("sendmail/loglevel14.log", "vm.example.test", None),
        (
            "sendmail/key_encrypted_loglevel14.log",
            "vm.example.test",
            Some("SSL_CTX_use_PrivateKey_file"),
        ),
        (
            "postfix/key_encrypted_pkcs8.log",
            "vm.example.test",
            Some("cannot get RSA private key"),
        ),
        (
            "exim/key_encrypted_pkcs8.log",
            "127.0.0.1",
            Some("cert/key setup"),
        ),
        (
            "exim/key_unreadable.log",
            "127.0.0.1",
            Some("cert/key setup"),
        ),
    ];
    for (file, peer, opens_at) in rows {
        let path = dir.join(file);
        let log = path.to_str().unwrap();
        let scan = scan_windows(&[log]);
        let follow_out = follow(log);
        match opens_at {
            None => {
                assert_eq!(scan, vec![], "{file}");
                assert_eq!(alerts(&follow_out), vec![], "{file}");
            }
            Some(text) => {
                let line = std::fs::read_to_string(&path)
                    .unwrap()
                    .lines()
                    .find(|l| l.contains(text))
                    .unwrap()
                    .to_owned();
                // RFC 3339 (syslog) or Exim's `YYYY-MM-DD HH:MM:SS`: the second it opened.
                let stamp = line[..19].replace('T', " ");
                assert_eq!(scan.len(), 1, "{file}: {scan:?}");
                let (_, dir, start, end) = &scan[0];
                assert_eq!(
                    (dir.as_str(), start.as_str(), end.as_str()),
                    ("inbound", stamp.as_str(), "open"),
                    "{file}"
                );
                assert_eq!(peer_windows(peer, &[log]), scan, "{file}: peer");
                assert_eq!(follow_windows(&follow_out), scan, "{file}: follow");
                // The client's hang-up after our 454 (Postfix, Exim) is not the peer's.
                let (_, out, _) = run(&["peer", peer, "--json", "--loopback", log]);
                let v: Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["errors"], serde_json::json!([]), "{file}: {out}");
            }
        }
    }
}

/// Postfix: the master restarted and no key error followed (the key was fixed) closes the
/// inbound window at the restart; a restart whose first smtpd logs the error again does not.
#[test]
fn postfix_restart_without_the_error_closes_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let head: String = POSTFIX_SMTPD_KEY
        .lines()
        .filter(|l| {
            l.as_bytes()
                .get(14..16)
                .is_some_and(|m| m < b"20".as_slice())
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let still = format!(
        "{head}
        2026-11-28T10:25:00.000000+00:00 mx postfix/master[900]: daemon started -- version 3.7.11, configuration /etc/postfix
        2026-11-28T10:25:00.400000+00:00 mx postfix/smtpd[140]: warning: cannot get RSA private key from file \"/etc/postfix/key.pem\": disabling TLS support
        2026-11-28T10:30:00.000000+00:00 mx postfix/master[901]: daemon started -- version 3.7.11, configuration /etc/postfix
        2026-11-28T10:45:00+00:00 mx postfix/smtpd[150]: connect from mail.partner.example[192.0.2.25]
        "
    );
    let log = write(dir.path(), "restart.log", &still);
    let w = scan_windows(&[&log]);
    assert_eq!(
        w,
        vec![(
            "mx".into(),
            "inbound".into(),
            "2026-11-28 10:10:00".into(),
            "2026-11-28 10:30:00".into()
        )],
        "{still}"
    );
    assert_eq!(follow_windows(&follow(&log)), w);
}

/// Point 9 on the real captures: each MTA, configured to require TLS towards a receiver
/// that offers no STARTTLS, deferred the message; readiness must say "would fail", with
/// the reason, on Sendmail, Postfix and Exim alike.
#[test]
fn enforce_readiness_on_real_tls_required_deferrals() {
    for file in [
        "tests/fixtures/real/sendmail/tls_required.log",
        "tests/fixtures/real/sendmail/tls_required.trad.log",
        "tests/fixtures/real/postfix/tls_required.log",
        "tests/fixtures/real/exim/tls_required.log",
    ] {
        let (_, out, err) = run(&["scan", "--enforce-readiness", "--loopback", file]);
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("127.0.0.1") && l.contains("require TLS"))
            .unwrap_or_else(|| panic!("{file}: {out}{err}"));
        assert!(
            line.contains(
                "require TLS: would fail (STARTTLS not offered 1×, 1 of 1 attempt not delivered)"
            ),
            "{file}: {line}"
        );
        assert!(!line.contains("safe"), "{file}: {line}");
    }
}
