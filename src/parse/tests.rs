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

/// The queue id of an event, if it carries one.
fn queue_id(kind: &EventKind) -> Option<&crate::model::QueueId> {
    match kind {
        EventKind::Received(r) => Some(&r.queue_id),
        EventKind::Delivery(d) => Some(&d.queue_id),
        EventKind::QueueClient { queue_id, .. } => Some(queue_id),
        _ => None,
    }
}

/// Every queue id of the real MTA output (tests/fixtures/real) and of the sample logs
/// (Sendmail's 14- and 15-character ids, Postfix's short and long ids, Exim's 16- and 23-character
/// message ids) is held inline: copying it into events, records and the correlator's keys
/// allocates nothing (issue 21). A parser that built ids some other way, or an id type
/// too small for one MTA's ids, fails here.
#[test]
fn queue_ids_of_real_logs_are_inline() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["sendmail", "postfix", "exim"] {
        for entry in std::fs::read_dir(root.join("tests/fixtures/real").join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                files.push(path);
            }
        }
    }
    for f in [
        "maillog",
        "postfix/mail.log",
        "postfix/mail.log.1",
        "exim/mainlog",
        "chain/mx.mail.log",
        "chain/relay.maillog",
        "relay2/mail.log",
    ] {
        files.push(root.join("sample-logs").join(f));
    }
    let file: Arc<str> = "mail.log".into();
    let mut longest: std::collections::BTreeMap<crate::model::Mta, usize> = Default::default();
    let mut lengths = std::collections::BTreeSet::new();
    for path in &files {
        let text = std::fs::read(path).unwrap();
        for (n, line) in text.split(|b| *b == b'\n').enumerate() {
            let LineOutcome::Event(ev) = parse_line(line, &file, n as u64 + 1) else {
                continue;
            };
            let Some(id) = queue_id(&ev.kind) else {
                continue;
            };
            assert!(
                !id.is_heap_allocated(),
                "{}:{}: {id}",
                path.display(),
                n + 1
            );
            let max = longest.entry(ev.mta).or_default();
            *max = (*max).max(id.len());
            lengths.insert(id.len());
        }
    }
    // Each MTA's ids were seen, the longest of them too (Sendmail's grow with the pid).
    assert!(
        longest.get(&crate::model::Mta::Sendmail) >= Some(&14),
        "{longest:?}"
    );
    assert_eq!(
        longest.get(&crate::model::Mta::Exim),
        Some(&23),
        "{longest:?}"
    );
    assert!(lengths.contains(&16), "{lengths:?}");
    assert!(
        longest.contains_key(&crate::model::Mta::Postfix),
        "{longest:?}"
    );
}
