//! Postfix correlation: smtpd sessions by pid, messages by queue id, smtp deliveries by
//! pid and relay.
//!
//! # Rules
//!
//! * **Inbound.** An smtpd process serves one client at a time, from `connect from P` to
//!   `disconnect from P`. A `TLS connection established from P` line in between gives the
//!   session its parameters. Every `QID: client=P` of the session is one message; its
//!   verdict is decided when the session ends, because the decisive line may be the last
//!   one: TLS (with parameters) when the session had a TLS summary for the same peer;
//!   TLS with unknown parameters when it had none but the `disconnect` counters say
//!   `starttls=N` with N ≥ 1 (`smtpd_tls_loglevel = 0`, Postfix's default, logs no
//!   summary at all); otherwise **plaintext** (confirmed by `starttls=0` or by counters
//!   without `starttls`, or assumed for Postfix 2.x that has no counters).
//! * A message counts once, when qmgr has also logged its `QID: from=… (queue active)`:
//!   that is the proof the message entered the queue (a transaction rejected at
//!   end-of-data has a `client=` but never a `from=`), and qmgr's repeats on retries are
//!   ignored. Which of the two lines comes last does not matter. When an input holds no
//!   qmgr line at all (an smtpd-only excerpt), every `client=` counts, at the end.
//! * **Outbound.** An smtp process logs `TLS connection established|reused to R` for each
//!   TLS connection, then one `QID: to=…, relay=R` per recipient of the one delivery
//!   request it is serving. The summary therefore covers the deliveries to R of the next
//!   queue id (all its recipients); a later queue id to R from the same process without a
//!   new summary travelled over a new plaintext connection or a cached one (Postfix caches
//!   plaintext connections, TLS ones only through tlsproxy, which logs `reused`). Without
//!   a summary, a 3.11+ `tls=` status that shows TLS in use (`tls=may`, `tls=dane`, no
//!   downgrade, `?` or `!`) gives TLS with unknown parameters; anything else is plaintext.
//! * **Errors.** TLS failures of a delivery appear only in its status text (`Cannot start
//!   TLS`, `Server certificate not verified`, `TLS is required, but was not offered`): a
//!   deferred or bounced delivery with such a text also counts as an error of that kind
//!   for the relay. An error line without a peer on an smtpd pid belongs to the client of
//!   the open session; one logged before `connect from` (smtpd loading its key when it
//!   starts) belongs to no client; on an smtp pid it waits, as for Sendmail, for the next
//!   line naming the relay. smtpd logs one failed handshake twice (`SSL_accept error from P`, then
//!   `lost connection after STARTTLS from P`); the second is not counted again.

use super::HashMap;
use std::sync::Arc;

use super::{Correlator, HostId, INBOUND_IDLE, Mark, OUTBOUND_IDLE, ProcKey, same_peer};
use crate::model::EndReason;
use crate::model::{
    Delivery, DeliveryStatus, Direction, EventKind, Peer, QueueId, TlsError, TlsErrorKind,
    TlsParams,
};
use crate::model::{Encryption, Meta, Record};

/// A message: its log host and queue id.
type QidKey = (HostId, QueueId);

/// One smtpd conversation.
struct Smtpd {
    peer: Option<Peer>,
    /// The TLS summary: the peer it named (`None`: the session's `peer`) and its
    /// parameters.
    tls: Option<(Option<Peer>, Arc<TlsParams>)>,
    /// The session's messages: queue id, the `client=` line and its position (event
    /// sequence number, for releasing records in input order).
    queued: Vec<(QueueId, Meta, Peer, u64)>,
    last: Mark,
    /// A handshake failure was already counted for this session.
    handshake_failed: bool,
}

/// A TLS connection of an smtp process, covering the deliveries of one queue id.
struct Outbound {
    /// The relay negotiated with, matched by [`Peer::same_key`]: its posture key is not
    /// built (a lower-cased copy per negotiation, freed when the entry goes, and an
    /// address formatted per delivery to compare with it; issue 21).
    peer: Peer,
    params: Arc<TlsParams>,
    qid: Option<QueueId>,
    last: Mark,
}

/// Postfix's share of the correlation state.
#[derive(Default)]
pub(super) struct PostfixState {
    smtpd: HashMap<ProcKey, Smtpd>,
    smtp: HashMap<ProcKey, Vec<Outbound>>,
    /// Messages whose session has ended, waiting for qmgr's `from=`: the record, when its
    /// session was last active, and the position of its `client=` line.
    ended: HashMap<QidKey, (Record, Mark, u64)>,
    /// qmgr `from=` lines seen before the session ended.
    confirmed: HashMap<QidKey, Mark>,
    /// Scratch for the records a session end releases with their `client=` positions
    /// ([`Correlator::end_smtpd`]): kept empty between events so that each disconnect
    /// does not allocate and free a vector of its own (issue 21).
    done: Vec<(u64, Record)>,
    /// Whether any qmgr `from=` was seen: without one, `client=` alone counts.
    seen_qmgr: bool,
    /// smtpd processes that logged a local (key, certificate, …) incident for the server
    /// role: their TLS is off and they answer 454 to STARTTLS.
    tls_off: HashMap<ProcKey, Mark>,
    /// smtp processes whose last connection already produced a TLS incident for a relay
    /// (`SSL_connect error to R`, `server certificate verification failed for R`): the
    /// deferral that follows (`Cannot start TLS`, `Server certificate not verified`) is the
    /// same incident, not a second one.
    out_failed: HashMap<ProcKey, (String, Mark)>,
}

impl PostfixState {
    pub(super) fn len(&self) -> usize {
        self.smtpd.len()
            + self.smtp.values().map(Vec::len).sum::<usize>()
            + self.ended.len()
            + self.confirmed.len()
            + self.tls_off.len()
            + self.out_failed.len()
    }
}

impl Correlator {
    /// Takes one Postfix event (see the module rules).
    pub(super) fn push_postfix(
        &mut self,
        kind: &mut EventKind,
        meta: Meta,
        host: HostId,
        pk: Option<ProcKey>,
        now: Mark,
        out: &mut Vec<Record>,
    ) {
        match kind {
            EventKind::Connect { peer } => {
                if let Some(pk) = pk {
                    // Errors this smtpd logged before the connection belong to no
                    // client: smtpd loads its key and certificate when it starts, so a
                    // broken key's OpenSSL dump comes before the first `connect from`.
                    // (Looked up only when some process has errors waiting.)
                    let waiting = if self.pending.is_empty() {
                        None
                    } else {
                        self.pending.remove(&pk)
                    };
                    let sess = Smtpd {
                        peer: Some(std::mem::take(peer)),
                        tls: None,
                        queued: Vec::new(),
                        last: now,
                        handshake_failed: false,
                    };
                    // One lookup: the new session takes the old one's place, which then
                    // ends as a `disconnect` without counters would.
                    let old = self.postfix.smtpd.insert(pk, sess);
                    if let Some(old) = old {
                        let mut done = std::mem::take(&mut self.postfix.done);
                        self.close_session(old, host, None, &mut done);
                        out.extend(done.drain(..).map(|(_, r)| r));
                        self.postfix.done = done;
                    }
                    if let Some(list) = waiting {
                        out.extend(list.into_iter().map(super::unattributed));
                    }
                }
            }
            EventKind::Tls(s) => {
                let params = Arc::new(super::take_params(&mut s.params));
                if let Some(pk) = &pk {
                    match s.direction {
                        Direction::Inbound => {
                            let sess = self.smtpd_entry(pk, &s.peer, now);
                            // The summary names the session's client (nearly always): it
                            // is not copied again.
                            let other =
                                (sess.peer.as_ref() != Some(&s.peer)).then(|| s.peer.clone());
                            sess.tls = Some((other, params.clone()));
                        }
                        Direction::Outbound => {
                            self.flush_pending(pk, &s.peer, Direction::Outbound, now, out);
                            // A relay with a posture key (a name or an address).
                            if !s.peer.is_empty() {
                                let list = self.postfix.smtp.entry(pk.clone()).or_default();
                                list.retain(|o| !o.peer.same_key(&s.peer));
                                list.push(Outbound {
                                    peer: s.peer.clone(),
                                    params: params.clone(),
                                    qid: None,
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
            EventKind::QueueClient { queue_id, peer } => match pk {
                Some(pk) => {
                    let sess = self.smtpd_entry(&pk, peer, now);
                    let (queue_id, peer) = (std::mem::take(queue_id), std::mem::take(peer));
                    sess.queued.push((queue_id, meta, peer, now.seq));
                }
                None => {
                    // No process to tie it to: nothing says TLS.
                    let (queue_id, peer) = (std::mem::take(queue_id), std::mem::take(peer));
                    let record = message(meta, peer, queue_id, Encryption::Plaintext);
                    let mut done = std::mem::take(&mut self.postfix.done);
                    self.queue_or_count(record, host, now, now.seq, &mut done);
                    out.extend(done.drain(..).map(|(_, r)| r));
                    self.postfix.done = done;
                }
            },
            EventKind::Received(r) => {
                // qmgr `from=`: confirms the queue id (peer-less by construction).
                self.postfix.seen_qmgr = true;
                let key = (host, std::mem::take(&mut r.queue_id));
                match self.postfix.ended.remove(&key) {
                    Some((record, _, _)) => out.push(record),
                    None => {
                        self.postfix.confirmed.insert(key, now);
                    }
                }
            }
            EventKind::SessionEnd {
                starttls, reason, ..
            } => {
                if let Some(pk) = &pk {
                    if *reason == EndReason::Disconnect {
                        self.end_smtpd(pk, *starttls, out);
                    } else if let Some(s) = self.postfix.smtpd.get_mut(pk) {
                        s.last = now;
                    }
                }
            }
            // Gathered into incidents by the caller, which hands them to `postfix_error`.
            EventKind::TlsError(_) => {}
            EventKind::Delivery(d) => self.postfix_delivery(d, meta, pk, now, out),
            EventKind::Policy(_) => {}
            EventKind::TlsReady { direction } => out.push(Record::Ready {
                meta,
                direction: *direction,
            }),
            EventKind::DaemonStart { version } => {
                // master restarted: every smtpd is new and reads its key again.
                self.postfix.tls_off.retain(|k, _| k.host != host);
                out.push(Record::Start {
                    meta,
                    version: version.take(),
                });
            }
        }
    }

    /// The session of an smtpd process, opened on the fly when the log began after its
    /// `connect` line.
    fn smtpd_entry(&mut self, pk: &ProcKey, peer: &Peer, now: Mark) -> &mut Smtpd {
        let sess = self
            .postfix
            .smtpd
            .entry(pk.clone())
            .or_insert_with(|| Smtpd {
                peer: Some(peer.clone()),
                tls: None,
                queued: Vec::new(),
                last: now,
                handshake_failed: false,
            });
        sess.last = now;
        sess
    }

    /// Closes an smtpd session and decides its messages' verdicts.
    fn end_smtpd(&mut self, pk: &ProcKey, starttls: Option<(u32, u32)>, out: &mut Vec<Record>) {
        let mut done = std::mem::take(&mut self.postfix.done);
        self.close_smtpd(pk, starttls, &mut done);
        out.extend(done.drain(..).map(|(_, r)| r));
        self.postfix.done = done;
    }

    /// [`Correlator::end_smtpd`], each record with the position of its `client=` line.
    fn close_smtpd(
        &mut self,
        pk: &ProcKey,
        starttls: Option<(u32, u32)>,
        out: &mut Vec<(u64, Record)>,
    ) {
        let Some(sess) = self.postfix.smtpd.remove(pk) else {
            return;
        };
        self.close_session(sess, pk.host, starttls, out);
    }

    fn close_session(
        &mut self,
        sess: Smtpd,
        host: HostId,
        starttls: Option<(u32, u32)>,
        out: &mut Vec<(u64, Record)>,
    ) {
        let counters_say_tls = starttls.is_some_and(|(ok, _)| ok > 0);
        for (qid, meta, peer, seq) in sess.queued {
            let tls_peer = sess
                .tls
                .as_ref()
                .and_then(|(p, params)| Some((p.as_ref().or(sess.peer.as_ref())?, params)));
            let encryption = match tls_peer {
                Some((p, params)) if same_peer(p, &peer) => Encryption::Tls(params.clone()),
                _ if counters_say_tls => Encryption::TlsUnknown,
                _ => Encryption::Plaintext,
            };
            let record = message(meta, peer, qid, encryption);
            self.queue_or_count(record, host, sess.last, seq, out);
        }
    }

    /// Counts a finished message now if qmgr confirmed it, else parks it until qmgr does.
    fn queue_or_count(
        &mut self,
        record: Record,
        host: HostId,
        at: Mark,
        seq: u64,
        out: &mut Vec<(u64, Record)>,
    ) {
        let Record::Message { queue_id, .. } = &record else {
            return;
        };
        let key = (host, queue_id.clone());
        if self.postfix.confirmed.remove(&key).is_some() {
            out.push((seq, record));
        } else {
            self.postfix.ended.insert(key, (record, at, seq));
        }
    }

    /// True for a `lost connection after STARTTLS` that is no failed handshake (see the
    /// module rules): after a completed TLS handshake, or on an smtpd whose TLS is off.
    pub(super) fn postfix_not_a_failure(
        &mut self,
        e: &TlsError,
        pk: Option<&ProcKey>,
        now: Mark,
    ) -> bool {
        let Some(pk) = pk else { return false };
        if e.kind != TlsErrorKind::Handshake || !e.text.contains("after STARTTLS") {
            return false;
        }
        if self.postfix.smtpd.get(pk).is_some_and(|s| s.tls.is_some()) {
            return true;
        }
        match self.postfix.tls_off.get_mut(pk) {
            Some(at) if at.fresh(now, INBOUND_IDLE) => {
                *at = now;
                true
            }
            _ => false,
        }
    }

    pub(super) fn postfix_error(
        &mut self,
        e: TlsError,
        meta: Meta,
        pk: Option<ProcKey>,
        now: Mark,
        reason: Option<String>,
        out: &mut Vec<Record>,
    ) {
        let session_peer = pk
            .as_ref()
            .and_then(|pk| self.postfix.smtpd.get(pk))
            .and_then(|s| s.peer.clone());
        if e.kind.is_local() {
            // A process whose TLS is off: its `lost connection after STARTTLS` is no failure
            // (not after a setting replaced by a built-in one: its TLS works).
            if e.direction != Some(Direction::Outbound)
                && !e.kind.keeps_tls()
                && let Some(pk) = &pk
            {
                self.postfix.tls_off.insert(pk.clone(), now);
            }
            out.push(Record::Error {
                meta,
                direction: e.direction,
                peer: None,
                kind: e.kind,
                text: e.text,
                reason,
            });
            return;
        }
        // One failed handshake is logged twice by smtpd (`SSL_accept error from P: …`, then
        // `lost connection after STARTTLS from P`): count the session's failure once.
        if e.kind == TlsErrorKind::Handshake
            && let Some(s) = pk.as_ref().and_then(|pk| self.postfix.smtpd.get_mut(pk))
        {
            let follow_up = e.text.contains("after STARTTLS");
            if follow_up && s.handshake_failed {
                return;
            }
            s.handshake_failed = true;
        }
        match (e.peer, &pk) {
            (Some(peer), pk) => {
                if let Some(pk) = pk {
                    let dir = e.direction.unwrap_or(Direction::Inbound);
                    self.flush_pending(pk, &peer, dir, now, out);
                    if dir == Direction::Outbound
                        && let Some(key) = peer.key()
                    {
                        self.postfix.out_failed.insert(pk.clone(), (key, now));
                    }
                }
                out.push(Record::Error {
                    meta,
                    direction: e.direction,
                    peer: Some(peer),
                    kind: e.kind,
                    text: e.text,
                    reason: reason.clone(),
                });
            }
            (None, _) if session_peer.is_some() => out.push(Record::Error {
                meta,
                direction: Some(e.direction.unwrap_or(Direction::Inbound)),
                peer: session_peer,
                kind: e.kind,
                text: e.text,
                reason: reason.clone(),
            }),
            (None, Some(pk)) => {
                self.pending
                    .entry(pk.clone())
                    .or_default()
                    .push(super::Pending {
                        meta,
                        direction: e.direction,
                        kind: e.kind,
                        text: e.text,
                        reason: reason.clone(),
                        at: now,
                    });
            }
            (None, None) => out.push(Record::Error {
                meta,
                direction: e.direction,
                peer: None,
                kind: e.kind,
                text: e.text,
                reason: reason.clone(),
            }),
        }
    }

    fn postfix_delivery(
        &mut self,
        d: &mut Delivery,
        meta: Meta,
        pk: Option<ProcKey>,
        now: Mark,
        out: &mut Vec<Record>,
    ) {
        if d.is_local() {
            return;
        }
        let Some(peer) = d.peer.take() else { return };
        let mut encryption = None;
        let mut incident_seen = false;
        if let Some(pk) = &pk {
            let before = out.len();
            self.flush_pending(pk, &peer, Direction::Outbound, now, out);
            incident_seen = out[before..]
                .iter()
                .any(|r| matches!(r, Record::Error { peer: Some(_), .. }));
            // (Looked up only when some smtp process has a failure noted: rare.)
            if !self.postfix.out_failed.is_empty()
                && let Some((key, at)) = self.postfix.out_failed.remove(pk)
                && peer.has_key(&key)
                && at.fresh(now, super::ERROR_WINDOW)
            {
                incident_seen = true;
            }
            if let Some(list) = self.postfix.smtp.get_mut(pk)
                && let Some(i) = list.iter().position(|o| o.peer.same_key(&peer))
            {
                let o = &mut list[i];
                let fresh = o.last.fresh(now, OUTBOUND_IDLE);
                let same_request = o.qid.as_deref().is_none_or(|q| q == d.queue_id);
                if fresh && same_request {
                    o.qid = Some(d.queue_id.clone());
                    o.last = now;
                    encryption = Some(Encryption::Tls(o.params.clone()));
                } else {
                    list.remove(i);
                }
            }
        }
        let encryption = encryption.unwrap_or_else(|| match d.tls_status.as_deref() {
            Some(s) if tls_status_says_tls(s) => Encryption::TlsUnknown,
            _ => Encryption::Plaintext,
        });
        if matches!(d.status, DeliveryStatus::Deferred | DeliveryStatus::Bounced)
            && !incident_seen
            && let Some(kind) = d.tls_error
        {
            out.push(Record::Error {
                meta: meta.clone(),
                direction: Some(Direction::Outbound),
                peer: Some(peer.clone()),
                kind,
                text: std::mem::take(&mut d.text),
                reason: None,
            });
        }
        out.push(Record::Message {
            meta,
            direction: Direction::Outbound,
            peer,
            queue_id: std::mem::take(&mut d.queue_id),
            encryption,
            status: Some(d.status),
        });
    }

    /// Drops idle Postfix state: sessions idle past [`INBOUND_IDLE`] end (their messages
    /// wait for qmgr as usual); parked messages and confirmations that never met their
    /// other half within the window are dropped (aborted transactions, retries). While no
    /// qmgr line has been seen (an smtpd-only input), a parked message past its window
    /// counts now, as it would at the end of such an input, instead of being kept until
    /// then: smtpd-only input keeps bounded state too. Then each map keeps at most
    /// [`super::MAX_ENTRIES`] entries (the oldest go the same ways).
    pub(super) fn sweep_postfix(&mut self, now: Mark, out: &mut Vec<(u64, Record)>) {
        let mut evicted = 0;
        let mut idle: Vec<(u64, ProcKey)> = self
            .postfix
            .smtpd
            .iter()
            .filter(|(_, s)| !s.last.keep(now, INBOUND_IDLE, &mut evicted))
            .map(|(k, s)| (s.last.seq, k.clone()))
            .collect();
        idle.sort_by_key(|(seq, _)| *seq);
        for (_, pk) in idle {
            self.close_smtpd(&pk, None, out);
        }
        let ev = &mut evicted;
        self.postfix.smtp.retain(|_, list| {
            list.retain(|o| o.last.keep(now, OUTBOUND_IDLE, ev));
            !list.is_empty()
        });
        self.postfix
            .confirmed
            .retain(|_, at| at.keep(now, INBOUND_IDLE, ev));
        self.postfix
            .tls_off
            .retain(|_, at| at.keep(now, INBOUND_IDLE, ev));
        self.postfix
            .out_failed
            .retain(|_, (_, at)| at.keep(now, super::ERROR_WINDOW, ev));
        let seen_qmgr = self.postfix.seen_qmgr;
        self.postfix.ended.retain(|_, (record, at, seq)| {
            if at.keep(now, INBOUND_IDLE, ev) {
                return true;
            }
            if !seen_qmgr {
                out.push((*seq, record.clone()));
            }
            false
        });
        self.evicted += evicted;
    }

    /// Takes the oldest entries out of every Postfix map over [`super::MAX_ENTRIES`]; they
    /// leave as a time expiry would (an smtpd session ends, a parked message counts when
    /// no qmgr line was seen).
    pub(super) fn cap_postfix(&mut self, out: &mut Vec<(u64, Record)>) {
        let mut evicted = 0;
        for (pk, sess) in super::over_cap(&mut self.postfix.smtpd, |s| s.last.seq) {
            evicted += 1;
            self.close_session(sess, pk.host, None, out);
        }
        let seen_qmgr = self.postfix.seen_qmgr;
        let p = &mut self.postfix;
        evicted += super::over_cap_lists(&mut p.smtp, |o| o.last.seq).len() as u64;
        let last_seq = |list: &Vec<Outbound>| list.iter().map(|o| o.last.seq).max();
        evicted += super::over_cap(&mut p.smtp, |l| last_seq(l).unwrap_or(0)).len() as u64;
        evicted += super::over_cap(&mut p.confirmed, |at| at.seq).len() as u64;
        evicted += super::over_cap(&mut p.tls_off, |at| at.seq).len() as u64;
        evicted += super::over_cap(&mut p.out_failed, |(_, at)| at.seq).len() as u64;
        for (_, (record, _, seq)) in super::over_cap(&mut p.ended, |(_, at, _)| at.seq) {
            evicted += 1;
            if !seen_qmgr {
                out.push((seq, record));
            }
        }
        self.evicted += evicted;
    }

    /// End of input: open sessions end; parked messages count only when the input had no
    /// qmgr line at all.
    pub(super) fn finish_postfix(&mut self, out: &mut Vec<(u64, Record)>) {
        let open: Vec<ProcKey> = self.postfix.smtpd.keys().cloned().collect();
        for pk in open {
            self.close_smtpd(&pk, None, out);
        }
        if !self.postfix.seen_qmgr {
            out.extend(self.postfix.ended.drain().map(|(_, (r, _, seq))| (seq, r)));
        }
    }
}

fn message(meta: Meta, peer: Peer, queue_id: QueueId, encryption: Encryption) -> Record {
    Record::Message {
        meta,
        direction: Direction::Inbound,
        peer,
        queue_id,
        encryption,
        status: None,
    }
}

/// Postfix 3.11's `tls=` feature status says TLS was in use: a TLS level (`may`, `encrypt`,
/// `dane`, `verify`, `secure`, `fingerprint`) with no downgrade (`:none`, `:halfdane` is
/// still TLS), no `?` (undecided) and no `!` anywhere (a policy violation: the
/// connection was not used).
pub fn tls_status_says_tls(s: &str) -> bool {
    if s.contains('?') || s.contains('!') {
        return false;
    }
    let feature = s.split('/').next().unwrap_or(s);
    let (level, downgrade) = feature.split_once(':').unwrap_or((feature, ""));
    matches!(
        level,
        "may" | "encrypt" | "dane" | "dane-only" | "verify" | "secure" | "fingerprint"
    ) && !matches!(downgrade, "none" | "nostarttls" | "noencryption")
}
