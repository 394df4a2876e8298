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

    pub fn seen(&mut self, t: Option<DateTime<FixedOffset>>) {
        self.seen_range(t, t);
    }
}
