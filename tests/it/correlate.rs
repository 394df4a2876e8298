//! Correlation rules, driven with events as the parsers produce them.

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use mailtls::correlate::Correlator;
use mailtls::model::{
    Bits, Cipher, Delivery, DeliveryStatus, Direction, Event, EventKind, Mta, Peer, PolicyCheck,
    Reception, Source, Stamp, TlsError, TlsErrorKind, TlsParams, TlsSession, TlsVersion, Verify,
};
use mailtls::model::{Encryption, Record};

fn t0() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 27, 10, 0, 0)
        .unwrap()
}

struct Log {
    corr: Correlator,
    out: Vec<Record>,
    line: u64,
}

impl Log {
    fn new() -> Log {
        Log {
            corr: Correlator::new(),
            out: Vec::new(),
            line: 0,
        }
    }

    fn push(&mut self, minutes: i64, pid: u32, kind: EventKind) {
        self.push_host("mail", minutes, pid, kind);
    }

    fn push_host(&mut self, host: &str, minutes: i64, pid: u32, kind: EventKind) {
        self.line += 1;
        self.corr.push(
            Event {
                stamp: Stamp::Full(t0() + Duration::minutes(minutes)),
                host: Some(Arc::from(host)),
                mta: Mta::Sendmail,
                pid: Some(pid),
                source: Source {
                    file: Arc::from("test.log"),
                    line: self.line,
                },
                kind,
            },
            &mut self.out,
        );
    }

    fn finish(self) -> Vec<Record> {
        let mut out = self.out;
        self.corr.finish(&mut out);
        out
    }
}

fn peer(name: Option<&str>, ip: Option<&str>) -> Peer {
    Peer::new(name, ip.map(|i| i.parse().unwrap()))
}

fn params(v: &str, verify: &str) -> TlsParams {
    TlsParams {
        version: TlsVersion::parse(v),
        cipher: Some(Cipher::new("TLS_AES_256_GCM_SHA384")),
        bits: Bits::sendmail_log(Some(256), Some(256)),
        verify: Verify::parse(verify),
        detail: None,
    }
}

fn tls(dir: Direction, p: Peer, v: &str) -> EventKind {
    EventKind::Tls(TlsSession {
        direction: dir,
        peer: p,
        params: params(v, "OK"),
    })
}

fn from(qid: &str, p: Option<Peer>, proto: &str) -> EventKind {
    EventKind::Received(Reception {
        queue_id: qid.into(),
        from: "alice@peer.example".into(),
        peer: p,
        proto: Some(proto.into()),
        tls: None,
    })
}

fn to(qid: &str, p: Peer, status: DeliveryStatus) -> EventKind {
    EventKind::Delivery(Delivery {
        queue_id: qid.into(),
        to: "bob@peer.example".into(),
        peer: Some(p),
        mailer: Some("esmtp".into()),
        status,
        dsn: None,
        text: "Sent".into(),
        tls: None,
        tls_status: None,
        tls_error: None,
    })
}

fn end() -> EventKind {
    EventKind::SessionEnd {
        peer: None,
        reason: mailtls::model::EndReason::LostInput {
            after: "MAIL".into(),
        },
        starttls: None,
    }
}

/// (queue id, encrypted?) of every message record.
fn verdicts(recs: &[Record]) -> Vec<(String, bool)> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Message {
                queue_id,
                encryption,
                ..
            } => Some((queue_id.to_string(), encryption.is_tls())),
            _ => None,
        })
        .collect()
}

#[test]
fn tls_and_plaintext_messages_in_one_log() {
    let a = peer(Some("mx.a.example"), Some("192.0.2.1"));
    let b = peer(None, Some("198.51.100.7"));
    let mut log = Log::new();
    log.push(0, 100, tls(Direction::Inbound, a.clone(), "TLSv1.3"));
    log.push(0, 200, from("q2", Some(b.clone()), "ESMTP")); // other pid, no STARTTLS
    log.push(1, 100, from("q1", Some(a.clone()), "ESMTP")); // 8.14-style proto, still TLS
    log.push(1, 100, from("q3", Some(a), "ESMTP")); // second message, same session
    let recs = log.finish();
    assert_eq!(
        verdicts(&recs),
        vec![
            ("q2".into(), false),
            ("q1".into(), true),
            ("q3".into(), true)
        ]
    );
    let sessions = recs
        .iter()
        .filter(|r| matches!(r, Record::Session { .. }))
        .count();
    assert_eq!(sessions, 1);
}

#[test]
fn a_reused_pid_does_not_inherit_an_old_session() {
    let a = peer(Some("mx.a.example"), Some("192.0.2.1"));
    let c = peer(Some("relay.c.example"), Some("203.0.113.9"));
    let mut log = Log::new();
    // Session ended, pid reused by the same peer without STARTTLS.
    log.push(0, 100, tls(Direction::Inbound, a.clone(), "TLSv1.2"));
    log.push(1, 100, from("q1", Some(a.clone()), "ESMTPS"));
    log.push(2, 100, end());
    log.push(30, 100, from("q2", Some(a.clone()), "ESMTP"));
    // Pid reused by another peer with no session end in between.
    log.push(40, 300, tls(Direction::Inbound, a.clone(), "TLSv1.2"));
    log.push(41, 300, from("q3", Some(c), "ESMTP"));
    // Same peer, same pid, but far too late.
    log.push(50, 400, tls(Direction::Inbound, a.clone(), "TLSv1.2"));
    log.push(50 + 61, 400, from("q4", Some(a), "ESMTP"));
    assert_eq!(
        verdicts(&log.finish()),
        vec![
            ("q1".into(), true),
            ("q2".into(), false),
            ("q3".into(), false),
            ("q4".into(), false)
        ]
    );
}

#[test]
fn proto_esmtps_is_tls_even_without_the_negotiation_in_view() {
    let a = peer(Some("mx.a.example"), Some("192.0.2.1"));
    let mut log = Log::new();
    log.push(0, 100, from("q1", Some(a), "ESMTPSA"));
    let recs = log.finish();
    match &recs[0] {
        Record::Message { encryption, .. } => assert_eq!(*encryption, Encryption::TlsUnknown),
        r => panic!("unexpected {r:?}"),
    }
}

#[test]
fn connection_cache_carries_tls_across_deliveries() {
    let mx1 = peer(Some("mx1.peer.example."), None);
    let mx1_ip = peer(Some("mx1.peer.example."), Some("192.0.2.10"));
    let mx2 = peer(Some("mx2.other.example."), Some("192.0.2.20"));
    let mut log = Log::new();
    log.push(0, 500, tls(Direction::Outbound, mx1, "TLSv1.3"));
    log.push(0, 500, to("q1", mx1_ip.clone(), DeliveryStatus::Sent));
    log.push(1, 500, to("q2", mx1_ip.clone(), DeliveryStatus::Sent));
    log.push(1, 500, to("q3", mx2, DeliveryStatus::Sent));
    log.push(2, 501, to("q4", mx1_ip.clone(), DeliveryStatus::Sent)); // other process
    log.push(30, 500, to("q5", mx1_ip, DeliveryStatus::Sent)); // cache long expired
    assert_eq!(
        verdicts(&log.finish()),
        vec![
            ("q1".into(), true),
            ("q2".into(), true),
            ("q3".into(), false),
            ("q4".into(), false),
            ("q5".into(), false)
        ]
    );
}

#[test]
fn a_peerless_client_error_goes_to_the_next_peer_of_its_process() {
    let mx3 = peer(Some("mx3.peer.example"), None);
    let mut log = Log::new();
    log.push(
        0,
        600,
        EventKind::TlsError(TlsError {
            direction: Some(Direction::Outbound),
            peer: None,
            kind: TlsErrorKind::Handshake,
            text: "connect failed=-1, reason=wrong version number".into(),
        }),
    );
    log.push(
        0,
        600,
        EventKind::Policy(PolicyCheck {
            ruleset: "tls_server".into(),
            verify: Verify::Software,
            arg2: None,
            peer: Some(mx3.clone()),
            outcome: "reject=403 4.7.0 TLS handshake failed.".into(),
        }),
    );
    // A local error is never a peer's, even with a pid.
    log.push(
        1,
        600,
        EventKind::TlsError(TlsError {
            direction: Some(Direction::Inbound),
            peer: None,
            kind: TlsErrorKind::PrivateKey,
            text: "SSL_CTX_use_PrivateKey_file(/etc/mail/certs/key.pem) failed".into(),
        }),
    );
    // An error that never meets its peer stays unattributed.
    log.push(
        2,
        700,
        EventKind::TlsError(TlsError {
            direction: Some(Direction::Outbound),
            peer: None,
            kind: TlsErrorKind::Io,
            text: "read error=timeout".into(),
        }),
    );
    let recs = log.finish();
    let errors: Vec<(Option<String>, TlsErrorKind)> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Error { peer, kind, .. } => Some((peer.as_ref().and_then(Peer::key), *kind)),
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            // The failed handshake and the ruleset's refusal of it are one incident
            // (issue 18; the policy record was a second count).
            (Some("mx3.peer.example".into()), TlsErrorKind::Handshake),
            (None, TlsErrorKind::PrivateKey),
            (None, TlsErrorKind::Io),
        ]
    );
    assert!(recs.iter().any(|r| matches!(
        r,
        Record::Verdict {
            verify: Verify::Software,
            reject: true,
            ..
        }
    )));
}

/// The cached outbound sessions of a process are matched by posture key: a name in any
/// case, or an address for a peer without a name. A renegotiation with the same peer
/// replaces its session, and a failed verdict naming it in another case forgets it.
#[test]
fn cached_sessions_match_peers_by_posture_key() {
    let upper = peer(Some("MX1.Peer.Example."), None);
    let lower = peer(Some("mx1.peer.example"), Some("192.0.2.10"));
    let bare = peer(None, Some("192.0.2.40"));
    let other_ip = peer(None, Some("192.0.2.41"));
    let mut log = Log::new();
    log.push(0, 500, tls(Direction::Outbound, upper, "TLSv1.3"));
    log.push(0, 500, tls(Direction::Outbound, bare.clone(), "TLSv1.3"));
    log.push(0, 500, to("q1", lower.clone(), DeliveryStatus::Sent));
    log.push(0, 500, to("q2", bare.clone(), DeliveryStatus::Sent));
    log.push(0, 500, to("q3", other_ip, DeliveryStatus::Sent));
    log.push(1, 500, tls(Direction::Outbound, lower.clone(), "TLSv1.2"));
    log.push(1, 500, to("q4", lower.clone(), DeliveryStatus::Sent));
    log.push(
        2,
        500,
        EventKind::Policy(PolicyCheck {
            ruleset: "tls_server".into(),
            verify: Verify::Temp,
            arg2: None,
            peer: Some(peer(Some("Mx1.PEER.example"), None)),
            outcome: "reject=403 4.7.0 STARTTLS temporarily not possible.".into(),
        }),
    );
    log.push(2, 500, to("q5", lower, DeliveryStatus::Sent));
    log.push(2, 500, to("q6", bare, DeliveryStatus::Sent));
    let recs = log.finish();
    assert_eq!(
        verdicts(&recs),
        vec![
            ("q1".into(), true),
            ("q2".into(), true),
            ("q3".into(), false),
            ("q4".into(), true),
            ("q5".into(), false),
            ("q6".into(), true)
        ]
    );
    let version = |qid: &str| {
        recs.iter().find_map(|r| match r {
            Record::Message {
                queue_id,
                encryption: Encryption::Tls(p),
                ..
            } if queue_id.as_str() == qid => Some(p.version.clone()),
            _ => None,
        })
    };
    assert_eq!(version("q1"), Some(TlsVersion::Tls1_3));
    assert_eq!(
        version("q4"),
        Some(TlsVersion::Tls1_2),
        "replaced, not kept twice"
    );
}

#[test]
fn a_failed_verdict_forgets_the_cached_session() {
    let mx = peer(Some("mx.peer.example"), Some("192.0.2.30"));
    let mut log = Log::new();
    log.push(0, 800, tls(Direction::Outbound, mx.clone(), "TLSv1.2"));
    log.push(
        1,
        800,
        EventKind::Policy(PolicyCheck {
            ruleset: "tls_server".into(),
            verify: Verify::Temp,
            arg2: None,
            peer: Some(mx.clone()),
            outcome: "reject=403 4.7.0 STARTTLS temporarily not possible.".into(),
        }),
    );
    log.push(2, 800, to("q1", mx, DeliveryStatus::Sent));
    assert_eq!(verdicts(&log.finish()), vec![("q1".into(), false)]);
}

#[test]
fn hosts_do_not_share_processes() {
    let a = peer(Some("mx.a.example"), Some("192.0.2.1"));
    let mut log = Log::new();
    log.push_host(
        "mail1",
        0,
        100,
        tls(Direction::Inbound, a.clone(), "TLSv1.3"),
    );
    log.push_host("mail2", 1, 100, from("q1", Some(a.clone()), "ESMTP"));
    log.push_host("mail1", 1, 100, from("q2", Some(a), "ESMTP"));
    assert_eq!(
        verdicts(&log.finish()),
        vec![("q1".into(), false), ("q2".into(), true)]
    );
}

#[test]
fn state_stays_bounded_over_a_long_log() {
    let mut log = Log::new();
    // 120k sessions that never end cleanly, spread over four days.
    for i in 0..120_000u32 {
        let p = peer(Some("mx.a.example"), Some("192.0.2.1"));
        log.push(
            i64::from(i) / 20,
            10_000 + i,
            tls(Direction::Inbound, p, "TLSv1.3"),
        );
        log.out.clear();
    }
    // Only the sessions of the last hour or so (plus one sweep interval) remain open.
    assert!(
        log.corr.open_state() < 60_000,
        "open state {}",
        log.corr.open_state()
    );
}
