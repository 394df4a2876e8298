//! Table tests for the envelope parser: every line form, the month table, and year and
//! zone resolution.

mod forms;
mod months;
mod year;

use super::*;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use proptest::prelude::*;

fn ny(month: u8, day: u8, h: u32, m: u32, s: u32, nanos: u32) -> Stamp {
    Stamp::NoYear {
        month,
        day,
        secs: h * 3600 + m * 60 + s,
        nanos,
    }
}

fn fixed(s: &str) -> Stamp {
    Stamp::Full(DateTime::parse_from_rfc3339(s).expect("test stamp"))
}

fn local(s: &str) -> Stamp {
    Stamp::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("test stamp"))
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,200}") {
        let e = parse(&s);
        // The message is always a suffix of the line.
        prop_assert!(s.ends_with(e.message));
    }

    #[test]
    fn never_panics_on_envelope_like_noise(
        s in "(<[0-9]{1,3}>)?(1 )?[-0-9TZ:. +]{0,40}[ a-zé\\[\\]:<>()0-9/.-]{0,60}"
    ) {
        let e = parse(&s);
        prop_assert!(s.ends_with(e.message));
        let mut r = YearResolver::new(YearBase::FirstYear(2026), Zone::Local);
        let _ = r.resolve(e.stamp);
    }

    #[test]
    fn resolver_never_panics(
        month in 0u8..=20, day in 0u8..=40, secs in 0u32..100_000, nanos in 0u32..2_100_000_000,
        year in -300_000i32..300_000
    ) {
        let mut r = YearResolver::new(YearBase::FirstYear(year), Zone::Local);
        let _ = r.resolve(Stamp::NoYear { month, day, secs, nanos });
        let mut r = YearResolver::new(
            YearBase::Mtime(NaiveDate::MAX),
            Zone::Fixed(FixedOffset::east_opt(-86_399).expect("offset")),
        );
        let _ = r.resolve(Stamp::NoYear { month, day, secs, nanos });
    }
}

/// Pieces of line heads, the usual ones and the ones that must not be read as a tag: a
/// localized or bad month, a bad date, Exim's own stamp, a `<PRI>`, a `<fac.level>`,
/// no host, `prog:` without a pid, a pid too long to be one, non-ASCII bytes.
const STAMPS: &[&str] = &[
    "Nov 28 17:54:54",
    "Dec  1 10:00:01",
    "Apr 09 01:02:03.123456",
    "nov. 8 17:54:54",
    "Xyz 28 17:54:54",
    "Nov 32 17:54:54",
    "Nov 28 24:54:54",
    "Mär 28 17:54:54",
    "2026-11-28T17:54:54.123456+00:00",
    "2026-11-28T17:54:54Z",
    "2026-02-30T17:54:54Z",
    "2026-11-28 17:54:54",
    "<22>Nov 28 17:54:54",
    "Nov 28 17:54:60",
    "Dec  4 10:24:32.5",
    "Dec 4 10:24:32",
    "Dec 00 10:24:32",
    "Dec 04 10:24:3",
    "Dec 04 10:24:32x",
    "2026-11-28T17:54:54",
    "2026-11-28T17:54:54+0300",
    "",
];
const HOSTS: &[&str] = &[
    " mail",
    " <mail.info> mail",
    "",
    " (none)",
    " mx.é",
    "  mail",
    " mail:",
    " mx[1]",
];
const TAGS: &[&str] = &[
    " dovecot[812]:",
    " dovecot:",
    " CRON[1]:",
    " systemd-logind[5]:",
    " sm-mta[1]:",
    " postfix/smtpd[2]:",
    " kernel:",
    " dovecot[12345678901234567890]:",
    " dovecot[1]x",
    " dové[1]:",
    " [1]:",
    " postfix/smtpd[abc]:",
    " exim[]:",
    ":",
    "",
];
const MESSAGES: &[&str] = &[
    " imap-login: Login: TLS",
    "",
    " x",
    "\u{e9}",
    ": STARTTLS=server",
    " [ID 702911 mail.notice] STARTTLS=client",
];

proptest! {
    /// The tag read from the bytes alone names the program the envelope parser names,
    /// whenever it names one (lossy decoding included: a byte that is no UTF-8 anywhere).
    #[test]
    fn program_of_agrees_with_the_envelope(
        stamp in prop::sample::select(STAMPS),
        host in prop::sample::select(HOSTS),
        tag in prop::sample::select(TAGS),
        message in prop::sample::select(MESSAGES),
        junk in prop::option::of((0usize..80, prop::sample::select(&[0xffu8, 0xc3, b'\r', b'\t'][..]))),
    ) {
        let mut line = format!("{stamp}{host}{tag}{message}").into_bytes();
        if let Some((at, byte)) = junk {
            line.insert(at.min(line.len()), byte);
        }
        if let Some(p) = program_of(&line) {
            let text = String::from_utf8_lossy(&line);
            prop_assert_eq!(parse(&text).program.map(str::as_bytes), Some(p));
        }
    }
}

proptest! {
    /// The envelope made of a [`head`] read from the bytes is the one [`parse`] reads from
    /// the decoded line, whenever the head reads the line and the line is valid UTF-8; and
    /// a head that is read names the program [`program_of`] names.
    #[test]
    fn head_envelope_is_the_parsed_envelope(
        stamp in prop::sample::select(STAMPS),
        host in prop::sample::select(HOSTS),
        tag in prop::sample::select(TAGS),
        message in prop::sample::select(MESSAGES),
        junk in prop::option::of((0usize..80, prop::sample::select(&[0xffu8, 0xc3, b'\r', b'\t', b' ', b':', b'['][..]))),
    ) {
        let mut line = format!("{stamp}{host}{tag}{message}").into_bytes();
        if let Some((at, byte)) = junk {
            line.insert(at.min(line.len()), byte);
        }
        let Some(h) = head(&line) else {
            prop_assert_eq!(program_of(&line), None);
            return Ok(());
        };
        prop_assert_eq!(program_of(&line), Some(h.program(&line)));
        let text = String::from_utf8_lossy(&line);
        match h.envelope(&line) {
            Some(env) => prop_assert_eq!(env, parse(&text)),
            None => prop_assert!(std::str::from_utf8(&line).is_err()),
        }
    }
}

/// What a head says of a line: its program and its envelope (`None` for no head).
fn head_reading(h: Option<Head>, line: &[u8]) -> Option<(Vec<u8>, Option<Envelope<'_>>)> {
    h.map(|h| (h.program(line).to_vec(), h.envelope(line)))
}

proptest! {
    /// The one-pass [`head`] reads every line as the two-pass reading did: the same
    /// lines, the same program, the same envelope (pieces of heads with junk bytes put
    /// anywhere in the first 80, and pids of every length up to past the `]` window).
    #[test]
    fn head_is_the_two_pass_head(
        stamp in prop::sample::select(STAMPS),
        host in prop::sample::select(HOSTS),
        tag in prop::sample::select(TAGS),
        pid in "[0-9]{0,20}|[0-9 a+-]{0,4}",
        message in prop::sample::select(MESSAGES),
        junk in prop::collection::vec((0usize..80, prop::sample::select(&[0xffu8, 0xc3, 0x80, 0x7f, 0, b'\r', b'\t', b' ', b':', b'[', b']', b'<', b'>', b'0', b'x'][..])), 0..3),
        cut in prop::option::of(0usize..90),
    ) {
        let tag = tag.replace("812", &pid);
        let mut line = format!("{stamp}{host}{tag}{message}").into_bytes();
        for (at, byte) in junk {
            line.insert(at.min(line.len()), byte);
        }
        if let Some(cut) = cut {
            line.truncate(cut);
        }
        prop_assert_eq!(
            head_reading(head(&line), &line),
            head_reading(head_two_pass(&line), &line),
            "{:?}", String::from_utf8_lossy(&line)
        );
    }

    /// Random bytes behind a usual stamp: same agreement.
    #[test]
    fn head_is_the_two_pass_head_on_any_bytes(
        stamp in prop::sample::select(STAMPS),
        rest in prop::collection::vec(prop::sample::select(&b" :[]<>()/-.0123456789abcXYZ\xff\xc3\x80\t\x7f"[..]), 0..40),
    ) {
        let mut line = stamp.as_bytes().to_vec();
        line.extend(rest);
        prop_assert_eq!(
            head_reading(head(&line), &line),
            head_reading(head_two_pass(&line), &line),
            "{:?}", String::from_utf8_lossy(&line)
        );
    }

    /// The word-wise check of the usual stamp takes exactly the stamps the byte-wise
    /// reading takes with an English month, and reads the same day and clock.
    #[test]
    fn usual_stamp_is_the_bytewise_stamp(
        s in "[A-Za-z]{3} [0-3 ][0-9] [0-2][0-9]:[0-6][0-9]:[0-6][0-9]( h|x|\\.5|)|[A-Za-z]{3}[ .][ 0-9]{1,3}[0-9: ]{6,10}|[JFMASONDjfmasond][a-z]{2} [ 0-9/:]{2} [0-9/:;]{8}.?",
    ) {
        let b = s.as_bytes();
        let fast = rfc3164::usual_stamp(b).map(|m| (m, rfc3164::usual_values(b)));
        let slow = rfc3164::stamp_3164_ascii(b)
            .filter(|&(_, _, _, nanos, end)| end == 15 && nanos == 0)
            .map(|(m, day, secs, _, _)| (m, Some((day, secs))));
        prop_assert_eq!(fast, slow, "{}", s);
    }
}

/// The usual stamps are read word-wise, the others not.
#[test]
fn usual_stamp_reads_the_usual_stamps() {
    for s in ["Nov 28 17:54:54 mx", "Dec  4 10:24:32", "jan 31 23:59:59 h"] {
        assert!(rfc3164::usual_stamp(s.as_bytes()).is_some(), "{s}");
    }
    for s in [
        "Nov 28 17:54:60 mx",
        "Nov 32 17:54:54",
        "Nov 28 24:00:00",
        "Nov 00 17:54:54",
        "Nov  0 17:54:54",
        "Dec 4 10:24:32",
        "Apr 09 00:00:00.5 h",
        "Xyz 28 17:54:54",
        "Nov 28 17:5:54 mx",
        "Nov 28 17:54:54",
    ] {
        assert_eq!(
            rfc3164::usual_stamp(s.as_bytes()).is_some(),
            s == "Nov 28 17:54:54",
            "{s}"
        );
    }
}

/// The usual heads are read, with every part the parser reads.
#[test]
fn head_reads_the_usual_lines() {
    for line in [
        "Nov 28 17:54:54 mx postfix/smtpd[1003]: connect from a[192.0.2.1]",
        "Dec  1 10:00:01 mx sm-mta[5]: STARTTLS=server, relay=a",
        "Apr 09 01:02:03.123456 <mail.info> mx exim[7]: x",
        "Nov 28 17:54:54 sm-mta[5]: no host",
        "2026-11-28T17:54:54.123456+00:00 mx postfix/qmgr[9]: Q: removed",
        "Nov 28 17:54:54 (none) sm-mta[5]: [ID 702911 mail.notice] x",
    ] {
        let h = head(line.as_bytes()).expect(line);
        assert_eq!(h.envelope(line.as_bytes()), Some(parse(line)), "{line}");
    }
}

/// The common shapes are read (the agreement above is not kept by reading nothing), the
/// others are left to the full parse.
#[test]
fn program_of_reads_the_common_shapes_only() {
    for (line, want) in [
        (
            "Nov 28 17:54:54 mail dovecot[812]: imap-login: x",
            "dovecot",
        ),
        ("Dec  1 10:00:01 mail dovecot: imap-login: x", "dovecot"),
        ("Dec  1 10:00:01 CRON[7]: (root) CMD (x)", "CRON"),
        (
            "Dec  1 10:00:01.5 <mail.info> mx kernel: [UFW BLOCK]",
            "kernel",
        ),
        (
            "2026-11-28T17:54:54.123456+00:00 mx systemd[1]: Started",
            "systemd",
        ),
        ("Nov 28 17:54:54 mx sm-mta[1]: STARTTLS", "sm-mta"),
        ("Nov 28 17:54:54 mx postfix/smtpd[1]:", "postfix/smtpd"),
    ] {
        assert_eq!(program_of(line.as_bytes()), Some(want.as_bytes()), "{line}");
        assert_eq!(parse(line).program, Some(want), "{line}");
    }
    for line in [
        "<22>Nov 28 17:54:54 mx dovecot[1]: x",
        "Mär 28 17:54:54 mx dovecot[1]: x",
        "2026-11-28 17:54:54 1aZ1HS-0006iF-Rk <= a@b",
        "dovecot[1]: no stamp",
        "Nov 28 17:54:54 mx dové[1]: x",
        "Nov 28 17:54:54 mx just text",
        "{\"MESSAGE\":\"x\"}",
        "",
    ] {
        assert_eq!(program_of(line.as_bytes()), None, "{line}");
    }
}

/// The one-word month match names the months the lower-casing `match` names: every name
/// in every case mix, with every byte put in each of its places.
#[test]
fn english_month_is_the_match() {
    use super::months::{english_month, english_month_by_match};
    for name in [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ] {
        for case in 0..8u8 {
            let mut w = *name;
            for (k, c) in w.iter_mut().enumerate() {
                if case & (1 << k) != 0 {
                    *c = c.to_ascii_uppercase();
                }
            }
            assert!(english_month(w).is_some());
            for k in 0..3 {
                for byte in 0..=255u8 {
                    let mut v = w;
                    v[k] = byte;
                    assert_eq!(english_month(v), english_month_by_match(v), "{v:?}");
                }
            }
        }
    }
}
