//! Times in JSON exactly as chrono's `Serialize` writes them (RFC 3339, seconds fraction
//! of 0, 3, 6 or 9 digits as needed, `Z` for UTC), without `core::fmt`.
//!
//! A snapshot holds a first and last time per peer direction and per error kind, and
//! `scan` serialises the posture twice at its end (the identity's hash, the output).
//! Through chrono's `Display` and serde_json's `collect_str` a time cost ~1,000
//! instructions: 12% of the correlating thread's instructions on a 20 MB log (issue 21).
//! Here it is ~100, the same bytes (`same_bytes_as_chrono`, a proptest).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Timelike};
use serde::Serializer;

/// Two digits of `v` (< 100), as chrono's `write_hundreds`.
fn two(v: u32) -> [u8; 2] {
    [b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]
}

/// `2026-11-20T23:45:59`: the date and clock of `dt` as chrono writes them (seconds as
/// stored: a leap second's `60` is the caller's); `None` for a year outside 0..=9999,
/// which chrono writes with a sign. Shared with the NDJSON writer of `events`.
pub fn date_clock(dt: &NaiveDateTime) -> Option<[u8; 19]> {
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        return None;
    }
    let [y0, y1] = two(year as u32 / 100);
    let [y2, y3] = two(year as u32 % 100);
    let [mo0, mo1] = two(dt.month());
    let [d0, d1] = two(dt.day());
    let [h0, h1] = two(dt.hour());
    let [mi0, mi1] = two(dt.minute());
    let [s0, s1] = two(dt.second());
    Some([
        y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0, s1,
    ])
}

/// The offset as chrono writes it: `Z` for UTC when `zulu` (its `Serialize`), else
/// `±hh:mm`, rounded to the minute (`OffsetPrecision::Minutes`). The bytes and their length.
pub fn offset(local_minus_utc: i32, zulu: bool) -> ([u8; 6], usize) {
    if zulu && local_minus_utc == 0 {
        return ([b'Z', 0, 0, 0, 0, 0], 1);
    }
    let sign = if local_minus_utc < 0 { b'-' } else { b'+' };
    let minutes = (local_minus_utc.unsigned_abs() + 30) / 60;
    let [h0, h1] = two(minutes / 60);
    let [m0, m1] = two(minutes % 60);
    ([sign, h0, h1, b':', m0, m1], 6)
}

/// The text of `t` into `buf` (its length), as chrono's `Serialize` writes it; `None` for
/// a year outside 0..=9999 (left to chrono).
fn rfc3339(t: &DateTime<FixedOffset>, buf: &mut [u8; 40]) -> Option<usize> {
    let dt = t.naive_local();
    let mut head = date_clock(&dt)?;
    let mut nano = dt.nanosecond();
    if nano >= 1_000_000_000 {
        // A leap second, as chrono writes it: second 60.
        nano -= 1_000_000_000;
        let [s0, s1] = two(dt.second() + 1);
        head[17] = s0;
        head[18] = s1;
    }
    let (frac, flen) = fraction(nano);
    let (off, olen) = offset(t.offset().local_minus_utc(), true);
    let mut n = 0;
    for part in [&head[..], &frac[..flen], &off[..olen]] {
        buf.get_mut(n..n + part.len())?.copy_from_slice(part);
        n += part.len();
    }
    Some(n)
}

/// The fraction of a second as chrono's `SecondsFormat::AutoSi` writes it: nothing, or a
/// dot and 3, 6 or 9 digits, the fewest that hold `nano` (< 10^9). The bytes and their
/// length; shared with the NDJSON writer of `events` (`to_rfc3339`'s form).
pub fn fraction(nano: u32) -> ([u8; 10], usize) {
    let (digits, mut value) = if nano == 0 {
        (0, 0)
    } else if nano.is_multiple_of(1_000_000) {
        (3, nano / 1_000_000)
    } else if nano.is_multiple_of(1_000) {
        (6, nano / 1_000)
    } else {
        (9, nano)
    };
    let mut out = [b'.'; 10];
    if digits == 0 {
        return (out, 0);
    }
    for slot in out.iter_mut().skip(1).take(digits).rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    (out, digits + 1)
}

/// `#[serde(serialize_with = "…::time_json::serialize")]` for a time.
pub fn serialize<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 40];
    match rfc3339(t, &mut buf).and_then(|n| std::str::from_utf8(buf.get(..n)?).ok()) {
        Some(text) => s.serialize_str(text),
        None => serde::Serialize::serialize(t, s),
    }
}

/// [`serialize`] for an optional time (`None` is `null`, as serde writes it).
pub fn opt<S: Serializer>(t: &Option<DateTime<FixedOffset>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, FixedOffset, TimeZone};
    use proptest::prelude::*;

    fn ours(t: &DateTime<FixedOffset>) -> String {
        let mut v = Vec::new();
        super::serialize(t, &mut serde_json::Serializer::new(&mut v)).unwrap();
        String::from_utf8(v).unwrap()
    }

    proptest! {
        #[test]
        fn same_bytes_as_chrono(
            secs in -70_000_000_000i64..260_000_000_000,
            nano_kind in 0u8..4,
            nano in 0u32..1_000_000_000,
            off in -86_399i32..86_400,
            zero_off in any::<bool>(),
        ) {
            let nano = match nano_kind {
                0 => 0,
                1 => nano / 1_000_000 * 1_000_000,
                2 => nano / 1_000 * 1_000,
                _ => nano,
            };
            let off = FixedOffset::east_opt(if zero_off { 0 } else { off }).unwrap();
            if let Some(t) = off.timestamp_opt(secs, nano).single() {
                prop_assert_eq!(ours(&t), serde_json::to_string(&t).unwrap());
                // The pieces the `events` writer puts together: `to_rfc3339`'s form.
                if let Some(head) = super::date_clock(&t.naive_local()) {
                    let (frac, flen) = super::fraction(nano);
                    let (o, olen) = super::offset(off.local_minus_utc(), false);
                    let mut text = head.to_vec();
                    text.extend_from_slice(&frac[..flen]);
                    text.extend_from_slice(&o[..olen]);
                    prop_assert_eq!(String::from_utf8(text).unwrap(), t.to_rfc3339());
                }
            }
        }
    }

    #[test]
    fn the_common_forms_and_a_leap_second() {
        let utc = FixedOffset::east_opt(0).unwrap();
        let cet = FixedOffset::east_opt(3600).unwrap();
        for t in [
            utc.with_ymd_and_hms(2026, 12, 6, 13, 6, 39).unwrap(),
            cet.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            utc.timestamp_opt(1_765_026_399, 599_544_000).unwrap(),
            utc.timestamp_opt(1_765_026_399, 600_000_000).unwrap(),
            utc.timestamp_opt(1_765_026_399, 1).unwrap(),
            // 23:59:60.5 (chrono's leap second: nanoseconds ≥ 10^9)
            utc.timestamp_opt(1_483_228_799, 1_500_000_000).unwrap(),
        ] {
            assert_eq!(ours(&t), serde_json::to_string(&t).unwrap());
        }
    }
}
