//! The active checker behind `mailtls check`: connect, read the banner, EHLO, STARTTLS,
//! TLS handshake (rustls), EHLO again, QUIT — each step timed — and report the result
//! in Sendmail's own terms (`verify=OK|FAIL|NO|NONE|TEMP|PROTOCOL|SOFTWARE`), so a live
//! check and a log line about the same peer can be put side by side.
//!
//! Everything here is blocking `std::net` with a timeout on every connect, read and
//! write, and a deadline for the whole check; no async runtime. [`hello`] holds the
//! hand-built ClientHellos of `--protocols` / `--ciphers`, because rustls (rightly)
//! cannot speak SSLv3, TLS 1.0 or 1.1, and mailtls does not link OpenSSL.

pub mod cert;
pub mod hello;
pub mod smtp;
pub mod suites;
pub mod tls;

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;

use crate::event::{TlsVersion, Verify};
use cert::CertInfo;
use hello::{AcceptedSuite, ProtocolSupport};
use smtp::{Clock, Conversation, Reply, SmtpError, Stream};
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

/// What to check: a host (name or address) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

impl Target {
    /// Reads `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT` or a bare IPv6 address.
    pub fn parse(s: &str, default_port: u16) -> Result<Target, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty target".into());
        }
        if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("{s}: missing ']'"))?;
            let port = match after {
                "" => default_port,
                p => p
                    .strip_prefix(':')
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| format!("{s}: bad port"))?,
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
                port: p.parse().map_err(|_| format!("{s}: bad port {p:?}"))?,
            }),
            Some(_) => Err(format!("{s}: missing host")),
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

/// Something the administrator should know about the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable machine key: `no_starttls`, `starttls_temp`, `handshake_failed`,
    /// `verify_failed`, `expiring`, `min_protocol`, `weak_cipher`, `deprecated_protocol`,
    /// `unreachable`, `timeout`, `service_unavailable`, `smtp_protocol`,
    /// `starttls_injection`, `quit`.
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

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

/// Limits concurrent connections per server address (SMTP servers rate-limit
/// scanners; the default is 2, like a polite MTA).
#[derive(Debug)]
pub struct IpLimiter {
    max: usize,
    busy: Mutex<HashMap<IpAddr, usize>>,
    freed: Condvar,
}

/// Held while connections to one address are open; releases the slot on drop.
pub struct Permit {
    limiter: Arc<IpLimiter>,
    ip: IpAddr,
}

impl IpLimiter {
    pub fn new(max: usize) -> Arc<IpLimiter> {
        Arc::new(IpLimiter {
            max: max.max(1),
            busy: Mutex::new(HashMap::new()),
            freed: Condvar::new(),
        })
    }

    /// Waits for a free slot for `ip`.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Permit {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        while busy.get(&ip).copied().unwrap_or(0) >= self.max {
            busy = self.freed.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        *busy.entry(ip).or_insert(0) += 1;
        Permit {
            limiter: Arc::clone(self),
            ip,
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut busy = self.limiter.busy.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = busy.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&self.ip);
            }
        }
        self.limiter.freed.notify_all();
    }
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
        Mode::Starttls => starttls_session(tcp, target, opts, clock, r),
        Mode::Smtps => smtps_session(tcp, target, opts, clock, r),
    }
    // A failed rustls handshake may be a server that speaks only old protocols: the
    // hand-built hellos still learn what it accepts, and read its certificate.
    let reached_tls = r.tls.is_some() || r.verify == Some(Verify::Software);
    if reached_tls && (opts.protocols || opts.ciphers) {
        enumerate(target, opts, clock, r);
    }
    judge(opts, r);
    permit
}

/// The name to verify the certificate against.
fn verify_name(target: &Target, opts: &Options) -> String {
    opts.servername
        .clone()
        .unwrap_or_else(|| target.host.clone())
}

/// Records an SMTP-level failure while reading `step`: garbage is an SMTP protocol
/// finding, silence a timeout, a hang-up makes the server unreachable.
fn smtp_failure(r: &mut CheckResult, step: StepKind, t: Instant, e: &SmtpError) {
    r.step(step, t, false, e.to_string());
    match e {
        SmtpError::Timeout => r.finding(
            Severity::Error,
            "timeout",
            format!("no complete reply at {} within the timeout", step.label()),
        ),
        SmtpError::Garbage(_) => {
            r.finding(
                Severity::Fail,
                "smtp_protocol",
                format!("{}: {e}", step.label()),
            );
        }
        // A TLS alert is judged by the caller (it is a handshake failure).
        SmtpError::Io(_) if e.is_tls() => {}
        SmtpError::Closed | SmtpError::Io(_) => r.finding(
            Severity::Error,
            "unreachable",
            format!("{}: {e}", step.label()),
        ),
    }
}

/// Reads the banner. `Err(true)` when a TLS alert or a hang-up ended it (SMTPS).
fn banner(conv: &mut Conversation, r: &mut CheckResult) -> Result<(), bool> {
    let t = Instant::now();
    match conv.reply() {
        Ok(reply) if reply.code == 220 => {
            r.banner = Some(reply.text());
            r.step(StepKind::Banner, t, true, reply.text());
            Ok(())
        }
        Ok(reply) => {
            r.banner = Some(reply.text());
            r.step(StepKind::Banner, t, false, reply.text());
            let code = if reply.code == 421 || reply.code == 554 {
                "service_unavailable"
            } else {
                "smtp_protocol"
            };
            r.finding(
                Severity::Error,
                code,
                format!("server refused the session: {}", reply.text()),
            );
            Err(false)
        }
        Err(e) => {
            if matches!(e, SmtpError::Garbage(_)) {
                r.verify = Some(Verify::Protocol);
            }
            smtp_failure(r, StepKind::Banner, t, &e);
            Err(e.is_tls() || matches!(e, SmtpError::Closed))
        }
    }
}

/// Sends EHLO; the extensions on success, `Err(true)` when a TLS alert or a hang-up
/// ended it.
fn ehlo(
    conv: &mut Conversation,
    opts: &Options,
    step: StepKind,
    r: &mut CheckResult,
) -> Result<Vec<String>, bool> {
    let t = Instant::now();
    match conv.command(&format!("EHLO {}", opts.ehlo)) {
        Ok(reply) if reply.code == 250 => {
            let ext = reply.ehlo_extensions();
            r.step(step, t, true, ext.join(", "));
            Ok(ext)
        }
        Ok(reply) => {
            r.step(step, t, false, reply.text());
            r.finding(
                Severity::Fail,
                "smtp_protocol",
                format!("EHLO refused: {}", reply.text()),
            );
            Err(false)
        }
        Err(e) => {
            smtp_failure(r, step, t, &e);
            Err(e.is_tls() || matches!(e, SmtpError::Closed))
        }
    }
}

fn quit(conv: &mut Conversation, r: &mut CheckResult) {
    let t = Instant::now();
    match conv.command("QUIT") {
        Ok(reply) => {
            let ok = reply.code == 221;
            r.step(StepKind::Quit, t, ok, reply.text());
        }
        // Many servers close right after 221 or without it; that is not a finding.
        Err(e) => r.step(StepKind::Quit, t, false, e.to_string()),
    }
}

fn starttls_session(
    tcp: TcpStream,
    target: &Target,
    opts: &Options,
    clock: &Clock,
    r: &mut CheckResult,
) {
    let mut conv = Conversation::new(Stream::Plain(tcp), *clock);
    if banner(&mut conv, r).is_err() {
        return;
    }
    let Ok(ext) = ehlo(&mut conv, opts, StepKind::Ehlo, r) else {
        if r.findings.iter().any(|f| f.code == "smtp_protocol") {
            r.verify = Some(Verify::Protocol);
        }
        return;
    };
    let offered = ext.iter().any(|e| e == "STARTTLS");
    r.extensions = ext;
    if !offered {
        r.verify = Some(Verify::None);
        r.finding(
            Severity::Fail,
            "no_starttls",
            "the server does not offer STARTTLS (verify=NONE): mail to it travels in clear text",
        );
        quit(&mut conv, r);
        return;
    }
    let t = Instant::now();
    let reply = match conv.command("STARTTLS") {
        Ok(reply) => reply,
        Err(e) => {
            r.verify = Some(Verify::Protocol);
            smtp_failure(r, StepKind::Starttls, t, &e);
            if !matches!(e, SmtpError::Garbage(_)) {
                r.finding(
                    Severity::Fail,
                    "smtp_protocol",
                    format!("no reply to STARTTLS: {e}"),
                );
            }
            return;
        }
    };
    r.starttls_reply = Some(reply.text());
    if reply.code != 220 {
        r.step(StepKind::Starttls, t, false, reply.text());
        if reply.is_transient() {
            r.verify = Some(Verify::Temp);
            r.finding(
                Severity::Fail,
                "starttls_temp",
                format!(
                    "STARTTLS answered {} (verify=TEMP): the server cannot start TLS now, often a broken key or certificate",
                    reply.text()
                ),
            );
        } else {
            r.verify = Some(Verify::Protocol);
            r.finding(
                Severity::Fail,
                "smtp_protocol",
                format!("STARTTLS answered {} (verify=PROTOCOL)", reply.text()),
            );
        }
        quit(&mut conv, r);
        return;
    }
    r.step(StepKind::Starttls, t, true, reply.text());
    if conv.buffered() > 0 {
        r.finding(
            Severity::Fail,
            "starttls_injection",
            format!(
                "the server sent {} byte(s) after 220 to STARTTLS, before TLS started (command injection flaw)",
                conv.buffered()
            ),
        );
    }
    let Stream::Plain(tcp) = conv.into_stream() else {
        return;
    };
    let Some(mut conv) = tls_start(tcp, target, opts, clock, r) else {
        return;
    };
    match ehlo(&mut conv, opts, StepKind::EhloTls, r) {
        Ok(ext) => r.extensions_tls = ext,
        Err(true) => return late_tls_failure(r),
        // A server that said nothing in time will not answer QUIT either.
        Err(false) if r.findings.iter().any(|f| f.code == "timeout") => return,
        Err(false) => {}
    }
    quit(&mut conv, r);
}

fn smtps_session(
    tcp: TcpStream,
    target: &Target,
    opts: &Options,
    clock: &Clock,
    r: &mut CheckResult,
) {
    let Some(mut conv) = tls_start(tcp, target, opts, clock, r) else {
        return;
    };
    match banner(&mut conv, r) {
        Ok(()) => {}
        Err(true) => return late_tls_failure(r),
        Err(false) => return,
    }
    match ehlo(&mut conv, opts, StepKind::EhloTls, r) {
        Ok(ext) => r.extensions_tls = ext,
        Err(true) => return late_tls_failure(r),
        // A server that said nothing in time will not answer QUIT either.
        Err(false) if r.findings.iter().any(|f| f.code == "timeout") => return,
        Err(false) => {}
    }
    quit(&mut conv, r);
}

/// A TLS alert or a hang-up on the first read after the handshake is a handshake
/// failure: a TLS 1.3 server that rejects our client certificate, or wants one, says
/// so only after our Finished, and its alert is often lost to the reset that follows.
fn late_tls_failure(r: &mut CheckResult) {
    r.verify = Some(Verify::Software);
    let detail = r.steps.last().map(|s| s.detail.clone()).unwrap_or_default();
    r.findings.retain(|f| f.code != "unreachable");
    r.finding(
        Severity::Fail,
        "handshake_failed",
        format!(
            "the server ended TLS right after the handshake (verify=SOFTWARE; does it require a client certificate?): {detail}"
        ),
    );
}

/// Runs the handshake and fills in version, cipher, chain and verify.
fn tls_start(
    tcp: TcpStream,
    target: &Target,
    opts: &Options,
    clock: &Clock,
    r: &mut CheckResult,
) -> Option<Conversation> {
    let t = Instant::now();
    let name = verify_name(target, opts);
    let Some(server_name) = tls::server_name(&name) else {
        r.step(
            StepKind::Handshake,
            t,
            false,
            format!("{name:?} is not a valid server name"),
        );
        r.finding(
            Severity::Error,
            "handshake_failed",
            format!("{name:?} is not a valid server name"),
        );
        return None;
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(tls::Recorder::new(&opts.trust, Arc::clone(&provider)));
    let config = match tls::client_config(
        provider,
        Arc::clone(&recorder),
        opts.client_auth.as_ref(),
        &opts.versions,
    ) {
        Ok(c) => c,
        Err(e) => {
            r.step(StepKind::Handshake, t, false, e.to_string());
            r.finding(Severity::Error, "handshake_failed", e.to_string());
            return None;
        }
    };
    let stream = match tls::handshake(tcp, server_name, config, clock) {
        Ok(s) => s,
        Err(e) => {
            let text = tls::error_text(&e);
            r.step(StepKind::Handshake, t, false, text.clone());
            r.verify = Some(Verify::Software);
            r.finding(
                Severity::Fail,
                "handshake_failed",
                format!("TLS handshake failed (verify=SOFTWARE): {text}"),
            );
            return None;
        }
    };
    let now = Utc::now();
    if let Some(certs) = stream.conn.peer_certificates() {
        r.chain = certs
            .iter()
            .filter_map(|c| cert::describe(c.as_ref(), now).ok())
            .collect();
    }
    let self_signed = r.chain.len() == 1 && r.chain.first().is_some_and(|c| c.self_signed);
    let (verify, failure) = tls::verdict_to_verify(recorder.verdict(), self_signed);
    r.verify = Some(verify);
    r.verify_failure = failure;
    r.tls = tls::negotiated(&stream.conn);
    let summary = match &r.tls {
        Some(n) => format!(
            "{} {} {}/{} bits{}",
            n.version,
            n.cipher,
            n.bits.alg.unwrap_or(0),
            n.bits.secret.unwrap_or(0),
            n.group
                .as_deref()
                .map(|g| format!(" {g}"))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    r.step(StepKind::Handshake, t, true, summary);
    Some(Conversation::new(Stream::Tls(Box::new(stream)), *clock))
}

/// Opens a fresh connection and brings it to the point where the next byte the
/// server reads is a ClientHello (after `220` to STARTTLS, or at once for SMTPS).
fn open_raw(addr: SocketAddr, opts: &Options, clock: &Clock) -> Result<TcpStream, String> {
    let limit = clock.next().ok_or("check deadline reached")?;
    let tcp = TcpStream::connect_timeout(&addr, limit).map_err(|e| e.to_string())?;
    // Small commands back to back: without this, Nagle and delayed ACKs cost ~40 ms a probe.
    let _ = tcp.set_nodelay(true);
    if opts.mode == Mode::Smtps {
        return Ok(tcp);
    }
    let mut conv = Conversation::new(Stream::Plain(tcp), *clock);
    let want = |reply: Result<Reply, SmtpError>, code: u16, what: &str| match reply {
        Ok(r) if r.code == code => Ok(()),
        Ok(r) => Err(format!("{what}: {}", r.text())),
        Err(e) => Err(format!("{what}: {e}")),
    };
    want(conv.reply(), 220, "banner")?;
    want(conv.command(&format!("EHLO {}", opts.ehlo)), 250, "EHLO")?;
    want(conv.command("STARTTLS"), 220, "STARTTLS")?;
    match conv.into_stream() {
        Stream::Plain(tcp) => Ok(tcp),
        Stream::Tls(_) => Err("unexpected TLS stream".into()),
    }
}

fn enumerate(target: &Target, opts: &Options, clock: &Clock, r: &mut CheckResult) {
    let Some(ip) = r.ip else { return };
    let addr = SocketAddr::new(ip, target.port);
    let sni = verify_name(target, opts);
    let sni = (sni.parse::<IpAddr>().is_err()).then_some(sni);
    let mut open = || open_raw(addr, opts, clock);
    let t = Instant::now();
    let (protocols, clear_chain) = hello::enumerate_protocols(&mut open, clock, sni.as_deref());
    if r.chain.is_empty() && !clear_chain.is_empty() {
        let now = Utc::now();
        r.chain = clear_chain
            .iter()
            .filter_map(|c| cert::describe(c, now).ok())
            .collect();
        let (v, failure) = tls::verify_chain(&opts.trust, &clear_chain, &verify_name(target, opts));
        let verdict = match failure {
            Some(f) => format!("it does not verify ({v}: {:?}: {})", f.reason, f.detail),
            None => format!("it verifies ({v})"),
        };
        r.finding(
            Severity::Info,
            "clear_text_chain",
            format!(
                "the chain was read from the clear-text Certificate message of an old-protocol handshake; {verdict}"
            ),
        );
    }
    let summary: Vec<String> = protocols
        .iter()
        .map(|p| format!("{} {}", p.version, if p.accepted { "yes" } else { "no" }))
        .collect();
    r.step(StepKind::Protocols, t, true, summary.join(", "));
    if opts.ciphers {
        let t = Instant::now();
        let mut all = Vec::new();
        for p in protocols.iter().filter(|p| p.accepted) {
            all.extend(hello::enumerate_ciphers(
                &mut open,
                clock,
                sni.as_deref(),
                &p.version,
            ));
        }
        r.step(
            StepKind::Ciphers,
            t,
            true,
            format!("{} accepted", all.len()),
        );
        r.ciphers = Some(all);
    }
    r.protocols = Some(protocols);
}

/// Turns what was seen into findings that are not already recorded.
fn judge(opts: &Options, r: &mut CheckResult) {
    if let Some(Verify::Fail) = r.verify {
        let why = r
            .verify_failure
            .as_ref()
            .map(|f| format!("{:?}: {}", f.reason, f.detail))
            .unwrap_or_default();
        let sev = if opts.require_verify {
            Severity::Fail
        } else {
            Severity::Warn
        };
        r.finding(
            sev,
            "verify_failed",
            format!(
                "certificate did not verify against {} (verify=FAIL): {why}",
                r.trust
            ),
        );
    }
    if let Some(leaf) = r.chain.first()
        && leaf.days_left >= 0
        && leaf.days_left < opts.expiry_warn_days
    {
        let text = format!(
            "the server certificate expires in {} day(s) ({})",
            leaf.days_left, leaf.not_after
        );
        r.finding(Severity::Warn, "expiring", text);
    }
    if let (Some(min), Some(tls)) = (&opts.min_protocol, &r.tls)
        && rank(&tls.version) < rank(min)
    {
        r.finding(
            Severity::Fail,
            "min_protocol",
            format!("negotiated {} is below --min-protocol {min}", tls.version),
        );
    }
    let accepted: Vec<TlsVersion> = r
        .protocols
        .iter()
        .flatten()
        .filter(|p| p.accepted)
        .map(|p| p.version.clone())
        .collect();
    for v in accepted {
        let below = opts
            .min_protocol
            .as_ref()
            .is_some_and(|m| rank(&v) < rank(m));
        if below {
            r.finding(
                Severity::Fail,
                "min_protocol",
                format!("accepts {v}, below --min-protocol"),
            );
        } else if v.is_deprecated() {
            r.finding(
                Severity::Warn,
                "deprecated_protocol",
                format!("accepts {v} (deprecated, RFC 8996)"),
            );
        }
    }
    let weak: Vec<String> = r
        .ciphers
        .iter()
        .flatten()
        .filter(|c| c.weakness.is_some_and(|w| !w.is_informational()))
        .map(|c| format!("{} {}", c.version, c.cipher))
        .collect();
    if !weak.is_empty() {
        r.finding(
            Severity::Warn,
            "weak_cipher",
            format!("accepts weak suites: {}", weak.join(", ")),
        );
    }
}

/// Orders protocol versions (the derived `Ord` of [`TlsVersion`] does too, but the
/// legacy and unknown labels must not count as new).
pub fn rank(v: &TlsVersion) -> u8 {
    match v {
        TlsVersion::Ssl2 => 1,
        TlsVersion::Ssl3 => 2,
        TlsVersion::Tls1_0 => 3,
        TlsVersion::Tls1_1 => 4,
        TlsVersion::Tls1_2 => 5,
        TlsVersion::Tls1_3 => 6,
        TlsVersion::Legacy | TlsVersion::Other(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
