//! One `Received:` header → one [`Hop`]: who handed the message to whom, with which
//! protocol, and what the receiving MTA wrote about TLS (FORMATS.md §1.5, §2.4, §3.4, §4).
//!
//! Every MTA stamps the same RFC 5321 skeleton (`from … by … with … id … for …; date`)
//! but writes TLS in its own comment: Sendmail's `(version=… cipher=… bits=… verify=…)`,
//! Postfix's `(using … with cipher … (A/B bits))` plus a client-certificate comment, Exim's
//! `(TLS1.2:cipher:256)` or ` (TLS1.3) tls CIPHER`, Microsoft's comma-separated group,
//! IronPort's `ESMTP/TLS/cipher` protocol token, Courier's `(TLS: v,bits,cipher)`, qmail's
//! and qpsmtpd's `with (cipher encrypted) SMTP`, and the RFC 3848 protocol words alone.
//! The value is tokenised into words and (nested, quote-aware) comments; clause keywords
//! route words, and every comment is offered to the TLS readers wherever it stands,
//! because stamps put the TLS comment after `from`, `by`, `id` or `for` alike.

use std::net::IpAddr;

use chrono::{DateTime, FixedOffset};
use compact_str::CompactString;
use serde::Serialize;

use crate::model::{Bits, Cipher, Peer, TlsVersion, Verify};

/// One relay step of a message, as stamped by the receiving MTA.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Hop {
    /// The name the sender gave in HELO/EHLO (`from <helo>`, Exim `helo=`, `(HELO x)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_helo: Option<CompactString>,
    /// The sender's reverse-DNS name as the receiver resolved it (`unknown` → none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_rdns: Option<CompactString>,
    /// The sender's address (`[ip]`, `[IPv6:…]`, Microsoft's bare `(ip)`), zone dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_ip: Option<IpAddr>,
    /// Sendmail's `(may be forged)`: forward and reverse DNS disagreed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forged: bool,
    /// The receiving host that wrote this header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<CompactString>,
    /// The `with` protocol as written (`ESMTPS`, `esmtps`, `Microsoft SMTP Server`,
    /// `ESMTP/TLS/ECDHE-RSA-AES256-GCM-SHA384`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<CompactString>,
    /// The receiver's queue or message id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<CompactString>,
    /// The single recipient, without angle brackets.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<CompactString>,
    /// The stamp's date, read leniently (RFC 5322 with obsolete zones and trailing
    /// comments); `None` when absent or unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<DateTime<FixedOffset>>,
    /// What the stamp says about TLS on this hop.
    pub tls: HopTls,
}

/// What one `Received:` stamp says about encryption of its hop.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HopTls {
    /// TLS with at least one negotiated detail (version, cipher, bits or verify).
    Tls(HopTlsDetails),
    /// TLS, with no details: RFC 3848 words (`ESMTPS`, `ESMTPSA`, `UTF8SMTPS`, `LMTPS`),
    /// Exim's `esmtps` without a cipher, Exchange 2013's `(TLS)`.
    TlsNoDetails,
    /// An SMTP/LMTP protocol word without TLS and no TLS clause.
    Plaintext,
    /// Nothing says either way (no `with`, `local`, `mapi`, `HTTP`, an unknown word).
    #[default]
    Unknown,
}

impl HopTls {
    /// True for both TLS states.
    pub fn is_tls(&self) -> bool {
        matches!(self, HopTls::Tls(_) | HopTls::TlsNoDetails)
    }
}

/// The TLS details a stamp wrote. Unlike [`crate::model::TlsParams`] every part is
/// optional: Gmail and Microsoft write no verify word, IronPort no version, Microsoft no
/// bits. The shared vocabulary types are reused for each part.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HopTlsDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<TlsVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<Cipher>,
    pub bits: Bits,
    /// The client certificate verdict (Sendmail `verify=`, Postfix's client comment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verify>,
    /// Postfix 3.4+ `key-exchange`, Exim 4.100's trailing group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_exchange: Option<String>,
    /// Postfix `Client CN "…"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cn: Option<String>,
    /// Postfix `Issuer "…"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_issuer: Option<String>,
}

impl Hop {
    /// The sending side of the hop as a posture peer: the reverse name (the receiver's
    /// verified view) and the address; the HELO name only when neither is known, because
    /// HELO is whatever the sender chose to say.
    pub fn from_peer(&self) -> Option<Peer> {
        let name = self.from_rdns.as_deref().or(if self.from_ip.is_none() {
            self.from_helo.as_deref()
        } else {
            None
        });
        let mut p = Peer::new(name, self.from_ip);
        p.forged = self.forged;
        (!p.is_empty()).then_some(p)
    }

    /// A hop that never crossed a network: loopback sender, local submission (no `from`
    /// clause at all), or a non-SMTP local protocol. Message verdicts skip these.
    pub fn is_local(&self) -> bool {
        self.from_ip.is_some_and(|ip| ip.is_loopback()) || self.is_local_submission()
    }

    /// A hop with no network sender at all: local submission (no `from` clause) or a
    /// non-SMTP local protocol. Unlike [`Hop::is_local`] a loopback SMTP sender is not
    /// included, so that `--loopback` can keep loopback hops, as it keeps loopback peers
    /// in the logs.
    pub fn is_local_submission(&self) -> bool {
        if self.from_helo.is_none() && self.from_rdns.is_none() && self.from_ip.is_none() {
            return true;
        }
        let w = self.with.as_deref().unwrap_or("");
        ["local", "local-esmtp", "local-smtp", "local-bsmtp"]
            .iter()
            .any(|l| l.eq_ignore_ascii_case(w))
    }
}

/// Why a `Received:` value could not be read as a hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clause {
    From,
    By,
    Via,
    With,
    Id,
    For,
    /// Exim ≥ 4.93: the word after ` tls ` is the cipher.
    EximTls,
}

/// The clause a keyword opens (case ignored, no allocation).
fn keyword(w: &str) -> Option<Clause> {
    const KEYWORDS: [(&str, Clause); 6] = [
        ("from", Clause::From),
        ("by", Clause::By),
        ("via", Clause::Via),
        ("with", Clause::With),
        ("id", Clause::Id),
        ("for", Clause::For),
    ];
    if w.len() > 4 {
        return None;
    }
    KEYWORDS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(w))
        .map(|&(_, c)| c)
}

/// Reads one unfolded `Received:` value.
///
/// Fails only when the value has neither a clause keyword nor a readable date: then it is
/// not a stamp at all. Everything else yields a hop with whatever could be read.
///
/// One pass of the lexer finds the date's `;`, a second walks the clauses; tokens are
/// spans of `value`, and only the hop's own fields are copied out.
pub fn parse(value: &str) -> Result<Hop, Malformed> {
    let value = trim_blanks(value);
    if value.is_empty() {
        return Err(Malformed("empty Received header".into()));
    }
    let lex::Layout {
        clauses,
        date: date_text,
    } = lex::layout(value);

    let mut hop = Hop::default();
    let mut tls = TlsCollector::default();
    let mut from = FromClause::default();
    let mut clause: Option<Clause> = None;
    let mut expecting: Option<Clause> = None;
    let mut last_was_comment = false;
    let mut any_keyword = false;

    for tok in lex::Tokens::new(clauses) {
        match tok {
            Tok::Word(w) => {
                if let Some(want) = expecting.take() {
                    match want {
                        Clause::From => from.word = Some(w),
                        Clause::By => hop.by = Some(trim_end_byte(w, b'.').into()),
                        Clause::With => hop.with = Some(w.into()),
                        Clause::Id => hop.id = Some(w.into()),
                        Clause::For => hop.for_ = Some(strip_angle(w).into()),
                        Clause::EximTls => tls.details().cipher = Some(Cipher::new(w)),
                        Clause::Via => {}
                    }
                    last_was_comment = false;
                    continue;
                }
                if let Some(k) = keyword(w) {
                    let taken = match k {
                        Clause::From => from.word.is_some(),
                        Clause::By => hop.by.is_some(),
                        Clause::With => hop.with.is_some(),
                        Clause::Id => hop.id.is_some(),
                        Clause::For => hop.for_.is_some(),
                        _ => false,
                    };
                    if !taken {
                        any_keyword = true;
                        clause = Some(k);
                        expecting = Some(k);
                        last_was_comment = false;
                        continue;
                    }
                }
                if clause == Some(Clause::With) && w.eq_ignore_ascii_case("tls") {
                    expecting = Some(Clause::EximTls);
                } else if clause == Some(Clause::With) && !last_was_comment {
                    // Multi-word protocols: `with Microsoft SMTP Server`.
                    if let Some(with) = hop.with.as_mut() {
                        with.push(' ');
                        with.push_str(w);
                    }
                }
                last_was_comment = false;
            }
            Tok::Comment { text: c, .. } => {
                last_was_comment = true;
                if tls.offer(c) {
                    continue;
                }
                if clause == Some(Clause::From) {
                    from.comment(c);
                }
            }
            // `lex::layout` leaves no top-level `;` in the clauses.
            Tok::Semi => {}
        }
    }
    from.apply(&mut hop);
    // Courier writes the id after the date: `; Sat, 21 Mar 2020 00:40:12 +0200 id 0000…`.
    // Most dates hold no `i` (of the names only `Fri` does): the searcher runs only when
    // one is there (it was ~95 instructions a stamp).
    let courier = memchr::memchr(b'i', date_text.as_bytes())
        .and_then(|_| crate::parse::split_once(date_text, crate::parse::needle!(" id ")));
    let date_text = match courier {
        Some((d, id)) => {
            if hop.id.is_none() {
                hop.id = id.split_whitespace().next().map(CompactString::from);
            }
            d
        }
        None => date_text,
    };
    hop.date = parse_date_again(date_text);
    if !any_keyword && hop.date.is_none() && !tls.found() {
        return Err(Malformed(format!(
            "no from/by/with clause and no date in Received: {}",
            truncate(value, 80)
        )));
    }
    hop.tls = tls.verdict(hop.with.as_deref());
    Ok(hop)
}

/// [`parse_date`] of `text`, remembering the last text read on this thread (without its
/// leading blanks) and its date.
///
/// Why: the stamps of one message are mostly written within the same second by hosts that
/// write the same form (in the generated mailbox of the benchmarks every stamp of a
/// message has the same date), and reading it again was ~650 instructions a stamp, ~5% of
/// a mailbox scan's parse workers (issue 21); comparing the text costs a few dozen. The
/// date is the same: `parse_date` reads nothing but its text, its byte walk skips the
/// leading ` `, `\t`, `\r`, `\n` first and its lenient reader trims them, so two texts
/// that differ only there (a date folded onto its own line: `;\n\t20 Nov …`) have one
/// date (`date_again_is_parse_date`).
fn parse_date_again(text: &str) -> Option<DateTime<FixedOffset>> {
    type Last = (String, bool, Option<DateTime<FixedOffset>>);
    thread_local! {
        static LAST: std::cell::RefCell<Last> =
            const { std::cell::RefCell::new((String::new(), false, None)) };
    }
    let skip = text
        .bytes()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(text.len());
    // The cut is after ASCII bytes only: a character boundary.
    let key = text.get(skip..).unwrap_or(text);
    LAST.with(|cell| {
        let Ok(mut last) = cell.try_borrow_mut() else {
            return parse_date(text);
        };
        let (seen, known, date) = &mut *last;
        if *known && seen.as_str() == key {
            return *date;
        }
        let d = parse_date(text);
        seen.clear();
        seen.push_str(key);
        *known = true;
        *date = d;
        d
    })
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

fn strip_angle(w: &str) -> &str {
    let w = match w.as_bytes().last() {
        Some(b',' | b'.') => w.trim_end_matches([',', '.']),
        _ => w,
    };
    w.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(w)
}

/// Reads an address as stamps write it: `1.2.3.4`, `[1.2.3.4]`, `[IPv6:2001:db8::1]`,
/// `[2001:db8::1]:25`, `[fe80::1%3]`, `1.2.3.4:25`.
pub fn parse_ip(raw: &str) -> Option<IpAddr> {
    let s = trim_quoted(raw);
    let inner = s.strip_prefix('[').unwrap_or(s);
    // The first byte, not the first decoded `char`: only an ASCII byte is a digit.
    if !inner.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        // No digit where an IPv4 address would start: only a `:` (an IPv6 address, an
        // `IPv6:` prefix, a port) can still make it one. Most words tried as addresses
        // are host names (every `from` clause's reverse name is checked), and std's
        // parser tried each as IPv4 and then as IPv6 after three trims and splits;
        // core's inlined byte search finds the `:` without a `memchr` call per word.
        if !raw.as_bytes().contains(&b':') {
            return None;
        }
    } else if let Some(v4) = crate::parse::dotted_quad(
        if s.len() == inner.len() {
            inner
        } else {
            // `before_byte(inner, b']')` without a `memchr` call: the text is a word.
            inner
                .bytes()
                .position(|b| b == b']')
                .and_then(|i| inner.get(..i))
                .unwrap_or(inner)
        }
        .as_bytes(),
    ) {
        // `192.0.2.1` or `[192.0.2.1]`: what the full reader would read, without std's
        // parser (which tried IPv4 digit by digit through a generic reader).
        return Some(IpAddr::V4(v4));
    }
    if let Some(v6) = plain_v6(address_text(raw)) {
        // `2603:10a6:10:1::224` (Microsoft's stamps name senders so) without std's
        // reader, which tried an embedded IPv4 address before every group.
        return Some(IpAddr::V6(v6).to_canonical());
    }
    parse_ip_full(raw)
}

/// `s` as an IPv6 address when it is only groups of one to four hex digits separated by
/// `:`, eight of them or at most seven around one `::` (what [`std::net::Ipv6Addr`]'s
/// `FromStr` accepts without an embedded IPv4 address); `None` for anything else, which
/// may still be an address to the full reader.
///
/// Why: std's reader was ~330 instructions an address, ~2% of a mailbox scan's parse
/// workers (issue 21); `plain_v6_is_std` compares the two.
fn plain_v6(s: &str) -> Option<std::net::Ipv6Addr> {
    let b = s.as_bytes();
    if b.len() < 2 || b.len() > 39 {
        return None;
    }
    let mut seg = [0u16; 8];
    let mut n = 0usize;
    // Where the `::` stands: the number of groups before it.
    let mut gap: Option<usize> = None;
    let mut i = 0usize;
    if b.starts_with(b"::") {
        if b.len() == 2 {
            return Some(std::net::Ipv6Addr::UNSPECIFIED);
        }
        gap = Some(0);
        i = 2;
    }
    loop {
        let mut v = 0u16;
        let mut digits = 0;
        while let Some(h) = b.get(i).and_then(|&c| char::from(c).to_digit(16)) {
            if digits == 4 {
                return None;
            }
            v = v * 16 + h as u16;
            digits += 1;
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        *seg.get_mut(n)? = v;
        n += 1;
        match b.get(i) {
            None => break,
            Some(b':') => {
                i += 1;
                if b.get(i) == Some(&b':') {
                    if gap.is_some() {
                        return None;
                    }
                    gap = Some(n);
                    i += 1;
                    if i == b.len() {
                        break;
                    }
                }
            }
            Some(_) => return None,
        }
    }
    match gap {
        None => (n == 8).then(|| std::net::Ipv6Addr::from(seg)),
        Some(g) if n <= 7 => {
            let mut out = [0u16; 8];
            out.get_mut(..g)?.copy_from_slice(seg.get(..g)?);
            out.get_mut(8 - (n - g)..)?.copy_from_slice(seg.get(g..n)?);
            Some(std::net::Ipv6Addr::from(out))
        }
        Some(_) => None,
    }
}

/// `s.trim().trim_matches('"')`, without std's Unicode walk when both ends are printable
/// ASCII other than `"` (then there is nothing to trim).
///
/// Why: every address candidate of a stamp was trimmed by std's char-pattern trims, ~50
/// instructions a call and ~3% of a mailbox scan's (issue 21); `byte_trims_are_std`
/// compares the helpers with std's on Unicode blanks and quotes.
fn trim_quoted(s: &str) -> &str {
    let plain = |b: &u8| b.is_ascii() && !matches!(b, b' ' | b'\t'..=b'\r' | b'"');
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(z)) if plain(a) && plain(z) => s,
        _ => s.trim().trim_matches('"'),
    }
}

/// `s.trim()`, with the ASCII blanks at both ends cut by bytes; std's Unicode trim runs
/// only on what is left when an end of it is not ASCII.
///
/// Why: every `Received:` value starts with a blank (the one after the colon), so the
/// end-byte shortcut of [`trim_quoted`] would not apply, and std's char-pattern trim of
/// the value, of every comment and of every cipher and version word was ~45 M of the
/// ~1,770 M instructions of a 64 MB mailbox scan (issue 21). Cutting ASCII blanks first
/// cannot change the result (they are whitespace to `trim` too); `trim_blanks_is_trim`.
#[inline]
pub(crate) fn trim_blanks(s: &str) -> &str {
    let b = s.as_bytes();
    let blank = |c: &u8| matches!(c, b' ' | b'\t'..=b'\r');
    let start = b.iter().position(|c| !blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !blank(c)).map_or(start, |i| i + 1);
    // Both cuts are next to ASCII bytes, so on character boundaries.
    let t = s.get(start..end).unwrap_or("");
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(a), Some(z)) if !a.is_ascii() || !z.is_ascii() => t.trim(),
        _ => t,
    }
}

/// `s.trim_end_matches(c)` for an ASCII `c`, looking at the last byte first.
#[inline]
fn trim_end_byte(s: &str, c: u8) -> &str {
    if s.as_bytes().last() == Some(&c) {
        let n = s.bytes().rposition(|b| b != c).map_or(0, |i| i + 1);
        s.get(..n).unwrap_or(s)
    } else {
        s
    }
}

/// `s.trim_matches('"')`, looking at the two end bytes first ([`trim_quoted`]).
fn unquote(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(z)) if *a != b'"' && *z != b'"' => s,
        _ => s.trim_matches('"'),
    }
}

/// `s.rsplit_once(c)` for an ASCII `c`, by bytes (an ASCII byte is always a whole char).
fn rsplit_byte(s: &str, c: u8) -> Option<(&str, &str)> {
    let i = memchr::memrchr(c, s.as_bytes())?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s.split(pred)` for a predicate that only accepts ASCII bytes, walking bytes instead
/// of decoding characters (a cut next to an ASCII byte is a character boundary).
///
/// Why: the TLS readers split every `version=` comment and every protocol word with
/// std's char-pattern splitters, ~100 instructions a piece (issue 21); the proptest
/// `byte_splits_are_std` compares the two.
pub(super) fn split_ascii_by(s: &str, pred: impl Fn(u8) -> bool) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(&pred) {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// `s.split_once(c)` for an ASCII `c`, by bytes.
pub(super) fn split_once_byte(s: &str, c: u8) -> Option<(&str, &str)> {
    let i = memchr::memchr(c, s.as_bytes())?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s.split(c).next()` for an ASCII `c`: the text before its first `c`, or all of it.
pub(super) fn before_byte(s: &str, c: u8) -> &str {
    memchr::memchr(c, s.as_bytes())
        .and_then(|i| s.get(..i))
        .unwrap_or(s)
}

/// The text of `raw` that is read as an address: unquoted, the inside of `[…]`, without
/// an `IPv6:` prefix and a `%zone`.
fn address_text(raw: &str) -> &str {
    let mut s = trim_quoted(raw);
    if let Some(rest) = s.strip_prefix('[') {
        s = before_byte(rest, b']');
    }
    let s = s
        .strip_prefix("IPv6:")
        .or_else(|| s.strip_prefix("ipv6:"))
        .or_else(|| s.strip_prefix("IPV6:"))
        .unwrap_or(s);
    before_byte(s, b'%')
}

/// [`parse_ip`] without its quick refusal of names.
fn parse_ip_full(raw: &str) -> Option<IpAddr> {
    let s = address_text(raw);
    if let Ok(ip) = s.parse::<IpAddr>() {
        // `::ffff:192.0.2.1` (Courier, dual-stack listeners) is the IPv4 peer the logs name.
        return Some(ip.to_canonical());
    }
    // `1.2.3.4:25` (IPv4 with a port); IPv6 ports only come bracketed.
    let (host, port) = rsplit_byte(s, b':')?;
    if port.bytes().all(|c| c.is_ascii_digit()) && memchr::memchr(b':', host.as_bytes()).is_none() {
        return host.parse().ok();
    }
    None
}

/// The sender description as it is read: the word after `from` and what the comments of
/// the `from` clause say (`(rdns [ip])`, `([ip]:port helo=x)`, `(HELO x) ([ip])`,
/// `(2603:10b6::1)`), all spans of the value until [`FromClause::apply`] copies them out.
#[derive(Debug, Default)]
struct FromClause<'a> {
    word: Option<&'a str>,
    /// A HELO name given in a comment (`helo=x`, `HELO x`, `EHLO x`).
    helo: Option<&'a str>,
    /// The word is the reverse name (the HELO name was given apart).
    word_is_rdns: bool,
    rdns: Option<&'a str>,
    ip: Option<IpAddr>,
    forged: bool,
    /// Comments read so far: only the first names the host.
    comments: usize,
}

/// `(may be forged)` and a bare `may be forged`, as Sendmail appends them.
const FORGED: &str = "may be forged";

/// Where the first `may be forged` is in `s`: each `y` is tried as the phrase's third
/// byte (a `y` is rare in the host names and addresses of `from` comments, so most
/// comments have none and one `memchr` call answers).
///
/// Why: a `memmem` searcher (built once) cost ~100 instructions on a comment of a few
/// dozen bytes, mostly its setup for a short haystack, and it ran on every comment of
/// every `from` clause of a mailbox scan (issue 21). The `y`s are met
/// left to right, so the first phrase found is the leftmost, as the searcher's;
/// `find_forged_is_memmem` compares the two.
fn find_forged(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    memchr::memchr_iter(b'y', b).find_map(|i| {
        let at = i.checked_sub(2)?;
        b.get(at..)?.starts_with(FORGED.as_bytes()).then_some(at)
    })
}

/// The words of `c` with every `(may be forged)` / `may be forged` cut out (each cut
/// separates the words around it).
fn words_without_forged(c: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(c);
    std::iter::from_fn(move || {
        let s = rest?;
        match find_forged(s) {
            Some(n) => {
                let mut before = s.get(..n).unwrap_or("");
                let mut after = s.get(n + FORGED.len()..).unwrap_or("");
                if let (Some(b), Some(a)) = (before.strip_suffix('('), after.strip_prefix(')')) {
                    before = b;
                    after = a;
                }
                rest = Some(after);
                Some(before)
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
    .flat_map(words)
}

/// The word of `c` when it has exactly one (`ws` is `words(c)`): the first word, when
/// nothing but blanks follows it.
///
/// Why: asking the splitter for a second word walked all of it (most `from` comments
/// are two words, `(name [ip])`); the blanks after the first word end at the second
/// word's first byte. `words` cuts at `char::is_whitespace` (its ASCII splitter only
/// runs on text without the vertical tab, where the two agree), as `trim_start` trims;
/// `only_word_is_two_nexts` compares this with the two calls.
fn only_word<'a>(c: &'a str, mut ws: Words<'a>) -> Option<&'a str> {
    let first = ws.next()?;
    // `first` is a span of `c`: its end is an offset into `c`.
    let end = (first.as_ptr() as usize).checked_sub(c.as_ptr() as usize)? + first.len();
    c.get(end..)?.trim_start().is_empty().then_some(first)
}

impl<'a> FromClause<'a> {
    /// The address when the `from` word is a literal (`from [192.0.2.1]`).
    fn word_ip(&self) -> Option<IpAddr> {
        self.word.filter(|w| w.starts_with('[')).and_then(parse_ip)
    }

    /// Reads one non-TLS comment of the `from` clause.
    fn comment(&mut self, c: &'a str) {
        let first_comment = self.comments == 0;
        self.comments += 1;
        let forged = find_forged(c).is_some();
        self.forged |= forged;
        if forged {
            self.comment_words(words_without_forged(c), first_comment);
            return;
        }
        // One split of the comment serves the probe and the walk (it was split twice,
        // and the walk went through a flattening adapter for the rare forged case).
        let ws = words(c);
        // A comment that is one word and an address: `([192.0.2.1])`, `(2603:10b6::1)`.
        if let Some(only) = only_word(c, ws.clone())
            && let Some(a) = parse_ip(only)
        {
            self.ip.get_or_insert(a);
            return;
        }
        self.comment_words(ws, first_comment);
    }

    /// Reads the words of one non-TLS comment of the `from` clause.
    fn comment_words(&mut self, mut words: impl Iterator<Item = &'a str>, first_comment: bool) {
        let mut first_word = true;
        while let Some(w) = words.next() {
            let bare = unquote(w);
            if let Some(h) = bare.strip_prefix("helo=") {
                self.helo = Some(h);
                self.word_is_rdns = true;
            } else if bare.eq_ignore_ascii_case("helo") || bare.eq_ignore_ascii_case("ehlo") {
                if let Some(h) = words.next() {
                    self.helo = Some(unquote(h));
                    self.word_is_rdns = true;
                }
            } else if bare.starts_with('[') {
                if let Some(a) = parse_ip(bare) {
                    self.ip.get_or_insert(a);
                }
            } else {
                // One search for the `@` serves both tests (it was searched for twice).
                let at = rsplit_byte(bare, b'@');
                if let Some(a) = at.and_then(|(_, h)| parse_ip(h)) {
                    // qmail `(user@192.0.2.1)`: an authenticated user at an address.
                    self.ip.get_or_insert(a);
                } else if first_comment
                    && first_word
                    && memchr::memchr(b'=', bare.as_bytes()).is_none()
                {
                    // Only the first comment names the host; later ones are notes such as
                    // `(Authenticated sender: …)` or `(authenticated bits=0)`.
                    let name = at.map_or(bare, |(_, h)| h);
                    let name = name.strip_prefix("IDENT:").unwrap_or(name);
                    if parse_ip(name).is_none() {
                        self.rdns = Some(name);
                    }
                }
            }
            first_word = false;
        }
    }

    /// Copies what was read into the hop: an address from a comment wins over a literal
    /// `from` word; the word is the reverse name only when the HELO name came apart.
    fn apply(self, hop: &mut Hop) {
        let ip = self.ip.or_else(|| self.word_ip());
        let mut rdns = self.rdns;
        if self.word_is_rdns && rdns.is_none() {
            rdns = self
                .word
                .filter(|w| !w.starts_with('[') && parse_ip(w).is_none());
        }
        hop.forged = self.forged;
        hop.from_helo = self
            .helo
            .or(self.word)
            .filter(|h| !h.is_empty())
            .map(CompactString::from);
        hop.from_rdns = rdns
            .map(|n| trim_end_byte(n, b'.'))
            .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("unknown"))
            .map(CompactString::from);
        hop.from_ip = ip;
    }
}

/// The blank-separated words of `s`, exactly as [`str::split_whitespace`] gives them.
///
/// Why: nearly every stamp is ASCII, and std's ASCII splitter skips the character
/// decoding of the Unicode one, which showed in profiles of a mailbox scan (every comment
/// of every stamp is split). It does not take the vertical tab for a blank, so text with
/// one, or with any non-ASCII byte, goes to the Unicode splitter (a proptest). The test
/// is core's word-at-a-time `is_ascii` and its slice search for the vertical tab: the
/// byte walk with both tests it replaces was ~280 instructions a `from` comment (issue 21).
pub(super) fn words(s: &str) -> Words<'_> {
    if s.is_ascii() && !s.as_bytes().contains(&b'\x0B') {
        Words::Ascii(s.split_ascii_whitespace())
    } else {
        Words::Unicode(s.split_whitespace())
    }
}

/// [`words`]' iterator.
#[derive(Clone)]
pub(super) enum Words<'a> {
    Ascii(std::str::SplitAsciiWhitespace<'a>),
    Unicode(std::str::SplitWhitespace<'a>),
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            Words::Ascii(it) => it.next(),
            Words::Unicode(it) => it.next(),
        }
    }
}

/// True when `s` holds a character that [`char::is_whitespace`] accepts.
pub(super) fn has_blank(s: &str) -> bool {
    if s.is_ascii() {
        // U+0009 to U+000D and the space: the ASCII characters `is_whitespace` accepts.
        s.bytes()
            .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r'))
    } else {
        s.contains(char::is_whitespace)
    }
}

mod date;
mod lex;
mod tls;

pub use date::parse_date;
use lex::Tok;
use tls::TlsCollector;

#[cfg(test)]
mod tests;
