//! Reading PEM keys and certificates the way OpenSSL's `SSL_CTX_use_*_file` will.
//!
//! Sendmail never asks for a pass phrase: an encrypted key (the seed's CA.pl without
//! `-nodes`) makes `SSL_CTX_use_PrivateKey_file` fail and STARTTLS silently disappear. So
//! the doctor must tell an encrypted key from a plain one, and a key that does not belong
//! to its certificate, without OpenSSL: both are read here from the PEM structure (PKCS#8,
//! PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, and the two encrypted forms).

use pkcs8::der::Decode;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// What a key file holds, as far as loading it without a pass phrase goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFormat {
    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8, what `openssl req -nodes` and rcgen write).
    Pkcs8,
    /// `-----BEGIN RSA PRIVATE KEY-----` without `Proc-Type: 4,ENCRYPTED` (PKCS#1).
    Pkcs1,
    /// `-----BEGIN EC PRIVATE KEY-----` (SEC1).
    Sec1,
    /// `-----BEGIN ENCRYPTED PRIVATE KEY-----` (PKCS#8 with a pass phrase: `openssl pkey -aes256`).
    EncryptedPkcs8,
    /// A traditional key with `Proc-Type: 4,ENCRYPTED` and `DEK-Info: <cipher>,…` (old
    /// CA.pl and `openssl req` without `-nodes`). The cipher is kept for the message.
    EncryptedLegacy(String),
    /// No private-key PEM block at all (empty, DER, a certificate, garbage).
    NoKey,
}

impl KeyFormat {
    /// True when OpenSSL would need a pass phrase to load the key.
    pub fn is_encrypted(&self) -> bool {
        matches!(
            self,
            KeyFormat::EncryptedPkcs8 | KeyFormat::EncryptedLegacy(_)
        )
    }
}

/// The public half of a key, in a form that can be compared with a certificate's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicId {
    /// RSA modulus (big-endian, no leading zeros) and public exponent.
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    /// An elliptic-curve public point as encoded in the certificate (`04 || x || y`).
    Ec(Vec<u8>),
}

impl PublicId {
    /// Key size in bits (RSA modulus length; EC field size from the point length).
    pub fn bits(&self) -> usize {
        match self {
            PublicId::Rsa { modulus, .. } => {
                let lead = modulus.first().map_or(0, |b| b.leading_zeros() as usize);
                modulus.len() * 8 - lead
            }
            PublicId::Ec(point) => point.len().saturating_sub(1) / 2 * 8,
        }
    }
}

/// What was learned from a key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub format: KeyFormat,
    /// The public key, when the format carries it (RSA always; EC when OpenSSL wrote the
    /// optional public point, which it always does). `None` for encrypted or unknown keys.
    pub public: Option<PublicId>,
}

/// Reads a key file's bytes.
pub fn inspect_key(bytes: &[u8]) -> KeyInfo {
    let Ok(blocks) = pem::parse_many(bytes) else {
        return KeyInfo {
            format: KeyFormat::NoKey,
            public: None,
        };
    };
    for block in blocks {
        let der = block.contents();
        match block.tag() {
            "ENCRYPTED PRIVATE KEY" => {
                return KeyInfo {
                    format: KeyFormat::EncryptedPkcs8,
                    public: None,
                };
            }
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "DSA PRIVATE KEY"
                if block
                    .headers()
                    .get("Proc-Type")
                    .is_some_and(|v| v.contains("ENCRYPTED")) =>
            {
                let cipher = block
                    .headers()
                    .get("DEK-Info")
                    .and_then(|v| v.split(',').next())
                    .unwrap_or("unknown")
                    .to_owned();
                return KeyInfo {
                    format: KeyFormat::EncryptedLegacy(cipher),
                    public: None,
                };
            }
            "PRIVATE KEY" => {
                return KeyInfo {
                    format: KeyFormat::Pkcs8,
                    public: pkcs8_public(der),
                };
            }
            "RSA PRIVATE KEY" => {
                return KeyInfo {
                    format: KeyFormat::Pkcs1,
                    public: pkcs1_public(der),
                };
            }
            "EC PRIVATE KEY" => {
                return KeyInfo {
                    format: KeyFormat::Sec1,
                    public: sec1_public(der),
                };
            }
            _ => {}
        }
    }
    KeyInfo {
        format: KeyFormat::NoKey,
        public: None,
    }
}

fn strip_zeros(b: &[u8]) -> Vec<u8> {
    let skip = b.iter().take_while(|&&x| x == 0).count();
    b.get(skip..).unwrap_or_default().to_vec()
}

fn pkcs1_public(der: &[u8]) -> Option<PublicId> {
    let k = pkcs1::RsaPrivateKey::from_der(der).ok()?;
    Some(PublicId::Rsa {
        modulus: strip_zeros(k.modulus.as_bytes()),
        exponent: strip_zeros(k.public_exponent.as_bytes()),
    })
}

fn sec1_public(der: &[u8]) -> Option<PublicId> {
    let k = sec1::EcPrivateKey::from_der(der).ok()?;
    k.public_key.map(|p| PublicId::Ec(p.to_vec()))
}

/// rsaEncryption and id-ecPublicKey.
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";

fn pkcs8_public(der: &[u8]) -> Option<PublicId> {
    let info = pkcs8::PrivateKeyInfo::from_der(der).ok()?;
    match info.algorithm.oid.to_string().as_str() {
        OID_RSA => pkcs1_public(info.private_key),
        OID_EC => sec1_public(info.private_key),
        _ => None,
    }
}

/// The public key of a parsed certificate, in the same form.
pub fn cert_public(cert: &X509Certificate<'_>) -> Option<PublicId> {
    match cert.public_key().parsed().ok()? {
        PublicKey::RSA(rsa) => Some(PublicId::Rsa {
            modulus: strip_zeros(rsa.modulus),
            exponent: strip_zeros(rsa.exponent),
        }),
        PublicKey::EC(point) => Some(PublicId::Ec(point.data().to_vec())),
        _ => None,
    }
}

/// The DER bodies of every `CERTIFICATE` block of a PEM file, in file order.
pub fn pem_certificates(bytes: &[u8]) -> Vec<Vec<u8>> {
    pem::parse_many(bytes)
        .map(|blocks| {
            blocks
                .into_iter()
                .filter(|b| {
                    matches!(
                        b.tag(),
                        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
                    )
                })
                .map(|b| b.into_contents())
                .collect()
        })
        .unwrap_or_default()
}

/// Parses one DER certificate, mapping the error to text for a finding.
pub fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c)
        .map_err(|e| e.to_string())
}
