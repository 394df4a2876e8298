//! `doctor --log`: the recent STARTTLS errors of a mail log, each explained.
//!
//! Lines are read by the shared parser ([`crate::parse::parse_line`]); every
//! [`TlsErrorKind`] gets the explanation and the fix an administrator needs. Identical
//! errors are reported once with a count and their last line number.

use std::path::Path;
use std::sync::Arc;

use super::{Check, Finding, Report, Severity, finding};
use crate::model::{Direction, EventKind, Mta, TlsErrorKind};
use crate::parse::{LineOutcome, parse_line};

/// What an error kind means for the site, and what to do about it. On the client side
/// (`STARTTLS=client`) a broken local key or certificate only costs the client certificate.
pub fn explain_log(
    kind: TlsErrorKind,
    direction: Option<Direction>,
) -> (&'static str, &'static str) {
    if direction == Some(Direction::Outbound)
        && matches!(
            kind,
            TlsErrorKind::PrivateKey
                | TlsErrorKind::Certificate
                | TlsErrorKind::UnsafeFile
                | TlsErrorKind::MissingFile
        )
    {
        return (
            "the client key or certificate could not be used: sendmail delivers without a client certificate",
            "check ClientCertFile/ClientKeyFile with mailtls doctor --cf …",
        );
    }
    match kind {
        TlsErrorKind::PrivateKey => (
            "the MTA could not load its private key (encrypted, not PEM, or not the certificate's key): it offers no STARTTLS",
            "run mailtls doctor --cf …; decrypt with openssl pkey or regenerate with mailtls config certs",
        ),
        TlsErrorKind::Certificate => (
            "the MTA could not load its certificate: it offers no STARTTLS",
            "check ServerCertFile / smtpd_tls_cert_file with mailtls doctor",
        ),
        TlsErrorKind::CaLocations => (
            "CACertFile/CACertPath could not be loaded: the server side of TLS is off",
            "check CACertFile with mailtls doctor",
        ),
        TlsErrorKind::UnsafeFile => (
            "sendmail refused a TLS file as unsafe (mode, owner, directory) or missing",
            "chmod 600 the key (or 640 group smmsp with DontBlameSendmail=GroupReadableKeyFile)",
        ),
        TlsErrorKind::MissingFile => (
            "a configured TLS file does not exist: the MTA offers no STARTTLS for that role",
            "fix the path (mailtls doctor --cf …) or install the file",
        ),
        TlsErrorKind::CertificateRejected => (
            "a peer rejected our certificate (expired, self-signed, unknown CA or wrong name)",
            "check our chain with mailtls check OURHOST",
        ),
        TlsErrorKind::CipherConfig => (
            "a cipher or DH setting was rejected: TLS is not set up for that role",
            "fix CipherList / tls ciphers in the configuration",
        ),
        TlsErrorKind::CipherIgnored => (
            "the cipher list was refused and ignored: TLS works with OpenSSL's default ciphers",
            "fix CipherList (openssl ciphers -v 'LIST') and restart the MTA",
        ),
        TlsErrorKind::DhParams => (
            "the DH parameter file could not be loaded: the MTA uses its built-in parameters",
            "fix or drop the DH parameter file setting",
        ),
        TlsErrorKind::Init => (
            "the TLS library did not initialise",
            "check the MTA's OpenSSL installation",
        ),
        TlsErrorKind::Handshake => (
            "a TLS handshake failed with a peer (protocol or cipher mismatch, or a scanner)",
            "compare protocols/ciphers with the peer (mailtls check HOST)",
        ),
        TlsErrorKind::Io => (
            "a TLS session broke off (timeout or reset)",
            "usually transient",
        ),
        TlsErrorKind::CertVerify => (
            "a peer certificate failed verification",
            "check CACertFile/CACertPath and the peer's chain",
        ),
        TlsErrorKind::Policy => (
            "a TLS policy rule rejected the session",
            "check access-map TLS_Srv/TLS_Clt entries",
        ),
        TlsErrorKind::Library => (
            "an OpenSSL error dump (see the lines around it)",
            "read with the neighbouring STARTTLS line",
        ),
        TlsErrorKind::NotOffered => (
            "TLS was required but not offered by the peer",
            "contact the peer or relax the requirement",
        ),
        TlsErrorKind::Dane => ("DANE/TLSA trouble", "check the peer's TLSA records"),
        TlsErrorKind::Shutdown => ("a TLS shutdown did not complete", "harmless on its own"),
        TlsErrorKind::Other => ("another TLS problem", "read the line"),
    }
}

pub(super) fn check(path: &Path, report: &mut Report) {
    report.examined.push(path.display().to_string());
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            report.push(finding(
                Severity::Error,
                Check::ConfigUnreadable,
                Some(path),
                format!(
                    "cannot read the log: {}",
                    crate::model::text::plain_error(&e)
                ),
                "the log cannot be explained".into(),
                None,
                None,
                None,
            ));
            return;
        }
    };
    let file: Arc<str> = Arc::from(path.display().to_string());
    // Identical errors (same kind, side and text) → count, last line number, last raw line.
    struct Seen {
        kind: TlsErrorKind,
        side: &'static str,
        direction: Option<Direction>,
        mta: Mta,
        text: String,
        count: usize,
        last: u64,
        raw: String,
    }
    let mut seen: Vec<Seen> = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let LineOutcome::Event(ev) = parse_line(raw, &file, line_no) else {
            continue;
        };
        let EventKind::TlsError(err) = &ev.kind else {
            continue;
        };
        let side = match err.direction {
            Some(Direction::Inbound) => "server",
            Some(Direction::Outbound) => "client",
            None => "",
        };
        let raw = String::from_utf8_lossy(raw).trim_end().to_owned();
        match seen
            .iter_mut()
            .find(|s| s.kind == err.kind && s.side == side && s.text == err.text)
        {
            Some(s) => {
                s.count += 1;
                s.last = line_no;
                s.raw = raw;
            }
            None => seen.push(Seen {
                kind: err.kind,
                side,
                direction: err.direction,
                mta: ev.mta,
                text: err.text.clone(),
                count: 1,
                last: line_no,
                raw,
            }),
        }
    }
    for s in seen {
        let (what, fix) = match s.mta {
            Mta::Exim => super::exim::explain_log(s.kind, s.direction),
            _ => None,
        }
        .unwrap_or_else(|| explain_log(s.kind, s.direction));
        let side = if s.side.is_empty() {
            String::new()
        } else {
            format!("{} side, ", s.side)
        };
        report.push(Finding {
            severity: if s.kind.is_local() {
                Severity::Error
            } else {
                Severity::Warning
            },
            check: Check::LogError,
            file: Some(path.to_path_buf()),
            problem: format!(
                "logged {}× ({side}last at line {}): {}",
                s.count, s.last, s.text
            ),
            effect: what.into(),
            kind: Some(s.kind),
            log_line: Some(s.raw),
            fix: Some(fix.into()),
        });
    }
}
