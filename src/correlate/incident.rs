//! Incidents: the lines of one event become one count, with its reason.
//!
//! A TLS error line is evidence, not yet a conclusion (DESIGN.md "Incidents, sides and
//! windows"). One failed Postfix handshake writes `SSL_accept error from P: -1`, one or
//! more `TLS library problem: …` lines and `lost connection after STARTTLS from P`; one
//! encrypted key writes `SSL_CTX_use_PrivateKey_file(…) failed` (Sendmail) or `cannot get
//! RSA private key from file …: disabling TLS support` (Postfix) plus a burst of OpenSSL
//! dump lines. Counting lines counted one event a dozen times under three kinds.
//!
//! # Rule
//!
//! Error lines of the same process (log host, pid) form one **incident** while they come
//! in one burst: each within [`BURST`] of the previous one (without timestamps: within
//! [`BURST_EVENTS`] events), with no other line of that process in between (a `connect`,
//! a session summary, a message line or a session end closes the burst — so a handshake
//! incident runs until the session's end line), and compatible with it:
//!
//! * the same role (direction) and the same peer where both lines name one;
//! * both about our installation ([`TlsErrorKind::is_local`]) or both about the
//!   conversation; raw library dumps (`library`, `other`) join either.
//!
//! The incident's **kind** is the most specific kind among its lines (see [`rank`]: a
//! missing file beats a key beats a certificate beats an unsafe file beats a dump; a rejected certificate beats a
//! verification failure beats a handshake beats a dump), so `bad password read` in a dump
//! makes the burst a `private_key` incident and `alert bad certificate` makes a failed
//! handshake `certificate_rejected`. Its **text** is the MTA's own line of the highest
//! rank (`SSL_accept error from …`, `SSL_CTX_use_PrivateKey_file(…) failed`); its
//! **reason** is the library dump line that says most (the highest rank, the first of
//! equals), kept apart so the report can show "handshake failed: no shared cipher". Its
//! **side** is [`TlsErrorKind::side`], its **role** the direction, its MTA the lines'.
//!
//! Lines without a pid (Exim's mainlog) cannot be told apart by process and stay one
//! incident each; Exim logs one line per failed connection anyway.

use chrono::Duration;

use super::{Mark, Meta, ProcKey, same_peer};
use crate::event::{Direction, Peer, TlsError, TlsErrorKind};

/// How far apart two lines of one burst may be. Sendmail and Postfix write a whole
/// start-up or handshake burst within the same second; a few seconds allow for a client
/// that hangs up slowly. Any other line of the process ends the burst earlier.
pub const BURST: Duration = Duration::seconds(5);
/// The same for lines without timestamps, in events.
pub const BURST_EVENTS: u64 = 50;

/// Precedence of kinds within one incident: the highest names the incident.
pub fn rank(kind: TlsErrorKind) -> u8 {
    use TlsErrorKind as K;
    match kind {
        // A missing file explains the key or certificate that failed to load.
        K::MissingFile => 21,
        K::PrivateKey => 20,
        K::Certificate => 19,
        K::UnsafeFile => 17,
        K::CaLocations => 16,
        K::CipherConfig => 15,
        K::Init => 14,
        K::CertificateRejected => 12,
        K::CertVerify => 11,
        K::Dane => 10,
        K::NotOffered => 9,
        K::Policy => 8,
        K::Handshake => 7,
        K::Io => 6,
        K::Shutdown => 5,
        K::Other => 1,
        K::Library => 0,
    }
}

/// Kinds that only carry a library's words and join an incident of either side.
fn weak(kind: TlsErrorKind) -> bool {
    matches!(kind, TlsErrorKind::Library | TlsErrorKind::Other)
}

/// A line of an OpenSSL/GnuTLS error-queue dump (`error:0A000086:…`,
/// `STARTTLS=server: 40D7…:error:…`, `10697:error:…`) rather than the MTA's own sentence.
fn is_dump(text: &str) -> bool {
    text.starts_with("error:") || text.contains(":error:")
}

/// One finished incident, ready for the correlator's attribution rules.
#[derive(Debug)]
pub(super) struct Incident {
    pub pk: Option<ProcKey>,
    pub meta: Meta,
    pub error: TlsError,
    pub reason: Option<String>,
    /// When its last line was seen (for the attribution windows).
    pub at: Mark,
}

/// An incident still collecting lines.
struct Open {
    pk: ProcKey,
    /// Meta and text of the anchor line (the MTA's own line of the highest rank).
    meta: Meta,
    text: String,
    anchor_rank: Option<u8>,
    kind: TlsErrorKind,
    direction: Option<Direction>,
    peer: Option<Peer>,
    /// The best dump line so far and its rank.
    reason: Option<(u8, String)>,
    first_dump_meta: Option<Meta>,
    last: Mark,
}

impl Open {
    fn new(pk: ProcKey, e: TlsError, meta: Meta, now: Mark) -> Open {
        let mut o = Open {
            pk,
            meta: meta.clone(),
            text: String::new(),
            anchor_rank: None,
            kind: e.kind,
            direction: e.direction,
            peer: e.peer.clone(),
            reason: None,
            first_dump_meta: None,
            last: now,
        };
        o.take_line(e, meta);
        o
    }

    fn accepts(&self, e: &TlsError, now: Mark) -> bool {
        let near = match (self.last.time, now.time) {
            (Some(a), Some(b)) => b - a <= BURST && b >= a,
            _ => now.seq.saturating_sub(self.last.seq) <= BURST_EVENTS,
        };
        let dir_ok = match (self.direction, e.direction) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let peer_ok = match (&self.peer, &e.peer) {
            (Some(a), Some(b)) => same_peer(a, b),
            _ => true,
        };
        let side_ok = weak(self.kind) || weak(e.kind) || self.kind.is_local() == e.kind.is_local();
        near && dir_ok && peer_ok && side_ok
    }

    fn take_line(&mut self, e: TlsError, meta: Meta) {
        let r = rank(e.kind);
        if rank(self.kind) < r {
            self.kind = e.kind;
        }
        if self.direction.is_none() {
            self.direction = e.direction;
        }
        if self.peer.is_none() {
            self.peer = e.peer;
        }
        if is_dump(&e.text) {
            if self.reason.as_ref().is_none_or(|(best, _)| r > *best) {
                self.reason = Some((r, e.text));
            }
            if self.first_dump_meta.is_none() {
                self.first_dump_meta = Some(meta);
            }
        } else if self.anchor_rank.is_none_or(|a| r > a) {
            self.anchor_rank = Some(r);
            self.text = e.text;
            self.meta = meta;
        }
    }

    fn finish(self) -> Incident {
        let (meta, text, reason) = match (self.anchor_rank, self.reason) {
            (Some(_), reason) => (self.meta, self.text, reason.map(|(_, t)| t)),
            // Only dump lines: the most telling one is the text, there is no other reason.
            (None, Some((_, t))) => (self.first_dump_meta.unwrap_or(self.meta), t, None),
            (None, None) => (self.meta, self.text, None),
        };
        Incident {
            pk: Some(self.pk),
            meta,
            error: TlsError {
                direction: self.direction,
                peer: self.peer,
                kind: self.kind,
                text,
            },
            reason,
            at: self.last,
        }
    }
}

/// The incidents still open, one per process at most.
#[derive(Default)]
pub(super) struct Incidents {
    open: Vec<Open>,
}

impl Incidents {
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Takes one error line. Returns the incidents it completes: the open incident of
    /// the same process when the line does not belong to it, or the line itself when it
    /// has no process.
    pub fn line(
        &mut self,
        pk: Option<ProcKey>,
        e: TlsError,
        meta: Meta,
        now: Mark,
        done: &mut Vec<Incident>,
    ) {
        let Some(pk) = pk else {
            done.push(Incident {
                pk: None,
                meta,
                error: e,
                reason: None,
                at: now,
            });
            return;
        };
        if let Some(i) = self.open.iter().position(|o| o.pk == pk) {
            if self.open[i].accepts(&e, now) {
                let o = &mut self.open[i];
                o.take_line(e, meta);
                o.last = now;
                return;
            }
            done.push(self.open.swap_remove(i).finish());
        }
        self.open.push(Open::new(pk, e, meta, now));
    }

    /// Another line of process `pk` ends its burst.
    pub fn end_of(&mut self, pk: &ProcKey, done: &mut Vec<Incident>) {
        if let Some(i) = self.open.iter().position(|o| &o.pk == pk) {
            done.push(self.open.swap_remove(i).finish());
        }
    }

    /// Incidents whose burst is over by `now` (in the order they began).
    pub fn stale(&mut self, now: Mark, done: &mut Vec<Incident>) {
        if self.open.is_empty() {
            return;
        }
        let mut i = 0;
        while i < self.open.len() {
            let last = self.open[i].last;
            // A clock that went backwards (interleaved inputs) must not keep it open for
            // ever: past many events it is over whatever the times say.
            let gap = now.seq.saturating_sub(last.seq);
            let over = gap > 20 * BURST_EVENTS
                || match (last.time, now.time) {
                    (Some(a), Some(b)) => b - a > BURST,
                    _ => gap > BURST_EVENTS,
                };
            if over {
                done.push(self.open.remove(i).finish());
            } else {
                i += 1;
            }
        }
    }

    /// Everything still open (end of input).
    pub fn drain(&mut self, done: &mut Vec<Incident>) {
        done.extend(self.open.drain(..).map(Open::finish));
    }
}
