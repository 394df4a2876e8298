//! Bounded memory and deterministic order (issue 21): the correlator's state stays bounded
//! on smtpd-only Postfix input and when the log's clock stands still, the records come
//! out in input order on every run, and a closed pipe stops `events` from reading.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::Arc;

use mailtls::correlate::{CAP_EVERY, Correlator, MAX_ENTRIES};
use mailtls::model::Record;
use mailtls::parse::{LineOutcome, parse_line};

use crate::common::{bin, mailtls, success};

/// An RFC 3339 stamp (the correlator needs a full time) `s` seconds into 2026-11-20.
fn stamp(s: u64) -> String {
    let t = chrono::DateTime::from_timestamp(1_795_132_800 + s as i64, 0).unwrap();
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// The same second as a traditional syslog stamp.
fn syslog_stamp(s: u64) -> String {
    let day = 20 + s / 86_400;
    let s = s % 86_400;
    format!("Nov {day} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Feeds `lines` through the real parser into one correlator; returns it with the records
/// so far and the largest state it held after any line.
struct Feed {
    corr: Correlator,
    out: Vec<Record>,
    file: Arc<str>,
    line: u64,
    peak: usize,
}

impl Feed {
    fn new() -> Feed {
        Feed {
            corr: Correlator::new(),
            out: Vec::new(),
            file: Arc::from("mail.log"),
            line: 0,
            peak: 0,
        }
    }

    fn line(&mut self, text: &str) {
        self.line += 1;
        match parse_line(text.as_bytes(), &self.file, self.line) {
            LineOutcome::Event(ev) => self.corr.push(ev, &mut self.out),
            other => panic!("not an event: {text}: {other:?}"),
        }
        if self.line.is_multiple_of(1000) {
            self.peak = self.peak.max(self.corr.open_state());
        }
    }

    fn messages(&self) -> usize {
        self.out
            .iter()
            .filter(|r| matches!(r, Record::Message { .. }))
            .count()
    }
}

/// One smtpd conversation with one message: connect, TLS, `client=`, disconnect.
fn smtpd_session(f: &mut Feed, second: u64, i: u64) {
    let t = stamp(second);
    let pid = 1000 + i % 5000;
    let ip = format!("198.18.{}.{}", (i / 250) % 250, i % 250 + 1);
    let peer = format!("mail-out.p{}.example[{ip}]", i % 2000);
    f.line(&format!("{t} mx postfix/smtpd[{pid}]: connect from {peer}"));
    f.line(&format!(
        "{t} mx postfix/smtpd[{pid}]: Anonymous TLS connection established from {peer}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
    ));
    f.line(&format!(
        "{t} mx postfix/smtpd[{pid}]: {:010X}: client={peer}",
        i + 1
    ));
    f.line(&format!(
        "{t} mx postfix/smtpd[{pid}]: disconnect from {peer} ehlo=1 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=6"
    ));
}

#[test]
fn smtpd_only_input_keeps_state_bounded_and_counts_every_message() {
    // 60 000 messages, one every 4 seconds (67 hours), and no qmgr line: every message
    // waits for a qmgr `from=` that never comes. Before, all of them were parked until the
    // end of input; now those past their window count at the next sweep.
    let n = 60_000u64;
    let mut f = Feed::new();
    for i in 0..n {
        smtpd_session(&mut f, i * 4, i);
    }
    // An hour of messages (900) plus one sweep interval (50 000 events = 12 500 messages).
    assert!(f.peak < 15_000, "peak state {}", f.peak);
    assert!(
        f.messages() > 40_000,
        "{} counted before the end",
        f.messages()
    );
    assert_eq!(f.corr.evicted(), 0, "a moving clock evicts by time only");
    let mut out = std::mem::take(&mut f.out);
    f.corr.finish(&mut out);
    let qids: Vec<String> = out
        .iter()
        .filter_map(|r| match r {
            Record::Message { queue_id, .. } => Some(queue_id.to_string()),
            _ => None,
        })
        .collect();
    // Every message counts once, in the order of its `client=` line.
    let expected: Vec<String> = (1..=n).map(|i| format!("{i:010X}")).collect();
    assert_eq!(qids, expected);
}

#[test]
fn a_clock_that_stands_still_keeps_state_bounded() {
    // 120 000 Postfix `qmgr from=` lines (outbound mail never seen arriving through smtpd,
    // so each confirmation waits an hour for a `client=`) all stamped with the same
    // second: expiry by time alone never drops one (before, all 120 000 stayed). The count
    // bound keeps the map at MAX_ENTRIES, plus what arrives between two checks.
    let n = 120_000u64;
    let mut f = Feed::new();
    let t = stamp(3600);
    for i in 0..n {
        f.line(&format!(
            "{t} mx postfix/qmgr[812]: {:010X}: from=<a{i}@example.org>, size=1200, nrcpt=1 (queue active)",
            i + 1
        ));
    }
    let bound = MAX_ENTRIES + CAP_EVERY as usize;
    assert!(
        f.peak <= bound,
        "peak state {} with a standing clock",
        f.peak
    );
    assert!(f.corr.open_state() <= bound);
    // What the bound dropped while its window was open is counted, not lost silently.
    let evicted = f.corr.evicted() as usize;
    assert!(
        evicted + f.corr.open_state() == n as usize,
        "evicted {evicted}"
    );
}

/// An smtpd-only log whose sessions never end: every message is released by the end of
/// input, once from the hash maps.
fn open_sessions_log() -> String {
    let mut log = String::new();
    for i in 0..400u64 {
        let t = syslog_stamp(i);
        let pid = 2000 + i;
        let peer = format!("mail-out.p{i}.example[198.18.1.{}]", i % 250 + 1);
        log.push_str(&format!(
            "{t} mx postfix/smtpd[{pid}]: connect from {peer}\n"
        ));
        log.push_str(&format!(
            "{t} mx postfix/smtpd[{pid}]: {:010X}: client={peer}\n",
            i + 1
        ));
    }
    log
}

#[test]
fn events_come_out_in_input_order_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(&log, open_sessions_log()).unwrap();
    let mut runs = Vec::new();
    for _ in 0..5 {
        let out = success(
            mailtls()
                .args(["events", "--json", "--year", "2026", "--utc"])
                .arg(&log)
                .output()
                .unwrap(),
        );
        runs.push(String::from_utf8(out.stdout).unwrap());
    }
    // The same bytes every run (a hash map's order changes between processes).
    for r in &runs[1..] {
        assert_eq!(r, &runs[0]);
    }
    let lines: Vec<u64> = runs[0]
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["line"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(lines.len(), 400);
    // Input order: each message at its `client=` line.
    let expected: Vec<u64> = (0..400).map(|i| 2 * i + 2).collect();
    assert_eq!(lines, expected);
}

#[test]
fn a_closed_pipe_stops_the_read() {
    // `events - | head -1`: once its output is closed, mailtls stops reading its input.
    // The feeder offers up to 128 MiB of TLS lines on stdin and counts what was taken.
    let mut child = bin()
        .args(["events", "--json", "--year", "2026", "--utc", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let line = "Nov 20 10:00:00 mx postfix/smtpd[4242]: Anonymous TLS connection established from mail-out.acme.example[198.18.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n";
        let chunk = line.repeat(1 << 10);
        let limit = 128u64 << 20;
        let mut written = 0u64;
        while written < limit {
            if stdin.write_all(chunk.as_bytes()).is_err() {
                break;
            }
            written += chunk.len() as u64;
        }
        written
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader (`head -1`) has what it wanted and goes away.
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["type"], "session");
    let status = child.wait().unwrap();
    let written = feeder.join().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        written < 32 << 20,
        "mailtls took {written} bytes of input after its output was closed"
    );
}

/// `n` lines from `line(i)`, all in one second, through one correlator: its largest state.
fn still_clock_peak(n: u64, line: impl Fn(u64) -> String) -> (usize, Feed) {
    let mut f = Feed::new();
    for i in 0..n {
        f.line(&line(i));
    }
    (f.peak, f)
}

#[test]
fn every_mta_keeps_state_bounded_when_the_clock_stands_still() {
    // Each MTA's own kind of state, 60 000 entries of it stamped with one second: expiry
    // by time never drops one, so only the count bound holds the maps. A map may pass
    // MAX_ENTRIES by what arrives between two checks; a scenario fills at most two maps.
    let n = 60_000u64;
    let bound = 2 * (MAX_ENTRIES + CAP_EVERY as usize);
    let t = stamp(7200);
    let ip = |i: u64| format!("198.18.{}.{}", i / 250 % 250, i % 250 + 1);
    type Scenario<'a> = (&'a str, Box<dyn Fn(u64) -> String + 'a>);
    let scenarios: Vec<Scenario> = vec![
        // Sendmail inbound sessions, one per process, never closed.
        (
            "sendmail inbound",
            Box::new(|i| {
                format!(
                    "{t} mx sm-mta[{}]: STARTTLS=server, relay=mail-out.p{i}.example [{}], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
                    10_000 + i,
                    ip(i)
                )
            }),
        ),
        // One Sendmail queue runner delivering to ever new relays: all under one process.
        (
            "sendmail outbound, one process",
            Box::new(|i| {
                format!(
                    "{t} mx sm-mta[4242]: STARTTLS=client, relay=mx.p{i}.example., version=TLSv1.3, verify=OK, cipher=TLS_AES_256_GCM_SHA384, bits=256/256"
                )
            }),
        ),
        // Postfix smtpd-only: every message ends its session and waits for a qmgr line
        // (the `ended` map).
        (
            "postfix smtpd-only",
            Box::new(|i| {
                let pid = 1000 + i / 2 % 5000;
                let peer = format!("mail-out.p{}.example[{}]", i / 2, ip(i / 2));
                match i % 2 {
                    0 => format!(
                        "{t} mx postfix/smtpd[{pid}]: {:010X}: client={peer}",
                        i / 2 + 1
                    ),
                    _ => format!(
                        "{t} mx postfix/smtpd[{pid}]: disconnect from {peer} ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"
                    ),
                }
            }),
        ),
        // Exim rejected TLS connections, each from its own address.
        (
            "exim rejected",
            Box::new(|i| {
                format!(
                    "{} H=bad.example [{}] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no F=<a@bad.example> rejected RCPT <c@example.com>: relay not permitted",
                    &t[..19].replace('T', " "),
                    ip(i)
                )
            }),
        ),
    ];
    for (what, line) in scenarios {
        let (peak, f) = still_clock_peak(n, line);
        assert!(
            peak > MAX_ENTRIES / 2,
            "{what}: the scenario fills state ({peak})"
        );
        assert!(
            peak <= bound,
            "{what}: peak state {peak} with a standing clock"
        );
        assert!(f.corr.open_state() <= bound, "{what}");
    }
}
