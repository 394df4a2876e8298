//! Sendmail's TLS-relevant log lines (FORMATS.md §1), read from the message text that
//! follows `sm-mta[pid]: `.
//!
//! Sendmail writes every STARTTLS line with no queue id (`NOQID`), per-message lines as
//! `QID: from=…` / `QID: to=…`, and splits over-long lines into pieces prefixed `[N]: ` or
//! `QID[N]: `. The parser first peels those prefixes, then dispatches on the first bytes
//! of what is left, so the great majority of a mail log (milter chatter, `AUTH=`,
//! `alias database rebuilt`, `starting daemon`, …) is rejected after a few byte compares
//! and without allocating.
//!
//! Values are kept exactly as logged. Sendmail's `str2prt()` turns `\` into `\\`, control
//! characters into `\t`/`\n`/`\r` and other non-printables into `\ooo`; nothing here
//! unescapes, so a value containing such sequences is passed through unchanged (and never
//! mistaken for a field separator, which is always `, key=`).
//!
//! Which lines are events and which are [`Parsed::Irrelevant`] is decided from sendmail's
//! source (`tls.c`, `deliver.c`, `srvrsmtp.c`, `sfsasl.c`, `readcf.c`, 8.12 → 8.18):
//! anything logged on *failure* is a [`TlsError`]; lines that sendmail only writes at high
//! `LogLevel` as traces of normal operation are irrelevant (see `trace_or_error`).

use std::net::IpAddr;
use std::sync::LazyLock;

use memchr::memmem;

use super::Parsed;
use crate::event::{
    Bits, Cipher, Delivery, DeliveryStatus, Direction, EventKind, Peer, PolicyCheck, Reception,
    TlsError, TlsErrorKind, TlsParams, TlsSession, TlsVersion, Verify,
};

/// Every `key=` sendmail writes on the lines we read. A value ends at the next
/// `, key=` with a key from this list, so commas inside values (`stat=Sent (ok 1234,
/// queued as …)`, `reason=` texts, quoted addresses) never split a field, and the order of
/// the fields does not matter.
const KEYS: &[&str] = &[
    // STARTTLS summary and relay-keyed STARTTLS lines
    "relay",
    "version",
    "verify",
    "cipher",
    "bits",
    "pubkey_fp",
    "status",
    "note",
    // from= line
    "from",
    "size",
    "class",
    "nrcpts",
    "msgid",
    "bodytype",
    "proto",
    "daemon",
    "auth",
    // to= line
    "to",
    "ctladdr",
    "delay",
    "xdelay",
    "mailer",
    "pri",
    "dsn",
    "stat",
    "reply",
    "quarantine",
    "ntries",
    "stage",
    // _FFR_LOG_MORE1/2 extras on from=/to= lines
    "tls_verify",
    "tls_version",
    // ruleset= lines
    "ruleset",
    "arg1",
    "arg2",
    "reject",
    // accept/connect failed
    "reason",
    "SSL_error",
    "errno",
    "retry",
    "timedout",
    // tls_*_features lines
    "opt",
    "errors",
    "error",
];

/// Reads one Sendmail message text (the part after `sm-mta[pid]: `).
pub fn parse(msg: &str) -> Parsed {
    let msg = msg.trim_end_matches(['\r', '\n']);
    let msg = strip_solaris_tag(msg);
    let (piece, body) = strip_piece(msg);
    let (qid, body) = split_qid(body);
    // A split line's pieces end with " ..." (conf.c); the marker is not part of the text.
    let body = if piece || qid.is_some_and(|q| q.ends_with(']')) {
        body.strip_suffix(" ...").unwrap_or(body)
    } else {
        body
    };
    let qid = qid.map(|q| q.split('[').next().unwrap_or(q));
    let Some(&first) = body.as_bytes().first() else {
        return Parsed::Irrelevant;
    };
    match first {
        b'S' => {
            if let Some(rest) = body.strip_prefix("STARTTLS") {
                return starttls(body, rest);
            }
            if body.starts_with("SMTP STARTTLS command (") {
                return tls_error(
                    Some(Direction::Inbound),
                    tempfail_peer(body),
                    TlsErrorKind::Other,
                    body,
                );
            }
            if let Some(v) = body.strip_prefix("SSL_CTX_dane_enable=") {
                return if v.trim().parse::<i64>().is_ok_and(|r| r <= 0) {
                    tls_error(Some(Direction::Outbound), None, TlsErrorKind::Dane, body)
                } else {
                    Parsed::Irrelevant
                };
            }
        }
        b'f' if body.starts_with("from=") => return reception(qid, body),
        b't' => {
            if body.starts_with("to=") {
                return delivery(qid, body);
            }
            if let Some(rest) = body.strip_prefix("tls_srv_features=") {
                return features(Direction::Inbound, body, rest);
            }
            if let Some(rest) = body.strip_prefix("tls_clt_features=") {
                return features(Direction::Outbound, body, rest);
            }
            if let Some(rest) = body.strip_prefix("timeout waiting for input from ") {
                return timeout_end(rest);
            }
        }
        b'r' => {
            if let Some(rest) = body.strip_prefix("ruleset=") {
                return policy(rest);
            }
            if let Some(rest) = body.strip_prefix("rscheck(tls_") {
                let dir = if rest.starts_with("srv") {
                    Some(Direction::Inbound)
                } else if rest.starts_with("clt") {
                    Some(Direction::Outbound)
                } else {
                    None
                };
                let peer = field(body, "relay").map(parse_relay);
                return tls_error(dir, peer, TlsErrorKind::CipherConfig, body);
            }
        }
        b'T' if body.starts_with("TLSA=") => {
            return tls_error(Some(Direction::Outbound), None, TlsErrorKind::Dane, body);
        }
        b'l' => {
            if let Some(rest) = body.strip_prefix("lost input channel from ") {
                return lost_input(rest);
            }
        }
        b's' if body.starts_with("smtps: TLS not available") => {
            return tls_error(Some(Direction::Inbound), None, TlsErrorKind::Init, body);
        }
        b'e' if body.starts_with("engine=") && body.ends_with(", init=failed") => {
            return tls_error(None, None, TlsErrorKind::Init, body);
        }
        _ => {}
    }
    static DID_NOT_ISSUE: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(" did not issue MAIL/EXPN/VRFY/ETRN"));
    if let Some(at) = DID_NOT_ISSUE.find(body.as_bytes()) {
        return did_not_issue(body, at);
    }
    Parsed::Irrelevant
}

/// Strips a Solaris `[ID 702911 mail.notice] ` tag, normally removed with the envelope,
/// in case the message reached us with it (pasted lines).
fn strip_solaris_tag(s: &str) -> &str {
    if let Some(t) = s.strip_prefix("[ID ")
        && let Some(close) = t.find("] ")
        && close <= 40
        && let Some(rest) = t.get(close + 2..)
    {
        return rest;
    }
    s
}

/// Strips the `[N]: ` prefix of a piece of a split line (NOQID form). Returns whether one
/// was there.
fn strip_piece(s: &str) -> (bool, &str) {
    if let Some(inner) = s.strip_prefix('[')
        && let Some(close) = inner.find("]: ")
        && close > 0
        && close <= 4
        && inner
            .get(..close)
            .is_some_and(|d| d.bytes().all(|c| c.is_ascii_digit()))
        && let Some(rest) = inner.get(close + 3..)
    {
        return (true, rest);
    }
    (false, s)
}

/// Splits an optional queue id (`l65DnTLe028546: `, `JAA12345[2]: `) off the front.
///
/// A queue id is 8 to 20 ASCII letters and digits with at least one digit, optionally
/// followed by a split-line piece number `[N]`, then `: `. `STARTTLS` (8 letters, as in
/// `STARTTLS: read error`) is excluded by the digit rule.
fn split_qid(s: &str) -> (Option<&str>, &str) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && i <= 20 && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if !(8..=20).contains(&i) || !b[..i].iter().any(u8::is_ascii_digit) {
        return (None, s);
    }
    let mut end = i;
    if b.get(i) == Some(&b'[') {
        let mut j = i + 1;
        while j < b.len() && j <= i + 5 && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > i + 1 && b.get(j) == Some(&b']') {
            end = j + 1;
        } else {
            return (None, s);
        }
    }
    if b.get(end) == Some(&b':') && b.get(end + 1) == Some(&b' ') {
        (Some(&s[..end]), &s[end + 2..])
    } else {
        (None, s)
    }
}

/// Splits `key=value, key=value, …` into pairs. A value runs to the next `, KEY=` where
/// KEY is one of [`KEYS`]; a key listed in `tail` takes the rest of the line (sendmail
/// writes `stat=`, `reject=` last and their texts contain anything).
fn split_fields<'a>(s: &'a str, tail: &[&str]) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::with_capacity(8);
    let mut cur = s;
    loop {
        let Some(eq) = cur.find('=') else {
            out.push(("", cur));
            break;
        };
        let key = &cur[..eq];
        let after = &cur[eq + 1..];
        if tail.contains(&key) {
            out.push((key, after));
            break;
        }
        match next_boundary(after) {
            Some(i) => {
                out.push((key, &after[..i]));
                cur = &after[i + 2..];
            }
            None => {
                out.push((key, after));
                break;
            }
        }
    }
    out
}

/// Position of the next `, KEY=` (KEY in [`KEYS`]) in `s`.
///
/// A candidate inside angle brackets (`msgid=<a, size=1@x>`) is skipped when the bracket
/// closes after it; an address cut by `%.200s` that never closes its `<` does not swallow
/// the rest of the line.
fn next_boundary(s: &str) -> Option<usize> {
    let mut from = 0;
    let mut open = 0usize;
    let mut scanned = 0;
    while let Some(off) = s.get(from..).and_then(|t| t.find(", ")) {
        let at = from + off;
        for c in s.get(scanned..at).unwrap_or("").bytes() {
            match c {
                b'<' => open += 1,
                b'>' => open = open.saturating_sub(1),
                _ => {}
            }
        }
        scanned = at;
        let rest = &s[at + 2..];
        if let Some(eq) = rest.find('=')
            && KEYS.contains(&&rest[..eq])
        {
            let closes_later = rest
                .find(['<', '>'])
                .is_some_and(|i| rest.as_bytes().get(i) == Some(&b'>'));
            if open == 0 || !closes_later {
                return Some(at);
            }
        }
        from = at + 2;
    }
    None
}

/// Position of the next `, word=` in `s`, whatever the word: the relay value on
/// `STARTTLS=%s, relay=…` lines is followed by many different keys (`version=`,
/// `field=`, `warning=`, `AltName=`, …) and never contains `, ` itself.
fn next_any_key(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(off) = s.get(from..).and_then(|t| t.find(", ")) {
        let at = from + off;
        let rest = &s[at + 2..];
        let word = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if word > 0 && rest.as_bytes().get(word) == Some(&b'=') {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// The value of one `key=` field anywhere in a line (not for tail keys).
fn field<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(off) = s.get(from..).and_then(|t| t.find(key)) {
        let at = from + off;
        let starts_field = at == 0 || s[..at].ends_with(", ") || s[..at].ends_with(' ');
        let after = &s[at + key.len()..];
        if starts_field && let Some(v) = after.strip_prefix('=') {
            let end = next_boundary(v).unwrap_or(v.len());
            return Some(&v[..end]);
        }
        from = at + key.len();
    }
    None
}

fn lookup<'a>(fields: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn tls_error(dir: Option<Direction>, peer: Option<Peer>, kind: TlsErrorKind, msg: &str) -> Parsed {
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
fn starttls(all: &str, rest: &str) -> Parsed {
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
            return tls_error(dir, None, TlsErrorKind::UnsafeFile, all);
        }
        return tls_error(dir, None, TlsErrorKind::Library, all);
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

/// Classifies the text after `STARTTLS=%s, error: ` by the function sendmail names.
fn error_kind(e: &str) -> TlsErrorKind {
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
        ("BIO_new_file(", TlsErrorKind::CipherConfig),
        ("SSL_CTX_set_cipher_list", TlsErrorKind::CipherConfig),
        ("SSL_CTX_set_ciphersuites", TlsErrorKind::CipherConfig),
        ("SSL_set_cipher_list", TlsErrorKind::CipherConfig),
        ("SSL_set_ciphersuites", TlsErrorKind::CipherConfig),
        ("illegal value '", TlsErrorKind::CipherConfig),
        ("cannot read DH parameters", TlsErrorKind::CipherConfig),
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
///   initialisation trace and irrelevant; `init=0` means the TLS context could not be set
///   up (the specific cause is logged before it) and is an [`TlsErrorKind::Init`] error.
/// * `Diffie-Hellman init, key=…`, `cert-subject=…` (the certificate detail written after
///   every summary at `LogLevel > 11`), `get_verify:`, `start=ok`, `info: fds=`,
///   `SSL_MODE_AUTO_RETRY=set`, `tmp_rsa_key: new temp RSA key`, `FIPSMode=ok`, and the
///   `SSL_dane_enable=%d, domain=%s` / `tlsa_chk=0, type=…` traces are irrelevant: they
///   describe normal operation at debug levels.
/// * `SSL_shutdown failed|not done` → shutdown; engine, FIPS, ex-index, temp-RSA and
///   `SSL_dane_enable=%d` (without domain, logged only when it fails) → init/DANE errors.
/// * `host=%s, SSL_set_tlsext_host_name=%d` looks like a trace but sendmail logs it only
///   when setting SNI *failed* (`r <= 0`, `LOG_ERR`); the handshake goes on without SNI, so
///   it is [`TlsErrorKind::Other`]. `host=%s, ssl_dane_enable=%d` is likewise a failure
///   (DANE).
fn trace_or_error(all: &str, dir: Option<Direction>, d: &str) -> Parsed {
    if let Some(v) = d.strip_prefix("init=") {
        return if v.trim() == "0" {
            tls_error(dir, None, TlsErrorKind::Init, all)
        } else {
            Parsed::Irrelevant
        };
    }
    if d.starts_with("SSL_shutdown") {
        return tls_error(dir, None, TlsErrorKind::Shutdown, all);
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
    let fields = split_fields(fields_text, &[]);
    let get = |k: &str| lookup(&fields, k).filter(|v| !v.is_empty());
    let Some(version) = get("version") else {
        return Parsed::Malformed("STARTTLS summary with an empty version=".into());
    };
    let Some(verify) = get("verify") else {
        return Parsed::Malformed("STARTTLS summary without verify=".into());
    };
    let Some(cipher) = get("cipher") else {
        return Parsed::Malformed("STARTTLS summary without cipher=".into());
    };
    let Some(bits) = get("bits") else {
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
fn starttls_noside(all: &str, r: &str) -> Parsed {
    let kind = if r.starts_with("read error=") || r.starts_with("write error=") {
        TlsErrorKind::Io
    } else if r.contains(" cert verify: ") {
        TlsErrorKind::CertVerify
    } else if r.starts_with("SSL3 alert ") || r.contains(":failed in ") || r.contains(":error in ")
    {
        TlsErrorKind::Handshake
    } else if r.starts_with("RandFile ")
        || r.starts_with("size(")
        || r.ends_with(" missing")
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
fn features(dir: Direction, all: &str, rest: &str) -> Parsed {
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
fn tempfail_peer(all: &str) -> Option<Peer> {
    let from = all.find(") from ")? + ") from ".len();
    let end = all.rfind(" tempfailed")?;
    (end > from).then(|| parse_relay(&all[from..end]))
}

/// `ruleset=%s, arg1=%s[, arg2=%s][, relay=%s], reject=…|status=…|discard|quarantine=…`.
fn policy(rest: &str) -> Parsed {
    let name_end = rest.find(", ").unwrap_or(rest.len());
    let ruleset = &rest[..name_end];
    if !ruleset
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("tls_"))
    {
        return Parsed::Irrelevant;
    }
    let Some(body) = rest.get(name_end + 2..) else {
        return Parsed::Malformed(format!("ruleset={ruleset} line without arguments"));
    };
    let (body, discard) = match body.strip_suffix(", discard") {
        Some(b) => (b, true),
        None => (body, body == "discard"),
    };
    let fields = split_fields(body, &["reject", "status", "quarantine"]);
    let Some(arg1) = lookup(&fields, "arg1") else {
        return Parsed::Malformed(format!("ruleset={ruleset} line without arg1="));
    };
    let outcome = if discard {
        "discard".to_owned()
    } else if let Some((k, v)) = fields
        .iter()
        .find(|(k, _)| matches!(*k, "reject" | "status" | "quarantine"))
    {
        format!("{k}={v}")
    } else {
        return Parsed::Malformed(format!("ruleset={ruleset} line without an outcome"));
    };
    Parsed::Event(EventKind::Policy(PolicyCheck {
        ruleset: ruleset.to_owned(),
        verify: Verify::parse(arg1),
        arg2: lookup(&fields, "arg2").map(str::to_owned),
        peer: lookup(&fields, "relay").map(parse_relay),
        outcome,
    }))
}

/// `QID: from=<…>, size=…, …, proto=…, daemon=…, relay=…`.
fn reception(qid: Option<&str>, rest: &str) -> Parsed {
    let Some(qid) = qid else {
        return Parsed::Malformed("from= line without a queue id".into());
    };
    let fields = split_fields(rest, &[]);
    let from = fields.first().map_or("", |(_, v)| *v);
    let from = strip_angles(from);
    let peer = lookup(&fields, "relay").and_then(|r| {
        if r.trim() == "[RESPONSE]" {
            // A bounce generated by sendmail itself.
            return None;
        }
        let p = parse_relay(r);
        let local = p.ip.is_none()
            && p.name
                .as_deref()
                .is_none_or(|n| n.eq_ignore_ascii_case("localhost") || n == "local");
        (!local).then_some(p)
    });
    Parsed::Event(EventKind::Received(Reception {
        queue_id: qid.to_owned(),
        from: from.to_owned(),
        peer,
        proto: lookup(&fields, "proto").map(str::to_owned),
        tls: ffr_tls(&fields),
    }))
}

/// `_FFR_LOG_MORE1/2` builds add `tls_verify=`, `tls_version=` and `cipher=` to the
/// message lines. When they say a TLS version was negotiated, the line itself carries the
/// session's parameters (no bits are logged); `NONE` or absence means "not said here".
fn ffr_tls(fields: &[(&str, &str)]) -> Option<TlsParams> {
    let version = lookup(fields, "tls_version").filter(|v| !v.is_empty() && *v != "NONE")?;
    Some(TlsParams {
        version: TlsVersion::parse(version),
        cipher: lookup(fields, "cipher")
            .filter(|c| !c.is_empty() && *c != "NONE")
            .map(Cipher::new),
        bits: Bits::default(),
        verify: Verify::parse(lookup(fields, "tls_verify").unwrap_or("")),
        detail: None,
    })
}

fn strip_angles(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(s)
}

/// `QID: to=<…>[,<…>][, [more]], [ctladdr=…,] delay=…, …, relay=…, dsn=…, stat=…`.
fn delivery(qid: Option<&str>, rest: &str) -> Parsed {
    let Some(qid) = qid else {
        return Parsed::Malformed("to= line without a queue id".into());
    };
    let fields = split_fields(rest, &["stat"]);
    let Some(text) = lookup(&fields, "stat") else {
        return Parsed::Malformed(format!("to= line without stat=: {qid}"));
    };
    let to_raw = fields.first().map_or("", |(_, v)| *v).trim();
    let to_raw = to_raw.strip_suffix("[more]").unwrap_or(to_raw).trim_end();
    let to_raw = to_raw.trim_end_matches(',');
    let to: String = to_raw.chars().filter(|c| *c != '<' && *c != '>').collect();
    let mailer = lookup(&fields, "mailer");
    let local_mailer = matches!(
        mailer,
        Some("local" | "prog" | "*file*" | "*include*" | "lmtp-local")
    );
    let peer = if local_mailer {
        None
    } else {
        lookup(&fields, "relay").map(parse_relay)
    };
    let dsn = lookup(&fields, "dsn");
    Parsed::Event(EventKind::Delivery(Delivery {
        queue_id: qid.to_owned(),
        to,
        peer,
        mailer: mailer.map(str::to_owned),
        status: delivery_status(text, dsn),
        dsn: dsn.map(str::to_owned),
        text: text.to_owned(),
        tls: ffr_tls(&fields),
        tls_status: None,
    }))
}

/// `stat=Sent…` is sent and `stat=Deferred…` deferred; a 5.x.x DSN or one of sendmail's
/// permanent-failure texts (`sysexits` names) is a bounce; anything else (`queued`,
/// `quarantined`, …) is other.
fn delivery_status(text: &str, dsn: Option<&str>) -> DeliveryStatus {
    const BOUNCES: &[&str] = &[
        "User unknown",
        "Host unknown",
        "Service unavailable",
        "Data format error",
        "Unknown mailer error",
        "Message too large",
        "Cannot send message",
        "Bad usage",
        "Insufficient permission",
    ];
    if text.starts_with("Sent") {
        DeliveryStatus::Sent
    } else if text.starts_with("Deferred") {
        DeliveryStatus::Deferred
    } else if dsn.is_some_and(|d| d.starts_with('5')) || BOUNCES.iter().any(|b| text.starts_with(b))
    {
        DeliveryStatus::Bounced
    } else {
        DeliveryStatus::Other
    }
}

/// `lost input channel from %s to %s after %s` (`CurSmtpClient`, daemon name, command).
fn lost_input(rest: &str) -> Parsed {
    let (head, cmd) = rest.rsplit_once(" after ").unwrap_or((rest, "?"));
    let client = head.rsplit_once(" to ").map_or(head, |(c, _)| c);
    Parsed::Event(EventKind::SessionEnd {
        peer: non_empty(parse_relay(client)),
        reason: format!("lost input channel after {cmd}"),
        starttls: None,
    })
}

/// `%s did not issue MAIL/EXPN/VRFY/ETRN during connection to %s`.
fn did_not_issue(body: &str, at: usize) -> Parsed {
    Parsed::Event(EventKind::SessionEnd {
        peer: non_empty(parse_relay(&body[..at])),
        reason: "did not issue MAIL/EXPN/VRFY/ETRN".to_owned(),
        starttls: None,
    })
}

/// `timeout waiting for input from %.100s during %s`.
///
/// On the server side the name is `CurHostName` = the client's host name or `[ip]`, and
/// the phase is `server cmd read` or similar: the inbound session ends, so it is a
/// session end. With a `client …` phase (`client greeting`, `client DATA status`) sendmail
/// was the client and the line is about an outbound delivery, whose failure shows up on
/// the `to=` line: irrelevant here.
fn timeout_end(rest: &str) -> Parsed {
    let Some((host, phase)) = rest.rsplit_once(" during ") else {
        return Parsed::Malformed("timeout line without a phase".into());
    };
    if phase.starts_with("client ") {
        return Parsed::Irrelevant;
    }
    let peer = if host == "local" {
        None
    } else {
        non_empty(parse_relay(host))
    };
    Parsed::Event(EventKind::SessionEnd {
        peer,
        reason: format!("timeout during {phase}"),
        starttls: None,
    })
}

fn non_empty(p: Peer) -> Option<Peer> {
    (!p.is_empty()).then_some(p)
}

/// Reads a `relay=` value, either side's form.
///
/// Server side (`$_`): `[ident@]name [addr]`, `[addr]`, optionally ` (may be forged)`;
/// addresses `[1.2.3.4]`, `[IPv6:2001:db8::1]` (compressed or not), IPv4-mapped IPv6
/// folded to IPv4. Client side: a name with or without trailing dot, or an address
/// literal `[127.0.0.1]`; a bracketed non-address (`[smarthost.example]`, a mailertable
/// literal) is a name. Values cut at 100 characters may lose the closing bracket: the
/// name is kept and the address dropped. Never panics.
pub fn parse_relay(s: &str) -> Peer {
    let mut s = s.trim();
    let mut forged = false;
    if let Some(i) = s.find(" (may be") {
        forged = true;
        s = s[..i].trim_end();
    }
    // The `name (addr)` form logsender() writes when `$_` is unset.
    let mut paren_ip = None;
    if let Some(inner) = s.strip_suffix(')')
        && let Some(open) = inner.rfind(" (")
        && let Some(ip) = parse_ip(&inner[open + 2..])
    {
        paren_ip = Some(ip);
        s = &s[..open];
    }
    let (name_part, addr_part) = match s.rfind(" [") {
        Some(i) => (s[..i].trim(), Some(&s[i + 2..])),
        None if s.starts_with('[') => ("", Some(&s[1..])),
        None => (s, None),
    };
    let mut name = name_part.rsplit('@').next().unwrap_or(name_part);
    let mut ip = paren_ip;
    // `relay=[127.0.0.1] [127.0.0.1]` (to= line for an address-literal relay host): the
    // name part is itself a literal.
    if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        match parse_ip(inner) {
            Some(addr) => {
                ip = Some(addr);
                name = "";
            }
            None => name = inner,
        }
    }
    if let Some(a) = addr_part {
        // Without the closing bracket the value was truncated: keep the name only.
        if let Some(inner) = a.strip_suffix(']') {
            match parse_ip(inner) {
                Some(addr) => ip = Some(addr),
                // `[smarthost.example]`: an address literal that is a name.
                None if name.is_empty() => name = inner,
                None => {}
            }
        }
    }
    let mut peer = Peer::new(Some(name), ip);
    peer.forged = forged;
    peer
}

/// An address as sendmail prints it: `1.2.3.4`, `IPv6:2001:db8::1`, or uncompressed
/// `IPv6:2001:db8:0:0:0:0:0:1`. IPv4-mapped IPv6 is folded to IPv4.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = match s.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("IPv6:") => &s[5..],
        _ => s,
    };
    let ip: IpAddr = s.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const IN: Direction = Direction::Inbound;
    const OUT: Direction = Direction::Outbound;

    fn p(name: Option<&str>, ip: Option<&str>, forged: bool) -> Peer {
        Peer {
            name: name.map(str::to_owned),
            ip: ip.map(|i| i.parse().expect("test ip")),
            forged,
        }
    }
    fn n(name: &str) -> Peer {
        p(Some(name), None, false)
    }
    fn ni(name: &str, ip: &str) -> Peer {
        p(Some(name), Some(ip), false)
    }
    fn i(ip: &str) -> Peer {
        p(None, Some(ip), false)
    }

    #[allow(clippy::too_many_arguments)]
    fn tls(
        direction: Direction,
        peer: Peer,
        version: TlsVersion,
        cipher: &str,
        alg: u16,
        secret: u16,
        verify: Verify,
    ) -> Parsed {
        Parsed::Event(EventKind::Tls(TlsSession {
            direction,
            peer,
            params: TlsParams {
                version,
                cipher: Some(Cipher(cipher.to_owned())),
                bits: Bits {
                    secret: Some(secret),
                    alg: Some(alg),
                },
                verify,
                detail: None,
            },
        }))
    }

    fn err(dir: Option<Direction>, peer: Option<Peer>, kind: TlsErrorKind, text: &str) -> Parsed {
        Parsed::Event(EventKind::TlsError(TlsError {
            direction: dir,
            peer,
            kind,
            text: text.to_owned(),
        }))
    }

    fn rcv(qid: &str, from: &str, peer: Option<Peer>, proto: Option<&str>) -> Parsed {
        Parsed::Event(EventKind::Received(Reception {
            queue_id: qid.to_owned(),
            from: from.to_owned(),
            peer,
            proto: proto.map(str::to_owned),
            tls: None,
        }))
    }

    #[allow(clippy::too_many_arguments)]
    fn dlv(
        qid: &str,
        to: &str,
        peer: Option<Peer>,
        mailer: &str,
        status: DeliveryStatus,
        dsn: Option<&str>,
        text: &str,
    ) -> Parsed {
        Parsed::Event(EventKind::Delivery(Delivery {
            queue_id: qid.to_owned(),
            to: to.to_owned(),
            peer,
            mailer: Some(mailer.to_owned()),
            status,
            dsn: dsn.map(str::to_owned),
            text: text.to_owned(),
            tls: None,
            tls_status: None,
        }))
    }

    fn pol(
        ruleset: &str,
        verify: Verify,
        arg2: Option<&str>,
        peer: Option<Peer>,
        outcome: &str,
    ) -> Parsed {
        Parsed::Event(EventKind::Policy(PolicyCheck {
            ruleset: ruleset.to_owned(),
            verify,
            arg2: arg2.map(str::to_owned),
            peer,
            outcome: outcome.to_owned(),
        }))
    }

    fn end(peer: Option<Peer>, reason: &str) -> Parsed {
        Parsed::Event(EventKind::SessionEnd {
            peer,
            reason: reason.to_owned(),
            starttls: None,
        })
    }

    fn check(rows: Vec<(&str, Parsed)>) {
        for (line, want) in rows {
            assert_eq!(parse(line), want, "line: {line}");
        }
    }

    /// §1.2: the summary line, 8.12 → 8.18, every relay form.
    #[test]
    fn starttls_summary_lines() {
        use TlsVersion as V;
        check(vec![
            // 8.12–8.14: the legacy cipher-family label.
            (
                "STARTTLS=server, relay=mail.peer.example [192.0.2.10], version=TLSv1/SSLv3, verify=NOT, cipher=DHE-RSA-AES256-SHA, bits=256/256",
                tls(
                    IN,
                    ni("mail.peer.example", "192.0.2.10"),
                    V::Legacy,
                    "DHE-RSA-AES256-SHA",
                    256,
                    256,
                    Verify::Not,
                ),
            ),
            (
                "STARTTLS=client, relay=mx1.peer.example., version=TLSv1/SSLv3, verify=FAIL, cipher=DHE-RSA-AES256-GCM-SHA384, bits=256/256",
                tls(
                    OUT,
                    n("mx1.peer.example"),
                    V::Legacy,
                    "DHE-RSA-AES256-GCM-SHA384",
                    256,
                    256,
                    Verify::Fail,
                ),
            ),
            // 3DES: sendmail writes alg/secret = 168/112.
            (
                "STARTTLS=client, relay=old-mx.peer.example., version=TLSv1, verify=FAIL, cipher=EDH-RSA-DES-CBC3-SHA, bits=168/112",
                tls(
                    OUT,
                    n("old-mx.peer.example"),
                    V::Tls1_0,
                    "EDH-RSA-DES-CBC3-SHA",
                    168,
                    112,
                    Verify::Fail,
                ),
            ),
            // 8.14 built against OpenSSL 1.1: the cipher's minimum protocol.
            (
                "STARTTLS=server, relay=legacy.peer.example [192.0.2.11], version=SSLv3, verify=NO, cipher=AES128-SHA, bits=128/128",
                tls(
                    IN,
                    ni("legacy.peer.example", "192.0.2.11"),
                    V::Ssl3,
                    "AES128-SHA",
                    128,
                    128,
                    Verify::No,
                ),
            ),
            // address only (no reverse DNS)
            (
                "STARTTLS=server, relay=[203.0.113.7], version=TLSv1.2, verify=NO, cipher=ECDHE-RSA-AES128-GCM-SHA256, bits=128/128",
                tls(
                    IN,
                    i("203.0.113.7"),
                    V::Tls1_2,
                    "ECDHE-RSA-AES128-GCM-SHA256",
                    128,
                    128,
                    Verify::No,
                ),
            ),
            // may be forged
            (
                "STARTTLS=server, relay=dsl-77.isp.example [198.51.100.77] (may be forged), version=TLSv1, verify=NOT, cipher=AES128-SHA, bits=128/128",
                tls(
                    IN,
                    p(Some("dsl-77.isp.example"), Some("198.51.100.77"), true),
                    V::Tls1_0,
                    "AES128-SHA",
                    128,
                    128,
                    Verify::Not,
                ),
            ),
            // IPv6 compressed and uncompressed
            (
                "STARTTLS=server, relay=mail6.peer.example [IPv6:2001:db8::25], version=TLSv1.3, verify=NOT, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
                tls(
                    IN,
                    ni("mail6.peer.example", "2001:db8::25"),
                    V::Tls1_3,
                    "TLS_AES_256_GCM_SHA384",
                    256,
                    256,
                    Verify::Not,
                ),
            ),
            (
                "STARTTLS=server, relay=gw.peer.example [IPv6:2001:db8:400c:c08:0:0:0:1b], version=TLSv1.2, verify=NOT, cipher=ECDHE-ECDSA-AES256-GCM-SHA384, bits=256/256",
                tls(
                    IN,
                    ni("gw.peer.example", "2001:db8:400c:c08::1b"),
                    V::Tls1_2,
                    "ECDHE-ECDSA-AES256-GCM-SHA384",
                    256,
                    256,
                    Verify::Not,
                ),
            ),
            (
                "STARTTLS=server, relay=[IPv6:2001:db8::77], version=TLSv1.3, verify=NOT, cipher=TLS_AES_128_GCM_SHA256, bits=128/128",
                tls(
                    IN,
                    i("2001:db8::77"),
                    V::Tls1_3,
                    "TLS_AES_128_GCM_SHA256",
                    128,
                    128,
                    Verify::Not,
                ),
            ),
            // ident@name [addr]
            (
                "STARTTLS=server, relay=smmsp@relay.peer.example [192.0.2.44], version=TLSv1.2, verify=OK, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
                tls(
                    IN,
                    ni("relay.peer.example", "192.0.2.44"),
                    V::Tls1_2,
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    256,
                    Verify::Ok,
                ),
            ),
            // client: smart host without dot, address literal
            (
                "STARTTLS=client, relay=smarthost.example, version=TLSv1.2, verify=OK, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
                tls(
                    OUT,
                    n("smarthost.example"),
                    V::Tls1_2,
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    256,
                    Verify::Ok,
                ),
            ),
            (
                "STARTTLS=client, relay=[127.0.0.1], version=TLSv1.3, verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
                tls(
                    OUT,
                    i("127.0.0.1"),
                    V::Tls1_3,
                    "TLS_AES_256_GCM_SHA384",
                    256,
                    256,
                    Verify::Fail,
                ),
            ),
            // 8.15+: UNKNOWN when SSL_get_version() is NULL
            (
                "STARTTLS=client, relay=mx2.peer.example., version=UNKNOWN, verify=FAIL, cipher=AES256-SHA, bits=256/256",
                tls(
                    OUT,
                    n("mx2.peer.example"),
                    V::Other("UNKNOWN".into()),
                    "AES256-SHA",
                    256,
                    256,
                    Verify::Fail,
                ),
            ),
            // 8.16/8.17.1 DANE: pubkey_fp suffix
            (
                "STARTTLS=client, relay=mx.dane.example., version=TLSv1.2, verify=DANE_FAIL, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256, pubkey_fp=6A:1F:0C:93:5E:22:71:AB",
                tls(
                    OUT,
                    n("mx.dane.example"),
                    V::Tls1_2,
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    256,
                    Verify::DaneFail,
                ),
            ),
            (
                "STARTTLS=client, relay=mx.dane.example., version=TLSv1.3, verify=TRUSTED, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
                tls(
                    OUT,
                    n("mx.dane.example"),
                    V::Tls1_3,
                    "TLS_AES_256_GCM_SHA384",
                    256,
                    256,
                    Verify::Trusted,
                ),
            ),
            // 8.17.2: status glued to bits without a comma
            (
                "STARTTLS=client, relay=mx.unsup.example., version=TLSv1.3, verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, bits=256/256status=all TLSA RRs are unsupported",
                tls(
                    OUT,
                    n("mx.unsup.example"),
                    V::Tls1_3,
                    "TLS_AES_256_GCM_SHA384",
                    256,
                    256,
                    Verify::Fail,
                ),
            ),
            // 8.18: comma-separated suffixes
            (
                "STARTTLS=client, relay=mx.unsup.example., version=TLSv1.3, verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, bits=256/256, status=all TLSA RRs are unsupported",
                tls(
                    OUT,
                    n("mx.unsup.example"),
                    V::Tls1_3,
                    "TLS_AES_256_GCM_SHA384",
                    256,
                    256,
                    Verify::Fail,
                ),
            ),
            (
                "STARTTLS=client, relay=mx.many.example., version=TLSv1.2, verify=DANE_FAIL, cipher=ECDHE-RSA-AES128-GCM-SHA256, bits=128/128, pubkey_fp=0B:7E:44, note=too many TLSA RRs",
                tls(
                    OUT,
                    n("mx.many.example"),
                    V::Tls1_2,
                    "ECDHE-RSA-AES128-GCM-SHA256",
                    128,
                    128,
                    Verify::DaneFail,
                ),
            ),
            // queue id before STARTTLS= (one FreeBSD host) and split-line piece prefixes
            (
                "2A1820LG031423: STARTTLS=server, relay=mail.peer.example [192.0.2.10], version=TLSv1.2, verify=NOT, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
                tls(
                    IN,
                    ni("mail.peer.example", "192.0.2.10"),
                    V::Tls1_2,
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    256,
                    Verify::Not,
                ),
            ),
            (
                "[1]: STARTTLS=server, relay=mail.peer.example [192.0.2.10], version=TLSv1.2, verify=NOT, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
                tls(
                    IN,
                    ni("mail.peer.example", "192.0.2.10"),
                    V::Tls1_2,
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    256,
                    Verify::Not,
                ),
            ),
            (
                "l65DnTLe028546[2]: STARTTLS=client, relay=mx1.peer.example., version=TLSv1.2, verify=OK, cipher=AES256-GCM-SHA384, bits=256/256 ...",
                tls(
                    OUT,
                    n("mx1.peer.example"),
                    V::Tls1_2,
                    "AES256-GCM-SHA384",
                    256,
                    256,
                    Verify::Ok,
                ),
            ),
            // relay cut at 100 characters: the closing bracket is lost
            (
                "STARTTLS=server, relay=a-rather-long-host-name-for-testing.customer-pool.dynamic.isp.example [IPv6:2001:db8:40, version=TLSv1.2, verify=NOT, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256",
                tls(
                    IN,
                    n("a-rather-long-host-name-for-testing.customer-pool.dynamic.isp.example"),
                    V::Tls1_2,
                    "ECDHE-RSA-AES256-GCM-SHA384",
                    256,
                    256,
                    Verify::Not,
                ),
            ),
            // a peer named `unknown` (no name) and `local` (host NULL in tls_get_info)
            (
                "STARTTLS=server, relay=unknown [192.0.2.200], version=TLSv1.2, verify=NOT, cipher=AES128-GCM-SHA256, bits=128/128",
                tls(
                    IN,
                    i("192.0.2.200"),
                    V::Tls1_2,
                    "AES128-GCM-SHA256",
                    128,
                    128,
                    Verify::Not,
                ),
            ),
        ]);
    }

    /// §1.3 error lines.
    #[test]
    fn error_lines() {
        use TlsErrorKind as K;
        check(vec![
            // keys and certificates
            (
                "STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/servername-key.pem) failed",
                err(
                    Some(IN),
                    None,
                    K::PrivateKey,
                    "SSL_CTX_use_PrivateKey_file(/etc/mail/certs/servername-key.pem) failed",
                ),
            ),
            (
                "STARTTLS=client, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed",
                err(
                    Some(OUT),
                    None,
                    K::PrivateKey,
                    "SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed",
                ),
            ),
            (
                "STARTTLS=server, error: SSL_use_PrivateKey_file(/etc/mail/certs/alt.key) failed",
                err(
                    Some(IN),
                    None,
                    K::PrivateKey,
                    "SSL_use_PrivateKey_file(/etc/mail/certs/alt.key) failed",
                ),
            ),
            (
                "STARTTLS=server, error: SSL_check_private_key failed(/etc/mail/certs/alt.key): 0",
                err(
                    Some(IN),
                    None,
                    K::PrivateKey,
                    "SSL_check_private_key failed(/etc/mail/certs/alt.key): 0",
                ),
            ),
            (
                "STARTTLS=server, error: SSL_CTX_check_private_key failed(/etc/mail/certs/host.key): 0",
                err(
                    Some(IN),
                    None,
                    K::PrivateKey,
                    "SSL_CTX_check_private_key failed(/etc/mail/certs/host.key): 0",
                ),
            ),
            (
                "STARTTLS=server, error: SSL_CTX_use_certificate_file(/etc/mail/certs/host.crt) failed",
                err(
                    Some(IN),
                    None,
                    K::Certificate,
                    "SSL_CTX_use_certificate_file(/etc/mail/certs/host.crt) failed",
                ),
            ),
            (
                "STARTTLS=server, error: SSL_CTX_use_certificate_chain_file(/etc/mail/certs/chain.pem) failed",
                err(
                    Some(IN),
                    None,
                    K::Certificate,
                    "SSL_CTX_use_certificate_chain_file(/etc/mail/certs/chain.pem) failed",
                ),
            ),
            // CA locations, CRLs
            (
                "STARTTLS=client, error: load verify locs /etc/mail/certs, /etc/mail/certs/CAcert.pem failed: 0",
                err(
                    Some(OUT),
                    None,
                    K::CaLocations,
                    "load verify locs /etc/mail/certs, /etc/mail/certs/CAcert.pem failed: 0",
                ),
            ),
            (
                "STARTTLS=server, error: X509_LOOKUP_add_dir(/etc/mail/crls)=failed",
                err(
                    Some(IN),
                    None,
                    K::CaLocations,
                    "X509_LOOKUP_add_dir(/etc/mail/crls)=failed",
                ),
            ),
            (
                "STARTTLS=server, error: BIO_read_filename(/etc/mail/certs/revoked.crl)=failed",
                err(
                    Some(IN),
                    None,
                    K::CaLocations,
                    "BIO_read_filename(/etc/mail/certs/revoked.crl)=failed",
                ),
            ),
            (
                "STARTTLS=server, error: X509_STORE_add_crl=failed",
                err(Some(IN), None, K::CaLocations, "X509_STORE_add_crl=failed"),
            ),
            // unsafe / missing files
            (
                "STARTTLS=server: file /etc/mail/certs/host.key unsafe: Group readable file",
                err(
                    Some(IN),
                    None,
                    K::UnsafeFile,
                    "STARTTLS=server: file /etc/mail/certs/host.key unsafe: Group readable file",
                ),
            ),
            (
                "STARTTLS: ServerCertFile missing",
                err(
                    None,
                    None,
                    K::UnsafeFile,
                    "STARTTLS: ServerCertFile missing",
                ),
            ),
            (
                "STARTTLS: RandFile /etc/mail/randseed too old: unsafe",
                err(
                    None,
                    None,
                    K::UnsafeFile,
                    "STARTTLS: RandFile /etc/mail/randseed too old: unsafe",
                ),
            ),
            (
                "STARTTLS: size(/etc/mail/randseed) < 1024: unusable",
                err(
                    None,
                    None,
                    K::UnsafeFile,
                    "STARTTLS: size(/etc/mail/randseed) < 1024: unusable",
                ),
            ),
            // cipher configuration
            (
                "STARTTLS=server, error: SSL_CTX_set_cipher_list(HIGH:!aNULL:BOGUS) failed, list ignored",
                err(
                    Some(IN),
                    None,
                    K::CipherConfig,
                    "SSL_CTX_set_cipher_list(HIGH:!aNULL:BOGUS) failed, list ignored",
                ),
            ),
            (
                "STARTTLS=client, error: SSL_CTX_set_ciphersuites(TLS_NOPE) failed, suites ignored",
                err(
                    Some(OUT),
                    None,
                    K::CipherConfig,
                    "SSL_CTX_set_ciphersuites(TLS_NOPE) failed, suites ignored",
                ),
            ),
            (
                "STARTTLS=server, error: illegal value 'x' for DHParam",
                err(
                    Some(IN),
                    None,
                    K::CipherConfig,
                    "illegal value 'x' for DHParam",
                ),
            ),
            (
                "STARTTLS=server, error: illegal value '5x' for DHParameters",
                err(
                    Some(IN),
                    None,
                    K::CipherConfig,
                    "illegal value '5x' for DHParameters",
                ),
            ),
            (
                "STARTTLS=server, EC_KEY_new_by_curve_name(NID_X9_62_prime256v1)=failed, error=error:10067066:elliptic curve routines",
                err(
                    Some(IN),
                    None,
                    K::CipherConfig,
                    "STARTTLS=server, EC_KEY_new_by_curve_name(NID_X9_62_prime256v1)=failed, error=error:10067066:elliptic curve routines",
                ),
            ),
            (
                "tls_srv_features=invalid_syntax, opt=cipherlist, relay=client.peer.example [192.0.2.9]",
                err(
                    Some(IN),
                    Some(ni("client.peer.example", "192.0.2.9")),
                    K::CipherConfig,
                    "tls_srv_features=invalid_syntax, opt=cipherlist, relay=client.peer.example [192.0.2.9]",
                ),
            ),
            (
                "rscheck(tls_clt_features)=failed, relay=mx.peer.example [192.0.2.20], errors=1",
                err(
                    Some(OUT),
                    Some(ni("mx.peer.example", "192.0.2.20")),
                    K::CipherConfig,
                    "rscheck(tls_clt_features)=failed, relay=mx.peer.example [192.0.2.20], errors=1",
                ),
            ),
            // initialisation
            (
                "STARTTLS=server, error: SSL_CTX_new(SSLv23_server_method()) failed",
                err(
                    Some(IN),
                    None,
                    K::Init,
                    "SSL_CTX_new(SSLv23_server_method()) failed",
                ),
            ),
            (
                "STARTTLS=server, engine=pkcs11, TLS_set_engine=failed",
                err(
                    Some(IN),
                    None,
                    K::Init,
                    "STARTTLS=server, engine=pkcs11, TLS_set_engine=failed",
                ),
            ),
            (
                "STARTTLS=init, engine=pkcs11, TLS_set_engine=failed",
                err(
                    None,
                    None,
                    K::Init,
                    "STARTTLS=init, engine=pkcs11, TLS_set_engine=failed",
                ),
            ),
            (
                "STARTTLS=client, SSL_set_engine=failed",
                err(
                    Some(OUT),
                    None,
                    K::Init,
                    "STARTTLS=client, SSL_set_engine=failed",
                ),
            ),
            (
                "STARTTLS: RAND_load_file(/etc/mail/randseed) failed: random number generator not seeded",
                err(
                    None,
                    None,
                    K::Init,
                    "STARTTLS: RAND_load_file(/etc/mail/randseed) failed: random number generator not seeded",
                ),
            ),
            (
                "STARTTLS=server, init=0",
                err(Some(IN), None, K::Init, "STARTTLS=server, init=0"),
            ),
            (
                "smtps: TLS not available, exiting",
                err(Some(IN), None, K::Init, "smtps: TLS not available, exiting"),
            ),
            // handshakes, 8.12 → 8.18
            (
                "STARTTLS=server, error: accept failed=0, SSL_error=5, timedout=0, errno=0",
                err(
                    Some(IN),
                    None,
                    K::Handshake,
                    "accept failed=0, SSL_error=5, timedout=0, errno=0",
                ),
            ),
            (
                "STARTTLS=client, error: connect failed=-1, SSL_error=1, timedout=0, errno=0",
                err(
                    Some(OUT),
                    None,
                    K::Handshake,
                    "connect failed=-1, SSL_error=1, timedout=0, errno=0",
                ),
            ),
            (
                "STARTTLS=server, error: accept failed=-1, SSL_error=1, errno=0, retry=-1",
                err(
                    Some(IN),
                    None,
                    K::Handshake,
                    "accept failed=-1, SSL_error=1, errno=0, retry=-1",
                ),
            ),
            (
                "STARTTLS=client, error: connect failed=-1, SSL_error=5, errno=104, retry=-1",
                err(
                    Some(OUT),
                    None,
                    K::Handshake,
                    "connect failed=-1, SSL_error=5, errno=104, retry=-1",
                ),
            ),
            (
                "STARTTLS=server, error: accept failed=-1, reason=no shared cipher, SSL_error=1, errno=0, retry=-1, relay=scanner.peer.example [192.0.2.66]",
                err(
                    Some(IN),
                    Some(ni("scanner.peer.example", "192.0.2.66")),
                    K::Handshake,
                    "accept failed=-1, reason=no shared cipher, SSL_error=1, errno=0, retry=-1, relay=scanner.peer.example [192.0.2.66]",
                ),
            ),
            (
                "STARTTLS=server, error: accept failed=0, reason=unknown, SSL_error=5, errno=0, retry=-1, relay=dyn.isp.example [198.51.100.3] (may be forged)",
                err(
                    Some(IN),
                    Some(p(Some("dyn.isp.example"), Some("198.51.100.3"), true)),
                    K::Handshake,
                    "accept failed=0, reason=unknown, SSL_error=5, errno=0, retry=-1, relay=dyn.isp.example [198.51.100.3] (may be forged)",
                ),
            ),
            (
                "STARTTLS=server, error: accept failed=-1, reason=unsupported protocol, SSL_error=1, errno=0, retry=-1, relay=[IPv6:2001:db8::66]",
                err(
                    Some(IN),
                    Some(i("2001:db8::66")),
                    K::Handshake,
                    "accept failed=-1, reason=unsupported protocol, SSL_error=1, errno=0, retry=-1, relay=[IPv6:2001:db8::66]",
                ),
            ),
            (
                "STARTTLS=client, error: connect failed=-1, reason=wrong version number, SSL_error=1, errno=0, retry=-1",
                err(
                    Some(OUT),
                    None,
                    K::Handshake,
                    "connect failed=-1, reason=wrong version number, SSL_error=1, errno=0, retry=-1",
                ),
            ),
            (
                "STARTTLS: SSL_accept:failed in SSLv3 read client hello B",
                err(
                    None,
                    None,
                    K::Handshake,
                    "STARTTLS: SSL_accept:failed in SSLv3 read client hello B",
                ),
            ),
            (
                "STARTTLS: SSL_connect:error in error",
                err(
                    None,
                    None,
                    K::Handshake,
                    "STARTTLS: SSL_connect:error in error",
                ),
            ),
            (
                "STARTTLS: SSL3 alert write:fatal:handshake failure",
                err(
                    None,
                    None,
                    K::Handshake,
                    "STARTTLS: SSL3 alert write:fatal:handshake failure",
                ),
            ),
            // I/O after the handshake, every variant
            (
                "STARTTLS: read error=timeout",
                err(None, None, K::Io, "STARTTLS: read error=timeout"),
            ),
            (
                "STARTTLS: write error=timeout",
                err(None, None, K::Io, "STARTTLS: write error=timeout"),
            ),
            (
                "STARTTLS: read error=syscall error (-1)",
                err(None, None, K::Io, "STARTTLS: read error=syscall error (-1)"),
            ),
            (
                "STARTTLS: read error=syscall error (-1), errno=104, get_error=error:00000000:lib(0):func(0):reason(0), retry=99, ssl_err=5",
                err(
                    None,
                    None,
                    K::Io,
                    "STARTTLS: read error=syscall error (-1), errno=104, get_error=error:00000000:lib(0):func(0):reason(0), retry=99, ssl_err=5",
                ),
            ),
            (
                "STARTTLS: read error=generic SSL error (-1), retry=99, ssl_err=1",
                err(
                    None,
                    None,
                    K::Io,
                    "STARTTLS: read error=generic SSL error (-1), retry=99, ssl_err=1",
                ),
            ),
            (
                "STARTTLS: write error=generic SSL error (-1), errno=32, retry=99, ssl_err=1",
                err(
                    None,
                    None,
                    K::Io,
                    "STARTTLS: write error=generic SSL error (-1), errno=32, retry=99, ssl_err=1",
                ),
            ),
            // certificate verification
            (
                "STARTTLS: TLS cert verify: depth=0 /CN=mx.peer.example, state=0, reason=self signed certificate",
                err(
                    None,
                    None,
                    K::CertVerify,
                    "STARTTLS: TLS cert verify: depth=0 /CN=mx.peer.example, state=0, reason=self signed certificate",
                ),
            ),
            (
                "STARTTLS: X509 cert verify: depth=1 /C=US/O=Example CA, state=0, reason=unable to get local issuer certificate",
                err(
                    None,
                    None,
                    K::CertVerify,
                    "STARTTLS: X509 cert verify: depth=1 /C=US/O=Example CA, state=0, reason=unable to get local issuer certificate",
                ),
            ),
            (
                "STARTTLS=client, relay=mx.peer.example., field=cn_subject, status=failed to extract CN",
                err(
                    Some(OUT),
                    Some(n("mx.peer.example")),
                    K::CertVerify,
                    "STARTTLS=client, relay=mx.peer.example., field=cn_subject, status=failed to extract CN",
                ),
            ),
            // OpenSSL error-queue dumps (≥ 8.16, ≤ 8.15 with thread id, OpenSSL 3)
            (
                "STARTTLS=server: error:1408A0C1:SSL routines:ssl3_get_client_hello:no shared cipher:s3_srvr.c:1417:",
                err(
                    Some(IN),
                    None,
                    K::Library,
                    "STARTTLS=server: error:1408A0C1:SSL routines:ssl3_get_client_hello:no shared cipher:s3_srvr.c:1417:",
                ),
            ),
            (
                "STARTTLS=client: 139701234567:error:14090086:SSL routines:ssl3_get_server_certificate:certificate verify failed:s3_clnt.c:1269:",
                err(
                    Some(OUT),
                    None,
                    K::Library,
                    "STARTTLS=client: 139701234567:error:14090086:SSL routines:ssl3_get_server_certificate:certificate verify failed:s3_clnt.c:1269:",
                ),
            ),
            (
                "STARTTLS=read: error:0A000126:SSL routines::unexpected eof while reading:ssl/record/rec_layer_s3.c:308:",
                err(
                    None,
                    None,
                    K::Library,
                    "STARTTLS=read: error:0A000126:SSL routines::unexpected eof while reading:ssl/record/rec_layer_s3.c:308:",
                ),
            ),
            // shutdown
            (
                "STARTTLS=client, SSL_shutdown failed: -1",
                err(
                    Some(OUT),
                    None,
                    K::Shutdown,
                    "STARTTLS=client, SSL_shutdown failed: -1",
                ),
            ),
            (
                "STARTTLS=server, SSL_shutdown not done",
                err(
                    Some(IN),
                    None,
                    K::Shutdown,
                    "STARTTLS=server, SSL_shutdown not done",
                ),
            ),
            // DANE
            (
                "STARTTLS=client, relay=mx.dane.example., warning=DANE configured in DNS but STARTTLS failed",
                err(
                    Some(OUT),
                    Some(n("mx.dane.example")),
                    K::Dane,
                    "STARTTLS=client, relay=mx.dane.example., warning=DANE configured in DNS but STARTTLS failed",
                ),
            ),
            (
                "STARTTLS=client, relay=mx.dane.example., warning=DANE configured in DNS but STARTTLS not offered",
                err(
                    Some(OUT),
                    Some(n("mx.dane.example")),
                    K::Dane,
                    "STARTTLS=client, relay=mx.dane.example., warning=DANE configured in DNS but STARTTLS not offered",
                ),
            ),
            (
                "TLSA=_25._tcp.mx.dane.example, len=2, status=bogus",
                err(
                    Some(OUT),
                    None,
                    K::Dane,
                    "TLSA=_25._tcp.mx.dane.example, len=2, status=bogus",
                ),
            ),
            (
                "TLSA=_25._tcp.mx.dane.example, type=1-0-1:ab, status=unsupported",
                err(
                    Some(OUT),
                    None,
                    K::Dane,
                    "TLSA=_25._tcp.mx.dane.example, type=1-0-1:ab, status=unsupported",
                ),
            ),
            (
                "STARTTLS=client, SSL_dane_enable=-1",
                err(
                    Some(OUT),
                    None,
                    K::Dane,
                    "STARTTLS=client, SSL_dane_enable=-1",
                ),
            ),
            // other
            (
                "SMTP STARTTLS command (STARTTLS) from client.peer.example [192.0.2.5] tempfailed (due to previous checks)",
                err(
                    Some(IN),
                    Some(ni("client.peer.example", "192.0.2.5")),
                    K::Other,
                    "SMTP STARTTLS command (STARTTLS) from client.peer.example [192.0.2.5] tempfailed (due to previous checks)",
                ),
            ),
            (
                "STARTTLS=server, error: fd 1025/1024 too large",
                err(Some(IN), None, K::Other, "fd 1025/1024 too large"),
            ),
            (
                "[ID 702911 mail.warning] STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed",
                err(
                    Some(IN),
                    None,
                    K::PrivateKey,
                    "SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed",
                ),
            ),
            (
                "STARTTLS=client, host=mx.peer.example, ssl_dane_enable=-22",
                err(
                    Some(OUT),
                    Some(n("mx.peer.example")),
                    K::Dane,
                    "STARTTLS=client, host=mx.peer.example, ssl_dane_enable=-22",
                ),
            ),
            (
                "STARTTLS=client, SSL_dane_tlsa_add=-1, type=3-1-1, fp=6A1F0C93",
                err(
                    Some(OUT),
                    None,
                    K::Dane,
                    "STARTTLS=client, SSL_dane_tlsa_add=-1, type=3-1-1, fp=6A1F0C93",
                ),
            ),
            (
                "STARTTLS=init, CertFingerprintAlgorithm=sha3-999, status=invalid",
                err(
                    None,
                    None,
                    K::CipherConfig,
                    "STARTTLS=init, CertFingerprintAlgorithm=sha3-999, status=invalid",
                ),
            ),
            (
                "STARTTLS=client, relay=mx.peer.example., X509_digest=0, CertFingerprintAlgorithm=md5",
                err(
                    Some(OUT),
                    Some(n("mx.peer.example")),
                    K::Other,
                    "STARTTLS=client, relay=mx.peer.example., X509_digest=0, CertFingerprintAlgorithm=md5",
                ),
            ),
            (
                "STARTTLS=client, error: SSL_new failed",
                err(Some(OUT), None, K::Init, "SSL_new failed"),
            ),
            (
                "STARTTLS=server, relay=client.peer.example [192.0.2.5], field=AltName, status=value contains non IA5",
                err(
                    Some(IN),
                    Some(ni("client.peer.example", "192.0.2.5")),
                    K::CertVerify,
                    "STARTTLS=server, relay=client.peer.example [192.0.2.5], field=AltName, status=value contains non IA5",
                ),
            ),
            (
                "STARTTLS=init, FIPSMode=error:2D06C06E:FIPS routines:FIPS_module_mode_set:fingerprint does not match",
                err(
                    None,
                    None,
                    K::Init,
                    "STARTTLS=init, FIPSMode=error:2D06C06E:FIPS routines:FIPS_module_mode_set:fingerprint does not match",
                ),
            ),
            (
                "engine=pkcs11, init=failed",
                err(None, None, K::Init, "engine=pkcs11, init=failed"),
            ),
            (
                "SSL_CTX_dane_enable=-1",
                err(Some(OUT), None, K::Dane, "SSL_CTX_dane_enable=-1"),
            ),
            (
                "STARTTLS: CACertPath missing",
                err(None, None, K::UnsafeFile, "STARTTLS: CACertPath missing"),
            ),
            (
                "STARTTLS=client, host=mx.peer.example, SSL_set_tlsext_host_name=0",
                err(
                    Some(OUT),
                    Some(n("mx.peer.example")),
                    K::Other,
                    "STARTTLS=client, host=mx.peer.example, SSL_set_tlsext_host_name=0",
                ),
            ),
        ]);
    }

    /// §1.4 policy lines.
    #[test]
    fn policy_lines() {
        check(vec![
            (
                "ruleset=tls_server, arg1=SOFTWARE, relay=mx.peer.example, reject=403 4.7.0 TLS handshake failed.",
                pol(
                    "tls_server",
                    Verify::Software,
                    None,
                    Some(n("mx.peer.example")),
                    "reject=403 4.7.0 TLS handshake failed.",
                ),
            ),
            (
                "ruleset=tls_server, arg1=NONE, relay=mx.plain.example., reject=454 4.7.0 other side does not support STARTTLS",
                pol(
                    "tls_server",
                    Verify::None,
                    None,
                    Some(n("mx.plain.example")),
                    "reject=454 4.7.0 other side does not support STARTTLS",
                ),
            ),
            (
                "ruleset=tls_server, arg1=FAIL, relay=mx.peer.example, reject=403 4.7.0 authentication failed",
                pol(
                    "tls_server",
                    Verify::Fail,
                    None,
                    Some(n("mx.peer.example")),
                    "reject=403 4.7.0 authentication failed",
                ),
            ),
            (
                "ruleset=tls_client, arg1=NO, arg2=MAIL, relay=client.peer.example [192.0.2.9], reject=403 4.7.0 not authenticated",
                pol(
                    "tls_client",
                    Verify::No,
                    Some("MAIL"),
                    Some(ni("client.peer.example", "192.0.2.9")),
                    "reject=403 4.7.0 not authenticated",
                ),
            ),
            (
                "ruleset=tls_client, arg1=NOT, arg2=STARTTLS, relay=[192.0.2.9], status=454 4.7.0 no authentication requested",
                pol(
                    "tls_client",
                    Verify::Not,
                    Some("STARTTLS"),
                    Some(i("192.0.2.9")),
                    "status=454 4.7.0 no authentication requested",
                ),
            ),
            (
                "qASHQ0pt012345: ruleset=tls_rcpt, arg1=<bob@peer.example>, relay=mx.peer.example., reject=454 4.7.0 encryption too weak 0 less than 128",
                pol(
                    "tls_rcpt",
                    Verify::Other("<bob@peer.example>".into()),
                    None,
                    Some(n("mx.peer.example")),
                    "reject=454 4.7.0 encryption too weak 0 less than 128",
                ),
            ),
            (
                "ruleset=TLS_connection, arg1=SOFTWARE, relay=mx.peer.example, reject=503 5.7.0 TLS handshake failed.",
                pol(
                    "TLS_connection",
                    Verify::Software,
                    None,
                    Some(n("mx.peer.example")),
                    "reject=503 5.7.0 TLS handshake failed.",
                ),
            ),
            (
                "ruleset=tls_client, arg1=NOT, arg2=MAIL, relay=spam.peer.example [192.0.2.13], discard",
                pol(
                    "tls_client",
                    Verify::Not,
                    Some("MAIL"),
                    Some(ni("spam.peer.example", "192.0.2.13")),
                    "discard",
                ),
            ),
            (
                "ruleset=tls_client, arg1=NOT, arg2=MAIL, relay=odd.peer.example [192.0.2.14], quarantine=held for review, TLS",
                pol(
                    "tls_client",
                    Verify::Not,
                    Some("MAIL"),
                    Some(ni("odd.peer.example", "192.0.2.14")),
                    "quarantine=held for review, TLS",
                ),
            ),
            (
                "ruleset=check_rcpt, arg1=<x@elsewhere.example>, relay=client.peer.example [192.0.2.9], reject=550 5.7.1 <x@elsewhere.example>... Relaying denied",
                Parsed::Irrelevant,
            ),
            (
                "ruleset=check_relay, arg1=bad.example, arg2=192.0.2.99, relay=bad.example [192.0.2.99], reject=554 5.7.1 Rejected",
                Parsed::Irrelevant,
            ),
        ]);
    }

    /// Message lines: from= and to=.
    #[test]
    fn message_lines() {
        use DeliveryStatus as S;
        check(vec![
            (
                "l65DnTLe028546: from=<alice@peer.example>, size=2345, class=0, nrcpts=1, msgid=<20261128.abc@peer.example>, bodytype=8BITMIME, proto=ESMTPS, daemon=MTA, relay=mail.peer.example [192.0.2.10]",
                rcv(
                    "l65DnTLe028546",
                    "alice@peer.example",
                    Some(ni("mail.peer.example", "192.0.2.10")),
                    Some("ESMTPS"),
                ),
            ),
            (
                "qASHQ0pt012345: from=<>, size=4120, class=0, nrcpts=1, msgid=<202611281000.qASHQ0pu012345@dsl-77.isp.example>, proto=ESMTP, daemon=MTA, relay=dsl-77.isp.example [198.51.100.77] (may be forged)",
                rcv(
                    "qASHQ0pt012345",
                    "",
                    Some(p(Some("dsl-77.isp.example"), Some("198.51.100.77"), true)),
                    Some("ESMTP"),
                ),
            ),
            (
                "qASHQ0pt012345: from=root, size=523, class=0, nrcpts=1, msgid=<202611281000.qASHQ0pt012345@host.example>, relay=root@localhost",
                rcv("qASHQ0pt012345", "root", None, None),
            ),
            (
                "2A1820LG031423: from=<news@list.peer.example>, size=88, class=-60, nrcpts=3, msgid=<a$b!c(d)%e, f@g>, proto=ESMTPSA, daemon=MTA-v6, relay=[IPv6:2001:db8::25]",
                rcv(
                    "2A1820LG031423",
                    "news@list.peer.example",
                    Some(i("2001:db8::25")),
                    Some("ESMTPSA"),
                ),
            ),
            // fields out of order, str2prt escapes kept as logged, commas inside <…>
            (
                "qASHQ0pu012351: from=<we\\\\ird\\tuser@peer.example>, relay=mail.peer.example [192.0.2.10], msgid=<odd, size=1@peer.example>, proto=ESMTPS, size=10, class=0, nrcpts=1",
                rcv(
                    "qASHQ0pu012351",
                    "we\\\\ird\\tuser@peer.example",
                    Some(ni("mail.peer.example", "192.0.2.10")),
                    Some("ESMTPS"),
                ),
            ),
            // from= cut at 200 characters: no closing bracket
            (
                "qASHQ0pu012352: from=<very-long-bounce-address-0123456789@lists.peer.example, size=10, class=0, nrcpts=1, msgid=<m@peer.example>, proto=ESMTP, daemon=MTA, relay=lists.peer.example [192.0.2.12]",
                rcv(
                    "qASHQ0pu012352",
                    "<very-long-bounce-address-0123456789@lists.peer.example",
                    Some(ni("lists.peer.example", "192.0.2.12")),
                    Some("ESMTP"),
                ),
            ),
            (
                "JAA12345: from=<bob@old.example>, size=100, class=0, nrcpts=1, msgid=<old@old.example>, proto=SMTP, relay=ident@old.example [192.0.2.77]",
                rcv(
                    "JAA12345",
                    "bob@old.example",
                    Some(ni("old.example", "192.0.2.77")),
                    Some("SMTP"),
                ),
            ),
            (
                "l65DnTLe028546: to=<bob@peer.example>, delay=00:00:02, xdelay=00:00:02, mailer=esmtp, pri=120345, relay=mx1.peer.example. [192.0.2.20], dsn=2.0.0, stat=Sent (ok 1234, queued as 4F2B1C0D)",
                dlv(
                    "l65DnTLe028546",
                    "bob@peer.example",
                    Some(ni("mx1.peer.example", "192.0.2.20")),
                    "esmtp",
                    S::Sent,
                    Some("2.0.0"),
                    "Sent (ok 1234, queued as 4F2B1C0D)",
                ),
            ),
            (
                "l65DnTLe028546: to=<a@peer.example>,<b@peer.example>, ctladdr=<alice@host.example> (1000/1000), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=150345, relay=mx6.peer.example. [IPv6:2001:db8::25], dsn=2.0.0, stat=Sent (<20261128.abc@host.example> [InternalId=1234, Hostname=MX6] Queued mail for delivery)",
                dlv(
                    "l65DnTLe028546",
                    "a@peer.example,b@peer.example",
                    Some(ni("mx6.peer.example", "2001:db8::25")),
                    "esmtp",
                    S::Sent,
                    Some("2.0.0"),
                    "Sent (<20261128.abc@host.example> [InternalId=1234, Hostname=MX6] Queued mail for delivery)",
                ),
            ),
            (
                "qASHQ0pt012345: to=<carol@plain.example>, delay=00:05:00, xdelay=00:00:00, mailer=esmtp, pri=210345, relay=mx.plain.example. [192.0.2.30], dsn=4.0.0, stat=Deferred: Connection refused by mx.plain.example.",
                dlv(
                    "qASHQ0pt012345",
                    "carol@plain.example",
                    Some(ni("mx.plain.example", "192.0.2.30")),
                    "esmtp",
                    S::Deferred,
                    Some("4.0.0"),
                    "Deferred: Connection refused by mx.plain.example.",
                ),
            ),
            (
                "qASHQ0pt012345: to=<dave@peer.example>, delay=00:00:03, xdelay=00:00:03, mailer=esmtp, pri=120345, relay=mx.peer.example, dsn=4.0.0, stat=Deferred: 403 4.7.0 TLS handshake failed.",
                dlv(
                    "qASHQ0pt012345",
                    "dave@peer.example",
                    Some(n("mx.peer.example")),
                    "esmtp",
                    S::Deferred,
                    Some("4.0.0"),
                    "Deferred: 403 4.7.0 TLS handshake failed.",
                ),
            ),
            (
                "qASHQ0pt012345: to=<nobody@peer.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30345, relay=mx1.peer.example. [192.0.2.20], dsn=5.1.1, reply=550 5.1.1 <nobody@peer.example>... User unknown, stat=User unknown",
                dlv(
                    "qASHQ0pt012345",
                    "nobody@peer.example",
                    Some(ni("mx1.peer.example", "192.0.2.20")),
                    "esmtp",
                    S::Bounced,
                    Some("5.1.1"),
                    "User unknown",
                ),
            ),
            (
                "qASHQ0pt012345: to=bob, ctladdr=<bob@host.example> (1001/1001), delay=00:00:00, xdelay=00:00:00, mailer=local, pri=30734, dsn=2.0.0, stat=Sent",
                dlv(
                    "qASHQ0pt012345",
                    "bob",
                    None,
                    "local",
                    S::Sent,
                    Some("2.0.0"),
                    "Sent",
                ),
            ),
            (
                "qASHQ0pu012346: to=root, ctladdr=root (0/0), delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30044, relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (qASHQ0pt012345 Message accepted for delivery)",
                dlv(
                    "qASHQ0pu012346",
                    "root",
                    Some(i("127.0.0.1")),
                    "relay",
                    S::Sent,
                    Some("2.0.0"),
                    "Sent (qASHQ0pt012345 Message accepted for delivery)",
                ),
            ),
            (
                "JAA12345: to=<a@peer.example>,<b@peer.example>, [more], delay=00:00:04, xdelay=00:00:04, mailer=smtp, pri=90000, relay=smarthost.example [192.0.2.40], dsn=2.0.0, stat=Sent (Ok)",
                dlv(
                    "JAA12345",
                    "a@peer.example,b@peer.example",
                    Some(ni("smarthost.example", "192.0.2.40")),
                    "smtp",
                    S::Sent,
                    Some("2.0.0"),
                    "Sent (Ok)",
                ),
            ),
            (
                "qASHQ0pu012347: from=<>, size=2890, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[RESPONSE]",
                rcv("qASHQ0pu012347", "", None, Some("ESMTP")),
            ),
            (
                "qASHQ0pu012348: from=<mailer@peer.example>, size=700, class=0, nrcpts=1, msgid=<x@peer.example>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]",
                rcv(
                    "qASHQ0pu012348",
                    "mailer@peer.example",
                    Some(ni("localhost", "127.0.0.1")),
                    Some("ESMTP"),
                ),
            ),
            (
                "qASHQ0pu012349: to=<eve@peer.example>, delay=5+00:00:00, xdelay=00:00:01, mailer=esmtp, pri=9120345, relay=mx.peer.example. [192.0.2.20], dsn=4.4.7, stat=Deferred: 451 4.7.1 Greylisted, try again later",
                dlv(
                    "qASHQ0pu012349",
                    "eve@peer.example",
                    Some(ni("mx.peer.example", "192.0.2.20")),
                    "esmtp",
                    DeliveryStatus::Deferred,
                    Some("4.4.7"),
                    "Deferred: 451 4.7.1 Greylisted, try again later",
                ),
            ),
            (
                "qASHQ0pu012350: to=<gone@nowhere.example>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30000, relay=nowhere.example, dsn=5.1.2, stat=Host unknown (Name server: nowhere.example: host not found)",
                dlv(
                    "qASHQ0pu012350",
                    "gone@nowhere.example",
                    Some(n("nowhere.example")),
                    "esmtp",
                    DeliveryStatus::Bounced,
                    Some("5.1.2"),
                    "Host unknown (Name server: nowhere.example: host not found)",
                ),
            ),
            (
                "l65DnTLe028546: to=<x@peer.example>, delay=00:00:00, mailer=esmtp, pri=30000, stat=quarantined",
                dlv(
                    "l65DnTLe028546",
                    "x@peer.example",
                    None,
                    "esmtp",
                    S::Other,
                    None,
                    "quarantined",
                ),
            ),
        ]);
    }

    /// `_FFR_LOG_MORE` builds write the session's TLS facts on the message line.
    #[test]
    fn ffr_tls_fields_on_message_lines() {
        let line = "l65DnTLe028546: from=<a@peer.example>, size=10, class=0, nrcpts=1, msgid=<m@peer.example>, proto=ESMTPS, daemon=MTA, tls_verify=NOT, tls_version=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, auth=NONE, relay=mail.peer.example [192.0.2.10]";
        let want = Parsed::Event(EventKind::Received(Reception {
            queue_id: "l65DnTLe028546".into(),
            from: "a@peer.example".into(),
            peer: Some(ni("mail.peer.example", "192.0.2.10")),
            proto: Some("ESMTPS".into()),
            tls: Some(TlsParams {
                version: TlsVersion::Tls1_3,
                cipher: Some(Cipher("TLS_AES_256_GCM_SHA384".into())),
                bits: Bits::default(),
                verify: Verify::Not,
                detail: None,
            }),
        }));
        assert_eq!(parse(line), want);
        let plain = "l65DnTLe028546: to=<b@plain.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, tls_verify=NONE, tls_version=NONE, cipher=NONE, pri=120000, relay=mx.plain.example. [192.0.2.30], dsn=2.0.0, stat=Sent (ok)";
        let Parsed::Event(EventKind::Delivery(d)) = parse(plain) else {
            panic!("not a delivery: {plain}");
        };
        assert_eq!(d.tls, None);
        assert_eq!(d.peer, Some(ni("mx.plain.example", "192.0.2.30")));
        assert_eq!(d.text, "Sent (ok)");
    }

    #[test]
    fn session_ends() {
        check(vec![
            (
                "l65DnTLe028546: lost input channel from client.peer.example [192.0.2.5] to MTA after rcpt",
                end(
                    Some(ni("client.peer.example", "192.0.2.5")),
                    "lost input channel after rcpt",
                ),
            ),
            (
                "lost input channel from dyn.isp.example [198.51.100.3] (may be forged) to MTA-v4 after data",
                end(
                    Some(p(Some("dyn.isp.example"), Some("198.51.100.3"), true)),
                    "lost input channel after data",
                ),
            ),
            (
                "client.peer.example [192.0.2.5] did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA",
                end(
                    Some(ni("client.peer.example", "192.0.2.5")),
                    "did not issue MAIL/EXPN/VRFY/ETRN",
                ),
            ),
            (
                "qASHQ0pt012345: [IPv6:2001:db8::77] did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA-v6",
                end(Some(i("2001:db8::77")), "did not issue MAIL/EXPN/VRFY/ETRN"),
            ),
            (
                "timeout waiting for input from client.peer.example during server cmd read",
                end(
                    Some(n("client.peer.example")),
                    "timeout during server cmd read",
                ),
            ),
            (
                "timeout waiting for input from mx.peer.example. during client greeting",
                Parsed::Irrelevant,
            ),
        ]);
    }

    #[test]
    fn irrelevant_lines() {
        for line in [
            "",
            "AUTH=server, relay=client.peer.example [192.0.2.5], authid=alice, mech=PLAIN, bits=0",
            "AUTH=client, relay=smarthost.example, mech=PLAIN, bits=0",
            "alias database /etc/mail/aliases rebuilt by root",
            "/etc/mail/aliases: 42 aliases, longest 30 bytes, 900 bytes total",
            "starting daemon (8.18.1): SMTP+queueing@00:30:00",
            "l65DnTLe028546: Milter: connect to filters",
            "l65DnTLe028546: milter=clamav, action=data, continue",
            "l65DnTLe028546: Milter add: header: X-Virus-Scanned: clamav-milter 1.0.3",
            "NOQUEUE: connect from client.peer.example [192.0.2.5]",
            "STARTTLS=server, init=1",
            "STARTTLS=client, init=1",
            "STARTTLS=server, Diffie-Hellman init, key=2048 bit (P)",
            "STARTTLS=server, cert-subject=/CN=client.peer.example, cert-issuer=/C=US/O=Let's+20Encrypt/CN=R3, verifymsg=ok",
            "[1]: STARTTLS=client, cert-subject=/C=DE/O=Example+20GmbH/CN=mx.peer.example, cert-issuer=/C=US/O=DigiCert+20Inc/CN=DigiCert+20TLS+20RSA+20SHA256+202020+20CA1, ...",
            "STARTTLS=client, relay=mx.peer.example., AltName=mx.peer.example",
            "STARTTLS=client, relay=mx.peer.example., tlsstate=1, status=trying_again",
            "STARTTLS=server, get_verify: 0 get_peer: 0x0",
            "STARTTLS=client, start=ok",
            "STARTTLS=init, FIPSMode=ok",
            "STARTTLS=server, SSL_MODE_AUTO_RETRY=set, mode=0x4",
            "STARTTLS=client, SSL_dane_enable=1, domain=mx.dane.example",
            "STARTTLS=client, SSL_dane_tlsa_add=1, type=3-1-1, fp=6A1F0C93",
            "STARTTLS: SSL_accept:SSLv3 read client hello A",
            "STARTTLS: info_callback where=0x2001, ret=1",
            "tls_srv_features=empty, stat=0, relay=client.peer.example [192.0.2.5]",
            "tls_clt_features=\"cipherlist=HIGH\", relay=mx.peer.example [192.0.2.20]",
            "DANE_depth=0, DANE_res=1, SSL_get0_dane_tlsa=0, fp=6A1F, status=matched_EE_certificate",
            "SSL_CTX_dane_enable=1",
            "STARTTLSX=server, relay=x",
        ] {
            assert_eq!(parse(line), Parsed::Irrelevant, "line: {line}");
        }
    }

    #[test]
    fn malformed_lines() {
        for line in [
            "STARTTLS=server, relay=x.peer.example [192.0.2.1], version=",
            "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2, verify=OK, cipher=AES256-SHA",
            "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2, verify=OK, cipher=AES256-SHA, bits=abc",
            "STARTTLS=server, relay=[192.0.2.1]",
            "STARTTLS=init, relay=local, version=TLSv1.2, verify=OK, cipher=AES256-SHA, bits=256/256",
            "from=<alice@peer.example>, size=2345, class=0, nrcpts=1, proto=ESMTPS, relay=mail.peer.example [192.0.2.10]",
            "to=<bob@peer.example>, mailer=esmtp, stat=Sent",
            "l65DnTLe028546: to=<bob@peer.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp",
            "ruleset=tls_server, arg1=SOFTWARE, relay=mx.peer.example",
            "ruleset=tls_server",
            "ruleset=tls_client, arg2=MAIL, reject=403 4.7.0 x",
        ] {
            assert!(
                matches!(parse(line), Parsed::Malformed(_)),
                "line: {line} gave {:?}",
                parse(line)
            );
        }
    }

    #[test]
    fn relay_forms() {
        let rows = [
            (
                "mail.peer.example [192.0.2.10]",
                ni("mail.peer.example", "192.0.2.10"),
            ),
            ("[192.0.2.10]", i("192.0.2.10")),
            (
                "host.example [192.0.2.1] (may be forged)",
                p(Some("host.example"), Some("192.0.2.1"), true),
            ),
            (
                "root@host.example [192.0.2.1]",
                ni("host.example", "192.0.2.1"),
            ),
            (
                "h.example [IPv6:2001:db8::1]",
                ni("h.example", "2001:db8::1"),
            ),
            (
                "h.example [IPv6:2001:db8:400c:c08:0:0:0:1b]",
                ni("h.example", "2001:db8:400c:c08::1b"),
            ),
            ("[IPv6:::ffff:192.0.2.7]", i("192.0.2.7")),
            ("mx1.peer.example.", n("mx1.peer.example")),
            ("smarthost.example", n("smarthost.example")),
            ("[127.0.0.1]", i("127.0.0.1")),
            ("[smarthost.example]", n("smarthost.example")),
            ("[127.0.0.1] [127.0.0.1]", i("127.0.0.1")),
            (
                "mx.peer.example. [192.0.2.20]",
                ni("mx.peer.example", "192.0.2.20"),
            ),
            (
                "long.name.example [IPv6:2001:db8:1234:",
                n("long.name.example"),
            ),
            (
                "long.name.example [IPv6:2001:db8::1] (may be",
                p(Some("long.name.example"), Some("2001:db8::1"), true),
            ),
            ("host.example (192.0.2.8)", ni("host.example", "192.0.2.8")),
            ("unknown [192.0.2.9]", i("192.0.2.9")),
            ("", Peer::default()),
            ("[", Peer::default()),
        ];
        for (raw, want) in rows {
            assert_eq!(parse_relay(raw), want, "relay: {raw:?}");
        }
    }

    #[test]
    fn queue_id_prefix() {
        assert_eq!(
            split_qid("l65DnTLe028546: to=x"),
            (Some("l65DnTLe028546"), "to=x")
        );
        assert_eq!(
            split_qid("STARTTLS: read error=timeout"),
            (None, "STARTTLS: read error=timeout")
        );
        assert_eq!(split_qid("JAA12345[3]: x"), (Some("JAA12345[3]"), "x"));
        assert_eq!(split_qid("NOQUEUE: connect"), (None, "NOQUEUE: connect"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse(&s);
            let _ = parse_relay(&s);
        }

        #[test]
        fn never_panics_on_our_prefixes(
            prefix in prop::sample::select(vec![
                "STARTTLS=server, relay=", "STARTTLS=client, error: ", "STARTTLS: ",
                "l65DnTLe028546: from=", "l65DnTLe028546: to=", "ruleset=tls_server, ",
                "[1]: ", "tls_srv_features=", "lost input channel from ",
                "timeout waiting for input from ", "STARTTLS=server: ",
            ]),
            tail in "[ -~\\[\\]<>=,()]{0,200}",
        ) {
            let line = format!("{prefix}{tail}");
            let _ = parse(&line);
        }
    }
}
