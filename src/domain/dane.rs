//! DANE for SMTP (RFC 7672): does the chain an MX host presented match one of its TLSA
//! records?
//!
//! Only the two usages RFC 7672 allows for SMTP count: DANE-TA(2), a trust anchor that
//! must appear in the presented chain and issue the server's certificate (which must
//! then carry the MX name, as RFC 7672 §3.2.2 asks), and DANE-EE(3), the server's own
//! certificate or key, where names and dates do not matter (§3.1.1). PKIX-TA(0) and
//! PKIX-EE(1) records are "unusable" for SMTP and listed as such, not matched.
//!
//! Matching is pure: the records and the DER chain in, a verdict out, so every
//! selector/matching-type combination is tested without a network.

use std::fmt;

use ring::digest;
use serde::Serialize;
use x509_parser::prelude::*;

use crate::probe::tls;

/// One TLSA record (RFC 6698 §2.1), as the resolver returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    pub data: Vec<u8>,
}

impl Tlsa {
    /// RFC 7672 §3.1: only DANE-TA(2) and DANE-EE(3) with a known selector and matching
    /// type can authenticate an SMTP server.
    pub fn usable(&self) -> bool {
        matches!(self.usage, 2 | 3) && self.selector <= 1 && self.matching <= 2
    }

    /// The data digested as the record asks: exact (0), SHA2-256 (1), SHA2-512 (2).
    fn digest_of(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        match self.matching {
            0 => Some(bytes.to_vec()),
            1 => Some(digest::digest(&digest::SHA256, bytes).as_ref().to_vec()),
            2 => Some(digest::digest(&digest::SHA512, bytes).as_ref().to_vec()),
            _ => None,
        }
    }

    /// Whether this record matches one certificate (DER) of the chain.
    fn matches_cert(&self, der: &[u8]) -> bool {
        let Some(selected) = select(der, self.selector) else {
            return false;
        };
        self.digest_of(&selected)
            .is_some_and(|d| d.as_slice() == self.data.as_slice())
    }

    /// The whole presentation form, `3 1 1 8cb0…` with every hex digit, for JSON.
    pub fn full(&self) -> String {
        let hex: String = self.data.iter().map(|b| format!("{b:02x}")).collect();
        format!("{} {} {} {hex}", self.usage, self.selector, self.matching)
    }

    /// `DANE-EE(3)`, `DANE-TA(2)`, …: the usage in words, for reports.
    pub fn usage_label(&self) -> &'static str {
        match self.usage {
            0 => "PKIX-TA(0)",
            1 => "PKIX-EE(1)",
            2 => "DANE-TA(2)",
            3 => "DANE-EE(3)",
            _ => "unknown usage",
        }
    }
}

impl fmt::Display for Tlsa {
    /// Presentation form, `3 1 1 8cb0…`, with long data cut to 32 hex digits and `…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: String = self.data.iter().map(|b| format!("{b:02x}")).collect();
        let shown = if hex.len() > 32 {
            format!("{}…", &hex[..32])
        } else {
            hex
        };
        write!(
            f,
            "{} {} {} {shown}",
            self.usage, self.selector, self.matching
        )
    }
}

/// The bytes a selector picks from a certificate: the whole DER (0) or its
/// SubjectPublicKeyInfo (1).
fn select(der: &[u8], selector: u8) -> Option<Vec<u8>> {
    match selector {
        0 => Some(der.to_vec()),
        1 => {
            let (_, cert) = X509Certificate::from_der(der).ok()?;
            Some(cert.tbs_certificate.subject_pki.raw.to_vec())
        }
        _ => None,
    }
}

/// What DANE made of one server's chain, in Sendmail's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaneOutcome {
    /// `TRUSTED`, `DANE_FAIL`, `DANE_NOTLS` or `DANE_TEMP`, as Sendmail logs `verify=`;
    /// `UNUSABLE` when no record is usable for SMTP (TLS required, nothing to match).
    pub verify: String,
    /// The record that matched, in full presentation form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
    /// Position in the presented chain of the certificate that matched (0 = the server's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_cert: Option<usize>,
    /// Why it matched, or why nothing did (one line per usable record).
    pub detail: Vec<String>,
}

/// Matches `records` against `chain` (DER, server certificate first) for the MX host
/// `name`. Records that are not usable for SMTP are reported and skipped. With no
/// usable record at all the outcome is `UNUSABLE`, not a Sendmail word: RFC 7672 §2.2
/// has the sender insist on TLS there but authenticate nothing, so it is no failure.
pub fn match_chain(records: &[Tlsa], chain: &[Vec<u8>], name: &str) -> DaneOutcome {
    let mut detail = Vec::new();
    for r in records.iter().filter(|r| !r.usable()) {
        detail.push(format!("{r}: {} is not usable for SMTP", r.usage_label()));
    }
    if !records.iter().any(Tlsa::usable) {
        detail.push("no usable TLSA record: TLS is required but cannot be authenticated".into());
        return outcome("UNUSABLE", None, None, detail);
    }
    if chain.is_empty() {
        detail.push("the server presented no certificate".into());
        return outcome("DANE_FAIL", None, None, detail);
    }
    for r in records.iter().filter(|r| r.usable()) {
        match r.usage {
            3 => {
                if chain.first().is_some_and(|leaf| r.matches_cert(leaf)) {
                    detail.push(format!(
                        "{r}: DANE-EE matches the server certificate (names and dates are not checked, RFC 7672 §3.1.1)"
                    ));
                    return outcome("TRUSTED", Some(r), Some(0), detail);
                }
                detail.push(format!(
                    "{r}: DANE-EE does not match the server certificate ({})",
                    what_was_hashed(r)
                ));
            }
            _ => {
                // DANE-TA: the anchor is one of the certificates the server sent (RFC 7672
                // §3.1.2 asks servers to include it); the server certificate must chain
                // to it and carry the MX name.
                let hit = chain
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|(_, der)| r.matches_cert(der));
                let Some((i, ta)) = hit else {
                    detail.push(format!(
                        "{r}: DANE-TA matches no issuer certificate in the presented chain ({} sent)",
                        chain.len()
                    ));
                    continue;
                };
                match chains_to(chain, ta, name) {
                    Ok(()) => {
                        detail.push(format!(
                            "{r}: DANE-TA matches chain certificate {i}, which issues the server certificate for {name}"
                        ));
                        return outcome("TRUSTED", Some(r), Some(i), detail);
                    }
                    Err(why) => detail.push(format!(
                        "{r}: DANE-TA matches chain certificate {i}, but the server certificate does not verify under it: {why}"
                    )),
                }
            }
        }
    }
    outcome("DANE_FAIL", None, None, detail)
}

fn what_was_hashed(r: &Tlsa) -> &'static str {
    match (r.selector, r.matching) {
        (0, 0) => "full certificate, exact",
        (0, 1) => "full certificate, SHA2-256",
        (0, 2) => "full certificate, SHA2-512",
        (1, 0) => "public key, exact",
        (1, 1) => "public key, SHA2-256",
        (1, 2) => "public key, SHA2-512",
        _ => "unknown selector or matching type",
    }
}

fn outcome(
    verify: &str,
    r: Option<&Tlsa>,
    cert: Option<usize>,
    detail: Vec<String>,
) -> DaneOutcome {
    DaneOutcome {
        verify: verify.into(),
        matched: r.map(Tlsa::full),
        matched_cert: cert,
        detail,
    }
}

/// Verifies the server certificate under `ta` as the only trust anchor, for `name`.
fn chains_to(chain: &[Vec<u8>], ta: &[u8], name: &str) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(ta.to_vec()))
        .map_err(|e| format!("the anchor is not a usable CA certificate: {e}"))?;
    let trust = tls::Trust {
        roots: std::sync::Arc::new(roots),
        source: "DANE-TA".into(),
    };
    let (verify, failure) = tls::verify_chain(&trust, chain, name);
    match failure {
        None if verify == crate::model::Verify::Ok => Ok(()),
        Some(f) => Err(format!("{}: {}", f.reason.label(), f.detail)),
        None => Err(format!("verify={}", verify.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    struct Chain {
        leaf: Vec<u8>,
        leaf_spki: Vec<u8>,
        ca: Vec<u8>,
        ca_spki: Vec<u8>,
    }

    fn chain(name: &str) -> Chain {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "DANE test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("ca");
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().expect("key");
        let leaf = CertificateParams::new(vec![name.to_owned()])
            .expect("params")
            .signed_by(&leaf_key, &issuer)
            .expect("leaf");
        let spki = |der: &[u8]| select(der, 1).expect("spki");
        Chain {
            leaf_spki: spki(leaf.der()),
            leaf: leaf.der().to_vec(),
            ca_spki: spki(ca_cert.der()),
            ca: ca_cert.der().to_vec(),
        }
    }

    fn rec(usage: u8, selector: u8, matching: u8, data: &[u8]) -> Tlsa {
        let data = match matching {
            1 => digest::digest(&digest::SHA256, data).as_ref().to_vec(),
            2 => digest::digest(&digest::SHA512, data).as_ref().to_vec(),
            _ => data.to_vec(),
        };
        Tlsa {
            usage,
            selector,
            matching,
            data,
        }
    }

    #[test]
    fn every_selector_and_matching_type() {
        let c = chain("mx1.example.test");
        let presented = vec![c.leaf.clone(), c.ca.clone()];
        // (record, MX name, verify, matched cert)
        let rows: Vec<(Tlsa, &str, &str, Option<usize>)> = vec![
            (
                rec(3, 0, 0, &c.leaf),
                "mx1.example.test",
                "TRUSTED",
                Some(0),
            ),
            (
                rec(3, 0, 1, &c.leaf),
                "mx1.example.test",
                "TRUSTED",
                Some(0),
            ),
            (
                rec(3, 0, 2, &c.leaf),
                "mx1.example.test",
                "TRUSTED",
                Some(0),
            ),
            (
                rec(3, 1, 0, &c.leaf_spki),
                "mx1.example.test",
                "TRUSTED",
                Some(0),
            ),
            (
                rec(3, 1, 1, &c.leaf_spki),
                "mx1.example.test",
                "TRUSTED",
                Some(0),
            ),
            (
                rec(3, 1, 2, &c.leaf_spki),
                "other.example.test",
                "TRUSTED",
                Some(0),
            ),
            (rec(2, 0, 1, &c.ca), "mx1.example.test", "TRUSTED", Some(1)),
            (
                rec(2, 1, 1, &c.ca_spki),
                "mx1.example.test",
                "TRUSTED",
                Some(1),
            ),
            (
                rec(2, 1, 2, &c.ca_spki),
                "mx1.example.test",
                "TRUSTED",
                Some(1),
            ),
            // DANE-TA checks the name; DANE-EE does not.
            (
                rec(2, 1, 1, &c.ca_spki),
                "other.example.test",
                "DANE_FAIL",
                None,
            ),
            // The CA's key in an EE record, the leaf's in a TA record.
            (
                rec(3, 1, 1, &c.ca_spki),
                "mx1.example.test",
                "DANE_FAIL",
                None,
            ),
            (
                rec(2, 1, 1, &c.leaf_spki),
                "mx1.example.test",
                "DANE_FAIL",
                None,
            ),
            // Unusable for SMTP even when the data match.
            (
                rec(1, 1, 1, &c.leaf_spki),
                "mx1.example.test",
                "UNUSABLE",
                None,
            ),
            (
                rec(0, 1, 1, &c.ca_spki),
                "mx1.example.test",
                "UNUSABLE",
                None,
            ),
            (
                rec(3, 1, 3, &c.leaf_spki),
                "mx1.example.test",
                "UNUSABLE",
                None,
            ),
        ];
        for (r, name, verify, cert) in rows {
            let o = match_chain(std::slice::from_ref(&r), &presented, name);
            assert_eq!(
                (o.verify.as_str(), o.matched_cert),
                (verify, cert),
                "{r} for {name}: {o:?}"
            );
            assert_eq!(o.matched.is_some(), verify == "TRUSTED", "{r}");
            assert!(!o.detail.is_empty(), "{r}: a reason is always given");
        }
    }

    #[test]
    fn ta_absent_from_chain_and_no_certificate() {
        let c = chain("mx1.example.test");
        let r = rec(2, 1, 1, &c.ca_spki);
        let o = match_chain(
            std::slice::from_ref(&r),
            std::slice::from_ref(&c.leaf),
            "mx1.example.test",
        );
        assert_eq!(o.verify, "DANE_FAIL");
        assert!(
            o.detail.iter().any(|d| d.contains("no issuer certificate")),
            "{o:?}"
        );
        let o = match_chain(std::slice::from_ref(&r), &[], "mx1.example.test");
        assert_eq!(o.verify, "DANE_FAIL");
        assert!(
            o.detail.iter().any(|d| d.contains("no certificate")),
            "{o:?}"
        );
    }

    #[test]
    fn second_record_matches_after_a_stale_one() {
        let old = chain("mx1.example.test");
        let new = chain("mx1.example.test");
        let records = [rec(3, 1, 1, &old.leaf_spki), rec(3, 1, 1, &new.leaf_spki)];
        let o = match_chain(
            &records,
            std::slice::from_ref(&new.leaf),
            "mx1.example.test",
        );
        assert_eq!(o.verify, "TRUSTED");
        assert_eq!(o.matched, Some(records[1].full()));
        assert!(o.detail[0].contains("does not match"), "{o:?}");
    }

    #[test]
    fn presentation_form() {
        let r = Tlsa {
            usage: 3,
            selector: 1,
            matching: 1,
            data: vec![0xab; 32],
        };
        assert_eq!(r.to_string(), format!("3 1 1 {}…", "ab".repeat(16)));
        assert_eq!(r.full(), format!("3 1 1 {}", "ab".repeat(32)));
        let short = Tlsa {
            data: vec![1, 2],
            ..r
        };
        assert_eq!(short.to_string(), "3 1 1 0102");
    }
}
