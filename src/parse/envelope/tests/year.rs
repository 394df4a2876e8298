use super::*;

use crate::parse::envelope::year::in_tz;
use chrono::TimeZone;

fn utc() -> Zone {
    Zone::Fixed(FixedOffset::east_opt(0).expect("zero offset"))
}

fn years(base: YearBase, zone: Zone, stamps: &[Stamp]) -> Vec<String> {
    let mut r = YearResolver::new(base, zone);
    stamps
        .iter()
        .map(|s| match r.resolve(*s) {
            Stamp::Full(t) => t.to_rfc3339(),
            other => format!("{other:?}"),
        })
        .collect()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date")
}

#[test]
fn mtime_in_january_with_december_lines() {
    let got = years(
        YearBase::Mtime(date(2027, 1, 2)),
        utc(),
        &[
            ny(12, 31, 23, 59, 0, 0),
            ny(1, 1, 0, 0, 1, 0),
            ny(1, 2, 3, 0, 0, 0),
        ],
    );
    assert_eq!(
        got,
        [
            "2026-12-31T23:59:00+00:00",
            "2027-01-01T00:00:01+00:00",
            "2027-01-02T03:00:00+00:00"
        ]
    );
}

#[test]
fn mtime_same_month_is_same_year() {
    let got = years(
        YearBase::Mtime(date(2026, 11, 28)),
        utc(),
        &[ny(11, 1, 0, 0, 0, 0), ny(11, 28, 1, 0, 0, 0)],
    );
    assert_eq!(
        got,
        ["2026-11-01T00:00:00+00:00", "2026-11-28T01:00:00+00:00"]
    );
}

#[test]
fn first_year_with_rollover_and_out_of_order() {
    let got = years(
        YearBase::FirstYear(2024),
        utc(),
        &[
            ny(11, 30, 12, 0, 0, 0),
            ny(12, 31, 23, 59, 58, 0),
            ny(11, 30, 12, 0, 1, 0), // late write: small step back, same year
            ny(1, 1, 0, 0, 0, 0),    // rollover
            ny(12, 31, 23, 59, 59, 0), // late write from the year before
            ny(1, 1, 0, 0, 2, 0),    // still the new year, no second rollover
            ny(2, 29, 10, 0, 0, 0),  // 2025 is not a leap year
            ny(3, 1, 0, 0, 0, 0),
        ],
    );
    assert_eq!(
        got,
        [
            "2024-11-30T12:00:00+00:00",
            "2024-12-31T23:59:58+00:00",
            "2024-11-30T12:00:01+00:00",
            "2025-01-01T00:00:00+00:00",
            "2024-12-31T23:59:59+00:00",
            "2025-01-01T00:00:02+00:00",
            "None",
            "2025-03-01T00:00:00+00:00",
        ]
    );
}

#[test]
fn fixed_zone_and_passthrough() {
    let plus3 = Zone::Fixed(FixedOffset::east_opt(3 * 3600).expect("offset"));
    let full = fixed("2026-11-28T17:30:07.5+01:00");
    let got = years(
        YearBase::FirstYear(2026),
        plus3,
        &[
            ny(8, 9, 4, 49, 15, 250_000_000),
            full,
            Stamp::None,
            local("2026-08-10 00:00:00"),
            ny(2, 30, 0, 0, 0, 0),
            ny(13, 1, 0, 0, 0, 0),
        ],
    );
    assert_eq!(
        got,
        [
            "2026-08-09T04:49:15.250+03:00",
            "2026-11-28T17:30:07.500+01:00",
            "None",
            "2026-08-10T00:00:00+03:00",
            "None",
            "None",
        ]
    );
}

#[test]
fn local_zone_resolves() {
    // Mid-January noon is outside any DST change, so the wall time is kept.
    let mut r = YearResolver::new(YearBase::FirstYear(2026), Zone::Local);
    let Stamp::Full(t) = r.resolve(ny(1, 15, 12, 0, 0, 0)) else {
        panic!("not resolved");
    };
    assert_eq!(
        t.naive_local(),
        date(2026, 1, 15).and_hms_opt(12, 0, 0).expect("time")
    );
}

/// A zone with a one-hour DST gap at 02:00 and a repeat at 03:00 on 2026-03-29, to
/// check the gap and ambiguity rules without touching the process's `TZ`.
#[derive(Clone, Copy, Debug)]
struct Dst;

impl TimeZone for Dst {
    type Offset = FixedOffset;
    fn from_offset(_: &FixedOffset) -> Self {
        Dst
    }
    fn offset_from_local_date(&self, _: &NaiveDate) -> chrono::LocalResult<FixedOffset> {
        chrono::LocalResult::None
    }
    fn offset_from_local_datetime(&self, l: &NaiveDateTime) -> chrono::LocalResult<FixedOffset> {
        let one = FixedOffset::east_opt(3600).expect("offset");
        let two = FixedOffset::east_opt(7200).expect("offset");
        let d = date(2026, 3, 29);
        let gap = (d.and_hms_opt(2, 0, 0), d.and_hms_opt(3, 0, 0));
        let fold = (d.and_hms_opt(3, 0, 0), d.and_hms_opt(4, 0, 0));
        let within = |(a, b): (Option<NaiveDateTime>, Option<NaiveDateTime>)| {
            a.is_some_and(|a| *l >= a) && b.is_some_and(|b| *l < b)
        };
        if within(gap) {
            chrono::LocalResult::None
        } else if within(fold) {
            chrono::LocalResult::Ambiguous(two, one)
        } else {
            chrono::LocalResult::Single(one)
        }
    }
    fn offset_from_utc_date(&self, _: &NaiveDate) -> FixedOffset {
        FixedOffset::east_opt(3600).expect("offset")
    }
    fn offset_from_utc_datetime(&self, _: &NaiveDateTime) -> FixedOffset {
        FixedOffset::east_opt(3600).expect("offset")
    }
}

#[test]
fn dst_gap_and_fold() {
    let at = |h, m| date(2026, 3, 29).and_hms_opt(h, m, 0).expect("time");
    let show = |n| in_tz(&Dst, n).map(|t| t.to_rfc3339());
    assert_eq!(
        show(at(1, 30)).as_deref(),
        Some("2026-03-29T01:30:00+01:00")
    );
    // In the gap: one hour later.
    assert_eq!(
        show(at(2, 30)).as_deref(),
        Some("2026-03-29T03:30:00+02:00")
    );
    // Ambiguous: the earlier instant.
    assert_eq!(
        show(at(3, 30)).as_deref(),
        Some("2026-03-29T03:30:00+02:00")
    );
}

/// The stamps of one minute after the first take a shortcut (the minute's instant plus
/// the seconds): each must come out as a fresh resolver, which takes the general path,
/// gives it, in a fixed zone, an offset one and the machine's, leap seconds, day and year
/// edges and invalid dates included.
#[test]
fn stamps_of_one_minute_resolve_as_alone() {
    let stamps = [
        ny(3, 1, 10, 0, 0, 0),
        ny(3, 1, 10, 0, 1, 5),
        ny(3, 1, 10, 0, 59, 999_999_999),
        ny(3, 1, 10, 0, 59, 1_500_000_000),
        ny(3, 1, 10, 0, 30, 0),
        ny(3, 1, 10, 1, 0, 0),
        ny(3, 2, 10, 1, 7, 0),
        ny(3, 1, 10, 1, 8, 0),
        ny(3, 1, 23, 59, 59, 0),
        ny(3, 2, 0, 0, 0, 0),
        ny(3, 31, 0, 0, 0, 0),
        ny(3, 31, 0, 0, 12, 0),
        ny(4, 31, 0, 0, 12, 0),
        ny(4, 31, 0, 0, 13, 0),
        ny(5, 1, 23, 59, 59, 2_000_000_000),
    ];
    for zone in [
        utc(),
        Zone::Fixed(FixedOffset::east_opt(5 * 3600 + 1800).expect("offset")),
        Zone::Local,
    ] {
        let together = years(YearBase::FirstYear(2026), zone, &stamps);
        let alone: Vec<String> = stamps
            .iter()
            .map(|s| years(YearBase::FirstYear(2026), zone, &[*s]).remove(0))
            .collect();
        assert_eq!(together, alone, "{zone:?}");
    }
}

/// A stamp repeated (a score of lines in one second) resolves as it does alone, also
/// when the year moved between two equal stamps (a December line after January's).
#[test]
fn stamps_of_one_second_resolve_as_alone() {
    let stamps = [
        ny(12, 31, 23, 59, 59, 0),
        ny(12, 31, 23, 59, 59, 0),
        ny(1, 1, 0, 0, 1, 0),
        ny(1, 1, 0, 0, 1, 0),
        ny(12, 31, 23, 59, 59, 0),
        ny(1, 1, 0, 0, 1, 5),
        ny(1, 1, 0, 0, 1, 5),
        ny(2, 30, 0, 0, 1, 0),
        ny(2, 30, 0, 0, 1, 0),
        ny(3, 1, 10, 0, 59, 1_500_000_000),
        ny(3, 1, 10, 0, 59, 1_500_000_000),
    ];
    for zone in [utc(), Zone::Local] {
        let mut r = YearResolver::new(YearBase::FirstYear(2026), zone);
        for s in stamps {
            let state = r.state();
            let got = r.resolve(s);
            // A resolver in the same year state, with nothing cached.
            let mut fresh = YearResolver::with_state(YearBase::FirstYear(2026), zone, state);
            assert_eq!(got, fresh.resolve(s), "{s:?} {zone:?}");
        }
        assert_eq!(
            years(YearBase::FirstYear(2026), zone, &stamps[..3])[1],
            "2026-12-31T23:59:59+00:00".replace("+00:00", &offset_of(zone)),
        );
    }
}

fn offset_of(zone: Zone) -> String {
    let t = match zone {
        Zone::Fixed(off) => in_tz(&off, date(2026, 12, 31).and_hms_opt(23, 59, 59).expect("t")),
        Zone::Local => in_tz(
            &chrono::Local,
            date(2026, 12, 31).and_hms_opt(23, 59, 59).expect("t"),
        ),
    };
    t.expect("a time").format("%:z").to_string()
}
