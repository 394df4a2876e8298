//! Year resolution per block, on the parsing threads (issue 21: "year resolution per
//! block").
//!
//! A [`YearResolver`] is a state machine over a file's lines in order: its only state that
//! carries from one line to the next is the year of the current stretch and the highest
//! month seen in it ([`YearState`], whose rules live in `parse::envelope`); the rest (the date and zone arithmetic, the minute
//! caches) is a pure function of that state and the stamp. So each block is resolved on
//! the pool, in parallel, from a *guessed* incoming state, and the correlating thread only
//! checks the guess, in O(1) per block: the guess is right when the true state and the
//! guessed one agree once the block's first year-less stamp is taken (both machines are
//! then in the same state and resolve every later stamp of the block alike). A wrong guess
//! (the block after a Dec → Jan rollover, a late line from the year before, the first
//! blocks of a file before the year is known) costs that block a second, sequential
//! resolution from its original stamps with a resolver put into the true state: the
//! result is always exactly what one resolver over the whole file gives.
//!
//! The guess is the year of the stretch the correlating thread last confirmed (shared
//! through an atomic): it only changes at New Year, so nearly every block is right the
//! first time, whatever the timing of the threads.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::model::{Event, Stamp};
use crate::parse::envelope::{YearBase, YearResolver, YearState, Zone};

/// The year to publish as the next blocks' guess (`i64::MIN`: none yet).
fn encode(state: YearState) -> i64 {
    state.year().map_or(i64::MIN, i64::from)
}

/// The month of a stamp that moves a resolver.
fn month_of(stamp: &Stamp) -> Option<u8> {
    match stamp {
        Stamp::NoYear { month, .. } if (1..=12).contains(month) => Some(*month),
        _ => None,
    }
}

/// What one block's resolution on the pool assumed and left, for [`FileYears::settle`].
#[derive(Debug, Default, PartialEq)]
pub(super) struct BlockYears {
    /// The stamps as parsed, one per event (for a second resolution if the guess was
    /// wrong); empty when the block has no year-less stamp (nothing to check then).
    original: Vec<Stamp>,
    /// The base the block's resolver started from (`None`: nothing was resolved).
    assumed: Option<YearBase>,
    /// The month of the block's first year-less stamp.
    first_month: Option<u8>,
    /// The guessed state after the block.
    end: YearState,
}

/// The year side of one file's read, shared by the pool and the correlating thread: its
/// base and zone, and the guess the correlating thread publishes (the true state itself,
/// a [`YearState`], is the correlating thread's own).
#[derive(Debug)]
pub(super) struct FileYears {
    base: YearBase,
    zone: Zone,
    /// The year of the true state after the blocks settled so far, the pool's guess
    /// (`i64::MIN`: none yet).
    guess: AtomicI64,
}

impl FileYears {
    /// A file's years, starting in `state` (fresh, or where the previous file of a rotated
    /// set ended).
    pub(super) fn new(base: YearBase, zone: Zone, state: YearState) -> FileYears {
        FileYears {
            base,
            zone,
            guess: AtomicI64::new(encode(state)),
        }
    }

    /// On the pool: resolves the stamps of one block's events in place, from the guessed
    /// incoming state.
    pub(super) fn resolve_block(&self, events: &mut [Event]) -> BlockYears {
        let mut out = BlockYears::default();
        if !events.iter().any(|e| month_of(&e.stamp).is_some()) {
            // Only complete stamps, zone-less ones, ones of no real month and none: no
            // year is involved, and the result does not depend on the state.
            if events
                .iter()
                .any(|e| !matches!(e.stamp, Stamp::Full(_) | Stamp::None))
            {
                let mut r = YearResolver::new(self.base, self.zone);
                for e in events.iter_mut() {
                    e.stamp = r.resolve(e.stamp);
                }
            }
            return out;
        }
        let base = match self.guess.load(Ordering::Relaxed) {
            i64::MIN => self.base,
            y => YearBase::FirstYear(i32::try_from(y).unwrap_or(i32::MAX)),
        };
        let mut r = YearResolver::new(base, self.zone);
        out.original.reserve(events.len());
        for e in events.iter_mut() {
            out.original.push(e.stamp);
            if let Some(m) = month_of(&e.stamp) {
                out.first_month.get_or_insert(m);
            }
            e.stamp = r.resolve(e.stamp);
        }
        out.assumed = Some(base);
        out.end = r.state();
        out
    }

    /// On the correlating thread, blocks in order, `state` the true state before the
    /// block: keeps the block's stamps when the guess was right, else resolves them again
    /// from the true state. Moves `state` past the block and publishes it.
    pub(super) fn settle(&self, state: &mut YearState, events: &mut [Event], block: BlockYears) {
        let (Some(assumed), Some(m1)) = (block.assumed, block.first_month) else {
            return;
        };
        let mut truth = *state;
        truth.take(m1, self.base);
        let mut guessed = YearState::FRESH;
        guessed.take(m1, assumed);
        if truth == guessed {
            *state = block.end;
        } else {
            let mut r = YearResolver::with_state(self.base, self.zone, *state);
            for (e, stamp) in events.iter_mut().zip(block.original) {
                e.stamp = r.resolve(stamp);
            }
            *state = r.state();
        }
        self.guess.store(encode(*state), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, FixedOffset, NaiveDate};
    use proptest::prelude::*;

    fn no_year(month: u8, day: u8, secs: u32) -> Stamp {
        Stamp::NoYear {
            month,
            day,
            secs,
            nanos: 0,
        }
    }

    fn utc() -> Zone {
        Zone::Fixed(FixedOffset::east_opt(0).unwrap())
    }

    /// Events with these stamps, as parsed (only the stamp matters here).
    fn events(stamps: &[Stamp]) -> Vec<Event> {
        let line = b"Nov 28 17:54:54 mx sm-mta[1]: STARTTLS=server, relay=a.example [192.0.2.1], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256";
        let mut hosts = crate::parse::HostNames::default();
        let file: std::sync::Arc<str> = std::sync::Arc::from("t");
        let one = match crate::parse::parse_line_detailed(
            line,
            &file,
            1,
            &mut hosts,
            crate::parse::Detail::Full,
            |_| {},
        ) {
            crate::parse::LineOutcome::Event(e) => e,
            other => panic!("not an event: {other:?}"),
        };
        stamps
            .iter()
            .map(|s| {
                let mut e = one.clone();
                e.stamp = *s;
                e
            })
            .collect()
    }

    /// One resolver over the whole file, the reference.
    fn sequential(stamps: &[Stamp], base: YearBase, zone: Zone) -> Vec<Stamp> {
        let mut r = YearResolver::new(base, zone);
        stamps.iter().map(|s| r.resolve(*s)).collect()
    }

    /// The file cut into blocks of `cut` stamps, resolved per block and settled in order,
    /// the guesses made before or after each settle as `late` says (the pool runs ahead of
    /// the correlating thread by up to a batch).
    fn per_block(
        stamps: &[Stamp],
        base: YearBase,
        zone: Zone,
        cut: usize,
        late: &[bool],
    ) -> Vec<Stamp> {
        let years = FileYears::new(base, zone, YearState::FRESH);
        let mut state = YearState::FRESH;
        let mut blocks: Vec<Vec<Event>> = events(stamps)
            .chunks(cut.max(1))
            .map(<[Event]>::to_vec)
            .collect();
        let mut pending: Vec<(usize, BlockYears)> = Vec::new();
        let mut settled = 0;
        for i in 0..blocks.len() {
            let y = years.resolve_block(&mut blocks[i]);
            pending.push((i, y));
            // Settle now, or leave it for later (the next block then guesses from an
            // older state).
            if !late.get(i).copied().unwrap_or(false) {
                for (j, y) in pending.drain(..) {
                    years.settle(&mut state, &mut blocks[j], y);
                    settled += 1;
                }
            }
        }
        for (j, y) in pending.drain(..) {
            years.settle(&mut state, &mut blocks[j], y);
            settled += 1;
        }
        assert_eq!(settled, blocks.len());
        blocks.into_iter().flatten().map(|e| e.stamp).collect()
    }

    fn stamp() -> impl Strategy<Value = Stamp> {
        prop_oneof![
            8 => (1u8..=12, 1u8..=31, 0u32..86_400).prop_map(|(m, d, s)| no_year(m, d, s)),
            1 => (0u8..=14).prop_map(|m| no_year(m, 29, 3600)),
            1 => Just(Stamp::None),
            1 => (0i64..2_000_000_000).prop_map(|s| Stamp::Full(
                chrono::DateTime::from_timestamp(s, 0).unwrap().fixed_offset())),
            1 => (1u32..=12, 1u32..=28).prop_map(|(m, d)| Stamp::Local(
                NaiveDate::from_ymd_opt(2026, m, d).unwrap().and_hms_opt(12, 0, 0).unwrap())),
        ]
    }

    /// Months that mostly go forward and turn over the year now and then, as real logs do.
    fn log_like() -> impl Strategy<Value = Vec<Stamp>> {
        proptest::collection::vec((0u8..12, 0u8..3, 1u8..=28), 1..120).prop_map(|steps| {
            let mut m = 11u8;
            steps
                .into_iter()
                .map(|(jump, odd, d)| {
                    if jump == 0 {
                        m = m % 12 + 1;
                    }
                    // Now and then a late line from two months back.
                    let month = if odd == 0 { (m + 9) % 12 + 1 } else { m };
                    no_year(month, d, u32::from(d) * 1000)
                })
                .collect()
        })
    }

    fn base() -> impl Strategy<Value = YearBase> {
        prop_oneof![
            (1990i32..2100).prop_map(YearBase::FirstYear),
            (2000i32..2040, 1u32..=12)
                .prop_map(|(y, m)| YearBase::Mtime(NaiveDate::from_ymd_opt(y, m, 15).unwrap())),
        ]
    }

    proptest! {
        /// Per block, guessed and settled, the stamps are exactly those of one resolver
        /// over the file, however the file is cut and however late the guesses are.
        #[test]
        fn blocks_resolve_as_one_resolver(
            stamps in proptest::collection::vec(stamp(), 0..150),
            base in base(),
            cut in 1usize..40,
            late in proptest::collection::vec(any::<bool>(), 0..20),
        ) {
            prop_assert_eq!(per_block(&stamps, base, utc(), cut, &late), sequential(&stamps, base, utc()));
        }

        /// The same on log-like month sequences (rollovers, late lines), where most
        /// guesses are right and the ones after a rollover are not.
        #[test]
        fn log_like_blocks_resolve_as_one_resolver(
            stamps in log_like(),
            base in base(),
            cut in 1usize..30,
            late in proptest::collection::vec(any::<bool>(), 0..20),
        ) {
            prop_assert_eq!(per_block(&stamps, base, utc(), cut, &late), sequential(&stamps, base, utc()));
        }

        /// A resolver continued from another's [`YearState`] resolves every later stamp
        /// as the one that read the lines before, and ends in the same state: what a
        /// block's second resolution relies on.
        #[test]
        fn a_resolver_goes_on_from_a_state(stamps in log_like(), base in base()) {
            let mut running = YearResolver::new(base, utc());
            for s in &stamps {
                let mut rebuilt = YearResolver::with_state(base, utc(), running.state());
                prop_assert_eq!(rebuilt.resolve(*s), running.resolve(*s));
                prop_assert_eq!(rebuilt.state(), running.state());
            }
        }
    }

    /// A block whose only year-less stamp names no real month still has it resolved (to
    /// no time), as the resolver does, though no year is involved (found by the proptest).
    #[test]
    fn an_impossible_month_alone_in_a_block_has_no_time() {
        let stamps = [no_year(13, 29, 3600), Stamp::None, no_year(0, 1, 0)];
        let base = YearBase::FirstYear(2026);
        let got = per_block(&stamps, base, utc(), 1, &[]);
        assert_eq!(got, vec![Stamp::None; 3]);
        assert_eq!(got, sequential(&stamps, base, utc()));
    }

    /// A log that turns over the year in its middle: the blocks after the turn guess the
    /// old year, are resolved again, and the result is the sequential one.
    #[test]
    fn a_rollover_inside_a_file_is_resolved_exactly() {
        let stamps: Vec<Stamp> = (0..200u32)
            .map(|i| {
                if i < 120 {
                    no_year(12, 31, 80_000 + i)
                } else {
                    no_year(1, 1, i)
                }
            })
            .collect();
        let base = YearBase::FirstYear(2025);
        let got = per_block(&stamps, base, utc(), 16, &[]);
        assert_eq!(got, sequential(&stamps, base, utc()));
        let year = |s: &Stamp| s.time().map(|t| t.year());
        assert_eq!(year(&got[0]), Some(2025));
        assert_eq!(year(&got[199]), Some(2026));
    }
}
