//! `mailtls check` against hostile servers on 127.0.0.1: each scenario must end within
//! its time bound, with a clear verdict, and (through the binary) in bounded memory.
//!
//! The servers here are raw scripts on a TCP socket rather than tests/smtp_server, because
//! they break the protocol on purpose at byte level.

// A test: failing loudly is its job, and it calls libc for what std lacks (each
// `unsafe` block says why it is sound). Cargo.toml's [lints] deny these elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unsafe_code)]

mod peak_rss;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::thread;
use std::time::{Duration, Instant};

use mailtls::model::Verify;
use mailtls::probe::{self, CheckResult, Mode, Options, Status, StepKind, Target};

const BANNER: &[u8] = b"220 mx.example.test ESMTP ready\r\n";
const EHLO_REPLY: &[u8] = b"250-mx.example.test Hello\r\n250-PIPELINING\r\n250 STARTTLS\r\n";

/// Per-operation timeout and whole-check deadline of these tests: short, so a hang shows
/// as a failure quickly, and far apart, so the test tells which one cut the check.
const OP_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_TIME: Duration = Duration::from_secs(4);

/// A server's behaviour on one connection.
type Script = fn(TcpStream);

/// Serves every connection with `script` in its own thread, on 127.0.0.1:0.
fn serve(script: Script) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            thread::spawn(move || script(conn));
        }
    });
    addr
}

fn options() -> Options {
    Options {
        mode: Mode::Starttls,
        ehlo: "client.example.test".into(),
        timeout: OP_TIMEOUT,
        max_time: MAX_TIME,
        trust: probe::tls::load_trust(None, None).unwrap(),
        client_auth: None,
        servername: Some("mx.example.test".into()),
        versions: probe::tls::versions(false, false),
        protocols: false,
        ciphers: false,
        expiry_warn_days: 30,
        min_protocol: None,
        require_verify: true,
        limiter: None,
    }
}

/// Runs a check and asserts it ended within `bound`.
fn check(addr: SocketAddr, opts: &Options, bound: Duration) -> CheckResult {
    let target = Target {
        host: addr.ip().to_string(),
        port: addr.port(),
    };
    let t = Instant::now();
    let r = probe::check(&target, opts);
    let took = t.elapsed();
    assert!(took < bound, "took {took:?}, bound {bound:?}: {r:#?}");
    r
}

fn codes(r: &CheckResult) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

fn failed_step(r: &CheckResult) -> Option<StepKind> {
    r.steps.iter().find(|s| !s.ok).map(|s| s.step)
}

/// Reads one command line from the client (at most 1 KiB).
fn read_command(r: &mut impl BufRead) -> String {
    let mut line = Vec::new();
    let _ = r.take(1024).read_until(b'\n', &mut line);
    String::from_utf8_lossy(&line).into_owned()
}

/// Banner, EHLO with STARTTLS offered, `220` to STARTTLS; returns the stream positioned
/// at the client's ClientHello.
fn up_to_starttls(tcp: TcpStream) -> Option<TcpStream> {
    let mut r = BufReader::new(tcp);
    r.get_mut().write_all(BANNER).ok()?;
    read_command(&mut r);
    r.get_mut().write_all(EHLO_REPLY).ok()?;
    let cmd = read_command(&mut r);
    if !cmd.starts_with("STARTTLS") {
        return None;
    }
    r.get_mut()
        .write_all(b"220 2.0.0 Ready to start TLS\r\n")
        .ok()?;
    Some(r.into_inner())
}

/// Writes `chunk` until the client goes away (or a minute passes: a hung client).
fn flood(tcp: &mut TcpStream, chunk: &[u8]) {
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end && tcp.write_all(chunk).is_ok() {}
}

fn endless_banner(mut tcp: TcpStream) {
    let _ = tcp.write_all(b"220 ");
    flood(&mut tcp, &[b'a'; 8192]);
}

fn ten_thousand_continuations(mut tcp: TcpStream) {
    let mut reply = Vec::new();
    for i in 0..10_000 {
        reply.extend_from_slice(format!("220-mx.example.test line {i}\r\n").as_bytes());
    }
    reply.extend_from_slice(b"220 mx.example.test ready\r\n");
    let _ = tcp.write_all(&reply);
    thread::sleep(Duration::from_secs(5));
}

fn endless_ehlo_reply(tcp: TcpStream) {
    let mut r = BufReader::new(tcp);
    if r.get_mut().write_all(BANNER).is_err() {
        return;
    }
    read_command(&mut r);
    flood(r.get_mut(), b"250-STARTTLS\r\n250-PIPELINING\r\n");
}

/// A reply that never ends because it hardly moves: one byte of a `250-` line every
/// 200 ms, well inside any per-read timeout, forever.
fn trickled_ehlo_reply(tcp: TcpStream) {
    let mut r = BufReader::new(tcp);
    if r.get_mut().write_all(BANNER).is_err() {
        return;
    }
    read_command(&mut r);
    let end = Instant::now() + Duration::from_secs(60);
    for &b in b"250-mx.example.test Hello\r\n".iter().cycle() {
        if Instant::now() > end || r.get_mut().write_all(&[b]).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// After `220` to STARTTLS: a handshake record whose ServerHello claims 16 MB, then
/// endless filler.
fn sixteen_megabyte_record(tcp: TcpStream) {
    let Some(mut tcp) = up_to_starttls(tcp) else {
        return;
    };
    let mut buf = [0u8; 4096];
    let _ = tcp.read(&mut buf);
    // Handshake record of the largest length, its message header announcing 2^24 - 1.
    let _ = tcp.write_all(&[0x16, 0x03, 0x03, 0xff, 0xff, 0x02, 0xff, 0xff, 0xff]);
    flood(&mut tcp, &[0x41; 8192]);
}

/// After `220` to STARTTLS: a 16 KiB handshake record trickled a byte every 200 ms.
fn trickled_handshake(tcp: TcpStream) {
    let Some(mut tcp) = up_to_starttls(tcp) else {
        return;
    };
    let mut buf = [0u8; 4096];
    let _ = tcp.read(&mut buf);
    let end = Instant::now() + Duration::from_secs(60);
    let record = [0x16u8, 0x03, 0x03, 0x40, 0x00, 0x02, 0x00, 0x3f, 0xfc];
    for &b in record.iter().chain(std::iter::repeat(&0x41)) {
        if Instant::now() > end || tcp.write_all(&[b]).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// After `220` to STARTTLS: reads the ClientHello, starts a plausible ServerHello, then
/// resets the connection (SO_LINGER 0 makes close send RST).
fn reset_mid_handshake(tcp: TcpStream) {
    let Some(mut tcp) = up_to_starttls(tcp) else {
        return;
    };
    let mut buf = [0u8; 4096];
    let _ = tcp.read(&mut buf);
    let _ = tcp.write_all(&[0x16, 0x03, 0x03, 0x00, 0x50, 0x02, 0x00, 0x00, 0x4c, 0x03]);
    thread::sleep(Duration::from_millis(50));
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a plain setsockopt on a socket we own, with a correctly sized value.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(tcp);
}

/// `220` to STARTTLS, then it reads the ClientHello and carries on in plain SMTP.
fn plaintext_after_starttls(tcp: TcpStream) {
    let Some(mut tcp) = up_to_starttls(tcp) else {
        return;
    };
    let mut buf = [0u8; 4096];
    let _ = tcp.read(&mut buf);
    let _ = tcp.write_all(b"250 mx.example.test Hello, still in clear text\r\n");
    thread::sleep(Duration::from_secs(5));
}

#[test]
fn an_endless_banner_line_is_protocol_at_once() {
    let r = check(serve(endless_banner), &options(), Duration::from_secs(3));
    assert_eq!(r.verify, Some(Verify::Protocol), "{r:#?}");
    assert_eq!(r.status, Status::Fail);
    assert_eq!(failed_step(&r), Some(StepKind::Banner));
    assert!(codes(&r).contains(&"smtp_protocol"), "{r:#?}");
}

#[test]
fn ten_thousand_continuation_lines_are_protocol() {
    let r = check(
        serve(ten_thousand_continuations),
        &options(),
        Duration::from_secs(3),
    );
    assert_eq!(r.verify, Some(Verify::Protocol), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Banner));
    let detail = &r.steps.iter().find(|s| !s.ok).unwrap().detail;
    assert!(detail.contains("more than"), "{detail}");
}

#[test]
fn an_endless_ehlo_reply_is_protocol() {
    let r = check(
        serve(endless_ehlo_reply),
        &options(),
        Duration::from_secs(3),
    );
    assert_eq!(r.verify, Some(Verify::Protocol), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Ehlo));
}

#[test]
fn a_trickled_reply_that_never_ends_is_cut_by_the_deadline() {
    // Each byte arrives well inside the per-read timeout: only the whole-check deadline
    // can end this, and it must, within a read timeout of itself.
    let r = check(
        serve(trickled_ehlo_reply),
        &options(),
        MAX_TIME + Duration::from_secs(1),
    );
    assert_eq!(r.status, Status::Error, "{r:#?}");
    assert!(codes(&r).contains(&"timeout"), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Ehlo));
}

#[test]
fn a_trickled_handshake_is_cut_by_the_deadline() {
    let r = check(
        serve(trickled_handshake),
        &options(),
        MAX_TIME + Duration::from_secs(1),
    );
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Handshake));
    let detail = &r.steps.iter().find(|s| !s.ok).unwrap().detail;
    assert!(detail.contains("deadline"), "{detail}");
}

#[test]
fn a_sixteen_megabyte_handshake_message_is_refused() {
    let r = check(
        serve(sixteen_megabyte_record),
        &options(),
        Duration::from_secs(3),
    );
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Handshake));
    assert!(codes(&r).contains(&"handshake_failed"), "{r:#?}");
}

#[test]
fn a_sixteen_megabyte_handshake_message_is_refused_by_the_protocol_probe() {
    let mut o = options();
    o.protocols = true;
    let r = check(serve(sixteen_megabyte_record), &o, Duration::from_secs(10));
    let protocols = r.protocols.as_ref().expect("protocols probed");
    assert_eq!(protocols.len(), 5, "{protocols:#?}");
    for p in protocols {
        // No TLS answer: not tested (issue 20), never "refused".
        assert_eq!(p.accepted, None, "{p:?}");
        assert!(p.detail.contains("not TLS"), "{p:?}");
    }
}

#[test]
fn a_reset_in_mid_handshake_is_software() {
    let r = check(
        serve(reset_mid_handshake),
        &options(),
        Duration::from_secs(3),
    );
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert_eq!(failed_step(&r), Some(StepKind::Handshake));
    let detail = &r.steps.iter().find(|s| !s.ok).unwrap().detail;
    assert!(
        detail.contains("reset") || detail.contains("closed"),
        "{detail}"
    );
}

#[test]
fn plaintext_after_a_220_to_starttls_is_software_not_a_pass() {
    let r = check(
        serve(plaintext_after_starttls),
        &options(),
        Duration::from_secs(3),
    );
    assert_eq!(r.verify, Some(Verify::Software), "{r:#?}");
    assert_eq!(r.status, Status::Fail);
    assert_eq!(failed_step(&r), Some(StepKind::Handshake));
    assert!(r.tls.is_none());
}

/// Runs `mailtls check` on `addr`; returns its exit code, stdout and peak RSS (bytes).
fn binary_check_peak_rss(addr: SocketAddr, extra: &[&str]) -> (i32, String, u64) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("stdout");
    let (status, peak) = peak_rss::run(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("mailtls"))
            .args(["check", "--timeout", "2", "--max-time", "4", "--json"])
            .args(extra)
            .arg(addr.to_string())
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::process::Stdio::null()),
    );
    let out = std::fs::read_to_string(&out_path).unwrap();
    (status.code().unwrap_or(-1), out, peak)
}

#[test]
fn floods_cost_the_binary_no_memory() {
    // Baseline: a server that closes at once.
    let baseline_addr = serve(drop);
    let (_, _, baseline) = binary_check_peak_rss(baseline_addr, &[]);
    let cases: [(Script, &[&str], &str); 4] = [
        (endless_banner, &[], "PROTOCOL"),
        (endless_ehlo_reply, &[], "PROTOCOL"),
        (sixteen_megabyte_record, &[], "SOFTWARE"),
        (sixteen_megabyte_record, &["--protocols"], "SOFTWARE"),
    ];
    for (script, extra, verify) in cases {
        let t = Instant::now();
        let (code, out, peak) = binary_check_peak_rss(serve(script), extra);
        let took = t.elapsed();
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(doc["results"][0]["verify"], verify, "{extra:?}: {out}");
        assert_eq!(code, 1, "{extra:?}: {out}");
        assert!(took < Duration::from_secs(12), "{extra:?}: took {took:?}");
        // The floods run to hundreds of MB in these seconds; the checker keeps at most a
        // line, a reply or a record of them.
        assert!(
            peak < baseline + 16 * 1024 * 1024,
            "{extra:?}: peak RSS {} MiB, baseline {} MiB",
            peak >> 20,
            baseline >> 20
        );
    }
}
