//! ISO 8601 / RFC 3339 and Exim.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};

use super::Envelope;
use super::bytes::{at_boundary, clock, full, num, pid_number};
use super::rfc3164::no_stamp;
use crate::model::Stamp;

pub(super) struct Iso {
    pub(super) naive: NaiveDateTime,
    /// `T`/`t` (RFC 3339) or `' '` (Exim).
    pub(super) sep: u8,
    pub(super) offset: Option<FixedOffset>,
    /// Index just after the stamp (for Exim: after the time and fraction only).
    pub(super) end: usize,
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
pub(super) fn iso_stamp(b: &[u8]) -> Option<Iso> {
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
pub(super) fn exim_or_syslog(line: &str, iso: Iso) -> Envelope<'_> {
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
