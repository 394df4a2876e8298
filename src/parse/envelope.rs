//! The syslog envelope: timestamp, host, program and pid in front of the MTA's message.
//!
//! Sendmail and Postfix never stamp their own lines; whatever wrote the file did (classic
//! syslogd, rsyslog, journald, Solaris syslogd, a container runtime, a human pasting into a
//! ticket). [`parse`] recognises every prefix of FORMATS.md §0 plus Exim's own mainlog
//! stamp, by hand-written byte scanning: it runs on every line of multi-gigabyte logs, so
//! it allocates nothing and never backtracks further than one token.
//!
//! Recognised shapes (`…` is the message):
//!
//! * RFC 3164: `Dec  4 10:24:32 host prog[pid]: …`, zero-padded day (`Apr 09`), optional
//!   fraction (`journalctl -o short-precise`), month names in the English and the common
//!   glibc locales (`авг`, `Mär`, `févr.`, …), an optional `<mail.info>` before the host,
//!   a missing host (`Dec  4 10:24:32 prog[pid]: …`, the `/dev/log` form);
//! * RFC 3339 / ISO 8601 (rsyslog high precision, `journalctl -o short-iso`):
//!   `2026-11-28T17:30:07.123456+00:00 host prog[pid]: …`, `Z`, `+0300`;
//! * RFC 5424: `<34>1 2026-11-28T17:30:07.123Z host app procid msgid [sd…] …`, with `-`
//!   nil values, structured data skipped and a leading BOM dropped;
//! * a leading `<PRI>` before any of the above;
//! * no stamp: `prog[pid]: …` or `host prog[pid]: …` (strict: the pid is required, so
//!   a bare Sendmail `QID: to=…` message is not taken for a program name);
//! * Exim's mainlog: `2026-11-28 17:30:07[.mmm][ +0100] [[pid]] …` → program `exim`;
//! * anything else: all message, [`Stamp::None`].
//!
//! After `prog[pid]: ` a Solaris `[ID 702911 mail.notice] ` tag is removed from the
//! message. Host names are not validated (IPs, `(none)`, dashes all occur); `(none)`
//! becomes `None`.
//!
//! Stamps without a year (or without a zone) are completed afterwards, per file and in log
//! order, by [`YearResolver`].

use chrono::{
    DateTime, Datelike, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone,
};

use crate::event::Stamp;

/// The parts of a syslog line around the message. Every field but `message` is optional:
/// lines pasted without their prefix still reach the MTA parsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub stamp: Stamp,
    /// Logging host; `None` when absent or the literal `(none)`.
    pub host: Option<&'a str>,
    /// Program name from `prog[pid]:` (`sm-mta`, `postfix/smtpd`, …).
    pub program: Option<&'a str>,
    pub pid: Option<u32>,
    /// The MTA's own text, after `prog[pid]: ` and any Solaris `[ID n fac.level]` tag.
    pub message: &'a str,
}

impl<'a> Envelope<'a> {
    fn all_message(stamp: Stamp, message: &'a str) -> Self {
        Envelope {
            stamp,
            host: None,
            program: None,
            pid: None,
            message,
        }
    }
}

/// Splits a line into envelope and message. Never fails: a line with no recognisable
/// prefix is all message.
pub fn parse(line: &str) -> Envelope<'_> {
    let b = line.as_bytes();
    let mut pos = 0;
    if let Some(after) = pri(b) {
        if let Some(env) = rfc5424(line, after) {
            return env;
        }
        pos = after;
    }
    let rest = &line[pos..];
    if let Some((stamp, end)) = stamp_3164(rest) {
        return after_stamp(rest, end, stamp);
    }
    if let Some(iso) = iso_stamp(rest.as_bytes()) {
        if iso.sep == b' ' {
            return exim_or_syslog(rest, iso);
        }
        let stamp = match iso.offset {
            Some(off) => full(iso.naive, off),
            None => Stamp::Local(iso.naive),
        };
        return after_stamp(rest, iso.end, stamp);
    }
    no_stamp(rest).unwrap_or_else(|| Envelope::all_message(Stamp::None, rest))
}

// ---------------------------------------------------------------------------------------
// Small byte helpers. Every index handed to `&str[..]` sits next to an ASCII byte, so
// slicing never splits a UTF-8 sequence.

fn num(b: &[u8], i: usize, n: usize) -> Option<u32> {
    let d = b.get(i..i + n)?;
    let mut v = 0u32;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// `.ddd…` at `i`: nanoseconds (digits past the ninth are read and ignored) and the index
/// after the fraction. No dot → `(0, i)`.
fn fraction(b: &[u8], i: usize) -> (u32, usize) {
    if b.get(i) != Some(&b'.') || !b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return (0, i);
    }
    let mut j = i + 1;
    let mut nanos = 0u32;
    let mut scale = 100_000_000u32;
    while let Some(&c) = b.get(j) {
        if !c.is_ascii_digit() {
            break;
        }
        nanos += u32::from(c - b'0') * scale;
        scale /= 10;
        j += 1;
    }
    (nanos, j)
}

/// `HH:MM:SS[.f]` at `i` → (seconds since midnight, nanos, end). A leap second `:60` is
/// kept the chrono way, as second 59 with nanos ≥ 10⁹.
fn clock(b: &[u8], i: usize) -> Option<(u32, u32, usize)> {
    let h = num(b, i, 2)?;
    let m = num(b, i + 3, 2)?;
    let s = num(b, i + 6, 2)?;
    if b.get(i + 2) != Some(&b':') || b.get(i + 5) != Some(&b':') || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let (mut nanos, end) = fraction(b, i + 8);
    let mut secs = h * 3600 + m * 60 + s;
    if s == 60 {
        secs -= 1;
        nanos += 1_000_000_000;
    }
    Some((secs, nanos, end))
}

/// A pid: ASCII digits only (`str::parse` would also take a `+`), fitting a `u32`.
fn pid_number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn at_boundary(b: &[u8], i: usize) -> bool {
    matches!(b.get(i), None | Some(b' '))
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// End of the space-delimited token starting at `i`.
fn token_end(b: &[u8], i: usize) -> usize {
    memchr::memchr(b' ', b.get(i..).unwrap_or_default()).map_or(b.len(), |n| i + n)
}

fn full(naive: NaiveDateTime, off: FixedOffset) -> Stamp {
    naive
        .and_local_timezone(off)
        .single()
        .map_or(Stamp::None, Stamp::Full)
}

// ---------------------------------------------------------------------------------------
// <PRI> and RFC 5424.

/// A leading `<N>` (1–3 digits, ≤ 191 per RFC 5424 §6.2.1) → index after `>`.
fn pri(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'<') {
        return None;
    }
    let close = b.iter().take(5).position(|&c| c == b'>')?;
    let digits = b.get(1..close)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits
        .iter()
        .fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
    (v <= 191).then_some(close + 1)
}

/// RFC 5424 §6: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
/// STRUCTURED-DATA [SP MSG]`, every header field `-` when nil. `i` is just after the PRI.
/// Returns `None` unless the version and timestamp are there, so `<13>Dec  4 …` falls
/// through to RFC 3164. A line truncated inside the header keeps what was read.
fn rfc5424(line: &str, i: usize) -> Option<Envelope<'_>> {
    let b = line.as_bytes();
    // VERSION is 1–2 digits; only 1 exists.
    if b.get(i) != Some(&b'1') || b.get(i + 1) != Some(&b' ') {
        return None;
    }
    let t = i + 2;
    let (stamp, mut p) = if b.get(t) == Some(&b'-') && at_boundary(b, t + 1) {
        (Stamp::None, t + 1)
    } else {
        let iso = iso_stamp(b.get(t..)?)?;
        if iso.sep == b' ' {
            return None;
        }
        let stamp = match iso.offset {
            Some(off) => full(iso.naive, off),
            None => Stamp::Local(iso.naive),
        };
        (stamp, t + iso.end)
    };
    let mut env = Envelope::all_message(stamp, "");
    // HOSTNAME, APP-NAME, PROCID, MSGID.
    let mut fields: [Option<&str>; 4] = [None; 4];
    for f in &mut fields {
        if p >= b.len() {
            break;
        }
        p += 1; // the SP
        let end = token_end(b, p);
        let tok = &line[p..end];
        *f = (tok != "-" && !tok.is_empty()).then_some(tok);
        p = end;
    }
    env.host = fields[0].and_then(host_name);
    env.program = fields[1];
    env.pid = fields[2].and_then(pid_number);
    if p >= b.len() {
        return Some(env);
    }
    p += 1;
    // STRUCTURED-DATA: `-` or one or more `[id k="v" …]`; in values `\"`, `\\`, `\]` are
    // escaped, so `]` only closes outside quotes.
    if b.get(p) == Some(&b'-') {
        p += 1;
    } else {
        let sd_start = p;
        while b.get(p) == Some(&b'[') {
            let mut q = p + 1;
            let mut quoted = false;
            loop {
                match b.get(q) {
                    None => {
                        // Unterminated: keep the rest as message rather than drop it.
                        env.message = &line[sd_start..];
                        return Some(env);
                    }
                    Some(b'\\') if quoted => q += 2,
                    Some(b'"') => {
                        quoted = !quoted;
                        q += 1;
                    }
                    Some(b']') if !quoted => break,
                    Some(_) => q += 1,
                }
            }
            p = q + 1;
        }
    }
    let msg = line.get(p..).unwrap_or("");
    let msg = msg.strip_prefix(' ').unwrap_or(msg);
    env.message = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    Some(env)
}

// ---------------------------------------------------------------------------------------
// ISO 8601 / RFC 3339 and Exim.

struct Iso {
    naive: NaiveDateTime,
    /// `T`/`t` (RFC 3339) or `' '` (Exim).
    sep: u8,
    offset: Option<FixedOffset>,
    /// Index just after the stamp (for Exim: after the time and fraction only).
    end: usize,
}

/// `±hh:mm` or `±hhmm` at `i` → (offset, end).
fn numeric_offset(b: &[u8], i: usize) -> Option<(FixedOffset, usize)> {
    let sign = match b.get(i)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = num(b, i + 1, 2)?;
    let (m, end) = if b.get(i + 3) == Some(&b':') {
        (num(b, i + 4, 2)?, i + 6)
    } else {
        (num(b, i + 3, 2)?, i + 5)
    };
    if h > 23 || m > 59 {
        return None;
    }
    let secs = i32::try_from(h * 3600 + m * 60).ok()?;
    Some((FixedOffset::east_opt(sign * secs)?, end))
}

/// `YYYY-MM-DD(T| )HH:MM:SS[.f]` and, after `T`, an optional `Z`/`±hh:mm`/`±hhmm`.
/// Requires a valid calendar date and a space or end after the stamp.
fn iso_stamp(b: &[u8]) -> Option<Iso> {
    let y = num(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let mo = num(b, 5, 2)?;
    let d = num(b, 8, 2)?;
    let sep = *b.get(10)?;
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    let (secs, nanos, mut end) = clock(b, 11)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)?;
    let mut offset = None;
    if sep != b' ' {
        match b.get(end) {
            Some(b'Z' | b'z') => {
                offset = FixedOffset::east_opt(0);
                end += 1;
            }
            Some(b'+' | b'-') => {
                let (off, e) = numeric_offset(b, end)?;
                offset = Some(off);
                end = e;
            }
            _ => {}
        }
    }
    if !at_boundary(b, end) {
        return None;
    }
    Some(Iso {
        naive: NaiveDateTime::new(date, time),
        sep,
        offset,
        end,
    })
}

/// Exim's mainlog: `DATE TIME[.mmm][ ±hhmm] [[pid]] rest`. A syslog-ng style
/// `DATE TIME host prog[pid]: …` has the same stamp, so when no `[pid]` follows and the
/// rest reads as a strict syslog tag, the line is taken as syslog instead.
fn exim_or_syslog(line: &str, iso: Iso) -> Envelope<'_> {
    let b = line.as_bytes();
    let mut p = iso.end;
    let mut offset = None;
    if b.get(p) == Some(&b' ')
        && let Some((off, e)) = numeric_offset(b, p + 1).filter(|&(_, e)| e == p + 6)
        && at_boundary(b, e)
    {
        offset = Some(off);
        p = e;
    }
    let stamp = match offset {
        Some(off) => full(iso.naive, off),
        None => Stamp::Local(iso.naive),
    };
    let mut pid = None;
    if b.get(p) == Some(&b' ') && b.get(p + 1) == Some(&b'[') {
        let close = b.iter().skip(p + 2).take(11).position(|&c| c == b']');
        if let Some(close) = close.filter(|&c| at_boundary(b, p + 3 + c))
            && let Some(v) = pid_number(&line[p + 2..p + 2 + close])
        {
            pid = Some(v);
            p += 3 + close;
        }
    }
    let rest_start = if b.get(p) == Some(&b' ') { p + 1 } else { p };
    let rest = &line[rest_start..];
    if pid.is_none()
        && let Some(mut env) = no_stamp(rest)
    {
        env.stamp = stamp;
        return env;
    }
    Envelope {
        stamp,
        host: None,
        program: Some("exim"),
        pid,
        message: rest,
    }
}

// ---------------------------------------------------------------------------------------
// RFC 3164.

/// Month abbreviations as glibc's `%b` prints them (journalctl's `short` format is
/// `%b %d %H:%M:%S` in the user's locale), lower-case, without a trailing dot. Old and
/// new glibc spellings both appear (fr `fév`/`févr`, ru `май`/`мая`, cs `čen`/`čvn`); a
/// few CLDR forms (`сент`, `нояб`) are added because other tools print them.
/// Every entry maps to one month (checked by a test), so the order does not matter.
const MONTHS: &[(&str, u8)] = &[
    // de, de_AT
    ("jän", 1),
    ("mär", 3),
    ("märz", 3),
    ("mrz", 3),
    ("mai", 5),
    ("okt", 10),
    ("dez", 12),
    // fr (glibc ≥ 2.x and older)
    ("janv", 1),
    ("févr", 2),
    ("fév", 2),
    ("mars", 3),
    ("avr", 4),
    ("avril", 4),
    ("juin", 6),
    ("juil", 7),
    ("août", 8),
    ("aoû", 8),
    ("sept", 9),
    ("déc", 12),
    // es
    ("ene", 1),
    ("abr", 4),
    ("ago", 8),
    ("dic", 12),
    // it
    ("gen", 1),
    ("mag", 5),
    ("giu", 6),
    ("lug", 7),
    ("set", 9),
    ("ott", 10),
    // pt
    ("fev", 2),
    ("out", 10),
    // nl
    ("mrt", 3),
    ("mei", 5),
    // sv, da, nb
    ("maj", 5),
    ("des", 12),
    // pl
    ("sty", 1),
    ("lut", 2),
    ("kwi", 4),
    ("cze", 6),
    ("lip", 7),
    ("sie", 8),
    ("wrz", 9),
    ("paź", 10),
    ("lis", 11),
    ("gru", 12),
    // cs
    ("led", 1),
    ("úno", 2),
    ("bře", 3),
    ("dub", 4),
    ("kvě", 5),
    ("čen", 6),
    ("čvn", 6),
    ("čec", 7),
    ("čvc", 7),
    ("srp", 8),
    ("zář", 9),
    ("říj", 10),
    ("pro", 12),
    // fi
    ("tammi", 1),
    ("helmi", 2),
    ("maalis", 3),
    ("huhti", 4),
    ("touko", 5),
    ("kesä", 6),
    ("heinä", 7),
    ("elo", 8),
    ("syys", 9),
    ("loka", 10),
    ("marras", 11),
    ("joulu", 12),
    // tr
    ("oca", 1),
    ("şub", 2),
    ("nis", 4),
    ("haz", 6),
    ("tem", 7),
    ("ağu", 8),
    ("eyl", 9),
    ("eki", 10),
    ("kas", 11),
    ("ara", 12),
    // ru (glibc abmon and ab_alt_mon, plus CLDR)
    ("янв", 1),
    ("фев", 2),
    ("февр", 2),
    ("мар", 3),
    ("апр", 4),
    ("май", 5),
    ("мая", 5),
    ("июн", 6),
    ("июня", 6),
    ("июл", 7),
    ("июля", 7),
    ("авг", 8),
    ("сен", 9),
    ("сент", 9),
    ("окт", 10),
    ("ноя", 11),
    ("нояб", 11),
    ("дек", 12),
    // uk
    ("січ", 1),
    ("лют", 2),
    ("бер", 3),
    ("кві", 4),
    ("тра", 5),
    ("чер", 6),
    ("лип", 7),
    ("сер", 8),
    ("вер", 9),
    ("жов", 10),
    ("лис", 11),
    ("гру", 12),
];

/// The month named by `tok` (letters only, any case). English three-letter names, by far
/// the most common, are matched on bytes before the locale table is scanned.
fn month_number(tok: &str) -> Option<u8> {
    if let &[a, b, c] = tok.as_bytes() {
        let key = [
            a.to_ascii_lowercase(),
            b.to_ascii_lowercase(),
            c.to_ascii_lowercase(),
        ];
        let m = match &key {
            b"jan" => 1,
            b"feb" => 2,
            b"mar" => 3,
            b"apr" => 4,
            b"may" => 5,
            b"jun" => 6,
            b"jul" => 7,
            b"aug" => 8,
            b"sep" => 9,
            b"oct" => 10,
            b"nov" => 11,
            b"dec" => 12,
            _ => 0,
        };
        if m != 0 {
            return Some(m);
        }
    }
    // Lower-case into a stack buffer once, then compare bytes: no allocation, and the
    // Unicode case tables are consulted once per character, not once per table entry.
    let mut buf = [0u8; 32];
    let mut n = 0;
    for c in tok.chars().flat_map(char::to_lowercase) {
        let w = c.len_utf8();
        let slot = buf.get_mut(n..n + w)?;
        c.encode_utf8(slot);
        n += w;
    }
    let key = buf.get(..n)?;
    MONTHS
        .iter()
        .find(|(name, _)| name.as_bytes() == key)
        .map(|&(_, m)| m)
}

/// `Mon dd HH:MM:SS[.f]` → (stamp, index after it). The month is a run of letters with an
/// optional trailing dot (`févr.`); the day is space- or zero-padded. The cheap shape
/// checks come before the month lookup, so ordinary words cost almost nothing.
fn stamp_3164(s: &str) -> Option<(Stamp, usize)> {
    let b = s.as_bytes();
    let mut mend = 0;
    for (i, c) in s.char_indices() {
        if !c.is_alphabetic() {
            break;
        }
        mend = i + c.len_utf8();
        if mend > 16 {
            return None;
        }
    }
    if mend == 0 {
        return None;
    }
    let mut p = mend;
    if b.get(p) == Some(&b'.') {
        p += 1;
    }
    if b.get(p) != Some(&b' ') {
        return None;
    }
    p += 1;
    if b.get(p) == Some(&b' ') {
        p += 1;
    }
    let (day, p) = match (num(b, p, 2), num(b, p, 1)) {
        (Some(d), _) => (d, p + 2),
        (None, Some(d)) => (d, p + 1),
        _ => return None,
    };
    if !(1..=31).contains(&day) || b.get(p) != Some(&b' ') {
        return None;
    }
    let (secs, nanos, end) = clock(b, p + 1)?;
    if !at_boundary(b, end) {
        return None;
    }
    let month = month_number(&s[..mend])?;
    Some((
        Stamp::NoYear {
            month,
            day: u8::try_from(day).ok()?,
            secs,
            nanos,
        },
        end,
    ))
}

fn host_name(h: &str) -> Option<&str> {
    (h != "(none)" && !h.is_empty()).then_some(h)
}

/// A syslog tag at the start of `s`: `prog[pid]:` or, unless `strict`, `prog:`, followed
/// by a space or the end. Returns (program, pid, index where the message starts).
///
/// Strict mode (no stamp in front) also requires a numeric pid and a program made of
/// name characters, so `QID: to=…`, `STARTTLS=client, …` and Sendmail's split-line
/// pieces `[1]: …` stay message text.
fn tag(s: &str, strict: bool) -> Option<(&str, Option<u32>, usize)> {
    let b = s.as_bytes();
    let pend = b
        .iter()
        .position(|&c| c == b'[' || c == b':' || c == b' ' || c.is_ascii_control() || c == b']')
        .unwrap_or(b.len());
    if pend == 0 {
        return None;
    }
    let prog = &s[..pend];
    if strict
        && !prog.bytes().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/' | b'@' | b'+')
        })
    {
        return None;
    }
    let mut p = pend;
    let mut pid = None;
    if b.get(p) == Some(&b'[') {
        let close = b.iter().skip(p + 1).take(16).position(|&c| c == b']')?;
        pid = pid_number(&s[p + 1..p + 1 + close]);
        if strict && pid.is_none() {
            return None;
        }
        p += close + 2;
    } else if strict {
        return None;
    }
    if b.get(p) != Some(&b':') || !at_boundary(b, p + 1) {
        return None;
    }
    Some((prog, pid, (p + 2).min(b.len())))
}

/// Drops a Solaris `[ID 702911 mail.notice] ` tag from the front of a message.
fn strip_solaris(msg: &str) -> &str {
    let Some(rest) = msg.strip_prefix("[ID ") else {
        return msg;
    };
    let b = rest.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || b.get(digits) != Some(&b' ') {
        return msg;
    }
    let fac = &b[digits + 1..];
    let Some(close) = fac.iter().take(40).position(|&c| c == b']') else {
        return msg;
    };
    if close == 0 || fac[..close].contains(&b' ') {
        return msg;
    }
    let after = digits + 1 + close + 1;
    if !at_boundary(b, after) {
        return msg;
    }
    rest.get(after + 1..).unwrap_or("")
}

fn with_tag<'a>(
    stamp: Stamp,
    host: Option<&'a str>,
    s: &'a str,
    (prog, pid, start): (&'a str, Option<u32>, usize),
) -> Envelope<'a> {
    Envelope {
        stamp,
        host,
        program: Some(prog),
        pid,
        message: strip_solaris(s.get(start..).unwrap_or("")),
    }
}

/// What follows a stamp: `[<fac.level>] [host] [prog[pid]: ]message`. `end` is the index
/// just after the stamp.
fn after_stamp(line: &str, end: usize, stamp: Stamp) -> Envelope<'_> {
    let b = line.as_bytes();
    let mut p = skip_spaces(b, end);
    // `<mail.info>` (or any `<…>` without spaces) before the host.
    if b.get(p) == Some(&b'<') {
        let te = token_end(b, p);
        if te - p > 2 && b.get(te - 1) == Some(&b'>') {
            p = skip_spaces(b, te);
        }
    }
    let rest = &line[p..];
    if let Some(t) = tag(rest, false) {
        return with_tag(stamp, None, rest, t);
    }
    let he = token_end(b, p);
    let host = host_name(&line[p..he]);
    let p2 = skip_spaces(b, he);
    let rest = &line[p2..];
    match tag(rest, false) {
        Some(t) => with_tag(stamp, host, rest, t),
        None => Envelope {
            stamp,
            host,
            program: None,
            pid: None,
            message: rest,
        },
    }
}

/// No stamp: `prog[pid]: …` or `host prog[pid]: …`, both strict (see [`tag`]).
fn no_stamp(s: &str) -> Option<Envelope<'_>> {
    if let Some(t) = tag(s, true) {
        return Some(with_tag(Stamp::None, None, s, t));
    }
    let b = s.as_bytes();
    let he = token_end(b, 0);
    let host = &s[..he];
    let hostish = host == "(none)"
        || (!host.is_empty()
            && host
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':')));
    if !hostish || b.get(he) != Some(&b' ') {
        return None;
    }
    let rest = &s[he + 1..];
    let t = tag(rest, true)?;
    Some(with_tag(Stamp::None, host_name(host), rest, t))
}

// ---------------------------------------------------------------------------------------
// Year and zone resolution.

/// Where the year of a file's first year-less stamp comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearBase {
    /// The file's modification date (in the zone the stamps are in). A log is written up to
    /// its mtime, so its first line is at most a year older: same year if its month is not
    /// after the mtime's month, the year before otherwise.
    Mtime(NaiveDate),
    /// `--year`: the user says which year the file's first entry is in.
    FirstYear(i32),
}

/// The zone in which stamps without an offset (RFC 3164, Exim without `log_timezone`) were
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// The machine's zone (`chrono::Local`, honours `TZ`), the usual case when reading the
    /// box's own logs.
    Local,
    /// A given offset (logs copied from a machine elsewhere).
    Fixed(FixedOffset),
}

/// Turns [`Stamp::NoYear`] and [`Stamp::Local`] into [`Stamp::Full`], one file at a time,
/// in log order.
///
/// Rules, and why:
///
/// * The first year-less stamp gets its year from the [`YearBase`].
/// * Syslog files are written in time order, so the month only goes backwards when the
///   year turns. A month more than 6 below the highest month seen so far (Dec → Jan)
///   starts the next year. Smaller backward steps (Nov lines after Dec ones) are
///   out-of-order writes, not a new year, and keep the year.
/// * A month more than 6 *above* the highest one seen (a `Dec 31 23:59:59` line arriving
///   among `Jan 1` lines) is a late write from the year before: it gets the previous year
///   and does not move the state, so the next `Jan` line is not taken for a rollover.
///   A genuine gap of more than half a year inside one file is implausible for mail
///   logs, which rotate far more often.
/// * [`Stamp::Full`] and [`Stamp::None`] pass through unchanged and do not move the
///   state.
/// * A stamp that names no real date (`Feb 30`, `Feb 29` in a common year, month 13)
///   becomes [`Stamp::None`]: the line is still read, it only has no time.
/// * Zone: in [`Zone::Local`], a time that occurs twice (DST ends) takes the earlier
///   instant; a time that does not exist (the skipped DST hour) is read one hour later,
///   which is the instant a clock that missed the change meant. Neither panics.
#[derive(Debug, Clone)]
pub struct YearResolver {
    base: YearBase,
    zone: Zone,
    /// The year of the current stretch, once the first year-less stamp was seen.
    year: Option<i32>,
    /// Highest month seen in the current year.
    high_month: u8,
}

impl YearResolver {
    pub fn new(base: YearBase, zone: Zone) -> Self {
        YearResolver {
            base,
            zone,
            year: None,
            high_month: 0,
        }
    }

    /// Completes one stamp; call it for every line of a file in order.
    pub fn resolve(&mut self, stamp: Stamp) -> Stamp {
        match stamp {
            Stamp::Full(_) | Stamp::None => stamp,
            Stamp::Local(naive) => self.in_zone(naive),
            Stamp::NoYear {
                month,
                day,
                secs,
                nanos,
            } => {
                if !(1..=12).contains(&month) {
                    return Stamp::None;
                }
                let year = self.year_for(month);
                let date = NaiveDate::from_ymd_opt(year, u32::from(month), u32::from(day));
                let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos);
                match (date, time) {
                    (Some(d), Some(t)) => self.in_zone(NaiveDateTime::new(d, t)),
                    _ => Stamp::None,
                }
            }
        }
    }

    fn year_for(&mut self, month: u8) -> i32 {
        let Some(year) = self.year else {
            let y = match self.base {
                YearBase::Mtime(d) if u32::from(month) <= d.month() => d.year(),
                YearBase::Mtime(d) => d.year().saturating_sub(1),
                YearBase::FirstYear(y) => y,
            };
            self.year = Some(y);
            self.high_month = month;
            return y;
        };
        if self.high_month > month + 6 {
            let next = year.saturating_add(1);
            self.year = Some(next);
            self.high_month = month;
            next
        } else if month > self.high_month + 6 {
            year.saturating_sub(1)
        } else {
            self.high_month = self.high_month.max(month);
            year
        }
    }

    fn in_zone(&self, naive: NaiveDateTime) -> Stamp {
        let t = match self.zone {
            Zone::Fixed(off) => in_tz(&off, naive),
            Zone::Local => in_tz(&Local, naive),
        };
        t.map_or(Stamp::None, Stamp::Full)
    }
}

/// `naive` read in `tz`: the earlier instant when ambiguous, one hour later when it falls
/// into a gap, `None` only when out of chrono's range.
fn in_tz<Tz: TimeZone>(tz: &Tz, naive: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
    if let Some(t) = tz.from_local_datetime(&naive).earliest() {
        return Some(t.fixed_offset());
    }
    let later = naive.checked_add_signed(TimeDelta::hours(1))?;
    tz.from_local_datetime(&later)
        .earliest()
        .map(|t| t.fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ny(month: u8, day: u8, h: u32, m: u32, s: u32, nanos: u32) -> Stamp {
        Stamp::NoYear {
            month,
            day,
            secs: h * 3600 + m * 60 + s,
            nanos,
        }
    }

    fn fixed(s: &str) -> Stamp {
        Stamp::Full(DateTime::parse_from_rfc3339(s).expect("test stamp"))
    }

    fn local(s: &str) -> Stamp {
        Stamp::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("test stamp"))
    }

    type Row = (
        &'static str,
        Stamp,
        Option<&'static str>,
        Option<&'static str>,
        Option<u32>,
        &'static str,
    );

    #[test]
    fn envelope_forms() {
        let rows: Vec<Row> = vec![
            // RFC 3164, space-padded day.
            (
                "Dec  4 10:24:32 mx1 sm-mta[32283]: STARTTLS=server, relay=a.example [192.0.2.7], version=TLSv1.3",
                ny(12, 4, 10, 24, 32, 0),
                Some("mx1"),
                Some("sm-mta"),
                Some(32283),
                "STARTTLS=server, relay=a.example [192.0.2.7], version=TLSv1.3",
            ),
            // Zero-padded day (journalctl, postlogd).
            (
                "Apr 09 09:29:47 box sm-msp-queue[15093]: 539E9lT1015093: to=root, stat=Sent",
                ny(4, 9, 9, 29, 47, 0),
                Some("box"),
                Some("sm-msp-queue"),
                Some(15093),
                "539E9lT1015093: to=root, stat=Sent",
            ),
            // Single space, single-digit day.
            (
                "Jul 5 19:19:30 gw sendmail[811]: x",
                ny(7, 5, 19, 19, 30, 0),
                Some("gw"),
                Some("sendmail"),
                Some(811),
                "x",
            ),
            // journalctl -o short-precise.
            (
                "Nov 28 17:30:07.123456 mx postfix/smtpd[4047870]: connect from a[192.0.2.1]",
                ny(11, 28, 17, 30, 7, 123_456_000),
                Some("mx"),
                Some("postfix/smtpd"),
                Some(4_047_870),
                "connect from a[192.0.2.1]",
            ),
            // rsyslog high precision.
            (
                "2026-11-27T14:34:37.081352+03:00 mail postfix/smtpd[137233]: disconnect from x",
                fixed("2026-11-27T14:34:37.081352+03:00"),
                Some("mail"),
                Some("postfix/smtpd"),
                Some(137_233),
                "disconnect from x",
            ),
            // RFC 3339 with Z.
            (
                "2026-11-28T17:30:07.123456Z mail postfix/smtp[9]: TLS connection established",
                fixed("2026-11-28T17:30:07.123456Z"),
                Some("mail"),
                Some("postfix/smtp"),
                Some(9),
                "TLS connection established",
            ),
            // journalctl -o short-iso: offset without colon.
            (
                "2026-11-28T17:30:07+0100 relay sm-mta[12]: ruleset=tls_server",
                fixed("2026-11-28T17:30:07+01:00"),
                Some("relay"),
                Some("sm-mta"),
                Some(12),
                "ruleset=tls_server",
            ),
            // RFC 5424 with every header field and no SD.
            (
                "<34>1 2026-11-28T17:30:07.123Z mx.example.org sm-mta 2794 - - STARTTLS=client, relay=b.example.",
                fixed("2026-11-28T17:30:07.123Z"),
                Some("mx.example.org"),
                Some("sm-mta"),
                Some(2794),
                "STARTTLS=client, relay=b.example.",
            ),
            // RFC 5424 with structured data (escaped `]` and `"`), BOM and msgid.
            (
                "<22>1 2026-11-28T17:30:07+01:00 mx postfix/smtpd 77 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"a\\]b \\\"q\\\"\"][x@1 k=\"v\"] \u{feff}lost connection",
                fixed("2026-11-28T17:30:07+01:00"),
                Some("mx"),
                Some("postfix/smtpd"),
                Some(77),
                "lost connection",
            ),
            // RFC 5424 with all nil values.
            (
                "<165>1 - - - - - - msg only",
                Stamp::None,
                None,
                None,
                None,
                "msg only",
            ),
            // RFC 5424 with non-numeric procid and no MSG.
            (
                "<13>1 2026-01-02T03:04:05Z h app worker-1 - -",
                fixed("2026-01-02T03:04:05Z"),
                Some("h"),
                Some("app"),
                None,
                "",
            ),
            // Leading PRI before an RFC 3164 stamp, no host (/dev/log form).
            (
                "<22>Dec 21 00:04:00 sm-mta[10697]: did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA",
                ny(12, 21, 0, 4, 0, 0),
                None,
                Some("sm-mta"),
                Some(10697),
                "did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA",
            ),
            // Localized: ru (journalctl under ru_RU.UTF-8).
            (
                "авг 09 04:49:15 mx postfix/smtp[246741]: Trusted TLS connection established",
                ny(8, 9, 4, 49, 15, 0),
                Some("mx"),
                Some("postfix/smtp"),
                Some(246_741),
                "Trusted TLS connection established",
            ),
            // ru, genitive May and upper case.
            (
                "МАЯ 01 00:00:00 mx sm-mta[1]: m",
                ny(5, 1, 0, 0, 0, 0),
                Some("mx"),
                Some("sm-mta"),
                Some(1),
                "m",
            ),
            // de with umlaut.
            (
                "Mär 03 12:00:01 mail sm-mta[4]: m",
                ny(3, 3, 12, 0, 1, 0),
                Some("mail"),
                Some("sm-mta"),
                Some(4),
                "m",
            ),
            // fr with trailing dot.
            (
                "févr. 14 08:15:00 mx postfix/smtpd[5]: m",
                ny(2, 14, 8, 15, 0, 0),
                Some("mx"),
                Some("postfix/smtpd"),
                Some(5),
                "m",
            ),
            (
                "déc. 31 23:59:59 mx sm-mta[6]: m",
                ny(12, 31, 23, 59, 59, 0),
                Some("mx"),
                Some("sm-mta"),
                Some(6),
                "m",
            ),
            // es, it, pt, nl, pl.
            (
                "ene 02 01:02:03 h sm-mta[7]: m",
                ny(1, 2, 1, 2, 3, 0),
                Some("h"),
                Some("sm-mta"),
                Some(7),
                "m",
            ),
            (
                "ott 10 10:10:10 h sm-mta[8]: m",
                ny(10, 10, 10, 10, 10, 0),
                Some("h"),
                Some("sm-mta"),
                Some(8),
                "m",
            ),
            (
                "out 11 11:11:11 h sm-mta[9]: m",
                ny(10, 11, 11, 11, 11, 0),
                Some("h"),
                Some("sm-mta"),
                Some(9),
                "m",
            ),
            (
                "mrt 12 12:12:12 h sm-mta[10]: m",
                ny(3, 12, 12, 12, 12, 0),
                Some("h"),
                Some("sm-mta"),
                Some(10),
                "m",
            ),
            (
                "paź 13 13:13:13 h sm-mta[11]: m",
                ny(10, 13, 13, 13, 13, 0),
                Some("h"),
                Some("sm-mta"),
                Some(11),
                "m",
            ),
            // Leap second.
            (
                "Dec 31 23:59:60 h sm-mta[1]: m",
                ny(12, 31, 23, 59, 59, 1_000_000_000),
                Some("h"),
                Some("sm-mta"),
                Some(1),
                "m",
            ),
            // Solaris tag.
            (
                "Jun 17 14:37:39 sol sm-mta[2953]: [ID 702911 mail.notice] ruleset=tls_server, arg1=SOFTWARE",
                ny(6, 17, 14, 37, 39, 0),
                Some("sol"),
                Some("sm-mta"),
                Some(2953),
                "ruleset=tls_server, arg1=SOFTWARE",
            ),
            // Facility in angle brackets before the host.
            (
                "Jun 17 14:37:39 <mail.info> host sm-mta[2794]: STARTTLS=server, relay=[192.0.2.9]",
                ny(6, 17, 14, 37, 39, 0),
                Some("host"),
                Some("sm-mta"),
                Some(2794),
                "STARTTLS=server, relay=[192.0.2.9]",
            ),
            // (none) host.
            (
                "Dec 21 00:04:00 (none) postfix/smtpd[10697]: connect from unknown[192.0.2.3]",
                ny(12, 21, 0, 4, 0, 0),
                None,
                Some("postfix/smtpd"),
                Some(10697),
                "connect from unknown[192.0.2.3]",
            ),
            // No pid.
            (
                "Mar  1 00:00:00 mx postfix/postfix-script: starting the Postfix mail system",
                ny(3, 1, 0, 0, 0, 0),
                Some("mx"),
                Some("postfix/postfix-script"),
                None,
                "starting the Postfix mail system",
            ),
            // Program names with slashes, dashes, site names; IP as host.
            (
                "Mar  1 00:00:00 192.0.2.10 postfix/smtps/smtpd[3]: m",
                ny(3, 1, 0, 0, 0, 0),
                Some("192.0.2.10"),
                Some("postfix/smtps/smtpd"),
                Some(3),
                "m",
            ),
            (
                "Mar  1 00:00:00 mx-2 postfix-out/smtp[3]: m",
                ny(3, 1, 0, 0, 0, 0),
                Some("mx-2"),
                Some("postfix-out/smtp"),
                Some(3),
                "m",
            ),
            (
                "Mar  1 00:00:00 mx sendmail/foo[3]: m",
                ny(3, 1, 0, 0, 0, 0),
                Some("mx"),
                Some("sendmail/foo"),
                Some(3),
                "m",
            ),
            (
                "Mar  1 00:00:00 mx sm-mta-in[3]: m",
                ny(3, 1, 0, 0, 0, 0),
                Some("mx"),
                Some("sm-mta-in"),
                Some(3),
                "m",
            ),
            (
                "Mar  1 00:00:00 mx enforced-tls-smtp/smtp[3]: m",
                ny(3, 1, 0, 0, 0, 0),
                Some("mx"),
                Some("enforced-tls-smtp/smtp"),
                Some(3),
                "m",
            ),
            // Stamp and host but no tag.
            (
                "Mar  1 00:00:00 mx last message repeated 3 times",
                ny(3, 1, 0, 0, 0, 0),
                Some("mx"),
                None,
                None,
                "last message repeated 3 times",
            ),
            // Prefix partial: tag only, and host + tag.
            (
                "sendmail[28450]: STARTTLS=client, relay=mx.peer.example., version=TLSv1.2",
                Stamp::None,
                None,
                Some("sendmail"),
                Some(28450),
                "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2",
            ),
            (
                "mx1 sm-mta[99]: m",
                Stamp::None,
                Some("mx1"),
                Some("sm-mta"),
                Some(99),
                "m",
            ),
            // Bare messages stay whole.
            (
                "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2",
                Stamp::None,
                None,
                None,
                None,
                "STARTTLS=client, relay=mx.peer.example., version=TLSv1.2",
            ),
            (
                "[1]: STARTTLS=server, cert-subject=/CN=a ...",
                Stamp::None,
                None,
                None,
                None,
                "[1]: STARTTLS=server, cert-subject=/CN=a ...",
            ),
            (
                "2A1820LG031423: to=<a@example.org>, stat=Sent",
                Stamp::None,
                None,
                None,
                None,
                "2A1820LG031423: to=<a@example.org>, stat=Sent",
            ),
            (
                "did not issue MAIL/EXPN/VRFY/ETRN",
                Stamp::None,
                None,
                None,
                None,
                "did not issue MAIL/EXPN/VRFY/ETRN",
            ),
            ("", Stamp::None, None, None, None, ""),
            // Stamp-shaped but invalid: all message.
            (
                "Foo 12 10:00:00 h sm-mta[1]: m",
                Stamp::None,
                None,
                None,
                None,
                "Foo 12 10:00:00 h sm-mta[1]: m",
            ),
            (
                "2026-02-30T10:00:00Z h sm-mta[1]: m",
                Stamp::None,
                None,
                None,
                None,
                "2026-02-30T10:00:00Z h sm-mta[1]: m",
            ),
            // Exim mainlog: plain, with ms + zone + pid, with pid only.
            (
                "2026-11-28 17:30:07 1aZ1HS-0006iF-Rk <= a@example.org H=mx.example [192.0.2.4] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=1234",
                local("2026-11-28 17:30:07"),
                None,
                Some("exim"),
                None,
                "1aZ1HS-0006iF-Rk <= a@example.org H=mx.example [192.0.2.4] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=1234",
            ),
            (
                "2026-11-28 17:30:07.123 +0100 [4711] 1sDcIh-000000004YY-3wAT => b@example.net R=dnslookup T=remote_smtp",
                fixed("2026-11-28T17:30:07.123+01:00"),
                None,
                Some("exim"),
                Some(4711),
                "1sDcIh-000000004YY-3wAT => b@example.net R=dnslookup T=remote_smtp",
            ),
            (
                "2026-11-28 17:30:07 [123] Start queue run: pid=123",
                local("2026-11-28 17:30:07"),
                None,
                Some("exim"),
                Some(123),
                "Start queue run: pid=123",
            ),
            // syslog-ng style date with space, then a syslog tag.
            (
                "2026-11-28 17:30:07 mx sm-mta[5]: m",
                local("2026-11-28 17:30:07"),
                Some("mx"),
                Some("sm-mta"),
                Some(5),
                "m",
            ),
            // rsyslog forwarding: PRI then an RFC 3339 stamp, no version.
            (
                "<22>2026-11-28T17:30:07.5-05:00 mx sm-mta[8]: m",
                fixed("2026-11-28T17:30:07.5-05:00"),
                Some("mx"),
                Some("sm-mta"),
                Some(8),
                "m",
            ),
            // RFC 3339 without an offset: a local time.
            (
                "2026-11-28T17:30:07 mx sm-mta[8]: m",
                local("2026-11-28 17:30:07"),
                Some("mx"),
                Some("sm-mta"),
                Some(8),
                "m",
            ),
            // RFC 5424 cut inside the structured data: the rest stays as message.
            (
                "<22>1 2026-11-28T17:30:07Z mx sm-mta 8 - [a k=\"v] m",
                fixed("2026-11-28T17:30:07Z"),
                Some("mx"),
                Some("sm-mta"),
                Some(8),
                "[a k=\"v] m",
            ),
            // RFC 5424 cut inside the header.
            (
                "<22>1 2026-11-28T17:30:07Z mx",
                fixed("2026-11-28T17:30:07Z"),
                Some("mx"),
                None,
                None,
                "",
            ),
            // A PRI and nothing we know after it.
            (
                "<13>hello world",
                Stamp::None,
                None,
                None,
                None,
                "hello world",
            ),
            // Partial prefix with a `(none)` host.
            (
                "(none) sm-mta[1]: m",
                Stamp::None,
                None,
                Some("sm-mta"),
                Some(1),
                "m",
            ),
            // A `+` pid is not a pid.
            (
                "sm-mta[+1]: m",
                Stamp::None,
                None,
                None,
                None,
                "sm-mta[+1]: m",
            ),
            // Exim with a zone and no milliseconds, message text without an id.
            (
                "2026-11-28 17:30:07 -0500 SMTP connection from [192.0.2.5]:40022 (TCP/IP connection count = 1)",
                fixed("2026-11-28T17:30:07-05:00"),
                None,
                Some("exim"),
                None,
                "SMTP connection from [192.0.2.5]:40022 (TCP/IP connection count = 1)",
            ),
        ];
        assert!(rows.len() >= 25);
        for (line, stamp, host, program, pid, message) in rows {
            let want = Envelope {
                stamp,
                host,
                program,
                pid,
                message,
            };
            assert_eq!(parse(line), want, "line: {line:?}");
        }
    }

    #[test]
    fn month_table_is_unambiguous() {
        for (i, (a, ma)) in MONTHS.iter().enumerate() {
            assert_eq!(a.to_lowercase(), *a, "{a} not lower case");
            for (b, mb) in &MONTHS[i + 1..] {
                assert!(a != b || ma == mb, "{a} maps to {ma} and {mb}");
            }
            if let Some(en) = month_number(&a.to_ascii_uppercase()).filter(|_| a.len() == 3) {
                assert_eq!(en, *ma, "{a} clashes with an English month");
            }
        }
    }

    #[test]
    fn month_lookup_cases() {
        let rows = [
            ("JAN", Some(1)),
            ("sep", Some(9)),
            ("Sept", Some(9)),
            ("AOÛT", Some(8)),
            ("Дек", Some(12)),
            ("ДЕК", Some(12)),
            ("Okt", Some(10)),
            ("Dez", Some(12)),
            ("giu", Some(6)),
            ("foo", None),
            ("Ja", None),
        ];
        for (tok, want) in rows {
            assert_eq!(month_number(tok), want, "{tok}");
        }
    }

    fn utc() -> Zone {
        Zone::Fixed(FixedOffset::east_opt(0).expect("zero offset"))
    }

    fn years(base: YearBase, zone: Zone, stamps: &[Stamp]) -> Vec<String> {
        let mut r = YearResolver::new(base, zone);
        stamps
            .iter()
            .map(|s| match r.resolve(*s) {
                Stamp::Full(t) => t.to_rfc3339(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test date")
    }

    #[test]
    fn mtime_in_january_with_december_lines() {
        let got = years(
            YearBase::Mtime(date(2027, 1, 2)),
            utc(),
            &[
                ny(12, 31, 23, 59, 0, 0),
                ny(1, 1, 0, 0, 1, 0),
                ny(1, 2, 3, 0, 0, 0),
            ],
        );
        assert_eq!(
            got,
            [
                "2026-12-31T23:59:00+00:00",
                "2027-01-01T00:00:01+00:00",
                "2027-01-02T03:00:00+00:00"
            ]
        );
    }

    #[test]
    fn mtime_same_month_is_same_year() {
        let got = years(
            YearBase::Mtime(date(2026, 11, 28)),
            utc(),
            &[ny(11, 1, 0, 0, 0, 0), ny(11, 28, 1, 0, 0, 0)],
        );
        assert_eq!(
            got,
            ["2026-11-01T00:00:00+00:00", "2026-11-28T01:00:00+00:00"]
        );
    }

    #[test]
    fn first_year_with_rollover_and_out_of_order() {
        let got = years(
            YearBase::FirstYear(2024),
            utc(),
            &[
                ny(11, 30, 12, 0, 0, 0),
                ny(12, 31, 23, 59, 58, 0),
                ny(11, 30, 12, 0, 1, 0), // late write: small step back, same year
                ny(1, 1, 0, 0, 0, 0),    // rollover
                ny(12, 31, 23, 59, 59, 0), // late write from the year before
                ny(1, 1, 0, 0, 2, 0),    // still the new year, no second rollover
                ny(2, 29, 10, 0, 0, 0),  // 2025 is not a leap year
                ny(3, 1, 0, 0, 0, 0),
            ],
        );
        assert_eq!(
            got,
            [
                "2024-11-30T12:00:00+00:00",
                "2024-12-31T23:59:58+00:00",
                "2024-11-30T12:00:01+00:00",
                "2025-01-01T00:00:00+00:00",
                "2024-12-31T23:59:59+00:00",
                "2025-01-01T00:00:02+00:00",
                "None",
                "2025-03-01T00:00:00+00:00",
            ]
        );
    }

    #[test]
    fn fixed_zone_and_passthrough() {
        let plus3 = Zone::Fixed(FixedOffset::east_opt(3 * 3600).expect("offset"));
        let full = fixed("2026-11-28T17:30:07.5+01:00");
        let got = years(
            YearBase::FirstYear(2026),
            plus3,
            &[
                ny(8, 9, 4, 49, 15, 250_000_000),
                full,
                Stamp::None,
                local("2026-08-10 00:00:00"),
                ny(2, 30, 0, 0, 0, 0),
                ny(13, 1, 0, 0, 0, 0),
            ],
        );
        assert_eq!(
            got,
            [
                "2026-08-09T04:49:15.250+03:00",
                "2026-11-28T17:30:07.500+01:00",
                "None",
                "2026-08-10T00:00:00+03:00",
                "None",
                "None",
            ]
        );
    }

    #[test]
    fn local_zone_resolves() {
        // Mid-January noon is outside any DST change, so the wall time is kept.
        let mut r = YearResolver::new(YearBase::FirstYear(2026), Zone::Local);
        let Stamp::Full(t) = r.resolve(ny(1, 15, 12, 0, 0, 0)) else {
            panic!("not resolved");
        };
        assert_eq!(
            t.naive_local(),
            date(2026, 1, 15).and_hms_opt(12, 0, 0).expect("time")
        );
    }

    /// A zone with a one-hour DST gap at 02:00 and a repeat at 03:00 on 2026-03-29, to
    /// check the gap and ambiguity rules without touching the process's `TZ`.
    #[derive(Clone, Copy, Debug)]
    struct Dst;

    impl TimeZone for Dst {
        type Offset = FixedOffset;
        fn from_offset(_: &FixedOffset) -> Self {
            Dst
        }
        fn offset_from_local_date(&self, _: &NaiveDate) -> chrono::LocalResult<FixedOffset> {
            chrono::LocalResult::None
        }
        fn offset_from_local_datetime(
            &self,
            l: &NaiveDateTime,
        ) -> chrono::LocalResult<FixedOffset> {
            let one = FixedOffset::east_opt(3600).expect("offset");
            let two = FixedOffset::east_opt(7200).expect("offset");
            let d = date(2026, 3, 29);
            let gap = (d.and_hms_opt(2, 0, 0), d.and_hms_opt(3, 0, 0));
            let fold = (d.and_hms_opt(3, 0, 0), d.and_hms_opt(4, 0, 0));
            let within = |(a, b): (Option<NaiveDateTime>, Option<NaiveDateTime>)| {
                a.is_some_and(|a| *l >= a) && b.is_some_and(|b| *l < b)
            };
            if within(gap) {
                chrono::LocalResult::None
            } else if within(fold) {
                chrono::LocalResult::Ambiguous(two, one)
            } else {
                chrono::LocalResult::Single(one)
            }
        }
        fn offset_from_utc_date(&self, _: &NaiveDate) -> FixedOffset {
            FixedOffset::east_opt(3600).expect("offset")
        }
        fn offset_from_utc_datetime(&self, _: &NaiveDateTime) -> FixedOffset {
            FixedOffset::east_opt(3600).expect("offset")
        }
    }

    #[test]
    fn dst_gap_and_fold() {
        let at = |h, m| date(2026, 3, 29).and_hms_opt(h, m, 0).expect("time");
        let show = |n| in_tz(&Dst, n).map(|t| t.to_rfc3339());
        assert_eq!(
            show(at(1, 30)).as_deref(),
            Some("2026-03-29T01:30:00+01:00")
        );
        // In the gap: one hour later.
        assert_eq!(
            show(at(2, 30)).as_deref(),
            Some("2026-03-29T03:30:00+02:00")
        );
        // Ambiguous: the earlier instant.
        assert_eq!(
            show(at(3, 30)).as_deref(),
            Some("2026-03-29T03:30:00+02:00")
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let e = parse(&s);
            // The message is always a suffix of the line.
            prop_assert!(s.ends_with(e.message));
        }

        #[test]
        fn never_panics_on_envelope_like_noise(
            s in "(<[0-9]{1,3}>)?(1 )?[-0-9TZ:. +]{0,40}[ a-zé\\[\\]:<>()0-9/.-]{0,60}"
        ) {
            let e = parse(&s);
            prop_assert!(s.ends_with(e.message));
            let mut r = YearResolver::new(YearBase::FirstYear(2026), Zone::Local);
            let _ = r.resolve(e.stamp);
        }

        #[test]
        fn resolver_never_panics(
            month in 0u8..=20, day in 0u8..=40, secs in 0u32..100_000, nanos in 0u32..2_100_000_000,
            year in -300_000i32..300_000
        ) {
            let mut r = YearResolver::new(YearBase::FirstYear(year), Zone::Local);
            let _ = r.resolve(Stamp::NoYear { month, day, secs, nanos });
            let mut r = YearResolver::new(
                YearBase::Mtime(NaiveDate::MAX),
                Zone::Fixed(FixedOffset::east_opt(-86_399).expect("offset")),
            );
            let _ = r.resolve(Stamp::NoYear { month, day, secs, nanos });
        }
    }
}
