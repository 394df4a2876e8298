//! `mailtls check HOST[:PORT]…`: does this server really offer and complete STARTTLS,
//! and what would Sendmail log about it?
//!
//! ```text
//! Usage: mailtls check [OPTIONS] [HOST[:PORT]]...
//!
//! Connects, reads the 220 banner, sends EHLO, lists the extensions, sends STARTTLS,
//! runs the TLS handshake (rustls), sends EHLO again over TLS and QUIT, timing each
//! step. Reports the protocol, cipher (OpenSSL and IANA names), key-exchange group and
//! bits; the certificate chain (subject, issuer, SANs, validity and days left, key,
//! signature algorithm, SHA-256 fingerprint); and the outcome as Sendmail's verify word:
//!
//!   OK        the chain verified against the trust anchors and is valid for the host
//!             (or --servername); a server certificate that is itself in the trust
//!             store is accepted as OpenSSL accepts it, even with CA:TRUE
//!   FAIL      a certificate was presented and did not verify (the reason is given:
//!             unknown_issuer, self_signed, expired, not_yet_valid, name_mismatch, …);
//!             the handshake still completes, as Sendmail's does
//!   NO        the server presented no certificate
//!   NONE      the server does not offer STARTTLS
//!   TEMP      4xx (e.g. 454) to STARTTLS
//!   PROTOCOL  SMTP protocol error (garbage, 5xx to STARTTLS)
//!   SOFTWARE  the TLS handshake failed
//!
//! Unlike Sendmail's ${verify}, which only judges the chain, OK here also needs the
//! name to match (a mismatch is FAIL with reason name_mismatch); check an address with
//! --servername MX-NAME.
//!
//! Every connect, read and write has --timeout, a whole check --max-time (waiting for
//! a per-address slot not counted); name resolution uses the system resolver and has no
//! timeout of its own.
//!
//! HOST may be a name, an IPv4 address or [IPv6]. The port is 25, 587 with
//! --submission, 465 with --smtps (TLS from the first byte), unless given.
//!
//! --protocols probes SSLv3, TLS 1.0, 1.1, 1.2 and 1.3 with hand-built ClientHellos
//! (rustls cannot speak the old versions and mailtls does not link OpenSSL; the
//! server's ServerHello or alert is read without any cryptography, as sslscan does).
//! --ciphers also lists the accepted suites per version (every suite in mailtls's
//! table of ~100 is offered), flagging NULL, anonymous, EXPORT, RC4, DES and 3DES as
//! weak and CBC-SHA1 as informational. Each probe is one more connection. A probe that
//! gets no TLS answer (`421 too many connections`, a timeout) is retried after a back-off
//! (0.5 s, doubling, 4 times at most) and later probes are spaced; a version still without
//! an answer is "not tested" (JSON `"accepted": null`), never "refused"; an untested
//! version or a cipher enumeration cut short (by --max-time or refusals) fails its step
//! with an `incomplete` error finding, and --min-protocol cannot pass while a version
//! below it is untested.
//!
//! Exit status: 0 every target passed (warnings allowed), 1 a target failed (no
//! STARTTLS, TEMP/PROTOCOL/SOFTWARE, verify FAIL unless --allow-unverified, a protocol
//! below --min-protocol, unreachable, timeout, 421), 2 usage or I/O error.
//!
//! Output schema (--json: one document; --ndjson: one record per line, each with the
//! "schema" key), version "mailtls.check/1":
//!
//!   {"schema": "mailtls.check/1", "results": [RECORD, …]}
//!   RECORD = {
//!     "target": "mx.example.test:25", "host": "mx.example.test", "port": 25,
//!     "ip": "192.0.2.1" | null, "mode": "starttls" | "smtps",
//!     "status": "pass" | "warn" | "fail" | "error",
//!     "verify": "OK" | "FAIL" | "NO" | "NONE" | "TEMP" | "PROTOCOL" | "SOFTWARE" | null,
//!     "verify_failure": {"reason": "unknown_issuer" | "self_signed" | "expired" |
//!         "not_yet_valid" | "name_mismatch" | "revoked" | "bad_signature" |
//!         "invalid_purpose" | "no_trust_anchors" | "other", "detail": "…"}?,
//!     "trust": "system (146 roots)",
//!     "banner": "220 …"?, "extensions": ["STARTTLS", "SIZE 10240000", …],
//!     "extensions_tls": [...], "starttls_reply": "220 2.0.0 Ready to start TLS"?,
//!     "tls": {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
//!             "cipher_iana": "TLS_AES_256_GCM_SHA384", "bits": {"secret": 256, "alg": 256},
//!             "group": "X25519"?}?,
//!     "client_certificate": false,
//!     "chain": [{"subject", "issuer", "sans": [], "not_before", "not_after" (RFC 3339),
//!                "days_left", "key_type", "key_bits", "signature", "sha256",
//!                "self_signed"}],
//!     "protocols": [{"version": "TLSv1", "accepted": false | true | null (not tested),
//!                    "detail": "alert protocol_version" | "not tested: …"}]?,
//!     "ciphers": [{"version", "cipher", "iana", "code": "0xc030", "bits", "weakness"?}]?,
//!     "steps": [{"step": "connect" | "banner" | "ehlo" | "helo" | "starttls" | "handshake" |
//!                "ehlo_tls" | "quit" | "resolve" | "protocols" | "ciphers",
//!                "ms": 0.42, "ok": true, "detail": "…"}],
//!     "findings": [{"severity": "info" | "warn" | "fail" | "error", "code": "no_starttls" |
//!                   "starttls_temp" | "handshake_failed" | "verify_failed" | "expiring" |
//!                   "min_protocol" | "weak_cipher" | "deprecated_protocol" | "unreachable" |
//!                   "timeout" | "service_unavailable" | "smtp_protocol" |
//!                   "starttls_injection" | "helo_only" | "clear_text_chain" |
//!                   "incomplete" | "ours_no_tls", "text": "…"}],
//!     "elapsed_ms": 12.3
//!   }
//! ```
//!
//! With `--from-report posture.json` (a `mailtls scan` snapshot) every outbound peer
//! is checked and its RECORD gains `"log": {"peer", "tls_sessions", "tls_messages",
//! "plaintext_messages", "versions", "ciphers", "verify"}`: what the logs saw, beside
//! the live result.
//!
//! A target is checked at the first of its addresses that accepts the connection, as an
//! MTA would; with `--all-ips` at every address, one record per target and address.
//!
//! `--domain DOMAIN` checks a mail domain (MX walk, DANE, MTA-STS, TLS-RPT) instead of
//! hosts: see `check_domain.rs` and [`crate::domain`].
//!
//! A record is printed whole, in the order the targets were given, however many checks
//! run at once (`-j`); at most `--per-ip` connections go to one address at a time.

use super::Error;
use crate::model::text::terminal;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::exit;
use crate::model::{Cipher, Hist, TlsVersion, Verify};
use crate::probe::{self, CheckResult, IpLimiter, Mode, Options, SCHEMA, Status, Target};
use crate::report::json::Snapshot;

/// The part of the usage text above that `--help` shows after the flags.
const AFTER_HELP: &str = "\
Examples:
  mailtls check mx.example.org
  mailtls check mx1.example.org:587 --submission --ehlo client.example.net
  mailtls check --targets partners.txt --json
  mailtls check --from-report posture.json     # the outbound peers of a scan
  mailtls check 127.0.0.1 --format ndjson      # our own server: what breaks it

Verify words (Sendmail's ${verify}):
  OK        the chain verified against the trust anchors and is valid for the host
            (or --servername): unlike Sendmail's ${verify}, the name is checked too
  FAIL      a certificate was presented and did not verify (reason: unknown_issuer,
            self_signed, expired, not_yet_valid, name_mismatch, ...); the handshake
            still completes, as Sendmail's does
  NO        the server presented no certificate
  NONE      the server does not offer STARTTLS
  TEMP      4xx (e.g. 454) to STARTTLS
  PROTOCOL  SMTP protocol error (garbage, 5xx to STARTTLS)
  SOFTWARE  the TLS handshake failed

--protocols and --ciphers use hand-built ClientHellos: rustls cannot negotiate SSLv3,
TLS 1.0 or 1.1, and mailtls does not link OpenSSL; the server's ServerHello or alert is
read without cryptography, as sslscan does. A probe without a TLS answer (421 too many
connections, a timeout) is retried after a back-off and later probes are spaced; what
still got no answer is not tested (never refused), and fails the check.

Exit status: 0 all targets passed (warnings allowed); 1 a target failed (no STARTTLS,
TEMP/PROTOCOL/SOFTWARE, verify FAIL unless --allow-unverified, protocol below
--min-protocol, unreachable, timeout, 421); 2 usage or I/O error.

--domain DOMAIN checks a mail domain as a DANE- and MTA-STS-aware sender would: the MX
hosts in preference order and every A/AAAA address (each checked as above, with the MX
name as SNI, opportunistically), DANE (the _25._tcp.MX TLSA records, DNSSEC-validated by
mailtls itself: secure / insecure / bogus; usages 2 DANE-TA and 3 DANE-EE, selectors 0/1,
matching types 0/1/2, matched against the presented chain; Sendmail's TRUSTED, DANE_FAIL,
DANE_NOTLS, DANE_TEMP), MTA-STS (the _mta-sts TXT record, the policy over HTTPS with a
verified certificate, mode enforce/testing/none, each MX against the mx patterns) and
the TLS-RPT record (_smtp._tls). One verdict per domain; exit 1 on a DANE failure, an MX
failing an enforced MTA-STS policy, a bogus MX RRset, a domain that does not exist
(NXDOMAIN), a DNS failure or an unreachable MX. Each DNS lookup gets --timeout; when our
own resolver fails (no answer in time, REFUSED, no DNSSEC that validates at the trust
anchor) no further lookup is sent, the report says the failure is ours (resolver_error,
finding resolver_failed) and claims nothing about the domain, and the exit status is 2.
--resolver, --trust-anchor, --smtp-port and --mta-sts-port are lab options (a test
zone's key as anchor, servers on other ports). With --domain, --json adds
\"domains\": [DOMAIN...] and --ndjson one {\"schema\", \"domain\": DOMAIN} line per
domain after its RECORDs. DOMAIN fields: domain status policy resolver trust_anchor
mx_dnssec mx_note mx[{host preference addresses_dnssec ips error tlsa{name dnssec records
dane note} sts_pattern addresses[{ip verify dane{verify matched matched_cert detail}
mta_sts}]}] mta_sts{txt id url policy{mode mx max_age} error{stage detail}
would_deliver} tls_rpt{present valid rua error} findings[{severity code text}]
resolver_error elapsed_ms.

--json prints one document {\"schema\": \"mailtls.check/1\", \"results\": [RECORD...]};
--ndjson one RECORD per line with the \"schema\" key. RECORD fields: target host port ip
mode status verify verify_failure trust banner extensions extensions_tls starttls_reply
tls{version cipher cipher_iana bits{secret alg} group} client_certificate
chain[{subject issuer sans not_before not_after days_left key_type key_bits signature
sha256 self_signed}] protocols[{version accepted detail}] ciphers[{version cipher iana
code bits weakness}] steps[{step ms ok detail}] findings[{severity code text}] elapsed_ms.";

/// Flags of `mailtls check`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    // The text is --help's (clap shows it verbatim): rustdoc must not read it as links/HTML.
    #[allow(rustdoc::broken_intra_doc_links)]
    /// Servers to check: HOST, HOST:PORT, [IPv6]:PORT.
    pub targets: Vec<String>,
    /// Read more targets from FILE, one per line (# starts a comment).
    #[arg(long = "targets", value_name = "FILE")]
    pub targets_file: Option<PathBuf>,
    /// Check every outbound peer of a posture snapshot (`mailtls scan` JSON,
    /// mailtls.posture/2 or /1) and show what the logs saw beside the live result.
    #[arg(long, value_name = "POSTURE_JSON")]
    pub from_report: Option<PathBuf>,
    /// Port for targets that name none (default 25, 587 with --submission, 465 with --smtps).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Default port 587 (message submission).
    #[arg(long, conflicts_with = "smtps")]
    pub submission: bool,
    /// Implicit TLS (SMTPS, default port 465): the handshake comes before the banner.
    #[arg(long)]
    pub smtps: bool,
    /// Name to send in EHLO (default: this host's name).
    #[arg(long, value_name = "NAME")]
    pub ehlo: Option<String>,
    /// Seconds allowed for each connect, read and write.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Seconds allowed for one target's whole check, probes included.
    #[arg(long, value_name = "SECS", default_value_t = 120.0)]
    pub max_time: f64,
    /// Trust the CA certificates in this PEM file (Sendmail's CACertFile).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    // The text is --help's (clap shows it verbatim): rustdoc must not read it as links/HTML.
    #[allow(rustdoc::invalid_html_tags)]
    /// Trust the CA certificates in this directory (Sendmail's CACertPath, <hash>.0 links).
    #[arg(long, value_name = "DIR")]
    pub ca_path: Option<PathBuf>,
    /// Present this client certificate (PEM; Sendmail's ClientCertFile).
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The unencrypted key of --client-cert (Sendmail's ClientKeyFile).
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Verify the certificate against NAME (and send it as SNI) instead of the host.
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,
    /// Offer only TLS 1.2 in the main handshake.
    #[arg(long, conflicts_with = "tls13")]
    pub tls12: bool,
    /// Offer only TLS 1.3 in the main handshake.
    #[arg(long)]
    pub tls13: bool,
    /// Find which of SSLv3, TLS 1.0, 1.1, 1.2, 1.3 the server accepts.
    #[arg(long)]
    pub protocols: bool,
    /// List the accepted cipher suites per protocol (implies --protocols).
    #[arg(long)]
    pub ciphers: bool,
    /// Warn when the server certificate expires within DAYS.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub expiry_warn_days: i64,
    /// Fail when the server negotiates or accepts a protocol older than this (e.g. TLSv1.2).
    #[arg(long, value_name = "VERSION")]
    pub min_protocol: Option<String>,
    /// A certificate that does not verify (verify=FAIL) only warns (opportunistic TLS).
    #[arg(long)]
    pub allow_unverified: bool,
    /// One JSON document with every result (the same as --format json).
    #[arg(long, conflicts_with = "ndjson")]
    pub json: bool,
    /// One JSON record per line and target (the same as --format ndjson).
    #[arg(long)]
    pub ndjson: bool,
    /// text (default), json (one document) or ndjson (one record per line).
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with_all = ["json", "ndjson"])]
    pub format: Option<CheckFormat>,
    /// Colour the text: auto (when stdout is a terminal and NO_COLOR is unset), always,
    /// never.
    #[arg(long, value_enum, default_value_t, value_name = "WHEN")]
    pub color: crate::report::ColorWhen,
    /// The servers are ours: when one offers no STARTTLS, say what usually breaks it on
    /// our side and how to find out (`mailtls doctor`). Implied for loopback and this
    /// machine's own addresses.
    #[arg(long)]
    pub ours: bool,
    /// Check every address a name resolves to (one record each), not only the first
    /// that answers.
    #[arg(long)]
    pub all_ips: bool,
    /// Targets checked at once.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,
    /// Connections at once to one server address.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub per_ip: usize,
    /// Check a mail domain: its MX hosts (every address), DANE (TLSA, DNSSEC-validated),
    /// MTA-STS and TLS-RPT; one verdict per domain. Repeatable.
    #[arg(long = "domain", value_name = "DOMAIN", conflicts_with_all = ["targets", "targets_file", "from_report", "servername", "smtps", "submission", "port", "all_ips"])]
    pub domains: Vec<String>,
    /// With --domain: the DNS server to ask (IP or IP:PORT; default: resolv.conf's).
    /// mailtls validates DNSSEC itself, so any recursive resolver that passes RRSIGs will do.
    #[arg(long, value_name = "IP[:PORT]")]
    pub resolver: Option<String>,
    /// With --domain: DNSSEC trust anchors, DNSKEY records in zone-file form, instead of
    /// the IANA root keys (lab option: a test zone's own key).
    #[arg(long, value_name = "FILE")]
    pub trust_anchor: Option<PathBuf>,
    /// With --domain: the MX hosts' SMTP port, also used in the TLSA name _PORT._tcp
    /// (lab option; real MX hosts listen on 25).
    #[arg(long, value_name = "PORT", default_value_t = 25)]
    pub smtp_port: u16,
    // The text is --help's (clap shows it verbatim): rustdoc must not read it as links/HTML.
    #[allow(rustdoc::bare_urls)]
    /// With --domain: the port of https://mta-sts.DOMAIN/ (lab option; real policy
    /// servers listen on 443). The policy's certificate is verified against --ca-file /
    /// --ca-path when given, else the system roots.
    #[arg(long, value_name = "PORT", default_value_t = 443)]
    pub mta_sts_port: u16,
}

/// `check --format`: text for people, one JSON document, or one JSON record per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Ndjson,
}

impl Args {
    /// The output format, whichever flag chose it (`--json` and `--ndjson` are aliases).
    pub fn output(&self) -> CheckFormat {
        match self.format {
            Some(f) => f,
            None if self.json => CheckFormat::Json,
            None if self.ndjson => CheckFormat::Ndjson,
            None => CheckFormat::Text,
        }
    }
}

/// Runs the checks and prints the results.
pub fn run(args: &Args) -> Result<u8, Error> {
    if !args.domains.is_empty() {
        return super::check_domain::run(args);
    }
    let domain_only = [
        ("--resolver", args.resolver.is_some()),
        ("--trust-anchor", args.trust_anchor.is_some()),
        ("--smtp-port", args.smtp_port != 25),
        ("--mta-sts-port", args.mta_sts_port != 443),
    ];
    if let Some((flag, _)) = domain_only.iter().find(|(_, given)| *given) {
        return Err(Error::Usage(format!("{flag} only applies with --domain")));
    }
    let (targets, logs, opts) = prepare(args).map_err(Error::Usage)?;
    execute(args, &targets, &logs, &opts)
}

/// What the logs said about a peer's outbound sessions, shown beside the live check.
#[derive(Debug, Clone, Serialize)]
pub struct LogSide {
    /// The posture key the target came from.
    pub peer: String,
    pub tls_sessions: u64,
    pub tls_messages: u64,
    pub plaintext_messages: u64,
    pub versions: Hist<TlsVersion>,
    pub ciphers: Hist<Cipher>,
    pub verify: Hist<Verify>,
}

/// Outbound peers of a posture snapshot, as targets with what the logs saw.
fn from_report(path: &Path) -> Result<Vec<(String, LogSide)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let snap: Snapshot = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a posture snapshot: {e}", path.display()))?;
    if !snap.schema.starts_with("mailtls.posture/") {
        return Err(format!(
            "{}: schema {:?} is not mailtls.posture",
            path.display(),
            snap.schema
        ));
    }
    Ok(snap
        .posture
        .peers
        .into_values()
        .filter(|p| !p.outbound.is_empty())
        .map(|p| {
            let o = p.outbound;
            let side = LogSide {
                peer: p.peer.clone(),
                tls_sessions: o.tls_sessions,
                tls_messages: o.tls_messages,
                plaintext_messages: o.plaintext_messages,
                versions: o.versions,
                ciphers: o.ciphers,
                verify: o.verify,
            };
            (p.peer, side)
        })
        .collect())
}

/// Targets, what the logs saw of each (with --from-report), and the check options.
type Prepared = (Vec<Target>, Vec<Option<LogSide>>, Options);

fn prepare(args: &Args) -> Result<Prepared, String> {
    let (mode, default_port) = if args.smtps {
        (Mode::Smtps, 465)
    } else if args.submission {
        (Mode::Starttls, 587)
    } else {
        (Mode::Starttls, 25)
    };
    let port = args.port.unwrap_or(default_port);
    let mut raw: Vec<String> = args.targets.clone();
    if let Some(path) = &args.targets_file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        raw.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    let mut logs: Vec<Option<LogSide>> = vec![None; raw.len()];
    if let Some(path) = &args.from_report {
        for (peer, side) in from_report(path)? {
            raw.push(peer);
            logs.push(Some(side));
        }
    }
    if raw.is_empty() {
        return Err("no target given (HOST[:PORT], --targets FILE or --from-report FILE)".into());
    }
    let targets = raw
        .iter()
        .map(|t| Target::parse(t, port))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let opts = options(args, mode)?;
    Ok((targets, logs, opts))
}

/// The probe options from the flags (shared with `--domain`).
pub(super) fn options(args: &Args, mode: Mode) -> Result<Options, String> {
    let secs = |s: f64, what: &str| {
        Duration::try_from_secs_f64(s)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("{what} must be a positive number of seconds"))
    };
    let trust = probe::tls::load_trust(args.ca_file.as_deref(), args.ca_path.as_deref())
        .map_err(|e| e.to_string())?;
    let client_auth = match (&args.client_cert, &args.client_key) {
        (Some(c), Some(k)) => Some(probe::tls::load_client_auth(c, k).map_err(|e| e.to_string())?),
        _ => None,
    };
    let min_protocol = match &args.min_protocol {
        Some(v) => match TlsVersion::parse(v) {
            TlsVersion::Other(_) | TlsVersion::Legacy => {
                return Err(format!(
                    "--min-protocol {v}: use SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3"
                ));
            }
            v => Some(v),
        },
        None => None,
    };
    let opts = Options {
        mode,
        ehlo: args.ehlo.clone().unwrap_or_else(local_name),
        timeout: secs(args.timeout, "--timeout")?,
        max_time: secs(args.max_time, "--max-time")?,
        trust,
        client_auth,
        servername: args.servername.clone(),
        versions: probe::tls::versions(args.tls12, args.tls13),
        protocols: args.protocols || args.ciphers,
        ciphers: args.ciphers,
        expiry_warn_days: args.expiry_warn_days,
        min_protocol,
        require_verify: !args.allow_unverified,
        limiter: Some(IpLimiter::new(args.per_ip)),
    };
    Ok(opts)
}

/// This host's name for EHLO: what the kernel says, else `localhost`.
fn local_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// One record: the live result, and with --from-report what the logs saw.
#[derive(Serialize)]
struct Record<'a> {
    #[serde(flatten)]
    result: &'a CheckResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<&'a LogSide>,
}

/// One NDJSON line: the schema tag with the record.
#[derive(Serialize)]
struct Tagged<'a> {
    schema: &'static str,
    #[serde(flatten)]
    record: Record<'a>,
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    results: Vec<Record<'a>>,
}

fn execute(
    args: &Args,
    targets: &[Target],
    logs: &[Option<LogSide>],
    opts: &Options,
) -> Result<u8, Error> {
    let jobs = args.jobs.clamp(1, 64).min(targets.len());
    let next = Arc::new(Mutex::new(0usize));
    let (tx, rx) = mpsc::channel::<(usize, Vec<CheckResult>)>();
    let results = std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let next = Arc::clone(&next);
            scope.spawn(move || {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(t) = targets.get(i) else { break };
                    let mut results = if args.all_ips {
                        probe::check_each_address(t, opts)
                    } else {
                        vec![probe::check(t, opts)]
                    };
                    for r in &mut results {
                        if args.ours || r.ip.is_some_and(probe::is_local_address) {
                            probe::explain_ours(r);
                        }
                    }
                    if tx.send((i, results)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Print in the order given, each record whole, as soon as its turn comes.
        let mut pending: Vec<Option<Vec<CheckResult>>> = vec![None; targets.len()];
        let mut printed = 0;
        let mut all: Vec<(usize, CheckResult)> = Vec::with_capacity(targets.len());
        let stdout = io::stdout();
        let color = args.color.enabled();
        let format = args.output();
        for (i, res) in rx {
            if let Some(slot) = pending.get_mut(i) {
                *slot = Some(res);
            }
            while let Some(batch) = pending.get_mut(printed).and_then(Option::take) {
                let log = logs.get(printed).and_then(Option::as_ref);
                for res in batch {
                    let mut out = stdout.lock();
                    let written = if format == CheckFormat::Json {
                        Ok(())
                    } else if format == CheckFormat::Ndjson {
                        let record = Record { result: &res, log };
                        serde_json::to_string(&Tagged {
                            schema: SCHEMA,
                            record,
                        })
                        .map_err(io::Error::other)
                        .and_then(|line| writeln!(out, "{line}"))
                    } else {
                        write_text(&mut out, &res, log, color)
                    };
                    let _ = written.and_then(|()| out.flush());
                    all.push((printed, res));
                }
                printed += 1;
            }
        }
        all
    });
    if args.output() == CheckFormat::Json {
        let records = results
            .iter()
            .map(|(i, result)| Record {
                result,
                log: logs.get(*i).and_then(Option::as_ref),
            })
            .collect();
        let doc = Document {
            schema: SCHEMA,
            results: records,
        };
        super::print_json(&doc)?;
    }
    Ok(if results.iter().any(|(_, r)| r.failed()) {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

pub(super) fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

pub(super) fn status_word(s: Status, color: bool) -> String {
    match s {
        Status::Pass => paint("PASS", "32", color),
        Status::Warn => paint("WARN", "33", color),
        Status::Fail => paint("FAIL", "31", color),
        Status::Error => paint("ERROR", "31;1", color),
    }
}

/// The readable report of one target. Everything the server chose (replies, certificate
/// names, error texts) and every log-derived name goes through [`terminal`] (`t` here).
pub(super) fn write_text(
    out: &mut dyn Write,
    r: &CheckResult,
    log: Option<&LogSide>,
    color: bool,
) -> io::Result<()> {
    let t = terminal;
    let ip = r.ip.map(|ip| format!(" [{ip}]")).unwrap_or_default();
    let mode = match r.mode {
        Mode::Starttls => "STARTTLS",
        Mode::Smtps => "SMTPS",
    };
    writeln!(
        out,
        "{}{ip} ({mode}): {}",
        t(&r.target),
        status_word(r.status, color)
    )?;
    for s in &r.steps {
        let mark = if s.ok { " " } else { "!" };
        let detail: String = s.detail.chars().take(110).collect();
        let detail = t(&detail);
        writeln!(
            out,
            "  {mark} {:<14} {:>9.1} ms  {detail}",
            s.step.label(),
            s.ms
        )?;
    }
    if let Some(v) = &r.verify {
        let word = match v {
            Verify::Ok => paint("OK", "32", color),
            other => paint(other.as_str(), "31", color),
        };
        let why = r
            .verify_failure
            .as_ref()
            .map(|f| format!(" ({}: {})", f.reason.label(), t(&f.detail)))
            .unwrap_or_default();
        writeln!(out, "  verify={word}{why}")?;
    }
    if let Some(n) = &r.tls {
        writeln!(
            out,
            "  version={} cipher={} bits={}/{}{}",
            t(&n.version.to_string()),
            t(n.cipher.as_str()),
            n.bits.alg.unwrap_or(0),
            n.bits.secret.unwrap_or(0),
            n.group
                .as_deref()
                .map(|g| format!(" group={}", t(g)))
                .unwrap_or_default()
        )?;
        if n.cipher_iana != n.cipher.as_str() {
            writeln!(out, "  IANA name {}", t(&n.cipher_iana))?;
        }
    }
    if !r.extensions.is_empty() {
        writeln!(out, "  extensions: {}", t(&r.extensions.join(", ")))?;
    }
    if !r.extensions_tls.is_empty() && r.extensions_tls != r.extensions {
        writeln!(
            out,
            "  extensions over TLS: {}",
            t(&r.extensions_tls.join(", "))
        )?;
    }
    writeln!(
        out,
        "  trust: {}{}",
        r.trust,
        if r.client_certificate {
            ", client certificate presented"
        } else {
            ""
        }
    )?;
    for (i, c) in r.chain.iter().enumerate() {
        writeln!(out, "  cert {i}: {}", t(&c.subject))?;
        writeln!(
            out,
            "         issuer  {}{}",
            t(&c.issuer),
            if c.self_signed { " (self-signed)" } else { "" }
        )?;
        if !c.sans.is_empty() {
            writeln!(out, "         SANs    {}", t(&c.sans.join(", ")))?;
        }
        writeln!(
            out,
            "         valid   {} .. {} ({})",
            c.not_before,
            c.not_after,
            if c.days_left < 0 {
                format!(
                    "expired {} ago",
                    crate::model::text::count(c.days_left.unsigned_abs(), "day", "days")
                )
            } else {
                format!(
                    "{} left",
                    crate::model::text::count(c.days_left.unsigned_abs(), "day", "days")
                )
            }
        )?;
        writeln!(
            out,
            "         key     {} {} bits, {}",
            t(&c.key_type.to_string()),
            c.key_bits,
            t(&c.signature.to_string())
        )?;
        writeln!(out, "         sha256  {}", c.sha256)?;
    }
    if let Some(ps) = &r.protocols {
        for p in ps {
            let word = match p.accepted {
                Some(true) => "accepted",
                Some(false) => "refused",
                None => "not tested",
            };
            writeln!(
                out,
                "  {:<8} {word:<8}  {}",
                p.version.label(),
                t(&p.detail)
            )?;
        }
        writeln!(
            out,
            "  (probed with hand-built ClientHellos; rustls cannot negotiate SSLv3/TLS 1.0/1.1 itself)"
        )?;
    }
    if let Some(cs) = &r.ciphers {
        for c in cs {
            let weak = c
                .weakness
                .map(|w| format!("  [{}]", w.label()))
                .unwrap_or_default();
            writeln!(
                out,
                "  {:<8} {:<34} {:>3} bits{weak}",
                c.version.label(),
                c.cipher.as_str(),
                c.bits.secret.unwrap_or(0)
            )?;
        }
    }
    for f in &r.findings {
        // Long findings (the likely causes of `ours_no_tls`) wrapped for the terminal.
        let lines = crate::model::text::wrap(&t(&f.text), 90);
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                writeln!(out, "  {}: {line}", f.severity.label())?;
            } else {
                writeln!(out, "      {line}")?;
            }
        }
    }
    if let Some(l) = log {
        let counts = |m: &mut dyn Iterator<Item = (&str, u64)>| {
            m.map(|(k, n)| format!("{} {n}", t(k)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            out,
            "  logs ({}): {}, {} over TLS, {} in clear text",
            t(&l.peer),
            crate::model::text::count(l.tls_sessions, "TLS session", "TLS sessions"),
            crate::model::text::count(l.tls_messages, "message", "messages"),
            l.plaintext_messages
        )?;
        writeln!(
            out,
            "        versions: {}; verify: {}",
            counts(&mut l.versions.words()),
            counts(&mut l.verify.words())
        )?;
        let live = r.tls.as_ref().map(|t| t.version.label().to_owned());
        let live_verify = r.verify.as_ref().map(|v| v.as_str().to_owned());
        writeln!(
            out,
            "        live: {} verify={}",
            live.as_deref().unwrap_or("no TLS"),
            live_verify.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(out, "  total {:.1} ms", r.elapsed_ms)?;
    writeln!(out)
}
