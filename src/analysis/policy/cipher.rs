//! The one cipher-suite classifier: which family a negotiated suite belongs to.
//!
//! The policy (forbidden families), the charts (families per peer) and the Prometheus
//! metrics (`cipher_family` label) all ask the same question, so they ask it here: two
//! classifiers had drifted apart and disagreed on anonymous and EXPORT suites (the metrics
//! called `EXP-RC4-MD5` plain `rc4` and `ADH-AES256-GCM-SHA384` plain `aes-gcm`, hiding
//! exactly the suites a postmaster must see).
//!
//! Names come in three spellings and all are understood: OpenSSL (`ADH-AES256-SHA`,
//! `EXP-RC4-MD5`, `DES-CBC3-SHA`), IANA (`TLS_DH_anon_WITH_AES_128_CBC_SHA`,
//! `TLS_RSA_EXPORT_WITH_RC4_40_MD5`) and GnuTLS as Exim logs it (`ANON_DH_AES_128_CBC_SHA1`,
//! `RSA_EXPORT_ARCFOUR_40_MD5`, `ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM`). The
//! weakest trait wins: an export RC4 suite is EXPORT, an anonymous AES suite is anonymous.

use crate::model::Cipher;

/// A cipher family: what an administrator acts on (RC4 and 3DES must go, CBC is dated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CipherFamily {
    Null,
    Export,
    Anonymous,
    Rc4,
    TripleDes,
    Des,
    ChaCha20Poly1305,
    AesGcm,
    AesCcm,
    Camellia,
    Aria,
    AesCbc,
    /// IDEA, SEED, RC2: old, rare, not broken in the way RC4 or DES are.
    LegacyOther,
    /// Nothing else identified, but the MAC is MD5.
    Md5,
    Other,
}

impl CipherFamily {
    /// Every family, weakest traits first (the order [`classify`] tests them in).
    pub const ALL: [CipherFamily; 15] = [
        CipherFamily::Null,
        CipherFamily::Export,
        CipherFamily::Anonymous,
        CipherFamily::Rc4,
        CipherFamily::TripleDes,
        CipherFamily::Des,
        CipherFamily::ChaCha20Poly1305,
        CipherFamily::AesGcm,
        CipherFamily::AesCcm,
        CipherFamily::Camellia,
        CipherFamily::Aria,
        CipherFamily::AesCbc,
        CipherFamily::LegacyOther,
        CipherFamily::Md5,
        CipherFamily::Other,
    ];

    /// The name policies use (`forbidden_ciphers = ["RC4", "EXPORT", "anonymous"]`) and
    /// reports show.
    pub const fn policy_name(self) -> &'static str {
        match self {
            CipherFamily::Null => "NULL",
            CipherFamily::Export => "EXPORT",
            CipherFamily::Anonymous => "anonymous",
            CipherFamily::Rc4 => "RC4",
            CipherFamily::TripleDes => "3DES",
            CipherFamily::Des => "DES",
            CipherFamily::ChaCha20Poly1305 => "ChaCha20-Poly1305",
            CipherFamily::AesGcm => "AES-GCM",
            CipherFamily::AesCcm => "AES-CCM",
            CipherFamily::Camellia => "Camellia",
            CipherFamily::Aria => "ARIA",
            CipherFamily::AesCbc => "AES-CBC",
            CipherFamily::LegacyOther => "legacy",
            CipherFamily::Md5 => "MD5",
            CipherFamily::Other => "other",
        }
    }

    /// The Prometheus label value: lower case, a closed set.
    pub fn metric_label(self) -> &'static str {
        match self {
            CipherFamily::Null => "null",
            CipherFamily::Export => "export",
            CipherFamily::Anonymous => "anonymous",
            CipherFamily::Rc4 => "rc4",
            CipherFamily::TripleDes => "3des",
            CipherFamily::Des => "des",
            CipherFamily::ChaCha20Poly1305 => "chacha20-poly1305",
            CipherFamily::AesGcm => "aes-gcm",
            CipherFamily::AesCcm => "aes-ccm",
            CipherFamily::Camellia => "camellia",
            CipherFamily::Aria => "aria",
            CipherFamily::AesCbc => "aes-cbc",
            CipherFamily::LegacyOther => "legacy-other",
            CipherFamily::Md5 => "md5",
            CipherFamily::Other => "other",
        }
    }
}

/// Written as the policy names it (a loaded policy shows what it forbids).
impl serde::Serialize for CipherFamily {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.policy_name())
    }
}

impl std::fmt::Display for CipherFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.policy_name())
    }
}

/// The family of a suite by its OpenSSL, IANA or GnuTLS name.
pub fn classify(name: &str) -> CipherFamily {
    use CipherFamily::*;
    let n = name.to_ascii_uppercase();
    let has = |s: &str| n.contains(s);
    // Split into words at `-`, `_` and `:` so that `EXP` is a word, not a substring of
    // something longer.
    let words: Vec<&str> = n.split(['-', '_', ':']).filter(|w| !w.is_empty()).collect();
    let word = |w: &str| words.contains(&w);
    let word_prefix = |p: &str| words.iter().any(|w| w.starts_with(p));
    if word("NULL") || word("ENULL") {
        Null
    } else if word("EXPORT") || word_prefix("EXP1024") || words.first() == Some(&"EXP") {
        Export
    } else if words.first().is_some_and(|w| *w == "ADH" || *w == "AECDH")
        || word("ANON")
        || word("AECDH")
        || word("ADH")
    {
        Anonymous
    } else if has("RC4") || has("ARCFOUR") {
        Rc4
    } else if has("DES-CBC3") || has("3DES") || has("DES_EDE") || has("DES-EDE") {
        TripleDes
    } else if word("DES") || has("DES-CBC") || has("DES_CBC") {
        Des
    } else if has("CHACHA20") {
        ChaCha20Poly1305
    } else if has("AES") && has("GCM") {
        AesGcm
    } else if has("AES") && has("CCM") {
        AesCcm
    } else if has("CAMELLIA") {
        Camellia
    } else if has("ARIA") {
        Aria
    } else if has("AES") {
        AesCbc
    } else if has("IDEA") || has("SEED") || has("RC2") {
        LegacyOther
    } else if n.ends_with("MD5") {
        Md5
    } else {
        Other
    }
}

/// Most distinct cipher names [`family_of`] remembers per thread (a host negotiates a
/// few dozen; past this, names are classified each time).
const REMEMBERED: usize = 4096;

/// [`classify`] for a parsed cipher, remembered per name: the policy asks for every
/// cipher of every peer and direction, and [`classify`] upper-cases and splits the
/// name each time (issue 21: 3.6% of a mixed scan's correlating thread, in `memcmp`).
pub fn family_of(c: &Cipher) -> CipherFamily {
    thread_local! {
        static FAMILIES: std::cell::RefCell<std::collections::HashMap<Box<str>, CipherFamily>> =
            std::cell::RefCell::default();
    }
    let name = c.as_str();
    FAMILIES.with(|f| {
        if let Some(&fam) = f.borrow().get(name) {
            return fam;
        }
        let fam = classify(name);
        let mut f = f.borrow_mut();
        if f.len() < REMEMBERED {
            f.insert(name.into(), fam);
        }
        fam
    })
}

#[cfg(test)]
mod tests {
    use super::CipherFamily::*;
    use super::*;

    /// The remembered family is the classified one, asked once or again, in any case.
    #[test]
    fn family_of_remembers_what_classify_says() {
        let names = [
            "ECDHE-RSA-AES256-GCM-SHA384",
            "DES-CBC3-SHA",
            "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
            "ecdhe-rsa-aes256-gcm-sha384",
            "ADH-AES256-GCM-SHA384",
            "TLS_AES_256_GCM_SHA384",
            "RC4-MD5",
        ];
        for _ in 0..2 {
            for n in names {
                let c = Cipher::new(n);
                assert_eq!(family_of(&c), classify(n), "{n}");
            }
        }
        assert_eq!(family_of(&Cipher::new("DES-CBC3-SHA")), TripleDes);
        assert_eq!(family_of(&Cipher::new("ADH-AES256-GCM-SHA384")), Anonymous);
    }

    #[test]
    fn one_family_per_suite_in_every_spelling() {
        let rows = [
            // Anonymous: OpenSSL, IANA, GnuTLS.
            ("ADH-AES256-GCM-SHA384", Anonymous),
            ("ADH-AES128-SHA", Anonymous),
            ("AECDH-AES256-SHA", Anonymous),
            ("TLS_DH_anon_WITH_AES_128_CBC_SHA", Anonymous),
            ("TLS_ECDH_anon_WITH_AES_256_CBC_SHA", Anonymous),
            ("ANON_DH_AES_128_CBC_SHA1", Anonymous),
            ("ANON_ECDH_AES_256_CBC_SHA1", Anonymous),
            ("ADH-RC4-MD5", Anonymous),
            // EXPORT: OpenSSL, IANA, GnuTLS.
            ("EXP-RC4-MD5", Export),
            ("EXP-EDH-RSA-DES-CBC-SHA", Export),
            ("EXP1024-DES-CBC-SHA", Export),
            ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", Export),
            ("TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", Export),
            ("RSA_EXPORT_ARCFOUR_40_MD5", Export),
            ("EXP-ADH-RC4-MD5", Export),
            // NULL is the weakest of all.
            ("NULL-SHA256", Null),
            ("TLS_ECDH_anon_WITH_NULL_SHA", Null),
            ("TLS_RSA_WITH_NULL_SHA", Null),
            // The rest.
            ("TLS_AES_256_GCM_SHA384", AesGcm),
            ("ECDHE-RSA-AES256-GCM-SHA384", AesGcm),
            ("ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM", AesGcm),
            ("ECDHE_RSA_AES_256_GCM_SHA384", AesGcm),
            ("TLS_CHACHA20_POLY1305_SHA256", ChaCha20Poly1305),
            ("ECDHE_RSA_CHACHA20_POLY1305", ChaCha20Poly1305),
            ("DHE-RSA-AES256-CCM", AesCcm),
            ("DHE-RSA-AES256-SHA", AesCbc),
            ("ECDHE_RSA_AES_128_CBC_SHA1", AesCbc),
            ("DES-CBC3-SHA", TripleDes),
            ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", TripleDes),
            ("RSA_3DES_EDE_CBC_SHA1", TripleDes),
            ("EDH-RSA-DES-CBC-SHA", Des),
            ("TLS_RSA_WITH_DES_CBC_SHA", Des),
            ("RC4-MD5", Rc4),
            ("RC4-SHA", Rc4),
            ("RSA_ARCFOUR_128_SHA1", Rc4),
            ("CAMELLIA256-SHA", Camellia),
            ("ECDHE-ARIA256-GCM-SHA384", Aria),
            ("IDEA-CBC-SHA", LegacyOther),
            ("WEIRD-CIPHER", Other),
            // Words, not substrings: no suite is EXPORT for containing the letters E-X-P.
            ("TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", AesCbc),
        ];
        for (name, fam) in rows {
            assert_eq!(classify(name), fam, "{name}");
            assert_eq!(
                classify(&name.to_ascii_lowercase()),
                fam,
                "{name} lower case"
            );
        }
    }

    #[test]
    fn names_are_distinct_closed_sets() {
        let mut p: Vec<_> = CipherFamily::ALL.iter().map(|f| f.policy_name()).collect();
        let mut m: Vec<_> = CipherFamily::ALL.iter().map(|f| f.metric_label()).collect();
        p.sort();
        p.dedup();
        m.sort();
        m.dedup();
        assert_eq!((p.len(), m.len()), (15, 15));
    }
}
