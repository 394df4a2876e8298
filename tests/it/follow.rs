//! `mailtls follow` through the real binary: rotation of both kinds with exact counts, a
//! missing file, restart from `--state` across a rotation, the metrics endpoint checked
//! with a Prometheus exposition parser, lines printed one by one as they are written. The
//! latency and idle CPU are measured, not asserted: benches/timing.rs.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::follow::{HANG, appender, follow_new_log, http_get, number_of, numbered, spawn};

#[test]
fn rotations_of_both_kinds_lose_and_double_nothing() {
    rotation_scenario(&[]);
}

/// The same with the polling fallback instead of inotify.
#[test]
fn rotations_are_followed_when_polling() {
    rotation_scenario(&["--poll"]);
}

/// Issue 9 point 2: N numbered lines with rotations of both kinds in between; exactly N
/// events, in order.
fn rotation_scenario(extra: &[&str]) {
    const N: usize = 600;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    File::create(&log).unwrap();
    let mut args = vec![log.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let mut f = spawn(&args);
    f.wait_err("reading from byte 0");

    // The reader counts events as they come, so that the writer can wait for the
    // follower before a copytruncate (logrotate's own window: lines written between its
    // copy and its truncate are lost whoever reads).
    let (seen_tx, seen_rx) = mpsc::channel::<usize>();
    let out = std::mem::replace(&mut f.out, mpsc::channel().1);
    thread::spawn(move || {
        while let Ok((_, l)) = out.recv() {
            let _ = seen_tx.send(number_of(&l));
        }
    });
    let mut got: Vec<usize> = Vec::new();
    let errs = std::mem::replace(&mut f.err, mpsc::channel().1);
    let wait_for = |n: usize, got: &mut Vec<usize>| {
        let deadline = Instant::now() + HANG;
        while got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match seen_rx.recv_timeout(left) {
                Ok(x) => got.push(x),
                Err(_) => panic!(
                    "follower stuck at {} of {n} lines, last {:?}; stderr: {:?}",
                    got.len(),
                    &got[got.len().saturating_sub(5)..],
                    errs.try_iter().collect::<Vec<_>>()
                ),
            }
        }
    };

    let mut w = appender(&log);
    let mut n = 0usize; // last line written
    let write = |w: &mut File, n: &mut usize| {
        *n += 1;
        w.write_all(numbered(*n).as_bytes()).unwrap();
    };
    let (mut renames, mut truncations) = (0, 0);
    while n < N {
        write(&mut w, &mut n);
        if n.is_multiple_of(10) {
            thread::sleep(Duration::from_millis(1));
        }
        match n {
            // rename-and-create; the writer goes on writing three lines into the renamed
            // file before it reopens (as syslogd does until logrotate's HUP)
            100 | 300 => {
                fs::rename(&log, dir.path().join("maillog.1")).unwrap();
                File::create(&log).unwrap();
                for _ in 0..3 {
                    write(&mut w, &mut n);
                }
                w = appender(&log);
                renames += 1;
            }
            // copytruncate, at a moment the follower has caught up
            200 | 400 => {
                wait_for(n, &mut got);
                fs::copy(&log, dir.path().join("maillog.1")).unwrap();
                w.set_len(0).unwrap();
                truncations += 1;
            }
            // rename, and the name stays missing for a while
            500 => {
                fs::rename(&log, dir.path().join("maillog.1")).unwrap();
                thread::sleep(Duration::from_millis(300));
                w = appender(&log);
                renames += 1;
            }
            _ => {}
        }
    }
    drop(w);
    wait_for(N, &mut got);
    // Exactly the lines written, in order, each once.
    assert_eq!(got, (1..=N).collect::<Vec<_>>());
    let extra: Vec<usize> = seen_rx
        .try_iter()
        .chain(seen_rx.recv_timeout(Duration::from_millis(500)))
        .collect();
    assert!(extra.is_empty(), "doubled: {extra:?}");
    f.err = errs;
    let (code, summary) = f.stop();
    assert_eq!(code, 0);
    println!("{summary}");
    assert!(summary.contains(&format!("{N} lines read")), "{summary}");
    assert!(
        summary.contains(&format!(
            "{renames} rotation{}, {truncations} truncation{}",
            if renames == 1 { "" } else { "s" },
            if truncations == 1 { "" } else { "s" }
        )),
        "{summary}"
    );
}

#[test]
fn a_missing_file_is_followed_once_it_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    let mut f = spawn(&[log.to_str().unwrap(), "--json"]);
    f.wait_err("missing; waiting");
    let mut w = appender(&log);
    for i in 1..=5 {
        w.write_all(numbered(i).as_bytes()).unwrap();
    }
    let got: Vec<usize> = f.lines(5).iter().map(|(_, l)| number_of(l)).collect();
    assert_eq!(got, vec![1, 2, 3, 4, 5]);
    f.wait_err("appeared; reading from the start");
    let (code, summary) = f.stop_with(rustix::process::Signal::INT);
    assert_eq!(code, 0);
    assert!(summary.contains("stopped (SIGINT)"), "{summary}");
    assert!(summary.contains("5 lines read"), "{summary}");
}

#[test]
fn state_resumes_exactly_across_a_restart_with_rotation_in_between() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    let state = dir.path().join("follow.state");
    let mut w = appender(&log);
    for i in 1..=10 {
        w.write_all(numbered(i).as_bytes()).unwrap();
    }
    let args = [
        log.to_str().unwrap(),
        "--json",
        "--from-start",
        "--state",
        state.to_str().unwrap(),
    ];
    // First run: the whole file, then appends.
    let f = spawn(&args);
    let mut got: Vec<usize> = f.lines(10).iter().map(|(_, l)| number_of(l)).collect();
    for i in 11..=15 {
        w.write_all(numbered(i).as_bytes()).unwrap();
    }
    got.extend(f.lines(5).iter().map(|(_, l)| number_of(l)));
    let (code, _) = f.stop();
    assert_eq!(code, 0);
    assert_eq!(got, (1..=15).collect::<Vec<_>>());
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(saved["schema"], "mailtls.follow-state/1");
    assert_eq!(saved["line"], 15);
    assert_eq!(
        saved["offset"].as_u64().unwrap(),
        fs::metadata(&log).unwrap().len()
    );

    // While it is down: more lines, a rename rotation, lines in the new file.
    for i in 16..=20 {
        w.write_all(numbered(i).as_bytes()).unwrap();
    }
    fs::rename(&log, dir.path().join("maillog.1")).unwrap();
    let mut w = appender(&log);
    for i in 21..=25 {
        w.write_all(numbered(i).as_bytes()).unwrap();
    }

    // Second run (--from-start is overridden by the state): exactly 16..=25.
    let mut f = spawn(&args);
    f.wait_err("resuming in rotated file");
    let got: Vec<usize> = f.lines(10).iter().map(|(_, l)| number_of(l)).collect();
    assert_eq!(got, (16..=25).collect::<Vec<_>>());
    assert_eq!(f.extra(Duration::from_millis(500)), Vec::<String>::new());
    let (code, summary) = f.stop();
    assert_eq!(code, 0);
    assert!(summary.contains("10 lines read"), "{summary}");

    // Third run, nothing new: nothing repeats.
    let f = spawn(&args);
    assert_eq!(f.extra(Duration::from_millis(700)), Vec::<String>::new());
    w.write_all(numbered(26).as_bytes()).unwrap();
    assert_eq!(number_of(&f.lines(1)[0].1), 26);
    let (code, _) = f.stop();
    assert_eq!(code, 0);
}

/// Lines with RFC 3339 stamps (so the expected timestamp does not depend on the zone):
/// TLS in and out, a failed verification, a plaintext peer, a key error, a downgrade and
/// the resumption.
const KNOWN_INPUT: &str = "\
2026-11-28T09:00:01+00:00 mail sm-mta[4101]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
2026-11-28T09:00:02+00:00 mail sm-mta[4101]: 6ASA01a4004101: from=<a@partner.example>, size=912, class=0, nrcpts=1, msgid=<1@partner.example>, proto=ESMTPS, daemon=MTA, relay=mx.partner.example [192.0.2.25]
2026-11-28T09:01:00+00:00 mail sm-mta[4110]: STARTTLS=server, relay=mx.v6only.example [IPv6:2001:db8:5::25], version=TLSv1.2, verify=FAIL, cipher=ECDHE-RSA-CHACHA20-POLY1305, bits=256/256
2026-11-28T09:02:00+00:00 mail sm-mta[4120]: STARTTLS=client, relay=mx1.bigmail.example., version=TLSv1.3, verify=OK, cipher=TLS_AES_128_GCM_SHA256, bits=128/128
2026-11-28T09:02:01+00:00 mail sm-mta[4120]: 6ASA02b4004119: to=<bob@bigmail.example>, ctladdr=<alice@example.net> (1001/1001), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30312, relay=mx1.bigmail.example. [203.0.113.10], dsn=2.0.0, stat=Sent (OK queued)
2026-11-28T09:05:00+00:00 mail sm-mta[4200]: 6ASA05a4004200: from=<scan@printer.example>, size=100, class=0, nrcpts=1, msgid=<2@printer.example>, proto=ESMTP, daemon=MTA, relay=printer.example [198.51.100.7]
2026-11-28T09:10:00+00:00 mail sm-mta[4300]: STARTTLS=server, error: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed
2026-11-28T09:11:00+00:00 mail sm-mta[4302]: 6ASA11a4004302: from=<a@partner.example>, size=900, class=0, nrcpts=1, msgid=<3@partner.example>, proto=ESMTP, daemon=MTA, relay=mx.partner.example [192.0.2.25]
2026-11-28T09:30:00+00:00 mail sm-mta[4400]: STARTTLS=server, relay=mx.partner.example [192.0.2.25], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
";

/// Records and alerts KNOWN_INPUT yields: 4 sessions, 4 messages, 1 error, 3 alerts.
const KNOWN_OUTPUTS: usize = 12;

#[test]
fn metrics_are_valid_exposition_with_the_known_counts() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    fs::write(&log, KNOWN_INPUT).unwrap();
    let mut f = spawn(&[
        log.to_str().unwrap(),
        "--from-start",
        "--json",
        "--metrics",
        "127.0.0.1:0",
        "--metrics-peers",
        "1",
    ]);
    let addr = f.metrics_addr();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let out = f.lines(KNOWN_OUTPUTS);
    let alerts: Vec<String> = out
        .iter()
        .filter_map(|(_, l)| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["type"] == "alert").then(|| v["alert"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(alerts, vec!["tls_disabled", "downgrade", "tls_resumed"]);

    let (head, body) = http_get(&addr, "/metrics");
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    let (head404, _) = http_get(&addr, "/other");
    assert!(head404.contains(" 404 "), "{head404}");

    // Every line is a comment or a sample the parser understood.
    let lines: Vec<String> = body.lines().map(str::to_owned).collect();
    let scrape = prometheus_parse::Scrape::parse(lines.iter().cloned().map(Ok)).unwrap();
    let sample_lines = lines
        .iter()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .count();
    assert_eq!(scrape.samples.len(), sample_lines, "{body}");
    for s in &scrape.samples {
        assert!(
            scrape.docs.contains_key(&s.metric),
            "no HELP for {}",
            s.metric
        );
    }
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let matching: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .collect();
        assert_eq!(matching.len(), 1, "{name} {labels:?} in\n{body}");
        match matching[0].value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{other:?}"),
        }
    };
    let sessions = [
        ("inbound", "TLSv1.3", "NO", "aes-gcm", 2.0),
        ("inbound", "TLSv1.2", "FAIL", "chacha20-poly1305", 1.0),
        ("outbound", "TLSv1.3", "OK", "aes-gcm", 1.0),
    ];
    for (d, v, ver, fam, n) in sessions {
        let labels = [
            ("direction", d),
            ("version", v),
            ("verify", ver),
            ("cipher_family", fam),
        ];
        assert_eq!(
            value("mailtls_tls_sessions_total", &labels),
            n,
            "{labels:?}"
        );
    }
    let session_series = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "mailtls_tls_sessions_total")
        .count();
    assert_eq!(session_series, 3);
    for (d, e, n) in [
        ("inbound", "tls", 1.0),
        ("inbound", "plaintext", 2.0),
        ("outbound", "tls", 1.0),
        ("outbound", "plaintext", 0.0),
    ] {
        let labels = [("direction", d), ("encryption", e)];
        assert_eq!(value("mailtls_messages_total", &labels), n, "{labels:?}");
    }
    assert_eq!(
        value("mailtls_tls_errors_total", &[("kind", "private_key")]),
        1.0
    );
    for (a, n) in [
        ("tls_disabled", 1.0),
        ("downgrade", 1.0),
        ("tls_resumed", 1.0),
        ("no_tls", 0.0),
    ] {
        assert_eq!(value("mailtls_alerts_total", &[("alert", a)]), n, "{a}");
    }
    assert_eq!(value("mailtls_tls_broken", &[]), 0.0);
    // --metrics-peers 1: the busiest peer (mx.partner.example, 2 messages) has its own
    // series from its first message; everyone else is "other".
    let peers: Vec<&str> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "mailtls_peer_messages_total")
        .map(|s| s.labels.get("peer").unwrap())
        .collect();
    assert!(
        peers
            .iter()
            .all(|p| *p == "mx.partner.example" || *p == "other"),
        "{peers:?}"
    );
    assert_eq!(
        value(
            "mailtls_peer_messages_total",
            &[("peer", "mx.partner.example"), ("encryption", "tls")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "mailtls_peer_messages_total",
            &[("peer", "mx.partner.example"), ("encryption", "plaintext")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "mailtls_peer_messages_total",
            &[("peer", "other"), ("direction", "inbound")]
        ),
        1.0
    );
    assert_eq!(
        value("mailtls_last_event_timestamp_seconds", &[]),
        1_795_858_200.0 // 2026-11-28T09:30:00Z
    );
    assert_eq!(value("mailtls_follow_lines_total", &[]), 9.0);
    assert_eq!(value("mailtls_follow_lines_recognized_total", &[]), 9.0);
    assert_eq!(
        value(
            "mailtls_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert!(value("process_start_time_seconds", &[]) > 1.7e9);
    assert!(value("process_cpu_seconds_total", &[]) >= 0.0);
    let (code, summary) = f.stop();
    assert_eq!(code, 0);
    assert!(summary.contains("3 alerts"), "{summary}");
}

/// Each line appended is printed on its own, in order, with inotify and with polling
/// (benches/timing.rs measures how soon).
#[test]
fn each_appended_line_is_printed_as_it_is_written() {
    for mode in [&[][..], &["--poll"][..]] {
        let (_dir, log, f) = follow_new_log(mode);
        let mut w = appender(&log);
        for i in 1..=20 {
            w.write_all(numbered(i).as_bytes()).unwrap();
            let (_, line) = f.lines(1).pop().unwrap();
            assert_eq!(number_of(&line), i, "{mode:?}");
        }
        assert_eq!(
            f.extra_numbers(Duration::from_millis(100)),
            Vec::<usize>::new()
        );
        let (code, _) = f.stop();
        assert_eq!(code, 0);
    }
}

/// A follower started on a log with lines, `--metrics` and `--state` starts at the end: the
/// lines already there are not printed, a new one is (benches/timing.rs measures the CPU
/// it uses while idle).
#[test]
fn a_new_follower_starts_at_the_end_and_prints_only_new_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    fs::write(&log, KNOWN_INPUT).unwrap();
    let state = dir.path().join("state");
    let mut f = spawn(&[
        log.to_str().unwrap(),
        "--metrics",
        "127.0.0.1:0",
        "--state",
        state.to_str().unwrap(),
    ]);
    f.wait_err("reading from byte");
    assert_eq!(f.extra(Duration::from_millis(300)), Vec::<String>::new());
    appender(&log).write_all(numbered(1).as_bytes()).unwrap();
    let (_, line) = f.lines(1).pop().unwrap();
    assert!(
        line.contains(" in  tls     h1.senders.example [198.51.100.2]"),
        "{line}"
    );
    let (code, _) = f.stop();
    assert_eq!(code, 0);
}

/// One row: the filter flags, and the text lines (without their timestamps) that must be
/// printed for KNOWN_INPUT, in order. Alerts about our own TLS pass every filter.
#[test]
fn filters_select_what_is_printed() {
    const ALERTS: [&str; 3] = [
        "ALERT   inbound (server-side) TLS disabled on mail: private_key: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed — mail now arrives in plaintext; peers that used TLS are reported below",
        "ALERT   downgrade: in mx.partner.example [192.0.2.25] used TLS before, 6ASA11a4004302 went in plaintext",
        "ALERT   inbound (server-side) TLS works again on mail (1 message(s) went in plaintext meanwhile)",
    ];
    let rows: &[(&[&str], &[&str])] = &[
        (
            &["--errors-only"],
            &[
                "in  error   -  private_key: SSL_CTX_use_PrivateKey_file(/etc/mail/certs/host.key) failed",
                ALERTS[0],
                ALERTS[1],
                ALERTS[2],
            ],
        ),
        (
            &["--verify", "fail"],
            &[
                "in  tls     mx.v6only.example [2001:db8:5::25]  TLSv1.2 ECDHE-RSA-CHACHA20-POLY1305 256 verify=FAIL",
                ALERTS[0],
                ALERTS[1],
                ALERTS[2],
            ],
        ),
        (
            &["--peer", "bigmail.example", "--direction", "out"],
            &[
                "out tls     mx1.bigmail.example  TLSv1.3 TLS_AES_128_GCM_SHA256 128 verify=OK",
                "out msg     mx1.bigmail.example [203.0.113.10]  TLSv1.3 TLS_AES_128_GCM_SHA256 128 verify=OK  6ASA02b4004119 sent",
                // the downgrade concerns another peer
                ALERTS[0],
                ALERTS[2],
            ],
        ),
    ];
    for (flags, want) in rows {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("maillog");
        fs::write(&log, KNOWN_INPUT).unwrap();
        let mut args = vec![log.to_str().unwrap(), "--from-start", "--utc"];
        args.extend_from_slice(flags);
        let f = spawn(&args);
        let got: Vec<String> = f
            .lines(want.len())
            .into_iter()
            .map(|(_, l)| {
                assert!(!l.contains('\x1b'), "NO_COLOR: {l}");
                // "2026-11-28 09:00:01 " is 20 characters
                l.get(20..).unwrap_or_default().to_owned()
            })
            .collect();
        assert_eq!(got, *want, "{flags:?}");
        assert_eq!(f.extra(Duration::from_millis(300)), Vec::<String>::new());
        let (code, _) = f.stop();
        assert_eq!(code, 0);
    }
}

/// `--tlsrpt-dir`: reports already there and reports arriving later (a Maildir delivery, a
/// `.json.gz` file, a broken file) are counted once each in the `mailtls_tlsrpt_*`
/// families, and said on stderr.
#[test]
fn tlsrpt_reports_arriving_in_a_directory_are_counted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let samples = root.join("sample-logs/tlsrpt/reports");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("maillog");
    fs::write(&log, "").unwrap();
    let inbox = dir.path().join("tlsrpt");
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(inbox.join(sub)).unwrap();
    }
    let eml = fs::read(samples.join("microsoft-tlsrpt.eml")).unwrap();
    fs::write(inbox.join("new/1795250000.M1P1.mx1"), &eml).unwrap();
    // Half-written deliveries in tmp/ are never read.
    fs::write(inbox.join("tmp/1795250001.M2P2.mx1"), &eml[..eml.len() / 2]).unwrap();
    let mut f = spawn(&[
        log.to_str().unwrap(),
        "--tlsrpt-dir",
        inbox.to_str().unwrap(),
        "--metrics",
        "127.0.0.1:0",
    ]);
    let addr = f.metrics_addr();
    f.wait_err("TLS-RPT: Microsoft Corporation reports 57 successful and 5 failed sessions");

    // Arriving later: a report file, the same Microsoft report again, a broken file.
    let gz = "postbox.example!example.net!1795132800!1795219199.json.gz";
    fs::copy(samples.join(gz), inbox.join(gz)).unwrap();
    fs::write(inbox.join("cur/1795250002.M3P3.mx1:2,S"), &eml).unwrap();
    fs::write(inbox.join("broken.json"), "{\"organization-name\": \"x\",").unwrap();
    f.wait_err("TLS-RPT: Postbox Example GmbH reports 1 successful and 3 failed sessions");
    f.wait_err("broken.json: invalid TLS-RPT report: not JSON");

    let (_, body) = http_get(&addr, "/metrics");
    let lines: Vec<String> = body.lines().map(str::to_owned).collect();
    let scrape = prometheus_parse::Scrape::parse(lines.iter().cloned().map(Ok)).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{body}"))
    };
    let ms = ("organization", "Microsoft Corporation");
    assert_eq!(
        value(
            "mailtls_tlsrpt_reports_total",
            &[ms, ("policy_type", "tlsa")]
        ),
        2.0,
        "two tlsa policies in one report, the duplicate not counted"
    );
    assert_eq!(
        value(
            "mailtls_tlsrpt_sessions_total",
            &[ms, ("result", "successful")]
        ),
        57.0
    );
    assert_eq!(
        value(
            "mailtls_tlsrpt_failed_sessions_total",
            &[ms, ("result_type", "certificate-host-mismatch")]
        ),
        4.0
    );
    assert_eq!(
        value(
            "mailtls_tlsrpt_failed_sessions_total",
            &[
                ("organization", "Postbox Example GmbH"),
                ("result_type", "starttls-not-supported")
            ]
        ),
        3.0
    );
    assert_eq!(value("mailtls_tlsrpt_invalid_reports_total", &[]), 1.0);
    let (code, _) = f.stop();
    assert_eq!(code, 0);
}
