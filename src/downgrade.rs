//! The silent-downgrade window: what a local TLS configuration error cost.
//!
//! Sendmail does not stop when it cannot load its key or certificate
//! (`SSL_CTX_use_PrivateKey_file(…) failed`, an unsafe key file): it keeps running, stops
//! offering STARTTLS, and accepts (and sends) mail in clear text. The error line is the only
//! trace. This fold ties each such error to its consequence: a window per log host and
//! direction that opens at the first local error and closes at the next TLS session of that
//! host and direction, with the plaintext messages that went through it.
//!
//! Unlike [`crate::posture::Posture`] this is a sequential fold, not a monoid: a window
//! depends on the order of one host's records. The pipeline delivers each host's records in
//! log order (oldest rotation first), which is all it needs; hosts are kept apart.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::correlate::{Encryption, Record};
use crate::event::{DeliveryStatus, Direction, Source, TlsErrorKind};
use crate::posture::Posture;

type Time = DateTime<FixedOffset>;

/// Messages kept verbatim per window; the rest are only counted.
pub const KEEP_MESSAGES: usize = 200;

/// One plaintext message inside a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowMessage {
    pub time: Time,
    /// The posture key of the peer.
    pub peer: String,
    pub queue_id: String,
    pub source: Source,
}

/// From a local TLS configuration error until TLS works again on that host and direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    /// The log host (`-` when the lines had none).
    pub host: String,
    pub direction: Direction,
    /// The first error's time.
    pub start: Time,
    /// The first TLS session afterwards; `None` when TLS never came back in the logs read.
    pub resumed: Option<Time>,
    /// Errors seen while the window was open, by kind.
    pub errors: BTreeMap<TlsErrorKind, u64>,
    /// The first error's line and where it was.
    pub first_error: String,
    pub first_source: Source,
    /// Plaintext messages in the window (the first [`KEEP_MESSAGES`]).
    pub messages: Vec<WindowMessage>,
    /// All plaintext messages in the window.
    pub plaintext_messages: u64,
}

impl Window {
    /// The plaintext messages from or to peers that otherwise used TLS in this direction:
    /// mail that would have been encrypted had the configuration been sound.
    pub fn downgraded<'a>(
        &'a self,
        posture: &'a Posture,
    ) -> impl Iterator<Item = &'a WindowMessage> {
        self.messages.iter().filter(move |m| {
            posture
                .peers
                .get(&m.peer)
                .is_some_and(|p| p.dir(self.direction).tls_sessions > 0)
        })
    }
}

/// The fold: feed every record with [`Downgrades::add`], then [`Downgrades::finish`].
#[derive(Debug, Default)]
pub struct Downgrades {
    open: HashMap<(String, Direction), Window>,
    closed: Vec<Window>,
}

impl Downgrades {
    pub fn add(&mut self, r: &Record) {
        let Some(time) = r.meta().time else { return };
        // Only a local error opens a window; with none open (the usual case) nothing else
        // can change, so the fold costs no allocation per record.
        let opens = matches!(r, Record::Error { peer: None, kind, .. } if kind.is_local());
        if !opens && self.open.is_empty() {
            return;
        }
        let host = r.meta().host.as_deref().unwrap_or("-").to_owned();
        match r {
            Record::Error {
                peer: None,
                kind,
                direction,
                text,
                meta,
                ..
            } if kind.is_local() => {
                let dirs: &[Direction] = match direction {
                    Some(Direction::Inbound) => &[Direction::Inbound],
                    Some(Direction::Outbound) => &[Direction::Outbound],
                    None => &[Direction::Inbound, Direction::Outbound],
                };
                for d in dirs {
                    let w = self
                        .open
                        .entry((host.clone(), *d))
                        .or_insert_with(|| Window {
                            host: host.clone(),
                            direction: *d,
                            start: time,
                            resumed: None,
                            errors: BTreeMap::new(),
                            first_error: text.clone(),
                            first_source: meta.source.clone(),
                            messages: Vec::new(),
                            plaintext_messages: 0,
                        });
                    *w.errors.entry(*kind).or_default() += 1;
                }
            }
            Record::Session { direction, .. } => {
                if let Some(mut w) = self.open.remove(&(host, *direction)) {
                    w.resumed = Some(time);
                    self.closed.push(w);
                }
            }
            Record::Message {
                direction,
                encryption: Encryption::Plaintext,
                status,
                peer,
                queue_id,
                meta,
            } => {
                let delivered = *direction == Direction::Inbound
                    || matches!(status, Some(DeliveryStatus::Sent));
                if !delivered {
                    return;
                }
                if let (Some(w), Some(key)) = (self.open.get_mut(&(host, *direction)), peer.key()) {
                    w.plaintext_messages += 1;
                    if w.messages.len() < KEEP_MESSAGES {
                        w.messages.push(WindowMessage {
                            time,
                            peer: key,
                            queue_id: queue_id.clone(),
                            source: meta.source.clone(),
                        });
                    }
                }
            }
            _ => {}
        }
    }

    /// Every window, the still-open ones last, ordered by host, start and direction.
    pub fn finish(mut self) -> Vec<Window> {
        let mut all = std::mem::take(&mut self.closed);
        all.extend(self.open.into_values());
        all.sort_by(|a, b| {
            (&a.host, a.start, a.direction.as_str()).cmp(&(&b.host, b.start, b.direction.as_str()))
        });
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::Meta;
    use crate::event::{Bits, Mta, Peer, TlsParams, TlsVersion, Verify};
    use std::sync::Arc;

    fn meta(host: &str, min: i64, line: u64) -> Meta {
        Meta {
            time: Some(
                DateTime::from_timestamp(1_795_000_000 + min * 60, 0)
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

    fn session(host: &str, min: i64, dir: Direction, peer: &str) -> Record {
        Record::Session {
            meta: meta(host, min, 0),
            direction: dir,
            peer: Peer::new(Some(peer), None),
            params: TlsParams {
                version: TlsVersion::Tls1_3,
                cipher: None,
                bits: Bits::default(),
                verify: Verify::No,
                detail: None,
            },
        }
    }

    fn plain(host: &str, min: i64, dir: Direction, peer: &str, line: u64) -> Record {
        Record::Message {
            meta: meta(host, min, line),
            direction: dir,
            peer: Peer::new(Some(peer), None),
            queue_id: format!("q{line}"),
            encryption: Encryption::Plaintext,
            status: (dir == Direction::Outbound).then_some(DeliveryStatus::Sent),
        }
    }

    fn local(host: &str, min: i64, dir: Option<Direction>, line: u64) -> Record {
        Record::Error {
            meta: meta(host, min, line),
            direction: dir,
            peer: None,
            kind: TlsErrorKind::PrivateKey,
            text: "STARTTLS=server: SSL_CTX_use_PrivateKey_file(/etc/mail/tls/key.pem) failed"
                .into(),
            reason: None,
        }
    }

    #[test]
    fn window_runs_from_error_to_resumed_tls_per_host_and_direction() {
        use Direction::*;
        let records = [
            session("mail", 0, Inbound, "mx.partner.example"),
            local("mail", 10, Some(Inbound), 100),
            plain("mail", 12, Inbound, "mx.partner.example", 101),
            plain("mail", 13, Inbound, "spam.example", 102),
            plain("mail", 14, Outbound, "mx.partner.example", 103), // other direction
            plain("relay2", 15, Inbound, "mx.partner.example", 104), // other host
            local("mail", 20, Some(Inbound), 105),
            session("relay2", 25, Inbound, "x.example"),
            session("mail", 30, Inbound, "mx.partner.example"),
            plain("mail", 31, Inbound, "mx.partner.example", 106), // after: not counted
            local("mail", 40, None, 107),
        ];
        let mut f = Downgrades::default();
        let mut posture = Posture::default();
        for r in &records {
            f.add(r);
            posture.add(r);
        }
        let w = f.finish();
        assert_eq!(w.len(), 3, "{w:#?}");
        let first = &w[0];
        assert_eq!((first.host.as_str(), first.direction), ("mail", Inbound));
        assert_eq!(first.errors[&TlsErrorKind::PrivateKey], 2);
        assert_eq!(first.first_source.line, 100);
        assert_eq!(
            first.resumed.map(|t| t - first.start),
            Some(chrono::Duration::minutes(20))
        );
        assert_eq!(first.plaintext_messages, 2);
        let down: Vec<_> = first.downgraded(&posture).map(|m| m.source.line).collect();
        assert_eq!(down, vec![101], "spam.example never used TLS");
        // The direction-less error at 40 opens both directions, never resumed.
        assert!(
            w[1..]
                .iter()
                .all(|x| x.resumed.is_none() && x.start == w[1].start)
        );
        assert_eq!(w[1].direction, Inbound);
        assert_eq!(w[2].direction, Outbound);
    }
}
