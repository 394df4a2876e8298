use super::*;
use std::io::Write;

fn read_all(bytes: &[u8], buf: usize) -> Vec<RawMessage> {
    let mut r = MboxReader::with_buffer(bytes, Arc::from("box"), buf);
    let mut out = Vec::new();
    while let Some(m) = r.next_message().expect("read") {
        out.push(m);
    }
    out
}

const MBOX: &str = "\
From alice@peer.example Mon Jul  1 10:15:02 2024
Return-Path: <alice@peer.example>
Received: from mail.peer.example (mail.peer.example [192.0.2.15])
\tby mx.our.example (8.17.1.9/8.17.1.9) with ESMTPS id 461AFE2x012345
\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)
\tfor <bob@our.example>; Mon, 1 Jul 2024 10:15:02 +0200
Subject: one

Body line one.
>From the escaped line: must not split.
From here an unescaped line after text: must not split either.

From bob@peer.example Mon Jul  1 11:00:00 2024
Received: from x (x [192.0.2.16]) by mx.our.example with ESMTP id Q2; Mon, 1 Jul 2024 11:00:00 +0200
Subject: two

>>From double escaped (mboxrd)

From carol@peer.example Mon Jul  1 12:00:00 2024
Subject: three, no body and no empty line
From dave@peer.example Mon Jul  1 13:00:00 2024
Subject: four

last body
";

#[test]
fn mbox_splits_at_separators_only() {
    let msgs = read_all(MBOX.as_bytes(), BUF_SIZE);
    // (index, first header line, header starts with, header ends with)
    let want: [(u64, u64, &str, &str); 4] = [
        (
            1,
            2,
            "Return-Path: <alice@peer.example>\n",
            "Subject: one\n",
        ),
        (2, 14, "Received: from x", "Subject: two\n"),
        (3, 20, "Subject: three", "no empty line\n"),
        (4, 22, "Subject: four", "Subject: four\n"),
    ];
    assert_eq!(msgs.len(), want.len());
    for (m, (idx, line, head, tail)) in msgs.iter().zip(want) {
        let h = String::from_utf8_lossy(&m.header);
        assert_eq!(m.index, idx);
        assert_eq!(m.source.line, line, "message {idx}");
        assert_eq!(&*m.source.file, "box");
        assert!(h.starts_with(head), "message {idx}: {h:?}");
        assert!(h.ends_with(tail), "message {idx}: {h:?}");
        assert!(!h.contains("\n\n"), "message {idx} kept its empty line");
        assert!(!m.truncated);
    }
    // The first message's Received header survives whole.
    let r = headers::received(&msgs[0].header);
    assert_eq!(r.len(), 1);
    assert!(r[0].value.contains("verify=NOT"));
}

#[test]
fn mbox_same_result_with_tiny_buffers() {
    let big = read_all(MBOX.as_bytes(), BUF_SIZE);
    for size in [16, 17, 19, 23, 31, 64, 100] {
        assert_eq!(read_all(MBOX.as_bytes(), size), big, "buffer {size}");
    }
}

#[test]
fn mbox_crlf_and_leading_junk() {
    let text = "garbage before\r\nthe first separator\r\n\r\nFrom a Mon Jul  1 10:00:00 2024\r\nSubject: crlf\r\n\r\nbody\r\nFrom not-a-separator\r\n\r\nFrom b Mon Jul  1 10:00:01 2024\r\nSubject: second\r\n\r\n";
    let msgs = read_all(text.as_bytes(), 20);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].header, b"Subject: crlf\r\n");
    assert_eq!(msgs[0].source.line, 5);
    assert_eq!(msgs[1].header, b"Subject: second\r\n");
    assert_eq!(msgs[1].source.line, 11);
}

#[test]
fn mbox_long_body_lines_and_oversized_header() {
    let mut text = String::from("From a Mon Jul  1 10:00:00 2024\nSubject: long\n\n");
    text.push_str(&"x".repeat(5000));
    text.push_str("\n\nFrom b Mon Jul  1 10:00:01 2024\nSubject: b\n\n");
    let msgs = read_all(text.as_bytes(), 64);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].source.line, 7);

    let mut huge = String::from("From a Mon Jul  1 10:00:00 2024\n");
    let line = format!("X-Filler: {}\n", "y".repeat(1000));
    while huge.len() < MAX_HEADER + 10_000 {
        huge.push_str(&line);
    }
    huge.push_str("\nbody\n");
    let msgs = read_all(huge.as_bytes(), BUF_SIZE);
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].truncated);
    assert_eq!(msgs[0].header.len(), MAX_HEADER);
}

#[test]
fn detect_by_content() {
    let rows: [(&[u8], Kind); 12] = [
        // Undated separators: Netscape/Thunderbird, Google Takeout.
        (
            b"From - \nX-Mozilla-Status: 0001\nReturn-Path: <a@b>\nReceived: from x\n",
            Kind::Mbox,
        ),
        (
            b"From 1844347792267117879@xxx \nX-GM-THRID: 1844347792267117879\nReceived: by 2002:a05\nMIME-Version: 1.0\n",
            Kind::Mbox,
        ),
        // A text that starts with the word, without a header block, is not a mailbox.
        (b"From here on, notes:\nnothing: much\n", Kind::Other),
        (b"From the top\n\nSubject: none\n", Kind::Other),
        (
            b"From alice@peer.example Mon Jul  1 10:15:02 2024\nSubject: x\n",
            Kind::Mbox,
        ),
        (
            b"Return-Path: <a@b>\nReceived: from x by y; d\n\nbody",
            Kind::Eml,
        ),
        (b"Received: from x\n\tby y; d\nSubject: s\n\n", Kind::Eml),
        (
            b"Jul  5 19:19:30 mx sm-mta[123]: STARTTLS=server, relay=x\n",
            Kind::Other,
        ),
        (
            b"2024-07-05T19:19:30+02:00 mx postfix/smtpd[1]: connect from x\n",
            Kind::Other,
        ),
        (
            b"2024-07-05 19:19:30 1sDcIh-000000004YY-3wAT <= a@b H=x\n",
            Kind::Other,
        ),
        (b"key: value\nother: thing\n", Kind::Other),
        (b"\x1f\x8b\x08\x00garbage", Kind::Other),
    ];
    for (head, want) in rows {
        assert_eq!(
            detect_bytes(head),
            want,
            "{}",
            String::from_utf8_lossy(head)
        );
    }
}

fn write(p: &Path, text: &[u8]) {
    if let Some(d) = p.parent() {
        fs::create_dir_all(d).expect("mkdir");
    }
    fs::write(p, text).expect("write");
}

#[test]
fn maildir_layout_eml_gz_and_store_discovery() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let md = root.join("Maildir");
    write(&md.join("cur/1719820000.M1P1.mx:2,S"), b"Received: from a (a [192.0.2.1]) by mx with ESMTPS id 1; Mon, 1 Jul 2024 10:00:00 +0200\nSubject: cur\n\nbody\n");
    write(&md.join("new/1719820100.M2P2.mx"), b"Received: from b (b [192.0.2.2]) by mx with ESMTP id 2; Mon, 1 Jul 2024 10:01:40 +0200\r\nSubject: new\r\n\r\nbody\r\n");
    write(&md.join("tmp/1719820200.M3P3.mx"), b"Subject: half-writ");
    write(
        &md.join(".Sent/cur/1719820300.M4P4.mx:2,S"),
        b"Received: by mx with local id 4; Mon, 1 Jul 2024 10:05:00 +0200\nSubject: sent\n\n",
    );
    fs::create_dir_all(md.join(".Sent/new")).expect("mkdir");
    write(
        &root.join("one.eml"),
        b"Return-Path: <x@y>\nSubject: eml\n\n",
    );
    write(
        &root.join("mail.log"),
        b"Jul  5 19:19:30 mx sm-mta[123]: x\n",
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(MBOX.as_bytes()).expect("gz");
    write(&root.join("archive.mbox.gz"), &gz.finish().expect("gz"));

    assert_eq!(detect(&md).expect("detect"), Kind::Maildir);
    assert_eq!(
        detect(&root.join("archive.mbox.gz")).expect("detect"),
        Kind::Mbox
    );
    assert_eq!(detect(&root.join("mail.log")).expect("detect"), Kind::Other);

    // The Maildir given again, and inside the directory: read once.
    let stores = find_stores(&[root.to_path_buf(), md.clone()]);
    let got: Vec<(String, Kind)> = stores
        .iter()
        .map(|s| {
            let rel = s.path.strip_prefix(root).expect("under root");
            (rel.display().to_string(), s.kind)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("Maildir".to_owned(), Kind::Maildir),
            ("Maildir/.Sent".to_owned(), Kind::Maildir),
            ("archive.mbox.gz".to_owned(), Kind::Mbox),
            ("one.eml".to_owned(), Kind::Eml),
        ]
    );
    assert!(belongs_to_store(
        &md.join("tmp/1719820200.M3P3.mx"),
        &stores
    ));
    assert!(!belongs_to_store(&root.join("mail.log"), &stores));

    // The Maildir: cur then new, tmp left out, one source per file at line 1.
    let msgs: Vec<RawMessage> = stores[0]
        .messages()
        .expect("open")
        .map(|m| m.expect("msg"))
        .collect();
    assert_eq!(msgs.len(), 2);
    assert!(msgs[0].source.file.ends_with("cur/1719820000.M1P1.mx:2,S"));
    assert_eq!(msgs[0].source.line, 1);
    assert!(msgs[0].header.ends_with(b"Subject: cur\n"));
    assert!(msgs[1].header.ends_with(b"Subject: new\r\n"));
    assert_eq!(msgs[1].index, 2);

    // The gzip mbox reads like the plain one.
    let gz_msgs: Vec<RawMessage> = stores[2]
        .messages()
        .expect("open")
        .map(|m| m.expect("msg"))
        .collect();
    let plain = read_all(MBOX.as_bytes(), BUF_SIZE);
    assert_eq!(gz_msgs.len(), plain.len());
    assert_eq!(gz_msgs[0].header, plain[0].header);
    assert_eq!(gz_msgs[3].source.line, 22);

    let eml: Vec<RawMessage> = stores[3]
        .messages()
        .expect("open")
        .map(|m| m.expect("msg"))
        .collect();
    assert_eq!(eml.len(), 1);
    assert_eq!(eml[0].header, b"Return-Path: <x@y>\nSubject: eml\n");
}

#[test]
fn unreadable_maildir_file_is_an_error_item_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path();
    write(&md.join("cur/a"), b"Subject: a\n\n");
    fs::create_dir_all(md.join("new")).expect("mkdir");
    let store = Store {
        path: md.to_path_buf(),
        kind: Kind::Maildir,
    };
    let mut it = store.messages().expect("open");
    fs::remove_file(md.join("cur/a")).expect("rm");
    match it.next() {
        Some(Err(e)) => assert!(e.to_string().contains("cur/a:1"), "{e}"),
        other => panic!("want an error, got {other:?}"),
    }
    assert!(it.next().is_none());
}

#[test]
fn read_header_limits() {
    let (h, cut) = read_header(&b"A: 1\r\nB: 2\r\n\r\nbody"[..]).expect("read");
    assert_eq!(h, b"A: 1\r\nB: 2\r\n");
    assert!(!cut);
    let (h, cut) = read_header(&b"A: no end"[..]).expect("read");
    assert_eq!(h, b"A: no end");
    assert!(!cut);
    let big = vec![b'x'; MAX_HEADER + 5];
    let (h, cut) = read_header(&big[..]).expect("read");
    assert_eq!(h.len(), MAX_HEADER);
    assert!(cut);
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_buffer_size_does_not_matter(
            b in proptest::collection::vec(
                prop_oneof![
                    4 => any::<u8>(),
                    2 => Just(b'\n'),
                    1 => Just(b'F'),
                ],
                0..800,
            ),
            size in 16usize..80,
        ) {
            let a = read_all(&b, BUF_SIZE);
            let c = read_all(&b, size);
            prop_assert_eq!(a, c);
            let _ = detect_bytes(&b);
            let _ = read_header(&b[..]);
        }

        #[test]
        fn message_count_matches_separators(
            bodies in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![Just("text"), Just(">From x"), Just("From y"), Just(""), Just("\r")],
                    0..6,
                ),
                1..8,
            ),
            size in 16usize..64,
        ) {
            let mut text = String::new();
            for (i, body) in bodies.iter().enumerate() {
                text.push_str(&format!("From m{i} Mon Jul  1 10:00:00 2024\nSubject: {i}\n\n"));
                for l in body {
                    // Keep unescaped `From ` lines after text, never after an empty line.
                    if l.starts_with("From") {
                        text.push_str("text\n");
                    }
                    text.push_str(l);
                    text.push('\n');
                }
                text.push('\n');
            }
            let msgs = read_all(text.as_bytes(), size);
            prop_assert_eq!(msgs.len(), bodies.len());
            for (i, m) in msgs.iter().enumerate() {
                prop_assert_eq!(m.header.clone(), format!("Subject: {i}\n").into_bytes());
            }
        }
    }
}

/// Bodies are kept only for the messages the test accepts, whole up to the next
/// separator, whatever the buffer size; the others are still skipped.
#[test]
fn mbox_keeps_the_bodies_asked_for() {
    let mbox = b"From a@example.org Fri Nov 27 01:12:44 2026\n\
Subject: plain\n\
\n\
body one\n\
\n\
From reports@example.org Fri Nov 27 02:00:00 2026\n\
Subject: report\n\
X-Keep: yes\n\
\n\
line 1\n\
>From the escaped line\n\
\n\
line 3 with a long tail ................................................\n\
\n\
From c@example.org Fri Nov 27 03:00:00 2026\n\
X-Keep: yes\n\
\n\
From d@example.org Fri Nov 27 04:00:00 2026\n\
Subject: last\n\
\n\
tail\n";
    fn keep(h: &[u8]) -> bool {
        String::from_utf8_lossy(h).contains("X-Keep: yes")
    }
    for buf in [16, 17, 64, 4096] {
        let mut r = MboxReader::with_buffer(&mbox[..], Arc::from("box"), buf).keeping(keep);
        let mut got = Vec::new();
        while let Some(m) = r.next_message().unwrap() {
            got.push((m.index, m.source.line, m.body));
        }
        assert_eq!(
            got,
            vec![
                (1, 2, None),
                (
                    2,
                    7,
                    Some(
                        b"line 1\n>From the escaped line\n\nline 3 with a long tail ................................................\n\n"
                            .to_vec()
                    )
                ),
                (3, 16, Some(Vec::new())),
                (4, 19, None),
            ],
            "buffer {buf}"
        );
    }
}

#[test]
fn message_files_keep_their_body_when_asked() {
    let msg = b"Subject: report\r\nX-Keep: yes\r\n\r\nbody\r\nmore\r\n";
    fn keep(h: &[u8]) -> bool {
        String::from_utf8_lossy(h).contains("X-Keep")
    }
    let (h, cut, body) = read_file_message(&msg[..], Some(keep)).unwrap();
    assert_eq!(h, b"Subject: report\r\nX-Keep: yes\r\n");
    assert!(!cut);
    assert_eq!(body.as_deref(), Some(&b"body\r\nmore\r\n"[..]));
    let (_, _, body) = read_file_message(&msg[..], None).unwrap();
    assert_eq!(body, None);
    let (_, _, body) = read_file_message(&b"Subject: x\n\nbody\n"[..], Some(keep)).unwrap();
    assert_eq!(body, None);
}

mod report_search {
    use super::super::{report_at_tls, report_in_lowered};
    use memchr::memmem;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// One search for `tls` finds a report header exactly when the two searches for
        /// its marks did: marks in and out of their places, overlapping and cut short.
        #[test]
        fn one_search_is_two(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("tls"), Just("tlsrpt"), Just("rpt"), Just("report-type="),
                    Just("report-type=\""), Just("\""), Just("application/"), Just("+"),
                    Just("tls-report-domain:"), Just("tls-report-domain"), Just("\n"),
                    Just(" "), Just("x"), Just("t"), Just("tl"), Just("ls"), Just("s"),
                    Just("content-type: multipart/report; "), Just("json"),
                ],
                0..12,
            )
        ) {
            let h = parts.concat().into_bytes();
            let tls = memmem::Finder::new("tls");
            let tlsrpt = memmem::Finder::new("tlsrpt");
            let domain = memmem::Finder::new("tls-report-domain:");
            prop_assert_eq!(
                report_at_tls(&h, &tls),
                report_in_lowered(&h, &tlsrpt, &domain),
                "{:?}", String::from_utf8_lossy(&h)
            );
        }
    }
}
