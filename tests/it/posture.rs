//! The posture is a commutative monoid: folding records in any partition and merging the
//! parts in any order gives what one pass gives, and a snapshot survives JSON.

use std::sync::Arc;

use chrono::{Duration, FixedOffset, TimeZone};
use mailtls::analysis::posture::Posture;
use mailtls::model::Summary;
use mailtls::model::{
    Bits, Cipher, DeliveryStatus, Direction, Mta, Peer, Source, TlsErrorKind, TlsParams,
    TlsVersion, Verify,
};
use mailtls::model::{Encryption, Meta, Record};
use mailtls::report::Snapshot;
use proptest::prelude::*;

const PEERS: &[(Option<&str>, Option<&str>)] = &[
    (Some("mx1.peer.example"), Some("192.0.2.10")),
    (Some("MX1.peer.example."), None),
    (None, Some("198.51.100.7")),
    (Some("mail.other.example"), Some("2001:db8::25")),
];
const VERSIONS: &[&str] = &["TLSv1.3", "TLSv1.2", "TLSv1", "TLSv1/SSLv3", "SSLv3"];
const VERIFY: &[&str] = &["OK", "NO", "NOT", "FAIL", "NONE", "SOFTWARE", "TEMP"];
const KINDS: &[TlsErrorKind] = &[
    TlsErrorKind::Handshake,
    TlsErrorKind::PrivateKey,
    TlsErrorKind::Policy,
];

fn meta(minute: i64, host: usize) -> Meta {
    let t0 = FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 27, 0, 0, 0)
        .unwrap();
    Meta {
        time: (minute >= 0).then(|| t0 + Duration::minutes(minute)),
        host: Some(Arc::from(["mail", "relay2"][host % 2])),
        mta: [Mta::Sendmail, Mta::Postfix][host % 2],
        source: Source {
            file: Arc::from("x.log"),
            line: 1,
        },
    }
}

fn record() -> impl Strategy<Value = Record> {
    (
        0usize..4,
        -10i64..3000,
        0usize..PEERS.len(),
        any::<bool>(),
        0usize..VERSIONS.len(),
        0usize..VERIFY.len(),
        prop::option::of(40u16..300),
        0usize..3,
        0usize..4,
    )
        .prop_map(|(which, minute, p, inbound, v, w, bits, k, st)| {
            let (name, ip) = PEERS[p];
            let peer = Peer::new(name, ip.map(|i| i.parse().unwrap()));
            let direction = if inbound {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            let params = TlsParams {
                version: TlsVersion::parse(VERSIONS[v]),
                cipher: Some(Cipher::new(["AES256-SHA", "TLS_AES_128_GCM_SHA256"][v % 2])),
                bits: Bits::single(bits),
                verify: Verify::parse(VERIFY[w]),
                detail: None,
            };
            let meta = meta(minute, p);
            match which {
                0 => Record::Session {
                    meta,
                    direction,
                    peer,
                    params: params.into(),
                },
                1 => Record::Message {
                    meta,
                    direction,
                    peer,
                    queue_id: format!("q{minute}").into(),
                    encryption: [
                        Encryption::Tls(params.into()),
                        Encryption::TlsUnknown,
                        Encryption::Plaintext,
                    ][st % 3]
                        .clone(),
                    status: [
                        Some(DeliveryStatus::Sent),
                        Some(DeliveryStatus::Deferred),
                        Some(DeliveryStatus::Bounced),
                        None,
                    ][st],
                },
                2 => Record::Verdict {
                    meta,
                    direction,
                    peer,
                    verify: Verify::parse(VERIFY[w]),
                    reject: st % 2 == 0,
                    outcome: format!("reject=403 4.7.0 {minute}"),
                },
                _ => Record::Error {
                    meta,
                    direction: Some(direction),
                    peer: (st != 0).then_some(peer),
                    kind: KINDS[k],
                    text: format!("error text {}", minute % 7),
                    reason: None,
                },
            }
        })
}

fn fold(recs: &[Record]) -> Posture {
    let mut p = Posture::default();
    for r in recs {
        p.add(r);
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Cutting the record stream at random points, folding each part and merging the parts
    /// (in reverse order, to exercise commutativity) gives the one-pass posture.
    #[test]
    fn any_partition_merges_to_the_one_pass_posture(
        recs in prop::collection::vec(record(), 0..120),
        cuts in prop::collection::vec(0usize..120, 0..6),
    ) {
        let whole = fold(&recs);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(recs.len())).collect();
        cuts.push(0);
        cuts.push(recs.len());
        cuts.sort_unstable();
        let parts: Vec<Posture> = cuts.windows(2).map(|w| fold(&recs[w[0]..w[1]])).collect();
        let mut merged = Posture::default();
        for p in parts.into_iter().rev() {
            merged.merge(p);
        }
        prop_assert_eq!(&merged, &whole);
    }

    /// (a·b)·c = a·(b·c)
    #[test]
    fn merge_is_associative(
        a in prop::collection::vec(record(), 0..40),
        b in prop::collection::vec(record(), 0..40),
        c in prop::collection::vec(record(), 0..40),
    ) {
        let (pa, pb, pc) = (fold(&a), fold(&b), fold(&c));
        let mut left = pa.clone();
        left.merge(pb.clone());
        left.merge(pc.clone());
        let mut bc = pb;
        bc.merge(pc);
        let mut right = pa;
        right.merge(bc);
        prop_assert_eq!(left, right);
    }

    /// A snapshot read back from its JSON is the same snapshot (what `merge` relies on).
    #[test]
    fn snapshots_survive_json(recs in prop::collection::vec(record(), 0..60)) {
        let snap = Snapshot::new(Summary::default(), fold(&recs));
        let back: Snapshot = serde_json::from_str(&snap.to_json()).unwrap();
        prop_assert_eq!(back, snap);
    }
}

#[test]
fn peers_are_keyed_by_lowercase_name_then_ip() {
    let p = fold(&[
        Record::Session {
            meta: meta(1, 0),
            direction: Direction::Outbound,
            peer: Peer::new(Some("MX1.peer.example."), None),
            params: TlsParams {
                version: TlsVersion::Tls1_3,
                cipher: None,
                bits: Bits::sendmail_log(Some(256), Some(128)),
                verify: Verify::Fail,
                detail: None,
            }
            .into(),
        },
        Record::Message {
            meta: meta(2, 0),
            direction: Direction::Outbound,
            peer: Peer::new(Some("mx1.peer.example"), "192.0.2.10".parse().ok()),
            queue_id: "q".into(),
            encryption: Encryption::Plaintext,
            status: Some(DeliveryStatus::Sent),
        },
        Record::Message {
            meta: meta(3, 0),
            direction: Direction::Inbound,
            peer: Peer::new(None, "198.51.100.7".parse().ok()),
            queue_id: "r".into(),
            encryption: Encryption::TlsUnknown,
            status: None,
        },
    ]);
    let keys: Vec<&str> = p.peers.keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["198.51.100.7", "mx1.peer.example"]);
    let mx1 = &p.peers["mx1.peer.example"];
    assert_eq!(mx1.outbound.tls_sessions, 1);
    assert_eq!(mx1.outbound.plaintext_messages, 1);
    assert_eq!(mx1.outbound.min_bits, Some(128));
    assert_eq!(mx1.outbound.verify.get(&Verify::Fail), 1);
    assert_eq!(mx1.names.len(), 2);
    assert_eq!(p.peers["198.51.100.7"].inbound.tls_messages, 1);
}
