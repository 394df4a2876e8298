//! Times in JSON exactly as chrono's `Serialize` writes them (RFC 3339, seconds fraction
//! of 0, 3, 6 or 9 digits as needed, `Z` for UTC), without `core::fmt`.
//!
//! A snapshot holds a first and last time per peer direction and per error kind, and
//! `scan` serialises the posture twice at its end (the identity's hash, the output).
//! Through chrono's `Display` and serde_json's `collect_str` a time cost ~1,000
//! instructions: 12% of the correlating thread's instructions on a 20 MB log (issue 21).
//! Here it is ~100, the same bytes (`same_bytes_as_chrono`, a proptest).

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use serde::Serializer;

/// A fixed buffer written from the front: every time fits in 40 bytes.
struct Out {
    buf: [u8; 40],
    n: usize,
}

impl Out {
    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.n) {
            *slot = b;
            self.n += 1;
        }
    }

    /// Two digits of `v` (< 100), as chrono's `write_hundreds`.
    fn two(&mut self, v: u32) {
        self.byte(b'0' + (v / 10 % 10) as u8);
        self.byte(b'0' + (v % 10) as u8);
    }
}

/// The text of `t`; `None` for a year outside 0..=9999 (chrono writes it with a sign:
/// left to chrono).
fn rfc3339(t: &DateTime<FixedOffset>) -> Option<Out> {
    let dt = t.naive_local();
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut o = Out { buf: [0; 40], n: 0 };
    o.two(year as u32 / 100);
    o.two(year as u32 % 100);
    o.byte(b'-');
    o.two(dt.month());
    o.byte(b'-');
    o.two(dt.day());
    o.byte(b'T');
    let mut sec = dt.second();
    let mut nano = dt.nanosecond();
    if nano >= 1_000_000_000 {
        // A leap second, as chrono writes it.
        sec += 1;
        nano -= 1_000_000_000;
    }
    o.two(dt.hour());
    o.byte(b':');
    o.two(dt.minute());
    o.byte(b':');
    o.two(sec);
    let (frac, len) = fraction(nano);
    for &b in frac.get(..len).unwrap_or_default() {
        o.byte(b);
    }
    let off = t.offset().local_minus_utc();
    if off == 0 {
        o.byte(b'Z');
        return Some(o);
    }
    o.byte(if off < 0 { b'-' } else { b'+' });
    // Rounded to the minute, as chrono's `OffsetPrecision::Minutes`.
    let minutes = (off.unsigned_abs() + 30) / 60;
    o.two(minutes / 60);
    o.byte(b':');
    o.two(minutes % 60);
    Some(o)
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
    let text = rfc3339(t);
    match text
        .as_ref()
        .and_then(|o| std::str::from_utf8(o.buf.get(..o.n)?).ok())
    {
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
