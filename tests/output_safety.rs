//! Hostile peer names and server texts through every output: nothing a stranger wrote
//! may act on a terminal (escape sequences, control characters, bidi overrides), become
//! markup in HTML or Markdown, or a formula in a spreadsheet.

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

/// Peers whose names attack the reader: an OSC window-title write plus screen clear, an
/// HTML/CSV payload, a right-to-left override, and an escape in a verify word.
const HOSTILE_LOG: &str = concat!(
    "Nov 27 10:00:01 mail sm-mta[4242]: STARTTLS=server, relay=\x1b]0;pwned\x07evil\x1b[2J.example [192.0.2.10], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n",
    "Nov 27 10:00:02 mail sm-mta[4243]: STARTTLS=server, relay==HYPERLINK(\"http://x\")<script>alert(1)</script> [192.0.2.11], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n",
    "Nov 27 10:00:03 mail sm-mta[4244]: STARTTLS=server, relay=moc.elpmaxe\u{202e}evil [192.0.2.12], version=TLSv1.3, verify=\x1b[8mOK, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n",
    "Nov 27 10:00:04 mail postfix/smtpd[77]: \x1b[1;1H\x1b[2Jcompletely new text\n",
);

/// What the escaped names look like on screen.
const SHOWN: [&str; 3] = [
    "\\x1b]0;pwned\\x07evil\\x1b[2j.example",
    "moc.elpmaxe\\u{202e}evil",
    "\\x1b[8mOK",
];

fn mailtls() -> Command {
    let mut c = Command::cargo_bin("mailtls").unwrap();
    c.env("TZ", "UTC").env("NO_COLOR", "1");
    c
}

/// Fails when `text` (from `what`) holds anything that acts on a terminal.
fn assert_inert(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c != '\n' && mailtls::model::text::is_unsafe(c))
        .collect();
    assert!(bad.is_empty(), "{what}: raw {bad:?} in\n{text}");
}

fn hostile_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let f = dir.path().join("maillog");
    std::fs::write(&f, HOSTILE_LOG).unwrap();
    f
}

#[test]
fn scan_table_and_warnings_show_hostile_names_inert() {
    let dir = tempfile::tempdir().unwrap();
    let f = hostile_file(&dir);
    let out = mailtls()
        .args(["scan", "--year", "2026", "--explain-unparsed", "5"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_inert("scan table", &stdout);
    assert_inert("scan stderr", &stderr);
    for shown in SHOWN {
        assert!(stdout.contains(shown), "{shown} not in\n{stdout}");
    }
    assert!(
        stderr.contains("\\x1b[1;1H\\x1b[2Jcompletely new text"),
        "{stderr}"
    );
}

#[test]
fn events_ndjson_escapes_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let f = hostile_file(&dir);
    let out = mailtls()
        .args(["events", "--year", "2026"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\x1b'), "{stdout}");
    let peers: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| v["peer"]["name"].as_str().map(str::to_owned))
        .collect();
    // The data itself is kept exactly (JSON is for programs); only its encoding is safe.
    assert!(
        peers.iter().any(|p| p.contains("\x1b]0;pwned")),
        "{peers:?}"
    );
}

#[test]
fn follow_lines_show_hostile_names_inert() {
    let dir = tempfile::tempdir().unwrap();
    let f = hostile_file(&dir);
    let mut child = mailtls()
        .args(["follow", "--from-start", "--poll"])
        .arg(&f)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while lines.len() < 3 && Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(l);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = lines.join("\n");
    assert_eq!(lines.len(), 3, "{text}");
    assert_inert("follow", &text);
    // `follow` keeps the peer's own spelling; the table shows the lower-cased key.
    for shown in SHOWN {
        assert!(
            text.to_lowercase().contains(&shown.to_lowercase()),
            "{shown} not in\n{text}"
        );
    }
}

/// A server whose banner, EHLO reply and STARTTLS answer carry escape sequences.
fn hostile_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            thread::spawn(move || serve_hostile(conn));
        }
    });
    addr
}

fn serve_hostile(tcp: TcpStream) {
    let mut r = BufReader::new(tcp);
    let mut line = Vec::new();
    let _ = r
        .get_mut()
        .write_all(b"220 mx\x1b]0;owned\x07 ESMTP \xe2\x80\xae ready\r\n");
    for reply in [
        &b"250-mx Hello\r\n250-X-\x1b[2JCLEAR\r\n250 STARTTLS\r\n"[..],
        b"454 4.7.0 \x1b[31mTLS broken\x1b[0m\r\n",
        b"221 bye\r\n",
    ] {
        line.clear();
        if (&mut r).take(1024).read_until(b'\n', &mut line).is_err() || line.is_empty() {
            return;
        }
        if r.get_mut().write_all(reply).is_err() {
            return;
        }
    }
}

#[test]
fn check_text_shows_hostile_server_replies_inert() {
    let addr = hostile_server();
    let out = mailtls()
        .args(["check", "--timeout", "5"])
        .arg(addr.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_inert("check", &stdout);
    for shown in [
        "mx\\x1b]0;owned\\x07 ESMTP \\u{202e} ready",
        "X-\\x1b[2JCLEAR",
        "454 4.7.0 \\x1b[31mTLS broken\\x1b[0m",
        "verify=TEMP",
    ] {
        assert!(stdout.contains(shown), "{shown} not in\n{stdout}");
    }
}

#[test]
fn report_files_escape_markup_and_neutralise_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let f = hostile_file(&dir);
    let rep = dir.path().join("report");
    let out = mailtls()
        .args(["scan", "--year", "2026", "-o"])
        .arg(&rep)
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // HTML: the payload is text, not an element; the page has no script at all.
    let html = std::fs::read_to_string(rep.join("index.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    let script = scraper::Selector::parse("script").unwrap();
    assert_eq!(doc.select(&script).count(), 0);
    let cells = scraper::Selector::parse("td").unwrap();
    assert!(
        doc.select(&cells).any(|td| td
            .text()
            .collect::<String>()
            .contains("<script>alert(1)</script>")),
        "payload not shown as text"
    );

    // Markdown: markup escaped, control characters gone.
    let md = std::fs::read_to_string(rep.join("summary.md")).unwrap();
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
    assert!(!md.contains("<script>"), "{md}");
    assert_inert("summary.md", &md);

    // CSV: the formula cell starts with a quote, so a spreadsheet shows it as text.
    let csv = std::fs::read_to_string(rep.join("posture.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let peers: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_owned())
        .collect();
    assert!(
        peers.contains(&"'=hyperlink(\"http://x\")<script>alert(1)</script>".to_owned()),
        "{peers:?}"
    );
    assert!(
        peers
            .iter()
            .all(|p| !p.starts_with(['=', '+', '-', '@', '\t', '\r'])),
        "{peers:?}"
    );
}

#[test]
fn doctor_quotes_hostile_log_lines_inert() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("maillog");
    std::fs::write(
        &f,
        "Nov 27 10:00:05 mail sm-mta[4246]: STARTTLS=server, error: accept failed=0, reason=\x1b]0;owned\x07unknown protocol, SSL_error=1, errno=0, retry=-1, relay=evil\x1b[2J.example [192.0.2.14]\n",
    )
    .unwrap();
    let out = mailtls()
        .args(["doctor", "--root"])
        .arg(dir.path())
        .arg("--log")
        .arg(&f)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_inert("doctor", &stdout);
    assert!(
        stdout.contains("reason=\\x1b]0;owned\\x07unknown protocol")
            && stdout.contains("relay=evil\\x1b[2J.example"),
        "{stdout}"
    );
}
