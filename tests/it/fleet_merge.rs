//! `Snapshot::merge` over arbitrary snapshots: every section (summary, posture, local
//! errors, timeline, downgrade windows, messages, TLS-RPT, input notes, identity) merges
//! associatively and commutatively, a snapshot survives its JSON, and the snapshots of
//! several hosts' records merge to the snapshot of all of them folded at once.
//!
//! The snapshots are built the way `scan` builds them: records (sessions, messages, our own
//! key failures, restarts, peers' handshake failures) of one or two log hosts folded into
//! a posture, a timeline and downgrade windows; TLS-RPT reports written as RFC 8460 JSON,
//! parsed and joined with the inbound records; messages and input notes with arbitrary
//! counts and lists.

use std::sync::Arc;

use chrono::{Duration, FixedOffset, TimeZone};
use mailtls::analysis::downgrade::Downgrades;
use mailtls::analysis::posture::Posture;
use mailtls::analysis::timeline::Timeline;
use mailtls::model::{
    Bits, Cipher, DeliveryStatus, Direction, Encryption, Meta, Mta, Peer, Record, Source, Summary,
    TlsErrorKind, TlsParams, TlsVersion, Verify,
};
use mailtls::report::Snapshot;
use mailtls::report::json::{DuplicateNote, Identity, InputNotes};
use mailtls::report::tlsrpt::TlsRptDoc;
use mailtls::stores::hops::{MessagesSummary, PlaintextExample, VerdictCounts};
use mailtls::tlsrpt::TlsRpt;
use mailtls::tlsrpt::join::{InboundLog, join};
use mailtls::tlsrpt::read::ReadSummary;
use proptest::prelude::*;

const HOSTS: &[&str] = &["mail", "mx1", "relay2"];
const PEERS: &[(&str, &str)] = &[
    ("mx.partner.example", "192.0.2.10"),
    ("list.example.org", "198.51.100.7"),
    ("fax.oldcorp.example", "203.0.113.5"),
];
const VERSIONS: &[&str] = &["TLSv1.3", "TLSv1.2", "TLSv1"];

fn t0() -> chrono::DateTime<FixedOffset> {
    FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
        .unwrap()
}

/// One record of `host` at `minute` after 2026-11-20 00:00 UTC.
fn record(host: &str, (what, minute, p, inbound, v): (u8, i64, usize, bool, usize)) -> Record {
    let meta = Meta {
        time: Some(t0() + Duration::minutes(minute)),
        host: Some(Arc::from(host)),
        mta: Mta::Sendmail,
        source: Source {
            file: Arc::from(format!("{host}.log")),
            line: minute as u64 + 1,
        },
    };
    let (name, ip) = PEERS[p % PEERS.len()];
    let peer = Peer::new(Some(name), Some(ip.parse().unwrap()));
    let direction = if inbound {
        Direction::Inbound
    } else {
        Direction::Outbound
    };
    match what % 6 {
        0 => Record::Session {
            meta,
            direction,
            peer,
            params: TlsParams {
                version: TlsVersion::parse(VERSIONS[v % VERSIONS.len()]),
                cipher: Some(Cipher::new("TLS_AES_256_GCM_SHA384")),
                bits: Bits::single(Some(256)),
                verify: Verify::parse(["OK", "NO", "FAIL"][v % 3]),
                detail: None,
            }
            .into(),
        },
        1 | 2 => Record::Message {
            meta,
            direction,
            peer,
            queue_id: format!("q{minute}").into(),
            encryption: if what % 6 == 1 {
                Encryption::Plaintext
            } else {
                Encryption::TlsUnknown
            },
            status: (!inbound).then_some(DeliveryStatus::Sent),
        },
        // Our own key fails: a silent-downgrade window opens for that role.
        3 => Record::Error {
            meta,
            direction: (v % 2 == 0).then_some(direction),
            peer: None,
            kind: TlsErrorKind::PrivateKey,
            text: "SSL_CTX_use_PrivateKey_file(/etc/mail/certs/key.pem) failed".into(),
            reason: None,
        },
        4 => Record::Error {
            meta,
            direction: Some(direction),
            peer: Some(peer),
            kind: TlsErrorKind::Handshake,
            text: format!("STARTTLS: handshake failed ({minute})"),
            reason: Some("no shared cipher".into()),
        },
        _ => Record::Start {
            meta,
            version: None,
        },
    }
}

/// Records of one host, in time order (as a log gives them).
fn host_records() -> impl Strategy<Value = (usize, Vec<Record>)> {
    (
        0..HOSTS.len(),
        prop::collection::vec(
            (any::<u8>(), 0i64..2880, 0usize..3, any::<bool>(), 0usize..6),
            0..30,
        ),
    )
        .prop_map(|(h, mut v)| {
            v.sort_by_key(|r| r.1);
            (h, v.into_iter().map(|r| record(HOSTS[h], r)).collect())
        })
}

/// An RFC 8460 report about example.net's MX hosts on 2026-11-20 or 21.
fn tlsrpt_json((org, id, day, kind, ok, fail, p): (usize, u8, u8, u8, u64, u64, usize)) -> String {
    let org = ["Google LLC", "Relay Example Inc"][org % 2];
    let start = format!("2026-11-{}T00:00:00Z", 20 + day % 2);
    let end = format!("2026-11-{}T23:59:59Z", 20 + day % 2);
    let (ptype, mx) = match kind % 3 {
        0 => ("sts", r#", "mx-host": ["mx1.example.net"]"#),
        1 => ("tlsa", ""),
        _ => ("no-policy-found", ""),
    };
    let (_, ip) = PEERS[p % PEERS.len()];
    let failures = if fail > 0 {
        format!(
            r#", "failure-details": [{{"result-type": "certificate-expired", "sending-mta-ip": "{ip}", "receiving-mx-hostname": "{}", "receiving-ip": "192.0.2.25", "failed-session-count": {fail}}}]"#,
            ["mx1.example.net", "mx3.example.net"][p % 2]
        )
    } else {
        String::new()
    };
    format!(
        r#"{{"organization-name": "{org}", "date-range": {{"start-datetime": "{start}", "end-datetime": "{end}"}}, "contact-info": "mailto:tlsrpt@{org_dom}", "report-id": "r{id}", "policies": [{{"policy": {{"policy-type": "{ptype}", "policy-domain": "example.net"{mx}}}, "summary": {{"total-successful-session-count": {ok}, "total-failure-session-count": {fail}}}{failures}}}]}}"#,
        org_dom = if org.starts_with('G') {
            "google.example"
        } else {
            "relay.example"
        }
    )
}

fn messages() -> impl Strategy<Value = MessagesSummary> {
    (
        prop::collection::vec(0u64..50, 12),
        prop::collection::vec(0usize..3, 0..3),
        any::<bool>(),
        prop::collection::vec((0u8..30, 1usize..4, 0usize..3), 0..25),
        prop::collection::vec(0u8..30, 0..25),
        prop::collection::vec(host_records(), 0..2),
    )
        .prop_map(|(n, ours, inferred, examples, problems, claimed)| {
            let mut c = Posture::default();
            for (_, rs) in &claimed {
                rs.iter().for_each(|r| c.add(r));
            }
            MessagesSummary {
                stores: n[0],
                messages: n[1],
                report_messages: n[2],
                messages_unreadable: n[3],
                messages_malformed: n[4],
                hops: n[5],
                hops_malformed: n[6],
                hops_local: n[7],
                hops_witnessed: n[8],
                hops_claimed: n[9],
                hops_also_in_logs: n[10],
                hops_filtered: n[11],
                our_hosts: {
                    let mut h: Vec<String> = ours.iter().map(|i| HOSTS[*i].to_owned()).collect();
                    h.sort();
                    h.dedup();
                    h
                },
                our_hosts_inferred: inferred,
                verdicts: VerdictCounts {
                    all_tls: n[1] / 2,
                    plaintext: n[1] / 3,
                    unknown: n[2],
                    no_hops: n[3],
                },
                chain_verdicts: VerdictCounts {
                    all_tls: n[1] / 3,
                    plaintext: n[1] / 2,
                    unknown: n[4],
                    no_hops: n[5],
                },
                plaintext_examples: examples
                    .into_iter()
                    .map(|(f, hop, p)| PlaintextExample {
                        source: format!("bob.mbox#{f}:3"),
                        hop,
                        peer: PEERS[p].0.to_owned(),
                        by: Some("mail.example.net".into()),
                        with: (p == 1).then(|| "ESMTP".into()),
                    })
                    .collect(),
                problems: problems
                    .into_iter()
                    .map(|f| format!("alice/cur/{f}: no header"))
                    .collect(),
                claimed: c,
            }
        })
}

fn input_notes() -> impl Strategy<Value = InputNotes> {
    (
        any::<bool>(),
        0u64..500,
        prop::collection::btree_map(
            prop::sample::select(vec!["loopback (--loopback)", "--peer", "--direction"]),
            1u64..40,
            0..3,
        ),
        prop::collection::btree_set(
            prop::sample::select(vec!["localhost", "127.0.0.1", "::1"]),
            0..3,
        ),
        prop::collection::vec((0u8..5, 1u64..30), 0..3),
        prop::collection::vec(0u8..9, 0..3),
        prop::collection::vec(0u8..9, 0..3),
        0u64..3,
        0u64..4,
    )
        .prop_map(
            |(empty, records, left, loopback, dups, incomplete, skipped, json, evicted)| {
                InputNotes {
                    empty,
                    records,
                    left_out: left.into_iter().map(|(k, n)| (k.to_owned(), n)).collect(),
                    loopback_peers: loopback.len() as u64,
                    loopback_keys: loopback.into_iter().map(str::to_owned).collect(),
                    duplicates: dups
                        .into_iter()
                        .map(|(f, lines)| DuplicateNote {
                            file: format!("/var/log/syslog.{f}"),
                            first_read_in: "/var/log/mail.log".into(),
                            lines,
                        })
                        .collect(),
                    incomplete: incomplete
                        .into_iter()
                        .map(|f| format!("/var/log/mail.log.{f}: truncated while read"))
                        .collect(),
                    skipped: skipped
                        .into_iter()
                        .map(|f| format!("/var/log/wtmp.{f}: binary"))
                        .collect(),
                    unrelated_json: json,
                    state_evicted: evicted,
                }
            },
        )
}

/// What one host's scan would write, from its records and the rest.
fn build(
    logs: Vec<(usize, Vec<Record>)>,
    reports: Vec<String>,
    msgs: Option<MessagesSummary>,
    notes: Option<InputNotes>,
    known: bool,
    stamp: u8,
) -> Snapshot {
    let (mut posture, mut timeline, mut downgrades) = (
        Posture::default(),
        Timeline::default(),
        Downgrades::default(),
    );
    let mut inbound = InboundLog::default();
    let mut host_tls = mailtls::analysis::host_tls::HostTlsFold::default();
    let mut summary = Summary::default();
    let mut hosts = Vec::new();
    for (h, records) in &logs {
        hosts.push(HOSTS[*h].to_owned());
        summary.files += 1;
        for r in records {
            summary.lines_read += 2;
            summary.lines_recognized += 1;
            summary.seen(r.meta().time);
            host_tls.add(r);
            if downgrades.add(r) {
                continue;
            }
            inbound.add(r);
            posture.add(r);
            timeline.add(r);
        }
    }
    *summary.unparsed.entry("sm-mta".into()).or_default() += u64::from(stamp % 3);
    hosts.sort();
    hosts.dedup();
    let mut snap = Snapshot::new(summary, posture);
    snap.messages = msgs;
    if !reports.is_empty() {
        let mut model = TlsRpt::default();
        let mut read = ReadSummary {
            files: reports.len() as u64,
            ..ReadSummary::default()
        };
        for text in &reports {
            let r = mailtls::tlsrpt::parse_report(text.as_bytes()).unwrap();
            read.reports += 1;
            if !model.add(&r) {
                read.duplicates += 1;
            }
        }
        let joined = join(&model, &inbound);
        snap.tlsrpt = Some(TlsRptDoc::new(&model, read, joined));
    }
    if known {
        snap.identity = Some(Identity::of(&snap, hosts));
    }
    snap.input = notes;
    snap.windows = downgrades.finish();
    snap.host_tls = host_tls.finish();
    snap.timeline = timeline;
    snap
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        prop::collection::vec(host_records(), 0..3),
        prop::collection::vec(
            (
                0usize..2,
                any::<u8>(),
                0u8..2,
                0u8..3,
                0u64..40,
                0u64..5,
                0usize..3,
            ),
            0..3,
        ),
        prop::option::of(messages()),
        prop::option::of(input_notes()),
        prop::bool::weighted(0.85),
        any::<u8>(),
    )
        .prop_map(|(logs, rpt, msgs, notes, known, stamp)| {
            build(
                logs,
                rpt.into_iter().map(tlsrpt_json).collect(),
                msgs,
                notes,
                known,
                stamp,
            )
        })
}

fn merged(a: &Snapshot, b: &Snapshot) -> Snapshot {
    let mut m = a.clone();
    m.merge(b.clone());
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Every section: a ⊕ b = b ⊕ a, and (a ⊕ b) ⊕ c = a ⊕ (b ⊕ c), compared as the JSON
    /// that is written.
    #[test]
    fn merge_is_associative_and_commutative_over_every_section(
        a in snapshot(), b in snapshot(), c in snapshot()
    ) {
        prop_assert_eq!(merged(&a, &b).to_json(), merged(&b, &a).to_json());
        let left = merged(&merged(&a, &b), &c);
        let right = merged(&a, &merged(&b, &c));
        prop_assert_eq!(left.to_json(), right.to_json());
        // Nothing is lost: the counts of every section add up.
        let s = &left.summary.counts;
        prop_assert_eq!(
            s.lines_recognized,
            a.summary.counts.lines_recognized + b.summary.counts.lines_recognized + c.summary.counts.lines_recognized
        );
        let buckets = |x: &Snapshot| x.timeline.buckets.values().map(|b| b.tls_messages + b.plaintext_messages).sum::<u64>();
        prop_assert_eq!(buckets(&left), buckets(&a) + buckets(&b) + buckets(&c));
        prop_assert_eq!(left.windows.len(), a.windows.len() + b.windows.len() + c.windows.len());
        let msgs = |x: &Snapshot| x.messages.as_ref().map_or(0, |m| m.messages + m.hops);
        prop_assert_eq!(msgs(&left), msgs(&a) + msgs(&b) + msgs(&c));
        let rpt = |x: &Snapshot| x.tlsrpt.as_ref().map_or((0, 0), |t| (t.summary.successful_sessions + t.summary.failed_sessions, t.join.len()));
        let (ra, rb, rc, rl) = (rpt(&a), rpt(&b), rpt(&c), rpt(&left));
        prop_assert_eq!(rl, (ra.0 + rb.0 + rc.0, ra.1 + rb.1 + rc.1));
        let records = |x: &Snapshot| x.input.as_ref().map_or(0, |n| n.records);
        prop_assert_eq!(records(&left), records(&a) + records(&b) + records(&c));
        let evicted = |x: &Snapshot| x.input.as_ref().map_or(0, |n| n.state_evicted);
        prop_assert_eq!(evicted(&left), evicted(&a) + evicted(&b) + evicted(&c));
        prop_assert_eq!(left.schema.as_str(), "mailtls.posture/2");
    }

    /// What is written is what is read back.
    #[test]
    fn a_snapshot_survives_its_json(a in snapshot()) {
        let back = Snapshot::parse("a.json", &a.to_json()).unwrap();
        prop_assert_eq!(back.to_json(), a.to_json());
        prop_assert_eq!(back, a);
    }

    /// Hosts scanned apart and merged give what one run over all their records gives:
    /// posture, local errors, timeline, windows, summary.
    #[test]
    fn per_host_snapshots_merge_to_the_snapshot_of_all(
        a in host_records(), b in host_records()
    ) {
        prop_assume!(a.0 != b.0);
        let one = build(vec![a.clone(), b.clone()], Vec::new(), None, None, true, 0);
        let mut m = build(vec![a], Vec::new(), None, None, true, 0);
        m.merge(build(vec![b], Vec::new(), None, None, true, 0));
        prop_assert_eq!(&m.posture, &one.posture);
        prop_assert_eq!(&m.timeline, &one.timeline);
        prop_assert_eq!(&m.windows, &one.windows);
        prop_assert_eq!(&m.host_tls, &one.host_tls);
        prop_assert_eq!(&m.summary, &one.summary);
        prop_assert_eq!(
            m.identity.as_ref().map(|i| i.hosts.clone()),
            one.identity.as_ref().map(|i| i.hosts.clone())
        );
    }
}
