//! The TLS readers of a `Received:` value: every comment form and protocol word that
//! says something about encryption (FORMATS.md §1.5, §2.4, §3.4, §4).

use super::{HopTls, HopTlsDetails};
use crate::model::{Bits, Cipher, TlsVersion, Verify};

/// Gathers TLS facts from comments and the protocol word.
#[derive(Debug, Default)]
pub(super) struct TlsCollector {
    details: Option<HopTlsDetails>,
    /// Exchange 2013 `(TLS)`.
    bare_tls: bool,
}

impl TlsCollector {
    pub(super) fn details(&mut self) -> &mut HopTlsDetails {
        self.details.get_or_insert_with(HopTlsDetails::default)
    }

    pub(super) fn found(&self) -> bool {
        self.details.is_some() || self.bare_tls
    }

    /// Reads `c` if it is a TLS comment; false when it is not one.
    pub(super) fn offer(&mut self, c: &str) -> bool {
        let c = c.trim();
        let lower = c.to_ascii_lowercase();
        if lower.contains("version=") || lower.starts_with("cipher=") {
            self.key_values(c);
        } else if lower.starts_with("using ") {
            self.using(c);
        } else if lower.starts_with("client cn ") || lower.starts_with("client cn\"") {
            self.client_cert(c);
        } else if lower.starts_with("client did not present")
            || lower.starts_with("no client certificate requested")
        {
            // Postfix's two phrasings for a client without a certificate are one word,
            // `NO`, as its log's `Anonymous` is (see parse::postfix, "Trust words"): a
            // session must not read NOT in the log and NO in its header.
            self.details().verify = Some(Verify::No);
        } else if lower.starts_with("client rpk ") {
            self.details();
        } else if let Some(rest) = lower.starts_with("tls: ").then(|| c.get(5..)).flatten() {
            self.courier(rest);
        } else if let Some(cipher) = c
            .strip_suffix(" encrypted")
            .filter(|x| !x.is_empty() && !x.contains(char::is_whitespace))
        {
            // qmail-tls and qpsmtpd: `with (ECDHE-RSA-AES256-GCM-SHA384 encrypted) SMTP`.
            self.details().cipher = Some(Cipher::new(cipher));
        } else if c == "TLS" || c == "tls" {
            self.bare_tls = true;
        } else if is_version_word(c) {
            self.details().version = Some(TlsVersion::parse(c));
        } else if !self.exim_cipher_string(c) {
            return false;
        }
        true
    }

    /// `version=TLSv1.2 cipher=… bits=256[/256] verify=NOT` (Sendmail, Gmail, Proofpoint)
    /// and `version=TLS1_2, cipher=…` (Microsoft).
    fn key_values(&mut self, c: &str) {
        let d = self.details();
        for part in c.split([' ', '\t', ',']).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            match k.to_ascii_lowercase().as_str() {
                "version" => d.version = Some(TlsVersion::parse(v)),
                "cipher" => d.cipher = Some(Cipher::new(v)),
                "bits" => d.bits = header_bits(v),
                "verify" => d.verify = Some(Verify::parse(v)),
                _ => {}
            }
        }
    }

    /// `using V with cipher C (A/B bits) [key-exchange K …]` (Postfix, Symantec, Strato) and
    /// Sendmail's older `using V with cipher C (N bits) verified W`.
    fn using(&mut self, c: &str) {
        let d = self.details();
        let words: Vec<&str> = c.split_whitespace().collect();
        if let Some(v) = words.get(1) {
            d.version = Some(TlsVersion::parse(v));
        }
        if let Some(p) = words
            .windows(3)
            .position(|w| matches!(w, ["with", "cipher", _]))
            && let Some(ci) = words.get(p + 2)
        {
            d.cipher = Some(Cipher::new(ci));
        }
        // The first `(… bits)` group is the cipher's.
        if let Some(open) = c.find('(') {
            let inner = c.get(open + 1..).unwrap_or("");
            let inner = inner.split(')').next().unwrap_or("");
            if let Some(nums) = inner.trim().strip_suffix("bits") {
                let nums = nums.trim();
                d.bits = match nums.split_once('/') {
                    Some((a, b)) => Bits::postfix(a.trim().parse().ok(), b.trim().parse().ok()),
                    None => Bits::single(nums.parse().ok()),
                };
            }
        }
        for (i, w) in words.iter().enumerate() {
            match *w {
                "verified" => {
                    if let Some(v) = words.get(i + 1) {
                        d.verify = Some(Verify::parse(v.trim_end_matches(')')));
                    }
                }
                "key-exchange" => {
                    if let Some(k) = words.get(i + 1) {
                        d.key_exchange = Some((*k).to_owned());
                    }
                }
                _ => {}
            }
        }
    }

    /// Courier `(TLS: TLSv1/SSLv3,256bits,ECDHE-RSA-AES256-GCM-SHA384)`.
    fn courier(&mut self, rest: &str) {
        let d = self.details();
        let mut parts = rest.split(',').map(str::trim);
        if let Some(v) = parts.next().filter(|v| !v.is_empty()) {
            d.version = Some(TlsVersion::parse(v));
        }
        for p in parts {
            match p.strip_suffix("bits") {
                Some(n) => d.bits = Bits::single(n.trim().parse().ok()),
                None if !p.is_empty() => d.cipher = Some(Cipher::new(p)),
                None => {}
            }
        }
    }

    /// Postfix `Client CN "…", Issuer "…" (verified OK)` / `(not verified)`.
    fn client_cert(&mut self, c: &str) {
        let d = self.details();
        let quoted: Vec<&str> = c.split('"').collect();
        // Parts: [`Client CN `, cn, `, Issuer `, issuer, ` (verified OK)`].
        d.client_cn = quoted.get(1).map(|s| (*s).to_owned());
        if quoted.get(2).is_some_and(|s| s.contains("Issuer")) {
            d.client_issuer = quoted.get(3).map(|s| (*s).to_owned());
        }
        let tail = quoted.last().copied().unwrap_or("");
        d.verify = if tail.contains("not verified") {
            Some(Verify::Fail)
        } else if tail.contains("verified OK") {
            Some(Verify::Ok)
        } else {
            d.verify.take()
        };
    }

    /// Exim ≤ 4.92 `(TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)`: version, cipher, the last
    /// numeric field as bits, an optional trailing key-exchange group (FORMATS.md §3.2).
    fn exim_cipher_string(&mut self, c: &str) -> bool {
        if c.contains(char::is_whitespace) {
            return false;
        }
        let parts: Vec<&str> = c.split(':').collect();
        let Some(first) = parts.first() else {
            return false;
        };
        if parts.len() < 3 || !is_version_word(first) {
            return false;
        }
        let Some(bits_at) = parts
            .iter()
            .rposition(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        else {
            return false;
        };
        if bits_at < 2 {
            return false;
        }
        let d = self.details();
        d.version = Some(TlsVersion::parse(first));
        d.cipher = parts.get(1..bits_at).map(|p| Cipher::new(&p.join(":")));
        d.bits = Bits::single(parts.get(bits_at).and_then(|b| b.parse().ok()));
        d.key_exchange = parts.get(bits_at + 1).map(|s| (*s).to_owned());
        true
    }

    /// The hop's TLS state: details win; then the TLS words; then plaintext words.
    pub(super) fn verdict(mut self, with: Option<&str>) -> HopTls {
        let with = with.unwrap_or("");
        // IronPort: `ESMTP/TLS/<cipher>`.
        let mut slash = with.split('/');
        let base = slash.next().unwrap_or("");
        if slash.next().is_some_and(|t| t.eq_ignore_ascii_case("tls")) {
            match slash.next().filter(|c| !c.is_empty()) {
                Some(cipher) if self.details.is_none() => {
                    self.details().cipher = Some(Cipher::new(cipher));
                }
                _ => self.bare_tls = true,
            }
        }
        if let Some(d) = self.details {
            return HopTls::Tls(d);
        }
        let word = base
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if self.bare_tls || is_tls_protocol(&word) {
            return HopTls::TlsNoDetails;
        }
        let lower = with.to_ascii_lowercase();
        if is_plain_protocol(&word) || lower.starts_with("microsoft smtp server") {
            return HopTls::Plaintext;
        }
        HopTls::Unknown
    }
}

/// `TLSv1.2`, `TLS1.3`, `TLS1_2`, `SSLv3`, `TLSv1/SSLv3`.
fn is_version_word(w: &str) -> bool {
    let l = w.to_ascii_lowercase();
    let rest = l
        .strip_prefix("tls")
        .or_else(|| l.strip_prefix("ssl"))
        .unwrap_or("");
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    !rest.is_empty()
        && rest.starts_with(|c: char| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '_' | '/' | 's' | 'l' | 'v'))
}

/// RFC 3848 (and Exim's implicit-TLS) protocol words that mean the hop was encrypted.
fn is_tls_protocol(w: &str) -> bool {
    matches!(
        w,
        "ESMTPS"
            | "ESMTPSA"
            | "UTF8SMTPS"
            | "UTF8SMTPSA"
            | "LMTPS"
            | "LMTPSA"
            | "UTF8LMTPS"
            | "UTF8LMTPSA"
            | "SMTPS"
            | "SSMTP"
            | "ESSMTP"
            | "ESSMTPA"
    )
}

/// SMTP/LMTP protocol words without TLS.
fn is_plain_protocol(w: &str) -> bool {
    matches!(
        w,
        "SMTP"
            | "ESMTP"
            | "ESMTPA"
            | "LMTP"
            | "LMTPA"
            | "UTF8SMTP"
            | "UTF8SMTPA"
            | "UTF8LMTP"
            | "UTF8LMTPA"
            | "ASMTP"
            | "QMQP"
    )
}

/// Header bits: `256` is Sendmail's `${cipher_bits}` (secret bits); `256/256` (Gmail,
/// some Sendmail builds) gives both numbers in an order no source documents, so the
/// smaller is taken as the secret bits, which can never exceed the algorithm bits.
fn header_bits(v: &str) -> Bits {
    match v.split_once('/') {
        Some((a, b)) => {
            let (a, b): (Option<u16>, Option<u16>) = (a.parse().ok(), b.parse().ok());
            match (a, b) {
                (Some(x), Some(y)) => Bits {
                    secret: Some(x.min(y)),
                    alg: Some(x.max(y)),
                },
                _ => Bits {
                    secret: a.or(b),
                    alg: None,
                },
            }
        }
        None => Bits::single(v.parse().ok()),
    }
}
