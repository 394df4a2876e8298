//! Small byte helpers. Every index handed to `&str[..]` sits next to an ASCII byte, so
//! slicing never splits a UTF-8 sequence.

use chrono::{FixedOffset, NaiveDateTime};

use crate::model::Stamp;

#[inline]
pub(super) fn num(b: &[u8], i: usize, n: usize) -> Option<u32> {
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
// Inlined: returned through memory, its result was read back before the store landed
// (a stall on every stamp).
#[inline]
pub(super) fn clock(b: &[u8], i: usize) -> Option<(u32, u32, usize)> {
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
pub(super) fn pid_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    // What `s.parse::<u32>()` gives on ASCII digits (leading zeros, `None` past
    // `u32::MAX`), without its sign handling and checked steps: up to 19 digits fit a
    // `u64`; a longer run (zeros in front of a pid?) is left to `parse`.
    if s.len() > 19 {
        return if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        };
    }
    let mut v = 0u64;
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    u32::try_from(v).ok()
}

/// [`pid_number`] of bytes, inlined: what [`super::Head::envelope`] reads a pid with,
/// from the line's bytes (ASCII up to the tag's end, so no UTF-8 check and no char
/// boundaries to look for). A test holds it to `pid_number`.
#[inline]
pub(super) fn pid_digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 19 {
        return std::str::from_utf8(b).ok().and_then(pid_number);
    }
    let mut v = 0u64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    u32::try_from(v).ok()
}

pub(super) fn at_boundary(b: &[u8], i: usize) -> bool {
    matches!(b.get(i), None | Some(b' '))
}

pub(super) fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// End of the space-delimited token starting at `i`.
pub(super) fn token_end(b: &[u8], i: usize) -> usize {
    memchr::memchr(b' ', b.get(i..).unwrap_or_default()).map_or(b.len(), |n| i + n)
}

pub(super) fn full(naive: NaiveDateTime, off: FixedOffset) -> Stamp {
    naive
        .and_local_timezone(off)
        .single()
        .map_or(Stamp::None, Stamp::Full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The digit fold reads a pid as `str::parse` did behind the digits-only check.
        #[test]
        fn pid_number_is_parse_of_digits(s in "[0-9+ a-]{0,12}|[0-9]{8,12}|0{10,20}[0-9]{1,10}|[0-9]{18,22}") {
            let want = if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse::<u32>().ok()
            } else {
                None
            };
            prop_assert_eq!(pid_number(&s), want);
        }
    }

    proptest! {
        /// The byte reading of a pid is [`pid_number`].
        #[test]
        fn pid_digits_is_pid_number(s in "[0-9+ a-]{0,12}|[0-9]{8,12}|0{10,20}[0-9]{1,10}|[0-9]{18,22}|.{0,4}") {
            prop_assert_eq!(pid_digits(s.as_bytes()), pid_number(&s));
        }
    }

    #[test]
    fn pid_number_edges() {
        assert_eq!(pid_number("4294967295"), Some(u32::MAX));
        assert_eq!(pid_number("4294967296"), None);
        assert_eq!(pid_number("000123"), Some(123));
        assert_eq!(pid_number("0000000000000000000001"), Some(1));
        assert_eq!(pid_number("9999999999999999999"), None);
        assert_eq!(pid_number("+1"), None);
        assert_eq!(pid_number(""), None);
    }
}
