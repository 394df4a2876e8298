//! MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file fetched over HTTPS
//! from `mta-sts.DOMAIN/.well-known/mta-sts.txt`, and the test a sender applies to each
//! MX host: does its name match one of the policy's `mx` patterns, and (in enforce
//! mode) does its certificate verify for that name?
//!
//! The fetch is a minimal HTTP/1.0 GET over rustls rather than a general HTTP client:
//! RFC 8461 §3.3 forbids redirects, caps the policy at 64 KiB and needs nothing but a
//! status line, `Content-Type` and a body; asking for HTTP/1.0 keeps chunked transfer
//! coding out. The certificate is verified against the system roots (or `--ca-file`)
//! for the name `mta-sts.DOMAIN`, and the address comes from the same resolver as the
//! MX records (so `--resolver` applies to it too).

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use serde::Serialize;

use super::RecordError;
use crate::probe::smtp::Clock;
use crate::probe::tls::{self, Trust};

/// RFC 8461 §3.2: a policy body larger than this is an error.
pub const MAX_POLICY: usize = 64 * 1024;

/// The `_mta-sts.DOMAIN` TXT record (RFC 8461 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StsRecord {
    /// The `id` field: a sender refetches the policy when it changes.
    pub id: String,
}

/// Reads one TXT string as an MTA-STS record: `v=STSv1` first, then an `id` of 1–32
/// letters and digits; other fields are ignored as the RFC asks.
pub fn parse_record(txt: &str) -> Result<StsRecord, RecordError> {
    let mut fields = txt.split(';').map(str::trim).filter(|f| !f.is_empty());
    match fields.next() {
        Some("v=STSv1") => {}
        Some(other) => {
            return Err(RecordError::Version {
                want: "v=STSv1",
                got: other.to_owned(),
            });
        }
        None => return Err(RecordError::Empty),
    }
    let mut id = None;
    for f in fields {
        if let Some((k, v)) = f.split_once('=')
            && k.trim() == "id"
        {
            id = Some(v.trim().to_owned());
        }
    }
    let id = id.ok_or(RecordError::Missing("id"))?;
    if id.is_empty() || id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(RecordError::Id(id));
    }
    Ok(StsRecord { id })
}

/// The policy mode (RFC 8461 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Senders must not deliver to an MX that fails the checks.
    Enforce,
    /// Senders deliver anyway and report failures (TLS-RPT).
    Testing,
    /// No policy: senders treat the domain as having none.
    None,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

/// A parsed policy file (RFC 8461 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub mode: Mode,
    /// `mx` patterns in the order given: `mx.example.org` or `*.example.org`.
    pub mx: Vec<String>,
    /// Seconds a sender may cache the policy.
    pub max_age: u64,
}

/// Parses the policy text: `key: value` lines (CRLF or LF), `version: STSv1`, `mode`,
/// `max_age` (at most 31557600), at least one `mx` unless the mode is `none`.
pub fn parse_policy(text: &str) -> Result<Policy, RecordError> {
    let mut version = None;
    let mut mode = None;
    let mut max_age = None;
    let mut mx = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(RecordError::NotKeyValue(line.to_owned()));
        };
        let v = v.trim();
        match k.trim() {
            "version" => version = Some(v.to_owned()),
            "mode" => {
                mode = Some(match v {
                    "enforce" => Mode::Enforce,
                    "testing" => Mode::Testing,
                    "none" => Mode::None,
                    other => return Err(RecordError::Mode(other.to_owned())),
                })
            }
            "max_age" => {
                let n: u64 = v
                    .parse()
                    .map_err(|_| RecordError::MaxAgeNumber(v.to_owned()))?;
                if n > 31_557_600 {
                    return Err(RecordError::MaxAgeTooLong(n));
                }
                max_age = Some(n);
            }
            "mx" => mx.push(v.to_ascii_lowercase()),
            _ => {} // unknown keys are ignored (§3.2)
        }
    }
    match version.as_deref() {
        Some("STSv1") => {}
        Some(v) => return Err(RecordError::PolicyVersion(v.to_owned())),
        None => return Err(RecordError::Missing("version")),
    }
    let mode = mode.ok_or(RecordError::Missing("mode"))?;
    let max_age = max_age.ok_or(RecordError::Missing("max_age"))?;
    if mx.is_empty() && mode != Mode::None {
        return Err(RecordError::Missing("mx"));
    }
    Ok(Policy { mode, mx, max_age })
}

/// Whether the MX host `name` matches `pattern` (RFC 8461 §4.1): equal ignoring case
/// and a trailing dot, or `*.suffix` matching exactly one more leftmost label.
pub fn mx_matches(pattern: &str, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => name == pattern,
    }
}

/// The first pattern of `policy` that `name` matches.
pub fn matching_pattern<'a>(policy: &'a Policy, name: &str) -> Option<&'a str> {
    policy
        .mx
        .iter()
        .find(|p| mx_matches(p, name))
        .map(String::as_str)
}

/// Why the policy could not be fetched (RFC 8461 §3.3: any of these means "no policy"
/// for a sender without a cached one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchError {
    /// `resolve`, `connect`, `tls`, `http`, `content_type`, `too_large`, `parse`.
    pub stage: &'static str,
    pub detail: String,
}

impl FetchError {
    fn new(stage: &'static str, detail: impl Into<String>) -> FetchError {
        FetchError {
            stage,
            detail: detail.into(),
        }
    }
}

/// A fetched policy file as received.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: String,
    pub ip: IpAddr,
    pub body: String,
}

/// Fetches `https://mta-sts.DOMAIN[:port]/.well-known/mta-sts.txt` from the first of
/// `ips` that accepts, verifying the certificate for `mta-sts.DOMAIN` against `trust`.
pub fn fetch(
    domain: &str,
    ips: &[IpAddr],
    port: u16,
    trust: &Trust,
    timeout: Duration,
) -> Result<Fetched, FetchError> {
    let host = format!("mta-sts.{domain}");
    let url = if port == 443 {
        format!("https://{host}/.well-known/mta-sts.txt")
    } else {
        format!("https://{host}:{port}/.well-known/mta-sts.txt")
    };
    if ips.is_empty() {
        return Err(FetchError::new("resolve", format!("{host} has no address")));
    }
    let clock = Clock::new(timeout, timeout * 4);
    let mut last = FetchError::new("connect", "no address tried");
    for &ip in ips {
        let Some(limit) = clock.next() else { break };
        let tcp = match TcpStream::connect_timeout(&SocketAddr::new(ip, port), limit) {
            Ok(t) => t,
            Err(e) => {
                last = FetchError::new("connect", format!("{ip}:{port}: {e}"));
                continue;
            }
        };
        let body = get(tcp, &host, port, trust, &clock)?;
        return Ok(Fetched { url, ip, body });
    }
    Err(last)
}

fn get(
    tcp: TcpStream,
    host: &str,
    port: u16,
    trust: &Trust,
    clock: &Clock,
) -> Result<String, FetchError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(
        Arc::clone(&trust.roots),
        Arc::clone(&provider),
    )
    .build()
    .map_err(|e| FetchError::new("tls", e.to_string()))?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::new("tls", e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let name = tls::server_name(host)
        .ok_or_else(|| FetchError::new("tls", format!("{host:?} is not a valid name")))?;
    let conn = ClientConnection::new(Arc::new(config), name)
        .map_err(|e| FetchError::new("tls", e.to_string()))?;
    let mut stream = StreamOwned::new(conn, tcp);
    clock
        .arm(&stream.sock)
        .map_err(|e| FetchError::new("connect", e.to_string()))?;
    let host_header = if port == 443 {
        host.to_owned()
    } else {
        format!("{host}:{port}")
    };
    let request = format!(
        "GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: {host_header}\r\nUser-Agent: mailtls/{}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Err(e) = stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.flush())
    {
        return Err(FetchError::new("tls", tls::error_text(&e)));
    }
    // Headers plus the largest allowed body, and one byte more to see it overflow.
    let cap = MAX_POLICY + 16 * 1024 + 1;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        clock
            .arm(&stream.sock)
            .map_err(|e| FetchError::new("http", e.to_string()))?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(buf.get(..n).unwrap_or_default());
                if raw.len() >= cap {
                    return Err(FetchError::new(
                        "too_large",
                        format!("more than {MAX_POLICY} bytes"),
                    ));
                }
            }
            // A server that closes without close_notify still sent the whole body.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => break,
            Err(e) => {
                let stage = if raw.is_empty() && stream.conn.is_handshaking() {
                    "tls"
                } else {
                    "http"
                };
                return Err(FetchError::new(stage, tls::error_text(&e)));
            }
        }
    }
    parse_response(&raw)
}

/// The body of a `200` response with `Content-Type: text/plain` (RFC 8461 §3.2);
/// anything else, redirects included (§3.3), is an error.
pub fn parse_response(raw: &[u8]) -> Result<String, FetchError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return Err(FetchError::new("http", "incomplete response"));
        }
        Err(e) => return Err(FetchError::new("http", format!("bad response: {e}"))),
    };
    let code = resp.code.unwrap_or(0);
    if code != 200 {
        let location = resp
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("location"))
            .map(|h| {
                format!(
                    " (redirect to {}, not followed)",
                    String::from_utf8_lossy(h.value)
                )
            })
            .unwrap_or_default();
        return Err(FetchError::new(
            "http",
            format!("HTTP {code} {}{location}", resp.reason.unwrap_or("")),
        ));
    }
    let ctype = resp
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-type"))
        .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase());
    let plain = ctype.as_deref().is_some_and(|c| {
        c.split(';')
            .next()
            .is_some_and(|m| m.trim() == "text/plain")
    });
    if !plain {
        return Err(FetchError::new(
            "content_type",
            format!(
                "Content-Type {} is not text/plain",
                ctype.as_deref().unwrap_or("(none)")
            ),
        ));
    }
    let body = raw.get(head_len..).unwrap_or_default();
    if body.len() > MAX_POLICY {
        return Err(FetchError::new(
            "too_large",
            format!("{} bytes, more than {MAX_POLICY}", body.len()),
        ));
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| FetchError::new("parse", "the policy is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        let rows: &[(&str, Result<&str, &str>)] = &[
            ("v=STSv1; id=20261128T120000;", Ok("20261128T120000")),
            ("v=STSv1;id=abc123", Ok("abc123")),
            ("v=STSv1; id=1; ext=foo", Ok("1")),
            ("v=STSv2; id=1", Err("does not start with v=STSv1")),
            ("id=1; v=STSv1", Err("does not start with v=STSv1")),
            ("v=STSv1;", Err("no id field")),
            ("v=STSv1; id=has-dash", Err("letters and digits")),
            ("", Err("empty record")),
        ];
        for (txt, want) in rows {
            match (parse_record(txt), want) {
                (Ok(r), Ok(id)) => assert_eq!(r.id, *id, "{txt}"),
                (Err(e), Err(part)) => assert!(e.to_string().contains(part), "{txt}: {e}"),
                (got, _) => panic!("{txt}: {got:?}"),
            }
        }
    }

    #[test]
    fn policies() {
        let p = parse_policy(
            "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: *.backup.example.org\r\nmax_age: 604800\r\n",
        )
        .expect("policy");
        assert_eq!(
            p,
            Policy {
                mode: Mode::Enforce,
                mx: vec!["mx1.example.org".into(), "*.backup.example.org".into()],
                max_age: 604_800
            }
        );
        let p = parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n").expect("none");
        assert_eq!((p.mode, p.mx.len()), (Mode::None, 0));
        let bad: &[(&str, &str)] = &[
            ("mode: enforce\nmx: a\nmax_age: 1\n", "no version"),
            (
                "version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n",
                "unknown mode",
            ),
            ("version: STSv1\nmode: testing\nmax_age: 1\n", "no mx"),
            ("version: STSv1\nmode: testing\nmx: a\n", "no max_age"),
            (
                "version: STSv1\nmode: testing\nmx: a\nmax_age: 99999999\n",
                "over 31557600",
            ),
            ("<html>not a policy</html>\n", "not key: value"),
        ];
        for (text, part) in bad {
            let e = parse_policy(text).expect_err(text);
            assert!(e.to_string().contains(part), "{text}: {e}");
        }
    }

    #[test]
    fn patterns() {
        let rows = [
            ("mx1.example.org", "mx1.example.org", true),
            ("mx1.example.org", "MX1.Example.Org.", true),
            ("*.example.org", "mx1.example.org", true),
            ("*.example.org", "a.b.example.org", false),
            ("*.example.org", "example.org", false),
            ("mx1.example.org", "mx2.example.org", false),
            ("*.mail.example.org", "mx.example.org", false),
        ];
        for (pattern, name, want) in rows {
            assert_eq!(mx_matches(pattern, name), want, "{pattern} vs {name}");
        }
    }

    #[test]
    fn responses() {
        let ok =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nversion: STSv1\r\n";
        assert_eq!(
            parse_response(ok).map_err(|e| e.detail),
            Ok("version: STSv1\r\n".into())
        );
        let rows: &[(&[u8], &str, &str)] = &[
            (
                b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\nnope",
                "http",
                "HTTP 404",
            ),
            (
                b"HTTP/1.1 301 Moved\r\nLocation: https://elsewhere.test/\r\n\r\n",
                "http",
                "not followed",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>",
                "content_type",
                "text/html",
            ),
            (
                b"HTTP/1.1 200 OK\r\n\r\nversion: STSv1",
                "content_type",
                "(none)",
            ),
            (b"garbage\r\n\r\n", "http", "bad response"),
        ];
        for (raw, stage, part) in rows {
            let e = parse_response(raw).expect_err("error");
            assert_eq!(e.stage, *stage, "{e:?}");
            assert!(e.detail.contains(part), "{e:?}");
        }
    }
}
