//! Per-peer TLS posture: what every peer's sessions and messages looked like.
//!
//! Every type here is a commutative monoid: [`Posture::default`] is the identity and
//! [`Posture::merge`] is associative and commutative. That is what lets blocks of records
//! fold in parallel and lets snapshots from many hosts merge (`mailtls merge`) into the same
//! answer one pass over all the logs would give.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::model::{Cipher, Hist, TlsVersion};
use crate::model::{DeliveryStatus, Direction, Mta, Peer, Source, TlsErrorKind, TlsParams, Verify};
use crate::model::{Encryption, Record, max_time, min_time};

type Time = DateTime<FixedOffset>;

/// Occurrences of one kind of error: how many, when, and the most recent text (the one an
/// administrator needs first).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorStat {
    pub count: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "crate::model::time_json::opt"
    )]
    pub first_seen: Option<Time>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "crate::model::time_json::opt"
    )]
    pub last_seen: Option<Time>,
    pub last_text: String,
    /// The library line that explained the incident of `last_text`, when it had one
    /// (`error:0A0000C1:SSL routines::no shared cipher:…`; see `Record::Error::reason`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_reason: Option<String>,
    /// Where `last_text` was read (file, line): among lines of the same second the last in
    /// input order wins, so a log with second stamps and the same log with microsecond
    /// stamps keep the same last text (issue 18). Not serialised: a merged snapshot falls
    /// back to the text order, which is still independent of merge order.
    #[serde(skip)]
    pub last_at: Option<Source>,
    /// The MTAs that logged these incidents: the advice for the kind is given in their
    /// terms only (a peer that a Sendmail and a Postfix host of a fleet both talk to gets
    /// Postfix's advice for an error only Postfix logged). Empty in snapshots written
    /// before it was recorded: the report then falls back to the peer's MTAs.
    #[serde(skip_serializing_if = "BTreeSet::is_empty", default)]
    pub mtas: BTreeSet<Mta>,
}

/// Equal when what is reported is equal: `last_at` only breaks ties and is not part of
/// the value (a snapshot read back from JSON has none).
impl PartialEq for ErrorStat {
    fn eq(&self, o: &Self) -> bool {
        self.count == o.count
            && self.first_seen == o.first_seen
            && self.last_seen == o.last_seen
            && self.last_text == o.last_text
            && self.last_reason == o.last_reason
            && self.mtas == o.mtas
    }
}

impl Eq for ErrorStat {}

/// The order that picks the last text: time, then input position, then the text itself
/// (a total order, so `merge` stays commutative and associative).
fn later(
    a: (Option<Time>, Option<&Source>, &str),
    b: (Option<Time>, Option<&Source>, &str),
) -> bool {
    match (a.0, b.0) {
        (Some(x), Some(y)) if x != y => return y > x,
        (None, Some(_)) => return true,
        (Some(_), None) => return false,
        _ => {}
    }
    match (a.1, b.1) {
        (Some(x), Some(y)) if x != y => return y > x,
        (None, Some(_)) => return true,
        (Some(_), None) => return false,
        _ => {}
    }
    b.2 > a.2
}

impl ErrorStat {
    fn one(i: &Incident<'_>) -> ErrorStat {
        ErrorStat {
            count: 1,
            first_seen: i.time,
            last_seen: i.time,
            last_text: i.text.to_owned(),
            last_reason: i.reason.map(str::to_owned),
            last_at: i.at.cloned(),
            mtas: BTreeSet::from([i.mta]),
        }
    }

    /// Sums counts; the last text is the one seen latest, ties (same second) going to the
    /// later line of the input, then to the greater text, so the result does not depend on
    /// merge order.
    pub fn merge(&mut self, other: ErrorStat) {
        let take_other = later(
            (self.last_seen, self.last_at.as_ref(), &self.last_text),
            (other.last_seen, other.last_at.as_ref(), &other.last_text),
        );
        if take_other {
            self.last_text = other.last_text;
            self.last_reason = other.last_reason;
            self.last_at = other.last_at;
        }
        self.count += other.count;
        self.mtas.extend(other.mtas);
        self.first_seen = min_time(self.first_seen, other.first_seen);
        self.last_seen = max_time(self.last_seen, other.last_seen);
    }
}

/// Errors by kind.
pub type ErrorMap = BTreeMap<TlsErrorKind, ErrorStat>;

pub(super) fn merge_errors(into: &mut ErrorMap, from: ErrorMap) {
    for (k, v) in from {
        into.entry(k).or_default().merge(v);
    }
}

/// One incident's facts for [`add_error`].
pub(super) struct Incident<'a> {
    pub(super) kind: TlsErrorKind,
    pub(super) time: Option<Time>,
    pub(super) text: &'a str,
    pub(super) reason: Option<&'a str>,
    pub(super) at: Option<&'a Source>,
    pub(super) mta: Mta,
}

impl<'a> Incident<'a> {
    /// The incident an error record is; `None` for every other record. Also the key of a
    /// local error's entry: the log host, else the input file (a log without a host field,
    /// Exim's mainlog or pasted lines, so two such logs never share one `-` entry).
    pub(super) fn of(r: &'a Record) -> Option<(Incident<'a>, &'a str)> {
        let Record::Error {
            kind,
            text,
            reason,
            meta,
            ..
        } = r
        else {
            return None;
        };
        let host = meta.host.as_deref().unwrap_or(&meta.source.file);
        let incident = Incident {
            kind: *kind,
            time: meta.time,
            text,
            reason: reason.as_deref(),
            at: Some(&meta.source),
            mta: meta.mta,
        };
        Some((incident, host))
    }
}

pub(super) fn add_error(into: &mut ErrorMap, i: Incident<'_>) {
    let Incident {
        kind,
        time,
        text,
        reason,
        at,
        mta,
    } = i;
    match into.get_mut(&kind) {
        // The same decision as `merge(ErrorStat::one(time, text, at))`, copying the text
        // only when it becomes the last one.
        Some(e) => {
            let take = later(
                (e.last_seen, e.last_at.as_ref(), &e.last_text),
                (time, at, text),
            );
            if take {
                e.last_text.clear();
                e.last_text.push_str(text);
                e.last_reason = reason.map(str::to_owned);
                e.last_at = at.cloned();
            }
            e.count += 1;
            e.mtas.insert(mta);
            e.first_seen = min_time(e.first_seen, time);
            e.last_seen = max_time(e.last_seen, time);
        }
        None => {
            into.insert(kind, ErrorStat::one(&i));
        }
    }
}

/// [`Peer::key`] without allocating in the common case (a name already in lower case).
fn peer_key(peer: &Peer) -> Option<Cow<'_, str>> {
    match &peer.name {
        Some(n) if !n.bytes().any(|b| b.is_ascii_uppercase()) => Some(Cow::Borrowed(n)),
        _ => peer.key().map(Cow::Owned),
    }
}

/// What one message record adds to its peer's direction: one rule for [`Posture::add`] and
/// the interned fold ([`super::posture_fold`]). An inbound message was received (over TLS or
/// in clear); an outbound one counts as delivered only with `stat=Sent`, a deferral or a
/// bounce is counted as such, and an attempt without a final status counts nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MessageCount {
    Tls,
    Plaintext,
    Deferred,
    Bounced,
    Nothing,
}

impl MessageCount {
    pub(super) fn of(
        direction: Direction,
        status: Option<DeliveryStatus>,
        encryption: &Encryption,
    ) -> MessageCount {
        let delivered = match (direction, status) {
            (Direction::Inbound, _) | (Direction::Outbound, Some(DeliveryStatus::Sent)) => true,
            (Direction::Outbound, Some(DeliveryStatus::Deferred)) => {
                return MessageCount::Deferred;
            }
            (Direction::Outbound, Some(DeliveryStatus::Bounced)) => {
                return MessageCount::Bounced;
            }
            _ => false,
        };
        match (delivered, encryption) {
            (false, _) => MessageCount::Nothing,
            (true, Encryption::Plaintext) => MessageCount::Plaintext,
            (true, _) => MessageCount::Tls,
        }
    }
}

/// Whether a policy verdict counts as a verdict: words a STARTTLS summary line also carries
/// are counted from the summary (counting the verdict too would count one session twice).
pub(super) fn verdict_counts(verify: &Verify) -> bool {
    !matches!(
        verify,
        Verify::Ok | Verify::No | Verify::Not | Verify::Fail | Verify::Trusted | Verify::DaneFail
    )
}

/// One direction (inbound or outbound) of one peer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DirPosture {
    /// Completed TLS negotiations.
    pub tls_sessions: u64,
    /// Messages received, or delivered (`stat=Sent`), over TLS.
    pub tls_messages: u64,
    /// Messages received or delivered in clear text.
    pub plaintext_messages: u64,
    /// Delivery attempts deferred (outbound).
    pub deferred: u64,
    /// Delivery attempts bounced (outbound).
    pub bounced: u64,
    /// Sessions by protocol version (written by label).
    pub versions: Hist<TlsVersion>,
    /// Sessions by cipher name.
    pub ciphers: Hist<Cipher>,
    /// Sessions by verify word: one count per completed TLS session, so the histogram
    /// never exceeds `tls_sessions`.
    pub verify: Hist<Verify>,
    /// Policy ruleset verdicts by the word only a ruleset reports (`ruleset=tls_server,
    /// arg1=NONE|SOFTWARE|TEMP|PROTOCOL|…`): attempts where TLS did not come up. Kept apart
    /// from `verify` (issue 18: adding them there made the histogram exceed the sessions).
    #[serde(skip_serializing_if = "Hist::is_empty", default)]
    pub verdicts: Hist<Verify>,
    /// Weakest session: minimum effective (secret) bits.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub min_bits: Option<u16>,
    pub errors: ErrorMap,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "crate::model::time_json::opt"
    )]
    pub first_seen: Option<Time>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        serialize_with = "crate::model::time_json::opt"
    )]
    pub last_seen: Option<Time>,
}

impl DirPosture {
    pub fn merge(&mut self, o: DirPosture) {
        self.tls_sessions += o.tls_sessions;
        self.tls_messages += o.tls_messages;
        self.plaintext_messages += o.plaintext_messages;
        self.deferred += o.deferred;
        self.bounced += o.bounced;
        self.versions.merge(o.versions);
        self.ciphers.merge(o.ciphers);
        self.verify.merge(o.verify);
        self.verdicts.merge(o.verdicts);
        self.min_bits = match (self.min_bits, o.min_bits) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        merge_errors(&mut self.errors, o.errors);
        self.first_seen = min_time(self.first_seen, o.first_seen);
        self.last_seen = max_time(self.last_seen, o.last_seen);
    }

    fn seen(&mut self, t: Option<Time>) {
        self.first_seen = min_time(self.first_seen, t);
        self.last_seen = max_time(self.last_seen, t);
    }

    fn session(&mut self, p: &TlsParams) {
        self.tls_sessions += 1;
        self.versions.add(&p.version);
        if let Some(c) = &p.cipher {
            self.ciphers.add(c);
        }
        self.verify.add(&p.verify);
        if let Some(b) = p.bits.effective() {
            self.min_bits = Some(self.min_bits.map_or(b, |m| m.min(b)));
        }
    }

    /// Every TLS outcome word: the sessions' verify words and the verdict-only words, for
    /// policy rules that judge both ("STARTTLS not offered", "handshake failed").
    pub fn outcomes(&self) -> Hist<Verify> {
        let mut all = self.verify.clone();
        all.merge_ref(&self.verdicts);
        all
    }

    /// All messages, TLS or not.
    pub fn messages(&self) -> u64 {
        self.tls_messages + self.plaintext_messages
    }

    /// Sessions whose certificate failed verification.
    pub fn failed_verify(&self) -> u64 {
        self.verify.count_where(Verify::is_failed_verification)
    }

    /// Sessions on SSLv2/3 or TLS 1.0/1.1.
    pub fn deprecated_sessions(&self) -> u64 {
        self.versions.count_where(TlsVersion::is_deprecated)
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().map(|e| e.count).sum()
    }

    pub fn is_empty(&self) -> bool {
        *self == DirPosture::default()
    }
}

/// Everything known about one peer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PeerPosture {
    /// The posture key: host name lower-cased without trailing dot, else the IP.
    pub peer: String,
    /// Every name the peer was seen under (as logged, case kept).
    pub names: BTreeSet<String>,
    pub ips: BTreeSet<IpAddr>,
    /// Which MTAs saw it.
    pub mtas: BTreeSet<Mta>,
    pub inbound: DirPosture,
    pub outbound: DirPosture,
}

impl PeerPosture {
    pub fn merge(&mut self, o: PeerPosture) {
        if self.peer.is_empty() {
            self.peer = o.peer;
        }
        self.names.extend(o.names);
        self.ips.extend(o.ips);
        self.mtas.extend(o.mtas);
        self.inbound.merge(o.inbound);
        self.outbound.merge(o.outbound);
    }

    pub fn dir(&self, d: Direction) -> &DirPosture {
        match d {
            Direction::Inbound => &self.inbound,
            Direction::Outbound => &self.outbound,
        }
    }

    fn dir_mut(&mut self, d: Direction) -> &mut DirPosture {
        match d {
            Direction::Inbound => &mut self.inbound,
            Direction::Outbound => &mut self.outbound,
        }
    }

    fn note(&mut self, peer: &Peer, mta: Mta) {
        if let Some(n) = &peer.name
            && !self.names.contains(n.as_str())
        {
            self.names.insert(n.to_string());
        }
        if let Some(ip) = peer.ip {
            self.ips.insert(ip);
        }
        self.mtas.insert(mta);
    }

    /// How worrying this peer is, for "worst first" ordering: plaintext share weighs most,
    /// then failed verification, then deprecated protocols, then errors.
    pub fn concern(&self) -> f64 {
        let mut score = 0.0;
        for d in [&self.inbound, &self.outbound] {
            let msgs = d.messages() as f64;
            if msgs > 0.0 {
                score += 100.0 * d.plaintext_messages as f64 / msgs;
            }
            let sessions = d.tls_sessions as f64;
            if sessions > 0.0 {
                score += 50.0 * d.failed_verify() as f64 / sessions;
                score += 30.0 * d.deprecated_sessions() as f64 / sessions;
            }
            if d.error_count() > 0 || d.deferred > 0 {
                score += 10.0;
            }
        }
        score
    }
}

/// The posture of every peer, plus the errors that belong to no peer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Posture {
    #[serde(with = "peer_list")]
    pub peers: BTreeMap<String, PeerPosture>,
    /// Errors of our own installation (keys, certificates, configuration) and errors that
    /// could not be tied to a peer, by log host; a log without a host field (Exim's
    /// mainlog) is keyed by its input file instead.
    pub local_errors: BTreeMap<String, ErrorMap>,
}

impl Posture {
    /// Folds one record in.
    pub fn add(&mut self, r: &Record) {
        let meta = r.meta();
        let Some(peer) = r.peer() else {
            if let Some((incident, host)) = Incident::of(r) {
                add_error(
                    self.local_errors.entry(host.to_owned()).or_default(),
                    incident,
                );
            }
            return;
        };
        let Some(key) = peer_key(peer) else { return };
        // Looked up by `&str` first: the key is allocated once per peer, not per record.
        if !self.peers.contains_key(&*key) {
            let key = key.clone().into_owned();
            self.peers.insert(
                key.clone(),
                PeerPosture {
                    peer: key,
                    ..PeerPosture::default()
                },
            );
        }
        let Some(pp) = self.peers.get_mut(&*key) else {
            return;
        };
        pp.note(peer, meta.mta);
        let d = pp.dir_mut(r.direction().unwrap_or(Direction::Outbound));
        d.seen(meta.time);
        match r {
            Record::Session { params, .. } => d.session(params),
            Record::Message {
                encryption,
                status,
                direction,
                ..
            } => match MessageCount::of(*direction, *status, encryption) {
                MessageCount::Tls => d.tls_messages += 1,
                MessageCount::Plaintext => d.plaintext_messages += 1,
                MessageCount::Deferred => d.deferred += 1,
                MessageCount::Bounced => d.bounced += 1,
                MessageCount::Nothing => {}
            },
            Record::Verdict { verify, .. } => {
                if verdict_counts(verify) {
                    d.verdicts.add(verify);
                }
            }
            Record::Error { .. } => {
                if let Some((incident, _)) = Incident::of(r) {
                    add_error(&mut d.errors, incident);
                }
            }
            // Peer-less by construction (returned above); not posture facts.
            Record::Ready { .. } | Record::Start { .. } => {}
        }
    }

    pub fn merge(&mut self, o: Posture) {
        for (k, v) in o.peers {
            self.peers.entry(k).or_default().merge(v);
        }
        for (h, errs) in o.local_errors {
            merge_errors(self.local_errors.entry(h).or_default(), errs);
        }
    }

    /// Peers, worst first (then by message volume, then by key).
    pub fn worst_first(&self) -> Vec<&PeerPosture> {
        let mut v: Vec<&PeerPosture> = self.peers.values().collect();
        v.sort_by(|a, b| {
            b.concern()
                .total_cmp(&a.concern())
                .then_with(|| {
                    (b.inbound.messages() + b.outbound.messages())
                        .cmp(&(a.inbound.messages() + a.outbound.messages()))
                })
                .then_with(|| a.peer.cmp(&b.peer))
        });
        v
    }
}

/// Peers serialise as a list (friendlier to `jq '.peers[]'`), each carrying its key.
mod peer_list {
    use super::PeerPosture;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(
        m: &BTreeMap<String, PeerPosture>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let v: Vec<&PeerPosture> = m.values().collect();
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, PeerPosture>, D::Error> {
        let v: Vec<PeerPosture> = Vec::deserialize(d)?;
        let mut m: BTreeMap<String, PeerPosture> = BTreeMap::new();
        for p in v {
            m.entry(p.peer.clone()).or_default().merge(p);
        }
        Ok(m)
    }
}
