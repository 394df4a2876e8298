//! The active checker behind `mailtls check`: connect, read the banner, EHLO, STARTTLS,
//! TLS handshake (rustls), EHLO again, QUIT — each step timed — and report the result
//! in Sendmail's own terms (`verify=OK|FAIL|NO|NONE|TEMP|PROTOCOL|SOFTWARE`), so a live
//! check and a log line about the same peer can be put side by side.
//!
//! Everything here is blocking `std::net` with a timeout on every connect, read and
//! write, and a deadline for the whole check; no async runtime. [`hello`] holds the
//! hand-built ClientHellos of `--protocols` / `--ciphers`, because rustls (rightly)
//! cannot speak SSLv3, TLS 1.0 or 1.1, and mailtls does not link OpenSSL.

// Everything here reads bytes from strangers (log writers, peers, servers): no panics on
// input. Unwrap, expect and panic are denied crate-wide (Cargo.toml's [lints]); indexing
// and slicing, which the rest of the crate uses on its own data, are denied here. Tests
// may index freely.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod cert;
pub mod hello;
mod judge;
mod limit;
mod session;
pub mod smtp;
pub mod suites;
pub mod tls;

pub use judge::rank;
pub use limit::{IpLimiter, Permit};

use std::fmt;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::model::{TlsVersion, Verify};
use cert::CertInfo;
use hello::{AcceptedSuite, ProtocolSupport};
use smtp::Clock;
use tls::{ClientAuth, Negotiated, Trust, VerifyFailure};

/// The version tag of the JSON output; bump it when a field changes meaning.
pub const SCHEMA: &str = "mailtls.check/1";

/// How TLS starts on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Plain SMTP, then `STARTTLS` (ports 25 and 587).
    Starttls,
    /// TLS from the first byte (SMTPS, port 465, RFC 8314).
    Smtps,
}

/// Why a command-line target is not `HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("empty target")]
    Empty,
    #[error("{0}: missing ']'")]
    Bracket(String),
    #[error("{0}: missing host")]
    NoHost(String),
    #[error("{target}: bad port {port:?}")]
    Port { target: String, port: String },
}

/// What to check: a host (name or address) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

impl Target {
    /// Reads `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT` or a bare IPv6 address.
    pub fn parse(s: &str, default_port: u16) -> Result<Target, TargetError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(TargetError::Empty);
        }
        let bad_port = |p: &str| TargetError::Port {
            target: s.to_owned(),
            port: p.to_owned(),
        };
        if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| TargetError::Bracket(s.to_owned()))?;
            let port = match after {
                "" => default_port,
                p => p
                    .strip_prefix(':')
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| bad_port(p.trim_start_matches(':')))?,
            };
            return Ok(Target {
                host: host.to_owned(),
                port,
            });
        }
        if s.parse::<std::net::Ipv6Addr>().is_ok() {
            return Ok(Target {
                host: s.to_owned(),
                port: default_port,
            });
        }
        match s.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() => Ok(Target {
                host: h.to_owned(),
                port: p.parse().map_err(|_| bad_port(p))?,
            }),
            Some(_) => Err(TargetError::NoHost(s.to_owned())),
            None => Ok(Target {
                host: s.to_owned(),
                port: default_port,
            }),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Everything a check needs besides the target.
#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    /// The name sent in EHLO.
    pub ehlo: String,
    /// Timeout of each connect, read and write.
    pub timeout: Duration,
    /// Deadline of one target's whole check (enumeration included).
    pub max_time: Duration,
    pub trust: Trust,
    pub client_auth: Option<ClientAuth>,
    /// Name to verify the certificate against (and send as SNI) instead of the host.
    pub servername: Option<String>,
    /// Protocol versions rustls may offer in the main handshake.
    pub versions: Vec<&'static rustls::SupportedProtocolVersion>,
    /// Enumerate accepted protocol versions with hand-built ClientHellos.
    pub protocols: bool,
    /// Enumerate accepted cipher suites per version.
    pub ciphers: bool,
    /// Warn when the server certificate expires within this many days.
    pub expiry_warn_days: i64,
    /// Fail when the server negotiates (or, with `--protocols`, accepts) anything older.
    pub min_protocol: Option<TlsVersion>,
    /// A verify word other than OK fails the check (default); off, FAIL only warns, as
    /// for opportunistic MTA-to-MTA TLS.
    pub require_verify: bool,
    /// Caps connections per server address across concurrent checks.
    pub limiter: Option<Arc<IpLimiter>>,
}

/// One timed step of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Resolve,
    Connect,
    Banner,
    Ehlo,
    /// Only after a 5xx to EHLO.
    Helo,
    Starttls,
    Handshake,
    EhloTls,
    Quit,
    Protocols,
    Ciphers,
}

impl StepKind {
    pub fn label(self) -> &'static str {
        match self {
            StepKind::Resolve => "resolve",
            StepKind::Connect => "connect",
            StepKind::Banner => "banner",
            StepKind::Ehlo => "EHLO",
            StepKind::Helo => "HELO",
            StepKind::Starttls => "STARTTLS",
            StepKind::Handshake => "TLS handshake",
            StepKind::EhloTls => "EHLO (TLS)",
            StepKind::Quit => "QUIT",
            StepKind::Protocols => "protocols",
            StepKind::Ciphers => "ciphers",
        }
    }
}

/// A step, how long it took, whether it went as a healthy server's would, and what
/// was seen (the reply, the error).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub step: StepKind,
    pub ms: f64,
    pub ok: bool,
    pub detail: String,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Fail,
    /// The check itself could not be done (unreachable, timeout, `421`).
    Error,
}

impl Severity {
    /// The word the text output prints before a finding: capitals for what fails.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "FAIL",
            Severity::Error => "ERROR",
        }
    }
}

/// Something the administrator should know about the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable machine key: `no_starttls`, `starttls_temp`, `handshake_failed`,
    /// `verify_failed`, `expiring`, `min_protocol`, `weak_cipher`, `deprecated_protocol`,
    /// `unreachable`, `timeout`, `service_unavailable`, `smtp_protocol`,
    /// `starttls_injection`, `helo_only`, `clear_text_chain`, `incomplete` (a protocol
    /// version not tested or a cipher enumeration cut short), `ours_no_tls` (our own
    /// server without working STARTTLS: likely causes, see [`explain_ours`]).
    pub code: &'static str,
    pub text: String,
}

/// The overall verdict of one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Error,
}

/// Everything learned about one target. Serialized as one record of `mailtls.check/1`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The target as given (`HOST:PORT`).
    pub target: String,
    pub host: String,
    pub port: u16,
    /// The address actually checked.
    pub ip: Option<IpAddr>,
    pub mode: Mode,
    pub status: Status,
    /// Sendmail's verify word; absent when the conversation never reached EHLO.
    pub verify: Option<Verify>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_failure: Option<VerifyFailure>,
    /// Where the trust anchors came from.
    pub trust: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    /// EHLO keywords before TLS (with `--smtps`, empty).
    pub extensions: Vec<String>,
    /// EHLO keywords over TLS.
    pub extensions_tls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starttls_reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Negotiated>,
    /// Whether a client certificate was offered (`--client-cert`).
    pub client_certificate: bool,
    pub chain: Vec<CertInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocols: Option<Vec<ProtocolSupport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciphers: Option<Vec<AcceptedSuite>>,
    pub steps: Vec<Step>,
    pub findings: Vec<Finding>,
    /// Time spent from start to end, less any wait for a per-address slot.
    pub elapsed_ms: f64,
    /// The presented chain as DER, server certificate first: DANE (`check --domain`)
    /// matches TLSA records against these bytes. Not serialized (`chain` describes it).
    #[serde(skip)]
    pub chain_der: Vec<Vec<u8>>,
    #[serde(skip)]
    queued: Duration,
}

impl CheckResult {
    fn new(target: &Target, opts: &Options) -> CheckResult {
        CheckResult {
            target: target.to_string(),
            host: target.host.clone(),
            port: target.port,
            ip: None,
            mode: opts.mode,
            status: Status::Pass,
            verify: None,
            verify_failure: None,
            trust: opts.trust.source.clone(),
            banner: None,
            extensions: Vec::new(),
            extensions_tls: Vec::new(),
            starttls_reply: None,
            tls: None,
            client_certificate: opts.client_auth.is_some(),
            chain: Vec::new(),
            protocols: None,
            ciphers: None,
            steps: Vec::new(),
            findings: Vec::new(),
            elapsed_ms: 0.0,
            chain_der: Vec::new(),
            queued: Duration::ZERO,
        }
    }

    fn step(&mut self, step: StepKind, started: Instant, ok: bool, detail: impl Into<String>) {
        self.steps.push(Step {
            step,
            ms: ms(started.elapsed()),
            ok,
            detail: detail.into(),
        });
    }

    fn finding(&mut self, severity: Severity, code: &'static str, text: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            code,
            text: text.into(),
        });
    }

    /// True when the target should make the run exit 1.
    pub fn failed(&self) -> bool {
        self.status >= Status::Fail
    }
}

/// True when `ip` is this machine's own: loopback, or an address a socket can bind to
/// (one assigned to one of its interfaces). Binding a UDP socket to port 0 sends nothing.
pub fn is_local_address(ip: IpAddr) -> bool {
    ip.is_loopback()
        || (!ip.is_unspecified()
            && !ip.is_multicast()
            && std::net::UdpSocket::bind((ip, 0)).is_ok())
}

/// The MTA a banner names (`220 mx ESMTP Postfix`, `… Sendmail 8.17.1.9/…`, `… Exim 4.96`),
/// as the `mailtls doctor` flags that examine its configuration and log.
fn doctor_command(banner: Option<&str>) -> &'static str {
    let b = banner.unwrap_or_default().to_ascii_lowercase();
    if b.contains("sendmail") {
        "mailtls doctor --cf /etc/mail/sendmail.cf --log /var/log/mail.log"
    } else if b.contains("postfix") {
        "mailtls doctor --postfix-dir /etc/postfix --log /var/log/mail.log"
    } else if b.contains("exim") {
        "mailtls doctor --exim-config /etc/exim4 --log /var/log/exim4/mainlog"
    } else {
        "mailtls doctor --log /var/log/mail.log"
    }
}

/// When the server is ours (`--ours`, or [`is_local_address`]) and offers no STARTTLS
/// (`verify=NONE`) or refuses it with 4xx (`TEMP`), the likely causes on our side and the
/// command that finds which: an MTA that cannot load its key or certificate stops
/// offering STARTTLS (Sendmail) or answers 454 (Postfix, Exim), so from outside it looks
/// like a server without TLS. Adds an `ours_no_tls` info finding; nothing otherwise.
pub fn explain_ours(r: &mut CheckResult) {
    let what = match r.verify {
        Some(Verify::None) => "this server of ours offers no STARTTLS",
        Some(Verify::Temp) => "this server of ours refuses STARTTLS for now",
        _ => return,
    };
    let text = format!(
        "{what}. Likely causes: the MTA could not load its TLS key or certificate \
         (missing, unreadable, group- or world-readable, key and certificate not a pair), \
         or STARTTLS is disabled in its configuration. Run `{}` to find which.",
        doctor_command(r.banner.as_deref())
    );
    r.finding(Severity::Info, "ours_no_tls", text);
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

/// Checks one target. Never panics on server input and never outlives
/// `opts.max_time` by more than one socket operation's rounding.
pub fn check(target: &Target, opts: &Options) -> CheckResult {
    check_at(target, None, opts)
}

/// Checks every address the target resolves to, one result each (an MX name with an
/// IPv4 and an IPv6 address is two servers that may well differ). A name that does not
/// resolve gives one result that says so.
pub fn check_each_address(target: &Target, opts: &Options) -> Vec<CheckResult> {
    let mut ips: Vec<IpAddr> = Vec::new();
    if let Ok(addrs) = (target.host.as_str(), target.port).to_socket_addrs() {
        for a in addrs {
            if !ips.contains(&a.ip()) {
                ips.push(a.ip());
            }
        }
    }
    if ips.is_empty() {
        return vec![check(target, opts)];
    }
    ips.into_iter()
        .map(|ip| check_at(target, Some(ip), opts))
        .collect()
}

/// Checks `target` at one address found elsewhere (the MX walk of `check --domain`
/// resolves with its own DNSSEC-validating resolver): no system name lookup, and the
/// certificate is still verified for `target.host`.
pub fn check_address(target: &Target, ip: IpAddr, opts: &Options) -> CheckResult {
    check_at(target, Some(ip), opts)
}

/// Checks `target`, at `only` when given (no name resolution then).
fn check_at(target: &Target, only: Option<IpAddr>, opts: &Options) -> CheckResult {
    let started = Instant::now();
    let mut r = CheckResult::new(target, opts);
    let _permit = run(target, only, opts, &mut r);
    r.elapsed_ms = ms(started.elapsed().saturating_sub(r.queued));
    r.status = status_of(&r.findings);
    r
}

fn status_of(findings: &[Finding]) -> Status {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => Status::Error,
        Some(Severity::Fail) => Status::Fail,
        Some(Severity::Warn) => Status::Warn,
        _ => Status::Pass,
    }
}

/// The conversation proper. Returns the per-address permit so that it is held until
/// the result is complete.
fn run(
    target: &Target,
    only: Option<IpAddr>,
    opts: &Options,
    r: &mut CheckResult,
) -> Option<Permit> {
    // Name resolution has no timeout of its own (std's resolver); the deadline of the
    // whole check starts once we may connect.
    let t = Instant::now();
    let resolved = match only {
        Some(ip) => Ok(vec![SocketAddr::new(ip, target.port)]),
        None => (target.host.as_str(), target.port)
            .to_socket_addrs()
            .map(Iterator::collect),
    };
    let addrs: Vec<SocketAddr> = match resolved {
        Ok(a) => a,
        Err(e) => {
            r.step(StepKind::Resolve, t, false, e.to_string());
            r.finding(
                Severity::Error,
                "unreachable",
                format!("cannot resolve {}: {e}", target.host),
            );
            return None;
        }
    };
    if only.is_none() && target.host.parse::<IpAddr>().is_err() {
        let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        r.step(StepKind::Resolve, t, !addrs.is_empty(), list.join(" "));
    }
    let Some(first) = addrs.first() else {
        r.finding(
            Severity::Error,
            "unreachable",
            format!("{} has no address", target.host),
        );
        return None;
    };
    // Waiting for a free slot at a busy address is not the server's time: the clock
    // starts after it.
    let waiting = Instant::now();
    let permit = opts.limiter.as_ref().map(|l| l.acquire(first.ip()));
    r.queued = waiting.elapsed();
    let clock = &Clock::new(opts.timeout, opts.max_time);

    let mut tcp = None;
    for addr in &addrs {
        let t = Instant::now();
        let Some(limit) = clock.next() else { break };
        match TcpStream::connect_timeout(addr, limit) {
            Ok(s) => {
                r.step(StepKind::Connect, t, true, addr.to_string());
                r.ip = Some(addr.ip());
                tcp = Some(s);
                break;
            }
            Err(e) => r.step(StepKind::Connect, t, false, format!("{addr}: {e}")),
        }
    }
    let Some(tcp) = tcp else {
        let why = if clock.next().is_none() {
            "check deadline reached"
        } else {
            "connection failed"
        };
        r.finding(Severity::Error, "unreachable", format!("{target}: {why}"));
        return permit;
    };
    let _ = tcp.set_nodelay(true);

    match opts.mode {
        Mode::Starttls => session::starttls_session(tcp, target, opts, clock, r),
        Mode::Smtps => session::smtps_session(tcp, target, opts, clock, r),
    }
    // A failed rustls handshake may be a server that speaks only old protocols: the
    // hand-built hellos still learn what it accepts, and read its certificate.
    let reached_tls = r.tls.is_some() || r.verify == Some(Verify::Software);
    if reached_tls && (opts.protocols || opts.ciphers) {
        session::enumerate(target, opts, clock, r);
    }
    judge::judge(opts, r);
    permit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_addresses_and_the_doctor_for_each_mta() {
        assert!(is_local_address("127.0.0.1".parse().unwrap()));
        assert!(is_local_address("::1".parse().unwrap()));
        // TEST-NET-1 is never assigned here; nothing is sent to it (a bind, no packet).
        assert!(!is_local_address("192.0.2.1".parse().unwrap()));
        assert!(!is_local_address("0.0.0.0".parse().unwrap()));
        let rows = [
            (
                "220 mx ESMTP Sendmail 8.17.1.9/8.17.1.9; Sat",
                "--cf /etc/mail/sendmail.cf",
            ),
            (
                "220 mx.example.org ESMTP Postfix (Debian/GNU)",
                "--postfix-dir /etc/postfix",
            ),
            (
                "220 mx.example.org ESMTP Exim 4.96 Sat, 28 Nov",
                "--exim-config /etc/exim4",
            ),
            ("220 mx.example.org ESMTP ready", "mailtls doctor --log"),
        ];
        for (banner, want) in rows {
            assert!(doctor_command(Some(banner)).contains(want), "{banner}");
        }
    }

    #[test]
    fn targets() {
        let rows = [
            ("mx.example.test", 25, "mx.example.test", 25),
            ("mx.example.test:2525", 25, "mx.example.test", 2525),
            ("127.0.0.1:587", 25, "127.0.0.1", 587),
            ("[::1]:465", 25, "::1", 465),
            ("[::1]", 587, "::1", 587),
            ("::1", 25, "::1", 25),
            ("  mx.example.test ", 465, "mx.example.test", 465),
        ];
        for (input, default, host, port) in rows {
            let t = Target::parse(input, default).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((t.host.as_str(), t.port), (host, port), "{input}");
        }
        for bad in ["", ":25", "mx:port", "[::1", "[::1]x", "mx:70000"] {
            assert!(Target::parse(bad, 25).is_err(), "{bad}");
        }
        assert_eq!(
            Target::parse("::1", 25).map(|t| t.to_string()),
            Ok("[::1]:25".into())
        );
    }

    #[test]
    fn limiter_caps_per_address() {
        let l = IpLimiter::new(2);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let a = l.acquire(ip);
        let _b = l.acquire(ip);
        let l2 = Arc::clone(&l);
        let waiter = std::thread::spawn(move || {
            let t = Instant::now();
            let _c = l2.acquire(ip);
            t.elapsed()
        });
        std::thread::sleep(Duration::from_millis(100));
        drop(a);
        let waited = waiter.join().unwrap_or_default();
        assert!(waited >= Duration::from_millis(90), "{waited:?}");
    }

    #[test]
    fn status_is_worst_finding() {
        let f = |severity| Finding {
            severity,
            code: "x",
            text: String::new(),
        };
        assert_eq!(status_of(&[]), Status::Pass);
        assert_eq!(status_of(&[f(Severity::Info)]), Status::Pass);
        assert_eq!(
            status_of(&[f(Severity::Warn), f(Severity::Fail)]),
            Status::Fail
        );
        assert_eq!(
            status_of(&[f(Severity::Error), f(Severity::Warn)]),
            Status::Error
        );
    }
}
