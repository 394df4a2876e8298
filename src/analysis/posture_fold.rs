//! The per-record posture fold of a run: [`PostureFold`], the accumulator `scan` feeds
//! every record to, turned into a [`Posture`] once at the end.
//!
//! [`Posture`] is the shape reports, policies, fleet merges and the history read: string
//! keyed maps, ordered by word. Folding millions of records straight into it costs a
//! B-tree walk of string compares per record for the peer, again for every histogram
//! word and every name (issue 21: 6–8 % of a scan's CPU). This accumulator does the same
//! arithmetic on interned, typed slots instead: a peer's key is hashed once per record
//! to a [`PeerId`] (allocated only at the peer's first sighting), known protocol
//! versions and verify words are array slots, ciphers are interned ids. The result of
//! [`PostureFold::into_posture`] equals what [`Posture::add`] gives for the same records
//! (the proptest below), so every output stays byte-identical.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset};

use super::posture::{
    DirPosture, ErrorMap, Incident, MessageCount, PeerPosture, Posture, add_error, merge_errors,
    verdict_counts,
};
use crate::model::{Cipher, Direction, Hist, Mta, Peer, TlsParams, TlsVersion};
use crate::model::{Record, Verify, max_time, min_time};

type Time = DateTime<FixedOffset>;

/// foldhash instead of SipHash: the peer map is probed once per record.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// The dense index of one distinct posture key in a [`PostureFold`]: the position of its
/// record, so a record's peer costs one hash probe and no string compare beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerId(u32);

/// A typed key with a fixed slot for every known variant and its word kept only for the
/// rest (`Other(String)`), so counting a known word is an array increment.
trait Slotted: Sized + Clone + 'static {
    /// How many known variants (the array's length).
    /// The known variants, in slot order (`slot(&KNOWN[i]) == Ok(i)`, tested).
    const KNOWN: &'static [Self];
    const SLOTS: usize = Self::KNOWN.len();
    /// The slot of a known variant, or the word of an unknown one.
    fn slot(&self) -> Result<usize, &str>;
    /// The unknown variant of a word.
    fn other(word: String) -> Self;
}

impl Slotted for TlsVersion {
    const KNOWN: &'static [Self] = &[
        TlsVersion::Ssl2,
        TlsVersion::Ssl3,
        TlsVersion::Tls1_0,
        TlsVersion::Tls1_1,
        TlsVersion::Tls1_2,
        TlsVersion::Tls1_3,
        TlsVersion::Legacy,
    ];
    fn slot(&self) -> Result<usize, &str> {
        Ok(match self {
            TlsVersion::Ssl2 => 0,
            TlsVersion::Ssl3 => 1,
            TlsVersion::Tls1_0 => 2,
            TlsVersion::Tls1_1 => 3,
            TlsVersion::Tls1_2 => 4,
            TlsVersion::Tls1_3 => 5,
            TlsVersion::Legacy => 6,
            TlsVersion::Other(w) => return Err(w),
        })
    }
    fn other(word: String) -> Self {
        TlsVersion::Other(word)
    }
}

impl Slotted for Verify {
    const KNOWN: &'static [Self] = &[
        Verify::Ok,
        Verify::No,
        Verify::Not,
        Verify::Fail,
        Verify::None,
        Verify::Temp,
        Verify::Protocol,
        Verify::Software,
        Verify::Clear,
        Verify::Trusted,
        Verify::DaneFail,
        Verify::DaneTemp,
        Verify::DaneNoTls,
        Verify::Config,
        Verify::Failure,
        Verify::Unknown,
    ];
    fn slot(&self) -> Result<usize, &str> {
        Ok(match self {
            Verify::Ok => 0,
            Verify::No => 1,
            Verify::Not => 2,
            Verify::Fail => 3,
            Verify::None => 4,
            Verify::Temp => 5,
            Verify::Protocol => 6,
            Verify::Software => 7,
            Verify::Clear => 8,
            Verify::Trusted => 9,
            Verify::DaneFail => 10,
            Verify::DaneTemp => 11,
            Verify::DaneNoTls => 12,
            Verify::Config => 13,
            Verify::Failure => 14,
            Verify::Unknown => 15,
            Verify::Other(w) => return Err(w),
        })
    }
    fn other(word: String) -> Self {
        Verify::Other(word)
    }
}

/// Counts by [`Slotted`] key: `N` array slots and a small list for unknown words (a
/// handful per peer at most; the word is copied at its first count only).
#[derive(Debug, Clone)]
struct Slots<const N: usize> {
    known: [u64; N],
    other: Vec<(String, u64)>,
}

impl<const N: usize> Default for Slots<N> {
    fn default() -> Self {
        Slots {
            known: [0; N],
            other: Vec::new(),
        }
    }
}

impl<const N: usize> Slots<N> {
    fn add<K: Slotted>(&mut self, k: &K) {
        match k.slot() {
            Ok(i) => {
                if let Some(c) = self.known.get_mut(i) {
                    *c += 1;
                }
            }
            Err(w) => self.add_other(w, 1),
        }
    }

    fn add_other(&mut self, w: &str, n: u64) {
        match self.other.iter_mut().find(|(o, _)| o == w) {
            Some((_, c)) => *c += n,
            None => self.other.push((w.to_owned(), n)),
        }
    }

    fn merge(&mut self, o: Slots<N>) {
        for (a, b) in self.known.iter_mut().zip(o.known) {
            *a += b;
        }
        for (w, n) in o.other {
            match self.other.iter_mut().find(|(x, _)| *x == w) {
                Some((_, c)) => *c += n,
                None => self.other.push((w, n)),
            }
        }
    }

    /// The [`Hist`] of these counts (ordered by word, as [`Hist`] always is).
    fn into_hist<K: Slotted + crate::model::hist::Word>(self) -> Hist<K> {
        let mut h = Hist::default();
        for (i, n) in self.known.into_iter().enumerate() {
            if let Some(k) = K::KNOWN.get(i).cloned() {
                h.add_n(&k, n);
            }
        }
        for (w, n) in self.other {
            h.add_n(&K::other(w), n);
        }
        h
    }
}

/// Counts by small id, the first few kept inline in the peer's record (no pointer to
/// chase per record: the fold's cost is its cache misses), the rest in a list.
#[derive(Debug, Clone, Default)]
struct Few {
    /// (id, count); a count of 0 marks a free slot.
    inline: [(u32, u64); 4],
    more: Vec<(u32, u64)>,
}

impl Few {
    fn add(&mut self, id: u32, n: u64) {
        if n == 0 {
            return;
        }
        for (i, c) in &mut self.inline {
            if *c == 0 {
                (*i, *c) = (id, n);
                return;
            }
            if *i == id {
                *c += n;
                return;
            }
        }
        match self.more.iter_mut().find(|(i, _)| *i == id) {
            Some((_, c)) => *c += n,
            None => self.more.push((id, n)),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.inline
            .iter()
            .filter(|(_, c)| *c > 0)
            .chain(&self.more)
            .copied()
    }
}

/// One direction of one peer: [`DirPosture`] with typed slots.
#[derive(Debug, Clone, Default)]
struct DirFold {
    tls_sessions: u64,
    tls_messages: u64,
    plaintext_messages: u64,
    deferred: u64,
    bounced: u64,
    versions: Slots<{ <TlsVersion as Slotted>::SLOTS }>,
    /// Sessions by cipher id (the fold's interner): a peer uses a few ciphers.
    ciphers: Few,
    verify: Slots<{ <Verify as Slotted>::SLOTS }>,
    /// Rare (a ruleset's word when TLS did not come up): out of line, so the slots every
    /// session touches stay on fewer cache lines.
    verdicts: Option<Box<Slots<{ <Verify as Slotted>::SLOTS }>>>,
    min_bits: Option<u16>,
    errors: ErrorMap,
    first_seen: Option<Time>,
    last_seen: Option<Time>,
}

impl DirFold {
    fn seen(&mut self, t: Option<Time>) {
        self.first_seen = min_time(self.first_seen, t);
        self.last_seen = max_time(self.last_seen, t);
    }

    /// Adds `o`, whose cipher ids are translated by `cipher_map` (its interner's ids to
    /// ours).
    fn merge(&mut self, o: DirFold, cipher_map: &[u32]) {
        self.tls_sessions += o.tls_sessions;
        self.tls_messages += o.tls_messages;
        self.plaintext_messages += o.plaintext_messages;
        self.deferred += o.deferred;
        self.bounced += o.bounced;
        self.versions.merge(o.versions);
        for (id, n) in o.ciphers.iter() {
            if let Some(&mine) = cipher_map.get(id as usize) {
                self.ciphers.add(mine, n);
            }
        }
        self.verify.merge(o.verify);
        match (&mut self.verdicts, o.verdicts) {
            (Some(a), Some(b)) => a.merge(*b),
            (a, b) => *a = a.take().or(b),
        }
        self.min_bits = match (self.min_bits, o.min_bits) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        merge_errors(&mut self.errors, o.errors);
        self.first_seen = min_time(self.first_seen, o.first_seen);
        self.last_seen = max_time(self.last_seen, o.last_seen);
    }

    fn into_dir(self, ciphers: &[Cipher]) -> DirPosture {
        let mut c: Hist<Cipher> = Hist::default();
        for (id, n) in self.ciphers.iter() {
            if let Some(name) = ciphers.get(id as usize) {
                c.add_n(name, n);
            }
        }
        DirPosture {
            tls_sessions: self.tls_sessions,
            tls_messages: self.tls_messages,
            plaintext_messages: self.plaintext_messages,
            deferred: self.deferred,
            bounced: self.bounced,
            versions: self.versions.into_hist(),
            ciphers: c,
            verify: self.verify.into_hist(),
            verdicts: self.verdicts.map_or_else(Hist::default, |v| v.into_hist()),
            min_bits: self.min_bits,
            errors: self.errors,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
        }
    }
}

/// Everything known about one peer: [`PeerPosture`] with typed slots.
#[derive(Debug, Clone)]
struct PeerFold {
    key: String,
    /// Names as logged; one or two per peer (case variants), so a list.
    names: Vec<String>,
    ips: BTreeSet<IpAddr>,
    /// The address noted last: a session's records (negotiation, messages) repeat it, and
    /// a set insert is a search of `ips` (a busy peer has many).
    last_ip: Option<IpAddr>,
    /// Bit `1 << mta_bit(m)` per MTA that saw the peer.
    mtas: u8,
    /// Inbound, outbound.
    dirs: [DirFold; 2],
}

fn mta_bit(m: Mta) -> u8 {
    match m {
        Mta::Sendmail => 1,
        Mta::Postfix => 2,
        Mta::Exim => 4,
    }
}

fn dir_idx(d: Direction) -> usize {
    match d {
        Direction::Inbound => 0,
        Direction::Outbound => 1,
    }
}

impl PeerFold {
    fn new(key: String) -> PeerFold {
        PeerFold {
            key,
            names: Vec::new(),
            ips: BTreeSet::new(),
            last_ip: None,
            mtas: 0,
            dirs: [DirFold::default(), DirFold::default()],
        }
    }

    /// The address and MTA of a record (its name is noted by [`PostureFold::peer_id`]).
    fn note(&mut self, peer: &Peer, mta: Mta) {
        if let Some(ip) = peer.ip
            && self.last_ip != Some(ip)
        {
            self.ips.insert(ip);
            self.last_ip = Some(ip);
        }
        self.mtas |= mta_bit(mta);
    }

    fn into_peer(self, ciphers: &[Cipher]) -> PeerPosture {
        let [inbound, outbound] = self.dirs;
        PeerPosture {
            peer: self.key,
            names: self.names.into_iter().collect(),
            ips: self.ips,
            mtas: [Mta::Sendmail, Mta::Postfix, Mta::Exim]
                .into_iter()
                .filter(|m| self.mtas & mta_bit(*m) != 0)
                .collect(),
            inbound: inbound.into_dir(ciphers),
            outbound: outbound.into_dir(ciphers),
        }
    }
}

/// What a string of the fold's peer map stands for.
#[derive(Debug, Clone, Copy)]
struct Spelling {
    id: PeerId,
    /// Where the string is among the peer's names (as logged): set at its first sighting
    /// as a name, so a known name costs no compare against the peer's names.
    name: Option<u32>,
}

/// The accumulator of a run's per-record posture fold: feed records with
/// [`PostureFold::add`] (any order gives the same result, as for [`Posture::add`]),
/// combine shards with [`PostureFold::merge`], and take the [`Posture`] with
/// [`PostureFold::into_posture`].
#[derive(Debug, Clone, Default)]
pub struct PostureFold {
    /// Posture key → id, looked up by `&str` and allocated at a peer's first sighting;
    /// also every spelling of a name with capitals → its key's id. The two never clash:
    /// a key has no capitals (a lower-cased name or an address as Rust writes it).
    ids: HashMap<Box<str>, Spelling>,
    /// Address-only peers: address → id, so their key is formatted once, not per record.
    by_ip: HashMap<IpAddr, PeerId>,
    /// The peers by id, each boxed: a [`PeerFold`] is some 700 bytes, and a vector of
    /// them copied every one at each growth (4 M instructions of 2 230 peers on a 20 MB
    /// log, most of [`PostureFold::intern`]; issue 21). A box moves as a pointer.
    #[allow(clippy::vec_box)] // the point: growth and the final sort move pointers
    peers: Vec<Box<PeerFold>>,
    /// Cipher name → id, and the names by id.
    cipher_ids: HashMap<Box<str>, u32>,
    ciphers: Vec<Cipher>,
    local_errors: BTreeMap<String, ErrorMap>,
    /// The peer name of the last named record: (its id, its place in the peer's names).
    /// A session and the messages that rode on it often come one after the other, and
    /// the name compared against this one costs no hash probe of `ids` (a large map: a
    /// probe is a cache miss more often than not).
    last_name: Option<(PeerId, u32)>,
}

/// How many of the first ciphers interned [`PostureFold::cipher_id`] compares before it
/// hashes: a host negotiates a handful, so the name is nearly always among them.
const FEW_CIPHERS: usize = 8;

impl PostureFold {
    /// The id of a posture key, made at its first sighting.
    fn intern(&mut self, key: &str) -> PeerId {
        if let Some(e) = self.ids.get(key) {
            return e.id;
        }
        let id = PeerId(self.peers.len() as u32);
        self.peers.push(Box::new(PeerFold::new(key.to_owned())));
        self.ids.insert(key.into(), Spelling { id, name: None });
        id
    }

    /// The id of a peer's key ([`Peer::key`]), with no allocation and one hash probe
    /// once the spelling is known: a name with capitals is lower-cased at its first
    /// sighting only and then found as written (see `ids`), an address-only peer is found
    /// by its address.
    fn peer_id(&mut self, peer: &Peer) -> Option<PeerId> {
        match &peer.name {
            Some(n) => {
                if let Some((id, j)) = self.last_name
                    && self
                        .peers
                        .get(id.0 as usize)
                        .and_then(|p| p.names.get(j as usize))
                        .is_some_and(|have| have.as_str() == n.as_str())
                {
                    return Some(id);
                }
                let id = match self.ids.get(n.as_str()) {
                    Some(&Spelling { id, name: Some(j) }) => {
                        self.last_name = Some((id, j));
                        return Some(id);
                    }
                    Some(e) => e.id,
                    None if !n.bytes().any(|b| b.is_ascii_uppercase()) => self.intern(n),
                    None => {
                        let id = self.intern(&n.to_ascii_lowercase());
                        self.ids
                            .insert(n.as_str().into(), Spelling { id, name: None });
                        id
                    }
                };
                // The first time this string is a name: one compare against the names.
                let Some(p) = self.peers.get_mut(id.0 as usize) else {
                    return Some(id);
                };
                let j = match p.names.iter().position(|have| have.as_str() == n.as_str()) {
                    Some(j) => j,
                    None => {
                        p.names.push(n.as_str().to_owned());
                        p.names.len() - 1
                    }
                } as u32;
                if let Some(e) = self.ids.get_mut(n.as_str()) {
                    e.name = Some(j);
                }
                self.last_name = Some((id, j));
                Some(id)
            }
            None => {
                let ip = peer.ip?;
                if let Some(&id) = self.by_ip.get(&ip) {
                    return Some(id);
                }
                let id = self.intern(&ip.to_string());
                self.by_ip.insert(ip, id);
                Some(id)
            }
        }
    }

    fn cipher_id(&mut self, c: &Cipher) -> u32 {
        if let Some(i) = self
            .ciphers
            .iter()
            .take(FEW_CIPHERS)
            .position(|have| have.as_str() == c.as_str())
        {
            return i as u32;
        }
        if let Some(&id) = self.cipher_ids.get(c.as_str()) {
            return id;
        }
        let id = self.ciphers.len() as u32;
        self.ciphers.push(c.clone());
        self.cipher_ids.insert(c.as_str().into(), id);
        id
    }

    fn session(&mut self, id: PeerId, d: usize, p: &TlsParams) {
        let cipher = p.cipher.as_ref().map(|c| self.cipher_id(c));
        let Some(dir) = self
            .peers
            .get_mut(id.0 as usize)
            .and_then(|pf| pf.dirs.get_mut(d))
        else {
            return;
        };
        dir.tls_sessions += 1;
        dir.versions.add(&p.version);
        if let Some(c) = cipher {
            dir.ciphers.add(c, 1);
        }
        dir.verify.add(&p.verify);
        if let Some(b) = p.bits.effective() {
            dir.min_bits = Some(dir.min_bits.map_or(b, |m| m.min(b)));
        }
    }

    /// Folds one record in: the same sums as [`Posture::add`].
    pub fn add(&mut self, r: &Record) {
        let meta = r.meta();
        let Some(peer) = r.peer() else {
            if let Some((incident, host)) = Incident::of(r) {
                // The host is copied at its first error only.
                match self.local_errors.get_mut(host) {
                    Some(m) => add_error(m, incident),
                    None => add_error(
                        self.local_errors.entry(host.to_owned()).or_default(),
                        incident,
                    ),
                }
            }
            return;
        };
        let Some(id) = self.peer_id(peer) else { return };
        let d = dir_idx(r.direction().unwrap_or(Direction::Outbound));
        if let Record::Session { params, .. } = r {
            self.session(id, d, params);
        }
        let Some(pf) = self.peers.get_mut(id.0 as usize) else {
            return;
        };
        pf.note(peer, meta.mta);
        let Some(dir) = pf.dirs.get_mut(d) else {
            return;
        };
        dir.seen(meta.time);
        match r {
            Record::Session { .. } => {}
            Record::Message {
                encryption,
                status,
                direction,
                ..
            } => match MessageCount::of(*direction, *status, encryption) {
                MessageCount::Tls => dir.tls_messages += 1,
                MessageCount::Plaintext => dir.plaintext_messages += 1,
                MessageCount::Deferred => dir.deferred += 1,
                MessageCount::Bounced => dir.bounced += 1,
                MessageCount::Nothing => {}
            },
            Record::Verdict { verify, .. } => {
                if verdict_counts(verify) {
                    dir.verdicts.get_or_insert_with(Box::default).add(verify);
                }
            }
            Record::Error { .. } => {
                if let Some((incident, _)) = Incident::of(r) {
                    add_error(&mut dir.errors, incident);
                }
            }
            Record::Ready { .. } | Record::Start { .. } => {}
        }
    }

    /// Adds another accumulator (a shard folded apart): the result is the fold of both
    /// shards' records, in either order.
    pub fn merge(&mut self, o: PostureFold) {
        let cipher_map: Vec<u32> = o.ciphers.iter().map(|c| self.cipher_id(c)).collect();
        let mut peer_map: Vec<PeerId> = Vec::with_capacity(o.peers.len());
        for p in o.peers {
            let p = *p;
            let id = self.intern(&p.key);
            peer_map.push(id);
            let Some(mine) = self.peers.get_mut(id.0 as usize) else {
                continue;
            };
            for n in p.names {
                if !mine.names.contains(&n) {
                    mine.names.push(n);
                }
            }
            mine.ips.extend(p.ips);
            mine.mtas |= p.mtas;
            for (a, b) in mine.dirs.iter_mut().zip(p.dirs) {
                a.merge(b, &cipher_map);
            }
        }
        for (ip, id) in o.by_ip {
            if let Some(&mine) = peer_map.get(id.0 as usize) {
                self.by_ip.entry(ip).or_insert(mine);
            }
        }
        for (h, errs) in o.local_errors {
            merge_errors(self.local_errors.entry(h).or_default(), errs);
        }
    }

    /// How many distinct peers were seen.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// The fold as a [`Posture`]: exactly what [`Posture::add`] over the same records
    /// gives.
    pub fn into_posture(self) -> Posture {
        let ciphers = self.ciphers;
        // Sorted by key while each peer is a pointer: the map below is built from sorted
        // input, which it checks in one pass, instead of sorting the finished
        // `PeerPosture`s, a few hundred bytes moved per swap (8 M instructions of 2 230
        // peers on a 20 MB log, on the thread the scan waits on; issue 21). Keys are
        // unique (interned); a stable sort keeps the map's result even if they were not.
        let mut peers = self.peers;
        peers.sort_by(|a, b| a.key.cmp(&b.key));
        let peers = peers
            .into_iter()
            .map(|p| {
                let pp = (*p).into_peer(&ciphers);
                (pp.peer.clone(), pp)
            })
            .collect();
        Posture {
            peers,
            local_errors: self.local_errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Bits, DeliveryStatus, Encryption, Meta, Source, TlsErrorKind};
    use proptest::prelude::*;
    use std::sync::Arc;

    const VERSIONS: &[&str] = &[
        "SSLv2",
        "SSLv3",
        "TLSv1",
        "TLSv1.1",
        "TLSv1.2",
        "TLSv1.3",
        "TLSv1/SSLv3",
        "UNKNOWN",
        "QUIC",
    ];
    const VERIFY: &[&str] = &[
        "OK",
        "NO",
        "NOT",
        "FAIL",
        "NONE",
        "TEMP",
        "PROTOCOL",
        "SOFTWARE",
        "CLEAR",
        "TRUSTED",
        "DANE_FAIL",
        "DANE_TEMP",
        "DANE_NOTLS",
        "CONFIG",
        "FAILURE",
        "UNKNOWN",
        "MAYBE",
        "odd word",
    ];
    /// More ciphers than a peer's record keeps inline.
    const CIPHERS: &[&str] = &[
        "TLS_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "DES-CBC3-SHA",
        "TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "AES256-SHA",
    ];
    /// Names with case variants and one address-only peer per address.
    const NAMES: &[Option<&str>] = &[
        Some("mx1.example.org"),
        Some("MX1.Example.ORG"),
        Some("mail-ed1-f52.google.com"),
        Some("smtp.outlook.com"),
        Some("Smtp.Outlook.com"),
        None,
    ];
    const IPS: &[&str] = &[
        "192.0.2.7",
        "198.51.100.25",
        "2001:db8::25",
        "::ffff:192.0.2.9",
    ];
    const KINDS: &[TlsErrorKind] = &[
        TlsErrorKind::PrivateKey,
        TlsErrorKind::Handshake,
        TlsErrorKind::Io,
        TlsErrorKind::Library,
    ];

    fn meta(sec: Option<i64>, host: Option<&str>, mta: u8, line: u64) -> Meta {
        Meta {
            time: sec.map(|s| {
                DateTime::from_timestamp(1_795_000_000 + s, 0)
                    .unwrap()
                    .fixed_offset()
            }),
            host: host.map(Arc::from),
            mta: [Mta::Sendmail, Mta::Postfix, Mta::Exim][usize::from(mta % 3)],
            source: Source {
                file: Arc::from(if line.is_multiple_of(2) {
                    "maillog"
                } else {
                    "mainlog"
                }),
                line,
            },
        }
    }

    /// A realistic record from a few drawn numbers: several peers by name (in two
    /// spellings) or address, both directions, every version and verify word including
    /// unknown ones, messages of every status, verdicts, peer and local errors.
    fn record(line: u64, x: [u8; 8]) -> Record {
        let [what, who, ip, dir, word, word2, sec, extra] = x;
        let direction = if dir.is_multiple_of(2) {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        let name = NAMES[usize::from(who) % NAMES.len()];
        let ip = (ip % 5 != 4).then(|| IPS[usize::from(ip) % IPS.len()].parse().unwrap());
        let peer = Peer::new(name, ip);
        let time = (!sec.is_multiple_of(7)).then(|| i64::from(sec) * 37);
        let host = match extra % 3 {
            0 => None,
            1 => Some("mx1"),
            _ => Some("mx2"),
        };
        let m = meta(time, host, extra, line);
        let verify = Verify::parse(VERIFY[usize::from(word2) % VERIFY.len()]);
        match what % 6 {
            0 | 1 => Record::Session {
                meta: m,
                direction,
                peer,
                params: TlsParams::new(
                    TlsVersion::parse(VERSIONS[usize::from(word) % VERSIONS.len()]),
                    (!word.is_multiple_of(5))
                        .then(|| Cipher::new(CIPHERS[usize::from(word ^ extra) % CIPHERS.len()])),
                    Bits::postfix(
                        (!extra.is_multiple_of(4)).then_some(u16::from(extra)),
                        Some(u16::from(extra) + 1),
                    ),
                    verify,
                )
                .into(),
            },
            2 => Record::Message {
                meta: m,
                direction,
                peer,
                queue_id: compact_str::format_compact!("Q{line}"),
                encryption: match word % 3 {
                    0 => Encryption::Plaintext,
                    1 => Encryption::TlsUnknown,
                    _ => Encryption::Tls(
                        TlsParams::new(TlsVersion::Tls1_3, None, Bits::default(), Verify::Ok)
                            .into(),
                    ),
                },
                status: [
                    None,
                    Some(DeliveryStatus::Sent),
                    Some(DeliveryStatus::Deferred),
                    Some(DeliveryStatus::Bounced),
                    Some(DeliveryStatus::Other),
                ][usize::from(word2) % 5],
            },
            3 => Record::Verdict {
                meta: m,
                direction,
                peer,
                verify,
                reject: word.is_multiple_of(2),
                outcome: "tls_server".into(),
            },
            4 => Record::Error {
                meta: m,
                direction: (!dir.is_multiple_of(3)).then_some(direction),
                peer: (!word.is_multiple_of(3)).then_some(peer),
                kind: KINDS[usize::from(word2) % KINDS.len()],
                text: format!("STARTTLS: error {}", word % 4),
                reason: (word.is_multiple_of(2)).then(|| "SSL routines::no shared cipher".into()),
            },
            _ => {
                if word.is_multiple_of(2) {
                    Record::Ready {
                        meta: m,
                        direction: Some(direction),
                    }
                } else {
                    Record::Start {
                        meta: m,
                        version: None,
                    }
                }
            }
        }
    }

    fn records(raw: &[[u8; 8]]) -> Vec<Record> {
        raw.iter()
            .enumerate()
            .map(|(i, x)| record(i as u64 + 1, *x))
            .collect()
    }

    fn reference(rs: &[Record]) -> Posture {
        let mut p = Posture::default();
        rs.iter().for_each(|r| p.add(r));
        p
    }

    fn folded(rs: &[Record]) -> PostureFold {
        let mut f = PostureFold::default();
        rs.iter().for_each(|r| f.add(r));
        f
    }

    /// Equal as values and as written (the snapshot's JSON).
    fn same(a: &Posture, b: &Posture) {
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(a).unwrap(),
            serde_json::to_string(b).unwrap()
        );
    }

    proptest! {
        /// The accumulator gives exactly `Posture::add`'s posture, and two halves folded
        /// apart and merged (either way round) give the whole.
        #[test]
        fn fold_equals_posture_add_and_halves_merge(
            raw in prop::collection::vec(any::<[u8; 8]>(), 0..300),
            cut in any::<prop::sample::Index>(),
        ) {
            let rs = records(&raw);
            let want = reference(&rs);
            same(&folded(&rs).into_posture(), &want);
            let at = cut.index(rs.len() + 1);
            let (a, b) = rs.split_at(at);
            let mut ab = folded(a);
            ab.merge(folded(b));
            same(&ab.into_posture(), &want);
            let mut ba = folded(b);
            ba.merge(folded(a));
            same(&ba.into_posture(), &want);
        }
    }

    /// Case variants and an address-only peer share one id each; known words land in
    /// their slots, unknown ones in the fallback, and both come back typed.
    #[test]
    fn interns_keys_and_types_words() {
        let raw: Vec<[u8; 8]> = (0u8..60)
            .map(|i| [i % 2, i % 6, i, i, i, i, i + 1, i])
            .collect();
        let rs = records(&raw);
        let f = folded(&rs);
        let keys: BTreeSet<String> = rs
            .iter()
            .filter_map(|r| r.peer().and_then(Peer::key))
            .collect();
        assert_eq!(f.peer_count(), keys.len());
        let p = f.into_posture();
        assert!(p.peers.contains_key("mx1.example.org"));
        assert!(!p.peers.contains_key("MX1.Example.ORG"));
        let mx1 = &p.peers["mx1.example.org"];
        assert!(mx1.names.contains("MX1.Example.ORG") && mx1.names.contains("mx1.example.org"));
        let all: Hist<TlsVersion> = p
            .peers
            .values()
            .flat_map(|pp| [pp.inbound.versions.clone(), pp.outbound.versions.clone()])
            .fold(Hist::default(), |mut a, h| {
                a.merge(h);
                a
            });
        assert!(all.get(&TlsVersion::Other("QUIC".into())) > 0);
        assert!(all.get(&TlsVersion::Tls1_3) > 0);
        same(&p, &reference(&rs));
    }

    /// Runs of one peer (a session and its messages), spellings that alternate, ciphers
    /// that repeat and merges between them: the remembered last name and cipher give the
    /// ids a full lookup gives, so the posture is `Posture::add`'s.
    #[test]
    fn runs_of_one_peer_and_merges_keep_the_posture() {
        // who = 0 and 1 are one peer in two spellings (see NAMES); word picks the cipher.
        let run = |who: u8, n: u8| -> Vec<[u8; 8]> {
            (0..n).map(|i| [i % 3, who, 1, i, 3, i, 2 + i, 1]).collect()
        };
        let mut raw = Vec::new();
        for (who, n) in [
            (0, 5),
            (1, 3),
            (0, 2),
            (2, 4),
            (0, 1),
            (1, 6),
            (3, 2),
            (2, 3),
        ] {
            raw.extend(run(who, n));
        }
        let rs = records(&raw);
        let want = reference(&rs);
        same(&folded(&rs).into_posture(), &want);
        for cut in [1, 7, 10, 20] {
            let (a, b) = rs.split_at(cut);
            let (a1, a2) = a.split_at(cut / 2);
            let mut f = folded(a1);
            f.merge(folded(b));
            a2.iter().for_each(|r| f.add(r));
            same(&f.into_posture(), &want);
        }
    }

    /// Each known word sits in its own slot, and the slots hold every known variant, so
    /// counts go back to the words they came from.
    #[test]
    fn known_words_are_their_slots() {
        fn check<K: Slotted + std::fmt::Debug + PartialEq>() {
            assert_eq!(K::KNOWN.len(), K::SLOTS);
            for (i, k) in K::KNOWN.iter().enumerate() {
                assert_eq!(k.slot(), Ok(i), "{k:?}");
            }
        }
        check::<TlsVersion>();
        check::<Verify>();
        assert_eq!(TlsVersion::Other("QUIC".into()).slot(), Err("QUIC"));
        assert_eq!(Verify::Other("MAYBE".into()).slot(), Err("MAYBE"));
    }
}
