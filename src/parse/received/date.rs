//! Stamp dates, read leniently.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

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
