//! A real `openssl s_server` on 127.0.0.1 and an SMTP front that turns it into a STARTTLS
//! server, for the tests that hold `check --protocols --ciphers` against OpenSSL's own
//! view of what a server accepts.
//!
//! No free-port race: s_server binds port 0 itself and prints the port the kernel gave it
//! (`ACCEPT 127.0.0.1:PORT`), which is read back. (Finding a free port by binding and
//! dropping a listener, then letting s_server bind it, lets any other process take the
//! port in between, and the readiness probe would then connect to that process.)

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// A running s_server; killed when dropped.
pub struct SServer {
    child: Child,
    // Kept open: s_server treats end of input as a request to stop.
    _stdin: ChildStdin,
    pub port: u16,
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a self-signed RSA 2048 `cert.pem` and `key.pem` for mx.example.test in `dir`,
/// valid for a year (so no expiry warning joins the findings).
pub fn rsa_cert(dir: &Path) {
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
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

/// Starts `openssl s_server` with `dir`'s `cert.pem`/`key.pem` and `extra` flags on a port
/// of the kernel's choosing, and returns once it accepts.
pub fn s_server(dir: &Path, extra: &[&str]) -> SServer {
    let mut child = Command::new("openssl")
        .arg("s_server")
        // Not -quiet: that would also silence the ACCEPT line.
        .args(["-accept", "127.0.0.1:0"])
        .arg("-cert")
        .arg(dir.join("cert.pem"))
        .arg("-key")
        .arg(dir.join("key.pem"))
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the openssl binary is needed for this test (Debian package openssl)");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    // The first ACCEPT line names the port; the rest of stdout (session details of each
    // connection) is drained so s_server never blocks on a full pipe.
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("ACCEPT ")
                && let Some(t) = tx.take()
            {
                let port = addr.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
                let _ = t.send(port);
            }
        }
    });
    let port = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Some(port)) => port,
        other => {
            let _ = child.kill();
            let status = child.wait();
            panic!("s_server did not report its port ({other:?}, {status:?})");
        }
    };
    SServer {
        child,
        _stdin: stdin,
        port,
    }
}

/// An SMTP server on 127.0.0.1 that answers EHLO with STARTTLS and, after `220` to
/// STARTTLS, relays the connection byte for byte to the TLS server at `tls_port`.
/// Connection number `n` (from 1) is instead answered `421 4.7.0 … Too many concurrent SMTP
/// connections` and closed when `refuse(n)`, as a connection-limited MTA does. Returns
/// the port (the listener is bound before this returns: no race either).
pub fn starttls_front(tls_port: u16, refuse: fn(usize) -> bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for (i, conn) in listener.incoming().flatten().enumerate() {
            if refuse(i + 1) {
                let mut c = conn;
                let _ = c.write_all(b"421 4.7.0 mx.example.test Too many concurrent SMTP connections; please try again later\r\n");
                continue;
            }
            thread::spawn(move || front_session(conn, tls_port));
        }
    });
    port
}

fn front_session(conn: TcpStream, tls_port: u16) -> std::io::Result<()> {
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    w.write_all(b"220 mx.example.test ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        if cmd.starts_with("EHLO") {
            w.write_all(b"250-mx.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")?;
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
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut c_in, &mut s_out);
        let _ = s_out.shutdown(Shutdown::Write);
    });
    let (mut s_in, mut c_out) = (server, client);
    let _ = std::io::copy(&mut s_in, &mut c_out);
    let _ = c_out.shutdown(Shutdown::Both);
    let _ = up.join();
    Ok(())
}
