//! Exim's main log (FORMATS.md §3), from its own file or via syslog.
//!
//! Exim writes TLS on the message line itself: `<=` arrivals and `=>`/`->`/`*>`/`**`/`==`
//! deliveries carry `X=<version>:<cipher>:<bits>`, `CV=` and optionally `DN="…"` and
//! `SNI=`, so every message's TLS verdict is known from its own line and correlation is by
//! message id. A line without `X=` went in clear.
//!
//! The input is the text after the envelope: for the mainlog form
//! `YYYY-MM-DD HH:MM:SS[.mmm][ ±hhmm] [[pid]] rest` the envelope parser hands over `rest`;
//! via syslog (`exim[1234]: rest`) the same. A leading timestamp, `[pid]` and syslog's
//! `[n/m]` split marker are also stripped here, so pasted mainlog lines read the same.
//!
//! # `CV=` onto [`Verify`]
//!
//! | where | `CV=` | [`Verify`] | why |
//! |---|---|---|---|
//! | reception | `yes` | `OK` | the client certificate verified |
//! | reception | `no` with `DN=` | `FAIL` | a certificate was presented (its DN is logged) and did not verify |
//! | reception | `no` without `DN=` | `NO` | no DN: the client presented no certificate. Whether Exim asked (`tls_verify_hosts`, `tls_try_verify_hosts`) is not in the log, so `NOT` ("not requested") cannot be claimed; `NO` says what is known, as for Postfix's `Anonymous` (issue 18) |
//! | reception | absent | `NO` | Exim ≥ 4.99 omits `CV=` when no certificate was presented |
//! | delivery | `yes` | `OK` | server certificate verified |
//! | delivery | `dane` | `TRUSTED` | DANE verification (Sendmail's `TRUSTED`) |
//! | delivery | `no` | `FAIL` | the server always presents a certificate; it did not verify |
//! | delivery | absent | `UNKNOWN` (`Verify::Unknown`) | `tls_certificate_verified` log selector turned off |
//!
//! The raw `CV=` word is kept in [`TlsDetail::raw_verify`].

use std::borrow::Cow;
use std::net::IpAddr;

use super::{Detail, Parsed};
use crate::model::EndReason;
use crate::model::QueueId;
use crate::model::{
    Bits, Cipher, Delivery, DeliveryStatus, Direction, EventKind, Peer, Reception, TlsDetail,
    TlsError, TlsErrorKind, TlsParams, TlsSession, TlsVersion, Verify,
};

/// Reads one Exim log text (after the mainlog timestamp or the syslog `exim[pid]: `).
pub fn parse(msg: &str) -> Parsed {
    parse_with(msg, Detail::Full)
}

/// [`parse`] building only the `detail` asked for (see [`Detail`]).
pub fn parse_with(msg: &str, detail: Detail) -> Parsed {
    // (Byte splits and trims: `split_once(' ')` went through std's `CharSearcher`, ~150
    // instructions a call, and `trim` decoded characters; issue 21.)
    let Some(text) = strip_prefixes(crate::model::text::trim_solid(msg)) else {
        // A continuation piece of a line syslog split: its head was parsed on its own.
        return Parsed::Irrelevant;
    };
    let (id, rest) = match split_byte(text, b' ') {
        Some((first, rest)) if is_message_id(first) => (Some(first), trim_start(rest)),
        _ => (None, text),
    };
    if let Some(id) = id {
        let (mark, after) = split_byte(rest, b' ').unwrap_or((rest, ""));
        match mark {
            "<=" => return reception(id, after, text, detail),
            "=>" | "->" => return delivery(id, DeliveryStatus::Sent, after, text, detail),
            "*>" => return delivery(id, DeliveryStatus::Other, after, text, detail),
            "**" => return delivery(id, DeliveryStatus::Bounced, after, text, detail),
            "==" => return delivery(id, DeliveryStatus::Deferred, after, text, detail),
            _ => {}
        }
    }
    if let Some(p) = tls_error(rest) {
        return p;
    }
    if id.is_none()
        && let Some(p) = tls_file_missing(rest)
    {
        return p;
    }
    if let Some(p) = rejected(rest) {
        return p;
    }
    if id.is_none()
        && let Some(p) = daemon_start(rest)
    {
        return p;
    }
    if let Some(p) = no_mail(rest) {
        return p;
    }
    Parsed::Irrelevant
}

/// Drops a mainlog timestamp, a `[pid]` and syslog's `[n/m]` split marker; `None` for a
/// continuation piece (`[2/3]` …).
fn strip_prefixes(mut s: &str) -> Option<&str> {
    let b = s.as_bytes();
    // `YYYY-MM-DD HH:MM:SS`: every byte checked, so the cut at 19 is on a char boundary.
    let is_date = b.get(..19).is_some_and(|head| {
        head.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
    });
    if is_date {
        s = &s[19..];
        if let Some(r) = s.strip_prefix('.') {
            s = r.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        s = s.trim_start();
        if let Some((zone, r)) = s.split_once(' ')
            && zone.len() == 5
            && (zone.starts_with('+') || zone.starts_with('-'))
            && zone[1..].bytes().all(|c| c.is_ascii_digit())
        {
            s = r;
        }
    }
    // `[pid]` (log_selector +pid) and `[n/m]` / `[n\m]` (syslog splits).
    while let Some(r) = s.strip_prefix('[') {
        let Some((inside, after)) = r.split_once(']') else {
            break;
        };
        if inside.bytes().all(|c| c.is_ascii_digit()) && !inside.is_empty() {
            s = after.trim_start();
            continue;
        }
        if let Some((n, m)) = inside.split_once(['/', '\\'])
            && let (Ok(n), Ok(_)) = (n.parse::<u32>(), m.parse::<u32>())
        {
            if n > 1 {
                return None;
            }
            s = after.trim_start();
            continue;
        }
        break;
    }
    Some(s)
}

/// Exim message ids: `1aZ1HS-0006iF-Rk` (6-6-2, up to 4.96) and `1sDcIh-000000004YY-3wAT`
/// (6-11-4, from 4.97).
pub fn is_message_id(s: &str) -> bool {
    // Three parts of the two lengths' shapes: the dashes sit at fixed places, every other
    // byte is an ASCII letter or digit (one pass over the bytes, no split).
    let dashes = match s.len() {
        16 => [6, 13],
        23 => [6, 18],
        _ => return false,
    };
    s.bytes().enumerate().all(|(i, b)| {
        if i == dashes[0] || i == dashes[1] {
            b == b'-'
        } else {
            b.is_ascii_alphanumeric()
        }
    })
}

/// The slot of `key` in [`Fields::values`] when it is one of the keys the parsers read:
/// `X`, `CV`, `DN`, `SNI`, `P`, `T`, `C`.
fn key_slot(key: &str) -> Option<usize> {
    Some(match key {
        "X" => 0,
        "CV" => 1,
        "DN" => 2,
        "SNI" => 3,
        "P" => 4,
        "T" => 5,
        "C" => 6,
        _ => return None,
    })
}

/// The items of a message line after its mark, as read by [`fields`].
///
/// Only what the parsers read is kept (issue 21: a `Vec` of every `KEY=value` and one of
/// every bare word were allocated for each message line and searched key by key): the
/// first value of each key [`key_slot`] knows, and whether a bare word said `rejected`.
#[derive(Debug, Default)]
struct Fields<'a> {
    /// The first bare word (sender or recipient).
    first: Option<&'a str>,
    host: Option<Peer>,
    /// The first value of each key, in [`key_slot`]'s order. Values borrow the line
    /// unless quoted with escapes (the usual case allocates nothing).
    values: [Option<Cow<'a, str>>; 7],
    /// Text after a field that ended with `: ` (errors on `**` and `==` lines).
    text: Option<&'a str>,
    /// A bare word after the first (`defer (-37)` and similar) was `rejected`.
    bare_rejected: bool,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key_slot(key)?)?.as_deref()
    }

    /// Keeps `value` when [`key_slot`] knows `key` and it has none yet (the first wins).
    fn push(&mut self, key: &str, value: Cow<'a, str>) {
        if let Some(slot) = key_slot(key).and_then(|i| self.values.get_mut(i))
            && slot.is_none()
        {
            *slot = Some(value);
        }
    }

    /// A bare word after the first.
    fn bare(&mut self, word: &str) {
        self.bare_rejected |= word == "rejected";
    }
}

/// `s.trim_start()`, with the ASCII blanks between fields skipped by a byte loop (std's
/// decodes each character); the first non-ASCII byte hands the rest to std.
fn trim_start(s: &str) -> &str {
    let n = s
        .bytes()
        .take_while(|&b| matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r'))
        .count();
    let s = s.get(n..).unwrap_or_default();
    if s.as_bytes().first().is_some_and(|&b| b >= 0x80) {
        s.trim_start()
    } else {
        s
    }
}

/// Reads `word KEY=value KEY="quoted value" H=host (helo) [ip]:port … [: text]`. With
/// `colon_text`, a word or value ending in `:` before a space ends the fields and the rest
/// is the error text.
///
/// Each word is read by one walk over its key bytes and one `memchr` for its end (issue
/// 21: two `memchr` calls, a key check and a third search for the value's end per word,
/// ~2,000 instructions a message line; a byte loop over whole words cost more still). Proven equal to the word-by-word reading by `fields_agree_with_the_word_reading`.
fn fields(s: &str, colon_text: bool) -> Fields<'_> {
    let mut f = Fields::default();
    let mut rest = trim_start(s);
    while !rest.is_empty() {
        if let Some(h) = rest.strip_prefix("H=") {
            match host_spec(h) {
                Some((peer, after)) => {
                    f.host = Some(peer);
                    rest = after;
                    if let Some(t) = rest.strip_prefix(':')
                        && colon_text
                    {
                        f.text = Some(t.trim());
                        break;
                    }
                    rest = trim_start(rest);
                    continue;
                }
                None => {
                    // Not `name [ip]`: keep the word as a name (LMTP socket paths, …).
                    let (word, after) = split_word(h);
                    let word = word.trim_end_matches(':');
                    f.host = Some(Peer::new(Some(word), None));
                    rest = trim_start(after);
                    continue;
                }
            }
        }
        // A key is letters, digits and `_` up to the first other byte, which must be `=`
        // (that is the old reading's "the word's first `=`, with only key bytes before
        // it"); the word ends at its first space, found once.
        let bytes = rest.as_bytes();
        let k = bytes
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or(bytes.len());
        let kv = (k > 0 && bytes.get(k) == Some(&b'=')).then_some(k);
        let sp = |from: usize| {
            bytes
                .get(from..)
                .and_then(|r| memchr::memchr(b' ', r))
                .map_or(bytes.len(), |i| from + i)
        };
        if let Some(e) = kv {
            let key = rest.get(..e).unwrap_or_default();
            let after_eq = rest.get(e + 1..).unwrap_or_default();
            let is_quoted = after_eq.starts_with('"');
            let (value, after) = if is_quoted {
                quoted(after_eq.get(1..).unwrap_or_default())
            } else {
                // The value ends where the word does.
                let sp = sp(e + 1);
                (
                    Cow::Borrowed(rest.get(e + 1..sp).unwrap_or_default()),
                    rest.get(sp..).unwrap_or_default(),
                )
            };
            rest = after;
            if colon_text && !is_quoted && value.ends_with(':') {
                let value = match value {
                    Cow::Borrowed(v) => Cow::Borrowed(v.trim_end_matches(':')),
                    Cow::Owned(v) => Cow::Owned(v.trim_end_matches(':').to_owned()),
                };
                f.push(key, value);
                f.text = Some(rest.trim());
                break;
            }
            if colon_text && let Some(t) = rest.strip_prefix(':') {
                f.push(key, value);
                f.text = Some(t.trim());
                break;
            }
            f.push(key, value);
        } else {
            let sp = sp(k);
            let word = rest.get(..sp).unwrap_or_default();
            rest = rest.get(sp..).unwrap_or_default();
            if colon_text && word.ends_with(':') {
                let w = word.trim_end_matches(':');
                if f.first.is_none() {
                    f.first = Some(w);
                } else if !w.is_empty() {
                    f.bare(w);
                }
                f.text = Some(rest.trim());
                break;
            }
            if f.first.is_none() {
                f.first = Some(word);
            } else {
                f.bare(word);
            }
        }
        rest = trim_start(rest);
    }
    f
}

/// `s` split before its first space (the space stays with the rest). A byte loop: the
/// words are a few bytes long, where a `memchr` call cost more than the search.
fn split_word(s: &str) -> (&str, &str) {
    match s.bytes().position(|b| b == b' ') {
        Some(i) => (
            s.get(..i).unwrap_or_default(),
            s.get(i..).unwrap_or_default(),
        ),
        None => (s, ""),
    }
}

/// A double-quoted value (after its opening quote) with Exim's backslash escapes.
fn quoted(s: &str) -> (Cow<'_, str>, &str) {
    // Without a backslash before the closing quote the value is the text as it stands.
    if let Some(end) = s.bytes().position(|b| b == b'"' || b == b'\\')
        && s.as_bytes().get(end) == Some(&b'"')
    {
        return (
            Cow::Borrowed(s.get(..end).unwrap_or_default()),
            s.get(end + 1..).unwrap_or_default(),
        );
    }
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            }
            '"' => return (Cow::Owned(out), &s[i + 1..]),
            _ => out.push(c),
        }
    }
    (Cow::Owned(out), "")
}

/// `name [ip]`, `name (helo) [ip]`, `(helo) [ip]`, `[ip]`, each with an optional `:port`.
/// Returns the peer and the text after it.
fn host_spec(s: &str) -> Option<(Peer, &str)> {
    let mut rest = s;
    let mut name = None;
    if !rest.starts_with('(') && !rest.starts_with('[') {
        let (w, after) = split_word(rest);
        name = Some(w);
        rest = after.strip_prefix(' ')?;
    }
    if rest.starts_with('(') {
        // HELO in parentheses, possibly holding brackets (`([192.0.2.1])`) or spaces.
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = rest.get(end? + 1..)?.strip_prefix(' ')?;
    }
    let inner = rest.strip_prefix('[')?;
    // (A byte loop: `find` on a `char` went through std's `CharSearcher`.)
    let close = inner.bytes().position(|b| b == b']')?;
    let addr = &inner[..close];
    let addr = addr.strip_prefix("IPv6:").unwrap_or(addr);
    let ip: IpAddr = crate::parse::ip_addr(addr)?;
    let mut after = &inner[close + 1..];
    if let Some(p) = after.strip_prefix(':') {
        let digits = p.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            after = &p[digits..];
        }
    }
    Some((Peer::new(name, Some(ip)), after))
}

/// Exim's `X=` value taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherString {
    pub version: TlsVersion,
    pub cipher: Option<Cipher>,
    /// OpenSSL's algorithm bits or GnuTLS's key size × 8.
    pub bits: Option<u16>,
    /// The key-exchange group Exim 4.100 appends (`:X25519`).
    pub group: Option<String>,
    /// A trailing `*`: the session was resumed.
    pub resumed: bool,
}

/// Parses `X=` (FORMATS §3.2): split on `:`, first = version, last numeric = bits, an
/// optional trailing key-exchange group after it, the cipher in between (GnuTLS names may
/// hold `__`). A trailing `*` marks a resumed session.
///
/// The parts are found as slices of `x` from the right, so the cipher and the group are
/// the text between them and nothing is split into a `Vec` or joined again (issue 21: that
/// was ~1,100 instructions a TLS message line). Proven equal to the split-and-join reading
/// by `cipher_string_agrees_with_splitting`.
pub fn cipher_string(x: &str) -> CipherString {
    let (x, resumed) = match x.strip_suffix('*') {
        Some(r) => (r, true),
        None => (x, false),
    };
    let (version, tail) = match split_byte(x, b':') {
        Some((v, t)) => (v, Some(t)),
        None => (x, None),
    };
    let version = TlsVersion::parse(version);
    let (cipher, bits, group) = match tail {
        None => ("", None, None),
        Some(t) => match bits_part(t) {
            // The parts before the bits (without the colon that ends them), the bits, and
            // whatever parts follow (even one empty part: `…:256:` has the group "").
            Some((start, end)) => (
                start.checked_sub(1).and_then(|c| t.get(..c)).unwrap_or(""),
                t.get(start..end).and_then(|b| b.parse::<u16>().ok()),
                (end < t.len()).then(|| t.get(end + 1..).unwrap_or_default().to_owned()),
            ),
            None => (t, None, None),
        },
    };
    CipherString {
        version,
        cipher: (!cipher.is_empty()).then(|| Cipher::new(cipher)),
        bits,
        group,
        resumed,
    }
}

/// `s.split_once(c)` for an ASCII byte, by a byte loop (the texts are a few bytes long).
fn split_byte(s: &str, c: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == c)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The byte range of the last `:`-separated part of `t` that is all ASCII digits and not
/// empty.
fn bits_part(t: &str) -> Option<(usize, usize)> {
    let b = t.as_bytes();
    let mut end = b.len();
    loop {
        let start = b
            .get(..end)?
            .iter()
            .rposition(|&c| c == b':')
            .map_or(0, |i| i + 1);
        let part = b.get(start..end)?;
        if !part.is_empty() && part.iter().all(u8::is_ascii_digit) {
            return Some((start, end));
        }
        end = start.checked_sub(1)?;
    }
}

/// The TLS parameters of a message line, or `None` when it has no `X=` (plaintext).
fn tls_params(f: &Fields<'_>, direction: Direction) -> Option<TlsParams> {
    let x = f.get("X")?;
    let CipherString {
        version,
        cipher,
        bits,
        group,
        resumed,
    } = cipher_string(x);
    let cv = f.get("CV");
    let dn = f.get("DN");
    let verify = match (direction, cv) {
        (_, Some("yes")) => Verify::Ok,
        (Direction::Outbound, Some("dane")) => Verify::Trusted,
        (Direction::Inbound, Some("no")) if dn.is_some() => Verify::Fail,
        (Direction::Inbound, Some("no") | None) => Verify::No,
        (Direction::Outbound, Some("no")) => Verify::Fail,
        (Direction::Outbound, None) => Verify::Unknown,
        (_, Some(other)) => Verify::Other(other.to_owned()),
    };
    let mut params = TlsParams::new(version, cipher, Bits::single(bits), verify);
    let detail = TlsDetail {
        raw_verify: cv.map(str::to_owned),
        reused: resumed,
        sni: f.get("SNI").map(str::to_owned),
        peer_dn: dn.map(str::to_owned),
        key_exchange: group,
        ..TlsDetail::default()
    };
    if detail != TlsDetail::default() {
        params.detail = Some(Box::new(detail));
    }
    Some(params)
}

/// `<= sender [R=…] H=… [I=…] P=proto [X=… CV=… DN=… SNI=…] S=size …`.
fn reception(id: &str, after: &str, line: &str, detail: Detail) -> Parsed {
    let f = fields(after, false);
    let Some(sender) = f.first else {
        return Parsed::Malformed(format!("Exim arrival without sender: {line}"));
    };
    let from = if sender == "<>" { "" } else { sender };
    Parsed::Event(EventKind::Received(Reception {
        queue_id: QueueId::new(id),
        from: detail.address(from),
        tls: tls_params(&f, Direction::Inbound).map(std::sync::Arc::new),
        peer: f.host.clone(),
        proto: f.get("P").map(str::to_owned),
    }))
}

/// `=> rcpt [<orig>] R=… T=… H=… X=… CV=… C="…"`, and the `**`/`==` forms that end in
/// `: error text`.
fn delivery(id: &str, status: DeliveryStatus, after: &str, line: &str, detail: Detail) -> Parsed {
    let f = fields(after, true);
    let Some(to) = f.first.filter(|t| !t.is_empty()) else {
        return Parsed::Malformed(format!("Exim delivery without recipient: {line}"));
    };
    let confirmation = f.get("C");
    let text = match (f.text, confirmation) {
        (Some(t), _) => t,
        (None, Some(c)) => c,
        (None, None) => "",
    };
    let tls_error = status
        .is_failure()
        .then(|| status_tls_error(text))
        .flatten();
    // The correlator shows the text of a failure that names its TLS problem; the rest is
    // for events and traces only.
    let full = detail == Detail::Full;
    Parsed::Event(EventKind::Delivery(Delivery {
        queue_id: QueueId::new(id),
        to: detail.address(to.trim_start_matches('<').trim_end_matches('>')),
        tls: tls_params(&f, Direction::Outbound).map(std::sync::Arc::new),
        peer: f.host.clone(),
        mailer: f.get("T").map(crate::model::mailer_name),
        status,
        dsn: if full { enhanced_code(text) } else { None },
        tls_error,
        text: if full || tls_error.is_some() {
            text.to_owned()
        } else {
            String::new()
        },
        tls_status: None,
    }))
}

/// The first RFC 3463 enhanced status code (`2.0.0`, `5.1.1`) following an SMTP reply code
/// in a text.
fn enhanced_code(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '"')
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).find_map(|w| {
        let &[code, esc] = w else { return None };
        let code_ok = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
        let parts: Vec<&str> = esc.split('.').collect();
        let esc_ok = parts.len() == 3
            && matches!(parts.first(), Some(&("2" | "4" | "5")))
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
        (code_ok && esc_ok).then(|| esc.to_owned())
    })
}

/// What a deferral or bounce text says about TLS, for correlation (Exim writes the TLS
/// failure of a delivery only on its `==`/`**` line: `TLS session: (SSL_connect): …`,
/// `a TLS session is required, but the server did not offer TLS support`).
pub fn status_tls_error(text: &str) -> Option<TlsErrorKind> {
    let lower = text.to_ascii_lowercase();
    if lower.contains("did not offer tls support") {
        Some(TlsErrorKind::NotOffered)
    } else if let Some(kind @ TlsErrorKind::CertificateRejected) = crate::parse::reason_kind(text) {
        // `TLS session: (recv): A TLS fatal alert has been received: Certificate is bad`:
        // the server rejected our client certificate.
        Some(kind)
    } else if lower.contains("certificate verif") || lower.contains("certificate invalid") {
        Some(TlsErrorKind::CertVerify)
    } else if lower.contains("tls session")
        || lower.contains("attempt to start tls failed")
        || lower.contains("tls error")
    {
        Some(TlsErrorKind::Handshake)
    } else if lower.contains("tlsa") || lower.contains("dane") {
        Some(TlsErrorKind::Dane)
    } else {
        None
    }
}

/// `TLS error on connection from|to HOST (where): msg`, `TLS error (SSL_read): on …`,
/// `TLS error (SSL_write): …`, `[ip] SSL verify error…`.
fn tls_error(text: &str) -> Option<Parsed> {
    if let Some(rest) = text.strip_prefix("TLS error on connection ") {
        let (direction, spec) = if let Some(s) = rest.strip_prefix("from ") {
            (Direction::Inbound, s)
        } else if let Some(s) = rest.strip_prefix("to ") {
            (Direction::Outbound, s)
        } else {
            return Some(Parsed::Malformed(format!("Exim TLS error: {text}")));
        };
        let Some((peer, after)) = host_spec(spec) else {
            return Some(Parsed::Malformed(format!(
                "Exim TLS error, bad host: {text}"
            )));
        };
        let mut after = after.trim_start();
        // Our own interface (`I=[ip]:port`) sits between the peer and the reason.
        if let Some(i) = after.strip_prefix("I=") {
            after = split_word(i).1.trim_start();
        }
        let kind = classify_error(after);
        let peer = Some(peer);
        return Some(Parsed::Event(EventKind::TlsError(TlsError {
            direction: Some(direction),
            peer,
            kind,
            text: text.to_owned(),
        })));
    }
    if let Some(session) = text.strip_prefix("TLS session: ") {
        // `TLS session: (certificate verification failed): certificate invalid: delivering
        // unencrypted to H=mx.peer.example [192.0.2.30] (not in hosts_require_tls)`.
        let peer = text
            .find(" H=")
            .and_then(|i| host_spec(&text[i + 3..]))
            .map(|(p, _)| p);
        // `TLS session: (cert/key setup: cert=… key=…): Error while reading file.:
        // delivering unencrypted to H=…`: our transport's own certificate or key (the real
        // `client_key_missing` capture), ours to fix, not the peer's handshake.
        let own = classify_error(session);
        let kind = if own.is_local() {
            own
        } else {
            status_tls_error(text).unwrap_or(TlsErrorKind::Handshake)
        };
        return Some(Parsed::Event(EventKind::TlsError(TlsError {
            direction: Some(Direction::Outbound),
            peer,
            kind,
            text: text.to_owned(),
        })));
    }
    if let Some(rest) = text.strip_prefix("TLS error (") {
        let (_, after) = rest.split_once("): ").unwrap_or(("", rest));
        let (direction, peer) = match after.strip_prefix("on connection from ") {
            Some(spec) => (Some(Direction::Inbound), host_spec(spec).map(|(p, _)| p)),
            None => (None, None),
        };
        return Some(Parsed::Event(EventKind::TlsError(TlsError {
            direction,
            peer,
            kind: TlsErrorKind::Io,
            text: text.to_owned(),
        })));
    }
    if let Some(rest) = text.strip_prefix('[')
        && let Some((addr, after)) = rest.split_once("] ")
        && after.starts_with("SSL verify error")
    {
        let peer = addr
            .parse::<IpAddr>()
            .ok()
            .map(|ip| Peer::new(None, Some(ip)));
        return Some(Parsed::Event(EventKind::TlsError(TlsError {
            direction: None,
            peer,
            kind: TlsErrorKind::CertVerify,
            text: text.to_owned(),
        })));
    }
    if text == "SSL channel closed on write" {
        return Some(Parsed::Event(EventKind::TlsError(TlsError {
            direction: None,
            peer: None,
            kind: TlsErrorKind::Io,
            text: text.to_owned(),
        })));
    }
    None
}

/// `could not stat '/etc/exim4/ca.pem' (tls_verify_certificates): No such file or
/// directory` (GnuTLS builds; also in the paniclog): a TLS file Exim cannot load, logged
/// when the daemon starts (once for the server, once per transport that names one) and
/// again for every connection whose TLS set-up it breaks, which then gets `454 TLS
/// currently unavailable` and a `TLS error on connection from … NULL` line (the real
/// `ca_missing` capture). The line does not say server or client: no role.
fn tls_file_missing(text: &str) -> Option<Parsed> {
    let rest = text.strip_prefix("could not stat '")?;
    let (_, after) = rest.split_once("' (")?;
    let (option, why) = after.split_once("): ")?;
    if !option.starts_with("tls_") {
        return None;
    }
    let kind = if why.starts_with("No such file") {
        TlsErrorKind::MissingFile
    } else {
        TlsErrorKind::CaLocations
    };
    Some(Parsed::Event(EventKind::TlsError(TlsError {
        direction: None,
        peer: None,
        kind,
        text: text.to_owned(),
    })))
}

/// Kinds for `(where): msg` of a server-side TLS error. Certificate/key setup failures are
/// our own installation's problem even though the line names the connecting peer.
fn classify_error(reason: &str) -> TlsErrorKind {
    let lower = reason.to_ascii_lowercase();
    // `TLS error on connection from H NULL`: Exim could not set up TLS for the connection
    // and has no reason to give (Exim's formatting of a null string); the reason is the
    // line it logged just before (`could not stat … (tls_verify_certificates)`). Our side,
    // the same incident as that line (correlate::incident).
    if reason == "NULL" {
        return TlsErrorKind::Init;
    }
    let place = lower
        .strip_prefix('(')
        .and_then(|r| r.split_once("):"))
        .map_or("", |(w, _)| w);
    // `(cert/key setup: cert=… key=…): Decryption has failed.` (encrypted key), `Error
    // while reading file.` (unreadable: the key must be readable by Debian-exim), `The
    // certificate and the given key do not match.`: our private key.
    if place.contains("privatekey")
        || (place.starts_with("cert/key setup") && place.contains("key="))
        || lower.contains("key values mismatch")
    {
        TlsErrorKind::PrivateKey
    } else if let Some(kind) = crate::parse::reason_kind(reason) {
        // `(recv): A TLS fatal alert has been received: Certificate is bad`: the peer
        // rejected our certificate.
        kind
    } else if place.starts_with("cert/key setup") || place.contains("certificate_chain") {
        TlsErrorKind::Certificate
    } else if place.contains("verify_locations") || place.contains("setup_certs") {
        TlsErrorKind::CaLocations
    } else if place.contains("cipher") || place.contains("priority") || place.contains("dh") {
        TlsErrorKind::CipherConfig
    } else if lower.contains("certificate verify failed") {
        TlsErrorKind::CertVerify
    } else if lower.contains("certificate is required")
        || lower.contains("peer did not send any certificate")
    {
        // `(gnutls_handshake): Certificate is required.`: the client is in our
        // tls_verify_hosts and sent no certificate (the real `client_cert_required`
        // capture): our requirement refused it, as Postfix's `abort: … No client
        // certificate presented` and Sendmail's `ruleset=tls_client, arg1=NO` are.
        TlsErrorKind::Policy
    } else if matches!(place, "recv" | "send" | "ssl_read" | "ssl_write") {
        TlsErrorKind::Io
    } else {
        TlsErrorKind::Handshake
    }
}

/// `H=host [ip] X=TLS1.3:… CV=no [F=<sender>] [temporarily] rejected RCPT <rcpt>: reason`
/// (also `rejected MAIL …`, `rejected EHLO or HELO …`, `rejected after DATA: …`): an SMTP
/// command refused by an ACL on a connection that negotiated TLS. Exim writes the session's
/// `X=`/`CV=` on the reject line (FORMATS §3.1) and, with Debian's log settings, nowhere
/// else when no message is accepted, so the line is an inbound TLS session
/// ([`EventKind::Tls`]) and never a message. A reject without `X=` says nothing about TLS.
fn rejected(text: &str) -> Option<Parsed> {
    let spec = text.strip_prefix("H=")?;
    // Cheap test first: most `H=` lines without a message id are not rejects.
    memchr::memmem::find(spec.as_bytes(), b"rejected ")?;
    let f = fields(text, true);
    let says_rejected = f.first == Some("rejected") || f.bare_rejected;
    if !says_rejected {
        return None;
    }
    let peer = f.host.clone()?;
    let params = tls_params(&f, Direction::Inbound)?;
    Some(Parsed::Event(EventKind::Tls(TlsSession {
        direction: Direction::Inbound,
        peer,
        params,
    })))
}

/// `exim 4.96 daemon started: pid=1234, no queue runs, listening for SMTP on …`: the
/// daemon (re)started and re-read its configuration (its key and certificate are read per
/// connection, so a fix takes effect from here at the latest).
fn daemon_start(text: &str) -> Option<Parsed> {
    let rest = text.strip_prefix("exim ")?;
    let (version, after) = rest.split_once(' ')?;
    after.starts_with("daemon started").then_some(())?;
    Some(Parsed::Event(EventKind::DaemonStart {
        version: Some(version.to_owned()),
    }))
}

/// `no MAIL in SMTP connection from HOST D=…s C=EHLO,STARTTLS,…`: a session that ended
/// without a message; it may have negotiated TLS.
fn no_mail(text: &str) -> Option<Parsed> {
    let spec = text.strip_prefix("no MAIL in SMTP connection from ")?;
    let peer = host_spec(spec).map(|(p, _)| p);
    Some(Parsed::Event(EventKind::SessionEnd {
        peer,
        reason: EndReason::NoMail,
        starttls: None,
    }))
}

#[cfg(test)]
mod tests;
