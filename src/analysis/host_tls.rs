//! Our hosts that never did TLS in a direction: the side to blame when every peer's mail
//! through one of our hosts went in clear text.
//!
//! A server that does not offer STARTTLS logs nothing about it: Debian's Sendmail enables
//! no STARTTLS until `confSERVER_CERT`/`confSERVER_KEY` are set, a Postfix without
//! `smtpd_tls_security_level = may` never says so, and their clients just send in clear.
//! Read per peer, such a log grades every peer F ("never STARTTLS") when none of them is at
//! fault. An experienced postmaster reads it per host: if not one session on `mx2` in a
//! direction used TLS, while several peers sent mail there (or a peer that did TLS with
//! another of our hosts sent or received mail there), the peers are not the common factor,
//! `mx2` is.
//!
//! [`HostTls`] counts per log host and direction (the host as the downgrade windows name
//! it, [`crate::analysis::downgrade::host_name`]): TLS seen at all, plaintext messages, and
//! while no TLS was seen, the plaintext per peer. It is a monoid (a merged snapshot holds
//! the counts one run over all the logs would have), and [`HostTls::without_tls`] draws the
//! conclusion at judging time: no TLS, at least [`MIN_PEERS`] peers and [`MIN_MESSAGES`]
//! messages inbound (or a peer with TLS elsewhere), no TLS incident of that host and role (a broken key is a downgrade window, with
//! its own advice). Their plaintext joins the [`Outage`]: not held against the peers.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::downgrade::{HostKey, Outage, Window, host_key, host_name, is_host, same_alloc};
use super::posture::Posture;
use crate::model::{Direction, Mta, Record, Source};

type Time = DateTime<FixedOffset>;

/// Distinct peers sending in clear text to a host that did no TLS at all, that make the
/// host the common factor: one peer alone may simply not do TLS.
pub const MIN_PEERS: usize = 2;

/// Messages in clear text below which a host's traffic is too thin to conclude anything.
pub const MIN_MESSAGES: u64 = 3;

/// What one of our log hosts did in one direction (role): inbound = our server side,
/// outbound = our client side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostDir {
    /// The log host; for a log without a host field (Exim's mainlog) its input file.
    pub host: String,
    pub direction: Direction,
    /// The MTA whose settings the advice names: of the host's records in this direction,
    /// the first in [`Mta`]'s order (a host runs one MTA as a rule).
    pub mta: Mta,
    /// Records showing TLS in this role: sessions, messages over TLS, TLS ready
    /// (`init=1`), and TLS incidents (a failed handshake was still STARTTLS).
    pub tls: u64,
    pub plaintext_messages: u64,
    /// While `tls` is 0: plaintext messages per peer key (emptied once TLS is seen).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub peers: BTreeMap<String, u64>,
    /// The first plaintext message (the earliest of a merge); with `peers`, `first_source`
    /// and `last` only while no TLS was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Time>,
}

impl HostDir {
    fn new(host: String, direction: Direction, mta: Mta) -> HostDir {
        HostDir {
            host,
            direction,
            mta,
            tls: 0,
            plaintext_messages: 0,
            peers: BTreeMap::new(),
            first: None,
            first_source: None,
            last: None,
        }
    }

    /// What the reports say of this host and role when it is ours to fix ("what broke",
    /// in Markdown and HTML alike): `9 messages in clear text from 3 peers, not one TLS
    /// session inbound (our server side) on this host: ours to fix, not the peers'`.
    pub fn summary(&self) -> String {
        let (to, side) = match self.direction {
            Direction::Inbound => ("from", "inbound (our server side)"),
            Direction::Outbound => ("to", "outbound (our client side)"),
        };
        format!(
            "{} in clear text {to} {}, not one TLS session {side} on this host: ours to fix, not the peers'",
            crate::model::text::count(self.plaintext_messages, "message", "messages"),
            crate::model::text::count(self.peers.len() as u64, "peer", "peers"),
        )
    }

    /// Drops what only a host without TLS needs (its peers and times): once TLS is seen
    /// the host is not blamed, whatever else is added.
    fn forget(&mut self) {
        self.peers = BTreeMap::new();
        self.first = None;
        self.first_source = None;
        self.last = None;
    }

    /// Adds another count of the same host and direction.
    fn merge(&mut self, o: HostDir) {
        self.tls += o.tls;
        self.plaintext_messages += o.plaintext_messages;
        self.mta = self.mta.min(o.mta);
        if self.tls > 0 {
            self.forget();
            return;
        }
        for (k, n) in o.peers {
            *self.peers.entry(k).or_default() += n;
        }
        // The earliest first (ties: the smaller source) and the latest last, so that the
        // merge does not depend on order.
        let theirs = (o.first.is_none(), o.first, &o.first_source);
        let mine = (self.first.is_none(), self.first, &self.first_source);
        if theirs < mine {
            self.first = o.first;
            self.first_source = o.first_source;
        }
        self.last = self.last.max(o.last);
    }

    /// True when this host and role is the common factor of its peers' clear text
    /// ([`HostTls::without_tls`] also checks for windows): no TLS at all, and either
    /// several peers sending to us (inbound), or a peer that did TLS in this role with
    /// another of our hosts (the posture sums every host: this one had none).
    ///
    /// Several peers are enough inbound only: the senders of the Internet nearly all use
    /// STARTTLS when it is offered, so when none of them did, we did not offer it. Outbound
    /// a server that offers no STARTTLS leaves the same trace as a client that does not try
    /// it (none: Sendmail and Postfix log nothing), and a relay delivering to two internal
    /// servers without TLS is common; there only a peer that took TLS from another host of
    /// ours shows that this host's client is the one that did not.
    fn never_tls(&self, posture: &Posture) -> bool {
        self.never_tls_with(|k| {
            posture.peers.get(k).is_some_and(|p| {
                let d = p.dir(self.direction);
                d.tls_sessions + d.tls_messages > 0
            })
        })
    }

    /// True when this host and role is the common factor of its peers' clear text: no TLS
    /// at all, and either several peers sending to us (inbound), or a peer that did TLS in
    /// this role elsewhere, as `did_tls(peer key)` says (the posture of a whole run for
    /// [`HostTls::without_tls`], what `follow` has seen so far for its alert).
    pub fn never_tls_with(&self, did_tls: impl Fn(&str) -> bool) -> bool {
        if self.tls > 0 || self.peers.is_empty() {
            return false;
        }
        let several = self.direction == Direction::Inbound
            && self.peers.len() >= MIN_PEERS
            && self.plaintext_messages >= MIN_MESSAGES;
        several || self.peers.keys().any(|k| did_tls(k))
    }
}

/// Per log host and direction, sorted by (host, direction): see the module.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostTls(pub Vec<HostDir>);

impl HostTls {
    /// Adds another snapshot's counts (associative and commutative).
    pub fn merge(&mut self, o: HostTls) {
        for d in o.0 {
            match self
                .0
                .binary_search_by(|x| (&x.host, x.direction).cmp(&(&d.host, d.direction)))
            {
                Ok(i) => {
                    if let Some(x) = self.0.get_mut(i) {
                        x.merge(d);
                    }
                }
                Err(i) => self.0.insert(i, d),
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The hosts and roles that did no TLS with peers that are not the common factor
    /// ([`MIN_PEERS`] of them, or one that did TLS with another host of ours: `posture`),
    /// and had no TLS incident that opened a window (`windows`): ours to fix.
    pub fn without_tls<'a>(
        &'a self,
        windows: &'a [Window],
        posture: &'a Posture,
    ) -> impl Iterator<Item = &'a HostDir> {
        self.0.iter().filter(move |d| {
            d.never_tls(posture)
                && !windows
                    .iter()
                    .any(|w| w.host == d.host && w.direction == d.direction)
        })
    }
}

/// Adds the clear text of `hosts` ([`HostTls::without_tls`]) to `outage`: mail a host of
/// ours could only send or take in clear says nothing about the peers.
pub fn add_outage(hosts: &[&HostDir], outage: &mut Outage) {
    for d in hosts {
        for (p, n) in &d.peers {
            *outage.entry((p.clone(), d.direction)).or_default() += n;
        }
    }
}

/// [`HostTls`] folded one record at a time, in any order.
#[derive(Debug, Default)]
pub struct HostTlsFold {
    slots: Vec<HostDir>,
    /// Each host seen and its slots (inbound, outbound), the last one used first: a scan
    /// reads a few hosts, whose lines interleave, so a short walk comparing names (no key
    /// built, nothing hashed) finds them.
    hosts: Vec<(HostKey, [Option<usize>; 2])>,
}

impl HostTlsFold {
    /// Folds one record (after the filter, as the posture does).
    pub fn add(&mut self, r: &Record) {
        // What the record says of TLS in its role: Some(true) TLS, Some(false) a message in
        // clear text, None nothing (another record, or a delivery that did not go through).
        let (dirs, tls): (&[Direction], bool) = match r {
            Record::Session { direction, .. } => (dir_slice(*direction), true),
            Record::Message {
                direction,
                encryption,
                status,
                ..
            } => {
                if *direction == Direction::Outbound
                    && *status != Some(crate::model::DeliveryStatus::Sent)
                    && !encryption.is_tls()
                {
                    return;
                }
                (dir_slice(*direction), encryption.is_tls())
            }
            Record::Ready { direction, .. } | Record::Error { direction, .. } => {
                // TLS was set up or tried in that role (both when the line did not say).
                match direction {
                    Some(d) => (dir_slice(*d), true),
                    None => (&[Direction::Inbound, Direction::Outbound], true),
                }
            }
            // A verdict is no evidence either way (`tls_server, arg1=NONE` follows a
            // session without STARTTLS).
            Record::Verdict { .. } | Record::Start { .. } => return,
        };
        let meta = r.meta();
        for &d in dirs {
            let slot = self.slot(meta, d);
            let Some(s) = self.slots.get_mut(slot) else {
                continue;
            };
            s.mta = s.mta.min(meta.mta);
            if tls {
                s.tls += 1;
                if s.tls == 1 {
                    s.forget();
                }
                continue;
            }
            s.plaintext_messages += 1;
            // Once TLS was seen nothing else is needed: a host that did TLS is not blamed
            // (and this is most records of a scan, on its one correlating thread).
            if s.tls > 0 {
                continue;
            }
            // The earliest (ties: the smaller source), as a merge takes it.
            let source = Some(meta.source.clone());
            if (meta.time.is_none(), meta.time, &source)
                < (s.first.is_none(), s.first, &s.first_source)
            {
                s.first = meta.time;
                s.first_source = source;
            }
            s.last = s.last.max(meta.time);
            if let Some(k) = r.peer().and_then(|p| p.key()) {
                *s.peers.entry(k).or_default() += 1;
            }
        }
    }

    /// What has been folded for `meta`'s host in direction `d` (`follow` asks after each
    /// record whether it is now a host without TLS).
    pub fn get(&self, meta: &crate::model::Meta, d: Direction) -> Option<&HostDir> {
        let i = usize::from(d == Direction::Outbound);
        let (_, slots) = self.hosts.iter().find(|(k, _)| is_host(k, meta))?;
        self.slots.get(slots[i]?)
    }

    /// The slot of `meta`'s host in direction `d`, made on first sight.
    fn slot(&mut self, meta: &crate::model::Meta, d: Direction) -> usize {
        let i = usize::from(d == Direction::Outbound);
        // By allocation first (a parsed block shares one per host name, so this is
        // nearly always found without comparing names: the hosts of a mixed log have
        // names of one length, compared with `memcmp`, issue 21), then by name; a host
        // found by name keeps the new allocation, which the next records share.
        let at = match self.hosts.iter().position(|(k, _)| same_alloc(k, meta)) {
            Some(at) => at,
            None => match self.hosts.iter().position(|(k, _)| is_host(k, meta)) {
                Some(at) => {
                    if let Some((k, _)) = self.hosts.get_mut(at) {
                        *k = host_key(meta);
                    }
                    at
                }
                None => {
                    self.hosts.push((host_key(meta), [None, None]));
                    self.hosts.len() - 1
                }
            },
        };
        if at > 0 {
            // The last host used first.
            self.hosts.swap(0, at);
        }
        let Some((_, slots)) = self.hosts.first_mut() else {
            return 0;
        };
        match slots[i] {
            Some(s) => s,
            None => {
                let s = self.slots.len();
                self.slots.push(HostDir::new(host_name(meta), d, meta.mta));
                slots[i] = Some(s);
                s
            }
        }
    }

    /// The counts, merged per host name (two inputs without a host field are two hosts;
    /// two logs of one host are one) and sorted.
    pub fn finish(self) -> HostTls {
        let mut out = HostTls::default();
        out.merge(HostTls(self.slots));
        out
    }
}

fn dir_slice(d: Direction) -> &'static [Direction] {
    match d {
        Direction::Inbound => &[Direction::Inbound],
        Direction::Outbound => &[Direction::Outbound],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Bits, Encryption, Meta, Peer, TlsParams, TlsVersion, Verify};
    use chrono::TimeZone;

    fn meta(host: &str, min: u32, line: u64) -> Meta {
        Meta {
            time: Some(
                chrono::Utc
                    .with_ymd_and_hms(2026, 11, 27, 10, min, 0)
                    .unwrap()
                    .fixed_offset(),
            ),
            host: Some(host.into()),
            mta: Mta::Sendmail,
            source: Source {
                file: "mail.log".into(),
                line,
            },
        }
    }

    fn message(host: &str, min: u32, peer: &str, tls: bool) -> Record {
        Record::Message {
            meta: meta(host, min, u64::from(min)),
            direction: Direction::Inbound,
            peer: Peer::new(Some(peer), None),
            queue_id: compact_str::format_compact!("Q{min}"),
            encryption: if tls {
                Encryption::Tls(
                    TlsParams::new(TlsVersion::Tls1_3, None, Bits::default(), Verify::No).into(),
                )
            } else {
                Encryption::Plaintext
            },
            status: None,
        }
    }

    const PEERS: [&str; 3] = ["mail.a.example", "mx.b.example", "smtp.c.example"];

    #[test]
    fn a_host_without_tls_for_several_peers_is_ours() {
        let none = Posture::default();
        // mx1 takes every peer's mail over TLS, mx2 takes it all in clear.
        let mut f = HostTlsFold::default();
        for i in 0..9u32 {
            f.add(&message("mx1", i, PEERS[i as usize % 3], true));
            f.add(&message("mx2", i, PEERS[i as usize % 3], false));
        }
        let t = f.finish();
        let hosts: Vec<&str> = t.without_tls(&[], &none).map(|d| d.host.as_str()).collect();
        assert_eq!(hosts, ["mx2"]);
        let mut o = Outage::new();
        add_outage(&t.without_tls(&[], &none).collect::<Vec<_>>(), &mut o);
        assert_eq!(o.len(), 3);
        assert!(o.values().all(|n| *n == 3), "{o:?}");
        let d = t.without_tls(&[], &none).next().unwrap();
        assert_eq!(d.first_source.as_ref().map(|s| s.line), Some(0));
    }

    #[test]
    fn one_tls_session_or_one_peer_is_not_enough_to_blame_the_host() {
        let none = Posture::default();
        // One peer in clear: it may just not do TLS.
        let mut f = HostTlsFold::default();
        for i in 0..5 {
            f.add(&message("mx", i, PEERS[0], false));
        }
        assert_eq!(f.finish().without_tls(&[], &none).count(), 0);
        // Several peers, but one of them once over TLS: the host can do it (late in the
        // log, after the clear text).
        let mut f = HostTlsFold::default();
        for i in 0..6 {
            f.add(&message("mx", i, PEERS[i as usize % 3], false));
        }
        f.add(&message("mx", 30, PEERS[1], true));
        let t = f.finish();
        assert_eq!(t.without_tls(&[], &none).count(), 0);
        assert!(
            t.0[0].peers.is_empty(),
            "peers are dropped once TLS is seen"
        );
    }

    /// The hosts blamed after four minutes of one record per (host, peer, TLS) each.
    fn blamed(per_minute: &[(&str, &str, bool)]) -> Vec<String> {
        let mut f = HostTlsFold::default();
        let mut posture = Posture::default();
        for i in 0..4u32 {
            for &(host, peer, tls) in per_minute {
                let r = message(host, i, peer, tls);
                f.add(&r);
                posture.add(&r);
            }
        }
        let t = f.finish();
        t.without_tls(&[], &posture)
            .map(|d| d.host.clone())
            .collect()
    }

    /// Outbound, clear text to several peers says nothing by itself (they may all offer no
    /// STARTTLS); a peer that took TLS from our other host does.
    #[test]
    fn outbound_needs_a_peer_that_did_tls_with_another_host() {
        let out = |host: &str, min: u32, peer: &str, tls: bool| {
            let mut r = message(host, min, peer, tls);
            if let Record::Message {
                direction, status, ..
            } = &mut r
            {
                *direction = Direction::Outbound;
                *status = Some(crate::model::DeliveryStatus::Sent);
            }
            r
        };
        let none = Posture::default();
        let mut f = HostTlsFold::default();
        for i in 0..9u32 {
            f.add(&out("relay", i, PEERS[i as usize % 3], false));
        }
        assert_eq!(f.finish().without_tls(&[], &none).count(), 0);
        let mut f = HostTlsFold::default();
        let mut posture = Posture::default();
        for i in 0..3u32 {
            for r in [
                out("mx1", i, PEERS[0], true),
                out("mx2", i, PEERS[0], false),
            ] {
                f.add(&r);
                posture.add(&r);
            }
        }
        let t = f.finish();
        let blamed: Vec<(&str, Direction)> = t
            .without_tls(&[], &posture)
            .map(|d| (d.host.as_str(), d.direction))
            .collect();
        assert_eq!(blamed, [("mx2", Direction::Outbound)]);
    }

    /// One peer only, but it did TLS with our other host: the host without TLS is the
    /// common factor. A peer that did TLS nowhere may just not do it.
    #[test]
    fn one_peer_with_tls_elsewhere_blames_the_host() {
        // mx2: two peers in clear, one of which did TLS with mx1: blamed on both counts.
        let two = [
            ("mx1", PEERS[0], true),
            ("mx2", PEERS[0], false),
            ("mx2", PEERS[1], false),
        ];
        assert_eq!(blamed(&two), ["mx2"]);
        // mx2's one peer did TLS with mx1; mx3's one peer did TLS nowhere.
        let one = [
            ("mx1", PEERS[0], true),
            ("mx2", PEERS[0], false),
            ("mx3", PEERS[2], false),
        ];
        assert_eq!(blamed(&one), ["mx2"], "mx3's one peer did TLS nowhere");
    }

    #[test]
    fn merge_is_one_run_over_both_logs() {
        let none = Posture::default();
        let recs: Vec<Record> = (0..12u32)
            .map(|i| {
                message(
                    ["mx1", "mx2"][i as usize % 2],
                    i,
                    PEERS[i as usize % 3],
                    i == 7,
                )
            })
            .collect();
        let mut whole = HostTlsFold::default();
        recs.iter().for_each(|r| whole.add(r));
        let whole = whole.finish();
        for cut in [0, 3, 7, 12] {
            let (a, b) = recs.split_at(cut);
            let fold = |rs: &[Record]| {
                let mut f = HostTlsFold::default();
                rs.iter().for_each(|r| f.add(r));
                f.finish()
            };
            let (mut ab, mut ba) = (fold(a), fold(b));
            let (a2, b2) = (ab.clone(), ba.clone());
            ab.merge(b2);
            ba.merge(a2);
            assert_eq!(ab, whole, "cut {cut}");
            assert_eq!(ba, whole, "cut {cut}");
        }
        // mx2 (odd minutes) had one TLS message at minute 7; mx1 none.
        let blamed: Vec<&str> = whole
            .without_tls(&[], &none)
            .map(|d| d.host.as_str())
            .collect();
        assert_eq!(blamed, ["mx1"]);
    }
}
