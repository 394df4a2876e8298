//! History: a folder of nightly snapshots (one per host per night, from cron) folded into
//! a trend, night by night, with what changed since yesterday, 7 and 30 nights ago.
//!
//! A year of a fleet is 365 nights × 50 hosts = 18,250 snapshots of a few hundred peers
//! each: far too much to hold as postures. So a snapshot is folded into its night as soon
//! as it is read ([`History::add`]) and then dropped: a night keeps only its counts (the
//! numbers of the trend, which add across hosts exactly as [`Posture::merge`] and
//! [`Summary::merge`] would) and one byte of facts per peer ([`Facts`]: seen, TLS,
//! verified, TLS ≥ 1.2, clear text), which OR across hosts exactly as the merged posture's
//! would. Peer keys are interned once for the whole history, so a night costs about five
//! bytes per peer. The newest night's full posture, which the report shows, is kept by the
//! command, not here.
//!
//! Which night a snapshot is: the date of its last stamp, in the stamp's own offset (a
//! `scan --since 24h` at 02:00 ends on the night's date); a snapshot without stamps (an
//! empty night) falls back to a `YYYY-MM-DD` in its file name ([`night_of`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};

use super::posture::{DirPosture, Posture};
use crate::model::{Hist, Summary, TlsErrorKind, TlsVersion, Verify};

type Time = DateTime<FixedOffset>;

/// The nights back the changes are given for: yesterday, a week, a month.
pub const NIGHTS_BACK: [u32; 3] = [1, 7, 30];

/// One peer's facts on one night, as bits: small enough to keep for every peer of every
/// night of a year, and enough to find new and gone peers and regressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts(u8);

impl Facts {
    /// Some TLS session or message over TLS.
    pub const TLS: u8 = 1;
    /// Some session whose certificate verified (OK, TRUSTED).
    pub const VERIFIED: u8 = 2;
    /// Some session on TLS 1.2 or 1.3.
    pub const MODERN: u8 = 4;
    /// Some message in clear text.
    pub const PLAINTEXT: u8 = 8;

    /// The facts of one peer (both directions).
    pub fn of(dirs: &[DirCounts; 2]) -> Facts {
        let mut f = 0;
        for d in dirs {
            if d.tls_sessions > 0 || d.tls_messages > 0 {
                f |= Self::TLS;
            }
            if d.verified > 0 {
                f |= Self::VERIFIED;
            }
            if d.versions.count_where(modern) > 0 {
                f |= Self::MODERN;
            }
            if d.plaintext_messages > 0 {
                f |= Self::PLAINTEXT;
            }
        }
        Facts(f)
    }

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// One direction of one peer, as far as the trend needs it: what a snapshot's posture
/// says (`DirCounts::of`), or what a lean reading of its JSON says (`report --history`
/// reads only these fields of 18,250 snapshots).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirCounts {
    pub tls_sessions: u64,
    pub tls_messages: u64,
    pub plaintext_messages: u64,
    /// Sessions whose certificate verified (OK, TRUSTED).
    pub verified: u64,
    pub versions: Hist<TlsVersion>,
    /// Errors of every kind.
    pub errors: u64,
}

impl DirCounts {
    pub fn of(d: &DirPosture) -> DirCounts {
        DirCounts {
            tls_sessions: d.tls_sessions,
            tls_messages: d.tls_messages,
            plaintext_messages: d.plaintext_messages,
            verified: d.verify.count_where(verified),
            versions: d.versions.clone(),
            errors: d.error_count(),
        }
    }
}

/// True for the verify words of a verified certificate (OK, TRUSTED).
pub fn verified(v: &Verify) -> bool {
    matches!(v, Verify::Ok | Verify::Trusted)
}

fn modern(v: &TlsVersion) -> bool {
    matches!(v, TlsVersion::Tls1_2 | TlsVersion::Tls1_3)
}

/// What a peer lost between two nights, worst first: it is still seen, but no longer
/// with TLS at all, with a verified certificate, or on TLS 1.2 or newer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lost {
    Tls,
    Verified,
    Modern,
}

impl Lost {
    pub fn as_str(self) -> &'static str {
        match self {
            Lost::Tls => "lost TLS",
            Lost::Verified => "lost verified TLS",
            Lost::Modern => "lost TLS ≥ 1.2",
        }
    }

    /// The worst loss from `before` to `after`, if any (a peer that lost TLS lost the
    /// rest with it; only the worst is named).
    pub fn between(before: Facts, after: Facts) -> Option<Lost> {
        let lost = |bit| before.has(bit) && !after.has(bit);
        if lost(Facts::TLS) {
            Some(Lost::Tls)
        } else if lost(Facts::VERIFIED) {
            Some(Lost::Verified)
        } else if lost(Facts::MODERN) {
            Some(Lost::Modern)
        } else {
            None
        }
    }
}

/// The numbers of one night, every host merged: what a row of `trend.csv` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Night {
    pub date: NaiveDate,
    /// Snapshots folded into this night.
    pub snapshots: u64,
    /// The logging hosts of those snapshots.
    pub hosts: BTreeSet<String>,
    /// The night's read counts, merged.
    pub summary: Summary,
    pub peers: u64,
    /// Messages over TLS and in clear text (as a report's headline counts them).
    pub tls_messages: u64,
    pub plaintext_messages: u64,
    pub sessions: u64,
    /// Sessions whose certificate verified (OK, TRUSTED).
    pub verified_sessions: u64,
    /// Sessions by protocol.
    pub versions: Hist<TlsVersion>,
    /// Peers with at least one message in clear text.
    pub plaintext_peers: u64,
    /// Errors of our own installation, by kind (every host).
    pub local_errors: BTreeMap<TlsErrorKind, u64>,
    /// Errors tied to a peer.
    pub peer_errors: u64,
    /// Compared with the previous night of the series (none for the first).
    pub new_peers: u64,
    pub gone_peers: u64,
    pub regressions: u64,
}

impl Night {
    pub fn messages(&self) -> u64 {
        self.tls_messages + self.plaintext_messages
    }

    pub fn local_error_count(&self) -> u64 {
        self.local_errors.values().sum()
    }

    /// Sessions with protocol `pick`.
    pub fn sessions_where(&self, pick: impl Fn(&TlsVersion) -> bool) -> u64 {
        self.versions.count_where(pick)
    }
}

/// One peer that regressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regression {
    pub peer: String,
    pub lost: Lost,
}

/// What changed from one night to the newest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// How many nights back was asked for (1, 7, 30).
    pub nights_back: u32,
    /// The night compared with: that date, or the latest night before it when that one
    /// is missing from the folder.
    pub against: NaiveDate,
    pub new_peers: Vec<String>,
    pub gone_peers: Vec<String>,
    /// Worst first, then by peer.
    pub regressions: Vec<Regression>,
}

/// The trend of a folder of snapshots: the nights, oldest first, and the changes of the
/// newest night against 1, 7 and 30 nights back (those the folder reaches).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trend {
    pub nights: Vec<Night>,
    pub changes: Vec<Changes>,
}

impl Trend {
    pub fn newest(&self) -> Option<&Night> {
        self.nights.last()
    }
}

/// A night being folded: its numbers and its peers' facts by interned key.
#[derive(Debug, Default)]
struct Acc {
    night: Night,
    facts: HashMap<u32, Facts>,
}

/// The fold of snapshots into nights ([`History::add`] each, then [`History::finish`]).
#[derive(Debug, Default)]
pub struct History {
    keys: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    nights: BTreeMap<NaiveDate, Acc>,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    fn intern(&mut self, key: &str) -> u32 {
        if let Some(id) = self.keys.get(key) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(key.into());
        self.keys.insert(key.into(), id);
        id
    }

    /// Folds one snapshot (its read counts, posture and logging hosts) into `night`. The
    /// posture is only read: the caller drops it or keeps it for the newest night.
    pub fn add(&mut self, night: NaiveDate, hosts: &[String], summary: &Summary, p: &Posture) {
        let peers = p.peers.iter().map(|(k, pp)| {
            (
                k.as_str(),
                [DirCounts::of(&pp.inbound), DirCounts::of(&pp.outbound)],
            )
        });
        let local = p
            .local_errors
            .values()
            .flat_map(|errs| errs.iter().map(|(k, e)| (*k, e.count)));
        self.add_counts(night, hosts, summary, peers, local);
    }

    /// [`History::add`] from the counts alone: each peer's key and directions, and our
    /// own errors by kind (any number of entries per kind; they add).
    pub fn add_counts<'a>(
        &mut self,
        night: NaiveDate,
        hosts: &[String],
        summary: &Summary,
        peers: impl IntoIterator<Item = (&'a str, [DirCounts; 2])>,
        local_errors: impl IntoIterator<Item = (TlsErrorKind, u64)>,
    ) {
        let mut facts: Vec<(u32, Facts)> = Vec::new();
        let mut numbers = Night::default();
        for (key, dirs) in peers {
            facts.push((self.intern(key), Facts::of(&dirs)));
            for d in &dirs {
                numbers.tls_messages += d.tls_messages;
                numbers.plaintext_messages += d.plaintext_messages;
                numbers.sessions += d.tls_sessions;
                numbers.verified_sessions += d.verified;
                numbers.versions.merge_ref(&d.versions);
                numbers.peer_errors += d.errors;
            }
        }
        let acc = self.nights.entry(night).or_default();
        let n = &mut acc.night;
        n.date = night;
        n.snapshots += 1;
        n.hosts.extend(hosts.iter().cloned());
        n.summary.merge(summary.clone());
        n.tls_messages += numbers.tls_messages;
        n.plaintext_messages += numbers.plaintext_messages;
        n.sessions += numbers.sessions;
        n.verified_sessions += numbers.verified_sessions;
        n.versions.merge(numbers.versions);
        n.peer_errors += numbers.peer_errors;
        for (k, c) in local_errors {
            *n.local_errors.entry(k).or_default() += c;
        }
        for (id, f) in facts {
            let e = acc.facts.entry(id).or_default();
            e.0 |= f.0;
        }
    }

    /// The nights, oldest first, each compared with the one before, and the changes of
    /// the newest night against [`NIGHTS_BACK`].
    pub fn finish(self) -> Trend {
        let History { names, nights, .. } = self;
        let name = |id: u32| names.get(id as usize).map_or("?", |n| &**n).to_owned();
        let mut out: Vec<(Night, Vec<(u32, Facts)>)> = nights
            .into_values()
            .map(|a| {
                let mut facts: Vec<(u32, Facts)> = a.facts.into_iter().collect();
                facts.sort_unstable_by_key(|(id, _)| *id);
                let mut n = a.night;
                n.peers = facts.len() as u64;
                n.plaintext_peers = facts
                    .iter()
                    .filter(|(_, f)| f.has(Facts::PLAINTEXT))
                    .count() as u64;
                (n, facts)
            })
            .collect();
        for i in 1..out.len() {
            let d = diff(&out[i - 1].1, &out[i].1);
            let n = &mut out[i].0;
            n.new_peers = d.new.len() as u64;
            n.gone_peers = d.gone.len() as u64;
            n.regressions = d.lost.len() as u64;
        }
        let mut changes = Vec::new();
        if let Some((newest, facts)) = out.last() {
            for back in NIGHTS_BACK {
                let Some(want) = newest.date.checked_sub_signed(Duration::days(back.into())) else {
                    continue;
                };
                // That night, or the latest one before it when it is missing.
                let Some((then, old)) = out.iter().rev().find(|(n, _)| n.date <= want) else {
                    continue;
                };
                let d = diff(old, facts);
                let mut regressions: Vec<Regression> = d
                    .lost
                    .iter()
                    .map(|(id, lost)| Regression {
                        peer: name(*id),
                        lost: *lost,
                    })
                    .collect();
                regressions.sort_by(|a, b| a.lost.cmp(&b.lost).then(a.peer.cmp(&b.peer)));
                let sorted = |ids: &[u32]| {
                    let mut v: Vec<String> = ids.iter().map(|i| name(*i)).collect();
                    v.sort();
                    v
                };
                changes.push(Changes {
                    nights_back: back,
                    against: then.date,
                    new_peers: sorted(&d.new),
                    gone_peers: sorted(&d.gone),
                    regressions,
                });
            }
        }
        Trend {
            nights: out.into_iter().map(|(n, _)| n).collect(),
            changes,
        }
    }
}

struct Diff {
    new: Vec<u32>,
    gone: Vec<u32>,
    lost: Vec<(u32, Lost)>,
}

/// New, gone and regressed peers from `before` to `after` (both sorted by id).
fn diff(before: &[(u32, Facts)], after: &[(u32, Facts)]) -> Diff {
    let mut d = Diff {
        new: Vec::new(),
        gone: Vec::new(),
        lost: Vec::new(),
    };
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        match (before.get(i), after.get(j)) {
            (Some(a), Some(b)) if a.0 == b.0 => {
                if let Some(l) = Lost::between(a.1, b.1) {
                    d.lost.push((a.0, l));
                }
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a.0 < b.0 => {
                d.gone.push(a.0);
                i += 1;
            }
            (Some(a), None) => {
                d.gone.push(a.0);
                i += 1;
            }
            (_, Some(b)) => {
                d.new.push(b.0);
                j += 1;
            }
            (None, None) => break,
        }
    }
    d
}

/// Which night a snapshot is: the date of its last stamp (in the stamp's own offset), else
/// the first `YYYY-MM-DD` in its file name; `None` when neither says.
pub fn night_of(last_seen: Option<Time>, file_name: &str) -> Option<NaiveDate> {
    last_seen
        .map(|t| t.date_naive())
        .or_else(|| name_parts(file_name).map(|(d, _)| d))
}

/// The logging host a file name gives, for a snapshot that names none: what comes before
/// its date (`mx1-2026-12-06.json` → `mx1`).
pub fn host_of_name(file_name: &str) -> Option<String> {
    name_parts(file_name).and_then(|(_, h)| (!h.is_empty()).then_some(h))
}

/// The first `YYYY-MM-DD` in a file name, and the text before it without separators.
fn name_parts(file_name: &str) -> Option<(NaiveDate, String)> {
    let b = file_name.as_bytes();
    for start in 0..b.len().saturating_sub(9) {
        let Some(cand) = file_name.get(start..start + 10) else {
            continue;
        };
        let shape = cand.bytes().enumerate().all(|(i, c)| match i {
            4 | 7 => c == b'-',
            _ => c.is_ascii_digit(),
        });
        if !shape {
            continue;
        }
        if let Ok(d) = NaiveDate::parse_from_str(cand, "%Y-%m-%d") {
            let host = file_name
                .get(..start)
                .unwrap_or("")
                .trim_end_matches(['-', '_', '.'])
                .to_owned();
            return Some((d, host));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::posture::PeerPosture;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn peer(key: &str, tls: u64, plain: u64, verify: Verify, v: TlsVersion) -> PeerPosture {
        let mut d = DirPosture {
            tls_sessions: tls,
            tls_messages: tls,
            plaintext_messages: plain,
            ..DirPosture::default()
        };
        d.verify.add_n(&verify, tls);
        d.versions.add_n(&v, tls);
        PeerPosture {
            peer: key.into(),
            outbound: d,
            ..PeerPosture::default()
        }
    }

    fn posture(peers: Vec<PeerPosture>) -> Posture {
        let mut p = Posture::default();
        for pp in peers {
            p.peers.insert(pp.peer.clone(), pp);
        }
        p
    }

    #[test]
    fn names_give_the_night_and_host_when_stamps_do_not() {
        assert_eq!(
            name_parts("mx1-2026-12-06.json"),
            Some((day("2026-12-06"), "mx1".into()))
        );
        assert_eq!(
            name_parts("2026-12-06.json"),
            Some((day("2026-12-06"), String::new()))
        );
        assert_eq!(host_of_name("2026-12-06.json"), None);
        assert_eq!(name_parts("mx-2026-13-06.json"), None);
        assert_eq!(name_parts("posture.json"), None);
        let t = DateTime::parse_from_rfc3339("2026-12-05T23:59:00+01:00").unwrap();
        // The stamp wins, in its own offset (not UTC's 22:59 of the same date here).
        assert_eq!(
            night_of(Some(t), "mx1-2026-12-06.json"),
            Some(day("2026-12-05"))
        );
        assert_eq!(
            night_of(None, "mx1-2026-12-06.json"),
            Some(day("2026-12-06"))
        );
    }

    #[test]
    fn hosts_of_a_night_merge_and_changes_are_found_against_earlier_nights() {
        let mut h = History::new();
        let s = Summary::default();
        let a = |tls, plain| peer("a.example", tls, plain, Verify::Ok, TlsVersion::Tls1_3);
        // Night 1: two hosts; b is verified on mx2 only, c is plaintext.
        h.add(
            day("2026-12-01"),
            &["mx1".into()],
            &s,
            &posture(vec![
                a(3, 0),
                peer("b.example", 2, 0, Verify::No, TlsVersion::Tls1_2),
            ]),
        );
        h.add(
            day("2026-12-01"),
            &["mx2".into()],
            &s,
            &posture(vec![
                peer("b.example", 1, 0, Verify::Ok, TlsVersion::Tls1_2),
                peer("c.example", 0, 4, Verify::None, TlsVersion::Tls1_2),
            ]),
        );
        // Night 2: a lost TLS, b lost verification, c gone, d new.
        h.add(
            day("2026-12-02"),
            &["mx1".into()],
            &s,
            &posture(vec![
                a(0, 5),
                peer("b.example", 2, 0, Verify::No, TlsVersion::Tls1_2),
                peer("d.example", 1, 0, Verify::Ok, TlsVersion::Tls1_3),
            ]),
        );
        let t = h.finish();
        assert_eq!(t.nights.len(), 2);
        let n1 = &t.nights[0];
        assert_eq!((n1.snapshots, n1.peers, n1.plaintext_peers), (2, 3, 1));
        assert_eq!((n1.tls_messages, n1.plaintext_messages), (6, 4));
        assert_eq!((n1.sessions, n1.verified_sessions), (6, 4));
        assert_eq!(n1.hosts.len(), 2);
        let n2 = &t.nights[1];
        assert_eq!((n2.new_peers, n2.gone_peers, n2.regressions), (1, 1, 2));
        assert_eq!(t.changes.len(), 1, "only one night back is reachable");
        let c = &t.changes[0];
        assert_eq!((c.nights_back, c.against), (1, day("2026-12-01")));
        assert_eq!(c.new_peers, ["d.example"]);
        assert_eq!(c.gone_peers, ["c.example"]);
        assert_eq!(
            c.regressions,
            [
                Regression {
                    peer: "a.example".into(),
                    lost: Lost::Tls
                },
                Regression {
                    peer: "b.example".into(),
                    lost: Lost::Verified
                },
            ]
        );
    }

    #[test]
    fn a_missing_night_compares_with_the_latest_before_it() {
        let mut h = History::new();
        let s = Summary::default();
        for d in ["2026-11-01", "2026-11-20", "2026-11-30", "2026-12-01"] {
            h.add(day(d), &[], &s, &posture(vec![]));
        }
        let t = h.finish();
        let against: Vec<(u32, NaiveDate)> = t
            .changes
            .iter()
            .map(|c| (c.nights_back, c.against))
            .collect();
        assert_eq!(
            against,
            [
                (1, day("2026-11-30")),
                (7, day("2026-11-20")),
                (30, day("2026-11-01"))
            ]
        );
    }

    #[test]
    fn losses_are_named_worst_first() {
        let f = |b| Facts(b);
        let all = Facts::TLS | Facts::VERIFIED | Facts::MODERN;
        assert_eq!(Lost::between(f(all), f(Facts::PLAINTEXT)), Some(Lost::Tls));
        assert_eq!(Lost::between(f(all), f(Facts::TLS)), Some(Lost::Verified));
        assert_eq!(
            Lost::between(f(all), f(Facts::TLS | Facts::VERIFIED)),
            Some(Lost::Modern)
        );
        assert_eq!(Lost::between(f(Facts::TLS), f(all)), None);
    }
}
