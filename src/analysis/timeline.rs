//! Counts over time, for the report's charts.
//!
//! A [`crate::analysis::posture::Posture`] is a per-peer aggregate and forgets *when* things
//! happened; charts need a time series. A [`Timeline`] folds the same [`Record`]s into
//! fixed one-hour buckets (UTC hours since the epoch) and, like the posture, is a
//! commutative monoid: [`Timeline::default`] is the identity and [`Timeline::merge`] adds
//! bucket by bucket, so blocks, files and hosts can be folded in any order. The renderer
//! widens the buckets for long ranges ([`Timeline::rebucket`]); the stored grain never
//! changes, so merging never has to reconcile two grains.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::model::{DeliveryStatus, Direction, Hist, TlsErrorKind, TlsVersion};
use crate::model::{Encryption, Record};

/// The stored grain: one hour, in seconds.
pub const BASE_SECS: i64 = 3600;

/// What happened in one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bucket {
    /// Messages received, or delivered (`stat=Sent`), over TLS (the posture's rule).
    pub tls_messages: u64,
    /// Messages received or delivered in clear text.
    pub plaintext_messages: u64,
    /// TLS sessions by protocol version (written by label).
    pub versions: Hist<TlsVersion>,
    /// TLS errors by kind, local ones included.
    pub errors: BTreeMap<TlsErrorKind, u64>,
}

impl Bucket {
    pub fn merge(&mut self, o: &Bucket) {
        self.tls_messages += o.tls_messages;
        self.plaintext_messages += o.plaintext_messages;
        self.versions.merge_ref(&o.versions);
        for (k, v) in &o.errors {
            *self.errors.entry(*k).or_default() += v;
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Bucket::default()
    }
}

/// Per-hour counts, keyed by the bucket's start (seconds since the epoch, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timeline {
    pub buckets: BTreeMap<i64, Bucket>,
    /// Records that had no time (they still count in the posture, not in charts).
    pub untimed: u64,
}

/// The start of the bucket of an epoch second.
fn bucket_of(secs: i64) -> i64 {
    secs.div_euclid(BASE_SECS) * BASE_SECS
}

impl Timeline {
    /// Folds one record in.
    pub fn add(&mut self, r: &Record) {
        self.add_by(r, |t| t.timestamp());
    }

    /// [`Timeline::add`] for a long run of records: their epoch seconds come from `clock`,
    /// which does chrono's calendar arithmetic once per day, not per record (0.7 M
    /// instructions on a 20 MB log, on the correlating thread; issue 21).
    pub fn add_with(&mut self, r: &Record, clock: &mut crate::correlate::DayClock) {
        self.add_by(r, |t| clock.secs(t));
    }

    /// [`Timeline::add`] with the epoch second of a record's time taken by `secs`.
    fn add_by(&mut self, r: &Record, secs: impl FnOnce(DateTime<FixedOffset>) -> i64) {
        // What the record adds, decided before its bucket is looked up: counted in place,
        // with no per-record bucket or key allocated (the fold sees every record).
        enum What<'a> {
            Version(&'a TlsVersion),
            Tls,
            Plain,
            Error(TlsErrorKind),
        }
        let what = match r {
            Record::Session { params, .. } => What::Version(&params.version),
            Record::Message {
                direction,
                encryption,
                status,
                ..
            } => {
                let delivered = match direction {
                    Direction::Inbound => true,
                    Direction::Outbound => matches!(status, Some(DeliveryStatus::Sent)),
                };
                if !delivered {
                    return;
                }
                if matches!(encryption, Encryption::Plaintext) {
                    What::Plain
                } else {
                    What::Tls
                }
            }
            Record::Error { kind, .. } => What::Error(*kind),
            Record::Verdict { .. } | Record::Ready { .. } | Record::Start { .. } => return,
        };
        let Some(t) = r.meta().time else {
            self.untimed += 1;
            return;
        };
        // Records come in time order: nearly always the last bucket, found without a
        // search of the map (a B-tree search per record was 1.3% of a scan).
        let key = bucket_of(secs(t));
        let b = match self.buckets.last_entry() {
            Some(e) if *e.key() == key => e.into_mut(),
            _ => self.buckets.entry(key).or_default(),
        };
        match what {
            What::Version(v) => b.versions.add(v),
            What::Tls => b.tls_messages += 1,
            What::Plain => b.plaintext_messages += 1,
            What::Error(k) => *b.errors.entry(k).or_default() += 1,
        }
    }

    pub fn merge(&mut self, o: Timeline) {
        for (k, v) in o.buckets {
            self.buckets.entry(k).or_default().merge(&v);
        }
        self.untimed += o.untimed;
    }

    /// First and last bucket start, when anything had a time.
    pub fn span(&self) -> Option<(i64, i64)> {
        Some((
            *self.buckets.keys().next()?,
            *self.buckets.keys().next_back()?,
        ))
    }

    /// A bucket width (seconds) that gives a readable chart for this range: hours up to
    /// two days, 6 hours up to two weeks, days up to three months, weeks beyond.
    pub fn auto_width(&self) -> i64 {
        let Some((a, b)) = self.span() else {
            return BASE_SECS;
        };
        let range = b - a + BASE_SECS;
        let day = 24 * BASE_SECS;
        if range <= 2 * day {
            BASE_SECS
        } else if range <= 14 * day {
            6 * BASE_SECS
        } else if range <= 92 * day {
            day
        } else {
            7 * day
        }
    }

    /// Every bucket of `width` seconds from the first to the last, empty ones included (a
    /// gap in the chart is information), aligned to `width` in UTC.
    pub fn rebucket(&self, width: i64) -> Vec<(i64, Bucket)> {
        let width = width.max(BASE_SECS);
        let Some((a, b)) = self.span() else {
            return Vec::new();
        };
        let start = a.div_euclid(width) * width;
        let mut out: Vec<(i64, Bucket)> = Vec::new();
        let mut t = start;
        while t <= b {
            out.push((t, Bucket::default()));
            t += width;
        }
        for (k, v) in &self.buckets {
            let i = ((k - start) / width) as usize;
            if let Some((_, slot)) = out.get_mut(i) {
                slot.merge(v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Meta;
    use crate::model::{Bits, Mta, Peer, Source, TlsParams, TlsVersion, Verify};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn meta(secs: Option<i64>) -> Meta {
        Meta {
            time: secs.map(|s| {
                DateTime::from_timestamp(s, 0)
                    .unwrap()
                    .with_timezone(&FixedOffset::east_opt(3600).unwrap())
            }),
            host: Some(Arc::from("mail")),
            mta: Mta::Sendmail,
            source: Source {
                file: Arc::from("t"),
                line: 1,
            },
        }
    }

    fn record(kind: u8, secs: Option<i64>) -> Record {
        let peer = Peer::new(Some("mx.example.org"), None);
        match kind % 4 {
            0 => Record::Session {
                meta: meta(secs),
                direction: Direction::Inbound,
                peer,
                params: TlsParams {
                    version: if secs.unwrap_or(0) % 2 == 0 {
                        TlsVersion::Tls1_3
                    } else {
                        TlsVersion::Tls1_2
                    },
                    cipher: None,
                    bits: Bits::default(),
                    verify: Verify::Ok,
                    detail: None,
                }
                .into(),
            },
            1 => Record::Message {
                meta: meta(secs),
                direction: Direction::Inbound,
                peer,
                queue_id: "q".into(),
                encryption: Encryption::Plaintext,
                status: None,
            },
            2 => Record::Message {
                meta: meta(secs),
                direction: Direction::Outbound,
                peer,
                queue_id: "q".into(),
                encryption: Encryption::TlsUnknown,
                status: Some(DeliveryStatus::Sent),
            },
            _ => Record::Error {
                meta: meta(secs),
                direction: None,
                peer: None,
                kind: TlsErrorKind::PrivateKey,
                text: "x".into(),
                reason: None,
            },
        }
    }

    fn fold(rs: &[Record]) -> Timeline {
        let mut t = Timeline::default();
        rs.iter().for_each(|r| t.add(r));
        t
    }

    fn arb_records() -> impl Strategy<Value = Vec<Record>> {
        prop::collection::vec(
            (
                any::<u8>(),
                prop::option::weighted(0.9, 1_700_000_000i64..1_700_900_000),
            ),
            0..40,
        )
        .prop_map(|v| v.into_iter().map(|(k, s)| record(k, s)).collect())
    }

    proptest! {
        /// Folding in parts and merging in any order and grouping gives the one-pass fold.
        #[test]
        fn merge_is_a_commutative_monoid(rs in arb_records(), cut1 in 0usize..40, cut2 in 0usize..40) {
            let (c1, c2) = (cut1.min(rs.len()), cut2.min(rs.len()));
            let (lo, hi) = (c1.min(c2), c1.max(c2));
            let whole = fold(&rs);
            let (a, b, c) = (fold(&rs[..lo]), fold(&rs[lo..hi]), fold(&rs[hi..]));
            let mut left = a.clone();
            left.merge(b.clone());
            left.merge(c.clone());
            let mut right = c.clone();
            let mut bc = b.clone();
            bc.merge(a.clone());
            right.merge(bc);
            prop_assert_eq!(&left, &whole);
            // The day clock's fold is the plain one.
            let mut clock = crate::correlate::DayClock::default();
            let mut clocked = Timeline::default();
            rs.iter().for_each(|r| clocked.add_with(r, &mut clock));
            prop_assert_eq!(&clocked, &whole);
            prop_assert_eq!(&right, &whole);
            let mut id = whole.clone();
            id.merge(Timeline::default());
            prop_assert_eq!(&id, &whole);
            // Re-bucketing keeps every count.
            let total = |v: &[(i64, Bucket)]| v.iter().map(|(_, b)| b.tls_messages + b.plaintext_messages + b.errors.values().sum::<u64>()).sum::<u64>();
            let hourly = whole.rebucket(BASE_SECS);
            let weekly = whole.rebucket(7 * 24 * BASE_SECS);
            prop_assert_eq!(total(&hourly), total(&weekly));
        }
    }

    #[test]
    fn buckets_are_utc_hours_and_gaps_are_kept() {
        // 10:59:59 and 11:00:00 UTC fall in two buckets, whatever the record's offset.
        let t = fold(&[
            record(1, Some(1_700_002_799)),
            record(1, Some(1_700_002_800)),
            record(3, Some(1_700_013_600)),
            record(1, None),
        ]);
        assert_eq!(t.buckets.len(), 3);
        assert_eq!(t.untimed, 1);
        let hourly = t.rebucket(BASE_SECS);
        assert_eq!(hourly.len(), 5, "10h..13h: four hours plus the first");
        assert_eq!(hourly[0].1.plaintext_messages, 1);
        assert_eq!(hourly[1].1.plaintext_messages, 1);
        assert!(hourly[2].1.is_empty());
        assert_eq!(hourly[4].1.errors[&TlsErrorKind::PrivateKey], 1);
        assert_eq!(t.auto_width(), BASE_SECS);
        assert!(Timeline::default().rebucket(BASE_SECS).is_empty());
    }
}
