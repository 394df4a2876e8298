//! What the correlator concludes, one [`Record`] per fact about a peer or about our own
//! installation: the unit every analysis folds, every report lists and `events` prints.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::event::{
    DeliveryStatus, Direction, Mta, Peer, QueueId, Source, TlsErrorKind, TlsParams, Verify,
};

/// Facts every record carries: when, on which of our hosts, which MTA, which line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<FixedOffset>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<Arc<str>>,
    pub mta: Mta,
    pub source: Source,
}

/// Whether a message travelled encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "encryption", rename_all = "snake_case")]
pub enum Encryption {
    /// Over TLS with these parameters: shared with the session they rode on (and with the
    /// other messages of that session), so a message record copies a pointer, not the
    /// cipher name and the details (issue 21: a clone per record was most of the
    /// correlator's malloc/free).
    Tls(Arc<TlsParams>),
    /// Over TLS, parameters unknown (only `proto=ESMTPS` said so).
    TlsUnknown,
    /// In clear text.
    Plaintext,
}

impl Encryption {
    pub fn is_tls(&self) -> bool {
        !matches!(self, Encryption::Plaintext)
    }
}

/// One fact about one peer (or about our own installation), ready to be folded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// A completed TLS negotiation.
    Session {
        #[serde(flatten)]
        meta: Meta,
        direction: Direction,
        peer: Peer,
        /// Shared with the correlator's session state and the messages that rode on it.
        #[serde(flatten)]
        params: Arc<TlsParams>,
    },
    /// A message received from or delivered (attempted) to a peer, with its verdict.
    Message {
        #[serde(flatten)]
        meta: Meta,
        direction: Direction,
        peer: Peer,
        queue_id: QueueId,
        #[serde(flatten)]
        encryption: Encryption,
        /// Outbound only: what became of the attempt.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<DeliveryStatus>,
    },
    /// A policy verdict on a session's TLS outcome (`ruleset=tls_server, arg1=NONE, …`).
    Verdict {
        #[serde(flatten)]
        meta: Meta,
        direction: Direction,
        peer: Peer,
        verify: Verify,
        reject: bool,
        outcome: String,
    },
    /// Evidence that TLS is up for a role (Sendmail `STARTTLS=server, init=1`): passed
    /// through so downgrade windows can close on it. Not a session, not counted in posture.
    Ready {
        #[serde(flatten)]
        meta: Meta,
        #[serde(skip_serializing_if = "Option::is_none")]
        direction: Option<Direction>,
    },
    /// The MTA daemon (re)started; passed through so downgrade windows and alerts can tell
    /// a restart that fixed a local problem from one that did not. Not counted in posture.
    Start {
        #[serde(flatten)]
        meta: Meta,
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<String>,
    },
    /// One TLS **incident** (all the lines of one failed handshake or of one key that
    /// failed to load, see [`crate::correlate::incident`]); `peer` is `None` for local or unattributed ones.
    /// `direction` is the role: for a local incident, our server side (inbound) or client
    /// side (outbound). Its side (ours or the peer's) is `kind.side()`.
    Error {
        #[serde(flatten)]
        meta: Meta,
        #[serde(skip_serializing_if = "Option::is_none")]
        direction: Option<Direction>,
        #[serde(skip_serializing_if = "Option::is_none")]
        peer: Option<Peer>,
        kind: TlsErrorKind,
        /// The MTA's own line (`SSL_accept error from …`, `SSL_CTX_use_PrivateKey_file(…)
        /// failed`).
        text: String,
        /// The library line that explains it (`error:0A0000C1:SSL routines::no shared
        /// cipher:…`, `…:bad password read:…`), when the incident had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl Record {
    pub fn meta(&self) -> &Meta {
        match self {
            Record::Session { meta, .. }
            | Record::Message { meta, .. }
            | Record::Verdict { meta, .. }
            | Record::Ready { meta, .. }
            | Record::Start { meta, .. }
            | Record::Error { meta, .. } => meta,
        }
    }

    /// The peer the record is about, if any.
    pub fn peer(&self) -> Option<&Peer> {
        match self {
            Record::Session { peer, .. }
            | Record::Message { peer, .. }
            | Record::Verdict { peer, .. } => Some(peer),
            Record::Error { peer, .. } => peer.as_ref(),
            Record::Ready { .. } | Record::Start { .. } => None,
        }
    }

    /// The verify word the record carries, if any: a session's, a TLS message's, a
    /// verdict's.
    pub fn verify(&self) -> Option<&Verify> {
        match self {
            Record::Session { params, .. } => Some(&params.verify),
            Record::Message {
                encryption: Encryption::Tls(p),
                ..
            } => Some(&p.verify),
            Record::Verdict { verify, .. } => Some(verify),
            Record::Message { .. }
            | Record::Error { .. }
            | Record::Ready { .. }
            | Record::Start { .. } => None,
        }
    }

    pub fn direction(&self) -> Option<Direction> {
        match self {
            Record::Session { direction, .. }
            | Record::Message { direction, .. }
            | Record::Verdict { direction, .. } => Some(*direction),
            Record::Error { direction, .. } | Record::Ready { direction, .. } => *direction,
            Record::Start { .. } => None,
        }
    }
}
