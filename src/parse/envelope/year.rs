//! Year and zone resolution.

use chrono::{
    DateTime, Datelike, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone, Timelike,
};

use crate::model::Stamp;

/// Where the year of a file's first year-less stamp comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearBase {
    /// The file's modification date (in the zone the stamps are in). A log is written up to
    /// its mtime, so its first line is at most a year older: same year if its month is not
    /// after the mtime's month, the year before otherwise.
    Mtime(NaiveDate),
    /// `--year`: the user says which year the file's first entry is in.
    FirstYear(i32),
}

/// The zone in which stamps without an offset (RFC 3164, Exim without `log_timezone`) were
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// The machine's zone (`chrono::Local`, honours `TZ`), the usual case when reading the
    /// box's own logs.
    Local,
    /// A given offset (logs copied from a machine elsewhere).
    Fixed(FixedOffset),
}

/// What of a [`YearResolver`] carries from one line to the next: `None` before its first
/// year-less stamp, then the year of the current stretch and the highest month seen in it.
/// Kept apart so that a file can be resolved in blocks on several threads, each from a
/// guessed state, and checked and redone from the true one (`pipeline::years`): the rules
/// below live here only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct YearState(Option<(i32, u8)>);

impl YearState {
    /// Before any year-less stamp.
    pub const FRESH: YearState = YearState(None);

    /// The year of a year-less stamp of `month` (1–12), the state moved past it (see
    /// [`YearResolver`] for the rules).
    pub fn take(&mut self, month: u8, base: YearBase) -> i32 {
        match self.0 {
            None => {
                let y = match base {
                    YearBase::Mtime(d) if u32::from(month) <= d.month() => d.year(),
                    YearBase::Mtime(d) => d.year().saturating_sub(1),
                    YearBase::FirstYear(y) => y,
                };
                self.0 = Some((y, month));
                y
            }
            Some((year, high)) if high > month + 6 => {
                let next = year.saturating_add(1);
                self.0 = Some((next, month));
                next
            }
            // A late line of the year before: its own year, the state stays.
            Some((year, high)) if month > high + 6 => year.saturating_sub(1),
            Some((year, high)) => {
                self.0 = Some((year, high.max(month)));
                year
            }
        }
    }

    /// The year of the current stretch, once a year-less stamp was taken.
    pub fn year(self) -> Option<i32> {
        self.0.map(|(y, _)| y)
    }
}

/// A year-less stamp's minute: year, month, day and minute of the day.
type MinuteKey = (i32, u8, u8, u32);

/// Turns [`Stamp::NoYear`] and [`Stamp::Local`] into [`Stamp::Full`], one file at a time,
/// in log order.
///
/// Rules, and why:
///
/// * The first year-less stamp gets its year from the [`YearBase`].
/// * Syslog files are written in time order, so the month only goes backwards when the
///   year turns. A month more than 6 below the highest month seen so far (Dec → Jan)
///   starts the next year. Smaller backward steps (Nov lines after Dec ones) are
///   out-of-order writes, not a new year, and keep the year.
/// * A month more than 6 *above* the highest one seen (a `Dec 31 23:59:59` line arriving
///   among `Jan 1` lines) is a late write from the year before: it gets the previous year
///   and does not move the state, so the next `Jan` line is not taken for a rollover.
///   A genuine gap of more than half a year inside one file is implausible for mail
///   logs, which rotate far more often.
/// * [`Stamp::Full`] and [`Stamp::None`] pass through unchanged and do not move the
///   state.
/// * A stamp that names no real date (`Feb 30`, `Feb 29` in a common year, month 13)
///   becomes [`Stamp::None`]: the line is still read, it only has no time.
/// * Zone: in [`Zone::Local`], a time that occurs twice (DST ends) takes the earlier
///   instant; a time that does not exist (the skipped DST hour) is read one hour later,
///   which is the instant a clock that missed the change meant. Neither panics.
#[derive(Debug, Clone)]
pub struct YearResolver {
    base: YearBase,
    zone: Zone,
    /// The year of the current stretch and the highest month seen in it.
    state: YearState,
    /// The last local minute resolved in [`Zone::Local`] and the instant of its first
    /// second: lines come in time order, so most of them fall into the minute before, and
    /// the zone lookup (a clock read and a search of the zone's transitions) is done once
    /// per minute. Offsets change only at whole minutes, so within one minute the
    /// local → instant mapping is a plain shift.
    minute: Option<(NaiveDateTime, DateTime<FixedOffset>)>,
    /// The last year-less minute resolved, `(year, month, day, minute of the day)`, and
    /// the instant of its first second, in either zone: the next stamp of that minute
    /// (most of them) is that instant plus its seconds, with no date built and no zone
    /// read. This runs for every event (per block, on the parsing threads).
    stamp_minute: Option<(MinuteKey, DateTime<FixedOffset>)>,
    /// The last year-less stamp resolved, `(year, month, day, seconds, nanoseconds)`, and
    /// what it resolved to: a busy log writes a score of lines in the same second, and
    /// each of them after the first is this copy (no date arithmetic).
    last: Option<(SecondKey, Stamp)>,
}

/// A year-less stamp with the year it was given.
type SecondKey = (i32, u8, u8, u32, u32);

impl YearResolver {
    pub fn new(base: YearBase, zone: Zone) -> Self {
        YearResolver::with_state(base, zone, YearState::FRESH)
    }

    /// A resolver that goes on from `state` (the lines before were resolved elsewhere).
    pub fn with_state(base: YearBase, zone: Zone, state: YearState) -> Self {
        YearResolver {
            base,
            zone,
            state,
            minute: None,
            stamp_minute: None,
            last: None,
        }
    }

    /// Where the lines resolved so far left the year.
    pub fn state(&self) -> YearState {
        self.state
    }

    /// Completes one stamp; call it for every line of a file in order.
    pub fn resolve(&mut self, stamp: Stamp) -> Stamp {
        match stamp {
            Stamp::Full(_) | Stamp::None => stamp,
            Stamp::Local(naive) => self.in_zone(naive),
            Stamp::NoYear {
                month,
                day,
                secs,
                nanos,
            } => {
                if !(1..=12).contains(&month) {
                    return Stamp::None;
                }
                let year = self.year_for(month);
                let whole = (year, month, day, secs, nanos);
                if let Some((k, resolved)) = self.last
                    && k == whole
                {
                    return resolved;
                }
                let resolved = self.no_year(year, month, day, secs, nanos);
                self.last = Some((whole, resolved));
                resolved
            }
        }
    }

    /// A year-less stamp given its year (a month in range).
    fn no_year(&mut self, year: i32, month: u8, day: u8, secs: u32, nanos: u32) -> Stamp {
        let key = (year, month, day, secs / 60);
        let into = (nanos < 1_000_000_000)
            .then(|| TimeDelta::new(i64::from(secs % 60), nanos))
            .flatten();
        if let (Some((k, at)), Some(into)) = (self.stamp_minute, into)
            && k == key
        {
            return at.checked_add_signed(into).map_or(Stamp::None, Stamp::Full);
        }
        let date = NaiveDate::from_ymd_opt(year, u32::from(month), u32::from(day));
        let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos);
        let start = NaiveTime::from_num_seconds_from_midnight_opt(secs - secs % 60, 0);
        match (date, time, start, into) {
            (Some(d), Some(_), Some(start), Some(into)) => {
                let at = self.zone_at(NaiveDateTime::new(d, start));
                self.stamp_minute = at.map(|at| (key, at));
                at.and_then(|at| at.checked_add_signed(into))
                    .map_or(Stamp::None, Stamp::Full)
            }
            (Some(d), Some(t), _, _) => self.in_zone(NaiveDateTime::new(d, t)),
            _ => Stamp::None,
        }
    }

    fn year_for(&mut self, month: u8) -> i32 {
        self.state.take(month, self.base)
    }

    /// The instant of `naive`, a whole minute, in the resolver's zone.
    fn zone_at(&self, naive: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
        match self.zone {
            Zone::Fixed(off) => in_tz(&off, naive),
            Zone::Local => in_tz(&Local, naive),
        }
    }

    fn in_zone(&mut self, naive: NaiveDateTime) -> Stamp {
        let t = match self.zone {
            Zone::Fixed(off) => in_tz(&off, naive),
            Zone::Local => {
                let start = naive
                    .with_second(0)
                    .and_then(|t| t.with_nanosecond(0))
                    .unwrap_or(naive);
                match self.minute {
                    Some((m, at)) if m == start => at.checked_add_signed(naive - start),
                    _ => {
                        let at = in_tz(&Local, start);
                        self.minute = at.map(|at| (start, at));
                        at.and_then(|at| at.checked_add_signed(naive - start))
                    }
                }
            }
        };
        t.map_or(Stamp::None, Stamp::Full)
    }
}

/// `naive` read in `tz`: the earlier instant when ambiguous, one hour later when it falls
/// into a gap, `None` only when out of chrono's range.
pub(super) fn in_tz<Tz: TimeZone>(tz: &Tz, naive: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
    if let Some(t) = tz.from_local_datetime(&naive).earliest() {
        return Some(t.fixed_offset());
    }
    let later = naive.checked_add_signed(TimeDelta::hours(1))?;
    tz.from_local_datetime(&later)
        .earliest()
        .map(|t| t.fixed_offset())
}
