//! The silent-downgrade window: what a local TLS configuration incident cost. The one
//! place that decides windows, for `scan`, `peer` and `follow` alike.
//!
//! When an MTA cannot load its own key or certificate it does not stop. Sendmail stops
//! offering STARTTLS; Postfix and Exim still offer it but answer `454`; either way mail
//! goes on in clear text with the peers that do not insist, and the error line is the only
//! trace. A window ties such an incident to its consequence.
//!
//! # Rules
//!
//! * **Per log host and per role.** Our server side (Sendmail `STARTTLS=server`, Postfix
//!   `smtpd`, Exim inbound) and our client side (`STARTTLS=client`, `smtp`, Exim outbound)
//!   load their own files. A local incident whose record says its role (`direction`)
//!   opens a window for that direction only; one that does not say (a shared CA file, an
//!   unknown role) opens both.
//! * **Closes on evidence that TLS works again for that role**: a TLS session or TLS
//!   message in that direction, `STARTTLS=server|client, init=1` ([`Record::Ready`]), or a
//!   daemon start ([`Record::Start`]) *not* followed within [`BURST`] by a local incident
//!   (a restart that re-read a broken key keeps every window of the host open).
//! * **Never negative.** Evidence older than a window's start does not close it. When
//!   several inputs carry the same host name (two copies of one log, or two machines both
//!   called `mail`), one host's records arrive out of time order: each in-order stretch
//!   is folded by its own machine and the windows are then merged per host and direction,
//!   each closed at the first evidence after its start from any stretch
//!   ([`Downgrades::finish`]).
//! * **Plaintext inside a window is ours.** A message received or delivered in clear in
//!   the window's direction after it opened is counted in the window (per peer too, so
//!   the policy does not blame those peers for our outage, [`Outage`]).
//!
//! [`Machine`] is the state machine of one log host, fed in time order; `follow` drives
//! it record by record ([`crate::live`]), [`Downgrades`] folds whole runs with it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::model::{DeliveryStatus, Direction, Mta, Peer, QueueId, Source, TlsErrorKind};
use crate::model::{Encryption, Meta, Record};

/// foldhash instead of SipHash: [`Downgrades::add`] probes the host map once or twice
/// per record (per-process random seed kept; [`Downgrades::finish`] sorts its output).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

type Time = DateTime<FixedOffset>;

/// Messages kept verbatim per window; the rest are only counted.
pub const KEEP_MESSAGES: usize = 200;

/// How long after a daemon start a local incident still belongs to that start-up: the
/// start re-read a still-broken key, so it is no evidence that TLS works.
pub const BURST: Duration = Duration::seconds(30);

/// How far back in time a host's record may be and still belong to the current in-order
/// stretch (correlation releases some records late, e.g. Postfix after qmgr).
pub const REORDER_SLACK: Duration = Duration::minutes(10);

/// How long plaintext messages and TLS evidence are remembered in case the incident they
/// follow is released after them (the correlator gathers an incident's lines for a few
/// seconds before it hands the incident out).
pub const LATE: Duration = Duration::seconds(60);

/// At most this many recent plaintext messages (and evidence times) per host and role.
const RECENT_CAP: usize = 256;

/// A record's time as nanoseconds since the Unix epoch, taken once per record: the
/// machine's "older than [`LATE`]" and the fold's "older than [`REORDER_SLACK`]" tests are
/// then integer compares (chrono's `now - LATE` per record, and per queued time before
/// that, was most of [`Machine::trim`]; issue 21).
fn instant(t: Time) -> i128 {
    i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos())
}

/// A span in the nanoseconds [`instant`] counts.
fn span(d: Duration) -> i128 {
    i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos())
}

/// Resolution of the evidence kept for merging out-of-order stretches: evidence less than
/// this far apart is kept as one run.
const RUN_GAP: i64 = 60;

/// One plaintext message inside a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowMessage {
    pub time: Time,
    /// The posture key of the peer.
    pub peer: String,
    pub queue_id: QueueId,
    pub source: Source,
}

/// From a local TLS configuration incident until TLS works again on that host and
/// direction (role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The log host; for a log without a host field (Exim's mainlog) its input file, as
    /// for the local errors of the posture.
    pub host: String,
    /// The role that broke: inbound = our server side, outbound = our client side.
    pub direction: Direction,
    /// The MTA that logged the first incident (whose advice applies).
    pub mta: Mta,
    /// The first incident's time.
    pub start: Time,
    /// When TLS was seen working again; `None` when not in the logs read. Never before
    /// `start`.
    pub resumed: Option<Time>,
    /// Local incidents seen while the window was open, by kind.
    pub errors: BTreeMap<TlsErrorKind, u64>,
    /// The first incident's line and where it was.
    pub first_error: String,
    pub first_source: Source,
    /// Plaintext messages in the window (the first [`KEEP_MESSAGES`]).
    pub messages: Vec<WindowMessage>,
    /// All plaintext messages in the window.
    pub plaintext_messages: u64,
    /// Plaintext messages in the window per peer key.
    pub peers: BTreeMap<String, u64>,
    /// Peers' TLS handshakes that failed in this direction while the window was open:
    /// the client gave up after our `454` (or we could not start TLS as a client). They
    /// are ours, not the peers' ([`Downgrades::add`] says so, and they are not counted
    /// against the peer).
    pub failed_handshakes: u64,
}

impl Window {
    /// The plaintext messages from or to peers that otherwise used TLS in this direction:
    /// mail that would have been encrypted had the configuration been sound.
    pub fn downgraded<'a>(
        &'a self,
        posture: &'a crate::analysis::posture::Posture,
    ) -> impl Iterator<Item = &'a WindowMessage> {
        self.messages.iter().filter(move |m| {
            posture
                .peers
                .get(&m.peer)
                .is_some_and(|p| p.dir(self.direction).tls_sessions > 0)
        })
    }

    /// How long the window lasted, when it closed.
    pub fn duration(&self) -> Option<Duration> {
        self.resumed.map(|r| r - self.start)
    }

    fn count(&mut self, m: WindowMessage) {
        self.plaintext_messages += 1;
        *self.peers.entry(m.peer.clone()).or_default() += 1;
        if self.messages.len() < KEEP_MESSAGES {
            self.messages.push(m);
        }
    }
}

/// The name a window gives its host: the log host, or for lines without one (Exim's
/// mainlog) the input file, so that two such logs never share a window and the window is
/// found under the same name as the posture's local errors.
pub fn host_name(meta: &Meta) -> String {
    match meta.host.as_deref() {
        Some(h) => h.to_owned(),
        None => meta.source.file.to_string(),
    }
}

/// What tells one host's windows from another's without allocating: the log host, or
/// for lines without one the input file ([`host_name`]).
pub type HostKey = (Option<Arc<str>>, Option<Arc<str>>);

/// The [`HostKey`] of a record.
pub fn host_key(meta: &Meta) -> HostKey {
    match &meta.host {
        Some(h) => (Some(h.clone()), None),
        None => (None, Some(meta.source.file.clone())),
    }
}

/// Plaintext messages that went through our own outage, per (peer key, direction): the
/// policy does not count them against the peer ([`crate::analysis::policy::evaluate_with`]).
pub type Outage = BTreeMap<(String, Direction), u64>;

/// The windows of two snapshots as one list, in the order [`Downgrades::finish`] gives
/// (host, start, direction), ties broken by the whole window so that the result does not
/// depend on which snapshot came first: merging is the union of the lists (associative
/// and commutative). Windows are per log host, so snapshots of different hosts merge to
/// exactly the windows one run over all their logs finds; two snapshots of one host keep
/// both their windows (a window cut by the end of one snapshot's logs is not joined to
/// the next one's).
pub fn merge_windows(mine: &mut Vec<Window>, other: Vec<Window>) {
    mine.extend(other);
    let key = |w: &Window| serde_json::to_string(w).unwrap_or_default();
    mine.sort_by(|a, b| {
        (&a.host, a.start, a.direction.as_str())
            .cmp(&(&b.host, b.start, b.direction.as_str()))
            .then_with(|| {
                a.start
                    .offset()
                    .local_minus_utc()
                    .cmp(&b.start.offset().local_minus_utc())
            })
            .then_with(|| key(a).cmp(&key(b)))
    });
}

/// Sums the per-peer plaintext of `windows`.
pub fn outage(windows: &[Window]) -> Outage {
    let mut o = Outage::new();
    for w in windows {
        for (p, n) in &w.peers {
            *o.entry((p.clone(), w.direction)).or_default() += n;
        }
    }
    o
}

/// True for a local incident that takes TLS away from a role: our key, certificate, CA
/// locations, file permissions, cipher settings or library start-up failed. Not a setting
/// the MTA replaced by its built-in one ([`TlsErrorKind::keeps_tls`]: DH parameters, a
/// cipher list OpenSSL refused), nor a file
/// of Sendmail's client side that is missing, unsafe or does not load: its client needs no
/// certificate, key or CA file (tls.c requires none of them for the client role), logs
/// `STARTTLS=client: file … unsafe: No such file or directory` (`: Group readable file`,
/// `STARTTLS=client, error: SSL_CTX_use_PrivateKey_file(…) failed`) and goes on with
/// STARTTLS without it (the real `client_key_missing`, `client_key_group_readable` and
/// `client_key_encrypted` captures: the next line is a `STARTTLS=client, … verify=OK`).
pub fn disables_tls(kind: TlsErrorKind, mta: Mta, direction: Option<Direction>) -> bool {
    kind.is_local()
        && !kind.keeps_tls()
        && !(mta == Mta::Sendmail
            && direction == Some(Direction::Outbound)
            && matches!(
                kind,
                TlsErrorKind::MissingFile
                    | TlsErrorKind::UnsafeFile
                    | TlsErrorKind::PrivateKey
                    | TlsErrorKind::Certificate
                    | TlsErrorKind::CaLocations
            ))
}

/// What one record says about our own TLS on its host.
enum Evidence<'a> {
    /// A local incident for these roles.
    Broken {
        dirs: &'a [Direction],
        kind: TlsErrorKind,
        text: &'a str,
    },
    /// TLS works for these roles.
    Works(&'a [Direction]),
    /// The daemon started: TLS works unless an incident follows within [`BURST`].
    Start,
    /// A message in clear text that travelled (received, or delivered).
    Plain {
        direction: Direction,
        peer: &'a Peer,
        queue_id: &'a QueueId,
    },
    /// A peer's handshake failed: ours when our TLS is broken for that role.
    PeerFailed(Direction),
    Nothing,
}

const BOTH: &[Direction] = &[Direction::Inbound, Direction::Outbound];
const IN: &[Direction] = &[Direction::Inbound];
const OUT: &[Direction] = &[Direction::Outbound];

fn dirs(d: Option<Direction>) -> &'static [Direction] {
    match d {
        Some(Direction::Inbound) => IN,
        Some(Direction::Outbound) => OUT,
        None => BOTH,
    }
}

fn evidence(r: &Record) -> Evidence<'_> {
    match r {
        Record::Error {
            meta,
            peer: None,
            kind,
            direction,
            text,
            ..
        } if disables_tls(*kind, meta.mta, *direction) => Evidence::Broken {
            dirs: dirs(*direction),
            kind: *kind,
            text,
        },
        Record::Session { direction, .. } => Evidence::Works(dirs(Some(*direction))),
        Record::Message {
            direction,
            encryption: Encryption::Tls(_) | Encryption::TlsUnknown,
            ..
        } => Evidence::Works(dirs(Some(*direction))),
        Record::Ready { direction, .. } => Evidence::Works(dirs(*direction)),
        Record::Error {
            peer: Some(_),
            direction: Some(d),
            kind:
                TlsErrorKind::Handshake
                | TlsErrorKind::Library
                | TlsErrorKind::Io
                | TlsErrorKind::Shutdown,
            ..
        } => Evidence::PeerFailed(*d),
        Record::Start { .. } => Evidence::Start,
        Record::Message {
            direction,
            encryption: Encryption::Plaintext,
            status,
            peer,
            queue_id,
            ..
        } => {
            // A deferred or bounced attempt did not travel. (The peer's key is made only
            // when a window counts the message: most plaintext is outside any window.)
            let travelled =
                *direction == Direction::Inbound || matches!(status, Some(DeliveryStatus::Sent));
            if travelled {
                Evidence::Plain {
                    direction: *direction,
                    peer,
                    queue_id,
                }
            } else {
                Evidence::Nothing
            }
        }
        _ => Evidence::Nothing,
    }
}

fn idx(d: Direction) -> usize {
    match d {
        Direction::Inbound => 0,
        Direction::Outbound => 1,
    }
}

/// What a record did to the windows of its host ([`Machine::push`]); `follow` turns these
/// into alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A window opened for this role at the pushed record.
    Opened(Direction),
    /// A plaintext message was counted in the open window of its direction: the pushed
    /// record (`late` = `None`), or one seen shortly before the incident that opened the
    /// window was handed out (`late`).
    InWindow {
        direction: Direction,
        late: Option<Box<Recent>>,
    },
    /// The pushed peer error is a consequence of our open window (the client hung up
    /// after our `454`): ours, counted in the window, not the peer's.
    Absorbed(Direction),
    /// A window closed; `at` is the record that proved TLS works (for a restart, the
    /// daemon start line, reported once its start-up burst passed without an incident).
    Closed { window: Box<Window>, at: Meta },
    /// A plaintext message of the span of the window of its direction that closed last
    /// (the one that started at `start`), handed out after it closed: Postfix releases a
    /// message at its `qmgr` or `disconnect` line, seconds after another client's TLS
    /// session may have closed the window. It counts in that window.
    InClosed { start: Time, late: Box<Recent> },
    /// A daemon start's burst passed: TLS works for the roles marked `true` since `time`.
    StartHeld { time: Time, roles: [bool; 2] },
}

/// A plaintext message remembered for [`LATE`], in case an incident released after it
/// opens a window that covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    pub meta: Meta,
    pub direction: Direction,
    pub peer: Peer,
    pub queue_id: QueueId,
}

struct PendingStart {
    meta: Meta,
    time: Option<Time>,
    /// Roles for which an incident followed within the burst: the start proves nothing.
    still_broken: [bool; 2],
}

/// The window state machine of one log host. Push its records in time order.
pub struct Machine {
    host: String,
    open: [Option<Window>; 2],
    start: Option<PendingStart>,
    /// Records seen since a pending start (for logs without timestamps: the burst ends at
    /// the first record that is not an incident).
    since_start: u64,
    /// Plaintext messages of the last [`LATE`] that no window counted, each with its
    /// [`instant`].
    recent_plain: VecDeque<(i128, Recent)>,
    /// Times of TLS evidence of the last [`LATE`], per role (with their [`instant`] and
    /// line: a traditional syslog stamp gives the same second to an incident and the TLS
    /// session logged after it, and only the line order then says which came first).
    recent_works: [VecDeque<(i128, Time, Source)>; 2],
    /// Per role, the end of the open window when evidence already read proves it (a
    /// window opened by an incident released after TLS evidence of a later time, as when
    /// an older input follows a newer one): the window stays open for the records of its
    /// span still to come and closes at the first record from that time on (or at the
    /// end), with the record that proved it.
    closing: [Option<(Time, Meta)>; 2],
    /// Per role, the span (start, end) of the window closed last, for the plaintext
    /// messages of that span still to be handed out ([`Step::InClosed`]). A record more
    /// than [`REORDER_SLACK`] older than the latest is folded by a fresh machine
    /// ([`Downgrades::add`]), so this is all the memory it needs.
    last_closed: [Option<(Time, Time)>; 2],
}

impl Machine {
    pub fn new(host: &str) -> Machine {
        Machine {
            host: host.to_owned(),
            open: [None, None],
            start: None,
            since_start: 0,
            recent_plain: VecDeque::new(),
            recent_works: [VecDeque::new(), VecDeque::new()],
            closing: [None, None],
            last_closed: [None, None],
        }
    }

    /// Forgets what is older than [`LATE`] before `now`, and beyond [`RECENT_CAP`].
    /// `now` is an [`instant`]: `now - t > LATE` is `t < now - LATE` in integers (chrono's
    /// subtraction per call, and before that per queued time, was 1-2% of the correlating
    /// thread).
    fn trim(&mut self, now: i128) {
        let limit = now - span(LATE);
        while self.recent_plain.len() > RECENT_CAP
            || self.recent_plain.front().is_some_and(|(t, _)| *t < limit)
        {
            self.recent_plain.pop_front();
        }
        for q in &mut self.recent_works {
            while q.len() > RECENT_CAP || q.front().is_some_and(|(t, _, _)| *t < limit) {
                q.pop_front();
            }
        }
    }

    /// A window just opened at `start` for `d`: the plaintext messages and the TLS evidence
    /// of the last [`LATE`] that came after `start` in time belong to it.
    fn catch_up(&mut self, d: Direction, start: Time, at: &Meta, steps: &mut Vec<Step>) {
        // TLS evidence after the incident: later in time, or in the same second further
        // down the same input (records released late come out of line order, never out
        // of an input's order within a second).
        let first = self.open[idx(d)].as_ref().map(|w| &w.first_source);
        let resumed = self.recent_works[idx(d)]
            .iter()
            .filter(|(_, t, src)| {
                *t > start
                    || (*t == start
                        && first.is_some_and(|f| f.file == src.file && src.line > f.line))
            })
            .map(|(_, t, _)| *t)
            .min();
        let mut keep = VecDeque::with_capacity(self.recent_plain.len());
        for (at, r) in std::mem::take(&mut self.recent_plain) {
            let t = r.meta.time.unwrap_or(start);
            let inside = r.direction == d && t >= start && resumed.is_none_or(|c| t < c);
            match (inside, self.open[idx(d)].as_mut(), r.peer.key()) {
                (true, Some(w), Some(peer)) => {
                    w.count(WindowMessage {
                        time: t,
                        peer,
                        queue_id: r.queue_id.clone(),
                        source: r.meta.source.clone(),
                    });
                    steps.push(Step::InWindow {
                        direction: d,
                        late: Some(Box::new(r)),
                    });
                }
                _ => keep.push_back((at, r)),
            }
        }
        self.recent_plain = keep;
        if let Some(c) = resumed {
            let mut m = at.clone();
            m.time = Some(c);
            self.closing[idx(d)] = Some((c, m));
        }
    }

    /// True while a window is open for some role.
    pub fn is_open(&self) -> bool {
        self.open.iter().any(Option::is_some)
    }

    /// The open window of a role.
    pub fn open(&self, d: Direction) -> Option<&Window> {
        self.open[idx(d)].as_ref()
    }

    fn close(&mut self, d: Direction, time: Time, at: &Meta, steps: &mut Vec<Step>) {
        // An end already proved (see `closing`) that comes first is the window's end.
        let proved = self.closing[idx(d)].take();
        let (time, at) = match &proved {
            Some((c, m)) if *c <= time => (*c, m),
            _ => (time, at),
        };
        let slot = &mut self.open[idx(d)];
        // Evidence from before the window opened (records released late, or an older
        // input with the same host name) does not close it: windows are never negative.
        if slot.as_ref().is_some_and(|w| time >= w.start)
            && let Some(mut w) = slot.take()
        {
            w.resumed = Some(time);
            self.last_closed[idx(d)] = Some((w.start, time));
            steps.push(Step::Closed {
                window: Box::new(w),
                at: at.clone(),
            });
        }
    }

    /// Ends a pending start's burst: the roles without an incident in it are working.
    fn commit_start(&mut self, steps: &mut Vec<Step>) {
        if let Some(s) = self.start.take()
            && let Some(t) = s.time
        {
            // An incident of either role in the burst says the restart read a broken
            // configuration: no evidence for the other role either (Sendmail sets up its
            // client side only when it first delivers, Postfix each role in its own
            // process, so a quiet role at start-up proves nothing on its own).
            let held = !s.still_broken.iter().any(|b| *b);
            if held {
                for d in BOTH {
                    self.close(*d, t, &s.meta, steps);
                }
            }
            steps.push(Step::StartHeld {
                time: t,
                roles: [held, held],
            });
        }
    }

    /// Takes one record of this host and appends what it did.
    pub fn push(&mut self, r: &Record, steps: &mut Vec<Step>) {
        if let Some(time) = r.meta().time {
            self.push_at(r, evidence(r), time, instant(time), steps);
        }
    }

    /// [`Machine::push`] of a record whose evidence, time and [`instant`] (`at`) the
    /// caller already has.
    fn push_at(
        &mut self,
        r: &Record,
        ev: Evidence<'_>,
        time: Time,
        at: i128,
        steps: &mut Vec<Step>,
    ) {
        let meta = r.meta();
        for d in BOTH {
            if let Some((c, m)) = &self.closing[idx(*d)]
                && time >= *c
            {
                let (c, m) = (*c, m.clone());
                self.close(*d, c, &m, steps);
            }
        }
        if let Some(s) = &self.start {
            let past = s.time.is_none_or(|t| time - t > BURST);
            let incident = matches!(ev, Evidence::Broken { .. });
            if past || (!incident && s.time.is_none() && self.since_start > 0) {
                self.commit_start(steps);
            }
            self.since_start += 1;
        }
        match ev {
            Evidence::Broken { dirs, kind, text } => {
                for d in dirs {
                    if let Some(s) = &mut self.start {
                        s.still_broken[idx(*d)] = true;
                    }
                    let slot = &mut self.open[idx(*d)];
                    match slot {
                        Some(w) => *w.errors.entry(kind).or_default() += 1,
                        None => {
                            *slot = Some(Window {
                                host: self.host.clone(),
                                direction: *d,
                                mta: meta.mta,
                                start: time,
                                resumed: None,
                                errors: BTreeMap::from([(kind, 1)]),
                                first_error: text.to_owned(),
                                first_source: meta.source.clone(),
                                messages: Vec::new(),
                                plaintext_messages: 0,
                                peers: BTreeMap::new(),
                                failed_handshakes: 0,
                            });
                            steps.push(Step::Opened(*d));
                            self.catch_up(*d, time, meta, steps);
                        }
                    }
                }
            }
            Evidence::Works(dirs) => {
                for d in dirs {
                    self.recent_works[idx(*d)].push_back((at, time, meta.source.clone()));
                    self.close(*d, time, meta, steps);
                }
                self.trim(at);
            }
            Evidence::Start => {
                self.commit_start(steps);
                self.start = Some(PendingStart {
                    meta: meta.clone(),
                    time: Some(time),
                    still_broken: [false, false],
                });
                self.since_start = 0;
            }
            Evidence::Plain {
                direction,
                peer,
                queue_id,
            } => {
                if let Some(w) = &mut self.open[idx(direction)]
                    && time >= w.start
                    && let Some(key) = peer.key()
                {
                    w.count(WindowMessage {
                        time,
                        peer: key,
                        queue_id: queue_id.clone(),
                        source: meta.source.clone(),
                    });
                    steps.push(Step::InWindow {
                        direction,
                        late: None,
                    });
                } else {
                    let recent = Recent {
                        meta: meta.clone(),
                        direction,
                        peer: peer.clone(),
                        queue_id: queue_id.clone(),
                    };
                    match self.last_closed[idx(direction)] {
                        Some((start, end))
                            if time >= start && time < end && peer.key().is_some() =>
                        {
                            steps.push(Step::InClosed {
                                start,
                                late: Box::new(recent),
                            });
                        }
                        _ => {
                            self.recent_plain.push_back((at, recent));
                            self.trim(at);
                        }
                    }
                }
            }
            Evidence::PeerFailed(d) => {
                if let Some(w) = &mut self.open[idx(d)]
                    && time >= w.start
                {
                    w.failed_handshakes += 1;
                    steps.push(Step::Absorbed(d));
                }
            }
            Evidence::Nothing => {}
        }
    }

    /// For a live log that has gone quiet: a daemon start whose burst ended before `now`
    /// with no incident counts now, without waiting for the next record.
    pub fn tick(&mut self, now: Time, steps: &mut Vec<Step>) {
        if self
            .start
            .as_ref()
            .and_then(|s| s.time)
            .is_some_and(|t| now - t > BURST)
        {
            self.commit_start(steps);
        }
    }

    /// Ends the input: a start whose burst saw no incident counts; the windows still open
    /// are returned (never resumed in the logs read).
    pub fn finish(mut self, steps: &mut Vec<Step>) -> Vec<Window> {
        self.commit_start(steps);
        for d in BOTH {
            if let Some((c, m)) = self.closing[idx(*d)].clone() {
                self.close(*d, c, &m, steps);
            }
        }
        self.open.into_iter().flatten().collect()
    }
}

/// Times at which TLS was seen working, as runs (evidence less than [`RUN_GAP`] seconds
/// apart is one run), so memory grows with the gaps in TLS traffic, not with its volume.
#[derive(Debug, Default)]
struct Runs {
    /// (first second, last second, exact first time), sorted, disjoint.
    runs: Vec<(i64, i64, Time)>,
}

impl Runs {
    fn add(&mut self, t: Time) {
        self.add_at(t.timestamp(), t);
    }

    /// [`Runs::add`] of a time whose seconds (`s`, `t.timestamp()`) the caller has.
    fn add_at(&mut self, s: i64, t: Time) {
        // The usual case: in order, extending or after the last run.
        if let Some(last) = self.runs.last_mut()
            && s >= last.0
        {
            if s <= last.1 + RUN_GAP {
                last.1 = last.1.max(s);
                return;
            }
            self.runs.push((s, s, t));
            return;
        }
        let i = self.runs.partition_point(|r| r.0 <= s);
        self.runs.insert(i, (s, s, t));
        // Merge neighbours that now touch.
        let mut merged: Vec<(i64, i64, Time)> = Vec::with_capacity(self.runs.len());
        for r in self.runs.drain(..) {
            match merged.last_mut() {
                Some(m) if r.0 <= m.1 + RUN_GAP => m.1 = m.1.max(r.1),
                _ => merged.push(r),
            }
        }
        self.runs = merged;
    }

    /// The first evidence strictly after `t`: exact when it starts a run (TLS coming back
    /// after a gap, the usual end of an outage), otherwise within [`RUN_GAP`] seconds.
    fn first_after(&self, t: Time) -> Option<Time> {
        let s = t.timestamp();
        let i = self.runs.partition_point(|r| r.1 <= s);
        let r = self.runs.get(i)?;
        if r.0 > s {
            Some(r.2)
        } else {
            // Inside a run: TLS worked within RUN_GAP seconds either side of `t`.
            let upper = r.1.min(s + RUN_GAP);
            DateTime::from_timestamp(upper, 0).map(|u| u.with_timezone(t.offset()))
        }
    }
}

/// One host's fold: the machine of its current in-order stretch, the windows of earlier
/// stretches, and the evidence of all of them.
struct HostFold {
    /// Whose fold this is (the host of its records, see [`host_key`]).
    key: HostKey,
    machine: Machine,
    /// The [`instant`] of the latest record folded.
    latest: Option<i128>,
    done: Vec<Window>,
    works: [Runs; 2],
    stretches: u32,
}

impl HostFold {
    /// Keeps the closed windows and the evidence of held restarts.
    fn take(&mut self, steps: &mut Vec<Step>) {
        for s in steps.drain(..) {
            match s {
                Step::Closed { window, .. } => self.done.push(*window),
                Step::StartHeld { time, roles } => {
                    for d in BOTH {
                        if roles[idx(*d)] {
                            self.works[idx(*d)].add(time);
                        }
                    }
                }
                Step::InClosed { start, late } => {
                    let d = late.direction;
                    let window = self
                        .done
                        .iter_mut()
                        .rev()
                        .find(|w| w.direction == d && w.start == start);
                    if let (Some(w), Some(time), Some(peer)) =
                        (window, late.meta.time, late.peer.key())
                    {
                        w.count(WindowMessage {
                            time,
                            peer,
                            queue_id: late.queue_id,
                            source: late.meta.source,
                        });
                    }
                }
                Step::Opened(_) | Step::InWindow { .. } | Step::Absorbed(_) => {}
            }
        }
    }
}

/// The fold for whole runs (`scan`, `peer`): feed every record with [`Downgrades::add`],
/// in the pipeline's order, then [`Downgrades::finish`].
#[derive(Default)]
pub struct Downgrades {
    /// Each log host's slot in `folds`, and each input file's (for records without a
    /// host): looked up by `&str`, so no key is built and no reference count touched.
    by_host: HashMap<Arc<str>, usize>,
    by_file: HashMap<Arc<str>, usize>,
    folds: Vec<HostFold>,
    /// The slots of the last few hosts folded, most recent first: found by comparing
    /// names (usually the same pointer), with no hash. One host's records come in runs,
    /// but the logs of a few hosts are often interleaved (one syslog for all of them).
    recent: [usize; RECENT_HOSTS],
    steps: Vec<Step>,
    /// Each record's epoch second without chrono's calendar arithmetic per record.
    clock: crate::correlate::DayClock,
}

/// How many hosts [`Downgrades`] finds without a hash probe.
const RECENT_HOSTS: usize = 4;

/// True when `meta`'s host is the very allocation `k` holds (then [`is_host`] holds).
pub fn same_alloc(k: &HostKey, meta: &Meta) -> bool {
    match (k, &meta.host) {
        ((Some(a), None), Some(b)) => Arc::ptr_eq(a, b),
        ((None, Some(a)), None) => Arc::ptr_eq(a, &meta.source.file),
        _ => false,
    }
}

/// True when `meta` is of the host `k` ([`host_key`] without building the key).
pub fn is_host(k: &HostKey, meta: &Meta) -> bool {
    let same = |a: &Arc<str>, b: &Arc<str>| Arc::ptr_eq(a, b) || **a == **b;
    match (k, &meta.host) {
        ((Some(a), None), Some(b)) => same(a, b),
        ((None, Some(a)), None) => same(a, &meta.source.file),
        _ => false,
    }
}

impl Downgrades {
    /// Folds one record in. True when the record is a peer's failed handshake caused by
    /// our own open window (the client hung up after our `454`): the caller must not
    /// count it against the peer (it is counted in the window).
    pub fn add(&mut self, r: &Record) -> bool {
        let meta = r.meta();
        let Some(time) = meta.time else { return false };
        let ev = evidence(r);
        // Evidence of working TLS is kept for every host (as runs): a later input with the
        // same host name may hold the incident it closes.
        let works: Option<&[Direction]> = match &ev {
            Evidence::Works(d) => Some(*d),
            Evidence::Start => Some(BOTH),
            _ => None,
        };
        if matches!(ev, Evidence::Nothing) {
            return false;
        }
        let known = self.find(meta);
        if matches!(ev, Evidence::PeerFailed(_)) {
            // A peer's failure only matters while a window is open.
            match known.and_then(|i| self.folds.get(i)) {
                Some(h) if h.machine.is_open() => {}
                _ => return false,
            }
        }
        let i = match known {
            Some(i) => i,
            None => {
                let i = self.folds.len();
                match &meta.host {
                    Some(h) => self.by_host.insert(h.clone(), i),
                    None => self.by_file.insert(meta.source.file.clone(), i),
                };
                self.folds.push(HostFold {
                    key: host_key(meta),
                    machine: Machine::new(&host_name(meta)),
                    latest: None,
                    done: Vec::new(),
                    works: [Runs::default(), Runs::default()],
                    stretches: 1,
                });
                i
            }
        };
        self.seen(i);
        let secs = self.clock.secs(time);
        let at = i128::from(secs) * 1_000_000_000 + i128::from(time.timestamp_subsec_nanos());
        let Some(h) = self.folds.get_mut(i) else {
            return false;
        };
        if let Some(ds) = works
            && !matches!(ev, Evidence::Start)
        {
            for d in ds {
                h.works[idx(*d)].add_at(secs, time);
            }
        }
        if h.latest.is_some_and(|l| at < l - span(REORDER_SLACK)) {
            // An older stretch of the same host name: fold it apart, merge at the end.
            let fresh = Machine::new(&h.machine.host);
            let old = std::mem::replace(&mut h.machine, fresh);
            h.done.extend(old.finish(&mut self.steps));
            h.stretches += 1;
            h.latest = None;
            h.take(&mut self.steps);
        }
        h.latest = Some(h.latest.map_or(at, |l| l.max(at)));
        h.machine.push_at(r, ev, time, at, &mut self.steps);
        if self.steps.is_empty() {
            return false;
        }
        let absorbed = self.steps.iter().any(|s| matches!(s, Step::Absorbed(_)));
        h.take(&mut self.steps);
        absorbed
    }

    /// The slot of the host of `meta`, if it has one: among the last few hosts by the
    /// allocation of the name (the events of one parsed block share it), then by name,
    /// else by one hash probe of the name. A host found other than by its allocation
    /// keeps the record's, so the rest of its block is found by pointer.
    fn find(&mut self, meta: &Meta) -> Option<usize> {
        for &i in &self.recent {
            if self.folds.get(i).is_some_and(|h| same_alloc(&h.key, meta)) {
                return Some(i);
            }
        }
        let found = self
            .recent
            .iter()
            .copied()
            .find(|&i| self.folds.get(i).is_some_and(|h| is_host(&h.key, meta)))
            .or_else(|| match &meta.host {
                Some(h) => self.by_host.get(&**h).copied(),
                None => self.by_file.get(&*meta.source.file).copied(),
            });
        if let Some(i) = found
            && let Some(h) = self.folds.get_mut(i)
        {
            h.key = host_key(meta);
        }
        found
    }

    /// Moves slot `i` to the front of the recent hosts.
    fn seen(&mut self, i: usize) {
        if self.recent[0] == i {
            return;
        }
        let at = self.recent.iter().position(|&r| r == i);
        let end = at.unwrap_or(RECENT_HOSTS - 1);
        self.recent.copy_within(0..end, 1);
        self.recent[0] = i;
    }

    /// Every window, ordered by host, start and direction.
    pub fn finish(self) -> Vec<Window> {
        let mut all = Vec::new();
        for mut h in self.folds {
            let mut steps = Vec::new();
            let machine = std::mem::replace(&mut h.machine, Machine::new(""));
            let open = machine.finish(&mut steps);
            h.take(&mut steps);
            h.done.extend(open);
            if h.stretches > 1 {
                h.done = merge_stretches(h.done, &h.works);
            }
            all.extend(h.done);
        }
        all.sort_by(|a, b| {
            (&a.host, a.start, a.direction.as_str()).cmp(&(&b.host, b.start, b.direction.as_str()))
        });
        all
    }
}

/// Windows of one host from several out-of-order stretches: each closes at the first
/// evidence after its start from any stretch, and overlapping windows of one role become
/// one.
fn merge_stretches(mut ws: Vec<Window>, works: &[Runs; 2]) -> Vec<Window> {
    for w in &mut ws {
        if let Some(t) = works[idx(w.direction)].first_after(w.start)
            && w.resumed.is_none_or(|r| t < r)
        {
            w.resumed = Some(t);
            let before = w.messages.len();
            w.messages.retain(|m| m.time < t);
            let dropped = (before - w.messages.len()) as u64;
            w.plaintext_messages -= dropped;
            w.peers.clear();
            for m in &w.messages {
                *w.peers.entry(m.peer.clone()).or_default() += 1;
            }
        }
    }
    ws.sort_by_key(|w| (idx(w.direction), w.start));
    let mut out: Vec<Window> = Vec::new();
    for w in ws {
        match out.last_mut() {
            Some(m) if m.direction == w.direction && m.resumed.is_none_or(|r| w.start <= r) => {
                for (k, n) in w.errors {
                    *m.errors.entry(k).or_default() += n;
                }
                m.failed_handshakes += w.failed_handshakes;
                m.resumed = match (m.resumed, w.resumed) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
                for msg in w.messages {
                    let dup = m
                        .messages
                        .iter()
                        .any(|x| x.time == msg.time && x.queue_id == msg.queue_id);
                    if !dup {
                        m.count(msg);
                    }
                }
            }
            _ => out.push(w),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Bits, Peer, TlsParams, TlsVersion, Verify};

    fn meta(host: &str, sec: i64, line: u64) -> Meta {
        Meta {
            time: Some(
                DateTime::from_timestamp(1_795_000_000 + sec, 0)
                    .unwrap()
                    .fixed_offset(),
            ),
            host: Some(Arc::from(host)),
            mta: Mta::Sendmail,
            source: Source {
                file: Arc::from("maillog"),
                line,
            },
        }
    }

    fn session(host: &str, sec: i64, dir: Direction, peer: &str) -> Record {
        Record::Session {
            meta: meta(host, sec, 0),
            direction: dir,
            peer: Peer::new(Some(peer), None),
            params: TlsParams::new(TlsVersion::Tls1_3, None, Bits::default(), Verify::No).into(),
        }
    }

    fn plain(host: &str, sec: i64, dir: Direction, peer: &str, line: u64) -> Record {
        Record::Message {
            meta: meta(host, sec, line),
            direction: dir,
            peer: Peer::new(Some(peer), None),
            queue_id: compact_str::format_compact!("q{line}"),
            encryption: Encryption::Plaintext,
            status: (dir == Direction::Outbound).then_some(DeliveryStatus::Sent),
        }
    }

    /// A local error that takes TLS away from the role: the server's key, or for
    /// Sendmail's client (which goes on with STARTTLS whatever is wrong with its files,
    /// see [`disables_tls`]) a TLS context it could not create.
    fn local(host: &str, sec: i64, dir: Option<Direction>, line: u64) -> Record {
        let (kind, text) = if dir == Some(Direction::Outbound) {
            (
                TlsErrorKind::Init,
                "STARTTLS=client, error: SSL_CTX_new(SSLv23_client_method()) failed",
            )
        } else {
            (
                TlsErrorKind::PrivateKey,
                "STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/tls/key.pem) failed",
            )
        };
        Record::Error {
            meta: meta(host, sec, line),
            direction: dir,
            peer: None,
            kind,
            text: text.into(),
            reason: None,
        }
    }

    #[test]
    fn sendmail_s_client_file_errors_open_no_window() {
        // The real client_key_missing, client_key_group_readable and client_key_encrypted
        // captures: STARTTLS=client goes on without the file. Its server side does not.
        for kind in [
            TlsErrorKind::MissingFile,
            TlsErrorKind::UnsafeFile,
            TlsErrorKind::PrivateKey,
            TlsErrorKind::Certificate,
        ] {
            assert!(
                !disables_tls(kind, Mta::Sendmail, Some(Direction::Outbound)),
                "{kind}"
            );
            assert!(
                disables_tls(kind, Mta::Sendmail, Some(Direction::Inbound)),
                "{kind}"
            );
            assert!(
                disables_tls(kind, Mta::Postfix, Some(Direction::Outbound)),
                "{kind}"
            );
        }
        assert!(disables_tls(
            TlsErrorKind::Init,
            Mta::Sendmail,
            Some(Direction::Outbound)
        ));
        assert!(!disables_tls(
            TlsErrorKind::CipherIgnored,
            Mta::Sendmail,
            None
        ));
    }

    fn start(host: &str, sec: i64) -> Record {
        Record::Start {
            meta: meta(host, sec, 0),
            version: Some("8.17.1.9".into()),
        }
    }

    fn ready(host: &str, sec: i64, dir: Direction) -> Record {
        Record::Ready {
            meta: meta(host, sec, 0),
            direction: Some(dir),
        }
    }

    fn fold(records: &[Record]) -> Vec<Window> {
        let mut f = Downgrades::default();
        for r in records {
            f.add(r);
        }
        f.finish()
    }

    /// (direction, start s, resumed s) of each window.
    fn spans(w: &[Window]) -> Vec<(Direction, i64, Option<i64>)> {
        let base = 1_795_000_000;
        w.iter()
            .map(|w| {
                (
                    w.direction,
                    w.start.timestamp() - base,
                    w.resumed.map(|t| t.timestamp() - base),
                )
            })
            .collect()
    }

    use Direction::{Inbound as In, Outbound as Out};

    /// `Downgrades::finish` says "ordered by host, start and direction": a window still
    /// open at the end of the input sorts by its start like the closed ones, it is not
    /// appended last (the report lists windows in this order).
    #[test]
    fn finish_sorts_open_windows_in_by_start_not_last() {
        let w = fold(&[
            local("mail", 100, Some(Out), 1), // outbound: never resumed
            local("mail", 200, Some(In), 2),
            session("mail", 300, In, "mx.partner.example"), // closes the inbound one
            local("relay2", 50, Some(In), 3),               // another host, earlier, open
        ]);
        let order: Vec<_> = w
            .iter()
            .map(|w| (w.host.as_str(), w.direction, w.resumed.is_some()))
            .collect();
        assert_eq!(
            order,
            vec![
                ("mail", Out, false),
                ("mail", In, true),
                ("relay2", In, false)
            ]
        );
        assert_eq!(spans(&w[..2]), vec![(Out, 100, None), (In, 200, Some(300))]);
    }

    #[test]
    fn windows_are_per_host_and_role_and_close_on_that_role_s_tls() {
        let w = fold(&[
            session("mail", 0, In, "mx.partner.example"),
            local("mail", 600, Some(In), 100),
            plain("mail", 720, In, "mx.partner.example", 101),
            plain("mail", 780, In, "spam.example", 102),
            plain("mail", 840, Out, "mx.partner.example", 103), // other role
            session("mail", 850, Out, "mx.partner.example"),    // other role: no evidence
            plain("relay2", 900, In, "mx.partner.example", 104), // other host
            local("mail", 1200, Some(In), 105),
            session("relay2", 1500, In, "x.example"),
            session("mail", 1800, In, "mx.partner.example"),
            plain("mail", 1860, In, "mx.partner.example", 106), // after: not counted
            local("mail", 2400, None, 107),                     // role unknown: both
        ]);
        assert_eq!(
            spans(&w),
            vec![(In, 600, Some(1800)), (In, 2400, None), (Out, 2400, None)]
        );
        assert_eq!(w[0].errors[&TlsErrorKind::PrivateKey], 2);
        assert_eq!(w[0].plaintext_messages, 2);
        assert_eq!(w[0].peers["mx.partner.example"], 1);
        assert_eq!(w[0].first_source.line, 100);
        let out = outage(&w);
        assert_eq!(out[&("spam.example".to_owned(), In)], 1);
        assert!(!out.contains_key(&("mx.partner.example".to_owned(), Out)));
    }

    #[test]
    fn init_and_a_clean_restart_close_a_restart_with_the_error_does_not() {
        // Restart at 300 re-reads the broken key (error within the burst): still open.
        // init=1 for the client side says nothing about the server side. The restart at
        // 900 is followed by no error: the window closes at the restart.
        let w = fold(&[
            start("mail", 0),
            local("mail", 0, Some(In), 1),
            start("mail", 300),
            local("mail", 301, Some(In), 2),
            ready("mail", 302, Out),
            plain("mail", 400, In, "a.example", 3),
            start("mail", 900),
            session("mail", 1000, In, "a.example"),
        ]);
        assert_eq!(spans(&w), vec![(In, 0, Some(900))]);
        assert_eq!(w[0].errors[&TlsErrorKind::PrivateKey], 2);
        // init=1 for the role closes it at once.
        let w = fold(&[local("mail", 0, Some(Out), 1), ready("mail", 60, Out)]);
        assert_eq!(spans(&w), vec![(Out, 0, Some(60))]);
        // A start alone, or a start with informational lines and init=1, opens nothing.
        assert!(
            fold(&[
                start("mail", 0),
                ready("mail", 0, In),
                ready("mail", 0, Out)
            ])
            .is_empty()
        );
        // A start at the very end of the logs, no error after it: it counts.
        let w = fold(&[local("mail", 0, Some(In), 1), start("mail", 100)]);
        assert_eq!(spans(&w), vec![(In, 0, Some(100))]);
    }

    #[test]
    fn the_client_s_hang_up_after_our_454_is_absorbed() {
        let hang_up = Record::Error {
            meta: meta("mx", 1, 2),
            direction: Some(In),
            peer: Some(Peer::new(Some("client.example"), None)),
            kind: TlsErrorKind::Handshake,
            text: "lost connection after STARTTLS".into(),
            reason: None,
        };
        let mut f = Downgrades::default();
        assert!(!f.add(&hang_up), "no window: the peer's failure");
        f.add(&local("mx", 0, Some(In), 1));
        assert!(f.add(&hang_up), "in our window: ours");
        let w = f.finish();
        assert_eq!(w[0].failed_handshakes, 1);
    }

    /// The correlator hands an incident out once its burst is over: the plaintext message
    /// and the TLS session that followed it in time may come first.
    #[test]
    fn an_incident_handed_out_late_still_covers_what_followed_it() {
        let w = fold(&[
            plain("mail", 2, In, "a.example", 2),
            local("mail", 1, Some(In), 1),
        ]);
        assert_eq!(spans(&w), vec![(In, 1, None)]);
        assert_eq!(w[0].plaintext_messages, 1);
        let w = fold(&[
            plain("mail", 2, In, "a.example", 2),
            session("mail", 3, In, "b.example"),
            plain("mail", 4, In, "c.example", 4),
            local("mail", 1, Some(In), 1),
        ]);
        assert_eq!(spans(&w), vec![(In, 1, Some(3))]);
        assert_eq!(w[0].peers.keys().collect::<Vec<_>>(), vec!["a.example"]);
        // Older than LATE: not the incident's.
        let w = fold(&[
            plain("mail", 0, In, "a.example", 2),
            session("mail", 200, Out, "b.example"),
            local("mail", 0, Some(In), 1),
        ]);
        assert_eq!(w[0].plaintext_messages, 0);
    }

    /// An older input read after a newer one (within the reorder slack): the window its
    /// incident opens ends at the newer input's TLS, and the clear-text messages of its
    /// span that come after the incident are still its own (real: Postfix `key_missing`
    /// read after `scanner_burst`, the probe's message was held against the peer).
    #[test]
    fn a_window_already_ended_by_later_tls_still_takes_the_records_of_its_span() {
        let w = fold(&[
            session("mail", 20, In, "b.example"),
            local("mail", 5, Some(In), 5),
            plain("mail", 6, In, "a.example", 6),
            plain("mail", 21, In, "c.example", 21),
        ]);
        assert_eq!(spans(&w), vec![(In, 5, Some(20))]);
        assert_eq!(w[0].peers.keys().collect::<Vec<_>>(), vec!["a.example"]);
        assert_eq!(w[0].plaintext_messages, 1);
        // Without a record after the proved end, the end of the input closes it there.
        let w = fold(&[
            session("mail", 20, In, "b.example"),
            local("mail", 5, Some(In), 5),
            plain("mail", 6, In, "a.example", 6),
        ]);
        assert_eq!(spans(&w), vec![(In, 5, Some(20))]);
        assert_eq!(w[0].plaintext_messages, 1);
    }

    #[test]
    fn clear_text_of_an_outage_handed_out_after_its_end_still_counts_in_it() {
        // Postfix hands out a message accepted in clear at 10 s at its qmgr line (25 s),
        // after another client's TLS session (20 s) closed our window.
        let w = fold(&[
            local("mail", 5, Some(In), 5),
            session("mail", 20, In, "b.example"),
            plain("mail", 10, In, "a.example", 10),
            plain("mail", 21, In, "c.example", 21),
        ]);
        assert_eq!(spans(&w), vec![(In, 5, Some(20))]);
        assert_eq!(w[0].peers.keys().collect::<Vec<_>>(), vec!["a.example"]);
        assert_eq!(w[0].plaintext_messages, 1);
        // Not the other role's window, not before the span, and not once the host's log
        // has gone on for more than REORDER_SLACK (an older stretch of its own).
        let w = fold(&[
            local("mail", 5, Some(In), 5),
            session("mail", 20, In, "b.example"),
            plain("mail", 10, Out, "a.example", 10),
            plain("mail", 4, In, "d.example", 4),
            plain("mail", 19 + 11 * 60, In, "e.example", 30),
            plain("mail", 12, In, "f.example", 31),
        ]);
        assert_eq!(w[0].plaintext_messages, 0, "{w:#?}");
        // The machine says so for `follow`, with the message.
        let mut m = Machine::new("mail");
        let mut steps = Vec::new();
        for r in [
            local("mail", 5, Some(In), 5),
            session("mail", 20, In, "b.example"),
            plain("mail", 10, In, "a.example", 10),
        ] {
            m.push(&r, &mut steps);
        }
        let late: Vec<_> = steps
            .iter()
            .filter_map(|s| match s {
                Step::InClosed { late, .. } => Some(late.peer.key()),
                _ => None,
            })
            .collect();
        assert_eq!(late, vec![Some("a.example".to_owned())]);
    }

    #[test]
    fn out_of_order_inputs_of_one_host_never_give_a_negative_window() {
        // The newer file first, then an older one with the same host name.
        let w = fold(&[
            local("mail", 3600, Some(In), 1),
            plain("mail", 3900, In, "a.example", 2),
            plain("mail", 4500, In, "b.example", 3),
            session("mail", 2940, In, "a.example"), // 11 min before the error
            session("mail", 4320, In, "c.example"), // 12 min after: the first evidence
        ]);
        assert_eq!(spans(&w), vec![(In, 3600, Some(4320))]);
        assert_eq!(
            w[0].plaintext_messages, 1,
            "b.example came after TLS resumed"
        );
        for x in &w {
            assert!(x.duration().is_none_or(|d| d >= Duration::zero()));
        }
    }

    /// More hosts interleaved than `Downgrades` remembers without a hash probe, and a
    /// host named like an input file (a record without a host is keyed by its file): each
    /// host's windows are those of its records folded alone.
    #[test]
    fn interleaved_hosts_fold_as_each_host_alone() {
        let hosts = ["a", "b", "c", "d", "e", "maillog"];
        let of = |h: &str, k: i64| -> Vec<Record> {
            vec![
                local(h, 100 * k, Some(In), 1),
                plain(h, 100 * k + 10, In, "p.example", 2),
                session(h, 100 * k + 20 + k, In, "q.example"),
                local(h, 100 * k + 40, None, 3),
            ]
        };
        let mut all = Vec::new();
        let mut alone = Vec::new();
        let per: Vec<Vec<Record>> = hosts
            .iter()
            .enumerate()
            .map(|(k, h)| of(h, k as i64))
            .collect();
        for i in 0..4 {
            for recs in &per {
                all.push(recs[i].clone());
            }
        }
        // No host: the input file's name, which is also a host's above.
        let mut no_host = local("x", 1000, Some(Out), 9);
        if let Record::Error { meta, .. } = &mut no_host {
            meta.host = None;
        }
        all.push(no_host.clone());
        for recs in &per {
            alone.extend(fold(recs));
        }
        alone.extend(fold(&[no_host]));
        alone.sort_by(|a, b| {
            (&a.host, a.start, a.direction.as_str()).cmp(&(&b.host, b.start, b.direction.as_str()))
        });
        let got = fold(&all);
        assert_eq!(got.len(), 6 * 3 + 1);
        assert_eq!(got, alone);
        let files: Vec<_> = got.iter().filter(|w| w.host == "maillog").collect();
        assert_eq!(
            files.len(),
            4,
            "the host maillog's three and the file's one"
        );
    }

    /// The records of one parsed block share their host's allocation, the next block has
    /// another: a host is the same whichever allocation its name comes in.
    #[test]
    fn a_host_is_its_name_whatever_allocation_it_comes_in() {
        let blocks: Vec<Arc<str>> = (0..3).map(|_| Arc::from("mail")).collect();
        let other: Arc<str> = Arc::from("relay");
        let in_block = |mut r: Record, b: &Arc<str>| {
            if let Record::Session { meta, .. }
            | Record::Message { meta, .. }
            | Record::Error { meta, .. } = &mut r
            {
                meta.host = Some(Arc::clone(b));
            }
            r
        };
        let fresh = [
            local("mail", 0, Some(In), 1),
            local("relay", 5, Some(In), 2),
            plain("mail", 10, In, "a.example", 3),
            plain("mail", 20, In, "b.example", 4),
            session("relay", 25, In, "c.example"),
            session("mail", 30, In, "c.example"),
            local("mail", 40, Some(Out), 5),
        ];
        let shared: Vec<Record> = fresh
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, r)| match r.meta().host.as_deref() {
                Some("relay") => in_block(r, &other),
                _ => in_block(r, &blocks[i % 3]),
            })
            .collect();
        let want = fold(&fresh);
        assert_eq!(
            spans(&want),
            vec![(In, 0, Some(30)), (Out, 40, None), (In, 5, Some(25))]
        );
        assert_eq!(want[0].plaintext_messages, 2);
        assert_eq!(fold(&shared), want);
    }

    /// What [`LATE`] keeps is what `now - t <= LATE` keeps, to the second: a plaintext
    /// message 60 s before the latest evidence still goes to an incident handed out late,
    /// one 61 s before does not.
    #[test]
    fn late_keeps_exactly_its_span() {
        for (gap, counted) in [(60, 1), (61, 0)] {
            let w = fold(&[
                plain("mail", 10, In, "a.example", 2),
                session("mail", 10 + gap, Out, "b.example"),
                local("mail", 5, Some(In), 1),
            ]);
            assert_eq!(w[0].plaintext_messages, counted, "gap {gap}");
        }
    }

    #[test]
    fn evidence_runs_answer_the_first_tls_after_a_time() {
        let t = |s: i64| {
            DateTime::from_timestamp(1_795_000_000 + s, 0)
                .unwrap()
                .fixed_offset()
        };
        let mut r = Runs::default();
        for s in [0, 30, 60, 500, 530, 200] {
            r.add(t(s));
        }
        assert_eq!(r.runs.len(), 3, "{:?}", r.runs);
        assert_eq!(r.first_after(t(100)), Some(t(200)));
        assert_eq!(r.first_after(t(60)), Some(t(200)));
        assert_eq!(r.first_after(t(10)), Some(t(60)), "inside a run: its end");
        assert_eq!(r.first_after(t(530)), None);
    }
}
