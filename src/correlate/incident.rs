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
//! incident each; Exim logs one line per failed connection anyway. Except Exim's problems
//! with its own files ([`TlsErrorKind::is_local`]): Exim loads them again in every process
//! that needs them and logs the failure each time (a missing `tls_verify_certificates`
//! once per role at start-up, then `could not stat …` and `TLS error on connection from …
//! NULL` for every connection: the real `ca_missing` capture), so they are gathered per
//! log host under one key (`EXIM_LOCAL`, with or without pids: syslog and mainlog give
//! the same count), one incident while they keep coming within [`BURST`] of each other
//! and no other Exim line of the host comes between them (a message line, say, so that the
//! incident is out, and its window open, before the clear text that follows it). Two
//! local lines of one burst need not name the same peer: the file is ours.

use chrono::Duration;

use super::{Mark, ProcKey, nanos, same_peer};
use crate::model::Meta;
use crate::model::{Direction, Peer, TlsError, TlsErrorKind};

/// The process id under which Exim's local errors of one log host gather (no real pid:
/// Linux caps them at 2^22).
pub(super) const EXIM_LOCAL: u32 = u32::MAX;

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
        K::DhParams => 15,
        K::CipherIgnored => 15,
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
            (Some(a), Some(b)) => b.since(a) <= nanos(BURST) && b >= a,
            _ => now.seq.saturating_sub(self.last.seq) <= BURST_EVENTS,
        };
        let dir_ok = match (self.direction, e.direction) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let peer_ok = match (&self.peer, &e.peer) {
            (Some(a), Some(b)) => (self.kind.is_local() && e.kind.is_local()) || same_peer(a, b),
            _ => true,
        };
        let side_ok =
            self.kind.is_dump() || e.kind.is_dump() || self.kind.is_local() == e.kind.is_local();
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

    /// True when no error line is gathering (the correlator's usual state).
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
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
                    (Some(a), Some(b)) => b.since(a) > nanos(BURST),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Mta, Source};
    use chrono::DateTime;
    use std::sync::Arc;

    fn meta(secs: i64, line: u64) -> Meta {
        Meta {
            time: DateTime::from_timestamp(1_800_000_000 + secs, 0).map(|t| t.fixed_offset()),
            host: Some(Arc::from("mx")),
            mta: Mta::Postfix,
            source: Source {
                file: Arc::from("mail.log"),
                line,
            },
        }
    }

    fn mark(secs: i64, seq: u64) -> Mark {
        Mark {
            time: meta(secs, 0).time.map(crate::correlate::At::of),
            seq,
        }
    }

    fn err(kind: TlsErrorKind, dir: Option<Direction>, text: &str) -> TlsError {
        TlsError {
            direction: dir,
            peer: None,
            kind,
            text: text.to_owned(),
        }
    }

    fn pk(pid: u32) -> Option<ProcKey> {
        Some(ProcKey { host: 1, pid })
    }

    #[test]
    fn a_key_burst_is_one_private_key_incident_with_the_telling_dump_as_reason() {
        let mut inc = Incidents::default();
        let mut done = Vec::new();
        let lines = [
            (
                TlsErrorKind::PrivateKey,
                "cannot get RSA private key from file \"/k.pem\": disabling TLS support",
            ),
            (
                TlsErrorKind::Library,
                "error:1400006B:UI routines::processing error:ui_lib.c:573:",
            ),
            (
                TlsErrorKind::PrivateKey,
                "error:1C80009F:Provider routines::unable to get passphrase:x.c:96:",
            ),
            (
                TlsErrorKind::Certificate,
                "error:0A080009:SSL routines::PEM lib:ssl_rsa.c:385:",
            ),
        ];
        for (i, (k, t)) in lines.iter().enumerate() {
            inc.line(
                pk(7),
                err(*k, Some(Direction::Inbound), t),
                meta(0, i as u64 + 1),
                mark(0, i as u64),
                &mut done,
            );
        }
        assert!(done.is_empty(), "still gathering");
        inc.end_of(&pk(7).unwrap(), &mut done);
        assert_eq!(done.len(), 1);
        let i = &done[0];
        assert_eq!(i.error.kind, TlsErrorKind::PrivateKey);
        assert!(i.error.text.starts_with("cannot get RSA private key"));
        assert_eq!(i.meta.source.line, 1);
        assert!(
            i.reason
                .as_deref()
                .unwrap()
                .contains("unable to get passphrase")
        );
        assert_eq!(inc.len(), 0);
    }

    #[test]
    fn bursts_end_with_time_role_side_and_process() {
        let mut inc = Incidents::default();
        let mut done = Vec::new();
        let h = |t: &str| err(TlsErrorKind::Handshake, Some(Direction::Inbound), t);
        inc.line(
            pk(1),
            h("SSL_accept error from a[192.0.2.1]: -1"),
            meta(0, 1),
            mark(0, 1),
            &mut done,
        );
        // Another process: its own incident.
        inc.line(
            pk(2),
            h("SSL_accept error from b[192.0.2.2]: -1"),
            meta(0, 2),
            mark(0, 2),
            &mut done,
        );
        // The other role on process 1: a new incident, the first one is done.
        inc.line(
            pk(1),
            err(
                TlsErrorKind::PrivateKey,
                Some(Direction::Outbound),
                "client key",
            ),
            meta(1, 3),
            mark(1, 3),
            &mut done,
        );
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].error.kind, TlsErrorKind::Handshake);
        // A local line never joins a conversation incident, even with the same role.
        inc.line(
            pk(2),
            err(TlsErrorKind::PrivateKey, Some(Direction::Inbound), "key"),
            meta(1, 4),
            mark(1, 4),
            &mut done,
        );
        assert_eq!(done.len(), 2);
        // Past BURST everything open is over.
        inc.stale(mark(1 + BURST.num_seconds() + 1, 5), &mut done);
        assert_eq!(done.len(), 4);
        assert_eq!(inc.len(), 0);
    }

    #[test]
    fn lines_without_a_process_are_their_own_incident() {
        let mut inc = Incidents::default();
        let mut done = Vec::new();
        inc.line(
            None,
            err(TlsErrorKind::Io, None, "SSL channel closed on write"),
            meta(0, 1),
            mark(0, 1),
            &mut done,
        );
        assert_eq!(done.len(), 1);
        assert_eq!(inc.len(), 0);
    }

    #[test]
    fn a_received_alert_about_our_certificate_names_the_handshake() {
        let mut inc = Incidents::default();
        let mut done = Vec::new();
        inc.line(
            pk(3),
            err(
                TlsErrorKind::Handshake,
                Some(Direction::Inbound),
                "SSL_accept error from a[192.0.2.1]: -1",
            ),
            meta(0, 1),
            mark(0, 1),
            &mut done,
        );
        inc.line(
            pk(3),
            err(
                TlsErrorKind::CertificateRejected,
                None,
                "error:0A000412:SSL routines::sslv3 alert bad certificate:x.c:1:",
            ),
            meta(0, 2),
            mark(0, 2),
            &mut done,
        );
        inc.drain(&mut done);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].error.kind, TlsErrorKind::CertificateRejected);
        assert_eq!(done[0].error.kind.side(), crate::model::Side::Ours);
        assert!(done[0].error.text.starts_with("SSL_accept error"));
        assert!(
            done[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("bad certificate")
        );
    }
}
