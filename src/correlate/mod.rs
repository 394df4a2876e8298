//! The one sequential stage: ties each TLS negotiation to the messages that rode on it.
//!
//! Events arrive in log order. Every delivery and every receipt leaves this stage known to
//! be TLS or plaintext, as a [`Record`] that [`crate::analysis::posture`] can fold in any order.
//!
//! # Rules
//!
//! Sessions are keyed by *process*: the log host plus the pid of the MTA process that
//! wrote the line (`host`, `pid`). Sendmail forks one child per inbound connection and
//! delivers from one process per queue run or per message, so the pid is the only thread
//! that links a `STARTTLS=` line to the `from=`/`to=` lines of the same conversation.
//!
//! * **Inbound** (`STARTTLS=server`): the negotiation becomes the open inbound session of
//!   its process, replacing an older one. A later `from=` of the same process is TLS when
//!   its relay matches the session's peer (same IP when both lines have one, else the same
//!   posture key) and the session was active less than [`INBOUND_IDLE`] ago. A message
//!   whose `proto=` is an RFC 3848 TLS word (`ESMTPS`, `ESMTPSA`) is TLS even without a
//!   negotiation in view (the log may start mid-session), with unknown parameters.
//!   Otherwise the message is **plaintext**. A peer mismatch, a session end (`did not
//!   issue MAIL…`, `lost input channel`, a new `connect`) or a failed policy verdict closes
//!   the session, so a pid reused by a later connection never inherits it.
//! * **Outbound** (`STARTTLS=client`): the negotiation is remembered for (process, peer
//!   key). A `to=` of that process to the same peer used less than [`OUTBOUND_IDLE`] ago
//!   is TLS — Sendmail caches connections, so several deliveries ride one negotiation.
//!   A `tls_server` verdict with a failure word (`SOFTWARE`, `TEMP`, `PROTOCOL`, …) forgets
//!   the session. Local deliveries (mailer `local`, `prog`, no relay host) are not peers.
//! * **Errors**: an error line naming a peer is that peer's. One naming nobody (Sendmail's
//!   client `connect failed=…`, OpenSSL dumps) waits on its process and goes to the peer
//!   of the next negotiation, verdict or delivery of the same process within
//!   [`ERROR_WINDOW`]; otherwise it stays unattributed. Local configuration errors (key,
//!   certificate, CA, unsafe files, cipher settings) never belong to a peer.
//!
//! * **Postfix** and **Exim** follow their own rules, in [`postfix`] (smtpd sessions by
//!   pid, messages by queue id once qmgr confirms them, smtp TLS covering one delivery
//!   request; disconnect counters and 3.11 `tls=` fill in when no summary was logged) and
//!   [`exim`] (TLS written on each message line, correlated by message id).
//!
//! State is bounded by time *and* by count, so memory grows with concurrent sessions, never
//! with the length of the log, even when the log's clock stands still: an entry is fresh
//! while it is within its window **and** was touched less than [`SEQ_TTL`] events ago
//! (lines without timestamps have only the second test), and a periodic sweep drops what
//! is no longer fresh; a map that still holds more than [`MAX_ENTRIES`] entries then loses
//! its oldest (by line position). What the bound drops while its time window was still
//! open is counted ([`Correlator::evicted`], the run's `state_evicted`, an input note);
//! what leaves that way follows the same path as a time expiry (errors waiting for a peer
//! go out unattributed, an open smtpd session ends and its messages wait for qmgr). The
//! records a sweep or the end of input releases go out in input order (by line position),
//! never in hash-map order, so every run writes the same records in the same order.

pub mod exim;
pub mod incident;
pub mod postfix;

pub use postfix::tls_status_says_tls;

/// The correlator's maps: keyed by (log host, pid) and (log host, queue id), looked up
/// several times per event; foldhash instead of SipHash (per-process random seed kept).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};

use crate::model::{
    Bits, Delivery, Direction, Encryption, Event, EventKind, Meta, Mta, Peer, PolicyCheck,
    Reception, Record, TlsError, TlsErrorKind, TlsParams, TlsSession, TlsVersion, Verify,
};

/// How long an inbound session stays open without activity.
pub const INBOUND_IDLE: Duration = Duration::hours(1);
/// How long Sendmail keeps a cached outbound connection (ConnectionCacheTimeout is 5 min by
/// default; twice that allows for slow queue runs).
pub const OUTBOUND_IDLE: Duration = Duration::minutes(10);
/// How long a peer-less error waits for the line that names its peer.
pub const ERROR_WINDOW: Duration = Duration::minutes(5);
/// Events after which an untouched entry is dropped, whatever the times say (the only
/// test for lines without timestamps; for timed lines it bounds a log whose clock stands
/// still). A million events is some 350 MB of a mixed log: far beyond any real session.
pub const SEQ_TTL: u64 = 1_000_000;
/// Most entries one map of the correlator keeps (checked every [`CAP_EVERY`] events, so a
/// map may pass it by that much in between); beyond it the oldest (by line position) go,
/// as if expired. 20 000 open sessions, or messages waiting for their other half, is far
/// above what one host keeps in flight (Postfix's default process limit is 100), and
/// bounds a log whose clock stands still to a few MiB a map.
pub const MAX_ENTRIES: usize = 20_000;
/// Events between two checks of [`MAX_ENTRIES`] (cheap: a length test per map).
pub const CAP_EVERY: u64 = 5_000;
/// Events between two sweeps of stale state.
const SWEEP_EVERY: u64 = 50_000;

/// A log time as nanoseconds since the Unix epoch, taken once per event: the windows are
/// tested several times per event, and chrono's `t - then < window` (calendar dates to
/// days, a normalised delta) was 1% of a scan (issue 21). `i128` holds any time chrono
/// can (its ±262 000 years overflow an `i64` of nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct At(i128);

impl At {
    /// The oracle of [`At::of_with`] (the tests' times).
    #[cfg(test)]
    fn of(t: DateTime<FixedOffset>) -> At {
        At(i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos()))
    }

    /// [`At::of`] with the day's calendar arithmetic taken from `clock`.
    fn of_with(t: DateTime<FixedOffset>, clock: &mut DayClock) -> At {
        At(i128::from(clock.secs(t)) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos()))
    }

    /// `self - earlier`, in nanoseconds (negative when the clock went back).
    fn since(self, earlier: At) -> i128 {
        self.0 - earlier.0
    }
}

/// Seconds since the Unix epoch of a log time, with the calendar arithmetic done once per
/// day: chrono's `timestamp()` turns the date into a day count (ordinal, leap years,
/// 400-year cycles) for every call, which was some 3% of the correlating thread (issue
/// 21, m20: 1.2 M instructions in [`Correlator::push_taking`], 0.6 M in
/// [`crate::analysis::downgrade::Downgrades::add`]). Log times come in runs of one day,
/// so the last day's first second is kept and only the time of day is added.
#[derive(Debug, Clone, Copy, Default)]
pub struct DayClock {
    /// The last UTC date seen and the epoch second of its midnight.
    day: Option<(chrono::NaiveDate, i64)>,
}

impl DayClock {
    /// `t.timestamp()`, exactly (a leap second counts as the second before it, as
    /// chrono's does).
    pub fn secs(&mut self, t: DateTime<FixedOffset>) -> i64 {
        use chrono::Timelike;
        let u = t.naive_utc();
        let d = u.date();
        let base = match self.day {
            Some((have, base)) if have == d => base,
            _ => {
                let base = d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp();
                self.day = Some((d, base));
                base
            }
        };
        base + i64::from(u.time().num_seconds_from_midnight())
    }
}

/// A window in the nanoseconds [`At::since`] counts.
fn nanos(window: Duration) -> i128 {
    i128::from(window.num_seconds()) * 1_000_000_000 + i128::from(window.subsec_nanos())
}

/// When something last happened: the log time if known, and the event sequence number
/// (for logs without timestamps).
#[derive(Debug, Clone, Copy)]
struct Mark {
    time: Option<At>,
    seq: u64,
}

impl Mark {
    /// True when `self` happened less than `window` before `now` and less than
    /// [`SEQ_TTL`] events ago.
    fn fresh(&self, now: Mark, window: Duration) -> bool {
        let recent = now.seq.saturating_sub(self.seq) < SEQ_TTL;
        match (self.time, now.time) {
            (Some(then), Some(t)) => recent && t.since(then) < nanos(window),
            _ => recent,
        }
    }

    /// [`Mark::fresh`] for a sweep: counts into `evicted` an entry that only the event
    /// count makes stale (its time window is still open: a clock that stands still).
    fn keep(&self, now: Mark, window: Duration, evicted: &mut u64) -> bool {
        let fresh = self.fresh(now, window);
        if !fresh
            && let (Some(then), Some(t)) = (self.time, now.time)
            && t.since(then) < nanos(window)
        {
            *evicted += 1;
        }
        fresh
    }
}

/// Takes out of `map` the entries beyond [`MAX_ENTRIES`], oldest first by `seq` (the line
/// position they were last touched at), for the caller to release as if they had expired.
fn over_cap<K, V>(map: &mut HashMap<K, V>, seq: impl Fn(&V) -> u64) -> Vec<(K, V)>
where
    K: std::hash::Hash + Eq + Clone,
{
    if map.len() <= MAX_ENTRIES {
        return Vec::new();
    }
    let mut seqs: Vec<u64> = map.values().map(&seq).collect();
    let cut = seqs.len() - MAX_ENTRIES;
    let (_, &mut threshold, _) = seqs.select_nth_unstable(cut);
    let old: Vec<K> = map
        .iter()
        .filter(|(_, v)| seq(v) < threshold)
        .map(|(k, _)| k.clone())
        .collect();
    let mut out: Vec<(K, V)> = old.iter().filter_map(|k| map.remove_entry(k)).collect();
    out.sort_by_key(|(_, v)| seq(v));
    out
}

/// [`over_cap`] for a map of lists (the outbound sessions, or the errors waiting for a
/// peer, of one process): the entries of all lists count, so that one process collecting
/// ever more of them (a queue runner delivering to ever new relays while the clock stands
/// still) is bounded too, not only the number of processes. The oldest entries beyond
/// [`MAX_ENTRIES`] are taken out, oldest first; a list left empty goes with them.
fn over_cap_lists<K, T>(map: &mut HashMap<K, Vec<T>>, seq: impl Fn(&T) -> u64) -> Vec<T>
where
    K: std::hash::Hash + Eq,
{
    let total: usize = map.values().map(Vec::len).sum();
    if total <= MAX_ENTRIES {
        return Vec::new();
    }
    let mut seqs: Vec<u64> = map.values().flatten().map(&seq).collect();
    let cut = total - MAX_ENTRIES;
    let (_, &mut threshold, _) = seqs.select_nth_unstable(cut);
    let mut out = Vec::new();
    map.retain(|_, list| {
        if list.iter().any(|t| seq(t) < threshold) {
            let (keep, old): (Vec<T>, Vec<T>) = list.drain(..).partition(|t| seq(t) >= threshold);
            out.extend(old);
            *list = keep;
        }
        !list.is_empty()
    });
    out.sort_by_key(|t| seq(t));
    out
}

/// A log host as a small number ([`Hosts`]): `0` for a line without a host.
type HostId = u32;

/// A process: its log host (by [`HostId`]) and its pid. Looked up in several maps per
/// event: two integers hash as one word and compare without touching the host's name
/// (the `Arc<str>` it replaced was hashed byte by byte, compared with `memcmp` when the
/// block that parsed it was not the one that made the key, and counted up and down
/// atomically per event; issue 21).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProcKey {
    host: HostId,
    pid: u32,
}

impl std::hash::Hash for ProcKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64((u64::from(self.host) << 32) | u64::from(self.pid));
    }
}

/// How many hosts [`Hosts`] remembers by allocation: a mixed log interleaves a few.
const RECENT_HOSTS: usize = 4;

/// The log hosts seen, each given a [`HostId`] at its first sighting (from 1). A parsed
/// block shares one allocation per host name, so a host is found first among the last
/// few allocations by pointer, then by name; the map is probed once per new allocation.
/// Bounded by the distinct host names of the input (the run's report lists them all).
#[derive(Default)]
struct Hosts {
    recent: Vec<(Arc<str>, HostId)>,
    ids: HashMap<Arc<str>, HostId>,
}

impl Hosts {
    fn id(&mut self, host: Option<&Arc<str>>) -> HostId {
        let Some(h) = host else { return 0 };
        if let Some(&(_, id)) = self.recent.iter().find(|(r, _)| Arc::ptr_eq(r, h)) {
            return id;
        }
        let id = match self.ids.get(&**h) {
            Some(&id) => id,
            None => {
                let id = HostId::try_from(self.ids.len() + 1).unwrap_or(HostId::MAX);
                self.ids.insert(Arc::clone(h), id);
                id
            }
        };
        // This allocation replaces the oldest one remembered.
        if self.recent.len() == RECENT_HOSTS {
            self.recent.remove(0);
        }
        self.recent.push((Arc::clone(h), id));
        id
    }
}

struct InSession {
    peer: Peer,
    params: Arc<TlsParams>,
    last: Mark,
}

struct OutSession {
    /// The peer negotiated with, matched by [`Peer::same_key`]: its posture key is not
    /// built (a lower-cased copy per negotiation, and an address formatted per delivery
    /// to compare with it, were most of the Sendmail side's allocations; issue 21).
    peer: Peer,
    params: Arc<TlsParams>,
    last: Mark,
}

struct Pending {
    meta: Meta,
    direction: Option<Direction>,
    kind: TlsErrorKind,
    text: String,
    reason: Option<String>,
    at: Mark,
}

/// The correlation state machine. Feed events in log order with [`Correlator::push`], then
/// call [`Correlator::finish`] to flush what is still waiting.
#[derive(Default)]
pub struct Correlator {
    seq: u64,
    inbound: HashMap<ProcKey, InSession>,
    outbound: HashMap<ProcKey, Vec<OutSession>>,
    pending: HashMap<ProcKey, Vec<Pending>>,
    /// Error lines still gathering into incidents (see `correlate/incident.rs`).
    incidents: incident::Incidents,
    /// Processes whose last conversation just failed with an incident attributed to a peer:
    /// the `ruleset=tls_server|tls_client, arg1=SOFTWARE, …, reject=…` verdict that follows
    /// is that incident's consequence, not a second one.
    recent_failure: HashMap<ProcKey, Mark>,
    /// Postfix smtpd/smtp/qmgr state (see `correlate/postfix.rs`).
    postfix: postfix::PostfixState,
    /// Exim: sessions already counted, so `->` and repeated `rejected` lines do not count
    /// them again (see `correlate/exim.rs`).
    exim: exim::EximState,
    /// Entries dropped by the count bound while their time window was still open.
    evicted: u64,
    /// The log hosts by [`HostId`], for the process and queue id keys.
    hosts: Hosts,
    /// Each event's [`At`] without chrono's calendar arithmetic per event.
    clock: DayClock,
}

/// Same peer for correlation: the same IP when both sides know one, else the same key.
fn same_peer(a: &Peer, b: &Peer) -> bool {
    match (a.ip, b.ip) {
        (Some(x), Some(y)) => x == y,
        _ => a.same_key(b),
    }
}

impl Correlator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of open sessions and waiting errors (for tests of boundedness).
    pub fn open_state(&self) -> usize {
        self.inbound.len()
            + self.outbound.values().map(Vec::len).sum::<usize>()
            + self.pending.values().map(Vec::len).sum::<usize>()
            + self.incidents.len()
            + self.recent_failure.len()
            + self.postfix.len()
            + self.exim.len()
    }

    /// Entries the count bound ([`SEQ_TTL`], [`MAX_ENTRIES`]) dropped while their time
    /// window was still open: correlation that a log with a standing clock, or more
    /// concurrent state than the bound, may have cost. Zero on ordinary logs.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Takes one event and appends the records it completes to `out`: the bookkeeping
    /// every event needs (sequence, sweep, incidents), then the rules of its MTA.
    pub fn push(&mut self, mut ev: Event, out: &mut Vec<Record>) {
        self.push_taking(&mut ev, out);
    }

    /// [`Correlator::push`] for an event the caller drops afterwards: what the records keep
    /// (queue id, peer, TLS parameters, texts) is taken out of `ev` and the rest is left
    /// where it lies, for the caller to drop in place (the pipeline clears its vector of
    /// events). An event moved by value is a copy of its ~280 bytes at each hand-over
    /// (out of its vector, into this call, into each rule); issue 21 measured those
    /// copies at 5% of a scan's CPU, on the thread the scan waits on. After the call `ev`
    /// is a husk: its peer, queue id and TLS parameters may be gone.
    pub fn push_taking(&mut self, ev: &mut Event, out: &mut Vec<Record>) {
        self.seq += 1;
        let time = ev.time();
        let now = Mark {
            time: time.map(|t| At::of_with(t, &mut self.clock)),
            seq: self.seq,
        };
        if self.seq.is_multiple_of(SWEEP_EVERY) {
            self.sweep(now, out);
        } else if self.seq.is_multiple_of(CAP_EVERY) {
            self.cap(out);
        }
        let host = self.hosts.id(ev.host.as_ref());
        let meta = Meta {
            time,
            host: ev.host.take(),
            mta: ev.mta,
            source: ev.source.clone(),
        };
        let pid = ev.pid;
        let pk: Option<ProcKey> = pid.map(|pid| ProcKey { host, pid });
        if let EventKind::TlsError(e) = &mut ev.kind {
            // Exim's problems with its own TLS files are one stream per host, whatever
            // process logs them (see `incident`).
            let pk = if meta.mta == Mta::Exim && e.kind.is_local() {
                Some(ProcKey {
                    host,
                    pid: incident::EXIM_LOCAL,
                })
            } else {
                pk
            };
            let e = TlsError {
                direction: e.direction,
                peer: e.peer.take(),
                kind: e.kind,
                text: std::mem::take(&mut e.text),
            };
            self.gather_incident(e, &meta, pk.as_ref(), now, out);
            return;
        }
        self.end_burst(pk.as_ref(), now, out);
        if meta.mta == Mta::Exim {
            // Exim's local errors gather per host (above): any other Exim line of the host
            // ends their burst, as another line of a process ends that process's.
            self.end_burst(
                Some(&ProcKey {
                    host,
                    pid: incident::EXIM_LOCAL,
                }),
                now,
                out,
            );
        }
        let kind = &mut ev.kind;
        match meta.mta {
            Mta::Postfix => self.push_postfix(kind, meta, host, pk, now, out),
            // Exim (see `correlate/exim.rs`): a `rejected` line's session is complete.
            Mta::Exim if self.exim_sessions(kind, &meta, pid, now, out) => {}
            Mta::Exim | Mta::Sendmail => self.push_sendmail(kind, meta, pk, now, out),
        }
    }

    /// An error line gathers into the incident of its process (after the incidents gone
    /// stale by now are attributed).
    fn gather_incident(
        &mut self,
        e: TlsError,
        meta: &Meta,
        pk: Option<&ProcKey>,
        now: Mark,
        out: &mut Vec<Record>,
    ) {
        let mut done = Vec::new();
        self.incidents.stale(now, &mut done);
        if !(meta.mta == Mta::Postfix && self.postfix_not_a_failure(&e, pk, now)) {
            self.incidents
                .line(pk.cloned(), e, meta.clone(), now, &mut done);
        }
        for inc in done {
            self.push_incident(inc, out);
        }
    }

    /// Any line of a process but an error line ends its burst of error lines (after the
    /// incidents gone stale by now are attributed).
    fn end_burst(&mut self, pk: Option<&ProcKey>, now: Mark, out: &mut Vec<Record>) {
        // Nearly always nothing gathering: no call, no list (this runs for every line).
        if self.incidents.is_empty() {
            return;
        }
        let mut done = Vec::new();
        self.incidents.stale(now, &mut done);
        if let Some(pk) = pk {
            self.incidents.end_of(pk, &mut done);
        }
        for inc in done {
            self.push_incident(inc, out);
        }
    }

    /// The Sendmail rules (and Exim's for what its message lines do not settle): sessions
    /// by process, messages tied to the session of their process.
    fn push_sendmail(
        &mut self,
        kind: &mut EventKind,
        meta: Meta,
        pk: Option<ProcKey>,
        now: Mark,
        out: &mut Vec<Record>,
    ) {
        match kind {
            EventKind::Tls(s) => self.negotiated(s, meta, pk.as_ref(), now, out),
            EventKind::Received(r) => self.received(r, meta, pk.as_ref(), now, out),
            EventKind::Delivery(d) => self.delivered(d, meta, pk.as_ref(), now, out),
            EventKind::Policy(p) => self.verdict(p, meta, pk.as_ref(), now, out),
            // Gathered into incidents before.
            EventKind::TlsError(_) => {}
            EventKind::TlsReady { direction } => out.push(Record::Ready {
                meta,
                direction: *direction,
            }),
            EventKind::DaemonStart { version } => out.push(Record::Start {
                meta,
                version: version.take(),
            }),
            // Postfix only.
            EventKind::QueueClient { .. } => {}
            EventKind::Connect { .. } => {
                if let Some(pk) = &pk {
                    // A new connection: whatever still waits belongs to an older session.
                    if let Some(list) = self.pending.remove(pk) {
                        out.extend(list.into_iter().map(unattributed));
                    }
                    self.inbound.remove(pk);
                }
            }
            EventKind::SessionEnd {
                peer: Some(peer), ..
            } => {
                if let Some(pk) = &pk {
                    // A server-side error without a relay (Sendmail ≤ 8.14.5 `accept
                    // failed`) is followed by the session end that names the client.
                    self.flush_pending(pk, peer, Direction::Inbound, now, out);
                    self.inbound.remove(pk);
                }
            }
            EventKind::SessionEnd { peer: None, .. } => {
                if let Some(pk) = &pk {
                    self.inbound.remove(pk);
                }
            }
        }
    }

    /// A `STARTTLS=server|client` negotiation: the open inbound session of its process, or
    /// one remembered outbound session per peer of its process.
    fn negotiated(
        &mut self,
        s: &mut TlsSession,
        meta: Meta,
        pk: Option<&ProcKey>,
        now: Mark,
        out: &mut Vec<Record>,
    ) {
        let params = Arc::new(take_params(&mut s.params));
        if let Some(pk) = pk {
            self.flush_pending(pk, &s.peer, s.direction, now, out);
            match s.direction {
                Direction::Inbound => {
                    self.inbound.insert(
                        pk.clone(),
                        InSession {
                            peer: s.peer.clone(),
                            params: params.clone(),
                            last: now,
                        },
                    );
                }
                Direction::Outbound => {
                    // A peer with a posture key (a name or an address).
                    if !s.peer.is_empty() {
                        let list = self.outbound.entry(pk.clone()).or_default();
                        list.retain(|o| !o.peer.same_key(&s.peer));
                        list.push(OutSession {
                            peer: s.peer.clone(),
                            params: params.clone(),
                            last: now,
                        });
                    }
                }
            }
        }
        out.push(Record::Session {
            meta,
            direction: s.direction,
            peer: std::mem::take(&mut s.peer),
            params,
        });
    }

    /// A message received (`from=`): TLS when its process's open session is with the same
    /// peer and fresh, or when `proto=` says so.
    fn received(
        &mut self,
        r: &mut Reception,
        meta: Meta,
        pk: Option<&ProcKey>,
        now: Mark,
        out: &mut Vec<Record>,
    ) {
        let says_tls = r.proto_says_tls();
        let Some(peer) = r.peer.take() else {
            return; // local submission: no peer, no network
        };
        let (queue_id, tls) = (std::mem::take(&mut r.queue_id), r.tls.take());
        let mut encryption = None;
        if let Some(pk) = pk {
            self.flush_pending(pk, &peer, Direction::Inbound, now, out);
            if let Some(sess) = self.inbound.get_mut(pk) {
                if same_peer(&sess.peer, &peer) && sess.last.fresh(now, INBOUND_IDLE) {
                    sess.last = now;
                    encryption = Some(Encryption::Tls(sess.params.clone()));
                } else {
                    self.inbound.remove(pk);
                }
            }
        }
        let encryption = match (encryption, tls) {
            (Some(e), _) => e,
            (None, Some(p)) => Encryption::Tls(p),
            (None, None) if says_tls => Encryption::TlsUnknown,
            (None, None) => Encryption::Plaintext,
        };
        out.push(Record::Message {
            meta,
            direction: Direction::Inbound,
            peer,
            queue_id,
            encryption,
            status: None,
        });
    }

    /// A delivery attempt (`to=`): TLS when its process negotiated with that peer lately.
    fn delivered(
        &mut self,
        d: &mut Delivery,
        meta: Meta,
        pk: Option<&ProcKey>,
        now: Mark,
        out: &mut Vec<Record>,
    ) {
        if d.is_local() {
            return;
        }
        let Some(peer) = d.peer.take() else { return };
        let (queue_id, status) = (std::mem::take(&mut d.queue_id), d.status);
        let mut encryption = d.tls.take().map(Encryption::Tls);
        if let Some(pk) = pk {
            self.flush_pending(pk, &peer, Direction::Outbound, now, out);
            if encryption.is_none()
                && let Some(list) = self.outbound.get_mut(pk)
                && let Some(o) = list.iter_mut().find(|o| o.peer.same_key(&peer))
                && o.last.fresh(now, OUTBOUND_IDLE)
            {
                o.last = now;
                encryption = Some(Encryption::Tls(o.params.clone()));
            }
        }
        out.push(Record::Message {
            meta,
            direction: Direction::Outbound,
            peer,
            queue_id,
            encryption: encryption.unwrap_or(Encryption::Plaintext),
            status: Some(status),
        });
    }

    /// A `ruleset=tls_server|tls_client` verdict: a failure ends the session it judged, a
    /// refusal is an incident unless the handshake failure before it already was one.
    fn verdict(
        &mut self,
        p: &mut PolicyCheck,
        meta: Meta,
        pk: Option<&ProcKey>,
        now: Mark,
        out: &mut Vec<Record>,
    ) {
        let (Some(direction), Some(peer)) = (p.direction(), p.peer.take()) else {
            return;
        };
        let mut same_incident = false;
        if let Some(pk) = pk {
            let before = out.len();
            self.flush_pending(pk, &peer, direction, now, out);
            let flushed = out[before..]
                .iter()
                .any(|r| matches!(r, Record::Error { peer: Some(_), .. }));
            let recent = self
                .recent_failure
                .remove(pk)
                .is_some_and(|at| at.fresh(now, ERROR_WINDOW));
            same_incident = p.verify.is_tls_failure() && (flushed || recent);
            if p.verify.is_tls_failure() {
                match direction {
                    Direction::Inbound => {
                        self.inbound.remove(pk);
                    }
                    Direction::Outbound => {
                        if !peer.is_empty()
                            && let Some(list) = self.outbound.get_mut(pk)
                        {
                            list.retain(|o| !o.peer.same_key(&peer));
                        }
                    }
                }
            }
        }
        let reject = p.is_reject();
        // A failed handshake and the ruleset's refusal of it are one incident.
        if reject && !same_incident {
            // What the refused session lacked, in the kinds Postfix and Exim log for the
            // same incident: `arg1=NONE`, no STARTTLS offered (`not_offered`);
            // `arg1=FAIL`, a certificate that did not verify where `VERIFY` is required
            // (Postfix: "Server certificate not verified", Exim: "certificate
            // verification failed"; the real `verify_required` captures); `DANE_FAIL`, a
            // certificate not matching the TLSA records. Anything else (`OK` with too few
            // bits for `ENCR:`, …) is the policy's own refusal.
            let kind = match p.verify {
                Verify::None => TlsErrorKind::NotOffered,
                Verify::Fail => TlsErrorKind::CertVerify,
                Verify::DaneFail => TlsErrorKind::Dane,
                _ => TlsErrorKind::Policy,
            };
            out.push(Record::Error {
                meta: meta.clone(),
                direction: Some(direction),
                peer: Some(peer.clone()),
                kind,
                text: format!("{} arg1={} {}", p.ruleset, p.verify, p.outcome),
                reason: None,
            });
        }
        out.push(Record::Verdict {
            meta,
            direction,
            peer,
            verify: std::mem::replace(&mut p.verify, Verify::Unknown),
            reject,
            outcome: std::mem::take(&mut p.outcome),
        });
    }

    /// Attributes one finished incident (the Sendmail and Exim rules; Postfix has its own).
    fn push_incident(&mut self, inc: incident::Incident, out: &mut Vec<Record>) {
        let incident::Incident {
            pk,
            meta,
            error: e,
            reason,
            at,
        } = inc;
        if meta.mta == Mta::Postfix {
            return self.postfix_error(e, meta, pk, at, reason, out);
        }
        let local = e.kind.is_local();
        match (e.peer, &pk) {
            (Some(peer), _) if !local => {
                if let Some(pk) = &pk {
                    self.recent_failure.insert(pk.clone(), at);
                }
                out.push(Record::Error {
                    meta,
                    direction: e.direction,
                    peer: Some(peer),
                    kind: e.kind,
                    text: e.text,
                    reason,
                })
            }
            (None, Some(pk)) if !local => {
                self.pending.entry(pk.clone()).or_default().push(Pending {
                    meta,
                    direction: e.direction,
                    kind: e.kind,
                    text: e.text,
                    reason,
                    at,
                });
            }
            _ => out.push(Record::Error {
                meta,
                direction: e.direction,
                peer: None,
                kind: e.kind,
                text: e.text,
                reason,
            }),
        }
    }

    /// Gives the errors waiting on `pk` to `peer` (those still within the window; older
    /// ones go out unattributed).
    fn flush_pending(
        &mut self,
        pk: &ProcKey,
        peer: &Peer,
        direction: Direction,
        now: Mark,
        out: &mut Vec<Record>,
    ) {
        // Nearly always empty: no key hashed then (this runs for every message line).
        if self.pending.is_empty() {
            return;
        }
        let Some(list) = self.pending.remove(pk) else {
            return;
        };
        for p in list {
            let fresh = p.at.fresh(now, ERROR_WINDOW);
            out.push(Record::Error {
                meta: p.meta,
                direction: if fresh {
                    Some(p.direction.unwrap_or(direction))
                } else {
                    p.direction
                },
                peer: fresh.then(|| peer.clone()),
                kind: p.kind,
                text: p.text,
                reason: p.reason,
            });
        }
    }

    /// Drops state idle past its window, then what exceeds [`MAX_ENTRIES`]; the records
    /// this releases go out in input order.
    fn sweep(&mut self, now: Mark, out: &mut Vec<Record>) {
        let mut released: Vec<(u64, Record)> = Vec::new();
        self.sweep_postfix(now, &mut released);
        self.evicted += self.exim.sweep(now);
        let ev = &mut self.evicted;
        self.inbound
            .retain(|_, s| s.last.keep(now, INBOUND_IDLE, ev));
        self.recent_failure
            .retain(|_, at| at.keep(now, ERROR_WINDOW, ev));
        self.outbound.retain(|_, list| {
            list.retain(|o| o.last.keep(now, OUTBOUND_IDLE, ev));
            !list.is_empty()
        });
        self.pending.retain(|_, list| {
            let (keep, old): (Vec<_>, Vec<_>) = list
                .drain(..)
                .partition(|p| p.at.keep(now, ERROR_WINDOW, ev));
            released.extend(old.into_iter().map(|p| (p.at.seq, unattributed(p))));
            *list = keep;
            !list.is_empty()
        });
        release(released, out);
        self.cap(out);
    }

    /// Takes the oldest entries out of every map over [`MAX_ENTRIES`]; the records this
    /// releases go out in input order.
    fn cap(&mut self, out: &mut Vec<Record>) {
        let mut released: Vec<(u64, Record)> = Vec::new();
        self.cap_postfix(&mut released);
        self.evicted += self.exim.cap();
        let before = released.len();
        self.evicted += over_cap(&mut self.inbound, |s| s.last.seq).len() as u64;
        self.evicted += over_cap(&mut self.recent_failure, |at| at.seq).len() as u64;
        self.evicted += over_cap_lists(&mut self.outbound, |o| o.last.seq).len() as u64;
        let last_seq = |list: &Vec<OutSession>| list.iter().map(|o| o.last.seq).max();
        self.evicted += over_cap(&mut self.outbound, |l| last_seq(l).unwrap_or(0)).len() as u64;
        let waiting = over_cap_lists(&mut self.pending, |p| p.at.seq);
        released.extend(waiting.into_iter().map(|p| (p.at.seq, unattributed(p))));
        let first_seq = |list: &Vec<Pending>| list.iter().map(|p| p.at.seq).min();
        for (_, list) in over_cap(&mut self.pending, |l| first_seq(l).unwrap_or(0)) {
            released.extend(list.into_iter().map(|p| (p.at.seq, unattributed(p))));
        }
        self.evicted += (released.len() - before) as u64;
        release(released, out);
    }

    /// Closes the error bursts still gathering into incidents and attributes them, as if
    /// the next line had come. `follow` calls it after each batch of appended lines so an
    /// alert does not wait for a line that may not come; a burst split across two reads
    /// then counts twice, which live alerts accept.
    pub fn flush_incidents(&mut self, out: &mut Vec<Record>) {
        let mut done = Vec::new();
        self.incidents.drain(&mut done);
        for inc in done {
            self.push_incident(inc, out);
        }
    }

    /// Ends the stream: errors still waiting for a peer go out unattributed; what the end
    /// releases goes out in input order.
    pub fn finish(mut self, out: &mut Vec<Record>) {
        let mut done = Vec::new();
        self.incidents.drain(&mut done);
        for inc in done {
            self.push_incident(inc, out);
        }
        let mut released: Vec<(u64, Record)> = Vec::new();
        self.finish_postfix(&mut released);
        for (_, list) in self.pending.drain() {
            released.extend(list.into_iter().map(|p| (p.at.seq, unattributed(p))));
        }
        release(released, out);
    }
}

/// Takes a session's parameters out of its event, leaving a placeholder that allocates
/// nothing (the event is dropped right after): the parameters go behind an `Arc` once.
fn take_params(p: &mut TlsParams) -> TlsParams {
    let blank = TlsParams::new(TlsVersion::Legacy, None, Bits::default(), Verify::Unknown);
    std::mem::replace(p, blank)
}

/// Appends records released together (by a sweep, at the end) in the order of the lines
/// they come from, whatever order the maps held them in.
fn release(mut released: Vec<(u64, Record)>, out: &mut Vec<Record>) {
    released.sort_by_key(|(seq, r)| (*seq, r.meta().source.line));
    out.extend(released.into_iter().map(|(_, r)| r));
}

fn unattributed(p: Pending) -> Record {
    Record::Error {
        meta: p.meta,
        direction: p.direction,
        peer: None,
        kind: p.kind,
        text: p.text,
        reason: p.reason,
    }
}

#[cfg(test)]
mod tests {
    use super::DayClock;
    use chrono::{DateTime, FixedOffset, TimeZone};
    use proptest::prelude::*;

    proptest! {
        /// The cached day gives chrono's `timestamp()` for any run of times: the same day
        /// again, another day, back and forth, any offset, leap-second nanoseconds too.
        #[test]
        fn day_clock_is_timestamp(
            times in prop::collection::vec(
                (-200_000_000_000i64..200_000_000_000, 0u32..2_000_000_000, -86_399i32..86_400),
                1..40,
            ),
            near in any::<bool>(),
        ) {
            let mut clock = DayClock::default();
            let mut prev: Option<DateTime<FixedOffset>> = None;
            for (secs, nanos, off) in times {
                let offset = FixedOffset::east_opt(off).unwrap();
                // `near`: the next time within a day of the last (the usual case).
                let secs = match (near, prev) {
                    (true, Some(p)) => p.timestamp() + secs.rem_euclid(86_400 * 2) - 86_400,
                    _ => secs,
                };
                let Some(t) = DateTime::from_timestamp(secs, nanos) else { continue };
                let t = offset.from_utc_datetime(&t.naive_utc());
                prop_assert_eq!(clock.secs(t), t.timestamp());
                prev = Some(t);
            }
        }
    }
}
