//! [`Detail`]: what `scan` leaves out of the events it parses, and what it keeps.

use std::sync::Arc;

use super::*;
use crate::model::{Delivery, EventKind};

/// Real lines of each MTA that carry an envelope address, a DSN or a status text.
const LINES: &[&str] = &[
    "Nov 28 09:12:00 mail sm-mta[4310]: 6ASA12a4004310: from=<alice@ours.example>, size=1234, class=0, nrcpts=1, msgid=<x@ours.example>, proto=ESMTPS, daemon=MTA, relay=mail.peer.example [192.0.2.20]",
    "Nov 28 09:12:01 mail sm-mta[4311]: 6ASA12a4004310: to=<bob@peer.example>,<carol@peer.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30312, relay=mx1.peer.example. [203.0.113.10], dsn=2.0.0, stat=Sent (OK queued)",
    "Nov 28 09:12:02 mail sm-mta[4312]: 6ASA12a4004311: to=<bob@peer.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30312, relay=mx1.peer.example. [203.0.113.10], dsn=4.0.0, stat=Deferred: 403 4.7.0 TLS handshake failed.",
    "Nov 28 09:12:03 mx postfix/qmgr[900]: 3F1A21234: from=<alice@peer.example>, size=2048, nrcpt=1 (queue active)",
    "Nov 28 09:12:04 mx postfix/smtp[901]: 3F1A21234: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0/1.1/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9A1B2C3D4)",
    "Nov 28 09:12:05 mx postfix/smtp[902]: 3F1A21235: to=<bob@peer.example>, relay=mx1.peer.example[192.0.2.30]:25, delay=1.2, delays=0.1/0/1.1/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx1.peer.example[192.0.2.30])",
    "2026-11-28 09:12:06 1vB2xY-000AbC-7Z <= alice@peer.example H=mail.peer.example [192.0.2.20] P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=2048",
    "2026-11-28 09:12:07 1vB2xY-000AbC-7Z => bob@peer.example R=dnslookup T=remote_smtp H=mx1.peer.example [192.0.2.30] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 OK id=1vB2xZ\"",
    "2026-11-28 09:12:08 1vB2xY-000AbD-7Z == bob@peer.example R=dnslookup T=remote_smtp defer (-37) H=mx1.peer.example [192.0.2.30]: TLS session: (SSL_connect): error:0A000086:SSL routines::certificate verify failed",
];

fn event(line: &str, detail: Detail) -> Event {
    let file: Arc<str> = "mail.log".into();
    let mut hosts = HostNames::default();
    match parse_line_detailed(line.as_bytes(), &file, 1, &mut hosts, detail, |_| {}) {
        LineOutcome::Event(e) => e,
        other => panic!("{line}: {other:?}"),
    }
}

/// A scan-mode parse leaves the envelope addresses, the DSN and the status texts nobody
/// folds empty; an events-mode parse (the default) fills them.
#[test]
fn records_detail_leaves_addresses_and_texts_empty() {
    let mut seen = (0, 0);
    for line in LINES {
        let full = event(line, Detail::Full);
        let scan = event(line, Detail::Records);
        match (&full.kind, &scan.kind) {
            (EventKind::Received(f), EventKind::Received(s)) => {
                seen.0 += 1;
                assert!(!f.from.is_empty(), "{line}");
                assert!(s.from.is_empty(), "{line}");
            }
            (EventKind::Delivery(f), EventKind::Delivery(s)) => {
                seen.1 += 1;
                assert!(!f.to.is_empty() && !f.text.is_empty(), "{line}");
                assert!(s.to.is_empty() && s.dsn.is_none(), "{line}");
                // The text of a failure that names its TLS problem is the error record's.
                assert_eq!(s.text.is_empty(), s.tls_error.is_none(), "{line}");
            }
            other => panic!("{line}: {other:?}"),
        }
    }
    assert_eq!(seen, (3, 6));
    assert_eq!(Detail::default(), Detail::Full);
}

/// Everything the correlator reads is the same in both modes: the scan-mode event is the
/// full one with only the left-out fields emptied.
#[test]
fn records_detail_keeps_what_correlation_reads() {
    for line in LINES {
        let mut full = event(line, Detail::Full);
        let scan = event(line, Detail::Records);
        match &mut full.kind {
            EventKind::Received(r) => r.from.clear(),
            EventKind::Delivery(Delivery {
                to,
                dsn,
                text,
                tls_error,
                ..
            }) => {
                to.clear();
                *dsn = None;
                if tls_error.is_none() {
                    text.clear();
                }
            }
            _ => {}
        }
        assert_eq!(full, scan, "{line}");
    }
}
