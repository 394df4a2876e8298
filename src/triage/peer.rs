//! One peer's story: its posture, what changed and when, its errors, and the mail it
//! deferred or bounced for TLS reasons, each with a likely cause.
//!
//! Everything is folded from the same records the other commands use: the posture is
//! [`Posture::add`] over the peer's records, the local-error windows are the ones `scan`
//! finds ([`crate::analysis::downgrade`], computed by the command over every record, since any TLS
//! session on the host shows that our TLS works again), kept when they touch this peer,
//! the error kinds are the peer's `Error` records. Only the change spans are new: consecutive records of one direction
//! with the same TLS state (`TLSv1.3 verify=OK`, `plaintext`) joined into one span.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::causes::{self, Reason};
use super::collect::Item;
use super::term::{Painter, Tone, clean};
use crate::analysis::downgrade::Window;
use crate::analysis::posture::{PeerPosture, Posture};
use crate::model::{DeliveryStatus, Direction, Source, TlsErrorKind, TlsParams};
use crate::model::{Encryption, Record};

type Time = DateTime<FixedOffset>;

/// Consecutive records of one direction with the same TLS state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The posture key of the peer (a domain question matches several hosts).
    pub peer: String,
    pub direction: Direction,
    /// `TLSv1.3 verify=OK`, `TLS (parameters unknown)`, `plaintext`.
    pub state: String,
    pub tls: bool,
    pub first: Option<Time>,
    pub last: Option<Time>,
    /// Sessions and messages in the span.
    pub records: u64,
    pub first_source: Source,
}

/// The first and last of one kind of error of this peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorSpan {
    pub kind: TlsErrorKind,
    pub count: u64,
    pub first: Occurrence,
    pub last: Occurrence,
}

/// One dated line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub source: Source,
    pub text: String,
}

/// A deferred or bounced message whose reason is TLS-related.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trouble {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    pub queue_id: String,
    pub peer: String,
    pub status: DeliveryStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    pub text: String,
    pub reason: &'static str,
    pub likely_cause: &'static str,
    pub source: Source,
}

/// Everything `mailtls peer` says about one peer.
#[derive(Debug, Clone, Serialize)]
pub struct PeerStory {
    pub schema: &'static str,
    pub query: String,
    /// The posture of every peer key the query matched (a domain matches its hosts).
    pub peers: Vec<PeerPosture>,
    pub changes: Vec<Span>,
    pub errors: Vec<ErrorSpan>,
    /// Local TLS errors (keys, certificates) and the plaintext of this peer they explain.
    pub local_windows: Vec<Window>,
    pub troubles: Vec<Trouble>,
}

/// The TLS state a record shows, when it shows one. Outbound attempts that did not go
/// through show none (they are [`Trouble`]s or errors, not traffic).
fn state_of(r: &Record) -> Option<(Direction, String, bool)> {
    let show = |p: &TlsParams| format!("{} verify={}", p.version, p.verify);
    match r {
        Record::Session {
            direction, params, ..
        } => Some((*direction, show(params), true)),
        Record::Message {
            direction,
            encryption,
            status,
            ..
        } => {
            if *direction == Direction::Outbound && *status != Some(DeliveryStatus::Sent) {
                return None;
            }
            Some(match encryption {
                Encryption::Tls(p) => (*direction, show(p), true),
                Encryption::TlsUnknown => (*direction, "TLS (parameters unknown)".into(), true),
                Encryption::Plaintext => (*direction, "plaintext".into(), false),
            })
        }
        _ => None,
    }
}

fn occurrence(r: &Record, text: &str) -> Occurrence {
    let m = r.meta();
    Occurrence {
        time: m.time,
        host: m.host.as_deref().map(str::to_owned),
        source: m.source.clone(),
        text: text.to_owned(),
    }
}

/// Orders items by time (untimed last, by line), so spans follow the log's clock even when
/// correlation released a record late (Postfix waits for qmgr).
pub fn by_time(items: &mut [Item]) {
    items.sort_by(|a, b| {
        let (ma, mb) = (a.record.meta(), b.record.meta());
        (ma.time.is_none(), ma.time, &ma.source).cmp(&(mb.time.is_none(), mb.time, &mb.source))
    });
}

impl PeerStory {
    /// Builds the story from the peer's items in time order ([`by_time`]) and the
    /// downgrade windows of the whole input.
    pub fn build(query: &str, items: &[Item], windows: Vec<Window>) -> PeerStory {
        let mut posture = Posture::default();
        let mut changes: Vec<Span> = Vec::new();
        let mut errors: BTreeMap<TlsErrorKind, ErrorSpan> = BTreeMap::new();
        let mut troubles = Vec::new();
        for it in items {
            let r = &it.record;
            if r.peer().is_none() {
                continue;
            }
            posture.add(r);
            if let Some((direction, state, tls)) = state_of(r) {
                let m = r.meta();
                let key = r.peer().and_then(|p| p.key()).unwrap_or_default();
                match changes
                    .iter_mut()
                    .rev()
                    .find(|s| s.direction == direction && s.peer == key)
                {
                    Some(s) if s.state == state => {
                        s.records += 1;
                        s.last = m.time.or(s.last);
                    }
                    _ => changes.push(Span {
                        peer: key,
                        direction,
                        state,
                        tls,
                        first: m.time,
                        last: m.time,
                        records: 1,
                        first_source: m.source.clone(),
                    }),
                }
            }
            match r {
                Record::Error { kind, text, .. } => {
                    let o = occurrence(r, text);
                    errors
                        .entry(*kind)
                        .and_modify(|e| {
                            e.count += 1;
                            e.last = o.clone();
                        })
                        .or_insert(ErrorSpan {
                            kind: *kind,
                            count: 1,
                            first: o.clone(),
                            last: o,
                        });
                }
                Record::Message {
                    status: Some(status @ (DeliveryStatus::Deferred | DeliveryStatus::Bounced)),
                    queue_id,
                    peer,
                    meta,
                    ..
                } => {
                    let detail = it.detail.clone().unwrap_or_default();
                    let text = detail.text.clone().unwrap_or_default();
                    if let Some(Reason { label, cause }) = causes::tls_reason(&text) {
                        troubles.push(Trouble {
                            time: meta.time,
                            queue_id: queue_id.clone(),
                            peer: peer.to_string(),
                            status: *status,
                            to: detail.to,
                            dsn: detail.dsn,
                            text,
                            reason: label,
                            likely_cause: cause,
                            source: meta.source.clone(),
                        });
                    }
                }
                _ => {}
            }
        }
        // Local errors matter to this peer when its mail went plaintext through their
        // window, or when they happened while the peer was active.
        let times = items
            .iter()
            .filter(|i| i.record.peer().is_some())
            .filter_map(|i| i.record.meta().time);
        let (lo, hi) = (times.clone().min(), times.max());
        let local_windows = windows
            .into_iter()
            .filter(|w| {
                w.peers.keys().any(|k| posture.peers.contains_key(k))
                    || (lo.is_some_and(|lo| w.start >= lo) && hi.is_some_and(|hi| w.start <= hi))
            })
            .collect();
        PeerStory {
            schema: "mailtls.peer/1",
            query: query.to_owned(),
            peers: posture.peers.into_values().collect(),
            changes,
            errors: errors.into_values().collect(),
            local_windows,
            troubles,
        }
    }

    /// True when nothing in the inputs was about this peer.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// One sentence per direction: "TLSv1.3 verify=OK until 2026-11-20 10:02, then
    /// plaintext until …", with the local errors that opened a window meanwhile.
    pub fn headline(&self, peer: &str, direction: Direction) -> Option<String> {
        let spans: Vec<&Span> = self
            .changes
            .iter()
            .filter(|s| s.direction == direction && s.peer == peer)
            .collect();
        if spans.is_empty() {
            return None;
        }
        let mut out = String::new();
        for (i, s) in spans.iter().enumerate() {
            if i > 0 {
                out.push_str(", then ");
            }
            out.push_str(&s.state);
            if i + 1 < spans.len() {
                let _ = write!(out, " until {}", when(s.last));
            }
        }
        for w in self
            .local_windows
            .iter()
            .filter(|w| w.direction == direction)
        {
            let kinds: Vec<&str> = w.errors.keys().map(|k| k.as_str()).collect();
            let _ = write!(
                out,
                "; {} error on {} at {}",
                kinds.join("/"),
                clean(&w.host),
                short(w.start)
            );
        }
        Some(out)
    }

    /// Every (peer, direction) headline, peers in posture order.
    pub fn headlines(&self) -> Vec<(String, Direction, String)> {
        let mut out = Vec::new();
        for pp in &self.peers {
            for d in [Direction::Inbound, Direction::Outbound] {
                if let Some(h) = self.headline(&pp.peer, d) {
                    out.push((pp.peer.clone(), d, h));
                }
            }
        }
        out
    }

    /// The terminal text.
    pub fn render(&self, p: &Painter) -> String {
        let mut o = String::new();
        let names: Vec<String> = self
            .peers
            .iter()
            .map(|pp| {
                let ips: Vec<String> = pp.ips.iter().map(|i| i.to_string()).collect();
                if ips.is_empty() {
                    pp.peer.clone()
                } else {
                    format!("{} [{}]", pp.peer, ips.join(", "))
                }
            })
            .collect();
        let _ = writeln!(
            o,
            "{} {}",
            p.paint(Tone::Strong, "Peer"),
            p.paint(Tone::Strong, &self.query)
        );
        let _ = writeln!(o, "  matched: {}", p.paint(Tone::Dim, &names.join(", ")));
        let _ = writeln!(o, "\n{}", p.paint(Tone::Strong, "Posture"));
        for pp in &self.peers {
            for d in [Direction::Inbound, Direction::Outbound] {
                let dp = pp.dir(d);
                if dp.is_empty() {
                    continue;
                }
                fn hist<K: crate::model::Word>(m: &crate::model::Hist<K>) -> String {
                    m.words()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                }
                let plain = dp.plaintext_messages;
                let _ = writeln!(
                    o,
                    "  {:<28} {:<3}  {} TLS sessions, {} TLS messages, {} plaintext, {} deferred, {} bounced  versions {}  verify {}",
                    p.paint(Tone::Strong, &pp.peer),
                    d.as_str(),
                    dp.tls_sessions,
                    dp.tls_messages,
                    p.paint(
                        if plain > 0 { Tone::Bad } else { Tone::Good },
                        &plain.to_string()
                    ),
                    dp.deferred,
                    dp.bounced,
                    hist(&dp.versions),
                    hist(&dp.verify),
                );
            }
        }
        let _ = writeln!(o, "\n{}", p.paint(Tone::Strong, "What changed"));
        for (peer, d, h) in self.headlines() {
            let _ = writeln!(
                o,
                "  {} {}: {}",
                p.paint(Tone::Strong, &peer),
                d.as_str(),
                p.paint(Tone::Strong, &h)
            );
        }
        for s in &self.changes {
            let tone = if !s.tls {
                Tone::Bad
            } else if s.state.contains("verify=OK") || s.state.contains("verify=TRUSTED") {
                Tone::Good
            } else {
                Tone::Warn
            };
            let _ = writeln!(
                o,
                "  {} → {}  {} {:<3}  {}  ({} record{}, from {})",
                p.paint(Tone::Dim, &when(s.first)),
                p.paint(Tone::Dim, &when(s.last)),
                clean(&s.peer),
                s.direction.as_str(),
                p.paint(tone, &s.state),
                s.records,
                if s.records == 1 { "" } else { "s" },
                p.paint(Tone::Dim, &s.first_source.to_string())
            );
        }
        if !self.local_windows.is_empty() {
            let _ = writeln!(
                o,
                "\n{}",
                p.paint(Tone::Strong, "Local TLS errors (our keys, certificates)")
            );
            for w in &self.local_windows {
                let kinds: Vec<String> = w.errors.iter().map(|(k, n)| format!("{k}×{n}")).collect();
                let until = w
                    .resumed
                    .map_or("not resumed in the logs read".to_owned(), |t| {
                        format!("TLS works again at {}", when(Some(t)))
                    });
                let mine: u64 = self
                    .peers
                    .iter()
                    .filter_map(|pp| w.peers.get(&pp.peer))
                    .sum();
                let _ = writeln!(
                    o,
                    "  {} on {} {}: {}  ({}; {} plaintext messages of this peer meanwhile)",
                    p.paint(Tone::Bad, &kinds.join(" ")),
                    clean(&w.host),
                    w.direction.as_str(),
                    when(Some(w.start)),
                    until,
                    mine
                );
                let _ = writeln!(
                    o,
                    "      {}  {}",
                    p.paint(Tone::Dim, &w.first_source.to_string()),
                    p.paint(Tone::Dim, &w.first_error)
                );
            }
        }
        if !self.errors.is_empty() {
            let _ = writeln!(o, "\n{}", p.paint(Tone::Strong, "TLS errors by kind"));
            for e in &self.errors {
                let _ = writeln!(o, "  {} ×{}", p.paint(Tone::Bad, e.kind.as_str()), e.count);
                for (label, occ) in [("first", &e.first), ("last", &e.last)] {
                    if label == "last" && e.count == 1 {
                        break;
                    }
                    let _ = writeln!(
                        o,
                        "      {label:<5} {} {}  {}  {}",
                        when(occ.time),
                        clean(occ.host.as_deref().unwrap_or("-")),
                        p.paint(Tone::Dim, &occ.source.to_string()),
                        p.paint(Tone::Dim, &occ.text)
                    );
                }
            }
        }
        if !self.troubles.is_empty() {
            let _ = writeln!(
                o,
                "\n{}",
                p.paint(Tone::Strong, "Deferred or bounced for TLS reasons")
            );
            for t in &self.troubles {
                let status = match t.status {
                    DeliveryStatus::Bounced => p.paint(Tone::Bad, "bounced"),
                    _ => p.paint(Tone::Warn, "deferred"),
                };
                let _ = writeln!(
                    o,
                    "  {} {} {} to=<{}> {}  {}",
                    when(t.time),
                    clean(&t.queue_id),
                    status,
                    p.paint(Tone::Strong, t.to.as_deref().unwrap_or("?")),
                    t.dsn
                        .as_deref()
                        .map_or(String::new(), |d| format!("dsn={d}")),
                    p.paint(Tone::Dim, &t.text)
                );
                let _ = writeln!(
                    o,
                    "      {}: {}  ({})",
                    p.paint(Tone::Warn, t.reason),
                    t.likely_cause,
                    p.paint(Tone::Dim, &t.source.to_string())
                );
            }
        }
        o
    }
}

/// `2026-11-20 10:02:11`, or `?` for records without a time.
pub fn when(t: Option<Time>) -> String {
    t.map_or("?".to_owned(), |t| {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    })
}

fn short(t: Time) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}
