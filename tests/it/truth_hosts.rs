//! Whom to blame when one of our hosts does no TLS at all in a role: the host, not its
//! peers (`analysis::host_tls`). A server that does not offer STARTTLS logs nothing about
//! it (Debian's Sendmail until `confSERVER_CERT`/`confSERVER_KEY` are set, Postfix without
//! `smtpd_tls_security_level`), so the only trace is that nobody used TLS with it.
//!
//! The lines are the daemons' own forms (FORMATS.md, tests/fixtures/real): Debian rsyslog's
//! RFC 3339 stamps.

use std::path::Path;

use crate::common::mailtls;
use serde_json::Value;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = mailtls().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const PEERS: [(&str, &str); 3] = [
    ("mail-out.partner.example", "192.0.2.25"),
    ("mx.bigmail.example", "198.51.100.7"),
    ("smtp.vendor.example", "203.0.113.44"),
];

/// A Sendmail MX that takes mail from three peers, in clear text when `tls` is false (no
/// STARTTLS offered: no `STARTTLS=server` line, `proto=ESMTP`).
fn sendmail_log(host: &str, tls: bool) -> String {
    let mut s = String::new();
    for i in 0..9usize {
        let (name, ip) = PEERS[i % 3];
        let pid = 4200 + i;
        let t = format!("2026-11-27T10:{:02}:0", i * 5);
        if tls {
            s.push_str(&format!("{t}1.100000+00:00 {host} sm-mta[{pid}]: STARTTLS=server, relay={name} [{ip}], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n"));
        }
        let proto = if tls { "ESMTPS" } else { "ESMTP" };
        s.push_str(&format!("{t}2.100000+00:00 {host} sm-mta[{pid}]: 5ARA{i:02}xK00{pid}: from=<a@{name}>, size=5120, class=0, nrcpts=1, msgid=<{i}.{host}@{name}>, bodytype=8BITMIME, proto={proto}, daemon=MTA, relay={name} [{ip}]\n"));
        s.push_str(&format!("{t}3.100000+00:00 {host} sm-mta[{}]: 5ARA{i:02}xK00{pid}: to=<bob@example.com>, delay=00:00:01, xdelay=00:00:00, mailer=local, pri=35120, dsn=2.0.0, stat=Sent\n", pid + 50));
    }
    s
}

/// A Postfix MX taking mail from one peer in clear text (no `TLS connection established`,
/// no `starttls=` counter on the disconnect line).
fn postfix_plain_log(host: &str, (name, ip): (&str, &str)) -> String {
    let mut s = String::new();
    for i in 0..4usize {
        let pid = 7100 + i;
        let q = format!("8C1D2E3F{i:02X}");
        let t = format!("2026-11-27T10:{:02}:0", 2 + i * 5);
        s.push_str(&format!(
            "{t}1.200000+00:00 {host} postfix/smtpd[{pid}]: connect from {name}[{ip}]\n"
        ));
        s.push_str(&format!(
            "{t}2.200000+00:00 {host} postfix/smtpd[{pid}]: {q}: client={name}[{ip}]\n"
        ));
        s.push_str(&format!("{t}3.200000+00:00 {host} postfix/qmgr[600]: {q}: from=<a@{name}>, size=1234, nrcpt=1 (queue active)\n"));
        s.push_str(&format!("{t}4.200000+00:00 {host} postfix/smtpd[{pid}]: disconnect from {name}[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\n"));
    }
    s
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

fn plaintext_in(json: &Value) -> Vec<(String, String)> {
    json["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["peer"].as_str().unwrap().to_owned(),
                p["inbound"]["plaintext_messages"].to_string(),
            )
        })
        .collect()
}

#[test]
fn a_sendmail_without_starttls_is_ours_not_the_peers() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "maillog", &sendmail_log("mx", false));
    let (code, md, err) = run(&["scan", &log, "--format", "md"]);
    assert_eq!(code, 0, "{err}");
    // Not three peers graded F for "never STARTTLS": three peers in clear text because of
    // us, and the host under "What broke" with Sendmail's settings.
    let peers = md.split("## Peers, worst first").nth(1).unwrap();
    for (name, _) in PEERS {
        let row = peers.lines().find(|l| l.contains(name)).unwrap();
        assert!(row.starts_with("| A |"), "{row}");
        assert!(
            row.contains("through mx, which did no TLS inbound"),
            "{row}"
        );
    }
    let broke = md.split("## What broke").nth(1).unwrap();
    assert!(broke.contains("### mx in: no TLS at all"), "{md}");
    assert!(
        broke.contains("9 messages in clear text from 3 peers"),
        "{md}"
    );
    assert!(
        broke.contains("confSERVER_CERT") && broke.contains("confSERVER_KEY"),
        "{md}"
    );
    assert!(!broke.contains("smtpd_tls"), "Sendmail advice only: {md}");
    assert!(!broke.contains("No TLS errors"), "{md}");
    // The overall clear-text share still counts them: the mail did travel in clear.
    assert!(
        md.contains("**plaintext** overall: 9 of 9 messages"),
        "{md}"
    );
    let (_, table, _) = run(&["scan", &log, "--color", "never"]);
    assert!(
        table.contains("1  host of ours without any TLS (ours to fix): mx in"),
        "{table}"
    );

    // The same peers over TLS: nothing to say about the host, nothing held back.
    let tls = write(dir.path(), "tls.log", &sendmail_log("mx", true));
    let (_, md, _) = run(&["scan", &tls, "--format", "md"]);
    assert!(!md.contains("no TLS at all"), "{md}");
}

/// Two MXes of ours and one peer: it used TLS with mx1, and sent in clear to mx2 (whose
/// smtpd offers no STARTTLS). One peer is enough when it did TLS with another of our
/// hosts; merging the two hosts' snapshots concludes what one run over both logs does.
#[test]
fn a_second_mx_without_tls_is_blamed_in_one_run_and_in_a_merge() {
    let dir = tempfile::tempdir().unwrap();
    let mx1 = write(dir.path(), "mx1.log", &sendmail_log("mx1", true));
    let mx2 = write(dir.path(), "mx2.log", &postfix_plain_log("mx2", PEERS[0]));
    let (code, out, err) = run(&["scan", &mx1, &mx2, "--json"]);
    assert_eq!(code, 0, "{err}");
    let one: Value = serde_json::from_str(&out).unwrap();
    let (_, md, _) = run(&["scan", &mx1, &mx2, "--format", "md"]);
    let broke = md.split("## What broke").nth(1).unwrap();
    assert!(broke.contains("### mx2 in: no TLS at all"), "{md}");
    assert!(
        broke.contains("smtpd_tls_security_level"),
        "Postfix's words: {md}"
    );
    assert!(!broke.contains("confSERVER"), "{md}");
    let row = md
        .lines()
        .find(|l| l.starts_with("| ") && l.contains("mail-out.partner.example"))
        .unwrap();
    assert!(row.starts_with("| A |"), "{row}");
    assert!(
        row.contains("4 messages received in clear text through mx2"),
        "{row}"
    );

    // Each host's snapshot alone, then merged (`merge`, and `report` of the two): the
    // same conclusion.
    let s1 = dir.path().join("mx1.json");
    let s2 = dir.path().join("mx2.json");
    for (log, snap) in [(&mx1, &s1), (&mx2, &s2)] {
        let (code, out, err) = run(&["scan", log, "--json"]);
        assert_eq!(code, 0, "{err}");
        std::fs::write(snap, out).unwrap();
    }
    let (s1, s2) = (s1.to_str().unwrap(), s2.to_str().unwrap());
    let (code, merged_json, err) = run(&["merge", s1, s2]);
    assert_eq!(code, 0, "{err}");
    let m: Value = serde_json::from_str(&merged_json).unwrap();
    assert_eq!(m["host_tls"], one["host_tls"], "{merged_json}");
    assert_eq!(plaintext_in(&m), plaintext_in(&one));
    let (code, merged, err) = run(&["report", s1, s2, "--format", "md"]);
    assert_eq!(code, 0, "{err}");
    assert!(merged.contains("### mx2 in: no TLS at all"), "{merged}");
    let row = merged
        .lines()
        .find(|l| l.starts_with("| ") && l.contains("mail-out.partner.example"))
        .unwrap();
    assert!(row.starts_with("| A |"), "{row}");

    // mx2 alone: one peer in clear and nothing else known of it: no conclusion.
    let (_, md, _) = run(&["scan", &mx2, "--format", "md"]);
    assert!(!md.contains("no TLS at all"), "{md}");
}
