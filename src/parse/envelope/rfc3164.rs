//! RFC 3164: the `Mon dd HH:MM:SS` stamp and what follows a stamp (`host prog[pid]: `).

use super::Envelope;
use super::bytes::{at_boundary, clock, num, pid_number, skip_spaces, token_end};
use super::months::month_number;
use crate::model::Stamp;

/// `Mon dd HH:MM:SS[.f]` → (stamp, index after it). The month is a run of letters with an
/// optional trailing dot (`févr.`); the day is space- or zero-padded. The cheap shape
/// checks come before the month lookup, so ordinary words cost almost nothing.
pub(super) fn stamp_3164(s: &str) -> Option<(Stamp, usize)> {
    let b = s.as_bytes();
    // The usual month, three ASCII letters before an ASCII non-letter, ends where the
    // loop below would end it, without decoding characters.
    if let Some(&[m0, m1, m2, after]) = b.get(..4)
        && m0.is_ascii_alphabetic()
        && m1.is_ascii_alphabetic()
        && m2.is_ascii_alphabetic()
        && after.is_ascii()
        && !after.is_ascii_alphabetic()
    {
        let (day, secs, nanos, end) = after_month(b, 3)?;
        let month = month_number(s.get(..3)?)?;
        return Some((
            Stamp::NoYear {
                month,
                day: u8::try_from(day).ok()?,
                secs,
                nanos,
            },
            end,
        ));
    }
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
    let (day, secs, nanos, end) = after_month(b, mend)?;
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

/// The rest of a stamp after its month name ending at `mend`: `[.] dd HH:MM:SS[.f]` (the
/// day space- or zero-padded) → (day, seconds of the day, nanoseconds, index after it).
/// The one reading behind [`stamp_3164`] and [`stamp_3164_ascii`].
fn after_month(b: &[u8], mend: usize) -> Option<(u32, u32, u32, usize)> {
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
    // Two digits, else one (the second is read only when the first is a digit).
    let (day, p) = match num(b, p, 1) {
        Some(d) => match num(b, p + 1, 1) {
            Some(e) => (d * 10 + e, p + 2),
            None => (d, p + 1),
        },
        None => return None,
    };
    if !(1..=31).contains(&day) || b.get(p) != Some(&b' ') {
        return None;
    }
    let (secs, nanos, end) = clock(b, p + 1)?;
    at_boundary(b, end).then_some((day, secs, nanos, end))
}

pub(super) fn host_name(h: &str) -> Option<&str> {
    (h != "(none)" && !h.is_empty()).then_some(h)
}

/// Bytes that end a program name: `[`, `:`, space, `]` and control characters (one match
/// per byte, which compiles to a table test; the tag is read on every line).
const fn tag_stop(c: u8) -> bool {
    matches!(c, 0..=0x1f | 0x7f | b'[' | b':' | b' ' | b']')
}

/// [`tag_stop`] of every byte, built when compiling: one load per byte of a program name
/// instead of a chain of compares.
// Evaluated at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
static TAG_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = tag_stop(c as u8);
        c += 1;
    }
    t
};

/// Where the program name at the start of `b` ends (the first [`tag_stop`] byte).
#[inline]
fn program_end(b: &[u8]) -> usize {
    b.iter()
        .position(|&c| TAG_STOP.get(usize::from(c)).copied().unwrap_or(true))
        .unwrap_or(b.len())
}

/// A syslog tag at the start of `s`: `prog[pid]:` or, unless `strict`, `prog:`, followed
/// by a space or the end. Returns (program, pid, index where the message starts).
///
/// Strict mode (no stamp in front) also requires a numeric pid and a program made of
/// name characters, so `QID: to=…`, `STARTTLS=client, …` and Sendmail's split-line
/// pieces `[1]: …` stay message text.
fn tag(s: &str, strict: bool) -> Option<(&str, Option<u32>, usize)> {
    let b = s.as_bytes();
    let pend = program_end(b);
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
        let after = b.get(p + 1..).unwrap_or_default();
        // A pid is a few bytes: a loop, not a `memchr` call.
        let close = after
            .get(..16)
            .unwrap_or(after)
            .iter()
            .position(|&c| c == b']')?;
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

/// [`tag`] (not strict) on bytes: the program's end, the `[…]` after it (the bytes
/// between the brackets, for the pid) and the index of the byte after the tag's `:` (a
/// space, or the end). Same rules, so the same answer on ASCII bytes.
fn tag_bytes(b: &[u8]) -> Option<(usize, Option<Span>, usize)> {
    let pend = program_end(b);
    if pend == 0 {
        return None;
    }
    let mut p = pend;
    let mut pid = None;
    if b.get(p) == Some(&b'[') {
        let after = b.get(p + 1..).unwrap_or_default();
        // As in [`tag`]: a loop over the few bytes of a pid, not a `memchr` call.
        let close = after
            .get(..16)
            .unwrap_or(after)
            .iter()
            .position(|&c| c == b']')?;
        pid = Some((p + 1, p + 1 + close));
        p += close + 2;
    }
    if b.get(p) != Some(&b':') || !at_boundary(b, p + 1) {
        return None;
    }
    Some((pend, pid, p + 1))
}

/// [`after_month`] of the usual layout, `Mmm dd HH:MM:SS` (the day zero- or space-padded)
/// followed by a space or the end, read at fixed places: what `after_month(b, 3)` gives
/// for such a stamp, `None` for any other (a fraction, a leap second, a one-digit day
/// without padding: the caller reads those with `after_month`; a test).
#[inline]
fn usual_after_month(b: &[u8]) -> Option<(u32, u32, u32, usize)> {
    let s: &[u8; 15] = b.get(..15)?.try_into().ok()?;
    let d = |c: u8| c.is_ascii_digit().then(|| u32::from(c - b'0'));
    let [
        _,
        _,
        _,
        b' ',
        d0,
        d1,
        b' ',
        h0,
        h1,
        b':',
        m0,
        m1,
        b':',
        s0,
        s1,
    ] = *s
    else {
        return None;
    };
    if !matches!(b.get(15), None | Some(&b' ')) {
        return None;
    }
    let day = match d0 {
        b' ' => d(d1)?,
        _ => d(d0)? * 10 + d(d1)?,
    };
    let (h, m, sec) = (
        d(h0)? * 10 + d(h1)?,
        d(m0)? * 10 + d(m1)?,
        d(s0)? * 10 + d(s1)?,
    );
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some((day, h * 3600 + m * 60 + sec, 0, 15))
}

/// `(start, end)` of a part of a line.
type Span = (usize, usize);

/// Where [`after_stamp`] finds the parts of a tag, read from bytes (indices into the line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TagAt {
    /// The host token before the tag, if there is one (`(none)` included: the caller
    /// drops it as [`host_name`] does).
    pub(super) host: Option<Span>,
    pub(super) program: Span,
    /// The bytes between the tag's brackets.
    pub(super) pid: Option<Span>,
    /// The index just after the tag's `:`.
    pub(super) after: usize,
}

/// [`after_stamp`]'s tag, on bytes: where its host, program and pid are and the index
/// just after it, when it has one. `end` is the index just after the stamp.
#[inline]
pub(super) fn tag_after_stamp(b: &[u8], end: usize) -> Option<TagAt> {
    let mut p = skip_spaces(b, end);
    if b.get(p) == Some(&b'<') {
        let te = token_end(b, p);
        if te - p > 2 && b.get(te - 1) == Some(&b'>') {
            p = skip_spaces(b, te);
        }
    }
    let at = |start: usize, host, (pend, pid, after): (usize, Option<Span>, usize)| TagAt {
        host,
        program: (start, start + pend),
        pid: pid.map(|(s, e)| (start + s, start + e)),
        after: start + after,
    };
    // One scan of the first token: when it ends at a space it is the host (`tag_bytes`
    // of it fails there, and `token_end` would end it there), and the tag follows.
    let q = p + program_end(b.get(p..)?);
    if q > p && b.get(q) == Some(&b' ') {
        let p2 = skip_spaces(b, q);
        let t = tag_bytes(b.get(p2..)?)?;
        return Some(at(p2, Some((p, q)), t));
    }
    if let Some(t) = tag_bytes(b.get(p..)?) {
        return Some(at(p, None, t));
    }
    let he = token_end(b, p);
    let p2 = skip_spaces(b, he);
    let t = tag_bytes(b.get(p2..)?)?;
    Some(at(p2, Some((p, he)), t))
}

/// An RFC 3164 stamp whose month is three ASCII letters of an English month name (`Nov
/// 28 17:54:54`, `Nov  8 …`, `nov. 8 …`, with an optional fraction), read exactly as
/// [`stamp_3164`] reads it: (month, day, seconds of the day, nanoseconds, index after
/// it); `None` for any other shape, including the localized months (the caller falls back
/// to the full parse).
#[inline]
pub(super) fn stamp_3164_ascii(b: &[u8]) -> Option<(u8, u8, u32, u32, usize)> {
    let month = b.get(..3)?;
    if !month.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let (day, secs, nanos, end) = match usual_after_month(b) {
        Some(r) => r,
        None => after_month(b, 3)?,
    };
    // The English names only (what [`month_number`] tries first): three ASCII letters
    // that are another locale's month are left to the full parse.
    let &[a, b1, c] = month else {
        return None;
    };
    let m = super::months::english_month([a, b1, c])?;
    Some((m, u8::try_from(day).ok()?, secs, nanos, end))
}

/// Drops a Solaris `[ID 702911 mail.notice] ` tag from the front of a message.
pub(super) fn strip_solaris(msg: &str) -> &str {
    let Some(rest) = msg.strip_prefix("[ID ") else {
        return msg;
    };
    let b = rest.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || b.get(digits) != Some(&b' ') {
        return msg;
    }
    let fac = b.get(digits + 1..).unwrap_or_default();
    let Some(close) = fac.iter().take(40).position(|&c| c == b']') else {
        return msg;
    };
    if close == 0 || fac.iter().take(close).any(|&c| c == b' ') {
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
pub(super) fn after_stamp(line: &str, end: usize, stamp: Stamp) -> Envelope<'_> {
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
pub(super) fn no_stamp(s: &str) -> Option<Envelope<'_>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// [`stamp_3164`] before its ASCII fast path (the month ended by decoding characters),
    /// kept as its specification.
    fn stamp_by_chars(s: &str) -> Option<(Stamp, usize)> {
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
        let (day, secs, nanos, end) = after_month(b, mend)?;
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

    proptest! {
        /// Stamps and near-stamps in English and other locales: the fast path and the
        /// character loop agree.
        #[test]
        fn ascii_month_fast_path_agrees(
            month in "Nov|nov|NOV|Dec|Mai|Mär|févr|Xyz|No|Nove|ноя|[A-Za-z]{3}|[A-Za-zé]{1,5}",
            sep in "\\.? ? ?|é",
            rest in "[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?( host)?|[0-9 :.a-z]{0,12}",
        ) {
            let s = format!("{month}{sep}{rest}");
            prop_assert_eq!(stamp_3164(&s), stamp_by_chars(&s), "{}", s);
        }
    }

    proptest! {
        /// The fixed-place reading of the usual stamp gives what `after_month` gives,
        /// whenever it reads one (and it reads the usual ones: the second test).
        #[test]
        fn usual_after_month_agrees(
            s in "[A-Z][a-z]{2} [0-3 ][0-9] [0-2][0-9]:[0-6][0-9]:[0-6][0-9]( host|\\.[0-9]{1,3}|x|)|[A-Za-z]{3}[ .][ 0-9]{1,3}[0-9: ]{6,10}",
        ) {
            let b = s.as_bytes();
            if let Some(fast) = usual_after_month(b) {
                prop_assert_eq!(Some(fast), after_month(b, 3), "{}", s);
            }
        }
    }

    #[test]
    fn usual_after_month_reads_the_usual_stamps() {
        for s in ["Nov 28 17:54:54 mx", "Dec  4 10:24:32", "Apr 09 00:00:00 h"] {
            let b = s.as_bytes();
            assert!(usual_after_month(b).is_some(), "{s}");
            assert_eq!(usual_after_month(b), after_month(b, 3), "{s}");
        }
        for s in [
            "Nov 28 17:54:60 mx",
            "Dec 4 10:24:32",
            "Apr 09 00:00:00.5 h",
        ] {
            assert_eq!(usual_after_month(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn usual_stamps_read_the_same() {
        for s in [
            "Nov 20 00:00:00 mx-sm sm-mta[1]: x",
            "Dec  4 10:24:32 host prog[pid]: x",
            "Apr 09 10:24:32.123456 h p[1]: x",
            "nov. 8 10:24:32 h",
            "Mär 28 17:30:07 h",
            "Nov 31 24:00:00 h",
            "Nov",
            "",
        ] {
            assert_eq!(stamp_3164(s), stamp_by_chars(s), "{s}");
        }
        assert!(stamp_3164("Nov 20 00:00:00 mx").is_some());
    }
}
