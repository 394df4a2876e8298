//! Exim correlation: nothing to tie, everything is on the message line.
//!
//! Exim logs no separate negotiation line; the `X=`/`CV=` of an arrival, a delivery or a
//! rejected command are the session's parameters and the message id is the only key. So:
//!
//! * an `<=` with `X=` from a peer is one inbound TLS session and one TLS message; without
//!   `X=` it is a plaintext message (`P=esmtps` alone still says TLS, parameters unknown);
//! * an `H=… X=… rejected …` line (an ACL refused `MAIL`, `RCPT`, `DATA`, …) is an inbound
//!   TLS session and no message. One connection often writes several of them (one per
//!   refused recipient) and may go on to send an accepted message: lines from the same
//!   peer with the same `X=`/`CV=` within [`REJECT_SESSION`] (Exim's default
//!   `smtp_receive_timeout`) ride the session already counted, and the first `<=` after
//!   them too. They are keyed by (log host, pid, peer address): with `+pid` or syslog the
//!   pid tells two connections apart; without it, two concurrent rejected connections from
//!   one address with the same cipher are counted as one;
//! * a delivery with `X=` is one outbound TLS session, except the `->` lines that follow
//!   an `=>` for further recipients of the same delivery (same message, same host, within
//!   [`SAME_DELIVERY`]), which ride the session already counted. The key is per (log host,
//!   message id, peer address), so the lines of other deliveries written between them
//!   (parallel delivery processes share the mainlog) change nothing;
//! * a deferred or bounced delivery whose text names a TLS failure (`TLS session: …`,
//!   `the server did not offer TLS support`) is also an error of that kind for the host.
//!
//! Verdicts of messages are then decided by the shared code in [`super`], which already
//! prefers the parameters written on the line itself.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::Duration;

use super::{Correlator, HashMap, Mark};
use crate::model::{DeliveryStatus, Direction, EventKind, Peer, QueueId, TlsParams};
use crate::model::{Meta, Record};

/// How far apart the `=>` and `->` lines of one SMTP transaction may be: Exim writes them
/// together when the transaction ends, so the same second, or the next across a tick.
pub const SAME_DELIVERY: Duration = Duration::seconds(5);
/// How long a rejected TLS connection is taken to stay open: Exim's default
/// `smtp_receive_timeout` (5 min) between two commands.
pub const REJECT_SESSION: Duration = Duration::minutes(5);

/// (log host, message id, peer address or name).
type OutKey = (Option<Arc<str>>, QueueId, Ident);
/// (log host, pid, peer address or name).
type InKey = (Option<Arc<str>>, Option<u32>, Ident);

/// Who a peer is for these maps: its address when logged (Exim always logs it), else its
/// key. Typed rather than spelled: an address was formatted into a new `String` on every
/// Exim message line with TLS, only to be hashed and compared (issue 21).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Ident {
    Ip(IpAddr),
    Name(String),
}

/// What Exim correlation remembers between lines, bounded by the sweep.
#[derive(Default)]
pub(super) struct EximState {
    /// Outbound sessions counted, by message and host, for the `->` lines that follow.
    out: HashMap<OutKey, Mark>,
    /// Inbound TLS sessions counted from `rejected` lines, for the lines that follow them.
    rejected: HashMap<InKey, (Arc<TlsParams>, Mark)>,
}

impl EximState {
    pub(super) fn len(&self) -> usize {
        self.out.len() + self.rejected.len()
    }

    /// Drops entries no later line can ride. Returns how many only the count bound made
    /// stale (see [`super::Correlator::evicted`]).
    pub(super) fn sweep(&mut self, now: Mark) -> u64 {
        let mut evicted = 0;
        self.out
            .retain(|_, m| m.keep(now, SAME_DELIVERY, &mut evicted));
        self.rejected
            .retain(|_, (_, m)| m.keep(now, REJECT_SESSION, &mut evicted));
        evicted
    }

    /// Drops the oldest entries beyond [`super::MAX_ENTRIES`]; returns how many.
    pub(super) fn cap(&mut self) -> u64 {
        super::over_cap(&mut self.out, |m| m.seq).len() as u64
            + super::over_cap(&mut self.rejected, |(_, m)| m.seq).len() as u64
    }
}

/// The address of a peer when logged (Exim always logs it), else its key.
fn ident(peer: &Peer) -> Ident {
    match peer.ip {
        Some(ip) => Ident::Ip(ip),
        None => {
            let key = peer.key().unwrap_or_default();
            // A name that spells an address as the address is written is that address:
            // the same identity the two spellings had as strings.
            match key.parse::<IpAddr>() {
                Ok(ip) if ip.to_string() == key => Ident::Ip(ip),
                _ => Ident::Name(key),
            }
        }
    }
}

impl Correlator {
    /// The records an Exim line adds before the shared handling. Returns true when the
    /// line is fully handled here (an inbound session from a `rejected` line).
    pub(super) fn exim_sessions(
        &mut self,
        kind: &EventKind,
        meta: &Meta,
        pid: Option<u32>,
        now: Mark,
        out: &mut Vec<Record>,
    ) -> bool {
        match kind {
            EventKind::Tls(s) if s.direction == Direction::Inbound => {
                let key = (meta.host.clone(), pid, ident(&s.peer));
                let same = self
                    .exim
                    .rejected
                    .get(&key)
                    .is_some_and(|(p, m)| **p == s.params && m.fresh(now, REJECT_SESSION));
                let params = Arc::new(s.params.clone());
                if !same {
                    out.push(Record::Session {
                        meta: meta.clone(),
                        direction: Direction::Inbound,
                        peer: s.peer.clone(),
                        params: params.clone(),
                    });
                }
                self.exim.rejected.insert(key, (params, now));
                return true;
            }
            EventKind::Received(r) => {
                if let (Some(peer), Some(params)) = (&r.peer, &r.tls) {
                    let key = (meta.host.clone(), pid, ident(peer));
                    let rides = self
                        .exim
                        .rejected
                        .remove(&key)
                        .is_some_and(|(p, m)| p == *params && m.fresh(now, REJECT_SESSION));
                    if !rides {
                        out.push(Record::Session {
                            meta: meta.clone(),
                            direction: Direction::Inbound,
                            peer: peer.clone(),
                            params: params.clone(),
                        });
                    }
                }
            }
            EventKind::Delivery(d) if !d.is_local() => {
                let Some(peer) = &d.peer else { return false };
                if let Some(params) = &d.tls {
                    let key = (meta.host.clone(), d.queue_id.clone(), ident(peer));
                    let same_delivery = d.status == DeliveryStatus::Sent
                        && self
                            .exim
                            .out
                            .get(&key)
                            .is_some_and(|m| m.fresh(now, SAME_DELIVERY));
                    if !same_delivery {
                        out.push(Record::Session {
                            meta: meta.clone(),
                            direction: Direction::Outbound,
                            peer: peer.clone(),
                            params: params.clone(),
                        });
                    }
                    self.exim.out.insert(key, now);
                }
                if matches!(d.status, DeliveryStatus::Deferred | DeliveryStatus::Bounced)
                    && let Some(kind) = d.tls_error
                {
                    out.push(Record::Error {
                        meta: meta.clone(),
                        direction: Some(Direction::Outbound),
                        peer: Some(peer.clone()),
                        kind,
                        text: d.text.clone(),
                        reason: None,
                    });
                }
            }
            _ => {}
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed identity is the old string identity (address as written, else the
    /// lower-cased name): equal exactly when those strings were equal.
    #[test]
    fn ident_is_the_address_or_the_key_as_before() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let peers = [
            Peer::new(Some("mx.example"), ip("192.0.2.1")),
            Peer::new(None, ip("192.0.2.1")),
            Peer::new(Some("192.0.2.1"), None),
            Peer::new(Some("MX.Example."), None),
            Peer::new(Some("mx.example"), None),
            Peer::new(None, ip("2001:db8::1")),
            Peer::new(Some("2001:DB8::1"), None),
            Peer::new(Some("2001:0db8::1"), None),
            Peer::new(None, None),
        ];
        let old = |p: &Peer| {
            p.ip.map(|ip| ip.to_string())
                .or_else(|| p.key())
                .unwrap_or_default()
        };
        for a in &peers {
            for b in &peers {
                assert_eq!(ident(a) == ident(b), old(a) == old(b), "{a} / {b}");
            }
        }
        assert_eq!(ident(&peers[0]), ident(&peers[2]));
        assert_ne!(ident(&peers[5]), ident(&peers[7]));
    }
}
