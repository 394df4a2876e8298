//! Table tests for the envelope parser: every line form, the month table, and year and
//! zone resolution.

mod forms;
mod months;
mod year;

use super::*;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use proptest::prelude::*;

fn ny(month: u8, day: u8, h: u32, m: u32, s: u32, nanos: u32) -> Stamp {
    Stamp::NoYear {
        month,
        day,
        secs: h * 3600 + m * 60 + s,
        nanos,
    }
}

fn fixed(s: &str) -> Stamp {
    Stamp::Full(DateTime::parse_from_rfc3339(s).expect("test stamp"))
}

fn local(s: &str) -> Stamp {
    Stamp::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("test stamp"))
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,200}") {
        let e = parse(&s);
        // The message is always a suffix of the line.
        prop_assert!(s.ends_with(e.message));
    }

    #[test]
    fn never_panics_on_envelope_like_noise(
        s in "(<[0-9]{1,3}>)?(1 )?[-0-9TZ:. +]{0,40}[ a-zé\\[\\]:<>()0-9/.-]{0,60}"
    ) {
        let e = parse(&s);
        prop_assert!(s.ends_with(e.message));
        let mut r = YearResolver::new(YearBase::FirstYear(2026), Zone::Local);
        let _ = r.resolve(e.stamp);
    }

    #[test]
    fn resolver_never_panics(
        month in 0u8..=20, day in 0u8..=40, secs in 0u32..100_000, nanos in 0u32..2_100_000_000,
        year in -300_000i32..300_000
    ) {
        let mut r = YearResolver::new(YearBase::FirstYear(year), Zone::Local);
        let _ = r.resolve(Stamp::NoYear { month, day, secs, nanos });
        let mut r = YearResolver::new(
            YearBase::Mtime(NaiveDate::MAX),
            Zone::Fixed(FixedOffset::east_opt(-86_399).expect("offset")),
        );
        let _ = r.resolve(Stamp::NoYear { month, day, secs, nanos });
    }
}
