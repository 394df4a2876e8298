//! Hostile SMTP servers on 127.0.0.1 for `check`: raw scripts on a TCP socket rather than
//! smtp_server, because they break the protocol on purpose at byte level (endless lines,
//! 10,000 continuations, trickled replies and handshakes, a 16 MB handshake message, a
//! reset mid-handshake, plain text after `220` to STARTTLS). Shared by the tests
//! (hostile_servers: the verdicts) and benches/timing.rs (how long each check takes).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use mailtls::probe::{self, Mode, Options};

pub const BANNER: &[u8] = b"220 mx.example.test ESMTP ready\r\n";
pub const EHLO_REPLY: &[u8] = b"250-mx.example.test Hello\r\n250-PIPELINING\r\n250 STARTTLS\r\n";

/// Per-operation timeout and whole-check deadline of these tests: short, so a hang shows
/// as a failure quickly, and far apart, so the test tells which one cut the check.
pub const OP_TIMEOUT: Duration = Duration::from_secs(2);
pub const MAX_TIME: Duration = Duration::from_secs(4);

/// A server's behaviour on one connection.
pub type Script = fn(TcpStream);

/// Serves every connection with `script` in its own thread, on 127.0.0.1:0.
pub fn serve(script: Script) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            thread::spawn(move || script(conn));
        }
    });
    addr
}

pub fn options() -> Options {
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

/// Reads one command line from the client (at most 1 KiB).
pub fn read_command(r: &mut impl BufRead) -> String {
    let mut line = Vec::new();
    let _ = r.take(1024).read_until(b'\n', &mut line);
    String::from_utf8_lossy(&line).into_owned()
}

/// Banner, EHLO with STARTTLS offered, `220` to STARTTLS; returns the stream positioned
/// at the client's ClientHello.
pub fn up_to_starttls(tcp: TcpStream) -> Option<TcpStream> {
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
pub fn flood(tcp: &mut TcpStream, chunk: &[u8]) {
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end && tcp.write_all(chunk).is_ok() {}
}

pub fn endless_banner(mut tcp: TcpStream) {
    let _ = tcp.write_all(b"220 ");
    flood(&mut tcp, &[b'a'; 8192]);
}

pub fn ten_thousand_continuations(mut tcp: TcpStream) {
    let mut reply = Vec::new();
    for i in 0..10_000 {
        reply.extend_from_slice(format!("220-mx.example.test line {i}\r\n").as_bytes());
    }
    reply.extend_from_slice(b"220 mx.example.test ready\r\n");
    let _ = tcp.write_all(&reply);
    thread::sleep(Duration::from_secs(5));
}

pub fn endless_ehlo_reply(tcp: TcpStream) {
    let mut r = BufReader::new(tcp);
    if r.get_mut().write_all(BANNER).is_err() {
        return;
    }
    read_command(&mut r);
    flood(r.get_mut(), b"250-STARTTLS\r\n250-PIPELINING\r\n");
}

/// A reply that never ends because it hardly moves: one byte of a `250-` line every
/// 200 ms, well inside any per-read timeout, forever.
pub fn trickled_ehlo_reply(tcp: TcpStream) {
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
pub fn sixteen_megabyte_record(tcp: TcpStream) {
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
pub fn trickled_handshake(tcp: TcpStream) {
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
pub fn reset_mid_handshake(tcp: TcpStream) {
    let Some(mut tcp) = up_to_starttls(tcp) else {
        return;
    };
    let mut buf = [0u8; 4096];
    let _ = tcp.read(&mut buf);
    let _ = tcp.write_all(&[0x16, 0x03, 0x03, 0x00, 0x50, 0x02, 0x00, 0x00, 0x4c, 0x03]);
    thread::sleep(Duration::from_millis(50));
    // SO_LINGER 0: the close sends a reset instead of a FIN.
    let _ = rustix::net::sockopt::set_socket_linger(&tcp, Some(Duration::ZERO));
    drop(tcp);
}

/// `220` to STARTTLS, then it reads the ClientHello and carries on in plain SMTP.
pub fn plaintext_after_starttls(tcp: TcpStream) {
    let Some(mut tcp) = up_to_starttls(tcp) else {
        return;
    };
    let mut buf = [0u8; 4096];
    let _ = tcp.read(&mut buf);
    let _ = tcp.write_all(b"250 mx.example.test Hello, still in clear text\r\n");
    thread::sleep(Duration::from_secs(5));
}
