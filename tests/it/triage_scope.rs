//! The narrowed read of a triage question gives the same answer as reading everything.
//!
//! For every peer of every sample log (by host name, by domain and by address), and for
//! peers of a generated log, the records about the peer plus the local TLS errors are
//! compared between a full read and a read narrowed by `triage::scope::widen`. Likewise the
//! records of a message's queue ids. Any line the widening misses (a pid-keyed error, a
//! Postfix qmgr line, a session line without the peer's name) shows up as a difference.

use crate::common::generator;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{FixedOffset, Offset, Utc};

use crate::common::root;
use mailtls::analysis::filter::peer_matches;
use mailtls::input::{self, SourceFile};
use mailtls::model::Record;
use mailtls::parse::envelope::Zone;
use mailtls::pipeline::{self, Needles, Options};
use mailtls::triage::scope::{self, Question};

fn sources(paths: &[PathBuf]) -> Vec<SourceFile> {
    let (files, errors) = input::discover(paths);
    assert!(errors.is_empty(), "{errors:?}");
    files
}

fn opts(needles: Option<Arc<Needles>>) -> Options {
    let utc: FixedOffset = Utc.fix();
    Options {
        year: Some(2026),
        zone: Zone::Fixed(utc),
        needles,
        ..Options::default()
    }
}

fn read(src: &[SourceFile], needles: Option<Arc<Needles>>) -> Vec<Record> {
    let mut out = Vec::new();
    pipeline::run(src, &opts(needles), |r| out.push(r));
    out
}

fn local_error(r: &Record) -> bool {
    matches!(r, Record::Error { peer: None, kind, .. } if kind.is_local())
}

/// Records as comparable, ordered strings (source first).
fn canon<'a>(rs: impl Iterator<Item = &'a Record>) -> Vec<String> {
    let mut v: Vec<String> = rs.map(|r| format!("{} {r:?}", r.meta().source)).collect();
    v.sort();
    v
}

/// Asserts the narrowed answer for `peer` equals the full one; returns how many records
/// the peer has and what share of lines the narrowed read parsed.
fn check_peer(src: &[SourceFile], all: &[Record], peer: &str) -> usize {
    let sc = scope::widen(
        src,
        &Question::Peer(peer.to_owned()),
        input::DEFAULT_MAX_LINE,
    )
    .unwrap();
    assert!(sc.needles.is_some(), "{peer}: not narrowed");
    let narrowed = read(src, sc.needles.clone());
    let about = |r: &&Record| r.peer().is_some_and(|p| peer_matches(p, peer)) || local_error(r);
    let want = canon(all.iter().filter(about));
    let got = canon(narrowed.iter().filter(about));
    if want != got {
        let w: BTreeSet<&String> = want.iter().collect();
        let g: BTreeSet<&String> = got.iter().collect();
        panic!(
            "peer {peer}: narrowed read differs\n only in full read: {:#?}\n only in narrowed read: {:#?}",
            w.difference(&g).collect::<Vec<_>>(),
            g.difference(&w).collect::<Vec<_>>()
        );
    }
    want.iter().filter(|s| !s.contains("peer: None")).count()
}

fn check_message(src: &[SourceFile], all: &[Record], id: &str) -> BTreeSet<String> {
    let sc = scope::widen(
        src,
        &Question::Message(id.to_owned()),
        input::DEFAULT_MAX_LINE,
    )
    .unwrap();
    let narrowed = read(src, sc.needles.clone());
    let mut qids = sc.queue_ids.clone();
    qids.insert(id.to_owned());
    let about = |r: &&Record| matches!(r, Record::Message { queue_id, .. } if qids.contains(queue_id.as_str()));
    let want = canon(all.iter().filter(about));
    let got = canon(narrowed.iter().filter(about));
    assert_eq!(got, want, "message {id}");
    assert!(!want.is_empty(), "message {id}: no record at all");
    qids
}

/// Every peer key, its domain (the name without its first label) and its address.
fn questions(all: &[Record]) -> BTreeSet<String> {
    let mut qs = BTreeSet::new();
    for r in all {
        if let Some(p) = r.peer() {
            if let Some(k) = p.key() {
                if let Some((_, dom)) = k.split_once('.')
                    && dom.contains('.')
                {
                    qs.insert(dom.to_owned());
                }
                qs.insert(k);
            }
            if let Some(ip) = p.ip {
                qs.insert(ip.to_string());
            }
        }
    }
    qs
}

#[test]
fn every_sample_peer_narrowed_equals_full() {
    for set in [
        &["sample-logs/maillog"][..],
        &["sample-logs/oldrelay"],
        &["sample-logs/relay2"],
        &["sample-logs/postfix"],
        &["sample-logs/exim"],
        &["sample-logs/chain"],
        &[
            "sample-logs/maillog",
            "sample-logs/oldrelay",
            "sample-logs/relay2",
        ],
    ] {
        let paths: Vec<PathBuf> = set.iter().map(|p| root().join(p)).collect();
        let src = sources(&paths);
        let all = read(&src, None);
        let qs = questions(&all);
        assert!(qs.len() >= 4, "{set:?}: {qs:?}");
        let mut with_records = 0;
        for q in &qs {
            if check_peer(&src, &all, q) > 0 {
                with_records += 1;
            }
        }
        assert!(with_records >= 4, "{set:?}");
    }
}

#[test]
fn sample_messages_narrowed_equal_full_and_chain_across_mtas() {
    let src = sources(&[root().join("sample-logs/chain")]);
    let all = read(&src, None);
    let qids = check_message(&src, &all, "6ARAK9xK004388");
    assert!(qids.contains("8C1D2E3F4A"), "{qids:?}");
    let qids = check_message(&src, &all, "20261127100001.AB12CD@partner.example");
    assert!(
        qids.contains("6ARA01xK004242") && qids.contains("3F2A1C0B9D"),
        "{qids:?}"
    );
    let src = sources(&[root().join("sample-logs/maillog")]);
    let all = read(&src, None);
    for qid in ["6AR90CHI027009", "6ARAeYIl030356", "6AR8UFMd026010"] {
        check_message(&src, &all, qid);
    }
    let src = sources(&[root().join("sample-logs/postfix")]);
    let all = read(&src, None);
    check_message(&src, &all, "C29CADBECF");
}

fn generated(dir: &Path, seed: u64, bytes: u64) -> Vec<SourceFile> {
    let path = dir.join("mail.log");
    generator::write_log(
        &generator::Config {
            seed,
            bytes,
            peers: 150,
            ..generator::Config::default()
        },
        BufWriter::new(File::create(&path).unwrap()),
    )
    .unwrap();
    sources(&[path])
}

#[test]
fn generated_log_peers_narrowed_equal_full() {
    let tmp = tempfile::tempdir().unwrap();
    let src = generated(tmp.path(), 23, 600 << 10);
    let all = read(&src, None);
    let qs: Vec<String> = questions(&all).into_iter().collect();
    // The busiest peers (Zipf head) and a spread of the rest, by name, domain and address.
    let mut picked: Vec<&String> = qs.iter().step_by((qs.len() / 40).max(1)).collect();
    picked.extend(
        qs.iter()
            .filter(|q| q.contains("peer1.") || q.contains("peer2.")),
    );
    let mut checked = 0;
    for q in picked {
        if check_peer(&src, &all, q) > 0 {
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} peers had records");
    // Messages: queue ids of a spread of records.
    let qids: Vec<String> = all
        .iter()
        .filter_map(|r| match r {
            Record::Message { queue_id, .. } => Some(queue_id.to_string()),
            _ => None,
        })
        .step_by(97)
        .take(12)
        .collect();
    assert!(qids.len() >= 6);
    for q in &qids {
        check_message(&src, &all, q);
    }
}

#[test]
fn peer_names_match_in_any_case() {
    // The relay's PTR name in mixed case, asked for in lower case: the seed pass folds case,
    // the final read searches for the spellings found.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("maillog");
    std::fs::write(
        &path,
        "Nov 27 10:00:01 relay sm-mta[4242]: STARTTLS=server, relay=Mail-Out.Partner.EXAMPLE [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256\n\
Nov 27 10:00:02 relay sm-mta[4242]: 6ARA01xK004242: from=<a@partner.example>, size=5120, class=0, nrcpts=1, msgid=<x@partner.example>, proto=ESMTPS, daemon=MTA, relay=Mail-Out.Partner.EXAMPLE [192.0.2.25]\n\
Nov 27 10:00:05 relay sm-mta[4245]: STARTTLS=client, relay=MX.Example.COM., version=TLSv1.2, verify=FAIL, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256\n\
Nov 27 10:00:05 relay sm-mta[4245]: 6ARA01xK004242: to=<b@example.com>, delay=00:00:03, xdelay=00:00:00, mailer=esmtp, pri=125120, relay=mx.example.com. [198.51.100.25], dsn=2.0.0, stat=Sent (Ok: queued as 3F2A1C0B9D)\n",
    )
    .unwrap();
    let src = sources(&[path]);
    let all = read(&src, None);
    for peer in [
        "mail-out.partner.example",
        "partner.example",
        "mx.example.com",
        "MX.EXAMPLE.COM",
    ] {
        assert!(check_peer(&src, &all, peer) >= 2, "{peer}");
    }
}
