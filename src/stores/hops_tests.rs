use super::*;
use crate::model::{Cipher, TlsVersion, Verify};
use crate::stores::messages::Kind;
use std::fs;

fn msg(header: &str) -> MessageHops {
    read_message(&RawMessage {
        source: Source {
            file: Arc::from("box"),
            line: 10,
        },
        index: 1,
        header: header.as_bytes().to_vec(),
        truncated: false,
        body: None,
    })
}

/// Delivered to a mailbox on imap.our.example: LMTP from mx (loopback chain through a
/// content filter), received by mx from a peer over TLS, which claims it got the mail in
/// clear from a sender two hops down.
const CHAIN: &str = "\
Received: from mx.our.example (localhost [127.0.0.1])
\tby mx.our.example (8.17.1/8.17.1) with ESMTP id 461AFE3x000001
\tfor <alice@our.example>; Mon, 1 Jul 2024 10:15:04 +0200
Received: from mail.peer.example (mail.peer.example [192.0.2.15])
\tby mx.our.example (8.17.1/8.17.1) with ESMTPS id 461AFE2x012345
\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)
\tfor <alice@our.example>; Mon, 1 Jul 2024 10:15:02 +0200
Received: from laptop (dsl.isp.example [198.51.100.9])
\tby mail.peer.example (Postfix) with ESMTP id 4WcXyZ1AbCz9sT;
\tMon, 1 Jul 2024 10:14:59 +0200
Received: (from bob@localhost) by laptop (8.17.1/8.17.1/Submit) id x1; Mon, 1 Jul 2024 10:14:58 +0200
Subject: chain
";

#[test]
fn read_message_lines_and_malformed() {
    let m = msg(
        "Received: from a (a [192.0.2.1]) by b with ESMTP id 1; Mon, 1 Jul 2024 10:00:00 +0200\nReceived: total garbage\nSubject: x\n",
    );
    assert_eq!(m.hops.len(), 1);
    assert_eq!(m.hops[0].source.line, 10);
    assert_eq!(m.malformed.len(), 1);
    assert_eq!(m.malformed[0].0.to_string(), "box:11");
    assert!(!m.no_fields);
    assert!(msg("\u{1}\u{2} binary").no_fields);
}

#[test]
fn trust_boundary_rows() {
    let m = msg(CHAIN);
    let ours = OurHosts::given(["MX.our.example."]);
    // Row: hosts given → trust per hop.
    assert_eq!(
        classify(&m.hops, &ours),
        vec![
            Trust::Witnessed, // by mx, loopback
            Trust::Witnessed, // by mx, from the peer
            Trust::Claimed,   // by mail.peer.example: first foreign stamp
            Trust::Claimed,   // below it: claimed even if it named our host
        ]
    );
    // A loopback hop vouches for the stamp just below it even when that names another host
    // of ours that was not listed.
    let ours = OurHosts::given(["imap.our.example"]);
    let h = msg(
        "Received: from mx.our.example (localhost [127.0.0.1]) by imap.our.example with LMTP id 1; Mon, 1 Jul 2024 10:00:00 +0200\nReceived: from p (p [192.0.2.2]) by mx.our.example with ESMTPS id 2; Mon, 1 Jul 2024 09:59:59 +0200\nReceived: from q (q [192.0.2.3]) by p with ESMTP id 3; Mon, 1 Jul 2024 09:59:58 +0200\n",
    );
    assert_eq!(
        classify(&h.hops, &ours),
        vec![Trust::Witnessed, Trust::Witnessed, Trust::Claimed]
    );
    // Nothing of ours on top: everything is claimed.
    let ours = OurHosts::given(["elsewhere.example"]);
    assert!(
        classify(&m.hops, &ours)
            .iter()
            .all(|t| *t == Trust::Claimed)
    );
}

#[test]
fn verdict_rows() {
    let m = msg(CHAIN);
    // (upto, verdict)
    let rows = [
        (0, Verdict::NoHops),
        (1, Verdict::NoHops), // only the loopback hop
        (2, Verdict::AllTls), // witnessed part
        (3, Verdict::Plaintext { hop: 3 }),
        (4, Verdict::Plaintext { hop: 3 }),
    ];
    for (upto, want) in rows {
        assert_eq!(verdict(&m.hops, upto), want, "upto {upto}");
    }
    let u = msg(
        "Received: from a (a [192.0.2.1]) by b with mapi id 1; Mon, 1 Jul 2024 10:00:00 +0200\n",
    );
    assert_eq!(verdict(&u.hops, 1), Verdict::Unknown);
}

#[test]
fn infer_most_frequent_top_by() {
    let counts: HashMap<String, u64> =
        [("mx.our.example".to_owned(), 5), ("other".to_owned(), 2)].into();
    let o = OurHosts::infer(&counts);
    assert_eq!(o.names(), vec!["mx.our.example"]);
    assert!(o.inferred);
    // Ties go to the smaller name.
    let counts: HashMap<String, u64> = [("b".to_owned(), 1), ("a".to_owned(), 1)].into();
    assert_eq!(OurHosts::infer(&counts).names(), vec!["a"]);
    assert!(OurHosts::infer(&HashMap::new()).is_empty());
}

#[test]
fn add_hop_counts_sessions_only_with_details() {
    let mut p = Posture::default();
    let m = msg(CHAIN);
    assert_eq!(add_hop(&mut p, &m.hops[1].hop), Some("mail.peer.example"));
    let d = &p.peers["mail.peer.example"].inbound;
    assert_eq!(
        (d.tls_sessions, d.tls_messages, d.plaintext_messages),
        (1, 1, 0)
    );
    assert_eq!(d.versions.get(&TlsVersion::Tls1_3), 1);
    assert_eq!(d.verify.get(&Verify::Not), 1);
    assert_eq!(d.min_bits, Some(256));
    assert!(p.peers["mail.peer.example"].outbound.is_empty());
    // ESMTPS without details: a TLS message, no session, no histogram entry.
    let n = msg(
        "Received: from x (x [192.0.2.5]) by mx with ESMTPS id 9; Mon, 1 Jul 2024 10:00:00 +0200\n",
    );
    add_hop(&mut p, &n.hops[0].hop);
    let d = &p.peers["x"].inbound;
    assert_eq!((d.tls_sessions, d.tls_messages), (0, 1));
    assert!(d.verify.is_empty());
    // Unknown TLS state says nothing.
    let u = msg(
        "Received: from y (y [192.0.2.6]) by mx with mapi id 9; Mon, 1 Jul 2024 10:00:00 +0200\n",
    );
    assert_eq!(add_hop(&mut p, &u.hops[0].hop), None);
}

#[test]
fn scan_keeps_claimed_apart_and_skips_log_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(md.join(sub)).expect("mkdir");
    }
    fs::write(md.join("cur/1.mx:2,S"), CHAIN).expect("write");
    fs::write(
        md.join("cur/2.mx:2,S"),
        "Received: from bulk.peer.example (bulk.peer.example [198.51.100.60])\n\tby mx.our.example (8.17.1/8.17.1) with ESMTP id 461AFE9x000009\n\tfor <alice@our.example>; Mon, 1 Jul 2024 11:00:00 +0200\nSubject: plain\n\n",
    )
    .expect("write");
    fs::write(md.join("new/3.mx"), "Received: broken\nSubject: bad\n\n").expect("write");
    let stores = vec![Store {
        path: md.clone(),
        kind: Kind::Maildir,
    }];

    let (posture, s) = scan(
        &stores,
        None,
        &RecordFilter::default(),
        &HashSet::new(),
        None,
    );
    assert_eq!(s.our_hosts, vec!["mx.our.example"]);
    assert!(s.our_hosts_inferred);
    assert_eq!((s.stores, s.messages, s.messages_malformed), (1, 3, 1));
    assert_eq!((s.hops, s.hops_malformed, s.hops_local), (6, 1, 2));
    assert_eq!((s.hops_witnessed, s.hops_claimed), (2, 1));
    assert_eq!(
        s.verdicts,
        VerdictCounts {
            all_tls: 1,
            plaintext: 1,
            unknown: 0,
            no_hops: 1
        }
    );
    assert_eq!(
        s.chain_verdicts,
        VerdictCounts {
            all_tls: 0,
            plaintext: 2,
            unknown: 0,
            no_hops: 1
        }
    );
    assert_eq!(s.plaintext_examples.len(), 1);
    assert_eq!(
        s.plaintext_examples[0].peer,
        "bulk.peer.example [198.51.100.60]"
    );
    assert!(s.plaintext_examples[0].source.ends_with("cur/2.mx:2,S:1"));
    assert!(s.problems[0].contains("new/3.mx:1"), "{:?}", s.problems);
    // Witnessed: the two peers that handed mail to mx.
    let keys: Vec<&String> = posture.peers.keys().collect();
    assert_eq!(keys, vec!["bulk.peer.example", "mail.peer.example"]);
    // Claimed: the laptop the peer says it heard from, only there.
    let claimed: Vec<&String> = s.claimed.peers.keys().collect();
    assert_eq!(claimed, vec!["dsl.isp.example"]);
    assert_eq!(
        s.claimed.peers["dsl.isp.example"]
            .inbound
            .plaintext_messages,
        1
    );

    // The same message already seen in the logs is not counted twice.
    let ids: HashSet<crate::model::QueueId> = ["461AFE2x012345".into()].into();
    let (posture, s) = scan(
        &stores,
        Some(OurHosts::given(["mx.our.example"])),
        &RecordFilter::default(),
        &ids,
        None,
    );
    assert_eq!(s.hops_also_in_logs, 1);
    assert!(!s.our_hosts_inferred);
    assert!(!posture.peers.contains_key("mail.peer.example"));

    // Filters apply to hops too.
    let f = RecordFilter {
        peer: Some("peer.example".into()),
        direction: None,
        ..RecordFilter::default()
    };
    let (posture, s) = scan(&stores, None, &f, &HashSet::new(), None);
    assert_eq!(posture.peers.len(), 2);
    assert_eq!(s.hops_filtered, 0);
    let f = RecordFilter {
        direction: Some(Direction::Outbound),
        ..RecordFilter::default()
    };
    let (posture, s) = scan(&stores, None, &f, &HashSet::new(), None);
    assert!(posture.peers.is_empty());
    assert_eq!(s.hops_filtered, 2);
}

#[test]
fn hop_events_serialise_every_field() {
    let m = msg(CHAIN);
    let trust = classify(&m.hops, &OurHosts::given(["mx.our.example"]));
    let ev = hop_events(&m, &trust);
    assert_eq!(ev.len(), 4);
    let v: serde_json::Value = serde_json::to_value(&ev[1]).expect("json");
    let want = serde_json::json!({
        "type": "hop",
        "source": "box:13",
        "message": "box:10",
        "position": 2,
        "trust": "witnessed",
        "local": false,
        "peer": "mail.peer.example",
        "from_helo": "mail.peer.example",
        "from_rdns": "mail.peer.example",
        "from_ip": "192.0.2.15",
        "by": "mx.our.example",
        "with": "ESMTPS",
        "id": "461AFE2x012345",
        "for": "alice@our.example",
        "date": "2024-07-01T10:15:02+02:00",
        "tls": {
            "state": "tls",
            "version": "TLSv1.3",
            "cipher": "TLS_AES_256_GCM_SHA384",
            "bits": {"secret": 256},
            "verify": "NOT"
        }
    });
    assert_eq!(v, want);
    let last: serde_json::Value = serde_json::to_value(&ev[3]).expect("json");
    assert_eq!(last["trust"], "claimed");
    assert_eq!(last["local"], true);
    assert_eq!(last["tls"], serde_json::json!({"state": "unknown"}));
    assert!(last.get("peer").is_none());
}

#[test]
fn walk_infers_from_a_bounded_sample_and_keeps_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::new();
    let n = INFER_SAMPLE + 500;
    for i in 0..n {
        // One message in ten is topped by a foreign stamp (a forwarded copy).
        let by = if i % 10 == 3 {
            "fwd.elsewhere.example"
        } else {
            "mx.our.example"
        };
        text.push_str(&format!(
            "From x Mon Jul  1 10:00:00 2024\nReceived: from p{i} (p{i} [192.0.2.1]) by {by} with ESMTPS id Q{i}; Mon, 1 Jul 2024 10:00:00 +0200\n\nbody\n\n"
        ));
    }
    let path = dir.path().join("box");
    fs::write(&path, text).expect("write");
    let stores = vec![Store {
        path,
        kind: Kind::Mbox,
    }];
    let mut seen = Vec::new();
    let mut s = MessagesSummary::default();
    walk(&stores, None, &mut s, |m, t, _| {
        seen.push((m.source.line, t.first().copied()));
    });
    assert_eq!(s.our_hosts, vec!["mx.our.example"]);
    assert_eq!(s.messages, n as u64);
    assert_eq!(seen.len(), n);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "order kept");
    assert_eq!(seen[3].1, Some(Trust::Claimed));
    assert_eq!(seen[4].1, Some(Trust::Witnessed));
    assert_eq!(seen[INFER_SAMPLE + 3].1, Some(Trust::Claimed));
    assert_eq!(s.hops_witnessed, (n - n / 10) as u64);
}

#[test]
fn internal_relays_extend_the_witnessed_chain() {
    // Inferred host: the mailbox server. It got the mail from the MX over the private
    // network, so the MX's stamp is ours too; the peer's own stamp is not.
    let m = msg(
        "Received: from mx.our.example (mx.our.example [10.0.0.5]) by imap.our.example with LMTP id 1; Mon, 1 Jul 2024 10:00:02 +0200\nReceived: from mail.peer.example (mail.peer.example [192.0.2.15]) by mx.our.example with ESMTPS id 2; Mon, 1 Jul 2024 10:00:01 +0200\nReceived: from desk (desk [172.16.4.4]) by mail.peer.example with ESMTP id 3; Mon, 1 Jul 2024 10:00:00 +0200\nReceived: from x (x [198.51.100.1]) by desk with ESMTP id 4; Mon, 1 Jul 2024 09:59:59 +0200\n",
    );
    let ours = OurHosts::given(["imap.our.example"]);
    assert_eq!(
        classify(&m.hops, &ours),
        vec![
            Trust::Witnessed,
            Trust::Witnessed,
            Trust::Claimed,
            Trust::Claimed
        ]
    );
    // Rows: (address, internal)
    for (ip, want) in [
        ("127.0.0.1", true),
        ("10.1.2.3", true),
        ("172.16.4.4", true),
        ("192.168.1.1", true),
        ("169.254.0.9", true),
        ("::1", true),
        ("fd00::1", true),
        ("fe80::1", true),
        ("192.0.2.15", false),
        ("2001:db8::1", false),
    ] {
        assert_eq!(is_internal(ip.parse().expect("ip")), want, "{ip}");
    }
}

/// The relayed message of the end-to-end test (tests/e2e), as Sendmail 8.17.1.9 on Debian
/// 12 wrote it: swaks → mx.example.test → rx.example.test, every hop over 127.0.0.1.
const E2E_RELAYED: &str = "\
Received: from mx.example.test (vm.example.test [127.0.0.1])
\tby rx.example.test (8.17.1.9/8.17.1.9/Debian-2+deb12u2) with ESMTPS id 6ASJ0S4s021833
\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=OK)
\tfor <e2e@rx.example.test>; Sat, 28 Nov 2026 19:00:28 GMT
Received: from client.example.test (vm.example.test [127.0.0.1])
\tby mx.example.test (8.17.1.9/8.17.1.9/Debian-2+deb12u2) with ESMTPS id 6ASJ0Sue021821
\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=OK)
\tfor <e2e@rx.example.test>; Sat, 28 Nov 2026 19:00:28 GMT
Subject: e2e S6
";

#[test]
fn loopback_flag_keeps_loopback_hops_as_for_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mbox = dir.path().join("rx.mbox");
    fs::write(
        &mbox,
        format!("From sender@client.example.test Sat Nov 28 19:00:28 2026\n{E2E_RELAYED}\nbody\n"),
    )
    .expect("write");
    let stores = vec![Store {
        path: mbox,
        kind: Kind::Mbox,
    }];
    let ours = || Some(OurHosts::given(["mx.example.test", "rx.example.test"]));

    // Default: loopback senders are never peers.
    let (posture, s) = scan(
        &stores,
        ours(),
        &RecordFilter::default(),
        &HashSet::new(),
        None,
    );
    assert!(posture.peers.is_empty());
    assert_eq!((s.messages, s.hops, s.hops_local), (1, 2, 2));

    // --loopback: both hops count, with the verify= each stamp recorded.
    let f = RecordFilter {
        loopback: true,
        ..RecordFilter::default()
    };
    let (posture, _) = scan(&stores, ours(), &f, &HashSet::new(), None);
    let keys: Vec<&String> = posture.peers.keys().collect();
    assert_eq!(keys, vec!["vm.example.test"]);
    let d = &posture.peers["vm.example.test"].inbound;
    assert_eq!(
        (d.tls_sessions, d.tls_messages, d.plaintext_messages),
        (2, 2, 0)
    );
    assert_eq!(d.verify.get(&Verify::Ok), 2);
    assert_eq!(d.versions.get(&TlsVersion::Tls1_3), 2);
    assert_eq!(d.ciphers.get(&Cipher::new("TLS_AES_256_GCM_SHA384")), 2);
    assert_eq!(d.min_bits, Some(256));
}

/// One read of an mbox serves the hops and the TLS-RPT reports: the report message is
/// handed over with its index and body (and not folded as hops), the others are hops, and
/// a store that cannot be read is a problem on both sides.
#[test]
fn one_read_hands_report_messages_over_and_folds_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mbox = dir.path().join("inbox");
    let report = "From noreply-smtp-tls-reporting@google.com Mon Jul  1 10:20:00 2024\n\
        Received: from mail-tls.google.com (mail-tls.google.com [192.0.2.80])\n\
        \tby mx.our.example (8.17.1/8.17.1) with ESMTPS id 461AFE4x000004\n\
        \t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NO)\n\
        \tfor <tls-reports@our.example>; Mon, 1 Jul 2024 10:20:00 +0200\n\
        TLS-Report-Domain: our.example\n\
        Content-Type: multipart/report; report-type=tlsrpt; boundary=\"b\"\n\
        \n\
        --b\n\
        Content-Type: application/tlsrpt+json\n\
        \n\
        {\"organization-name\":\"Google Inc.\"}\n\
        --b--\n\n";
    fs::write(
        &mbox,
        format!("From peer@peer.example Mon Jul  1 10:15:02 2024\n{CHAIN}\nbody\n\n{report}"),
    )
    .expect("write");
    let stores = vec![
        Store {
            path: mbox,
            kind: Kind::Mbox,
        },
        Store {
            path: dir.path().join("missing"),
            kind: Kind::Mbox,
        },
    ];
    let mut items = Vec::new();
    let (posture, s) = scan(
        &stores,
        Some(OurHosts::given(["mx.our.example"])),
        &RecordFilter::default(),
        &HashSet::new(),
        Some(&mut |i| items.push(i)),
    );
    assert_eq!(
        (s.messages, s.report_messages, s.messages_unreadable),
        (1, 1, 1)
    );
    assert!(posture.peers.contains_key("mail.peer.example"));
    assert!(!posture.peers.contains_key("mail-tls.google.com"));
    assert_eq!(items.len(), 2, "{items:?}");
    match &items[0] {
        ReportItem::Message(m) => {
            assert_eq!(m.index, 2);
            let body = String::from_utf8_lossy(m.body.as_deref().expect("the body"));
            assert!(body.contains("application/tlsrpt+json"), "{body}");
        }
        other => panic!("not the report message: {other:?}"),
    }
    match &items[1] {
        ReportItem::Problem(p) => assert_eq!(Some(p), s.problems.first()),
        other => panic!("not the missing store: {other:?}"),
    }

    // Without a reader of reports the report message is only counted.
    let (_, quiet) = scan(
        &stores,
        Some(OurHosts::given(["mx.our.example"])),
        &RecordFilter::default(),
        &HashSet::new(),
        None,
    );
    assert_eq!(quiet, s);
}

/// The scan's fold (names, addresses and repeated details only compared, details
/// counted apart) gives the posture that [`add_hop`] gives hop by hop: peers under one
/// key with several names, addresses and ciphers that alternate, change and come back,
/// details with and without a verify word, and hops without details.
#[test]
fn accumulated_fold_equals_hop_by_hop() {
    let stamps = [
        "from mx.a.example (mx.a.example [192.0.2.1]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by us with ESMTPS id 1; Mon, 1 Jul 2024 10:00:00 +0200",
        "from MX.A.example (MX.A.example [192.0.2.1]) (using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)) by us with ESMTPS id 2; Mon, 1 Jul 2024 10:01:00 +0200",
        "from mx.a.example (mx.a.example [192.0.2.2]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by us with ESMTPS id 3; Mon, 1 Jul 2024 09:00:00 +0200",
        "from mx.a.example (mx.a.example [192.0.2.1]) (version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=OK) by us with ESMTPS id 4; Mon, 1 Jul 2024 11:00:00 +0200",
        "from mx.a.example (mx.a.example [192.0.2.1]) by us with ESMTPS id 5; Mon, 1 Jul 2024 12:00:00 +0200",
        "from mx.a.example (mx.a.example [192.0.2.1]) by us with ESMTP id 6; Mon, 1 Jul 2024 12:30:00 +0200",
        "from [198.51.100.7] (helo=x) by us with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256) id 7; Mon, 1 Jul 2024 13:00:00 +0200",
        "from [198.51.100.7] (helo=x) by us with esmtps (TLS1.2:ECDHE_RSA_AES_128_GCM_SHA256:128) id 8; Mon, 1 Jul 2024 13:00:00 +0200",
        "from [198.51.100.7] (helo=x) by us with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256) id 9; Mon, 1 Jul 2024 14:00:00 +0200",
        "from mx.a.example (mx.a.example [192.0.2.1]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by us with ESMTPS id 10; Mon, 1 Jul 2024 15:00:00 +0200",
    ];
    let hops: Vec<Hop> = stamps
        .iter()
        .map(|s| received::parse(s).expect("a stamp"))
        .collect();
    // Every order of the first hops, so that each repeat and change meets each state.
    for rot in 0..hops.len() {
        let order: Vec<&Hop> = hops.iter().cycle().skip(rot).take(hops.len() * 2).collect();
        let mut want = Posture::default();
        let mut acc = PeerMap::default();
        for h in &order {
            add_hop(&mut want, h);
            add_hop_to(&mut acc, h);
        }
        let mut got = Posture::default();
        got.peers
            .extend(acc.into_iter().map(|(k, a)| (k, a.finish())));
        assert_eq!(got, want, "rotation {rot}");
        let a = &got.peers["mx.a.example"];
        assert_eq!(a.names.len(), 2);
        assert_eq!(a.ips.len(), 2);
        assert!(a.inbound.ciphers.len() >= 2);
    }
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The formatter-free IPv4 text is `Display`'s, so keys of address-only hops stay
        /// the posture keys of the logs.
        #[test]
        fn v4_text_is_display(bits in any::<u32>(), octet in 0u8..=255) {
            let ip = std::net::Ipv4Addr::from(bits);
            prop_assert_eq!(v4_text(ip), ip.to_string());
            let edge = std::net::Ipv4Addr::new(octet, 0, 9, octet.wrapping_add(91));
            prop_assert_eq!(v4_text(edge), edge.to_string());
        }

        /// The formatter-free IPv6 text is `Display`'s: zero runs of every length and
        /// place (the first longest one compressed, a lone zero group written out),
        /// IPv4-mapped and -compatible addresses, the unspecified and loopback ones.
        #[test]
        fn v6_text_is_display(
            groups in proptest::collection::vec(
                prop_oneof![Just(0u16), Just(0u16), Just(1u16), Just(0xffffu16), any::<u16>()],
                8,
            ),
            bits in any::<u128>(),
        ) {
            let mut seg = [0u16; 8];
            seg.copy_from_slice(&groups);
            let ip = std::net::Ipv6Addr::from(seg);
            prop_assert_eq!(v6_text(ip), ip.to_string());
            let ip = std::net::Ipv6Addr::from(bits);
            prop_assert_eq!(v6_text(ip), ip.to_string());
            for ip in [std::net::Ipv6Addr::UNSPECIFIED, std::net::Ipv6Addr::LOCALHOST] {
                prop_assert_eq!(v6_text(ip), ip.to_string());
            }
        }
    }
}

/// The store scan as it was before it folded on the pool: every message's hops folded on
/// one thread, in order, with [`add_hop`].
fn sequential_scan(stores: &[Store], ours: Option<OurHosts>) -> (Posture, MessagesSummary) {
    let mut s = MessagesSummary::default();
    let (mut witnessed, mut claimed) = (Posture::default(), Posture::default());
    walk(stores, ours, &mut s, |m, trust, _| {
        for (h, t) in m.hops.iter().zip(trust) {
            if h.hop.is_local() {
                continue;
            }
            match t {
                Trust::Witnessed => add_hop(&mut witnessed, &h.hop),
                Trust::Claimed => add_hop(&mut claimed, &h.hop),
            };
        }
    });
    s.claimed = claimed;
    (witnessed, s)
}

#[test]
fn worker_fold_is_the_sequential_fold() {
    // 6,000 messages (past the inference sample, over several 2 MiB blocks): peers that
    // repeat with changing names, addresses and details, plaintext witnessed hops (more
    // examples than are kept), unreadable stamps and header-less messages (more problems
    // than are kept), foreign stamps below ours. Folded on the pool, the scan gives the
    // same posture, counts, examples and problems, in the same order, as one thread did.
    let dir = tempfile::tempdir().expect("tempdir");
    let mbox = dir.path().join("inbox");
    let mut text = String::new();
    let pad = "X-Pad: ".to_owned() + &"p".repeat(300) + "\n";
    for i in 0..6_000u32 {
        let peer = format!("Mail{}.peer{}.example", i % 41, i % 3);
        let ip = format!("192.0.2.{}", i % 211);
        let tls = match i % 5 {
            0 => "",
            1 => "\n\t(version=TLSv1.2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128 verify=OK)",
            _ => "\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NO)",
        };
        let with = if i % 5 == 0 { "ESMTP" } else { "ESMTPS" };
        text.push_str("From x@y Mon Jul  1 10:00:00 2024\n");
        if i % 997 == 5 {
            text.push_str("no header here\n\nbody\n\n");
            continue;
        }
        text.push_str(&format!(
            "Received: from {peer} ({peer} [{ip}])\n\tby mx.our.example with {with} id q{i}{tls}\n\
             \tfor <a@our.example>; Mon, 1 Jul 2024 10:{:02}:00 +0200\n",
            i % 60
        ));
        if i % 89 == 3 {
            text.push_str("Received: total garbage\n");
        }
        text.push_str(&format!(
            "Received: from h{} (h{} [198.51.100.{}])\n\tby {peer} with SMTP id z{i};\n\
             \tMon, 1 Jul 2024 09:{:02}:00 +0200\n",
            i % 13,
            i % 13,
            i % 17,
            i % 60
        ));
        text.push_str(&pad);
        text.push_str("Subject: s\n\nbody\n\n");
    }
    fs::write(&mbox, text).expect("write");
    let stores = vec![Store {
        path: mbox,
        kind: Kind::Mbox,
    }];
    for ours in [None, Some(OurHosts::given(["mx.our.example"]))] {
        let (want_posture, want) = sequential_scan(&stores, ours.clone());
        let (posture, got) = scan(
            &stores,
            ours,
            &RecordFilter::default(),
            &HashSet::new(),
            None,
        );
        assert_eq!(got.messages, 6_000);
        assert_eq!(got.plaintext_examples.len(), KEEP);
        assert_eq!(got.problems.len(), KEEP);
        assert!(posture.peers.len() > 100, "{}", posture.peers.len());
        assert!(got.claimed.peers.len() > 10, "{}", got.claimed.peers.len());
        assert_eq!(posture, want_posture);
        assert_eq!(got, want);
    }
}
