//! One message across processes, queue ids and MTAs.
//!
//! A message has one queue id per MTA it crossed. Our delivery's status text names the
//! next one (`stat=Sent (4ASA2c3Q001234 Message accepted for delivery)`, `status=sent (250
//! 2.0.0 Ok: queued as 4F1b2C3d4E)`, Exim `C="250 OK id=…"`), and the Message-ID is logged
//! by each MTA ([`super::scope`] follows both). Here the events of every queue id found
//! are grouped into hops, one per (log host, queue id), ordered by their first time, and
//! each reception or delivery is shown with the TLS verdict of its record.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::collect::{Item, Step, event_queue_id};
use super::peer::when;
use super::scope::next_hop_ids;
use super::term::{Painter, Tone, clean};
use crate::model::{DeliveryStatus, Direction, Event, EventKind, Mta, Source};
use crate::model::{Encryption, Record};
use crate::parse::received::HopTls;
use crate::stores::hops::{MessageHops, Trust};

type Time = DateTime<FixedOffset>;

/// One line of a hop: a reception, a delivery, or a queue step.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// `received`, `delivered`, `delivered locally`, `not delivered` (a deferral, bounce or
    /// any delivery status but sent: the reason is in `text`), `queued` (Postfix
    /// qmgr `from=`), `TLS failed` (a failed outbound handshake before a delivery: Sendmail
    /// `STARTTLS=client, error: connect failed=…`, Exim `TLS session: …`, with
    /// `delivering unencrypted` when Exim fell back to clear) or `TLS verdict` (Sendmail
    /// `ruleset=tls_server, arg1=SOFTWARE, …`).
    pub what: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `TLSv1.3 TLS_AES_256_GCM_SHA384 256 bits verify=OK`, `TLS (parameters unknown)`,
    /// `plaintext`, or `not delivered` for an attempt that did not go through (see
    /// [`verdict_phrase`]); `None` for local steps, which cross no network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    /// Queue ids of the next MTA named by this delivery's status text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next_hops: Vec<String>,
    pub source: Source,
}

/// The message on one MTA: one log host and queue id.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub host: String,
    pub mta: Mta,
    pub queue_id: String,
    pub entries: Vec<Entry>,
}

/// One `Received:` hop of a stored copy of the message.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderHop {
    pub source: Source,
    pub position: usize,
    pub trust: Trust,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub tls: String,
}

/// Everything `mailtls message` says about one message.
#[derive(Debug, Clone, Serialize)]
pub struct MessageTrace {
    pub schema: &'static str,
    pub query: String,
    pub message_ids: BTreeSet<String>,
    pub hops: Vec<Hop>,
    /// The `Received:` hops of stored copies of the message, top first, per copy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stored: Vec<(Source, Vec<HeaderHop>)>,
}

/// The TLS verdict of a record, as one phrase.
pub fn encryption_phrase(e: &Encryption) -> String {
    match e {
        Encryption::Tls(p) => {
            let mut s = p.version.label().to_owned();
            if let Some(c) = &p.cipher {
                let _ = write!(s, " {c}");
            }
            if let Some(b) = p.bits.effective() {
                let _ = write!(s, " {b} bits");
            }
            let _ = write!(s, " verify={}", p.verify);
            s
        }
        Encryption::TlsUnknown => "TLS (parameters unknown)".to_owned(),
        Encryption::Plaintext => "plaintext".to_owned(),
    }
}

/// The verdict of a message record as one phrase, the same wherever it is printed: its
/// TLS for a received or delivered message; `not delivered` for a delivery attempt that
/// did not go through (deferred, bounced, …). A deferral is not "plaintext": no message
/// crossed the network in clear, and its reason is the status text shown beside it.
pub fn verdict_phrase(e: &Encryption, status: Option<DeliveryStatus>) -> String {
    match (status, e) {
        (None | Some(DeliveryStatus::Sent), _) => encryption_phrase(e),
        (_, Encryption::Plaintext) => "not delivered".to_owned(),
        (_, e) => format!("not delivered (after {})", encryption_phrase(e)),
    }
}

/// How far before its delivery a failed handshake may be logged and still be shown with
/// it (Sendmail's `connect failed` comes seconds before the `to=` line of the same pid).
const FALLBACK_WINDOW: chrono::Duration = crate::correlate::ERROR_WINDOW;

/// A line that may tell how an outbound delivery lost its TLS: a failed handshake or a
/// failed `tls_server` verdict. [`MessageTrace::build`] shows it with the delivery it
/// precedes (same process, else same peer); `mailtls message` keeps these events.
pub fn is_fallback_line(kind: &EventKind) -> bool {
    match kind {
        EventKind::TlsError(e) => e.direction != Some(Direction::Inbound) && !e.kind.is_local(),
        EventKind::Policy(p) => {
            p.direction() == Some(Direction::Outbound) && p.verify.is_tls_failure()
        }
        _ => false,
    }
}

/// What ties a fallback line to a delivery: the process (log host, pid) or, without a
/// pid, the peer's address (log host, IP).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FallbackKey {
    Process(Option<std::sync::Arc<str>>, u32),
    Peer(Option<std::sync::Arc<str>>, std::net::IpAddr),
}

/// The keys under which a fallback line or an outbound delivery may meet (see
/// `fallback_owner`); empty for other events.
pub fn fallback_keys(ev: &Event) -> Vec<FallbackKey> {
    let peer = match &ev.kind {
        EventKind::TlsError(e) => e.peer.as_ref(),
        EventKind::Policy(p) => p.peer.as_ref(),
        EventKind::Delivery(d) if !d.is_local() => d.peer.as_ref(),
        _ => return Vec::new(),
    };
    let mut keys = Vec::new();
    if let Some(pid) = ev.pid {
        keys.push(FallbackKey::Process(ev.host.clone(), pid));
    }
    if let Some(ip) = peer.and_then(|p| p.ip) {
        keys.push(FallbackKey::Peer(ev.host.clone(), ip));
    }
    keys
}

/// The delivery a fallback line belongs to: the first outbound delivery after it on the
/// same log host within [`FALLBACK_WINDOW`], of the same process when both lines have a
/// pid (Sendmail), else to the same peer (Exim's mainlog has no pid).
fn fallback_owner<'a>(c: &Event, later: impl Iterator<Item = &'a Step>) -> Option<&'a Event> {
    let c_peer = match &c.kind {
        EventKind::TlsError(e) => e.peer.as_ref(),
        EventKind::Policy(p) => p.peer.as_ref(),
        _ => None,
    };
    later.map(|st| &st.event).find(|d| {
        let EventKind::Delivery(del) = &d.kind else {
            return false;
        };
        let Some(d_peer) = del.peer.as_ref().filter(|_| !del.is_local()) else {
            return false;
        };
        let in_window = match (c.time(), d.time()) {
            (Some(a), Some(b)) => b >= a && b - a <= FALLBACK_WINDOW,
            _ => true,
        };
        let same = match (c.pid, d.pid) {
            (Some(a), Some(b)) => a == b,
            _ => c_peer.is_some_and(|p| match (p.ip, d_peer.ip) {
                (Some(x), Some(y)) => x == y,
                _ => p.same_key(d_peer),
            }),
        };
        d.host == c.host && in_window && same
    })
}

fn hop_tls(t: &HopTls) -> String {
    match t {
        HopTls::Tls(d) => {
            let mut s = d
                .version
                .as_ref()
                .map_or("TLS".to_owned(), |v| v.label().to_owned());
            if let Some(c) = &d.cipher {
                let _ = write!(s, " {c}");
            }
            if let Some(v) = &d.verify {
                let _ = write!(s, " verify={v}");
            }
            s
        }
        other if other.is_tls() => "TLS (parameters unknown)".to_owned(),
        _ => "plaintext or unknown".to_owned(),
    }
}

impl MessageTrace {
    /// Builds the trace from the events of the message's queue ids (`steps`, log order)
    /// and their records (`items`). With `only`, events of other queue ids among the steps
    /// (deliveries kept so a fallback line goes to the right one) make no hop.
    pub fn build(
        query: &str,
        message_ids: BTreeSet<String>,
        steps: &[Step],
        items: &[Item],
        only: Option<&BTreeSet<String>>,
    ) -> MessageTrace {
        let by_source: HashMap<&Source, &Record> = items
            .iter()
            .map(|i| (&i.record.meta().source, &i.record))
            .collect();
        let mut hops: BTreeMap<(String, String), Hop> = BTreeMap::new();
        let mut order: Vec<(Option<Time>, (String, String))> = Vec::new();
        let mut shown: BTreeSet<&Source> = BTreeSet::new();
        let mut fallbacks: Vec<(&Event, &Event)> = Vec::new();
        for (i, st) in steps.iter().enumerate() {
            let ev = &st.event;
            let Some(qid) = event_queue_id(&ev.kind) else {
                if is_fallback_line(&ev.kind)
                    && let Some(d) = fallback_owner(ev, steps.iter().skip(i + 1))
                {
                    fallbacks.push((ev, d));
                }
                continue;
            };
            if only.is_some_and(|o| !o.contains(qid)) {
                continue;
            }
            let host = ev.host.as_deref().unwrap_or("-").to_owned();
            let key = (host.clone(), qid.to_owned());
            let hop = hops.entry(key.clone()).or_insert_with(|| {
                order.push((ev.time(), key.clone()));
                Hop {
                    host,
                    mta: ev.mta,
                    queue_id: qid.to_owned(),
                    entries: Vec::new(),
                }
            });
            let rec = by_source.get(&ev.source).copied();
            if rec.is_some() {
                shown.insert(&ev.source);
            }
            let tls = match rec {
                Some(Record::Message {
                    encryption, status, ..
                }) => Some(verdict_phrase(encryption, *status)),
                _ => None,
            };
            let rec_peer = rec.and_then(|r| r.peer()).map(|p| p.to_string());
            let mut e = Entry {
                time: ev.time(),
                what: "queued",
                peer: rec_peer,
                from: None,
                to: None,
                status: None,
                dsn: None,
                text: None,
                tls,
                next_hops: Vec::new(),
                source: ev.source.clone(),
            };
            match &ev.kind {
                EventKind::Received(r) => {
                    // A reception naming no peer is a queue manager's line (Postfix qmgr).
                    e.what = if r.peer.is_some() {
                        "received"
                    } else {
                        "queued"
                    };
                    e.from = Some(r.from.clone());
                    if e.peer.is_none() {
                        e.peer = r.peer.as_ref().map(|p| p.to_string());
                    }
                }
                EventKind::Delivery(d) => {
                    // Exim's `== … defer (-53): retry time not reached` names no host:
                    // not delivered, not "delivered locally".
                    e.what = if d.status != DeliveryStatus::Sent {
                        "not delivered"
                    } else if d.is_local() {
                        "delivered locally"
                    } else {
                        "delivered"
                    };
                    e.to = Some(d.to.clone());
                    e.status = Some(d.status.as_str());
                    e.dsn = d.dsn.clone();
                    e.text = Some(d.text.clone());
                    if e.peer.is_none() && !d.is_local() {
                        e.peer = d.peer.as_ref().map(|p| p.to_string());
                    }
                    if d.status == DeliveryStatus::Sent {
                        e.next_hops = next_hop_ids(&d.text, ev.mta);
                    }
                }
                EventKind::QueueClient { peer, .. } => {
                    e.what = "received";
                    e.peer = Some(peer.to_string());
                }
                _ => {}
            }
            hop.entries.push(e);
        }
        // Failed handshakes and verdicts, with the delivery they came before. Their lines
        // are read as the correlator made them incidents (`Record::Error`, kept by the
        // caller for fallback lines): the incident's text with its reason (Postfix's
        // `TLS library problem: …` after `SSL_connect error …: -1`), and a library dump
        // it took in as that reason is no failure of its own.
        for (c, d) in fallbacks {
            let (Some(qid), host) = (
                event_queue_id(&d.kind),
                d.host.as_deref().unwrap_or("-").to_owned(),
            ) else {
                continue;
            };
            let Some(hop) = hops.get_mut(&(host, qid.to_owned())) else {
                continue;
            };
            let incident = match by_source.get(&c.source) {
                Some(Record::Error { text, reason, .. }) => Some((text, reason)),
                _ => None,
            };
            if let EventKind::TlsError(e) = &c.kind
                && e.kind.is_dump()
                && incident.is_none()
            {
                continue;
            }
            let (what, peer, text) = match &c.kind {
                EventKind::TlsError(e) => {
                    let text = match incident {
                        Some((text, why)) => crate::model::text::with_reason(text, why.as_deref()),
                        None => e.text.clone(),
                    };
                    ("TLS failed", e.peer.as_ref(), text)
                }
                EventKind::Policy(p) => (
                    "TLS verdict",
                    p.peer.as_ref(),
                    format!("ruleset={}, arg1={}, {}", p.ruleset, p.verify, p.outcome),
                ),
                _ => continue,
            };
            let peer = peer.or(match &d.kind {
                EventKind::Delivery(del) => del.peer.as_ref(),
                _ => None,
            });
            hop.entries.push(Entry {
                time: c.time(),
                what,
                peer: peer.map(ToString::to_string),
                from: None,
                to: None,
                status: None,
                dsn: None,
                text: Some(text),
                tls: None,
                next_hops: Vec::new(),
                source: c.source.clone(),
            });
        }
        // Records whose line is not a message event of these ids (Postfix releases an
        // inbound message's verdict on the smtpd line): add their verdict to the hop.
        for it in items {
            let r = &it.record;
            if shown.contains(&r.meta().source) {
                continue;
            }
            if let Record::Message {
                meta,
                queue_id,
                encryption,
                peer,
                direction,
                status,
            } = r
            {
                let host = meta.host.as_deref().unwrap_or("-").to_owned();
                if let Some(hop) = hops.get_mut(&(host, queue_id.to_string())) {
                    hop.entries.push(Entry {
                        time: meta.time,
                        what: match (direction, status) {
                            (Direction::Inbound, _) => "received",
                            (_, None | Some(DeliveryStatus::Sent)) => "delivered",
                            _ => "not delivered",
                        },
                        peer: Some(peer.to_string()),
                        from: None,
                        to: None,
                        status: None,
                        dsn: None,
                        text: None,
                        tls: Some(verdict_phrase(encryption, *status)),
                        next_hops: Vec::new(),
                        source: meta.source.clone(),
                    });
                }
            }
        }
        order.sort_by_key(|a| (a.0.is_none(), a.0));
        let hops = order
            .into_iter()
            .filter_map(|(_, k)| hops.remove(&k))
            .map(|mut h| {
                h.entries.sort_by(|a, b| {
                    (a.time.is_none(), a.time, &a.source).cmp(&(
                        b.time.is_none(),
                        b.time,
                        &b.source,
                    ))
                });
                h
            })
            .collect();
        MessageTrace {
            schema: "mailtls.message/1",
            query: query.to_owned(),
            message_ids,
            hops,
            stored: Vec::new(),
        }
    }

    /// Adds a stored copy whose `Received:` ids name one of the trace's queue ids.
    pub fn add_stored(&mut self, m: &MessageHops, trust: &[Trust]) -> bool {
        let ids: BTreeSet<&str> = self.hops.iter().map(|h| h.queue_id.as_str()).collect();
        if !m
            .hops
            .iter()
            .any(|h| h.hop.id.as_deref().is_some_and(|i| ids.contains(i)))
        {
            return false;
        }
        let hops = m
            .hops
            .iter()
            .zip(trust)
            .enumerate()
            .map(|(i, (h, t))| HeaderHop {
                source: h.source.clone(),
                position: i + 1,
                trust: *t,
                from: h.hop.from_peer().map(|p| p.to_string()),
                by: h.hop.by.as_deref().map(String::from),
                with: h.hop.with.as_deref().map(String::from),
                id: h.hop.id.as_deref().map(String::from),
                tls: hop_tls(&h.hop.tls),
            })
            .collect();
        self.stored.push((m.source.clone(), hops));
        true
    }

    pub fn is_empty(&self) -> bool {
        self.hops.is_empty()
    }

    /// The terminal text.
    pub fn render(&self, p: &Painter) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{} {}",
            p.paint(Tone::Strong, "Message"),
            p.paint(Tone::Strong, &self.query)
        );
        if !self.message_ids.is_empty() {
            let ids: Vec<String> = self.message_ids.iter().map(|m| format!("<{m}>")).collect();
            let _ = writeln!(o, "  message-id: {}", ids.join(" "));
        }
        let chain: Vec<String> = self
            .hops
            .iter()
            .map(|h| format!("{} {}", h.host, h.queue_id))
            .collect();
        let _ = writeln!(
            o,
            "  queue ids:  {}",
            p.paint(Tone::Dim, &chain.join(" → "))
        );
        let known: BTreeSet<&str> = self.hops.iter().map(|h| h.queue_id.as_str()).collect();
        for (n, h) in self.hops.iter().enumerate() {
            let mta = h.mta.as_str();
            let _ = writeln!(
                o,
                "\n  {} {} ({mta})  queue id {}",
                p.paint(Tone::Strong, &format!("hop {}", n + 1)),
                p.paint(Tone::Strong, &h.host),
                clean(&h.queue_id)
            );
            for e in &h.entries {
                let mut line = format!("    {}  {:<17}", p.paint(Tone::Dim, &when(e.time)), e.what);
                if let Some(peer) = &e.peer {
                    let dir = if e.what == "received" { "from" } else { "to" };
                    let _ = write!(line, " {dir} {}", p.paint(Tone::Strong, peer));
                }
                if let Some(f) = &e.from {
                    let _ = write!(line, "  from=<{}>", p.paint(Tone::Strong, f));
                }
                if let Some(t) = &e.to {
                    let _ = write!(line, "  to=<{}>", p.paint(Tone::Strong, t));
                }
                if let Some(s) = e.status {
                    let tone = match s {
                        "sent" => Tone::Good,
                        "deferred" => Tone::Warn,
                        _ => Tone::Bad,
                    };
                    let _ = write!(line, "  {}", p.paint(tone, s));
                }
                if let Some(d) = &e.dsn {
                    let _ = write!(line, " dsn={}", p.paint(Tone::Dim, d));
                }
                // "not delivered" is already the entry's word; only what TLS it got
                // before failing (`not delivered (after TLSv1.3 …)`) adds anything.
                let tls = match e.tls.as_deref() {
                    Some(t) if e.what == "not delivered" => t
                        .strip_prefix("not delivered (")
                        .and_then(|r| r.strip_suffix(')')),
                    t => t,
                };
                if let Some(t) = tls {
                    let tone = if t == "plaintext" {
                        Tone::Bad
                    } else if t.contains("verify=OK") {
                        Tone::Good
                    } else {
                        Tone::Warn
                    };
                    let _ = write!(line, "  {}", p.paint(tone, t));
                }
                let _ = writeln!(o, "{line}");
                if let Some(t) = &e.text {
                    let _ = writeln!(o, "        {}", p.paint(Tone::Dim, t));
                }
                for nh in &e.next_hops {
                    let seen = if known.contains(nh.as_str()) {
                        "followed below"
                    } else {
                        "its log is not among the inputs"
                    };
                    let _ = writeln!(o, "        → next hop queue id {} ({seen})", clean(nh));
                }
            }
        }
        for (src, hops) in &self.stored {
            let _ = writeln!(
                o,
                "\n  {} {}",
                p.paint(Tone::Strong, "Received: hops of the stored copy"),
                p.paint(Tone::Dim, &src.to_string())
            );
            for h in hops {
                let trust = match h.trust {
                    Trust::Witnessed => "witnessed",
                    Trust::Claimed => "claimed",
                };
                let tone = if h.tls.starts_with("plaintext") {
                    Tone::Bad
                } else {
                    Tone::Good
                };
                let _ = writeln!(
                    o,
                    "    {:>2}. from {} by {} with {} id {}  {}  ({trust})",
                    h.position,
                    clean(h.from.as_deref().unwrap_or("?")),
                    clean(h.by.as_deref().unwrap_or("?")),
                    clean(h.with.as_deref().unwrap_or("?")),
                    clean(h.id.as_deref().unwrap_or("?")),
                    p.paint(tone, &h.tls)
                );
            }
        }
        o
    }
}
