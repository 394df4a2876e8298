//! What a run read: counts over every input, mergeable like the posture, so a merged
//! snapshot still says how much was read and when it began and ended.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

type Time = DateTime<FixedOffset>;

/// Total order on times that also separates equal instants written with different
/// offsets, so min/max are commutative even then.
fn order(t: &Time) -> (Time, i32) {
    (*t, t.offset().local_minus_utc())
}

/// The earlier of two optional times (`None` is "unknown", not "earliest").
pub fn min_time(a: Option<Time>, b: Option<Time>) -> Option<Time> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if order(&y) < order(&x) { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// The later of two optional times.
pub fn max_time(a: Option<Time>, b: Option<Time>) -> Option<Time> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if order(&y) > order(&x) { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// Counts over everything read. Mergeable like the posture (sums, min/max times), so a
/// merged snapshot still says how much was read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Sources read (files and stdin), including ones that failed part-way.
    pub files: u64,
    /// Sources that could not be read at all.
    pub files_unreadable: u64,
    pub lines_read: u64,
    /// Lines that yielded an event.
    pub lines_recognized: u64,
    /// Lines that looked like ours but could not be read; skipped and counted.
    pub lines_malformed: u64,
    /// Lines longer than the limit; skipped and counted.
    pub lines_too_long: u64,
    /// Recognised lines skipped because an earlier input already held the same line (same
    /// host, second, program, pid and text, whatever the stamp's format): Debian's rsyslog
    /// writes every mail line to `mail.log` and `syslog`. Counted once, not in
    /// `lines_recognized`.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub lines_duplicate: u64,
    /// Inputs that could not be read to the end: missing, unreadable, a read error, or
    /// truncated or replaced while being read. The run's exit code says so (3).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub files_incomplete: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_seen: Option<DateTime<FixedOffset>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_seen: Option<DateTime<FixedOffset>>,
    /// Lines of a mail program (sendmail, postfix/*, exim) that no parser understood, by
    /// program: the visible gap between what the MTAs log and what mailtls reads.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub unparsed: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    pub fn merge(&mut self, o: Summary) {
        self.lines_duplicate += o.lines_duplicate;
        self.files_incomplete += o.files_incomplete;
        self.files += o.files;
        self.files_unreadable += o.files_unreadable;
        self.lines_read += o.lines_read;
        self.lines_recognized += o.lines_recognized;
        self.lines_malformed += o.lines_malformed;
        self.lines_too_long += o.lines_too_long;
        self.seen_range(o.first_seen, o.last_seen);
        for (program, n) in o.unparsed {
            *self.unparsed.entry(program).or_default() += n;
        }
    }

    pub fn seen_range(
        &mut self,
        first: Option<DateTime<FixedOffset>>,
        last: Option<DateTime<FixedOffset>>,
    ) {
        self.first_seen = min_time(self.first_seen, first);
        self.last_seen = max_time(self.last_seen, last);
    }

    /// [`Summary::seen_range`] of one time (the pipeline calls it for every event, on
    /// the correlating thread): an unknown time changes nothing, and a known one is
    /// compared in place rather than both bounds rebuilt through [`min_time`] and
    /// [`max_time`] (the same result, issue 21).
    pub fn seen(&mut self, t: Option<DateTime<FixedOffset>>) {
        let Some(t) = t else { return };
        let o = order(&t);
        match &self.first_seen {
            Some(f) if o >= order(f) => {}
            _ => self.first_seen = Some(t),
        }
        match &self.last_seen {
            Some(l) if o <= order(l) => {}
            _ => self.last_seen = Some(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<Time> {
        DateTime::parse_from_rfc3339(s).ok()
    }

    /// `seen` (compared in place) gives what `seen_range(t, t)` gives, for unknown times,
    /// earlier and later ones, and one instant written with two offsets (the tie `order`
    /// breaks), in every order.
    #[test]
    fn seen_is_seen_range_of_one_time() {
        let times = [
            t("2026-03-01T10:00:00+00:00"),
            None,
            t("2026-03-01T09:00:00+00:00"),
            t("2026-03-01T11:00:00+01:00"),
            t("2026-03-01T12:30:00+00:00"),
            t("2026-03-01T14:30:00+02:00"),
            None,
            t("2025-12-31T23:59:59.5-05:00"),
        ];
        assert!(times.iter().flatten().count() == 6);
        let n = times.len();
        // Every rotation, forwards and backwards.
        for start in 0..n {
            for rev in [false, true] {
                let mut order_: Vec<Option<Time>> =
                    (0..n).map(|i| times[(start + i) % n]).collect();
                if rev {
                    order_.reverse();
                }
                let (mut a, mut b) = (Summary::default(), Summary::default());
                for x in &order_ {
                    a.seen(*x);
                    b.seen_range(*x, *x);
                    // Equal instants compare equal whatever their offset: the offset too.
                    assert_eq!(
                        (
                            a.first_seen.map(|v| order(&v)),
                            a.last_seen.map(|v| order(&v))
                        ),
                        (
                            b.first_seen.map(|v| order(&v)),
                            b.last_seen.map(|v| order(&v))
                        ),
                        "after {x:?} in {order_:?}"
                    );
                }
                assert_eq!(a.first_seen, t("2025-12-31T23:59:59.5-05:00"));
                // Of the one instant written twice, the larger offset is the later.
                let last = a.last_seen.map(|v| v.to_rfc3339());
                assert_eq!(last.as_deref(), Some("2026-03-01T14:30:00+02:00"));
            }
        }
        let mut none = Summary::default();
        none.seen(None);
        assert_eq!((none.first_seen, none.last_seen), (None, None));
    }
}
