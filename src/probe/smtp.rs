//! The SMTP side of a check: reading replies (multi-line, split across TCP segments,
//! garbage) and sending commands, over a plain or TLS stream with a deadline.
//!
//! Replies are parsed strictly (RFC 5321 §4.2: `DDD-text` continuation lines, `DDD text`
//! or `DDD` for the last line, one code throughout) because a checker must tell a server
//! that speaks SMTP badly (Sendmail's `verify=PROTOCOL`) from one that speaks it well.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rustls::{ClientConnection, StreamOwned};
use serde::Serialize;

/// Longest reply line we accept (RFC 5321 allows 512; real servers stay well under).
const MAX_LINE: usize = 4096;
/// Most lines in one reply (a long EHLO list has ~20).
const MAX_LINES: usize = 200;

/// One SMTP reply: the code and the text of each line without its `DDD-` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The reply as the server sent it, lines joined by ` / ` for one-line reports.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push_str(" / ");
            }
            out.push_str(&self.code.to_string());
            if !l.is_empty() {
                out.push(' ');
                out.push_str(l);
            }
        }
        out
    }

    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 4xx: try again later (a `454` to STARTTLS is Sendmail's `verify=TEMP`).
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// The EHLO keywords (upper-cased keyword plus its parameters) of a `250` reply: every
    /// line but the first, which is the greeting.
    pub fn ehlo_extensions(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .map(|l| {
                let mut parts = l.splitn(2, ' ');
                let kw = parts.next().unwrap_or("").to_ascii_uppercase();
                match parts.next() {
                    Some(rest) if !rest.trim().is_empty() => format!("{kw} {}", rest.trim()),
                    _ => kw,
                }
            })
            .filter(|l| !l.is_empty())
            .collect()
    }
}

/// Why a reply could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// Nothing (or not all of the reply) arrived before the deadline.
    #[error("timed out waiting for the server")]
    Timeout,
    /// The server closed the connection.
    #[error("connection closed by the server")]
    Closed,
    /// The bytes were not an SMTP reply.
    #[error("not an SMTP reply: {0:?}")]
    Garbage(String),
    /// Any other transport error (including a TLS alert on a TLS stream).
    #[error("{0}")]
    Io(#[source] io::Error),
}

impl SmtpError {
    fn from_io(e: io::Error) -> SmtpError {
        match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => SmtpError::Timeout,
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => SmtpError::Closed,
            _ => SmtpError::Io(e),
        }
    }

    /// True when the error is a TLS failure surfacing on a read (an alert from the server,
    /// e.g. `certificate_required` after a TLS 1.3 handshake).
    pub fn is_tls(&self) -> bool {
        match self {
            SmtpError::Io(e) => e
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()),
            _ => false,
        }
    }
}

/// Reads one reply from a buffered reader. Lines may arrive in any number of TCP
/// segments; `BufRead` glues them back together.
pub fn read_reply<R: BufRead>(r: &mut R) -> Result<Reply, SmtpError> {
    let mut code: Option<u16> = None;
    let mut lines = Vec::new();
    loop {
        let line = read_line(r)?;
        let bytes = line.as_bytes();
        let digits = bytes.get(..3).filter(|d| d.iter().all(u8::is_ascii_digit));
        let Some(digits) = digits else {
            return Err(SmtpError::Garbage(line));
        };
        let this: u16 = digits
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        if !(200..600).contains(&this) || code.is_some_and(|c| c != this) {
            return Err(SmtpError::Garbage(line));
        }
        code = Some(this);
        let (more, text) = match bytes.get(3) {
            None => (false, ""),
            Some(b' ') => (false, line.get(4..).unwrap_or("")),
            Some(b'-') => (true, line.get(4..).unwrap_or("")),
            Some(_) => return Err(SmtpError::Garbage(line)),
        };
        lines.push(text.to_owned());
        if !more {
            return Ok(Reply { code: this, lines });
        }
        if lines.len() >= MAX_LINES {
            return Err(SmtpError::Garbage(format!("more than {MAX_LINES} lines")));
        }
    }
}

/// One CRLF- (or bare LF-) terminated line, lossily decoded, at most [`MAX_LINE`] bytes.
fn read_line<R: BufRead>(r: &mut R) -> Result<String, SmtpError> {
    let mut buf = Vec::new();
    let n = r
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)
        .map_err(SmtpError::from_io)?;
    if n == 0 {
        return Err(SmtpError::Closed);
    }
    if buf.last() != Some(&b'\n') {
        if buf.len() > MAX_LINE {
            return Err(SmtpError::Garbage(format!(
                "line longer than {MAX_LINE} bytes"
            )));
        }
        // EOF in the middle of a line.
        return Err(SmtpError::Closed);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A TCP stream whose every read and write is armed from the check's [`Clock`]. Arming
/// once per reply is not enough: a server that trickles a byte a second never trips a
/// per-read timeout, and would keep one reply (or one TLS record inside rustls' own read
/// loop) going for ever.
pub struct TimedTcp {
    tcp: TcpStream,
    clock: Clock,
}

impl TimedTcp {
    pub fn new(tcp: TcpStream, clock: Clock) -> TimedTcp {
        TimedTcp { tcp, clock }
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.tcp
    }

    pub fn into_inner(self) -> TcpStream {
        self.tcp
    }
}

impl Read for TimedTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.clock.arm(&self.tcp)?;
        self.tcp.read(buf)
    }
}

impl Write for TimedTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.clock.arm(&self.tcp)?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// The stream under the SMTP conversation: clear text before STARTTLS, TLS after.
pub enum Stream {
    Plain(TimedTcp),
    Tls(Box<StreamOwned<ClientConnection, TimedTcp>>),
}

impl Stream {
    /// A clear-text stream whose every operation is bounded by `clock`.
    pub fn plain(tcp: TcpStream, clock: Clock) -> Stream {
        Stream::Plain(TimedTcp::new(tcp, clock))
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s.get_ref(),
            Stream::Tls(s) => s.sock.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Per-operation timeout and the deadline of the whole check. Every socket operation
/// gets the smaller of the two, so neither a silent server nor a slow trickle can make a
/// check outlive `--max-time`.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub op: Duration,
    pub deadline: Instant,
}

impl Clock {
    pub fn new(op: Duration, total: Duration) -> Clock {
        Clock {
            op,
            deadline: Instant::now() + total,
        }
    }

    /// The time the next operation may take; `None` once the deadline has passed.
    pub fn next(&self) -> Option<Duration> {
        let left = self.deadline.checked_duration_since(Instant::now())?;
        if left.is_zero() {
            return None;
        }
        Some(left.min(self.op))
    }

    /// Sets the read and write timeouts of `tcp` for the next operation.
    pub fn arm(&self, tcp: &TcpStream) -> io::Result<()> {
        let t = self
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "check deadline"))?;
        tcp.set_read_timeout(Some(t))?;
        tcp.set_write_timeout(Some(t))
    }
}

/// An SMTP conversation over a [`Stream`].
pub struct Conversation {
    reader: BufReader<Stream>,
    clock: Clock,
}

impl Conversation {
    pub fn new(stream: Stream, clock: Clock) -> Conversation {
        Conversation {
            reader: BufReader::new(stream),
            clock,
        }
    }

    /// Reads one reply (banner or answer).
    pub fn reply(&mut self) -> Result<Reply, SmtpError> {
        self.clock
            .arm(self.reader.get_ref().tcp())
            .map_err(SmtpError::from_io)?;
        read_reply(&mut self.reader)
    }

    /// Sends one command line (CRLF is added) and reads the reply.
    pub fn command(&mut self, line: &str) -> Result<Reply, SmtpError> {
        self.clock
            .arm(self.reader.get_ref().tcp())
            .map_err(SmtpError::from_io)?;
        let s = self.reader.get_mut();
        s.write_all(line.as_bytes())
            .and_then(|()| s.write_all(b"\r\n"))
            .and_then(|()| s.flush())
            .map_err(SmtpError::from_io)?;
        self.reply()
    }

    /// Bytes the server sent that no reply has consumed yet. After `220` to STARTTLS
    /// there must be none: anything there was sent before TLS and would be read as if it
    /// came over TLS (the STARTTLS command-injection flaw, CVE-2011-0411 and kin).
    pub fn buffered(&self) -> usize {
        self.reader.buffer().len()
    }

    /// Gives the stream back (to start TLS on it). Buffered bytes are dropped; check
    /// [`Conversation::buffered`] first.
    pub fn into_stream(self) -> Stream {
        self.reader.into_inner()
    }

    pub fn stream(&self) -> &Stream {
        self.reader.get_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its input in the given chunks, as TCP segments would.
    struct Segments(Vec<Vec<u8>>);

    impl Read for Segments {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let seg = self.0.remove(0);
            let n = seg.len().min(buf.len());
            buf[..n].copy_from_slice(&seg[..n]);
            if n < seg.len() {
                self.0.insert(0, seg[n..].to_vec());
            }
            Ok(n)
        }
    }

    fn parse_segments(segs: &[&str]) -> Result<Reply, SmtpError> {
        let r = Segments(segs.iter().map(|s| s.as_bytes().to_vec()).collect());
        read_reply(&mut BufReader::with_capacity(8, r))
    }

    #[test]
    fn replies() {
        // (segments as they arrive, code, lines)
        let ok: &[(&[&str], u16, &[&str])] = &[
            (
                &["220 mx.example.test ESMTP Sendmail 8.17.1.9/8.17.1.9; ready\r\n"],
                220,
                &["mx.example.test ESMTP Sendmail 8.17.1.9/8.17.1.9; ready"],
            ),
            (
                &[
                    "250-mx.example.test Hello [127.0.0.1], pleased to meet you\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n",
                    "250-8BITMIME\r\n250-SIZE 10240000\r\n250-DSN\r\n250-AUTH DIGEST-MD5 CRAM-MD5\r\n250-STARTTLS\r\n250 HELP\r\n",
                ],
                250,
                &[
                    "mx.example.test Hello [127.0.0.1], pleased to meet you",
                    "ENHANCEDSTATUSCODES",
                    "PIPELINING",
                    "8BITMIME",
                    "SIZE 10240000",
                    "DSN",
                    "AUTH DIGEST-MD5 CRAM-MD5",
                    "STARTTLS",
                    "HELP",
                ],
            ),
            // A multi-line reply split in the middle of a line and of a CRLF.
            (
                &[
                    "250-mx.exa",
                    "mple.test\r",
                    "\n250-STARTT",
                    "LS\r\n250 SMTPUTF8\r\n",
                ],
                250,
                &["mx.example.test", "STARTTLS", "SMTPUTF8"],
            ),
            (
                &["454 4.7.0 TLS not available due to local problem\r\n"],
                454,
                &["4.7.0 TLS not available due to local problem"],
            ),
            (&["220\r\n"], 220, &[""]),
            (&["221 2.0.0 Bye\n"], 221, &["2.0.0 Bye"]),
        ];
        for (segs, code, lines) in ok {
            let r = parse_segments(segs).unwrap_or_else(|e| panic!("{segs:?}: {e}"));
            assert_eq!(r.code, *code, "{segs:?}");
            assert_eq!(r.lines, *lines, "{segs:?}");
        }
    }

    #[test]
    fn bad_replies() {
        let rows: &[(&str, &str)] = &[
            ("HTTP/1.1 400 Bad Request\r\n", "garbage"),
            ("250-first\r\n251 second\r\n", "garbage"),
            ("250+x\r\n", "garbage"),
            ("099 low\r\n", "garbage"),
            ("", "closed"),
            ("250-mx\r\n", "closed"),
            ("220 no newline", "closed"),
        ];
        for (input, want) in rows {
            let got = match parse_segments(&[input]) {
                Err(SmtpError::Garbage(_)) => "garbage",
                Err(SmtpError::Closed) => "closed",
                other => panic!("{input:?}: {other:?}"),
            };
            assert_eq!(got, *want, "{input:?}");
        }
        let long = format!("250 {}\r\n", "x".repeat(MAX_LINE + 10));
        assert!(matches!(
            parse_segments(&[&long]),
            Err(SmtpError::Garbage(_))
        ));
    }

    #[test]
    fn ehlo_extensions_skip_greeting_and_uppercase_keywords() {
        let r = Reply {
            code: 250,
            lines: vec![
                "mx.example.test".into(),
                "starttls".into(),
                "SIZE 10240000".into(),
                "AUTH PLAIN LOGIN".into(),
            ],
        };
        assert_eq!(
            r.ehlo_extensions(),
            vec!["STARTTLS", "SIZE 10240000", "AUTH PLAIN LOGIN"]
        );
        assert_eq!(
            r.text(),
            "250 mx.example.test / 250 starttls / 250 SIZE 10240000 / 250 AUTH PLAIN LOGIN"
        );
    }
}
