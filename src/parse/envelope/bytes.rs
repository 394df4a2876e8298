//! Small byte helpers. Every index handed to `&str[..]` sits next to an ASCII byte, so
//! slicing never splits a UTF-8 sequence.

use chrono::{FixedOffset, NaiveDateTime};

use crate::model::Stamp;

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
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
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
