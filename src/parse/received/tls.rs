//! The TLS readers of a `Received:` value: every comment form and protocol word that
//! says something about encryption (FORMATS.md §1.5, §2.4, §3.4, §4).

use super::{
    HopTls, HopTlsDetails, before_byte, has_blank, split_ascii_by, split_once_byte, trim_blanks,
    words,
};
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
        let c = trim_blanks(c);
        if may_be_tls_by_its_ends(c) {
            return self.read(c);
        }
        // What `read` would do with it: `version=` is its first test, and the only one
        // left for a comment the gate above turns away (one `version=` search, not two).
        if has_version_eq(c) {
            self.key_values(c);
            return true;
        }
        false
    }

    /// [`TlsCollector::offer`] without its first-letter gate, on a trimmed comment.
    pub(super) fn read(&mut self, c: &str) -> bool {
        if has_version_eq(c) || starts_with_ci(c, "cipher=") {
            self.key_values(c);
        } else if starts_with_ci(c, "using ") {
            self.using(c);
        } else if starts_with_ci(c, "client cn ") || starts_with_ci(c, "client cn\"") {
            self.client_cert(c);
        } else if starts_with_ci(c, "client did not present")
            || starts_with_ci(c, "no client certificate requested")
        {
            // Postfix's two phrasings for a client without a certificate are one word,
            // `NO`, as its log's `Anonymous` is (see parse::postfix, "Trust words"): a
            // session must not read NOT in the log and NO in its header.
            self.details().verify = Some(Verify::No);
        } else if starts_with_ci(c, "client rpk ") {
            self.details();
        } else if let Some(rest) = courier_tls(c) {
            self.courier(rest);
        } else if let Some(cipher) = c
            .strip_suffix(" encrypted")
            .filter(|x| !x.is_empty() && !has_blank(x))
        {
            // qmail-tls and qpsmtpd: `with (ECDHE-RSA-AES256-GCM-SHA384 encrypted) SMTP`.
            self.details().cipher = Some(Cipher::new(cipher));
        } else if c == "TLS" || c == "tls" {
            self.bare_tls = true;
        } else if is_version_word(c) {
            self.details().version = Some(TlsVersion::parse(c));
        } else if let Some(rest) =
            strip_prefix_ci(c, "cipher ").or_else(|| strip_prefix_ci(c, "tls_cipher "))
        {
            // Exim 3 `(Cipher TLSv1:DES-CBC3-SHA:168)`, a custom Exim 4 template's
            // `(tls_cipher TLS-1.0:RSA_AES_256_CBC_SHA:32)`: the same string, labelled.
            return self.exim_cipher_string(rest.trim());
        } else if !self.exim_cipher_string(c) {
            return false;
        }
        true
    }

    /// `version=TLSv1.2 cipher=… bits=256[/256] verify=NOT` (Sendmail, Gmail, Proofpoint)
    /// and `version=TLS1_2, cipher=…` (Microsoft).
    fn key_values(&mut self, c: &str) {
        let d = self.details();
        let parts = split_ascii_by(c, |b| matches!(b, b' ' | b'\t' | b','));
        for part in parts.filter(|p| !p.is_empty()) {
            let Some((k, v)) = split_once_byte(part, b'=') else {
                continue;
            };
            if k.eq_ignore_ascii_case("version") {
                d.version = Some(TlsVersion::parse(v));
            } else if k.eq_ignore_ascii_case("cipher") {
                d.cipher = Some(Cipher::new(v));
            } else if k.eq_ignore_ascii_case("bits") {
                d.bits = header_bits(v);
            } else if k.eq_ignore_ascii_case("verify") {
                d.verify = Some(Verify::parse(v));
            }
        }
    }

    /// `using V with cipher C (A/B bits) [key-exchange K …]` (Postfix, Symantec, Strato) and
    /// Sendmail's older `using V with cipher C (N bits) verified W`.
    ///
    /// One walk of the words reads the version (the second word), the cipher (after the
    /// first `with cipher`) and every `verified W` / `key-exchange K` (the last wins): the
    /// three walks it replaces (kept as the oracle of `using_one_walk_is_three`) split the
    /// most common TLS comment three times.
    fn using(&mut self, c: &str) {
        let d = self.details();
        let mut cipher_read = false;
        let mut prev: [&str; 2] = ["", ""];
        let mut ws = words(c).peekable();
        let mut n = 0usize;
        while let Some(w) = ws.next() {
            if n == 1 {
                d.version = Some(TlsVersion::parse(w));
            }
            n += 1;
            if !cipher_read && prev == ["with", "cipher"] {
                d.cipher = Some(Cipher::new(w));
                cipher_read = true;
            }
            prev = [prev[1], w];
            match (w, ws.peek()) {
                ("verified", Some(v)) => {
                    d.verify = Some(Verify::parse(v.trim_end_matches(')')));
                }
                ("key-exchange", Some(k)) => d.key_exchange = Some((*k).to_owned()),
                _ => {}
            }
        }
        using_bits(d, c);
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
        // Parts between quotes: [`Client CN `, cn, `, Issuer `, issuer, ` (verified OK)`].
        let mut quoted = c.split('"');
        let _ = quoted.next();
        d.client_cn = quoted.next().map(str::to_owned);
        if quoted.next().is_some_and(|s| s.contains("Issuer")) {
            d.client_issuer = quoted.next().map(str::to_owned);
        }
        let tail = c.rsplit('"').next().unwrap_or("");
        d.verify = if tail.contains("not verified") {
            Some(Verify::Fail)
        } else if tail.contains("verified OK") {
            Some(Verify::Ok)
        } else {
            d.verify.take()
        };
    }

    /// Exim's cipher string (FORMATS.md §3.2), as Exim ≤ 4.92 puts it in the header
    /// (`(TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)`): version, cipher, the last numeric
    /// field as bits, an optional trailing key-exchange group. Old GnuTLS builds (Exim
    /// before 4.80) wrote the protocol with a dash, `TLS-1.0` / `SSL-3.0` (GnuTLS's
    /// `TLS 1.0` with the blank replaced), and the key size in *bytes*
    /// (`RSA_AES_256_CBC_SHA:32`): that number is given here in bits, as later builds do.
    fn exim_cipher_string(&mut self, c: &str) -> bool {
        if has_blank(c) {
            return false;
        }
        let Some((first, rest)) = c.split_once(':') else {
            return false;
        };
        let old_gnutls = dashed_version(first);
        if !rest.contains(':') || !(is_version_word(first) || old_gnutls.is_some()) {
            return false;
        }
        // The rightmost all-digit field, and its byte range in `rest`.
        let mut end = rest.len();
        let mut found = None;
        for field in rest.rsplit(':') {
            let start = end - field.len();
            if !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit()) {
                found = Some((start, field));
                break;
            }
            end = start.saturating_sub(1);
        }
        // The bits must come after at least one cipher field (the third field or later).
        let Some((bits_at, bits)) = found.filter(|&(start, _)| start > 0) else {
            return false;
        };
        let cipher = rest.get(..bits_at - 1).unwrap_or("");
        let after = rest.get(bits_at + bits.len()..).unwrap_or("");
        let n: Option<u16> = bits.parse().ok();
        let d = self.details();
        (d.version, d.bits) = match old_gnutls {
            Some(v) => (Some(v), Bits::single(n.and_then(|b| b.checked_mul(8)))),
            None => (Some(TlsVersion::parse(first)), Bits::single(n)),
        };
        d.cipher = Some(Cipher::new(cipher));
        d.key_exchange = after
            .strip_prefix(':')
            .map(|k| k.split(':').next().unwrap_or(k).to_owned());
        true
    }

    /// The hop's TLS state: details win; then the TLS words; then plaintext words. A
    /// stamp that names a cipher anywhere is TLS, never plaintext.
    pub(super) fn verdict(mut self, with: Option<&str>) -> HopTls {
        let with = with.unwrap_or("");
        // IronPort: `ESMTP/TLS/<cipher>`.
        let mut slash = split_ascii_by(with, |b| b == b'/');
        let base = slash.next().unwrap_or("");
        if slash.next().is_some_and(|t| t.eq_ignore_ascii_case("tls")) {
            match slash.next().filter(|c| !c.is_empty()) {
                Some(cipher) if self.details.is_none() => {
                    self.details().cipher = Some(Cipher::new(cipher));
                }
                _ => self.bare_tls = true,
            }
        }
        // Details decide alone: the protocol word is not split for them (most TLS hops).
        if let Some(d) = self.details {
            return HopTls::Tls(d);
        }
        let mut ws = words(base);
        let word = ws.next().unwrap_or("");
        // MessageLabs (Symantec.cloud): `with AES256-GCM-SHA384 encrypted SMTP`.
        if ws
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("encrypted"))
        {
            self.details().cipher = Some(Cipher::new(word));
        }
        if let Some(d) = self.details {
            return HopTls::Tls(d);
        }
        if self.bare_tls || is_tls_protocol(word) {
            return HopTls::TlsNoDetails;
        }
        if is_plain_protocol(word) || starts_with_ci(with, "microsoft smtp server") {
            return HopTls::Plaintext;
        }
        HopTls::Unknown
    }
}

/// False for a comment that none of [`TlsCollector::offer`]'s readers takes unless it
/// holds `version=`: one not ending in ` encrypted` and starting with none of the letters
/// the readers' prefixes start with (`cipher…`, `client…`, `using`, `no client…`, `tls…`,
/// `auth:`, `ssl…`: the version words and Exim's cipher strings begin with TLS or SSL).
///
/// Why: every comment of every stamp is offered, and most are notes (`(Postfix)`,
/// `(Exim 4.97)`, `(envelope-from <…>)`, the sender's `(name [ip])`) that went through
/// every test in turn; the first letter turns them away at once (a proptest compares
/// `offer` with and without this gate).
///
/// [`TlsCollector::offer`] tests `version=` itself, after this gate.
fn may_be_tls_by_its_ends(c: &str) -> bool {
    matches!(
        c.as_bytes().first().map(u8::to_ascii_lowercase),
        Some(b'c' | b'u' | b'n' | b't' | b'a' | b's')
    ) || c.ends_with(" encrypted")
}

/// The first `(… bits)` group of a `using` comment is the cipher's.
fn using_bits(d: &mut HopTlsDetails, c: &str) {
    if let Some(open) = memchr::memchr(b'(', c.as_bytes()) {
        let inner = c.get(open + 1..).unwrap_or("");
        let inner = before_byte(inner, b')');
        if let Some(nums) = trim_blanks(inner).strip_suffix("bits") {
            let nums = trim_blanks(nums);
            d.bits = match split_once_byte(nums, b'/') {
                Some((a, b)) => {
                    Bits::postfix(trim_blanks(a).parse().ok(), trim_blanks(b).parse().ok())
                }
                None => Bits::single(nums.parse().ok()),
            };
        }
    }
}

/// `TLSv1.2`, `TLS1.3`, `TLS1_2`, `SSLv3`, `TLSv1/SSLv3` (case ignored).
fn is_version_word(w: &str) -> bool {
    let rest = strip_prefix_ci(w, "tls")
        .or_else(|| strip_prefix_ci(w, "ssl"))
        .unwrap_or("");
    let rest = rest
        .strip_prefix('v')
        .or_else(|| rest.strip_prefix('V'))
        .unwrap_or(rest);
    rest.starts_with(|c: char| c.is_ascii_digit())
        && rest.bytes().all(|c| {
            c.is_ascii_digit()
                || matches!(
                    c.to_ascii_lowercase(),
                    b'.' | b'_' | b'/' | b's' | b'l' | b'v'
                )
        })
}

/// Old GnuTLS Exim's `TLS-1.0`, `TLS-1.2`, `SSL-3.0`.
fn dashed_version(w: &str) -> Option<TlsVersion> {
    let v = match w.to_ascii_uppercase().as_str() {
        "SSL-3.0" => TlsVersion::Ssl3,
        "TLS-1.0" => TlsVersion::Tls1_0,
        "TLS-1.1" => TlsVersion::Tls1_1,
        "TLS-1.2" => TlsVersion::Tls1_2,
        _ => return None,
    };
    Some(v)
}

/// Courier's `TLS: …` comment, alone or after its `AUTH: …, ` part:
/// `(AUTH: LOGIN alice, TLS: TLSv1.2,256bits,ECDHE-RSA-AES256-GCM-SHA384)`.
fn courier_tls(c: &str) -> Option<&str> {
    if let Some(rest) = strip_prefix_ci(c, "tls: ") {
        return Some(rest);
    }
    if !starts_with_ci(c, "auth: ") {
        return None;
    }
    let at = find_ci(c, ", tls: ")?;
    c.get(at + ", tls: ".len()..)
}

/// `s` starts with the ASCII `prefix`, case ignored.
fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// `s` without the ASCII `prefix` (case ignored).
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if starts_with_ci(s, prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Where the ASCII `needle` first occurs in `s`, case ignored.
fn find_ci(s: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    let first = *n.first()?;
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr2(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        b.get(from..)?,
    ) {
        let at = from + i;
        if b.get(at..at + n.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(n))
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `s` contains `version=`, case ignored: only a `=` can end it, so the `=`s are found
/// first and the seven bytes before each compared.
///
/// Why: every comment that no first letter turns away is searched for `version=` (the
/// sender's `(name [ip])`, `(Postfix)`, `(envelope-from …)`), and the search for its
/// first letter stopped at every `v` (~40 M instructions of a 64 MB mailbox scan,
/// issue 21); most comments have no `=` at all. `version_eq_is_contains_ci`.
fn has_version_eq(s: &str) -> bool {
    let b = s.as_bytes();
    // An `=` before the eighth byte has no room for `version` before it: the search
    // starts there, and a comment shorter than `version=` (`(Postfix)`) is not searched.
    let Some(tail) = b.get(7..) else {
        return false;
    };
    // The `=` at `j` of the tail is at `j + 7` of `b`: `version` would start at `j`.
    memchr::memchr_iter(b'=', tail).any(|j| {
        b.get(j..j + 7)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"version"))
    })
}

/// `s` contains the ASCII `needle`, case ignored (the oracle of [`has_version_eq`]).
#[cfg(test)]
fn contains_ci(s: &str, needle: &str) -> bool {
    find_ci(s, needle).is_some()
}

/// RFC 3848 (and Exim's implicit-TLS) protocol words that mean the hop was encrypted.
fn is_tls_protocol(w: &str) -> bool {
    TLS_PROTOCOLS.iter().any(|p| p.eq_ignore_ascii_case(w))
}

const TLS_PROTOCOLS: [&str; 12] = [
    "ESMTPS",
    "ESMTPSA",
    "UTF8SMTPS",
    "UTF8SMTPSA",
    "LMTPS",
    "LMTPSA",
    "UTF8LMTPS",
    "UTF8LMTPSA",
    "SMTPS",
    "SSMTP",
    "ESSMTP",
    "ESSMTPA",
];

/// SMTP/LMTP protocol words without TLS (case ignored).
fn is_plain_protocol(w: &str) -> bool {
    PLAIN_PROTOCOLS.iter().any(|p| p.eq_ignore_ascii_case(w))
}

const PLAIN_PROTOCOLS: [&str; 11] = [
    "SMTP",
    "ESMTP",
    "ESMTPA",
    "LMTP",
    "LMTPA",
    "UTF8SMTP",
    "UTF8SMTPA",
    "UTF8LMTP",
    "UTF8LMTPA",
    "ASMTP",
    "QMQP",
];

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `TlsCollector::using` as it was, three walks of the words: the oracle.
    fn using_three_walks(d: &mut HopTlsDetails, c: &str) {
        let mut ws = words(c);
        ws.next();
        if let Some(v) = ws.next() {
            d.version = Some(TlsVersion::parse(v));
        }
        // The first `with cipher X`.
        let mut prev: [&str; 2] = ["", ""];
        for w in words(c) {
            if prev == ["with", "cipher"] {
                d.cipher = Some(Cipher::new(w));
                break;
            }
            prev = [prev[1], w];
        }
        // The first `(… bits)` group is the cipher's (read as it always was).
        using_bits(d, c);
        let mut ws = words(c).peekable();
        while let Some(w) = ws.next() {
            match (w, ws.peek()) {
                ("verified", Some(v)) => {
                    d.verify = Some(Verify::parse(v.trim_end_matches(')')));
                }
                ("key-exchange", Some(k)) => d.key_exchange = Some((*k).to_owned()),
                _ => {}
            }
        }
    }

    proptest! {
        /// The `=`-first search finds `version=` exactly where the case-blind search does.
        #[test]
        fn version_eq_is_contains_ci(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("version"), Just("VERSION"), Just("Version="), Just("="), Just("v"),
                    Just("ersion"), Just(" "), Just("é"), Just("version ="), Just("x"),
                ],
                0..8,
            )
        ) {
            let c = parts.concat();
            prop_assert_eq!(has_version_eq(&c), contains_ci(&c, "version="), "{:?}", c);
        }

        /// One walk of a `using` comment's words reads what the three walks read.
        #[test]
        fn using_one_walk_is_three(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("using"), Just("TLSv1.3"), Just("TLSv1.2"), Just("with"), Just("cipher"),
                    Just("TLS_AES_256_GCM_SHA384"), Just("(256/256 bits)"), Just("(128"),
                    Just("bits)"), Just("verified"), Just("OK)"), Just("key-exchange"),
                    Just("X25519"), Just("server-signature"), Just("RSA-PSS"), Just("("),
                    Just(")"), Just("\u{A0}"), Just("é"),
                ],
                0..14,
            )
        ) {
            let c = parts.join(" ");
            let mut one = TlsCollector::default();
            one.using(&c);
            let mut three = HopTlsDetails::default();
            using_three_walks(&mut three, &c);
            prop_assert_eq!(one.details, Some(three), "{:?}", c);
        }
    }
}
