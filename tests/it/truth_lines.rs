//! What a line means and how many incidents it makes (issue 18, points 1, 2, 3, 8, 11), on
//! real lines captured from Sendmail 8.17.1.9, Postfix 3.7.11 and Exim 4.96 by the e2e
//! suite (tests/fixtures/real/, see its README on branch e2e), through the binary.

use std::path::{Path, PathBuf};

use crate::common::{mailtls, stderr};
use serde_json::Value;

fn real(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(rel)
}

fn run(args: &[&str], path: &Path) -> String {
    run_all(args, &[path])
}

/// [`run`] over several inputs read together (a fleet, or a host's older and newer log).
fn run_all(args: &[&str], paths: &[&Path]) -> String {
    let out = mailtls()
        .args(args)
        .args(paths)
        .args(["--year", "2026"])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn scan(path: &Path) -> Value {
    serde_json::from_str(&run(&["scan", "--format", "json", "--loopback"], path)).unwrap()
}

fn events(path: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["events", "--json", "--loopback"];
    args.extend_from_slice(extra);
    run(&args, path)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `local_errors` summed over hosts: kind → count.
fn local_kinds(v: &Value) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for errs in v["local_errors"].as_object().unwrap().values() {
        for (k, e) in errs.as_object().unwrap() {
            match out.iter_mut().find(|(kk, _)| kk == k) {
                Some((_, n)) => *n += e["count"].as_u64().unwrap(),
                None => out.push((k.clone(), e["count"].as_u64().unwrap())),
            }
        }
    }
    out.sort();
    out
}

/// Peer errors over all peers: "in:kind" / "out:kind" → count.
fn peer_kinds(v: &Value) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for p in v["peers"].as_array().unwrap() {
        for (dir, short) in [("inbound", "in"), ("outbound", "out")] {
            for (k, e) in p[dir]["errors"].as_object().unwrap() {
                let key = format!("{short}:{k}");
                match out.iter_mut().find(|(kk, _)| *kk == key) {
                    Some((_, n)) => *n += e["count"].as_u64().unwrap(),
                    None => out.push((key, e["count"].as_u64().unwrap())),
                }
            }
        }
    }
    out.sort();
    out
}

fn kinds(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    v.sort();
    v
}

/// Lines Sendmail writes only above LogLevel 9 (conf.c/tls.c/srvrsmtp.c levels): what
/// turns a real LogLevel 14 capture into the LogLevel 9 log of the same sessions.
const ABOVE_LOGLEVEL_9: &[&str] = &[
    "STARTTLS: CRLFile missing",
    ", init=1",
    "Diffie-Hellman init",
    ", cert-subject=",
    ", start=ok",
    "SSL_shutdown",
    "tls_srv_features=",
    "tls_clt_features=",
    "engine=(null)",
    "AUTH: available mech",
    "Milter: no active filter",
    "poststats:",
    "NOQUEUE: connect from",
];

/// Point 1: `STARTTLS: CRLFile missing`, `init=1`, `cert-subject=…`, `SSL_shutdown failed`
/// and friends are information. The same sessions at LogLevel 14 and at LogLevel 9 give
/// the same posture, the same errors (none) and the same grades, in both stamp formats.
#[test]
fn loglevel_14_information_changes_nothing() {
    for name in ["sendmail/loglevel14.log", "sendmail/loglevel14.trad.log"] {
        let l14 = real(name);
        let text = std::fs::read_to_string(&l14).unwrap();
        let l9_text: String = text
            .lines()
            .filter(|l| !ABOVE_LOGLEVEL_9.iter().any(|m| l.contains(m)))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            l9_text.lines().count() + 20 < text.lines().count(),
            "{name}: the LogLevel 9 version must really drop lines"
        );
        let dir = tempfile::tempdir().unwrap();
        let l9 = dir.path().join("maillog");
        std::fs::write(&l9, l9_text).unwrap();

        let (a, b) = (scan(&l14), scan(&l9));
        assert_eq!(a["peers"], b["peers"], "{name}: posture per peer");
        assert_eq!(
            local_kinds(&a),
            vec![],
            "{name}: no local error at LogLevel 14"
        );
        assert_eq!(local_kinds(&b), vec![]);
        assert_eq!(peer_kinds(&a), vec![], "{name}: no peer error");
        let csv = |p: &Path| run(&["scan", "--format", "csv", "--loopback"], p);
        assert_eq!(csv(&l14), csv(&l9), "{name}: grades");
        // The verify histogram counts sessions (4 in, 1 out).
        let sessions: u64 = a["peers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["inbound"]["tls_sessions"].as_u64().unwrap())
            .sum();
        assert_eq!(sessions, 4, "{name}");

        // `init=1` is evidence that TLS is up, per role; never an error.
        let evs = events(&l14, &[]);
        let ready: Vec<&str> = evs
            .iter()
            .filter(|e| e["type"] == "tls_ready")
            .map(|e| e["direction"].as_str().unwrap())
            .collect();
        assert_eq!(ready, ["inbound", "outbound"], "{name}");
        assert!(evs.iter().all(|e| e["type"] != "error"), "{name}");
        assert_eq!(
            evs.iter().filter(|e| e["type"] == "daemon_start").count(),
            1,
            "{name}"
        );
    }
}

/// Point 2: a failed Postfix handshake (`SSL_accept error` + `TLS library problem` +
/// `lost connection after STARTTLS`) is one handshake incident whose reason is the
/// library line; `lost connection after STARTTLS` after `TLS connection established` is
/// no failure. Point 11: both stamp formats give the same report, last texts included.
#[test]
fn a_failed_handshake_is_one_incident_with_its_reason() {
    let log = real("postfix/scanner_burst.log");
    let text = std::fs::read_to_string(&log).unwrap();
    let failed = text.matches("SSL_accept error from").count();
    let completed = text.matches("TLS connection established from").count();
    assert_eq!((failed, completed), (6, 4), "the capture");
    assert!(text.matches("lost connection after STARTTLS").count() >= 10);

    let v = scan(&log);
    assert_eq!(peer_kinds(&v), kinds(&[("in:handshake", 6)]));
    assert_eq!(local_kinds(&v), vec![]);
    // The posture keeps the reason of the latest incident beside its text.
    let last_reason = v["peers"][0]["inbound"]["errors"]["handshake"]["last_reason"]
        .as_str()
        .unwrap();
    let last_dump = text
        .lines()
        .rfind(|l| l.contains("TLS library problem: "))
        .unwrap();
    assert!(last_dump.ends_with(last_reason), "{last_reason}");
    // The report's example says why, not only that: `SSL_accept error … -1` alone names
    // no cause; the library line beside it does.
    let md = run(&["scan", "--format", "md", "--loopback"], &log);
    let example = md
        .lines()
        .find(|l| l.starts_with("* example: SSL\\_accept error"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        example.contains("(reason: ") && example.contains("no shared cipher"),
        "{example}"
    );
    // And so does `peer`: under the first and the last line of the kind, their reasons.
    let story = run(&["peer", "vm.example.test", "--color", "never"], &log);
    let reasons: Vec<&str> = story
        .lines()
        .filter_map(|l| l.trim().strip_prefix("reason: "))
        .collect();
    assert_eq!(reasons.len(), 2, "{story}");
    assert!(reasons[0].contains("unsupported protocol"), "{story}");
    assert!(reasons[1].contains("no shared cipher"), "{story}");

    let errs = events(&log, &["--errors-only"]);
    assert_eq!(errs.len(), 6);
    for e in &errs {
        assert!(
            e["text"]
                .as_str()
                .unwrap()
                .starts_with("SSL_accept error from vm.example.test[127.0.0.1]"),
            "{e}"
        );
        let reason = e["reason"].as_str().unwrap();
        assert!(
            reason.contains("unsupported protocol") || reason.contains("no shared cipher"),
            "{e}"
        );
        assert_eq!(e["side"], "peer");
        assert_eq!(e["direction"], "inbound");
    }

    // The classic-stamp capture of the same daemon: the same conclusions, and the last
    // text of each kind is the last in input order (not the greatest of one second).
    let trad = scan(&real("postfix/scanner_burst.trad.log"));
    assert_eq!(peer_kinds(&trad), peer_kinds(&v));
    let strip = |v: &Value| {
        let mut d = v["peers"][0]["inbound"].clone();
        let o = d.as_object_mut().unwrap();
        o.remove("first_seen");
        o.remove("last_seen");
        for e in o["errors"].as_object_mut().unwrap().values_mut() {
            let e = e.as_object_mut().unwrap();
            e.remove("first_seen");
            e.remove("last_seen");
        }
        d
    };
    assert_eq!(strip(&trad), strip(&v));
}

/// Point 11: among lines of the same second the last in input order gives `last_text`,
/// not the lexically greatest.
#[test]
fn last_text_is_the_last_line_of_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    std::fs::write(
        &log,
        "Dec  6 12:47:44 vm sm-mta[100]: STARTTLS=server, error: accept failed=-1, reason=unsupported protocol, SSL_error=1, errno=0, retry=-1, relay=probe.example [192.0.2.9]\n\
         Dec  6 12:47:44 vm sm-mta[101]: STARTTLS=server, error: accept failed=-1, reason=no shared cipher, SSL_error=1, errno=0, retry=-1, relay=probe.example [192.0.2.9]\n",
    )
    .unwrap();
    let v = scan(&log);
    let e = &v["peers"][0]["inbound"]["errors"]["handshake"];
    assert_eq!(e["count"], 2);
    assert!(
        e["last_text"]
            .as_str()
            .unwrap()
            .contains("no shared cipher"),
        "{e}"
    );
}

/// Point 2: an encrypted key is one private_key incident of the server role per start-up
/// burst (Postfix: key line + OpenSSL dump, was 11 errors; the client's hang-up after our
/// 454 is no peer failure; Sendmail: SSL_CTX_use_PrivateKey_file + dump, was 1 + 10 +
/// unsafe_file).
#[test]
fn a_key_that_fails_to_load_is_one_private_key_incident() {
    for name in [
        "sendmail/key_encrypted_pkcs8.log",
        "postfix/key_encrypted_pkcs8.log",
    ] {
        let log = real(name);
        let v = scan(&log);
        assert_eq!(local_kinds(&v), kinds(&[("private_key", 1)]), "{name}");
        assert_eq!(peer_kinds(&v), vec![], "{name}");
        let errs = events(&log, &["--errors-only"]);
        assert_eq!(errs.len(), 1, "{name}");
        assert_eq!(errs[0]["direction"], "inbound", "{name}: server role");
        assert_eq!(errs[0]["side"], "ours", "{name}");
    }
    let errs = events(&real("postfix/key_encrypted_pkcs8.log"), &["--errors-only"]);
    assert!(
        errs[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("cannot get RSA private key from file"),
        "{}",
        errs[0]
    );
    // The dump line that names the pass phrase is the reason (OpenSSL 3 writes
    // `problems getting password` or `unable to get passphrase`).
    let reason = errs[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("password") || reason.contains("passphrase"),
        "{}",
        errs[0]
    );
}

/// Point 3: a missing file is missing_file (not unsafe_file, not private_key); Exim's
/// `cert/key setup` failures are private_key; Exim's local errors are keyed by the input
/// (its mainlog has no host), never `-`.
#[test]
fn kinds_of_real_key_and_file_problems() {
    for (name, want) in [
        ("sendmail/key_missing.log", "missing_file"),
        ("postfix/key_missing.log", "missing_file"),
        ("exim/key_mismatch.log", "private_key"),
        ("exim/key_unreadable.log", "private_key"),
    ] {
        let v = scan(&real(name));
        assert_eq!(local_kinds(&v), kinds(&[(want, 1)]), "{name}");
        let hosts: Vec<&String> = v["local_errors"].as_object().unwrap().keys().collect();
        assert!(!hosts.iter().any(|h| *h == "-"), "{name}: {hosts:?}");
        if name.starts_with("exim") {
            assert!(hosts[0].ends_with(name), "{name}: {hosts:?}");
        }
    }
}

/// Point 2: Sendmail's failed client handshake (`connect failed=…`) and the `tls_server`
/// ruleset's refusal of it are one incident, then the fallback to clear text.
#[test]
fn a_refused_failed_handshake_is_one_incident() {
    let v = scan(&real("sendmail/client_fallback.log"));
    assert_eq!(peer_kinds(&v), kinds(&[("out:handshake", 1)]));
    assert_eq!(local_kinds(&v), vec![]);
}

/// Point 3 (the peer rejected our certificate) and point 8 (one session, one verify
/// word), on the lines the issue quotes, and point 11 (a trailing blank after `bits=`).
#[test]
fn rejected_certificate_verify_words_and_trailing_blanks() {
    let dir = tempfile::tempdir().unwrap();
    let exim = dir.path().join("mainlog");
    std::fs::write(
        &exim,
        "2026-12-06 12:50:08 TLS error on connection from (client.example.test) [192.0.2.9] (recv): A TLS fatal alert has been received: Certificate is bad\n\
         2026-12-06 12:51:08 1xaBgu-0002L9-0h <= sender@client.example.test H=(client.example.test) [192.0.2.9] P=esmtps X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no S=505 id=x@client.example.test\n",
    )
    .unwrap();
    let evs = events(&exim, &[]);
    let err = evs.iter().find(|e| e["type"] == "error").unwrap();
    assert_eq!(err["kind"], "certificate_rejected");
    assert_eq!(err["side"], "ours");
    let session = evs.iter().find(|e| e["type"] == "session").unwrap();
    assert_eq!(session["tls"]["verify"], "NO", "CV=no without DN");

    let postfix = dir.path().join("mail.log");
    std::fs::write(
        &postfix,
        "2026-12-06T12:49:30.434587+00:00 vm postfix/smtpd[4544]: connect from mail.peer.example[192.0.2.20]\n\
         2026-12-06T12:49:30.434587+00:00 vm postfix/smtpd[4544]: Anonymous TLS connection established from mail.peer.example[192.0.2.20]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256\n\
         2026-12-06T12:49:30.435009+00:00 vm postfix/smtpd[4544]: lost connection after STARTTLS from mail.peer.example[192.0.2.20]\n\
         2026-12-06T12:49:30.435080+00:00 vm postfix/smtpd[4544]: disconnect from mail.peer.example[192.0.2.20] ehlo=1 starttls=1 commands=2\n",
    )
    .unwrap();
    let evs = events(&postfix, &[]);
    let session = evs.iter().find(|e| e["type"] == "session").unwrap();
    assert_eq!(session["tls"]["verify"], "NO", "Postfix Anonymous");
    assert!(
        evs.iter().all(|e| e["type"] != "error"),
        "a hang-up after a completed handshake is no failure"
    );

    let sendmail = dir.path().join("maillog");
    std::fs::write(
        &sendmail,
        "Dec  6 12:47:44 vm sm-mta-mx[30241]: STARTTLS=server, relay=mail.peer.example [192.0.2.20], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256 \n",
    )
    .unwrap();
    let v = scan(&sendmail);
    assert_eq!(v["summary"]["lines_malformed"], 0);
    assert_eq!(v["peers"][0]["inbound"]["tls_sessions"], 1);
    assert_eq!(v["peers"][0]["inbound"]["verify"]["NO"], 1);
}

/// Two real captures of one host read together, the later one first (scan orders its
/// inputs): Postfix's missing key at 13:06:39 is our outage until TLS works again at
/// 13:06:53, and the probe's clear-text message at 13:06:39 is in it, not held against the
/// peer (it was: window "0 messages", peer D for 1 of 1 message in clear).
#[test]
fn an_outage_read_after_its_end_still_counts_its_clear_text() {
    let logs = [
        &real("postfix/key_missing.log"),
        &real("postfix/scanner_burst.log"),
    ];
    let logs = logs.map(PathBuf::as_path);
    let v: Value =
        serde_json::from_str(&run_all(&["scan", "--format", "json", "--loopback"], &logs)).unwrap();
    let w = v["windows"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0]["start"], "2026-12-06T13:06:39.368970Z");
    assert_eq!(w[0]["resumed"], "2026-12-06T13:06:53.739226Z");
    assert_eq!(w[0]["plaintext_messages"], 1, "{w:#?}");
    let csv = run_all(&["scan", "--format", "csv", "--loopback"], &logs);
    let row = csv
        .lines()
        .find(|l| l.contains("vm.example.test"))
        .unwrap_or_else(|| panic!("{csv}"));
    // Graded on its failed handshakes (the scanner), not on our outage's clear text.
    assert!(row.starts_with("vm.example.test,in,C,"), "{row}");
}

/// A busy server: the real Postfix `key_missing` outage, with a real TLS session of
/// another smtpd process (from `scanner_burst`) logged between the clear-text message's
/// `client=` line and its `qmgr`/`disconnect` lines, where Postfix hands the message out.
/// TLS works again from that session on, but the message was accepted before it, in our
/// outage: it counts in the window, not against the peer.
#[test]
fn clear_text_of_an_outage_handed_out_after_tls_resumed_counts_in_the_window() {
    let outage = std::fs::read_to_string(real("postfix/key_missing.log")).unwrap();
    let tls = std::fs::read_to_string(real("postfix/scanner_burst.log")).unwrap();
    let tls = tls
        .lines()
        .find(|l| l.contains("Anonymous TLS connection established from"))
        .unwrap();
    let (_, rest) = tls.split_once(' ').unwrap();
    let tls = format!("2026-12-06T13:06:39.600000+00:00 {rest}");
    let mut log = String::new();
    for line in outage.lines() {
        log.push_str(line);
        log.push('\n');
        if line.contains("925A31325CD: client=") {
            log.push_str(&tls);
            log.push('\n');
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.log");
    std::fs::write(&path, log).unwrap();
    let v = scan(&path);
    let w = v["windows"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0]["resumed"], "2026-12-06T13:06:39.600Z", "{w:#?}");
    assert_eq!(w[0]["plaintext_messages"], 1, "{w:#?}");
    assert_eq!(w[0]["messages"][0]["queue_id"], "925A31325CD", "{w:#?}");
}

/// A fleet of two MTAs (the real Postfix `scanner_burst` and Sendmail `loglevel14` logs
/// read together) talking to the same peer: the scanner's failed handshakes were logged by
/// Postfix alone, so "what broke" advises in Postfix's terms only, though the peer is
/// also Sendmail's.
#[test]
fn an_error_logged_by_one_mta_of_a_fleet_gets_that_mta_s_advice_only() {
    let logs = [
        &real("postfix/scanner_burst.log"),
        &real("sendmail/loglevel14.log"),
    ];
    let logs = logs.map(PathBuf::as_path);
    let md = run_all(&["scan", "--format", "md", "--loopback"], &logs);
    let v: Value =
        serde_json::from_str(&run_all(&["scan", "--format", "json", "--loopback"], &logs)).unwrap();
    let peer = v["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer"] == "vm.example.test")
        .unwrap();
    assert_eq!(
        peer["mtas"],
        serde_json::json!(["sendmail", "postfix"]),
        "{peer:#}"
    );
    assert_eq!(
        peer["inbound"]["errors"]["handshake"]["mtas"],
        serde_json::json!(["postfix"]),
        "{peer:#}"
    );
    let broke = md
        .split("\n## ")
        .find(|s| s.starts_with("What broke"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(broke.contains("### handshake"), "{broke}");
    assert!(broke.contains("smtpd_tls_protocols"), "{broke}");
    assert!(!broke.contains("Sendmail"), "{broke}");
    assert!(!broke.contains("Try_TLS"), "{broke}");
}

/// A peer whose certificate does not verify where our policy requires it (the real
/// `verify_required` captures: Sendmail `TLS_Srv:127.0.0.1 VERIFY`, Postfix `verify`, Exim
/// `tls_verify_hosts`, the receiver's certificate self-signed) is one `cert_verify`
/// incident on all three MTAs, one delivery held. Sendmail's `ruleset=tls_server,
/// arg1=FAIL, …, reject=` was filed as `policy` while Postfix and Exim said `cert_verify`
/// for the same situation. A refusal is filed by what the session lacked: `arg1=DANE_FAIL`
/// is `dane`; a session refused for too few bits (`arg1=OK`) stays `policy`.
#[test]
fn a_certificate_that_fails_a_required_verification_is_cert_verify_on_every_mta() {
    for f in [
        "sendmail/verify_required.log",
        "postfix/verify_required.log",
        "exim/verify_required.log",
    ] {
        let v = scan(&real(f));
        assert_eq!(peer_kinds(&v), kinds(&[("out:cert_verify", 1)]), "{f}");
        assert_eq!(local_kinds(&v), vec![], "{f}");
        let out = &v["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["peer"] == "127.0.0.1")
            .unwrap()["outbound"];
        assert_eq!(out["deferred"], 1, "{f}: {out}");
        assert_eq!(out["plaintext_messages"], 0, "{f}: {out}");
    }

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    // The real `verify_required` refusal, and the same session refused for its TLSA
    // records and for too few bits (sendmail's tls_server wording for each).
    let real_fail = std::fs::read_to_string(real("sendmail/verify_required.log")).unwrap();
    let line = real_fail
        .lines()
        .find(|l| l.contains("ruleset=tls_server"))
        .unwrap();
    let dane = line
        .replace("sm-mta-mx[26468]", "sm-mta-mx[26470]")
        .replace("arg1=FAIL", "arg1=DANE_FAIL")
        .replace("[127.0.0.1]", "[192.0.2.30]");
    let bits = line
        .replace("sm-mta-mx[26468]", "sm-mta-mx[26471]")
        .replace("arg1=FAIL", "arg1=OK")
        .replace("[127.0.0.1]", "[192.0.2.31]")
        .replace(
            "authentication failed",
            "encryption too weak 56 less than 128",
        );
    std::fs::write(&log, format!("{line}\n{dane}\n{bits}\n")).unwrap();
    let v = scan(&log);
    assert_eq!(
        peer_kinds(&v),
        kinds(&[("out:cert_verify", 1), ("out:dane", 1), ("out:policy", 1)])
    );
}

/// Exim logs a missing `tls_verify_certificates` file at start-up once per role and again
/// for every connection it breaks, with `TLS error on connection from … NULL` (the real
/// `ca_missing` capture): ours, one incident while the lines keep coming, the client not
/// blamed. A connection a minute later is a second incident, also ours, whoever the
/// client. mailtls read none of the `could not stat` lines before and blamed the client for
/// a failed handshake (grade F).
#[test]
fn an_exim_tls_file_that_cannot_be_read_is_ours_not_the_clients() {
    let v = scan(&real("exim/ca_missing.log"));
    assert_eq!(local_kinds(&v), kinds(&[("missing_file", 1)]));
    assert_eq!(peer_kinds(&v), vec![]);

    let text = std::fs::read_to_string(real("exim/ca_missing.log")).unwrap();
    let later: String = text
        .lines()
        .rfind(|l| l.contains("could not stat"))
        .into_iter()
        .chain(text.lines().filter(|l| l.contains(" NULL")))
        .map(|l| {
            l.replace("19:52:16", "19:53:20")
                .replace("[127.0.0.1]", "[192.0.2.20]")
                + "\n"
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mainlog");
    std::fs::write(&log, format!("{text}{later}")).unwrap();
    let v = scan(&log);
    assert_eq!(local_kinds(&v), kinds(&[("missing_file", 2)]));
    assert_eq!(peer_kinds(&v), vec![]);
}

/// Postfix's DH parameters replaced by its built-in ones (the real `dh_missing` capture:
/// `warning: error opening DH parameter file … -- using compiled-in defaults`): ours to fix,
/// `dh_params`, but TLS works, so no window and a client that hangs up in the handshake
/// afterwards is still a failed handshake (an smtpd whose TLS is off would not count it).
#[test]
fn dh_parameters_replaced_by_built_in_ones_leave_tls_working() {
    let text = std::fs::read_to_string(real("postfix/dh_missing.log")).unwrap();
    let v = scan(&real("postfix/dh_missing.log"));
    assert_eq!(local_kinds(&v), kinds(&[("dh_params", 1)]));
    assert!(
        v["downgrade_windows"]
            .as_array()
            .is_none_or(|w| w.is_empty()),
        "{}",
        v["downgrade_windows"]
    );

    // A client of the same smtpd that hangs up in its handshake, later.
    let hangup = "2026-12-07T21:05:31.100000+00:00 vm postfix/smtpd[5282]: connect from mail.peer.example[192.0.2.20]\n\
                  2026-12-07T21:05:31.200000+00:00 vm postfix/smtpd[5282]: lost connection after STARTTLS from mail.peer.example[192.0.2.20]\n\
                  2026-12-07T21:05:31.200100+00:00 vm postfix/smtpd[5282]: disconnect from mail.peer.example[192.0.2.20] ehlo=1 starttls=0/1 commands=1/2\n";
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(&log, format!("{text}{hangup}")).unwrap();
    let v = scan(&log);
    assert_eq!(peer_kinds(&v), kinds(&[("in:handshake", 1)]));
}
