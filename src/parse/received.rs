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

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::Serialize;

use crate::event::{Bits, Cipher, Peer, TlsVersion, Verify};

/// One relay step of a message, as stamped by the receiving MTA.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Hop {
    /// The name the sender gave in HELO/EHLO (`from <helo>`, Exim `helo=`, `(HELO x)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_helo: Option<String>,
    /// The sender's reverse-DNS name as the receiver resolved it (`unknown` → none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_rdns: Option<String>,
    /// The sender's address (`[ip]`, `[IPv6:…]`, Microsoft's bare `(ip)`), zone dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_ip: Option<IpAddr>,
    /// Sendmail's `(may be forged)`: forward and reverse DNS disagreed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forged: bool,
    /// The receiving host that wrote this header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The `with` protocol as written (`ESMTPS`, `esmtps`, `Microsoft SMTP Server`,
    /// `ESMTP/TLS/ECDHE-RSA-AES256-GCM-SHA384`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    /// The receiver's queue or message id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The single recipient, without angle brackets.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
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

/// The TLS details a stamp wrote. Unlike [`crate::event::TlsParams`] every part is
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
        if self.from_ip.is_some_and(|ip| ip.is_loopback()) {
            return true;
        }
        if self.from_helo.is_none() && self.from_rdns.is_none() && self.from_ip.is_none() {
            return true;
        }
        let w = self.with.as_deref().unwrap_or("").to_ascii_lowercase();
        matches!(
            w.as_str(),
            "local" | "local-esmtp" | "local-smtp" | "local-bsmtp"
        )
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

/// A lexical piece of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Word(&'a str),
    /// The text inside balanced parentheses (nested parentheses kept).
    Comment(&'a str),
}

/// Splits `s` into words and comments, and returns the byte index of the last top-level
/// `;` (where the date starts). Comments nest and honour quoted strings (a Postfix
/// `Client CN "a (b)"` must not close early); an unterminated comment runs to the end.
fn tokenize(s: &str) -> (Vec<Tok<'_>>, Option<usize>, bool) {
    let b = s.as_bytes();
    let mut toks = Vec::new();
    let mut semi = None;
    let mut i = 0;
    let mut unbalanced = false;
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\r' | b'\n' | b',' => i += 1,
            b';' => {
                semi = Some(i);
                toks.clear();
                i += 1;
            }
            b'(' => {
                let start = i + 1;
                let mut depth = 1usize;
                let mut quoted = false;
                let mut j = start;
                while let Some(&d) = b.get(j) {
                    match d {
                        b'\\' => j += 1,
                        b'"' => quoted = !quoted,
                        b'(' if !quoted => depth += 1,
                        b')' if !quoted => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let end = j.min(b.len());
                if depth != 0 {
                    unbalanced = true;
                }
                toks.push(Tok::Comment(s.get(start..end).unwrap_or("")));
                i = end + 1;
            }
            b'[' => {
                let rest = b.get(i..).unwrap_or_default();
                // A bracket runs to its `]` (`[via Frontend Transport]` has blanks), unless
                // a comment or the date separator comes first: then it was never closed.
                let end = match memchr::memchr(b']', rest) {
                    Some(n)
                        if !rest.get(..n).unwrap_or_default().contains(&b';')
                            && !rest.get(..n).unwrap_or_default().contains(&b'(') =>
                    {
                        i + n + 1
                    }
                    _ => word_end(b, i),
                };
                // `[ip]:port` stays one word.
                let end = word_end(b, end.min(b.len())).max(end);
                toks.push(Tok::Word(s.get(i..end).unwrap_or("")));
                i = end;
            }
            _ => {
                let end = word_end(b, i);
                toks.push(Tok::Word(s.get(i..end).unwrap_or("")));
                i = end.max(i + 1);
            }
        }
    }
    // Tokens collected after the last `;` belong to the date, which is read from text.
    (toks, semi, unbalanced)
}

/// The end of a plain word starting at `i`.
fn word_end(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'(' | b';') {
            break;
        }
        i += 1;
    }
    i
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

fn keyword(w: &str) -> Option<Clause> {
    let k = match w.to_ascii_lowercase().as_str() {
        "from" => Clause::From,
        "by" => Clause::By,
        "via" => Clause::Via,
        "with" => Clause::With,
        "id" => Clause::Id,
        "for" => Clause::For,
        _ => return None,
    };
    Some(k)
}

/// Reads one unfolded `Received:` value.
///
/// Fails only when the value has neither a clause keyword nor a readable date: then it is
/// not a stamp at all. Everything else yields a hop with whatever could be read.
pub fn parse(value: &str) -> Result<Hop, Malformed> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Malformed("empty Received header".into()));
    }
    let (_, semi, unbalanced) = tokenize(value);
    // With an unterminated comment the last `;` may have been swallowed: fall back to
    // the last `;` of the raw text.
    let semi = if unbalanced {
        value.rfind(';').or(semi)
    } else {
        semi
    };
    let (head, date_text) = match semi {
        Some(n) => (
            value.get(..n).unwrap_or(value),
            value.get(n + 1..).unwrap_or(""),
        ),
        None => (value, ""),
    };
    let (toks, _, _) = tokenize(head);

    let mut hop = Hop::default();
    let mut tls = TlsCollector::default();
    let mut clause: Option<Clause> = None;
    let mut expecting: Option<Clause> = None;
    let mut last_was_comment = false;
    let mut from_comments: Vec<&str> = Vec::new();
    let mut any_keyword = false;

    for tok in toks {
        match tok {
            Tok::Word(w) => {
                if let Some(want) = expecting.take() {
                    match want {
                        Clause::From => hop.from_helo = Some(w.to_owned()),
                        Clause::By => hop.by = Some(w.trim_end_matches('.').to_owned()),
                        Clause::With => hop.with = Some(w.to_owned()),
                        Clause::Id => hop.id = Some(w.to_owned()),
                        Clause::For => hop.for_ = Some(strip_angle(w).to_owned()),
                        Clause::EximTls => tls.details().cipher = Some(Cipher::new(w)),
                        Clause::Via => {}
                    }
                    last_was_comment = false;
                    continue;
                }
                if let Some(k) = keyword(w) {
                    let taken = match k {
                        Clause::From => hop.from_helo.is_some() || hop.from_ip.is_some(),
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
            Tok::Comment(c) => {
                last_was_comment = true;
                if tls.offer(c) {
                    continue;
                }
                if clause == Some(Clause::From) {
                    from_comments.push(c);
                }
            }
        }
    }
    apply_from(&mut hop, &from_comments);
    // Courier writes the id after the date: `; Sat, 21 Mar 2020 00:40:12 +0200 id 0000…`.
    let date_text = match date_text.split_once(" id ") {
        Some((d, id)) => {
            if hop.id.is_none() {
                hop.id = id.split_whitespace().next().map(str::to_owned);
            }
            d
        }
        None => date_text,
    };
    hop.date = parse_date(date_text);
    if !any_keyword && hop.date.is_none() && !tls.found() {
        return Err(Malformed(format!(
            "no from/by/with clause and no date in Received: {}",
            truncate(value, 80)
        )));
    }
    hop.tls = tls.verdict(hop.with.as_deref());
    Ok(hop)
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

fn strip_angle(w: &str) -> &str {
    let w = w.trim_end_matches([',', '.']);
    w.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(w)
}

/// Reads an address as stamps write it: `1.2.3.4`, `[1.2.3.4]`, `[IPv6:2001:db8::1]`,
/// `[2001:db8::1]:25`, `[fe80::1%3]`, `1.2.3.4:25`.
pub fn parse_ip(raw: &str) -> Option<IpAddr> {
    let mut s = raw.trim().trim_matches('"');
    if let Some(rest) = s.strip_prefix('[') {
        s = rest.split(']').next().unwrap_or(rest);
    }
    let s = s
        .strip_prefix("IPv6:")
        .or_else(|| s.strip_prefix("ipv6:"))
        .or_else(|| s.strip_prefix("IPV6:"))
        .unwrap_or(s);
    let s = s.split('%').next().unwrap_or(s);
    if let Ok(ip) = s.parse::<IpAddr>() {
        // `::ffff:192.0.2.1` (Courier, dual-stack listeners) is the IPv4 peer the logs name.
        return Some(ip.to_canonical());
    }
    // `1.2.3.4:25` (IPv4 with a port); IPv6 ports only come bracketed.
    let (host, port) = s.rsplit_once(':')?;
    if port.bytes().all(|c| c.is_ascii_digit()) && !host.contains(':') {
        return host.parse().ok();
    }
    None
}

/// Reads the sender description: the word after `from` and the comments of the `from`
/// clause (`(rdns [ip])`, `([ip]:port helo=x)`, `(HELO x) ([ip])`, `(2603:10b6::1)`).
fn apply_from(hop: &mut Hop, comments: &[&str]) {
    let word = hop.from_helo.take();
    let mut helo = word.clone();
    let mut word_is_rdns = false;
    let mut rdns: Option<String> = None;
    let mut ip = word
        .as_deref()
        .filter(|w| w.starts_with('['))
        .and_then(parse_ip);
    let mut comment_ip = None;
    for (ci, c) in comments.iter().enumerate() {
        let mut c = c.trim().to_owned();
        if c.contains("may be forged") {
            hop.forged = true;
            c = c
                .replace("(may be forged)", " ")
                .replace("may be forged", " ");
        }
        if !c.contains(char::is_whitespace)
            && let Some(a) = parse_ip(&c)
        {
            comment_ip.get_or_insert(a);
            continue;
        }
        let words: Vec<&str> = c.split_whitespace().collect();
        let mut i = 0;
        while let Some(&w) = words.get(i) {
            let bare = w.trim_matches('"');
            if let Some(h) = bare.strip_prefix("helo=") {
                helo = Some(h.to_owned());
                word_is_rdns = true;
            } else if bare.eq_ignore_ascii_case("helo") || bare.eq_ignore_ascii_case("ehlo") {
                if let Some(h) = words.get(i + 1) {
                    helo = Some(h.trim_matches('"').to_owned());
                    word_is_rdns = true;
                    i += 1;
                }
            } else if bare.starts_with('[') {
                if let Some(a) = parse_ip(bare) {
                    comment_ip.get_or_insert(a);
                }
            } else if let Some(a) = bare.rsplit_once('@').and_then(|(_, h)| parse_ip(h)) {
                // qmail `(user@192.0.2.1)`: an authenticated user at an address.
                comment_ip.get_or_insert(a);
            } else if ci == 0 && i == 0 && !bare.contains('=') {
                // Only the first comment names the host; later ones are notes such as
                // `(Authenticated sender: …)` or `(authenticated bits=0)`.
                let name = bare.rsplit('@').next().unwrap_or(bare);
                let name = name.strip_prefix("IDENT:").unwrap_or(name);
                if parse_ip(name).is_none() {
                    rdns = Some(name.to_owned());
                }
            }
            i += 1;
        }
    }
    if comment_ip.is_some() {
        ip = comment_ip;
    }
    if word_is_rdns && rdns.is_none() {
        rdns = word.filter(|w| !w.starts_with('[') && parse_ip(w).is_none());
    }
    hop.from_helo = helo.filter(|h| !h.is_empty());
    hop.from_rdns = rdns
        .map(|n| n.trim_end_matches('.').to_owned())
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("unknown"));
    hop.from_ip = ip;
}

/// Gathers TLS facts from comments and the protocol word.
#[derive(Debug, Default)]
struct TlsCollector {
    details: Option<HopTlsDetails>,
    /// Exchange 2013 `(TLS)`.
    bare_tls: bool,
}

impl TlsCollector {
    fn details(&mut self) -> &mut HopTlsDetails {
        self.details.get_or_insert_with(HopTlsDetails::default)
    }

    fn found(&self) -> bool {
        self.details.is_some() || self.bare_tls
    }

    /// Reads `c` if it is a TLS comment; false when it is not one.
    fn offer(&mut self, c: &str) -> bool {
        let c = c.trim();
        let lower = c.to_ascii_lowercase();
        if lower.contains("version=") || lower.starts_with("cipher=") {
            self.key_values(c);
        } else if lower.starts_with("using ") {
            self.using(c);
        } else if lower.starts_with("client cn ") || lower.starts_with("client cn\"") {
            self.client_cert(c);
        } else if lower.starts_with("client did not present") {
            self.details().verify = Some(Verify::No);
        } else if lower.starts_with("no client certificate requested") {
            self.details().verify = Some(Verify::Not);
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
    fn verdict(mut self, with: Option<&str>) -> HopTls {
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

/// Reads a stamp date leniently: RFC 5322 (with obsolete zone names), trailing comments
/// such as `(CET)`, missing weekday, extra blanks, two-digit years, no seconds.
pub fn parse_date(raw: &str) -> Option<DateTime<FixedOffset>> {
    let mut s = raw.trim().to_owned();
    // Drop trailing comments: `+0200 (CEST)`.
    while s.ends_with(')') {
        let Some(open) = s.rfind('(') else { break };
        s.truncate(open);
        s = s.trim_end().to_owned();
    }
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(&s) {
        return Some(t);
    }
    let no_day = match s.split_once(',') {
        Some((_, rest)) => rest.trim(),
        None => s.as_str(),
    };
    for fmt in [
        "%d %b %Y %H:%M:%S %z",
        "%d %b %Y %H:%M %z",
        "%d %b %y %H:%M:%S %z",
        "%d %B %Y %H:%M:%S %z",
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(no_day, fmt) {
            return Some(t);
        }
    }
    // A zone word chrono does not know (`MET`, `CEST`): the time is right, the offset is
    // not knowable; keep it as UTC only when the zone says so.
    let (body, zone) = no_day.rsplit_once(' ')?;
    if matches!(zone, "UTC" | "Z" | "GMT" | "UT") {
        let n = NaiveDateTime::parse_from_str(body, "%d %b %Y %H:%M:%S").ok()?;
        return Some(n.and_utc().fixed_offset());
    }
    None
}

#[cfg(test)]
#[path = "received_tests.rs"]
mod tests;
