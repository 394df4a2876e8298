//! Hand-built ClientHellos and a ServerHello/alert reader, for `--protocols` and
//! `--ciphers`.
//!
//! rustls speaks only TLS 1.2 and 1.3, and mailtls does not link OpenSSL, yet an
//! administrator needs to know whether the server still accepts SSLv3, TLS 1.0 or 1.1
//! and which suites. The server's first answer tells: a ClientHello offering version V
//! (and a set of suites) gets either a ServerHello naming the version and the suite it
//! chose, or an alert. Nothing is encrypted before that answer, so no cryptography is
//! needed to read it — the same method sslscan and testssl.sh use. For TLS ≤ 1.2 the
//! server's Certificate message follows in clear text, which gives the chain of a server
//! that rustls cannot talk to at all.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::smtp::Clock;
use super::suites::{self, SUITES, Weakness};
use crate::model::{Bits, Cipher, TlsVersion};

/// The version numbers of the versions mailtls probes, oldest first.
pub const PROBED: [TlsVersion; 5] = [
    TlsVersion::Ssl3,
    TlsVersion::Tls1_0,
    TlsVersion::Tls1_1,
    TlsVersion::Tls1_2,
    TlsVersion::Tls1_3,
];

/// The wire number of a version (`0x0303` for TLS 1.2).
pub fn wire(v: &TlsVersion) -> Option<u16> {
    match v {
        TlsVersion::Ssl3 => Some(0x0300),
        TlsVersion::Tls1_0 => Some(0x0301),
        TlsVersion::Tls1_1 => Some(0x0302),
        TlsVersion::Tls1_2 => Some(0x0303),
        TlsVersion::Tls1_3 => Some(0x0304),
        _ => None,
    }
}

/// The version with this wire number.
pub fn from_wire(n: u16) -> TlsVersion {
    match n {
        0x0002 => TlsVersion::Ssl2,
        0x0300 => TlsVersion::Ssl3,
        0x0301 => TlsVersion::Tls1_0,
        0x0302 => TlsVersion::Tls1_1,
        0x0303 => TlsVersion::Tls1_2,
        0x0304 => TlsVersion::Tls1_3,
        other => TlsVersion::Other(format!("{other:#06x}")),
    }
}

/// The suites a hello for `v` offers: every known suite of that generation.
pub fn suites_for(v: &TlsVersion) -> Vec<u16> {
    let tls13 = *v == TlsVersion::Tls1_3;
    SUITES
        .iter()
        .filter(|s| s.is_tls13() == tls13)
        .map(|s| s.code)
        .collect()
}

const GROUPS: [u16; 7] = [0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100, 0x0101];
const SIG_ALGS: [u16; 16] = [
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401,
    0x0501, 0x0601, 0x0201, 0x0203,
];
/// `ServerHello.random` of a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

fn put_u16(out: &mut Vec<u8>, n: u16) {
    out.extend_from_slice(&n.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, n: usize) {
    let [_, b0, b1, b2] = (n as u32).to_be_bytes();
    out.extend_from_slice(&[b0, b1, b2]);
}

/// Appends `body` with a 2-byte length prefix.
fn put_vec16(out: &mut Vec<u8>, body: &[u8]) {
    put_u16(out, body.len() as u16);
    out.extend_from_slice(body);
}

fn extension(out: &mut Vec<u8>, ty: u16, body: &[u8]) {
    put_u16(out, ty);
    put_vec16(out, body);
}

/// A complete ClientHello record offering `version` and `offered` suites. `random` fills
/// the client random and (for TLS 1.3) the X25519 key share, which the server never gets
/// to use: the probe hangs up after the server's first flight.
pub fn client_hello(
    version: &TlsVersion,
    offered: &[u16],
    sni: Option<&str>,
    random: &[u8; 32],
) -> Vec<u8> {
    let tls13 = *version == TlsVersion::Tls1_3;
    let ssl3 = *version == TlsVersion::Ssl3;
    let legacy = if tls13 {
        0x0303
    } else {
        wire(version).unwrap_or(0x0303)
    };
    let mut body = Vec::with_capacity(512);
    put_u16(&mut body, legacy);
    body.extend_from_slice(random);
    body.push(0); // no session id
    let mut cs = Vec::new();
    for c in offered {
        put_u16(&mut cs, *c);
    }
    if !tls13 {
        put_u16(&mut cs, 0x00FF); // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    }
    put_vec16(&mut body, &cs);
    body.extend_from_slice(&[1, 0]); // compression: null only
    if !ssl3 {
        let mut ext = Vec::new();
        if let Some(name) = sni {
            let mut list = vec![0u8];
            put_vec16(&mut list, name.as_bytes());
            let mut sn = Vec::new();
            put_vec16(&mut sn, &list);
            extension(&mut ext, 0x0000, &sn);
        }
        let mut groups = Vec::new();
        for g in GROUPS {
            put_u16(&mut groups, g);
        }
        let mut sg = Vec::new();
        put_vec16(&mut sg, &groups);
        extension(&mut ext, 0x000a, &sg);
        extension(&mut ext, 0x000b, &[1, 0]); // ec_point_formats: uncompressed
        let mut algs = Vec::new();
        for a in SIG_ALGS {
            put_u16(&mut algs, a);
        }
        let mut sa = Vec::new();
        put_vec16(&mut sa, &algs);
        extension(&mut ext, 0x000d, &sa);
        extension(&mut ext, 0x0017, &[]); // extended_master_secret
        if tls13 {
            extension(&mut ext, 0x002b, &[2, 0x03, 0x04]); // supported_versions
            extension(&mut ext, 0x002d, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
            let mut share = Vec::new();
            put_u16(&mut share, 0x001d);
            put_vec16(&mut share, random);
            let mut ks = Vec::new();
            put_vec16(&mut ks, &share);
            extension(&mut ext, 0x0033, &ks);
        }
        put_vec16(&mut body, &ext);
    }
    let mut hs = vec![1u8]; // client_hello
    put_u24(&mut hs, body.len());
    hs.extend_from_slice(&body);
    let mut rec = vec![22u8];
    put_u16(&mut rec, if ssl3 { 0x0300 } else { 0x0301 });
    put_vec16(&mut rec, &hs);
    rec
}

/// The server's first answer to a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello (or HelloRetryRequest): the version and suite it chose, and the
    /// certificates of a following clear-text Certificate message (TLS ≤ 1.2).
    Hello {
        version: u16,
        suite: u16,
        retry: bool,
        certificates: Vec<Vec<u8>>,
    },
    /// A TLS alert (level, description).
    Alert(u8, u8),
    /// The server hung up without a word.
    Closed,
    /// Something that is not TLS (an SMTP error line, an SSLv2 reply, …).
    NotTls(String),
}

/// Largest handshake message we buffer (a long certificate chain is ~10 KiB).
const MAX_HANDSHAKE: usize = 256 * 1024;

/// The name of an alert description (RFC 8446 §6).
pub fn alert_name(d: u8) -> String {
    match d {
        0 => "close_notify".into(),
        10 => "unexpected_message".into(),
        20 => "bad_record_mac".into(),
        40 => "handshake_failure".into(),
        42 => "bad_certificate".into(),
        47 => "illegal_parameter".into(),
        50 => "decode_error".into(),
        51 => "decrypt_error".into(),
        70 => "protocol_version".into(),
        71 => "insufficient_security".into(),
        80 => "internal_error".into(),
        86 => "inappropriate_fallback".into(),
        90 => "user_canceled".into(),
        109 => "missing_extension".into(),
        110 => "unsupported_extension".into(),
        112 => "unrecognized_name".into(),
        116 => "certificate_required".into(),
        120 => "no_application_protocol".into(),
        other => format!("alert {other}"),
    }
}

/// Incremental reader of the server's records: feed bytes, ask for the answer.
#[derive(Debug, Default)]
pub struct AnswerReader {
    buf: Vec<u8>,
    hs: Vec<u8>,
    hello: Option<(u16, u16, bool)>,
    certificates: Vec<Vec<u8>>,
    want_certificate: bool,
}

impl AnswerReader {
    pub fn new(want_certificate: bool) -> AnswerReader {
        AnswerReader {
            want_certificate,
            ..AnswerReader::default()
        }
    }

    /// Adds received bytes; returns the answer once it is known.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<Answer> {
        self.buf.extend_from_slice(bytes);
        loop {
            let &[ty, major, _, l0, l1] = self.buf.get(..5)? else {
                return None;
            };
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            if !matches!(ty, 20..=23) || major != 3 {
                let head = self.buf.get(..60).unwrap_or(&self.buf);
                let shown = String::from_utf8_lossy(head).trim_end().to_owned();
                return Some(Answer::NotTls(shown));
            }
            if len > 18_432 {
                return Some(Answer::NotTls(format!("record of {len} bytes")));
            }
            let frag: Vec<u8> = self.buf.get(5..5 + len)?.to_vec();
            self.buf.drain(..5 + len);
            match ty {
                21 => {
                    if let (Some(l), Some(d)) = (frag.first(), frag.get(1)) {
                        return Some(Answer::Alert(*l, *d));
                    }
                }
                22 => {
                    self.hs.extend_from_slice(&frag);
                    if let Some(a) = self.handshake_messages() {
                        return Some(a);
                    }
                }
                // ChangeCipherSpec (TLS 1.3 middlebox compatibility) or encrypted data:
                // whatever we learnt so far is the answer.
                _ => {
                    if let Some((version, suite, retry)) = self.hello {
                        return Some(self.hello_answer(version, suite, retry));
                    }
                }
            }
        }
    }

    fn hello_answer(&mut self, version: u16, suite: u16, retry: bool) -> Answer {
        Answer::Hello {
            version,
            suite,
            retry,
            certificates: std::mem::take(&mut self.certificates),
        }
    }

    /// Parses complete handshake messages out of `hs`.
    fn handshake_messages(&mut self) -> Option<Answer> {
        loop {
            let &[ty, l0, l1, l2] = self.hs.get(..4)? else {
                return None;
            };
            let len = u24(l0, l1, l2);
            if len > MAX_HANDSHAKE {
                return Some(Answer::NotTls(format!("handshake message of {len} bytes")));
            }
            let body: Vec<u8> = self.hs.get(4..4 + len)?.to_vec();
            self.hs.drain(..4 + len);
            match ty {
                2 => {
                    let Some((version, suite, retry)) = parse_server_hello(&body) else {
                        return Some(Answer::NotTls("malformed ServerHello".into()));
                    };
                    self.hello = Some((version, suite, retry));
                    if !self.want_certificate || version >= 0x0304 || retry {
                        return Some(self.hello_answer(version, suite, retry));
                    }
                }
                11 => {
                    self.certificates = parse_certificates(&body);
                    let (v, s, r) = self.hello?;
                    return Some(self.hello_answer(v, s, r));
                }
                _ => {
                    // ServerKeyExchange, ServerHelloDone, …: no certificate is coming
                    // (anonymous suite) once ServerHelloDone (14) arrives.
                    if ty == 14
                        && let Some((v, s, r)) = self.hello
                    {
                        return Some(self.hello_answer(v, s, r));
                    }
                }
            }
        }
    }

    /// What we know when the server closes the connection.
    pub fn at_eof(&mut self) -> Answer {
        match self.hello {
            Some((v, s, r)) => self.hello_answer(v, s, r),
            None => Answer::Closed,
        }
    }
}

/// (negotiated version, suite, is HelloRetryRequest) from a ServerHello body.
fn parse_server_hello(b: &[u8]) -> Option<(u16, u16, bool)> {
    let legacy = u16::from_be_bytes([*b.first()?, *b.get(1)?]);
    let random = b.get(2..34)?;
    let sid_len = usize::from(*b.get(34)?);
    let mut i = 35 + sid_len;
    let suite = u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]);
    i += 3; // suite + compression method
    let mut version = legacy;
    if let Some(&[e0, e1]) = b.get(i..i + 2) {
        let end = i + 2 + usize::from(u16::from_be_bytes([e0, e1]));
        i += 2;
        while i + 4 <= end {
            let ty = u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]);
            let len = usize::from(u16::from_be_bytes([*b.get(i + 2)?, *b.get(i + 3)?]));
            let data = b.get(i + 4..i + 4 + len)?;
            if let (0x002b, &[v0, v1]) = (ty, data) {
                version = u16::from_be_bytes([v0, v1]);
            }
            i += 4 + len;
        }
    }
    Some((version, suite, random == HRR_RANDOM))
}

/// A 24-bit big-endian length.
fn u24(b0: u8, b1: u8, b2: u8) -> usize {
    (usize::from(b0) << 16) | (usize::from(b1) << 8) | usize::from(b2)
}

/// The DER certificates of a TLS ≤ 1.2 Certificate message body.
fn parse_certificates(b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 3;
    while let Some(&[l0, l1, l2]) = b.get(i..i + 3) {
        let len = u24(l0, l1, l2);
        match b.get(i + 3..i + 3 + len) {
            Some(der) => out.push(der.to_vec()),
            None => break,
        }
        i += 3 + len;
    }
    out
}

/// Sends one ClientHello on `tcp` (positioned after STARTTLS) and reads the answer.
pub fn probe(
    tcp: &mut TcpStream,
    clock: &Clock,
    version: &TlsVersion,
    offered: &[u16],
    sni: Option<&str>,
    want_certificate: bool,
) -> io::Result<Answer> {
    let mut random = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
        .map_err(|_| io::Error::other("no randomness"))?;
    clock.arm(tcp)?;
    tcp.write_all(&client_hello(version, offered, sni, &random))?;
    let mut reader = AnswerReader::new(want_certificate);
    let mut buf = [0u8; 16_384];
    loop {
        clock.arm(tcp)?;
        let n = match tcp.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(reader.at_eof());
        }
        if let Some(a) = reader.feed(buf.get(..n).unwrap_or_default()) {
            return Ok(a);
        }
    }
}

/// Whether the server accepts one protocol version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolSupport {
    pub version: TlsVersion,
    /// `Some` when the server's TLS stack answered (a ServerHello, an alert, a close
    /// after the ClientHello); `None` (JSON `null`) when no probe got a TLS answer (a
    /// `421 too many connections`, a timeout, the check deadline): not tested, never
    /// "refused". `detail` then says why.
    pub accepted: Option<bool>,
    /// What the server answered (`ServerHello ECDHE-RSA-AES256-GCM-SHA384`,
    /// `alert protocol_version`, `closed`, …).
    pub detail: String,
}

/// One suite the server accepted for a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedSuite {
    pub version: TlsVersion,
    pub cipher: Cipher,
    pub iana: String,
    pub code: String,
    pub bits: Bits,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weakness: Option<Weakness>,
}

fn describe(a: &Answer) -> String {
    match a {
        Answer::Hello {
            version,
            suite,
            retry,
            ..
        } => {
            let name = suites::lookup(*suite)
                .map_or_else(|| format!("{suite:#06x}"), |s| s.openssl.to_owned());
            let kind = if *retry {
                "HelloRetryRequest"
            } else {
                "ServerHello"
            };
            format!("{kind} {} {name}", from_wire(*version))
        }
        Answer::Alert(_, d) => format!("alert {}", alert_name(*d)),
        Answer::Closed => "closed".into(),
        Answer::NotTls(s) => format!("not TLS: {s}"),
    }
}

/// Spacing of the probes to one server. SMTP servers cap connections (Exim's
/// `smtp_accept_max = 20` counts its exiting children too), so a burst of probes meets
/// `421 too many connections`, which says nothing about TLS. Probes go back to back
/// until a probe gets no TLS answer; then the same probe is retried after a back-off
/// (0.5 s, doubling, at most [`RETRIES`] times, never past the check's deadline) and
/// every later probe waits `gap` first (100 ms more for each refusal, up to 1 s).
#[derive(Debug, Default)]
pub struct Pacer {
    pub gap: Duration,
    /// Probes that got no TLS answer and were tried again.
    pub retries: u32,
}

/// Tries of one probe after the first that got no TLS answer.
pub const RETRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const GAP_STEP: Duration = Duration::from_millis(100);
const MAX_GAP: Duration = Duration::from_secs(1);

/// Sleeps `d` unless that would pass the deadline (then returns false without sleeping).
fn pause(clock: &Clock, d: Duration) -> bool {
    if d.is_zero() {
        return true;
    }
    if Instant::now() + d >= clock.deadline {
        return false;
    }
    std::thread::sleep(d);
    true
}

/// One probe with the pacing and retries of [`Pacer`]: a TLS answer (ServerHello,
/// alert, close after the ClientHello), or why none came.
#[allow(clippy::too_many_arguments)]
fn attempt(
    open: &mut dyn FnMut() -> Result<TcpStream, super::session::OpenError>,
    clock: &Clock,
    pacer: &mut Pacer,
    version: &TlsVersion,
    offered: &[u16],
    sni: Option<&str>,
    want_certificate: bool,
) -> Result<Answer, String> {
    let mut backoff = FIRST_BACKOFF;
    let mut tries = 0;
    loop {
        if !pause(clock, pacer.gap) {
            return Err("check deadline reached (--max-time)".into());
        }
        let why = match open() {
            Ok(mut tcp) => match probe(&mut tcp, clock, version, offered, sni, want_certificate) {
                Ok(a @ (Answer::Hello { .. } | Answer::Alert(..) | Answer::Closed)) => {
                    return Ok(a);
                }
                // Something that is not TLS at all: asking again would get the same.
                Ok(a) => return Err(describe(&a)),
                Err(e) => format!("error: {e}"),
            },
            Err(e) => e.to_string(),
        };
        if clock.next().is_none() {
            return Err(format!("{why}; check deadline reached (--max-time)"));
        }
        if tries >= RETRIES {
            return Err(format!("{why} (after {} tries)", tries + 1));
        }
        pacer.gap = (pacer.gap + GAP_STEP).min(MAX_GAP);
        if !pause(clock, backoff) {
            return Err(format!(
                "{why}; check deadline reached (--max-time) before a retry"
            ));
        }
        backoff *= 2;
        tries += 1;
        pacer.retries += 1;
    }
}

/// Probes every version of [`PROBED`], each on a fresh connection from `open`. The
/// second value is the certificate chain from the first clear-text Certificate seen.
pub fn enumerate_protocols(
    open: &mut dyn FnMut() -> Result<TcpStream, super::session::OpenError>,
    clock: &Clock,
    pacer: &mut Pacer,
    sni: Option<&str>,
) -> (Vec<ProtocolSupport>, Vec<Vec<u8>>) {
    let mut out = Vec::new();
    let mut chain = Vec::new();
    for v in PROBED {
        let want = wire(&v).unwrap_or(0);
        let (accepted, detail) = match attempt(
            open,
            clock,
            pacer,
            &v,
            &suites_for(&v),
            sni,
            chain.is_empty(),
        ) {
            Ok(a) => {
                let mut accepted = false;
                if let Answer::Hello {
                    version,
                    certificates,
                    ..
                } = &a
                {
                    accepted = *version == want;
                    if accepted && chain.is_empty() && !certificates.is_empty() {
                        chain = certificates.clone();
                    }
                }
                (Some(accepted), describe(&a))
            }
            Err(why) => (None, format!("not tested: {why}")),
        };
        out.push(ProtocolSupport {
            version: v,
            accepted,
            detail,
        });
    }
    (out, chain)
}

/// Finds every suite the server accepts with `version`: offer all, note the chosen one,
/// offer the rest again, until the server refuses. The second value says why the
/// enumeration stopped before the server refused (no TLS answer even after retries, the
/// deadline): the list is then incomplete.
pub fn enumerate_ciphers(
    open: &mut dyn FnMut() -> Result<TcpStream, super::session::OpenError>,
    clock: &Clock,
    pacer: &mut Pacer,
    sni: Option<&str>,
    version: &TlsVersion,
) -> (Vec<AcceptedSuite>, Option<String>) {
    let want = wire(version).unwrap_or(0);
    let mut offered = suites_for(version);
    let mut out = Vec::new();
    while !offered.is_empty() {
        let (got, suite) = match attempt(open, clock, pacer, version, &offered, sni, false) {
            Ok(Answer::Hello {
                version: got,
                suite,
                ..
            }) => (got, suite),
            Ok(_) => break, // refused the rest: done
            Err(why) => return (out, Some(why)),
        };
        if got != want || !offered.contains(&suite) {
            break;
        }
        offered.retain(|c| *c != suite);
        let info = suites::lookup(suite);
        out.push(AcceptedSuite {
            version: version.clone(),
            cipher: info.map_or_else(|| Cipher(format!("{suite:#06x}")), |s| s.cipher()),
            iana: info.map_or_else(String::new, |s| s.iana.to_owned()),
            code: format!("{suite:#06x}"),
            bits: info.map(|s| s.bits()).unwrap_or_default(),
            weakness: info.and_then(|s| s.weakness()),
        });
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("{b}")))
            .collect()
    }

    /// A record around a handshake message as OpenSSL 3.0 `s_server` sent it (the
    /// messages below were captured with `openssl s_client -msg`).
    fn record(ty: u8, version: u16, body: &[u8]) -> Vec<u8> {
        let mut r = vec![ty];
        r.extend_from_slice(&version.to_be_bytes());
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    const TLS12_SERVER_HELLO: &str = "02 00 00 3d 03 03 56 fd d1 cc b7 48 32 29 ca 77
        aa 02 d1 54 d6 f0 26 7f 87 31 ee e2 44 ef 44 4f 57 4e 47 52 44 01 00 c0 30 00 00 15
        ff 01 00 01 00 00 0b 00 04 03 00 01 02 00 23 00 00 00 17 00 00";
    const TLS13_SERVER_HELLO: &str = "02 00 00 76 03 03 7b 77 63 6a 49 0e ef ce a4 62
        62 a9 92 47 e1 8e f8 bf 2e 6d f6 00 90 85 75 76 16 7b 6f d8 5e b1 20 83 a6 17 26 f3
        f0 c9 ac ca 0c c9 4f c7 c7 5a 14 14 98 7e de 3f 08 77 89 bc 6b e8 0d cc cb 05 cb 13
        02 00 00 2e 00 2b 00 02 03 04 00 33 00 24 00 1d 00 20 4d 16 d4 54 e2 89 6e ac f1 d0
        59 1a 7b d4 45 21 6e ef a5 f2 12 9b 74 e0 0a 52 1e 15 74 27 5e 22";

    #[test]
    fn answers() {
        let hello = |version, suite| Answer::Hello {
            version,
            suite,
            retry: false,
            certificates: vec![],
        };
        // (bytes as received, answer)
        let rows: Vec<(Vec<u8>, Answer)> = vec![
            (
                record(22, 0x0303, &hex(TLS12_SERVER_HELLO)),
                hello(0x0303, 0xC030),
            ),
            (
                record(22, 0x0303, &hex(TLS13_SERVER_HELLO)),
                hello(0x0304, 0x1302),
            ),
            (record(21, 0x0301, &hex("02 46")), Answer::Alert(2, 70)),
            (
                b"554 5.7.0 Too many errors\r\n".to_vec(),
                Answer::NotTls("554 5.7.0 Too many errors".into()),
            ),
        ];
        for (bytes, want) in rows {
            // Whole, and one byte at a time (records split across segments).
            let mut r = AnswerReader::new(false);
            assert_eq!(r.feed(&bytes), Some(want.clone()));
            let mut r = AnswerReader::new(false);
            let mut got = None;
            for b in &bytes {
                if let Some(a) = r.feed(std::slice::from_ref(b)) {
                    got = Some(a);
                    break;
                }
            }
            match (got, want) {
                // The text shows what had arrived when the reader gave up.
                (Some(Answer::NotTls(g)), Answer::NotTls(w)) => assert!(w.starts_with(&g)),
                (got, want) => assert_eq!(got, Some(want)),
            }
        }
    }

    #[test]
    fn certificate_after_server_hello_in_tls12() {
        let mut hs = hex(TLS12_SERVER_HELLO);
        // Certificate: two fake DER blobs of 3 and 2 bytes.
        hs.extend_from_slice(&hex(
            "0b 00 00 0e 00 00 0b 00 00 03 30 01 00 00 00 02 30 00",
        ));
        let mut r = AnswerReader::new(true);
        let a = r.feed(&record(22, 0x0303, &hs));
        assert_eq!(
            a,
            Some(Answer::Hello {
                version: 0x0303,
                suite: 0xC030,
                retry: false,
                certificates: vec![vec![0x30, 0x01, 0x00], vec![0x30, 0x00]],
            })
        );
        // Without a Certificate yet, the reader waits; at EOF it reports the hello.
        let huge = hex("0b ff ff ff");
        assert!(matches!(
            AnswerReader::new(true).feed(&record(22, 0x0303, &huge)),
            Some(Answer::NotTls(_))
        ));
        let mut r = AnswerReader::new(true);
        assert_eq!(r.feed(&record(22, 0x0303, &hex(TLS12_SERVER_HELLO))), None);
        assert!(matches!(r.at_eof(), Answer::Hello { suite: 0xC030, .. }));
        assert_eq!(AnswerReader::new(true).at_eof(), Answer::Closed);
    }

    #[test]
    fn hello_retry_request_is_recognised() {
        let mut body = hex("03 03");
        body.extend_from_slice(&HRR_RANDOM);
        body.extend_from_slice(&hex("00 13 01 00 00 06 00 2b 00 02 03 04"));
        let mut msg = vec![2, 0, 0, body.len() as u8];
        msg.extend_from_slice(&body);
        let a = AnswerReader::new(false).feed(&record(22, 0x0303, &msg));
        assert!(matches!(
            a,
            Some(Answer::Hello {
                version: 0x0304,
                suite: 0x1301,
                retry: true,
                ..
            })
        ));
    }

    #[test]
    fn client_hello_layout() {
        let random = [7u8; 32];
        let offered = suites_for(&TlsVersion::Tls1_0);
        let h = client_hello(
            &TlsVersion::Tls1_0,
            &offered,
            Some("mx.example.test"),
            &random,
        );
        // Record header: handshake, TLS 1.0 record version, length of the rest.
        assert_eq!(&h[..3], &[22, 3, 1]);
        assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5);
        // ClientHello, legacy_version 0x0301, our random, no session id.
        assert_eq!(h[5], 1);
        assert_eq!(&h[9..11], &[3, 1]);
        assert_eq!(&h[11..43], &random);
        assert_eq!(h[43], 0);
        let cs_len = usize::from(u16::from_be_bytes([h[44], h[45]]));
        assert_eq!(cs_len, 2 * (offered.len() + 1), "suites plus the SCSV");
        assert!(
            h.windows(15).any(|w| w == b"mx.example.test"),
            "SNI present"
        );

        let h3 = client_hello(&TlsVersion::Ssl3, &[0x002F], None, &random);
        assert_eq!(&h3[..3], &[22, 3, 0]);
        // SSLv3: no extensions block after compression methods.
        assert_eq!(h3.len(), 5 + 4 + 2 + 32 + 1 + 2 + 4 + 2);

        let h13 = client_hello(
            &TlsVersion::Tls1_3,
            &suites_for(&TlsVersion::Tls1_3),
            None,
            &random,
        );
        assert!(
            h13.windows(7)
                .any(|w| w == [0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04])
        );
    }
}
