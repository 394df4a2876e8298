//! `parse_block` (prefilter, bulk skipping) gives exactly what parsing every line gives.

use std::io::Read;
use std::path::Path;

use super::*;
use crate::parse::LineOutcome;

/// The straightforward version: every line through the parser (the code before the
/// prefilter, kept as the specification).
fn reference_parse_block(
    block: &Block,
    file: &Arc<str>,
    keep: usize,
    keep_unparsed: usize,
    max_line: usize,
) -> BlockOut {
    let mut out = BlockOut {
        events: Vec::new(),
        keys: Vec::new(),
        lines: block.skipped_long_lines,
        recognized: 0,
        malformed: Vec::new(),
        malformed_count: 0,
        too_long: block.skipped_long_lines,
        unparsed: BTreeMap::new(),
        unparsed_lines: Vec::new(),
    };
    for (no, line) in block.lines() {
        out.lines += 1;
        if line.len() > max_line {
            out.too_long += 1;
            continue;
        }
        match parse::parse_line(line, file, no) {
            LineOutcome::Event(ev) => {
                out.recognized += 1;
                out.events.push(ev);
            }
            LineOutcome::Irrelevant => {
                if let Some(program) = parse::mail_program(line) {
                    *out.unparsed.entry(program).or_default() += 1;
                    if out.unparsed_lines.len() < keep_unparsed {
                        out.unparsed_lines
                            .push((no, String::from_utf8_lossy(line).into_owned()));
                    }
                }
            }
            LineOutcome::Malformed(why) => {
                out.malformed_count += 1;
                if out.malformed.len() < keep {
                    out.malformed.push((no, why));
                }
            }
        }
    }
    out
}

fn all_samples() -> Vec<u8> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs"),
        &mut paths,
    );
    paths.sort();
    let mut all = Vec::new();
    for p in paths {
        let src = SourceFile {
            path: Some(p),
            display: Arc::from("s"),
            mtime: None,
            walked: false,
        };
        input::open(&src)
            .and_then(|mut r| r.read_to_end(&mut all))
            .expect("sample readable");
    }
    all
}

fn compare(data: &[u8], block_size: usize, max_line: usize) {
    let file: Arc<str> = Arc::from("t");
    let mut br = BlockReader::with_sizes(data, block_size, max_line);
    let mut blocks = 0;
    while let Some(b) = br.next_block().expect("in memory") {
        let fast = parse_block(
            &b,
            &file,
            3,
            5,
            max_line,
            None,
            false,
            parse::Detail::Full,
            Vec::new(),
        );
        let slow = reference_parse_block(&b, &file, 3, 5, max_line);
        let at = b.first_line;
        assert_eq!(fast.lines, slow.lines, "lines, block at {at}");
        assert_eq!(fast.too_long, slow.too_long, "too long, block at {at}");
        assert_eq!(fast.unparsed, slow.unparsed, "unparsed, block at {at}");
        assert_eq!(fast.unparsed_lines, slow.unparsed_lines, "block at {at}");
        assert_eq!(fast.malformed, slow.malformed, "block at {at}");
        assert_eq!(
            fast.events.len(),
            slow.events.len(),
            "events, block at {at}"
        );
        assert_eq!(fast, slow, "block at line {at}");
        blocks += 1;
    }
    assert!(blocks > 0);
}

#[test]
fn same_as_every_line_parsed_on_the_samples() {
    let all = all_samples();
    assert!(all.len() > 10_000);
    for (bs, ml) in [
        (1 << 20, 64 << 10),
        (4096, 64 << 10),
        (777, 300),
        (65536, 120),
    ] {
        compare(&all, bs, ml);
    }
}

#[test]
fn same_as_every_line_parsed_on_edges() {
    let long = "x".repeat(500);
    let text = format!(
        "{long}\r\nNov 27 01:12:40 mx postfix/qmgr[812]: 4F2A1C0019: removed\r\n\n\
         {{\"MESSAGE\":\"STARTTLS\"}}\nNov 27 01:12:40 mx sm-mta[1]: STARTTLS=server, relay=[192.0.2.1]\n\
         Nov 27 01:12:40 mx sm-mta[1]: {long} STARTTLS\nNov 27 01:12:40 mx postfix/smtpd[2]: {long}\n\
         Nov 27 01:12:40 mx sendmail: no pid here\nmx exim[3]: after a line without a tag\n\
         Nov 27 01:12:40 mx exim[3]: é 1aZ1HS-0006iF-Rk Completed\n\
         Nov 27 01:12:40 mx sm-msp-queue[4]: starting daemon (8.17.1): queueing@00:30:00\n\
         Nov 27 01:12:40 mx dovecot[5]: imap-login: Login: user=<a>, TLS\n\
         Nov 27 01:12:40 mx CRON[6]: (root) CMD (true)\r\n\
         Nov 27 01:12:40 mx dovecot: imap-login: Disconnected: SSL_accept() failed {long}\n\
         Nov 27 01:12:40 mx kernel: [UFW BLOCK] IN=eth0\n\
         2026-11-27T01:12:40.5+00:00 mx systemd-logind[7]: New session 3 of user root.\n\
         plain line\nno newline at the end TLS"
    );
    for (bs, ml) in [(1 << 20, 64 << 10), (64, 200), (1 << 20, 400)] {
        compare(text.as_bytes(), bs, ml);
    }
    // Latin-1 bytes in a line an MTA tag sends straight to the parser.
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"\nNov 27 01:12:40 mx postfix/qmgr[9]: 4F2A: from=<\xe9t\xe9@x>\n");
    compare(&bytes, 1 << 20, 64 << 10);
}

#[test]
fn a_line_is_the_same_whatever_its_stamp_and_not_when_its_pid_differs() {
    let bsd = b"Nov 28 17:54:54 mx postfix/smtpd[42]: connect from a.example[192.0.2.1]";
    let rfc =
        b"2026-11-28T17:54:54.123456+00:00 mx postfix/smtpd[42]: connect from a.example[192.0.2.1]";
    let pid = b"Nov 28 17:54:54 mx postfix/smtpd[43]: connect from a.example[192.0.2.1]";
    let host = b"Nov 28 17:54:54 mx2 postfix/smtpd[42]: connect from a.example[192.0.2.1]";
    assert_eq!(line_key(bsd), line_key(rfc));
    assert_ne!(line_key(bsd), line_key(pid));
    assert_ne!(line_key(bsd), line_key(host));
    let t = 1_795_888_494;
    assert_eq!(dup_key(line_key(bsd), t), dup_key(line_key(rfc), t));
    assert_ne!(dup_key(line_key(bsd), t), dup_key(line_key(bsd), t + 1));
}

#[test]
fn copies_across_inputs_count_once_and_name_where_they_were_first_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/postfix/mail.log"),
    )
    .unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        SourceFile {
            path: Some(p),
            display: Arc::from(name),
            mtime: None,
            walked: false,
        }
    };
    let opts = Options {
        year: Some(2026),
        zone: Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap()),
        ..Options::default()
    };
    let alone = run(&[write("one", &log)], &opts, |_| {});
    let n = alone.summary.lines_recognized;
    // A file holding the log twice: two of everything (within one file, equal lines are
    // separate events).
    let twice = run(&[write("twice", &format!("{log}{log}"))], &opts, |_| {});
    assert_eq!(twice.summary.lines_recognized, 2 * n);
    assert_eq!(twice.summary.lines_duplicate, 0);
    let firsts: String = log.lines().take(10).map(|l| format!("{l}\n")).collect();
    let three = [write("a", &log), write("b", &log), write("c", &firsts)];
    let mut records = 0;
    let r = run(&three, &opts, |_| records += 1);
    let mut single = 0;
    run(&three[..1], &opts, |_| single += 1);
    assert_eq!(records, single);
    assert_eq!(r.summary.lines_recognized, n);
    let c_keyed = run(&[write("c2", &firsts)], &opts, |_| {})
        .summary
        .lines_recognized;
    assert_eq!(r.summary.lines_duplicate, n + c_keyed);
    let pairs: Vec<(String, String, u64)> = r
        .duplicates
        .iter()
        .map(|(f, g, n)| (f.to_string(), g.to_string(), *n))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("b".into(), "a".into(), n),
            ("c".into(), "a".into(), c_keyed)
        ]
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.hosts.iter().collect::<Vec<_>>(), vec!["mx2"]);
}

#[test]
fn the_stamp_is_cut_off_in_every_form_and_other_lines_are_kept_whole() {
    let rest: &[u8] = b"mx postfix/smtpd[42]: connect";
    for line in [
        &b"Nov 28 17:54:54 mx postfix/smtpd[42]: connect"[..],
        b"Nov  8 17:54:54 mx postfix/smtpd[42]: connect",
        b"Nov 28 17:54:54.123 mx postfix/smtpd[42]: connect",
        b"2026-11-28T17:54:54.123456+00:00 mx postfix/smtpd[42]: connect",
        b"<22>Nov 28 17:54:54 mx postfix/smtpd[42]: connect",
    ] {
        assert_eq!(after_stamp(line), rest, "{}", String::from_utf8_lossy(line));
    }
    for whole in [
        &b"{\"MESSAGE\": \"x\"}"[..],
        b"2026-11-28 17:54:54 1aZ1HS-0006iF-Rk <= a@b",
        b"Nov",
        b"plain text",
    ] {
        assert_eq!(after_stamp(whole), whole);
    }
}

#[test]
fn read_keys_find_every_key_they_hold_small_or_bucketed() {
    for n in [10usize, 200_000] {
        let mut x = 0x1234_5678_9abc_def0u64;
        let keys: Vec<u64> = (0..n)
            .map(|_| {
                x = dup_key(x, 7);
                x
            })
            .collect();
        let rk = ReadKeys::new(keys.clone(), 0, 10);
        assert!(keys.iter().all(|&k| rk.holds(5, k)));
        assert!(!rk.holds(11, keys[0]), "outside the time range");
        let absent = (0..1000).filter(|&i| rk.holds(5, dup_key(i, -1))).count();
        assert_eq!(absent, 0);
    }
}

proptest::proptest! {
    /// Counting a gap's lines from the newlines' positions agrees with splitting it line by
    /// line (the count and the over-long lines, with `\r\n` endings and a last line without
    /// its newline).
    #[test]
    fn plain_lines_agrees_with_splitting(
        parts in proptest::collection::vec(("[a-z]{0,12}", proptest::bool::ANY), 0..40),
        end in proptest::bool::ANY,
        max_line in 0usize..10,
    ) {
        let mut gap = String::new();
        for (text, cr) in &parts {
            gap.push_str(text);
            gap.push_str(if *cr { "\r\n" } else { "\n" });
        }
        if !end {
            gap.push_str("tail");
        }
        let gap = gap.as_bytes();
        let (mut want_long, mut want) = (0u64, 0u64);
        if !gap.is_empty() {
            for line in gap.strip_suffix(b"\n").unwrap_or(gap).split(|&b| b == b'\n') {
                want += 1;
                want_long += u64::from(trim_cr(line).len() > max_line);
            }
        }
        let mut long = 0;
        proptest::prop_assert_eq!(plain_lines(gap, max_line, &mut long), want);
        // A gap no longer than the limit holds no over-long line: not looked for.
        if gap.len() > max_line {
            proptest::prop_assert_eq!(long, want_long);
        }
    }
}
