//! Stamp dates, read leniently.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

/// Reads a stamp date leniently: RFC 5322 (with obsolete zone names), trailing comments
/// such as `(CET)`, missing weekday, extra blanks, two-digit years, no seconds.
pub fn parse_date(raw: &str) -> Option<DateTime<FixedOffset>> {
    common(raw).or_else(|| lenient(raw))
}

/// The form nearly every stamp writes, `[Www,] D Mon YYYY HH:MM:SS ±hhmm [(comment)]`,
/// read by nom combinators without copying. `None` sends the text to [`lenient`], which
/// gives the same answer for every text this accepts (`fast_path_agrees` proves it):
/// anything unusual (a zone name, a two-digit year, no seconds, a weekday without its
/// comma, an out-of-range field, a nested comment) is left to it.
fn common(raw: &str) -> Option<DateTime<FixedOffset>> {
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
    // What may follow: nothing, or one comment without parentheses inside.
    let rest = i.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
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
    let offset = FixedOffset::east_opt(if sign == '-' { -secs } else { secs })?;
    time.and_local_timezone(offset).single()
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

        #[test]
        fn fast_path_agrees_on_any_text(raw in "[ -~\t]{0,60}") {
            if let Some(t) = common(&raw) {
                prop_assert_eq!(Some(t), lenient(&raw), "{}", raw);
            }
        }
    }
}
