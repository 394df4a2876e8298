//! `doctor --log`: the recent STARTTLS errors of a mail log, each explained.
//!
//! Lines are read by the shared parser ([`crate::parse::parse_line`]); every
//! [`TlsErrorKind`] gets the explanation and the fix an administrator needs. Identical
//! errors are reported once with a count and their last line number.

use std::path::Path;
use std::sync::Arc;

use super::{Check, Finding, Report, Severity, finding};
use crate::event::{EventKind, TlsErrorKind};
use crate::parse::{LineOutcome, parse_line};

/// What an error kind means for the site, and what to do about it.
pub fn explain_log(kind: TlsErrorKind) -> (&'static str, &'static str) {
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
        TlsErrorKind::CipherConfig => (
            "a cipher or DH setting was rejected and ignored",
            "fix CipherList / tls ciphers in the configuration",
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
                format!("cannot read the log: {e}"),
                "the log cannot be explained".into(),
                None,
                None,
                None,
            ));
            return;
        }
    };
    let file: Arc<str> = Arc::from(path.display().to_string());
    // (kind, text) → (count, last line)
    let mut seen: Vec<(TlsErrorKind, String, usize, u64)> = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let LineOutcome::Event(ev) = parse_line(raw, &file, line_no) else {
            continue;
        };
        let EventKind::TlsError(err) = &ev.kind else {
            continue;
        };
        match seen
            .iter_mut()
            .find(|(k, t, _, _)| *k == err.kind && *t == err.text)
        {
            Some(entry) => {
                entry.2 += 1;
                entry.3 = line_no;
            }
            None => seen.push((err.kind, err.text.clone(), 1, line_no)),
        }
    }
    for (kind, text, count, last) in seen {
        let (what, fix) = explain_log(kind);
        report.push(Finding {
            severity: if kind.is_local() {
                Severity::Error
            } else {
                Severity::Warning
            },
            check: Check::LogError,
            file: Some(path.to_path_buf()),
            problem: format!("{count}× (last at line {last}): {text}"),
            effect: what.into(),
            kind: Some(kind),
            log_line: Some(text),
            fix: Some(fix.into()),
        });
    }
}
