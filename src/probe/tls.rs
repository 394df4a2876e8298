//! The TLS side of a check, on rustls: trust anchors, a verifier that *records* the
//! verdict instead of aborting, and the handshake itself with deadlines.
//!
//! A checker has to see servers with bad certificates: Sendmail itself completes the
//! handshake, logs `verify=FAIL` and delivers anyway (opportunistic TLS). So the
//! [`Recorder`] asks rustls' own WebPKI verifier for the real verdict (against the
//! system roots, `--ca-file` or `--ca-path`), keeps it, and lets the handshake go on.
//! Handshake signatures are still checked for real: only the chain verdict is deferred.

use std::fmt;
use std::fs;
use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
    SignatureScheme, StreamOwned, SupportedProtocolVersion,
};
use serde::Serialize;

use super::smtp::{Clock, TimedTcp};
use super::suites;
use crate::model::{Bits, Cipher, TlsVersion, Verify};

/// The trust anchors a check verifies against, and where they came from.
#[derive(Debug, Clone)]
pub struct Trust {
    pub roots: Arc<RootCertStore>,
    /// `system (N roots)`, `--ca-file PATH (N)`, … for the report.
    pub source: String,
}

/// Why trust anchors or a client certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: no PEM certificate found")]
    NoCertificate { path: PathBuf },
    #[error("{path}: no PEM private key found ({detail})")]
    NoKey { path: PathBuf, detail: String },
    #[error("client certificate and key do not fit together: {0}")]
    ClientAuth(String),
}

/// Loads the trust anchors: `--ca-file` (a PEM bundle) and/or `--ca-path` (a directory
/// such as Sendmail's CACertPath, whose `<hash>.0` links and any other PEM files are
/// read), else the system store, else the Mozilla roots compiled in.
pub fn load_trust(ca_file: Option<&Path>, ca_path: Option<&Path>) -> Result<Trust, LoadError> {
    let mut roots = RootCertStore::empty();
    let mut parts = Vec::new();
    if let Some(path) = ca_file {
        let certs = pem_certs(path)?;
        if certs.is_empty() {
            return Err(LoadError::NoCertificate { path: path.into() });
        }
        let (added, _) = roots.add_parsable_certificates(certs);
        parts.push(format!("--ca-file {} ({added})", path.display()));
    }
    if let Some(dir) = ca_path {
        let entries = fs::read_dir(dir).map_err(|source| LoadError::Io {
            path: dir.into(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        let mut added = 0;
        for f in files.iter().filter(|f| f.is_file()) {
            // Files that are not PEM certificates (CRLs, keys, READMEs) are skipped, as
            // OpenSSL's hashed-directory lookup would never match them either.
            if let Ok(certs) = pem_certs(f) {
                added += roots.add_parsable_certificates(certs).0;
            }
        }
        if added == 0 {
            return Err(LoadError::NoCertificate { path: dir.into() });
        }
        parts.push(format!("--ca-path {} ({added})", dir.display()));
    }
    if parts.is_empty() {
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        if added > 0 {
            parts.push(format!("system ({added} roots)"));
        } else {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            parts.push(format!("built-in Mozilla roots ({})", roots.len()));
        }
    }
    Ok(Trust {
        roots: Arc::new(roots),
        source: parts.join(", "),
    })
}

fn pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, LoadError> {
    let bytes = fs::read(path).map_err(|source| LoadError::Io {
        path: path.into(),
        source,
    })?;
    Ok(CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect())
}

/// A client certificate chain and its key (`--client-cert`, `--client-key`), the
/// ClientCertFile/ClientKeyFile pair Sendmail presents when it delivers.
pub struct ClientAuth {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientAuth({} certificates, key)", self.chain.len())
    }
}

impl Clone for ClientAuth {
    fn clone(&self) -> Self {
        ClientAuth {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// Loads `--client-cert` and `--client-key` (PEM; the key must be unencrypted, like the
/// `-nodes` key Sendmail needs).
pub fn load_client_auth(cert: &Path, key: &Path) -> Result<ClientAuth, LoadError> {
    let chain = pem_certs(cert)?;
    if chain.is_empty() {
        return Err(LoadError::NoCertificate { path: cert.into() });
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| LoadError::NoKey {
        path: key.into(),
        detail: e.to_string(),
    })?;
    Ok(ClientAuth {
        chain,
        key: key_der,
    })
}

/// Why the chain did not verify, in the words an administrator acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyReason {
    /// The chain does not lead to a trusted root.
    UnknownIssuer,
    /// A lone self-signed certificate that is not itself trusted.
    SelfSigned,
    Expired,
    NotYetValid,
    /// No SAN (or CN) matches the name we connected to.
    NameMismatch,
    Revoked,
    BadSignature,
    /// Not a TLS server certificate (extended key usage).
    InvalidPurpose,
    /// No trust anchors could be loaded at all.
    NoTrustAnchors,
    Other,
}

impl VerifyReason {
    /// The reason in words, for the text report.
    pub fn label(self) -> &'static str {
        match self {
            VerifyReason::UnknownIssuer => "unknown issuer",
            VerifyReason::SelfSigned => "self-signed",
            VerifyReason::Expired => "expired",
            VerifyReason::NotYetValid => "not yet valid",
            VerifyReason::NameMismatch => "name mismatch",
            VerifyReason::Revoked => "revoked",
            VerifyReason::BadSignature => "bad signature",
            VerifyReason::InvalidPurpose => "not a TLS server certificate",
            VerifyReason::NoTrustAnchors => "no trust anchors",
            VerifyReason::Other => "other",
        }
    }
}

/// A verification failure with rustls' own text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyFailure {
    pub reason: VerifyReason,
    pub detail: String,
}

/// Records the WebPKI verdict and lets the handshake finish.
#[derive(Debug)]
pub struct Recorder {
    inner: Option<Arc<WebPkiServerVerifier>>,
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    verdict: Mutex<Option<Result<(), rustls::Error>>>,
}

impl Recorder {
    pub fn new(trust: &Trust, provider: Arc<CryptoProvider>) -> Recorder {
        let inner = WebPkiServerVerifier::builder_with_provider(
            Arc::clone(&trust.roots),
            Arc::clone(&provider),
        )
        .build()
        .ok();
        Recorder {
            inner,
            roots: Arc::clone(&trust.roots),
            provider,
            verdict: Mutex::new(None),
        }
    }

    /// The recorded verdict: `None` when the server never presented a certificate.
    pub fn verdict(&self) -> Option<Result<(), rustls::Error>> {
        self.verdict.lock().ok().and_then(|v| v.clone())
    }
}

impl Recorder {
    /// OpenSSL (and so Sendmail) accepts a server certificate that is itself in the
    /// trust store even when it is a CA certificate — what `openssl req -x509` makes,
    /// and what many MTA set-up guides use. WebPKI refuses it as "CA used as end
    /// entity"; this applies OpenSSL's rule instead: trusted as is, if within its
    /// validity and valid for the name. `None` when the certificate is not a trust anchor.
    fn directly_trusted(
        &self,
        leaf: &CertificateDer<'_>,
        name: &ServerName<'_>,
        now: UnixTime,
    ) -> Option<Result<(), rustls::Error>> {
        let anchor = webpki::anchor_from_trusted_cert(leaf).ok()?;
        let trusted = self.roots.roots.iter().any(|r| {
            r.subject == anchor.subject
                && r.subject_public_key_info == anchor.subject_public_key_info
        });
        if !trusted {
            return None;
        }
        let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
        let t = i64::try_from(now.as_secs()).ok()?;
        let validity = cert.validity();
        if t > validity.not_after.timestamp() {
            return Some(Err(CertificateError::Expired.into()));
        }
        if t < validity.not_before.timestamp() {
            return Some(Err(CertificateError::NotValidYet.into()));
        }
        let ee = webpki::EndEntityCert::try_from(leaf).ok()?;
        Some(
            ee.verify_is_valid_for_subject_name(name)
                .map_err(|_| CertificateError::NotValidForName.into()),
        )
    }
}

/// WebPKI's "CA certificate used as end entity".
fn ca_as_end_entity(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::Other(o)) => matches!(
            o.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = match &self.inner {
            Some(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map(|_| ()),
            None => Err(rustls::Error::General("no trust anchors loaded".into())),
        };
        let verdict = match verdict {
            Err(e) if ca_as_end_entity(&e) && intermediates.is_empty() => self
                .directly_trusted(end_entity, server_name, now)
                .unwrap_or(Err(e)),
            v => v,
        };
        if let Ok(mut slot) = self.verdict.lock() {
            *slot = Some(verdict);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Maps the recorded verdict onto Sendmail's verify word. `self_signed_leaf` tells an
/// untrusted lone self-signed certificate from an unknown CA.
pub fn verdict_to_verify(
    verdict: Option<Result<(), rustls::Error>>,
    self_signed_leaf: bool,
) -> (Verify, Option<VerifyFailure>) {
    let err = match verdict {
        None => return (Verify::No, None),
        Some(Ok(())) => return (Verify::Ok, None),
        Some(Err(e)) => e,
    };
    let reason = match &err {
        rustls::Error::InvalidCertificate(c) => {
            match c {
                CertificateError::UnknownIssuer if self_signed_leaf => VerifyReason::SelfSigned,
                CertificateError::Other(_) if self_signed_leaf && ca_as_end_entity(&err) => {
                    VerifyReason::SelfSigned
                }
                CertificateError::UnknownIssuer => VerifyReason::UnknownIssuer,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    VerifyReason::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    VerifyReason::NotYetValid
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => VerifyReason::NameMismatch,
                CertificateError::Revoked => VerifyReason::Revoked,
                CertificateError::BadSignature => VerifyReason::BadSignature,
                CertificateError::InvalidPurpose
                | CertificateError::InvalidPurposeContext { .. } => VerifyReason::InvalidPurpose,
                _ => VerifyReason::Other,
            }
        }
        rustls::Error::General(m) if m.contains("trust anchors") => VerifyReason::NoTrustAnchors,
        _ => VerifyReason::Other,
    };
    (
        Verify::Fail,
        Some(VerifyFailure {
            reason,
            detail: plain_words(&err, reason),
        }),
    )
}

/// A verification failure in an administrator's words: "certificate issued by an unknown
/// CA", "certificate expired on 2026-11-01 (5 days ago)", "certificate not valid for
/// mx.example.org; it names www.example.org", never rustls' enum names (`UnknownIssuer`,
/// `DnsName("…")`). Errors without a sentence of their own keep rustls' text.
pub fn plain_words(err: &rustls::Error, reason: VerifyReason) -> String {
    let date = |t: &UnixTime| {
        chrono::DateTime::from_timestamp(i64::try_from(t.as_secs()).unwrap_or(i64::MAX), 0)
            .map_or_else(
                || "?".to_owned(),
                |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
            )
    };
    let days = |a: &UnixTime, b: &UnixTime| a.as_secs().abs_diff(b.as_secs()) / 86_400;
    let c = match err {
        rustls::Error::InvalidCertificate(c) => c,
        rustls::Error::General(m) if reason == VerifyReason::NoTrustAnchors => {
            return format!("no trust anchors could be loaded ({m})");
        }
        other => return other.to_string(),
    };
    match (reason, c) {
        (VerifyReason::SelfSigned, _) => {
            "self-signed certificate that is not in the trust store".to_owned()
        }
        (_, CertificateError::UnknownIssuer) => {
            "certificate issued by an unknown CA (the chain does not lead to a trusted root; an intermediate may be missing)".to_owned()
        }
        (_, CertificateError::ExpiredContext { time, not_after }) => format!(
            "certificate expired on {} ({} ago)",
            date(not_after),
            crate::model::text::count(days(time, not_after), "day", "days")
        ),
        (_, CertificateError::Expired) => "certificate expired".to_owned(),
        (_, CertificateError::NotValidYetContext { time, not_before }) => format!(
            "certificate not valid before {} (in {})",
            date(not_before),
            crate::model::text::count(days(not_before, time), "day", "days")
        ),
        (_, CertificateError::NotValidYet) => "certificate not valid yet".to_owned(),
        (_, CertificateError::NotValidForNameContext { expected, presented }) => {
            let names: Vec<String> = presented.iter().map(|n| unwrap_name(n)).collect();
            format!(
                "certificate not valid for {}; it names {}",
                expected.to_str(),
                if names.is_empty() {
                    "no host (no subject alternative name)".to_owned()
                } else {
                    names.join(", ")
                }
            )
        }
        (_, CertificateError::NotValidForName) => {
            "certificate not valid for the name connected to".to_owned()
        }
        (_, CertificateError::Revoked) => "certificate revoked".to_owned(),
        (_, CertificateError::BadSignature) => "a signature in the chain does not verify".to_owned(),
        (_, CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. }) => {
            "certificate not issued for TLS servers (extended key usage)".to_owned()
        }
        (_, CertificateError::BadEncoding) => "certificate is not valid DER".to_owned(),
        _ => err.to_string(),
    }
}

/// `mx.example.org` from webpki's `DnsName("mx.example.org")` (its names come as Debug
/// text), `192.0.2.1` from `IpAddress(…)`; anything else as it is.
fn unwrap_name(n: &str) -> String {
    let inner = n
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(n);
    inner.trim_matches('"').to_owned()
}

/// The protocol versions rustls may offer.
pub fn versions(only12: bool, only13: bool) -> Vec<&'static SupportedProtocolVersion> {
    match (only12, only13) {
        (true, false) => vec![&rustls::version::TLS12],
        (false, true) => vec![&rustls::version::TLS13],
        _ => vec![&rustls::version::TLS13, &rustls::version::TLS12],
    }
}

/// A client configuration whose certificate verdict lands in `recorder`.
pub fn client_config(
    provider: Arc<CryptoProvider>,
    recorder: Arc<Recorder>,
    client_auth: Option<&ClientAuth>,
    versions: &[&'static SupportedProtocolVersion],
) -> Result<Arc<ClientConfig>, LoadError> {
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| LoadError::ClientAuth(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(recorder);
    let config = match client_auth {
        Some(a) => builder
            .with_client_auth_cert(a.chain.clone(), a.key.clone_key())
            .map_err(|e| LoadError::ClientAuth(e.to_string()))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Runs the TLS handshake on `tcp`, every read and write under `clock`.
pub fn handshake(
    tcp: TcpStream,
    name: ServerName<'static>,
    config: Arc<ClientConfig>,
    clock: &Clock,
) -> Result<StreamOwned<ClientConnection, TimedTcp>, io::Error> {
    let mut conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
    // Every socket read and write inside rustls' loops is armed from the clock, so a
    // handshake trickled a byte at a time still ends at the deadline.
    let mut sock = TimedTcp::new(tcp, *clock);
    while conn.is_handshaking() {
        let (rd, wr) = conn.complete_io(&mut sock)?;
        if rd == 0 && wr == 0 && conn.is_handshaking() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed during the handshake",
            ));
        }
    }
    // Push out our Finished (and a client certificate) now, so a server that rejects
    // them answers before the next SMTP command.
    while conn.wants_write() {
        conn.write_tls(&mut sock)?;
    }
    Ok(StreamOwned::new(conn, sock))
}

/// What the handshake settled on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negotiated {
    pub version: TlsVersion,
    /// OpenSSL's name, as Sendmail logs it.
    pub cipher: Cipher,
    pub cipher_iana: String,
    pub bits: Bits,
    /// Key-exchange group (`X25519`, `secp256r1`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// Reads the negotiated parameters off a finished connection.
pub fn negotiated(conn: &ClientConnection) -> Option<Negotiated> {
    let version = match conn.protocol_version()? {
        rustls::ProtocolVersion::TLSv1_3 => TlsVersion::Tls1_3,
        rustls::ProtocolVersion::TLSv1_2 => TlsVersion::Tls1_2,
        other => TlsVersion::Other(format!("{other:?}")),
    };
    let suite = conn.negotiated_cipher_suite()?.suite();
    let code = u16::from(suite);
    let (cipher, cipher_iana, bits) = match suites::lookup(code) {
        Some(s) => (s.cipher(), s.iana.to_owned(), s.bits()),
        None => {
            let name = format!("{suite:?}");
            (Cipher::new(&name), name, Bits::default())
        }
    };
    let group = conn
        .negotiated_key_exchange_group()
        .map(|g| format!("{:?}", g.name()));
    Some(Negotiated {
        version,
        cipher,
        cipher_iana,
        bits,
        group,
    })
}

/// The name rustls verifies the certificate against (and sends as SNI when it is a
/// DNS name): `--servername`, else the host we connect to.
pub fn server_name(name: &str) -> Option<ServerName<'static>> {
    ServerName::try_from(
        name.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
    .ok()
}

/// Text for a handshake error: rustls' description, without io::Error wrapping.
/// rustls names alerts and protocol faults by their Rust variants (`HandshakeFailure`,
/// `NoCipherSuitesInCommon`); they are said in words here (`the server sent the TLS alert
/// handshake failure`), and I/O errors without Rust's `(os error N)`.
pub fn error_text(e: &io::Error) -> String {
    let words = |debug: String| camel_to_words(&debug);
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::AlertReceived(a)) => {
            format!("the server sent the TLS alert {}", words(format!("{a:?}")))
        }
        Some(rustls::Error::PeerIncompatible(p)) => {
            format!(
                "the server and mailtls have no TLS in common: {}",
                words(format!("{p:?}"))
            )
        }
        Some(rustls::Error::PeerMisbehaved(p)) => {
            format!(
                "the server broke the TLS protocol: {}",
                words(format!("{p:?}"))
            )
        }
        Some(rustls::Error::InvalidMessage(m)) => {
            format!(
                "the server sent an invalid TLS message: {}",
                words(format!("{m:?}"))
            )
        }
        Some(r) => r.to_string(),
        None => crate::model::text::plain_error(e),
    }
}

/// `handshake failure` from `HandshakeFailure`; anything after the name (`Unknown(12)`)
/// kept as written.
fn camel_to_words(s: &str) -> String {
    let (name, rest) = match s.find(|c: char| !c.is_ascii_alphanumeric()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out.push_str(rest);
    out
}

/// Verifies a chain read off the wire without a handshake (the clear-text Certificate
/// message of an old-protocol server rustls cannot talk to), as the handshake would have.
pub fn verify_chain(
    trust: &Trust,
    chain: &[Vec<u8>],
    name: &str,
) -> (Verify, Option<VerifyFailure>) {
    let Some((leaf, rest)) = chain.split_first() else {
        return (Verify::No, None);
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Recorder::new(trust, provider);
    let verdict = match server_name(name) {
        Some(sn) => {
            let inters: Vec<CertificateDer<'_>> = rest
                .iter()
                .map(|c| CertificateDer::from(c.as_slice()))
                .collect();
            let _ = recorder.verify_server_cert(
                &CertificateDer::from(leaf.as_slice()),
                &inters,
                &sn,
                &[],
                UnixTime::now(),
            );
            recorder.verdict()
        }
        None => Some(Err(rustls::Error::General(format!(
            "{name:?} is not a valid server name"
        )))),
    };
    let self_signed = chain.len() == 1
        && super::cert::describe(leaf, chrono::Utc::now()).is_ok_and(|c| c.self_signed);
    verdict_to_verify(verdict, self_signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_errors_in_plain_words() {
        let e = |r: rustls::Error| error_text(&io::Error::other(r));
        assert_eq!(
            e(rustls::Error::AlertReceived(
                rustls::AlertDescription::HandshakeFailure
            )),
            "the server sent the TLS alert handshake failure"
        );
        assert_eq!(
            e(rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::NoCipherSuitesInCommon
            )),
            "the server and mailtls have no TLS in common: no cipher suites in common"
        );
        assert_eq!(
            error_text(&io::Error::from_raw_os_error(104)),
            "connection reset by peer"
        );
        assert_eq!(camel_to_words("Unknown(12)"), "unknown(12)");
    }

    #[test]
    fn verify_failures_in_plain_words() {
        let t = |secs| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        let rows: Vec<(CertificateError, bool, &str)> = vec![
            (
                CertificateError::UnknownIssuer,
                false,
                "certificate issued by an unknown CA",
            ),
            (
                CertificateError::UnknownIssuer,
                true,
                "self-signed certificate that is not in the trust store",
            ),
            (
                CertificateError::ExpiredContext {
                    time: t(1_795_000_000),
                    not_after: t(1_795_000_000 - 5 * 86_400),
                },
                false,
                "certificate expired on 2026-11-",
            ),
            (
                CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("mx.example.org").unwrap(),
                    presented: vec![
                        "DnsName(\"www.example.org\")".into(),
                        "IpAddress(192.0.2.1)".into(),
                    ],
                },
                false,
                "certificate not valid for mx.example.org; it names www.example.org, 192.0.2.1",
            ),
        ];
        for (c, self_signed, want) in rows {
            let (v, f) =
                verdict_to_verify(Some(Err(rustls::Error::InvalidCertificate(c))), self_signed);
            assert_eq!(v, Verify::Fail);
            let detail = f.unwrap().detail;
            assert!(detail.starts_with(want), "{detail}");
            for rust in ["UnknownIssuer", "DnsName", "Context", "InvalidCertificate"] {
                assert!(!detail.contains(rust), "{detail}");
            }
        }
    }
}
