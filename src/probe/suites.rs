//! Cipher suites by their IANA code: both names, the bits OpenSSL reports, and what is
//! weak about them.
//!
//! One table serves the rustls handshake (to name and size the negotiated suite the way
//! Sendmail logs it, `cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256`) and the
//! hand-built ClientHellos of `--ciphers` (which offer every suite listed here, as sslscan
//! offers every suite OpenSSL knows). Bits follow OpenSSL's `SSL_CIPHER_get_bits`:
//! secret (effective) bits first, algorithm bits second; they differ for 3DES (112/168)
//! and the export suites.

use serde::Serialize;

use crate::model::{Bits, Cipher};

/// One cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    pub code: u16,
    /// The IANA (RFC) name.
    pub iana: &'static str,
    /// OpenSSL's name, which Sendmail and Postfix log (TLS 1.3 suites share the IANA name).
    pub openssl: &'static str,
    pub secret_bits: u16,
    pub alg_bits: u16,
}

/// Why a suite should not be accepted (or, for `CbcSha1`, is worth a mention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weakness {
    /// No encryption at all.
    Null,
    /// No server authentication (ADH/AECDH): trivially man-in-the-middled.
    Anonymous,
    /// 40/56-bit export-grade crypto.
    Export,
    /// RC4 (RFC 7465 prohibits it).
    Rc4,
    /// Single DES.
    Des,
    /// 3DES: 64-bit blocks (Sweet32).
    TripleDes,
    /// CBC with an HMAC-SHA1: not broken, but the legacy construction (informational).
    CbcSha1,
}

impl Weakness {
    /// The weakness in words, for the text report.
    pub fn label(self) -> &'static str {
        match self {
            Weakness::Null => "NULL cipher",
            Weakness::Anonymous => "anonymous",
            Weakness::Export => "EXPORT",
            Weakness::Rc4 => "RC4",
            Weakness::Des => "DES",
            Weakness::TripleDes => "3DES",
            Weakness::CbcSha1 => "CBC-SHA1, info",
        }
    }

    /// `CbcSha1` is informational; every other weakness is a finding.
    pub fn is_informational(self) -> bool {
        matches!(self, Weakness::CbcSha1)
    }
}

impl Suite {
    /// TLS 1.3 suites (0x13xx) are only negotiable in TLS 1.3 and vice versa.
    pub fn is_tls13(&self) -> bool {
        self.code >> 8 == 0x13
    }

    /// The suite's bits in the shared vocabulary.
    pub fn bits(&self) -> Bits {
        Bits::postfix(Some(self.secret_bits), Some(self.alg_bits))
    }

    /// The name Sendmail would log.
    pub fn cipher(&self) -> Cipher {
        Cipher::new(self.openssl)
    }

    /// The worst thing about the suite, if anything.
    pub fn weakness(&self) -> Option<Weakness> {
        let n = self.iana;
        if n.contains("_NULL_") {
            Some(Weakness::Null)
        } else if n.contains("_anon_") {
            Some(Weakness::Anonymous)
        } else if n.contains("EXPORT") {
            Some(Weakness::Export)
        } else if n.contains("RC4") {
            Some(Weakness::Rc4)
        } else if n.contains("_DES_CBC_") {
            Some(Weakness::Des)
        } else if n.contains("3DES") {
            Some(Weakness::TripleDes)
        } else if n.ends_with("_CBC_SHA") {
            Some(Weakness::CbcSha1)
        } else {
            None
        }
    }
}

macro_rules! suites {
    ($(($code:expr, $iana:expr, $ossl:expr, $secret:expr, $alg:expr)),* $(,)?) => {
        /// Every suite mailtls knows, strongest families first (the order hand-built
        /// ClientHellos offer them in).
        pub static SUITES: &[Suite] = &[
            $(Suite { code: $code, iana: $iana, openssl: $ossl, secret_bits: $secret, alg_bits: $alg }),*
        ];
    };
}

suites! {
    (0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", 256, 256),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", 256, 256),
    (0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 128, 128),
    (0x1304, "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_SHA256", 128, 128),
    (0x1305, "TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_8_SHA256", 128, 128),
    (0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", 256, 256),
    (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", 256, 256),
    (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", 256, 256),
    (0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", 256, 256),
    (0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "ECDHE-ECDSA-AES256-CCM", 256, 256),
    (0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", "ECDHE-ECDSA-AES256-CCM8", 256, 256),
    (0xC05D, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384", "ECDHE-ECDSA-ARIA256-GCM-SHA384", 256, 256),
    (0xC061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", "ECDHE-ARIA256-GCM-SHA384", 256, 256),
    (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", 128, 128),
    (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", 128, 128),
    (0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "ECDHE-ECDSA-AES128-CCM", 128, 128),
    (0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "ECDHE-ECDSA-AES128-CCM8", 128, 128),
    (0xC05C, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", "ECDHE-ECDSA-ARIA128-GCM-SHA256", 128, 128),
    (0xC060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", "ECDHE-ARIA128-GCM-SHA256", 128, 128),
    (0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384", 256, 256),
    (0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", 256, 256),
    (0xC073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", "ECDHE-ECDSA-CAMELLIA256-SHA384", 256, 256),
    (0xC077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384", "ECDHE-RSA-CAMELLIA256-SHA384", 256, 256),
    (0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", 128, 128),
    (0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", 128, 128),
    (0xC072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", "ECDHE-ECDSA-CAMELLIA128-SHA256", 128, 128),
    (0xC076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", "ECDHE-RSA-CAMELLIA128-SHA256", 128, 128),
    (0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", 256, 256),
    (0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", 256, 256),
    (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", 128, 128),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", 128, 128),
    (0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", 256, 256),
    (0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", "DHE-DSS-AES256-GCM-SHA384", 256, 256),
    (0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305", 256, 256),
    (0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM", "DHE-RSA-AES256-CCM", 256, 256),
    (0xC0A3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", "DHE-RSA-AES256-CCM8", 256, 256),
    (0xC053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384", "DHE-RSA-ARIA256-GCM-SHA384", 256, 256),
    (0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", 128, 128),
    (0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", "DHE-DSS-AES128-GCM-SHA256", 128, 128),
    (0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", "DHE-RSA-AES128-CCM", 128, 128),
    (0xC0A2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", "DHE-RSA-AES128-CCM8", 128, 128),
    (0xC052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256", "DHE-RSA-ARIA128-GCM-SHA256", 128, 128),
    (0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256", 256, 256),
    (0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "DHE-DSS-AES256-SHA256", 256, 256),
    (0x00C4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256", "DHE-RSA-CAMELLIA256-SHA256", 256, 256),
    (0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256", 128, 128),
    (0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "DHE-DSS-AES128-SHA256", 128, 128),
    (0x00BE, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", "DHE-RSA-CAMELLIA128-SHA256", 128, 128),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA", 256, 256),
    (0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE-DSS-AES256-SHA", 256, 256),
    (0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", "DHE-RSA-CAMELLIA256-SHA", 256, 256),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA", 128, 128),
    (0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE-DSS-AES128-SHA", 128, 128),
    (0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", "DHE-RSA-CAMELLIA128-SHA", 128, 128),
    (0x009A, "TLS_DHE_RSA_WITH_SEED_CBC_SHA", "DHE-RSA-SEED-SHA", 128, 128),
    (0xC057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384", "DHE-DSS-ARIA256-GCM-SHA384", 256, 256),
    (0xC056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256", "DHE-DSS-ARIA128-GCM-SHA256", 128, 128),
    (0x00C3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256", "DHE-DSS-CAMELLIA256-SHA256", 256, 256),
    (0x00BD, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256", "DHE-DSS-CAMELLIA128-SHA256", 128, 128),
    (0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA", "DHE-DSS-CAMELLIA256-SHA", 256, 256),
    (0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA", "DHE-DSS-CAMELLIA128-SHA", 128, 128),
    (0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", 256, 256),
    (0xC09D, "TLS_RSA_WITH_AES_256_CCM", "AES256-CCM", 256, 256),
    (0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8", "AES256-CCM8", 256, 256),
    (0xC051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384", "ARIA256-GCM-SHA384", 256, 256),
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", 128, 128),
    (0xC09C, "TLS_RSA_WITH_AES_128_CCM", "AES128-CCM", 128, 128),
    (0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8", "AES128-CCM8", 128, 128),
    (0xC050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256", "ARIA128-GCM-SHA256", 128, 128),
    (0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", 256, 256),
    (0x00C0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256", "CAMELLIA256-SHA256", 256, 256),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", 128, 128),
    (0x00BA, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256", "CAMELLIA128-SHA256", 128, 128),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", 256, 256),
    (0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", "CAMELLIA256-SHA", 256, 256),
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", 128, 128),
    (0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "CAMELLIA128-SHA", 128, 128),
    (0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", "SEED-SHA", 128, 128),
    (0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", "IDEA-CBC-SHA", 128, 128),
    (0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-ECDSA-DES-CBC3-SHA", 112, 168),
    (0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA", 112, 168),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "DHE-RSA-DES-CBC3-SHA", 112, 168),
    (0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "DHE-DSS-DES-CBC3-SHA", 112, 168),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", 112, 168),
    (0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA", 128, 128),
    (0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA", 128, 128),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA", 128, 128),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5", 128, 128),
    (0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", "EDH-RSA-DES-CBC-SHA", 56, 56),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "DES-CBC-SHA", 56, 56),
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXP-EDH-RSA-DES-CBC-SHA", 40, 56),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXP-DES-CBC-SHA", 40, 56),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "EXP-RC2-CBC-MD5", 40, 128),
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXP-RC4-MD5", 40, 128),
    (0x00A7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", "ADH-AES256-GCM-SHA384", 256, 256),
    (0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", "ADH-AES128-GCM-SHA256", 128, 128),
    (0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", "ADH-AES256-SHA256", 256, 256),
    (0x006C, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", "ADH-AES128-SHA256", 128, 128),
    (0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA", "ADH-AES256-SHA", 256, 256),
    (0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", "ADH-AES128-SHA", 128, 128),
    (0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "AECDH-AES256-SHA", 256, 256),
    (0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", "AECDH-AES128-SHA", 128, 128),
    (0x00C5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256", "ADH-CAMELLIA256-SHA256", 256, 256),
    (0x00BF, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256", "ADH-CAMELLIA128-SHA256", 128, 128),
    (0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", "ADH-CAMELLIA256-SHA", 256, 256),
    (0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA", "ADH-CAMELLIA128-SHA", 128, 128),
    (0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", "ADH-DES-CBC3-SHA", 112, 168),
    (0xC017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", "AECDH-DES-CBC3-SHA", 112, 168),
    (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", "ADH-RC4-MD5", 128, 128),
    (0xC016, "TLS_ECDH_anon_WITH_RC4_128_SHA", "AECDH-RC4-SHA", 128, 128),
    (0xC015, "TLS_ECDH_anon_WITH_NULL_SHA", "AECDH-NULL-SHA", 0, 0),
    (0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA", "ECDHE-RSA-NULL-SHA", 0, 0),
    (0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", "ECDHE-ECDSA-NULL-SHA", 0, 0),
    (0x003B, "TLS_RSA_WITH_NULL_SHA256", "NULL-SHA256", 0, 0),
    (0x0002, "TLS_RSA_WITH_NULL_SHA", "NULL-SHA", 0, 0),
    (0x0001, "TLS_RSA_WITH_NULL_MD5", "NULL-MD5", 0, 0),
}

/// The suite with this IANA code, if mailtls knows it.
pub fn lookup(code: u16) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_no_duplicate_codes_or_names() {
        let mut codes: Vec<u16> = SUITES.iter().map(|s| s.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), SUITES.len());
        let mut names: Vec<&str> = SUITES.iter().map(|s| s.openssl).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SUITES.len());
    }

    #[test]
    fn rows() {
        // (code, openssl name, secret, alg, weakness)
        let rows = [
            (0x1302, "TLS_AES_256_GCM_SHA384", 256, 256, None),
            (0xC030, "ECDHE-RSA-AES256-GCM-SHA384", 256, 256, None),
            (0xCCA8, "ECDHE-RSA-CHACHA20-POLY1305", 256, 256, None),
            (
                0xC013,
                "ECDHE-RSA-AES128-SHA",
                128,
                128,
                Some(Weakness::CbcSha1),
            ),
            (0x000A, "DES-CBC3-SHA", 112, 168, Some(Weakness::TripleDes)),
            (0x0005, "RC4-SHA", 128, 128, Some(Weakness::Rc4)),
            (0x0003, "EXP-RC4-MD5", 40, 128, Some(Weakness::Export)),
            (0x0009, "DES-CBC-SHA", 56, 56, Some(Weakness::Des)),
            (
                0x0034,
                "ADH-AES128-SHA",
                128,
                128,
                Some(Weakness::Anonymous),
            ),
            (0xC015, "AECDH-NULL-SHA", 0, 0, Some(Weakness::Null)),
            (0x0001, "NULL-MD5", 0, 0, Some(Weakness::Null)),
        ];
        for (code, name, secret, alg, weak) in rows {
            let s = lookup(code).unwrap_or_else(|| panic!("{code:#06x}"));
            assert_eq!(s.openssl, name);
            assert_eq!(s.bits(), Bits::sendmail_log(Some(alg), Some(secret)));
            assert_eq!(s.weakness(), weak, "{name}");
        }
        assert!(lookup(0x1301).is_some_and(Suite::is_tls13));
        assert!(!lookup(0xC02F).is_some_and(Suite::is_tls13));
        assert!(lookup(0x00FF).is_none());
    }
}
