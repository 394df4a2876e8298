//! What the server's certificate chain says, read with x509-parser.
//!
//! The administrator fixing a `verify=FAIL` needs to see the chain as the server sent it:
//! whose certificate, who issued it, which names it covers, when it expires, the key and
//! signature algorithms, and the fingerprint to compare with the file on disk.

use chrono::{DateTime, Utc};
use serde::Serialize;
use x509_parser::prelude::*;

/// One certificate of the chain the server presented (position 0 is the server's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses from subjectAltName.
    pub sans: Vec<String>,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_after: String,
    /// Whole days until notAfter (negative once expired).
    pub days_left: i64,
    /// `RSA`, `EC`, `Ed25519`, `DSA` or the algorithm's short name.
    pub key_type: String,
    pub key_bits: usize,
    /// Signature algorithm short name (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`).
    pub signature: String,
    /// SHA-256 of the DER, upper-case hex with colons (as `openssl x509 -fingerprint`).
    pub sha256: String,
    /// Subject equals issuer.
    pub self_signed: bool,
}

/// Why a DER blob could not be described.
#[derive(Debug, thiserror::Error)]
#[error("certificate does not parse: {0}")]
pub struct CertParseError(String);

/// Describes one DER certificate as of `now`.
pub fn describe(der: &[u8], now: DateTime<Utc>) -> Result<CertInfo, CertParseError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertParseError(e.to_string()))?;
    let registry = oid_registry();
    let sans = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Some((*d).to_owned()),
                GeneralName::IPAddress(b) => ip_text(b),
                GeneralName::RFC822Name(m) => Some(format!("email:{m}")),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let validity = cert.validity();
    let nb = validity.not_before.timestamp();
    let na = validity.not_after.timestamp();
    let days_left = (na - now.timestamp()).div_euclid(86_400);
    let spki = cert.public_key();
    let alg = oid2sn(&spki.algorithm.algorithm, registry).unwrap_or("unknown");
    let parsed = spki.parsed().ok();
    let (key_type, key_bits) = match (alg, &parsed) {
        ("rsaEncryption", Some(k)) => ("RSA".to_owned(), k.key_size()),
        ("id-ecPublicKey", Some(k)) => ("EC".to_owned(), k.key_size()),
        ("ed25519", _) => ("Ed25519".to_owned(), 256),
        ("ed448", _) => ("Ed448".to_owned(), 456),
        ("dsa", Some(k)) => ("DSA".to_owned(), k.key_size()),
        (other, k) => (other.to_owned(), k.as_ref().map_or(0, |k| k.key_size())),
    };
    let signature = oid2sn(&cert.signature_algorithm.algorithm, registry)
        .map(str::to_owned)
        .unwrap_or_else(|_| cert.signature_algorithm.algorithm.to_id_string());
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    Ok(CertInfo {
        self_signed: subject == issuer,
        subject,
        issuer,
        sans,
        not_before: rfc3339(nb),
        not_after: rfc3339(na),
        days_left,
        key_type,
        key_bits,
        signature,
        sha256: fingerprint(der),
    })
}

/// SHA-256 of `der` as `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn rfc3339(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ts.to_string())
}

fn ip_text(b: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(b) {
        return Some(std::net::Ipv4Addr::from(v4).to_string());
    }
    if let Ok(v6) = <[u8; 16]>::try_from(b) {
        return Some(std::net::Ipv6Addr::from(v6).to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_signature_algorithms() {
        // (rcgen algorithm, key type, key bits, signature name)
        let rows = [
            (
                &rcgen::PKCS_ECDSA_P256_SHA256,
                "EC",
                256,
                "ecdsa-with-SHA256",
            ),
            (
                &rcgen::PKCS_ECDSA_P384_SHA384,
                "EC",
                384,
                "ecdsa-with-SHA384",
            ),
            (&rcgen::PKCS_ED25519, "Ed25519", 256, "ed25519"),
        ];
        for (alg, key_type, bits, sig) in rows {
            let key = rcgen::KeyPair::generate_for(alg).expect("key");
            let mut p = rcgen::CertificateParams::new(vec![
                "mx.example.test".to_owned(),
                "192.0.2.25".to_owned(),
            ])
            .expect("params");
            p.distinguished_name
                .push(rcgen::DnType::CommonName, "mx.example.test");
            p.not_before = rcgen::date_time_ymd(2026, 1, 1);
            p.not_after = rcgen::date_time_ymd(2026, 12, 31);
            let cert = p.self_signed(&key).expect("cert");
            let now = DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
                .map(|t| t.with_timezone(&Utc))
                .expect("time");
            let info = describe(cert.der(), now).expect("describe");
            assert_eq!(info.key_type, key_type, "{sig}");
            assert_eq!(info.key_bits, bits, "{sig}");
            assert_eq!(info.signature, sig);
            assert_eq!(info.subject, "CN=mx.example.test");
            assert!(info.self_signed);
            assert_eq!(info.sans, vec!["mx.example.test", "192.0.2.25"]);
            assert_eq!(info.not_after, "2026-12-31T00:00:00Z");
            assert_eq!(info.days_left, 32);
            assert_eq!(info.sha256, fingerprint(cert.der()));
        }
        assert!(describe(b"\x30\x03\x02\x01\x00", Utc::now()).is_err());
    }
}
