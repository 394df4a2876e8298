//! One conversation with the server, step by step: banner, EHLO, STARTTLS (or SMTPS),
//! the rustls handshake, EHLO over TLS, QUIT; and the extra connections of the
//! `--protocols` / `--ciphers` probes. Each step is timed and recorded in the
//! [`CheckResult`], failures as findings and as Sendmail's verify word.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

use super::smtp::{Clock, Conversation, Reply, SmtpError, Stream};
use super::{CheckResult, Mode, Options, Severity, StepKind, Target, cert, hello, tls};
use crate::model::Verify;

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
        Ok(reply) if step == StepKind::Ehlo && reply.code >= 500 => {
            r.step(step, t, false, reply.text());
            helo(conv, opts, r, &reply)
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

/// After a 5xx to EHLO, as Sendmail does: HELO, which has no extensions (so no
/// STARTTLS: the caller then reports verify=NONE).
fn helo(
    conv: &mut Conversation,
    opts: &Options,
    r: &mut CheckResult,
    refused: &Reply,
) -> Result<Vec<String>, bool> {
    let t = Instant::now();
    match conv.command(&format!("HELO {}", opts.ehlo)) {
        Ok(reply) if reply.code == 250 => {
            r.step(StepKind::Helo, t, true, reply.text());
            r.finding(
                Severity::Info,
                "helo_only",
                format!(
                    "EHLO refused ({}); HELO accepted: a plain SMTP server, without extensions",
                    refused.text()
                ),
            );
            Ok(Vec::new())
        }
        Ok(reply) => {
            r.step(StepKind::Helo, t, false, reply.text());
            r.finding(
                Severity::Fail,
                "smtp_protocol",
                format!(
                    "EHLO and HELO refused: {} / {}",
                    refused.text(),
                    reply.text()
                ),
            );
            Err(false)
        }
        Err(e) => {
            smtp_failure(r, StepKind::Helo, t, &e);
            Err(false)
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

pub(super) fn starttls_session(
    tcp: TcpStream,
    target: &Target,
    opts: &Options,
    clock: &Clock,
    r: &mut CheckResult,
) {
    let mut conv = Conversation::new(Stream::plain(tcp, *clock), *clock);
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
    let tcp = tcp.into_inner();
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

pub(super) fn smtps_session(
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
        r.chain_der = certs.iter().map(|c| c.as_ref().to_vec()).collect();
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

/// Why a probe connection did not reach the point of a ClientHello.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("check deadline reached")]
    Deadline,
    #[error("{}", crate::model::text::plain_error(.0))]
    Connect(#[from] std::io::Error),
    /// The server answered a step with another code (`421 too many connections`).
    #[error("{step}: {reply}")]
    Refused { step: &'static str, reply: String },
    #[error("unexpected TLS stream")]
    NotPlain,
    #[error("{step}: {source}")]
    Smtp {
        step: &'static str,
        #[source]
        source: SmtpError,
    },
}

/// Opens a fresh connection and brings it to the point where the next byte the
/// server reads is a ClientHello (after `220` to STARTTLS, or at once for SMTPS).
fn open_raw(addr: SocketAddr, opts: &Options, clock: &Clock) -> Result<TcpStream, OpenError> {
    let limit = clock.next().ok_or(OpenError::Deadline)?;
    let tcp = TcpStream::connect_timeout(&addr, limit)?;
    // Small commands back to back: without this, Nagle and delayed ACKs cost ~40 ms a probe.
    let _ = tcp.set_nodelay(true);
    if opts.mode == Mode::Smtps {
        return Ok(tcp);
    }
    let mut conv = Conversation::new(Stream::plain(tcp, *clock), *clock);
    let want = |reply: Result<Reply, SmtpError>, code: u16, step: &'static str| match reply {
        Ok(r) if r.code == code => Ok(()),
        Ok(r) => Err(OpenError::Refused {
            step,
            reply: r.text(),
        }),
        Err(source) => Err(OpenError::Smtp { step, source }),
    };
    want(conv.reply(), 220, "banner")?;
    want(conv.command(&format!("EHLO {}", opts.ehlo)), 250, "EHLO")?;
    want(conv.command("STARTTLS"), 220, "STARTTLS")?;
    match conv.into_stream() {
        Stream::Plain(tcp) => Ok(tcp.into_inner()),
        Stream::Tls(_) => Err(OpenError::NotPlain),
    }
}

pub(super) fn enumerate(target: &Target, opts: &Options, clock: &Clock, r: &mut CheckResult) {
    let Some(ip) = r.ip else { return };
    let addr = SocketAddr::new(ip, target.port);
    let sni = verify_name(target, opts);
    let sni = (sni.parse::<IpAddr>().is_err()).then_some(sni);
    let mut open = || open_raw(addr, opts, clock);
    let t = Instant::now();
    let mut pacer = hello::Pacer::default();
    let (protocols, clear_chain) =
        hello::enumerate_protocols(&mut open, clock, &mut pacer, sni.as_deref());
    if r.chain.is_empty() && !clear_chain.is_empty() {
        r.chain_der = clear_chain.clone();
        let now = Utc::now();
        r.chain = clear_chain
            .iter()
            .filter_map(|c| cert::describe(c, now).ok())
            .collect();
        let (v, failure) = tls::verify_chain(&opts.trust, &clear_chain, &verify_name(target, opts));
        let verdict = match failure {
            Some(f) => format!(
                "it does not verify ({v}: {}: {})",
                f.reason.label(),
                f.detail
            ),
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
        .map(|p| {
            let word = match p.accepted {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not tested",
            };
            format!("{} {word}", p.version)
        })
        .collect();
    // A version no probe got a TLS answer for is unknown, not refused: the step fails
    // and the check cannot pass (Severity::Error: the check could not be done).
    let untested: Vec<String> = protocols
        .iter()
        .filter(|p| p.accepted.is_none())
        .map(|p| format!("{} {}", p.version, p.detail))
        .collect();
    r.step(
        StepKind::Protocols,
        t,
        untested.is_empty(),
        summary.join(", "),
    );
    if !untested.is_empty() {
        r.finding(
            Severity::Error,
            "incomplete",
            format!(
                "protocol versions not tested (no TLS answer): {}",
                untested.join("; ")
            ),
        );
    }
    if opts.ciphers {
        let t = Instant::now();
        let mut all = Vec::new();
        let mut cut: Vec<String> = protocols
            .iter()
            .filter(|p| p.accepted.is_none())
            .map(|p| format!("{} not tested", p.version))
            .collect();
        for p in protocols.iter().filter(|p| p.accepted == Some(true)) {
            let (found, stopped) =
                hello::enumerate_ciphers(&mut open, clock, &mut pacer, sni.as_deref(), &p.version);
            let n = found.len();
            all.extend(found);
            if let Some(why) = stopped {
                cut.push(format!("{} stopped after {n} suites: {why}", p.version));
            }
        }
        let mut detail = format!("{} accepted", all.len());
        if !cut.is_empty() {
            detail.push_str(&format!("; incomplete: {}", cut.join("; ")));
            r.finding(
                Severity::Error,
                "incomplete",
                format!(
                    "the cipher enumeration is incomplete ({}): the list holds only what was found before",
                    cut.join("; ")
                ),
            );
        }
        if pacer.retries > 0 {
            detail.push_str(&format!(
                " ({} probes retried after no TLS answer)",
                pacer.retries
            ));
        }
        r.step(StepKind::Ciphers, t, cut.is_empty(), detail);
        r.ciphers = Some(all);
    }
    r.protocols = Some(protocols);
}
