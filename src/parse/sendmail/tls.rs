//! `STARTTLS…` lines (the summary and its relay-keyed relatives, errors, debug traces),
//! `tls_*_features` lines, and which sendmail function a TLS error names.

use super::fields::{KeyId, each_field, field, id_of, next_any_key};
use super::relay::parse_relay;
use crate::model::{
    Bits, Cipher, Direction, EventKind, Peer, TlsError, TlsErrorKind, TlsParams, TlsSession,
    TlsVersion, Verify,
};
use crate::parse::Parsed;

pub(super) fn tls_error(
    dir: Option<Direction>,
    peer: Option<Peer>,
    kind: TlsErrorKind,
    msg: &str,
) -> Parsed {
    // Sendmail's error lines all read `STARTTLS=%s, error: …`.
    let text = match msg.find(", error: ") {
        Some(i) => &msg[i + ", error: ".len()..],
        None => msg,
    };
    Parsed::Event(EventKind::TlsError(TlsError {
        direction: dir,
        peer,
        kind,
        text: text.to_owned(),
    }))
}

fn side(word: &str) -> Option<Direction> {
    match word {
        "server" => Some(Direction::Inbound),
        "client" => Some(Direction::Outbound),
        _ => None,
    }
}

/// `STARTTLS…` lines. `all` is the whole text, `rest` what follows `STARTTLS`.
pub(super) fn starttls(all: &str, rest: &str) -> Parsed {
    if let Some(r) = rest.strip_prefix(": ") {
        return starttls_noside(all, r);
    }
    let Some(r) = rest.strip_prefix('=') else {
        return Parsed::Irrelevant;
    };
    let stop = r.find([',', ':']).unwrap_or(r.len());
    let who = &r[..stop];
    let dir = side(who);
    let after = &r[stop..];
    if let Some(detail) = after.strip_prefix(": ") {
        // `STARTTLS=%s: file %s unsafe: %s` or the OpenSSL error-queue dump.
        if detail.starts_with("file ") && detail.contains(" unsafe: ") {
            // `unsafe: No such file or directory` is sendmail's word for a file that is
            // not there (safefile() fails with ENOENT): a wrong path, not permissions.
            let kind = if detail.ends_with("No such file or directory") {
                TlsErrorKind::MissingFile
            } else {
                TlsErrorKind::UnsafeFile
            };
            return tls_error(dir, None, kind, all);
        }
        let kind = crate::parse::reason_kind(detail).unwrap_or(TlsErrorKind::Library);
        return tls_error(dir, None, kind, all);
    }
    let Some(detail) = after.strip_prefix(", ") else {
        return Parsed::Irrelevant;
    };
    if let Some(r) = detail.strip_prefix("relay=") {
        return starttls_relay(all, dir, r);
    }
    if let Some(e) = detail.strip_prefix("error: ") {
        let peer = if e.starts_with("accept failed=") {
            field(e, "relay").map(parse_relay)
        } else {
            None
        };
        return tls_error(dir, peer, error_kind(e), all);
    }
    trace_or_error(all, dir, detail)
}

/// Classifies the text after `STARTTLS=%s, error: ` by the function sendmail names. A
/// failed handshake whose `reason=` is an alert the peer sent about a certificate
/// (`sslv3 alert certificate expired`, `tlsv1 alert unknown ca`) is the peer refusing
/// *our* certificate, the same rule as for Postfix and Exim ([`crate::parse::reason_kind`]).
fn error_kind(e: &str) -> TlsErrorKind {
    if (e.starts_with("accept failed=") || e.starts_with("connect failed="))
        && let Some(reason) = field(e, "reason")
        && crate::parse::reason_kind(reason) == Some(TlsErrorKind::CertificateRejected)
    {
        return TlsErrorKind::CertificateRejected;
    }
    // tls.c: a cipher list or suite list OpenSSL refuses is logged `… failed, list
    // ignored` / `suites ignored` and TLS goes on with OpenSSL's defaults.
    if e.starts_with("SSL_CTX_set_cipher") && e.ends_with(" ignored") {
        return TlsErrorKind::CipherIgnored;
    }
    const TABLE: &[(&str, TlsErrorKind)] = &[
        ("accept failed=", TlsErrorKind::Handshake),
        ("connect failed=", TlsErrorKind::Handshake),
        ("SSL_CTX_use_PrivateKey_file", TlsErrorKind::PrivateKey),
        ("SSL_use_PrivateKey_file", TlsErrorKind::PrivateKey),
        ("SSL_check_private_key", TlsErrorKind::PrivateKey),
        ("SSL_CTX_check_private_key", TlsErrorKind::PrivateKey),
        ("SSL_CTX_use_certificate", TlsErrorKind::Certificate),
        ("SSL_use_certificate", TlsErrorKind::Certificate),
        ("load verify locs", TlsErrorKind::CaLocations),
        ("X509_LOOKUP_add_dir", TlsErrorKind::CaLocations),
        ("X509_STORE_add_lookup", TlsErrorKind::CaLocations),
        ("X509_STORE_add_crl", TlsErrorKind::CaLocations),
        ("BIO_read_filename", TlsErrorKind::CaLocations),
        ("PEM_read_bio_X509_CRL", TlsErrorKind::CaLocations),
        // CRL loading (tls.c): `BIO_new=failed`; `BIO_new_file(%s)` is DH parameters.
        ("BIO_new=", TlsErrorKind::CaLocations),
        ("BIO_new_file(", TlsErrorKind::DhParams),
        ("SSL_CTX_set_cipher_list", TlsErrorKind::CipherConfig),
        ("SSL_CTX_set_ciphersuites", TlsErrorKind::CipherConfig),
        ("SSL_set_cipher_list", TlsErrorKind::CipherConfig),
        ("SSL_set_ciphersuites", TlsErrorKind::CipherConfig),
        ("illegal value '", TlsErrorKind::CipherConfig),
        ("cannot read DH parameters", TlsErrorKind::DhParams),
        (
            "cannot read or set DH parameters",
            TlsErrorKind::CipherConfig,
        ),
        ("SSL_CTX_new(", TlsErrorKind::Init),
        ("RSA_generate_key", TlsErrorKind::Init),
        ("SSL_new failed", TlsErrorKind::Init),
        ("SSL_set_ex_data failed", TlsErrorKind::Init),
        ("SSL_set_xfd failed", TlsErrorKind::Init),
    ];
    for (prefix, kind) in TABLE {
        if e.starts_with(prefix) {
            return *kind;
        }
    }
    // `%s(%s) failed` with SSL_CTX_use_certificate_chain_file or a future loader.
    if e.contains("certificate") {
        return TlsErrorKind::Certificate;
    }
    if e.contains("PrivateKey") || e.contains("private_key") {
        return TlsErrorKind::PrivateKey;
    }
    TlsErrorKind::Other
}

/// `STARTTLS=%s, …` lines that are neither `relay=` nor `error:`.
///
/// What is an event and what is irrelevant, checked against sendmail's source:
///
/// * `init=%d` is `inittls()`'s result (`LogLevel > 12`): `init=1` is a successful
///   initialisation, evidence that TLS is up for that role
///   ([`EventKind::TlsReady`]); `init=0` means the TLS context could not be set
///   up (the specific cause is logged before it) and is an [`TlsErrorKind::Init`] error.
/// * `Diffie-Hellman init, key=…`, `cert-subject=…` (the certificate detail written after
///   every summary at `LogLevel > 11`), `get_verify:`, `start=ok`, `info: fds=`,
///   `SSL_MODE_AUTO_RETRY=set`, `tmp_rsa_key: new temp RSA key`, `FIPSMode=ok`, and the
///   `SSL_dane_enable=%d, domain=%s` / `tlsa_chk=0, type=…` traces are irrelevant: they
///   describe normal operation at debug levels.
/// * `SSL_shutdown failed|not done` (`LogLevel > 11`) are irrelevant too; engine, FIPS, ex-index, temp-RSA and
///   `SSL_dane_enable=%d` (without domain, logged only when it fails) → init/DANE errors.
/// * `host=%s, SSL_set_tlsext_host_name=%d` looks like a trace but sendmail logs it only
///   when setting SNI *failed* (`r <= 0`, `LOG_ERR`); the handshake goes on without SNI, so
///   it is [`TlsErrorKind::Other`]. `host=%s, ssl_dane_enable=%d` is likewise a failure
///   (DANE).
fn trace_or_error(all: &str, dir: Option<Direction>, d: &str) -> Parsed {
    if let Some(v) = d.strip_prefix("init=") {
        return match v.trim() {
            "0" => tls_error(dir, None, TlsErrorKind::Init, all),
            "1" => Parsed::Event(EventKind::TlsReady { direction: dir }),
            _ => Parsed::Irrelevant,
        };
    }
    if d.starts_with("SSL_shutdown") {
        // `SSL_shutdown failed: -1` / `not done` are written only at LogLevel > 11, after a
        // session that did its work, usually because the peer closed first: counting them
        // made LogLevel 14 grade worse than 9 (issue 18).
        return Parsed::Irrelevant;
    }
    if let Some(v) = d.strip_prefix("FIPSMode=") {
        return if v == "ok" {
            Parsed::Irrelevant
        } else {
            tls_error(dir, None, TlsErrorKind::Init, all)
        };
    }
    if d.starts_with("engine=")
        || d.starts_with("SSL_set_engine=failed")
        || d.starts_with("SSL_get_ex_new_index=")
        || d.starts_with("tmp_rsa_key: RSA_generate_key failed")
    {
        return tls_error(dir, None, TlsErrorKind::Init, all);
    }
    if d.starts_with("EC_KEY_new_by_curve_name")
        || d.starts_with("CertFingerprintAlgorithm=")
        || d.starts_with("get_tls_se_features=failed")
    {
        return tls_error(dir, None, TlsErrorKind::CipherConfig, all);
    }
    if let Some(v) = d.strip_prefix("SSL_dane_enable=") {
        return if v.contains(", domain=") {
            Parsed::Irrelevant
        } else {
            tls_error(dir, None, TlsErrorKind::Dane, all)
        };
    }
    if let Some(h) = d.strip_prefix("host=") {
        let host = h.split(", ").next().map(|n| Peer::new(Some(n), None));
        if h.contains(", SSL_set_tlsext_host_name=") {
            return tls_error(dir, host, TlsErrorKind::Other, all);
        }
        if h.contains(", ssl_dane_enable=") {
            return tls_error(dir, host, TlsErrorKind::Dane, all);
        }
        return Parsed::Irrelevant;
    }
    // `%s=%d, type=%d-%d-%d, fp=%s`: a TLSA record that could not be added (r < 0) or a
    // debug trace (r >= 0).
    if d.contains(", type=") && d.contains(", fp=") {
        let r = d
            .split(", ")
            .next()
            .and_then(|kv| kv.split('=').nth(1))
            .and_then(|n| n.parse::<i64>().ok());
        return if r.is_some_and(|r| r < 0) {
            tls_error(dir, None, TlsErrorKind::Dane, all)
        } else {
            Parsed::Irrelevant
        };
    }
    Parsed::Irrelevant
}

/// `STARTTLS=%s, relay=%.100s, …`: the summary line and its relay-keyed relatives.
fn starttls_relay(all: &str, dir: Option<Direction>, r: &str) -> Parsed {
    let end = next_any_key(r);
    let relay = &r[..end.unwrap_or(r.len())];
    let after = end.map_or("", |i| &r[i + 2..]);
    if after.starts_with("version=") {
        return summary(dir, relay, after);
    }
    if end.is_none() {
        return Parsed::Malformed(format!("STARTTLS line ends after relay=: {all}"));
    }
    let peer = Some(parse_relay(relay));
    // `field=…, status=…`: the peer certificate's CN or AltName could not be read.
    if after.starts_with("field=") {
        return tls_error(dir, peer, TlsErrorKind::CertVerify, all);
    }
    if after.starts_with("warning=DANE") {
        return tls_error(dir, peer, TlsErrorKind::Dane, all);
    }
    // Only logged when computing the certificate fingerprint failed (`r <= 0`).
    if after.starts_with("X509_digest=") {
        return tls_error(dir, peer, TlsErrorKind::Other, all);
    }
    // `AltName=` (LOG_DEBUG), `tlsstate=…, status=trying_again` (LOG_DEBUG, tTd only):
    // traces of normal operation.
    Parsed::Irrelevant
}

fn summary(dir: Option<Direction>, relay: &str, fields_text: &str) -> Parsed {
    let Some(direction) = dir else {
        return Parsed::Malformed(format!(
            "STARTTLS summary with no server/client side: {fields_text}"
        ));
    };
    // The first value of each key read (as a lookup in the split fields would find it),
    // gathered in one walk without collecting the fields.
    const VERSION: KeyId = id_of("version");
    const VERIFY: KeyId = id_of("verify");
    const CIPHER: KeyId = id_of("cipher");
    const BITS: KeyId = id_of("bits");
    let [mut version, mut verify, mut cipher, mut bits] = [None::<&str>; 4];
    each_field(fields_text, &[], |id, _, v| {
        let slot = match id {
            Some(VERSION) => &mut version,
            Some(VERIFY) => &mut verify,
            Some(CIPHER) => &mut cipher,
            Some(BITS) => &mut bits,
            _ => return,
        };
        slot.get_or_insert(v);
    });
    fn get(v: Option<&str>) -> Option<&str> {
        v.filter(|v| !v.is_empty())
    }
    let Some(version) = get(version) else {
        return Parsed::Malformed("STARTTLS summary with an empty version=".into());
    };
    let Some(verify) = get(verify) else {
        return Parsed::Malformed("STARTTLS summary without verify=".into());
    };
    let Some(cipher) = get(cipher) else {
        return Parsed::Malformed("STARTTLS summary without cipher=".into());
    };
    let Some(bits) = get(bits) else {
        return Parsed::Malformed("STARTTLS summary without bits=".into());
    };
    let Some((alg, secret)) = parse_bits(bits) else {
        return Parsed::Malformed(format!("STARTTLS summary with unreadable bits={bits}"));
    };
    Parsed::Event(EventKind::Tls(TlsSession {
        direction,
        peer: parse_relay(relay),
        params: TlsParams {
            version: TlsVersion::parse(version),
            cipher: Some(Cipher::new(cipher)),
            bits: Bits::sendmail_log(alg, secret),
            verify: Verify::parse(verify),
            detail: None,
        },
    }))
}

/// `A/B` (each `%.6s`), possibly glued to 8.17.2's `status=…` suffix.
fn parse_bits(b: &str) -> Option<(Option<u16>, Option<u16>)> {
    let (a, rest) = b.split_once('/')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let tail = &rest[digits..];
    if !(tail.is_empty() || tail.starts_with("status=")) {
        return None;
    }
    Some((a.trim().parse().ok(), rest[..digits].parse().ok()))
}

/// `STARTTLS: …` lines (no side).
///
/// Two families are information, not errors, and are irrelevant (issue 18): `%s missing`
/// (`CRLFile missing`, `CACertPath missing`, … : `tls_ok_f()` at `LogLevel > 12` saying an
/// option is not set; a consequence, if any, is logged by its own error line or shows as
/// no STARTTLS), and the `%s cert verify: depth=…` detail written per certificate at
/// `LogLevel > 13` (its outcome is the summary's `verify=`). Counting them made a session
/// grade differently at `LogLevel` 9 and 14.
fn starttls_noside(all: &str, r: &str) -> Parsed {
    if r.ends_with(" missing") || r.contains(" cert verify: ") {
        return Parsed::Irrelevant;
    }
    let kind = if r.starts_with("read error=") || r.starts_with("write error=") {
        TlsErrorKind::Io
    } else if r.starts_with("SSL3 alert ") || r.contains(":failed in ") || r.contains(":error in ")
    {
        TlsErrorKind::Handshake
    } else if r.starts_with("RandFile ")
        || r.starts_with("size(")
        || r.starts_with("can't fstat(")
        || r.starts_with("Warning: safeopen(")
    {
        TlsErrorKind::UnsafeFile
    } else if r.starts_with("RAND_")
        || r.starts_with("Error: no proper random file")
        || r.starts_with("Error: missing random file")
        || r.starts_with("Warning: random number generator")
    {
        TlsErrorKind::Init
    } else if r.starts_with("internal error") {
        TlsErrorKind::Other
    } else {
        // `SSL_accept:SSLv3 read client hello A` state traces, `info_callback where=`.
        return Parsed::Irrelevant;
    };
    tls_error(None, None, kind, all)
}

/// `tls_srv_features=…` / `tls_clt_features=…` (8.15.2+, readcf.c). Syntax errors and
/// rejected options are configuration errors; the normal per-connection lines (`=<list>`,
/// `=empty`, `=too_short`, `=parsed`) are traces.
pub(super) fn features(dir: Direction, all: &str, rest: &str) -> Parsed {
    let word = rest.split(", ").next().unwrap_or(rest);
    let error = matches!(
        word,
        "invalid_syntax"
            | "unknown_option"
            | "servername"
            | "only_one_of_CertFile/KeyFile_specified"
    ) || rest.contains(", error=");
    if !error {
        return Parsed::Irrelevant;
    }
    let peer = all
        .rfind(", relay=")
        .map(|i| parse_relay(&all[i + ", relay=".len()..]));
    tls_error(Some(dir), peer, TlsErrorKind::CipherConfig, all)
}

/// `SMTP STARTTLS command (%.100s) from %s tempfailed (due to previous checks)`.
pub(super) fn tempfail_peer(all: &str) -> Option<Peer> {
    let from = all.find(") from ")? + ") from ".len();
    let end = all.rfind(" tempfailed")?;
    (end > from).then(|| parse_relay(&all[from..end]))
}
