//! `--protocols` / `--ciphers` against a real `openssl s_server` on 127.0.0.1, started by
//! the test: in plain-TLS mode probed with `--smtps`, and behind a small STARTTLS front
//! of our own (s_server cannot do STARTTLS itself) probed as an SMTP server.
//! The hand-built ClientHellos must find exactly what OpenSSL itself says the server
//! accepts: the ground truth is `openssl ciphers -s` for the same cipher string and
//! protocol, restricted to the RSA certificate's authentication (RSA, or none).

// A test: failing loudly is its job (Cargo.toml's [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

struct SServer {
    child: Child,
    _stdin: ChildStdin,
    port: u16,
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn rsa_cert(dir: &Path) {
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args([
            "-subj",
            "/CN=mx.example.test",
            "-addext",
            "subjectAltName=DNS:mx.example.test",
        ])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl binary is needed for this test (Debian package openssl)");
    assert!(ok.success());
}

fn s_server(dir: &Path, extra: &[&str]) -> SServer {
    let port = free_port();
    let mut child = Command::new("openssl")
        .arg("s_server")
        .args(["-accept", &format!("127.0.0.1:{port}"), "-quiet"])
        .arg("-cert")
        .arg(dir.join("cert.pem"))
        .arg("-key")
        .arg(dir.join("key.pem"))
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    // Kept open: s_server treats end of input as a request to stop.
    let stdin = child.stdin.take().expect("stdin");
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    SServer {
        child,
        _stdin: stdin,
        port,
    }
}

/// OpenSSL's own list of suites for `proto` and `cipher_string` usable with an RSA key
/// (TLS 1.3 suites authenticate with any key).
fn openssl_truth(proto: &str, cipher_string: &str) -> BTreeSet<String> {
    let out = Command::new("openssl")
        .args(["ciphers", "-v", "-s", proto, cipher_string])
        .output()
        .expect("openssl ciphers");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            ["Au=RSA", "Au=None", "Au=any"]
                .iter()
                .any(|a| l.contains(a))
        })
        .filter(|l| !l.contains("PSK") && !l.contains("SRP"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// An SMTP server on 127.0.0.1 that answers EHLO with STARTTLS and, after `220` to
/// STARTTLS, relays the connection byte for byte to the TLS server at `tls_port`.
fn starttls_front(tls_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || front_session(conn, tls_port));
        }
    });
    port
}

fn front_session(conn: TcpStream, tls_port: u16) -> std::io::Result<()> {
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    w.write_all(b"220 front.example.test ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        if cmd.starts_with("EHLO") {
            w.write_all(b"250-front.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")?;
        } else if cmd == "STARTTLS" {
            w.write_all(b"220 2.0.0 Ready to start TLS\r\n")?;
            break;
        } else if cmd == "QUIT" {
            return w.write_all(b"221 2.0.0 Bye\r\n");
        } else {
            w.write_all(b"250 OK\r\n")?;
        }
    }
    let client = r.into_inner();
    let server = TcpStream::connect(("127.0.0.1", tls_port))?;
    let (mut c_in, mut s_out) = (client.try_clone()?, server.try_clone()?);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_in, &mut s_out);
        let _ = s_out.shutdown(Shutdown::Write);
    });
    let (mut s_in, mut c_out) = (server, client);
    let _ = std::io::copy(&mut s_in, &mut c_out);
    let _ = c_out.shutdown(Shutdown::Both);
    let _ = up.join();
    Ok(())
}

fn check(port: u16) -> (Value, i32) {
    run_check(&["--smtps"], port)
}

fn run_check(mode: &[&str], port: u16) -> (Value, i32) {
    let out = Command::cargo_bin("mailtls")
        .expect("binary")
        .arg("check")
        .args(mode)
        .args(["--protocols", "--ciphers", "--json", "--timeout", "1"])
        .args(["--servername", "mx.example.test"])
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    (v, out.status.code().unwrap_or(-1))
}

fn accepted(rec: &Value) -> Vec<(String, bool)> {
    rec["protocols"]
        .as_array()
        .expect("protocols")
        .iter()
        .map(|p| {
            (
                p["version"].as_str().unwrap_or("").to_owned(),
                p["accepted"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn ciphers(rec: &Value, version: &str) -> BTreeSet<String> {
    rec["ciphers"]
        .as_array()
        .expect("ciphers")
        .iter()
        .filter(|c| c["version"] == version)
        .filter_map(|c| c["cipher"].as_str().map(str::to_owned))
        .collect()
}

fn yes_no(v: [bool; 5]) -> Vec<(String, bool)> {
    ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        .iter()
        .zip(v)
        .map(|(n, b)| ((*n).to_owned(), b))
        .collect()
}

#[test]
fn tls1_only_server_is_found_and_its_chain_read_in_clear() {
    let dir = tempfile::tempdir().expect("dir");
    rsa_cert(dir.path());
    let cipher_string = "ALL:@SECLEVEL=0";
    let srv = s_server(dir.path(), &["-tls1", "-cipher", cipher_string]);
    let (doc, code) = check(srv.port);
    assert_eq!(doc["schema"], "mailtls.check/1");
    let rec = &doc["results"][0];
    // rustls cannot speak TLS 1.0: the main handshake fails (verify=SOFTWARE) …
    assert_eq!(rec["verify"], "SOFTWARE", "{rec:#}");
    assert_eq!(code, 1);
    // … but the hand-built hellos see exactly TLS 1.0 …
    assert_eq!(accepted(rec), yes_no([false, true, false, false, false]));
    // … with OpenSSL's own list of suites …
    assert_eq!(ciphers(rec, "TLSv1"), openssl_truth("-tls1", cipher_string));
    // … and the certificate comes from the clear-text Certificate message.
    assert_eq!(rec["chain"][0]["subject"], "CN=mx.example.test");
    assert_eq!(rec["chain"][0]["key_type"], "RSA");
    assert_eq!(rec["chain"][0]["key_bits"], 2048);
    let codes: Vec<&str> = rec["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    for c in [
        "clear_text_chain",
        "deprecated_protocol",
        "weak_cipher",
        "handshake_failed",
    ] {
        assert!(codes.contains(&c), "{c} in {codes:?}");
    }
}

#[test]
fn modern_server_refuses_old_protocols() {
    let dir = tempfile::tempdir().expect("dir");
    rsa_cert(dir.path());
    let srv = s_server(dir.path(), &["-no_ssl3", "-no_tls1", "-no_tls1_1"]);
    let (doc, _) = check(srv.port);
    let rec = &doc["results"][0];
    assert_eq!(rec["tls"]["version"], "TLSv1.3", "{rec:#}");
    assert_eq!(accepted(rec), yes_no([false, false, false, true, true]));
    assert_eq!(ciphers(rec, "TLSv1.3"), openssl_truth("-tls1_3", "DEFAULT"));
    assert_eq!(ciphers(rec, "TLSv1.2"), openssl_truth("-tls1_2", "DEFAULT"));
}

#[test]
fn tls1_only_server_behind_a_starttls_front() {
    let dir = tempfile::tempdir().expect("dir");
    rsa_cert(dir.path());
    let cipher_string = "ALL:@SECLEVEL=0";
    let srv = s_server(dir.path(), &["-tls1", "-cipher", cipher_string]);
    let front = starttls_front(srv.port);
    let (doc, code) = run_check(&[], front);
    let rec = &doc["results"][0];
    assert_eq!(rec["mode"], "starttls");
    assert_eq!(rec["extensions"][1], "STARTTLS", "{rec:#}");
    assert_eq!(rec["verify"], "SOFTWARE", "{rec:#}");
    assert_eq!(code, 1);
    assert_eq!(accepted(rec), yes_no([false, true, false, false, false]));
    assert_eq!(ciphers(rec, "TLSv1"), openssl_truth("-tls1", cipher_string));
    assert_eq!(rec["chain"][0]["subject"], "CN=mx.example.test");
}
