//! Stamp dates, read leniently.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

/// Reads a stamp date leniently: RFC 5322 (with obsolete zone names), trailing comments
/// such as `(CET)`, missing weekday, extra blanks, two-digit years, no seconds.
pub fn parse_date(raw: &str) -> Option<DateTime<FixedOffset>> {
    common(raw).or_else(|| lenient(raw))
}

/// The form nearly every stamp writes, `[Www,] D Mon YYYY HH:MM:SS ±hhmm [(comment)]`,
/// read byte by byte without copying. `None` sends the text to [`lenient`], which gives
/// the same answer for every text this accepts (`fast_path_agrees` proves it): anything
/// unusual (a zone name, a two-digit year, no seconds, a weekday without its comma, an
/// out-of-range field, a nested comment) is left to it.
///
/// Why a byte walk: the nom combinators it replaces decoded every character and were ~6%
/// of a mailbox scan's instructions (issue 21); they stay as the oracle of a proptest
/// (`byte_walk_is_the_nom_reader`). Every byte it takes is ASCII, so the rest starts on a
/// character boundary.
fn common(raw: &str) -> Option<DateTime<FixedOffset>> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let mut w = Walk {
        b: raw.as_bytes(),
        i: 0,
    };
    w.blanks();
    // An optional weekday: three letters and a comma.
    if w.b.get(w.i..w.i + 4).is_some_and(|d| {
        d.get(..3)
            .is_some_and(|l| l.iter().all(u8::is_ascii_alphabetic))
            && d.get(3) == Some(&b',')
    }) {
        w.i += 4;
    }
    w.blanks();
    let day = w.num(1, 2)?;
    w.gap()?;
    let mon = w.b.get(w.i..w.i + 3)?;
    let month = MONTHS.iter().position(|m| m.as_slice() == mon)? as u32 + 1;
    w.i += 3;
    w.gap()?;
    let year = w.num(4, 4)?;
    w.gap()?;
    let h = w.num(2, 2)?;
    w.byte(b':')?;
    let m = w.num(2, 2)?;
    w.byte(b':')?;
    let sec = w.num(2, 2)?;
    w.gap()?;
    let negative = match w.b.get(w.i) {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return None,
    };
    w.i += 1;
    let zh = w.num(2, 2)?;
    let zm = w.num(2, 2)?;
    assemble(
        raw.get(w.i..)?,
        [year, month, day, h, m, sec],
        negative,
        [zh, zm],
    )
}

/// The date of a stamp's fields once read (`ymdhms`, the zone's sign and `[hours,
/// minutes]`), and what followed them (`rest`): nothing, or one comment without
/// parentheses inside. `None` for a field out of range or other trailing text.
fn assemble(
    rest: &str,
    [year, month, day, h, m, sec]: [u32; 6],
    negative: bool,
    [zh, zm]: [u32; 2],
) -> Option<DateTime<FixedOffset>> {
    let rest = rest.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    if !rest.is_empty() {
        let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
        if inner.contains(['(', ')']) {
            return None;
        }
    }
    if year < 1000 || h > 23 || m > 59 || sec > 59 || zh > 23 || zm > 59 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let time = date.and_hms_opt(h, m, sec)?;
    let secs = (zh * 3600 + zm * 60) as i32;
    let offset = FixedOffset::east_opt(if negative { -secs } else { secs })?;
    time.and_local_timezone(offset).single()
}

/// A position in the bytes of a date, for [`common`].
struct Walk<'a> {
    b: &'a [u8],
    i: usize,
}

impl Walk<'_> {
    fn is_blank(c: u8) -> bool {
        matches!(c, b' ' | b'\t' | b'\r' | b'\n')
    }

    /// Skips blanks (none is fine).
    fn blanks(&mut self) {
        while self.b.get(self.i).is_some_and(|&c| Self::is_blank(c)) {
            self.i += 1;
        }
    }

    /// Skips at least one blank.
    fn gap(&mut self) -> Option<()> {
        let at = self.i;
        self.blanks();
        (self.i > at).then_some(())
    }

    /// One byte `c`.
    fn byte(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// `min` to `max` digits (at most `max` taken, as nom's `take_while_m_n`).
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let mut n = 0u32;
        let mut k = 0;
        while k < max
            && let Some(&c) = self.b.get(self.i + k)
            && c.is_ascii_digit()
        {
            n = n * 10 + u32::from(c - b'0');
            k += 1;
        }
        self.i += k;
        (k >= min).then_some(n)
    }
}

/// Every other form, through chrono's RFC 2822 reader and a list of formats.
fn lenient(raw: &str) -> Option<DateTime<FixedOffset>> {
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// [`common`] as nom combinators read it before the byte walk: the oracle of its test.
    /// The form nearly every stamp writes, `[Www,] D Mon YYYY HH:MM:SS ±hhmm [(comment)]`,
    /// read by nom combinators without copying. `None` sends the text to [`lenient`], which
    /// gives the same answer for every text this accepts (`fast_path_agrees` proves it):
    /// anything unusual (a zone name, a two-digit year, no seconds, a weekday without its
    /// comma, an out-of-range field, a nested comment) is left to it.
    fn common_nom(raw: &str) -> Option<DateTime<FixedOffset>> {
        use nom::bytes::complete::{take_while, take_while_m_n, take_while1};
        use nom::character::complete::{char, one_of};
        use nom::combinator::opt;
        use nom::{IResult, Parser};

        fn blanks(i: &str) -> IResult<&str, &str> {
            take_while(|c| matches!(c, ' ' | '\t' | '\r' | '\n')).parse(i)
        }
        /// At least one blank.
        fn gap(i: &str) -> IResult<&str, &str> {
            take_while1(|c| matches!(c, ' ' | '\t' | '\r' | '\n')).parse(i)
        }
        fn num(i: &str, min: usize, max: usize) -> IResult<&str, u32> {
            take_while_m_n(min, max, |c: char| c.is_ascii_digit())
                .map(|d: &str| d.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
                .parse(i)
        }
        fn two(i: &str) -> IResult<&str, u32> {
            num(i, 2, 2)
        }
        fn word3(i: &str) -> IResult<&str, &str> {
            take_while_m_n(3, 3, |c: char| c.is_ascii_alphabetic()).parse(i)
        }
        fn weekday(i: &str) -> IResult<&str, (&str, char)> {
            (word3, char(',')).parse(i)
        }
        fn clock(i: &str) -> IResult<&str, (u32, char, u32, char, u32)> {
            (two, char(':'), two, char(':'), two).parse(i)
        }
        fn zone(i: &str) -> IResult<&str, (char, u32, u32)> {
            (one_of("+-"), two, two).parse(i)
        }
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (i, _) = blanks(raw).ok()?;
        let (i, _) = opt(weekday).parse(i).ok()?;
        let (i, _) = blanks(i).ok()?;
        let (i, day) = num(i, 1, 2).ok()?;
        let (i, _) = gap(i).ok()?;
        let (i, mon) = word3(i).ok()?;
        let month = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
        let (i, _) = gap(i).ok()?;
        let (i, year) = num(i, 4, 4).ok()?;
        let (i, _) = gap(i).ok()?;
        let (i, (h, _, m, _, sec)) = clock(i).ok()?;
        let (i, _) = gap(i).ok()?;
        let (i, (sign, zh, zm)) = zone(i).ok()?;
        // The fields to a date as the byte walk does it: the oracle is of the reading.
        assemble(i, [year, month, day, h, m, sec], sign == '-', [zh, zm])
    }

    #[test]
    fn common_forms_take_the_fast_path() {
        for raw in [
            "Mon, 1 Jul 2024 10:15:02 +0200",
            "20 Nov 2026 00:00:26 +0000",
            "Tue,  2 Jul 2024 08:01:12 +0000 (UTC)",
            "Thu, 4 Jul 2024\t 08:12:33 -0700",
            "24 Sep 2008 10:20:32 -0000",
        ] {
            assert!(common(raw).is_some(), "{raw}");
            assert_eq!(common(raw), lenient(raw), "{raw}");
        }
        for raw in [
            "Mon, 1 Jul 2024 10:00:00 EDT",
            "Mon, 1 Jul 24 10:00:00 +0200",
            "Mon, 1 Jul 2024 10:00 +0200",
            "Mon 1 Jul 2024 10:00:00 +0200",
            "Mon, 1 jul 2024 10:00:00 +0200",
            "Mon, 1 Jul 2024 10:00:60 +0200",
            "Mon, 1 Jul 2024 10:00:00 +0200 (a (b))",
        ] {
            assert_eq!(common(raw), None, "{raw}");
        }
    }

    proptest! {
        /// Whatever the fast path accepts, the lenient reader reads the same way.
        #[test]
        fn fast_path_agrees(
            wd in prop_oneof![Just(""), Just("Mon, "), Just("Sun,"), Just("Xyz, "), Just("Mon ")],
            day in 0u32..33,
            mon in prop_oneof![Just("Jan"), Just("Feb"), Just("Jul"), Just("Dec"), Just("jul"), Just("Foo")],
            year in prop_oneof![Just(2024u32), Just(1999), Just(24), Just(999), Just(2100)],
            h in 0u32..26, m in 0u32..62, s in 0u32..62,
            zone in prop_oneof![Just("+0000"), Just("-0000"), Just("+0200"), Just("-0700"), Just("+2400"), Just("+0199"), Just("GMT"), Just("EDT"), Just("+05")],
            tail in prop_oneof![Just(""), Just(" (CEST)"), Just(" (a) (b)"), Just(" x"), Just("  "), Just(" (a (b))")],
            sep in prop_oneof![Just(" "), Just("  "), Just(" \t")],
        ) {
            let raw = format!("{wd}{day}{sep}{mon} {year} {h:02}:{m:02}:{s:02}{sep}{zone}{tail}");
            if let Some(t) = common(&raw) {
                prop_assert_eq!(Some(t), lenient(&raw), "{}", raw);
            }
        }

        /// The byte walk reads every date-like text as the nom reader it replaced did.
        #[test]
        fn byte_walk_is_the_nom_reader(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("Mon,"), Just("Sun"), Just(","), Just(" "), Just("\t"), Just("\r\n"),
                    Just("1"), Just("20"), Just("123"), Just("Jul"), Just("jul"), Just("July"),
                    Just("2024"), Just("20245"), Just("10:15:02"), Just(":"), Just("00"),
                    Just("+0200"), Just("-0700"), Just("+"), Just("(CEST)"), Just("("), Just(")"),
                    Just("é"), Just("x"),
                ],
                0..12,
            ),
        ) {
            let raw = parts.concat();
            prop_assert_eq!(common(&raw), common_nom(&raw), "{}", raw);
            let spaced = parts.join(" ");
            prop_assert_eq!(common(&spaced), common_nom(&spaced), "{}", spaced);
        }

        #[test]
        fn byte_walk_is_the_nom_reader_on_any_text(raw in "[ -~\t]{0,60}") {
            prop_assert_eq!(common(&raw), common_nom(&raw), "{}", raw);
        }

        #[test]
        fn fast_path_agrees_on_any_text(raw in "[ -~\t]{0,60}") {
            if let Some(t) = common(&raw) {
                prop_assert_eq!(Some(t), lenient(&raw), "{}", raw);
            }
        }
    }
}
