//! The prefilter never drops a line a parser recognises: over every sample log, over
//! random lines built from the parsers' own prefixes, and block-wise the same as line-wise.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::parse::{LineOutcome, parse_line};

fn recognised(line: &[u8]) -> bool {
    let file: Arc<str> = Arc::from("t");
    !matches!(parse_line(line, &file, 1), LineOutcome::Irrelevant)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn read(p: &Path) -> Vec<u8> {
    let mut raw = Vec::new();
    File::open(p)
        .and_then(|mut f| f.read_to_end(&mut raw))
        .expect("sample readable");
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .expect("gzip sample");
        out
    } else {
        raw
    }
}

fn sample_bytes() -> Vec<u8> {
    let mut paths = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs"),
        &mut paths,
    );
    paths.sort();
    assert!(paths.len() > 3, "sample-logs found");
    let mut all = Vec::new();
    for p in paths {
        all.extend_from_slice(&read(&p));
        if all.last() != Some(&b'\n') {
            all.push(b'\n');
        }
    }
    all
}

#[test]
fn keeps_every_recognised_line_of_the_samples() {
    let all = sample_bytes();
    let mut recognised_lines = 0;
    for line in all.split(|&b| b == b'\n') {
        if recognised(line) {
            recognised_lines += 1;
            assert!(
                may_matter(line),
                "dropped: {}",
                String::from_utf8_lossy(line)
            );
        }
    }
    assert!(recognised_lines > 50);
}

/// Lines found by walking a block with `next_candidate` are exactly the lines `may_matter`
/// keeps, wherever the needles sit (first line, last line without newline, `{` lines).
fn blockwise(hay: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut pos = 0;
    while let Some(m) = next_candidate(hay, pos) {
        let start = memchr::memrchr(b'\n', &hay[..m]).map_or(0, |i| i + 1);
        assert!(start >= pos);
        let end = memchr::memchr(b'\n', &hay[m..]).map_or(hay.len(), |i| m + i);
        found.push(start);
        pos = end + 1;
    }
    found
}

fn linewise(hay: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut start = 0;
    for line in hay.split(|&b| b == b'\n') {
        if start < hay.len() && may_matter(line) {
            found.push(start);
        }
        start += line.len() + 1;
    }
    found
}

#[test]
fn block_search_finds_the_same_lines_as_line_tests() {
    let all = sample_bytes();
    assert_eq!(blockwise(&all), linewise(&all));
    let edge = b"{\"MESSAGE\":[1,2]}\nnothing here\n{\"x\":1}\nto=<a>\nlast TLS";
    assert_eq!(blockwise(edge), linewise(edge));
    assert_eq!(blockwise(edge).len(), 4);
}

#[test]
fn drops_plain_noise() {
    for l in [
        "Nov 27 00:00:01 mail CRON[9001]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        "Nov 27 00:00:02 mail systemd[1]: Starting logrotate.service - Rotate log files...",
        "Nov 27 01:12:43 mail sm-mta[11422]: 6AR1CheR011422: Milter (clamav) add: header: X-Virus-Status: Clean",
        "Nov 27 01:12:43 mx postfix/qmgr[812]: 4F2A1C0019: removed",
    ] {
        assert!(!may_matter(l.as_bytes()), "{l}");
        assert!(!recognised(l.as_bytes()), "{l}");
    }
}

const PREFIXES: &[&str] = &[
    "",
    "Nov 27 01:12:40 mail sm-mta[11422]: ",
    "Nov 27 01:12:40 mail postfix/smtpd[4242]: ",
    "Nov 27 01:12:40 mail postfix/smtp[4243]: ",
    "Nov 27 01:12:40 mail exim[4244]: 1aZ1HS-0006iF-Rk ",
    "2026-11-27 01:12:40 1aZ1HS-0006iF-Rk ",
    "2026-11-27 01:12:40 ",
    "Nov 27 01:12:40 mail sm-mta[11422]: 6AR1CheR011422: ",
    "Nov 27 01:12:40 mail postfix/smtpd[4242]: 4F2A1C0019: ",
    "Nov 27 01:12:40 mail postfix/smtpd[4242]: warning: ",
    "Nov 27 01:12:40 mail sm-mta[11422]: [1]: ",
];

/// Heads of the lines of daemons that are no MTA ([`crate::parse::NOT_MAIL`]).
const OTHER_PREFIXES: &[&str] = &[
    "Nov 27 01:12:40 mail dovecot[812]: ",
    "Nov 27 01:12:40 mail dovecot: imap-login: ",
    "2026-11-27T01:12:40.123456+01:00 mail dovecot[812]: ",
    "Nov 27 01:12:40 mail CRON[9001]: ",
    "Nov 27 01:12:40 mail kernel: ",
    "Nov 27 01:12:40 mail systemd-logind[5]: ",
    "Nov 27 01:12:40 mail opendkim[733]: 4F2A1C0019: ",
    "Nov 27 01:12:40 mail amavis[2411]: (02411-01) ",
    "Nov 27 01:12:40 mail sshd[4000]: ",
];

const BODIES: &[&str] = &[
    "STARTTLS=server, relay=",
    "STARTTLS: ",
    "from=<",
    "to=<",
    "client=",
    "connect from ",
    "disconnect from ",
    "ruleset=tls_server, arg1=",
    "RULESET=TLS_server, arg1=",
    "lost input channel from ",
    "timeout waiting for input from ",
    "lost connection after ",
    "timeout after ",
    "NOQUEUE: abort: TLS from ",
    "<= ",
    "=> ",
    "** ",
    "== ",
    "no MAIL in SMTP connection from ",
    "engine=x, init=failed",
    "cannot load Certification Authority data",
    "certificate verification failed for ",
    "SSL_accept error from ",
    "TLS error on connection from ",
    "tls_srv_features=",
    "Cannot Load Private Key",
    "DANE ",
    "hello ",
    "",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    /// Random lines around the parsers' own prefixes: whatever a parser recognises, the
    /// prefilter keeps.
    #[test]
    fn never_drops_a_recognised_random_line(
        prefix in prop::sample::select(PREFIXES),
        body in prop::sample::select(BODIES),
        tail in "[ -~]{0,80}",
    ) {
        let line = format!("{prefix}{body}{tail}");
        if recognised(line.as_bytes()) {
            prop_assert!(may_matter(line.as_bytes()), "dropped: {line}");
        }
    }

    /// A line passed over as another daemon's ([`not_mail`]) is one no parser reads and
    /// no mail program wrote, whatever its text.
    #[test]
    fn not_mail_lines_are_irrelevant_and_no_mail_programs(
        prefix in prop::sample::select(OTHER_PREFIXES),
        body in prop::sample::select(BODIES),
        tail in "[ -~]{0,80}",
    ) {
        let line = format!("{prefix}{body}{tail}");
        prop_assert!(not_mail(line.as_bytes()), "{}", line);
        prop_assert!(!recognised(line.as_bytes()), "read: {}", line);
        prop_assert_eq!(crate::parse::mail_program(line.as_bytes()), None);
    }

    /// The MTAs' own lines are never passed over.
    #[test]
    fn mta_lines_are_never_not_mail(
        prefix in prop::sample::select(PREFIXES),
        body in prop::sample::select(BODIES),
        tail in "[ -~]{0,80}",
    ) {
        let line = format!("{prefix}{body}{tail}");
        prop_assert!(!not_mail(line.as_bytes()), "{}", line);
    }

    #[test]
    fn never_drops_recognised_printable_noise(s in "[ -~]{0,160}") {
        if recognised(s.as_bytes()) {
            prop_assert!(may_matter(s.as_bytes()), "dropped: {s}");
        }
    }
}

#[test]
fn mta_tag_picks_the_lines_of_the_three_mtas_by_their_syslog_tag() {
    for line in [
        &b"Nov 20 00:00:00 mx-pf postfix/smtpd[1003]: connect from a[198.18.0.1]"[..],
        b"Nov 20 00:00:00 mx-sm sm-mta[1]: STARTTLS=server",
        b"2026-11-28T17:54:54.123456+00:00 mx sendmail[7]: x: from=<a@b>",
        b"Nov  2 00:00:00 mx exim[3]: 1aZ1HS-0006iF-Rk <= a@b",
        b"<22>Nov 2 00:00:00 mx postfix/qmgr[3]: 4F2A: removed",
    ] {
        assert!(mta_tag(line), "{}", String::from_utf8_lossy(line));
    }
    for line in [
        &b"Nov 20 00:00:00 mx dovecot[5]: imap-login: Login: user=<a>, TLS"[..],
        b"Nov 20 00:00:00 mx CRON[5]: (root) CMD (postfix[1])",
        b"Nov 20 00:00:00 mx kernel: [UFW BLOCK] IN=eth0",
        // The tag is looked for in this line only, never in the next one.
        b"Nov 20 00:00:00 mx postfix: no pid\nNov 20 00:00:00 mx postfix/smtpd[1]: x",
        b"2026-11-28 17:30:07 1aZ1HS-0006iF-Rk <= a@b H=host [192.0.2.1]",
        b"",
    ] {
        assert!(!mta_tag(line), "{}", String::from_utf8_lossy(line));
    }
}
