//! Exim correlation: nothing to tie, everything is on the message line.
//!
//! Exim logs no separate negotiation line; the `X=`/`CV=` of an arrival or a delivery are
//! the session's parameters and the message id is the only key. So:
//!
//! * an `<=` with `X=` from a peer is one inbound TLS session and one TLS message; without
//!   `X=` it is a plaintext message (`P=esmtps` alone still says TLS, parameters unknown);
//! * a delivery with `X=` is one outbound TLS session, except the `->` lines that follow
//!   an `=>` for further recipients of the same delivery (same message, same host, same
//!   second), which ride the session already counted;
//! * a deferred or bounced delivery whose text names a TLS failure (`TLS session: …`,
//!   `the server did not offer TLS support`) is also an error of that kind for the host.
//!
//! Verdicts of messages are then decided by the shared code in [`super`], which already
//! prefers the parameters written on the line itself.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};

use super::{Correlator, Meta, Record};
use crate::event::{DeliveryStatus, Direction, EventKind};
use crate::parse::exim::status_tls_error;

/// The last outbound session counted: host, message id, peer key, time.
pub(super) type LastOut = (
    Option<Arc<str>>,
    String,
    String,
    Option<DateTime<FixedOffset>>,
);

impl Correlator {
    /// The records an Exim message line adds before the shared handling.
    pub(super) fn exim_sessions(&mut self, kind: &EventKind, meta: &Meta, out: &mut Vec<Record>) {
        match kind {
            EventKind::Received(r) => {
                if let (Some(peer), Some(params)) = (&r.peer, &r.tls) {
                    out.push(Record::Session {
                        meta: meta.clone(),
                        direction: Direction::Inbound,
                        peer: peer.clone(),
                        params: params.clone(),
                    });
                }
            }
            EventKind::Delivery(d) if !d.is_local() => {
                let Some(peer) = &d.peer else { return };
                if let Some(params) = &d.tls {
                    let this = (
                        meta.host.clone(),
                        d.queue_id.clone(),
                        peer.key().unwrap_or_default(),
                        meta.time,
                    );
                    let same_delivery = self.exim_last_out.as_ref() == Some(&this)
                        && d.status == DeliveryStatus::Sent;
                    if !same_delivery {
                        out.push(Record::Session {
                            meta: meta.clone(),
                            direction: Direction::Outbound,
                            peer: peer.clone(),
                            params: params.clone(),
                        });
                    }
                    self.exim_last_out = Some(this);
                }
                if matches!(d.status, DeliveryStatus::Deferred | DeliveryStatus::Bounced)
                    && let Some(kind) = status_tls_error(&d.text)
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
    }
}
