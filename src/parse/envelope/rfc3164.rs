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

/// What a byte is to [`name_end`]: part of a name, a [`tag_stop`] byte, or not ASCII.
const NAME: u8 = 0;
const STOP: u8 = 1;
const HIGH: u8 = 2;

/// The class of every byte (see [`NAME`]), built when compiling.
// Evaluated at compile time: an index out of range would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
static TAG_CLASS: [u8; 256] = {
    let mut t = [NAME; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = if c >= 0x80 {
            HIGH
        } else if tag_stop(c as u8) {
            STOP
        } else {
            NAME
        };
        c += 1;
    }
    t
};

/// `b` in every byte of a word.
const fn splat(b: u8) -> u64 {
    u64::from_le_bytes([b; 8])
}
const LOW7: u64 = splat(0x7f);
const HIGH_BITS: u64 = splat(0x80);

/// The high bit of each byte of `y` (bytes below 0x80) that equals `k`: `(y ^ k) + 0x7f`
/// stays in its byte and has its high bit clear only for a zero byte.
#[inline]
const fn equal_bytes(y: u64, k: u8) -> u64 {
    !((y ^ splat(k)).wrapping_add(LOW7)) & HIGH_BITS
}

/// The high bit of each byte of `x` that ends a name: a [`tag_stop`] byte or one that is
/// not ASCII. Exact in every byte (no carry crosses a byte: the sums are made on the low
/// seven bits), so the lowest bit set is the first such byte.
#[inline]
const fn name_stops(x: u64) -> u64 {
    let y = x & LOW7;
    // High bit clear after `+ 0x5f`: 0x00..=0x20 (the controls and the space); set after
    // `+ 1`: 0x7f.
    let low = !(y.wrapping_add(splat(0x5f)));
    let del = y.wrapping_add(splat(0x01));
    (low | del | x) & HIGH_BITS | equal_bytes(y, b'[') | equal_bytes(y, b':') | equal_bytes(y, b']')
}

/// [`program_end`] of `b[i..]` as an index into `b`, or `None` when a byte that is not
/// ASCII comes before the stop: the ASCII check of a head's bytes made while they are
/// scanned, instead of a second walk over them. Eight bytes at a time ([`name_stops`]),
/// the last few one by one ([`TAG_CLASS`]).
#[inline]
fn name_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while let Some(w) = b.get(j..).and_then(|r| r.first_chunk::<8>()) {
        let m = name_stops(u64::from_le_bytes(*w));
        if m != 0 {
            let k = j + (m.trailing_zeros() / 8) as usize;
            return b.get(k).is_some_and(u8::is_ascii).then_some(k);
        }
        j += 8;
    }
    let rest = b.get(j..)?;
    let class = |c: u8| TAG_CLASS.get(usize::from(c)).copied().unwrap_or(HIGH);
    match rest.iter().position(|&c| class(c) != NAME) {
        None => Some(b.len()),
        Some(n) => rest
            .get(n)
            .is_some_and(|&c| class(c) == STOP)
            .then_some(j + n),
    }
}

/// The `]` of a pid in the eight bytes `x` after a tag's `[`: `Some(Ok(k))`, `k` the
/// `]`'s place; `None` when there is no `]` among them (the caller looks further).
/// `Err(())` when a byte before the `]` is not ASCII. The digits are not looked at: the
/// pid's value is read only for a line that is parsed ([`super::Head::envelope`]).
// Always inlined: called, its two-part answer went back through memory.
#[allow(clippy::inline_always)]
#[inline(always)]
fn pid_close(x: u64) -> Option<Result<usize, ()>> {
    let y = x & LOW7;
    let close = equal_bytes(y, b']') & !x;
    if close == 0 {
        return None;
    }
    let bit = close & close.wrapping_neg();
    let before = bit.wrapping_sub(1) & HIGH_BITS;
    if x & before != 0 {
        return Some(Err(()));
    }
    Some(Ok((close.trailing_zeros() / 8) as usize))
}

/// What [`usual_tag`] made of the bytes after a stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UsualTag {
    /// The tag (its pid's value is read from its bytes when the line is parsed).
    Read(TagAt),
    /// No head: [`tag_after_stamp`] plus the ASCII check would say `None` too.
    No,
    /// Not the usual shape (no host, a `<fac.level>`, a host ended by another byte):
    /// the caller reads it with [`tag_after_stamp`].
    Other,
}

/// The usual `host prog[pid]: ` after a stamp ending at `end`, in one forward pass:
/// what [`tag_after_stamp`] finds, with the bytes up to the tag's end checked for ASCII
/// on the way (a test holds it to the two-pass reading). The pid's digits are not read
/// here: a line passed over for its program (a third of a mixed log) never needs them.
///
/// Every byte it rejects for not being ASCII lies before the end of the tag that
/// [`tag_after_stamp`] would find, whatever it finds: the host token, the program and the
/// bytes between the brackets all come before that tag's `:`.
#[inline]
pub(super) fn usual_tag(b: &[u8], end: usize) -> UsualTag {
    let p = skip_spaces(b, end);
    if b.get(p) == Some(&b'<') {
        return UsualTag::Other;
    }
    let Some(q) = name_end(b, p) else {
        return UsualTag::No;
    };
    if q == p || b.get(q) != Some(&b' ') {
        return UsualTag::Other;
    }
    // The first token ends at a space: it is the host and the tag must follow (as in
    // [`tag_after_stamp`], which gives up when it does not).
    let p2 = skip_spaces(b, q);
    let Some(pe) = name_end(b, p2) else {
        return UsualTag::No;
    };
    if pe == p2 {
        return UsualTag::No;
    }
    let mut i = pe;
    let mut pid_at = None;
    if b.get(i) == Some(&b'[') {
        let start = i + 1;
        let after = b.get(start..).unwrap_or_default();
        let fast = after
            .first_chunk::<8>()
            .and_then(|w| pid_close(u64::from_le_bytes(*w)));
        let close = match fast {
            Some(Ok(c)) => c,
            Some(Err(())) => return UsualTag::No,
            None => {
                // The `]` within 16 bytes, as [`tag_bytes`] looks for it.
                let mut close = None;
                for (k, &c) in after.iter().take(16).enumerate() {
                    if c == b']' {
                        close = Some(k);
                        break;
                    }
                    if !c.is_ascii() {
                        return UsualTag::No;
                    }
                }
                let Some(close) = close else {
                    return UsualTag::No;
                };
                close
            }
        };
        pid_at = Some((start, start + close));
        i = start + close + 1;
    }
    if b.get(i) != Some(&b':') || !at_boundary(b, i + 1) {
        return UsualTag::No;
    }
    UsualTag::Read(TagAt {
        host: Some((p, q)),
        program: (p2, pe),
        pid: pid_at,
        after: i + 1,
    })
}

/// A word with `byte` at each of the places `at` that fall in `half` (0: bytes 0..8 of
/// the stamp, 1: bytes 8..16; little-endian, the lowest byte first), zero elsewhere.
// Only used for constants, evaluated when compiling: an index out of range would fail
// the build, not a run.
#[allow(clippy::indexing_slicing)]
const fn bytes_at(at: &[usize], byte: u8, half: usize) -> u64 {
    let mut v = 0u64;
    let mut k = 0;
    while k < at.len() {
        let place = at[k];
        if place / 8 == half {
            v |= (byte as u64) << (8 * (place % 8));
        }
        k += 1;
    }
    v
}

/// The places of the fixed separators of `Mmm dd HH:MM:SS ` and their bytes.
const SEP_AT: &[usize] = &[3, 6, 9, 12, 15];
const SEP_MASK: [u64; 2] = [bytes_at(SEP_AT, 0xff, 0), bytes_at(SEP_AT, 0xff, 1)];
const SEPS: [u64; 2] = [
    bytes_at(&[3, 6, 15], b' ', 0) | bytes_at(&[9, 12], b':', 0),
    bytes_at(&[3, 6, 15], b' ', 1) | bytes_at(&[9, 12], b':', 1),
];
/// The places that must hold a digit (the day's first may be a space instead).
const DIGITS: &[usize] = &[5, 7, 8, 10, 11, 13, 14];
const DIGIT_HIGH: [u64; 2] = [bytes_at(DIGITS, 0xf0, 0), bytes_at(DIGITS, 0xf0, 1)];
const DIGIT_30: [u64; 2] = [bytes_at(DIGITS, 0x30, 0), bytes_at(DIGITS, 0x30, 1)];
const DIGIT_6: [u64; 2] = [bytes_at(DIGITS, 0x06, 0), bytes_at(DIGITS, 0x06, 1)];
/// Added to the tens of the minutes and of the seconds (digits by then, both in the
/// second half): bit 7 is set exactly when the digit is above 5.
const TENS_59: u64 = bytes_at(&[10, 13], 0x80 - 0x36, 1);
const TENS_HIGH: u64 = bytes_at(&[10, 13], 0x80, 1);

/// The usual RFC 3164 stamp `Mmm dd HH:MM:SS` with an English month (the day zero- or
/// space-padded) followed by a space or the end: its month, checked with a few word
/// operations over its 16 bytes; the day and the clock are read from the same bytes by
/// [`usual_values`] only for a line that is parsed. `None` for any other shape (the
/// caller reads those with [`stamp_3164_ascii`]): exactly when [`usual_after_month`]
/// plus the English month say `None` (a test).
#[inline]
pub(super) fn usual_stamp(b: &[u8]) -> Option<u8> {
    match b.first_chunk::<16>() {
        Some(w) => usual_stamp_of(w),
        None => {
            let mut w = [b' '; 16];
            w.get_mut(..15)?
                .copy_from_slice(b.get(..15).filter(|_| b.len() == 15)?);
            usual_stamp_of(&w)
        }
    }
}

/// [`usual_stamp`] of the first 16 bytes of a line (a space after a stamp that ends the
/// line). Checked as two words: a dozen word operations instead of a compare per byte.
// Always inlined: called, it cost a call and the reloading of its bytes on every line.
#[allow(clippy::inline_always)]
#[inline(always)]
fn usual_stamp_of(w: &[u8; 16]) -> Option<u8> {
    let (lo, hi) = w.split_at(8);
    let word = |h: &[u8]| h.first_chunk::<8>().map_or(0, |c| u64::from_le_bytes(*c));
    let (lo, hi) = (word(lo), word(hi));
    // A digit is 0x30..=0x39: its high half is 3, and still is after adding 6 (a byte
    // that is no digit fails one of the two at its own place; a carry out of it only
    // comes from a byte that already failed).
    let bad = ((lo & SEP_MASK[0]) ^ SEPS[0])
        | ((hi & SEP_MASK[1]) ^ SEPS[1])
        | ((lo & DIGIT_HIGH[0]) ^ DIGIT_30[0])
        | ((hi & DIGIT_HIGH[1]) ^ DIGIT_30[1])
        | ((lo.wrapping_add(DIGIT_6[0]) & DIGIT_HIGH[0]) ^ DIGIT_30[0])
        | ((hi.wrapping_add(DIGIT_6[1]) & DIGIT_HIGH[1]) ^ DIGIT_30[1]);
    // The tens of the minutes and seconds are read only once they are known digits.
    if bad != 0 || hi.wrapping_add(TENS_59) & TENS_HIGH != 0 {
        return None;
    }
    let &[m0, m1, m2, _, d0, d1, _, h0, h1, ..] = w;
    let day = match d0 {
        b' ' => d1.wrapping_sub(b'0'),
        b'0'..=b'3' => (d0 - b'0') * 10 + d1.wrapping_sub(b'0'),
        _ => return None,
    };
    let hour = (h0.wrapping_sub(b'0')) * 10 + h1.wrapping_sub(b'0');
    if !(1..=31).contains(&day) || hour > 23 {
        return None;
    }
    super::months::english_month([m0, m1, m2])
}

/// The day and the seconds of the day of a stamp [`usual_stamp`] read.
#[inline]
pub(super) fn usual_values(b: &[u8]) -> Option<(u8, u32)> {
    let &[_, _, _, _, d0, d1, _, h0, h1, _, m0, m1, _, s0, s1] = b.get(..15)? else {
        return None;
    };
    let d = |c: u8| u32::from(c.wrapping_sub(b'0'));
    let day = if d0 == b' ' {
        d(d1)
    } else {
        d(d0) * 10 + d(d1)
    };
    let secs = (d(h0) * 10 + d(h1)) * 3600 + (d(m0) * 10 + d(m1)) * 60 + d(s0) * 10 + d(s1);
    Some((u8::try_from(day).ok()?, secs))
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
